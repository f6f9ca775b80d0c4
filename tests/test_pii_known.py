"""Known answers for the names the language knows (pii_known: WordNet's lemmas, the spelling alphabet, label
nouns, the cryptographers' cast), role salutations (pii_names) and Chinese names after a cue (pii_zh): each
class in real-looking text is not PII, and the nearest private person in the same kind of text still is, so a
rule cannot pass by finding nothing. Runs with the spaCy model, like the stage's defaults.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest

from dsforge.filters import pii, pii_known
from dsforge.pipelines import records
from dsforge.pipelines.stage import StageContext

sys.path.insert(0, str(Path(__file__).parent))
from pii_answers import check_pair, found, names  # noqa: E402


# (look-alike in context, real PII in the same kind of context, the PII that must be found there)
PAIRS = {
    "a famous person WordNet lists": (
        "The museum reopened the wing devoted to Abraham Lincoln and the Civil War.",
        "The museum reopened the wing donated by Tobiah Lindgren last spring.",
        ("PERSON", "Tobiah Lindgren")),
    "a dish named after someone": (
        "For a Tom Collins, shake gin, lemon and sugar, then top with soda.",
        "For the party Dagny Holloway shook gin, lemon and sugar, then topped it with soda.",
        ("PERSON", "Dagny Holloway")),
    "a name plus the noun of a lexicalised compound": (
        "Heat the sample over a Bunsen burner and pour it into a Petri dish.",
        "Heat the sample as Ifeoma Chukwu showed us and pour it into a dish.",
        ("PERSON", "Ifeoma Chukwu")),
    "a title plus a name that WordNet lists together": (
        "Please read the chapter on Queen Victoria before Tuesday.",
        "Please send the chapter to Helga Sørensen before Tuesday.",
        ("PERSON", "Helga Sørensen")),
    "a typeface with a word WordNet knows only as a thing": (
        "Brand guidelines: body text in Helvetica Neue 11 pt.",
        "Brand guidelines approved by Bartholomew Nakashima (design lead).",
        ("PERSON", "Bartholomew Nakashima")),
    "a run of the spelling alphabet": (
        "Your reference is spelled Kilo Lima Mike 4, not KLN4.",
        "Your reference was set up by Marek Nowicki in March.",
        ("PERSON", "Marek Nowicki")),
    "a name after a label noun": (
        "Project Juliet is paused until the budget review.",
        "Juliet Okonjo paused the project until the budget review.",
        ("PERSON", "Juliet Okonjo")),
    "the cryptographers' cast in a protocol": (
        "Alice encrypts the message with Bob's public key; Eve sees only the ciphertext.",
        "Sunita Reddy encrypts the file; Bogdan Petrescu holds the second key.",
        ("PERSON", "Sunita Reddy")),
    "a role after a greeting": (
        "Dear Hiring Manager,\nI am applying for the analyst role advertised last week.",
        "Dear Adaeze Nwachukwu,\nI am applying for the analyst role advertised last week.",
        ("PERSON", "Adaeze Nwachukwu")),
    "a label and its number": (
        "Park on Level 4, Bay 12 and take the lift.",
        "Park at 48 Wren Lane and take the lift.",
        ("LOCATION", "48 Wren Lane")),
    "a street's name without a house number": (
        "Vinyl reissue of Abbey Road, 180 g, gatefold sleeve - back in stock.",
        "Vinyl reissue sent to 14 Abbey Road, London NW8 9AY - back in stock.",
        ("LOCATION", "14 Abbey Road, London NW8 9AY")),
    "a venue named after someone": (
        "Tickets for Arthur Ashe Stadium go on sale Monday.",
        "Tickets for Arthur Okonkwo go on sale Monday, his agent says.",
        ("PERSON", "Arthur Okonkwo")),
    "a one-word name with an epithet": (
        "Every kid knows Tony the Tiger from the cereal box.",
        "Every kid knows Tony Ferrante from the cereal box.",
        ("PERSON", "Tony Ferrante")),
    "a genus before its epithet": (
        "Label the diagram: Homo sapiens and Homo neanderthalensis skulls.",
        "Label the diagram that Keziah Montrose drew of the skulls.",
        ("PERSON", "Keziah Montrose")),
    "a place inside the name of an event": (
        "Tell me more about the Battle of Waterloo.",
        "Tell me more about the flat she rented in Waterloo.",
        ("LOCATION", "Waterloo")),
    "a bank's routing number after its cue": (
        "Bank routing number (9 digits): 026009593",
        "Bank manager's mobile (after 6 pm): +1 415 862 3390",
        ("PHONE_NUMBER", "+1 415 862 3390")),
    "the parties of a reported case": (
        "The lecture covers Miranda v. Arizona and what police must say.",
        "The lecture is given by Miranda Okeke and covers what police must say.",
        ("PERSON", "Miranda Okeke")),
    "a place in a firm's name": (
        "Dividend received from Bank of America and Jersey Dairies Ltd.",
        "Dividend cheque posted to 22 Kingsway, Jersey JE2 4WA.",
        ("LOCATION", "22 Kingsway, Jersey JE2 4WA")),
    "a word WordNet knows only as a food": (
        "The product page lists our Rioja as a Reserva but the label says Crianza.",
        "The product page lists our shop in Logroño, but the label says Haro.",
        ("LOCATION", "Logroño")),
    "a name in a hyphenated word": (
        "No Johnny-come-lately suggestions after Friday please, the menu is final.",
        "No suggestions from Johnny Castellanos after Friday please, the menu is final.",
        ("PERSON", "Johnny Castellanos")),
    "a possessive name in a lexicalised compound": (
        "By Murphy's law the build broke on release day.",
        "By Aoife Murphy's count the build broke on release day.",
        ("PERSON", "Aoife Murphy")),
    "a comet's name": (
        "Comet McNaught was visible in daylight in January 2007.",
        "Dr McNaught was visible in the lobby in January 2007.",
        ("PERSON", "McNaught")),
    "placeholder words in a name": (
        "Signature block: Firstname Lastname, Job Title",
        "Signature block: Ingrid Halvorsen, Job Title",
        ("PERSON", "Ingrid Halvorsen")),
    "a department after a Chinese name cue": (
        "收件人：行政部\n地址见信封",
        "收件人：周婷婷\n地址见信封",
        ("PERSON", "周婷婷")),
    "a form filler after a Chinese name cue": (
        "姓名：本人　与申请人关系：本人",
        "姓名：王建华　与申请人关系：本人",
        ("PERSON", "王建华")),
    "a word after a Chinese cue word without a colon": (
        "患者白天嗜睡，夜间多梦。",
        "被告钱凤英，女，住址不详。",
        ("PERSON", "钱凤英")),
    "a Chinese honorific after a word": (
        "各位老师请注意，本周阅读课改到周四。",
        "本周阅读由唐晓峰老师负责，请写读后感。",
        ("PERSON", "唐晓峰")),
}


@pytest.mark.parametrize("case", list(PAIRS))
def test_known_name_is_not_pii_and_the_private_person_is(case):
    check_pair(case, *PAIRS[case])


def test_cues_and_private_uses_keep_a_name():
    # a cue says whose name it is, even when it is a famous one
    assert ("PERSON", "Abraham Lincoln") in found("Name: Abraham Lincoln\nDOB: 12/02/1961")
    # one cryptographer's name without protocol words is a person; so is a spelling word on its own
    assert ("PERSON", "Alice") in found("Ask Alice about the invoice she sent the landlord.")
    assert ("PERSON", "Mike") in found("Please call Mike about the invoice.")
    # kin and rank words are not label nouns
    assert ("PERSON", "Charlie") in found("Uncle Charlie takes the car park, we take the gate.")
    # places WordNet lists stay places; a private name before an ordinary noun stays a name
    assert ("LOCATION", "Georgia") in found("She moved to Georgia in 2019.")
    assert ("PERSON", "Marguerite Okafor") in found("Marguerite Okafor tea party is on Friday.")


def test_public_names_off_tags_them_like_any_name():
    text = "The museum reopened the wing devoted to Abraham Lincoln."
    assert names(text) == []
    assert ("PERSON", "Abraham Lincoln") in found(text, public_names=False)
    df = records.from_rows([{"id": "t:0", "source": "t", "kind": "instruction", "instruction": text,
                             "response": "ok"}])
    ctx = StageContext(work_dir=Path("."))
    kept = pii.Pii({"action": "redact"}).process(df, ctx).kept
    off = pii.Pii({"action": "redact", "public_names": False}).process(df, ctx).kept
    assert kept["instruction"][0] == text
    assert off["instruction"][0] == "The museum reopened the wing devoted to <PERSON>."
    assert isinstance(off, pl.DataFrame)


def test_wordnet_table_holds_people_things_and_compounds():
    known = pii_known.wordnet_names()
    assert "person!" in known["abraham lincoln"]  # an instance: one named individual
    assert "food" in known["eggs benedict"] and "artifact" in known["bunsen burner"]
    assert any(c.startswith("location") for c in known["georgia"])
    assert "alice" not in known  # not every first name is in WordNet: the closed classes cover the cast
    assert len(known) > 40_000
