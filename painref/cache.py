"""The compiled cache: one file per data directory, read lazily.

Layout: an 8-byte length and a header, one blob per record, then another
length and more header (the search indexes). The headers hold the freshness
key, every entry's name, each blob's offset and the search indexes, all as
builtin values written with marshal (several times faster to load than
pickle), so a lookup loads the headers and decodes only the records it prints,
whatever the size of the knowledge base. A blob is a pickle unless the writer
chose another encoding (painref.store: an entry's place in its data file).

The key is painref's version, the cache format, the modification times of the
modules that build it, Python's version, the data directory and each data
file's size and modification time (in nanoseconds): any edit rebuilds the
cache. It is written atomically (temporary file, fsync, rename); a reader
keeps its file open, so a concurrent rebuild never mixes two versions. A
missing, corrupt or foreign cache is rebuilt. PAINREF_CACHE_DIR moves it;
PAINREF_NO_CACHE=1 bypasses it.
"""

from __future__ import annotations

import marshal
import os
import pickle
import struct
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, TypeVar

from painref import __version__
from painref.paths import DATA_FILES

T = TypeVar("T")
FORMAT = 3
_LENGTH = struct.Struct("<Q")


def enabled() -> bool:
    return not os.environ.get("PAINREF_NO_CACHE")


def cache_dir() -> Path:
    override = os.environ.get("PAINREF_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform.startswith("linux"):
        # platformdirs' rule for Linux, without its import cost on every lookup.
        return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "painref"
    import platformdirs

    return Path(platformdirs.user_cache_dir("painref", appauthor=False))


# The modules whose code shapes what is cached: an edit to any of them (a development
# checkout, a reinstall at the same version) must rebuild the cache too.
CODE_FILES = ("cache.py", "knowledge.py", "model.py", "search.py", "store.py", "text.py")


def _code_stamp() -> tuple[int, ...]:
    here = os.path.dirname(os.path.abspath(__file__))
    stamp: list[int] = []
    for name in CODE_FILES:
        try:
            stamp.append(os.stat(os.path.join(here, name)).st_mtime_ns)
        except OSError:
            stamp.append(0)
    return tuple(stamp)


def key_for(layers: list[Path]) -> tuple[object, ...]:
    """Everything the cached result depends on: code, Python, and every layer's files."""
    stats: list[tuple[str, int, int]] = []
    for directory in layers:
        for name in DATA_FILES:  # from painref.paths
            try:
                st = os.stat(os.path.join(directory, name))
            except OSError:
                continue
            stats.append((os.path.join(directory, name), st.st_size, st.st_mtime_ns))
    return (FORMAT, __version__, _code_stamp(), sys.version_info[:2], tuple(map(str, layers)), tuple(stats))


def path_for(layers: list[Path]) -> Path:
    # The name only spreads layer sets over files; the key inside decides freshness.
    import zlib

    digest = zlib.crc32(os.pathsep.join(os.path.abspath(d) for d in layers).encode())
    return cache_dir() / f"kb-{digest:08x}.cache"


def file_stats(key: tuple[object, ...]) -> dict[str, tuple[int, int]]:
    """The size and modification time each data file had when the cache with `key` was built."""
    stats: tuple[tuple[str, int, int], ...] = key[5]  # type: ignore[assignment]
    return {os.path.normpath(path): (size, mtime) for path, size, mtime in stats}


class Records(Mapping[str, T]):
    """Entries by id, read from the open cache file on first use.

    Each stored blob is turned back into a record by `decode(id, blob)`; by default
    it is a pickle.
    """

    def __init__(
        self, fh: IO[bytes], offsets: dict[str, tuple[int, int]], decode: Callable[[str, bytes], T] | None = None
    ) -> None:
        self._fh = fh
        self._offsets = offsets
        self._decode = decode
        self._loaded: dict[str, T] = {}

    def __getitem__(self, key: str) -> T:
        found = self._loaded.get(key)
        if found is None:
            start, length = self._offsets[key]
            self._fh.seek(start)
            blob = self._fh.read(length)
            found = pickle.loads(blob) if self._decode is None else self._decode(key, blob)
            self._loaded[key] = found
        return found

    def __contains__(self, key: object) -> bool:
        return key in self._offsets

    def __iter__(self) -> Iterator[str]:
        return iter(self._offsets)

    def __len__(self) -> int:
        return len(self._offsets)


class Deferred(Mapping[str, T]):
    """A mapping loaded on first use (the glossary and guide, which most commands never read)."""

    def __init__(self, load: Callable[[], Mapping[str, T]]) -> None:
        self._load = load
        self._value: Mapping[str, T] | None = None

    def _get(self) -> Mapping[str, T]:
        if self._value is None:
            self._value = self._load()
        return self._value

    def __getitem__(self, key: str) -> T:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


def read(layers: list[Path]) -> tuple[dict[str, Any], IO[bytes]] | None:
    """The header and the open file of a fresh cache, or None."""
    try:
        fh = path_for(layers).open("rb")
    except OSError:
        return None
    try:
        (length,) = _LENGTH.unpack(fh.read(_LENGTH.size))
        header = marshal.loads(fh.read(length))
        if isinstance(header, dict) and header.get("key") == key_for(layers):
            header["base"] = fh.tell()
            fh.seek(header["size"], os.SEEK_CUR)
            (length,) = _LENGTH.unpack(fh.read(_LENGTH.size))
            header["more"] = marshal.loads(fh.read(length))
            return header, fh
    except Exception:
        pass
    fh.close()
    return None


def pickled(record: object) -> bytes:
    """A record pickled on its own, to be read back on its own."""
    return pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)


def write(
    layers: list[Path],
    key: tuple[object, ...],
    header: dict[str, Any],
    blobs: list[tuple[str, bytes]],
    more: Callable[[], bytes | memoryview],
) -> bytes | memoryview:
    """Write the cache atomically; a cache that cannot be written is not an error.

    `key` is key_for(layers) taken before the files were read (a file edited
    meanwhile then makes this cache stale at once, never wrongly fresh). `header`
    holds builtin values only; it gains "key", "offsets" (id -> (start, length)
    after the header) and "size" (of all blobs). `blobs` are (id, bytes) in any
    encoding the reader's `decode` understands (pickled by default). `more()`
    gives the rest of the header, already marshalled (the search indexes, from a
    forked process); it is called once the rest is written, so whatever it waits
    for overlaps with the writing, and read() gives it back loaded, as
    header["more"]. Returns what more() gave.
    """
    import contextlib

    from painref.atomic import replacing

    offsets: dict[str, tuple[int, int]] = {}
    position = 0
    for ident, blob in blobs:
        offsets[ident] = (position, len(blob))
        position += len(blob)
    head = marshal.dumps({**header, "key": key, "offsets": offsets, "size": position})
    rest: bytes | memoryview | None = None
    with contextlib.suppress(OSError), replacing(path_for(layers)) as fh:  # unwritable: only costs speed
        fh.write(_LENGTH.pack(len(head)))
        fh.write(head)
        fh.writelines(blob for _ident, blob in blobs)
        rest = more()
        fh.write(_LENGTH.pack(len(rest)))
        fh.write(rest)
    return more() if rest is None else rest


def records_of(
    fh: IO[bytes], header: dict[str, Any], ids: list[str], decode: Callable[[str, bytes], T] | None = None
) -> Records[T]:
    """A lazy mapping over the given ids' records in an open cache file (header from read())."""
    base = header["base"]
    offsets = header["offsets"]
    return Records(fh, {i: (base + offsets[i][0], offsets[i][1]) for i in ids}, decode)
