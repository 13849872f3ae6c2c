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

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from painref.model import Condition, Procedure, Term
from painref.text import normalize

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

# Function words carry no meaning for lookup.
FUNCTION_WORDS = """a about after am an and any are as at be been before being by can could did do does doing due
    during for from get got had has have having how i if in into is it its me my of on or our should
    so than that the their them then there these they this those to too vs versus was we were what
    when where which while who why will with would you your"""
# Words that say what the user wants to know, not what about: "how long does rfa last",
# "is kyphoplasty safe", "questions about epidural injections".
INTENT_WORDS = """define definition explain help helps know last lasting lasts long mean means need question
    questions safe tell work works"""
STOPWORDS = frozenset(FUNCTION_WORDS.split()) | frozenset(INTENT_WORDS.split())

EntryKind = Literal["procedure", "condition", "term"]


def words_of(text: str) -> list[str]:
    """Normalised words, plurals folded ("injections" -> "injection", "discs" -> "disc")."""
    return _words(normalize(text))


def _words(normalized: str) -> list[str]:
    return [_singular(w) if w[-1] == "s" and w not in STOPWORDS else w for w in normalized.split()]


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "is", "us", "ous")):
        return word[:-1]
    return word


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


class Entries(Protocol):
    """What the index is built from: a KnowledgeBase, or entries merged but not yet linked."""

    @property
    def procedures(self) -> Mapping[str, Procedure]: ...

    @property
    def conditions(self) -> Mapping[str, Condition]: ...

    @property
    def terms(self) -> Mapping[str, Term]: ...


Row = tuple[EntryKind, str, str, tuple[str, ...], int, str]  # kind, id, name, aliases, depth, family


class Index:
    """Names and aliases of a set of entries, prepared for resolving queries.

    Everything is held in plain lists, tuples and dicts (see state()), so the
    cache can store it with marshal, which loads several times faster than
    pickle.
    """

    __slots__ = (
        "entries",
        "exact_keys",
        "exact_values",
        "generic",
        "name_entry",
        "name_text",
        "name_tokens",
        "post_flat",
        "post_start",
        "vocab",
    )

    def __init__(self, entries: list[Row]) -> None:
        # entries: (kind, id, display name, aliases, family depth (0 for a general entry), family root id)
        self.entries = entries
        self.name_entry: list[int] = []  # per name or alias: index into entries
        self.name_text: list[str] = []
        self.name_tokens: list[str] = []  # space-joined: split only for the names scored
        # Built once per cold build for every name and alias (40 000 at 15 000 entries),
        # so the loop keeps to local names and makes a set only for a key shared by entries.
        exact: dict[str, int | set[int]] = {}
        postings: dict[str, list[int]] = {}
        name_entry, name_text, name_tokens = self.name_entry.append, self.name_text.append, self.name_tokens.append
        stopwords = STOPWORDS
        for e_index, (_kind, _id, name, aliases, _depth, _family) in enumerate(entries):
            seen: set[str] = set()
            for label in (name, *aliases):
                norm = normalize(label)
                if not norm or norm in seen:
                    continue
                seen.add(norm)
                n_index = len(self.name_text)
                words = _words(norm)
                folded = " ".join(words)
                # Function words in names ("arthritis of the knee") are not matched against.
                tokens = [t for t in words if t not in stopwords] or words
                joined = " ".join(tokens)
                for key in {norm, norm.replace(" ", ""), folded, joined}:
                    found = exact.setdefault(key, e_index)  # one lookup for a new key, the common case
                    if found != e_index:
                        if isinstance(found, set):
                            found.add(e_index)
                        else:
                            exact[key] = {found, e_index}
                name_entry(e_index)
                name_text(label)
                name_tokens(joined)
                for token in set(tokens):
                    listed = postings.get(token)
                    if listed is None:
                        postings[token] = [n_index]
                    else:
                        listed.append(n_index)
        # Sorted keys with flat values load far faster than dicts of lists or sets.
        self.exact_keys = sorted(exact)
        values = map(exact.__getitem__, self.exact_keys)
        self.exact_values = [v if isinstance(v, int) else tuple(sorted(v)) for v in values]
        self.vocab = sorted(postings)
        self.post_start = [0]
        self.post_flat: list[int] = []
        for token in self.vocab:
            self.post_flat.extend(postings[token])
            self.post_start.append(len(self.post_flat))
        limit = max(3, GENERIC_SHARE * max(1, len(entries)))
        self.generic: frozenset[str] = (
            frozenset(
                t
                for t, ids in postings.items()
                if len(ids) > limit and len({self.name_entry[i] for i in ids}) > limit  # names bound entries
            )
            | STOPWORDS
        )

    def exact(self, key: str) -> tuple[int, ...]:
        i = bisect.bisect_left(self.exact_keys, key)
        if i < len(self.exact_keys) and self.exact_keys[i] == key:
            value = self.exact_values[i]
            return (value,) if isinstance(value, int) else value
        return ()

    def postings(self, token: str) -> list[int]:
        i = bisect.bisect_left(self.vocab, token)
        if i < len(self.vocab) and self.vocab[i] == token:
            return self.post_flat[self.post_start[i] : self.post_start[i + 1]]
        return []

    def known(self, token: str) -> bool:
        i = bisect.bisect_left(self.vocab, token)
        return i < len(self.vocab) and self.vocab[i] == token

    def state(self) -> tuple[object, ...]:
        """The index as builtin values only (for marshal)."""
        return (
            self.entries,
            self.name_entry,
            self.name_text,
            self.name_tokens,
            self.exact_keys,
            self.exact_values,
            self.vocab,
            self.post_start,
            self.post_flat,
            self.generic,
        )

    @classmethod
    def from_state(cls, state: tuple[Any, ...]) -> Index:
        index = cls.__new__(cls)
        (
            index.entries,
            index.name_entry,
            index.name_text,
            index.name_tokens,
            index.exact_keys,
            index.exact_values,
            index.vocab,
            index.post_start,
            index.post_flat,
            index.generic,
        ) = state
        return index

    # ------------------------------------------------------------ building

    @classmethod
    def for_entries(cls, kb: Entries) -> Index:
        """The index of procedures and conditions (of a knowledge base, linked or not yet)."""
        return cls(entry_rows(kb))

    @classmethod
    def for_terms(cls, kb: Entries) -> Index:
        return cls(term_rows(kb))

    # ------------------------------------------------------------ querying

    def _family(self, e_index: int) -> str:
        """Entries of one family (a general entry and its variants) count once in a tie."""
        return self.entries[e_index][5]

    def _hit(self, e_index: int, score: float, matched: str) -> Hit:
        kind, ident, name, aliases, _depth, _family = self.entries[e_index]
        return Hit(kind, ident, name, aliases, round(max(0.0, min(100.0, score)), 1), matched)

    def _word_matches(self, word: str, fuzzy: bool) -> dict[str, int]:
        """Vocabulary words matching a query word, with the edits it took (prefix = 1)."""
        found: dict[str, int] = {}
        if self.known(word):
            found[word] = 0
        if len(word) >= 5:
            start = bisect.bisect_left(self.vocab, word)
            for candidate in self.vocab[start : start + 50]:
                if not candidate.startswith(word):
                    break
                if 2 * len(word) >= len(candidate):
                    found.setdefault(candidate, 1)  # half a word or more typed: costs like one edit
        edits = max_edits(word) if fuzzy else 0
        if edits:
            from rapidfuzz import process
            from rapidfuzz.distance import OSA

            for candidate, distance, _ in process.extract(
                word, self.vocab, scorer=OSA.distance, score_cutoff=edits, limit=None
            ):
                if abs(len(candidate) - len(word)) <= edits and max_edits(candidate) >= distance:
                    found[candidate] = min(found.get(candidate, 99), int(distance))
        return found

    def search(self, query: str, limit: int = MAX_MATCHES) -> Result:
        result = Result(query=query)
        norm = normalize(query[: MAX_QUERY_CHARS * 4])[:MAX_QUERY_CHARS].strip()
        if not norm:
            return result
        scores: dict[int, tuple[float, str]] = {}
        for key in (norm, norm.replace(" ", "")):
            for e_index in self.exact(key):
                scores[e_index] = (100.0, self.entries[e_index][2])
        words = words_of(norm)
        # Single letters ("c-spine", "L4-L5") carry no meaning on their own.
        content = [w for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
        if not content:
            return result  # only function words: nothing to look up
        # The words as typed, and without function words ("what is sciatica"), may be a name.
        for key in {" ".join(words), " ".join(content), "".join(content)}:
            for e_index in self.exact(key):
                scores[e_index] = (100.0, self.entries[e_index][2])
        # An exact hit needs no fuzzy scoring; close variants are still ranked beside it.
        self._score_tokens(content, scores, fuzzy=not scores)
        ranked = sorted(
            scores.items(),
            key=lambda item: (-item[1][0], self.entries[item[0]][4], self.entries[item[0]][2].lower()),
        )
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
        for n_index in candidates:
            name_tokens = set(self.name_tokens[n_index].split(" "))
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
            e_index = self.name_entry[n_index]
            previous = scores.get(e_index)
            if previous is None or score > previous[0]:
                scores[e_index] = (score, self.name_text[n_index])


def entry_rows(kb: Entries) -> list[Row]:
    """What the index of procedures and conditions is built from (plain values: they can be marshalled)."""
    procedures = kb.procedures
    rows: list[Row] = []
    for proc in procedures.values():
        depth, node, seen = 0, proc, {proc.id}
        while node.parent and node.parent in procedures and node.parent not in seen:
            depth += 1
            seen.add(node.parent)
            node = procedures[node.parent]
        rows.append(("procedure", proc.id, proc.name, proc.aliases, depth, node.id))
    for cond in kb.conditions.values():
        rows.append(("condition", cond.id, cond.name, cond.aliases, 0, cond.id))
    return rows


def term_rows(kb: Entries) -> list[Row]:
    return [("term", t.id, t.term, t.aliases, 0, t.id) for t in kb.terms.values()]


def _best(found: dict[str, int], available: set[str]) -> tuple[str, int] | None:
    best: tuple[str, int] | None = None
    for token, edits in found.items():
        if token in available and (best is None or edits < best[1]):
            best = (token, edits)
    return best
