"""The entry point. The commonest invocations skip Typer entirely.

A lookup is used dozens of times a day, and importing Typer costs more than
everything painref itself does. So `painref COMMAND WORDS... [--json]
[--data DIR]` for the resolving commands is parsed here and handed straight to
painref.commands; anything else (help, other options, other commands, unusual
arguments) goes to the Typer app, which gives the same results plus help and
usage errors.
"""

from __future__ import annotations

import contextlib
import os
import sys

FAST_COMMANDS = ("lookup", "show", "compare", "questions", "pathway", "define")


def _fast_args(argv: list[str]) -> tuple[str, list[str], bool, str | None] | None:
    """(command, words, json, data) when argv is a plain resolving command, else None."""
    if not argv or argv[0] not in FAST_COMMANDS:
        return None
    words: list[str] = []
    json = False
    data: str | None = None
    rest = iter(argv[1:])
    for arg in rest:
        if arg == "--json":
            json = True
        elif arg == "--data":
            data = next(rest, None)
            if data is None:
                return None
        elif arg.startswith("--data="):
            data = arg.split("=", 1)[1]
        elif arg.startswith("-"):
            return None  # help, unknown options, "--": Typer decides
        else:
            words.append(arg)
    if not words:
        return None
    return argv[0], words, json, data


def run(argv: list[str]) -> int:
    fast = _fast_args(argv)
    if fast is None:
        from painref.cli import app

        try:
            app(args=argv, prog_name="painref")
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return 0
    from painref import commands
    from painref.errors import PainrefError

    name, words, json, data = fast
    try:
        func = getattr(commands, name)
        return int(func(words, json, data))
    except PainrefError as exc:
        return commands.report(exc)


def main() -> None:
    try:
        code = run(sys.argv[1:])
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    except KeyboardInterrupt:
        sys.stderr.write("painref: interrupted\n")
        code = 130
    except Exception as exc:
        if os.environ.get("PAINREF_DEBUG"):
            raise
        sys.stderr.write(f"painref: internal error: {type(exc).__name__}: {exc}\n")
        sys.stderr.write("hint: this is a bug; PAINREF_DEBUG=1 shows the traceback\n")
        code = 70
    # Leave without tearing the interpreter down: after a rebuild of a large knowledge
    # base that means freeing millions of objects one by one (0.1 s at 15 000 entries)
    # for nothing. Nothing painref does waits on exit handlers; output is flushed here.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
