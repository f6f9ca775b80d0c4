"""The sixth PII evaluation set: look-alikes of 27 kinds none of the earlier sets has, and true-PII twins in the
same settings, written before any rule of the round it checks (bench/RESULTS-pii.md tells the order).

    from lookalike_sixth import build, build_pii
    docs = build("dev")          # or "heldout"; look-alikes only (no PII at all)
    docs = build_pii("dev")      # private people, places and phones in the same settings (recall)

Built differently from the third to fifth sets (which join generated (category, frame, value) items):
every text here is written out whole by hand, in one of ten settings (tickets, forms, e-mails, chat, CVs,
news, code comments, recipes, sports, science), with its look-alikes marked inline as [[value]] and, in the
true-PII texts, the PII marked as {{ENTITY:value}}. Nothing is generated, so no two texts share a frame.

Kinds: name-shaped things that are no one's name (fictional characters, long-dead historical figures in
history lessons, the Alice/Bob of protocol write-ups, cocktails and dishes, cultivars and breeds, typefaces,
space missions, eponymous lab kit, bands, toys and games, voice assistants, gods and stars, role words after
a greeting, NATO code words, release code names), number-shaped ones (standards, public hotlines and
emergency numbers, OIDs, package@version, fractions and thread sizes, aviation radio figures), and Chinese
ones (anonymised 王某, a department after a name cue, form fillers after a name cue, fictional and historical
figures, brands named after people, service hotlines).

Split, fixed before any run: whole kinds go to dev or held-out (alternating in the order of a hash of the
kind's name, English and Chinese kinds separately), so the held-out half has only kinds the dev half never
shows; true-PII texts alternate by position. Licence: written for dsforge, Apache-2.0 like the project.
"""

from __future__ import annotations

import hashlib
import re

# kind -> [(setting, text)]; [[value]] marks a look-alike
LOOKALIKES: dict[str, list[tuple[str, str]]] = {
    "FICTIONAL_CHARACTER": [
        ("chat", "book club tonight!! is [[Elizabeth Bennet]] too proud or is it all on [[Mr. Darcy]]?"),
        ("news", "The new adaptation casts a woman as [[Sherlock Holmes]] and moves Baker Street to a houseboat."),
        ("email", "Hi all,\nfor Friday's quiz the theme is villains: [[Darth Vader]], [[Hannibal Lecter]] and [[Cruella de Vil]].\nCheers"),
        ("ticket", "Subtitle file for episode 4 spells [[Hermione Granger]] as 'Hermoine' in three places."),
        ("cv", "Selected work: voiced [[Captain Haddock]] in the student radio drama (2019)."),
        ("code comment", "# TODO: rename the test fixture; [[Walter White]] is a bad default for a chemistry app"),
        ("form", "Costume category (adults): [[Jay Gatsby]] / [[Holly Golightly]]"),
        ("chat", "my kid wants a [[Peppa Pig]] cake and a [[Paw Patrol]] one, send help"),
        ("science", "Participants read a passage about [[Atticus Finch]] before rating the defendant."),
        ("sports", "Fans dressed as [[Mario]] and [[Luigi]] ran the last mile of the marathon."),
        ("news", "Essay prompt: does [[Huckleberry Finn]] grow up by the end of the novel?"),
        ("recipe", "These are the cookies [[Bilbo Baggins]] would bake for unexpected guests."),
    ],
    "HISTORICAL_FIGURE": [
        ("science", "Week 3: [[Marie Curie]]'s notebooks are still too radioactive to handle without gloves."),
        ("news", "The museum reopened the wing devoted to [[Abraham Lincoln]] and the Civil War."),
        ("chat", "quick q for the essay - did [[Napoleon Bonaparte]] really lose because of the winter?"),
        ("email", "Dear students,\nplease read the chapter on [[Queen Victoria]] and [[Prince Albert]] before Tuesday."),
        ("code comment", "// named after [[Ada Lovelace]], who wrote the first published algorithm"),
        ("cv", "Thesis: the letters of [[Winston Churchill]] to his wife, 1915-1918."),
        ("ticket", "The timeline widget shows [[Julius Caesar]] dying in 44 AD instead of 44 BC."),
        ("form", "Essay competition topic (choose one): [[Mahatma Gandhi]], [[Nelson Mandela]], [[Rosa Parks]]"),
        ("sports", "Like [[Genghis Khan]], the visiting side conquered everything in its path this season."),
        ("recipe", "Said to be the favourite soup of [[Catherine the Great]]."),
        ("science", "[[Isaac Newton]] spent years on alchemy as well as on optics."),
        ("news", "A letter signed by [[Frida Kahlo]] sold at auction for twice its estimate."),
    ],
    "CRYPTO_PERSONA": [
        ("science", "[[Alice]] encrypts the message with [[Bob]]'s public key; [[Eve]] sees only the ciphertext."),
        ("code comment", "# [[Mallory]] can replay the nonce here, so bind it to the session"),
        ("email", "In the threat model, [[Trent]] is the trusted server and [[Carol]] a second honest user."),
        ("chat", "so in zero knowledge [[Peggy]] proves to [[Victor]] she knows the secret without telling him?"),
        ("ticket", "Test vector 7 fails: the shared secret [[Alice]] derives differs from [[Bob]]'s."),
        ("news", "The paper shows that [[Eve]] needs only two captured handshakes to recover the key."),
        ("code comment", "def test_handshake():\n    # [[Bob]] goes offline halfway; [[Alice]] must retry"),
        ("form", "Role A: [[Alice]] (sender)\nRole B: [[Bob]] (receiver)\nRole E: [[Eve]] (eavesdropper)"),
        ("cv", "Taught the protocols course: from [[Alice]] and [[Bob]] to lattice-based key exchange."),
        ("science", "Suppose [[Mallory]] controls the network between [[Alice]] and the server."),
        ("sports", "Like [[Alice]] and [[Bob]] swapping keys, the relay team passes the baton without a word."),
        ("recipe", "A protocol for cake: [[Alice]] bakes, [[Bob]] ices, and nobody trusts [[Eve]] with the knife."),
    ],
    "COCKTAIL_DISH": [
        ("recipe", "For a [[Tom Collins]], shake gin, lemon and sugar, then top with soda."),
        ("chat", "brunch at 11? they do the best [[Eggs Benedict]] in town"),
        ("email", "Menu for the reception: [[Beef Wellington]], [[Caesar salad]], and [[Peach Melba]] to finish."),
        ("ticket", "The allergen label on the [[Waldorf salad]] does not list walnuts."),
        ("form", "Choose your drink: [[Bloody Mary]] / [[Shirley Temple]] / [[Arnold Palmer]]"),
        ("news", "The hotel that invented [[Oysters Rockefeller]] is closing its kitchen after 140 years."),
        ("recipe", "A [[Rob Roy]] is a Manhattan made with Scotch instead of rye."),
        ("cv", "Line cook: plated 200 covers a night, signature [[Chicken Tetrazzini]] and [[Pavlova]]."),
        ("sports", "The winning jockey celebrated with a [[John Collins]] in the paddock bar."),
        ("code comment", "MENU_ITEMS = ['margherita', 'Eggs Benedict', 'Croque Monsieur']  # [[Eggs Benedict]] needs a 'v' tag"),
        ("chat", "making [[Pasta alla Norma]] tonight, want some?"),
        ("science", "Meringue stability was tested on [[Pavlova]] bases baked at 120 °C."),
    ],
    "CULTIVAR_BREED": [
        ("recipe", "Use tart apples such as [[Granny Smith]] or [[Bramley]] for the pie."),
        ("chat", "our [[Jack Russell]] ate a whole sock again"),
        ("form", "Breed: [[King Charles Spaniel]]\nColour: tricolour\nMicrochipped: yes"),
        ("email", "We stock [[Earl Grey]], [[Lady Grey]] and a smoky lapsang in the cafe."),
        ("ticket", "The product page says [[Bartlett]] pears but the box contains Conference."),
        ("news", "Growers fear a fungus that could wipe out the [[Cavendish]] banana."),
        ("science", "Seedlings of [[Douglas fir]] grew 18% faster in the inoculated plots."),
        ("cv", "Head gardener: propagated [[Morello]] cherries and forty heritage roses."),
        ("sports", "The club mascot, a [[Doberman]] named for the sponsor, led the teams out."),
        ("recipe", "Roast [[Charlotte]] potatoes with rosemary for 40 minutes."),
        ("code comment", "# fixtures: breeds = ['labrador', 'Gordon Setter'] -> test [[Gordon Setter]] with a space"),
        ("chat", "got [[Victoria]] plums from the market, jam this weekend"),
    ],
    "FONT": [
        ("ticket", "The PDF export replaces [[Garamond]] with [[Times New Roman]] in the footnotes."),
        ("email", "Brand guidelines: headings in [[Gill Sans]], body text in [[Georgia]] 11 pt."),
        ("code comment", "/* fall back to [[Helvetica Neue]] when the web font fails */\nfont-family: 'Inter', sans-serif;"),
        ("cv", "Designed the journal's new layout, set in [[Baskerville]] and [[Franklin Gothic]]."),
        ("chat", "pls never use [[Comic Sans]] on the poster again"),
        ("form", "Preferred typeface for certificates: [[Bodoni]] / [[Caslon]] / [[Futura]]"),
        ("news", "The government is switching its documents from [[Calibri]] to [[Aptos]]."),
        ("science", "Reading speed was 7% higher for [[Verdana]] than for a serif face on small screens."),
        ("recipe", "The printed menu uses [[Didot]] for the dish names, so keep them short."),
        ("sports", "The new kit prints names in [[Gotham]] capitals on the back."),
        ("ticket", "Chinese text falls back from [[Segoe UI]] to [[Microsoft YaHei]] and the line height jumps."),
        ("code comment", "# macOS ships [[Lucida Grande]]; Windows does not, hence the stack below"),
    ],
    "SPACE_MISSION": [
        ("news", "The [[James Webb Space Telescope]] found water vapour around a small rocky planet."),
        ("science", "Data from [[Cassini]] showed plumes rising from Enceladus."),
        ("chat", "[[Voyager 1]] is still sending data after 46 years, wild"),
        ("email", "The outreach talk will cover [[Hubble]], [[Kepler]] and the [[Juno]] mission to Jupiter."),
        ("ticket", "Image gallery: the [[Chandra]] pictures load, the [[Spitzer]] ones time out."),
        ("cv", "Intern on the [[Rosetta]] lander team: thermal modelling of the comet surface."),
        ("code comment", "# sample frames from [[Curiosity]] rover, sol 3124 (public NASA data)"),
        ("form", "Poster topic: [[Galileo]] probe / [[New Horizons]] / [[Parker Solar Probe]]"),
        ("sports", "Like [[Apollo 11]], the team's comeback will be talked about for decades."),
        ("news", "China's [[Chang'e 6]] brought back the first samples from the far side of the Moon."),
        ("science", "We compare [[Gaia]] parallaxes with the [[Hipparcos]] catalogue."),
        ("recipe", "Kids' party idea: a [[Sputnik]] cake with pretzel-stick antennas."),
    ],
    "LAB_EPONYM": [
        ("science", "Heat the sample over a [[Bunsen burner]] and pour it into a [[Petri dish]]."),
        ("ticket", "Order 12 x [[Erlenmeyer flask]] 250 ml; the last batch arrived cracked."),
        ("email", "The [[Geiger counter]] in lab 2 needs calibrating before the inspection."),
        ("form", "Equipment used: [[Foley catheter]], [[Holter monitor]] (24 h)"),
        ("news", "The quake measured 6.1 on the [[Richter scale]]; minor damage was reported."),
        ("cv", "Ran [[Western blot]] and [[Southern blot]] assays for the lipid group."),
        ("chat", "which size [[Allen key]] do the shelves need? the [[Phillips]] screws are fine"),
        ("code comment", "# [[Apgar score]] is 0-10; reject anything else at the API boundary"),
        ("recipe", "Strain the stock through a [[Büchner funnel]] if you have one, or a fine sieve."),
        ("sports", "Hardness of the studs was checked on the [[Mohs scale]] before the match."),
        ("science", "Cells were counted in a [[Neubauer chamber]] after trypan blue staining."),
        ("ticket", "The [[Dewar flask]] on bench 4 is venting faster than usual."),
    ],
    "BAND": [
        ("chat", "[[Pink Floyd]] on vinyl or nothing"),
        ("news", "[[Jethro Tull]] announced a farewell tour, starting in the spring."),
        ("email", "Playlist for the launch: [[Franz Ferdinand]], [[Steely Dan]], and something quieter later."),
        ("ticket", "Search for [[Lynyrd Skynyrd]] returns no results unless you misspell it."),
        ("form", "Favourite band (for the icebreaker): [[Mumford & Sons]]"),
        ("cv", "Sound engineer on tour with [[Uriah Heep]] tribute acts, 2017-2019."),
        ("code comment", "# artist names with '&' break the slug: [[Simon & Garfunkel]]"),
        ("sports", "The stadium played [[Florence and the Machine]] before kick-off."),
        ("recipe", "Cooking music: [[Molly Hatchet]] for the chopping, jazz for the simmering."),
        ("news", "Tickets for [[Hall & Oates]] sold out in minutes."),
        ("chat", "ok [[Dexys Midnight Runners]] at the wedding is non-negotiable"),
        ("science", "Participants heard 30 s of [[Marvin Gaye]] or white noise before the task."),
    ],
    "GAME_TOY": [
        ("chat", "solved the [[Rubik's Cube]] in under a minute finally"),
        ("ticket", "[[Mr. Potato Head]] set arrived without the ears; please send the missing parts."),
        ("email", "Donations for the toy drive: [[Lincoln Logs]], [[Polly Pocket]] sets and board games."),
        ("news", "[[Tony Hawk's Pro Skater]] returns with a remake this autumn."),
        ("form", "Gift preference: [[Barbie]] Dreamhouse / LEGO / [[Cabbage Patch Kids]]"),
        ("cv", "QA tester on [[Tom Clancy's Rainbow Six]] and [[Sid Meier's Civilization]] ports."),
        ("code comment", "# sprite sheet for [[Sonic]] is 48x48, not 32x32"),
        ("sports", "Players warmed up with [[Madden NFL]] in the locker room."),
        ("recipe", "A [[Raggedy Ann]] doll cake: red liquorice hair, jelly-bean buttons."),
        ("chat", "the kids want [[Tickle Me Elmo]] for christmas, is it even sold anymore"),
        ("news", "A mint [[Teddy Ruxpin]] in its box sold for 900 dollars."),
        ("science", "Spatial reasoning improved after 10 sessions of [[Tetris]] and the [[Rubik's Cube]]."),
    ],
    "VOICE_ASSISTANT": [
        ("chat", "Hey [[Alexa]], set a timer for 12 minutes"),
        ("ticket", "[[Siri]] keeps reading my texts aloud in the car."),
        ("email", "The pilot tests [[Cortana]] and [[Google Assistant]] for meeting notes."),
        ("news", "[[Clippy]] is back, as a sticker pack."),
        ("code comment", "# wake word: \"Hey [[Jarvis]]\" - rename before release"),
        ("form", "Smart speaker used: [[Alexa]] / [[Siri]] / [[Bixby]] / none"),
        ("cv", "Built skills for [[Alexa]] and actions for [[Google Assistant]]."),
        ("science", "[[ELIZA]] fooled some users in 1966 with simple pattern matching."),
        ("chat", "ok [[Siri]] what's 15% of 84"),
        ("recipe", "Ask [[Alexa]] to read step 3 while your hands are covered in dough."),
        ("sports", "The coach asked [[Watson]] to pick the lineup; the crowd was not impressed."),
        ("ticket", "Hi [[Bixby]] opens when I press the side button; I want the camera."),
    ],
    "MYTH_ASTRO": [
        ("science", "[[Venus]] and [[Jupiter]] will appear close together before dawn."),
        ("chat", "we could see [[Orion]] and [[Cassiopeia]] from the campsite"),
        ("news", "A meteor shower radiating from [[Perseus]] peaks on Tuesday night."),
        ("email", "The myths module covers [[Zeus]], [[Athena]] and [[Poseidon]] this term."),
        ("form", "Constellation of your birth sign: [[Leo]]"),
        ("cv", "Planetarium guide: nightly shows on [[Andromeda]] and the [[Pleiades]]."),
        ("code comment", "# the [[Hercules]] cluster coordinates are hard-coded for the demo"),
        ("ticket", "The star map labels [[Sirius]] as [[Betelgeuse]]."),
        ("sports", "Like [[Achilles]], the striker had one weakness: his left foot."),
        ("recipe", "Ambrosia salad, food of the gods - [[Hera]] would approve."),
        ("news", "The new rocket is named after [[Thor]], the god of thunder."),
        ("science", "[[Mercury]] reaches its greatest elongation on the 14th."),
    ],
    "ROLE_SALUTATION": [
        ("email", "Dear [[Hiring Manager]],\nI am applying for the analyst role advertised last week."),
        ("email", "Dear [[Valued Customer]],\nyour subscription renews on the first of the month."),
        ("email", "Hi [[Team]],\nthe build is green again. Thanks for the patience."),
        ("email", "Dear [[Admissions Committee]],\nplease find my statement of purpose attached."),
        ("ticket", "Regards,\n[[The Support Team]]"),
        ("email", "Dear [[Sir or Madam]],\nI wish to complain about the delay."),
        ("chat", "Hey [[Everyone]], standup moved to 10:15"),
        ("form", "Dear [[Applicant]], thank you for your interest. Best, [[Recruiting Operations]]"),
        ("email", "Hello [[Hiring Team]],\nattached is my portfolio."),
        ("code comment", "// greeting shown to logged-out users: \"Welcome, [[Guest User]]\""),
        ("email", "Thanks,\n[[Customer Success]]"),
        ("news", "Dear [[Reader]], this is the last print edition of the magazine."),
    ],
    "NATO_CODEWORD": [
        ("ticket", "Your reference is spelled [[Kilo]] [[Lima]] [[Mike]] 4, not KLN4."),
        ("chat", "[[Team Bravo]] takes the north gate, [[Team Charlie]] the car park"),
        ("news", "Operation [[Desert Storm]] began 35 years ago this week."),
        ("email", "Project [[Juliet]] is paused; [[Project Oscar]] continues as planned."),
        ("code comment", "# stages: [[Alpha]] -> [[Bravo]] -> [[Delta]]; skip [[Charlie]] in CI"),
        ("form", "Call sign: [[Victor]] [[Tango]] 2"),
        ("sports", "The [[Foxtrot]] relay squad won the inter-house final."),
        ("cv", "Led exercise [[Tango Sierra]], a 400-person logistics drill."),
        ("science", "Samples were coded [[Sierra]] (site 1) and [[Romeo]] (site 2)."),
        ("recipe", "Round [[Echo]] of the bake-off: the showstopper."),
        ("chat", "is it [[Hotel]] [[India]] or [[Hotel]] [[Juliet]]? the line was bad"),
        ("ticket", "The booking code on my screen reads [[Papa]] [[Quebec]] 7."),
    ],
    "CODENAME": [
        ("ticket", "After the upgrade to Ubuntu [[Noble Numbat]] the Wi-Fi driver fails to load."),
        ("news", "Nvidia's [[Blackwell]] chips follow the [[Hopper]] generation."),
        ("code comment", "# [[Ada Lovelace]] GPUs (sm_89) need CUDA 11.8 or newer"),
        ("chat", "still on Debian [[Bookworm]] or did you move to [[Trixie]]?"),
        ("email", "Support for Intel [[Sandy Bridge]] and [[Ivy Bridge]] ends with this release."),
        ("cv", "Ported the camera stack to Android [[Oreo]] and [[Pie]]."),
        ("form", "OS on the test device: macOS [[Sonoma]] / macOS [[Ventura]]"),
        ("science", "Benchmarks ran on AMD [[Zen 4]] and Intel [[Raptor Lake]] desktops."),
        ("ticket", "Windows [[Longhorn]] builds are not supported by the installer."),
        ("sports", "The analytics cluster, code-named [[Hopper]], crunches every match overnight."),
        ("recipe", "Our kitchen tablet still runs Android [[KitKat]], fittingly."),
        ("news", "Apple's [[Tiger]] and [[Leopard]] releases are now twenty years old."),
    ],
    "STANDARD_NO": [
        ("email", "Our certification to [[ISO 9001:2015]] was renewed; next audit is [[ISO/IEC 27001:2022]]."),
        ("ticket", "The charger fails [[IEC 62368-1]] clause 5.4 in the lab report."),
        ("cv", "Quality engineer: [[ISO 13485:2016]] and [[IEC 60601-1]] compliance."),
        ("science", "Tensile tests followed [[ASTM D638-14]] on five specimens each."),
        ("code comment", "# timestamps are [[ISO 8601]]; durations are too (PT15M)"),
        ("form", "Standard applied: [[EN 1090-2:2018]]   Execution class: EXC2"),
        ("news", "New helmets must meet [[ECE 22.06]] from next year."),
        ("chat", "does the router do [[IEEE 802.11ax]] or only ac?"),
        ("sports", "Balls must conform to [[FIFA Quality PRO]] and [[IMS]] standards."),
        ("recipe", "The thermometer is certified to [[EN 13485]], accurate to 0.5 °C."),
        ("ticket", "Wiring does not follow [[BS 7671:2018+A2:2022]]; the inspector refused sign-off."),
        ("science", "References follow [[GB/T 7714-2015]] in the Chinese edition."),
    ],
    "SERVICE_NUMBER": [
        ("news", "If you are struggling, call [[988]] in the US or [[116 123]] in the UK, any time."),
        ("form", "In an emergency dial [[112]] (EU) or [[999]] (UK)."),
        ("chat", "dial [[*#06#]] to see your IMEI"),
        ("email", "For urgent medical help that is not an emergency, call [[111]]."),
        ("ticket", "Text STOP to [[88022]] still sends promotions."),
        ("news", "Childline is free on [[0800 1111]]."),
        ("code comment", "EMERGENCY_NUMBERS = {'US': '911', 'EU': '112', 'AU': '000'}  # [[911]] [[112]] [[000]]"),
        ("cv", "Volunteer call handler on the [[13 11 14]] crisis line, 2020-2022."),
        ("sports", "Stadium stewards: report incidents on the radio, not [[999]], unless life is at risk."),
        ("recipe", "Poison control ([[1-800-222-1222]]) if a child eats raw dough with bleach on it."),
        ("science", "Calls to [[911]] rose 12% during the heatwave."),
        ("form", "Roadside assistance: [[0800 88 77 66]] (free from any phone)"),
    ],
    "OID": [
        ("code comment", "# sha256WithRSAEncryption is [[1.2.840.113549.1.1.11]]"),
        ("ticket", "snmpget on [[1.3.6.1.2.1.1.3.0]] returns nothing on the new switch."),
        ("email", "Please add [[1.3.6.1.4.1.311.20.2.2]] (smart card logon) to the template."),
        ("science", "Attribute [[2.5.4.3]] (commonName) is required in every certificate."),
        ("form", "Policy OID: [[2.16.840.1.101.3.2.1.3.13]]"),
        ("cv", "Wrote MIB parsers for vendor trees under [[1.3.6.1.4.1.9]]."),
        ("chat", "anyone know what [[1.3.6.1.4.1.2021.11.9.0]] is? cpu user time?"),
        ("news", "The registry lists [[1.3.6.1.4.1.57264]] for the new signing service."),
        ("code comment", "EXT_KEY_USAGE_SERVER = '[[1.3.6.1.5.5.7.3.1]]'"),
        ("ticket", "The LDAP schema rejects [[1.3.6.1.4.1.1466.115.121.1.15]] as syntax."),
        ("sports", "The scoreboard controller exposes [[1.3.6.1.4.1.8072.3.2.10]] over SNMP."),
        ("recipe", "Fridge monitor alarm is OID [[1.3.6.1.4.1.5528.100.4.1.1]] (temperature)."),
    ],
    "PKG_AT_VERSION": [
        ("code comment", "// pinned [[lodash@4.17.21]] after the prototype pollution fix"),
        ("ticket", "npm install [[react-dom@18.2.0]] fails with a peer dependency error."),
        ("chat", "try [[typescript@5.4.5]], 5.5 broke our decorators"),
        ("email", "The release bumps [[@types/node@20.11.30]] and [[eslint@8.57.0]]."),
        ("cv", "Maintainer of [[left-pad@1.3.0]] forks used in three banks."),
        ("form", "Package: [[express@4.19.2]]   Licence: MIT"),
        ("science", "Figures were drawn with [[d3@7.9.0]] and [[vega-lite@5.16.3]]."),
        ("ticket", "pnpm add [[@angular/core@17.3.0]] hangs on the lockfile step."),
        ("news", "A backdoor was found in [[xz-utils@5.6.0]] and [[xz-utils@5.6.1]]."),
        ("code comment", "# pip install \"[[requests@2.31.0]]\" is wrong; use ==, not @"),
        ("sports", "The live-score widget needs [[socket.io-client@4.7.5]]."),
        ("recipe", "Recipe site rebuilt with [[next@14.2.3]] and [[tailwindcss@3.4.3]]."),
    ],
    "FRACTION_THREAD": [
        ("recipe", "Add [[3/4]] cup of milk and [[1/2]] tsp of salt."),
        ("ticket", "The kit ships [[1/4-20]] bolts; the mount needs [[M6x1.0]]."),
        ("chat", "support is 24/7 they said lol, it's [[9-5]] at best"),
        ("email", "Use [[3/8-16]] UNC studs for the base plate, torque to 30 Nm."),
        ("sports", "They split the points [[50/50]] after the protest."),
        ("science", "The piece is in [[6/8]] time with a tempo of 60 bpm."),
        ("form", "Vision: [[20/20]] (corrected)   Colour blind: no"),
        ("code comment", "# thread spec '[[#10-32]]' needs quoting in YAML or it becomes a comment"),
        ("cv", "Machinist: tapped [[5/16-18]] and [[1/2-13]] holes to print."),
        ("news", "The ratio was cut to [[1:2:1]] in the final design."),
        ("recipe", "Bake at 180 °C, [[2/3]] of the way up the oven."),
        ("sports", "He shot [[7/12]] from the field and [[3/5]] from three."),
    ],
    "AVIATION": [
        ("news", "The crew squawked [[7700]] and returned to the airport."),
        ("chat", "cleared to land runway [[27L]], wind [[270/15]]"),
        ("email", "The simulator session covers the ILS to runway [[09R]] and a go-around at [[FL100]]."),
        ("ticket", "The flight tracker shows [[FL350]] but the plane is descending."),
        ("cv", "Private pilot: 180 hours, night rating, tower frequency [[118.700]] was my home field."),
        ("form", "Guard frequency monitored: [[121.5 MHz]]   Transponder: Mode S"),
        ("science", "Turbulence reports between [[FL300]] and [[FL390]] doubled over the decade."),
        ("code comment", "# QNH [[1013]] hPa is the default when METAR is missing"),
        ("sports", "The glider reached [[FL180]] over the ridge in the final task."),
        ("recipe", "Cabin-crew trick: coffee tastes flat at [[FL370]] because of low pressure."),
        ("news", "A private jet squawking [[7500]] triggered a fighter escort."),
        ("ticket", "ATIS says runway [[33/15]] in use, the app shows the old one."),
    ],
    "ZH_ANONYMISED": [
        ("news", "被告人[[王某]]于2019年3月在某小区盗窃电动车两辆。"),
        ("news", "据通报，[[李某某]]因酒后驾驶被处以罚款并暂扣驾驶证。"),
        ("form", "当事人：[[张某]]（男）\n案由：合同纠纷"),
        ("chat", "听说[[刘某]]那个案子判了吗？"),
        ("news", "原告[[陈某]]诉称，被告[[赵某]]未按约定支付货款。"),
        ("ticket", "投诉人：[[孙女士]]（匿名）反映快递员态度恶劣。"),
        ("email", "各位同事：关于[[某某]]同志的举报，调查组已完成核实。"),
        ("news", "一名[[周姓]]男子在地铁站救下一名晕倒乘客。"),
        ("form", "患者：[[林某]]，女，45岁，主诉头痛三天。"),
        ("science", "病例1：[[吴某]]，男，确诊后接受了靶向治疗。"),
        ("sports", "涉事球员[[黄某]]被禁赛三场。"),
        ("cv", "案例分析：协助律师处理[[杨某某]]劳动争议案。"),
    ],
    "ZH_DEPT_AFTER_CUE": [
        ("form", "收件人：[[行政部]]\n地址见信封"),
        ("form", "联系人：[[客服中心]]，工作日9:00-18:00"),
        ("email", "负责人：[[技术组]]，如有问题请在群里反馈。"),
        ("form", "经办人：[[财务处]]　审核：[[审计科]]"),
        ("ticket", "申请人：[[市场部]]，申请事项：展会物料采购。"),
        ("form", "客户：[[物业办]]，报修内容：电梯异响。"),
        ("email", "收件人：[[人力资源部]]，抄送：[[法务室]]"),
        ("chat", "联系人：[[前台]]，有快递放那儿就行"),
        ("form", "员工：[[实习组]]　岗位：数据标注"),
        ("sports", "负责人：[[裁判组]]，比赛规则以现场公布为准。"),
        ("recipe", "联系人：[[后厨]]，今日菜单如有变动会通知。"),
        ("science", "负责人：[[课题组]]，样本编号见附表。"),
    ],
    "ZH_FORM_FILLER": [
        ("form", "姓名：[[（请填写）]]\n电话：[[（请填写）]]"),
        ("form", "姓名：[[本人]]　与申请人关系：本人"),
        ("form", "收货人：[[见附件]]"),
        ("form", "联系人：[[待定]]，确认后另行通知。"),
        ("email", "姓名：[[匿名]]，反馈内容：食堂饭菜太咸。"),
        ("form", "户名：[[同上]]　开户行：[[同上]]"),
        ("ticket", "客户：[[未知]]，来电未留姓名。"),
        ("form", "监护人：[[无]]　备注：已成年"),
        ("chat", "姓名那栏写[[测试]]就行，反正是测试账号"),
        ("form", "负责人：[[空缺]]（招聘中）"),
        ("code comment", "# 默认值：姓名：[[用户]]，昵称：[[游客]]"),
        ("form", "持卡人：[[示例]]　卡号：**** **** **** ****"),
    ],
    "ZH_FICTIONAL_HISTORICAL": [
        ("chat", "我叫[[孙悟空]]！——这是我儿子今天在幼儿园的台词哈哈"),
        ("form", "角色卡\n姓名：[[诸葛亮]]\n职业：军师\n等级：45"),
        ("news", "新版《红楼梦》中[[林黛玉]]的扮演者引发热议。"),
        ("science", "[[李白]]一生写了上千首诗，现存九百余首。"),
        ("email", "本周阅读：[[鲁迅]]《朝花夕拾》，请写读后感。"),
        ("cv", "曾在话剧《雷雨》中饰演[[周朴园]]。"),
        ("chat", "[[哪吒]]票房又破纪录了"),
        ("form", "姓名：[[贾宝玉]]（剧本角色）\n性格：叛逆"),
        ("sports", "主队门将像[[关羽]]一样守住了城门。"),
        ("recipe", "东坡肉相传由[[苏轼]]所创，做法是慢火焖炖。"),
        ("news", "动画片里的[[喜羊羊]]和[[灰太狼]]陪伴了一代人。"),
        ("science", "[[秦始皇]]统一了文字和度量衡。"),
    ],
    "ZH_BRAND_PERSON": [
        ("chat", "刚买了双[[李宁]]跑鞋，挺舒服"),
        ("ticket", "[[王老吉]]凉茶到货破损三箱，请补发。"),
        ("recipe", "炒饭时加一勺[[老干妈]]，味道立刻不一样。"),
        ("news", "[[周大福]]金价本周下调每克5元。"),
        ("email", "年会伴手礼：[[张小泉]]剪刀套装和[[谭木匠]]梳子。"),
        ("form", "品牌：[[李锦记]]　规格：500ml　数量：12"),
        ("sports", "本届联赛由[[李宁]]提供比赛服。"),
        ("cv", "曾任[[周黑鸭]]门店店长，负责排班和库存。"),
        ("chat", "去[[海底捞]]吗？我排号了"),
        ("recipe", "蘸料用[[李锦记]]蚝油加蒜末。"),
        ("ticket", "[[钟薛高]]雪糕配送时化了，申请退款。"),
        ("science", "样品购自[[王致和]]腐乳，批次见附录。"),
    ],
    "ZH_HOTLINE": [
        ("form", "客服热线：[[95588]]（工作日全天）"),
        ("chat", "订票打[[12306]]，别找黄牛"),
        ("ticket", "拨打[[10086]]无人接听，已转人工。"),
        ("email", "售后服务请致电[[400-820-8820]]，或在官网提交工单。"),
        ("news", "如遇紧急情况请拨打[[110]]、[[120]]或[[119]]。"),
        ("form", "投诉电话：[[12315]]　监督电话：[[12345]]"),
        ("recipe", "食品安全问题可拨打[[12331]]举报。"),
        ("sports", "赛事咨询热线[[400 100 5678]]，工作时间9:00-17:00。"),
        ("cv", "曾在[[95533]]客服中心担任组长，管理30人团队。"),
        ("ticket", "全国统一服务电话[[800-810-8888]]一直占线。"),
        ("science", "心理援助热线[[12356]]于今年开通。"),
        ("news", "天气预报可拨打[[12121]]查询。"),
    ],
}

# True PII in the same settings and frames: private people (names written for this set), their places
# and phone numbers. {{ENTITY:value}}
PII_TEXTS: list[tuple[str, str]] = [
    ("chat", "book club tonight!! is {{PERSON:Marguerite Okafor}} bringing the wine or am I?"),
    ("news", "The houseboat belongs to {{PERSON:Tobiah Lindgren}}, a retired ferry pilot."),
    ("email", "Hi all,\nfor Friday's quiz {{PERSON:Dagny Holloway}} will be the host.\nCheers"),
    ("ticket", "Subtitle file for episode 4 was uploaded by {{PERSON:Ravi Shankar Iyer}} and has typos."),
    ("cv", "Referee: {{PERSON:Orla Fitzgerald}}, head of drama, phone {{PHONE_NUMBER:+44 7911 342 907}}."),
    ("code comment", "# TODO: ask {{PERSON:Henrik Aalto}} why the fixture reads his home folder"),
    ("form", "Costume winner (adults): {{PERSON:Juanita Esposito}}"),
    ("chat", "my kid's teacher {{PERSON:Beatriz Salgado}} wants a cake for the party, send help"),
    ("science", "Participants were recruited by {{PERSON:Yusuf Demirci}} in {{LOCATION:Izmir}}."),
    ("sports", "{{PERSON:Katarzyna Zielińska}} ran the last mile of the marathon in a dinosaur suit."),
    ("recipe", "These are the cookies my neighbour {{PERSON:Agnieszka Kowal}} bakes for unexpected guests."),
    ("science", "Week 3: Dr. {{PERSON:Ifeoma Chukwu}}'s notebooks are in the cabinet by the door."),
    ("chat", "quick q for the essay - did {{PERSON:Marek}} say the deadline moved?"),
    ("email", "Dear students,\nplease send your drafts to {{PERSON:Helga Sørensen}} before Tuesday."),
    ("code comment", "// written by {{PERSON:Anaya Krishnan}}, see her notes in the wiki"),
    ("cv", "Thesis supervisor: Prof. {{PERSON:Matthias Brandt}}, University of {{LOCATION:Leipzig}}."),
    ("ticket", "The timeline widget was reported by {{PERSON:Gideon Mwangi}} from {{LOCATION:Nairobi}}."),
    ("form", "Essay competition entrant: {{PERSON:Lucía Navarro Paz}}\nSchool phone: {{PHONE_NUMBER:(415) 862-3390}}"),
    ("news", "A letter signed by {{PERSON:Cornelius Abara}} was found in the attic of a house on {{LOCATION:48 Wren Lane}}."),
    ("science", "{{PERSON:Sunita Reddy}} encrypts the file; {{PERSON:Bogdan Petrescu}} holds the second key."),
    ("code comment", "# {{PERSON:Elias Haddad}} can replay the nonce on his laptop, ask him for the trace"),
    ("chat", "so {{PERSON:Mirela}} said she proves it without telling {{PERSON:Costin}}?"),
    ("ticket", "Test vector 7 fails on the machine of {{PERSON:Hyun-woo Bae}}; he sees a different secret."),
    ("recipe", "For a Tom Collins the way {{PERSON:Ignatius Mbeki}} makes it, shake gin, lemon and sugar."),
    ("chat", "brunch at 11 with {{PERSON:Solveig Hansen}}? she found a place near {{LOCATION:Bergen}} station"),
    ("email", "Menu for the reception was chosen by {{PERSON:Thaddeus Oyelaran}}; call him on {{PHONE_NUMBER:+234 803 555 2718}}."),
    ("ticket", "The allergen label complaint came from {{PERSON:Wilhelmina Straub}}, {{LOCATION:17 Alder Road, Croydon, CR0 2BS}}."),
    ("form", "Guest name: {{PERSON:Rangi Parata}}\nDrink: Shirley Temple"),
    ("cv", "Line cook under chef {{PERSON:Aurelio Bianchi}}, 200 covers a night."),
    ("recipe", "Use tart apples, as Granny {{PERSON:Eunice Barlow}} always did, for the pie."),
    ("chat", "{{PERSON:Ottilie}}'s terrier ate a whole sock again"),
    ("form", "Owner: {{PERSON:Fergus McAllister}}\nBreed: King Charles Spaniel\nPhone: {{PHONE_NUMBER:07700 142 566}}"),
    ("email", "We stock three teas; ask {{PERSON:Imogen Castellanos}} at the counter for the smoky one."),
    ("ticket", "The pear order was placed by {{PERSON:Ludovic Marchetti}} on behalf of the cafe."),
    ("cv", "Head gardener for Lady {{PERSON:Rosalind Pemberton}}: propagated heritage roses."),
    ("ticket", "The PDF export bug was found by {{PERSON:Noor Al-Sayegh}} while printing footnotes."),
    ("email", "Brand guidelines approved by {{PERSON:Bartholomew Nakashima}} (design lead)."),
    ("cv", "Designed the journal's layout with {{PERSON:Svetlana Morozova}} and {{PERSON:Kaito Fujimoto}}."),
    ("chat", "{{PERSON:Priyanka}} pls never use that font on the poster again"),
    ("news", "{{PERSON:Hamza Benali}}, 34, from {{LOCATION:Marseille}}, found the telescope images on his phone."),
    ("email", "The outreach talk will be given by Dr. {{PERSON:Oluwaseun Adebayo}} at 6 pm."),
    ("cv", "Intern under {{PERSON:Mathilde Rousseau}} on the lander team: thermal modelling."),
    ("science", "Heat the sample as {{PERSON:Tomás Ó Briain}} showed us and pour it into a dish."),
    ("ticket", "Order placed by {{PERSON:Zsófia Kertész}}, lab 2; the last batch arrived cracked."),
    ("form", "Patient: {{PERSON:Desmond Achterberg}}\nDOB: {{DATE_OF_BIRTH:14/02/1961}}\nEquipment: Holter monitor (24 h)"),
    ("chat", "which size key does {{PERSON:Anselm}} need for the shelves?"),
    ("chat", "{{PERSON:Jolene Whitacre}} on vinyl or nothing - she plays the bar on Fridays"),
    ("email", "Playlist for the launch by {{PERSON:Ezekiel Amankwah}}; send requests to him."),
    ("form", "Favourite band (for the icebreaker): Steely Dan\nName: {{PERSON:Carys Llewellyn}}"),
    ("cv", "Sound engineer for {{PERSON:Marisela Quintero}} on her 2018 tour."),
    ("chat", "{{PERSON:Dariusz}} solved the cube in under a minute finally"),
    ("ticket", "Toy set for {{PERSON:Penelope Ashdown}} arrived without the ears; ship to {{LOCATION:902 Maple Crest Drive, Dayton, OH 45409}}."),
    ("email", "Donations for the toy drive go to {{PERSON:Florentyna Wasik}} in room 12."),
    ("chat", "Hey {{PERSON:Amara}}, set the timer for 12 minutes pls"),
    ("ticket", "{{PERSON:Leopold Grünewald}} keeps getting texts read aloud in his car."),
    ("email", "The pilot is run by {{PERSON:Xiomara Delgado}}; contact {{PHONE_NUMBER:+1 312 555 7781}}."),
    ("science", "{{PERSON:Venkat Subramanian}} and {{PERSON:Jadwiga Lis}} observed from the roof."),
    ("chat", "we could see the stars from {{PERSON:Cormac}}'s farm near {{LOCATION:Killarney}}"),
    ("email", "The myths module is taught by {{PERSON:Theodora Vasilakis}} this term."),
    ("email", "Dear Ms. {{PERSON:Adaeze Nwachukwu}},\nI am applying for the analyst role advertised last week."),
    ("email", "Dear {{PERSON:Rosalind}},\nyour subscription renews on the first of the month."),
    ("email", "Hi {{PERSON:Tamsin}},\nthe build is green again. Thanks for the patience."),
    ("ticket", "Regards,\n{{PERSON:Barnaby Quist}}\nSupport Team"),
    ("chat", "Hey {{PERSON:Ingeborg}}, standup moved to 10:15"),
    ("email", "Hello {{PERSON:Kwabena Owusu}},\nattached is my portfolio."),
    ("email", "Thanks,\n{{PERSON:Philippa Drummond-Hay}}\nCustomer Success"),
    ("chat", "{{PERSON:Horatio Pemberton}} takes the north gate, {{PERSON:Nilufar Rashidova}} the car park"),
    ("email", "Project Juliet is paused, says {{PERSON:Evander Kolb}}."),
    ("form", "Call sign: VT2\nOperator: {{PERSON:Radomir Kostić}}"),
    ("ticket", "After the upgrade {{PERSON:Magnus Thorsen}}'s laptop fails to load the Wi-Fi driver."),
    ("chat", "{{PERSON:Perpetua}} still on Debian or did she move?"),
    ("cv", "Ported the camera stack with {{PERSON:Ayumi Hoshino}} at a startup in {{LOCATION:Osaka}}."),
    ("email", "Our certification was renewed; the auditor, {{PERSON:Clemens Vogt}}, returns in May."),
    ("ticket", "The charger failed in the lab of {{PERSON:Ndidi Okoro}}; call {{PHONE_NUMBER:+49 151 2345 6789}}."),
    ("form", "Inspector: {{PERSON:Sigrun Halvorsen}}   Execution class: EXC2"),
    ("news", "If you find a wallet, call the owner, {{PERSON:Ambrose Kilgallen}}, on {{PHONE_NUMBER:(617) 824-3306}}."),
    ("form", "In an emergency contact {{PERSON:Ruairi Costello}} on {{PHONE_NUMBER:+353 87 214 9935}}."),
    ("chat", "text {{PERSON:Mireille}} on {{PHONE_NUMBER:06 47 21 88 13}} to see the receipt"),
    ("recipe", "Questions about the dough? {{PERSON:Cosima Reinholt}} answers at {{PHONE_NUMBER:+43 664 381 2290}}."),
    ("code comment", "# certs issued by {{PERSON:Ishaan Mehrotra}}'s team; mail {{EMAIL_ADDRESS:ishaan.mehrotra@veltrix.io}}"),
    ("ticket", "snmpget fails on the switch that {{PERSON:Wojciech Sadowski}} installed at {{IP_ADDRESS:83.14.209.71}}."),
    ("code comment", "// pinned lodash after {{PERSON:Rafaela Duarte}} found the prototype pollution"),
    ("chat", "try asking {{PERSON:Thijs van Dijk}}, 5.5 broke his decorators too"),
    ("email", "The release bump was reviewed by {{PERSON:Maximilian Ortner}} ({{EMAIL_ADDRESS:m.ortner@quellbau.de}})."),
    ("recipe", "Add milk as Abuela {{PERSON:Remedios Carrión}} did, and half a teaspoon of salt."),
    ("form", "Vision: 20/20 (corrected)\nName: {{PERSON:Tadeusz Grabowski}}\nDOB: {{DATE_OF_BIRTH:3 March 1978}}"),
    ("sports", "{{PERSON:Obinna Eze}} shot 7/12 from the field and 3/5 from three."),
    ("news", "The crew of Captain {{PERSON:Leif Gundersen}} returned to the airport safely."),
    ("cv", "Private pilot: 180 hours, trained by {{PERSON:Henrietta Vance}} in {{LOCATION:Wichita}}."),
    ("form", "姓名：{{PERSON:王建华}}\n电话：{{CN_MOBILE:13812345678}}"),
    ("news", "原告{{PERSON:陈志刚}}诉称，被告未按约定支付货款。"),
    ("form", "当事人：{{PERSON:刘晓燕}}（女）\n案由：合同纠纷"),
    ("form", "收件人：{{PERSON:周婷婷}}\n地址：{{LOCATION:浙江省杭州市西湖区文三路90号}}"),
    ("form", "联系人：{{PERSON:郑国强}}，电话{{CN_MOBILE:139 0571 2246}}"),
    ("email", "负责人：{{PERSON:何丽娟}}，如有问题请在群里反馈。"),
    ("form", "经办人：{{PERSON:马小军}}　审核：{{PERSON:梁文静}}"),
    ("ticket", "申请人：{{PERSON:邓志伟}}，申请事项：展会物料采购。"),
    ("form", "客户：{{PERSON:许佳琪}}，报修内容：电梯异响。"),
    ("chat", "我叫{{PERSON:韩雪梅}}，是新来的实习生"),
    ("form", "户名：{{PERSON:罗德明}}　开户行：招商银行"),
    ("ticket", "客户：{{PERSON:曹丽}}，来电手机{{CN_MOBILE:15067328841}}。"),
    ("form", "监护人：{{PERSON:谢春花}}　备注：未成年"),
    ("form", "患者：{{PERSON:潘明辉}}，男，52岁，主诉胸闷。"),
    ("email", "各位同事：本周阅读由{{PERSON:唐晓峰}}老师负责，请写读后感。"),
    ("cv", "曾与{{PERSON:宋佳怡}}合作排演话剧《雷雨》。"),
    ("form", "持卡人：{{PERSON:冯立新}}　身份证：{{CN_RESIDENT_ID:440305198507123410}}"),
    ("sports", "负责人：{{PERSON:袁志强}}，比赛规则以现场公布为准。"),
    ("form", "收货人：{{PERSON:蒋美玲}}，电话：{{CN_MOBILE:186-2103-4475}}"),
    ("chat", "联系人：{{PERSON:彭军}}，有快递放前台就行"),
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


def kind_split(kind: str) -> str:
    """dev or heldout for a whole kind: kinds alternate in the order of their hash (English and Chinese apart)."""
    group = sorted((k for k in LOOKALIKES if k.startswith("ZH_") == kind.startswith("ZH_")),
                   key=lambda k: hashlib.sha256(f"lookalike-sixth:{k}".encode()).hexdigest())
    return "dev" if group.index(kind) % 2 == 0 else "heldout"


def build(split: str) -> list[dict]:
    """Look-alike documents of one split (every look-alike of a text is of the text's kind)."""
    assert split in ("dev", "heldout")
    docs = []
    for kind, texts in LOOKALIKES.items():
        if kind_split(kind) != split:
            continue
        for i, (setting, raw) in enumerate(texts):
            text, labels = _parse(raw, _MARK, lambda m: kind)
            docs.append({"id": f"lookalike6-{kind}-{i}", "set": "lookalike", "split": split, "setting": setting,
                         "text": text, "spans": [], "lookalikes": labels})
    return docs


def build_pii(split: str) -> list[dict]:
    """True-PII documents of one split (even positions dev, odd held-out), labelled like the second set."""
    assert split in ("dev", "heldout")
    docs = []
    for i, (setting, raw) in enumerate(PII_TEXTS):
        if (i % 2 == 0) != (split == "dev"):
            continue
        text, spans = _parse(raw, _PII, lambda m: m.group(1))
        docs.append({"id": f"pii6-{i}", "set": "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en", "split": split,
                     "setting": setting, "text": text, "spans": spans, "lookalikes": []})
    return docs


def held_out_docs(parts: dict[str, dict[str, list[tuple[str, str]]]], number: int) -> list[dict]:
    """Look-alike documents of a later hand-written set (seventh on), all held out: part -> kind -> texts."""
    docs = []
    for part, kinds in parts.items():
        for kind, texts in kinds.items():
            for i, (setting, raw) in enumerate(texts):
                text, labels = _parse(raw, _MARK, lambda m: kind)
                docs.append({"id": f"lookalike{number}-{kind}-{i}", "set": "lookalike", "split": "heldout",
                             "setting": setting, "text": text, "spans": [], "lookalikes": labels,
                             "part": part, "kind": kind})
    return docs


def held_out_pii_docs(texts: list[tuple[str, str]], number: int) -> list[dict]:
    """True-PII documents of a later hand-written set, labelled like this set's."""
    docs = []
    for i, (setting, raw) in enumerate(texts):
        text, spans = _parse(raw, _PII, lambda m: m.group(1))
        docs.append({"id": f"pii{number}-{i}", "set": "zh" if re.search(r"[\u4e00-\u9fff]", text) else "en",
                     "split": "heldout", "setting": setting, "text": text, "spans": spans, "lookalikes": []})
    return docs


def held_out_set(number: int, new: dict, familiar: dict, pii_texts: list[tuple[str, str]]):
    """(build, build_pii) of a later hand-written set: its look-alike documents ("new" and "familiar" parts,
    every look-alike of a text of the text's kind) and its true-PII documents, all held out."""
    return (lambda: held_out_docs({"new": new, "familiar": familiar}, number),
            lambda: held_out_pii_docs(pii_texts, number))
