"""The one reader of the PII evaluation sets: every set is a JSONL file of rows

    {"id", "text", "spans": [{"start", "end", "entity", "value"}], "source", "template", "lang"}

plus optional keys: "lookalikes" (values shaped like PII that are not, same span form with "kind" in place of
"entity"; any predicted span overlapping one is a false positive), "split", "part", "kind", "country".
`check_rows` is what the tests and the generator run: offsets match values, spans do not overlap, entity
names are the stage's, card values pass Luhn and IBAN values mod 97.
"""

from __future__ import annotations

import json
from pathlib import Path

from checks import iban_ok, luhn_ok  # bench/pii_eval is on sys.path wherever the reader is used

HERE = Path(__file__).resolve().parent
REQUIRED = ("id", "text", "spans", "source", "template", "lang")
ENTITIES = {"PERSON", "LOCATION", "DATE", "DATE_OF_BIRTH", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD",
            "IBAN_CODE", "IP_ADDRESS", "URL", "US_SSN", "CN_MOBILE", "CN_RESIDENT_ID", "API_KEY", "AWS_KEY",
            "PRIVATE_KEY", "SECRET", "CRYPTO"}


class SetFormatError(ValueError):
    """A set file that does not follow the schema: names the file and the line."""


def read_jsonl(path: str | Path) -> list[dict]:
    """All rows of one set file; a malformed line raises SetFormatError naming file and line."""
    path = Path(path)
    rows = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise SetFormatError(f"{path}:{n}: not JSON ({e.msg})") from None
        missing = [k for k in REQUIRED if k not in row]
        if missing:
            raise SetFormatError(f"{path}:{n}: missing {', '.join(missing)}")
        rows.append(row)
    return rows


def read_set(name: str) -> list[dict]:
    """A set by its path under bench/pii_eval/ without the suffix, e.g. 'dev/en_dev' or 'lookalikes/sixth'."""
    return read_jsonl(HERE / f"{name}.jsonl")


def check_rows(rows: list[dict], strict_checksums: bool = True) -> list[str]:
    """Problems in a set (empty when sound): each names the row id."""
    problems, seen = [], set()
    for r in rows:
        rid, text = r["id"], r["text"]
        if rid in seen:
            problems.append(f"{rid}: duplicate id")
        seen.add(rid)
        prev_end = -1
        for s in sorted(r["spans"], key=lambda s: (s["start"], s["end"])):
            if s["entity"] not in ENTITIES:
                problems.append(f"{rid}: unknown entity {s['entity']}")
            if not 0 <= s["start"] < s["end"] <= len(text) or text[s["start"]:s["end"]] != s["value"]:
                problems.append(f"{rid}: span {s['start']}-{s['end']} is {text[s['start']:s['end']]!r}, not {s['value']!r}")
            if s["start"] < prev_end:
                problems.append(f"{rid}: overlapping spans at {s['start']}")
            prev_end = max(prev_end, s["end"])
            digits = "".join(c for c in s["value"] if c.isdigit())
            if strict_checksums and s["entity"] == "CREDIT_CARD" and not (12 <= len(digits) <= 19 and luhn_ok(digits)):
                problems.append(f"{rid}: card {s['value']!r} fails Luhn")
            if strict_checksums and s["entity"] == "IBAN_CODE" and not iban_ok(s["value"]):
                problems.append(f"{rid}: IBAN {s['value']!r} fails mod 97")
        for la in r.get("lookalikes", []):
            if text[la["start"]:la["end"]] != la["value"]:
                problems.append(f"{rid}: look-alike {la['start']}-{la['end']} is not {la['value']!r}")
    return problems
