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
import sys


def _streams() -> None:
    """Output that cannot be encoded (PYTHONIOENCODING=ascii, say) is replaced, not a crash."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]


# Commands whose only arguments are words and --json, and that take the store and the words.
HOT = ("lookup", "show", "compare", "questions", "pathway", "define", "search")


def _hot(argv: list[str]) -> tuple[str, list[str], bool] | None:
    """(command, words, json) when argv is a hot command with words only, else None."""
    if not argv or argv[0] not in HOT:
        return None
    rest = argv[1:]
    words = [arg for arg in rest if not arg.startswith("-")]
    if not words or any(arg.startswith("-") and arg != "--json" for arg in rest):
        return None
    return argv[0], words, "--json" in rest


def run(argv: list[str]) -> int:
    hot = _hot(argv)
    if hot is not None:
        from painref.cli import commands
        from painref.cli.output import run_with_store

        name, words, json = hot
        action = getattr(commands, name)
        return run_with_store(lambda store: action(store, words), None, json)
    from painref.cli.app import app, command_app

    chosen = command_app(argv)
    try:
        (chosen or app)(args=argv, prog_name="painref", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    return 0


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
