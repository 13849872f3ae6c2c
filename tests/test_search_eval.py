"""Search evaluations: how often the right entry comes first.

* tests/data/search_blind.yaml: 715 queries written by someone who had seen only
  the entries' ids and names and the source documents, never the aliases, the
  tests or the search code, in kinds (names, abbreviations, typos, lay words,
  symptoms, questions, synonyms) and 126 negatives that must find nothing
  confident. `python tests/test_search_eval.py` prints the table the README shows.
* tests/data/search_heldout.yaml: 847 more, written the same way by another
  helper: only its table was ever looked at (its totals decide whether a change
  is kept), never which of its queries fail, so it measures how the search
  generalises.
* tests/data/search_vignettes.yaml: 250 descriptions of symptoms (five for each
  condition) as patients, triage nurses and residents type them, and 80 descriptions
  of conditions the knowledge base lacks, written by a helper who had seen only the
  conditions' ids and names, after the search was built. It showed how far
  descriptions generalised then (48 %); it has been used in development since, so it
  no longer measures that (the lay vocabulary was never written against it).
* tests/data/search_fresh.yaml: 275 more (119 symptoms, 50 lay, 38 questions, 68
  negatives), written by a helper who had seen only the entries' ids and names, in the
  round that added conditions' diagnoses (queries repeating another set were taken
  out). Measured first on the search as that round found it; since then only its
  totals were looked at, never which queries fail.
* tests/data/search_fifth.yaml: 228 more (69 symptoms, 57 negatives, 35 lay, 34
  questions and a few names), written by a helper who had seen only the entries' ids and
  names, in the round after the fresh set (queries repeating another set were taken out).
  Half of its descriptions of symptoms (`look: true`) may be read when they fail; the rest
  of it is measured by its totals only.
* tests/data/search_own.yaml: the project's earlier set, written beside the
  aliases (so it measures the author more than the search).

The asserted floors are what the search reaches today, kept from slipping; the
targets of the search issue are above some of them (see the README).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from painref.dirs import builtin_data_dir
from painref.find.names import Index
from painref.kb import load_directory
from painref.store import memory_store

HERE = Path(__file__).parent
BLIND = yaml.safe_load((HERE / "data" / "search_blind.yaml").read_text(encoding="utf-8"))["queries"]
HELDOUT = yaml.safe_load((HERE / "data" / "search_heldout.yaml").read_text(encoding="utf-8"))["queries"]
VIGNETTES = yaml.safe_load((HERE / "data" / "search_vignettes.yaml").read_text(encoding="utf-8"))["queries"]
FRESH = yaml.safe_load((HERE / "data" / "search_fresh.yaml").read_text(encoding="utf-8"))["queries"]
FIFTH = yaml.safe_load((HERE / "data" / "search_fifth.yaml").read_text(encoding="utf-8"))["queries"]
OWN = yaml.safe_load((HERE / "data" / "search_own.yaml").read_text(encoding="utf-8"))
KINDS = ("names", "abbreviations", "typos", "synonyms", "lay", "symptoms", "questions", "negatives")
# Top-1 floors per kind (percent): today's figures, rounded down, for each set.
FLOORS = {
    "names": 99,
    "abbreviations": 96,
    "typos": 98,
    "synonyms": 97,
    "lay": 93,
    "symptoms": 90,
    "questions": 97,
    "negatives": 99,
}
HELDOUT_FLOORS = {
    "names": 99,
    "abbreviations": 95,
    "typos": 95,
    "synonyms": 98,
    "lay": 95,
    "symptoms": 88,
    "questions": 96,
    "negatives": 98,
}


def evaluate(entries: Index, terms: Index, queries: list[dict] = BLIND) -> dict[str, tuple[int, int, int]]:
    """kind -> (top-1 right, top-3 right, queries). For a negative, "right" is no confident match.

    A query whose answers are all glossary terms is asked of the glossary (`painref define`).
    """
    term_ids = {row[1] for row in terms.all_entries()}
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for item in queries:
        expect = set(item["expect"])
        row = tally[item["kind"]]
        row[2] += 1
        result = (terms if expect and expect <= term_ids else entries).match(item["q"])
        if not expect:
            nothing = not result.matches
            row[0] += nothing
            row[1] += nothing
            continue
        ranked = [h.id for h in result.matches]
        top3 = [*ranked, *(h.id for h in result.suggestions)][:3]
        row[0] += bool(ranked) and ranked[0] in expect
        row[1] += any(i in expect for i in top3)
    return {kind: (a, b, n) for kind, (a, b, n) in tally.items()}


@pytest.fixture(scope="module")
def indexes() -> tuple[Index, Index]:
    store = memory_store(load_directory(builtin_data_dir()))
    return Index(store.db, "entries"), Index(store.db, "terms")


@pytest.mark.parametrize("queries", [BLIND, HELDOUT], ids=["blind", "heldout"])
def test_the_blind_sets_are_big_enough(queries: list[dict]) -> None:
    counts: dict[str, int] = defaultdict(int)
    for item in queries:
        counts[item["kind"]] += 1
    assert len(queries) >= 500
    assert all(counts[k] >= 40 for k in KINDS)
    assert counts["negatives"] >= 100


# Negatives 92: one of the 80 (polymyalgia, "older woman ... shoulders and hips stiff") is confident once
# age and sex words weigh nothing, a change that made more of every blind set right.
VIGNETTE_FLOORS = {"symptoms": 60, "negatives": 92}
FRESH_FLOORS = {"symptoms": 63, "lay": 98, "questions": 94, "negatives": 97}
FIFTH_FLOORS = {
    "names": 100,
    "abbreviations": 100,
    "typos": 100,
    "synonyms": 81,
    "lay": 94,
    "symptoms": 75,
    "questions": 100,
    "negatives": 98,
}


@pytest.mark.parametrize(
    ("queries", "floors"),
    [
        (BLIND, FLOORS),
        (HELDOUT, HELDOUT_FLOORS),
        (VIGNETTES, VIGNETTE_FLOORS),
        (FRESH, FRESH_FLOORS),
        (FIFTH, FIFTH_FLOORS),
    ],
    ids=["blind", "heldout", "vignettes", "fresh", "fifth"],
)
def test_blind_set_floors(indexes: tuple[Index, Index], queries: list[dict], floors: dict[str, int]) -> None:
    table = evaluate(*indexes, queries)
    below = {k: round(100 * a / n, 1) for k, (a, _b, n) in table.items() if 100 * a / n < floors[k]}
    assert below == {}


@pytest.mark.parametrize(
    "queries", [BLIND, HELDOUT, VIGNETTES, FRESH, FIFTH], ids=["blind", "heldout", "vignettes", "fresh", "fifth"]
)
def test_every_expected_answer_is_an_entry_or_a_term(indexes: tuple[Index, Index], queries: list[dict]) -> None:
    known = {row[1] for index in indexes for row in index.all_entries()}
    assert {i for item in queries for i in item["expect"]} - known == set()


def test_the_fresh_sets_repeat_no_query_of_the_others() -> None:
    # (The blind and held-out sets share many exact names, as any two sets of names would.)
    from painref.text import normalize

    earlier = {normalize(item["q"]) for queries in (BLIND, HELDOUT, VIGNETTES) for item in queries}
    assert [item["q"] for item in FRESH if normalize(item["q"]) in earlier] == []
    earlier |= {normalize(item["q"]) for item in FRESH}
    assert [item["q"] for item in FIFTH if normalize(item["q"]) in earlier] == []


def test_own_set_still_holds(indexes: tuple[Index, Index]) -> None:
    entries, _terms = indexes
    positives = OWN["positives"]
    top1 = sum(1 for q, want in positives if [h.id for h in entries.match(q).matches][:1] == [want])
    assert top1 / len(positives) >= 0.95
    assert not [q for q in OWN["negatives"] if entries.match(q).matches]
    assert not [q for q in OWN["absent"] if entries.match(q).matches]


def main() -> None:
    store = memory_store(load_directory(builtin_data_dir()))
    entries, terms = Index(store.db, "entries"), Index(store.db, "terms")
    blind, heldout = evaluate(entries, terms, BLIND), evaluate(entries, terms, HELDOUT)
    print("| kind | blind queries | top-1 | top-3 | held-out queries | top-1 | top-3 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind in (*KINDS, "all"):
        cells = []
        for table in (blind, heldout):
            a, b, n = table[kind] if kind != "all" else (sum(v[i] for v in table.values()) for i in range(3))
            cells.append(f"{n} | {100 * a / n:.1f} % | {100 * b / n:.1f} %")
        print(f"| {kind} | {' | '.join(cells)} |")
    for name, queries in (("vignettes", VIGNETTES), ("fresh", FRESH), ("fifth", FIFTH)):
        table = evaluate(entries, terms, queries)
        print(f"\n| {name} | queries | top-1 | top-3 |\n| --- | ---: | ---: | ---: |")
        for kind in (*(k for k in KINDS if k in table), "all"):
            a, b, n = table[kind] if kind != "all" else (sum(v[i] for v in table.values()) for i in range(3))
            print(f"| {kind} | {n} | {100 * a / n:.1f} % | {100 * b / n:.1f} % |")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main()
