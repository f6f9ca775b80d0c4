"""rule-augment: rule-based augmentation without a model: template filling with Faker values and
counterfactual gender/name swaps (the book's Table 8-2).

Fill: any `{{ provider }}` in a row's text (instruction, input, response, text, chosen_response,
rejected_response, message contents) is a Faker provider (`name`, `city`, `company`, `date`, `email`, ...);
each such template row becomes `copies` rows with values drawn by a Faker seeded from the run's seed. The same
placeholder gets the same value everywhere in one copy, so an answer can mention the name the question used;
`{{ name#2 }}` is a second, independent name. Template rows themselves are rejected as `template_consumed`
(they are not training data), rows naming an unknown provider as `unknown_placeholder`.

Swap: every row also gets a counterfactual twin with gendered words and first names swapped both ways,
from YAML pair lists (`data:swaps/gender.yaml`, `data:swaps/names.yaml`; add your own files). Whole words
only, case kept ("She's" -> "He's", "Mr." -> "Ms."). "her" maps to "his" before a word that is not a
function word and to "him" otherwise, a heuristic that fails on e.g. "gave her money". Rows with nothing to
swap stay as they are (counted). A twin must stay consistent: first names in Faker's en_US gendered lists
(that are not common English words) are swapped too, to a name of the other gender chosen by the name, the
same everywhere in the row; a row whose gendered words would be swapped while it names someone the swap
cannot change (a capitalised word that is neither a known name nor a common word, e.g. "Natalia sold clips to
48 of her friends") gets no twin (`unswappable_name`, counted): "Natalia ... his friends" would be broken.
Nor does a row naming someone by full name without a title ("Life is a Highway by Tom Cochrane"): a real
person's name swapped is a false fact. Quotations are not recognised (a quoted "men and women" is swapped). Not here: swaps that need grammar (verb agreement in other languages) or
nationality/race swaps (add pair files for them).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from pydantic import Field

from dsforge.pipelines.core import records
from dsforge.pipelines.core.generated import input_rows, new_row, reject_row, rejects_frame, row_meta, rows_frame
from dsforge.pipelines.core.stage import ConfigError, Stage, StageConfig, StageContext, StageResult

TEXT_FIELDS = ("instruction", "input", "response", "text", "chosen_response", "rejected_response")
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)(?:#(\w+))?\s*\}\}")
# Words after which "her" is an object pronoun ("told her the truth", "with her.").
_FUNCTION_WORDS = set("a an the and or but to in on at for with from of by as than that this these those "
                      "is are was were be been if so because when while about into onto over under up down "
                      "out off again too very not no".split())


class RuleAugmentConfig(StageConfig):
    fill: bool = Field(True, description="expand rows holding {{ provider }} placeholders with Faker values")
    copies: int = Field(3, ge=1, description="filled copies per template row")
    templates: list[dict[str, str]] = Field(default_factory=list,
                                            description="extra template rows: {instruction, input, response}")
    locale: str = Field("en_US", description="Faker locale")
    swap: bool = Field(True, description="add a counterfactual gender/name-swapped twin of each row")
    swap_files: list[str] = Field(default_factory=lambda: ["data:swaps/gender.yaml", "data:swaps/names.yaml"])
    swap_known_names: bool = Field(True, description="also swap first names from Faker's en_US gendered lists")
    common_words: str = Field("data:filters/common_words_en.txt",
                              description="lower-case English words: a capitalised one is not taken for a name")
    keep_originals: bool = Field(True, description="pass the (non-template) input rows through")
    source: str = "rule-augment"


@lru_cache(maxsize=16)
def load_swaps(path: str) -> tuple[dict[str, str], bool]:
    """A swap table {word: replacement} (both directions) from a YAML file of pairs, and its case sensitivity."""
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"rule-augment: cannot read swap list {p}: {e}") from None
    pairs = data.get("pairs") if isinstance(data, dict) else data
    if not isinstance(pairs, list) or not all(isinstance(x, list) and len(x) == 2 for x in pairs):
        raise ConfigError(f"rule-augment: {p} must hold `pairs: [[a, b], ...]`")
    case_sensitive = bool(data.get("case_sensitive", False)) if isinstance(data, dict) else False
    if not case_sensitive and all(a[:1].isupper() for a, _ in pairs):
        case_sensitive = True  # name lists: "Mark" the name, not "mark" the verb
    table: dict[str, str] = {}
    for a, b in pairs:
        a, b = str(a), str(b)
        ka, kb = (a, b) if case_sensitive else (a.lower(), b.lower())
        table.setdefault(ka, b)  # first pair wins: "her" -> "him" is refined by context below
        table.setdefault(kb, a)
    return table, case_sensitive


@lru_cache(maxsize=4)
def load_common_words(path: str) -> frozenset[str]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))


@lru_cache(maxsize=4)
def known_name_table(common: frozenset[str], taken: frozenset[str]) -> dict[str, str]:
    """{first name: a name of the other gender} from Faker's en_US lists, without names that are common words
    ("Grace", "April"), that both lists hold ("Jordan"), or that a swap file already maps. The partner is
    picked by a hash of the name, so the same name always becomes the same other name."""
    import hashlib

    from faker.providers.person.en_US import Provider

    female, male = set(Provider.first_names_female), set(Provider.first_names_male)
    def usable(names):
        return sorted(n for n in names - (female & male) if n.lower() not in common and n not in taken)
    f, m = usable(female), usable(male)
    table = {}
    for src, dst in ((f, m), (m, f)):
        for n in src:
            table[n] = dst[int(hashlib.sha256(n.encode()).hexdigest(), 16) % len(dst)]
    return table


def _match_case(src: str, word: str) -> str:
    if src.isupper() and len(src) > 1:
        return word.upper()
    if src[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


CAPITALISED = re.compile(r"(?<![\w.])([A-Z][^\W\d_]+)(?:'s)?(?!\w)")
PARTICLES = {"van", "von", "de", "da", "del", "der", "di", "du", "la", "le", "bin", "al", "ibn"}  # Vincent van Gogh
TITLES = {"Mr", "Mr.", "Ms", "Ms.", "Mrs", "Mrs.", "Miss", "Dr", "Dr.", "Sir", "Madam", "Lady", "Lord"}


class Swapper:
    def __init__(self, tables: list[tuple[dict[str, str], bool]], common: frozenset[str] = frozenset()):
        self.tables = tables
        self.common = common
        self.gendered = {k.lower() for t, cs in tables for k in t if not cs}  # pronouns, nouns: not names
        self.patterns = []
        for table, cs in tables:
            keys = sorted(table, key=len, reverse=True)
            alt = "|".join(re.escape(k) for k in keys)
            self.patterns.append((re.compile(rf"(?<![\w.])({alt})(?!\w)", 0 if cs else re.I), table, cs))

    def __call__(self, text: str) -> tuple[str, list[str]]:
        """The swapped text and the list of swaps made ("she->he", ...)."""
        if not text:
            return text, []
        # Find all matches on the original text first, so a word swapped by one table is not swapped back.
        spans: list[tuple[int, int, str]] = []
        taken = [False] * (len(text) + 1)
        for pattern, table, cs in self.patterns:
            for m in pattern.finditer(text):
                if any(taken[m.start():m.end()]):
                    continue
                word = m.group(1)
                key = word if cs else word.lower()
                rep = table[key]
                if key == "her":
                    nxt = re.match(r"\s+([A-Za-z]+)", text[m.end():])
                    rep = "his" if nxt and nxt.group(1).lower() not in _FUNCTION_WORDS else "him"
                elif key == "his":
                    nxt = re.match(r"\s+([A-Za-z]+)", text[m.end():])
                    rep = "her" if nxt and nxt.group(1).lower() not in _FUNCTION_WORDS else "hers"
                spans.append((m.start(), m.end(), _match_case(word, rep)))
                for i in range(m.start(), m.end()):
                    taken[i] = True
        out, last, made = [], 0, []
        for s, e, rep in sorted(spans):
            out.append(text[last:s])
            out.append(rep)
            made.append(f"{text[s:e]}->{rep}")
            last = e
        out.append(text[last:])
        return "".join(out), made

    def blocking_names(self, text: str) -> tuple[list[str], list[str]]:
        """(full names, unknown names) that make a twin unsafe.

        Full names: a first name the tables would swap inside a run of capitalised words without a title
        ("Tom Cochrane", "Harper Lee", "Peter Piper"): likely a real person or a quotation, and swapping it
        makes a false fact. Unknown names: capitalised words the tables cannot swap and that are not common
        English words ("Natalia"); a twin whose pronouns change around them is broken. A title or a swapped
        name before a word makes it a surname ("Mr. Alex Wang" -> "Ms. Alexa Wang") and it stays."""
        tokens = [(m.group(0), m.start()) for m in re.finditer(r"\S+", text or "")]
        full, unknown = [], []
        for i, (tok, _) in enumerate(tokens):
            m = CAPITALISED.fullmatch(tok.strip("\"'“”‘’()[],;:!?.")) if tok else None
            if not m:
                continue
            word = m.group(1)
            prev = tokens[i - 1][0] if i else ""
            j = i + 1
            while j < len(tokens) - 1 and tokens[j][0].lower() in PARTICLES:
                j += 1
            nxt = tokens[j][0].strip("\"'“”‘’()[],;:!?.") if j < len(tokens) else ""
            titled = prev in TITLES
            prev_name = bool(prev) and prev[-1] not in ".!?:" and self._is_name_like(prev.strip("\"'“”‘’(["))
            next_name = not tok.endswith((".", ",", "!", "?", ":", ";")) and self._is_name_like(nxt)
            if self._swappable(word):
                if not titled and (prev_name or next_name) and word.lower() not in self.gendered:
                    full.append(f"{prev if prev_name else word} {word if prev_name else nxt}")
                continue
            if len(word) <= 2 or word.lower() in self.common or word.lower() in self.gendered or titled:
                continue  # the common-word list has no words under 3 letters ("In", "At")
            if prev_name and self._swappable(prev.strip("\"'“”‘’([")):
                continue  # a surname after a swapped first name
            unknown.append(word)
        return full, unknown

    def _is_name_like(self, word: str) -> bool:
        return (bool(CAPITALISED.fullmatch(word)) and len(word) > 2 and word.lower() not in self.common
                and word not in TITLES)

    def _swappable(self, word: str) -> bool:
        return any((word if cs else word.lower()) in table for table, cs in self.tables)


class RuleAugment(Stage[RuleAugmentConfig]):
    """Faker template filling and counterfactual gender/name swaps (no model)."""

    name = "rule-augment"
    mode = "rows"
    creates_rows = True
    Config = RuleAugmentConfig
    batch_size = 10_000

    def process(self, df: pl.DataFrame, ctx: StageContext) -> StageResult:
        cfg = self.config
        rows = input_rows(df) + [
            {"id": f"{cfg.source}:template{i}", "source": cfg.source, "kind": "instruction", "lineage": [],
             "metadata": "{}", **{k: t.get(k) for k in ("instruction", "input", "response")}}
            for i, t in enumerate(cfg.templates)]
        rejected: list[dict[str, Any]] = []
        originals: list[dict[str, Any]] = []
        made: list[dict[str, Any]] = []
        stats = {"templates": 0, "filled": 0, "swapped": 0, "nothing_to_swap": 0, "unswappable_name": 0}
        faker = None
        for r in rows:
            holes = sorted({m.group(0) for f in TEXT_FIELDS for m in PLACEHOLDER.finditer(r.get(f) or "")} |
                           {m.group(0) for msg in r.get("messages") or [] for m in PLACEHOLDER.finditer(msg["content"])})
            if not (cfg.fill and holes):
                originals.append(r)
                continue
            if faker is None:
                from faker import Faker

                faker = Faker(cfg.locale)
                faker.seed_instance(ctx.seed)
            bad = [h for h in holes if not _is_provider(faker, PLACEHOLDER.match(h).group(1))]
            if bad:
                rejected.append(reject_row(dict(r), self.name, "unknown_placeholder",
                                           f"{r['id']}: {', '.join(bad)} is not a Faker provider "
                                           "(e.g. name, first_name, city, company, date, email, job)"))
                continue
            stats["templates"] += 1
            rejected.append(reject_row(dict(r), self.name, "template_consumed",
                                       f"{r['id']}: template replaced by {cfg.copies} filled copies"))
            for c in range(cfg.copies):
                values = {h: str(getattr(faker, PLACEHOLDER.match(h).group(1))()) for h in holes}
                fill = lambda s: PLACEHOLDER.sub(lambda m: values[m.group(0)], s) if s else s  # noqa: E731
                fields = {f: fill(r.get(f)) for f in TEXT_FIELDS if r.get(f) is not None}
                if r.get("messages"):
                    fields["messages"] = [{"role": m["role"], "content": fill(m["content"])} for m in r["messages"]]
                made.append(new_row(id=f"{r['id']}:fill{c}", source=r["source"], kind=r["kind"], stage=self.name,
                                    info={"rule": "fill", "sources": [r["id"]], "locale": cfg.locale,
                                          "values": {PLACEHOLDER.match(h).group(1): v for h, v in values.items()}},
                                    parent_lineage=r.get("lineage"), metadata={**row_meta(r), "template": r["id"]},
                                    score=r.get("score"), **fields))
                stats["filled"] += 1
        if cfg.swap:
            swapper = self._swapper(ctx)
            for r in [*originals, *made]:
                fields, swaps = {}, []
                for f in TEXT_FIELDS:
                    if r.get(f):
                        fields[f], s = swapper(r[f])
                        swaps += s
                if r.get("messages"):
                    fields["messages"] = []
                    for m in r["messages"]:
                        text, s = swapper(m["content"])
                        swaps += s
                        fields["messages"].append({"role": m["role"], "content": text})
                if not swaps:
                    stats["nothing_to_swap"] += 1
                    continue
                gendered = [w for w in swaps if w.split("->")[0].lower() in swapper.gendered]
                texts = [r.get(f) or "" for f in TEXT_FIELDS] + [m["content"] for m in r.get("messages") or []]
                found = [swapper.blocking_names(t) for t in texts]
                if any(f for f, _ in found) or (gendered and any(u for _, u in found)):
                    stats["unswappable_name"] += 1  # "Natalia ... his friends": no twin rather than a broken one
                    continue
                stats["swapped"] += 1
                made.append(new_row(id=f"{r['id']}:swap", source=r["source"], kind=r["kind"], stage=self.name,
                                    info={"rule": "counterfactual_swap", "sources": [r["id"]], "swaps": swaps,
                                          "swap_files": list(cfg.swap_files)},
                                    parent_lineage=r.get("lineage"),
                                    metadata={**row_meta(r), "counterfactual_of": r["id"]},
                                    score=r.get("score"), **fields))
        out: list[pl.DataFrame] = []
        if cfg.keep_originals:
            from_input = [r["id"] for r in originals if not r["id"].startswith(f"{cfg.source}:template")]
            out.append(df.filter(pl.col("id").is_in(from_input)))
            out.append(rows_frame([r for r in originals if r["id"].startswith(f"{cfg.source}:template")]))
        else:
            rejected += [reject_row(dict(r), self.name, "original_dropped", f"{r['id']}: keep_originals is false")
                         for r in originals]
        out.append(rows_frame(made))
        return StageResult(kept=records.concat(out), rejected=rejects_frame(rejected), stats=stats)


    def _swapper(self, ctx: StageContext) -> Swapper:
        cfg = self.config
        tables = [load_swaps(str(ctx.resolve(p))) for p in cfg.swap_files]
        common = load_common_words(str(ctx.resolve(cfg.common_words)))
        if cfg.swap_known_names:
            taken = frozenset(k for t, cs in tables if cs for k in t)
            tables.append((known_name_table(common, taken), True))
        return Swapper(tables, common)


def _is_provider(faker, name: str) -> bool:
    try:
        return callable(getattr(faker, name))
    except AttributeError:
        return False
