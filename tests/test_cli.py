"""Every command through the real CLI, in human and JSON form, on the fixture knowledge base."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from painref.cli.app import app
from tests.conftest import FIXTURE_KB

runner = CliRunner(env={"COLUMNS": "140"})
DATA = ["--data", str(FIXTURE_KB)]


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args], env=env)
    return result.exit_code, result.stdout, result.stderr


def run_json(*args: str) -> object:
    code, out, _ = run(*args, "--json", *DATA)
    assert code == 0
    return json.loads(out)


def test_lookup_human() -> None:
    code, out, err = run("lookup", "sciatica", *DATA)
    assert code == 0 and err == ""
    assert "Sciatica" in out and "Procedures for Sciatica" in out and "Epidural steroid injection" in out


def test_lookup_json_contract() -> None:
    data = run_json("lookup", "rfa")
    assert isinstance(data, dict)
    assert data["query"] == "rfa"
    first = data["matches"][0]
    assert first == {
        "kind": "procedure",
        "id": "radiofrequency-ablation",
        "name": "Radiofrequency ablation",
        "aliases": ["RFA", "nerve burning"],
        "score": 100.0,
    }
    assert isinstance(data["suggestions"], list)


def test_lookup_no_match_exit_1_with_suggestions_on_stderr() -> None:
    code, out, err = run("lookup", "medial brunch blok", *DATA)
    assert code in (0, 1)
    code, out, err = run("lookup", "qwxzvbn", *DATA)
    assert code == 1 and out == ""
    assert "no confident match for 'qwxzvbn'" in err


def test_lookup_no_match_json_still_prints_and_exits_1() -> None:
    code, out, _ = run("lookup", "pizza", "--json", *DATA)
    assert code == 1
    assert json.loads(out)["matches"] == []


def test_show_human_and_json() -> None:
    code, out, _ = run("show", "mbb", *DATA)
    assert code == 0 and "Medial branch block" in out and "diagnostic" in out
    record = run_json("show", "medial", "branch", "block")
    assert isinstance(record, dict)
    assert record["next_steps"] == [{"id": "radiofrequency-ablation", "name": "Radiofrequency ablation"}]
    assert record["relief"]["band"] == "hours"


def test_show_condition_json_resolves_links() -> None:
    record = run_json("show", "sciatica")
    assert isinstance(record, dict)
    assert record["procedures"] == [
        {"id": "epidural-steroid-injection", "name": "Epidural steroid injection", "role": "therapeutic"}
    ]


def test_compare_general_words_pick_family_entries() -> None:
    data = run_json("compare", "rfa", "epidural")
    assert isinstance(data, dict)
    assert [p["id"] for p in data["procedures"]] == ["radiofrequency-ablation", "epidural-steroid-injection"]
    code, out, _ = run("compare", "rfa", "epidural", *DATA)
    assert code == 0 and "Typical relief" in out and "Bleeding risk" in out


def test_compare_reads_one_quoted_comparison() -> None:
    for words in ("rfa vs epidural", "how is rfa different from an epidural"):
        data = run_json("compare", words)
        assert isinstance(data, dict)
        assert [p["id"] for p in data["procedures"]] == ["radiofrequency-ablation", "epidural-steroid-injection"]


def test_compare_rejects_a_condition_with_exit_2() -> None:
    code, out, err = run("compare", "rfa", "sciatica", *DATA)
    assert code == 2 and out == ""
    assert "is a condition" in err and "hint:" in err


def test_compare_unknown_argument_exit_1() -> None:
    code, _, err = run("compare", "rfa", "pizza", *DATA)
    assert code == 1 and "no confident match for 'pizza'" in err


def test_compare_needs_two() -> None:
    code, _, err = run("compare", "rfa", *DATA)
    assert code == 2 and "at least two" in err


def test_list_and_filters() -> None:
    data = run_json("list", "procedures", "--category", "radiofrequency")
    assert isinstance(data, list)
    assert {d["id"] for d in data} == {"radiofrequency-ablation", "genicular-radiofrequency-ablation"}
    assert set(data[0]) == {
        "kind",
        "id",
        "name",
        "aliases",
        "category",
        "purpose",
        "imaging",
        "relief",
        "bleeding_risk",
        "parent",
    }
    conds = run_json("list", "conditions", "--region", "knee")
    assert conds == [
        {
            "kind": "condition",
            "id": "knee-osteoarthritis",
            "name": "Knee osteoarthritis",
            "aliases": ["knee arthritis"],
            "region": "knee",
            "icd10": ["M17.11"],
        }
    ]
    code, out, _ = run("list", "conditions", *DATA)
    assert code == 0 and "Sciatica" in out and "M54.3" in out


def test_list_bad_filter_is_usage_error() -> None:
    code, _, err = run("list", "procedures", "--category", "magic", *DATA)
    assert code == 2 and "unknown --category 'magic'" in err and "nerve-block" in err
    code, _, _ = run("list", "gadgets", *DATA)
    assert code == 2


def test_questions() -> None:
    data = run_json("questions", "rfa")
    assert isinstance(data, dict)
    assert "How long will it last?" in data["questions"]
    assert data["general"] == ["What is the plan if it does not help?"]
    code, out, _ = run("questions", "rfa", *DATA)
    assert code == 0 and "Questions about Radiofrequency ablation" in out and "General questions" in out


def test_pathway() -> None:
    data = run_json("pathway", "medial branch block")
    assert isinstance(data, dict)
    titles = [s["title"] for s in data["steps"]]
    assert titles[0] == "Conservative care first"
    helps = next(s for s in data["steps"] if s["title"].startswith("If the block helps"))
    assert [p["id"] for p in helps["procedures"]] == ["radiofrequency-ablation"]
    code, out, _ = run("pathway", "medial branch block", *DATA)
    assert code == 0 and "Care pathway" in out


def test_define_and_guide() -> None:
    term = run_json("define", "live x-ray")
    assert isinstance(term, dict) and term["id"] == "fluoroscopy"
    code, _, err = run("define", "pizza", *DATA)
    assert code == 1 and "no glossary term" in err
    guide = run_json("guide")
    assert isinstance(guide, dict) and guide["sections"][0]["id"] == "candidacy"
    code, out, _ = run("guide", *DATA)
    assert code == 0 and "Who is a candidate" in out


def test_validate_clean_and_broken(tmp_path: Path, kb_dir: Path) -> None:
    code, out, _ = run("validate", str(FIXTURE_KB))
    assert code == 0 and out.startswith("ok:")
    text = (kb_dir / "procedures.yaml").read_text().replace("purpose: diagnostic", "purpose: maybe")
    (kb_dir / "procedures.yaml").write_text(text)
    code, out, err = run("validate", str(kb_dir))
    assert code == 2 and "procedures.yaml:" in err and "'purpose'" in err
    code, out, _ = run("validate", str(kb_dir), "--json")
    assert code == 2 and json.loads(out)["ok"] is False


def test_broken_data_is_one_line_exit_2(kb_dir: Path) -> None:
    (kb_dir / "conditions.yaml").write_text("conditions: [")
    code, out, err = run("lookup", "sciatica", "--data", str(kb_dir))
    assert code == 2 and out == ""
    assert err.startswith("painref: ") and "conditions.yaml:" in err
    assert "Traceback" not in err


def test_missing_data_dir_exit_2(tmp_path: Path) -> None:
    code, _, err = run("lookup", "x", "--data", str(tmp_path / "nope"))
    assert code == 2 and "data directory not found" in err


def test_painref_data_environment_variable() -> None:
    code, out, _ = run("lookup", "knee rfa", "--json", env={"PAINREF_DATA": str(FIXTURE_KB)})
    assert code == 0 and json.loads(out)["matches"][0]["id"] == "genicular-radiofrequency-ablation"


def test_version_and_help() -> None:
    code, out, _ = run("--version")
    assert code == 0 and out.startswith("painref ")
    code, out, _ = run("--help")
    assert code == 0 and "not medical advice" in out and "Exit codes" in out
    for command in ["lookup", "show", "compare", "list", "questions", "pathway", "define", "guide", "validate"]:
        code, out, _ = run(command, "--help")
        assert code == 0 and "Examples" in out and "--json" in out, command


def test_unknown_command_exit_2() -> None:
    code, _, _ = run("frobnicate")
    assert code == 2


@pytest.mark.parametrize("query", ["[bold red]x[/]", "\x1b[31mred", "[link=http://x]y[/link]"])
def test_hostile_queries_do_not_crash_or_leak_escapes(query: str) -> None:
    code, out, err = run("lookup", query, *DATA)
    assert code == 1
    assert "\x1b" not in out + err


def test_narrow_terminal_output_fits(kb_dir: Path) -> None:
    narrow = CliRunner(env={"COLUMNS": "40"})
    for args in (["lookup", "sciatica"], ["compare", "rfa", "epidural"], ["list", "procedures"], ["pathway", "mbb"]):
        result = narrow.invoke(app, [*args, "--data", str(FIXTURE_KB)])
        assert result.exit_code == 0, args
        assert max(len(line) for line in result.stdout.splitlines()) <= 40, args


@pytest.mark.parametrize(("query", "code"), [("", 2), ("   ", 2), ("?!.,", 2), ("x" * 100_000, 1)])
def test_odd_queries_get_a_clear_answer(query: str, code: int) -> None:
    got, out, err = run("lookup", query, *DATA)
    assert got == code and out == ""
    assert err.startswith("painref: ") and len(err) < 2000
    assert ("no confident match" in err) == (code == 1)


def test_control_characters_and_markup_in_data_never_reach_the_terminal(kb_dir: Path) -> None:
    path = kb_dir / "procedures.yaml"
    text = path.read_text().replace(
        "summary: A test block", 'summary: "\\e[31mred\\e[0m [bold]x[/bold] \\a A test block'
    )
    path.write_text(
        text.replace("of the nerves serving the facet joints.", 'of the nerves serving the facet joints."', 1)
    )
    code, out, _ = run("show", "mbb", "--data", str(kb_dir))
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "[bold]x[/bold]" in out


def test_an_ambiguous_word_says_so() -> None:
    code, out, err = run("lookup", "chronic")  # the shipped knowledge base: several chronic conditions tie
    assert code == 1 and out == ""
    assert "'chronic' matches several entries equally" in err and "Chronic low back pain" in err
    code, out, err = run("lookup", "knee")  # a lone generic word: never confident, the knee entries suggested
    assert code == 1 and out == "" and "hint: did you mean: Knee osteoarthritis," in err
    code, _out, _err = run("show", "ablation", *DATA)
    assert code == 0  # a family's general entry outranks its variant: not a tie


def test_show_field_and_brief() -> None:
    record = run_json("show", "rfa", "--field", "imaging")
    assert isinstance(record, dict) and record["field"] == "imaging" and record["value"]["modalities"]
    code, out, _ = run("show", "rfa", "-f", "before", *DATA)
    assert code == 0 and "Medial branch block" in out
    code, _, err = run("show", "rfa", "--field", "icd10", *DATA)
    assert code == 2 and "fields:" in err
    code, out, _ = run("show", "rfa", "--brief", *DATA)
    assert code == 0 and "painref show radiofrequency-ablation for the whole card" in " ".join(out.split())


@pytest.mark.parametrize("name", ["diagnosis", "exam", "examination", "signs", "sign", "tests", "test"])
def test_a_diagnosis_is_a_field_of_show_by_the_names_people_type(name: str) -> None:
    record = run_json("show", "sciatica", "--field", name)
    assert isinstance(record, dict) and record["field"] == "diagnosis"
    assert record["value"] == ["Pain down the leg when the opposite leg is raised (003)"]
    full = run_json("show", "sciatica")
    assert isinstance(full, dict) and full["diagnosis"] == record["value"]


@pytest.mark.parametrize(
    ("args", "count_at_least"),
    [
        (["list", "procedure", "--imaging", "fluoro"], 1),
        (["list", "procs", "--imaging", "US"], 1),
        (["list", "procedures", "--imaging", "x-ray"], 1),
        (["list", "conditions", "--region", "back"], 0),
        (["list", "procedures", "--bleeding-risk", "moderate"], 1),
    ],
)
def test_filters_take_the_words_people_type(args: list[str], count_at_least: int) -> None:
    data = run_json(*args)
    assert isinstance(data, list) and len(data) >= count_at_least


def test_define_list_and_quiz_topics() -> None:
    terms = run_json("define", "--list")
    assert isinstance(terms, list) and {"id", "term", "aliases"} <= set(terms[0])
    topics = run_json("quiz", "--topics")
    assert isinstance(topics, list) and {t["kind"] for t in topics} >= {"category", "entry"}


@pytest.mark.parametrize(
    ("words", "expected"),
    [("painref list procedures --imaging ul", "ultrasound"), ("painref quiz --topic kn", "knee")],
)
def test_option_values_complete(words: str, expected: str) -> None:
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "_PAINREF_COMPLETE": "complete_bash",
        "COMP_WORDS": words,
        "COMP_CWORD": str(len(words.split()) - 1),
    }
    done = subprocess.run(
        [sys.executable, "-m", "painref"], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert expected in done.stdout.split()


def test_help_at_40_columns_keeps_option_names_and_one_example_per_line() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "COLUMNS": "40"}
    done = subprocess.run(
        [sys.executable, "-m", "painref", "list", "--help"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    for option in ("--category", "--imaging", "--bleeding-risk", "--min-relief", "--no-pager"):
        assert option in done.stdout
    assert "painref list procedures --imaging ultrasound" in done.stdout  # an example whole, on its own line
    assert 'painref list procedures --treats "knee osteoarthritis" --sort relief' in done.stdout  # never rewrapped
    assert "…" not in done.stdout


def test_short_flags() -> None:
    code, out, _ = run("search", "ultrasound", "-n", "2", "-j", *DATA)
    assert code == 0 and len(json.loads(out)["results"]) <= 2
    code, out, _ = run("quiz", "-n", "2", "-j", "--seed", "1", *DATA)
    assert code == 0 and len(json.loads(out)["questions"]) == 2


def test_new_takes_singular_or_plural(tmp_path: Path) -> None:
    import os

    env = {**os.environ, "PAINREF_HOME": str(tmp_path / "home")}
    for kind in ("procedure", "procedures", "conditions"):
        assert run("new", kind, f"my-{kind}", env=env)[0] == 0
    code, _, err = run("new", "frob", "my-x", env=env)
    assert code == 2 and "procedure or condition" in err


def test_sources_lists_each_work_once_with_every_card_citing_it() -> None:
    code, out, _ = run("sources", "--json")  # the shipped knowledge base
    listing = json.loads(out)
    assert code == 0 and isinstance(listing, dict) and len(listing["seeds"]) == 4
    rows = listing["citations"]
    assert all("quotes" not in row and "cite" not in row for row in rows)  # those belong to each citing card
    asra = [row for row in rows if str(row.get("doi", "")).lower() == "10.1097/aap.0000000000000700"]
    assert len(asra) == 1 and "risks" in asra[0]["cited_by"]  # one row for the guideline; the guide cites it too
