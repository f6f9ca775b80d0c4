"""ablate: does a step, a mix or more data make a better model? Train one small model per variant and compare.

    - {stage: ablate, variants: [ingest, quality-filter], budget_tokens: 20000, seeds: 2}   # at a recipe's end
    dsforge ablate runs/<run> --variants ladder --seeds 2                                   # on a finished run

Every variant (variants.py) is trained from the same model for the same token budget and seed with TRL
(train.py) and evaluated on the same held-out rows (eval loss on assistant tokens; optionally exact match
against the references). Results land in the run folder (`ablate/` for the command, the step folder for a
step): results.json, results.md, report.html and scaling.png for a ladder. A finished variant × seed is
cached under `ablate/cache/` by everything that decides it (rows, eval rows, model, budget, seed, settings),
so a re-run trains only what changed.

Not here: a served model's fine-tuning API (out of scope), evaluation harnesses beyond exact match.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines.core import shards
from dsforge.pipelines.stages.chat_template import ChatTemplate
from dsforge.pipelines.core.readers import InputSpec, read_input
from dsforge.pipelines.core.registry import stage_class
from dsforge.pipelines.core.run_info import RunInfo, run_of
from dsforge.pipelines.core.stage import ConfigError, Stage, StageConfig, StageContext, StageResult
from dsforge.validators.ablate import results as res
from dsforge.validators.ablate import train
from dsforge.validators.ablate.variants import Step, Variant, exclude_eval, held_out, last_step_with_rows, resolve, run_steps, step_rows

log = logging.getLogger("dsforge")
VERSION = "1"


class AblateConfig(StageConfig):
    variants: list[str] = Field([], description="STEP, ladder[:STEP], mix, without:SOURCE[@STEP], only:SOURCE[@STEP]; "
                                "default: a ladder's rungs, else the first and the last step")
    eval: str | None = Field(None, description="held-out rows with references (any input dsforge reads); default: "
                             "the last step's `split` test rows, else eval_rows rows drawn from the last step")
    eval_mapping: str | None = Field(None, description="mapping preset of the eval file (alpaca, messages, ...)")
    eval_rows: int = Field(200, ge=1, description="at most this many held-out rows")
    model: str = Field("smollm2", description="'smollm2' (embedded SmolLM2-135M) or a local model folder")
    template: str = Field("smollm2", description="chat template the rows are rendered with (as chat-format's)")
    budget_tokens: int = Field(20000, ge=16, description="tokens every variant trains on (same for all)")
    seeds: int = Field(1, ge=1, le=10, description="seeds per variant (2+ gives the spread and a noise verdict)")
    rows_per_step: int = Field(4, ge=1, description="sequences per optimiser step")
    max_length: int = Field(512, ge=16, description="tokens per sequence at most")
    learning_rate: float = Field(5e-5, gt=0)
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="auto: the GPU when there is one")
    metric: Literal["none", "exact_match"] = Field("none", description="also generate answers to the eval rows")
    seed: int | None = Field(None, description="first seed (default: the recipe seed)")


class Ablate(Stage[AblateConfig]):
    name = "ablate"
    mode = "table"
    Config = AblateConfig
    version = VERSION
    changes_rows = False
    holds_model = True
    needs_run_info = True

    def process_parts(self, paths: list[Path], ctx: StageContext) -> dict[str, Any]:
        run = run_of(ctx)
        if run is None or not run.steps:
            raise ConfigError("ablate: needs the steps of a run before it (use it inside a recipe, or `dsforge ablate RUN`)")
        run_dir = run.steps[0].dir.parent.parent
        steps = [Step(str(s.stats.get("step")), s.dir, s.stage, s.stats) for s in run.steps]
        return ablate(run_dir, steps, self.config, ctx.work_dir, seed=ctx.seed, base_dir=ctx.base_dir,
                      progress=ctx.progress)

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        raise ConfigError("ablate: runs inside a recipe after other steps, or as `dsforge ablate RUN_DIR`")

    def on_run_dir(self, run_dir: Path, progress: bool | None = None) -> dict[str, Any]:
        """`dsforge ablate RUN_DIR`: every finished step of the run is a candidate; results in RUN_DIR/ablate/."""
        run_dir = Path(run_dir)
        if not (run_dir / "stages").is_dir():
            raise ConfigError(f"{run_dir} is not a run folder (no stages/); give runs/<run> as `dsforge run` printed it")
        steps = [s for s in run_steps(run_dir) if s.stage != "ablate"]
        recipe_seed = int(RunInfo.of_run_dir(run_dir).recipe.get("seed") or 0)
        return ablate(run_dir, steps, self.config, run_dir / "ablate", seed=recipe_seed, base_dir=Path.cwd(),
                      progress=progress)


def _creates_rows(steps: list[Step]) -> set[str]:
    out = set()
    for s in steps:
        try:
            if stage_class(s.stage).creates_rows:
                out.add(s.stage)
        except ConfigError:
            continue
    return out


def _eval_rows(cfg: AblateConfig, steps: list[Step], base_dir: Path, seed: int) -> tuple[pl.DataFrame, str]:
    if cfg.eval:
        spec = InputSpec(path=cfg.eval, **({"mapping": cfg.eval_mapping} if cfg.eval_mapping else {}))
        df = read_input(spec, base_dir=base_dir, progress=False).kept
        return (held_out(df, cfg.eval_rows, seed) if len(df) > cfg.eval_rows else df), f"file {Path(cfg.eval).name}"
    last = last_step_with_rows(steps)
    df = step_rows(last)
    if "split" in df.columns and df["split"].is_in(["test"]).any():
        test = df.filter(pl.col("split") == "test")
        return (held_out(test, cfg.eval_rows, seed) if len(test) > cfg.eval_rows else test), f"{last.name} test split"
    return held_out(df, min(cfg.eval_rows, max(1, len(df) // 5)), seed), f"drawn from {last.name}, never trained on"


def _hash_rows(df: pl.DataFrame) -> str:
    cols = [c for c in ("id", "instruction", "input", "response", "messages", "chosen_response", "input_ids")
            if c in df.columns]
    h = hashlib.sha256()
    for row in df.select(cols).iter_rows():
        h.update(json.dumps(row, default=str, ensure_ascii=False).encode())
    return h.hexdigest()


def _model_identity(folder: Path) -> str:
    files = [folder / "config.json", *sorted(folder.glob("*.safetensors"))[:1]]
    h = hashlib.sha256()
    for f in files:
        if f.exists():
            h.update(f.name.encode() + str(f.stat().st_size).encode() + f.read_bytes()[:1 << 20])
    return h.hexdigest()[:16]


def ablate(run_dir: Path, steps: list[Step], cfg: AblateConfig, out_dir: Path, seed: int, base_dir: Path,
           progress: bool | None) -> dict[str, Any]:
    """Train and evaluate every variant × seed (reusing cached ones); write the table, page and curve."""
    from tqdm.auto import tqdm

    variants = resolve(cfg.variants, steps, _creates_rows(steps))
    eval_df, eval_source = _eval_rows(cfg, steps, base_dir, cfg.seed if cfg.seed is not None else seed)
    variants = exclude_eval(variants, eval_df)
    model_dir = train.model_folder(cfg.model)
    template = ChatTemplate(cfg.template)
    settings = train.TrainSettings(cfg.budget_tokens, cfg.rows_per_step, cfg.max_length, cfg.learning_rate, cfg.device)
    eval_enc = train.encode(eval_df, template, cfg.max_length)
    if not eval_enc.input_ids:
        raise ConfigError("ablate: no held-out row could be rendered with the chat template (need conversations)")
    first_seed = cfg.seed if cfg.seed is not None else seed
    common = {"v": VERSION, "eval": _hash_rows(eval_df), "model": _model_identity(model_dir), "template": cfg.template,
              "settings": settings.__dict__, "metric": cfg.metric}
    cache = run_dir / "ablate" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    jobs = [(v, first_seed + k) for v in variants for k in range(cfg.seeds)]
    per_seed: list[dict[str, Any]] = []
    reused = 0
    bar = tqdm(jobs, desc="ablate", unit="model", disable=progress is False or (progress is None and not sys.stderr.isatty()))
    for v, s in bar:
        bar.set_postfix_str(f"{v.name} seed {s}")
        key = hashlib.sha256(json.dumps({**common, "rows": _hash_rows(v.rows), "seed": s}, sort_keys=True,
                                        default=str).encode()).hexdigest()[:24]
        hit = cache / f"{key}.json"
        if hit.exists():
            per_seed.append({**json.loads(hit.read_text()), "variant": v.name, "group": v.group})
            reused += 1
            continue
        per_seed.append(_train_one(v, s, template, settings, model_dir, eval_enc, eval_df, cfg, out_dir))
        shards.atomic_write_json(hit, {k: x for k, x in per_seed[-1].items() if k not in ("variant", "group")})
    rows = res.summarise(per_seed)
    comparisons = res.compare(rows)
    curve = res.scaling(rows)
    meta = {"model": cfg.model, "budget_tokens": cfg.budget_tokens, "eval_rows": len(eval_enc.input_ids),
            "eval_source": eval_source, "seeds": cfg.seeds, "eval_ids": eval_df["id"].to_list()}
    return _write(out_dir, rows, comparisons, curve, meta, per_seed, reused, run_dir)


def _train_one(v: Variant, seed: int, template: ChatTemplate, settings: train.TrainSettings, model_dir: Path,
               eval_enc: train.Encoded, eval_df: pl.DataFrame, cfg: AblateConfig, out_dir: Path) -> dict[str, Any]:
    if v.rows.is_empty():
        raise ConfigError(f"ablate: variant {v.name!r} has no rows to train on")
    started = time.perf_counter()
    enc = train.encode(v.rows, template, settings.max_length)
    stream = train.budget_stream(enc, settings.budget_tokens, seed)
    model, figures = train.train_variant(model_dir, stream, settings, seed, out_dir / "tmp")
    loss = train.eval_loss(model, eval_enc, settings.device)
    metric = train.exact_match(model, model_dir, template, eval_df, settings.device) if cfg.metric == "exact_match" else None
    log.info("ablate: %s seed %d: eval loss %.4f", v.name, seed, loss)
    return {"variant": v.name, "group": v.group, "seed": seed, "rows": v.rows.height - enc.skipped,
            "tokens": sum(len(x) for x in stream.input_ids), "trained_tokens": stream.trained_tokens,
            "eval_loss": loss, "metric": metric, "seconds": round(time.perf_counter() - started, 2), **figures}


def _write(out_dir: Path, rows, comparisons, curve, meta, per_seed, reused: int, run_dir: Path) -> dict[str, Any]:
    out_dir.mkdir(parents=True, exist_ok=True)
    md = res.markdown(rows, comparisons, curve, meta)
    png = res.plot_png(curve) if curve and curve["fit"] else None
    if png:
        (out_dir / "scaling.png").write_bytes(png)
    (out_dir / "results.md").write_text(md)
    (out_dir / "report.html").write_text(res.html_page(md, png, f"ablation: {run_dir.name}"))
    figures = {"variants": rows, "comparisons": comparisons, "scaling": curve, **meta, "reused": reused,
               "trained": len(per_seed) - reused, "per_seed": per_seed, "results_md": md}
    shards.atomic_write_json(out_dir / "results.json", figures)
    return figures
