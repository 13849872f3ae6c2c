"""Search inside entries and the structured filters, on real questions and the shipped knowledge base."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from painref.cli.app import app
from painref.cli.listing import relief_rank
from painref.dirs import builtin_data_dir
from painref.errors import PainrefError
from painref.find import fulltext
from painref.kb import load_directory as load_uncached
from painref.kb.model import KnowledgeBase
from painref.store import memory_store

runner = CliRunner(env={"COLUMNS": "140"})


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_uncached(builtin_data_dir())


def cli_json(*args: str) -> object:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_ultrasound_finds_ultrasound_guided_procedures(kb: KnowledgeBase) -> None:
    found, _total = fulltext.search(memory_store(kb), "ultrasound", limit=100)
    ids = {f.entry.id for f in found}
    assert "ultrasound-guided-hip-joint-injection" in ids
    guided = {p.id for p in kb.procedures.values() if "ultrasound" in p.modalities}
    assert guided <= ids
    for hit in found:
        assert "ultrasound" in hit.snippet.lower()
        start, end = hit.spans[0]
        assert hit.snippet[start:end].lower().startswith("ultrasound")


def test_a_phrase_ranks_where_it_appears_together(kb: KnowledgeBase) -> None:
    found, _total = fulltext.search(memory_store(kb), "several hours")
    top = {f.entry.id: f for f in found[:3]}
    assert "medial-branch-block" in top
    assert top["medial-branch-block"].field in {"relief", "summary", "onset"}


def test_search_json_contract() -> None:
    data = cli_json("search", "knee")
    assert isinstance(data, dict) and data["query"] == "knee"
    first = data["results"][0]
    assert set(first) == {"kind", "id", "name", "field", "snippet", "score"}
    assert any(r["id"] == "knee-osteoarthritis" for r in data["results"])
    assert [r["score"] for r in data["results"]] == sorted((r["score"] for r in data["results"]), reverse=True)


def test_search_human_and_nothing_found() -> None:
    result = runner.invoke(app, ["search", "fluoroscopy"])
    total = len(fulltext.search(memory_store(load_uncached(builtin_data_dir())), "fluoroscopy", limit=None)[0])
    assert total > 20
    assert result.exit_code == 0 and f"{total} entries mention 'fluoroscopy' (best 20 shown)" in result.stdout
    result = runner.invoke(app, ["search", "[bold]x[/]"])
    assert result.exit_code == 1  # a single letter is not a search
    result = runner.invoke(app, ["search", "xylophone"])
    assert result.exit_code == 1 and "no entry mentions" in result.stderr


def test_filter_imaging(kb: KnowledgeBase) -> None:
    data = cli_json("list", "procedures", "--imaging", "ultrasound")
    assert isinstance(data, list) and data
    assert {d["id"] for d in data} == {p.id for p in kb.procedures.values() if "ultrasound" in p.modalities}


def test_filter_diagnostic_includes_both(kb: KnowledgeBase) -> None:
    data = cli_json("list", "procedures", "--purpose", "diagnostic")
    assert isinstance(data, list)
    ids = {d["id"] for d in data}
    assert "medial-branch-block" in ids and "sacroiliac-joint-injection" in ids  # diagnostic, and both
    assert "kyphoplasty" not in ids


def test_filter_treats_knee(kb: KnowledgeBase) -> None:
    data = cli_json("list", "procedures", "--treats", "knee osteoarthritis")
    assert isinstance(data, list)
    assert {d["id"] for d in data} == {link.id for link in kb.conditions["knee-osteoarthritis"].procedures}
    assert "genicular-radiofrequency-ablation" in {d["id"] for d in data}


def test_filters_combine_and_sort_by_relief() -> None:
    data = cli_json("list", "procedures", "--category", "radiofrequency", "--min-relief", "6m", "--sort", "relief")
    assert isinstance(data, list)
    ids = [d["id"] for d in data]
    assert "radiofrequency-ablation" in ids and "pulsed-radiofrequency-peripheral-nerve" not in ids
    assert "lumbar-radiofrequency-ablation" in ids


def test_relief_longer_than_six_months_excludes_steroid_injections() -> None:
    data = cli_json("list", "procedures", "--min-relief", "6m")
    assert isinstance(data, list)
    assert "epidural-steroid-injection" not in {d["id"] for d in data}


def test_bleeding_risk_filter() -> None:
    data = cli_json("list", "procedures", "--bleeding-risk", "high")
    assert isinstance(data, list)
    assert {"kyphoplasty", "vertebroplasty", "intrathecal-pain-pump"} <= {d["id"] for d in data}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--imaging", "mri"], "unknown --imaging"),
        (["--min-relief", "soon"], "cannot read the duration"),
        (["--treats", "kyphoplasty"], "--treats takes a condition"),
        (["--sort", "size"], "unknown --sort"),
    ],
)
def test_bad_filters_are_usage_errors(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["list", "procedures", *args])
    assert result.exit_code == 2 and message in result.stderr


def test_condition_list_rejects_procedure_filters() -> None:
    result = runner.invoke(app, ["list", "conditions", "--imaging", "ultrasound"])
    assert result.exit_code == 2 and "--imaging filters procedures" in result.stderr


@pytest.mark.parametrize(
    ("text", "rank"),
    [("12w", 3), ("6m", 3), ("1y", 3), ("2w", 2), ("7d", 2), ("3d", 1), ("6 months", 3), ("months-to-years", 3)],
)
def test_min_relief_is_a_band(text: str, rank: int) -> None:
    assert relief_rank(text) == rank


def test_min_relief_rejects_nonsense() -> None:
    with pytest.raises(PainrefError):
        relief_rank("-3m")


def test_who_says_it_is_not_what_a_card_says() -> None:
    from painref.kb.model import unmarked

    text = "Relief lasts months (Nortex, 003); pain when you sit (Sit 2016), worse (52% vs 56%)."
    words = unmarked(text, {"Nortex"}).replace(";", " ").replace(",", " ").split()
    assert words == ["Relief", "lasts", "months", "pain", "when", "you", "sit", "worse", "(52%", "vs", "56%)."]
    # The shipped cards cite "Nortex" (a source document's short name) throughout: search does not find it.
    result = runner.invoke(app, ["search", "nortex"])
    assert result.exit_code == 1 and result.stdout == ""


def test_search_finds_what_a_diagnosis_says(kb: KnowledgeBase) -> None:
    found, _total = fulltext.search(memory_store(kb), "spurling", limit=10)
    assert [(f.entry.id, f.field) for f in found][:1] == [("cervical-radiculopathy", "diagnosis")]
