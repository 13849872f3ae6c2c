"""The output contract: the one place that writes to stdout and stderr and picks the exit code.

A command returns a Reply: its data (what --json prints), how to show it on a
terminal (a function returning a Rich renderable, imported only then), and its
exit code. Expected failures are raised as PainrefError anywhere below and
printed here as one line and a hint. Exit codes: 0 found, 1 nothing found,
2 usage or data error.
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from painref.errors import NotFound, PainrefError
from painref.text import clean

if TYPE_CHECKING:
    from rich.console import RenderableType

    from painref.store import Store


@dataclass(slots=True, repr=False, eq=False)
class Reply:
    data: Any = None  # the JSON record
    view: Callable[[], RenderableType] | None = None  # the terminal rendering
    text: str | None = None  # plain lines for stdout, when there is no view
    code: int = 0
    missing: NotFound | None = None  # on a terminal, "nothing found" is said as an error
    notes: list[str] = field(default_factory=list)  # one-line messages for stderr


def say(message: str) -> None:
    """A one-line message on stderr, prefixed with the program's name."""
    _write_err(f"painref: {clean(message)}\n")


def warn(message: str) -> None:
    say(f"warning: {message}")


def _write_err(text: str) -> None:
    stream = sys.stderr
    if stream is None:
        return
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):
        pass  # stderr closed: nothing to tell


def report(exc: PainrefError) -> int:
    """An expected failure as one line (and a hint) on stderr; its exit code."""
    say(exc.message)
    if exc.hint:
        _write_err(f"hint: {clean(exc.hint)}\n")
    return exc.exit_code


def usage_error(exc: Exception) -> int:
    """A usage error found by the argument parser: one line, a hint, exit 2 (help itself when no arguments)."""
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        write(ctx.get_help() + "\n")
        return 0
    format_message = getattr(exc, "format_message", None)
    message = format_message() if callable(format_message) else str(exc)
    say(" ".join(str(message).split()))
    where = ctx.command_path if ctx is not None else "painref"
    hint = f"try '{clean(where)} --help'"
    _write_err(f"hint: {hint}\n")
    code = getattr(exc, "exit_code", 2)
    return code if isinstance(code, int) and code else 2


def console() -> Any:
    """A Rich console for stdout: colour only on a terminal and without NO_COLOR."""
    from rich.console import Console

    return Console(highlight=False, emoji=False, markup=False)


def render(renderable: RenderableType) -> str:
    """A renderable as the text the terminal (or the pipe) will get."""
    out = console()
    with out.capture() as captured:
        out.print(renderable)
    text: str = captured.get()
    return text


def write(text: str) -> None:
    sys.stdout.write(text)


def dumps(value: Any) -> str:
    from painref.views.records import dumps as to_json

    return to_json(value)


def deliver(reply: Reply, json: bool, pager: bool = True) -> int:
    for note in reply.notes:
        say(note)
    if json:
        if reply.data is not None:
            write(dumps(reply.data) + "\n")
        return reply.code
    if reply.missing is not None:
        return report(reply.missing)
    if reply.view is not None:
        text = render(reply.view())
        if not (pager and _page(text)):
            write(text)
    elif reply.text is not None:
        write(reply.text)
    return reply.code


def _page(text: str) -> bool:
    """Show text longer than the terminal through $PAGER (else `less -FRX`); False if it was not paged.

    Only when stdout is a terminal: a pipe or a file always gets the text itself.
    """
    stream = sys.stdout
    if stream is None or not stream.isatty():
        return False
    import os
    import shutil

    if text.count("\n") < shutil.get_terminal_size().lines:
        return False
    import shlex
    import subprocess

    command = shlex.split(os.environ.get("PAGER") or "less -FRX")
    if not command or command[0] in ("", "cat"):
        return False
    try:
        stream.flush()
        subprocess.run(command, input=text.encode(stream.encoding or "utf-8", "replace"), check=False)
    except (OSError, ValueError):
        return False  # no such pager: print instead
    return True


@contextlib.contextmanager
def slow_notice() -> Iterator[None]:
    """On a terminal, a knowledge-base build that takes over a second says so on stderr."""
    if sys.stderr is None or not sys.stderr.isatty():
        yield
        return
    import threading

    shown = threading.Event()

    def notice() -> None:
        _write_err("painref: compiling the knowledge base (once after each change)…")
        shown.set()

    timer = threading.Timer(1.0, notice)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        if shown.is_set():
            _write_err(" done\n")


def open_store(data: str | None) -> Store:
    from painref.kb.layers import resolve_layers
    from painref.store import open_store as open_compiled

    store = open_compiled(resolve_layers(data), slow_notice)
    for warning in store.kb.warnings:
        warn(warning)
    return store


def run(action: Callable[[], Reply], json: bool = False, pager: bool = True) -> int:
    """Run a command that needs no knowledge base; print its reply; the exit code."""
    try:
        return deliver(action(), json, pager)
    except PainrefError as exc:
        return report(exc)


def run_with_store(action: Callable[[Store], Reply], data: str | None, json: bool = False, pager: bool = True) -> int:
    """Run a command on the compiled knowledge base; print its reply; the exit code.

    A database that turns out to be corrupt is discarded and the command run
    once more on a fresh one; nothing has been printed by then.
    """
    try:
        store = open_store(data)
        try:
            reply = action(store)
        except sqlite3.DatabaseError:
            store.discard()
            store = open_store(data)
            reply = action(store)
        return deliver(reply, json, pager)
    except PainrefError as exc:
        return report(exc)
