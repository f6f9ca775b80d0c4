"""Training layouts: which columns of the records table a trainer gets, under the names it expects.

    sft         messages (or text)                                  TRL SFTTrainer, axolotl chat_template,
                                                                    LLaMA-Factory sharegpt
    dpo / orpo  prompt, chosen, rejected (+ chosen_turn,            TRL DPOTrainer (conversational or
                rejected_turn: the reply as one message dict)       standard preference), axolotl
                                                                    chat_template.default, LLaMA-Factory ranking
    reward      prompt, chosen, rejected (pairs); scored rows as    TRL RewardTrainer (pairs)
                messages (or text) + score
    completion  prompt, completion                                  TRL SFTTrainer (prompt-completion)
    kto         prompt, completion, label (bool)                    TRL KTOTrainer, LLaMA-Factory kto_tag
    records     every column with data                              (no trainer: the raw records)
    reward-strings  system, input, chosen, rejected (plain strings:     axolotl bradley_terry.chat_template
                the system turn, the last user turn, the two replies)   (written beside a reward export)

This is the one place record columns get trainer names: chat-format's `rendered_text` is published as
`text`, a pair's chosen_response/rejected_response (or their rendered forms) as TRL's `chosen`/`rejected`.
Message lists are preferred; `prefer: text` takes the rendered strings (`rendered_text`, `*_text`); a table
chat-format never saw gives sft its raw `text` column. KTO rows come from pairs (one desirable and one
undesirable row per pair) and from scored rows (`label = score >= kto_threshold`), so a kto export has more
rows than the table it came from.

Not here: writing files (dataset_writer.py), rendering (chat_format.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from dsforge.pipelines.core.stage import ConfigError

LAYOUTS = ("sft", "dpo", "orpo", "reward", "completion", "kto", "records", "reward-strings")
# layout -> slots; each slot lists (output name, source column) choices, message lists first
SLOTS: dict[str, list[list[tuple[str, str]]]] = {
    "sft": [[("messages", "messages"), ("text", "rendered_text"), ("text", "text")]],
    "dpo": [[("prompt", "prompt_messages"), ("prompt", "prompt_text")],
            [("chosen", "chosen_messages"), ("chosen", "chosen_text"), ("chosen", "chosen_response")],
            [("rejected", "rejected_messages"), ("rejected", "rejected_text"), ("rejected", "rejected_response")]],
    "completion": [[("prompt", "prompt_messages"), ("prompt", "prompt_text")],
                   [("completion", "completion_messages"), ("completion", "completion_text")]],
}
EXTRA = ("input_ids", "assistant_masks", "n_tokens", "score", "score_chosen", "score_rejected", "tools", "messages_json")


@dataclass
class ExportPlan:
    """What to select from each chunk of the records table (the same for every shard)."""
    layout: str
    exprs: list[pl.Expr]
    kto_pairs: list[pl.Expr] = field(default_factory=list)   # kto: (prompt, chosen, rejected) of pair rows
    kto_threshold: float | None = None


def detect_layout(found: list[str]) -> str:
    """The layout chat-format wrote (`layout` column), or records when there is none or several."""
    if len(found) == 1:
        return found[0]
    return "records"


def plan_export(columns_with_data: set[str], all_columns: list[str], layout: str, *, found_layouts: list[str],
                prefer: str = "messages", keep: tuple[str, ...] | list[str] = ("id", "source"),
                columns: dict[str, str] | None = None, kto_threshold: float | None = None) -> ExportPlan:
    """Decide the exported columns from which columns hold data anywhere in the table."""
    def has(c: str) -> bool:
        return c in columns_with_data

    if columns:
        missing = [c for c in columns.values() if c not in all_columns]
        if missing:
            raise ConfigError(f"columns {missing} are not in the table (have {', '.join(all_columns)})")
        return ExportPlan("custom", [pl.col(src).alias(dst) for dst, src in columns.items()])
    if layout == "auto":
        layout = detect_layout(found_layouts)
    if layout not in LAYOUTS:
        raise ConfigError(f"unknown layout {layout!r}; use one of {', '.join(LAYOUTS)}")
    if layout == "records":
        return ExportPlan("records", [pl.col(c) for c in all_columns if has(c)])

    def pick(slot: list[tuple[str, str]]) -> tuple[str, str] | None:
        if prefer == "text":
            slot = [x for x in slot if not x[1].endswith("messages")] + [x for x in slot if x[1].endswith("messages")]
        return next(((dst, src) for dst, src in slot if has(src)), None)

    def need(slot: list[tuple[str, str]]) -> tuple[str, str]:
        got = pick(slot)
        if got is None:
            raise ConfigError(f"layout {layout!r} needs a {slot[0][0]!r} column ({' or '.join(s for _, s in slot)}); "
                              f"run chat-format with layout: {layout} first, or set layout: records")
        return got

    exprs: list[pl.Expr] = []
    used: set[str] = set()
    if layout == "reward-strings":
        return _plan_reward_strings(has, keep)
    if layout == "kto":
        return _plan_kto(has, pick, need, keep, kto_threshold)
    base = "dpo" if layout in ("orpo", "reward") else layout
    for slot in SLOTS[base]:
        got = pick(slot) if layout == "reward" else need(slot)
        if got:
            exprs.append(pl.col(got[1]).alias(got[0]))
            used.add(got[1])
    if base == "dpo":
        for side in ("chosen", "rejected"):  # LLaMA-Factory's ranking format wants the reply as one message dict
            if f"{side}_messages" in used:
                exprs.append(pl.col(f"{side}_messages").list.last().alias(f"{side}_turn"))
    if layout == "reward" and has("score"):
        col = "messages" if prefer == "messages" and has("messages") else "rendered_text"
        if has(col):
            exprs.append(pl.col(col).alias("text" if col == "rendered_text" else col))
            used.add(col)
    names = {e.meta.output_name() for e in exprs}
    exprs += [pl.col(c) for c in (*keep, *EXTRA) if has(c) and c not in used and c not in names]
    return ExportPlan(layout, exprs)


def _plan_reward_strings(has, keep) -> ExportPlan:
    if not all(has(c) for c in ("prompt_messages", "chosen_messages", "rejected_messages")):
        raise ConfigError("layout reward-strings needs pairs rendered by chat-format (prompt/chosen/rejected_messages)")
    first, last = pl.col("prompt_messages").list.first(), pl.col("prompt_messages").list.last()
    system = pl.when(first.struct.field("role") == "system").then(first.struct.field("content")).otherwise(pl.lit(""))
    return ExportPlan("reward-strings", [
        system.alias("system"), last.struct.field("content").alias("input"),
        pl.col("chosen_messages").list.last().struct.field("content").alias("chosen"),
        pl.col("rejected_messages").list.last().struct.field("content").alias("rejected"),
        *[pl.col(c) for c in keep if has(c)]])


def _plan_kto(has, pick, need, keep, threshold) -> ExportPlan:
    prompt = need(SLOTS["dpo"][0])
    chosen, rejected = pick(SLOTS["dpo"][1][:2]), pick(SLOTS["dpo"][2][:2])
    completion = pick(SLOTS["completion"][1])
    if completion and threshold is None and not has("label"):
        raise ConfigError("layout kto with scored rows needs `kto_threshold` (label = score >= threshold) "
                          "or a boolean `label` column")
    if not (completion or (chosen and rejected)):
        raise ConfigError("layout kto needs pairs (chosen/rejected) or scored completions; run chat-format with "
                          "layout: kto first")
    extra = [pl.col(c) for c in keep if has(c)]
    exprs = [pl.col(prompt[1]).alias("prompt")]
    if completion:
        label = pl.col("label").cast(pl.Boolean) if has("label") else pl.col("score") >= threshold
        exprs += [pl.col(completion[1]).alias("completion"), label.alias("label"), *extra]
    pairs = []
    if chosen and rejected:
        pairs = [pl.col(prompt[1]).alias("prompt"), pl.col(chosen[1]).alias("chosen"),
                 pl.col(rejected[1]).alias("rejected"), *extra]
    return ExportPlan("kto", exprs if completion else [], kto_pairs=pairs, kto_threshold=threshold)


def apply_plan(frame: pl.DataFrame, plan: ExportPlan) -> pl.DataFrame:
    """One chunk of the records table in the plan's layout (KTO pairs become two rows each)."""
    if plan.layout == "reward-strings":
        return frame.filter(pl.col("chosen_messages").is_not_null()).select(plan.exprs)
    if plan.layout != "kto":
        return frame.select(plan.exprs)
    parts = []
    if plan.exprs:
        singles = frame.filter(pl.col(plan.exprs[1].meta.root_names()[0]).is_not_null()) if frame.height else frame
        parts.append(singles.select(plan.exprs))
    if plan.kto_pairs:
        src = plan.kto_pairs[1].meta.root_names()[0]
        pairs = frame.filter(pl.col(src).is_not_null()).select(plan.kto_pairs)
        rest = [c for c in pairs.columns if c not in ("prompt", "chosen", "rejected")]
        for side, label in (("chosen", True), ("rejected", False)):
            parts.append(pairs.select("prompt", pl.col(side).alias("completion"), pl.lit(label).alias("label"), *rest))
    return pl.concat(parts, how="diagonal_relaxed") if len(parts) > 1 else parts[0]
