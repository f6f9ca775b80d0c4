"""self-instruct: grow an instruction set from seed tasks, as Self-Instruct (Wang et al. 2022) and Alpaca do.

Each prompt shows k seed tasks (plus, optionally, a few already generated ones, as Self-Instruct's 6 human +
2 machine) and asks for more in the same numbered "Instruction / Input / Output" format. Candidates then
pass Alpaca's filters in order: not truncated, 4-150 words, no blacklisted words (image, file, draw, ...),
not "Write a program", starts with an ASCII letter or digit, a non-empty output that is not the input
copied, and finally ROUGE-L < 0.7 against every seed and every instruction kept so far. Stats report, per
rule, how many candidates it saw and kept, so you can tell which rule shapes the set.

Input rows are the seeds (ingest `data:seed_tasks.jsonl` with mapping `seed-tasks`, or your own); they pass
through to the output when `keep_seeds` is true. Not here: Self-Instruct's classification-task
identification and output-first generation (use `respond: separate` for a second pass that answers each
kept instruction).
"""

from __future__ import annotations

import random
import re
import string
from typing import Any, Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines.core import records
from dsforge.pipelines.core.generated import input_rows, new_row, reject_row, rejects_frame, rows_frame
from dsforge.pipelines.llm.config import SamplingParams
from dsforge.pipelines.llm.task import LLMConfig, LLMStage, Messages, PromptTemplate, Unusable, user
from dsforge.pipelines.core.stage import StageContext, StageResult
from dsforge.synth.respond import answer_instructions
from dsforge.synth.similarity import RougeL

BLACKLIST = ("image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map", "maps", "draw",
             "plot", "go to", "video", "audio", "music", "flowchart", "diagram")
RULES = ("parsed", "not_truncated", "length", "blacklist", "not_program", "starts_with_letter", "has_output",
         "output_not_input", "rouge")
_LABEL = re.compile(r"\d+\s*\.\s*(Instruction|Input|Output)\s*:", re.I)


class SelfInstructConfig(LLMConfig):
    # Defaults fit the embedded SmolLM2-135M on a laptop CPU: a short prompt (self_instruct_short_v1), two new
    # tasks asked per prompt, 192 tokens per completion, 16 prompts per round (one batched call). For a large
    # model, Alpaca's settings: template self_instruct_v1, tasks_per_prompt 17, max_tokens 3072, temperature 1.
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(temperature=0.7, max_tokens=192),
                                     description="temperature, max_tokens, n, seed, ... (one task is ~60 tokens)")
    num_instructions: int = Field(20, ge=1, description="stop once this many new instructions are kept")
    seeds_per_prompt: int = Field(3, ge=1, description="k seed tasks shown in each prompt (Alpaca: 3)")
    machine_per_prompt: int = Field(0, ge=0, description="generated tasks also shown (Self-Instruct: 2 of 8)")
    tasks_per_prompt: int = Field(2, ge=1, description="tasks asked for per prompt (Alpaca: 20)")
    prompts_per_round: int = Field(16, ge=1, description="prompts sent to the backend in one call")
    max_prompts: int = Field(40, ge=1, description="hard bound on prompts sent, whatever is kept")
    rouge_threshold: float = Field(0.7, gt=0, le=1, description="keep only if ROUGE-L < this vs every kept one")
    min_words: int = Field(4, ge=1)
    max_words: int = Field(150, ge=1)
    blacklist: list[str] = Field(default_factory=lambda: list(BLACKLIST))
    respond: Literal["inline", "separate"] = Field(
        "separate", description="separate: answer each kept instruction in a second call (SmolLM2-135M writes "
        "the task and stops, so inline Outputs are mostly empty); inline: take the Output the model wrote")
    keep_seeds: bool = Field(True, description="pass the seed rows through to the output")
    template: str = Field("self_instruct_short_v1", description="self_instruct_v1: Alpaca's full prompt")
    respond_template: str = "respond_v1"
    source: str = "self-instruct"


class SelfInstruct(LLMStage[SelfInstructConfig]):
    """Generate new instructions from seed tasks with Alpaca's filters and a ROUGE-L < 0.7 novelty rule."""

    name = "self-instruct"
    mode = "table"
    creates_rows = True
    Config = SelfInstructConfig

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        seeds = [r for r in input_rows(df) if (r.get("instruction") or "").strip()]
        if not seeds:
            raise ValueError("self-instruct: the input has no rows with an instruction to use as seeds; ingest "
                             "data:seed_tasks.jsonl with mapping seed-tasks (or your own instruction rows)")
        rng = random.Random(ctx.seed)
        pool = RougeL(s["instruction"] for s in seeds)
        funnel = {r: {"seen": 0, "kept": 0} for r in RULES}
        kept: list[dict[str, Any]] = []
        rejected: list[dict[str, Any]] = []
        sent = 0
        while len(kept) < cfg.num_instructions and sent < cfg.max_prompts:
            batch = self._round_size(cfg, sent, len(kept))
            shown = []
            for _ in range(batch):
                examples = rng.sample(seeds, min(cfg.seeds_per_prompt, len(seeds)))
                if cfg.machine_per_prompt and kept:
                    examples += rng.sample(kept, min(cfg.machine_per_prompt, len(kept)))
                shown.append(examples)
            asked = self.ask(ctx, shown, template=cfg.template)
            info = asked.lineage
            for p_i, (examples, answer) in enumerate(zip(shown, asked)):
                prompt_no = sent + p_i
                for g_i, out in enumerate(answer.outputs):
                    g = out.generation
                    where = f"prompt {prompt_no} completion {g_i}"
                    base = {"id": f"{cfg.source}:p{prompt_no}.{g_i}", "source": cfg.source, "kind": "instruction"}
                    if not out.ok:
                        funnel["parsed"]["seen"] += int(out.problem[0] == "malformed")
                        rejected.append(self.reject_output(base, out, where))
                        continue
                    tasks = out.value
                    for t_i, (task, raw) in enumerate(tasks):
                        last = t_i == len(tasks) - 1
                        row = {**base, "id": f"{base['id']}.{t_i}", **task}
                        problem = self._check(task, cfg, funnel, truncated=last and g.finish_reason == "length")
                        if problem is None:
                            score, nearest = pool.most_similar(task["instruction"])
                            funnel["rouge"]["seen"] += 1
                            if score >= cfg.rouge_threshold:
                                problem = ("too_similar", f"ROUGE-L {score:.2f} >= {cfg.rouge_threshold} "
                                                          f"with {nearest!r}")
                            else:
                                funnel["rouge"]["kept"] += 1
                        if problem:
                            rejected.append(reject_row(row, self.name, problem[0], f"{where}: {problem[1]}", raw))
                            continue
                        pool.add(task["instruction"])
                        row_info = {**info, "sources": [e["id"] for e in examples], "rouge_l_max": round(score, 4),
                                    "finish_reason": g.finish_reason, "prompt": prompt_no}
                        kept.append(new_row(id=row["id"], source=cfg.source, kind="instruction", stage=self.name,
                                            info=row_info, instruction=task["instruction"],
                                            input=task.get("input") or "", response=task.get("response")))
                        if len(kept) >= cfg.num_instructions:
                            break
                    if len(kept) >= cfg.num_instructions:
                        break
                if len(kept) >= cfg.num_instructions:
                    break
            sent += batch
        if cfg.respond == "separate" and kept:
            kept = answer_instructions(self, ctx, kept, rejected, cfg.respond_template)
        stats = {"prompts_sent": sent, "generated_kept": len(kept), "funnel": funnel,
                 "seeds": len(seeds), "target": cfg.num_instructions}
        if len(kept) < cfg.num_instructions:
            stats["short_of_target"] = cfg.num_instructions - len(kept)
        out = rows_frame(kept)
        if cfg.keep_seeds:
            out = records.concat([df, out])
        return self.account_sources(df, StageResult(kept=out, rejected=rejects_frame(rejected),
                                                    stats={**stats, **self.take_usage()}))

    @staticmethod
    def _round_size(cfg: SelfInstructConfig, sent: int, kept: int) -> int:
        """prompts_per_round at first; then enough for what is missing at the yield seen so far (x1.5)."""
        size = cfg.prompts_per_round
        if sent and kept:
            size = min(size, -(-3 * (cfg.num_instructions - kept) * sent // (2 * kept)))
        return max(1, min(size, cfg.max_prompts - sent))

    def _check(self, task: dict[str, str], cfg: SelfInstructConfig, funnel: dict, truncated: bool):
        """Alpaca's filters in order; returns (reason, detail) for the first that fails, or None."""
        inst = task["instruction"]
        words = inst.split()
        low = inst.lower()
        checks = [
            ("parsed", True, ("malformed", "")),
            ("not_truncated", not truncated, ("truncated", "the completion hit max_tokens inside this task")),
            ("length", cfg.min_words <= len(words) <= cfg.max_words,
             ("too_short" if len(words) < cfg.min_words else "too_long",
              f"instruction has {len(words)} words (allowed {cfg.min_words}-{cfg.max_words})")),
            ("blacklist", not (hit := next((w for w in cfg.blacklist if re.search(rf"\b{re.escape(w)}\b", low)), None)),
             ("blacklisted_word", f"instruction mentions {hit!r}, which a text model cannot do")),
            ("not_program", not low.startswith("write a program"), ("write_a_program", "starts with 'Write a program'")),
            ("starts_with_letter", bool(inst) and inst[0] not in string.punctuation and inst[0].isascii(),
             ("bad_start", f"instruction starts with {inst[:1]!r}")),
            ("has_output", cfg.respond == "separate" or bool((task.get("response") or "").strip()),
             ("empty_output", "the task has no Output")),
            ("output_not_input", cfg.respond == "separate" or not task.get("input")
             or task["input"].strip() != (task.get("response") or "").strip(),
             ("output_is_input", "the Output repeats the Input")),
        ]
        for rule, ok, problem in checks:
            funnel[rule]["seen"] += 1
            if not ok:
                return problem
            funnel[rule]["kept"] += 1
        return None

    def format_input(self, examples: list[dict[str, Any]], template: PromptTemplate) -> Messages:
        return user(template.render(
            examples=[{"instruction": e["instruction"], "input": e.get("input") or "",
                       "response": e.get("response") or ""} for e in examples],
            num_tasks=len(examples) + self.config.tasks_per_prompt))

    def parse_output(self, text: str, examples: list[dict[str, Any]]) -> list[tuple[dict[str, str], str]]:
        tasks = parse_tasks(text, len(examples) + 1)
        if not tasks:
            raise Unusable("malformed", "no 'N. Instruction:' task could be parsed")
        return tasks


def parse_tasks(text: str, first_number: int) -> list[tuple[dict[str, str], str]]:
    """Split an Alpaca-format completion into ({instruction, input, response}, raw block) tuples.

    The prompt ends with "N. Instruction:", so a completion usually starts mid-task; numbering mistakes by the
    model are tolerated (labels are matched by name, not by number)."""
    text = text or ""
    if not re.match(r"\s*(\d+\s*\.\s*)?Instruction\s*:", text, re.I):
        text = f"{first_number}. Instruction: {text}"
    out = []
    for block in re.split(r"^\s*###\s*$|###", text, flags=re.M):
        if not block.strip():
            continue
        parts = _LABEL.split(block)
        fields: dict[str, str] = {}
        # parts = [before, label, value, label, value, ...]
        for label, value in zip(parts[1::2], parts[2::2]):
            key = {"instruction": "instruction", "input": "input", "output": "response"}[label.lower()]
            fields.setdefault(key, value.strip())
        inst = fields.get("instruction", "").strip()
        if not inst:
            continue
        inp = fields.get("input", "")
        if inp.strip().lower() in ("<noinput>", "<no input>", "noinput", "none", "n/a"):
            inp = ""
        out.append(({"instruction": inst, "input": inp, "response": fields.get("response", "")}, block.strip()))
    return out
