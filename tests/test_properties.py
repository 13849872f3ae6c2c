"""Property tests: no query and no file content makes painref raise anything but its own errors."""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from painref.dirs import builtin_data_dir
from painref.errors import DataError
from painref.find import fulltext
from painref.find.names import CONFIDENT
from painref.kb import load_directory as load_uncached
from painref.kb.model import KnowledgeBase
from painref.store import memory_store
from tests.conftest import FIXTURE_KB, index_of

KB = load_uncached(builtin_data_dir())
STORE = memory_store(KB)
INDEX = index_of(KB)
# A guard against hangs, not a speed test: speed is measured by bench/run.py.
HANG_GUARD = settings(deadline=timedelta(seconds=30), max_examples=200, suppress_health_check=[HealthCheck.too_slow])


@HANG_GUARD
@given(st.text(max_size=300))
def test_any_query_resolves_or_not_without_raising(query: str) -> None:
    result = INDEX.match(query)
    for hit in result.matches:
        assert CONFIDENT <= hit.score <= 100
    for hit in result.suggestions:
        # Suggestions are near misses, or an ambiguous tie when nothing was confident.
        assert 0 <= hit.score < CONFIDENT or not result.matches
    assert len(result.suggestions) <= 5


@settings(deadline=timedelta(seconds=30), max_examples=10, suppress_health_check=list(HealthCheck))
@given(st.text(min_size=1, max_size=40).map(lambda s: (s * 100_000)[:100_000]))
def test_huge_queries_are_bounded(query: str) -> None:
    INDEX.match(query)
    fulltext.search(STORE, query)[0]


@pytest.mark.parametrize("query", ["", " ", "\t\n", "...", "-" * 100_000, "a" * 100_000, "é" * 100_000, "\x00\x1b[2J"])
def test_edge_queries(query: str) -> None:
    assert INDEX.match(query).matches == [] or query.strip()
    fulltext.search(STORE, query)[0]


@HANG_GUARD
@given(st.text(max_size=200))
def test_content_search_never_raises(query: str) -> None:
    for found in fulltext.search(STORE, query)[0]:
        assert 0 < found.score <= 100
        for start, end in found.spans:
            assert 0 <= start < end <= len(found.snippet)


YAMLISH = st.lists(
    st.sampled_from([*"abc:-[]{}&*!|>'\"#\n\t @%`,?019", "procedures:", "\n  - id: x\n", "    name: y\n", "!!python/"]),
    max_size=80,
).map("".join)


@settings(deadline=timedelta(seconds=30), max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(YAMLISH)
def test_any_file_content_loads_or_is_a_clear_error(content: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "kb"
        shutil.copytree(FIXTURE_KB, target)
        (target / "procedures.yaml").write_text(content)
        try:
            kb = load_uncached(target)
        except DataError as exc:
            assert exc.problems
            for problem in exc.problems:
                assert "\n" not in str(problem).strip() or "YAML" in str(problem)
        else:
            assert isinstance(kb, KnowledgeBase)


@settings(deadline=timedelta(seconds=30), max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes_load_or_are_a_clear_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "kb"
        shutil.copytree(FIXTURE_KB, target)
        (target / "conditions.yaml").write_bytes(content)
        with pytest.raises(DataError):
            load_uncached(target)


@given(st.text(max_size=60))
def test_squash_is_the_normalised_text_without_spaces(text: str) -> None:
    from painref.text import normalize, squash

    assert squash(text) == normalize(text).replace(" ", "")


MARKERISH = st.lists(
    st.sampled_from(["(", ")", ";", ",", " ", "Cohen", "2020", "003", "StatPearls", "a", "\u202e", "\n", "12%"]),
    max_size=40,
).map("".join)


@settings(deadline=timedelta(seconds=30), max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(MARKERISH, MARKERISH, st.lists(MARKERISH, max_size=3))
def test_any_markers_cites_and_quotes_load_or_are_one_clear_problem_each(summary: str, cite: str, quotes: list) -> None:
    import json

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "kb"
        shutil.copytree(FIXTURE_KB, target)
        path = target / "procedures.yaml"
        text = path.read_text()
        text = text.replace(
            "summary: A test block of the nerves serving the facet joints.", f"summary: {json.dumps(summary)}"
        )
        citation = {"title": "T", "publisher": "StatPearls Publishing", "year": 2020, "url": "https://x", "cite": cite}
        if quotes:
            citation["quotes"] = quotes
        text = text.replace(
            "    sources: [003_0f73fea668c8ff44]\n  - id: epidural",
            f"    sources: [003_0f73fea668c8ff44, {json.dumps(citation)}]\n  - id: epidural",
        )
        path.write_text(text)
        try:
            load_uncached(target)
        except DataError as exc:
            assert exc.problems and all("\n" not in str(problem) for problem in exc.problems)
