"""The study commands: quiz (with FSRS spaced repetition), quiz statistics, Anki and Markdown export."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from painref.commands import DataDir, _print, _print_json, _store, resolve
from painref.errors import NotFound, PainrefError

if TYPE_CHECKING:
    from painref.progress import Progress
    from painref.quiz import Question
    from painref.store import Store

LETTERS = "abcd"


def _questions(store: Store, topic: str | None, seed: int) -> list[Question]:
    from painref.quiz import all_questions, topic_filter

    def resolve_id(text: str) -> str | None:
        try:
            return resolve(store, [text]).id
        except NotFound:
            return None

    keep = topic_filter(store.kb, topic, resolve_id)
    found = [q for q in all_questions(store.kb, seed) if keep(q)]
    if not found:
        raise NotFound(f"no quiz questions on {topic!r}", hint="a topic is a category, a region or an entry")
    return found


def select(questions: list[Question], progress: Progress, count: int, seed: int, now: datetime) -> list[Question]:
    """Due cards first (most overdue first), then new ones in an order fixed by the seed."""
    due = sorted(
        (q for q in questions if progress.due(q.id, now)),
        key=lambda q: progress.cards[q.id].card.get("due", ""),
    )
    new = [q for q in questions if q.id not in progress.cards]
    random.Random(seed).shuffle(new)
    return (due + new)[:count]


def _parse_answer(text: str) -> int | None:
    text = text.strip().lower()
    if len(text) == 1 and text in LETTERS:
        return LETTERS.index(text)
    if text.isdigit() and 1 <= int(text) <= len(LETTERS):
        return int(text) - 1
    return None


def _ask_terminal(prompt_text: str) -> str | None:
    from rich.prompt import Prompt

    try:
        return Prompt.ask(prompt_text, choices=[*LETTERS, "1", "2", "3", "4", "q"], show_choices=False)
    except EOFError:
        return None


def _ask_line(_prompt: str) -> str | None:
    line = sys.stdin.readline()
    return None if line == "" else line


def quiz(
    count: int = 10,
    topic: str | None = None,
    seed: int | None = None,
    stats: bool = False,
    json: bool = False,
    data: DataDir = None,
    now: datetime | None = None,
) -> int:
    from painref import progress as progress_mod

    store = _store(data, json)
    progress = progress_mod.load()
    if progress.warning:
        progress_mod.warn(progress.warning)
    now = now or datetime.now(UTC)
    if stats:
        return _stats(store, progress, topic, json, now)
    seed = seed if seed is not None else random.SystemRandom().randrange(1 << 30)
    chosen = select(_questions(store, topic, seed), progress, count, seed, now)
    if json:
        _print_json({"seed": seed, "questions": [_question_record(q) for q in chosen]})
        return 0
    interactive = sys.stdin.isatty()
    ask: Callable[[str], str | None] = _ask_terminal if interactive else _ask_line
    return _run(chosen, progress, ask, now)


def _run(chosen: list[Question], progress: Progress, ask: Callable[[str], str | None], now: datetime) -> int:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from painref.render import plain

    out = Console()
    right = answered = 0
    for number, q in enumerate(chosen, 1):
        out.print(Text.assemble(plain(f"\n{number}/{len(chosen)}  ", "dim"), plain(q.prompt, "bold")))
        options = Table.grid(padding=(0, 1))
        options.add_column(no_wrap=True)
        options.add_column(ratio=1)
        for letter, option in zip(LETTERS, q.options, strict=False):
            options.add_row(plain(f"  {letter})"), plain(option))
        out.print(options)
        choice = None
        while choice is None:
            reply = ask("Your answer (a-d, q to stop)")
            if reply is None or reply.strip().lower() == "q":
                return _finish(out, right, answered, progress)
            choice = _parse_answer(reply)
            if choice is None or choice >= len(q.options):
                choice = None
                out.print(plain(f"  '{reply.strip()}' is not one of the letters shown; try again", "yellow"))
        correct = choice == q.answer
        answered += 1
        right += correct
        progress.record(q.id, correct, now)
        if progress.writable:
            progress.save()  # after every answer: a crash loses at most the one being given
        verdict = plain("  ✓ correct" if correct else f"  ✗ the answer is {LETTERS[q.answer]}) {q.correct}")
        verdict.stylize("green" if correct else "red")
        out.print(verdict)
        out.print(plain(f"  {q.explanation}", "dim"))
        out.print(plain("  source: " + "; ".join(s.label() for s in q.sources[:2]), "dim"))
    return _finish(out, right, answered, progress)


def _finish(out: Any, right: int, answered: int, progress: Progress) -> int:
    from painref.render import plain

    out.print(plain(f"\n{right} of {answered} correct. Progress: {progress.path}", "bold"))
    return 0


def _question_record(q: Question) -> dict[str, Any]:
    return {
        "id": q.id,
        "kind": q.kind,
        "entry": q.entry_id,
        "prompt": q.prompt,
        "options": list(q.options),
        "answer": q.answer,
        "explanation": q.explanation,
        "sources": [s.as_dict() for s in q.sources],
        "tags": list(q.tags),
    }


def stats_record(questions: list[Question], progress: Progress, now: datetime) -> dict[str, Any]:
    ids = {q.id for q in questions}
    seen = {qid: s for qid, s in progress.cards.items() if qid in ids}
    due = sum(progress.due(qid, now) for qid in seen)
    learned = sum(1 for s in seen.values() if s.card.get("state") == 2)  # fsrs State.Review
    weak = sorted(qid for qid, s in seen.items() if s.wrong > s.right or s.last_correct is False)
    kinds: dict[str, dict[str, int]] = {}
    for q in questions:
        row = kinds.setdefault(q.kind, {"questions": 0, "right": 0, "wrong": 0})
        row["questions"] += 1
        if q.id in seen:
            row["right"] += seen[q.id].right
            row["wrong"] += seen[q.id].wrong
    return {
        "questions": len(questions),
        "seen": len(seen),
        "new": len(questions) - len(seen),
        "due": due,
        "learned": learned,
        "weak": weak,
        "by_kind": kinds,
        "progress_file": str(progress.path),
    }


def _stats(store: Store, progress: Progress, topic: str | None, json: bool, now: datetime) -> int:
    record = stats_record(_questions(store, topic, 0), progress, now)
    if json:
        _print_json(record)
        return 0
    from painref.render import stats_view

    _print(stats_view(record))
    return 0


def export(kind: str, target: str, data: DataDir = None) -> int:
    store = _store(data, json=True)
    if kind == "anki":
        from painref.anki import write_package
        from painref.quiz import all_questions

        path = Path(target)
        if target == "-" or path.suffix != ".apkg":
            raise PainrefError("anki export needs a file name ending in .apkg", hint="painref export anki deck.apkg")
        count = write_package(all_questions(store.kb, seed=0), path)
        sys.stderr.write(f"painref: wrote {count} notes to {path}\n")
        return 0
    from painref.markdown import pages

    if target == "-":
        for _name, text in pages(store.kb):
            sys.stdout.write(text + "\n---\n\n")
        return 0
    root = Path(target)
    if root.exists() and not root.is_dir():
        raise PainrefError(f"not a directory: {root}", hint="painref export markdown DIR, or - for stdout")
    written = 0
    for name, text in pages(store.kb):
        page = root / name
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(text, encoding="utf-8")
        written += 1
    sys.stderr.write(f"painref: wrote {written} pages to {root}\n")
    return 0
