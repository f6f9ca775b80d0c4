"""pii: find personal data and secrets with presidio recognisers, then tag, anonymise or drop.

    - {stage: pii}                                        # defaults: contact details, IDs, secrets, addresses, DOB
    - {stage: pii, entities: [PERSON, EMAIL_ADDRESS]}     # names: consistent fake names (pseudonymize)
    - {stage: pii, operators: {PERSON: {type: replace}}}  # "<PERSON>" placeholders instead
    - {stage: pii, operators: {CREDIT_CARD: {type: mask, masking_char: "*", chars_to_mask: 12}}}
    - {stage: pii, action: tag}                           # `pii_spans` (with the recogniser) and `pii_vetoed`
    - {stage: pii, recognizers: [my_pkg.recs:TitleRecognizer], recognizer_files: [my-recognizers.yaml]}

Detection: one presidio RecognizerRegistry (pii_recognizers) run by pii_engine: a vectorised pre-pass picks
the rows each recogniser can match, presidio's context enhancer weighs cue words, named vetoes drop what
names no one, overlapping spans merge. Anonymisation: presidio-anonymizer's operators per entity plus a
consistent pseudonymiser (pii_operators). Rule data: data/filters/pii_rules.yaml.

Defaults (issue 27): what a user expects removed from instruction data (e-mail, phone, street address,
cards, IBAN, IP, SSN and other national IDs, secrets and keys, dates of birth). PERSON, LOCATION (bare
cities and countries), DATE and URL are opt-in: in word problems and stories they are content, and
replacing "Vicente" by "<PERSON>" breaks the row. When names are asked for they are pseudonymised.

Row-wise (`batch_size`): a batch depends only on its own rows; models load lazily once per stage instance,
so each worker process loads them once. Not here: shifting dates consistently, k-anonymity.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import polars as pl
from pydantic import Field, field_validator, model_validator

from dsforge.filters.pii_engine import EngineSettings, PiiEngine, merge, propagate, row_values  # noqa: F401 (merge re-exported)
from dsforge.filters.pii_names import SPACY_MODEL, SPACY_PACKAGE, PiiModelWarning  # noqa: F401 (re-exported)
from dsforge.filters.pii_operators import Anonymizer, Pseudonymizer, check_operator
from dsforge.filters.pii_recognizers import BUILTIN_ENTITIES
from dsforge.filters.pii_rules import documentation_values, rules
from dsforge.filters.pii_spans import Span  # noqa: F401 (re-exported)
from dsforge.filters.pii_vetoes import negative_cue_regex  # noqa: F401 (re-exported)
from dsforge.pipelines.core import records
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult

DEFAULT_ENTITIES: list[str] = list(rules()["default_entities"])
DEFAULT_THRESHOLDS: dict[str, float] = dict(rules()["thresholds"])
DEFAULT_NEGATIVE_CUES: list[str] = list(rules()["negative_cues"])
DOCUMENTATION_VALUES: list[str] = documentation_values()
DEFAULT_OPERATORS = {"DEFAULT": {"type": "replace"}, "PERSON": {"type": "pseudonymize"}}
KNOWN_ENTITIES = BUILTIN_ENTITIES
SCANNABLE = records.TEXT_COLUMNS
_SPAN = {"field": pl.String, "entity": pl.String, "start": pl.Int64, "end": pl.Int64, "score": pl.Float64,
         "recognizer": pl.String}


class PiiConfig(StageConfig):
    action: Literal["tag", "redact", "drop"] = Field("redact", description="tag spans, anonymise them (operators), "
                                                     "or drop the row")
    entities: list[str] = Field(default_factory=lambda: list(DEFAULT_ENTITIES),
                                description="entity types to find (PERSON, LOCATION, DATE, URL are opt-in)")
    fields: list[records.TextColumn] = Field(default_factory=lambda: list(SCANNABLE),
                                             description=f"text fields to scan (of {', '.join(SCANNABLE)})")
    operators: dict[str, dict[str, Any]] = Field(
        default_factory=lambda: json.loads(json.dumps(DEFAULT_OPERATORS)),
        description="presidio-anonymizer operator per entity (DEFAULT for the rest): replace, mask, hash, redact, "
                    "keep, or pseudonymize (consistent fake values per row)")
    redact_with: Literal["placeholder", "fake"] | None = Field(
        None, description="shorthand: placeholder = replace for every entity, fake = pseudonymize for every entity")
    thresholds: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_THRESHOLDS),
                                         description="minimum score per entity; key 'default' for the rest")
    allow: list[str] = Field(default_factory=list, description="values never treated as PII (case-insensitive)")
    allow_regex: list[str] = Field(default_factory=list, description="regexes for values never treated as PII")
    deny: dict[str, list[str]] = Field(default_factory=dict, description="entity -> words always treated as it "
                                       "(a presidio deny-list recogniser)")
    allow_documentation_values: bool = Field(True, description="ignore example.com e-mails/URLs, loopback and private "
                                             "IPs, drama phone ranges, sandbox cards (data/filters/pii_rules.yaml)")
    negative_cues: list[str] = Field(default_factory=lambda: list(DEFAULT_NEGATIVE_CUES),
                                     description="number-like spans right after these words are not PII (order no.)")
    recognizers: list[str] = Field(default_factory=list, description="presidio EntityRecognizer classes to add "
                                   "(module:Class), constructed without arguments")
    recognizer_files: list[str] = Field(default_factory=list, description="presidio YAML recogniser files to add")
    drop_entities: list[str] = Field(default_factory=lambda: ["PRIVATE_KEY"],
                                     description="with tag/redact, still drop rows holding these entities")
    spacy_model: str = Field(SPACY_MODEL, description=f"spaCy model for PERSON/LOCATION (package {SPACY_PACKAGE})")
    batch_size: int = Field(256, ge=1, description="texts per NER batch")

    @model_validator(mode="after")
    def _known(self) -> "PiiConfig":
        if self.recognizers or self.recognizer_files:
            return self  # their entities are known only once the classes and files load
        unknown = sorted(set(self.entities) | set(self.drop_entities) - set(KNOWN_ENTITIES) - set(self.deny))
        unknown = [e for e in unknown if e not in KNOWN_ENTITIES and e not in self.deny]
        if unknown:
            raise ValueError(f"unknown entities {unknown}; known: {', '.join(KNOWN_ENTITIES)}")
        return self

    @field_validator("operators")
    @classmethod
    def _operators(cls, v: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for entity, spec in v.items():
            check_operator(entity, spec)
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
    mode = "rows"
    Config = PiiConfig
    version = "12"  # 12: birth dates need a record, role/placeholder mailboxes, ISO dates, placeholder and public addresses; 11: presidio registry, opt-in names, pseudonymize, operators, vetoes by name; 10: old detector
    batch_size = 5000
    holds_model = True  # spaCy NER: one copy per worker process / Ray actor

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "_engine"}  # models reload in the worker

    def engine(self) -> PiiEngine:
        """Built on first use and kept on the instance: each worker process loads the models once."""
        if getattr(self, "_engine", None) is None:
            c = self.config
            self._engine = PiiEngine(EngineSettings(
                entities=c.entities, spacy_model=c.spacy_model, batch_size=c.batch_size, thresholds=c.thresholds,
                allow=c.allow, allow_regex=c.allow_regex, allow_documentation_values=c.allow_documentation_values,
                negative_cues=c.negative_cues, deny=c.deny, recognizers=c.recognizers,
                recognizer_files=c.recognizer_files))
        return self._engine

    def operators(self) -> dict[str, dict[str, Any]]:
        c = self.config
        if c.redact_with == "placeholder":
            return {"DEFAULT": {"type": "replace"}}
        if c.redact_with == "fake":
            return {"DEFAULT": {"type": "pseudonymize"}}
        return c.operators

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        cols = {c: df.get_column(c).to_list() for c in cfg.fields if c in df.columns}
        slots: list[tuple[int, str, int | None]] = []  # (row, field, message index or None)
        texts: list[str] = []
        for fld, values in cols.items():
            for r, v in enumerate(values):
                if fld == "messages":
                    for m, msg in enumerate(v or []):
                        if msg and msg.get("content"):
                            slots.append((r, fld, m)); texts.append(msg["content"])
                elif isinstance(v, str) and v.strip():
                    slots.append((r, fld, None)); texts.append(v)
        engine = self.engine()
        found = engine.analyze(texts)
        by_row: dict[int, list[int]] = {}  # the same value everywhere in the row, so no copy is left behind
        for k, (r, _, _) in enumerate(slots):
            by_row.setdefault(r, []).append(k)
        for ks in by_row.values():
            values = row_values([texts[k] for k in ks], [found[k] for k in ks])
            for k in ks:
                found[k] = propagate(texts[k], found[k], values)

        per_row: list[dict[str, list[tuple[Span, str]]]] = [{} for _ in range(df.height)]
        vetoed_row: list[list[dict]] = [[] for _ in range(df.height)]
        resolved: dict[int, list[Span]] = {}
        counts: dict[str, int] = {}
        for k, ((r, fld, m), text, f) in enumerate(zip(slots, texts, found)):
            key = fld if m is None else f"messages.{m}"
            if f.spans:
                resolved[k] = f.spans
                per_row[r].setdefault(key, []).extend((s, text[s.start:s.end]) for s in f.spans)
            for s, veto in f.vetoed:
                counts[f"vetoed_{veto}"] = counts.get(f"vetoed_{veto}", 0) + 1
                vetoed_row[r].append({"field": key, "entity": s.entity, "start": s.start, "end": s.end,
                                      "score": round(s.score, 3), "recognizer": s.recognizer, "veto": veto})
        for hits in per_row:
            for spans in hits.values():
                for s, _ in spans:
                    counts[f"found_{s.entity}"] = counts.get(f"found_{s.entity}", 0) + 1
        stats = {"texts_scanned": len(texts), "rows_with_pii": sum(1 for h in per_row if h), **counts,
                 "ner_model": engine.has_ner}

        drop_set = set(cfg.drop_entities)
        drop = [bool(h) if cfg.action == "drop" else any(s.entity in drop_set for sp in h.values() for s, _ in sp)
                for h in per_row]
        details = [_summary(h) + " (" + ", ".join(f"{s.entity}={_mask(v)}" for sp in h.values() for s, v in sp[:3]) + ")"
                   if h else None for h in per_row]
        reasons = ["pii:found" if cfg.action == "drop" else "pii:forbidden_entity" if d else None for d in drop]

        out = df
        if cfg.action == "tag":
            tags = [[{"field": f, "entity": s.entity, "start": s.start, "end": s.end, "score": round(s.score, 3),
                      "recognizer": s.recognizer} for f, sp in h.items() for s, _ in sorted(sp, key=lambda x: x[0].start)]
                    for h in per_row]
            out = out.with_columns(pl.Series("pii_spans", tags, dtype=pl.List(pl.Struct(_SPAN))),
                                   pl.Series("pii_vetoed", vetoed_row,
                                             dtype=pl.List(pl.Struct({**_SPAN, "veto": pl.String}))))
        elif cfg.action == "redact":
            ops = self.operators()
            out = self._anonymised(df, cols, slots, texts, resolved, ops, ctx.seed)
            info = [json.dumps({"redacted": {f: sorted({s.entity for s, _ in sp}) for f, sp in h.items()},
                                "operators": {e: ops.get(e, ops.get("DEFAULT", {"type": "replace"}))["type"]
                                              for e in sorted({s.entity for sp in h.values() for s, _ in sp})}},
                               sort_keys=True) if h else None for h in per_row]
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
        rej = self._anonymised(df, cols, slots, texts, resolved, {"DEFAULT": {"type": "replace"}}, ctx.seed) \
            if any(drop) else df
        rej = rej.with_columns(marks).filter(pl.col("__drop"))
        rejected = self.reject(rej, pl.col("__reason"), pl.col("__detail")).drop("__drop", "__reason", "__detail")
        return StageResult(kept=kept, rejected=rejected, stats=stats)

    @staticmethod
    def _anonymised(df: pl.DataFrame, cols: dict[str, list], slots: list[tuple[int, str, int | None]],
                    texts: list[str], resolved: dict[int, list[Span]], operators: dict, seed: int) -> pl.DataFrame:
        """df with every resolved span replaced by its operator's output; one pseudonymiser per row, so a
        name maps to the same fake in every field of the row. Only the columns that change are rebuilt."""
        anonymizer = Anonymizer(operators, seed)
        row_texts: dict[int, list[str]] = {}
        for k in resolved:
            row_texts.setdefault(slots[k][0], [])
        for k, (r, _, _) in enumerate(slots):
            if r in row_texts:
                row_texts[r].append(texts[k])
        pseudo = {r: Pseudonymizer(seed, "\n".join(t)) for r, t in row_texts.items()}
        new_vals: dict[str, list[Any]] = {}
        for k, spans in resolved.items():
            r, fld, m = slots[k]
            values = new_vals.setdefault(fld, list(cols[fld]))
            red = anonymizer.apply(texts[k], spans, pseudo[r])
            if m is None:
                values[r] = red
            else:
                msgs = [dict(x) for x in values[r]]
                msgs[m]["content"] = red
                values[r] = msgs
        return df.with_columns(pl.Series(f, v, dtype=df.schema[f]) for f, v in new_vals.items()) if new_vals else df


def resolve_spans(text: str, found: list[Span], thresholds: dict[str, float], allow: set[str],
                  allow_patterns: list, negative=None, public_names: bool = True) -> list[Span]:
    """Older callers' post-processing (bench/pii.py): thresholds, allow-lists, number vetoes, then merge.
    The engine already does this (pii_engine.PiiEngine.resolve); here for spans from elsewhere."""
    from dsforge.filters.pii_vetoes import NUMBERISH, number_veto, trim, widen

    keep = []
    for s in found:
        if s.score < thresholds.get(s.entity, thresholds.get("default", 0.5)):
            continue
        s = trim(text, s)
        value = text[s.start:s.end].strip()
        if value.lower() in allow or any(p.fullmatch(value) for p in allow_patterns) \
                or (s.entity in NUMBERISH and number_veto(text, s, negative)):
            continue
        keep.append(Span(s.entity, *widen(text, s.start, s.end), s.score, s.source, s.recognizer))
    return merge(keep)


def redact(text: str, spans: list[Span], with_: str = "placeholder", seed: int = 0) -> str:
    """Replace non-overlapping spans right to left with `<ENTITY>` (or consistent fakes with "fake")."""
    ops = {"DEFAULT": {"type": "pseudonymize" if with_ == "fake" else "replace"}}
    return Anonymizer(ops, seed).apply(text, spans, Pseudonymizer(seed, text))
