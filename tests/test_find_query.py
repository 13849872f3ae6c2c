"""Reading a query before matching: comparisons, spinal levels, shorthand, bounds."""

from __future__ import annotations

import pytest

from painref.find.query import comparison, expand, negations, reading


@pytest.mark.parametrize(
    ("query", "sides"),
    [
        ("rfa vs esi", ["rfa", "esi"]),
        ("rfa compared with a steroid injection", ["rfa", "a steroid injection"]),
        ("how is kyphoplasty different from vertebroplasty?", ["how is kyphoplasty", "vertebroplasty"]),
        ("difference between kyphoplasty and vertebroplasty", ["kyphoplasty", "vertebroplasty"]),
        ("different from", None),
        ("compared with esi", None),
    ],
)
def test_comparisons_are_read_in_several_wordings(query: str, sides: list[str] | None) -> None:
    assert comparison(query) == sides


def test_negations_say_not() -> None:
    assert negations("my surgery didn't work") == "my surgery did not work"
    assert negations("I can’t sit, it won't stop") == "I cannot sit, it will not stop"
    assert negations("don") == "don"
    # Typed without the apostrophe, as in a hurry; words that merely end in "nt" are left alone.
    assert (
        negations("cant sit, fusion didnt help, it doesnt stop") == "cannot sit, fusion did not help, it does not stop"
    )
    assert negations("patient wants a point") == "patient wants a point"


@pytest.mark.parametrize(
    ("query", "read"),
    [
        ("70M with knee pain x2wks", "with knee pain"),
        ("pt c/o buttock pain, 45yo", "pt buttock pain,"),
        ("80 y/o woman, thin bones", "woman, thin bones"),
        ("L5 pain for 3 months", "lumbar pain for 3 months"),  # a duration in words is kept
        ("45-year-old woman, 80 y.o. man, 45yoF", "woman, man,"),
        ("C/O pain X2wks, h/o fusion x 1 yr", "pain , fusion"),
        ("5F catheter, 10 M lidocaine at L4-5", "5F catheter, 10 M lidocaine at lumbar"),  # sizes, not ages
    ],
)
def test_a_notes_age_sex_and_duration_are_left_out(query: str, read: str) -> None:
    assert " ".join(reading(query).split()) == read


def test_shorthand_stands_for_its_word_in_the_plural_too() -> None:
    assert [expand(w) for w in ("inj", "injs", "fxs", "stim", "facet", "us")] == [
        "injection", "injection", "fracture", "stimulator", "facet", "us",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "read"),
    [
        ("L4-5 facet", "lumbar facet"),
        ("c-spine rfa", "cervical rfa"),
        ("T12 fracture", "thoracic fracture"),
        ("L5-S1 disc", "lumbar disc"),
        ("C9 rfa", "C9 rfa"),  # no such level: left as typed
        ("L7 and S6", "L7 and S6"),
    ],
)
def test_spinal_levels_name_a_region(query: str, read: str) -> None:
    assert reading(query) == read


def test_patterns_run_over_a_bounded_query() -> None:
    assert comparison("\r" * 100_000) is None and comparison("rfa  vs  esi") == ["rfa", "esi"]
    assert len(reading("x" * 100_000)) <= 800
