"""Build the second PII evaluation set: bench/pii_eval/{dev,heldout}.jsonl.

    python bench/pii_eval/build.py            # rewrites both files (seeded: the same output every time)

How it is made (and how it differs from bench/pii.py's first set): hand-written documents from many
settings (templates_en.txt, templates_zh.txt: tickets, forms, e-mails, chat, CVs, medical and HR notes,
logs, config files...) with slots filled from hand-written value lists (values.py, not Faker), plus a
look-alike set (templates_lookalike.txt: order and tracking numbers, ISBNs, versions, wrong-checksum cards,
IBANs and resident IDs, hashes, UUIDs, decimals, documentation e-mails and private IPs).

Held-out part: every template is assigned to dev or held-out by a hash of its text, and every value list
is split by index parity (values.part), so held-out documents have templates, names, streets and towns
the dev part never has. Tuning looked only at dev; bench/pii.py reports both.

Each line: {"id", "set": en|zh|lookalike, "split": dev|heldout, "setting", "text",
"spans": [[ENTITY, start, end], ...], "lookalikes": [[KIND, start, end], ...]}.
Licence: written for dsforge, same licence as the project (Apache-2.0).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import string
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import values as V  # noqa: E402

REPEATS = {"en": 8, "zh": 10, "lookalike": 10, "lookalike_extra": 10}


def entity_slots(rng: random.Random, split: str) -> dict[str, tuple[str | None, callable]]:
    """slot -> (gold entity or None for neutral filler, value maker)."""
    p = lambda items: V.part(items, split)  # noqa: E731

    def email() -> str:
        user = rng.choice([lambda: rng.choice(p(V.FIRST_NAMES)).lower() + "." + rng.choice(p(V.SURNAMES)).lower(),
                           lambda: rng.choice(p(V.FIRST_NAMES)).lower() + str(rng.randint(1, 99)),
                           lambda: rng.choice(["zhang.wei", "li_na88", "wangfang", "chen.jing", "liuyang2001"])])()
        user = user.encode("ascii", "ignore").decode().replace("'", "") or "user"
        return f"{user}@{rng.choice(V.EMAIL_DOMAINS)}"

    return {
        "NAME": ("PERSON", lambda: rng.choice(p(V.FULL_NAMES))), "FIRST": ("PERSON", lambda: rng.choice(p(V.FIRST_NAMES))),
        "SURNAME": ("PERSON", lambda: rng.choice(p(V.SURNAMES))), "ZH_NAME": ("PERSON", lambda: rng.choice(p(V.ZH_NAMES))),
        "US_ADDRESS": ("LOCATION", lambda: V.us_address(rng, split)), "UK_ADDRESS": ("LOCATION", lambda: V.uk_address(rng, split)),
        "ZH_ADDRESS": ("LOCATION", lambda: V.zh_address(rng, split)), "CITY": ("LOCATION", lambda: rng.choice(p(V.CITIES))),
        "COUNTRY": ("LOCATION", lambda: rng.choice(p(V.COUNTRIES))),
        "DATE": ("DATE", lambda: V.date(rng)), "DOB": ("DATE_OF_BIRTH", lambda: V.date(rng, birth=True)),
        "ZH_DATE": ("DATE", lambda: V.zh_date(rng)), "ZH_DOB": ("DATE_OF_BIRTH", lambda: V.zh_date(rng, birth=True)),
        "PHONE": ("PHONE_NUMBER", lambda: V.phone(rng)), "PHONE_US": ("PHONE_NUMBER", lambda: V.phone(rng, "US")),
        "PHONE_UK": ("PHONE_NUMBER", lambda: V.phone(rng, "UK")), "CN_MOBILE": ("CN_MOBILE", lambda: V.cn_mobile(rng)),
        "EMAIL": ("EMAIL_ADDRESS", email), "CARD": ("CREDIT_CARD", lambda: V.card(rng)),
        "IBAN": ("IBAN_CODE", lambda: V.iban(rng)), "SSN": ("US_SSN", lambda: V.ssn(rng)),
        "IP": ("IP_ADDRESS", lambda: V.ipv4(rng)), "IPV6": ("IP_ADDRESS", lambda: V.ipv6(rng)),
        "CN_ID": ("CN_RESIDENT_ID", lambda: V.cn_id(rng)), "API_KEY": ("API_KEY", lambda: V.api_key(rng)),
        "AWS_KEY": ("AWS_KEY", lambda: V.aws_key(rng)), "PASSWORD": ("SECRET", lambda: V.password(rng)),
        # neutral filler, not scored
        "TICKET": (None, lambda: str(rng.randint(100000, 999999))), "LAST4": (None, lambda: str(rng.randint(1000, 9999))),
        "MONTH": (None, lambda: rng.choice(V.MONTHS)),
        "SURNAME_TITLED": ("PERSON", lambda: f"{rng.choice(V.TITLES)} {rng.choice(p(V.SURNAMES))}"),  # gold: the surname
    }


def lookalike_slots(rng: random.Random) -> dict[str, callable]:
    d = lambda n: "".join(rng.choice(string.digits) for _ in range(n))  # noqa: E731
    hexs = lambda n: "".join(rng.choice("0123456789abcdef") for _ in range(n))  # noqa: E731
    return {
        "ORDER": lambda: rng.choice([d(rng.choice([10, 11, 12, 14, 16])), f"#{d(8)}", f"ORD-{d(9)}"]),
        "TRACKING": lambda: rng.choice([f"1Z{''.join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))}",
                                        f"9400{d(18)}", f"SF{d(12)}", d(12)]),
        "ISBN": lambda: V.isbn(rng),
        "VERSION": lambda: rng.choice([f"{rng.randint(1, 4)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}",
                                       f"v{rng.randint(1, 12)}.{rng.randint(0, 9)}", f"{rng.randint(1, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}.{rng.randint(0, 999)}"]),
        "BUILD": lambda: rng.choice([f"10.0.{d(5)}.{d(4)}", f"{rng.randint(2019, 2026)}.{rng.randint(1, 12)}.{rng.randint(1, 9)}", d(7)]),
        "BAD_CARD": lambda: V.card(rng, valid=False), "BAD_CN_ID": lambda: V.cn_id(rng, valid=False),
        "BAD_IBAN": lambda: V.iban(rng, valid=False),
        "INVOICE": lambda: rng.choice([f"INV-{rng.randint(2019, 2026)}-{d(5)}", f"CASE-{d(8)}", f"{d(4)}-{d(4)}-{d(4)}"]),
        "SERIAL": lambda: rng.choice([f"SN{d(10)}", f"{''.join(rng.choice(string.ascii_uppercase) for _ in range(3))}-{d(6)}-{d(3)}"]),
        "PART": lambda: rng.choice([f"{d(4)}-{d(3)}-{d(2)}", f"PN-{d(7)}", f"{d(3)}.{d(3)}.{d(3)}"]),
        "SHA": lambda: hexs(40), "UUID": lambda: f"{hexs(8)}-{hexs(4)}-4{hexs(3)}-a{hexs(3)}-{hexs(12)}",
        "DECIMAL": lambda: f"{rng.randint(0, 999)}.{d(rng.randint(4, 9))}",
        "COORD": lambda: rng.choice([f"{rng.uniform(-80, 80):.5f}, {rng.uniform(-170, 170):.5f}",
                                     f"{rng.uniform(0, 80):.4f}° N, {rng.uniform(0, 170):.4f}° W"]),
        "EMAIL_EXAMPLE": lambda: f"{rng.choice(['alice', 'bob', 'test.user', 'dev'])}@example.{rng.choice(['com', 'org'])}",
        "LOCAL_IP": lambda: rng.choice(["127.0.0.1", f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
                                        f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}", "0.0.0.0"]),
        "PRICE": lambda: rng.choice([f"${rng.randint(10, 99999):,}.{d(2)}", f"€{rng.randint(10, 9999)},{d(2)}", f"¥{rng.randint(100, 99999)}"]),
        "ZH_ORDER": lambda: rng.choice([d(18), d(20), "1" + rng.choice("3456789") + d(9), f"DD{d(14)}"]),
        "TIMESTAMP_NUM": lambda: str(rng.randint(1_500_000_000, 1_900_000_000)),
        "RANDOM_DIGITS": lambda: rng.choice(["0123456789", " ".join(d(1) for _ in range(10)), "3.14159265358979"]),
    }


def blocks(path: Path) -> list[tuple[str, str]]:
    out, setting, lines = [], None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") and setting is None:
            continue
        if line.startswith("=== "):
            if setting is not None:
                out.append((setting, "\n".join(lines).strip("\n")))
            setting, lines = line[4:].strip(), []
        else:
            lines.append(line)
    if setting is not None:
        out.append((setting, "\n".join(lines).strip("\n")))
    return out


def split_of(template: str) -> str:
    return "heldout" if hashlib.sha256(template.encode()).digest()[0] % 2 else "dev"


def fill(template: str, slots: dict, lookalikes: dict) -> tuple[str, list, list]:
    text, spans, negs, pos = "", [], [], 0
    for m in re.finditer(r"\{([A-Z_0-9]+)\}", template):
        text += template[pos:m.start()]
        name = m.group(1)
        if name in lookalikes:
            value = lookalikes[name]()
            negs.append([name, len(text), len(text) + len(value)])
        else:
            entity, make = slots[name]
            value = make()
            if name == "SURNAME_TITLED":
                spans.append([entity, len(text) + value.index(" ") + 1, len(text) + len(value)])
            elif entity:
                spans.append([entity, len(text), len(text) + len(value)])
        text += value
        pos = m.end()
    return text + template[pos:], spans, negs


def build(seed: int = 13) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"dev": [], "heldout": []}
    for kind in ("en", "zh", "lookalike", "lookalike_extra"):
        for t, (setting, template) in enumerate(blocks(HERE / f"templates_{kind}.txt")):
            split = split_of(template)
            for k in range(REPEATS[kind]):
                rng = random.Random(f"{seed}:{kind}:{t}:{k}")
                slots = entity_slots(rng, split)
                text, spans, negs = fill(template, slots, lookalike_slots(rng))
                out[split].append({"id": f"{kind}-{t}-{k}", "set": "lookalike" if kind == "lookalike_extra" else kind,
                                   "split": split, "setting": setting,
                                   "text": text, "spans": spans, "lookalikes": negs})
    return out


def load(split: str) -> list[dict]:
    with open(HERE / f"{split}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def main() -> int:
    sets = build()
    for split, docs in sets.items():
        with open(HERE / f"{split}.jsonl", "w", encoding="utf-8") as f:
            for d in docs:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
        by = {k: sum(d["set"] == k for d in docs) for k in ("en", "zh", "lookalike")}
        by["of them extra look-alikes"] = sum(d["id"].startswith("lookalike_extra") for d in docs)
        print(f"{split}: {len(docs)} docs {by}, {sum(len(d['spans']) for d in docs)} gold spans, "
              f"{sum(len(d['lookalikes']) for d in docs)} look-alikes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
