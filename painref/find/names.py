"""Resolve what a user typed to knowledge-base entries.

Words are normalised first: case, accents and punctuation folded, plurals made
singular ("SI-Joint injections" -> "si joint injection"), spinal levels read as
regions ("L4-5" -> lumbar). Function words and words of intent ("what is", "how
long does ... last", "risks of", "recovery after") are dropped. A comparison
("X vs Y", "X compared with Y", "how is X different from Y", "difference between
X and Y"; painref.find.query) is matched on X (the command compares them), or as a
whole when X names nothing.

Ranking:

1. Exact: the query (as typed, without function words, or with its spaces
   removed so "radio frequency" == "radiofrequency") equals a name, alias or
   lay term. Score 100; no fuzzy scoring at all. Shorthand of clinical notes is
   read as what it stands for first ("inj", "stim", "fx"; see painref.find.query).
2. Names: each query word is matched to a word of a label (name, alias, lay
   term) exactly, by edit distance (max_edits; a transposition is one edit; never
   for a word of three letters or fewer, one typed with punctuation in it, or a
   word of up to five letters typed in capitals among others, an abbreviation), by
   prefix (five letters or more, at least half the word; a word known on its own only to
   its derived forms, DERIVED letters longer at most), without its anatomical
   prefix ("foraminal" -> transforaminal, "thecal" -> intrathecal; like one edit),
   or glued to the next query word (fuzzily only when one of the two is no word of a
   name). Only labels sharing a (fuzzy) informative word with the query are scored,
   and in a question also labels of generic words that the query says in full
   ("can I drive home after a nerve block"):

       100 * got / against * (NAME_BASE + (1 - NAME_BASE) * share_of_label_matched)
           - 3 * edits - EXPLAINED_COST * (weight of each word the card explains)

   Every query word counts in `against`: 1 for an informative word, GENERIC_WEIGHT for a
   generic one (in more than GENERIC_SHARE of the entries' labels). A word the label
   covers counts in `got` too. A word it does not cover is *explained* when the entry's
   own card says it or it names a linked entry ("SCS for FBSS"; NAMING_PART): then it
   weighs EXPLAINED_WEIGHT on both sides (only for a label more than half matched).
   Otherwise it counts against the entry in full: it names something else ("labor
   epidural", "ACL tear", "; rm -rf /"), as does a body region (REGION_WORDS) said in
   place of the one a label names ("needle in my neck joint for pain" is not the
   shoulder injection's "needle in my shoulder joint for pain", though its card says
   "neck"). In a question, an extra word that does not stand right before the name
   weighs QUESTION_EXTRA times the mean weight of the words the name matched ("can I
   drive home after a nerve block", a name of generic words). In "X for Y" the query is
   about X: what X is for costs X's names little when X's card or links explain it, and
   a name covering only Y ranks FOR_TAIL lower ("SGB for PTSD" is the block; "medial
   branch block before rfa" is the block, as "X before Y" is read the same way). A label
   "X for Y" names X as well: a query matching only its Y is a suggestion at most ("foot
   pain for months" is not the stimulator's "stimulator for my foot pain"). "Can X
   cause Y" is about X alone: Y is what is asked, as "painful" is in "is X painful".
3. Descriptions (only when no name is confident): the cards' describing fields
   ranked by bm25 for any of the query's words (painref.find.descriptions).
4. Settling (no name confident, four words or more): each candidate's score
   times the idf-weighted share of the query its whole card says; a clear best fit
   is confident ("legs heavy and numb standing, relieved by bending forward" is
   spinal stenosis, not spondylolisthesis; painref.find.descriptions).
5. Diagnosis (nothing confident): a word no weighed field says but a few
   conditions' diagnoses do ("freiberg sign") suggests those conditions, never
   confidently (painref.find.descriptions.suggest_by_diagnosis).

Thresholds, and why (measured on tests/data/search_blind.yaml, written blind):

* CONFIDENT = 80: every informative word recognised scores 82 or more against a
  label of two words; one informative word left unexplained drops a query of two
  below 70.
* NAME_BASE = 0.65: one word matching one word of a three-word label scores 77
  ("laminectomy" is not "post laminectomy pain"); of a two-word label, 82.
* EXPLAINED_COST = 7: more than two typos cost (3 each), so a name matching a typed word
  with two edits ranks above an entry whose card merely says the word ("cervicle rfa" is
  cervical RFA, not RFA in general, whose card says "cervical").
* FOR_EXPLAINED_COST = 1 (against EXPLAINED_COST for other words a card explains): what X
  is for costs X's names little, but a name that says it ranks first ("nerve burning for knee
  pain" is genicular RFA, whose lay name says "knee", not RFA in general).
* NAMING_PART = 3: "shoulder" is one word of five in the joint injection's lay phrase
  "cortisone shot in the knee hip or shoulder", and naming that injection made its links (hip
  osteoarthritis) explain "shoulder": "shoulder stiff in the morning" was confidently hip
  osteoarthritis. "Neuropathy" is a third of "painful diabetic neuropathy" ("nerve block for
  neuropathy" stays the nerve block), so a half is too much. On the evaluation sets: one more
  description of the fifth set right, one more vignette confidently wrong, nothing else.
* FOR_TAIL = 2: enough to order the two sides of "X for Y" that otherwise tie,
  too little to lift a poor match of X over a good one of Y.
* SUGGEST = 45: below it the overlap is one generic word or a poor fuzzy hit;
  suggestions that weak mislead more than they help.
* GENERIC_CAP = 60: a one-word query that is a generic word ("pain", "chronic",
  "injection") is never confident; neither is a query with two or more words no
  label knows ("python list comprehension").
* TIE_WINDOW = 6.5 with AMBIGUOUS_TIE = 3: three unrelated families within the
  gap between a half-matched two-word and a third-matched three-word label are a
  tie ("spine", "chronic"): suggestions, not a guess.
* GENERIC_SHARE = 0.10: with the shipped knowledge base (127 entries) this marks
  words in the labels of 13 or more entries as generic (pain, nerve, block,
  injection, shot, ablation, spine, lumbar, cervical, knee, disc ...; lay terms
  mention the common regions often) and keeps hip, shoulder, sacroiliac and words
  such as kyphoplasty informative. 0.15 to 0.25 scored no better on the blind set.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

from painref.find.query import MAX_QUERY_CHARS, comparison, expand, reading
from painref.text import STOPWORDS, normalize, words_of

CONFIDENT = 80.0
# The card field lookup does not weigh: a condition's diagnosis names tests, scans and the conditions
# to tell it from ("tension-type-like headaches count too" on chronic migraine), which would pull a
# description toward the wrong card. `painref search` finds them.
UNWEIGHED = "diagnosis"
EVERY_FIELD = "*"
# A word a name does not cover but the entry's card says ("recovery" for Kyphoplasty) weighs this much.
EXPLAINED_WEIGHT = 0.1
EXPLAINED_COST = 7.0
FOR_EXPLAINED_COST = 1.0
# The body regions of the conditions (painref.kb.model.REGIONS) as people type them: a label naming one
# is contradicted by a query naming another in its place.
REGION_WORDS = frozenset("head face neck shoulder chest back pelvis hip knee".split())  # noqa: SIM905
# A word names an entry (whose links then explain it) through a label the query says 1 / NAMING_PART of.
NAMING_PART = 3
# How much a name's share of words matched counts: a word matching one word of a three-word
# name ("laminectomy" against "post laminectomy pain") stays below CONFIDENT.
NAME_BASE = 0.65
# In a question, an extra word that does not modify the name weighs this much ("how often can ... be repeated").
QUESTION_EXTRA = 0.2
QUESTION_WORDS = frozenset(
    "what how is are can could does do did why when which who should will would where".split()  # noqa: SIM905
)
SUGGEST = 45.0
# In "X for Y" a name covering only Y ranks this much below one covering X (they tie otherwise).
FOR_TAIL = 2.0
CAUSE = ("cause", "causes")  # "X causing Y" describes a condition: not a question about X
GENERIC_CAP = 60.0
GENERIC_WEIGHT = 0.25
AMBIGUOUS_TIE = 3
TIE_WINDOW = 6.5
# A word in more than this share of entries is generic ("pain", "injection", "nerve").
GENERIC_SHARE = 0.10
MAX_MATCHES = 8
ANATOMICAL_PREFIXES = ("trans", "inter", "intra", "epi", "peri", "para", "supra", "sub")
MAX_SUGGESTIONS = 5
# A whole word typed matches a longer word as a prefix only as a derived form, at most this many
# letters longer (trochanter -> trochanteritis, hernia -> herniation, radic -> radicular), not as
# a compound with another word (vertebra -> vertebraplasty, a procedure's name).
DERIVED = 5

EntryKind = Literal["procedure", "condition", "term"]


def max_edits(word: str) -> int:
    """Typos tolerated in a word: none up to 3 letters (abbreviations must be exact),
    one up to 7, two beyond (a transposition counts as one)."""
    n = len(word)
    return 0 if n <= 3 else 1 if n <= 7 else 2


@dataclass(slots=True, repr=False, eq=False)
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
    unexplained: list[str] = field(default_factory=list)  # words no entry's name or card accounts for

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
        self.has_fulltext = bool(db.execute("SELECT 1 FROM meta WHERE key = 'fulltext' AND value = 'yes'").fetchone())
        self._vocab: dict[str, list[int] | None] = {}
        self._entry_count: int | None = None
        self._content: dict[tuple[str, str], frozenset[int]] = {}

    def exact(self, key: str) -> tuple[int, ...]:
        row = self.db.execute("SELECT entries FROM exact WHERE ix = ? AND key = ?", (self.ix, key)).fetchone()
        return tuple(int(n) for n in row[0].split()) if row else ()

    def postings(self, token: str) -> list[int]:
        if token not in self._vocab:
            row = self.db.execute("SELECT labels FROM vocab WHERE ix = ? AND token = ?", (self.ix, token)).fetchone()
            self._vocab[token] = [int(n) for n in row[0].split()] if row else None
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

    def linked(self, entries: set[int]) -> set[int]:
        """The entries linked to these (a condition and the procedures that treat it, a family)."""
        if not entries:
            return set()
        ids = [row[1] for row in self.entries(entries).values()]
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT target FROM links WHERE source IN ({marks}) "
            f"UNION SELECT source FROM links WHERE target IN ({marks})",
            [*ids, *ids],
        ).fetchall()
        other = [row[0] for row in rows]
        found: set[int] = set()
        for start in range(0, len(other), 500):
            chunk = other[start : start + 500]
            found |= {
                row[0]
                for row in self.db.execute(
                    f"SELECT rowid FROM entries WHERE kind IN ('procedure', 'condition') "
                    f"AND id IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
            }
        return found

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

    def family(self, e_index: int) -> str:
        """Entries of one family (a general entry and its variants) count once in a tie."""
        return self.entry(e_index)[5]

    def _hit(self, e_index: int, score: float, matched: str) -> Hit:
        kind, ident, name, aliases, _depth, _family = self.entry(e_index)
        return Hit(kind, ident, name, aliases, round(max(0.0, min(100.0, score)), 1), matched)

    def _word_matches(self, word: str, fuzzy: bool, typed: int = 0) -> dict[str, int]:
        """Vocabulary words matching a query word, with the edits it took (prefix = 1)."""
        found: dict[str, int] = {}
        if self.known(word):
            found[word] = 0
        if len(word) >= 5:
            longest = 2 * len(word)  # half a word or more typed: costs like one edit
            if word in found:  # a whole word: only its derived forms
                longest = min(longest, len(word) + DERIVED)
            for candidate in self._prefixed(word):
                if not candidate.startswith(word):
                    break
                if len(candidate) <= longest:
                    found.setdefault(candidate, 1)
            # The word without its anatomical prefix ("foraminal epidural" is transforaminal).
            for prefix in ANATOMICAL_PREFIXES:
                if self.known(prefix + word):
                    found.setdefault(prefix + word, 1)
        # `typed`: the word's length as typed, before a plural was folded ("cprs" -> "cpr" is 4 letters).
        edits = max_edits("x" * max(len(word), typed)) if fuzzy else 0
        if edits:
            from rapidfuzz import process
            from rapidfuzz.distance import OSA

            for candidate, distance, _ in process.extract(
                word, self._near(word, edits), scorer=OSA.distance, score_cutoff=edits, limit=None
            ):
                if abs(len(candidate) - len(word)) <= edits and max(max_edits(candidate), edits) >= distance:
                    found[candidate] = min(found.get(candidate, 99), int(distance))
        return found

    def match(self, query: str, limit: int = MAX_MATCHES, sides: bool = True) -> Result:
        query = query[: MAX_QUERY_CHARS * 4]  # before any pattern runs over it: 100 000 spaces take no time
        compared = comparison(query) if sides else None
        if compared is not None:  # "X vs Y", "difference between X and Y": what is asked about first
            first = self.match(compared[0], limit, sides=False)
            if first.matches:
                return Result(query, first.matches, first.suggestions, first.unexplained)
            # X names nothing: the words were a sentence ("is my pain different from sciatica").
            return self.match(query, limit, sides=False)
        result = Result(query=query)
        text = reading(query)
        norm = " ".join(expand(w) for w in normalize(text)[:MAX_QUERY_CHARS].split())
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
        # Words typed with punctuation in them ("-rf", "c5/6") are taken exactly, never fuzzily; so is a
        # short word typed in capitals among other words, an abbreviation ("TENS unit" is not PENS).
        tokens = text.split()
        exact_only = {
            w
            for token in tokens
            if not token.isalnum() or (token.isupper() and len(token) <= 5 and not text.isupper())
            for w in words_of(token)
        }
        # An exact hit needs no fuzzy scoring; close variants are still ranked beside it.
        typed = {w: len(raw) for raw, w in zip(norm.split(), words, strict=False)}
        # Where each content word stands among all the words: a word right before a name is a
        # modifier of it ("pudendal nerve block"); in a question, other extra words are about
        # what is asked ("can I drive home after a nerve block").
        position = [i for i, w in enumerate(words) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
        question = words[0] in QUESTION_WORDS or query.rstrip().endswith("?")
        # "X for Y" asks about X: "SGB for PTSD" is the block, "rfa for knee OA" the ablation; so do
        # "X before Y" ("medial branch block before rfa" is the block) and "can X cause Y" ("can a
        # lumbar epidural cause headache" is the epidural).
        joint = next((i for i, w in enumerate(words) if w in ("for", "before", *CAUSE)), None)
        head_end = joint if joint is not None and position and position[0] < joint else None
        self._score_tokens(
            content, scores, fuzzy=not scores, exact_only=exact_only, result=result, typed=typed,
            position=position, question=question, head_end=head_end,
        )  # fmt: skip
        if self.ix == "entries" and not any(score >= CONFIDENT for score, _m in scores.values()):
            from painref.find import descriptions

            descriptions.score_content(self, content, scores)
            descriptions.settle(self, content, scores)
            descriptions.suggest_by_diagnosis(self, content, scores)
        rows = self.entries(scores)
        # Ties: a family's general entry first, then an entry matched by its own name rather than a lay phrase.
        ranked = sorted(
            scores.items(),
            key=lambda item: (-item[1][0], rows[item[0]][4], item[1][1] != rows[item[0]][2], rows[item[0]][2].lower()),
        )
        # Three or more unrelated entries (nearly) tied at the top: the query is ambiguous
        # ("spine"), and picking one of them would be a confident guess. They become suggestions.
        top = ranked[0][1][0] if ranked else 0.0
        tied = {self.family(e) for e, (score, _m) in ranked if score >= top - TIE_WINDOW}
        ambiguous = top < 100.0 and len(tied) >= AMBIGUOUS_TIE
        for e_index, (score, matched) in ranked:
            hit = self._hit(e_index, score, matched)
            if score >= CONFIDENT and not ambiguous:
                if len(result.matches) < limit:
                    result.matches.append(hit)
            elif score >= SUGGEST and len(result.suggestions) < MAX_SUGGESTIONS:
                result.suggestions.append(hit)
        return result

    def in_content(self, word: str, columns: str = "") -> frozenset[int]:
        """The entries whose card text holds the word (stemmed, as `search` finds it), in these columns
        (by default all but UNWEIGHED; EVERY_FIELD for all); asked of the full-text table once per word
        and columns (names and descriptions both ask)."""
        key = (word, columns)
        if key not in self._content:
            self._content[key] = self._read_content(word, columns)
        return self._content[key]

    def _read_content(self, word: str, columns: str) -> frozenset[int]:
        if not self.has_fulltext:
            return frozenset()
        phrase = '"' + word.replace('"', '""') + '"'
        if columns == EVERY_FIELD:
            match = phrase
        else:
            match = f"{{{columns}}} : {phrase}" if columns else f"-{{{UNWEIGHED}}} : {phrase}"
        try:
            rows = self.db.execute("SELECT entry FROM fulltext WHERE fulltext MATCH ?", (match,)).fetchall()
        except sqlite3.OperationalError:
            return frozenset()
        return frozenset(row[0] for row in rows)

    def _score_tokens(
        self,
        words: list[str],
        scores: dict[int, tuple[float, str]],
        fuzzy: bool,
        exact_only: set[str],
        result: Result,
        typed: dict[str, int],
        position: list[int],
        question: bool,
        head_end: int | None = None,
    ) -> None:
        matches = [self._word_matches(w, fuzzy and w not in exact_only, typed.get(w, 0)) for w in words]
        # Two query words glued together may form one indexed word ("radio frequency"); fuzzily only when
        # one of them is no word of a name ("radio frequncy"): two known words are not a typo of a third
        # ("face ache" is not "backache").
        glued = [
            self._word_matches(a + b, fuzzy and not (self.known(a) and self.known(b))) for a, b in pairwise(words)
        ] + [{}]
        weights = [GENERIC_WEIGHT if w in self.generic else 1.0 for w in words]
        # Words found nowhere among the names, even fuzzily.
        unknown = [not (m or g) for m, g in zip(matches, glued, strict=True)]
        # Every word must be explained. One a name does not cover is explained when the
        # entry's own card says it ("kyphoplasty recovery", "recovery after a stimulator
        # implant"): then it weighs almost nothing. Otherwise it counts in full against the
        # entry: it names something else ("labor epidural", "ACL tear", "basivertebral
        # nerve ablation", "; rm -rf /").
        cache: dict[int, set[int]] = {}
        # The label words the query matches, each query word by its closest spellings only: "head"
        # does not name what "heat" names (an ablation's lay phrase).
        query_tokens = {t for found in (*matches, *glued) for t in _closest(found)}

        def explained(n: int) -> set[int]:
            """The entries whose card says word n, or that are linked to an entry it names
            ("SCS for FBSS", "rfa for knee OA"); worked out only for a word some name leaves
            uncovered; links only for an informative word (a generic one names too many entries),
            and only through a label the query says 1 / NAMING_PART of (a lay phrase that mentions
            the word in passing does not name its entry)."""
            if n not in cache:
                found = set(self.in_content(words[n])) if self.ix == "entries" else set()
                spelled = _closest(matches[n])
                labels = {m for t in spelled for m in self.postings(t)} if weights[n] == 1.0 else set()
                if labels and self.ix == "entries":
                    named = set()
                    for entry, _label, tokens in self._labels(labels).values():
                        label_words = tokens.split(" ")
                        if NAMING_PART * len(query_tokens.intersection(label_words)) >= len(label_words):
                            named.add(entry)
                    found |= self.linked(named)
                cache[n] = found
            return cache[n]

        # Names sharing only generic words with the query cannot reach SUGGEST when it
        # has an informative word: score only names that share an informative one.
        informative = [found for i, found in enumerate((*matches, *glued)) if found and weights[i % len(words)] == 1.0]
        if informative and head_end is not None:
            # What "X for Y" or "can X cause Y" asks about is X, generic words or not ("can a nerve block
            # cause numbness"): names of X are candidates too.
            informative += [matches[n] for n in range(len(words)) if position[n] < head_end and matches[n]]
        candidates: set[int] = set()
        for found in informative or (*matches, *glued):
            for token in found:
                candidates.update(self.postings(token))
        labels = self._labels(candidates)
        if informative and question:
            # In a question, a name made only of generic words counts when the query says all of it
            # ("can I drive home after a nerve block").
            said = set(words)
            rest = {n for i, found in enumerate(matches) if weights[i] != 1.0 for t in found for n in self.postings(t)}
            more = self._labels(rest - candidates)
            kept = {n: row for n, row in more.items() if set(row[2].split(" ")) <= said}
            labels.update(kept)
            candidates |= set(kept)
        missing: dict[str, int] = {}
        for n_index in sorted(candidates):  # in label order: an entry's name before its aliases and lay terms
            entry, label, tokens = labels[n_index]
            name_tokens = set(tokens.split(" "))
            used: set[str] = set()
            covered = [False] * len(words)
            edits = 0
            i = 0
            while i < len(words):
                best = _best(matches[i], name_tokens - used)
                pair = _best(glued[i], name_tokens - used)
                if pair is not None and (best is None or pair[1] < best[1]):
                    used.add(pair[0])
                    covered[i] = covered[i + 1] = True
                    edits += pair[1]
                    i += 2
                    continue
                if best is not None:
                    used.add(best[0])
                    covered[i] = True
                    edits += best[1]
                i += 1
            if not used:
                continue
            name_cover = len(used) / len(name_tokens)
            covered_at = {position[n] for n in range(len(words)) if covered[n]}
            got = against = 0.0
            significant = False
            by_card = 0.0
            named = [weights[n] for n in range(len(words)) if covered[n]]
            name_weight = sum(named) / len(named) if named else 1.0
            # The label names a body region the query does not, and the query names another one:
            # "knee stiff in the morning" is not hip osteoarthritis's "stiff hip in the morning",
            # though that card says "knee" (its pain can be felt there).
            other_region = bool(REGION_WORDS & (name_tokens - used))
            for n, word in enumerate(words):
                if covered[n]:
                    got += weights[n]
                    against += weights[n]
                    significant = significant or weights[n] == 1.0
                elif other_region and word in REGION_WORDS:
                    against += 1.0
                elif name_cover > 0.5 and entry in explained(n):
                    # Only for a name mostly matched: "lumbar fusion surgery" is not SI joint fusion.
                    got += EXPLAINED_WEIGHT
                    against += EXPLAINED_WEIGHT
                    # What X is for, X's card says at little cost: a name that says it too ranks first
                    # ("nerve burning for knee pain" is genicular RFA, not RFA in general).
                    tail = head_end is not None and position[n] > head_end and min(covered_at) < head_end
                    by_card += (FOR_EXPLAINED_COST if tail else EXPLAINED_COST) * weights[n]
                elif question and position[n] + 1 not in covered_at:
                    # Measured against the name's own words: "can I drive home after a nerve block"
                    # asks about a name of generic words, and its extra words weigh as lightly.
                    against += QUESTION_EXTRA * weights[n] * name_weight
                else:
                    against += weights[n]
            # A word the card explains counts a little less than one a name covers, so that
            # "lumbar epidural steroid injection" is the lumbar variant, not the general entry.
            score = 100.0 * (got / against) * (NAME_BASE + (1 - NAME_BASE) * name_cover) - 3.0 * edits - by_card
            if head_end is not None and covered_at and min(covered_at) > head_end:
                score -= FOR_TAIL  # names only what X is for ("PTSD" in "SGB for PTSD")
            # A label "X for Y" names X ("stimulator for my foot pain"): a query matching only Y says what
            # X is for, not X ("foot pain for months"), and is a suggestion at most.
            if "for" in label.lower():
                label_words = words_of(label)
                head = (
                    name_tokens.intersection(label_words[: label_words.index("for")]) if "for" in label_words else set()
                )
                if head and not used & head:
                    score = min(score, CONFIDENT - 5)
            if edits and name_cover < 0.5:
                score = min(score, CONFIDENT - 5)  # a typo of one word of a longer name is a guess ("null" ~ "full")
            # A lone generic word ("knee", "injection"), or two words no name knows (probably not about
            # pain medicine), is never confident; the scores are scaled, not cut, so that the suggestions
            # keep their order ("Knee osteoarthritis" before a long lay phrase that mentions a knee).
            if (not significant and len(words) == 1) or sum(unknown) >= 2:
                score *= GENERIC_CAP / 100.0
            previous = scores.get(entry)
            if previous is None or score > previous[0]:
                scores[entry] = (score, label)
                for n, word in enumerate(words):
                    if not covered[n] and weights[n] == 1.0 and entry not in explained(n):
                        missing[word] = missing.get(word, 0) + 1
        result.unexplained = [
            w
            for w in words
            if w in missing and all(w not in m for m in matches) and not self.in_content(w, EVERY_FIELD)
        ]

    def count(self) -> int:
        """How many procedures and conditions the store holds."""
        if self._entry_count is None:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'entries'").fetchone()
            self._entry_count = max(1, int(row[0]))
        return self._entry_count


def _closest(found: dict[str, int]) -> list[str]:
    """The vocabulary words a query word matches with the fewest edits (itself, when a name spells it)."""
    least = min(found.values(), default=0)
    return [token for token, edits in found.items() if edits == least]


def _best(found: dict[str, int], available: set[str]) -> tuple[str, int] | None:
    best: tuple[str, int] | None = None
    for token, edits in found.items():
        if token in available and (best is None or edits < best[1]):
            best = (token, edits)
    return best
