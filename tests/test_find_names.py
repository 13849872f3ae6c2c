"""Resolution of queries on the small fixture knowledge base (the evaluation set runs on the real one)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from painref import store
from painref.find.names import CONFIDENT, Index, max_edits
from painref.kb import load_directory as load_uncached
from tests.conftest import FIXTURE_KB, index_of


@pytest.fixture(scope="module")
def index() -> Index:
    return index_of(load_uncached(FIXTURE_KB))


def best(index: Index, query: str) -> str | None:
    hit = index.match(query).best
    return hit.id if hit else None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Radiofrequency ablation", "radiofrequency-ablation"),
        ("RADIOFREQUENCY ABLATION", "radiofrequency-ablation"),
        ("radio frequency ablation", "radiofrequency-ablation"),
        ("radio-frequency  ablation!", "radiofrequency-ablation"),
        ("rfa", "radiofrequency-ablation"),
        ("knee rfa", "genicular-radiofrequency-ablation"),
        ("rfa knee", "genicular-radiofrequency-ablation"),
        ("sciatca", "sciatica"),
        ("scaitica", "sciatica"),
        ("medial brnach block", "medial-branch-block"),
        ("what is sciatica", "sciatica"),
        ("ablation", "radiofrequency-ablation"),
        ("Sciática", "sciatica"),
    ],
)
def test_resolves(index: Index, query: str, expected: str) -> None:
    assert best(index, query) == expected


@pytest.mark.parametrize("query", ["pizza", "kubernetes", "qwxzvbn", "the", "it will rain tomorrow", "", "   ", "?!"])
def test_nothing_confident(index: Index, query: str) -> None:
    result = index.match(query)
    assert result.matches == []
    assert len(result.suggestions) <= 5


def test_general_word_prefers_the_family_entry(index: Index) -> None:
    result = index.match("rfa")
    assert [h.id for h in result.matches][:1] == ["radiofrequency-ablation"]
    assert result.matches[0].score == 100


def test_scores_are_bounded_and_best_first(index: Index) -> None:
    for query in ["rfa", "knee", "sciatica", "block", "facet arthritis"]:
        hits = index.match(query).matches + index.match(query).suggestions
        assert all(0 <= h.score <= 100 for h in hits)
        confident = index.match(query).matches
        assert [h.score for h in confident] == sorted((h.score for h in confident), reverse=True)
        assert all(h.score >= CONFIDENT for h in confident)


def test_short_words_need_exact_spelling() -> None:
    assert max_edits("rfa") == 0
    assert max_edits("knee") == 1
    assert max_edits("sciatica") == 2


def test_very_long_query_is_bounded(index: Index) -> None:
    result = index.match("sciatica " * 20000)
    assert result.query.startswith("sciatica")


def test_an_ambiguous_tie_is_not_a_confident_answer() -> None:
    from painref.find.names import Index as Ix

    rows = [
        ("condition", "a", "Spine fracture", (), 0, "a"),
        ("condition", "b", "Spine arthritis", (), 0, "b"),
        ("procedure", "c", "Spine stimulator", (), 0, "c"),
        ("procedure", "d", "Knee injection", (), 0, "d"),
    ]
    index = Ix(_db_of(rows), "entries")
    result = index.match("spine")
    assert result.matches == [] and {h.id for h in result.suggestions} == {"a", "b", "c"}
    assert index.match("spine fracture").best is not None


def _db_of(rows: list[tuple[str, str, str, tuple[str, ...], int, str]]) -> sqlite3.Connection:
    """A store holding just these names (kind, id, name, aliases, depth, family)."""
    db = sqlite3.connect(":memory:")
    db.executescript(store.SCHEMA)
    db.executemany(
        "INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?)",
        [
            (n, kind, ident, name, json.dumps(aliases), "", depth, family, "{}")
            for n, (kind, ident, name, aliases, depth, family) in enumerate(rows, 1)
        ],
    )
    store._name_index(db, "entries", [(n, row[2], row[3]) for n, row in enumerate(rows, 1)])
    db.execute("INSERT INTO meta VALUES ('entries', ?)", (str(len(rows)),))
    return db


@pytest.fixture(scope="module")
def shipped() -> Index:
    from painref.dirs import builtin_data_dir

    return index_of(load_uncached(builtin_data_dir()))  # type: ignore[return-value]


@pytest.mark.parametrize(
    "query",
    [
        "labor epidural",
        "epidural for childbirth",
        "ACL tear",
        "breast pump",
        "stem cell transplant",
        "; rm -rf /",
        "genicular artery embolization",
        "hydrodissection of the median nerve",
        "aortic stenosis",
    ],
)
def test_a_word_nothing_explains_keeps_a_neighbour_from_being_the_answer(shipped: Index, query: str) -> None:
    assert shipped.match(query).matches == []


def test_the_unexplained_word_is_named(shipped: Index) -> None:
    assert "embolization" in shipped.match("genicular artery embolization").unexplained


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("what are the risks of vertebroplasty", "vertebroplasty"),
        ("is radiofrequency ablation painful", "radiofrequency-ablation"),
        ("recovery after a spinal cord stimulator implant", "spinal-cord-stimulator-implant"),
        ("how long does a medial branch block last", "medial-branch-block"),
        ("L4-5 lumbar facet injection", "lumbar-facet-injection"),
        ("c-spine rfa", "cervical-radiofrequency-ablation"),
        ("difference between kyphoplasty and vertebroplasty", "kyphoplasty"),
        ("is my pain different from sciatica", "sciatica"),  # not a comparison: "my pain" names nothing
        ("cprs", "complex-regional-pain-syndrome"),
        ("foraminal epidural", "transforaminal-epidural-steroid-injection"),  # an anatomical prefix left off
        ("thecal pump", "intrathecal-pain-pump"),
        ("should I fast before a nerve block", "nerve-block"),  # a name of generic words, said in full
        # "Can X cause Y" is about X; shorthand of notes is read as its word.
        ("can a nerve block cause numbness", "nerve-block"),
        ("can radiofrequency ablation cause numbness", "radiofrequency-ablation"),  # not a variant whose card says it
        ("does kyphoplasty cause back pain", "kyphoplasty"),
        # Words of what is asked about any procedure: its alternatives, success rate, imaging, how often.
        ("kyphoplasty contraindications", "kyphoplasty"),
        ("alternatives to kyphoplasty", "kyphoplasty"),
        ("rfa success rate", "radiofrequency-ablation"),
        ("what imaging is used for kyphoplasty", "kyphoplasty"),
        ("how often can I get a genicular nerve block", "genicular-nerve-block"),
        ("facet inj", "facet-joint-injection"),
        ("spinal cord stim", "spinal-cord-stimulation"),
    ],
)
def test_questions_levels_and_comparisons(shipped: Index, query: str, expected: str) -> None:
    best = shipped.match(query).best
    assert best is not None and best.id == expected


def test_fuzzy_matching_never_touches_short_or_punctuated_words(shipped: Index) -> None:
    # "esi" is an alias; "esx" is three letters, one edit away: not matched.
    assert shipped.match("esx").matches == []
    assert shipped.match("-rfx").matches == []


def test_x_for_y_is_about_x(index: Index) -> None:
    # Both names are matched and each explains the other (they are linked); the query asks about the procedure.
    assert best(index, "rfa for facet arthropathy") == "radiofrequency-ablation"
    assert best(index, "facet arthropathy") == "facet-joint-arthritis"


def test_a_word_a_lay_phrase_mentions_in_passing_names_no_entry(
    shipped: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    from painref.find import names

    # Without the body-region rule, so that only this one is at work: "shoulder" is one word of the joint
    # injection's "cortisone shot in the knee hip or shoulder", and the injection's links (hip osteoarthritis)
    # would explain it; "supermarket" is said in passing by a lay phrase linked to the spacer.
    monkeypatch.setattr(names, "REGION_WORDS", frozenset())
    for query, not_this in [
        ("shoulder stiff in the morning", "hip-osteoarthritis"),
        ("supermarket interspinous spacer", "interspinous-spacer"),
    ]:
        assert not_this not in [h.id for h in shipped.match(query).matches]
        with monkeypatch.context() as m:
            m.setattr(names, "NAMING_PART", 10**6)  # any label naming it: the rule is what keeps them out
            assert [h.id for h in shipped.match(query).matches][:1] == [not_this]
    # A third of a label names its entry: "neuropathy" of "painful diabetic neuropathy", linked to the block.
    assert best(shipped, "nerve block for neuropathy") == "nerve-block"
    assert best(shipped, "scs for fbss") == "spinal-cord-stimulation"


def test_a_word_names_entries_by_its_own_spelling(shipped: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    from painref.find import names

    # "head" is a word of names; one edit away, "heat" is in an ablation's lay phrase, linked to hip
    # osteoarthritis, whose "stiff hip in the morning" would then take "head stiff in the morning".
    monkeypatch.setattr(names, "REGION_WORDS", frozenset())
    assert shipped.match("head stiff in the morning").matches == []
    monkeypatch.setattr(names, "_closest", lambda found: list(found))
    assert [h.id for h in shipped.match("head stiff in the morning").matches][:1] == ["hip-osteoarthritis"]


def test_a_label_naming_another_body_region_is_contradicted(shipped: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    from painref.find import names

    # "needle in my shoulder joint for pain" (the shoulder injection, whose card says "neck").
    query = "needle in my neck joint for pain"
    assert "shoulder-joint-injection" not in [h.id for h in shipped.match(query).matches]
    monkeypatch.setattr(names, "REGION_WORDS", frozenset())
    assert [h.id for h in shipped.match(query).matches][:1] == ["shoulder-joint-injection"]


def test_a_word_spelled_right_is_not_read_as_another(shipped: Index) -> None:
    # "face ache" glued is two edits from "backache".
    assert "chronic-low-back-pain" not in [h.id for h in shipped.match("face aches after sitting").matches]
    assert best(shipped, "radio frequncy ablation") == "radiofrequency-ablation"  # a typo is still glued


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("medial branch block before rfa", "medial-branch-block"),
        ("diagnostic block before radiofrequency ablation", "diagnostic-nerve-block"),
        ("trial before permanent spinal cord stimulator", "spinal-cord-stimulator-trial"),
        ("what to expect before kyphoplasty", "kyphoplasty"),  # nothing named before "before"
    ],
)
def test_x_before_y_is_about_x(shipped: Index, query: str, expected: str) -> None:
    best_hit = shipped.match(query).best
    assert best_hit is not None and best_hit.id == expected


def test_the_side_treated_does_not_change_the_entry(index: Index) -> None:
    assert best(index, "bilateral MBB") == "medial-branch-block"
    assert best(index, "left knee arthritis") == "knee-osteoarthritis"


def test_a_short_word_in_capitals_is_an_abbreviation_taken_exactly(index: Index) -> None:
    # "knew" is one edit from "knee"; typed in capitals beside other words it is an abbreviation of something else.
    assert best(index, "knew arthritis") == "knee-osteoarthritis"
    assert best(index, "KNEW arthritis") != "knee-osteoarthritis"
    assert best(index, "MEDIAL BRNACH BLOCK") == "medial-branch-block"  # all capitals: a name typed in caps


def test_a_huge_run_of_spaces_is_read_in_no_time(index: Index) -> None:
    from painref.find.query import comparison

    assert comparison("\r" * 100_000) is None and comparison("rfa  vs  esi") == ["rfa", "esi"]
    assert index.match("\r" * 100_000).matches == [] and index.match(" vs " * 30_000).matches == []


def test_a_name_that_says_what_x_is_for_ranks_first(shipped: Index) -> None:
    # Both explain "knee"; genicular RFA's own names say it.
    assert [h.id for h in shipped.match("rfa for knee arthritis").matches][:1] == ["genicular-radiofrequency-ablation"]


def test_a_typed_word_is_matched_by_a_name_before_a_card_explains_it(shipped: Index) -> None:
    # "cervicel" is two edits from "cervical": the cervical variant, not RFA in general whose card says "cervical".
    assert [h.id for h in shipped.match("cervicel rfa").matches][:1] == ["cervical-radiofrequency-ablation"]


def test_a_whole_word_is_not_read_as_the_start_of_a_compound(shipped: Index) -> None:
    # "vertebra" is a prefix of "vertebraplasty" (a spelling of vertebroplasty): a whole word typed
    # matches only its derived forms, so the condition is found and the procedure is not.
    result = shipped.match("crushed vertebra")
    assert result.best is not None and result.best.id == "vertebral-compression-fracture"
    assert "vertebroplasty" not in [hit.id for hit in result.matches]
    # Derived forms still match: "trochanter" is the trochanteric pain syndrome ("trochanteritis").
    best = shipped.match("trochanter").best
    assert best is not None and best.id == "greater-trochanteric-pain-syndrome"


def test_a_word_of_a_glossary_term_is_not_a_question_word() -> None:
    # "imaging" says what is asked in "what imaging is used for kyphoplasty", but it is a word of the terms.
    from painref.dirs import builtin_data_dir
    from painref.store import memory_store

    terms = Index(memory_store(load_uncached(builtin_data_dir())).db, "terms")
    assert [h.id for h in terms.match("imaging").matches][:1] == ["image-guidance"]
