"""The third PII evaluation set: look-alikes only (values shaped like PII that are about no one), built
after the second set's held-out look-alikes had been looked at, so that the false-positive target is
checked on data no rule was tuned on.

    from lookalike_set import build, real_code_lookalikes
    docs = build("dev")          # or "heldout"; seeded, the same documents every time

Two parts, each split into dev and held-out:

1. Generated (`build`): 48 look-alike categories (barcodes, CAS and NDC codes, DOIs, arXiv ids, memory
   addresses, subtitle timecodes, OS and package versions, legal citations, patent numbers, business ids,
   masked and documentation-reserved values, placeholder keys, eponyms such as "Dijkstra's algorithm",
   shell prompts, Chinese invoice/express/credit codes, ...), each with its own frames, plus generic frames.
   Its value makers and frames are new code, not the second set's (`build.py`, `values.py`).
   Split, fixed before any tuning:
   - about a third of the categories are held-out only (chosen by a hash of the category name; never in
     dev, so no rule can have been written from their dev errors);
   - each other category's own frames alternate dev / held-out, and so do the generic frames;
   - values come from a different seed in each split.
2. Real text (`real_code_lookalikes`): GPT-4 code answers from ../shared/data/external/gpteacher/
   codegen-instruct.json (MIT), even rows dev, odd rows held-out. Look-alikes there are labelled by shape
   alone (UUIDs, hex digests, 0x literals, floats with 3+ decimals, x.y.z versions, integer literals of
   7+ digits outside quotes): none of these can be a person's data.

Each document: {"id", "set": "lookalike", "split", "setting", "text", "spans": [], "lookalikes":
[[CATEGORY, start, end], ...]}. Any predicted span overlapping a look-alike is a false positive
(bench/pii.py `lookalike_rate`). Licence: written for dsforge, Apache-2.0 like the project.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
from pathlib import Path

HERE = Path(__file__).resolve().parent
PER_CATEGORY = 24  # values of each category per split


# ---------------------------------------------------------------- checksummed makers (written here)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


def _hex(rng: random.Random, n: int, upper: bool = False) -> str:
    s = "".join(rng.choice("0123456789abcdef") for _ in range(n))
    return s.upper() if upper else s


def _gtin_check(body: str) -> str:
    """GS1 check digit (EAN-13, UPC-A): weights 3,1 from the right."""
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


def ean13(rng: random.Random) -> str:
    body = rng.choice(["40", "50", "69", "76", "80", "87", "30", "54"]) + _digits(rng, 10)
    return body + _gtin_check(body)


def upc_a(rng: random.Random) -> str:
    body = rng.choice("0136789") + _digits(rng, 10)
    return body + _gtin_check(body)


def cas_number(rng: random.Random) -> str:
    body = str(rng.randint(50, 9999999))
    total = sum(int(c) * (i + 1) for i, c in enumerate(reversed(body)))
    return f"{body[:-2]}-{body[-2:]}-{total % 10}"


def issn(rng: random.Random) -> str:
    body = _digits(rng, 7)
    c = (11 - sum(int(x) * (8 - i) for i, x in enumerate(body)) % 11) % 11
    v = body + ("X" if c == 10 else str(c))
    return f"{v[:4]}-{v[4:]}"


_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def cn_credit_code(rng: random.Random) -> str:
    """统一社会信用代码 (GB 32100): an organisation's number, not a person's."""
    body = rng.choice("15969") + rng.choice("1239") + rng.choice(["110000", "310115", "440300", "330106", "510107"])
    body += "".join(rng.choice(_USCC_CHARS[:10] + "ABCDEFGHJKLMN") for _ in range(9))
    c = (31 - sum(_USCC_CHARS.index(x) * w for x, w in zip(body, _USCC_WEIGHTS)) % 31) % 31
    return body + _USCC_CHARS[c]


def _luhn_complete(body: str) -> str:
    for d in string.digits:
        n = body + d
        total = sum((int(c) * 2 - 9 if int(c) > 4 else int(c) * 2) if i % 2 else int(c)
                    for i, c in enumerate(reversed(n)))
        if total % 10 == 0:
            return n
    raise AssertionError


# ---------------------------------------------------------------- categories: maker and own frames

EPONYMS = ["Dijkstra's algorithm", "a Kalman filter", "the Levenshtein distance", "Bayes' theorem", "the Fibonacci sequence",
           "Gaussian elimination", "the Newton-Raphson method", "a Turing machine", "Euler's formula", "a Poisson process",
           "Markov chains", "the Fourier transform", "the Hamming distance", "Pascal's triangle", "the Diffie-Hellman exchange",
           "a Bloom filter", "Huffman coding", "Kruskal's algorithm", "Prim's algorithm", "a Wiener process", "the Lorenz attractor",
           "Planck's constant", "the Doppler effect", "Bellman-Ford", "the Jaccard index", "Pearson's r", "Student's t-test",
           "the Kolmogorov-Smirnov test", "Hooke's law", "Ohm's law", "Fermat's little theorem", "the Cauchy-Schwarz inequality",
           "Lagrange multipliers", "a Voronoi diagram", "the Nyquist rate", "Boyer-Moore search", "Tarjan's algorithm",
           "the Knuth-Morris-Pratt algorithm", "Floyd-Warshall", "a Hopfield network"]
DOCKER_NAMES = ["quirky_einstein", "angry_hopper", "festive_turing", "nostalgic_lovelace", "brave_curie", "sleepy_babbage",
                "eager_hawking", "elated_noether", "jolly_ritchie", "pensive_torvalds", "vibrant_galileo", "zen_lamport"]
BRANDS = ["a Ford Transit", "a Dell Latitude 7440", "a Tesla Model 3", "Ben & Jerry's ice cream", "a McDonald's Happy Meal",
          "Tim Hortons coffee", "a Porsche Cayenne", "Johnson & Johnson shampoo", "a Ferrari F40", "Casio G-Shock",
          "Louis Vuitton luggage", "Wendy's fries", "a Lamborghini Urus", "Dr. Martens boots", "a Kellogg's cereal box"]


def _categories(rng: random.Random) -> dict[str, tuple[callable, list[str]]]:
    d = lambda n: _digits(rng, n)  # noqa: E731
    r = rng.randint
    c = rng.choice
    return {
        "EAN13": (lambda: ean13(rng), ["Barcode: {X}", "EAN {X} - oat flakes 500 g, shelf B4", "商品条码{X}，请扫码入库。",
                                       "Scanned {X} twice at till 3."]),
        "UPC_A": (lambda: upc_a(rng), ["UPC {X} (12 oz can)", "The label's UPC is {X}; the box says otherwise.",
                                       "upc,{X},in_stock"]),
        "CAS": (lambda: cas_number(rng), ["CAS No. {X}", "Dissolve the reagent (CAS {X}) in ethanol.",
                                          "SDS section 3: CAS-RN {X}, purity 99 %"]),
        "NDC": (lambda: c([f"{d(4)}-{d(4)}-{d(2)}", f"{d(5)}-{d(3)}-{d(2)}", f"{d(5)}-{d(4)}-{d(1)}"]),
                ["NDC {X} amoxicillin 500 mg capsules", "Drug code {X} was recalled by the manufacturer.",
                 "Replace NDC {X} with the generic."]),
        "NSN": (lambda: f"{d(4)}-{d(2)}-{d(3)}-{d(4)}", ["NSN {X} (connector, electrical)", "Requisition stock number {X} x 12.",
                                                         "Item {X} is back-ordered."]),
        "DOI": (lambda: f"10.{r(1000, 99999)}/{c(['j.', 's', 'nature', 'acs.jpcb.', 'pnas.'])}{r(1000, 9999)}.{r(10, 99999)}",
                ["doi:{X}", "Cited as DOI {X} in the bibliography.", "See the paper ({X}) for the derivation."]),
        "ARXIV": (lambda: c([f"{r(15, 25):02d}{r(1, 12):02d}.{d(5)}", f"arXiv:{r(15, 25):02d}{r(1, 12):02d}.{d(5)}v{r(1, 5)}"]),
                  ["Preprint {X} introduced the method.", "cite: {X}", "Compare with {X}, table 2."]),
        "ISSN": (lambda: issn(rng), ["ISSN {X}", "The journal (ISSN {X}) moved to open access.", "print ISSN: {X}"]),
        "HEX_ADDR": (lambda: c([f"0x{_hex(rng, 12)}", f"0x{_hex(rng, 8, True)}", f"0x{_hex(rng, 16)}"]),
                     ["Segmentation fault at address {X}", "<object at {X}>", "jmp {X}  ; trampoline"]),
        "HEX_COLOR": (lambda: c([f"#{_hex(rng, 6)}", f"#{_hex(rng, 6, True)}", f"rgb({r(0, 255)}, {r(0, 255)}, {r(0, 255)})"]),
                      ["background: {X};", "Use {X} for the header.", "Brand colour is {X}."]),
        "DIGEST": (lambda: c([f"sha256:{_hex(rng, 64)}", f"md5 {_hex(rng, 32)}", f"{_hex(rng, 7)}"]),
                   ["image digest {X}", "checksum {X}  release.tar.gz", "Fixed in {X}, see the PR."]),
        "TIMECODE": (lambda: (lambda a, b: f"{a} --> {b}")(f"00:{r(0, 59):02d}:{r(0, 59):02d},{d(3)}",
                                                            f"00:{r(0, 59):02d}:{r(0, 59):02d},{d(3)}"),
                     ["{n}\n{X}\nWhere were you last night?", "Subtitle {X} is out of sync.", "{X}"]),
        "CLOCK": (lambda: c([f"{r(0, 23):02d}:{r(0, 59):02d}:{r(0, 59):02d}", f"{r(0, 99)}:{r(0, 59):02d}:{r(0, 59):02d}.{d(3)}",
                             f"{r(1, 12)}:{r(0, 59):02d} {c(['AM', 'PM'])}"]),
                  ["The job took {X} wall time.", "Lap time {X}", "Doors open at {X}."]),
        "RESOLUTION": (lambda: c([f"{c([1920, 2560, 3840, 1280, 7680])}x{c([1080, 1440, 2160, 720, 4320])}",
                                  f"{r(100, 9999)} × {r(100, 9999)}", f"{r(100, 4000)}x{r(100, 4000)}px"]),
                       ["Export at {X}.", "The sensor gives {X} frames.", "Thumbnail size {X}"]),
        "SCIENTIFIC": (lambda: c([f"{r(1, 9)}.{d(r(3, 9))}e{c(['', '-', '+'])}{r(1, 30)}", f"{r(1, 9)}.{d(3)} × 10^{r(-30, 30)}",
                                  f"{r(1, 9)}.{d(6)}E-{r(10, 20):02d}"]),
                       ["Avogadro's number is about {X}.", "lr={X}", "The measured value was {X} J."]),
        "STATS": (lambda: c([f"p = 0.{d(4)}", f"r({r(10, 200)}) = 0.{d(2)}", f"95% CI {r(0, 9)}.{d(2)}-{r(10, 19)}.{d(2)}",
                             f"t({r(5, 300)}) = {r(1, 9)}.{d(2)}, p < .001", f"F({r(1, 5)}, {r(20, 400)}) = {r(1, 99)}.{d(2)}"]),
                  ["The effect was significant ({X}).", "Results: {X}", "We found {X} in the replication."]),
        "SCORE": (lambda: c([f"{r(0, 7)}-{r(0, 7)}", f"{r(0, 45)}-{r(0, 45)}", f"6-{r(0, 4)}, {r(0, 4)}-6, 7-{r(5, 6)}",
                             f"{r(70, 130)}-{r(70, 130)}"]),
                  ["Final score {X}.", "They won {X} after extra time.", "Set scores: {X}"]),
        "LOTTERY": (lambda: " ".join(f"{n:02d}" for n in sorted(rng.sample(range(1, 60), 6))),
                    ["Winning numbers: {X}", "This week's draw was {X}, bonus {n}.", "My numbers are always {X}."]),
        "PAGES": (lambda: c([f"pp. {r(100, 1500)}-{r(1501, 1999)}", f"lines {r(10, 900)}-{r(901, 1999)}",
                             f"vol. {r(1, 99)}, no. {r(1, 12)}, pp. {r(1, 300)}-{r(301, 600)}"]),
                  ["Journal of Things {X}", "See {X} of the source file.", "Read {X} before Monday."]),
        "SECTION": (lambda: c([f"{r(1, 9)}.{r(1, 9)}.{r(1, 9)}.{r(1, 9)}", f"{r(1, 12)}.{r(1, 20)}.{r(1, 9)}.{r(1, 9)}.{r(1, 9)}",
                               f"{r(1, 9)}.{r(1, 9)}.{r(1, 20)}.{r(1, 20)}"]),
                    ["See clause {X} of the contract.", "Requirement {X} is not met.", "### {X} Error handling",
                     "as specified in §{X}"]),
        "OS_VERSION": (lambda: c([f"Ubuntu {r(16, 24)}.04.{r(1, 6)} LTS", f"Windows 10 build 1904{r(1, 5)}.{r(1000, 4999)}",
                                  f"iOS {r(12, 18)}.{r(0, 7)}.{r(1, 3)}", f"kernel {r(4, 6)}.{r(1, 19)}.{r(0, 200)}-{r(1, 120)}-generic",
                                  f"Chrome {r(100, 131)}.0.{r(4000, 6999)}.{r(10, 250)}", f"Android {r(9, 15)} (API {r(28, 35)})"]),
                       ["Reproduced on {X}.", "User agent says {X}", "Works on {X}, fails elsewhere."]),
        "PACKAGE_PIN": (lambda: c([f"numpy=={r(1, 2)}.{r(0, 26)}.{r(0, 9)}", f"torch>={r(1, 2)}.{r(0, 9)}.{r(0, 3)},<{r(2, 3)}.{r(0, 9)}",
                                   f"\"react\": \"^{r(16, 19)}.{r(0, 3)}.{r(0, 9)}\"", f"django~={r(3, 5)}.{r(0, 2)}",
                                   f"openssl {r(1, 3)}.{r(0, 1)}.{r(1, 20)}{c(['', 'k', 'w'])}"]),
                        ["requirements.txt:\n{X}", "Pin {X} until the fix lands.", "- {X}"]),
        "LEGAL": (lambda: c([f"{r(1, 50)} U.S.C. § {r(100, 9999)}", f"{r(100, 599)} U.S. {r(1, 999)} ({r(1900, 2024)})",
                             f"[{r(1990, 2024)}] UKSC {r(1, 60)}", f"{r(1, 999)} F.3d {r(1, 1500)} ({c(['2d', '9th', '5th'])} Cir. {r(1995, 2020)})"]),
                  ["The court relied on {X}.", "Cf. {X}.", "Claim under {X} dismissed."]),
        "PATENT": (lambda: c([f"US {r(5, 11)},{d(3)},{d(3)} B{r(1, 2)}", f"US {r(2000, 2024)}/{d(7)} A1", f"EP {r(1, 4)} {d(3)} {d(3)} A1",
                              f"CN {r(100, 118)}{d(6)} A", f"WO {r(2000, 2024)}/{d(6)}"]),
                   ["Prior art: {X}.", "The design is covered by {X}.", "专利号{X}已授权。"]),
        "COMPANY_ID": (lambda: c([f"Companies House no. {d(8)}", f"VAT reg. GB {d(3)} {d(4)} {d(2)}", f"DUNS {d(9)}",
                                  f"ABN {d(2)} {d(3)} {d(3)} {d(3)}", f"EIN-style firm id {d(2)}-{d(7)}", f"KvK {d(8)}"]),
                       ["Registered office details: {X}.", "Supplier record: {X}", "Invoice footer: {X}"]),
        "HS_CODE": (lambda: c([f"{d(4)}.{d(2)}.{d(4)}", f"{d(4)}.{d(2)}", f"HS {d(6)}", f"NAICS {d(6)}", f"ICD-10 {c('SMKJ')}{d(2)}.{d(3)}A"]),
                    ["Customs tariff code {X}", "Classified under {X}.", "Code {X} applies to this shipment."]),
        "ML_LOG": (lambda: c([f"step {r(1000, 500000)} loss {r(0, 9)}.{d(4)} lr {r(1, 9)}e-{r(3, 6)}", f"seed={r(1000000, 99999999)}",
                              f"tokens/s {r(1000, 99999)}.{d(1)} mem {r(1, 80)}.{d(2)} GB", f"epoch {r(1, 99)}/{r(100, 300)} acc 0.{d(4)}"]),
                   ["[train] {X}", "{X}", "Best run: {X}"]),
        "MEASURE": (lambda: c([f"{r(1, 999)}.{d(1)} kg", f"{r(1, 9)},{d(3)} mAh", f"{r(100, 240)}-{r(241, 260)} V ~ 50/60 Hz",
                               f"{r(1, 999)} µF / {r(6, 450)} V", f"{r(1, 99)}.{d(2)} x {r(1, 99)}.{d(2)} x {r(1, 99)}.{d(2)} cm"]),
                    ["Spec sheet: {X}", "Rated {X}.", "Package dimensions {X}"]),
        "MONEY": (lambda: c([f"USD {r(1, 999)},{d(3)},{d(3)}.{d(2)}", f"₹{r(1, 99)},{d(2)},{d(3)}", f"CHF {r(1, 99)}'{d(3)}.{d(2)}",
                             f"{r(1, 999)} {d(3)} {d(3)},{d(2)} €", f"£{r(1, 9)}.{d(1)}m"]),
                  ["Budget approved: {X}.", "Revenue was {X} last year.", "Total due {X}"]),
        "PERIOD": (lambda: c([f"Q{r(1, 4)} {r(2015, 2026)}", f"FY{r(2015, 2026)}/{r(16, 27)}", f"{r(1900, 1990)}-{r(1991, 2024)}",
                              f"week {r(1, 52)} of {r(2018, 2026)}", f"the {r(190, 201)}0s", f"H{r(1, 2)} {r(2019, 2026)}"]),
                   ["Sales in {X} were flat.", "Data covers {X}.", "Planned for {X}."]),
        "COORD_DMS": (lambda: f"{r(0, 89)}°{r(0, 59)}′{r(0, 59)}″{c('NS')} {r(0, 179)}°{r(0, 59)}′{r(0, 59)}″{c('EW')}",
                      ["The summit is at {X}.", "Waypoint {X}", "Buoy position {X}"]),
        "GRID_REF": (lambda: c([f"lat {r(-89, 89)}.{d(4)}, lon {r(-179, 179)}.{d(4)}", f"{c('+-')}{r(10, 89)}.{d(4)}{c('+-')}{r(100, 179)}.{d(4)}/",
                                f"grid ref {c(['SU', 'TQ', 'NT'])} {d(3)} {d(3)}", f"UTM {r(1, 60)}{c('TUVS')} {d(6)} {d(7)}"]),
                     ["Sample site {X}", "Drone home point {X}.", "Survey marker at {X}."]),
        "DOC_IP": (lambda: c([f"192.0.2.{r(1, 254)}", f"198.51.100.{r(1, 254)}", f"203.0.113.{r(1, 254)}", f"2001:db8::{_hex(rng, 4)}",
                              f"2001:db8:{_hex(rng, 4)}::{r(1, 99)}", f"203.0.113.0/24"]),
                   ["In this example the server is {X}.", "allow from {X}", "Replace {X} with your own address."]),
        "FICTION_PHONE": (lambda: c([f"555-01{d(2)}", f"(212) 555-01{d(2)}", f"+1 202-555-01{d(2)}", f"020 7946 0{d(3)}",
                                     f"01632 960{d(3)}", f"07700 900{d(3)}", f"+44 7700 900{d(3)}"]),
                          ["In the film she dials {X}.", "Sample contact (fictional): {X}", "Demo data: phone={X}"]),
        "TEST_CARD": (lambda: c(["4242 4242 4242 4242", "4111 1111 1111 1111", "5555 5555 5555 4444", "4000 0566 5566 5556",
                                 "378282246310005", "6011111111111117", "3566002020360505", "5105105105105100",
                                 "4012888888881881", "2223003122003222"]),
                      ["Use the test card {X} with any future expiry.", "In sandbox mode, {X} always succeeds.",
                       "Stripe's docs list {X} as a test number."]),
        "DOC_SECRET": (lambda: c(["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "sk-" + "x" * r(24, 48),
                                  "sk-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "ghp_" + "x" * 36, "xoxb-your-token-here",
                                  "sk_test_" + "X" * 24, "YOUR_API_KEY", "<your-api-key>", "hf_" + "x" * 34]),
                       ["export OPENAI_API_KEY={X}", "Replace {X} with the key from your dashboard.", "api_key = \"{X}\"  # placeholder",
                        "aws_access_key_id = {X}"]),
        "MASKED": (lambda: c([f"**** **** **** {d(4)}", f"XXX-XX-{d(4)}", f"1{c('3589')}{d(1)}****{d(4)}", f"{d(6)}********{d(3)}X",
                              f"{d(6)}********{d(4)}", f"•••• {d(4)}", f"+44 **** ***{d(3)}", f"j{'*' * r(3, 6)}@gmail.com"]),
                   ["Card on file: {X}", "已绑定手机号{X}", "Identity verified ({X}).", "Account {X} charged."]),
        "EPONYM": (lambda: c(EPONYMS), ["Explain {X} with an example.", "Implement {X} in Python.", "{X} is covered in week 3.",
                                        "Why does {X} fail here?"]),
        "DOCKER_NAME": (lambda: c(DOCKER_NAMES), ["docker stop {X}", "CONTAINER ID   NAMES\n3f2a1b9c8d7e   {X}",
                                                  "Container {X} exited with code 137."]),
        "BRAND": (lambda: c(BRANDS), ["I spilled coffee on {X}.", "Review: {X}, 4 stars.", "We compared {X} with the rival."]),
        "USER_AT_HOST": (lambda: c(["git@github.com:", "git@gitlab.com:", "git@bitbucket.org:"]) + c(["org", "acme", "tools"]) + "/"
                         + c(["repo", "infra", "web-app"]) + ".git" if rng.random() < 0.6 else
                         f"{c(['deploy', 'root', 'ubuntu', 'ci'])}@{c(['web', 'db', 'build'])}-{r(1, 9):02d}.{c(['prod', 'staging'])}.internal",
                         ["git clone {X}", "{X}:~$ sudo systemctl restart app", "remote: {X}"]),
        "CODE_IDENT": (lambda: c(["customer_phone_number", "getUserEmail()", "SSN_REGEX", "validate_iban(value)", "credit_card_field",
                                  "user.date_of_birth", "PHONE_PATTERN", "emailAddressInput", "home_address_line2", "ip_allowlist"]),
                       ["Rename {X} before the merge.", "TypeError in {X}", "The column {X} is nullable."]),
        "ZH_INVOICE": (lambda: c([f"发票代码{r(1, 6)}{d(11)}", f"发票号码{d(8)}", f"电子发票号码{r(23, 25)}{d(18)}"]),
                       ["请在报销单中填写{X}。", "{X}，金额已入账。", "系统提示：{X}重复报销。"]),
        "ZH_EXPRESS": (lambda: c([f"SF{d(13)}", f"YT{d(13)}", f"JD{d(13)}", f"7{d(13)}", f"4{d(14)}", f"JT{d(13)}"]),
                       ["快递单号：{X}，请注意查收。", "物流编号{X}已签收。", "您的包裹{X}正在派送。"]),
        "ZH_CREDIT_CODE": (lambda: cn_credit_code(rng), ["统一社会信用代码：{X}", "企业信用代码{X}，法定代表人见附件。",
                                                         "纳税人识别号{X}"]),
        "ZH_BANK_LINE": (lambda: c([f"10{r(1, 5)}{d(9)}", f"{c(['103', '104', '105', '301'])}{d(9)}"]),
                         ["开户行联行号{X}", "支付系统行号：{X}", "请核对行号{X}后再汇款。"]),
        "ZH_TAOBAO_ORDER": (lambda: c([f"{r(1, 4)}{d(18)}", f"{r(1, 4)}{d(17)}", f"E{d(19)}"]),
                            ["订单编号：{X}", "淘宝订单{X}已发货。", "请提供订单{X}的截图。"]),
        "ZH_STOCK": (lambda: c([f"{c(['600', '601', '000', '002', '300'])}{d(3)}.{c(['SH', 'SZ'])}", f"{c(['60', '00', '30'])}{d(4)}"]),
                     ["股票代码{X}今日涨停。", "关注{X}的年报。", "持仓：{X} 1000股"]),
    }


GENERIC_FRAMES = ["Can someone explain {X}? I keep getting it wrong.", "- {X}", "| 14 | {X} | ok |", "\"value\": \"{X}\"",
                  "> {X}", "Note: {X}", "{X}", "2024-11-03 10:12:44 INFO worker-3 processed {X} in 41 ms",
                  "备注：{X}", "Row {n}: {X}", "# {X}", "I saw {X} in the report yesterday."]
HELD_OUT_ONLY_SHARE = 3  # 1 in 3 categories (by hash) appear only in the held-out split


def held_out_only(category: str) -> bool:
    return hashlib.sha256(f"lookalike-category:{category}".encode()).digest()[0] % HELD_OUT_ONLY_SHARE == 0


def _split_frames(frames: list[str], split: str) -> list[str]:
    return frames[0::2] if split == "dev" else frames[1::2]


def build(split: str, per_category: int = PER_CATEGORY) -> list[dict]:
    """Documents of one split: 1-3 look-alikes each, in category or generic frames."""
    assert split in ("dev", "heldout")
    rng = random.Random(f"lookalike-set:{split}:2026")
    cats = _categories(rng)
    names = [c for c in cats if split == "heldout" or not held_out_only(c)]
    generic = _split_frames(GENERIC_FRAMES, split)
    items = []
    for name in names:
        make, own = cats[name]
        frames = own if held_out_only(name) else _split_frames(own, split)
        for _ in range(per_category):
            frame = rng.choice(frames) if rng.random() < 0.7 else rng.choice(generic)
            items.append((name, frame, make()))
    return assemble(items, rng, f"lookalike3-{split}", split, "generated", 999)


def own_frame_items(cats: dict[str, tuple[callable, list[str]]], rng: random.Random,
                    per_category: int) -> list[tuple[str, str, str]]:
    """per_category (category, frame, value) items of every category, each in one of its own frames."""
    return [(name, rng.choice(frames), make()) for name, (make, frames) in cats.items() for _ in range(per_category)]


def assemble(items: list[tuple[str, str, str]], rng: random.Random, prefix: str, split: str, setting: str,
             n_max: int) -> list[dict]:
    """Shuffle (category, frame, value) items and join 1-3 of them per document; `{n}` in a frame becomes a
    number in 2..n_max. Used by the third, fourth and fifth sets."""
    rng.shuffle(items)
    docs, k = [], 0
    while k < len(items):
        group = items[k:k + rng.choice([1, 1, 2, 3])]
        k += len(group)
        text, labels = "", []
        for j, (name, frame, value) in enumerate(group):
            if j:
                text += rng.choice(["\n", " ", "\n\n"])
            before, after = frame.split("{X}")
            text += before.replace("{n}", str(rng.randint(2, n_max)))
            labels.append([name, len(text), len(text) + len(value)])
            text += value + after.replace("{n}", str(rng.randint(2, n_max)))
        docs.append({"id": f"{prefix}-{len(docs)}", "set": "lookalike", "split": split, "setting": setting,
                     "text": text, "spans": [], "lookalikes": labels})
    return docs


# ---------------------------------------------------------------- real text, labelled by shape

_REAL_SHAPES = [
    ("UUID", re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Za-z])")),
    ("HEX_DIGEST", re.compile(r"(?<![0-9A-Za-z])(?:[0-9a-f]{64}|[0-9a-f]{40}|[0-9a-f]{32})(?![0-9A-Za-z])")),
    ("HEX_LITERAL", re.compile(r"(?<![0-9A-Za-z])0[xX][0-9a-fA-F]{4,}(?![0-9A-Za-z])")),
    ("FLOAT", re.compile(r"(?<![0-9A-Za-z.])\d+\.\d{3,}(?![0-9A-Za-z]|\.\d)")),
    ("VERSION", re.compile(r"(?<![0-9A-Za-z.])\d{1,2}\.\d{1,3}\.\d{1,4}(?![0-9A-Za-z]|\.\d)")),
    ("INT_LITERAL", re.compile(r"(?<![0-9A-Za-z.\-+_])\d{7,}(?![0-9A-Za-z.\-_])")),
]


def _in_quotes(text: str, pos: int) -> bool:
    line = text[text.rfind("\n", 0, pos) + 1:pos]
    return line.count("'") % 2 == 1 or line.count('"') % 2 == 1


def real_code_lookalikes(split: str) -> list[dict]:
    """Rows of gpteacher codegen-instruct (even rows dev, odd held-out) that hold at least one shape-labelled
    look-alike; integer literals count only outside quotes (a quoted digit run may be a sample phone)."""
    path = HERE.parent.parent.parent / "shared" / "data" / "external" / "gpteacher" / "codegen-instruct.json"
    rows = json.loads(path.read_text(encoding="utf-8"))
    docs = []
    for i, r in enumerate(rows):
        if (i % 2 == 0) != (split == "dev"):
            continue
        text = "\n".join(x for x in (r.get("instruction"), r.get("input"), r.get("response")) if x)
        labels, taken = [], []
        for name, shape in _REAL_SHAPES:
            for m in shape.finditer(text):
                if any(m.start() < e and s < m.end() for s, e in taken):
                    continue
                if name == "INT_LITERAL" and _in_quotes(text, m.start()):
                    continue
                taken.append(m.span())
                labels.append([name, m.start(), m.end()])
        if labels:
            docs.append({"id": f"codegen-{i}", "set": "lookalike", "split": split, "setting": "real code",
                         "text": text, "spans": [], "lookalikes": sorted(labels, key=lambda x: x[1])})
    return docs
