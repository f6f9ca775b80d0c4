"""Writes the independent English PII sets of issue 28: dev/en_dev.jsonl from `dev_templates.py` and the FROZEN
held-out split heldout/en_heldout.jsonl from `heldout_templates.py` (other templates, other seeds).

    python bench/pii_eval/generate.py            # writes both files, then checks them
    python bench/pii_eval/generate.py --check    # only checks the files on disk

A template is text with slots: `{NAME}`, `{FIRST:2}`, `{ADDRESS}`, `{PHONE}`, `{DOB}`, `{ORDER}`, ... The
number after the colon picks the person/value (same number, same value; default 1). Slots of PII kinds
become gold spans with exact offsets; the others (order numbers, prices, times, versions) are filled but not
labelled, so a detector that flags them loses precision. Gold entity names are the stage's (DATE_OF_BIRTH
for a birth date; LOCATION for whole addresses, streets, cities and countries).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gen_values as gv  # noqa: E402
from reader import check_rows, read_jsonl  # noqa: E402

SLOT = re.compile(r"\{([A-Z_]+)(?::(\d+))?\}")
PERSON_PARTS = {"NAME", "FIRST", "LAST", "INITIAL_LAST", "LAST_FIRST", "UPPER_NAME", "LOWER_FIRST"}
ENTITY_OF = {**{k: "PERSON" for k in PERSON_PARTS},
             "ADDRESS": "LOCATION", "ADDRESS_ML": "LOCATION", "STREET": "LOCATION", "CITY": "LOCATION",
             "CITY_REGION": "LOCATION", "COUNTRY": "LOCATION", "FOREIGN_COUNTRY": "LOCATION",
             "PHONE": "PHONE_NUMBER", "PHONE_ANY": "PHONE_NUMBER", "DOB": "DATE_OF_BIRTH", "DATE": "DATE",
             "EMAIL": "EMAIL_ADDRESS", "CARD": "CREDIT_CARD", "IBAN": "IBAN_CODE", "SSN": "US_SSN",
             "IP": "IP_ADDRESS", "URL": "URL"}
NON_PII = {"ORDER", "SKU", "VERSION", "PRICE", "TIME", "QTY", "TRACKING", "TICKET", "MEASURE", "PERCENT", "YEARS",
           "ROOM", "ID", "COMPANY"}
COMPANIES = ["Northwind Logistics", "Bluepeak Software", "Harbourline Insurance", "Kestrel Health", "Lumen Bank",
             "Tandem HR Services", "Orbital Freight", "Greenleaf College", "Cobalt Labs", "Meridian Care",
             "Silverline Telecom", "Aurora Energy", "Quayside Properties", "Brightwater Utilities"]
PROFILE_WEIGHTS = {"US": 24, "GB": 14, "IN": 9, "CA": 7, "AU": 7, "DE": 6, "FR": 5, "IE": 3, "NZ": 2, "ES": 3,
                   "IT": 3, "NL": 3, "PL": 2, "BR": 3, "MX": 3, "JP": 2, "NG": 2, "ZA": 2, "SG": 1, "KE": 1}
SPLITS = {"dev": ("dev_templates", 28_101, HERE / "dev" / "en_dev.jsonl"),
          "heldout": ("heldout_templates", 28_202, HERE / "heldout" / "en_heldout.jsonl")}


def fill(template: dict, rng: random.Random, row_id: str, split: str) -> dict:
    """One text from one template: slots filled left to right, gold spans at their exact offsets."""
    countries = template.get("countries") or list(PROFILE_WEIGHTS)
    weights = [PROFILE_WEIGHTS[c] for c in countries]
    prof = gv.Profile(rng.choices(countries, weights)[0], rng, {})
    people: dict[str, dict] = {}
    cache: dict[tuple[str, str], str] = {}
    text, spans, pos = [], [], 0

    def value(kind: str, idx: str) -> str:
        if kind in PERSON_PARTS or kind in ("EMAIL", "URL"):
            person = people.setdefault(idx, prof.person())
            if kind == "EMAIL":
                return cache.setdefault((kind, idx), prof.email(person))
            if kind == "URL":
                return cache.setdefault((kind, idx), gv.personal_url(rng, person))
            return person[kind]
        if (kind, idx) in cache:
            return cache[(kind, idx)]
        makers = {"ADDRESS": lambda: prof.address(False), "ADDRESS_ML": lambda: prof.address(True),
                  "STREET": prof.street_line, "CITY": lambda: prof.city()[0],
                  "CITY_REGION": lambda: ", ".join(x for x in prof.city() if x),
                  "COUNTRY": prof.country, "FOREIGN_COUNTRY": lambda: rng.choice(gv.PLACES[rng.choice(list(gv.PLACES))]["country"]),
                  "PHONE": prof.phone, "PHONE_ANY": lambda: prof.phone(gv.PLACES[rng.choice(list(gv.PLACES))]["phone"]),
                  "DOB": lambda: prof.date(birth=True), "DATE": prof.date, "CARD": lambda: gv.card(rng),
                  "IBAN": lambda: gv.iban(rng, {"GB": "GB", "DE": "DE", "FR": "FR", "ES": "ES", "IT": "IT",
                                                "NL": "NL", "PL": "PL", "IE": "IE"}.get(prof.code)),
                  "SSN": lambda: gv.ssn(rng), "IP": lambda: gv.public_ip(rng), "COMPANY": lambda: rng.choice(COMPANIES)}
        make = makers.get(kind) or (lambda: gv.non_pii(kind, rng))
        return cache.setdefault((kind, idx), make())

    src = template["text"].strip("\n")
    last = 0
    for m in SLOT.finditer(src):
        kind, idx = m.group(1), m.group(2) or "1"
        if kind not in ENTITY_OF and kind not in NON_PII:
            raise ValueError(f"template {template['id']}: unknown slot {{{kind}}}")
        text.append(src[last:m.start()])
        pos += m.start() - last
        v = value(kind, idx)
        if kind in ENTITY_OF:
            spans.append({"start": pos, "end": pos + len(v), "entity": ENTITY_OF[kind], "value": v})
        text.append(v)
        pos += len(v)
        last = m.end()
    text.append(src[last:])
    return {"id": row_id, "text": "".join(text), "spans": spans, "source": f"issue28-generated-{split}",
            "template": template["id"], "lang": "en", "kind": template["kind"], "country": prof.code}


def build(split: str, n_texts: int) -> list[dict]:
    module, seed, _ = SPLITS[split]
    templates = __import__(module).TEMPLATES
    rng = random.Random(seed)
    rows, i = [], 0
    while len(rows) < n_texts:
        for t in templates:
            if len(rows) >= n_texts:
                break
            rows.append(fill(t, rng, f"{split}-{i:05d}", split))
            i += 1
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="only check the files on disk")
    ap.add_argument("--texts", type=int, default=1500, help="texts per split")
    args = ap.parse_args(argv)
    for split, (_, _, path) in SPLITS.items():
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            rows = build(split, args.texts)
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        rows = read_jsonl(path)
        problems = check_rows(rows)
        ents: dict[str, int] = {}
        for r in rows:
            for s in r["spans"]:
                ents[s["entity"]] = ents.get(s["entity"], 0) + 1
        print(f"{path.relative_to(HERE.parent.parent)}: {len(rows)} texts, {sum(ents.values())} spans "
              f"({', '.join(f'{k} {v}' for k, v in sorted(ents.items()))}), "
              f"{sum(not r['spans'] for r in rows)} without PII, {len({r['template'] for r in rows})} templates; "
              f"problems: {len(problems)}")
        for p in problems[:20]:
            print("  " + p)
        if problems:
            return 1
    dev_t = {r["template"] for r in read_jsonl(SPLITS["dev"][2])}
    held_t = {r["template"] for r in read_jsonl(SPLITS["heldout"][2])}
    if dev_t & held_t:
        print(f"templates in both splits: {sorted(dev_t & held_t)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
