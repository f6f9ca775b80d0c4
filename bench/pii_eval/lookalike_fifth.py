"""The fifth PII evaluation set: look-alikes, held out only. Written after the fourth set had been run once
(bench/RESULTS-pii.md says what it showed and what was fixed from it): 26 categories none of the earlier
sets has, 14 values each in frames of their own. Same document shape as lookalike_set.py.

    from lookalike_fifth import build
    docs = build()               # seeded, the same documents every time

Licence: written for dsforge, Apache-2.0 like the project.
"""

from __future__ import annotations

import random
import string

from lookalike_set import _digits, _hex, assemble, own_frame_items

PER_CATEGORY = 14


def _s10(rng: random.Random) -> str:
    """A UPU S10 postal item id (RR123456785GB) with its mod-11 check digit."""
    body = _digits(rng, 8)
    c = 11 - sum(int(x) * w for x, w in zip(body, (8, 6, 4, 2, 3, 5, 9, 7))) % 11
    c = {10: 0, 11: 5}.get(c, c)
    return f"{rng.choice(['RR', 'LX', 'CP', 'EE'])}{body}{c}{rng.choice(['GB', 'DE', 'CN', 'US', 'FR'])}"


def _categories(rng: random.Random) -> dict[str, tuple[callable, list[str]]]:
    d = lambda n: _digits(rng, n)  # noqa: E731
    r, c = rng.randint, rng.choice
    up = string.ascii_uppercase
    return {
        "CALL_NUMBER": (lambda: c([f"QA{r(1, 99)}.{r(1, 99)}.{c(up)}{r(10, 99)} {c(up)}{r(10, 99)} {r(1990, 2024)}",
                                   f"{r(0, 999):03d}.{d(3)} {''.join(c(up) for _ in range(3))}"]),
                        ["Shelf mark {X}", "Find it at {X} in the stacks."]),
        "POSTAL_S10": (lambda: _s10(rng), ["Registered letter {X} was delivered.", "Track {X} on the post office site."]),
        "PLAY_REF": (lambda: f"Act {c(['I', 'II', 'III', 'IV', 'V'])}, Scene {r(1, 7)}, lines {r(1, 200)}-{r(201, 400)}",
                     ["Read {X} aloud.", "The quote is from {X}."]),
        "RECIPE": (lambda: c([f"{r(1, 4)} {c(['1/2', '1/3', '3/4'])} cups flour", f"{c([325, 350, 375, 400])}°F for {r(10, 30)}-{r(31, 60)} minutes",
                              f"{r(100, 900)} g butter, {r(1, 6)} eggs"]), ["Step 2: {X}.", "You need {X}."]),
        "SIZES": (lambda: c([f"US {r(5, 13)}.{c([0, 5])} / EU {r(36, 47)}", f"{r(28, 40)}W x {r(28, 36)}L", f"{r(185, 335)}/{r(35, 75)} R{r(14, 21)} {r(80, 110)}{c('HVW')}"]),
                  ["Ordered size {X}.", "Spec: {X}"]),
        "FX_QUOTE": (lambda: c([f"EUR/USD {r(0, 1)}.{d(4)}", f"USDJPY {r(100, 160)}.{d(2)}", f"GBP/CHF {r(0, 1)}.{d(4)} ({c('+-')}{r(0, 2)}.{d(2)}%)"]),
                     ["Close: {X}", "The desk quoted {X} at noon."]),
        "TAX_FORM": (lambda: c([f"Form 1040, line {r(1, 38)}{c(['', 'a', 'b'])}", f"W-2 box {r(1, 20)}", f"Schedule {c('ABCDE')}, line {r(1, 30)}"]),
                     ["Enter the amount on {X}.", "See {X} for the total."]),
        "BOOKING_REF": (lambda: c(["".join(c(up + string.digits) for _ in range(6)), f"HB-{d(8)}", f"{''.join(c(up) for _ in range(2))}{d(7)}"]),
                        ["Your booking reference is {X}.", "PNR {X}, two adults."]),
        "SHORTCUT": (lambda: c(["Ctrl+Shift+Esc", "Cmd+K", "Alt+F4", "Ctrl+Alt+Del", "Shift+F10", "Cmd+Option+I"]),
                     ["Press {X} to open it.", "The shortcut {X} stopped working."]),
        "COLOR_SYSTEM": (lambda: c([f"PANTONE {r(11, 19)}-{r(1000, 6000)} TCX", f"RAL {r(1000, 9023)}", f"NCS S {d(4)}-{c(['Y', 'R', 'B', 'G'])}{r(10, 90)}{c(['R', 'B', 'Y'])}"]),
                         ["Paint the door {X}.", "Colour reference {X}"]),
        "UNICODE": (lambda: c([f"U+{_hex(rng, 4, True)}", f"U+1F{_hex(rng, 3, True)}", f"&#x{_hex(rng, 4)};", f"\\u{_hex(rng, 4)}"]),
                    ["The glyph is {X}.", "Escape it as {X}"]),
        "PORT_LIST": (lambda: ", ".join(str(x) for x in sorted(rng.sample([22, 25, 53, 80, 110, 143, 443, 465, 587, 993, 3306, 5432, 6379, 8080, 8443, 9200], r(3, 6)))),
                      ["Open ports {X} on the firewall.", "nmap found {X}."]),
        "ASN": (lambda: c([f"AS{r(1000, 399999)}", f"{r(64512, 65534)}:{r(1, 999)}"]), ["Peer with {X}.", "Route tagged {X}"]),
        "SENSOR_LOG": (lambda: f"T={r(-20, 40)}.{d(2)}C RH={r(10, 99)}.{d(1)}% P={r(980, 1040)}.{d(2)}hPa",
                       ["[node-{n}] {X}", "{X}"]),
        "COURSE_CODE": (lambda: f"{c(['CS', 'MATH', 'PHYS', 'ECON', 'BIO'])} {r(100, 4999)}{c(['', 'A', 'H'])}",
                        ["I'm taking {X} this term.", "Prerequisite: {X}"]),
        "ROOM_GATE": (lambda: c([f"Room {c('ABCD')}-{r(100, 499)}", f"Gate {r(1, 60)}{c(['', 'A', 'B'])}", f"Level {r(1, 9)}, Bay {r(1, 40)}"]),
                      ["Meet at {X}.", "Moved to {X}."]),
        "PLACEHOLDER_NAME": (lambda: c(["John Doe", "Jane Doe", "Max Mustermann", "Erika Mustermann", "Joe Bloggs", "John Q. Public",
                                        "Richard Roe", "Fred Nurk"]),
                             ["Sample form: Name = {X}", "Replace {X} with the customer's name.", "e.g. {X}"]),
        "ARTWORK": (lambda: c(["the Mona Lisa", "The Starry Night", "the Venus de Milo", "Girl with a Pearl Earring", "The Thinker",
                               "the David", "The Night Watch"]), ["We queued to see {X}.", "A print of {X} hangs there."]),
        "PRIZE": (lambda: c(["the Nobel Prize", "a Pulitzer", "the Fields Medal", "the Turing Award", "an Oscar", "the Booker Prize",
                             "a Grammy"]), ["She won {X} in the end.", "Nominated for {X}."]),
        "HOLIDAY": (lambda: c(["St. Patrick's Day", "Martin Luther King Jr. Day", "Columbus Day", "Guy Fawkes Night", "St. Valentine's Day",
                               "Boxing Day"]), ["The office is closed on {X}.", "Plans for {X}?"]),
        "INSTITUTION": (lambda: c(["Johns Hopkins Hospital", "the Rockefeller Center", "Carnegie Hall", "the Smithsonian", "Trinity College",
                                   "the Guggenheim", "Stanford University"]), ["The concert is at {X}.", "Volunteer at {X}."]),
        "ZH_ICP": (lambda: f"{c(['京', '沪', '粤', '浙'])}ICP备{d(8)}号{c(['', '-1', '-2'])}", ["网站备案：{X}", "页脚显示{X}。"]),
        "ZH_SKU": (lambda: c([f"SKU：{d(12)}", f"商品编号{d(11)}", f"货号{''.join(c(up) for _ in range(2))}{d(6)}"]),
                   ["{X}，库存充足。", "请搜索{X}下单。"]),
        "ZH_FUND": (lambda: c([f"基金代码{d(6)}", f"债券代码{d(6)}.IB", f"期货合约{c(['rb', 'au', 'cu'])}{r(2401, 2512)}"]),
                    ["{X}今日净值上涨。", "关注{X}。"]),
        "ZH_POINTS": (lambda: c([f"积分{r(1, 99)},{d(3)}", f"余额{r(1, 9999)}.{d(2)}元", f"第{r(1, 999)}期"]), ["您的{X}。", "当前{X}，请查收。"]),
        "ZH_PLACEHOLDER": (lambda: c(["张三", "李四", "王五", "赵六"]) + c(["", "（示例）"]),
                           ["姓名：{X}", "例如：收件人{X}，电话请填写真实号码。"]),
    }


def build(per_category: int = PER_CATEGORY) -> list[dict]:
    """Documents of 1-3 look-alikes each, every category in its own frames."""
    rng = random.Random("lookalike-fifth:2026-12-01")
    return assemble(own_frame_items(_categories(rng), rng, per_category), rng, "lookalike5", "heldout", "fresh", 99)
