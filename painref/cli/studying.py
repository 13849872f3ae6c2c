"""The study commands as the terminal sees them: the quiz's questions and answers, and exports.

The quiz is the one conversation painref has, so it prints as it goes (through
the same console and error lines as every other command); progress is saved
after every answer.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from painref.cli import commands
from painref.cli.output import Reply, console, deliver, open_store, report, say, warn
from painref.errors import PainrefError

if TYPE_CHECKING:
    from painref.kb.model import Seed
    from painref.store import Store
    from painref.study.progress import Progress
    from painref.study.quiz import Question

MAX_ANSWER = 200  # characters read from one answer line


def _resolve_id(store: Store) -> Callable[[str], str | None]:
    def resolve_id(text: str) -> str | None:
        try:
            return commands.resolve(store, [text]).id
        except PainrefError:
            return None

    return resolve_id


def quiz(
    count: int,
    topic: str | None,
    seed: int | None,
    stats: bool,
    json: bool,
    data: str | None,
    now: datetime | None = None,
) -> int:
    from painref.study import progress as progress_mod
    from painref.study import session

    try:
        store = open_store(data)
        progress = progress_mod.load()
        if progress.warning:
            warn(progress.warning)
        now = now or datetime.now(UTC)
        if stats:
            record = session.stats_record(session.questions_on(store.kb, topic, 0, _resolve_id(store)), progress, now)

            def view() -> Any:
                from painref.views.lists import stats_view

                return stats_view(record)

            return deliver(Reply(record, view), json)
        seed = seed if seed is not None else random.SystemRandom().randrange(1 << 30)
        available = session.questions_on(store.kb, topic, seed, _resolve_id(store))
        chosen = session.select(available, progress, count, seed, now)
        if topic and len(chosen) < count:
            say(f"{len(available)} question(s) on {topic!r}; asking {len(chosen)}")
        if json:
            return deliver(Reply({"seed": seed, "questions": [session.question_record(q) for q in chosen]}), json)
    except PainrefError as exc:
        return report(exc)
    interactive = sys.stdin is not None and sys.stdin.isatty()
    seeds = dict(store.kb.seeds.items())
    return _ask_all(chosen, progress, _ask_terminal if interactive else _ask_line, now, seeds)


def topics(store: Store) -> Reply:
    """The quiz's topics: categories, regions, and the entries questions are about, with counts."""
    from painref.study.quiz import all_questions

    counts: dict[tuple[str, str], int] = {}
    for q in all_questions(store.kb, seed=0):
        for tag in q.tags:
            kind = "category" if tag in {p.category for p in store.kb.procedures.values()} else "region"
            counts[(kind, tag)] = counts.get((kind, tag), 0) + 1
        counts[("entry", q.entry_id)] = counts.get(("entry", q.entry_id), 0) + 1
    rows = [{"kind": k, "topic": t, "questions": n} for (k, t), n in sorted(counts.items())]

    def view() -> Any:
        from painref.views.lists import topics_table

        return topics_table(rows)

    return Reply(rows, view)


def _ask_terminal(prompt_text: str) -> str | None:
    try:
        return input(f"{prompt_text}: ")[:MAX_ANSWER]
    except EOFError:
        return None


def _ask_line(_prompt: str) -> str | None:
    if sys.stdin is None:
        return None
    try:
        line = sys.stdin.readline(MAX_ANSWER)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if line and not line.endswith("\n"):
        while True:  # the rest of an over-long line is not an answer
            rest = sys.stdin.readline(MAX_ANSWER)
            if not rest or rest.endswith("\n"):
                break
    return None if line == "" else line


def _ask_all(
    chosen: list[Question],
    progress: Progress,
    ask: Callable[[str], str | None],
    now: datetime,
    seeds: Mapping[str, Seed],
) -> int:
    from rich.table import Table
    from rich.text import Text

    from painref.study.session import LETTERS, parse_answer
    from painref.views.terminal import plain

    out = console()
    right = answered = 0
    keeping = progress.writable
    try:
        for number, q in enumerate(chosen, 1):
            out.print(Text.assemble(plain(f"\n{number}/{len(chosen)}  ", "dim"), plain(q.prompt, "bold")))
            options = Table.grid(padding=(0, 1))
            options.add_column(no_wrap=True)
            options.add_column(ratio=1)
            letters = LETTERS[: len(q.options)]
            for letter, option in zip(letters, q.options, strict=False):
                options.add_row(plain(f"  {letter})"), plain(option))
            out.print(options)
            choice = None
            while choice is None:
                reply = ask(f"Your answer (a-{letters[-1]}, q to stop)")
                if reply is None or reply.strip().lower() == "q":
                    return _finish(out, right, answered, progress)
                choice = parse_answer(reply)
                if choice is None or choice >= len(q.options):
                    choice = None
                    out.print(plain(f"  {reply.strip()[:40]!r} is not one of the letters shown; try again", "yellow"))
            correct = choice == q.answer
            answered += 1
            right += correct
            progress.record(q.id, correct, now)
            if keeping:
                try:
                    progress.save()  # after every answer: a crash loses at most the one being given
                except OSError as exc:
                    keeping = False
                    warn(f"cannot save progress to {progress.path}: {exc.strerror or exc}; progress is not kept")
            verdict = plain("  ✓ correct" if correct else f"  ✗ the answer is {LETTERS[q.answer]}) {q.correct}")
            verdict.stylize("green" if correct else "red")
            out.print(verdict)
            out.print(plain(f"  {q.explanation}", "dim"))
            if q.sources:
                out.print(plain("  source: " + "; ".join(s.label(seeds) for s in q.sources[:2]), "dim"))
    except KeyboardInterrupt:
        _finish(out, right, answered, progress)
        return 130
    return _finish(out, right, answered, progress)


def _finish(out: Any, right: int, answered: int, progress: Progress) -> int:
    from painref.views.terminal import plain

    out.print(plain(f"\n{right} of {answered} correct. Progress: {progress.path}", "bold"))
    return 0


def export(store: Store, kind: str, target: str, force: bool = False) -> Reply:
    """An Anki deck, or Markdown pages: written whole or not at all, never over a file unless `force`."""
    from painref.atomic import Exists

    try:
        if kind == "anki":
            return _export_anki(store, target, force)
        if target == "-":
            from painref.views.markdown import pages

            return Reply(text="".join(text + "\n---\n\n" for _name, text in pages(store.kb)))
        return _export_markdown(store, Path(target), force)
    except Exists as exc:
        raise PainrefError(f"{exc.filename} already exists; nothing was written", hint="--force replaces it") from None
    except OSError as exc:
        raise PainrefError(
            f"cannot write {target}: {exc.strerror or exc}", hint="check the path and its permissions"
        ) from None


def _export_anki(store: Store, target: str, force: bool) -> Reply:
    import tempfile

    from painref.atomic import write_file
    from painref.study.anki import write_package
    from painref.study.quiz import all_questions

    path = Path(target)
    if target == "-" or path.suffix != ".apkg":
        raise PainrefError("anki export needs a file name ending in .apkg", hint="painref export anki deck.apkg")
    if not path.parent.is_dir():
        raise PainrefError(f"no such directory: {path.parent}", hint="the deck goes into an existing directory")
    if os.path.lexists(path) and not force:
        raise PainrefError(f"{path} already exists; nothing was written", hint="--force replaces it")
    # genanki writes a file by name: it writes into a private scratch directory, then it is moved into place.
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".painref-") as scratch:
        built = Path(scratch) / "deck.apkg"
        count = write_package(all_questions(store.kb, seed=0), built, store.kb.seeds)
        write_file(path, [built.read_bytes()], replace=force)
    return Reply({"path": str(path), "notes": count}, notes=[f"wrote {count} notes to {path}"])


def _export_markdown(store: Store, root: Path, force: bool) -> Reply:
    from painref.atomic import write_file
    from painref.views.markdown import pages

    if os.path.lexists(root) and not root.is_dir():
        raise PainrefError(f"not a directory: {root}", hint="painref export markdown DIR, or - for stdout")
    if not root.parent.is_dir():
        raise PainrefError(f"no such directory: {root.parent}", hint="the pages go into a new or existing directory")
    written = list(pages(store.kb))
    if not force:
        clash = [name for name, _text in written if os.path.lexists(root / name)]
        if clash:
            raise PainrefError(
                f"{root / clash[0]} already exists ({len(clash)} page(s) would be replaced); nothing was written",
                hint="--force replaces them",
            )
    root.mkdir(exist_ok=True)
    inside = root.resolve()
    for name, text in written:
        page = root / name
        folder = page.parent
        if not folder.exists():
            folder.mkdir()
        if folder.is_symlink() or not folder.resolve().is_relative_to(inside):
            raise PainrefError(f"{folder} leads outside {root}; nothing more was written", hint="remove the link")
        write_file(page, [text.encode("utf-8")], replace=force)
    return Reply({"path": str(root), "pages": len(written)}, notes=[f"wrote {len(written)} pages to {root}"])
