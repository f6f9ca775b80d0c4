"""The fourth PII evaluation set: fresh look-alikes, held out only. Written after the third set's held-out
part had been run once (bench/RESULTS-pii.md says what it showed and what was fixed from it), so that the
final look-alike figure comes from categories, frames and values no rule was written from.

    from lookalike_fresh import build
    docs = build()               # seeded, the same documents every time

34 categories none of the earlier sets has (financial instrument ids, cloud resource names, genomics,
astronomy, music catalogues, scripture references, named storms, software named like people, spreadsheet
formulas, hex dumps, meeting ids, shipping containers, Chinese train/flight/meeting numbers, ...), 18 values
each in 2-4 frames of their own. Same document shape as lookalike_set.py. Licence: written for dsforge,
Apache-2.0 like the project.
"""

from __future__ import annotations

import random
import string

from lookalike_set import _digits, _hex, assemble, own_frame_items

PER_CATEGORY = 18


def _iso6346(rng: random.Random) -> str:
    """A shipping container number with its ISO 6346 check digit."""
    values = {c: v for c, v in zip(string.ascii_uppercase, [10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25,
                                                             26, 27, 28, 29, 30, 31, 32, 34, 35, 36, 37, 38])}
    owner = "".join(rng.choice(string.ascii_uppercase) for _ in range(3)) + "U"
    serial = _digits(rng, 6)
    total = sum((values[c] if c.isalpha() else int(c)) * 2 ** i for i, c in enumerate(owner + serial))
    return f"{owner} {serial} {total % 11 % 10}"


def _isin(rng: random.Random) -> str:
    body = rng.choice(["US", "GB", "DE", "FR", "JP", "CH"]) + "".join(rng.choice(string.digits + "ABCDEFGHJK") for _ in range(9))
    digits = "".join(str(int(c, 36)) for c in body)
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d // 10 + d % 10
    return body + str((10 - total % 10) % 10)


def _categories(rng: random.Random) -> dict[str, tuple[callable, list[str]]]:
    d = lambda n: _digits(rng, n)  # noqa: E731
    r, c = rng.randint, rng.choice
    return {
        "ISIN": (lambda: _isin(rng), ["Bond ISIN {X} matures next year.", "Security: {X}", "Sell 200 units of {X}."]),
        "CUSIP": (lambda: f"{d(6)}{c(['10', '20', 'AB', '1C'])}{r(0, 9)}", ["CUSIP {X} was reassigned.", "holding cusip={X}"]),
        "SWIFT_BIC": (lambda: c(["DEUTDEFF", "BARCGB22", "CHASUS33", "BNPAFRPP", "ICBKCNBJ", "HSBCHKHH"]) + c(["", "500", "XXX"]),
                      ["Beneficiary bank SWIFT {X}", "BIC: {X}", "Wire via {X} only."]),
        "AWS_ARN": (lambda: f"arn:aws:{c(['iam', 's3', 'lambda', 'sqs'])}:{c(['', 'us-east-1', 'eu-west-2'])}:{d(12)}:"
                            f"{c(['role/deploy', 'function:resize', 'queue-orders', 'user/ci-bot'])}",
                    ["Attach the policy to {X}.", "\"Resource\": \"{X}\"", "AccessDenied for {X}"]),
        "CLOUD_ID": (lambda: c([f"i-0{_hex(rng, 16)}", f"sg-0{_hex(rng, 16)}", f"vpc-{_hex(rng, 8)}", f"ami-0{_hex(rng, 16)}",
                                f"subnet-{_hex(rng, 17)}"]), ["Terminate {X} after the test.", "describe-instances --ids {X}"]),
        "K8S_POD": (lambda: f"{c(['web', 'api', 'worker', 'ingest'])}-{_hex(rng, 10)}-{''.join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(5))}",
                    ["kubectl logs {X} -n prod", "Pod {X} is CrashLoopBackOff.", "{X}   1/1   Running   3"]),
        "SPREADSHEET": (lambda: c([f"=SUM(B{r(2, 9)}:B{r(100, 99999)})", f"Sheet{r(1, 9)}!A{r(1, 99)}:F{r(100, 9999)}",
                                   f"=VLOOKUP(A{r(2, 999)},Data!$A$2:$H${r(1000, 50000)},{r(2, 8)},FALSE)"]),
                        ["Put {X} in the total row.", "The formula {X} returns #N/A."]),
        "HEX_DUMP": (lambda: f"{r(0, 4095) * 16:08x}: " + " ".join(f"{r(0, 65535):04x}" for _ in range(r(4, 8))),
                     ["{X}", "xxd output:\n{X}"]),
        "MEETING_ID": (lambda: c([f"{d(3)} {d(4)} {d(4)}", f"{d(3)} {d(3)} {d(4)}", f"{d(4)} {d(3)} {d(4)}"]),
                       ["Webinar ID: {X}, passcode {n}", "Join the stand-up, meeting ID {X}.", "Conference room bridge {X}#"]),
        "CONTAINER_NO": (lambda: _iso6346(rng), ["Container {X} sealed at the port.", "Load {X} onto vessel 3."]),
        "GENOMIC": (lambda: c([(lambda a: f"chr{r(1, 22)}:{a:,}-{a + r(1000, 900000):,}")(r(1_000_000, 240_000_000)), f"rs{r(1000, 999999999)}",
                               f"c.{r(100, 9999)}_{r(100, 9999)}del{c(['CTT', 'AG', 'T'])}", f"NM_{d(6)}.{r(1, 9)}"]),
                    ["Variant {X} was pathogenic.", "The probe covers {X}.", "Genotype at {X}: A/G"]),
        "ASTRO": (lambda: c([f"NGC {r(1, 7840)}", f"HD {r(1000, 359083)} b", f"2MASS J{d(8)}+{d(7)}",
                             f"RA {r(0, 23):02d}h {r(0, 59):02d}m {r(0, 59)}.{d(1)}s, Dec +{r(0, 89):02d}° {r(0, 59):02d}′ {r(0, 59):02d}″"]),
                  ["The survey imaged {X} twice.", "Target: {X}", "Light curve of {X} attached."]),
        "CHEM_FORMULA": (lambda: c(["C6H12O6", "H2SO4", "C8H10N4O2", "NaHCO3", "C2H5OH", "KMnO4", "Ca(OH)2", "C17H21NO4"]),
                         ["Balance the reaction for {X}.", "Molar mass of {X}?"]),
        "MUSIC_CATALOGUE": (lambda: c([f"BWV {r(1, 1120)}", f"K. {r(1, 626)}", f"Op. {r(1, 140)} No. {r(1, 6)}", f"D. {r(1, 998)}",
                                       f"Hob. XVI:{r(1, 52)}", f"RV {r(1, 800)}"]),
                            ["Tonight's encore: {X}.", "Recording of {X}, 1962.", "Practise {X} slowly."]),
        "SCRIPTURE": (lambda: f"{c(['John', 'Matthew', 'Mark', 'Luke', 'Genesis', 'Romans', 'Psalm', 'James', 'Peter', 'Timothy'])}"
                              f" {r(1, 28)}:{r(1, 40)}{c(['', '-' + str(r(41, 60))])}",
                      ["Sunday reading: {X}.", "As {X} says, be patient.", "Memorise {X} this week."]),
        "STORM": (lambda: f"{c(['Hurricane', 'Storm', 'Typhoon', 'Cyclone', 'Tropical Storm'])} "
                          f"{c(['Katrina', 'Ciara', 'Haiyan', 'Idai', 'Sandy', 'Dennis', 'Otis', 'Fiona', 'Eunice', 'Beryl'])}",
                  ["Flights were cancelled because of {X}.", "{X} made landfall on Tuesday.", "Insurance claims after {X}"]),
        "SOFTWARE_NAMED": (lambda: c(["Julia 1.10", "Jenkins", "Ruby 3.3", "Kafka", "Cassandra", "Ada", "Django 5.0", "Hadoop",
                                      "Haskell", "Jupyter", "Pascal", "Elixir", "Maven", "Ansible"]),
                           ["Port the job from {X} to Go.", "Our {X} cluster is slow.", "Which is faster, {X} or Rust?"]),
        "LAW_ACT": (lambda: c(["the Sarbanes-Oxley Act", "the Dodd-Frank Act", "the Gramm-Leach-Bliley Act", "the Taft-Hartley Act",
                               "the Glass-Steagall Act", "the Volstead Act", "the Hatch Act", "the Smoot-Hawley Tariff"]),
                    ["Compliance with {X} is audited yearly.", "Summarise {X} in two lines."]),
        "EPONYM_MED": (lambda: c(["Crohn's disease", "Down syndrome", "Alzheimer's", "Tourette's", "Asperger's", "Bell's palsy",
                                  "Hodgkin lymphoma", "Parkinson's", "Raynaud's phenomenon", "the Heimlich manoeuvre"]),
                       ["The leaflet explains {X}.", "Research funding for {X} rose.", "Symptoms of {X}?"]),
        "SHIP_TRAIN": (lambda: c(["HMS Victory", "the Queen Mary 2", "RMS Titanic", "the Flying Scotsman", "USS Enterprise",
                                  "the Orient Express", "MV Ever Given", "the Cutty Sark"]),
                       ["We toured {X} in the summer.", "A model of {X} sits on my desk."]),
        "FLIGHT_NO": (lambda: c([f"{c(['LH', 'BA', 'UA', 'AF', 'QF', 'EK'])} {r(1, 9999)}", f"{c(['LH', 'BA', 'DL'])}{r(100, 9999)}"]),
                      ["Flight {X} is delayed by two hours.", "Rebooked on {X}, seat {n}C."]),
        "CHESS": (lambda: " ".join(f"{i}. {c(['e4', 'd4', 'Nf3', 'c4'])} {c(['e5', 'Nf6', 'c5', 'd5'])}" for i in range(1, r(3, 6))),
                  ["The game went {X} and then stalled.", "PGN: {X}"]),
        "SPORT_STATS": (lambda: c([f".{r(200, 399)} with {r(5, 50)} HR", f"{r(1, 4)}-for-{r(4, 5)}", f"{r(10, 40)}.{r(0, 9)} ppg, {r(2, 15)}.{r(0, 9)} rpg",
                                   f"{r(3, 9)}:{r(0, 59):02d}.{d(2)} mile"]),
                        ["He finished the season at {X}.", "Box score: {X}"]),
        "POLYNOMIAL": (lambda: f"{r(2, 9)}x^{r(2, 5)} + {r(2, 99)}x - {r(1, 999)}", ["Factor {X}.", "Find the roots of {X} = 0."]),
        "NUMBER_LIST": (lambda: ", ".join(str(x) for x in sorted(rng.sample(range(1, 10000), r(6, 10)))),
                        ["Sort these: {X}.", "Input array: [{X}]"]),
        "EPOCH_MS": (lambda: str(r(1_500_000_000_000, 1_800_000_000_000)), ["\"ts\": {X},", "Expires at {X} (ms)."]),
        "HTTP_STATUS": (lambda: c([f"HTTP/1.1 {c([200, 301, 404, 503])} {c(['OK', 'Moved', 'Not Found', 'Unavailable'])}",
                                   f"curl: (7) Failed to connect to port {r(1024, 65535)}", f"ERR_{c(['CONNECTION_RESET', 'SSL_PROTOCOL'])} ({r(100, 999)})"]),
                        ["The proxy answered {X}.", "{X}"]),
        "ZH_TRAIN_FLIGHT": (lambda: c([f"G{r(1, 9999)}次", f"D{r(1, 9999)}次", f"CA{r(100, 9999)}", f"MU{r(100, 9999)}", f"{r(1, 16):02d}车{r(1, 20):02d}{c('ABCDF')}号"]),
                            ["我乘坐{X}去上海。", "{X}晚点了四十分钟。", "车票信息：{X}"]),
        "ZH_MEETING": (lambda: c([f"{d(3)} {d(3)} {d(3)}", f"{d(3)}-{d(3)}-{d(3)}", d(9)]),
                       ["腾讯会议号：{X}，请准时参加。", "会议号{X}，密码{n}。"]),
        "ZH_CONTRACT": (lambda: c([f"HT-{r(2019, 2026)}-{d(4)}", f"合同编号{d(12)}", f"ZB{r(2019, 2026)}{d(6)}"]),
                        ["请在{X}上盖章。", "{X}已归档。", "招标文件{X}"]),
        "ZH_PICKUP": (lambda: c([f"取件码{r(1, 9)}-{r(1, 9)}-{d(4)}", f"取餐号{d(3)}", f"验证码{d(6)}"]),
                      ["您的{X}，请及时领取。", "凭{X}到前台。"]),
        "ZH_OLD_REG": (lambda: f"{c(['110108', '310115', '440305'])}{d(9)}", ["营业执照注册号：{X}", "工商注册号{X}已注销。"]),
        "ZH_VAT_CHECK": (lambda: " ".join(d(5) for _ in range(4)), ["发票校验码：{X}", "请输入校验码 {X} 查验真伪。"]),
        "ZH_POSTCODE_ROOM": (lambda: c([f"邮编{d(6)}", f"{r(1, 30)}楼{r(1, 30):02d}{d(2)}室", f"工位{c('ABCD')}-{r(1, 9)}-{d(3)}"]),
                             ["收件信息：{X}", "请到{X}办理。"]),
    }


def build(per_category: int = PER_CATEGORY) -> list[dict]:
    """Documents of 1-3 look-alikes each, every category in its own frames."""
    rng = random.Random("lookalike-fresh:2026-12-01")
    return assemble(own_frame_items(_categories(rng), rng, per_category), rng, "lookalike4", "heldout", "fresh", 9999)
