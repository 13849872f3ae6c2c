"""Nothing lost, nothing run, no traceback: a user's files, concurrent use, odd places, streams, hostile text.

Every test drives the installed entry point (`python -m painref`) in a child
process, as a user would, with its own painref home and cache.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FIXTURE_KB


def painref(
    *args: str, stdin: str | bytes | None = "", env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run(
        [sys.executable, "-m", "painref", *args],
        input=data,
        capture_output=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=120,
        check=False,
    )


def one_line_error(result: subprocess.CompletedProcess[bytes]) -> str:
    err = result.stderr.decode()
    assert "Traceback" not in err and "internal error" not in err, err
    lines = [line for line in err.splitlines() if not line.startswith("hint:")]
    assert len(lines) == 1 and lines[0].startswith("painref: "), err
    return lines[0]


# ---------------------------------------------------------------- 1. a user's files


def test_anki_export_never_replaces_a_deck_unasked(tmp_path: Path) -> None:
    deck = tmp_path / "deck.apkg"
    deck.write_bytes(b"my own deck")
    refused = painref("export", "anki", str(deck))
    assert refused.returncode == 2 and "already exists" in one_line_error(refused)
    assert deck.read_bytes() == b"my own deck"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg"]  # no temporary file left
    forced = painref("export", "anki", str(deck), "--force")
    assert forced.returncode == 0, forced.stderr
    assert zipfile.is_zipfile(deck)


def test_anki_export_into_a_missing_directory_creates_nothing(tmp_path: Path) -> None:
    result = painref("export", "anki", "sub/../deck.apkg", cwd=tmp_path)
    assert result.returncode == 2
    one_line_error(result)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_anki_export_leaves_the_old_deck_whole(tmp_path: Path) -> None:
    deck = tmp_path / "deck.apkg"
    deck.write_bytes(b"old deck")
    # A deck path whose directory is not writable (a file stands where the directory should be).
    blocked = painref("export", "anki", str(tmp_path / "deck.apkg" / "x.apkg"), "--force")
    assert blocked.returncode == 2
    one_line_error(blocked)
    assert deck.read_bytes() == b"old deck"


def test_markdown_export_never_overwrites_the_users_pages(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "index.md").write_text("my own index")
    refused = painref("export", "markdown", str(notes))
    assert refused.returncode == 2 and "already exists" in one_line_error(refused)
    assert (notes / "index.md").read_text() == "my own index"
    assert sorted(p.name for p in notes.iterdir()) == ["index.md"]  # nothing else written either
    assert painref("export", "markdown", str(notes), "--force").returncode == 0
    assert (notes / "index.md").read_text() != "my own index"


def test_markdown_export_never_writes_through_a_link_out_of_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "procedures").symlink_to(outside, target_is_directory=True)
    result = painref("export", "markdown", str(notes), "--force")
    assert result.returncode == 2
    one_line_error(result)
    assert list(outside.iterdir()) == []


def test_markdown_export_replaces_a_linked_page_not_its_target(tmp_path: Path) -> None:
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "index.md").symlink_to(target)
    assert painref("export", "markdown", str(notes), "--force").returncode == 0
    assert target.read_text() == "keep me"
    assert not (notes / "index.md").is_symlink()


def _home(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "home"
    return home, {"PAINREF_HOME": str(home)}


def test_new_appends_in_place_keeping_mode_line_endings_and_links(tmp_path: Path) -> None:
    home, env = _home(tmp_path)
    home.mkdir()
    real = tmp_path / "elsewhere.yaml"
    real.write_bytes(b"# mine\r\nprocedures:\r\n")
    os.chmod(real, 0o640)
    (home / "procedures.yaml").symlink_to(real)
    twin = tmp_path / "hardlink.yaml"
    os.link(real, twin)
    result = painref("new", "procedure", "my-block", env=env)
    assert result.returncode == 0, result.stderr
    assert (home / "procedures.yaml").is_symlink()
    data = real.read_bytes()
    assert data.startswith(b"# mine\r\nprocedures:\r\n") and b"# - id: my-block\r\n" in data
    assert b"\n" not in data.replace(b"\r\n", b"")  # every line ends as the file's did
    assert stat.S_IMODE(real.stat().st_mode) == 0o640
    assert twin.read_bytes() == data  # the hard link sees the same file


def test_new_refuses_a_file_it_cannot_read_as_text_and_changes_nothing(tmp_path: Path) -> None:
    home, env = _home(tmp_path)
    home.mkdir()
    (home / "procedures.yaml").write_bytes(b"procedures:\n# caf\xe9\n")
    result = painref("new", "procedure", "my-block", env=env)
    assert result.returncode == 2
    one_line_error(result)
    assert (home / "procedures.yaml").read_bytes() == b"procedures:\n# caf\xe9\n"


def test_new_refuses_ids_with_hidden_characters(tmp_path: Path) -> None:
    _home_dir, env = _home(tmp_path)
    for bad in ("evil\n", "evil\r", "Evil", "évil", "a b", "-x-"):
        result = painref("new", "procedure", "--", bad, env=env)
        assert result.returncode == 2, bad


def test_ten_parallel_news_keep_ten_templates(tmp_path: Path) -> None:
    home, env = _home(tmp_path)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "painref", "new", "procedure", f"par-{n}"],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(10)
    ]
    assert [run.wait(timeout=120) for run in runs] == [0] * 10
    text = (home / "procedures.yaml").read_text()
    assert all(f"# - id: par-{n}\n" in text for n in range(10))
    assert text.count("procedures:\n") == 1


def test_two_quizzes_on_one_progress_file_keep_every_answer(tmp_path: Path) -> None:
    from painref.study import progress as progress_mod

    path = tmp_path / "progress.json"
    first, second = progress_mod.load(path), progress_mod.load(path)
    for n in range(5):
        first.record(f"a-{n}", True)
        first.save()
        second.record(f"b-{n}", False)
        second.save()
    kept = progress_mod.load(path).cards
    assert {f"a-{n}" for n in range(5)} | {f"b-{n}" for n in range(5)} <= set(kept)


def test_a_symlinked_progress_file_stays_a_link(tmp_path: Path) -> None:
    from painref.study import progress as progress_mod

    real = tmp_path / "synced" / "progress.json"
    real.parent.mkdir()
    real.write_text(json.dumps({"format": 1, "cards": {}}))
    link = tmp_path / "progress.json"
    link.symlink_to(real)
    kept = progress_mod.load(link)
    kept.record("q", True)
    kept.save()
    assert link.is_symlink() and "q" in json.loads(real.read_text())["cards"]


# ---------------------------------------------------------------- 3. odd places


def test_an_unwritable_home_lets_the_quiz_go_on_without_progress() -> None:
    result = painref("quiz", "--count", "2", "--seed", "1", stdin="a\nb\n", env={"PAINREF_HOME": "/proc/painref"})
    assert result.returncode == 0, result.stderr
    err = result.stderr.decode()
    assert "Traceback" not in err and "not kept" in err
    assert "of 2 correct" in result.stdout.decode()


def test_a_relative_xdg_data_home_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from painref.dirs import user_dir

    monkeypatch.delenv("PAINREF_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", "relative")
    assert user_dir() == tmp_path / ".local" / "share" / "painref"


@pytest.mark.parametrize(
    "data",
    ["~nosuchuser12345/kb", "/tmp/" + "x" * 300 + "/kb", "/proc", "/dev/null"],
)
def test_nonsensical_data_directories_are_a_clean_error(data: str) -> None:
    result = painref("lookup", "sciatica", "--data", data)
    assert result.returncode == 2
    one_line_error(result)


def test_no_home_and_an_unknown_uid_still_look_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import pwd

    from painref.cli.main import run

    def unknown(uid: int) -> object:
        raise KeyError(f"getpwuid(): uid not found: {uid}")

    for name in ("HOME", "PAINREF_HOME", "PAINREF_CACHE_DIR", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(pwd, "getpwuid", unknown)
    assert run(["lookup", "sciatica", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matches"][0]["id"] == "sciatica"


# ---------------------------------------------------------------- 4. streams and terminals


def test_closed_stdout_is_not_a_traceback() -> None:
    done = subprocess.run(
        f"{sys.executable} -m painref lookup sciatica >&-", shell=True, capture_output=True, timeout=60, check=False
    )
    assert b"Traceback" not in done.stderr
    assert done.returncode == 0


@pytest.mark.parametrize("args", [["lookup", "sciatica"], ["lookup", "qwxzvbn"], ["list", "frob"]])
def test_closed_stderr_keeps_the_exit_codes(args: list[str]) -> None:
    command = " ".join([sys.executable, "-m", "painref", *args])
    done = subprocess.run(f"{command} 2>&-", shell=True, capture_output=True, timeout=60, check=False)
    expected = {"sciatica": 0, "qwxzvbn": 1, "frob": 2}[args[1]]
    assert done.returncode == expected


def test_quiz_with_stdin_closed_ends_cleanly() -> None:
    done = subprocess.run(
        f"{sys.executable} -m painref quiz --count 1 <&-", shell=True, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0 and b"Traceback" not in done.stderr


def test_an_ascii_only_stream_degrades_instead_of_failing() -> None:
    result = painref("lookup", "sciatica", env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0
    assert b"Traceback" not in result.stderr
    result.stdout.decode("ascii")


def test_argument_bytes_that_are_not_utf8_are_escaped() -> None:
    done = subprocess.run(
        [sys.executable.encode(), b"-m", b"painref", b"lookup", b"caf\xe9 \xff", b"--json"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    json.loads(done.stdout)
    done.stdout.decode("utf-8")


@pytest.mark.parametrize("answer", ["²\n", "①\n", "D\n", "x" * 100_000 + "\n"])
def test_odd_answers_are_refused_not_fatal(answer: str, tmp_path: Path) -> None:
    _home_dir, env = _home(tmp_path)
    result = painref("quiz", "--count", "1", "--seed", "3", stdin=answer + "q\n", env=env)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr


def test_an_answer_line_that_never_ends_is_read_with_a_bound(tmp_path: Path) -> None:
    _home_dir, env = _home(tmp_path)
    result = painref("quiz", "--count", "1", "--seed", "3", stdin=b"a" * 20_000_000, env=env)
    assert result.returncode == 0 and b"Traceback" not in result.stderr


def test_ctrl_c_in_the_quiz_prints_the_summary_and_exits_130(tmp_path: Path) -> None:
    _home_dir, env = _home(tmp_path)
    quiz = subprocess.Popen(
        [sys.executable, "-m", "painref", "quiz", "--count", "3", "--seed", "1"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **env},
        # A shell may start a background job with SIGINT ignored; the user at a terminal has it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert quiz.stdin is not None and quiz.stdout is not None
    quiz.stdin.write(b"a\n")
    quiz.stdin.flush()
    deadline = time.monotonic() + 60
    seen = b""
    while b"2/3" not in seen and time.monotonic() < deadline:
        seen += os.read(quiz.stdout.fileno(), 4096)
    quiz.send_signal(signal.SIGINT)
    out, err = quiz.communicate(timeout=60)
    assert quiz.returncode == 130
    assert b"of 1 correct" in seen + out and b"Traceback" not in err


# ---------------------------------------------------------------- 5. text from data is inert


def _hostile_layer(tmp_path: Path, name: str, summary: str) -> Path:
    kb = tmp_path / "kb"
    kb.mkdir()
    for f in FIXTURE_KB.iterdir():
        (kb / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    text = (kb / "procedures.yaml").read_text(encoding="utf-8")
    (kb / "procedures.yaml").write_text(
        text.replace("name: Medial branch block", f"name: {json.dumps(name)}", 1).replace(
            "summary: ", f"summary: {json.dumps(summary)} #", 1
        ),
        encoding="utf-8",
    )
    return kb


TITLE_AND_LINK = "\x1b]0;pwned\x07 \x1b]8;;http://evil\x1b\\here\x1b]8;;\x1b\\"
HOSTILE_NAME = f"Medial \u202ebranch\u202c block {TITLE_AND_LINK} $(touch /tmp/painref-pwned)"
HOSTILE_SUMMARY = "Plain \x9b31m text \x1b[2J <script>x</script> [link](http://evil) # heading"


def test_hostile_text_never_reaches_the_terminal_raw(tmp_path: Path) -> None:
    kb = _hostile_layer(tmp_path, HOSTILE_NAME, HOSTILE_SUMMARY)
    assert painref("validate", str(kb)).returncode == 0
    for args in (["show", "medial-branch-block"], ["show", "medial-branch-block", "--json"], ["list", "procedures"]):
        out = painref(*args, "--data", str(kb)).stdout.decode()
        assert not any(ch in out for ch in "\x1b\x07\x9b\u202e\u202c"), args


def test_markdown_export_of_hostile_text_is_literal(tmp_path: Path) -> None:
    kb = _hostile_layer(tmp_path, HOSTILE_NAME, HOSTILE_SUMMARY)
    out = painref("export", "markdown", "-", "--data", str(kb)).stdout.decode()
    assert not any(ch in out for ch in "\x1b\x07\x9b\u202e")
    assert "<script>" not in out and "[link](http://evil)" not in out
    assert "\n# heading" not in out


def test_completion_never_offers_shell_syntax(tmp_path: Path) -> None:
    kb = _hostile_layer(tmp_path, HOSTILE_NAME, HOSTILE_SUMMARY)
    env = {"PAINREF_DATA": str(kb), "_PAINREF_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "painref show med"}
    out = painref(env=env).stdout.decode()
    assert "medial-branch-block" in out
    assert "$(" not in out and "`" not in out


# ---------------------------------------------------------------- 6. validation has no holes


@pytest.mark.parametrize(
    ("old", "new", "ok"),
    [
        ("year: 2018", "year: .nan", False),
        ("year: 2018", "year: .inf", False),
        ("year: 2018", "year: " + "9" * 400, False),
        ("year: 2018", "year: -2018", False),
        ("band: months-to-years", "band: .nan", False),
        ("band: months-to-years", "band: 26", False),
        ("band: months-to-years", "weeks: [26, 104]", False),
        ("onset: Within days to two weeks.", "onset: .inf", False),
        ("year: 2018", "year: 2019", True),
    ],
)
def test_numbers_must_be_finite_and_sensible(tmp_path: Path, old: str, new: str, ok: bool) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    for f in FIXTURE_KB.iterdir():
        (kb / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    text = (
        (kb / "procedures.yaml")
        .read_text(encoding="utf-8")
        .replace(
            "sources: [003_0f73fea668c8ff44]",
            "sources: [{title: A review, publisher: A journal, year: 2018, url: 'https://example.org/r'}]",
            1,
        )
    )
    assert old in text
    (kb / "procedures.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    result = painref("validate", str(kb))
    assert (result.returncode == 0) is ok, result.stderr
    assert b"Traceback" not in result.stderr
    if not ok:
        assert b"procedures.yaml:" in result.stderr
        shown = painref("show", "rfa", "--json", "--data", str(kb))
        assert shown.returncode == 2 and shown.stdout == b""


@pytest.mark.parametrize("kind", ["fifo", "directory", "dev-zero"])
def test_a_layer_file_that_is_not_a_regular_file_is_refused(tmp_path: Path, kind: str) -> None:
    kb = tmp_path / "kb"
    kb.mkdir()
    for f in FIXTURE_KB.iterdir():
        (kb / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    glossary = kb / "glossary.yaml"
    glossary.unlink()
    if kind == "fifo":
        os.mkfifo(glossary)
    elif kind == "directory":
        glossary.mkdir()
    else:
        glossary.symlink_to("/dev/zero")
    result = painref("validate", str(kb))
    assert result.returncode == 2 and b"glossary.yaml" in result.stderr


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("Блокада медиальной ветви", "блокада медиальной"),
        ("Αποκλεισμός έσω κλάδου", "αποκλεισμός έσω"),
        ("内側枝ブロック", "内側枝ブロック"),
    ],
)
def test_names_in_every_script_are_names(tmp_path: Path, name: str, query: str) -> None:
    kb = _hostile_layer(tmp_path, name, "A block in another script")
    assert painref("validate", str(kb)).returncode == 0
    found = painref("lookup", query, "--json", "--data", str(kb))
    assert json.loads(found.stdout)["matches"][0]["id"] == "medial-branch-block"


# ---------------------------------------------------------------- 7. any input at all


def _run_captured(argv: list[str]) -> tuple[int, str, str]:
    import contextlib
    import io

    from painref.cli.main import run

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(argv)
    return code, out.getvalue(), err.getvalue()


RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
ODD = st.sampled_from(
    ["\udcff", "\udc80", "\x1b[2J", "\x9b", "\u202e", "\x00", "-", "--", "1e999", "9" * 400, "NaN", "3w"]
)
WORD = st.one_of(st.text(st.characters(), max_size=12), ODD)
COMMANDS = [
    ["lookup"], ["show"], ["compare"], ["questions"], ["pathway"], ["define"], ["search"], ["list", "procedures"],
    ["list", "conditions"], ["list"], ["guide"], ["paths"], ["validate"], ["quiz", "--json"], ["quiz", "--stats"],
    ["export", "markdown", "-"], ["new", "procedure"], ["frobnicate"], [],
]  # fmt: skip
OPTIONS = st.sampled_from(
    ["--json", "--count", "--seed", "--topic", "--limit", "--min-relief", "--imaging", "--region", "--sort", "-h"]
)


@settings(deadline=None, max_examples=150, suppress_health_check=list(HealthCheck))
@given(command=st.sampled_from(COMMANDS), rest=st.lists(st.one_of(WORD, OPTIONS), max_size=5))
def test_any_arguments_give_a_documented_exit_and_clean_output(command: list[str], rest: list[str]) -> None:
    code, out, err = _run_captured([*command, *rest])
    assert code in (0, 1, 2), (command, rest, code, err)
    assert not RAW_CONTROL.search(out) and not RAW_CONTROL.search(err), (command, rest)
    for line in err.splitlines():
        assert line.startswith(("painref: ", "hint: ")) or not line.strip(), (command, rest, err)


@settings(deadline=None, max_examples=40, suppress_health_check=list(HealthCheck))
@given(text=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40))
def test_any_text_in_an_entry_is_shown_inert_or_refused(text: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        kb = _hostile_layer(Path(tmp), "Medial branch block", text)
        for argv in (["show", "mbb"], ["show", "mbb", "--json"], ["search", "branch"], ["list", "procedures"]):
            code, out, err = _run_captured([*argv, "--data", str(kb)])
            assert code in (0, 1, 2), (argv, err)
            assert not RAW_CONTROL.search(out) and not RAW_CONTROL.search(err), argv
            if "--json" in argv and code == 0:
                json.loads(out)


def test_a_full_disk_leaves_the_old_file_whole(tmp_path: Path) -> None:
    import errno

    from painref.atomic import write_file

    target = tmp_path / "deck.apkg"
    target.write_bytes(b"old deck")

    def chunks() -> object:
        yield b"new start"
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        write_file(target, chunks(), replace=True)  # type: ignore[arg-type]
    assert target.read_bytes() == b"old deck"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg"]


def test_a_read_only_user_file_keeps_its_mode(tmp_path: Path) -> None:
    home, env = _home(tmp_path)
    home.mkdir()
    mine = home / "conditions.yaml"
    mine.write_text("conditions:\n")
    os.chmod(mine, 0o444)
    result = painref("new", "condition", "my-condition", env=env)
    if result.returncode == 0:  # root may write a read-only file: it is extended, never replaced
        assert "# - id: my-condition" in mine.read_text()
    else:
        assert result.returncode == 2 and mine.read_text() == "conditions:\n"
    assert stat.S_IMODE(mine.stat().st_mode) == 0o444


@pytest.mark.parametrize("value", ["/proc", "relative/dir"])
def test_odd_xdg_data_homes_still_look_up(value: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PAINREF_HOME"}
    env.update({"XDG_DATA_HOME": value, "HOME": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "-m", "painref", "lookup", "sciatica", "--json"],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "relative").exists()


def test_usage_errors_are_one_line_with_a_hint() -> None:
    for args in (["list", "procedures", "--bogus"], ["lokup", "x"], ["lookup"], ["quiz", "--count", "x"]):
        result = painref(*args)
        assert result.returncode == 2, args
        one_line_error(result)
        assert b"hint: " in result.stderr, args


def test_an_unexpected_failure_is_one_line_and_exit_70(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib

    from painref.cli import commands

    entry = importlib.import_module("painref.cli.main")

    def broken(store: object, words: list[str]) -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(commands, "lookup", broken)
    monkeypatch.delenv("PAINREF_DEBUG", raising=False)
    monkeypatch.setattr(sys, "argv", ["painref", "lookup", "sciatica"])
    with pytest.raises(SystemExit) as ended:
        entry.main()
    assert ended.value.code == 70
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("painref: internal error")


def test_two_quiz_processes_on_one_progress_file_keep_every_answer(tmp_path: Path) -> None:
    home, env = _home(tmp_path)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "painref", "quiz", "--count", "5", "--seed", str(seed)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **env},
        )
        for seed in (11, 12)
    ]
    for run in runs:
        assert run.stdin is not None
        run.stdin.write(b"a\nb\nc\na\nb\n")
        run.stdin.close()
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    cards = json.loads((home / "progress.json").read_text())["cards"]
    answered = sum(card["right"] + card["wrong"] for card in cards.values())
    assert answered == 10


def _in_a_terminal(args: list[str], env: dict[str, str], rows: int = 24) -> str:
    """Run painref in a pseudo-terminal of `rows` x 80; what it printed."""
    import fcntl
    import pty
    import struct
    import termios

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execve(sys.executable, [sys.executable, "-m", "painref", *args], {**os.environ, **env})
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, 80, 0, 0))
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    return out.decode("utf-8", "replace")


def test_long_output_on_a_terminal_goes_through_the_pager(tmp_path: Path) -> None:
    seen = tmp_path / "paged.txt"
    pager = f"sh -c 'cat > {seen}'"
    _in_a_terminal(["show", "epidural steroid injection"], {"PAGER": pager, "LINES": "24", "COLUMNS": "80"})
    assert "Epidural steroid injection" in seen.read_text()


def test_no_pager_and_short_output_print_directly(tmp_path: Path) -> None:
    seen = tmp_path / "paged.txt"
    pager = f"sh -c 'cat > {seen}'"
    out = _in_a_terminal(["show", "esi", "--no-pager"], {"PAGER": pager, "LINES": "24", "COLUMNS": "80"})
    assert "Epidural steroid injection" in out and not seen.exists()
    out = _in_a_terminal(["show", "esi", "--brief"], {"PAGER": pager, "LINES": "40", "COLUMNS": "80"}, rows=40)
    assert "Epidural steroid injection" in out and not seen.exists()


def test_a_pipe_never_gets_the_pager(tmp_path: Path) -> None:
    seen = tmp_path / "paged.txt"
    result = painref("show", "esi", env={"PAGER": f"sh -c 'cat > {seen}'"})
    assert b"Epidural steroid injection" in result.stdout and not seen.exists()


def test_a_file_system_without_hard_links_still_gets_the_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from painref.atomic import Exists, write_file

    def no_links(src: str, dst: str) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    write_file(tmp_path / "deck.apkg", [b"deck"])
    assert (tmp_path / "deck.apkg").read_bytes() == b"deck"
    with pytest.raises(Exists):
        write_file(tmp_path / "deck.apkg", [b"other"])
    assert (tmp_path / "deck.apkg").read_bytes() == b"deck"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deck.apkg"]
