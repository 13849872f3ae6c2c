"""Search inside the cards: which entries say something, and where (SQLite FTS5).

Each procedure and condition is one row of the store's `fulltext` table, one
column per text field (porter stemming, so "injections" finds "injection";
accents folded). Every word of the query must be in the entry (FTS5's implicit
AND); when no entry has them all, entries with any of them are ranked instead.
Entries are ranked by bm25() with each column weighted by how central the field
is (a word in the name or imaging counts more than one in a question); the
result shows the best-weighted field that holds the words, with them marked.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from painref.errors import PainrefError
from painref.kb.model import Entry
from painref.store import MARK_OFF, MARK_ON, SEARCH_FIELDS, Store
from painref.text import FUNCTION, words_of

# How much a match in each field counts; names and structured facts first.
FIELD_WEIGHTS = {
    "name": 1.0,
    "aliases": 1.0,
    "lay_terms": 1.0,
    "purpose": 0.95,
    "imaging": 0.95,
    "category": 0.9,
    "region": 0.9,
    "summary": 0.9,
    "mechanism": 0.85,
    "symptoms": 0.85,
    "diagnosis": 0.85,
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
SNIPPET = 90  # characters of a field shown around the match


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
    words = [w for w in words_of(query[:1000]) if w not in FUNCTION and (len(w) > 1 or w.isdigit())]
    return list(dict.fromkeys(words))[:MAX_WORDS]


def search(store: Store, query: str, limit: int | None = 20) -> tuple[list[Found], int]:
    """Entries whose cards contain the query's words, best first; and how many there are in all."""
    if not store.has_fulltext:
        raise PainrefError(
            "this Python's SQLite has no FTS5, so full-text search is unavailable",
            hint="lookup still finds entries by name",
        )
    words = _query_words(query)
    if not words:
        return [], 0
    # Each word quoted: FTS5 syntax in a query is text to look for, never an operator.
    terms = ['"' + w.replace('"', '""') + '"' for w in words]
    every = " ".join(terms)
    for match in (every, " OR ".join(terms)) if len(terms) > 1 else (every,):
        try:
            total = int(
                store.db.execute("SELECT count(*) FROM fulltext WHERE fulltext MATCH ?", (match,)).fetchone()[0]
            )
        except sqlite3.OperationalError:
            return [], 0
        if not total:
            continue
        found = _ranked(store, match, limit)
        if len(terms) > 1 and match == every:
            # The words side by side, as a phrase, rank first ("several hours").
            phrase = '"' + " ".join(w.replace('"', '""') for w in words) + '"'
            first = _ranked(store, phrase, limit)
            ids = {f.entry.id for f in first}
            found = (first + [f for f in found if f.entry.id not in ids])[:limit]
        return found, total
    return [], 0


def _ranked(store: Store, match: str, limit: int | None) -> list[Found]:
    weights = ", ".join(str(FIELD_WEIGHTS[field]) for field in SEARCH_FIELDS)
    # One highlight() per column: the best-weighted column holding a mark is the field shown.
    marked = ", ".join(f"highlight(fulltext, {i}, '{MARK_ON}', '{MARK_OFF}')" for i in range(1, len(SEARCH_FIELDS) + 1))
    sql = (
        f"SELECT e.kind, e.id, bm25(fulltext, 0, {weights}), {marked} FROM fulltext "
        "JOIN entries e ON e.rowid = fulltext.entry WHERE fulltext MATCH ? "
        f"ORDER BY bm25(fulltext, 0, {weights}) LIMIT ?"
    )
    rows = store.db.execute(sql, (match, -1 if limit is None else limit)).fetchall()
    kb = store.kb
    found: list[Found] = []
    for kind, ident, rank, *columns in rows:
        held = [(FIELD_WEIGHTS[f], i) for i, f in enumerate(SEARCH_FIELDS) if MARK_ON in columns[i]]
        if not held:
            continue
        _weight, column = max(held, key=lambda item: (item[0], -item[1]))
        text, spans = _snippet(columns[column])
        entry = kb.procedures[ident] if kind == "procedure" else kb.conditions[ident]
        found.append(Found(entry, SEARCH_FIELDS[column], spans, text, -float(rank)))
    top = found[0].score if found and found[0].score > 0 else 1.0
    return [Found(f.entry, f.field, f.spans, f.snippet, round(max(0.1, 100 * f.score / top), 1)) for f in found]


def _snippet(marked: str, width: int = SNIPPET) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The part of a field around its first marked word (one line of a list field), and the marked spans."""
    lines = marked.split("\n")
    line = next((ln for ln in lines if MARK_ON in ln), lines[0])
    text, spans = _marked(line)
    if len(text) <= width:
        return text, spans
    first = spans[0][0] if spans else 0
    start = max(0, min(first - width // 3, len(text) - width))
    end = min(len(text), start + width)
    while start > 0 and text[start - 1].isalnum():  # start and end at word boundaries
        start += 1
    while end < len(text) and text[end].isalnum() and end > start + 1:
        end -= 1
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    inside = tuple((a + shift, b + shift) for a, b in spans if a >= start and b <= end)
    return prefix + text[start:end] + suffix, inside
