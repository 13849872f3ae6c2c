"""The entry point's fast path gives exactly what the Typer app gives."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from painref.cli.app import app
from painref.cli.main import _hot, run
from tests.conftest import FIXTURE_KB

DATA = str(FIXTURE_KB)
REPO_DATA = FIXTURE_KB.parent.parent.parent / "data"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["lookup", "knee", "rfa"], ("lookup", ["knee", "rfa"], False)),
        (["show", "mbb", "--json"], ("show", ["mbb"], True)),
        (["compare", "rfa", "--json", "epidural"], ("compare", ["rfa", "epidural"], True)),
        (["show", "mbb", "--json", "--data", "x"], None),  # any other option: Typer decides
        (["lookup", "--help"], None),
        (["lookup", "-h"], None),
        (["lookup"], None),
        (["lookup", "--json"], None),
        (["lookup", "--", "-x"], None),
        (["list", "procedures"], None),
        (["lookup", "x", "--jsn"], None),
        ([], None),
    ],
)
def test_fast_path_takes_only_words_and_json(argv: list[str], expected: object) -> None:
    assert _hot(argv) == expected


@pytest.mark.parametrize(
    "argv",
    [
        ["lookup", "sciatica", "--json"],
        ["lookup", "rfa", "--json"],
        ["lookup", "pizza", "--json"],
        ["show", "medial", "branch", "block", "--json"],
        ["compare", "rfa", "epidural", "--json"],
        ["compare", "rfa", "sciatica", "--json"],
        ["questions", "sciatica", "--json"],
        ["pathway", "mbb", "--json"],
        ["define", "live", "x-ray", "--json"],
        ["lookup", "sciatica"],
        ["compare", "rfa", "epidural"],
    ],
)
def test_fast_path_matches_typer(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAINREF_DATA", DATA)
    assert _hot(argv) is not None
    code = run(argv)
    fast = capsys.readouterr()
    typer_result = CliRunner().invoke(app, argv)
    assert code == typer_result.exit_code
    assert fast.out == typer_result.stdout
    assert fast.err == typer_result.stderr


def test_slow_path_runs_typer(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["list", "procedures", "--json", "--data", DATA]) == 0
    assert '"radiofrequency-ablation"' in capsys.readouterr().out
    assert run(["frobnicate"]) == 2  # not a command, and no entry: a usage error


def test_the_command_list_matches_the_app() -> None:
    from painref.cli.main import COMMANDS

    names = {info.name or (info.callback.__name__ if info.callback else "") for info in app.registered_commands}
    assert set(COMMANDS) - {"help"} == names


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["sciatica", "--json"], 0, '"id": "sciatica"'),
        (["slipped", "disc", "--json"], 0, '"matches"'),
        (["qwxzvbn"], 2, ""),  # neither a command nor an entry
        (["lokup", "sciatica"], 2, ""),
        (["help"], 0, "lookup"),
        (["help", "compare"], 0, "compare"),
    ],
)
def test_a_first_word_that_is_not_a_command_is_a_lookup(
    argv: list[str], code: int, needle: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAINREF_DATA", str(REPO_DATA))
    assert run(argv) == code
    assert needle in capsys.readouterr().out
