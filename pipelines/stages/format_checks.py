"""Prompt-format consistency check for chat-format: the inconsistencies the book warns about ("missing
arrow, extra prefix, trailing space"), flagged per row, with summary warnings.

Not here: rendering (chat_template.py, chat_format.py), loss masks (loss_masks.py).
"""

from __future__ import annotations

SEPARATORS = ("->", "=>", "→", "###", "Answer:", "Output:", "Response:", "A:", "Solution:")
RESPONSE_PREFIXES = ("Answer:", "Output:", "Response:", "A:", "Assistant:", "###", "Solution:")
TEMPLATE_MARKUP = ("<|im_start|>", "<|im_end|>", "[INST]", "[/INST]", "<|start_header_id|>", "<|eot_id|>",
                   "<start_of_turn>", "<|user|>", "<|assistant|>", "### Instruction:", "### Response:")


def format_issues(prompts: list[str | None], responses: list[str | None],
                  min_share: float = 0.6) -> tuple[list[list[str]], list[str]]:
    """Per-row format problems and summary warnings, for the inconsistencies the book warns about:
    trailing whitespace, a separator most prompts end with but some lack (the "missing arrow"), a
    response prefix only some rows have (or lack), and chat markup already inside the content (a row
    templated twice)."""
    n = len(prompts)
    issues: list[list[str]] = [[] for _ in range(n)]
    warnings: list[str] = []

    def ending(p: str) -> str | None:
        s = p.rstrip()
        return next((sep for sep in SEPARATORS if s.endswith(sep)), None)

    def prefix(r: str) -> str | None:
        s = r.lstrip()
        return next((pre for pre in RESPONSE_PREFIXES if s.startswith(pre)), None)

    for i, (p, r) in enumerate(zip(prompts, responses)):
        for label, s in (("prompt", p), ("response", r)):
            if s and s != s.rstrip(" \t"):
                issues[i].append(f"trailing_space:{label}")
            if s and (mark := next((m for m in TEMPLATE_MARKUP if m in s), None)):
                issues[i].append(f"template_markup:{label}:{mark}")
    for label, values, fn, kind in (("prompt", prompts, ending, "separator"), ("response", responses, prefix, "prefix")):
        found = [fn(v) if v else None for v in values]
        present = [f for f in found if f]
        if not present or n < 3:
            continue
        top = max(set(present), key=present.count)
        share = present.count(top) / n
        if share >= min_share and share < 1.0:
            missing = [i for i, f in enumerate(found) if f != top]
            for i in missing:
                issues[i].append(f"missing_{kind}:{top}")
            warnings.append(f"{len(missing)} of {n} rows lack the {label} {kind} {top!r} that the others have")
        elif share < 1 - min_share or (share < min_share and present):
            odd = [i for i, f in enumerate(found) if f]
            if len(odd) < n:
                for i in odd:
                    issues[i].append(f"extra_{kind}:{found[i]}")
                warnings.append(f"{len(odd)} of {n} rows have a {label} {kind} ({', '.join(sorted(set(present)))}) "
                                "that the others lack")
    counts: dict[str, int] = {}
    for row in issues:
        for iss in row:
            key = iss.split(":")[0]
            counts[key] = counts.get(key, 0) + 1
    for key in ("trailing_space", "template_markup"):
        if counts.get(key):
            warnings.append(f"{counts[key]} rows have {key.replace('_', ' ')} (see the format_issues column)")
    return issues, warnings
