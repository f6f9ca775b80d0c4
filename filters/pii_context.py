"""A name the sentence itself says is a thing, a pet or a role, not a private person.

    called_a_thing(text, span)   # "the song Jolene", "our cat Luna", "dressed as Homer Simpson", "HMS Victory"

Why: the words right around a name often say what it names, whatever the name is. A noun for a work, a
product, a vessel or an animal right before it ("the album Rumours", "the racehorse Desert Orchid", "my dog
Max"), a ship prefix ("HMS", "USS"), a capitalised "The" ("The Lord Raglan" is a pub), a role or costume construction ("dressed up as", "cosplaying as", "the
role of", "starred as", "playing as" in a game, "X, played by Y"), or a title followed by "by" and its maker ("Jolene by Dolly
Parton") tell a name of a thing or of a character from a person's; no knowledge of the name is needed.

Kept: spans with a strong cue ("Name: Max"); nouns for people before a name ("the plumber Ahmed", "my
friend Luna"), which are not in these lists; a name starting a relative clause ("the book Priya lent me"); "by" followed by anything but a capitalised name ("call Priya by
Friday" stays: a weekday is no maker).

Not here: names of things with no such word around them ("Taylor Swift added another date"): pii_known and
pii_compounds judge the name itself; beyond them only world knowledge can tell.
"""

from __future__ import annotations

import re

from dsforge.filters.pii_spans import STRONG_SOURCES, Span

THING_NOUNS = ("song|songs|single|album|ballad|anthem|aria|opera|musical|symphony|film|movie|novel|book|poem"
               "|sitcom|series|episode|painting|portrait|sculpture|statue|videogame|app|yacht|ferry|liner|vessel"
               "|submarine|locomotive|rocket|spacecraft|probe|rover|robot|chatbot|supercomputer|cocktail|beer|ale"
               "|lager|wine|whisky|whiskey|cheese|font|typeface|cultivar|hurricane|typhoon|horse|racehorse|pony|dog"
               "|puppy|cat|kitten|parrot|hamster|rabbit|tortoise|goldfish|mascot|doll|puppet|character|codename"
               "|code name|perfume|fragrance|scent|lipstick|shade|paint|ship|boat|car|truck|ride|coaster|game|map")
_THING_BEFORE = re.compile(rf"(?i)(?<![\w'’])(?:the|a|an|my|our|his|her|their|your|its)[ \t]+"
                           rf"(?:(?:new|old|famous|classic|latest|favourite|favorite|first|debut|hit|pet|little|title)[ \t]+)?"
                           rf"(?:{THING_NOUNS})[ \t,:]*[\"'“‘]?$")
# After "the book Priya": a relative clause ("the book Priya lent me") keeps the name a person's.
_CLAUSE_AFTER = re.compile(r"['’”\"]?[ \t]+(?!(?:is|was|and|or|by|in|on|at|for|from|of|with|to|has|had|that|which|as"
                           r"|became|remains|topped|won|sold|got)(?![a-z]))[a-z]")
# (Not MS or MY: an upper-case "MS PRIYA PATEL" on a form is a title.)
_SHIP_PREFIX_BEFORE = re.compile(r"(?<![\w'’])(?:HMS|HMAS|HMCS|HMNZS|USS|USNS|RMS|SS|MV|RV)[ \t]+$")
_ROLE_BEFORE = re.compile(r"(?i)(?<![\w'’])(?:dressed(?:[ \t]+up)?[ \t]+as|disguised[ \t]+as|costumed?[ \t]+as"
                          r"|cosplay(?:s|ed|ing)?[ \t]+as|starr(?:ed|ing)[ \t]+as|stars[ \t]+as|the[ \t]+role[ \t]+of"
                          r"|the[ \t]+part[ \t]+of|voiced|voicing|(?:re)?play(?:s|ed|ing)?[ \t]+as)[ \t]+(?:the[ \t]+)?$")
# A capitalised "The" before a name, with a rank between or not: a pub, a band, a work ("The Lord Raglan",
# "The Duke of Wellington"); people are not written so, bar the styles of clergy and peers ("The Rev. Ann Lee").
_RANKS = r"Lord|Lady|Sir|Dame|Duke|Duchess|Earl|Count|Countess|King|Queen|Prince|Princess|Marquis|Marquess|Baron|Baroness"
_THE_BEFORE = re.compile(rf"(?<![\w'’])The[ \t]+(?:(?:{_RANKS}|Admiral|General|Captain|Colonel)[ \t]+(?:of[ \t]+)?)?$")
_THE_RANK_INSIDE = re.compile(rf"The[ \t]+(?:{_RANKS})[ \t]")
_PLAYED_BY_AFTER = re.compile(r"[ \t]*(?:,|\()?[ \t]*(?:played|voiced|portrayed)[ \t]+by(?![\w])")
_BY_MAKER_AFTER = re.compile(r"['\"’”]?[ \t]+by[ \t]+(?:the[ \t]+)?[A-Z][a-z]+")
_WEEKDAY_MONTH = re.compile(r"[ \t]+by[ \t]+(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January"
                            r"|February|March|April|May|June|July|August|September|October|November|December"
                            r"|Mon|Tue|Wed|Thu|Fri|Sat|Sun|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\b")


def called_a_thing(text: str, s: Span) -> bool:
    """Whether the words right around a PERSON span without a strong cue say it names a thing, an animal or a
    role, or a LOCATION span is spaCy's reading of a pub's name ("The Duke of Wellington") (see the module)."""
    if s.source in STRONG_SOURCES:
        return False
    if s.entity != "PERSON":
        return s.entity == "LOCATION" and bool(_THE_RANK_INSIDE.match(text, s.start))
    window = max(0, s.start - 50)
    if _THE_BEFORE.search(text, max(0, s.start - 30), s.start) or _THE_RANK_INSIDE.match(text, s.start):
        return True  # "The Lord Raglan", "The Sir Walter Raleigh"
    if (_THING_BEFORE.search(text, window, s.start) and not _CLAUSE_AFTER.match(text, s.end)) \
            or _SHIP_PREFIX_BEFORE.search(text, max(0, s.start - 8), s.start):
        return True  # "the song Jolene", "our cat Luna", "HMS Victory"
    if _ROLE_BEFORE.search(text, window, s.start) or _PLAYED_BY_AFTER.match(text, s.end):
        return True  # "dressed as Homer Simpson", "Widow Twankey, played by the head of maths"
    return bool(_BY_MAKER_AFTER.match(text, s.end)) and not _WEEKDAY_MONTH.match(text, s.end)
