"""Known answers for names inside longer proper nouns (pii_compounds: a name made with an ordinary word, a
place glued to a word that is no place, a town after "X of", a car make and its model) and for names the
sentence calls a thing (pii_context: "the song X", a ship prefix, "dressed up as X", "X, played by", "X by
the Y"). Each class in
real-looking text is not PII, and the nearest private person or place of someone in the same kind of text
still is, so a rule cannot pass by finding nothing. Runs with the spaCy model, like the stage's defaults.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dsforge.filters import pii_compounds

sys.path.insert(0, str(Path(__file__).parent))
from pii_answers import check_pair, found  # noqa: E402

# (look-alike in context, real PII in the same kind of context, the PII that must be found there)
PAIRS = {
    "a band named with an ordinary word": (
        "Road trip playlist: Iron Maiden, then Molly Hatchet, then something calmer.",
        "Road trip with Molly Tucker, then lunch with the cousins, then something calmer.",
        ("PERSON", "Molly Tucker")),
    "a one-word name after a capitalised ordinary word": (
        "The barman's special this month is the Flaming Ronnie, served in a tall glass.",
        "The barman's special this month was invented by Ronnie Achterberg, our head bartender.",
        ("PERSON", "Ronnie Achterberg")),
    "an operating-system codename": (
        "Our build servers still run Debian Bookworm with the backports kernel.",
        "Our build servers are looked after by Dagrun Bokmoen on weekends.",
        ("PERSON", "Dagrun Bokmoen")),
    "a dance named with an ordinary word; a Census surname that is a word": (
        "Please file the dance notes under Lindy Hop, not under Balboa.",
        "Please file the dance notes for Bronwyn Sweet, not for the others.",
        ("PERSON", "Bronwyn Sweet")),
    "a football club with a city in its name": (
        "Tickets for the cup tie against Manchester United go on sale Friday.",
        "Tickets were sent to her flat in Manchester on Friday.",
        ("LOCATION", "Manchester")),
    "a chain named after a state": (
        "Lunch options near the office: Kentucky Fried Chicken or the noodle bar.",
        "She grew up in Kentucky and moved to the office here in 2019.",
        ("LOCATION", "Kentucky")),
    "a town after a word that is no kind of place": (
        "Her thesis is on the Congress of Vienna and the balance of power.",
        "Her thesis was posted from Vienna to the examiners last week.",
        ("LOCATION", "Vienna")),
    "a car make and its model": (
        "Fleet lease: 6 x Kia Stonic and 2 x Toyota Corolla, 24 months.",
        "Fleet lease signed by Kiana Stonehouse for 24 months.",
        ("PERSON", "Kiana Stonehouse")),
    "a car model that is a town": (
        "Fleet check: the Hyundai Tucson is due for its first service.",
        "Fleet check: the driver moved to Tucson last month.",
        ("LOCATION", "Tucson")),
    "a title after the noun for its kind": (
        "The band opened with the song Marisol, then two new ones.",
        "The band opened with a toast from Marisol Ferreira, then two new ones.",
        ("PERSON", "Marisol Ferreira")),
    "a costume": (
        "At the school fair the head teacher was dressed up as Willy Wonka.",
        "At the school fair the head teacher Wilhelmina Onka handed out prizes.",
        ("PERSON", "Wilhelmina Onka")),
    "a ship after its prefix": (
        "Cargo on the MV Helena Marsh was inspected at 06:00.",
        "Cargo signed for by Helena Marsh was inspected at 06:00.",
        ("PERSON", "Helena Marsh")),
    "a character someone plays in a game": (
        "Replaying as Arthur Morgan and the camp chores are still the best part.",
        "Replaying the level with Arthur Morgan from next door, he is still the best part.",
        ("PERSON", "Arthur Morgan")),
    "a character and who plays it": (
        "This year Dolores Quiggin, played by our head of science, steals the show.",
        "This year Dolores Quiggin, our head of science, steals the show.",
        ("PERSON", "Dolores Quiggin")),
    "a title and its maker": (
        "Her audition piece is Marguerite by the Weathervanes.",
        "Her audition piece was picked by Marguerite Oyelaran.",
        ("PERSON", "Marguerite Oyelaran")),
    "a pub written as 'The' and a rank": (
        "Darts league: the home side lost to The Admiral Rodney 5-3.",
        "Darts league: the home side lost to a team led by Rodney Ashworth 5-3.",
        ("PERSON", "Rodney Ashworth")),
    "a full name before a term of science": (
        "The onboarding copy leans on the Sandor Mihaly effect and should be reworded.",
        "The onboarding copy was written by Sandor Mihaly and should be reworded.",
        ("PERSON", "Sandor Mihaly")),
    "a first name before a term only mathematics uses": (
        "Tutorial 4 proves Maria's lemma and then the main bound.",
        "Tutorial 4 is taken by Maria Vandermeer this week.",
        ("PERSON", "Maria Vandermeer")),
}


@pytest.mark.parametrize("case", list(PAIRS))
def test_thing_name_is_not_pii_and_the_private_one_is(case):
    check_pair(case, *PAIRS[case])


def test_kept_roles_greetings_addresses_and_places_next_to_places():
    assert ("PERSON", "Haddock") in found("Tell Captain Haddock the boat is ready.") \
        or ("PERSON", "Captain Haddock") in found("Tell Captain Haddock the boat is ready.")
    assert ("PERSON", "Aroha Tuck") in found("Signed for by Aroha Tuck at reception.")  # Census: Tuck is a surname
    assert ("LOCATION", "Tucson") in found("She moved to Tucson AZ in 2020 for the job.")
    assert [v for e, v in found("She flew from Lyon France to Leeds on Monday.")] == ["Lyon", "France", "Leeds"]
    assert ("LOCATION", "China") in found("We visited the Great Wall of China in May.")  # a country stays
    assert any(v.startswith("3 Millbrook") or v == "Hexham" for e, v in found(
        "Deliver to 3 Millbrook Cottages, Hexham NE46 1AA before noon.") if e == "LOCATION")
    # a make that is also a given name, before a surname, is a person
    assert ("PERSON", "Morgan Freeman") in found("Please call Morgan Freeman about the invoice.")


def test_a_name_starting_a_clause_or_before_a_deadline_stays():
    assert ("PERSON", "Priya Raman") in found("The book Priya Raman lent me is overdue.")
    assert ("PERSON", "Priya Raman") in found("Send the form to Priya Raman by Friday.")


def test_ordinary_word_tables():
    assert pii_compounds.ordinary_word("Rhapsody") and pii_compounds.ordinary_word("Swans")
    assert not pii_compounds.ordinary_word("Stone")  # a surname as well (Faker and Census)
    assert not pii_compounds.ordinary_word("Tuck")   # Census only
    assert not pii_compounds.ordinary_word("Kealoha")  # no English word
    assert len(pii_compounds.ordinary_words()) > 60_000 and len(pii_compounds.census_surnames()) > 18_000
