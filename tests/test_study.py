"""Quiz, spaced repetition, progress files, Anki and Markdown export."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from painref.cli.app import app
from painref.dirs import builtin_data_dir
from painref.kb import load_directory as load_uncached
from painref.study import progress as progress_mod
from painref.study.quiz import all_questions
from painref.study.session import select
from tests.conftest import FIXTURE_KB

runner = CliRunner(env={"COLUMNS": "120"})
KB = load_uncached(builtin_data_dir())


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("PAINREF_HOME", str(home))
    return home


def test_questions_cover_every_kind_with_four_distinct_options() -> None:
    questions = all_questions(KB, seed=1)
    assert {q.kind for q in questions} == {
        "imaging",
        "relief",
        "purpose",
        "bleeding",
        "prerequisite",
        "treats",
        "icd10",
    }
    for q in questions:
        assert len(q.options) in (3, 4) and len(set(q.options)) == len(q.options)
        assert 0 <= q.answer < len(q.options)
        if q.kind == "imaging":  # the same modalities in another order would be a duplicate
            assert len({frozenset(o.split(", ")) for o in q.options}) == len(q.options)
        entry = KB.procedures.get(q.entry_id) or KB.conditions[q.entry_id]
        # Only sources the shown line cites (none for an ICD-10-CM code: the code set is the source).
        assert {s.label() for s in q.sources} <= {s.label() for s in entry.sources}
        if q.kind == "icd10":
            assert q.sources == ()
    assert len({q.id for q in questions}) == len(questions)
    assert sum(1 for q in questions if q.sources) > len(questions) / 2


def test_answers_are_the_cards_facts() -> None:
    by_id = {q.id: q for q in all_questions(KB, seed=3)}
    assert by_id["prerequisite:lumbar-radiofrequency-ablation"].correct == "Medial branch block"
    assert by_id["prerequisite:spinal-cord-stimulator-implant"].correct == "Spinal cord stimulator trial"
    assert by_id["bleeding:kyphoplasty"].correct == "high"
    assert by_id["purpose:medial-branch-block"].correct == "diagnostic"
    assert by_id["icd10:sciatica"].correct == "Sciatica"


def test_seed_makes_a_quiz_reproducible() -> None:
    one = runner.invoke(app, ["quiz", "--seed", "7", "--count", "5", "--json"])
    two = runner.invoke(app, ["quiz", "--seed", "7", "--count", "5", "--json"])
    assert one.exit_code == 0 and one.stdout == two.stdout
    assert len(json.loads(one.stdout)["questions"]) == 5


def test_scripted_quiz_reads_one_answer_per_line_and_saves_progress(_home: Path) -> None:
    data = json.loads(runner.invoke(app, ["quiz", "--seed", "2", "--count", "3", "--json"]).stdout)
    answers = ["abcd"[q["answer"]] for q in data["questions"]]
    second = data["questions"][1]
    answers[1] = "abcd"[(second["answer"] + 1) % len(second["options"])]  # one wrong on purpose
    result = runner.invoke(app, ["quiz", "--seed", "2", "--count", "3"], input="\n".join(answers) + "\n")
    assert result.exit_code == 0, result.stderr
    assert "2 of 3 correct" in result.stdout
    saved = json.loads((_home / "progress.json").read_text())
    assert saved["format"] == 1 and len(saved["cards"]) == 3
    wrong_id = data["questions"][1]["id"]
    assert saved["cards"][wrong_id]["wrong"] == 1


def test_due_cards_come_first() -> None:
    questions = all_questions(KB, seed=0)
    progress = progress_mod.Progress(Path("unused"))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    progress.record(questions[5].id, correct=False, now=now - timedelta(days=3))
    chosen = select(questions, progress, count=3, seed=1, now=now)
    assert chosen[0].id == questions[5].id
    assert all(q.id not in progress.cards for q in chosen[1:])


def test_stats(_home: Path) -> None:
    runner.invoke(app, ["quiz", "--seed", "4", "--count", "2"], input="a\na\n")
    data = json.loads(runner.invoke(app, ["quiz", "--stats", "--json"]).stdout)
    assert data["seen"] == 2 and data["new"] == data["questions"] - 2
    human = runner.invoke(app, ["quiz", "--stats"])
    assert human.exit_code == 0 and "due" in human.stdout.lower()


def test_topic(_home: Path) -> None:
    data = json.loads(runner.invoke(app, ["quiz", "--topic", "knee", "--count", "50", "--json"]).stdout)
    assert data["questions"] and all("knee" in q["tags"] for q in data["questions"])
    data = json.loads(runner.invoke(app, ["quiz", "--topic", "kyphoplasty", "--count", "50", "--json"]).stdout)
    assert {q["entry"] for q in data["questions"]} == {"kyphoplasty"}
    result = runner.invoke(app, ["quiz", "--topic", "pizza"])
    assert result.exit_code == 1


def test_corrupt_progress_is_set_aside_not_deleted(_home: Path) -> None:
    _home.mkdir(parents=True)
    (_home / "progress.json").write_text("{ not json")
    result = runner.invoke(app, ["quiz", "--stats"])
    assert result.exit_code == 0
    assert "corrupt" in result.stderr
    kept = list(_home.glob("progress.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{ not json"


def test_future_progress_is_set_aside(_home: Path) -> None:
    _home.mkdir(parents=True)
    (_home / "progress.json").write_text(json.dumps({"format": 99, "cards": {}}))
    result = runner.invoke(app, ["quiz", "--stats"])
    assert "newer painref" in result.stderr
    assert list(_home.glob("progress.json.newer-*"))


def test_progress_survives_a_kill_mid_quiz(tmp_path: Path, _home: Path) -> None:
    """Answer two questions, kill the process while it waits for the third: both answers are kept."""
    env = {**os.environ, "PAINREF_HOME": str(_home), "PAINREF_DATA": str(FIXTURE_KB)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "painref", "quiz", "--seed", "1", "--count", "3"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdin is not None
    proc.stdin.write("a\nb\n")
    proc.stdin.flush()
    path = _home / "progress.json"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if path.exists() and len(json.loads(path.read_text())["cards"]) == 2:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    saved = json.loads(path.read_text())
    assert len(saved["cards"]) == 2
    assert not list(_home.glob("*.tmp"))


def test_anki_export_has_one_note_per_question_with_stable_ids(tmp_path: Path) -> None:
    deck = tmp_path / "deck.apkg"
    result = runner.invoke(app, ["export", "anki", str(deck)])
    assert result.exit_code == 0, result.stderr
    questions = all_questions(KB, seed=0)

    def notes(path: Path) -> list[tuple[str, str, str]]:
        with zipfile.ZipFile(path) as z:
            z.extract("collection.anki2", tmp_path)
        db = sqlite3.connect(tmp_path / "collection.anki2")
        try:
            return sorted(db.execute("select guid, flds, tags from notes").fetchall())
        finally:
            db.close()

    first = notes(deck)
    assert len(first) == len(questions)
    assert any("Which imaging guides Kyphoplasty?" in flds for _, flds, _ in first)
    assert any("radiofrequency" in tags for _, _, tags in first)
    runner.invoke(app, ["export", "anki", str(deck)])
    assert [g for g, _, _ in notes(deck)] == [g for g, _, _ in first]  # same GUIDs: re-import updates


def test_anki_export_needs_apkg() -> None:
    result = runner.invoke(app, ["export", "anki", "deck.txt"])
    assert result.exit_code == 2 and ".apkg" in result.stderr


def test_markdown_export(tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "markdown", str(tmp_path / "notes")])
    assert result.exit_code == 0, result.stderr
    page = (tmp_path / "notes" / "procedures" / "medial-branch-block.md").read_text()
    assert page.startswith("# Medial branch block")
    assert "](../procedures/lumbar-radiofrequency-ablation.md)" in page
    assert (tmp_path / "notes" / "index.md").exists()
    assert len(list((tmp_path / "notes").rglob("*.md"))) == len(KB.procedures) + len(KB.conditions) + 1
    stdout = runner.invoke(app, ["export", "markdown", "-", "--data", str(FIXTURE_KB)])
    assert stdout.exit_code == 0 and "# Sciatica" in stdout.stdout
    sciatica = stdout.stdout.split("# Sciatica", 1)[1].split("\n# ", 1)[0]
    assert "## Diagnosis" in sciatica and "opposite leg is raised" in sciatica
    facet = stdout.stdout.split("# Facet joint arthritis", 1)[1].split("\n# ", 1)[0]
    assert "## Symptoms" in facet and "## Diagnosis" not in facet  # no empty section


def test_icd_questions_ask_only_codes_that_name_one_card() -> None:
    owners: dict[str, set[str]] = {}
    for cond in KB.conditions.values():
        for code in cond.icd10:
            owners.setdefault(code.code, set()).add(cond.id)
    asked = [q for q in all_questions(KB, seed=1) if q.kind == "icd10"]
    assert asked
    for q in asked:
        code = q.prompt.split("code ")[1].split(" ")[0]
        assert owners[code] == {q.entry_id}, q.prompt


def test_the_prompt_offers_only_the_letters_shown_and_a_small_topic_says_so(_home: Path) -> None:
    from datetime import UTC, datetime

    from painref.cli.studying import _ask_all

    three = next(q for q in all_questions(KB, seed=5) if len(q.options) == 3)
    prompts: list[str] = []

    def ask(prompt: str) -> str | None:
        prompts.append(prompt)
        return None  # then stop

    assert _ask_all([three], progress_mod.load(_home / "p.json"), ask, datetime.now(UTC), {}) == 0
    assert prompts == ["Your answer (a-c, q to stop)"]
    small = runner.invoke(app, ["quiz", "--topic", "kyphoplasty", "--count", "50", "--json"])
    assert small.exit_code == 0 and "question(s) on 'kyphoplasty'" in small.stderr
