"""A name inside a longer proper noun made with ordinary words is the name of a thing, not a private person
and not where someone is.

    part_of_a_thing_name(text, span)   # "Bohemian Rhapsody", "Manchester United", "Siege of Leningrad"
    vehicle_model(text, span)          # "Kia Sorento", "Seat Leon", "Hyundai Santa Fe" (a closed class)

Why: a private person's name is made of names, and a place of someone stands alone or in an address.
- A PERSON span holding an ordinary English word that is no given name or surname ("Lindy Hop", "Molly
  Hatchet", "Debian Bookworm", "Sydney Swans", "Elon Musk"), or a one-word name mid-sentence right after a
  capitalised ordinary word ("Sweet Caroline", "the Creeping Charlie"), is a title, a band, a product, a
  plant. Not the word after a one-word name: that is too often a surname spaCy left out of the span.
- A place glued to a capitalised word that is no place ("Manchester United", "Real Madrid", "Chicago Bears",
  "Kentucky Fried Chicken", "the New York Times"), or a town after "X of" where X is no kind of place ("the
  Congress of Vienna", "The Merchant of Venice"), names a club, a firm, an event or a work.
Ordinary words are WordNet's lower-case one-word lemmas (data/filters/wordnet_words.tsv); names are the
person lists of pii_names plus US Census surnames held by 1 in 100,000 people (data/filters/census_surnames.txt:
"Tuck", "Sweet" and "Stone" are surnames as well as words).

Kept: spans with a strong cue; a title or role noun before a name ("Captain Haddock", "Officer Diaz", "Uncle
Bob"); a greeting before one ("Hey Maria"); a capitalised word that starts its sentence ("Yesterday Paris
was hot"); places next to places, directions, kinds of place and state codes ("Boston MA", "Greater
Manchester", "City of London", "University of Oxford"); lines written in title case (headlines, where every
word is capitalised). Car makes are a closed class: a make, then a capitalised word, is a model unless the
make is also a given name and the next word a surname ("Morgan Freeman").

Not here: names whose words are all names ("Taylor Swift", "Hermione Granger", "Jolene"): only world
knowledge tells those from a private person.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from dsforge.filters import pii_names, pii_places
from dsforge.filters.pii_spans import STRONG_SOURCES, Span

DATA = Path(__file__).resolve().parent.parent / "data" / "filters"
WORDS_FILE = DATA / "wordnet_words.tsv"
SURNAMES_FILE = DATA / "census_surnames.txt"
GREETINGS = frozenset("hi hey hello dear thanks thank cheers congrats congratulations welcome bye goodbye morning"
                      " evening night yo ok okay sorry please love".split())
PARTICLES = frozenset("de da do dos das del della di van von der den ter bin binti al el la le ibn ben bint".split())
# Words around a place that keep it a place: kinds of place, directions, state and country codes.
PLACE_WORDS = frozenset("""
City Town Village County Counties State States Republic Kingdom Province Provinces Region District Borough Parish
Isle Island Islands Bay Gulf Cape Lake Lakes Sea Strait Straits Port Mount Mountains Valley Vale Duchy Emirate
Emirates Commonwealth Federation Principality Territory Territories Municipality Prefecture Oblast Canton Shire
Outskirts Centre Center Downtown Uptown Midtown Suburbs Area Metro Metropolitan Greater Inner Outer Upper Lower
Central North South East West Northern Southern Eastern Western Northeast Northwest Southeast Southwest New Old
Heights Hills Springs Falls Beach Coast Harbour Harbor Peninsula Desert Plains Highlands Lowlands
University College School Institute Museum Archdiocese Diocese Capital
""".split())
CODES = frozenset("""
AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA RI
SC SD TN TX UT VT VA WA WV WI WY DC PR ON QC BC AB MB SK NS NB NL PE NSW VIC QLD TAS ACT NT UK US USA UAE EU PRC ROC
""".split())
MONTHS_DAYS = frozenset("January February March April May June July August September October November December"
                        " Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split())
VEHICLE_MAKES = frozenset("""
Acura Alfa Aston Audi Bentley BMW Bugatti Buick BYD Cadillac Chevrolet Chevy Chrysler Citroen Citroën Cupra Dacia
Daewoo Daihatsu Dodge DS Ferrari Fiat Ford Genesis Geely GMC Holden Honda Hummer Hyundai Infiniti Isuzu Jaguar Jeep
Kia Lada Lamborghini Lancia Lexus Lincoln Lotus Maserati Mazda McLaren Mercedes Mercedes-Benz MG Mini Mitsubishi
Nissan Opel Peugeot Polestar Pontiac Porsche Proton Renault Rivian Rolls-Royce Saab Seat SEAT Skoda Škoda Smart
Subaru Suzuki Tata Tesla Toyota Vauxhall Volkswagen VW Volvo
""".split())
_ROLE_BEFORE = re.compile(r"(?<![\w'’])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev|St)\.?[ \t]+$")
_CAP_WORD_BEFORE = re.compile(r"(?<![\w'’\-.])([A-Z][\w'’\-]*)[ ]$")
_CAP_WORD_AFTER = re.compile(r"[ ]([A-Z][\w'’\-]*)(?![\w'’\-])")
_OF_BEFORE = re.compile(r"(?<![\w'’\-.])([A-Z][a-z]+)[ ]of[ ](?:the[ ])?$")
_SENTENCE_START = re.compile(r"(?:^|[\n.!?:;\"“(\[*#>|•\-][ \t]*|^[ \t]+)$")
_WORD = re.compile(r"[A-Za-z][\w'’\-]*")
_NUMBER_BEFORE = re.compile(r"\d[A-Za-z]?,?[ \t]+$")


@lru_cache(maxsize=1)
def ordinary_words() -> dict[str, str]:
    """lower-case WordNet lemma -> its marks (n a v r, p for a noun for a person)."""
    out = {}
    for line in WORDS_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            word, marks = line.split("\t")
            out[word] = marks
    return out


@lru_cache(maxsize=1)
def census_surnames() -> frozenset:
    """Lower-cased US Census surnames held by 1 in 100,000 people or more (data/filters/census_surnames.txt)."""
    return frozenset(w for w in SURNAMES_FILE.read_text(encoding="utf-8").splitlines() if w and not w.startswith("#"))


def lemma(word: str) -> str | None:
    """The WordNet lemma a word is, or whose plural it is ("Swans" -> swan), or None."""
    words = ordinary_words()
    w = word.lower().strip("'’")
    for cand in (w, w[:-1] if w.endswith("s") else "", w[:-2] if w.endswith("es") else "",
                 w[:-3] + "y" if w.endswith("ies") else ""):
        if len(cand) >= 3 and cand in words:
            return cand
    return None


def _a_name(word: str) -> bool:
    return word in pii_names.first_names() or word in pii_names.surnames() or word.lower() in census_surnames()


def ordinary_word(word: str) -> bool:
    """A capitalised word that is an ordinary English word and no known given name or surname ("Rhapsody",
    "Hatchet", "Swans"; not "Rose", "Baker", "Stone")."""
    return not _a_name(word) and lemma(word) is not None \
        and word.lower() not in GREETINGS and word.lower() not in PARTICLES


def _role(word: str) -> bool:
    """A noun for a person, which can go before a name as a title or role ("Captain", "Uncle", "Officer")."""
    base = lemma(word)
    return base is not None and "p" in ordinary_words()[base]


def _mid_sentence(text: str, start: int) -> bool:
    return not _SENTENCE_START.search(text, max(0, start - 3), start)


def _title_case_line(text: str, start: int) -> bool:
    """A headline or heading: four or more words on the line and nearly all of them capitalised."""
    a = text.rfind("\n", 0, start) + 1
    b = text.find("\n", start)
    words = _WORD.findall(text[a:b if b >= 0 else len(text)])
    return len(words) >= 4 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)


def _place(word: str) -> bool:
    return word in PLACE_WORDS or word in CODES or pii_places.fold(word) in pii_places.gazetteer()


def _name_in_a_phrase(text: str, s: Span, words: list[str]) -> bool:
    """A PERSON span holding an ordinary word, or a one-word one beside a capitalised ordinary word."""
    if len(words) > 1:
        rest = list(words)
        while len(rest) > 1 and (_role(rest[0]) or rest[0].lower() in GREETINGS):
            rest.pop(0)  # "Captain Haddock", "Officer Diaz": a role before the name
        return any(ordinary_word(w) for w in rest)  # "Molly Hatchet", "Lindy Hop", "Bohemian Rhapsody"
    if _ROLE_BEFORE.search(text, max(0, s.start - 6), s.start) or _title_case_line(text, s.start):
        return False
    before = _CAP_WORD_BEFORE.search(text, max(0, s.start - 30), s.start)
    return bool(before) and _mid_sentence(text, before.start(1)) and ordinary_word(before.group(1)) \
        and not _role(before.group(1))  # "sang Sweet Caroline", "pull the Creeping Charlie"


def _place_in_a_phrase(text: str, s: Span, value: str) -> bool:
    """A place glued to a capitalised word that is no place, or after "X of" with X no kind of place."""
    if _title_case_line(text, s.start) or _NUMBER_BEFORE.search(text, max(0, s.start - 8), s.start):
        return False  # (a house number before it: "3 Millbrook Cottages, Hexham" is an address)
    words = value.split()
    if len(words) > 1 and pii_places.fold(value) not in pii_places.gazetteer():
        if pii_places.fold(" ".join(words[:-1])) in pii_places.gazetteer() and not _place(words[-1]) \
                and words[-1] not in MONTHS_DAYS:
            return True  # spaCy's "Dallas Cowboys"
    of = _OF_BEFORE.search(text, max(0, s.start - 30), s.start)
    if of and _mid_sentence(text, of.start(1)) and of.group(1) not in PLACE_WORDS \
            and pii_places.gazetteer().get(pii_places.fold(value), 0.8) < 0.8:
        return True  # a town after "X of": "the Congress of Vienna" (a country stays: "the Great Wall of China")
    for m, at in ((_CAP_WORD_BEFORE.search(text, max(0, s.start - 30), s.start), "before"),
                  (_CAP_WORD_AFTER.match(text, s.end), "after")):
        if m is None:
            continue
        word = m.group(1)
        if _place(word) or word in MONTHS_DAYS or pii_names.POSSESSIVE_END.search(word) \
                or any(c.isdigit() for c in word):
            continue  # "Boston MA", "Paris Monday", "Leeds LS1 4AB"
        if at == "before" and (not _mid_sentence(text, m.start(1)) and lemma(word) is not None):
            continue  # "Yesterday Paris was hot": an ordinary word starting the sentence
        if at == "before" and (_ROLE_BEFORE.search(word + " ") or re.search(r"-[a-z]", word)):
            continue  # "Dr Paris", "Nazi-occupied France"
        return True  # "Manchester United", "Real Madrid", "Chicago Bears", "FC Barcelona", "Kentucky Fried Chicken"
    return False


def part_of_a_thing_name(text: str, s: Span) -> bool:
    """Whether a PERSON or LOCATION span without a strong cue is part of a longer proper noun naming a thing
    (see the module)."""
    if s.source in STRONG_SOURCES or s.entity not in ("PERSON", "LOCATION"):
        return False
    value = pii_names.POSSESSIVE_END.sub("", text[s.start:s.end])
    if not value[:1].isupper() or any(c.isdigit() for c in value):
        return False
    if s.entity == "PERSON":
        return _name_in_a_phrase(text, s, value.split())
    return _place_in_a_phrase(text, s, value)


def vehicle_model(text: str, s: Span) -> bool:
    """A car make and the capitalised word after it ("Kia Sorento", "Ford Mondeo", "Seat Leon"), unless the
    make is also a given name and the other word a surname ("Morgan Freeman", "Mercedes Lopez")."""
    if s.source in STRONG_SOURCES:
        return False
    words = text[s.start:s.end].split()
    before = _CAP_WORD_BEFORE.search(text, max(0, s.start - 30), s.start)
    if words and words[0] in VEHICLE_MAKES and len(words) > 1:
        make, model = words[0], words[1]
    elif before and before.group(1) in VEHICLE_MAKES:
        make, model = before.group(1), words[0] if words else ""
    else:
        return False
    return not (make in pii_names.first_names() and model in pii_names.surnames())
