"""Where painref's directories are: the built-in data, the user's own layer, the cache.

Follows the XDG base-directory rules on Linux without importing platformdirs
(a relative XDG_* value is ignored, as the spec says); platformdirs elsewhere.
"""

from __future__ import annotations

import os
import sys
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


def _home() -> Path:
    try:
        return Path.home()
    except (KeyError, RuntimeError):
        raise PainrefError(
            "cannot find your home directory", hint="set HOME, or PAINREF_HOME and PAINREF_CACHE_DIR"
        ) from None


def _xdg(variable: str, default: str) -> Path:
    value = os.environ.get(variable, "")
    return Path(value) if os.path.isabs(value) else _home() / default


def _place(override: str, xdg: str, default: str, kind: str) -> Path:
    """$override, else the XDG directory on Linux, else platformdirs' user `kind` directory; + painref."""
    chosen = os.environ.get(override)
    if chosen:
        return Path(chosen).expanduser()
    if sys.platform.startswith("linux"):
        return _xdg(xdg, default) / "painref"
    import platformdirs

    return Path(getattr(platformdirs, f"user_{kind}_dir")("painref", appauthor=False))


def user_dir() -> Path:
    """The user's painref directory: $PAINREF_HOME, else the platform's user data directory."""
    return _place("PAINREF_HOME", "XDG_DATA_HOME", ".local/share", "data")


def cache_dir() -> Path:
    """Where the compiled knowledge base lives: $PAINREF_CACHE_DIR, else the user cache directory."""
    return _place("PAINREF_CACHE_DIR", "XDG_CACHE_HOME", ".cache", "cache")


def existing_directory(chosen: str | os.PathLike[str], hint: str) -> Path:
    try:
        path = Path(chosen).expanduser()
    except RuntimeError:  # ~nosuchuser
        raise PainrefError(f"no such user's home in {str(chosen)!r}", hint=hint) from None
    try:
        if path.is_dir():
            return path
        what = "not a directory" if path.exists() else "data directory not found"
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte
        what = f"cannot use this path ({getattr(exc, 'strerror', None) or exc})"
    raise PainrefError(f"{what}: {path}", hint=hint)


def is_dir(path: Path) -> bool:
    """Whether `path` is a directory; False for any path that cannot be looked at (too long, say)."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False
