"""Where the knowledge base lives: its layers, in the order they are read.

Without --data: the built-in knowledge base, then each directory of
$PAINREF_PATH (colon-separated, like PATH), then the user's own directory
($PAINREF_HOME, else the platform's user data directory). Each may hold any of
procedures.yaml, conditions.yaml, glossary.yaml, guide.yaml and notes.yaml; a
later layer adds entries and overrides an entry of the same id. With --data
DIR (or $PAINREF_DATA) that one directory is the whole knowledge base.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from painref.errors import PainrefError

# The files a knowledge-base directory may hold, and the top-level key of each.
DATA_FILES = {
    "procedures.yaml": "procedures",
    "conditions.yaml": "conditions",
    "glossary.yaml": "terms",
    "guide.yaml": "sections",
    "notes.yaml": "notes",
}


@dataclass(frozen=True, slots=True, repr=False)
class Layer:
    name: str
    path: Path
    required: bool = False  # must hold procedures.yaml and conditions.yaml


def builtin_data_dir() -> Path:
    """The knowledge base shipped with painref.

    In a wheel it sits inside the package (painref/data); in a source checkout
    it is the repository's data/ directory.
    """
    here = Path(__file__).resolve().parent
    packaged = here / "data"
    return packaged if (packaged / "procedures.yaml").is_file() else here.parent / "data"


def user_dir() -> Path:
    """The user's painref directory: $PAINREF_HOME, else the platform's user data directory."""
    override = os.environ.get("PAINREF_HOME")
    if override:
        return Path(override).expanduser()
    if sys.platform.startswith("linux"):
        # platformdirs' rule for Linux, without its import cost on every lookup.
        return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "painref"
    import platformdirs

    return Path(platformdirs.user_data_dir("painref", appauthor=False))


def existing_directory(chosen: str | os.PathLike[str], hint: str = "--data and PAINREF_DATA name a directory") -> Path:
    path = Path(chosen).expanduser()
    if not path.is_dir():
        what = "not a directory" if path.exists() else "data directory not found"
        raise PainrefError(f"{what}: {path}", hint=hint)
    return path


def resolve_data_dir(data: str | os.PathLike[str] | None) -> Path:
    """--data wins, then $PAINREF_DATA, then the built-in knowledge base."""
    chosen = data if data not in (None, "") else os.environ.get("PAINREF_DATA") or None
    return builtin_data_dir() if chosen is None else existing_directory(chosen)


def resolve_layers(data: str | os.PathLike[str] | None) -> list[Layer]:
    chosen = data if data not in (None, "") else os.environ.get("PAINREF_DATA") or None
    if chosen is not None:
        return [Layer("data", existing_directory(chosen), required=True)]
    layers = [Layer("built-in", builtin_data_dir(), required=True)]
    for number, entry in enumerate(filter(None, os.environ.get("PAINREF_PATH", "").split(os.pathsep)), 1):
        layers.append(Layer(f"PAINREF_PATH {number}", Path(entry).expanduser()))
    layers.append(Layer("user", user_dir()))
    return layers
