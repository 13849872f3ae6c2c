"""Search inside entries: which cards say something, and where.

Every text field of every procedure and condition is searched for the query's
words (normalised and made singular like lookup's; function words dropped). A
field scores by the share of query words it contains, as whole words or as a
prefix of five letters or more, with a bonus when they appear together as a
phrase; an entry's score is its best field's, weighted by how central the
field is (a word in the name or imaging counts more than one in a question).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from painref.model import Entry, KnowledgeBase, Procedure
from painref.search import STOPWORDS, words_of

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
SNIPPET = 90
MIN_SCORE = 40.0
_WORD = re.compile(r"[0-9A-Za-z\u00C0-\u024F]+")


@dataclass(frozen=True, slots=True, repr=False)
class Found:
    entry: Entry
    field: str
    spans: tuple[tuple[int, int], ...]  # matched word spans within `snippet`
    snippet: str
    score: float


def _fields(kb: KnowledgeBase, entry: Entry) -> Iterator[tuple[str, str]]:
    yield "name", entry.name
    yield "aliases", "; ".join(entry.aliases)
    if isinstance(entry, Procedure):
        yield "purpose", entry.purpose
        yield "category", entry.category.replace("-", " ")
        yield "summary", entry.summary
        yield "mechanism", f"{entry.agent}; {entry.target}"
        yield "imaging", f"{', '.join(entry.modalities)}: {entry.imaging_note}"
        yield "anesthesia", entry.anesthesia
        yield "setting", entry.setting
        yield "procedure_time", entry.procedure_time
        yield "onset", entry.onset
        yield "relief", entry.relief_text
        yield "recovery", entry.recovery
        yield "bleeding_risk", f"{entry.bleeding_risk}: {entry.bleeding_note}"
        yield "conditions", "; ".join(kb.name_of(link.id) for link in entry.treats)
        for item in entry.risks:
            yield "risks", item
        for item in entry.questions:
            yield "questions", item
    else:
        yield "region", entry.region.replace("-", " ")
        yield "summary", entry.summary
        yield "icd10", "; ".join(f"{c.code} {c.description}" for c in entry.icd10)
        for item in entry.symptoms:
            yield "symptoms", item
        for item in entry.conservative_care:
            yield "conservative_care", item
        for item in entry.questions:
            yield "questions", item


def _match(word: str, token: str) -> bool:
    return token == word or (len(word) >= 5 and token.startswith(word))


def _score_field(words: list[str], text: str) -> tuple[float, list[tuple[int, int]]]:
    tokens = [(m.start(), m.end(), words_of(m.group())) for m in _WORD.finditer(text)]
    spans: list[tuple[int, int]] = []
    hit_words: set[str] = set()
    positions: list[int] = []
    for i, (start, end, folded) in enumerate(tokens):
        token = folded[0] if folded else ""
        for word in words:
            if token and _match(word, token):
                hit_words.add(word)
                spans.append((start, end))
                positions.append(i)
                break
    if not hit_words:
        return 0.0, []
    coverage = len(hit_words) / len(words)
    phrase = len(words) > 1 and any(
        positions[k + len(words) - 1] - positions[k] == len(words) - 1 for k in range(len(positions) - len(words) + 1)
    )
    return 100.0 * coverage * (1.0 if phrase or len(words) == 1 else 0.9), spans


def _snippet(text: str, spans: list[tuple[int, int]]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """About SNIPPET characters around the first match, with spans shifted to it."""
    first = spans[0][0]
    start = max(0, first - SNIPPET // 3)
    if start:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 and first - space < SNIPPET else start
    end = min(len(text), start + SNIPPET)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first else end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start
    inside = tuple((a + shift, b + shift) for a, b in spans if a >= start and b <= end)
    return prefix + text[start:end] + suffix, inside


def search(kb: KnowledgeBase, query: str, limit: int | None = 20) -> list[Found]:
    # Single letters ("x" from "[bold]x[/]") would match everywhere ("X-ray").
    words = [w for w in words_of(query[:1000]) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    words = list(dict.fromkeys(words))[:12]
    if not words:
        return []
    found: list[Found] = []
    entries: list[Entry] = [*kb.procedures.values(), *kb.conditions.values()]
    for entry in entries:
        best: Found | None = None
        for field, text in _fields(kb, entry):
            raw, spans = _score_field(words, text)
            score = round(raw * FIELD_WEIGHTS[field], 1)
            if score >= MIN_SCORE and (best is None or score > best.score):
                snippet, inside = _snippet(text, spans)
                best = Found(entry, field, inside, snippet, score)
        if best is not None:
            found.append(best)
    found.sort(key=lambda f: (-f.score, f.entry.name.lower()))
    return found[:limit]
