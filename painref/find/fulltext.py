"""Search inside the cards: which entries say something, and where (SQLite FTS5).

Every text field of every procedure and condition is a row of the store's
`fulltext` table (porter stemming, so "injections" finds "injection"; accents
folded). Every word of the query must be in the field (FTS5's implicit AND);
when no field has them all, fields with most of them are ranked instead.
Fields are ranked by bm25() weighted by how central the field is (a word in the
name or imaging counts more than one in a question); an entry appears once, with
its best field and a snippet() of it with the words marked.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from painref.errors import PainrefError
from painref.kb.model import Entry
from painref.store import MARK_OFF, MARK_ON, Store
from painref.text import STOPWORDS, words_of

# How much a match in each field counts; names and structured facts first.
FIELD_WEIGHTS = {
    "name": 1.0,
    "aliases": 1.0,
    "purpose": 0.95,
    "imaging": 0.95,
    "category": 0.9,
    "region": 0.9,
    "summary": 0.9,
    "mechanism": 0.85,
    "symptoms": 0.85,
    "conditions": 0.85,
    "icd10": 0.85,
    "relief": 0.8,
    "onset": 0.75,
    "risks": 0.75,
    "bleeding_risk": 0.75,
    "conservative_care": 0.75,
    "anesthesia": 0.7,
    "setting": 0.7,
    "procedure_time": 0.7,
    "recovery": 0.7,
    "questions": 0.65,
}
MAX_WORDS = 12
SNIPPET_TOKENS = 14


@dataclass(frozen=True, slots=True, repr=False)
class Found:
    entry: Entry
    field: str
    spans: tuple[tuple[int, int], ...]  # matched spans within `snippet`
    snippet: str
    score: float  # 0-100, relative to the best result of this search


def _marked(snippet: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The snippet without its marks, and where the marked words are."""
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    start = length = 0
    for ch in snippet:
        if ch == MARK_ON:
            start = length
        elif ch == MARK_OFF:
            spans.append((start, length))
        else:
            out.append(ch)
            length += 1
    return "".join(out), tuple(spans)


def _query_words(query: str) -> list[str]:
    # Single letters ("x" from "[bold]x[/]") would match everywhere ("X-ray").
    words = [w for w in words_of(query[:1000]) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    return list(dict.fromkeys(words))[:MAX_WORDS]


def search(store: Store, query: str, limit: int | None = 20) -> list[Found]:
    """Entries whose cards contain the query's words, best first."""
    if not store.has_fulltext:
        raise PainrefError(
            "this Python's SQLite has no FTS5, so full-text search is unavailable",
            hint="lookup still finds entries by name",
        )
    words = _query_words(query)
    if not words:
        return []
    # Each word quoted: FTS5 syntax in a query is text to look for, never an operator.
    terms = ['"' + w.replace('"', '""') + '"' for w in words]
    best = _ranked(store, " ".join(terms))
    if not best and len(terms) > 1:
        best = _ranked(store, " OR ".join(terms))
    found = sorted(best.values(), key=lambda f: (-f.score, f.entry.name.lower()))
    top = found[0].score if found and found[0].score > 0 else 1.0
    found = [Found(f.entry, f.field, f.spans, f.snippet, round(100 * f.score / top, 1)) for f in found]
    return found[:limit]


def _ranked(store: Store, match: str) -> dict[int, Found]:
    sql = (
        "SELECT f.entry, f.field, bm25(fulltext), "
        f"snippet(fulltext, 2, '{MARK_ON}', '{MARK_OFF}', '…', {SNIPPET_TOKENS}), e.kind, e.id "
        "FROM fulltext f JOIN entries e ON e.rowid = f.entry WHERE fulltext MATCH ? ORDER BY bm25(fulltext)"
    )
    try:
        rows = store.db.execute(sql, (match,)).fetchall()
    except sqlite3.OperationalError:
        return {}
    best: dict[int, Found] = {}
    kb = store.kb
    for entry_no, field, rank, snippet, kind, ident in rows:
        score = -float(rank) * FIELD_WEIGHTS.get(field, 0.5)  # bm25 is lower for better matches
        if entry_no in best and best[entry_no].score >= score:
            continue
        entry = kb.procedures[ident] if kind == "procedure" else kb.conditions[ident]
        text, spans = _marked(snippet)
        best[entry_no] = Found(entry, field, spans, text, score)
    return best
