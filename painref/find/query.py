"""Reading a query before it is matched: what the words say, as clinicians and patients type them.

* Spinal levels name a region: "C6", "T12", "L4-5", "L5-S1", "c-spine" -> cervical, thoracic,
  lumbar ...; a level that does not exist ("C9", "L7") is left as typed.
* "didn't", "won't", "can't" say "not", as lay terms do ("did not fix my pain", "cannot sit");
  so do "cant", "didnt", "doesnt", typed without the apostrophe.
* A note's age, sex and duration ("70M", "45yo", "x2wks") and "c/o" are left out: they say who
  and since when, not what.
* Shorthand of clinical notes stands for its word ("facet inj", "spinal cord stim", "L1 fxs").
* "X vs Y", "X compared with Y", "how is X different from Y" and "difference between X
  and Y" are comparisons (the command compares X and Y; lookup is about X).

reading() and comparison() cut the query to a bound (MAX_QUERY_CHARS * 4) before any
pattern runs over it: a run of 100 000 spaces takes no time.
"""

from __future__ import annotations

import functools
import re

MAX_QUERY_CHARS = 200
SHORTHAND = {"inj": "injection", "injxn": "injection", "stim": "stimulator", "fx": "fracture"}

# Possessive runs of spaces: a long run is scanned once, not once for every place it could start.
_VS = re.compile(
    r"(?<!\s)\s++(?:vs\.?|versus|different\s++from|differs?\s++from|compared\s++(?:to|with))\s++", re.IGNORECASE
)
_BETWEEN = re.compile(r"\bdifferences?\s++between\s++(.+?)\s+and\s+(.+)", re.IGNORECASE)


def comparison(query: str) -> list[str] | None:
    """The sides of "X vs Y" ("X versus Y", "X compared with Y", "how is X different from Y") or
    "difference between X and Y", or None."""
    query = query[: MAX_QUERY_CHARS * 4]
    found = _BETWEEN.search(query)
    if found:
        return [found.group(1).strip(" ?"), found.group(2).strip(" ?")]
    sides = [side.strip(" ?") for side in _VS.split(query)]
    return sides if len(sides) > 1 and all(sides) else None


# Spinal levels as clinicians write them: "C6", "T12", "L4-5", "L5-S1", "c-spine" name a region of the spine.
_LEVEL = re.compile(r"\b([CcTtLlSs])(1[0-2]|[1-9])(?:\s*[-/]\s*[CcTtLlSs]?(?:1[0-2]|[1-9]))?\b|\b([CcTtLl])-spine\b")
_REGION = {"c": "cervical", "t": "thoracic", "l": "lumbar", "s": "sacral"}
_LEVELS = {"c": 8, "t": 12, "l": 5, "s": 5}  # C1-C8 (nerve roots), T1-T12, L1-L5, S1-S5


def spinal_levels(text: str) -> str:
    def region(found: re.Match[str]) -> str:
        letter = (found.group(1) or found.group(3)).lower()
        if found.group(2) and int(found.group(2)) > _LEVELS[letter]:
            return found.group(0)  # "C9" is no level: left as typed
        return _REGION[letter]

    return _LEVEL.sub(region, text)


# "didn't", "won't", "can't" say "not" (lay terms say "did not fix my pain", "cannot sit"); so do
# the common ones typed without the apostrophe ("cant sit", "didnt help").
_NOT = re.compile(
    r"\b(?:(ca)|(wo)|(\w+?))n['\u2019\u02bc]t\b"
    r"|\b(?:(cant)|(wont)|(do|did|does|is|are|was|were|could|would|should|have|has|had)nt)\b",
    re.IGNORECASE,
)


def negations(text: str) -> str:
    def said(m: re.Match[str]) -> str:
        if m.group(1) or m.group(4):
            return "cannot"
        if m.group(2) or m.group(5):
            return "will not"
        return (m.group(3) or m.group(6)) + " not"

    return _NOT.sub(said, text)


# A case as notes give it: age and sex ("45yo", "80 y.o.", "45-year-old", "70M"; two digits, as "5F"
# is a catheter's size), how long ("x2wks", "x 1 yr"), "c/o", "h/o". They say who and since when,
# not what: left out.
@functools.cache
def _note() -> re.Pattern[str]:
    # Compiled on first use (about a millisecond): only a query with a digit or a slash can hold one.
    return re.compile(
        r"\b\d+\s*-?\s*(?:y/?o|y\.o\.?|(?:yr|year)s?[-\s]?old)[mf]?(?![a-z])"
        r"|\b[1-9][0-9][mf]\b"
        r"|\bx\s*\d+\s*(?:d|days?|wks?|weeks?|mos?|months?|yrs?|years?|h|hrs?|hours?)\b"
        r"|\b[ch]/o\b",
        re.IGNORECASE,
    )


def without_case_details(text: str) -> str:
    """The text without a note's age, sex and duration, and "c/o", "h/o"."""
    if "/" in text or any(ch.isdigit() for ch in text):
        return _note().sub(" ", text)
    return text


def reading(query: str) -> str:
    """The query, cut to its bound, with spinal levels read as regions, negations spelled out and
    a note's age, sex and duration left out (still to be normalised)."""
    return negations(without_case_details(spinal_levels(query[: MAX_QUERY_CHARS * 4])))


def expand(word: str) -> str:
    """A normalised word, or what its shorthand stands for ("inj" and "injs" -> "injection")."""
    return SHORTHAND.get(word) or (SHORTHAND.get(word[:-1], word) if word.endswith("s") else word)
