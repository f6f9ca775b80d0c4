"""Precision rules: spans a recogniser found that name no one, judged from the words around them.

    not_a_name(text, span)       # PERSON/LOCATION that is an eponym, a product, an acronym or a citation
    placeholder_secret(value)    # a documentation key or a template value, not a credential

Why here and not in the recognisers: the same span comes from spaCy, the name gazetteer or a cue, and the
evidence against it (what follows it, an article before it) is the same whichever found it.
- Eponyms: a name right before a term of science, medicine or software ("Hooke's law", "the Doppler
  effect", "Prim's algorithm", "Hodgkin lymphoma", "our Kafka cluster") names an idea or a thing. Only a
  single word that is not a known first name and has no title before it: "Kenji's code" and "Dr
  Watanabe's test results" stay. (Round 10) A full name right before such a term with no possessive ("the
  Ben Franklin effect"), and any name before a term only mathematics uses ("Zeno's paradox").
- An indefinite article before a capitalised run holding the span ("a Porsche Cayenne", "a Hopfield
  network"): people are not counted with "a"; a title in between ("a Dr. Okafor") keeps it, and so does a
  full name before a participle or a word that is no noun ("a John Smith waiting"). (Round 13) Before a
  noun the name is a maker's or a famous person's ("a Paul Smith scarf", "a James Baldwin book").
- A name right after Hurricane / Storm / Typhoon / Cyclone is a storm's.
- A one-word all-capitals PERSON of up to five letters is an acronym or a unit (GB, NAICS); one followed
  by a version number is a product ("Chrome 114.0.5406.153").
- A place between two numbers is a law report or a code ("333 U.S. 55"), not where someone is.
- General evidence against a name, from the sixth look-alike set's round (bench/RESULTS-pii.md):
  - the head of a larger proper-noun phrase: a name followed (within three more capitalised words) by an
    entity-type noun (ENTITY_HEADS: Day, Hospital, University, Prize, Telescope, Scale, ...) names that thing
    ("James Webb Space Telescope", "Johns Hopkins Hospital"); a possessive before a capitalised title names a
    work ("Tony Hawk's Pro Skater", "Rubik's Cube");
  - (round 6, from the seventh set) a span that ends in such a noun itself ("Arthur Ashe Stadium", "Abbey
    Road": street words are heads too, and a street without a house number is no address); a one-word name
    after "the" ("the David") or before an epithet ("Tony the Tiger"); a common or label noun before a
    number ("Bay 4", "Gate 12");
  - placeholder names, a small closed class in many languages (John Doe, Max Mustermann, 张三, 山田太郎), and
    Chinese names anonymised with 某 (王某, 李某某), are no one's;
  - drop_unsupported_names, for names with no strong cue: a longer span spaCy labels a thing (ORG, PRODUCT,
    WORK_OF_ART, EVENT, LAW, NORP) around the name; one word that only spaCy calls a person and that is no
    known first name nor part of a full name in the text; one word only spaCy calls a place, with no
    locative word before it;
  - (in pii_detect, with spaCy's tagger on a window) a weak name before a common noun modifies it ("Douglas
    fir", "Bunsen burner", "the Chandra pictures").
- A key or password that is a template ("sk-xxxxxxxx...", "AKIAIOSFODNN7EXAMPLE", "xoxb-your-token-here"):
  few distinct characters in its random part, or a placeholder word in it.

Not here: number-shaped look-alikes (pii._plausible_number), checksums (pii_checks), allow-lists (pii), names
the language knows (pii_known), names inside longer proper nouns (pii_compounds), names the words around them
call a thing (pii_context); not_a_name asks all three.
"""

from __future__ import annotations

import re

from dsforge.filters import pii_compounds, pii_context, pii_known, pii_names
from dsforge.filters.pii_spans import STRONG_SOURCES, Span

TERM_NOUNS = ("law|laws|theorem|lemma|conjecture|hypothesis|axiom|algorithm|equation|equations|constant|principle"
              "|effect|transform|transformation|distribution|test|method|network|filter|process|distance|index|sequence"
              "|series|formula|rule|paradox|inequality|coefficient|function|matrix|space|curve|diagram|attractor"
              "|machine|coding|search|tree|heap|graph|problem|criterion|integral|operator|polynomial|triangle"
              "|exchange|elimination|chain|chains|estimator|correction|kernel|entropy|bound|blur|syndrome|disease"
              "|reaction|cycle|number|numbers|ratio|limit|metric|spiral|scale|sort|encoding|cipher|code"
              "|phenomenon|manoeuvre|maneuver|lymphoma|sarcoma|palsy|reflex|sign|procedure"
              "|cluster|server|broker|notebook|database|plugin|library|pipeline|instance"
              # a medical term by its suffix ("Hashimoto's thyroiditis", "Guillain-Barré neuropathy")
              r"|(?!diagnosis|prognosis|academia)[a-z]+(?:itis|osis|aemia|emia|pathy|plasia|algia|ectomy|otomy)")
# A storm's or a comet's name is not a person's ("Storm Dennis", "Typhoon Haiyan", "Comet McNaught").
_STORM = re.compile(r"(?:Hurricane|Storm|Typhoon|Cyclone|Tropical Storm|Tropical Depression|Comet)[ \t]+")
_EPONYM_AFTER = re.compile(rf"(?:'s|’s|'|’)?[ \t\-]+(?:{TERM_NOUNS})(?![A-Za-z])")
_TERM_AFTER = re.compile(rf"[ \t\-]+(?:{TERM_NOUNS})(?![A-Za-z])")
_STRONG_TERM_AFTER = re.compile(r"(?:'s|’s)?[ \t]+(?:theorem|lemma|conjecture|paradox|axiom|postulate|inequality)(?![A-Za-z])")
_ARTICLE_BEFORE = re.compile(r"(?:^|[^A-Za-z])(?:a|an|A|An)[ \t]+$")
_CAPITALISED_BEFORE = re.compile(r"(?:[A-Z][A-Za-z'’\-]*[ \t]+)+$")
_TITLE = re.compile(r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev)(?![A-Za-z])")
_TITLE_BEFORE = re.compile(r"(?<![A-Za-z])(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame|Rev)\.?[ \t]+$")
_VERSION_AFTER = re.compile(r"[ \t]+v?\d+(?:\.\d+)+")
_NEXT_WORD = re.compile(r"[ \t]+([a-z]+)")
_NUMBER_BEFORE = re.compile(r"\d[ \t]+$")
_NUMBER_AFTER = re.compile(r"[ \t]+\d")
_THE_BEFORE = re.compile(r"(?<![A-Za-z])the[ \t]+$")
# "Marbury v. Madison": the parties' names in a reported case's title
_CASE_AFTER = re.compile(r"[ \t]+(?:v|vs)\.?[ \t]+[A-Z]")
_CASE_BEFORE = re.compile(r"[A-Z][\w'’.\-]*[ \t]+(?:v|vs)\.?[ \t]+$")
_CASE_INSIDE = re.compile(r"[ \t](?:v|vs)\.?(?:[ \t]|$)")
_HYPHEN_WORD_AFTER = re.compile(r"-[a-z]")  # "Johnny-come-lately": a word, not a name
_BANK_OF_BEFORE = re.compile(r"(?:Bank|Banco|Banque|Company|Corporation)[ \t]+of[ \t]+(?:the[ \t]+)?$")
# Nouns that end the name of an institution, place, event, prize, instrument or law: a name followed by one
# (after at most three more capitalised words) is the head's modifier, not a person or a place of someone.
ENTITY_HEADS = ("Day|Night|Eve|Week|Hospital|Clinic|Infirmary|University|College|School|Academy|Institute|Museum"
                "|Gallery|Library|Center|Centre|Foundation|Trust|Fund|Society|Association|Prize|Award|Medal|Trophy"
                "|Cup|Championship|Games|Lecture|Fellowship|Scholarship|Bridge|Tunnel|Dam|Airport|Station|Stadium"
                "|Arena|Park|Gardens|Hall|Theatre|Theater|Church|Cathedral|Chapel|Temple|Mosque|Memorial|Monument"
                "|Tower|Building|Hotel|Telescope|Observatory|Probe|Rover|Satellite|Mission|Programme|Program"
                "|Scale|Syndrome|Disease|Law|Act|Theorem|Effect|Principle|Festival|Parade|Marathon|Stakes"
                "|Company|Corporation|Group|Institution|Laboratory|Laboratories|Lab|Labs"
                # street words: a street's name without a house number is neither a person nor an address
                "|Street|Road|Avenue|Lane|Boulevard|Terrace|Crescent|Highway|Alley|Square|Drive|Garden"
                # corporate designators: a place in a firm's name is not where someone is
                "|Bank|Brewery|Distillery|Bakery|Dairies|Dairy|Ltd|Limited|Inc|Corp|plc|PLC|LLC|LLP|GmbH|Holdings"
                "|Airlines|Airways|Motors|Insurance|Railways")
_ENTITY_HEAD_AFTER = re.compile(rf"(?:'s|’s|\.)?(?:[ \t]+[A-Z][\w'’\-.]*){{0,3}}?[ \t]+(?:{ENTITY_HEADS})(?![\w'’])")
# A possessive name before a capitalised title: a work or product named after someone ("Tony Hawk's Pro
# Skater", "Rubik's Cube"); not before a capitalised word starting a new sentence or line.
_POSSESSIVE_TITLE_AFTER = re.compile(r"(?<=\w)(?:'s|’s)[ \t]+[A-Z][a-z]")
# "Tony the Tiger", "Paul the Octopus", "Alexander the Great": a one-word name with a capitalised epithet
_EPITHET_AFTER = re.compile(r"[ \t]+the[ \t]+[A-Z][a-z]+")
_HEAD_LAST = re.compile(rf"[ \t](?:{ENTITY_HEADS})$")
_CJK_NAME = re.compile(r"[\u4e00-\u9fff·]{2,4}")
PLACEHOLDER_NAMES = frozenset("""
John Doe|Jane Doe|John Q. Public|John Q Public|Jane Q. Public|Richard Roe|Jane Roe|Joe Bloggs|Jane Bloggs|Fred Bloggs
|Joe Public|John Smith Doe|Fred Nurk|A. N. Other|Max Mustermann|Erika Mustermann|Otto Normalverbraucher
|Mario Rossi|Maria Rossi|Juan Pérez|Juan Perez|Fulano de Tal|Fulano|Beltrano|Sicrano|Jan Kowalski|Jan Jansen
|Jean Dupont|Pierre Dupont|Jean Dupond|Marie Dupont|Ivan Ivanov|Ivan Ivanovich Ivanov|Matti Meikäläinen
|Kari Nordmann|Ola Nordmann|Jan Modaal|Tommy Atkins|Average Joe|Joe Sixpack|Anna Svensson|Sven Svensson
|张三|李四|王五|赵六|钱七|小明|小红|山田太郎|山田花子|田中太郎|홍길동|김철수
""".replace("\n", "").split("|"))


def _someone_called(text: str, s: Span, toks: list[str]) -> bool:
    """A full name (known first name first) after "a" and before a word that is no noun, or a participle: "a
    John Smith waiting in reception", "a Maria Lopez called", where the article means someone of that name.
    Before a noun the article belongs to the noun and the name to a maker or a famous person ("a James Baldwin
    book", "a Paul Smith scarf", "an Anton Piller order"); before a function word it belongs to the name, which
    is a product ("a Porsche Cayenne with ...")."""
    from spacy.lang.en.stop_words import STOP_WORDS

    after = _NEXT_WORD.match(text, s.end)
    if not (len(toks) > 1 and toks[0] in pii_names.first_names() and after is not None):
        return False
    word = after.group(1)
    return word not in STOP_WORDS and ("n" not in pii_compounds.ordinary_words().get(word, "")
                                       or word.endswith(("ing", "ed")))


def _with_words_before(text: str, start: int, value: str) -> str:
    """The span with the capitalised words right before it (a name list trims "John" off "John Doe")."""
    run = _CAPITALISED_BEFORE.search(text, max(0, start - 24), start)
    return (run.group() if run else "") + value


_PLACEHOLDER_NAME_WORD = re.compile(r"(?i)(?<![a-z])(?:firstname|lastname|surname|forename|givenname|testerson|placeholder"
                               r"|dummy)(?![a-z])")


def placeholder_name(value: str) -> bool:
    """A stand-in for a name, not anyone's: the placeholder names of forms and manuals in several languages
    (John Doe, Max Mustermann, Mario Rossi, 张三, 山田太郎, ...) and Chinese names anonymised with 某 (王某, 李某某)."""
    words = value.split()
    v = " ".join(words)
    return any(" ".join(words[i:]) in PLACEHOLDER_NAMES for i in range(len(words))) or bool(_PLACEHOLDER_NAME_WORD.search(v)) \
        or (bool(_CJK_NAME.fullmatch(v)) and "某" in v)


def not_a_name(text: str, s: Span, public_names: bool = True) -> bool:
    """Whether a PERSON or LOCATION span is an eponym, a product, an acronym or a citation (see the module);
    with `public_names`, also a name the language knows or a labelling word (pii_known)."""
    value = text[s.start:s.end]
    if s.entity == "PERSON" and placeholder_name(_with_words_before(text, s.start, value)):
        return True
    if not value[:1].isupper():
        return False  # street addresses start with their number
    if public_names and (pii_known.lexicalised_name(text, s) or pii_known.label_name(text, s)):
        return True  # "Abraham Lincoln", "Eggs Benedict" (WordNet); "Team Charlie", Alice and Bob (closed classes)
    if pii_compounds.part_of_a_thing_name(text, s) or pii_context.called_a_thing(text, s) \
            or (public_names and pii_compounds.vehicle_model(text, s)):
        return True  # "Lindy Hop", "Manchester United", "Congress of Vienna"; "Kia Sorento" (a closed class)
    toks = value.split()
    if not any(c.isdigit() for c in value) and (  # (not a street address: "Flat 12, 42 Queen's Drive")
            _ENTITY_HEAD_AFTER.match(text, s.end) or _POSSESSIVE_TITLE_AFTER.match(text, s.end)
            or (s.entity == "PERSON" and _POSSESSIVE_TITLE_AFTER.search(value))):
        return True  # "James Webb Space Telescope", "Johns Hopkins Hospital", "Sid Meier's Civilization"
    if s.source not in STRONG_SOURCES and (_CASE_AFTER.match(text, s.end) or _CASE_INSIDE.search(value)
                                           or _CASE_BEFORE.search(text, max(0, s.start - 40), s.start)):
        return True  # "Miranda v. Arizona", "Gideon v. Wainwright"
    if s.entity == "LOCATION" and _BANK_OF_BEFORE.search(text, max(0, s.start - 30), s.start):
        return True  # "Bank of America", "Royal Bank of Scotland"
    if s.entity == "PERSON" and len(toks) == 1 and _HYPHEN_WORD_AFTER.match(text, s.end):
        return True  # "Johnny-come-lately"
    if s.entity == "PERSON" and not any(c.isdigit() for c in value) and _HEAD_LAST.search(value):
        return True  # "Arthur Ashe Stadium", "Abbey Road": the span holds the entity-type noun itself
    if _TITLE_BEFORE.search(text, max(0, s.start - 6), s.start):
        return False  # "Dr Watanabe's test", "a Dr. Okafor"
    if _STORM.match(value) or re.search(rf"(?:{_STORM.pattern})$", text[max(0, s.start - 24):s.start]):
        return True
    run = _CAPITALISED_BEFORE.search(text, max(0, s.start - 40), s.start)  # "a Porsche " before "Cayenne"
    run_start = run.start() if run else s.start
    if _ARTICLE_BEFORE.search(text, max(0, run_start - 6), run_start) and not _TITLE.search(text, run_start, s.start) \
            and not _someone_called(text, s, toks):
        return True
    before = text[max(0, s.start - 6):s.start]
    if len(toks) == 1 and value not in pii_names.first_names() and _EPONYM_AFTER.match(text, s.end):
        return True
    if (len(toks) > 1 and _TERM_AFTER.match(text, s.end)) or _STRONG_TERM_AFTER.match(text, s.end):
        return True  # "the Ben Franklin effect" (a full name, no possessive); "Zeno's paradox" (even a first name)
    if s.entity == "PERSON" and len(toks) == 1 and ((value.isupper() and len(value) <= 5)
                                                     or _VERSION_AFTER.match(text, s.end)):
        return True
    if len(toks) == 1 and s.source not in STRONG_SOURCES and (
            (s.entity == "PERSON" and (_THE_BEFORE.search(before)  # "the David", "the Thinker": a work
                                       or _EPITHET_AFTER.match(text, s.end)))  # "Tony the Tiger"
            or ((value in pii_known.LABEL_NOUNS or (s.entity == "PERSON" and value.lower() in pii_names.common_words()))
                and _NUMBER_AFTER.match(text, s.end))):  # "Bay 4", "Gate 12": a label and its number ("Nice 06000" stays)
        return True
    return s.entity == "LOCATION" and bool(_NUMBER_BEFORE.search(before)) and bool(_NUMBER_AFTER.match(text, s.end))


_NAME_WORD_BEFORE = re.compile(r"(?<![\w'’])[A-ZÀ-Þ][a-zà-ÿ]+[ \t]+$")  # "Elif Demir": spaCy found only "Demir"
_SPEAKER_AT = re.compile(r"[ \t]*:")  # "[10:42] Tendai: ..." (a chat speaker)
_LINE_START = re.compile(r"(?:^|[\n.!?][ \t]*|[\n.!?]\s*\[[\d:]+\][ \t]*)$")
_LOCATIVE_BEFORE = re.compile(r"(?i)(?:\b(?:in|at|from|to|near|into|outside|around|across|via|of|visit|visited"
                              r"|visiting|based|born|lives|living|moved|toward|towards)|,)[ \t]+$")


def drop_unsupported_names(text: str, spans: list[Span]) -> list[Span]:
    """Names with only one weak signal, judged against the other spans of the same text (so after every
    recogniser has run; spans with a strong cue are never touched):
    - inside a longer span spaCy labels a thing (ORG, PRODUCT, WORK_OF_ART, EVENT, LAW, LANGUAGE, NORP), or the
      same span labelled PRODUCT / WORK_OF_ART / EVENT / LAW when only one signal supports the name: "Roman" in
      "Times New Roman", "Madden" in "Madden NFL"; a place inside an ORG stays ("University of Leipzig");
    - one word that spaCy alone calls a PERSON, that is no known first name, no part of a full name in the same
      text, not right after a capitalised word and not a chat speaker ("Kepler", "Spitzer");
    - one word that spaCy alone calls a place, that the gazetteer does not know, with no locative word before
      it ("in", "at", "from", "near", ...); (round 13) words spaCy alone calls a place that are all English
      words ("Big Slick", "Warm Honey").
    The thing-label spans themselves are removed here (they are evidence, not PII)."""
    names = [s for s in spans if s.entity not in pii_names.THING_LABELS]
    things = [_without_possessive(text, t) for t in spans
              if t.entity in pii_names.THING_LABELS and not _sentence_word_only(text, t, spans)]
    strong = [s for s in names if s.entity == "PERSON" and s.source in STRONG_SOURCES]
    full_name_words = {w for s in names if s.entity == "PERSON" and len(text[s.start:s.end].split()) > 1
                       for w in text[s.start:s.end].split()}
    return [s for s in names if s.entity not in ("PERSON", "LOCATION") or s.source in STRONG_SOURCES
            or any(c.start < s.end and s.start < c.end for c in strong)
            or _supported(text, s, names, things, full_name_words)]


def _supported(text: str, s: Span, names: list[Span], things: list[Span], full_name_words: set[str]) -> bool:
    value = text[s.start:s.end]
    signals = {o.source for o in names if o.entity == s.entity and o.start < s.end and s.start < o.end}
    for t in things:
        if s.entity == "LOCATION" and t.entity == "ORG":
            continue
        longer = t.start <= s.start and s.end <= t.end and t.end - t.start > s.end - s.start
        same = (t.start, t.end) == (s.start, s.end) and t.entity not in ("ORG", "NORP") and len(signals) < 2
        if longer or same:
            return False
    words = value.split()
    if s.entity == "LOCATION" and s.source == "ner" and len(words) > 1 and not any(
            w in pii_compounds.PLACE_WORDS for w in words) and all(pii_compounds.lemma(w) for w in words):
        return False  # "Big Slick", "Warm Honey": English words only spaCy calls a place ("Mount Fuji" stays)
    if len(words) > 1 or s.source != "ner":
        return True
    if s.entity == "PERSON":
        return value in pii_names.first_names() or value in full_name_words or bool(_SPEAKER_AT.match(text, s.end)) \
            or _name_word_before(text, s.start)
    return bool(_LOCATIVE_BEFORE.search(text, max(0, s.start - 12), s.start))


def _name_word_before(text: str, start: int) -> bool:
    """A capitalised word right before that may itself be part of a name ("Elif Demir", spaCy found only
    "Demir"); not a capitalised common noun labelling what follows ("Team Charlie", "Project Juliet")."""
    m = _NAME_WORD_BEFORE.search(text, max(0, start - 30), start)
    if m is None:
        return False
    word = m.group().strip()
    return word in pii_names.first_names() or word.lower() not in pii_names.common_words()


def _without_possessive(text: str, t: Span) -> Span:
    """spaCy often ends a thing at a possessive ("Magnus Thorsen's" ORG): that 's is no extra word."""
    m = pii_names.POSSESSIVE_END.search(text, t.start, t.end)
    return Span(t.entity, t.start, m.start(), t.score, t.source) if m else t


def _sentence_word_only(text: str, thing: Span, spans: list[Span]) -> bool:
    """A thing span that is a name plus only the first word of its sentence ("Call Björn", "Recipient Rustam
    Nazarov"): spaCy's misreading of a capitalised sentence start, no evidence against the name."""
    for s in spans:
        if s.entity == "PERSON" and s.end == thing.end and s.start > thing.start:
            if len(text[thing.start:s.start].split()) == 1 and _LINE_START.search(text[:thing.start]):
                return True
    return False


_KEY_PREFIX = re.compile(r"^(?:sk-(?:proj-|ant-)?|gh[pousr]_|github_pat_|xox[abprs]-|[sr]k_(?:live|test)_|hf_|glpat-"
                         r"|AKIA|ASIA|ABIA|ACCA|AIza)")
_PLACEHOLDER_WORD = re.compile(r"(?i)example|your|here|placeholder|dummy|redacted|changeme|xxxx|\*\*\*\*|<|>")


def placeholder_secret(value: str) -> bool:
    """A template, not a credential: a placeholder word, or under 6 distinct characters after the prefix."""
    body = _KEY_PREFIX.sub("", value)
    return bool(_PLACEHOLDER_WORD.search(value)) or len(set(body.lower())) < 6
