"""The seventh PII evaluation set: look-alikes of 20 kinds none of the earlier sets has, 10 familiar kinds in new
frames, and true-PII texts in the same settings. It is held out as a whole (no dev half) and was committed before
the detector round it checks, to be run on once when that round is done.

    from lookalike_seventh import build, build_pii
    docs = build()               # look-alikes only (no PII at all); each doc has "part" and "kind"
    docs = build_pii()           # private people, their addresses, phones, e-mails, dates of birth (recall)

How it was written: every text by hand, whole, in one of many settings (tickets, forms, e-mails, chat, CVs, news,
code comments, logs, config, medical, legal and finance notes, school, shopping, travel, sports, science), with
each look-alike marked inline as [[value]] and, in the true-PII texts, the PII as {{ENTITY:value}} (the entity
names of lookalike_sixth.py, plus CREDIT_CARD as in first_set.py; `_parse` is a copy of the sixth set's).
No templates and no generator: no two texts share a frame, and none repeats a text of the earlier sets. Its
writer did not look at the detector's code or results, and did not run the detector on these texts.

Kinds, part "new" (none in lookalike_set, lookalike_fresh, lookalike_fifth, lookalike_sixth or the templates):
name-shaped things that are no private person or address (diseases named after places, battles and treaties,
streets used as metonyms, Latin species names, sports clubs, songs named after people, airports and stadiums
named after people, famous animals, mascots), number/ID-shaped ones (cell lines and mouse strains, CVE ids,
ICD-10 codes, bank routing numbers and sort codes, satellite catalogue ids, cron expressions) and Chinese ones
(dishes and products named after places, idioms that hold a surname, common words that start with a surname
character, drug approval numbers, food production licence numbers).
Part "familiar": kinds the earlier sets have (order and tracking numbers, ISBNs, versions, Luhn-invalid card
numbers, resident ids failing GB 11643, ticket ids, hashes, timestamps, public figures), in new frames.
Checksums: ISBN-13s are valid; BAD_LUHN_CARD numbers fail Luhn; BAD_CN_ID values fail the GB 11643-1999 check
character; ABA routing numbers in BANK_ROUTING pass the ABA 3-7-1 check (tests/test_pii_eval_seventh.py checks
all of them with dsforge.filters.pii_checks, ABA by its own rule).

Licence: written for dsforge, Apache-2.0 like the project.
"""

from __future__ import annotations

import re

# part "new": kind -> [(setting, text)]; [[value]] marks a look-alike
LOOKALIKES_NEW: dict[str, list[tuple[str, str]]] = {
    "DISEASE_PLACE": [
        ("medical", "Travel clinic note: yellow fever and [[Japanese encephalitis]] vaccines advised before the trip."),
        ("news", "Health officials confirmed two more cases of [[West Nile virus]] in horses this week."),
        ("chat", "the tick bite turned into a bullseye rash, doctor thinks it's [[Lyme disease]]"),
        ("science", "The [[Marburg virus]] belongs to the same family as [[Ebola]]."),
        ("school", "History homework: how did the [[Spanish flu]] of 1918 spread so fast?"),
        ("email", "Reminder: the [[Zika]] risk map on the intranet was updated on Monday."),
        ("form", "Have you ever had [[German measles]]?  [ ] yes  [ ] no  [ ] not sure"),
        ("ticket", "Typo on the vaccine page: '[[Rocky Mountain spotted fever]]' is written 'Rocky Mountian'."),
        ("legal", "The clause excludes claims arising from [[Legionnaires' disease]] in cooling towers."),
        ("travel", "Guidebook tip: boil water to avoid [[Hendra virus]]? No - that one comes from horses, not water."),
    ],
    "HISTORIC_EVENT_PLACE": [
        ("school", "Quiz: in which year was the [[Battle of Hastings]] fought?"),
        ("news", "Historians still argue whether the [[Treaty of Versailles]] made the next war certain."),
        ("chat", "just watched a documentary on the [[Siege of Leningrad]], can't stop thinking about it"),
        ("cv", "MA dissertation: diplomacy at the [[Congress of Vienna]], 1814-1815."),
        ("email", "Our book group reads a novel set after the [[Peace of Westphalia]] next month."),
        ("sports", "The coach called the comeback 'our [[Battle of Thermopylae]]' - outnumbered but standing."),
        ("science", "Ice cores show the cold summers that followed the [[Tambora eruption]]."),
        ("ticket", "The timeline lists the [[Battle of Waterloo]] under 1816; it was 1815."),
        ("legal", "Counsel compared the settlement to the [[Munich Agreement]], which the judge did not appreciate."),
        ("travel", "The tour ends at the museum of the [[Gettysburg Address]] and the battlefield."),
    ],
    "STREET_METONYM": [
        ("finance", "[[Wall Street]] closed higher after the rate decision."),
        ("news", "[[Downing Street]] declined to comment on the leaked memo."),
        ("chat", "my toddler only calms down with [[Sesame Street]] on"),
        ("shopping", "Vinyl reissue of [[Abbey Road]], 180 g, gatefold sleeve - back in stock."),
        ("cv", "Eight years in advertising on [[Madison Avenue]], then went freelance."),
        ("email", "The old [[Fleet Street]] habit of long lunches survives in our newsroom."),
        ("school", "Music class: compare [[Penny Lane]] with another song from the same year."),
        ("news", "[[Coronation Street]] celebrated its 60th anniversary with a live episode."),
        ("finance", "Analysts on [[Dalal Street]] expect the index to test new highs."),
        ("sports", "The derby felt more like [[Easy Street]] for the home side after the second goal."),
    ],
    "BINOMIAL_TAXON": [
        ("science", "Cultures of [[Escherichia coli]] K-12 were grown overnight at 37 C."),
        ("school", "Label the diagram: [[Homo sapiens]] and [[Homo neanderthalensis]] skulls."),
        ("medical", "Stool sample positive for [[Clostridioides difficile]] toxin."),
        ("cv", "PhD: flight muscle development in [[Drosophila melanogaster]]."),
        ("chat", "kid says [[Tyrannosaurus rex]] had tiny arms because it hugged too much"),
        ("news", "Gardeners are asked to report sightings of [[Vespa velutina]], the Asian hornet."),
        ("code comment", "# reference genome: [[Arabidopsis thaliana]] TAIR10; change for other plants"),
        ("shopping", "Seeds: basil ([[Ocimum basilicum]]), 500 per packet."),
        ("travel", "Look out for [[Macropus rufus]] on the road at dusk."),
        ("ticket", "The species field rejects '[[Saccharomyces cerevisiae]]' because it has a space."),
    ],
    "SPORTS_CLUB": [
        ("sports", "[[Manchester United]] came back from two goals down to draw."),
        ("chat", "are you watching [[Real Madrid]] tonight or the basketball"),
        ("shopping", "Kids' away shirt, [[Boston Red Sox]], size M - ships in 2 days."),
        ("news", "The [[Los Angeles Lakers]] traded their first-round pick."),
        ("email", "The office sweepstake: I drew [[Bayern Munich]], you drew [[Inter Milan]]."),
        ("cv", "Analyst intern at [[Ajax Amsterdam]]: built the scouting database."),
        ("ticket", "App shows the [[Chicago Bears]] logo for the away game."),
        ("travel", "Stadium tour of [[FC Barcelona]] included in the city pass."),
        ("school", "Maths task: [[Sydney Swans]] scored 12 goals and 9 behinds; how many points?"),
        ("form", "Favourite team: [[Glasgow Celtic]]\nSeason ticket holder: no"),
    ],
    "SONG_TITLE_NAME": [
        ("chat", "karaoke tonight, I'm doing [[Jolene]] and nobody can stop me"),
        ("news", "[[Bohemian Rhapsody]] passed two billion streams this year."),
        ("email", "First dance song: [[Layla]] (the acoustic one), then the DJ takes over."),
        ("school", "Music theory: the bass line of [[Billie Jean]] repeats for the whole song."),
        ("shopping", "Sheet music: [[Eleanor Rigby]], string quartet arrangement, PDF."),
        ("code comment", "// easter egg: plays the first bar of [[Hey Jude]] when the tests pass"),
        ("sports", "Fans sang [[Sweet Caroline]] in the eighth inning as usual."),
        ("ticket", "Lyrics for [[Mrs. Robinson]] show the wrong album cover."),
        ("cv", "Arranged [[Roxanne]] and [[Valerie]] for the college big band."),
        ("form", "Audition piece (1 min): [[Fernando]]"),
    ],
    "PERSON_NAMED_VENUE": [
        ("travel", "Connecting flight leaves from [[John F. Kennedy International Airport]], terminal 4."),
        ("sports", "The final is on [[Rod Laver Arena]] at 7.30 pm."),
        ("news", "The derby moves to [[Estadio Santiago Bernabéu]] after the renovation."),
        ("email", "Your parking pass for [[Ronald Reagan Washington National Airport]] is attached."),
        ("chat", "landing at [[Charles de Gaulle]] at 6am, coffee first"),
        ("ticket", "Seat map for [[Arthur Ashe Stadium]] shows section 300 twice."),
        ("school", "Class trip to the [[Jawaharlal Nehru Stadium]] for the athletics meet."),
        ("shopping", "Poster: [[Madison Square Garden]] at night, 50 x 70 cm."),
        ("cv", "Ground staff at [[Stade Pierre-Mauroy]], 2016-2018."),
        ("travel", "Taxi from [[Indira Gandhi International Airport]] to the hotel takes about 40 minutes."),
    ],
    "FAMOUS_ANIMAL": [
        ("science", "[[Dolly the sheep]] was cloned from an adult cell in 1996."),
        ("school", "Read the story of [[Laika]], the first dog in orbit, and write three questions."),
        ("news", "A statue of [[Hachiko]] still waits outside the station."),
        ("sports", "[[Seabiscuit]] beat [[War Admiral]] by four lengths."),
        ("chat", "remember [[Paul the Octopus]] picking world cup winners lol"),
        ("email", "The zoo talk covers [[Koko]] the gorilla and sign language."),
        ("travel", "The sled route follows the run of [[Balto]] in 1925."),
        ("ticket", "The quiz answer for 'Grand National winner three times' should be [[Red Rum]]."),
        ("cv", "Volunteer guide at the aquarium: told visitors about [[Keiko]] the orca."),
        ("science", "The chimp [[Ham]] flew on a Mercury capsule before any astronaut."),
    ],
    "MASCOT": [
        ("sports", "[[Mr. Met]] was out dancing on the dugout again."),
        ("news", "The Olympic mascot [[Bing Dwen Dwen]] sold out in every shop."),
        ("chat", "[[Gritty]] is terrifying and I love him"),
        ("shopping", "Plush [[Smokey Bear]], 30 cm, with hat."),
        ("email", "The campus mascot, [[Bucky Badger]], will hand out the prizes."),
        ("school", "Design a mascot like [[Wenlock]] for our sports day."),
        ("ticket", "The cereal box image of [[Tony the Tiger]] is cropped in the app."),
        ("form", "Costume hire: [[Phillie Phanatic]] (1 day)"),
        ("travel", "Kids can meet [[Kumamon]] at the prefecture office on weekends."),
        ("code comment", "# sprite sheet for [[Clippy]]-style helper; keep it off by default"),
    ],
    "CELL_LINE_STRAIN": [
        ("science", "[[HeLa]] cells were transfected with the plasmid for 48 h."),
        ("code comment", "# default strain is [[C57BL/6J]]; set STRAIN for knockouts"),
        ("cv", "Routine culture of [[HEK293T]] and [[CHO-K1]]; lentivirus production."),
        ("email", "We are out of [[MCF-7]] stocks; can the core thaw a vial?"),
        ("ticket", "LIMS rejects '[[NIH/3T3]]' because of the slash."),
        ("medical", "The assay was validated in [[Jurkat]] cells before the patient samples."),
        ("school", "Lab report: compare growth of [[A549]] at two serum levels."),
        ("news", "The lab showed the drug shrank tumours in [[BALB/c]] mice."),
        ("shopping", "Frozen vial, [[U2OS]], passage 12, ships on dry ice."),
        ("log", "2026-03-02 09:14 incubator 3: flask [[Vero E6]] confluent, split 1:4"),
    ],
    "CVE_ID": [
        ("code comment", "# bump log4j to 2.17.1 for [[CVE-2021-44228]]"),
        ("ticket", "Scanner flags [[CVE-2014-0160]] on the old load balancer image."),
        ("news", "The flaw, tracked as [[CVE-2023-4863]], affects image decoding in browsers."),
        ("email", "Patch Tuesday notes: [[CVE-2024-21413]] is the one to do first."),
        ("log", "trivy: HIGH [[CVE-2022-3602]] openssl 3.0.6 fixed in 3.0.7"),
        ("cv", "Found and reported [[CVE-2019-11043]] in a PHP-FPM setup."),
        ("chat", "is [[CVE-2017-5754]] the meltdown one or spectre?"),
        ("config", "ignore:\n  - [[CVE-2020-8911]]  # not reachable, no S3 crypto client"),
        ("school", "Security class reading: write-up of [[CVE-2018-11776]] in Struts."),
        ("finance", "Incident report: losses trace back to an unpatched [[CVE-2021-26855]] on the mail server."),
    ],
    "ICD_CODE": [
        ("medical", "Billing guide: use [[E11.9]] for type 2 diabetes without complications."),
        ("code comment", "# map free-text 'hypertension' to [[I10]] before export"),
        ("form", "Primary diagnosis code: [[J45.909]]   Secondary: [[Z79.899]]"),
        ("email", "Claims with [[M54.5]] were rejected after the code was retired; use [[M54.50]]."),
        ("school", "Coding exercise 4: which chapter holds [[F41.1]]?"),
        ("ticket", "The code picker cannot find [[S82.101A]]; the seventh character is dropped."),
        ("news", "The WHO added [[6C51]] for gaming disorder in ICD-11."),
        ("cv", "Certified coder: ICD-10-CM, e.g. [[K21.9]], [[N39.0]]; 98% audit accuracy."),
        ("log", "WARN claim batch 77: code [[R69]] not billable, row skipped"),
        ("legal", "The policy excludes conditions coded [[O80]] during the waiting period."),
    ],
    "BANK_ROUTING": [
        ("finance", "For domestic wires use ABA [[021000021]]; for ACH the same number works."),
        ("form", "Bank routing number (9 digits): [[026009593]]"),
        ("email", "Our sort code changed to [[20-00-00]] after the branch merger; the account number stays."),
        ("ticket", "Payroll file rejected: routing [[121043483]] is not on the Fed list we loaded."),
        ("code comment", "# test fixture: [[011086204]] passes the 3-7-1 check"),
        ("shopping", "Pay by bank transfer: sort code [[40-47-84]], reference your order id."),
        ("chat", "the IFSC is [[SBIN0001234]], I checked the bank site"),
        ("legal", "Funds shall be wired to the escrow bank, routing [[071057985]]."),
        ("school", "Finance class: explain why [[322068283]] is a valid routing number."),
        ("log", "ach: batch 3 routing=[[061072909]] status=accepted"),
    ],
    "SATELLITE_ID": [
        ("science", "The ISS (COSPAR [[1998-067A]], NORAD [[25544]]) passes at 21:04."),
        ("code comment", "# TLE for Hubble, catalogue [[20580]], refresh daily"),
        ("news", "Debris from [[1999-025]] still crosses the station's orbit."),
        ("chat", "app says [[2019-029]] is a Starlink batch, that train of lights"),
        ("ticket", "Tracker mislabels NORAD [[43013]] as a rocket body."),
        ("school", "Look up the launch year hidden in [[1957-001B]]."),
        ("log", "gs-2 pass start sat=[[NORAD 40069]] el=12.4 az=201"),
        ("email", "The weather satellite with international designator [[2016-071A]] moved to standby."),
        ("cv", "Wrote orbit determination for the cubesat [[2022-057AF]]."),
        ("travel", "Stargazing night: bring binoculars to see [[1990-037B]] pass over."),
    ],
    "CRON_EXPR": [
        ("config", "schedule: \"[[0 3 * * 1-5]]\"  # weekdays at 03:00"),
        ("code comment", "# runs every 15 minutes in office hours: [[*/15 9-17 * * MON-FRI]]"),
        ("ticket", "The backup job with [[30 2 1 * *]] ran on the 2nd; the server is in UTC."),
        ("chat", "is [[0 0 29 2 *]] a valid cron, like leap day only?"),
        ("log", "cron[812]: (root) CMD run-parts at [[17 * * * *]]"),
        ("email", "Please change the report cron from [[0 6 * * *]] to [[0 7 * * *]] after the clock change."),
        ("school", "Exercise: write the cron line for 'every Sunday at 23:45' ([[45 23 * * 0]])."),
        ("cv", "Replaced 40 crontab lines like [[5 4 * * 6]] with one scheduler."),
        ("config", "- cron: '[[0 12 1,15 * *]]'\n  task: invoices"),
        ("science", "The telescope camera wakes with [[0 21 * * *]] and sleeps at dawn."),
    ],
    "ZH_PLACE_DISH": [
        ("chat", "今晚吃[[北京烤鸭]]还是[[重庆火锅]]？"),
        ("shopping", "[[西湖龙井]]明前特级，250克装，今日包邮。"),
        ("news", "[[兰州拉面]]门店数量去年增长了两成。"),
        ("travel", "到了那边一定要尝尝[[长沙臭豆腐]]。"),
        ("email", "年会菜单：[[扬州炒饭]]、[[东坡肉]]、水果拼盘。"),
        ("ticket", "订单里的[[沙县小吃]]套餐少送了一份蒸饺。"),
        ("school", "作文题目：我最喜欢的家乡菜——[[武汉热干面]]。"),
        ("form", "伴手礼选择：[[德州扒鸡]] / [[金华火腿]]"),
        ("cv", "曾在中餐厅任面点师，擅长[[天津狗不理包子]]。"),
        ("medical", "医嘱：少吃腌制食品，如[[涪陵榨菜]]。"),
    ],
    "ZH_IDIOM_SURNAME": [
        ("school", "请用[[张冠李戴]]造一个句子。"),
        ("chat", "你这就是[[王婆卖瓜]]，自卖自夸"),
        ("news", "评论员称此举有[[毛遂自荐]]之勇。"),
        ("email", "为了孩子上学换房子，真是[[孟母三迁]]。"),
        ("cv", "自我评价：踏实肯干，不做[[叶公好龙]]的人。"),
        ("sports", "赛前主队上下都盼着[[马到成功]]。"),
        ("ticket", "客服的承诺就是[[黄粱一梦]]，根本没兑现。"),
        ("legal", "律师指出，对方证据链存在[[张冠李戴]]的问题。"),
        ("finance", "这次降价是[[李代桃僵]]，用新品的利润补旧品。"),
        ("medical", "病人说在医生面前不敢[[班门弄斧]]，没有自己查资料。"),
    ],
    "ZH_SURNAME_WORD": [
        ("email", "这个方案很[[高明]]，大家照此执行。"),
        ("chat", "[[周末]]一起去爬山吗？"),
        ("shopping", "本店[[黄金]]饰品按克计价，当日金价为准。"),
        ("ticket", "账户[[余额]]显示不对，请核实。"),
        ("school", "老师说这篇作文结构[[严谨]]，用词[[方正]]。"),
        ("news", "车站将在[[马上]]到来的假期加开列车。"),
        ("form", "付款[[金额]]：￥128.00"),
        ("cv", "负责展厅[[陈列]]设计与[[钟表]]维修。"),
        ("medical", "患者[[白天]]嗜睡，夜间多梦。"),
        ("finance", "公司[[王牌]]产品销量下滑，需要[[何时]]调整策略？"),
    ],
    "ZH_DRUG_APPROVAL": [
        ("medical", "本品批准文号：[[国药准字H20059011]]，请按说明书服用。"),
        ("shopping", "感冒颗粒，[[国药准字Z44021940]]，10袋/盒。"),
        ("news", "监管部门注销了[[国药准字H10950023]]等批准文号。"),
        ("ticket", "收到的药盒上批准文号是[[国药准字H31022097]]，和网页不一致。"),
        ("form", "药品名称：阿莫西林胶囊\n批准文号：[[国药准字H13023964]]"),
        ("chat", "你查一下盒子上的[[国药准字Z20063217]]，真的假的"),
        ("legal", "涉案药品未取得批准文号，冒用[[国药准字H20113456]]。"),
        ("email", "采购清单第三项的批准文号[[国药准字J20150021]]为进口分包装。"),
        ("school", "药学实验课：记录样品批准文号[[国药准字H41020637]]的含义。"),
        ("log", "scan ok: 条码 6901234 → [[国药准字S10960041]]"),
    ],
    "ZH_FOOD_LICENSE": [
        ("shopping", "产品标准号GB/T 20886，生产许可证编号：[[SC10632011500123]]。"),
        ("form", "食品生产许可证：[[SC11344050300217]]\n保质期：12个月"),
        ("news", "市场监管局吊销了[[SC10433010200458]]的生产许可。"),
        ("ticket", "包装上的许可证号[[SC12137028100064]]查不到，是不是假货？"),
        ("chat", "零食袋上那个[[SC11451010700391]]是什么号"),
        ("email", "新包装请印上许可证编号[[SC10532070200612]]，字号不小于6号。"),
        ("legal", "被告使用他人许可证编号[[SC12344190500078]]生产月饼。"),
        ("school", "调查作业：拍下三种零食的SC编号，例如[[SC11232058300149]]。"),
        ("log", "审核通过：license=[[SC10711010500826]] 类别=粮食加工品"),
        ("travel", "机场特产店的牛肉干许可证编号：[[SC10451010300562]]。"),
    ],
}

# part "familiar": kinds the earlier sets have, in frames written for this set
LOOKALIKES_FAMILIAR: dict[str, list[tuple[str, str]]] = {
    "ORDER_NUMBER": [
        ("shopping", "Thanks for shopping with us! Order [[#4471-20938]] is being packed."),
        ("ticket", "Refund still pending for order [[ORD-88213057]], opened three weeks ago."),
        ("chat", "the shop says order no. [[1120394857]] was never paid??"),
        ("email", "Your return for order [[W77310245]] has been received at our warehouse."),
        ("log", "checkout ok order_id=[[5039917264]] items=3 total=41.80"),
        ("legal", "The dispute concerns purchase order [[PO-2025-00917]] for 40 pallets."),
        ("form", "Order reference (see confirmation e-mail): [[A9-330-1174]]"),
        ("travel", "Duty-free pre-order [[DF2281904]] can be collected at gate B."),
        ("school", "Book fair order [[BF-0417]]: 3 paperbacks, 1 atlas."),
        ("finance", "Broker note: buy order [[77019342215]] filled at the open."),
    ],
    "TRACKING_NUMBER": [
        ("shopping", "Your parcel is on its way: UPS [[1Z4E8W210388412290]]."),
        ("chat", "dhl says [[3391882047]] is stuck in customs since monday"),
        ("ticket", "FedEx tracking [[774512903381]] shows delivered but nothing arrived."),
        ("email", "Replacement shipped by Royal Mail, tracked [[JD014600004471902356]]."),
        ("form", "Return label tracking no.: [[9400111899223344556677]]"),
        ("log", "label created carrier=usps tracking=[[9205590164917312751089]]"),
        ("travel", "Luggage forwarding reference [[YM2231908843]] - delivered to the hotel by 6 pm."),
        ("legal", "Service of the notice is proven by courier receipt [[EE118042365GB]]."),
        ("shopping", "顺丰运单[[SF1402887163524]]，预计明天送达。"),
        ("chat", "圆通单号[[YT7518826394017]]，帮我查一下到哪了"),
    ],
    "ISBN": [
        ("school", "Required reading, ISBN [[978-8-0385-2808-6]] (any edition after 2019)."),
        ("shopping", "Paperback, 312 pages, ISBN-13: [[9784148525380]]."),
        ("email", "The library copy is ISBN [[978-88-539-3363-8]]; please return it by Friday."),
        ("ticket", "Catalogue import failed on ISBN [[9783875004748]]: duplicate record."),
        ("cv", "Co-editor of the handbook (ISBN [[978-3-95755-131-3]])."),
        ("code comment", "# sample row for the loader test: isbn=[[9783735379900]]"),
        ("news", "The prize-winning novel (ISBN [[978-7-5116-3726-0]]) sold out in a week."),
        ("science", "Methods follow the lab manual, ISBN [[9785167612228]], chapter 6."),
        ("form", "ISBN of the textbook you want to sell back: [[978-0-297-29975-2]]"),
        ("chat", "书号[[9782882001825]]那本还有货吗"),
    ],
    "VERSION": [
        ("ticket", "Crash on start since the update to [[4.12.0-rc2]]."),
        ("code comment", "# requires libfoo >= [[2.31.4]], older builds miss the fix"),
        ("chat", "which firmware are you on? mine says [[V3.0.12.118]]"),
        ("log", "server starting version=[[10.4.31]] build=[[10.4.31.20260114]]"),
        ("email", "The mobile app [[7.8.1 (20418)]] is now live in both stores."),
        ("cv", "Migrated the monolith from Java [[1.8.0_291]] to 21."),
        ("config", "image: registry.local/api:[[2026.02.3]]"),
        ("medical", "The infusion pump software [[v5.2.0.14]] has a recall notice."),
        ("shopping", "Router ships with firmware [[1.1.19 Build 240811]]; update in the app."),
        ("school", "Install Python [[3.12.4]] before the first lab."),
    ],
    "BAD_LUHN_CARD": [  # each number fails the Luhn check (tests verify it)
        ("code comment", "# must be rejected: [[4787 7893 2879 2174]] fails Luhn on purpose"),
        ("ticket", "The payment form accepted [[5121809679290810]]; the check digit is wrong, it should not."),
        ("school", "Exercise: show by hand that [[5203 3907 5793 8347]] is not a valid card number."),
        ("log", "reject pan_check=fail value=[[5301746814538401]] reason=luhn"),
        ("email", "QA found that typing [[5491-6146-1003-3076]] gives a success screen."),
        ("science", "Of the 1,000 digit strings, e.g. [[5566193451450612]], 90% fail the checksum."),
        ("chat", "lol I typed [[3731 007728 37832]] from memory and it said invalid card"),
        ("form", "Invalid example (do not use): [[6011 6616 6304 9403]]"),
        ("finance", "Fraud rule 12 scores [[4269910237409546]] as a typo: wrong check digit."),
        ("config", "bad_card_samples:\n  - \"[[4926224393328367]]\""),
    ],
    "BAD_CN_ID": [  # each value fails the GB 11643-1999 check character (tests verify it)
        ("ticket", "身份证号[[11010519780105685X]]最后一位不对，系统提示格式错误。"),
        ("code comment", "# 校验失败样例：[[310104199606058908]]"),
        ("school", "练习：验证[[440305200309136661]]的校验码是否正确。"),
        ("log", "实名认证失败 id=[[510107199011130314]] reason=checksum"),
        ("form", "示例（无效号码）：[[320102198803045901]]"),
        ("email", "测试组反馈：输入[[33010619601005815X]]时页面没有报错。"),
        ("chat", "我随便编了个[[420111196102283963]]，果然通不过"),
        ("finance", "风控规则拦截了校验位错误的证件号[[210203200005129572]]。"),
        ("legal", "文书中的号码[[370202196708157741]]校验位错误，系笔误。"),
        ("science", "错误样本示例：[[500103196902245473]]，用于测试校验函数。"),
    ],
    "TICKET_ID": [
        ("ticket", "Duplicate of [[INC0047715]]; closing this one."),
        ("email", "Re: [[JIRA-DATA-2291]] - the fix is in review."),
        ("chat", "can you look at [[SR-118044]] before lunch"),
        ("log", "created zendesk ticket=[[#902317]] priority=normal"),
        ("code comment", "// workaround for [[BUG-40912]], remove after the vendor fix"),
        ("finance", "Invoice [[INV-2026-0318]] is overdue by 14 days."),
        ("travel", "Your e-ticket number is [[125-2119487730]]."),
        ("legal", "Complaint reference [[CMP/2025/11873]] has been assigned."),
        ("school", "IT helpdesk case [[HD-7731]]: projector in room 12."),
        ("form", "发票号码：[[04419320]]　发票代码：[[144032209110]]"),
    ],
    "HASH": [
        ("log", "fetched layer sha256:[[8f3c1a9e4b7d2f60a5c1e9d8b3f7a2c4e6d0b1a9f8e7c6d5b4a3f2e1d0c9b8a7]]"),
        ("code comment", "# pinned commit [[3e9a1f7c2b]] - the one before the regression"),
        ("ticket", "Checksum mismatch: expected md5 [[9b2e4c71f0a83d65e1c4b8f27a9d0e36]]."),
        ("email", "Release tarball SHA-1: [[c2f7e91a04b3d85e6f1a29c7b0d4e83f5a6c1b92]]"),
        ("chat", "which commit? [[a41f0c9]] or the merge after it"),
        ("config", "integrity: \"sha512-[[Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MGFiY2RlZg==]]\""),
        ("science", "Raw data deposited with checksum [[5d41402abc4b2a76b9719d911017c592]]."),
        ("legal", "Exhibit 4 is identified by its SHA-256 hash [[e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855]]."),
        ("finance", "Transaction hash [[0x7c5ea36004851c764c44143b1dcb59679b11c9a68e5f41497f6cf3d480715331]] confirmed."),
        ("school", "Lab 5: the bcrypt hash [[$2b$12$KIXQJ8u1s6eXhP0nq3m9be]] should not be stored in the repo."),
    ],
    "TIMESTAMP": [
        ("log", "[[2026-02-11T07:42:19.338Z]] INFO worker 3 started"),
        ("code comment", "# last_seen is stored as epoch seconds, e.g. [[1767225600]]"),
        ("ticket", "The export shows [[20260203 141507]] instead of a readable time."),
        ("chat", "build finished at [[14:07:33]] and tests at [[14:21:05]]"),
        ("email", "The outage began at [[09:12 UTC]] and ended at [[10:47 UTC]]."),
        ("config", "rotate_after: \"[[2026-06-30 23:59:59]]\""),
        ("science", "Frames were time-stamped ([[t=1523.0441 s]]) by the GPS clock."),
        ("sports", "Split at 30 km: [[1:41:22.7]]"),
        ("travel", "Check-in closes at [[05:35]]; boarding from [[06:05]]."),
        ("finance", "Trade executed [[2026-01-14 15:59:58.112]] EST."),
    ],
    "PUBLIC_FIGURE": [
        ("news", "[[Angela Merkel]] opened the exhibition on post-war Europe."),
        ("chat", "did you see [[Taylor Swift]] added another date"),
        ("school", "Debate topic: was [[Barack Obama]]'s health law a success?"),
        ("sports", "[[Serena Williams]] watched from the players' box."),
        ("email", "Reading for the seminar: [[Jacinda Ardern]]'s speech on the flag vote."),
        ("science", "[[Jane Goodall]] spoke about chimpanzee tool use at the conference."),
        ("finance", "Shares fell after [[Elon Musk]] posted about the merger."),
        ("cv", "Interviewed [[Malala Yousafzai]] for the student newspaper (2015)."),
        ("travel", "The airport gift shop sells mugs with [[King Charles III]] on them."),
        ("news", "[[习近平]]在会议上发表讲话。"),
    ],
}

# true PII, {{ENTITY:value}}: private people with invented names, their addresses, phones, e-mails, birth dates
PII_TEXTS: list[tuple[str, str]] = [
    ("ticket", "Customer {{PERSON:Odalys Ferreira}} says the kettle arrived broken; call back on {{PHONE_NUMBER:+351 912 448 307}}."),
    ("form", "Full name: {{PERSON:Benedikt Kranzl}}\nDate of birth: {{DATE_OF_BIRTH:07.11.1983}}\nE-mail: {{EMAIL_ADDRESS:b.kranzl@posteo.de}}"),
    ("email", "Hi {{PERSON:Temperance}},\nthe keys are with {{PERSON:Auberon Lisle}} at {{LOCATION:14 Quarry Hill, Frome, BA11 2HD}}."),
    ("chat", "{{PERSON:Yaw}} just moved to {{LOCATION:2218 Pinecrest Ave, Boise, ID 83705}}, housewarming on sat"),
    ("cv", "{{PERSON:Svetlana Iordanova}}\n{{EMAIL_ADDRESS:s.iordanova@outlook.com}} | {{PHONE_NUMBER:+359 88 734 2019}}\nData analyst, 6 years."),
    ("news", "{{PERSON:Clement Odhiambo}}, 61, of {{LOCATION:Kisumu}}, found the ring while ploughing."),
    ("code comment", "# owner: {{PERSON:Freya Lindqvist}} <{{EMAIL_ADDRESS:freya.lindqvist@nordbyte.se}}>"),
    ("log", "login failed for {{PERSON:Hortensia Castro}} from {{IP_ADDRESS:91.198.43.117}} (3rd attempt)"),
    ("config", "alert_contact: {{EMAIL_ADDRESS:oncall.pradeep@kestrelworks.in}}  # {{PERSON:Pradeep Venkatesan}}"),
    ("medical", "Patient {{PERSON:Ruth Abernathy}}, DOB {{DATE_OF_BIRTH:22 August 1949}}, reports dizziness on standing."),
    ("legal", "The tenant, {{PERSON:Marcus Delacroix-Wynn}}, occupies {{LOCATION:Flat 3, 27 Kelvin Road, Glasgow G12 8QP}}."),
    ("finance", "Card on file for {{PERSON:Aiko Tanabe}}: {{CREDIT_CARD:4368 1930 3642 6212}}."),
    ("school", "Parent contact for {{PERSON:Mateo Quispe}}: {{PERSON:Rosa Quispe}}, {{PHONE_NUMBER:+51 987 654 221}}."),
    ("shopping", "Deliver to {{PERSON:Gwendolyn Harte}}, {{LOCATION:81 Orchard Street, Burlington, VT 05401}}."),
    ("travel", "Passenger {{PERSON:Nikolaos Papadakis}} requested a vegetarian meal; mobile {{PHONE_NUMBER:+30 694 512 3378}}."),
    ("sports", "Club secretary {{PERSON:Eamon Sheridan}} takes entries at {{EMAIL_ADDRESS:eamon.sheridan@gmail.com}}."),
    ("science", "Samples were collected by {{PERSON:Lerato Mokoena}} on the farm of {{PERSON:Pieter Botha}} near {{LOCATION:Stellenbosch}}."),
    ("ticket", "The charge on {{CREDIT_CARD:5323640562241549}} was made twice, says {{PERSON:Ilse Vermeulen}}."),
    ("form", "Applicant: {{PERSON:Kwame Asante-Boateng}}\nBorn: {{DATE_OF_BIRTH:1990-04-19}}\nAddress: {{LOCATION:5 Ridley Close, Leeds LS6 3EX}}"),
    ("email", "Dear Mr {{PERSON:Oyelaran}},\nyour appointment is confirmed. If you need to change it, call {{PHONE_NUMBER:020 7946 0321}}."),
    ("chat", "send the invoice to {{EMAIL_ADDRESS:tamar.ben-ami@walla.co.il}}, she's {{PERSON:Tamar Ben-Ami}} from accounts"),
    ("cv", "References: {{PERSON:Dolores Arriaga}} (former manager), {{PHONE_NUMBER:+52 55 4123 8890}}"),
    ("news", "Neighbours said {{PERSON:Gustav Ekdahl}} had lived at {{LOCATION:Storgatan 12, Umeå}} for forty years."),
    ("log", "ssh session opened for {{PERSON:Wanjiru Kamau}} from {{IP_ADDRESS:41.90.64.203}}"),
    ("medical", "Next of kin: {{PERSON:Farida Haidari}} (daughter), {{PHONE_NUMBER:+93 70 284 1167}}."),
    ("legal", "Witness {{PERSON:Leopoldo Saavedra}}, born {{DATE_OF_BIRTH:March 3, 1972}}, gave evidence by video."),
    ("finance", "Wire from {{PERSON:Bronwen Pryce}}; questions to {{EMAIL_ADDRESS:bronwen.pryce@btinternet.com}}."),
    ("school", "Tutor {{PERSON:Ishbel MacLeod}} runs the reading club; text her on {{PHONE_NUMBER:07802 551 904}}."),
    ("shopping", "Gift order from {{PERSON:Ananya Bhattacharya}}, billing address {{LOCATION:1402 Lakeview Terrace, Naperville, IL 60540}}."),
    ("travel", "Host: {{PERSON:Rafferty Doyle}}, {{LOCATION:Seaview Cottage, 3 Harbour Row, Dingle}}, phone {{PHONE_NUMBER:+353 66 915 2270}}."),
    ("sports", "{{PERSON:Thandiwe Ndlovu}} won the over-40s race; her coach {{PERSON:Sipho Dlamini}} was in tears."),
    ("science", "Corresponding author: {{PERSON:Mihai Popescu}} ({{EMAIL_ADDRESS:mihai.popescu@unibuc-lab.ro}})."),
    ("config", "allow_ssh:\n  - {{IP_ADDRESS:86.142.77.15}}  # home line of {{PERSON:Kofi Mensah}}"),
    ("ticket", "{{PERSON:Esperanza Villalobos}} cannot log in; her date of birth on file is {{DATE_OF_BIRTH:12/09/1986}}."),
    ("email", "Thanks,\n{{PERSON:Caspian Whitlock}}\n{{PHONE_NUMBER:+1 (646) 555-0183}}"),
    ("chat", "my landlord {{PERSON:Vikram Sethi}} says the boiler guy comes tomorrow"),
    ("form", "Emergency contact: {{PERSON:Zainab Olatunji}}  Tel: {{PHONE_NUMBER:+234 809 117 4452}}  Relation: sister"),
    ("cv", "Born {{DATE_OF_BIRTH:4 June 1995}} in {{LOCATION:Tbilisi}}; {{PERSON:Nino Beridze}}, translator (Georgian, Russian, English)."),
    ("medical", "Referred by Dr {{PERSON:Hamish Strachan}}; patient {{PERSON:Maisie Cartwright}} lives at {{LOCATION:9 Abbey Mews, Bath BA1 1LY}}."),
    ("legal", "Notice served on {{PERSON:Dietrich Hollenbeck}} at {{LOCATION:Lindenstraße 44, 10969 Berlin}}."),
    ("finance", "Refund to card {{CREDIT_CARD:3752 064279 28775}} for {{PERSON:Paloma Urquidi}} approved."),
    ("news", "The winning ticket was bought by {{PERSON:Agnes Tumwine}}, a nurse from {{LOCATION:Entebbe}}."),
    ("school", "Please collect {{PERSON:Leilani}} at 3; her aunt {{PERSON:Moana Kealoha}} signed the form."),
    ("log", "password reset requested for {{EMAIL_ADDRESS:j.okonkwo77@yahoo.com}} from {{IP_ADDRESS:102.89.34.18}}"),
    ("shopping", "Click and collect for {{PERSON:Bartosz Wiśniewski}}, mobile {{PHONE_NUMBER:+48 601 238 774}}."),
    ("travel", "Booking under {{PERSON:Ingrid Solheim}}; she lands at 14:10 and needs a ride to {{LOCATION:Bryggen 7, Bergen}}."),
    ("form", "姓名：{{PERSON:林晓薇}}\n出生日期：{{DATE_OF_BIRTH:1987年6月14日}}\n身份证号：{{CN_RESIDENT_ID:330102198706149458}}"),
    ("ticket", "用户{{PERSON:黄志明}}反馈订单未到，联系电话{{CN_MOBILE:13968123407}}。"),
    ("email", "请将合同寄给{{PERSON:孙丽华}}，地址：{{LOCATION:广东省广州市天河区体育西路103号}}。"),
    ("chat", "{{PERSON:杜明远}}的手机换号了，新号{{CN_MOBILE:187 2145 6630}}"),
    ("medical", "患者{{PERSON:吴建国}}，身份证{{CN_RESIDENT_ID:11010819750921302X}}，既往高血压病史。"),
    ("legal", "被告{{PERSON:钱凤英}}，女，住{{LOCATION:上海市徐汇区漕溪北路88弄5号}}。"),
    ("school", "家长{{PERSON:赵海燕}}，电话{{CN_MOBILE:15821907764}}，请放学后联系。"),
    ("shopping", "收货人：{{PERSON:高文博}}　手机：{{CN_MOBILE:13501882239}}　地址：{{LOCATION:北京市海淀区中关村南大街5号}}"),
    ("finance", "开户人{{PERSON:李秀兰}}，证件号{{CN_RESIDENT_ID:440106199203028078}}，已完成实名认证。"),
    ("cv", "{{PERSON:张子涵}}｜{{EMAIL_ADDRESS:zihan.zhang@163.com}}｜{{CN_MOBILE:17710293385}}\n求职意向：前端开发"),
    ("travel", "旅客{{PERSON:陈思远}}，出生于{{DATE_OF_BIRTH:2001年8月17日}}，身份证{{CN_RESIDENT_ID:510104200108171571}}。"),
    ("sports", "报名联系人：{{PERSON:邹国华}}，邮箱{{EMAIL_ADDRESS:zouguohua@qq.com}}。"),
    ("news", "{{PERSON:范雨桐}}说，她在{{LOCATION:四川省成都市武侯区人民南路四段12号}}开了十年书店。"),
    ("log", "登录异常 用户={{PERSON:胡晓东}} ip={{IP_ADDRESS:123.118.45.209}}"),
    ("email", "如有疑问请联系{{PERSON:罗静}}：{{EMAIL_ADDRESS:luojing_hr@126.com}}获取报名表。"),
    ("form", "Guarantor: {{PERSON:Sandeep Kaur Gill}}\nDOB: {{DATE_OF_BIRTH:30/01/1968}}\nAddress: {{LOCATION:62 Hamilton Road, Southall, UB1 3BQ}}"),
]

_MARK = re.compile(r"\[\[(.+?)\]\]")
_PII = re.compile(r"\{\{([A-Z_]+):(.+?)\}\}")


def _parse(text: str, pattern: re.Pattern, entity_of) -> tuple[str, list[list]]:
    """Strip the inline marks; return the plain text and [[LABEL, start, end], ...]."""
    out, labels, pos = "", [], 0
    for m in pattern.finditer(text):
        out += text[pos:m.start()]
        value = m.group(m.lastindex)
        labels.append([entity_of(m), len(out), len(out) + len(value)])
        out += value
        pos = m.end()
    return out + text[pos:], labels


def build() -> list[dict]:
    """All look-alike documents (held out); every look-alike of a text is of the text's kind."""
    docs = []
    for part, kinds in (("new", LOOKALIKES_NEW), ("familiar", LOOKALIKES_FAMILIAR)):
        for kind, texts in kinds.items():
            for i, (setting, raw) in enumerate(texts):
                text, labels = _parse(raw, _MARK, lambda m: kind)
                docs.append({"id": f"lookalike7-{kind}-{i}", "set": "lookalike", "split": "heldout",
                             "setting": setting, "text": text, "spans": [], "lookalikes": labels,
                             "part": part, "kind": kind})
    return docs


def build_pii() -> list[dict]:
    """All true-PII documents (held out), labelled like the sixth set's."""
    docs = []
    for i, (setting, raw) in enumerate(PII_TEXTS):
        text, spans = _parse(raw, _PII, lambda m: m.group(1))
        docs.append({"id": f"pii7-{i}", "set": "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en",
                     "split": "heldout", "setting": setting, "text": text, "spans": spans, "lookalikes": []})
    return docs
