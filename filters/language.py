"""language-filter: keep or drop rows by language, with an offline identifier (py3langid, 97 languages).

    - {stage: language-filter, keep: [en, zh], min_confidence: 0.8}
    - {stage: language-filter, drop: [la]}

Adds `lang` and `lang_score` columns (normalised probability). Code is taken out before identifying
(fenced blocks and lines that look like code), since a Python answer is "English" to nobody, and so are
formulas (TeX spans and lines with fewer letters than other characters, `strip_formulas`): a worked maths
solution's "a_4 = (1 + a_2 * a_3) / a_1 = 2" lines made py3langid call its English "zxx". Texts
shorter than `min_chars` are labelled "und" and kept: a three-word answer is not evidence. Text written in
Han characters without kana/hangul is labelled zh by script (script_rule), because py3langid calls Chinese
mixed with English names Wu or Cantonese (such wuu/yue calls on text with Han characters are reported zh).

Rejects say what was found: `language-filter:not_wanted` ("zh (0.99) not in keep [en]") or
`language-filter:low_confidence` ("en at 0.42 < min_confidence 0.80"). With unsure="keep", only confident
identifications act: a row is dropped when the identifier is sure it is a language you do not want.
Not here: per-language routing (run the stage twice with different `keep`).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

import polars as pl
from pydantic import Field

from dsforge.pipelines.core.fields import TextField, ref
from dsforge.pipelines.core.stage import Stage, StageConfig, StageContext, StageResult

FENCED = re.compile(r"```.*?(?:```|\Z)", re.S)
CODE_LINE = re.compile(r"^\s*(?:[{}()\[\];]|#include|import |from \S+ import|def |class |return\b|//|/\*|\$ |<\?|[\w.]+\(.*\);?\s*$).*$", re.M)


class LanguageFilterConfig(StageConfig):
    field: TextField = Field(ref("conversation"), description="text field to identify (pipelines/core/fields.py)")
    keep: list[str] | None = Field(None, description="ISO 639-1 codes to keep (others are dropped)")
    drop: list[str] = Field(default_factory=list, description="ISO 639-1 codes to drop")
    min_confidence: float = Field(0.5, ge=0, le=1, description="below this the identifier counts as unsure")
    unsure: Literal["keep", "drop"] = Field("keep", description="what to do with rows the identifier is unsure "
                                            "about (short English often scores 0.3: \"Convert 25°C to Fahrenheit\" "
                                            "-> 77°F is English at 0.28)")
    min_chars: int = Field(20, ge=0, description="shorter texts are labelled 'und' and kept")
    languages: list[str] | None = Field(None, description="restrict the identifier to these languages")
    script_rule: bool = Field(True, description="Han script without kana/hangul is Chinese (zh), no model asked")
    strip_formulas: bool = Field(True, description="take TeX spans and formula lines (fewer letters than other "
                                 "characters) out before identifying; too little prose left is 'und' (kept)")


@lru_cache(maxsize=4)
def identifier(languages: tuple[str, ...] | None = None):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    if languages:
        ident.set_languages(list(languages))
    return ident


TEX_SPAN = re.compile(r"\$\$.*?\$\$|\\\(.*?\\\)|\\\[.*?\\\]", re.S)  # not $...$: "$60 and $20" is prose
WORD = re.compile(r"[^\W\d_]{2,}")  # two or more letters (any script)


def is_formula(line: str) -> bool:
    """A line whose letters in words are fewer than its other non-space characters (digits, operators,
    one-letter variables): an equation, not prose."""
    ink = sum(not c.isspace() for c in line)
    return ink > 0 and sum(len(w) for w in WORD.findall(line)) * 2 < ink


def prose(text: str, strip_formulas: bool = False) -> str:
    """The text without code blocks and code-looking lines (and, with strip_formulas, without TeX spans
    and formula lines)."""
    out = CODE_LINE.sub("", FENCED.sub(" ", text or ""))
    if strip_formulas:
        out = "\n".join(line for line in TEX_SPAN.sub(" ", out).splitlines() if not is_formula(line))
    return out.strip()


HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")


def by_script(text: str) -> tuple[str, float] | None:
    """Chinese by script: Han characters and no kana or hangul. py3langid calls Chinese mixed with English
    names (Scratch block names, product names) Wu or Cantonese, or zh at low confidence."""
    letters = sum(c.isalpha() for c in text)
    han = len(HAN.findall(text))
    if letters and han >= 0.2 * letters and not KANA_HANGUL.search(text):
        return "zh", round(min(1.0, 0.5 + han / letters), 4)
    return None


def identify(texts: list[str | None], languages: list[str] | None = None, min_chars: int = 20,
             script_rule: bool = True, strip_formulas: bool = False) -> list[tuple[str, float]]:
    ident = identifier(tuple(languages) if languages else None)
    out = []
    for t in texts:
        p = prose(t or "", strip_formulas)
        if len(p) < min_chars and not (script_rule and HAN.search(p) and len(p) >= min_chars // 3):
            out.append(("und", 0.0))
            continue
        found = by_script(p) if script_rule and (not languages or "zh" in languages) else None
        if found is None:
            lang, prob = ident.classify(p)
            if script_rule and lang in ("wuu", "yue") and HAN.search(p):
                lang = "zh"  # Chinese with many English names: py3langid's Wu/Cantonese are its zh here
            found = (lang, float(prob))
        out.append(found)
    return out


class LanguageFilter(Stage[LanguageFilterConfig]):
    name = "language-filter"
    mode = "rows"
    Config = LanguageFilterConfig
    version = "3"
    batch_size = 20_000

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        texts = df.select(cfg.field.expr().alias("t"))["t"].to_list()
        found = identify(texts, cfg.languages, cfg.min_chars, cfg.script_rule, cfg.strip_formulas)
        reasons, details = [], []
        for lang, p in found:
            r = d = None
            unwanted = lang in cfg.drop or (cfg.keep is not None and lang not in cfg.keep)
            if lang == "und":
                pass
            elif p < cfg.min_confidence and (cfg.unsure == "drop" and cfg.keep is not None or unwanted):
                if cfg.unsure == "drop":
                    r, d = "low_confidence", f"{lang} at {p:.2f} < min_confidence {cfg.min_confidence:.2f}"
            elif lang in cfg.drop:
                r, d = "not_wanted", f"{lang} ({p:.2f}) is in drop {cfg.drop}"
            elif unwanted:
                r, d = "not_wanted", f"{lang} ({p:.2f}) not in keep {cfg.keep}"
            reasons.append(f"{self.name}:{r}" if r else None)
            details.append(f"{cfg.field}: {d}" if d else None)
        marked = df.with_columns(pl.Series("lang", [f[0] for f in found], dtype=pl.String),
                                 pl.Series("lang_score", [round(f[1], 4) for f in found], dtype=pl.Float64),
                                 pl.Series("__reason", reasons, dtype=pl.String),
                                 pl.Series("__detail", details, dtype=pl.String))
        bad = pl.col("__reason").is_not_null()
        kept = marked.filter(~bad).drop("__reason", "__detail")
        rejected = self.reject(marked.filter(bad), pl.col("__reason"), pl.col("__detail")).drop("__reason", "__detail")
        by_lang = marked.group_by("lang").len().sort("len", descending=True).head(10)
        return StageResult(kept=kept, rejected=rejected,
                           stats={f"lang_{k}": v for k, v in by_lang.iter_rows()})
