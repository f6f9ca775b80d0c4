"""The first PII evaluation set: English and Chinese one-sentence templates filled with Faker values
(en_US, en_GB, de_DE, zh_CN) and checksum-valid values we build (Bitcoin base58check, GB 11643 resident
IDs), plus negative look-alikes that must produce no span. Generated in memory (seeded), not stored.

It was written together with the first recognisers, so it flatters them; bench/pii_eval/ (the second set,
with a held-out part) is the one to trust. Kept for comparison with earlier results.
"""

from __future__ import annotations

import hashlib
import random
import re
import string

from faker import Faker

# ---------------------------------------------------------------- values

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def btc_address(rng: random.Random) -> str:
    payload = b"\x00" + bytes(rng.getrandbits(8) for _ in range(20))
    check = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(payload + check, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" + out  # one leading zero byte -> one "1"


AREA_CODES = ["212", "415", "617", "312", "206", "303", "512", "404", "702", "213", "646", "718", "305", "202"]


def us_phone(f: Faker, rng: random.Random) -> str:
    fmt = rng.choice(["(AAA) %##-####", "AAA-%##-####", "+1 AAA %## ####", "AAA.%##.####"])
    return f.numerify(fmt.replace("AAA", rng.choice(AREA_CODES)))


def dob(f: Faker, rng: random.Random, zh: bool = False) -> str:
    d = f.date_of_birth(minimum_age=18, maximum_age=90)
    if zh:
        return f"{d.year}年{d.month}月{d.day}日"
    return rng.choice([d.strftime("%B %-d, %Y"), d.strftime("%m/%d/%Y"), d.strftime("%Y-%m-%d"),
                       d.strftime("%-d %B %Y")])


def api_key(rng: random.Random) -> str:
    alnum = string.ascii_letters + string.digits
    return rng.choice([
        "sk-" + "".join(rng.choice(alnum) for _ in range(48)),
        "sk-proj-" + "".join(rng.choice(alnum + "_-") for _ in range(40)),
        "ghp_" + "".join(rng.choice(alnum) for _ in range(36)),
        "xoxb-" + "-".join("".join(rng.choice(string.digits) for _ in range(12)) for _ in range(2)) + "-" +
        "".join(rng.choice(alnum) for _ in range(24)),
        "AIza" + "".join(rng.choice(alnum + "_-") for _ in range(35)),
    ])


def aws_key(rng: random.Random) -> str:
    return "AKIA" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def pem(rng: random.Random) -> str:
    body = "\n".join("".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(64)) for _ in range(4))
    kind = rng.choice(["RSA ", "EC ", "", "OPENSSH "])
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"


# ---------------------------------------------------------------- templates

EN = [
    ("Hi, I'm {PERSON}. Reach me at {EMAIL_ADDRESS} if anything changes.", None),
    ("Please call {PERSON} on {PHONE_NUMBER} before noon.", None),
    ("My phone number is {PHONE_NUMBER}, text me.", None),
    ("Customer {PERSON} paid with card {CREDIT_CARD} on Tuesday.", None),
    ("Transfer the deposit to IBAN {IBAN_CODE} by Friday.", None),
    ("Failed logins came from {IP_ADDRESS} three times.", None),
    ("Her portfolio lives at {URL} and is updated weekly.", None),
    ("Donations in bitcoin go to {CRYPTO}, thank you!", None),
    ("Applicant SSN: {US_SSN}. Do not share.", None),
    ("{PERSON} was born on {DATE_OF_BIRTH} in {LOCATION}.", None),
    ("Date of birth: {DATE_OF_BIRTH}", None),
    ("We are moving from {LOCATION} to {LOCATION} next spring.", None),
    ("Set OPENAI_API_KEY={API_KEY} in your shell.", None),
    ("The leaked token {API_KEY} was revoked.", None),
    ("aws_access_key_id = {AWS_KEY}", None),
    ("Here is my server key, keep it safe:\n{PRIVATE_KEY}\nthanks", None),
    ('config.password = "{SECRET}"', None),
    ("Forward the invoice to {EMAIL_ADDRESS} and cc {PERSON}.", None),
]
ZH = [
    ("我叫{PERSON}，手机号是{CN_MOBILE}，有事请联系。", None),
    ("联系人：{PERSON}，电话{CN_MOBILE}", None),
    ("身份证号：{CN_RESIDENT_ID}，姓名：{PERSON}。", None),
    ("请把材料发到{EMAIL_ADDRESS}，谢谢。", None),
    ("出生日期：{DATE_OF_BIRTH}，户籍所在地四川。", None),
    ("客户：{PERSON}，身份证{CN_RESIDENT_ID}，手机{CN_MOBILE}。", None),
    ("如有问题请拨打 +86 {CN_MOBILE}。", None),
]
NEGATIVE = [
    "Your order number is {ORDER}, it ships tomorrow.",
    "Tracking number: {ORDER}",
    "Upgrade numpy to version {VERSION} before running the tests.",
    "The book's ISBN is {ISBN}.",
    "ISBN {ISBN}",
    "const double PI = 3.{DIGITS};",
    "The result is {DECIMAL} after rounding.",
    "Send a test mail to {EXAMPLE_EMAIL} first.",
    "app.run(host='127.0.0.1', port={PORT})",
    "server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM); server_socket.bind(('', {PORT}))",
    "The meeting moved to {MEETING_DATE} at 10am.",
    "订单号：{ORDER}，请注意查收。",
    "快递单号{ORDER}已发出。",
    "请升级到版本{VERSION}。",
    "In 1642 the population was {POP} people.",
]


def fill(template: str, values: dict[str, callable]) -> tuple[str, list[tuple[str, int, int]]]:
    text, spans, pos = "", [], 0
    for m in re.finditer(r"\{([A-Z_]+)\}", template):
        text += template[pos:m.start()]
        value = values[m.group(1)]()
        if m.group(1).isupper() and m.group(1) in ENTITY_NAMES:
            spans.append((m.group(1), len(text), len(text) + len(value)))
        text += value
        pos = m.end()
    return text + template[pos:], spans


ENTITY_NAMES = {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "URL",
                "CRYPTO", "US_SSN", "LOCATION", "DATE_OF_BIRTH", "CN_MOBILE", "CN_RESIDENT_ID", "API_KEY",
                "AWS_KEY", "PRIVATE_KEY", "SECRET"}


def build_set(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    en, gb, de, zh = Faker("en_US"), Faker("en_GB"), Faker("de_DE"), Faker("zh_CN")
    for i, f in enumerate((en, gb, de, zh)):
        f.seed_instance(seed + i)
    alnum = string.ascii_letters + string.digits
    en_values = {
        "PERSON": en.name, "EMAIL_ADDRESS": lambda: rng.choice([en, gb, de]).free_email(),
        "PHONE_NUMBER": lambda: us_phone(en, rng), "CREDIT_CARD": en.credit_card_number,
        "IBAN_CODE": lambda: rng.choice([gb, de]).iban(), "IP_ADDRESS": en.ipv4_public,
        "URL": lambda: f"https://{en.domain_word()}-{en.user_name()}.{rng.choice(['net', 'io', 'org', 'dev'])}/{en.uri_path()}",
        "CRYPTO": lambda: btc_address(rng), "US_SSN": en.ssn, "LOCATION": lambda: rng.choice([en.city(), en.country()]),
        "DATE_OF_BIRTH": lambda: dob(en, rng), "API_KEY": lambda: api_key(rng), "AWS_KEY": lambda: aws_key(rng),
        "PRIVATE_KEY": lambda: pem(rng), "SECRET": lambda: "".join(rng.choice(alnum) for _ in range(14)) + str(rng.randint(10, 99)),
    }
    zh_values = {"PERSON": zh.name, "CN_MOBILE": zh.phone_number, "CN_RESIDENT_ID": zh.ssn,
                 "EMAIL_ADDRESS": zh.free_email, "DATE_OF_BIRTH": lambda: dob(zh, rng, zh=True)}
    neg_values = {
        "ORDER": lambda: "".join(rng.choice(string.digits) for _ in range(rng.choice([11, 14, 16]))),
        "VERSION": lambda: f"{rng.randint(1, 3)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
        "ISBN": lambda: rng.choice([en.isbn13(), en.isbn10()]), "DIGITS": lambda: str(rng.randint(10**10, 10**11)),
        "DECIMAL": lambda: f"{rng.randint(0, 99)}.{rng.randint(10**6, 10**7)}",
        "EXAMPLE_EMAIL": lambda: f"{en.user_name()}@example.com", "PORT": lambda: str(rng.randint(1024, 9999)),
        "MEETING_DATE": lambda: en.date_between("-1y", "+1y").strftime("%B %-d, %Y"),
        "POP": lambda: f"{rng.randint(1000, 99999):,}",
    }
    docs = []
    for i in range(n):
        r = rng.random()
        if r < 0.55:
            tpl, values, lang = rng.choice(EN)[0], en_values, "en"
        elif r < 0.8:
            tpl, values, lang = rng.choice(ZH)[0], zh_values, "zh"
        else:
            tpl, values, lang = rng.choice(NEGATIVE), neg_values, "negative"
        text, spans = fill(tpl, values)
        docs.append({"id": i, "lang": lang, "text": text, "spans": spans})
    return docs
