"""The search evaluation set: top-1 >= 97 %, top-3 = 100 %, no confident match on negatives."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from painref.dirs import builtin_data_dir
from painref.find.names import Index
from painref.kb import load_directory as load_uncached
from tests.conftest import index_of

EVAL = yaml.safe_load((Path(__file__).parent / "data" / "search_eval.yaml").read_text())


@pytest.fixture(scope="module")
def index() -> Index:
    return index_of(load_uncached(builtin_data_dir()))  # type: ignore[return-value]


def ranked(index: Index, query: str) -> list[str]:
    result = index.match(query)
    return [h.id for h in result.matches + result.suggestions]


def test_the_set_is_big_enough() -> None:
    assert len(EVAL["positives"]) >= 150
    assert len(EVAL["negatives"]) >= 30


def test_accuracy(index: Index) -> None:
    positives = EVAL["positives"]
    top1 = top3 = 0
    misses: list[str] = []
    for query, expected in positives:
        got = ranked(index, query)
        confident = [h.id for h in index.match(query).matches]
        top1 += bool(confident) and confident[0] == expected
        top3 += expected in got[:3]
        if not (confident and confident[0] == expected):
            misses.append(f"{query!r} -> {got[:3]} (want {expected})")
    n = len(positives)
    print(f"\nsearch evaluation: {n} queries, top-1 {100 * top1 / n:.1f} %, top-3 {100 * top3 / n:.1f} %")
    for miss in misses:
        print("  miss:", miss)
    assert top3 == n, misses
    assert top1 / n >= 0.97, misses


def test_negatives_find_nothing_confident(index: Index) -> None:
    confident = {q: [h.id for h in index.match(q).matches] for q in EVAL["negatives"]}
    wrong = {q: ids for q, ids in confident.items() if ids}
    print(f"\nnegatives: {len(EVAL['negatives'])} queries, {len(wrong)} confident matches")
    assert wrong == {}
    assert all(len(index.match(q).suggestions) <= 5 for q in EVAL["negatives"])


def test_absent_procedures_are_not_passed_off_as_a_neighbour(index: Index) -> None:
    confident = {q: [h.id for h in index.match(q).matches] for q in EVAL["absent"]}
    assert {q: ids for q, ids in confident.items() if ids} == {}
    assert len(EVAL["absent"]) >= 10
