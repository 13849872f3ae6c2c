"""A compiled cache of the validated knowledge base, one file per data directory.

The cache is keyed on painref's version, Python's version and each data file's
path, size and modification time (in nanoseconds): any edit rebuilds it. It is
written atomically (temporary file, then rename) and ignored when unreadable,
corrupt or written by another version. Set PAINREF_CACHE_DIR to move it, or
PAINREF_NO_CACHE=1 to bypass it.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from painref import __version__

T = TypeVar("T")
FORMAT = 1
DATA_FILES = ("procedures.yaml", "conditions.yaml", "glossary.yaml", "guide.yaml")


def cache_dir() -> Path:
    override = os.environ.get("PAINREF_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform.startswith("linux"):
        # platformdirs' rule for Linux, without its import cost on every lookup.
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "painref"
    import platformdirs

    return Path(platformdirs.user_cache_dir("painref", appauthor=False))


def _key(data_dir: Path) -> tuple[object, ...]:
    stats: list[tuple[str, int, int]] = []
    for name in DATA_FILES:
        try:
            st = (data_dir / name).stat()
        except OSError:
            continue
        stats.append((name, st.st_size, st.st_mtime_ns))
    return (FORMAT, __version__, sys.version_info[:2], str(data_dir.resolve()), tuple(stats))


def _path_for(data_dir: Path) -> Path:
    # The name only spreads directories over files; the key inside decides freshness.
    import zlib

    digest = zlib.crc32(str(data_dir.resolve()).encode())
    return cache_dir() / f"kb-{digest:08x}.pickle"


def cached(data_dir: Path, build: Callable[[Path], T]) -> T:
    """build(data_dir), or its cached result when the data files are unchanged."""
    if os.environ.get("PAINREF_NO_CACHE"):
        return build(data_dir)
    key = _key(data_dir)
    path = _path_for(data_dir)
    try:
        with path.open("rb") as fh:
            stored_key, value = pickle.load(fh)
        if stored_key == key:
            return value  # type: ignore[no-any-return]
    except Exception:
        pass
    value = build(data_dir)
    _write(path, (key, value))
    return value


def _write(path: Path, payload: object) -> None:
    """Write atomically; a cache that cannot be written is not an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        import tempfile

        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".kb-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        pass
