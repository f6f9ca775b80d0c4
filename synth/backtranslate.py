"""backtranslate-instructions: instruction back-translation with self-curation (Li et al. 2023, "Humpback").

Human-written text (documents, or the answers of instruction rows) is good output nobody wrote a prompt
for. Self-augmentation: the model predicts the instruction each text answers (few-shot examples stand in
for the paper's fine-tuned backward model). Self-curation: the model scores each (instruction, text) pair
1-5 with the paper's rubric (Table 19, verbatim in prompts/backtranslate_curate_v1.jinja); pairs scoring
at or above `threshold` are kept. With `rounds > 1`, texts not yet kept are tried again, and the curated
pairs of earlier rounds (best first) replace the seed examples in both prompts, as the paper's iteration
uses the curated set to improve the model.

Output rows: instruction = predicted instruction, response = the human text, score = curation score,
lineage with the source row, both templates, the raw judge output's score and the round. Texts never kept
are rejected with the best attempt (`below_threshold`, `unscored`, `malformed`), never silently lost.
With `few_shot: turns` the examples are earlier chat turns (the paragraph as a user message, its instruction
as the assistant's reply) instead of text inside one prompt: a 135M model copies an inline example's
instruction, but answers a conversation in the examples' form. With `curate: false` there is no curation
call and no threshold: pairs are kept for the verification steps that follow (a model too small to judge
gives scores that are noise; the recipe's judge step still records one per row).
With `candidates` (one round), each text also gets one instruction per extra prompt variant (its own
template and examples): rows `<id>:bt`, `<id>:bt2`, ... in that order, for a verification step to keep the
first that passes (`faithfulness` `keep_first_per: backtranslated_from`), as a small model's one greedy try
is often unusable where another prompt's is not. A variant can be limited to some sources (`only_sources`).
Not here: training the backward or the curating model (that is what the rounds approximate).
"""

from __future__ import annotations

from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dsforge.pipelines.core.generated import input_rows, new_row, reject_row, rejects_frame, rows_frame
from dsforge.pipelines.llm.config import BackendConfig, SamplingParams
from dsforge.pipelines.llm.parse import first_paragraph, parse_score
from dsforge.pipelines.llm.task import LLMConfig, LLMStage, Unusable, user
from dsforge.pipelines.core.readers import InputSpec, read_inputs
from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.core.row_text import text_of
from dsforge.pipelines.core.stage import StageContext, StageResult
from dsforge.pipelines.llm.task import ONLY_SOURCES_HELP, pass_through, split_by_sources


class PromptVariant(BaseModel):
    """Another way to ask for the instruction (its own template and few-shot examples)."""

    model_config = ConfigDict(extra="forbid")
    generate_template: str
    examples_path: str
    examples_mapping: str = "alpaca"
    num_examples: int = Field(2, ge=0)
    sampling: SamplingParams | None = Field(None, description="default: the stage's sampling")
    only_sources: list[str] | None = Field(None, description="ask this variant only for texts from these sources")


class BacktranslateConfig(LLMConfig):
    field: TextField = Field(ref("text"), description="where the human text is: text (documents), response, answer, ...")
    min_chars: int = Field(20, ge=0, description="texts shorter than this are rejected before any call")
    max_chars: int = Field(4000, ge=1, description="texts longer than this are rejected (too long for one answer)")
    threshold: int = Field(4, ge=1, le=5, description="keep pairs whose curation score is >= this (paper: 4 or 5)")
    rounds: int = Field(1, ge=1, description="augment+curate rounds; later rounds use curated pairs as examples")
    num_examples: int = Field(2, ge=0, description="few-shot examples shown in both prompts")
    examples_path: str = Field("data:seed_tasks.jsonl", description="seed (instruction, response) examples")
    examples_mapping: str = "seed-tasks"
    judge: BackendConfig | None = Field(None, description="curating model (default: the same as `model`)")
    judge_sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=0.0, max_tokens=256))
    few_shot: Literal["inline", "turns"] = Field("inline", description="examples inside one prompt, or as earlier "
                                                 "chat turns (template rendered per text; better for small models)")
    curate: bool = Field(True, description="score each pair with the curating model and keep those >= threshold; "
                         "false: keep every readable pair for later verification steps")
    reject_truncated: bool = Field(False, description="reject instructions cut off at max_tokens (a rambling reply)")
    generate_template: str = "backtranslate_generate_v1"
    curate_template: str = "backtranslate_curate_v1"
    source: str | None = Field(None, description="source name of new rows (default: the input row's source)")
    only_sources: list[str] | None = Field(None, description=ONLY_SOURCES_HELP)
    candidates: list[PromptVariant] = Field(default_factory=list, description="extra prompt variants: one more "
                                            "instruction per text each (rows <id>:bt2, ...); rounds must be 1")

    @model_validator(mode="after")
    def _candidates_need_one_round(self):
        if self.candidates and self.rounds != 1:
            raise ValueError("candidates need rounds: 1 (later rounds retry texts with curated examples)")
        return self


def _curation_score(text: str, pair: Any) -> int:
    score, _ = parse_score(text)
    if score is None:
        raise Unusable("unscored", "no 'Score: N' in the judge output")
    return int(round(score))


class BacktranslateInstructions(LLMStage[BacktranslateConfig]):
    """Generate the instruction a human text answers, then keep pairs the model itself scores >= threshold."""

    name = "backtranslate-instructions"
    mode = "rows"
    creates_rows = True
    Config = BacktranslateConfig
    # Row-wise with one round (each text's prompts need only the text and the seed examples), so slices go
    # to every model worker; later rounds show the curated pairs of earlier ones: the whole table.
    batch_size = 32

    def distributable(self) -> bool:
        return self.config.rounds == 1

    def combine_stats(self, merged: dict[str, Any], parts: list[dict[str, Any]]) -> dict[str, Any]:
        """Per-round figures summed over the slices."""
        rounds: dict[int, dict[str, int]] = {}
        for p in parts:
            for r in p.get("rounds") or []:
                acc = rounds.setdefault(r["round"], {"round": r["round"], "pairs": 0, "kept": 0})
                acc["pairs"] += r["pairs"]
                acc["kept"] += r["kept"]
        merged["rounds"] = [rounds[k] for k in sorted(rounds)]
        return merged

    def parse_output(self, text: str, row: dict[str, Any]) -> str:
        instruction = first_paragraph(text, ["Instruction:", "Question:"])
        if not instruction or len(instruction.split()) < 2:
            raise Unusable("malformed", "no instruction could be read from the output")
        return instruction

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        df, passed = split_by_sources(df, cfg.only_sources)
        if df.height == 0:  # nothing to back-translate: no model is loaded
            return StageResult(kept=passed, stats={"texts": 0, "kept": 0})
        rejected: list[dict[str, Any]] = []
        todo: list[dict[str, Any]] = []
        for r in input_rows(df):
            text = text_of(r, cfg.field).strip()
            if not (cfg.min_chars <= len(text) <= cfg.max_chars):
                rejected.append(reject_row(dict(r), self.name, "bad_length",
                                           f"{r['id']}: {cfg.field} has {len(text)} chars "
                                           f"(allowed {cfg.min_chars}-{cfg.max_chars})"))
                continue
            todo.append({**r, "_text": text})
        examples = self._seed_examples(ctx)
        kept: list[dict[str, Any]] = []
        best_attempt: dict[str, dict[str, Any]] = {}
        per_round = []
        for rnd in range(1, cfg.rounds + 1):
            if not todo:
                break
            shots = examples[: cfg.num_examples]
            variants = [(cfg.generate_template, shots, cfg.sampling, cfg.examples_path, None)] + (
                [(c.generate_template, self._seed_examples(ctx, c.examples_path, c.examples_mapping, c.num_examples),
                  c.sampling or cfg.sampling, c.examples_path, c.only_sources) for c in cfg.candidates]
                if rnd == 1 else [])
            pairs = []
            for v, (template, v_shots, params, examples_path, sources) in enumerate(variants):
                asked_rows = todo if sources is None else [r for r in todo if r["source"] in sources]
                if not asked_rows:
                    continue
                asked = self.ask(ctx, asked_rows, template=template, params=params, desc=f"round {rnd} instructions",
                                 format_input=lambda r, t, sh=v_shots: self._messages(t, sh, r["_text"]),
                                 truncated="reject" if cfg.reject_truncated else "keep")
                for r, answer in zip(asked_rows, asked):
                    o = answer.first
                    if not o.ok:
                        best_attempt.setdefault(r["id"], {"row": r, "reason": o.problem[0], "detail": o.problem[1],
                                                          "raw": o.raw, "score": -1})
                        continue
                    pairs.append((r, o.value, o.text, v, {**asked.lineage, "examples": examples_path}))
            order = {r["id"]: i for i, r in enumerate(todo)}
            pairs.sort(key=lambda p: order[p[0]["id"]])  # each text's candidates together, in variant order
            if cfg.curate:
                judged = self.ask(ctx, pairs, template=cfg.curate_template, params=cfg.judge_sampling,
                                  key="judge_backend", model=cfg.judge, desc=f"round {rnd} curation",
                                  format_input=lambda p, t: user(t.render(examples=[e for e in shots if "score" in e],
                                                                          instruction=p[1], response=p[0]["_text"])),
                                  parse_output=_curation_score)
                scored = [(p, a.first) for p, a in zip(pairs, judged)]
            else:
                scored = [(p, None) for p in pairs]
            kept_now: set[str] = set()
            for (r, instruction, raw, v, gen_info), o in scored:
                score = o.value if o is not None else None
                if o is None or (score is not None and score >= cfg.threshold):
                    kept_now.add(r["id"])
                    info = {**gen_info, "sources": [r["id"]], "round": rnd, "few_shot": cfg.few_shot}
                    if cfg.candidates:
                        info["candidate"] = v + 1
                    if o is not None:
                        info.update(judge={**judged.lineage, "score": score}, curate_template=judged.template.lineage())
                    else:
                        info["curation"] = "off"
                    kept.append(new_row(
                        id=f"{r['id']}:bt" + (f"{v + 1}" if v else ""), source=cfg.source or r["source"], kind="instruction",
                        stage=self.name, info=info, parent_lineage=r.get("lineage"),
                        metadata={"backtranslated_from": r["id"], "curation_score": score, "round": rnd,
                                  **({"candidate": v + 1} if cfg.candidates else {})},
                        instruction=instruction, input="", response=r["_text"],
                        score=float(score) if score is not None else None))
                    examples.insert(0, {"instruction": instruction, "response": r["_text"], "score": score or 0})
                    continue
                prev = best_attempt.get(r["id"], {"score": -1})
                if (score or 0) >= prev["score"]:
                    reason, detail = o.problem or ("below_threshold", f"curation score {score} < threshold {cfg.threshold}")
                    best_attempt[r["id"]] = {
                        "row": {**r, "instruction": instruction, "score": float(score) if score else None},
                        "reason": reason, "detail": f"round {rnd}: {detail}",
                        "raw": f"{raw}\n---judge---\n{o.raw}", "score": score or 0}
            # Texts not kept (unparsed, unscored or below threshold) are tried again next round.
            todo = [r for r in todo if r["id"] not in kept_now]
            examples.sort(key=lambda e: -e.get("score", 0))
            per_round.append({"round": rnd, "pairs": len(pairs), "kept": len(kept_now)})
        kept_ids = {k["id"].rsplit(":bt", 1)[0] for k in kept}
        for rid, a in best_attempt.items():
            if rid in kept_ids:
                continue
            row = {k: v for k, v in a["row"].items() if k != "_text"}
            rejected.append(reject_row(row, self.name, a["reason"], f"{rid}: {a['detail']}", a["raw"]))
        stats = {"texts": df.height, "kept": len(kept), "rounds": per_round,
                 "threshold": cfg.threshold if cfg.curate else None,
                 **self.take_usage()}
        result = StageResult(kept=rows_frame(kept), rejected=rejects_frame(rejected), stats=stats)
        return pass_through(self.account_sources(df, result), passed)

    def _messages(self, template, shots: list[dict[str, Any]], text: str) -> list[dict[str, str]]:
        """One user prompt holding the examples, or (few_shot: turns) one chat turn pair per example."""
        if self.config.few_shot == "inline":
            return user(template.render(examples=shots, text=text))
        turns: list[dict[str, str]] = []
        for e in shots:
            turns += [{"role": "user", "content": template.render(text=e["response"])},
                      {"role": "assistant", "content": e["instruction"]}]
        return turns + [{"role": "user", "content": template.render(text=text)}]

    def _seed_examples(self, ctx: StageContext, path: str | None = None, mapping: str | None = None,
                       num: int | None = None) -> list[dict[str, Any]]:
        cfg = self.config
        num = cfg.num_examples if num is None else num
        if num == 0:
            return []
        spec = InputSpec(path=path or cfg.examples_path, mapping=mapping or cfg.examples_mapping, limit=200)
        rows = read_inputs([spec], ctx.base_dir).kept
        rows = rows.filter(pl.col("response").str.len_chars().is_between(20, 600) & (pl.col("input").fill_null("") == ""))
        rows = rows.sample(n=min(num, rows.height), seed=ctx.seed)
        # Seed examples are shown as score-5 answers to the judge (the paper's seed data is gold).
        return [{"instruction": r["instruction"], "response": r["response"], "score": 5} for r in rows.iter_rows(named=True)]
