"""Shell completion scripts (bash, zsh, fish) built from the CLI's own parser, with the shipped recipe names
and the registered stage names baked in: `dsforge run <TAB>` offers recipes (and YAML files), `dsforge stage
<TAB>` / `dsforge stages <TAB>` offer stages, `--param <TAB>` after a stage offers its parameters.

Not here: the parser itself (cli.py).
"""

from __future__ import annotations

import argparse


def _words() -> tuple[list[str], list[str]]:
    from dsforge.pipelines.core.recipe import shipped_recipes
    from dsforge.pipelines.core.registry import STAGES

    return sorted(shipped_recipes()), sorted(STAGES)


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def _positional(sp: argparse.ArgumentParser) -> str | None:
    """What a command's first positional argument is: `recipe`, `stage` or None."""
    for a in sp._actions:
        if not a.option_strings and a.dest == "recipe":
            return "recipe"
        if not a.option_strings and a.dest == "name" and "stage" in (a.help or ""):
            return "stage"
    return None


def bash_script(parser: argparse.ArgumentParser, shell: str) -> str:
    """A bash completion function (zsh loads it through bashcompinit)."""
    recipes, stages = _words()
    sub = _subcommands(parser)
    top = " ".join(o for a in parser._actions for o in a.option_strings)
    cases = []
    for name, sp in sub.items():
        opts = " ".join(o for a in sp._actions for o in a.option_strings)
        words = {"recipe": "$recipes", "stage": "$stages"}.get(_positional(sp) or "", "")
        words += " ".join(str(c) for a in sp._actions if not a.option_strings and a.choices for c in a.choices)
        cases.append(f"    {name}) opts=\"{opts}\"; words=\"{words}\" ;;")
    body = "\n".join([
        "_dsforge() {",
        "  local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]} opts words",
        f"  local recipes=\"{' '.join(recipes)}\" stages=\"{' '.join(stages)}\"",
        "  if [ \"$COMP_CWORD\" -eq 1 ]; then",
        f"    COMPREPLY=($(compgen -W \"{' '.join(sub)} {top}\" -- \"$cur\")); return",
        "  fi",
        "  case \"$cmd\" in", *cases, "    *) opts=\"\"; words=\"\" ;;", "  esac",
        "  if [[ \"$cur\" == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"));",
        "  else COMPREPLY=($(compgen -W \"$words\" -- \"$cur\") $(compgen -f -- \"$cur\")); fi",
        "}",
        "complete -o filenames -F _dsforge dsforge",
    ])
    if shell == "zsh":
        body = "autoload -U +X bashcompinit && bashcompinit\n" + body
    return f"# dsforge {shell} completion: eval \"$(dsforge completion {shell})\"\n" + body


def _fish_quote(text: str, limit: int | None = None) -> str:
    """A fish single-quoted string (help texts cut to their first line and `limit` characters)."""
    text = (text or "").split("\n")[0][:limit]
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish_script(parser: argparse.ArgumentParser) -> str:
    """`complete -c dsforge ...` lines: commands, each command's options, recipes and stages as arguments."""
    recipes, stages = _words()
    sub = _subcommands(parser)
    names = " ".join(sub)
    lines = ["# dsforge fish completion: dsforge completion fish | source",
             "# (or save it as ~/.config/fish/completions/dsforge.fish)", "complete -c dsforge -f"]
    helps = {a.dest: a.help for a in next(a for a in parser._actions
                                          if isinstance(a, argparse._SubParsersAction))._choices_actions}
    for name in sub:
        lines.append(f"complete -c dsforge -n 'not __fish_seen_subcommand_from {names}' -a {name} "
                     f"-d {_fish_quote(helps.get(name, ''), 80)}")
    for name, sp in sub.items():
        cond = f"-n '__fish_seen_subcommand_from {name}'"
        for a in sp._actions:
            for opt in a.option_strings:
                flag = f"-l {opt[2:]}" if opt.startswith("--") else f"-s {opt[1:]}"
                takes = " -r" if a.nargs != 0 and not isinstance(a, (argparse._StoreTrueAction, argparse._HelpAction)) else ""
                choices = f" -a {_fish_quote(' '.join(map(str, a.choices)))}" if a.choices else ""
                lines.append(f"complete -c dsforge {cond} {flag}{takes}{choices} -d {_fish_quote(a.help or '', 80)}")
        for a in sp._actions:
            if not a.option_strings and a.choices:  # e.g. `completion bash|zsh|fish`
                lines.append(f"complete -c dsforge {cond} -a {_fish_quote(' '.join(map(str, a.choices)))}")
        kind = _positional(sp)
        if kind == "recipe":
            lines.append(f"complete -c dsforge {cond} -F -a {_fish_quote(' '.join(recipes))} -d recipe")
        elif kind == "stage":
            lines.append(f"complete -c dsforge {cond} -a {_fish_quote(' '.join(stages))} -d stage")
    return "\n".join(lines) + "\n"


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    return fish_script(parser) if shell == "fish" else bash_script(parser, shell)
