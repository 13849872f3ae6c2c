"""Text normalisation shared by validation (duplicate names) and search."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")
_NON_WORD_ANY = re.compile(r"[\W_]+")  # any script's letters and digits are kept
# C0/C1 control characters (ESC included) other than tab and newline, and the
# bidirectional overrides and isolates that reorder what a terminal shows.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(value: str) -> str:
    """Text with control characters (and so ANSI escape sequences) removed."""
    return _CONTROL.sub("", value)


def normalize(text: str) -> str:
    """Lowercase, strip accents, turn every run of punctuation into one space.

    "SI-joint", "si joint" and "Sí  Joint!" all become "si joint"; letters of
    other scripts are kept ("Межпозвоночная грыжа" stays two words).
    """
    if text.isascii():  # most names: nothing to fold but case
        return _NON_WORD.sub(" ", text.lower()).strip()
    folded = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _NON_WORD_ANY.sub(" ", bare).strip()


def squash(text: str) -> str:
    """The normalised text without spaces: "radio frequency" == "radiofrequency"."""
    if text.isascii():
        return _NON_WORD.sub("", text.lower())
    return normalize(text).replace(" ", "")


# Function words carry no meaning for lookup.
FUNCTION_WORDS = """a about after am an and any are as at be because been before being by can could did do does
    doing due during for from get got had has have having he her hers herself him himself his how i if in into is
    it its me my of on or our she should
    so than that the their them then there these they this those to too vs versus was we were what
    when where which while who why will with would you your ll ve re many much often until instead use used"""
# Words that say what the user wants to know, not what about: "how long does rfa last",
# "is kyphoplasty safe", "questions about epidural injections".
INTENT_WORDS = """define definition explain help helps know last lasting lasts long mean means need question
    questions safe tell work works painful hurt hurts risk risks risky danger dangerous safety side effect
    effects complication complications recovery recover recovering cost costs price insurance covered
    success successful effective take takes time prepare preparation expect expected happen happens
    normal difference different compare compared comparison better best option options candidate good treat
    treats treated treating treatment treatments relief still done real worth cause causes diagnosis diagnose
    diagnosed exam examination signs rate rates alternative alternatives contraindication
    contraindications contraindicated aftercare ask asking"""
# Which side is treated does not change which procedure or condition is meant: "bilateral L4-5 MBB".
SIDE_WORDS = "bilateral unilateral left right sided"
# How bad it is does not say what it is: "my hip arthritis is really bad".
DEGREE_WORDS = "bad really very terrible awful horrible"
# Who has it does not say what it is: "stiff grinding shoulder, older adult" (age and sex in a note are
# dropped by painref.find.query; these are the words for them).
PERSON_WORDS = """adult adults old older elderly young younger woman women man men male female lady guy gentleman
    grandma grandmother grandpa grandfather mom mother dad father wife husband son daughter kid kids child
    children person people someone"""
FUNCTION = frozenset(FUNCTION_WORDS.split())
PERSON = frozenset(PERSON_WORDS.split())
STOPWORDS = (
    FUNCTION
    | frozenset(INTENT_WORDS.split())
    | frozenset(SIDE_WORDS.split())
    | frozenset(DEGREE_WORDS.split())
    | PERSON
)


def words_of(text: str) -> list[str]:
    """Normalised words, plurals folded ("injections" -> "injection", "discs" -> "disc")."""
    return fold_plurals(normalize(text))


def fold_plurals(normalized: str) -> list[str]:
    return [singular(w) if w[-1] == "s" and w not in STOPWORDS else w for w in normalized.split()]


def singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "is", "us", "ous")):
        return word[:-1]
    return word
