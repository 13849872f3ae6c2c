"""Matching a description against the cards: stages 3 to 5 of lookup (see painref.find.names).

When no name is confident, a query may be a description ("legs heavy and numb standing,
relieved by bending forward") rather than a name. Three steps, each reading the store's
full-text table (none weighs a condition's diagnosis, painref.find.names.UNWEIGHED):

* score_content: the cards' describing fields ranked by bm25 for any of the query's words;
  the best entry may be confident (CONTENT_*), the others are suggestions.
* settle: every candidate so far (from names or descriptions) weighed by how much of the
  query its whole card says; a clear best fit is confident (SETTLE_*).
* suggest_by_diagnosis: when nothing is confident, a word only a diagnosis says
  ("freiberg sign") suggests the cards whose diagnosis says it, never confidently.

Thresholds, and why (measured on tests/data/search_blind.yaml, written blind):

* CONTENT_*: a description is confident only with at least CONTENT_WORDS specific
  words, CONTENT_MIN of them in the best entry's describing fields, a bm25 lead of
  CONTENT_LEAD over the next family, few words that no card says at all ("aortic
  stenosis"), and every word said somewhere on the best entry's card (a longer description
  may hold one specific word it lacks for every three beyond the first, "sudden back pain
  after a minor fall, has osteoporosis"; a common word it lacks counts GENERIC_WEIGHT of
  one): "cervical cancer screening" is not chronic neck pain, though that card says
  "cervical" and "cancer", and "low back pain every day for more than three months" is not
  chronic migraine, though that card says all but "low" and "back"; a body region
  (painref.find.names.REGION_WORDS) the card never says is never a common word it may lack
  ("knee pain every day for more than three months"). An entry that fails only this is a
  suggestion.
* SETTLE_* and DESCRIPTION_WORDS: among queries no name settled, the highest fit of one that
  should find nothing was 66.7 with three words and 47.4 with four ("carpal tunnel release
  surgery"), while descriptions of five words or more whose best fit was right ranged down to
  40 ("MRI shows disc material squeezed out past the vertebra"); a lead below 5 was a coin toss
  between two families. So: never with three words or fewer; 60 and a lead of 10 with four;
  40 and a lead of 5 with five or more. CARD_BASE = 50: a card no name matched is confident
  only for five words or more of which it says at least 80 % (45 to 60 scored alike).
* NOWHERE_SHARE = 3: words no card says at all are left out of the fit when they are at most a
  third of the words; a description of a case carries a few ("frail", "blistery", "crepitus").
  Measured on tests/data/search_vignettes.yaml (written blind after the search was built, and
  used in development from then on): 48.8 -> 56.8 % of its descriptions right, none of its
  negatives newly confident, one more held-out query right; a half kept the same figures, a
  quarter one fewer.
* REGION_WEIGHT = 2.0: with idf alone "back" or "neck" weighs little (most cards say them), so a
  description's region hardly told cards of other regions apart. At 1 to 2, one more description
  of the fifth set (tests/data/search_fifth.yaml, in its half never read) was right and nothing
  else changed on any set; from 2.5, two more of the vignettes were confidently wrong.
* SUGGEST_SHARE = 0.5: a description no card settles suggests the three cards holding most
  of it (half of it or more), scored from SUGGEST (45) up to 75 by their share: right in the
  top three for 82 % of the vignettes' descriptions (was 73 %), 98.9 % of the held-out set
  (was 98.5 %); no confident answer changes. A share of 0.4 suggested more (85 %) but from
  cards holding less than half of what was typed.
* SETTLE_SHARE and SETTLE_RATIO: with five words or more, a card that holds at least 55 % of
  the description (idf-weighted) and 1.8 times what any card of another family holds is
  confident whatever its fit: words no card says ("frail") keep every fit low alike.
  On the blind set this made two descriptions right and no negative confident; a ratio of 2
  made one, 1.6 no more than 1.8; a share of 0.6 lost one. With exactly four words the card
  must hold 90 % of them and 1.3 times any other family's card (SETTLE_*_SHORT): the
  negatives of four words held 82 % at most ("burning when I pee and need to go constantly");
  one blind and one vignette description more were right, no negative of any set confident.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from painref.find.names import CONFIDENT, EVERY_FIELD, GENERIC_WEIGHT, REGION_WORDS, SUGGEST, UNWEIGHED

if TYPE_CHECKING:
    from painref.find.names import Index

# The card fields that describe what an entry is, for matching a description (symptoms, lay words).
DESCRIBING = "name aliases lay_terms symptoms summary region mechanism"
# A word in more than this share of the entries' describing fields is generic for descriptions ("pain").
CONTENT_GENERIC = 0.3
# Content matches rank below name matches of the same coverage, and need at least this share of the words.
CONTENT_MIN = 0.5
CONTENT_LEAD = 0.1
CONTENT_WORDS = 3  # a description has at least this many specific words
CONTENT_CONFIDENT = 90.0
CONTENT_PROCEDURE = 0.85
DESCRIPTION_WORDS = 4
SETTLE_FIT_SHORT, SETTLE_LEAD_SHORT = 60.0, 10.0
SETTLE_FIT, SETTLE_LEAD = 40.0, 5.0
SETTLE_SHARE, SETTLE_RATIO = 0.55, 1.8
SETTLE_SHARE_SHORT, SETTLE_RATIO_SHORT = 0.9, 1.3
SETTLE_CANDIDATES = 8
CARD_BASE = 50.0
# A description no card settles suggests the SUGGESTED_CARDS cards that hold most of it, if at least this share.
SUGGEST_SHARE, SUGGESTED_CARDS = 0.5, 3
# A word the card says outside its describing fields (in a risk, a question) counts half.
ELSEWHERE = 0.5
NOWHERE_SHARE = 3
# The least a body region (painref.find.names.REGION_WORDS) weighs in a fit: as much as a word about one
# card in eight says.
REGION_WEIGHT = 2.0


def score_content(index: Index, words: list[str], scores: dict[int, tuple[float, str]]) -> None:
    """Entries whose cards describe what the query says: a description of symptoms finds its condition.

    The describing fields (names, lay terms, symptoms, summary, region,
    mechanism) are ranked by bm25 for any of the query's words. The best entry
    is confident only when it holds at least CONTENT_MIN of the specific words
    (a word most entries hold, "pain", counts GENERIC_WEIGHT) and leads the next
    entry of another family by CONTENT_LEAD in bm25; otherwise it is a suggestion.
    A procedure's card describes what it treats, so a description fits a condition
    better: a procedure scores CONTENT_PROCEDURE of it.
    """
    from painref.store import SEARCH_FIELDS

    words = list(dict.fromkeys(w for w in words if len(w) >= 3 and not w.isdigit()))
    if not index.has_fulltext or len(words) < 2:
        return  # one word is a name or nothing: a description has more
    describing = DESCRIBING.split()
    held = [index.in_content(w, DESCRIBING) for w in words]
    count = index.count()
    weights = [
        GENERIC_WEIGHT if len(h) > CONTENT_GENERIC * count or w in index.generic else 1.0
        for w, h in zip(words, held, strict=True)
    ]
    specific = weights.count(1.0)
    if specific < 2:
        return
    # Specific words that no card says at all ("aortic stenosis", "ACL tear", "torn meniscus"):
    # the query is about something else. A long description may hold one.
    nowhere = sum(
        1 for w, h in zip(words, held, strict=True) if not h and not index.known(w) and not index.in_content(w)
    )
    described = specific >= CONTENT_WORDS and nowhere <= (specific - 1) // 4
    column_weights = ", ".join("1.0" if f in describing else "0.0" for f in SEARCH_FIELDS)
    anyword = " OR ".join('"' + w.replace('"', '""') + '"' for w, h in zip(words, held, strict=True) if h)
    if not anyword:
        return
    rows = index.db.execute(
        f"SELECT entry, bm25(fulltext, 0, {column_weights}) FROM fulltext WHERE fulltext MATCH ? ORDER BY 2 LIMIT 8",
        (f"{{{DESCRIBING}}} : ({anyword})",),
    ).fetchall()
    if not rows:
        return
    total = sum(weights)
    info = index.entries([entry for entry, _rank in rows])
    best_entry, best_rank = rows[0]
    lead = 1.0
    for entry, rank in rows[1:]:
        if info[entry][5] != info[best_entry][5]:
            lead = (rank - best_rank) / abs(best_rank) if best_rank else 0.0
            break
    for place, (entry, _rank) in enumerate(rows):
        share = sum(wt for wt, h in zip(weights, held, strict=True) if entry in h) / total
        kind_factor = CONTENT_PROCEDURE if info[entry][0] == "procedure" else 1.0
        if not described or share < CONTENT_MIN:
            continue  # not a description of this entry: not even a suggestion
        # Every word must be explained (a common one counts less): a longer description may hold a few its card lacks.
        unheld = sum(
            wt
            for w, wt, h in zip(words, weights, held, strict=True)
            if entry not in h and entry not in index.in_content(w)
        )
        # A body region the card never says is not a common word it may lack ("knee pain every day for
        # more than three months" is not chronic migraine).
        region_unsaid = any(w in REGION_WORDS and entry not in index.in_content(w) for w in words)
        if place == 0 and lead >= CONTENT_LEAD and unheld <= (specific - 1) // 3 and not region_unsaid:
            score = CONTENT_CONFIDENT * kind_factor
        else:
            score = min(CONFIDENT - 5, 100.0 * share) * kind_factor
        previous = scores.get(entry)
        if previous is None or score > previous[0]:
            scores[entry] = (score, info[entry][2])


def _idf(index: Index, held: list[frozenset[int]]) -> list[float]:
    """Each word's weight by how few cards say it (`held`: the cards saying each word)."""
    count = index.count()
    return [math.log((count + 1) / (len(h) + 1)) for h in held]


def settle(index: Index, words: list[str], scores: dict[int, tuple[float, str]]) -> None:
    """A description no name settles: the candidate whose whole card says most of it.

    The candidates are the best so far and the cards that say most of the query
    (as if a name had scored CARD_BASE). Each candidate's score is multiplied by
    the share of the query its card holds, each word weighted by how few cards
    hold it (idf: "pain" counts for nothing, "grinding" for much; a body region at
    least REGION_WEIGHT), and by
    ELSEWHERE when the card says it only outside its describing fields. The best
    fit becomes confident when the query has at least DESCRIPTION_WORDS words,
    its fit reaches SETTLE_FIT (SETTLE_FIT_SHORT for exactly DESCRIPTION_WORDS
    words) and it leads every candidate of another family by SETTLE_LEAD
    (SETTLE_LEAD_SHORT); or when its card holds at least SETTLE_SHARE of the query
    and SETTLE_RATIO times what any other family's card holds (SETTLE_SHARE_SHORT
    and SETTLE_RATIO_SHORT for exactly DESCRIPTION_WORDS words). Words no card says
    weigh nothing when they are at most 1 / NOWHERE_SHARE of the words. Otherwise
    the cards that hold most of it are suggestions (SUGGEST_SHARE).
    """
    unique = list(dict.fromkeys(w for w in words if not w.isdigit() and len(w) >= 2))
    if len(unique) < DESCRIPTION_WORDS or not index.has_fulltext:
        return
    held = [index.in_content(w) for w in unique]
    described = [index.in_content(w, DESCRIBING) for w in unique]
    # A body region weighs at least REGION_WEIGHT: "back" is on most cards, but a card that never says it
    # does not fit "low back pain every day for more than three months".
    idf = [
        max(weight, REGION_WEIGHT) if w in REGION_WORDS else weight
        for w, weight in zip(unique, _idf(index, held), strict=True)
    ]
    # Words no card says at all ("frail", "crepitus") weigh nothing for or against any card when
    # they are a third of the words or fewer; more, and the query is about something else.
    if sum(1 for h in held if not h) * NOWHERE_SHARE <= len(held):
        idf = [weight if h else 0.0 for weight, h in zip(idf, held, strict=True)]
    total = sum(idf)
    if total <= 0:
        return

    def share(entry: int) -> float:
        return (
            sum(
                weight * (1.0 if entry in d else ELSEWHERE if entry in h else 0.0)
                for weight, h, d in zip(idf, held, described, strict=True)
            )
            / total
        )

    named = sorted(scores.items(), key=lambda item: -item[1][0])[:SETTLE_CANDIDATES]
    fits = [(score * share(entry), entry, score, label) for entry, (score, label) in named]
    # Cards that say most of the description though no name matched it ("numbness down one leg,
    # herniation on MRI"), each as if a name had scored CARD_BASE.
    said = sorted({e for h in held for e in h} - set(scores), key=lambda e: (-share(e), e))[:SETTLE_CANDIDATES]
    rows = index.entries(said)
    fits += [(CARD_BASE * share(e), e, CARD_BASE, rows[e][2]) for e in said]
    if not fits:
        return
    fits.sort(key=lambda item: -item[0])
    fit, best, score, label = fits[0]
    short = len(unique) == DESCRIPTION_WORDS
    need, lead = (SETTLE_FIT_SHORT, SETTLE_LEAD_SHORT) if short else (SETTLE_FIT, SETTLE_LEAD)
    family = index.family(best)
    others = [(f, e) for f, e, _s, _l in fits[1:] if index.family(e) != family]
    clear = fit >= need and all(f <= fit - lead for f, _e in others)
    # A description one card says far more of than any other family's card ("frail, lost height
    # and has sharp mid back pain": words no card says keep the fit low, but only one card holds
    # the rest).
    least, ratio = (SETTLE_SHARE_SHORT, SETTLE_RATIO_SHORT) if short else (SETTLE_SHARE, SETTLE_RATIO)
    alone = share(best) >= least and all(ratio * share(e) <= share(best) for _f, e in others)
    if clear or alone:
        scores[best] = (max(score, CONFIDENT), label)
        return
    # Not settled: the cards that say most of it are suggestions, by how much they say.
    for _f, entry, _s, said_as in sorted(fits, key=lambda item: -share(item[1]))[:SUGGESTED_CARDS]:
        if share(entry) >= SUGGEST_SHARE:
            _suggest(scores, entry, share(entry), said_as)


def suggest_by_diagnosis(index: Index, words: list[str], scores: dict[int, tuple[float, str]]) -> None:
    """A query nothing settled, with a word only a diagnosis says ("freiberg sign", "positive spurling
    test"): the cards whose diagnosis says that word are suggestions, never confident (a diagnosis
    names the tests and the conditions to tell apart, so it is not weighed for a confident answer).

    Such a word is on no card's weighed fields and in at most SUGGESTED_CARDS diagnoses ("sign" and
    "tenderness", in many, suggest nothing). The cards are ranked by how much of the query their whole
    card holds, each word weighted by how few cards say it, from SUGGEST up to CONFIDENT - 5.
    """
    if not index.has_fulltext or any(score >= CONFIDENT for score, _m in scores.values()):
        return
    unique = list(dict.fromkeys(w for w in words if not w.isdigit() and len(w) >= 3))
    telling = [index.in_content(w, UNWEIGHED) for w in unique if not index.in_content(w)]
    candidates = set().union(*(h for h in telling if len(h) <= SUGGESTED_CARDS))
    if not candidates:
        return
    held = [index.in_content(w, EVERY_FIELD) for w in unique]
    idf = _idf(index, held)
    total = sum(idf) or 1.0
    shares = {e: sum(wt for wt, h in zip(idf, held, strict=True) if e in h) / total for e in candidates}
    best = sorted(candidates, key=lambda e: (-shares[e], e))[:SUGGESTED_CARDS]
    rows = index.entries(best)
    for entry in best:
        _suggest(scores, entry, shares[entry], rows[entry][2])


def _suggest(scores: dict[int, tuple[float, str]], entry: int, share: float, label: str) -> None:
    """A suggestion scored by the share of the query its card holds, from SUGGEST up to CONFIDENT - 5."""
    guess = SUGGEST + (CONFIDENT - 5 - SUGGEST) * share
    if guess > scores.get(entry, (0.0, ""))[0]:
        scores[entry] = (guess, label)
