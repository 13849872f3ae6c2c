"""The installed console script, run as a user would: a subprocess, from outside the repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def painref(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    script = BIN / "painref"
    assert script.exists(), f"painref is not installed next to {sys.executable}; run pip install ."
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [str(script), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    return tmp_path


def test_lookup_sciatica_from_another_directory(elsewhere: Path) -> None:
    done = painref("lookup", "sciatica", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert "Sciatica" in done.stdout and "Procedures for Sciatica" in done.stdout and "M54.3" in done.stdout
    assert "\x1b[" not in done.stdout  # piped: no colour


def test_compare_json_from_another_directory(elsewhere: Path) -> None:
    done = painref("compare", "rfa", "epidural", "--json", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    ids = [p["id"] for p in json.loads(done.stdout)["procedures"]]
    assert ids == ["radiofrequency-ablation", "epidural-steroid-injection"]


def test_exit_codes_and_stderr(elsewhere: Path) -> None:
    done = painref("lookup", "qwxzvbn", cwd=elsewhere)
    assert done.returncode == 1 and done.stdout == "" and "no confident match" in done.stderr
    done = painref("no-such-command", cwd=elsewhere)
    assert done.returncode == 2
    done = painref("lookup", "x", "--data", str(elsewhere / "missing"), cwd=elsewhere)
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_python_dash_m(elsewhere: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "painref", "--version"], cwd=elsewhere, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.startswith("painref ")


def test_closed_pipe_ends_quietly(elsewhere: Path) -> None:
    script = BIN / "painref"
    done = subprocess.run(
        f"'{script}' list procedures | head -n 1", shell=True, cwd=elsewhere, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() != ""
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_colour_only_on_a_terminal_and_never_with_no_color(elsewhere: Path) -> None:
    forced = painref("show", "kyphoplasty", cwd=elsewhere, env={"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1"})
    assert forced.returncode == 0
    assert "\x1b[" in forced.stdout
    plain = painref("show", "kyphoplasty", cwd=elsewhere, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\x1b[3" not in plain.stdout  # no colour codes (bold may remain)
