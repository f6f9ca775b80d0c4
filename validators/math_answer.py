"""math-answer: extract a response's final answer and compare it with a reference answer.

Extraction, in order: the last \\boxed{...} (balanced braces), a GSM8K-style "#### 42", "the answer is
...", "Answer: ...", the right-hand side of a final "x = ...", and last the last number in the text.
Comparison: numbers (1,000 / 0.5 / 50% / -3) and fractions exactly with `fractions.Fraction`; simple
expressions (\\frac{1}{2}, 2\\sqrt{3}, pi/4, x^2+1) with sympy when installed, parsed from a
whitelist of characters (never `eval` of model text); anything else as normalised text ("B", "yes").

Results go to columns math_answer, math_reference and math_correct. Rows are rejected as
`math-answer:wrong`, `math-answer:no_answer` (nothing extractable) or `math-answer:no_reference`.

Not here: proofs, multi-part answers beyond comma-separated tuples, units conversion.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines.core.fields import TextField, ValueField, ref
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult

NUMBER = r"[-+−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?%?|[-+−]?\.\d+%?"
_LAST_NUMBER = re.compile(NUMBER)
_PHRASES = [
    re.compile(r"####\s*(.+?)\s*$", re.MULTILINE),
    re.compile(r"(?:final answer|the answer)\s*(?:is|:|=)\s*:?\s*(.+?)(?:\.\s|\.?$|\n)", re.IGNORECASE | re.MULTILINE),
    re.compile(r"^\s*answer\s*[:=]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE),
]
_SAFE_EXPR = re.compile(r"^[0-9a-zA-Z+\-*/^().,\s]*$")
_ALLOWED_NAMES = {"sqrt", "pi", "e", "x", "y", "z", "n", "k", "a", "b", "c", "i", "I", "log", "ln", "exp",
                  "sin", "cos", "tan"}


def boxed(text: str) -> str | None:
    """Content of the last \\boxed{...} or \\fbox{...}, braces balanced."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    i = text.find("{", start)
    if i < 0:
        return None
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1:j].strip()
    return None


def extract_answer(text: str | None) -> str | None:
    """The final answer in a solution text, as a string (None when nothing looks like one)."""
    if not text or not text.strip():
        return None
    b = boxed(text)
    if b:
        return b
    for pat in _PHRASES:
        found = pat.findall(text)
        if found:
            ans = found[-1].strip().strip("$").strip()
            return ans.rstrip(".") if ans else None
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    if lines and "=" in lines[-1]:
        rhs = lines[-1].rsplit("=", 1)[1].strip().strip("$").rstrip(".").strip()
        if rhs:
            return rhs
    nums = _LAST_NUMBER.findall(text)
    return nums[-1].strip() if nums else None


def _strip_latex(s: str) -> str:
    s = s.strip().strip("$").strip()
    s = re.sub(r"\\text\{([^}]*)\}", r"\1", s)
    s = re.sub(r"\\(?:left|right|displaystyle|,|;|!|quad)", "", s)
    s = re.sub(r"\^\{?\\circ\}?|°", "", s)
    for _ in range(3):  # nested \frac
        s = re.sub(r"\\[dt]?frac\{([^{}]*)\}\{([^{}]*)\}", r"((\1)/(\2))", s)
        s = re.sub(r"\\sqrt\{([^{}]*)\}", r"sqrt(\1)", s)
    s = re.sub(r"\\[dt]?frac(\d)(\d)", r"(\1/\2)", s)
    s = s.replace("\\pi", "pi").replace("\\cdot", "*").replace("\\times", "*").replace("−", "-")
    s = s.replace("{", "(").replace("}", ")").replace("\\", "")
    return s.strip()


def _as_fraction(s: str) -> Fraction | None:
    t = s.replace(" ", "").replace("−", "-")
    if re.fullmatch(r"[-+]?(\d{1,3}(,\d{3})+)(\.\d+)?", t):
        t = t.replace(",", "")
    pct = t.endswith("%")
    if pct:
        t = t[:-1]
    t = t.lstrip("+")
    if not re.fullmatch(r"-?\(?-?\d+(\.\d+)?\)?(/\(?\d+(\.\d+)?\)?)?|-?\.\d+", t):
        return None
    try:
        f = Fraction(t.replace("(", "").replace(")", ""))
    except (ValueError, ZeroDivisionError):
        return None
    return f / 100 if pct else f


def _sympy(s: str):
    """A sympy expression from a whitelisted string, or None (no sympy, unsafe characters, huge powers)."""
    if len(s) > 200 or not _SAFE_EXPR.fullmatch(s):
        return None
    names = set(re.findall(r"[A-Za-z]+", s))
    if not names <= _ALLOWED_NAMES:
        return None
    try:
        from sympy import Pow, Symbol
        from sympy.parsing.sympy_parser import (convert_xor, implicit_multiplication_application, parse_expr,
                                                standard_transformations)
    except ImportError:
        return None
    local = {n: Symbol(n) for n in ("x", "y", "z", "n", "k", "a", "b", "c")}
    try:
        expr = parse_expr(s.replace("ln", "log"), local_dict=local, evaluate=False,
                          transformations=standard_transformations + (implicit_multiplication_application, convert_xor))
        for p in expr.atoms(Pow):
            if p.exp.is_number and abs(float(p.exp)) > 100:
                return None
        return expr
    except Exception:  # noqa: BLE001 - any parse failure means "not an expression"
        return None


def normalise_text(s: str) -> str:
    s = _strip_latex(s).lower()
    s = re.sub(r"^\(?([a-e])\)?[.:)]?$", r"\1", s.strip())  # (B) / B. / b) -> b
    return re.sub(r"\s+", " ", s).strip(" .")


def answers_match(got: str, ref: str, rel_tol: float = 1e-6) -> bool:
    """True when two final answers are the same number, expression, tuple or text."""
    g, r = _strip_latex(got), _strip_latex(ref)
    fg, fr = _as_fraction(g), _as_fraction(r)
    if fg is not None and fr is not None:
        return fg == fr or abs(float(fg) - float(fr)) <= rel_tol * max(1.0, abs(float(fr)))
    parts_g, parts_r = _split_tuple(g), _split_tuple(r)
    if len(parts_r) > 1 or len(parts_g) > 1:
        return len(parts_g) == len(parts_r) and all(answers_match(a, b, rel_tol) for a, b in zip(parts_g, parts_r))
    eg, er = _sympy(g), _sympy(r)
    if eg is not None and er is not None:
        try:
            diff = (eg - er)
            if not diff.free_symbols:
                return abs(complex(diff.evalf(30))) <= rel_tol * max(1.0, abs(complex(er.evalf(30))))
            from sympy import simplify

            return simplify(diff) == 0
        except Exception:  # noqa: BLE001
            pass
    return normalise_text(got) == normalise_text(ref)


def _split_tuple(s: str) -> list[str]:
    s = s.strip()
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", s.replace(" ", "")):
        return [s]
    if s[:1] in "([" and s[-1:] in ")]":
        s = s[1:-1]
    return [p.strip() for p in s.split(",")] if "," in s else [s]


class MathAnswerConfig(StageConfig):
    field: TextField = Field(ref("answer"), description="text field holding the solution (pipelines/core/fields.py)")
    reference: ValueField = Field(ref("metadata.answer"), description="column or metadata.KEY with the reference answer ('#### 42' ok)")
    rel_tol: float = Field(1e-6, ge=0, description="relative tolerance for numeric answers")
    on_fail: Literal["drop", "flag"] = "drop"


class MathAnswer(Stage[MathAnswerConfig]):
    """Compare each row's final answer with its reference answer; keep the correct ones."""

    name = "math-answer"
    mode = "rows"
    Config = MathAnswerConfig
    batch_size = 20_000

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        texts = cfg.field.texts(df)
        refs_raw = cfg.reference.texts(df)
        got, refs, correct, reasons, details = [], [], [], [], []
        for text, ref_raw in zip(texts, refs_raw):
            ans = extract_answer(text)
            ref = extract_answer(ref_raw) if ref_raw and ("####" in ref_raw or "boxed" in ref_raw) else (
                ref_raw.strip() if ref_raw else None)
            got.append(ans)
            refs.append(ref)
            if ref is None:
                correct.append(None)
                reasons.append("math-answer:no_reference")
                details.append(f"no reference answer in {cfg.reference}")
            elif ans is None:
                correct.append(False)
                reasons.append("math-answer:no_answer")
                details.append(f"no final answer found in {cfg.field}")
            else:
                ok = answers_match(ans, ref, cfg.rel_tol)
                correct.append(ok)
                reasons.append(None if ok else "math-answer:wrong")
                details.append(f"answer {ans!r} != reference {ref!r}")
        out = df.with_columns(
            pl.Series("math_answer", got, dtype=pl.String),
            pl.Series("math_reference", refs, dtype=pl.String),
            pl.Series("math_correct", correct, dtype=pl.Boolean),
        )
        n_ok = sum(1 for c in correct if c)
        stats = {"rows": df.height, "correct": n_ok, "wrong": reasons.count("math-answer:wrong"),
                 "no_answer": reasons.count("math-answer:no_answer"),
                 "no_reference": reasons.count("math-answer:no_reference")}
        if cfg.on_fail == "flag":
            return StageResult(kept=out, stats=stats)
        # Typed series: with 0 rows an untyped one is Null and cannot filter (the 0-row crash of issue 14).
        bad = pl.Series([r is not None for r in reasons], dtype=pl.Boolean)
        return StageResult(
            kept=out.filter(~bad),
            rejected=self.reject(out.filter(bad), pl.Series([r for r in reasons if r], dtype=pl.String),
                                 pl.Series([d for d, r in zip(details, reasons) if r], dtype=pl.String)),
            stats=stats,
        )
