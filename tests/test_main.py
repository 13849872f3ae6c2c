"""The entry point's fast path gives exactly what the Typer app gives."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from painref.cli.app import app
from painref.main import _fast_args, run
from tests.conftest import FIXTURE_KB

DATA = str(FIXTURE_KB)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["lookup", "knee", "rfa"], ("lookup", ["knee", "rfa"], False, None)),
        (["show", "mbb", "--json", "--data", "x"], ("show", ["mbb"], True, "x")),
        (["compare", "rfa", "--data=x", "epidural"], ("compare", ["rfa", "epidural"], False, "x")),
        (["lookup", "--help"], None),
        (["lookup", "-h"], None),
        (["lookup"], None),
        (["lookup", "--data"], None),
        (["list", "procedures"], None),
        (["lookup", "x", "--jsn"], None),
        ([], None),
    ],
)
def test_fast_path_takes_only_plain_invocations(argv: list[str], expected: object) -> None:
    assert _fast_args(argv) == expected


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
def test_fast_path_matches_typer(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code = run([*argv, "--data", DATA])
    fast = capsys.readouterr()
    typer_result = CliRunner().invoke(app, [*argv, "--data", DATA])
    assert code == typer_result.exit_code
    assert fast.out == typer_result.stdout
    assert fast.err == typer_result.stderr


def test_slow_path_runs_typer(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["list", "procedures", "--json", "--data", DATA]) == 0
    assert '"radiofrequency-ablation"' in capsys.readouterr().out
    assert run(["frobnicate"]) == 2
