"""Descriptions matched against the cards (painref.find.descriptions), on the shipped knowledge base."""

from __future__ import annotations

import pytest

from painref.find.names import Index
from painref.kb import load_directory
from tests.conftest import FIXTURE_KB, index_of


@pytest.fixture(scope="module")
def shipped() -> Index:
    from painref.dirs import builtin_data_dir

    return index_of(load_directory(builtin_data_dir()))  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Names tie (stenosis and spondylolisthesis both say "legs" and "standing"); the stenosis card says the rest.
        ("heavy numb legs standing in line at the store, better leaning on a cart", "spinal-stenosis"),
        ("burning shooting pain down the back of my leg to my foot", "sciatica"),
    ],
)
def test_a_description_is_settled_by_the_card_that_says_most_of_it(shipped: Index, query: str, expected: str) -> None:
    best = shipped.match(query).best
    assert best is not None and best.id == expected


def test_a_description_no_name_matches_is_settled_by_the_cards(shipped: Index) -> None:
    # No name scores it at all; disc cards say nearly every word.
    best = shipped.match("numbness in one leg and a herniation on the MRI").best
    assert best is not None and best.id in {"disc-protrusion", "herniated-disc", "lumbar-radiculopathy", "sciatica"}


def test_a_description_only_one_card_says_much_of_is_settled(shipped: Index) -> None:
    # "frail" and "crepitus" are on no card, which keeps every fit low; only one card says the rest.
    best = shipped.match("frail, crepitus, lost height, sharp mid back pain").best
    assert best is not None and best.id == "vertebral-compression-fracture"


def test_four_words_nearly_all_on_one_card_settle(shipped: Index) -> None:
    best = shipped.match("shoulder grinding overhead reach").best
    assert best is not None and best.id == "shoulder-osteoarthritis"


def test_a_word_no_card_says_does_not_sink_a_description(shipped: Index) -> None:
    # "blistery" and "frail" are on no card: they weigh nothing, and the card that says the rest wins.
    best = shipped.match("burning skin where the blistery shingles rash was, frail").best
    assert best is not None and best.id == "postherpetic-neuralgia"


def test_pronouns_are_function_words(shipped: Index) -> None:
    # "she", "his", "her" say who, not what: they neither sink a name nor pull toward a card that has them.
    for query in ("she has sciatica", "his sciatica", "her sciatica is worse"):
        best = shipped.match(query).best
        assert best is not None and best.id == "sciatica", query


def test_a_description_no_card_settles_suggests_the_cards_that_say_most_of_it(shipped: Index) -> None:
    # Neuropathy and stenosis cards both say heavy or numb legs and feet: no confident answer, both suggested.
    result = shipped.match("heavy legs after a short walk, numb feet")
    assert result.matches == []
    assert "spinal-stenosis" in [hit.id for hit in result.suggestions][:3]


def test_a_case_note_is_settled_by_its_findings(shipped: Index) -> None:
    best = shipped.match("old man, stiff neck, numb fingers, keeps tripping").best
    assert best is not None and best.id == "cervical-myelopathy"


@pytest.mark.parametrize("query", ["wrist ganglion cyst removal surgery", "shoulder replacement surgery recovery time"])
def test_a_description_of_something_else_is_not_settled(shipped: Index, query: str) -> None:
    assert shipped.match(query).matches == []


def test_common_words_a_card_lacks_still_count_against_it(shipped: Index) -> None:
    # The chronic migraine card says "every day for more than three months" but neither "low" nor "back":
    # common words, yet they are part of what was asked.
    best = shipped.match("low back pain every day for more than three months").best
    assert best is None or best.id != "chronic-migraine"


@pytest.mark.parametrize("who", ["older adult", "elderly woman", "young man"])
def test_who_has_it_does_not_say_what_it_is(shipped: Index, who: str) -> None:
    # Age and sex words weigh nothing: the description is settled by what it says of the shoulder.
    best = shipped.match(f"stiff grinding shoulder, can't reach overhead, {who}").best
    assert best is not None and best.id == "shoulder-osteoarthritis", who


def test_a_diagnosis_is_suggested_never_weighed() -> None:
    # The fixture's sciatica says "opposite leg is raised" only in its diagnosis: found, but only as a suggestion.
    index: Index = index_of(load_directory(FIXTURE_KB))  # type: ignore[assignment]
    result = index.match("opposite leg raised")
    assert result.matches == []
    assert [hit.id for hit in result.suggestions][:1] == ["sciatica"]
    assert result.unexplained == []  # a diagnosis accounts for its words


def test_a_test_named_in_a_diagnosis_suggests_its_condition(shipped: Index) -> None:
    result = shipped.match("freiberg sign")
    assert result.matches == [] and [hit.id for hit in result.suggestions][:1] == ["piriformis-syndrome"]


@pytest.mark.parametrize("query", ["tenderness", "sign", "examination"])
def test_a_word_many_diagnoses_say_suggests_nothing(shipped: Index, query: str) -> None:
    assert shipped.match(query).suggestions == []


def test_only_the_cards_whose_diagnosis_says_the_telling_word_are_suggested(shipped: Index) -> None:
    # "positive" and "test" are in other diagnoses (a positive Trendelenburg test); "spurling" in one.
    result = shipped.match("positive spurling test")
    assert result.matches == [] and [hit.id for hit in result.suggestions] == ["cervical-radiculopathy"]


def test_a_lay_term_is_typed_in_full_without_its_person_words(shipped: Index) -> None:
    # The lay term is "neck creaks like an old gate"; "old" says who, on the card as in the query.
    best = shipped.match("neck creaks like a gate").best
    assert best is not None and best.id == "spondylosis" and best.score == 100.0


def test_a_word_only_a_diagnosis_says_outranks_a_guess_at_a_name(shipped: Index) -> None:
    # "spurling" is also a near spelling of other cards' words; the one card that names the test comes first.
    result = shipped.match("spurling")
    assert result.matches == [] and [hit.id for hit in result.suggestions][:1] == ["cervical-radiculopathy"]


def test_diagnosis_and_exam_ask_about_the_condition_named(shipped: Index) -> None:
    for query in ("diagnosis of piriformis syndrome", "exam for SI joint pain", "signs of cervical myelopathy"):
        best = shipped.match(query).best
        assert best is not None and best.kind == "condition", query


def test_a_body_region_the_card_never_says_keeps_it_from_being_confident(shipped: Index) -> None:
    # The chronic migraine card says "every day", "more than three months"; it never says "knee".
    assert "chronic-migraine" not in [
        h.id for h in shipped.match("knee pain every day for more than three months").matches
    ]


def test_a_body_region_weighs_in_a_fit_though_most_cards_say_it(
    shipped: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    from painref.find import descriptions

    query = "pain at the dimple of my lower back on one side, worse on stairs"
    best = shipped.match(query).best
    assert best is not None and best.id == "sacroiliac-joint-dysfunction"
    monkeypatch.setattr(descriptions, "REGION_WEIGHT", 0.0)
    assert shipped.match(query).matches == []  # "back" weighed by idf alone: no clear fit
