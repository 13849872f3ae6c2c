"""The entry point: run the Typer app; end quietly on a closed pipe, and never with a traceback.

Importing Typer costs more than everything a lookup does, so the hottest
commands, given only words (and perhaps --json), skip it: `painref lookup
slipped disc --json` calls the same command function the Typer app would. That
is routing, not parsing: any other token (another option, --help, --data, "--")
sends the whole command line to the Typer app, which defines every argument.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys


def _streams() -> None:
    """Output that cannot be encoded (PYTHONIOENCODING=ascii, say) is replaced, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]


# Commands whose only arguments are words and --json, and that take the store and the words.
HOT = ("lookup", "show", "compare", "questions", "pathway", "define", "search")
# Every command's name (tests/test_cli_main.py checks this against the Typer app): any other first
# word starts a lookup, as with tldr (`painref sciatica`).
COMMANDS = (*HOT, "list", "guide", "sources", "quiz", "export", "paths", "new", "validate", "help")


def _hot(argv: list[str]) -> tuple[str, list[str], bool] | None:
    """(command, words, json) when argv is a hot command with words only, else None."""
    if not argv or argv[0] not in (*HOT, ROUTED):
        return None
    rest = argv[1:]
    words = [arg for arg in rest if not arg.startswith("-")]
    if not words or any(arg.startswith("-") and arg != "--json" for arg in rest):
        return None
    return argv[0], words, "--json" in rest


def _plain_help() -> bool:
    """Plain help for a pipe or a terminal narrower than 70 columns."""
    import shutil

    try:
        return not sys.stdout.isatty() or shutil.get_terminal_size().columns < 70
    except (AttributeError, ValueError, OSError):
        return True


def _stdout_gone() -> bool:
    """Whether stdout was redirected to the null device after its reader went away."""
    try:
        return os.path.samestat(os.fstat(sys.stdout.fileno()), os.stat(os.devnull))
    except (OSError, ValueError, AttributeError):
        return True


def _arguments(argv: list[str]) -> list[str]:
    """Arguments as text: bytes that were not UTF-8 (lone surrogates to Python) become U+FFFD."""
    return [_SURROGATE.sub("\ufffd", arg) for arg in argv]


_SURROGATE = re.compile("[\x00\ud800-\udfff]")  # NUL never comes from a real command line


ROUTED = "routed_lookup"  # not a command name anyone types: the lookup of words that are not a command


def _routed(argv: list[str]) -> list[str]:
    """`painref help [COMMAND]` is --help; `painref WORDS...` is `painref lookup WORDS...`."""
    if not argv or argv[0].startswith("-"):
        return argv
    if argv[0] == "help":
        return [*argv[1:2], "--help"]
    if argv[0] in COMMANDS or _near_command(argv[0]):
        return argv  # a command, or a typo of one: the Typer app says which
    return [ROUTED, *argv]


def _near_command(word: str) -> bool:
    """A word that is a command with one typo ("lokup", "comapre"): a usage error, not a lookup."""
    if len(word) < 4 or not word.isalpha():
        return False
    from rapidfuzz.distance import OSA

    return any(OSA.distance(word.lower(), name) <= 1 for name in COMMANDS if len(name) >= 4)


def run(argv: list[str]) -> int:
    argv = _routed(_arguments(argv))
    hot = _hot(argv)
    if hot is None and argv and argv[0] == ROUTED:
        argv = ["lookup", *argv[1:]]  # with options: the Typer app's lookup
    if hot is not None:
        from painref.cli import commands
        from painref.cli.output import run_with_store

        name, words, json = hot
        action = getattr(commands, name)
        return run_with_store(lambda store: action(store, words), None, json)
    if _plain_help():
        # Rich's help panels cut option names ("--catego…") on a narrow screen and draw boxes into
        # pipes; Click's plain help wraps instead. Typer reads this when it is first imported.
        os.environ.setdefault("TYPER_USE_RICH", "0")
    import typer

    from painref.cli.app import app, command_app
    from painref.cli.output import usage_error

    chosen = command_app(argv)
    try:
        code = (chosen or app)(args=argv, prog_name="painref", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        return 130
    except typer.TyperException as exc:  # a usage error, found by the parser: one line and a hint
        return usage_error(exc)
    except SystemExit as exc:
        if exc.code == 1 and _stdout_gone():
            return 0  # help printed into a closed pipe (`painref --help | head`): Rich stopped quietly
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return code if isinstance(code, int) else 0


def main() -> None:
    if sys.stdout is None or sys.stderr is None:
        # A closed stdout or stderr (">&-"): give the missing one somewhere harmless to write.
        devnull = open(os.devnull, "w")  # noqa: SIM115
        sys.stdout = sys.stdout or devnull
        sys.stderr = sys.stderr or devnull
    _streams()
    try:
        code = run(sys.argv[1:])
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly.
        with contextlib.suppress(OSError):
            devnull_fd = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull_fd, sys.stdout.fileno())
        code = 0
    except KeyboardInterrupt:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write("painref: interrupted\n")
        code = 130
    except Exception as exc:
        if os.environ.get("PAINREF_DEBUG"):
            raise
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.write(f"painref: internal error: {type(exc).__name__}: {exc}\n")
            sys.stderr.write("hint: this is a bug; PAINREF_DEBUG=1 shows the traceback\n")
        code = 70
    sys.exit(code)
