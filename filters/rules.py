"""rules: declarative keep/drop rules and field removal, written in YAML.

    - stage: rules
      rules:
        - {name: no-vendor-names, field: response, contains_any: [OpenAI, ChatGPT]}
        - {name: no-todo, field: prompt, regex: "\\bTODO\\b"}
        - {name: bad-annotator, field: metadata.annotator, in: [bot-7, tmp]}
        - {name: too-old, field: metadata.date, before: "2023-01-01"}
        - {name: only-our-sources, field: source, not_in: [alpaca-libre, gpteacher]}
        - {name: needs-license, field: metadata.license, missing: true}
      drop_fields: [metadata.zip_code, metadata.gender, input_lang]   # removed from every kept row
    - {stage: rules, file: "data:filters/example-rules.yaml"}       # the same, from a file

A rule names one `field` (pipelines/core/fields.py: prompt, answer, conversation, any column, or
metadata.KEY for a key of the row's metadata JSON) and one test: contains_any, regex, equals, in, not_in, before,
after (ISO dates), missing. A row that passes a test is dropped with reason `rules:<name>` (first rule wins);
`keep: true` inverts a rule (drop rows that do NOT pass). Text tests ignore case unless case_sensitive.
`only_sources: [...]` limits a rule to rows of those sources ("this paragraph" in a generated instruction
with no input points at nothing; in a seed task whose input holds the paragraph it is fine).

drop_fields removes metadata keys (`metadata.KEY`) and extra columns; core columns such as `input` are
set to null (the record format always has them). Rows that lost something get a lineage entry.
Not here: anything needing a model (use quality-filter or the validators).
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from dsforge.pipelines.core import records
from dsforge.pipelines.core.fields import FieldError, ValueField, ref
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult

TESTS = ("contains_any", "regex", "equals", "in", "not_in", "before", "after", "missing")


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    name: str
    field: ValueField
    contains_any: list[str] | None = None
    regex: str | None = None
    equals: str | None = None
    in_: list[str] | None = Field(None, alias="in")
    not_in: list[str] | None = None
    before: date | None = None
    after: date | None = None
    missing: bool | None = None
    case_sensitive: bool = False
    keep: bool = Field(False, description="drop rows that do NOT pass the test")
    only_sources: list[str] | None = Field(None, description="apply the rule only to rows of these sources")

    @model_validator(mode="before")
    @classmethod
    def _old_targets(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for old, new in (("meta", "metadata.{}"), ("column", "{}")):
                if old in data:
                    raise ValueError(f"rule {data.get('name')!r}: `{old}: {data[old]}` is written "
                                     f"`field: {new.format(data[old])}` (one way to name a field)")
        return data

    @model_validator(mode="after")
    def _one_test(self):
        tests = [t for t in TESTS if getattr(self, "in_" if t == "in" else t) is not None]
        if len(tests) != 1:
            raise ValueError(f"rule {self.name!r}: give exactly one test of {', '.join(TESTS)} (got {tests or 'none'})")
        if self.regex is not None:
            try:
                re.compile(self.regex)
            except re.error as e:
                raise ValueError(f"rule {self.name!r}: bad regex {self.regex!r}: {e}") from None
        return self

    @property
    def test(self) -> str:
        return next(t for t in TESTS if getattr(self, "in_" if t == "in" else t) is not None)


class RulesConfig(StageConfig):
    rules: list[Rule] = Field(default_factory=list, description="rules; the first one a row breaks drops it")
    drop_fields: list[str] = Field(default_factory=list, description="metadata.KEY or column names to remove")

    @field_validator("drop_fields")
    @classmethod
    def _droppable(cls, v: list[str]) -> list[str]:
        return [droppable(f) for f in v]
    file: str | None = Field(None, description="YAML file with `rules:` and/or `drop_fields:` (added to the inline ones)")


def _target(rule: Rule, df: pl.DataFrame) -> pl.Expr:
    try:
        rule.field.check(df)
    except FieldError as e:
        raise FieldError(f"rules: rule {rule.name!r}: {e}") from None
    return rule.field.expr().cast(pl.String)


def _matches(rule: Rule, df: pl.DataFrame) -> pl.Expr:
    """True where the rule's test holds (null values never match, except for `missing`)."""
    col = _target(rule, df)
    low = (lambda e: e) if rule.case_sensitive else (lambda e: e.str.to_lowercase())
    fold = (lambda s: s) if rule.case_sensitive else (lambda s: s.lower())
    t = rule.test
    if t == "missing":
        hit = (col.is_null() | (col.str.strip_chars() == "")) if rule.missing else col.is_not_null()
        return hit
    if t == "contains_any":
        hit = pl.any_horizontal([low(col).str.contains(fold(w), literal=True) for w in rule.contains_any])
    elif t == "regex":
        hit = col.str.contains(rule.regex if rule.case_sensitive else f"(?i){rule.regex}")
    elif t == "equals":
        hit = low(col) == fold(rule.equals)
    elif t == "in":
        hit = low(col).is_in([fold(v) for v in rule.in_])
    elif t == "not_in":
        hit = ~low(col).is_in([fold(v) for v in rule.not_in])
    else:
        d = col.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        hit = d < pl.lit(rule.before) if t == "before" else d > pl.lit(rule.after)
    return hit.fill_null(False)


def _describe(rule: Rule) -> str:
    target = f"field {rule.field}"
    value = getattr(rule, "in_" if rule.test == "in" else rule.test)
    return f"{target} {'fails' if rule.keep else ''}{rule.test.replace('_', ' ')} {value}".replace("  ", " ")


def droppable(spec: str) -> str:
    """A drop_fields entry checked like any field reference; logical fields are computed, not stored."""
    f = ref(spec, text_only=False)
    if f.sort == "logical":
        raise ValueError(f"drop_fields: {spec!r} is computed from other columns; name a column or metadata.KEY")
    return str(f)


class Rules(Stage[RulesConfig]):
    name = "rules"
    mode = "rows"
    Config = RulesConfig
    version = "1"
    batch_size = 50_000

    def _load(self, ctx: StageContext) -> tuple[list[Rule], list[str]]:
        cfg = self.config
        rules, fields = list(cfg.rules), list(cfg.drop_fields)
        if cfg.file:
            path = ctx.resolve(cfg.file)
            if not path.exists():
                raise FileNotFoundError(f"rules: file {cfg.file} not found (looked at {path})")
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            unknown = set(data) - {"rules", "drop_fields"}
            if unknown:
                raise ValueError(f"rules: {path}: unknown keys {sorted(unknown)}; allowed: rules, drop_fields")
            for i, r in enumerate(data.get("rules") or []):
                try:
                    rules.append(Rule(**r))
                except Exception as e:
                    raise ValueError(f"rules: {path}: rules[{i}]: {e}") from None
            try:
                fields += [droppable(f) for f in data.get("drop_fields") or []]
            except ValueError as e:
                raise ValueError(f"rules: {path}: {e}") from None
        return rules, fields

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        rules, drop_fields = self._load(ctx)
        reason, detail = pl.lit(None, dtype=pl.String), pl.lit(None, dtype=pl.String)
        for rule in reversed(rules):  # first rule wins
            hit = _matches(rule, df)
            hit = ~hit if rule.keep else hit
            if rule.only_sources is not None:
                hit = hit & pl.col("source").is_in(rule.only_sources)
            reason = pl.when(hit).then(pl.lit(f"{self.name}:{rule.name}")).otherwise(reason)
            detail = pl.when(hit).then(pl.lit(_describe(rule))).otherwise(detail)
        marked = df.with_columns(reason.alias("__reason"), detail.alias("__detail"))
        bad = pl.col("__reason").is_not_null()
        kept = marked.filter(~bad).drop("__reason", "__detail")
        rejected = self.reject(marked.filter(bad), pl.col("__reason"), pl.col("__detail")).drop("__reason", "__detail")
        stats: dict[str, Any] = {}
        if drop_fields:
            kept, stats = self._drop_fields(kept, drop_fields)
        return StageResult(kept=kept, rejected=rejected, stats=stats)

    def _drop_fields(self, df: pl.DataFrame, fields: list[str]) -> tuple[pl.DataFrame, dict[str, Any]]:
        keys = [f[9:] for f in fields if f.startswith("metadata.")]
        cols = [f for f in fields if not f.startswith("metadata.")]
        stats: dict[str, Any] = {}
        removed: list[list[str]] = [[] for _ in range(df.height)]
        if keys:
            new_meta = []
            for i, m in enumerate(df["metadata"].to_list()):
                obj = json.loads(m) if m else {}
                gone = [k for k in keys if isinstance(obj, dict) and k in obj]
                for k in gone:
                    del obj[k]
                    stats[f"removed_metadata.{k}"] = stats.get(f"removed_metadata.{k}", 0) + 1
                removed[i] += [f"metadata.{k}" for k in gone]
                new_meta.append(json.dumps(obj, ensure_ascii=False) if gone else m)
            df = df.with_columns(pl.Series("metadata", new_meta, dtype=pl.String))
        for c in cols:
            if c not in df.columns:
                continue
            present = df[c].is_not_null().to_list()
            for i, p in enumerate(present):
                if p:
                    removed[i].append(c)
            stats[f"removed_{c}"] = sum(present)
            df = df.with_columns(pl.lit(None, dtype=df.schema[c]).alias(c)) if c in records.SCHEMA else df.drop(c)
        info = [json.dumps({"removed_fields": r}) if r else None for r in removed]
        entry = pl.struct(pl.lit(self.name).alias("stage"), pl.col("__info").alias("info"))
        df = df.with_columns(pl.Series("__info", info, dtype=pl.String)).with_columns(
            pl.when(pl.col("__info").is_not_null()).then(pl.col("lineage").list.concat(pl.concat_list(entry)))
            .otherwise(pl.col("lineage")).alias("lineage")).drop("__info")
        return df, stats
