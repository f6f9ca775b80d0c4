"""Prompt files: every prompt a stage sends comes from a versioned Jinja file, and its id and sha256 go to lineage.

Shipped prompts live in prompts/ beside this module, one file per version (`pairwise_judge_v2.jinja` is a
new version, never an edit of v1); a stage may ship its own in a prompts/ folder beside its module (a
plugin package's data: `LLMStage.prompt_dirs`), found first by id; a recipe may name a shipped id or its
own .jinja/.txt file. Rendering uses StrictUndefined: a variable the caller did not pass is an error
naming it, never an empty string.

    t = load_template("respond_v1")
    t.render(instruction="Name a colour.", input=""), t.lineage()   # {"id": "respond_v1", "sha256": "..."}

Not here: which variables each prompt takes (docs/synthesis.md lists them) or sending it (task.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from dsforge.pipelines.core.stage import ConfigError

PROMPTS_DIR = Path(__file__).parent / "prompts"


@dataclass(frozen=True)
class PromptTemplate:
    """A Jinja prompt file. `id` is the file stem for shipped templates, the path for user files."""

    id: str
    text: str

    @property
    def sha(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:12]

    def render(self, **values: Any) -> str:
        import jinja2

        try:
            return _compile(self.text).render(**values).strip()
        except jinja2.UndefinedError as e:
            raise ConfigError(f"prompt template {self.id}: {e} (variables given: {', '.join(sorted(values))})") from e

    def lineage(self) -> dict[str, str]:
        return {"id": self.id, "sha256": self.sha}


@lru_cache(maxsize=128)
def _compile(text: str):
    import jinja2

    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=False, autoescape=False)
    return env.from_string(text)


def shipped_templates() -> dict[str, Path]:
    return {p.stem: p for p in sorted(PROMPTS_DIR.glob("*.jinja"))}


def load_template(spec: str, base_dir: Path | None = None, own: tuple[Path, ...] = ()) -> PromptTemplate:
    """A template by id from the stage's `own` prompt folders (e.g. a plugin's package data), else shipped
    (e.g. "self_instruct_v1"), else a user's .jinja/.txt file (relative paths from `base_dir`)."""
    for found in (folder / f"{spec}{suffix}" for folder in own for suffix in (".jinja", ".txt")):
        if "/" not in spec and found.is_file():
            return PromptTemplate(spec, found.read_text(encoding="utf-8"))
    shipped = shipped_templates()
    if spec in shipped:
        return PromptTemplate(spec, shipped[spec].read_text(encoding="utf-8"))
    path = Path(spec).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.is_file():
        return PromptTemplate(str(spec), path.read_text(encoding="utf-8"))
    raise ConfigError(
        f"prompt template {spec!r} not found: give a shipped id ({', '.join(shipped)}) or a .jinja file path"
    )
