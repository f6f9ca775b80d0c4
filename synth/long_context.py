"""long-context-qa: question-answer pairs per chunk of a long document, as examples whose context is the
whole document.

Long-context fine-tuning data is scarce because people cannot write questions about 100-page documents; a
model can, one chunk at a time (the book's chapter 8 recipe). Each document is split into chunks of
`chunk_words` words; the model writes `qa_per_chunk` "Q: / A:" pairs per chunk; each pair becomes an
instruction row with instruction = question, input = the whole document, response = answer, and metadata
naming the document and the chunk's word span. An answer must be grounded: at least `min_answer_overlap` of
its content words must occur in its chunk (catches answers the model made up).

Malformed outputs (no Q/A pair) and ungrounded or empty answers are rejected with the raw text. The
document rows themselves are consumed (counted in stats), not passed on. Not here: questions spanning
several chunks (multi-hop), or token-based chunking (chunk_words is a proxy for tokens).
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl
from pydantic import Field

from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.core.generated import input_rows, new_row, reject_row, rejects_frame, row_meta, rows_frame
from dsforge.pipelines.llm.task import LLMConfig, LLMStage, Messages, PromptTemplate, Unusable, user
from dsforge.pipelines.core.row_text import text_of
from dsforge.pipelines.core.stage import StageContext, StageResult

_Q = r"\s*\**\s*(?:Q|Question)\s*\d*\s*[:.)]\**\s*"
_A = r"\s*\**\s*(?:A|Answer)\s*\d*\s*[:.)]\**\s*"
_QA = re.compile(rf"(?:^|\n){_Q}(.+?)\s*\n{_A}(.+?)(?=\n{_Q}|\Z)", re.S | re.I)
_STOP = set("a an the of to in on at for and or but is are was were be been it its this that with as by from "
            "what which who whom how why when where do does did".split())


class LongContextQAConfig(LLMConfig):
    field: TextField = Field(ref("text"), description="the document's text field")
    chunk_words: int = Field(300, ge=20, description="words per chunk")
    max_chunks: int = Field(20, ge=1, description="chunks used per document (evenly spread when there are more)")
    qa_per_chunk: int = Field(2, ge=1)
    min_words: int = Field(50, ge=1, description="documents shorter than this are rejected (not long context)")
    min_answer_overlap: float = Field(0.5, ge=0, le=1, description="share of answer content words found in the chunk")
    template: str = "long_context_qa_v1"
    source: str | None = None


def chunk_words(words: list[str], size: int, max_chunks: int) -> list[tuple[int, int]]:
    """(start, end) word spans; when there are more than max_chunks, pick them evenly across the document."""
    spans = [(i, min(i + size, len(words))) for i in range(0, len(words), size)]
    if len(spans) > max_chunks:
        step = len(spans) / max_chunks
        spans = [spans[int(k * step)] for k in range(max_chunks)]
    return spans


def parse_qa(text: str) -> list[tuple[str, str]]:
    return [(q.strip(), a.strip().split("\n\n")[0].strip()) for q, a in _QA.findall(text or "")]


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP}


class LongContextQA(LLMStage[LongContextQAConfig]):
    """Chunk long documents, write QA pairs per chunk, emit examples with the whole document as context."""

    name = "long-context-qa"
    mode = "rows"
    creates_rows = True
    Config = LongContextQAConfig
    batch_size = 16

    def format_input(self, job: tuple, template: PromptTemplate) -> Messages:
        return user(template.render(chunk=job[3], n=self.config.qa_per_chunk))

    def parse_output(self, text: str, job: tuple) -> list[tuple[str, str]]:
        pairs = parse_qa(text)[: self.config.qa_per_chunk]
        if not pairs:
            raise Unusable("malformed", "no 'Q: ... A: ...' pair in the output")
        return pairs

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        rejected: list[dict[str, Any]] = []
        jobs = []  # (row, doc, span, chunk text)
        for r in input_rows(df):
            doc = text_of(r, cfg.field)
            words = doc.split()
            if len(words) < cfg.min_words:
                rejected.append(reject_row(dict(r), self.name, "too_short",
                                           f"{r['id']}: {len(words)} words < min_words {cfg.min_words}"))
                continue
            for span in chunk_words(words, cfg.chunk_words, cfg.max_chunks):
                jobs.append((r, doc, span, " ".join(words[span[0]:span[1]])))
        asked = self.ask(ctx, jobs, template=cfg.template)
        kept = []
        for (r, doc, span, chunk), answer in zip(jobs, asked):
            o = answer.first
            where = f"{r['id']} words {span[0]}-{span[1]}"
            base = {"id": f"{r['id']}:w{span[0]}", "source": cfg.source or r["source"], "kind": "instruction",
                    "input": doc, "lineage": r.get("lineage")}
            if not o.ok:
                rejected.append(self.reject_output(base, o, where))
                continue
            chunk_vocab = content_words(chunk)
            for k, (q, a) in enumerate(o.value):
                row = {**base, "id": f"{base['id']}.q{k}", "instruction": q, "response": a}
                aw = content_words(a)
                overlap = len(aw & chunk_vocab) / len(aw) if aw else 0.0
                if not q or not a:
                    rejected.append(reject_row(row, self.name, "empty_pair", f"{where}: empty question or answer",
                                               o.text))
                elif overlap < cfg.min_answer_overlap:
                    rejected.append(reject_row(row, self.name, "ungrounded",
                                               f"{where}: {overlap:.0%} of the answer's words are in the chunk "
                                               f"(< {cfg.min_answer_overlap:.0%})", o.text))
                else:
                    meta = {**row_meta(r), "document": r["id"], "chunk_words": list(span),
                            "document_words": len(doc.split())}
                    kept.append(new_row(id=row["id"], source=row["source"], kind="instruction", stage=self.name,
                                        info={**asked.lineage, "sources": [r["id"]], "chunk_words": list(span),
                                              "answer_overlap": round(overlap, 3)},
                                        parent_lineage=r.get("lineage"), metadata=meta,
                                        instruction=q, input=doc, response=a))
        stats = {"documents": df.height, "chunks": len(jobs), "qa_kept": len(kept), **self.take_usage()}
        return self.account_sources(df, StageResult(kept=rows_frame(kept), rejected=rejects_frame(rejected),
                                                    stats=stats))
