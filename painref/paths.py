"""Where the knowledge base lives: --data, $PAINREF_DATA, or the built-in one."""

from __future__ import annotations

import os
from pathlib import Path

from painref.errors import PainrefError


def builtin_data_dir() -> Path:
    """The knowledge base shipped with painref.

    In a wheel it sits inside the package (painref/data); in a source checkout
    it is the repository's data/ directory.
    """
    here = Path(__file__).resolve().parent
    packaged = here / "data"
    return packaged if (packaged / "procedures.yaml").is_file() else here.parent / "data"


def resolve_data_dir(data: str | os.PathLike[str] | None) -> Path:
    """--data wins, then $PAINREF_DATA, then the built-in knowledge base."""
    chosen = data if data not in (None, "") else os.environ.get("PAINREF_DATA") or None
    if chosen is None:
        return builtin_data_dir()
    path = Path(chosen).expanduser()
    if not path.exists():
        raise PainrefError(f"data directory not found: {path}", hint="--data and PAINREF_DATA name a directory")
    if not path.is_dir():
        raise PainrefError(f"not a directory: {path}", hint="--data and PAINREF_DATA name a directory")
    return path
