"""Layered knowledge bases: PAINREF_PATH and the user's directory add, override and annotate entries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from painref.cli.app import app
from painref.cli.commands import complete_entries

runner = CliRunner(env={"COLUMNS": "140"})

CLINIC_PROCEDURE = """
procedures:
  - id: clinic-ketamine-infusion
    name: Ketamine infusion (clinic protocol)
    aliases: [clinic ketamine]
    category: non-invasive
    purpose: therapeutic
    summary: The clinic's own protocol entry.
    mechanism: {agent: Ketamine, target: Central sensitisation}
    imaging: {modalities: [none], note: No imaging.}
    anesthesia: No anesthesia needed.
    setting: Infusion suite.
    procedure_time: About four hours per the clinic protocol.
    onset: Per clinic protocol.
    relief: {text: Per clinic protocol., band: not-stated}
    recovery: Observation per clinic protocol.
    risks: [Per clinic protocol]
    bleeding_risk: {category: unclassified, note: Not an interventional procedure.}
    prerequisites: []
    next_steps: []
    questions: [Who qualifies?, How many sessions?, What monitoring?]
    sources: [{title: Clinic protocol, publisher: Example clinic, year: 2026, url: "https://example.org/p"}]
"""


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    layer = tmp_path / "clinic"
    layer.mkdir()
    (layer / "procedures.yaml").write_text(CLINIC_PROCEDURE)
    monkeypatch.setenv("PAINREF_PATH", str(layer))
    return layer


@pytest.fixture
def home() -> Path:
    return Path(os.environ["PAINREF_HOME"])


def show(*args: str) -> dict[str, object]:
    result = runner.invoke(app, ["show", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def test_a_layer_adds_an_entry(clinic: Path) -> None:
    data = show("clinic ketamine")
    assert data["id"] == "clinic-ketamine-infusion" and data["layer"] == "PAINREF_PATH 1"
    human = runner.invoke(app, ["show", "clinic-ketamine-infusion"])
    assert "from the PAINREF_PATH 1 layer" in human.stdout
    assert show("kyphoplasty")["layer"] == "built-in"


def test_a_later_layer_overrides_by_id(clinic: Path, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    text = CLINIC_PROCEDURE.replace("The clinic's own protocol entry.", "The trainee's own version.")
    (home / "procedures.yaml").write_text(text)
    data = show("clinic ketamine")
    assert data["summary"] == "The trainee's own version." and data["layer"] == "user"
    listing = json.loads(runner.invoke(app, ["paths", "--json"]).stdout)["layers"]
    assert [row["layer"] for row in listing] == ["built-in", "PAINREF_PATH 1", "user"]
    assert listing[1]["added"] == 1 and listing[2]["overridden"] == 1 and listing[2]["added"] == 0


def test_notes_attach_to_an_entry_without_copying_it(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "notes.yaml").write_text("notes:\n  - id: medial-branch-block\n    text: 'Mnemonic: block before burn.'\n")
    data = show("mbb")
    assert data["notes"] == [{"layer": "user", "text": "Mnemonic: block before burn."}]
    assert data["layer"] == "built-in"
    human = runner.invoke(app, ["show", "mbb"])
    assert "Local notes" in human.stdout and "block before burn" in human.stdout


def test_a_note_for_an_unknown_entry_warns_and_validate_fails(home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "notes.yaml").write_text("notes:\n  - id: no-such-entry\n    text: x\n")
    result = runner.invoke(app, ["lookup", "sciatica"])
    assert result.exit_code == 0 and "Sciatica" in result.stdout
    assert result.stderr.startswith("painref: warning:") and "no-such-entry" in result.stderr
    assert "notes.yaml" in result.stderr
    validate = runner.invoke(app, ["validate"])
    assert validate.exit_code == 2 and "no-such-entry" in validate.stderr


def test_a_bad_layer_names_the_layer_and_file(clinic: Path) -> None:
    (clinic / "conditions.yaml").write_text("conditions: [\n")
    result = runner.invoke(app, ["lookup", "sciatica"])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    assert str(clinic / "conditions.yaml") in result.stderr and "layer PAINREF_PATH 1" in result.stderr
    validate = runner.invoke(app, ["validate"])
    assert validate.exit_code == 2 and "PAINREF_PATH 1" in validate.stderr


def test_an_entry_cannot_change_kind(clinic: Path, home: Path) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "conditions.yaml").write_text(CLINIC_PROCEDURE.replace("procedures:", "conditions:"))
    result = runner.invoke(app, ["validate"])
    assert result.exit_code == 2 and "cannot change kind" in result.stderr


def test_data_means_only_that_directory(clinic: Path, tmp_path: Path) -> None:
    from tests.conftest import FIXTURE_KB

    result = runner.invoke(app, ["lookup", "clinic ketamine", "--data", str(FIXTURE_KB)])
    assert result.exit_code == 1
    listing = json.loads(runner.invoke(app, ["paths", "--json", "--data", str(FIXTURE_KB)]).stdout)["layers"]
    assert [row["layer"] for row in listing] == ["data"]


def test_new_writes_a_commented_template_that_validates(home: Path) -> None:
    result = runner.invoke(app, ["new", "procedure", "my-clinic-block"])
    assert result.exit_code == 0, result.stderr
    path = home / "procedures.yaml"
    assert result.stdout.strip() == str(path)
    assert "# - id: my-clinic-block" in path.read_text()
    assert runner.invoke(app, ["validate"]).exit_code == 0
    again = runner.invoke(app, ["new", "procedure", "my-clinic-block"])
    assert again.exit_code == 2 and "already has" in again.stderr
    assert runner.invoke(app, ["new", "condition", "Bad Id"]).exit_code == 2
    runner.invoke(app, ["new", "condition", "my-condition"])
    assert "# - id: my-condition" in (home / "conditions.yaml").read_text()


def test_completion_of_names_and_aliases(clinic: Path) -> None:
    ids = [value for value, _help in complete_entries("kyph")]
    assert "kyphoplasty" in ids
    assert "radiofrequency-ablation" in [value for value, _ in complete_entries("rf")]
    assert "clinic-ketamine-infusion" in [value for value, _ in complete_entries("clinic")]
    assert "fluoroscopy" in [value for value, _ in complete_entries("fluoro", terms=True)]


def test_shell_completion_through_the_installed_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "painref"
    env = {
        **os.environ,
        "_PAINREF_COMPLETE": "complete_bash",
        "COMP_WORDS": "painref show kyph",
        "COMP_CWORD": "2",
    }
    done = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert "kyphoplasty" in done.stdout, done.stderr
