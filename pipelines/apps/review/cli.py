"""`dsforge review RUN_DIR`: the arguments, the guideline lookup and the server start (pipelines/apps/cli.py wires it in).

The page listens on 127.0.0.1 only, on a free port unless --port is given; the URL is printed and
opened in the default browser unless --no-browser. Heavy imports wait until the command runs.
"""

from __future__ import annotations

import argparse
import socket
import sys
from pathlib import Path

import yaml

DEFAULT_GUIDELINE = ""  # empty: the page shows the default guideline of each row's layout (static/guidelines.json)


def add_review_arguments(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (runs/<recipe>-<time>)")
    sp.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    sp.add_argument("--no-browser", action="store_true", help="print the URL without opening a browser")
    sp.add_argument("--guideline", metavar="FILE",
                    help="annotation guideline shown beside each row (default: the recipe's `guideline:`, "
                         "else RUN_DIR/guideline.md, else a generic one)")
    sp.add_argument("--labels", metavar="FILE", help="labels Parquet file (default: RUN_DIR/labels.parquet)")


def find_guideline(run_dir: Path, given: str | None = None) -> tuple[str, str]:
    """(text, where it came from): --guideline FILE, the recipe's `guideline:` (text or a file next to
    the recipe), RUN_DIR/guideline.md, or the default."""
    if given:
        p = Path(given).expanduser()
        if not p.is_file():
            raise SystemExit(f"error: --guideline {given}: no such file")
        return p.read_text(encoding="utf-8"), str(p)
    for recipe_file in _recipe_files(run_dir):
        try:
            value = (yaml.safe_load(recipe_file.read_text(encoding="utf-8")) or {}).get("guideline")
        except (OSError, yaml.YAMLError, AttributeError):
            continue
        if isinstance(value, str) and value.strip():
            p = (recipe_file.parent / value.strip()).expanduser()
            if "\n" not in value.strip() and len(value) < 4096 and p.is_file():
                return p.read_text(encoding="utf-8"), str(p)
            return value.strip(), f"{recipe_file} (guideline:)"
    if (run_dir / "guideline.md").is_file():
        return (run_dir / "guideline.md").read_text(encoding="utf-8"), str(run_dir / "guideline.md")
    return DEFAULT_GUIDELINE, "default, per layout (static/guidelines.json)"


def _recipe_files(run_dir: Path) -> list[Path]:
    """The recipe the run was made from (its own file first: the run's recipe.yaml is a resolved copy)."""
    out = []
    copy = run_dir / "recipe.yaml"
    if copy.is_file():
        try:
            src = (yaml.safe_load(copy.read_text(encoding="utf-8")) or {}).get("source_file")
        except (OSError, yaml.YAMLError, AttributeError):
            src = None
        if src and Path(src).is_file():
            out.append(Path(src))
        out.append(copy)
    return out


def bind_socket(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (port 0: the OS picks a free one; no race between choosing and binding)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError as e:
        sock.close()
        raise SystemExit(f"error: --port {port}: cannot listen on 127.0.0.1:{port} ({e.strerror}); "
                         "pick another port or leave --port out for a free one") from None
    sock.listen(128)
    return sock


def run_review_command(args: argparse.Namespace) -> int:
    import uvicorn

    from dsforge.pipelines.apps.review.run_data import ReviewError
    from dsforge.pipelines.apps.review.server import create_app

    run_dir = Path(args.run_dir).expanduser().resolve()
    text, where = find_guideline(run_dir, args.guideline)
    sock = bind_socket(args.port)
    try:  # the app answers only the Host it listens on (127.0.0.1:PORT, localhost:PORT)
        app = create_app(run_dir, guideline=text, labels_file=args.labels, port=sock.getsockname()[1])
    except ReviewError as e:
        sock.close()
        print(f"error: {e}", file=sys.stderr)
        return 2
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/"
    print(f"review: {url}  (run {run_dir}; labels -> {Path(args.labels) if args.labels else run_dir / 'labels.parquet'}; "
          f"guideline: {where})\nCtrl-C stops it.", flush=True)
    if not args.no_browser:
        import webbrowser

        webbrowser.open(url)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    print("review stopped; labels are in the labels file", file=sys.stderr)
    return 0
