"""Resolve what a user typed to knowledge-base entries.

Words are normalised first: case, accents and punctuation folded, plurals made
singular ("SI-Joint injections" -> "si joint injection"). Function words and
words of intent ("what is", "how long does ... last", "is ... safe") are dropped.

Ranking, in order of cost:

1. Exact: the query (as typed, without function words, or with its spaces
   removed so "radio frequency" == "radiofrequency") equals a name or alias.
   Score 100. A dictionary lookup: no fuzzy scoring at all.
2. Token alignment: each query word is matched to a word of a name or alias,
   exactly, by edit distance (see max_edits; a transposition is one edit), by
   prefix (five letters or more and at least half the word), or glued to the
   next query word. Candidates come from an inverted index over the
   vocabulary, so only names sharing a (fuzzy) word with the query are scored:

       100 * coverage_of_query * (0.8 + 0.2 * coverage_of_name) - 3 * edits

   coverage_of_query weights each query word: 1 for an informative word, 0.25
   for a generic one (found in more than GENERIC_SHARE of entries: "pain",
   "injection", "nerve"), 0.1 for a word found nowhere in the vocabulary
   (noise, so "hyaluronic acd injection" still finds its entry and
   "kyphoplasty recovery" finds Kyphoplasty). An unknown word of four letters
   or more weighs 1 against a name that keeps an informative word unmatched:
   it probably names something else ("sphenopalatine ganglion block" against
   Stellate ganglion block).
   coverage_of_name is the share of the name's words that were matched, so a
   general word picks the general entry of a family ("ablation" ranks
   Radiofrequency ablation above Genicular radiofrequency ablation).

Thresholds, and why (measured on tests/data/search_eval.yaml):

* CONFIDENT = 80: a fully matched single word against a name of up to five
  words scores >= 84; a query with one of two informative words unmatched
  scores at most 50. 80 separates "every informative word was recognised"
  from "some were not".
* SUGGEST = 45: below it the overlap is one generic word or a poor fuzzy hit;
  suggestions that weak mislead more than they help.
* GENERIC_CAP = 60: a one-word query that is a generic word ("pain",
  "chronic", "injection") is never confident; neither is a query with two or
  more unknown words ("python list comprehension"), which is probably not
  about pain medicine at all.
* GENERIC_SHARE = 0.10: with the shipped knowledge base this marks words in
  six or more entries as generic (facet, lumbar, cervical, chronic, disc) and
  keeps region words such as knee and hip informative.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Literal

from painref.text import STOPWORDS, normalize, words_of

CONFIDENT = 80.0
SUGGEST = 45.0
GENERIC_CAP = 60.0
GENERIC_WEIGHT = 0.25
UNKNOWN_WEIGHT = 0.1
AMBIGUOUS_TIE = 3
TIE_WINDOW = 5.0
# A word in more than this share of entries is generic ("pain", "injection", "nerve").
GENERIC_SHARE = 0.10
MAX_QUERY_CHARS = 200
MAX_MATCHES = 8
MAX_SUGGESTIONS = 5

EntryKind = Literal["procedure", "condition", "term"]


def max_edits(word: str) -> int:
    """Typos tolerated in a word: none up to 3 letters (abbreviations must be exact),
    one up to 7, two beyond (a transposition counts as one)."""
    n = len(word)
    return 0 if n <= 3 else 1 if n <= 7 else 2


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class Hit:
    kind: EntryKind
    id: str
    name: str
    aliases: tuple[str, ...]
    score: float
    matched: str  # the name or alias that matched best


@dataclass(slots=True, repr=False, eq=False)
class Result:
    query: str
    matches: list[Hit] = field(default_factory=list)
    suggestions: list[Hit] = field(default_factory=list)

    @property
    def best(self) -> Hit | None:
        return self.matches[0] if self.matches else None


EntryRow = tuple[EntryKind, str, str, tuple[str, ...], int, str]  # kind, id, name, aliases, depth, family


class Index:
    """The name index of the compiled store (painref.store): names and aliases of
    the procedures and conditions (ix "entries") or of the glossary ("terms").

    Reads only what a query needs: the rows of the words it contains, the labels
    holding them, and the entries those labels name.
    """

    def __init__(self, db: sqlite3.Connection, ix: Literal["entries", "terms"]) -> None:
        self.db = db
        self.ix = ix
        count = int(db.execute("SELECT value FROM meta WHERE key = ?", (ix,)).fetchone()[0])
        limit = max(3, GENERIC_SHARE * max(1, count))
        rows = db.execute(
            "SELECT token FROM vocab WHERE ix = ? AND n_labels > ? AND n_entries > ?", (ix, limit, limit)
        ).fetchall()
        self.generic: frozenset[str] = frozenset(row[0] for row in rows) | STOPWORDS
        self._entries: dict[int, EntryRow] = {}
        self._vocab: dict[str, list[int] | None] = {}

    def exact(self, key: str) -> tuple[int, ...]:
        row = self.db.execute("SELECT entries FROM exact WHERE ix = ? AND key = ?", (self.ix, key)).fetchone()
        return tuple(json.loads(row[0])) if row else ()

    def postings(self, token: str) -> list[int]:
        if token not in self._vocab:
            row = self.db.execute("SELECT labels FROM vocab WHERE ix = ? AND token = ?", (self.ix, token)).fetchone()
            self._vocab[token] = json.loads(row[0]) if row else None
        return self._vocab[token] or []

    def known(self, token: str) -> bool:
        return bool(self.postings(token))

    def entry(self, e_index: int) -> EntryRow:
        return self.entries([e_index])[e_index]

    def entries(self, e_indexes: Any) -> dict[int, EntryRow]:
        """Entry rows by their number, read once each."""
        missing = [e for e in set(e_indexes) if e not in self._entries]
        for start in range(0, len(missing), 500):
            chunk = missing[start : start + 500]
            rows = self.db.execute(
                "SELECT rowid, kind, id, name, aliases, depth, family FROM entries "
                f"WHERE rowid IN ({','.join('?' * len(chunk))})",
                chunk,
            ).fetchall()
            for rowid, kind, ident, name, aliases, depth, family in rows:
                self._entries[rowid] = (kind, ident, name, tuple(json.loads(aliases)), depth, family)
        return {e: self._entries[e] for e in e_indexes}

    def all_entries(self) -> list[EntryRow]:
        """Every entry of this index (for completion)."""
        kinds = ("procedure", "condition") if self.ix == "entries" else ("term", "term")
        rows = self.db.execute("SELECT rowid FROM entries WHERE kind IN (?, ?) ORDER BY rowid", kinds).fetchall()
        found = self.entries([row[0] for row in rows])
        return [found[row[0]] for row in rows]

    def _labels(self, ns: set[int]) -> dict[int, tuple[int, str, str]]:
        """label number -> (entry, label, its words joined by spaces)."""
        out: dict[int, tuple[int, str, str]] = {}
        listed = list(ns)
        for start in range(0, len(listed), 500):
            chunk = listed[start : start + 500]
            rows = self.db.execute(
                f"SELECT n, entry, label, tokens FROM labels WHERE n IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
            for n, entry, label, tokens in rows:
                out[n] = (entry, label, tokens)
        return out

    def _prefixed(self, word: str) -> list[str]:
        rows = self.db.execute(
            "SELECT token FROM vocab WHERE ix = ? AND token >= ? AND token < ? ORDER BY token LIMIT 50",
            (self.ix, word, word + "\U0010ffff"),
        ).fetchall()
        return [row[0] for row in rows]

    def _near(self, word: str, edits: int) -> list[str]:
        rows = self.db.execute(
            "SELECT token FROM vocab WHERE ix = ? AND size BETWEEN ? AND ?",
            (self.ix, len(word) - edits, len(word) + edits),
        ).fetchall()
        return [row[0] for row in rows]

    # ------------------------------------------------------------ querying

    def _family(self, e_index: int) -> str:
        """Entries of one family (a general entry and its variants) count once in a tie."""
        return self.entry(e_index)[5]

    def _hit(self, e_index: int, score: float, matched: str) -> Hit:
        kind, ident, name, aliases, _depth, _family = self.entry(e_index)
        return Hit(kind, ident, name, aliases, round(max(0.0, min(100.0, score)), 1), matched)

    def _word_matches(self, word: str, fuzzy: bool) -> dict[str, int]:
        """Vocabulary words matching a query word, with the edits it took (prefix = 1)."""
        found: dict[str, int] = {}
        if self.known(word):
            found[word] = 0
        if len(word) >= 5:
            for candidate in self._prefixed(word):
                if not candidate.startswith(word):
                    break
                if 2 * len(word) >= len(candidate):
                    found.setdefault(candidate, 1)  # half a word or more typed: costs like one edit
        edits = max_edits(word) if fuzzy else 0
        if edits:
            from rapidfuzz import process
            from rapidfuzz.distance import OSA

            for candidate, distance, _ in process.extract(
                word, self._near(word, edits), scorer=OSA.distance, score_cutoff=edits, limit=None
            ):
                if abs(len(candidate) - len(word)) <= edits and max_edits(candidate) >= distance:
                    found[candidate] = min(found.get(candidate, 99), int(distance))
        return found

    def match(self, query: str, limit: int = MAX_MATCHES) -> Result:
        result = Result(query=query)
        norm = normalize(query[: MAX_QUERY_CHARS * 4])[:MAX_QUERY_CHARS].strip()
        if not norm:
            return result
        scores: dict[int, tuple[float, str]] = {}
        for key in (norm, norm.replace(" ", "")):
            for e_index in self.exact(key):
                scores[e_index] = (100.0, self.entry(e_index)[2])
        words = words_of(norm)
        # Single letters ("c-spine", "L4-L5") carry no meaning on their own.
        content = [w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
        if not content:
            return result  # only function words: nothing to look up
        # The words as typed, and without function words ("what is sciatica"), may be a name.
        for key in {" ".join(words), " ".join(content), "".join(content)}:
            for e_index in self.exact(key):
                scores[e_index] = (100.0, self.entry(e_index)[2])
        # An exact hit needs no fuzzy scoring; close variants are still ranked beside it.
        self._score_tokens(content, scores, fuzzy=not scores)
        rows = self.entries(scores)
        ranked = sorted(scores.items(), key=lambda item: (-item[1][0], rows[item[0]][4], rows[item[0]][2].lower()))
        # Three or more unrelated entries (nearly) tied at the top: the query is ambiguous
        # ("spine"), and picking one of them would be a confident guess. They become suggestions.
        top = ranked[0][1][0] if ranked else 0.0
        tied = {self._family(e) for e, (score, _m) in ranked if score >= top - TIE_WINDOW}
        ambiguous = top < 100.0 and len(tied) >= AMBIGUOUS_TIE
        for e_index, (score, matched) in ranked:
            hit = self._hit(e_index, score, matched)
            if score >= CONFIDENT and not ambiguous:
                if len(result.matches) < limit:
                    result.matches.append(hit)
            elif score >= SUGGEST and len(result.suggestions) < MAX_SUGGESTIONS:
                result.suggestions.append(hit)
        return result

    def _score_tokens(self, words: list[str], scores: dict[int, tuple[float, str]], fuzzy: bool) -> None:
        matches = [self._word_matches(w, fuzzy) for w in words]
        # Two query words glued together may form one indexed word ("radio frequency").
        glued = [
            self._word_matches(words[i] + words[i + 1], fuzzy) if i + 1 < len(words) else {} for i in range(len(words))
        ]
        # Words found nowhere in the vocabulary, even fuzzily, are noise ("how long does
        # rfa last"): they weigh little, so they neither block a match nor make one.
        weights = [
            GENERIC_WEIGHT if w in self.generic else UNKNOWN_WEIGHT if not (m or g) else 1.0
            for w, m, g in zip(words, matches, glued, strict=True)
        ]
        # Two or more unknown words: probably not about pain medicine at all.
        unknown = sum(1 for m, g in zip(matches, glued, strict=True) if not (m or g))
        cap = GENERIC_CAP if unknown >= 2 else 100.0
        total = sum(weights)
        # An unknown word of four letters or more may name something the knowledge base
        # lacks ("sphenopalatine ganglion block" is not the stellate ganglion block). It
        # counts in full against a name that also has an informative word left unmatched;
        # against a name it covers completely it is still noise ("kyphoplasty recovery").
        stand_ins = (1 - UNKNOWN_WEIGHT) * sum(
            1 for w, m, g in zip(words, matches, glued, strict=True) if not (m or g) and len(w) >= 4
        )
        # Names sharing only generic words with the query cannot reach SUGGEST when it
        # has an informative word: score only names that share an informative one.
        informative = [found for i, found in enumerate((*matches, *glued)) if found and weights[i % len(words)] == 1.0]
        candidates: set[int] = set()
        for found in informative or (*matches, *glued):
            for token in found:
                candidates.update(self.postings(token))
        labels = self._labels(candidates)
        for n_index in candidates:
            entry, label, tokens = labels[n_index]
            name_tokens = set(tokens.split(" "))
            used: set[str] = set()
            covered = 0.0
            edits = 0
            significant = False
            i = 0
            while i < len(words):
                best = _best(matches[i], name_tokens - used)
                pair = _best(glued[i], name_tokens - used)
                if pair is not None and (best is None or pair[1] < best[1]):
                    used.add(pair[0])
                    covered += weights[i] + weights[i + 1]
                    edits += pair[1]
                    significant = significant or weights[i] == 1.0 or weights[i + 1] == 1.0
                    i += 2
                    continue
                if best is not None:
                    used.add(best[0])
                    covered += weights[i]
                    edits += best[1]
                    significant = significant or weights[i] == 1.0
                i += 1
            if not used:
                continue
            name_cover = len(used) / len(name_tokens)
            against = total
            if stand_ins and any(t not in self.generic for t in name_tokens - used):
                against += stand_ins
            score = 100.0 * (covered / against) * (0.8 + 0.2 * name_cover) - 3.0 * edits
            if not significant and len(words) == 1:
                score = min(score, GENERIC_CAP)
            score = min(score, cap)
            previous = scores.get(entry)
            if previous is None or score > previous[0]:
                scores[entry] = (score, label)


def _best(found: dict[str, int], available: set[str]) -> tuple[str, int] | None:
    best: tuple[str, int] | None = None
    for token, edits in found.items():
        if token in available and (best is None or edits < best[1]):
            best = (token, edits)
    return best
