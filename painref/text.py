"""Text normalisation shared by validation (duplicate names) and search."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")
# C0/C1 control characters (ESC included) other than tab and newline.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(value: str) -> str:
    """Text with control characters (and so ANSI escape sequences) removed."""
    return _CONTROL.sub("", value)


def normalize(text: str) -> str:
    """Lowercase, strip accents, turn every run of punctuation into one space.

    "SI-joint", "si joint" and "Sí  Joint!" all become "si joint".
    """
    if text.isascii():  # most names: nothing to fold but case (a third faster)
        return _NON_WORD.sub(" ", text.lower()).strip()
    folded = unicodedata.normalize("NFKD", text.casefold())
    ascii_only = folded.encode("ascii", "ignore").decode("ascii")
    return _NON_WORD.sub(" ", ascii_only).strip()


def squash(text: str) -> str:
    """The normalised text without spaces: "radio frequency" == "radiofrequency"."""
    if text.isascii():
        return _NON_WORD.sub("", text.lower())  # the same, in one step
    return normalize(text).replace(" ", "")
