"""A quiz session's logic: which questions, in what order, how an answer is read, the statistics."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from painref.errors import NotFound
from painref.study.quiz import Question, all_questions, topic_filter

if TYPE_CHECKING:
    from painref.kb.model import KnowledgeBase
    from painref.study.progress import Progress

LETTERS = "abcd"


def questions_on(
    kb: KnowledgeBase, topic: str | None, seed: int, resolve_id: Callable[[str], str | None]
) -> list[Question]:
    """The quiz questions on a topic (a category, a region or an entry), or all of them."""
    keep = topic_filter(kb, topic, resolve_id)
    found = [q for q in all_questions(kb, seed) if keep(q)]
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


def parse_answer(text: str) -> int | None:
    text = text.strip().lower()
    if len(text) == 1 and text in LETTERS:
        return LETTERS.index(text)
    if text.isascii() and text.isdigit() and 1 <= int(text) <= len(LETTERS):
        return int(text) - 1
    return None


def question_record(q: Question) -> dict[str, Any]:
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
