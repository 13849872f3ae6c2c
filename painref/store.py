"""The knowledge base and its search indexes, loaded together and cached together."""

from __future__ import annotations

import marshal
import os
import pickle
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast

from painref import cache
from painref.errors import PainrefError
from painref.model import Condition, KnowledgeBase, Link, Procedure
from painref.paths import Layer, resolve_layers
from painref.search import Entries, Index, entry_rows, term_rows

if TYPE_CHECKING:
    from painref.knowledge import Span


@dataclass(slots=True, repr=False, eq=False)
class Store:
    kb: KnowledgeBase
    entries: Index
    terms: Index


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A build allocates millions of objects and frees few, so the cyclic collector
    would rescan them over and over (a third of a cold build at 15 000 entries) to
    find nothing. It is paused meanwhile, and what was built is frozen: long-lived,
    never worth scanning again."""
    import gc

    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if paused:
            gc.enable()


R = TypeVar("R")
GLOSSARY, GUIDE, NOTES = "<glossary>", "<guide>", "<notes>"  # record keys that cannot be entry ids
# From this many entries on, a rebuild is made for speed: the indexes are built meanwhile
# in a forked process, and entries are cached as their place in their data files. Below
# it, copies are cheap to write and a lookup reads them without importing a YAML parser.
LARGE_ENTRIES = 2000
# A cached entry stored as its place in a data file (see _stored) starts with this byte; a pickle never does.
SPAN = b"S"


def build(
    layers: list[Layer], cache_to: list[Path] | None = None, meanwhile: Callable[[], object] | None = None
) -> Store:
    """Load, validate and index the knowledge base; with `cache_to`, also write its cache.

    The cache holds a copy (pickle) of each record; for a large knowledge base
    (LARGE_ENTRIES), each procedure and condition is held as its place in its data
    file instead where the file allows (knowledge.entry_spans), so the rebuild
    writes no copies, and with two CPUs the indexes are built meanwhile in another
    process (painref.workers): the one that read the second halves of the large
    files if there is one, else a forked one. It gets the names to index as
    marshal bytes and hands the indexes back the same way; they are written to the
    cache as they came. `meanwhile` is run before waiting for them (a caller's own
    imports, say).
    """
    from painref import workers
    from painref.knowledge import entry_spans, link, read_layers  # YAML and validation only on a cache miss

    key = cache.key_for(cache_to) if cache_to is not None else None
    with _collector_paused():
        merged = read_layers(layers, {}, then=None if cache_to is None else _indexed)
        worker = merged.worker
        try:
            if cache_to is None or key is None:
                kb = link(merged)
                return Store(kb, *_indexes(kb))
            large = len(merged.procedures) + len(merged.conditions) >= LARGE_ENTRIES
            child = None
            if large and not merged.problems:
                # The indexes need no links: built meanwhile from the merged entries' names.
                rows = marshal.dumps([entry_rows(merged), term_rows(merged)])
                child = worker if worker is not None and worker.send(rows) else workers.start(lambda: _indexed(rows))
            built: list[tuple[Index, Index]] = []

            def indexes() -> bytes | memoryview:
                if meanwhile is not None:
                    meanwhile()
                sent = child.result() if child is not None else None
                if sent is not None:
                    return sent
                built.append(_indexes(kb))
                return marshal.dumps([index.state() for index in built[0]])

            try:
                kb = link(merged)
                files, blobs = _stored(kb, entry_spans(merged.sources) if large else {}, cache.file_stats(key))
                merged.sources.clear()  # the files' bytes: freed now, while the indexes are still being built
                for name, extra in ((GLOSSARY, kb.terms), (GUIDE, kb.guide), (NOTES, kb.notes)):
                    blobs.append((name, cache.pickled(dict(extra))))
                header = {
                    "procedure_ids": list(kb.procedures),
                    "condition_ids": list(kb.conditions),
                    "names": dict(kb.names),
                    "origin": dict(kb.origin),
                    "warnings": list(kb.warnings),
                    "where": kb.where,
                    "files": files,
                }
                sent = cache.write(cache_to, key, header, blobs, more=indexes)
            finally:
                if child is not None:
                    child.close()  # lets it go if linking failed (nothing to do once its result was taken)
        finally:
            if worker is not None:
                worker.close()
        if built:
            return Store(kb, *built[0])
        entries, terms = marshal.loads(sent)
        return Store(kb, Index.from_state(entries), Index.from_state(terms))


def _indexed(rows: memoryview | bytes) -> bytes:
    """The search indexes of marshalled (entry rows, term rows), marshalled (run in another process)."""
    return marshal.dumps([Index(part).state() for part in marshal.loads(rows)])


def _stored(
    kb: KnowledgeBase, spans: dict[str, Span], stats: dict[str, tuple[int, int]]
) -> tuple[list[tuple[str, int, int]], list[tuple[str, bytes]]]:
    """How each procedure and condition is cached: (data files referred to, (id, blob) per entry).

    An entry with a span is stored as SPAN + marshal((file number, offset, length))
    and, for a procedure, its derived links (variants, treats); any other is pickled.
    """
    files: list[tuple[str, int, int]] = []  # path, size, mtime_ns as in the cache key
    numbers: dict[str, int] = {}
    blobs: list[tuple[str, bytes]] = []
    entries: list[Procedure | Condition] = [*kb.procedures.values(), *kb.conditions.values()]
    for entry in entries:
        span = spans.get(entry.id)
        stat = stats.get(os.path.normpath(span[0])) if span is not None else None
        if span is None or stat is None:
            blobs.append((entry.id, cache.pickled(entry)))
            continue
        file, offset, length = span
        number = numbers.get(file)
        if number is None:
            number = numbers[file] = len(files)
            files.append((file, *stat))
        place: tuple[Any, ...] = (number, offset, length)
        if isinstance(entry, Procedure):
            place += (entry.variants, [(link.id, link.role) for link in entry.treats])
        blobs.append((entry.id, SPAN + marshal.dumps(place)))
    return files, blobs


class _Reader:
    """Turns a cached procedure or condition back into its record: unpickled, or read
    again from its place in its data file and checked as the full load checks it.

    A data file is used only while its size and modification time are those the
    cache was built from. If a file changed, or an entry's text is not exactly that
    entry without a problem, the whole knowledge base is loaded the slow way (once)
    and the record taken from it: never a wrong record.
    """

    def __init__(self, files: list[tuple[str, int, int]], layers: list[Layer]) -> None:
        self._files = files
        self._layers = layers
        self._handles: dict[int, IO[bytes] | None] = {}
        self._whole: KnowledgeBase | None = None

    def procedure(self, ident: str, blob: bytes) -> Procedure:
        if not blob.startswith(SPAN):
            return cast(Procedure, pickle.loads(blob))
        number, offset, length, variants, treats = marshal.loads(blob[len(SPAN) :])
        record = self._read(ident, number, offset, length, "procedures")
        if not isinstance(record, Procedure):
            return self._whole_record(self._full().procedures, ident)
        record.variants = tuple(variants)
        record.treats = tuple(Link(cond, role) for cond, role in treats)
        return record

    def condition(self, ident: str, blob: bytes) -> Condition:
        if not blob.startswith(SPAN):
            return cast(Condition, pickle.loads(blob))
        number, offset, length = marshal.loads(blob[len(SPAN) :])
        record = self._read(ident, number, offset, length, "conditions")
        return record if isinstance(record, Condition) else self._whole_record(self._full().conditions, ident)

    def _read(self, ident: str, number: int, offset: int, length: int, top_key: str) -> Procedure | Condition | None:
        from painref.knowledge import entry_from_bytes

        fh = self._handle(number)
        if fh is None:
            return None
        fh.seek(offset)
        return entry_from_bytes(fh.read(length), self._files[number][0], top_key, ident)

    def _handle(self, number: int) -> IO[bytes] | None:
        if number not in self._handles:
            path, size, mtime = self._files[number]
            fh: IO[bytes] | None
            try:
                fh = open(path, "rb")  # noqa: SIM115 (kept open while the store is used)
            except OSError:
                fh = None
            if fh is not None:
                st = os.fstat(fh.fileno())
                if (st.st_size, st.st_mtime_ns) != (size, mtime):
                    fh.close()
                    fh = None
            self._handles[number] = fh
        return self._handles[number]

    @staticmethod
    def _whole_record(table: Mapping[str, R], ident: str) -> R:
        found = table.get(ident)
        if found is None:  # the files changed under a running command and the entry went
            raise PainrefError(
                f"the knowledge base changed while painref was reading it ({ident!r} is gone)",
                hint="run the command again",
            )
        return found

    def _full(self) -> KnowledgeBase:
        if self._whole is None:
            self._whole = build(self._layers).kb
        return self._whole


def _indexes(kb: Entries) -> tuple[Index, Index]:
    return Index.for_entries(kb), Index.for_terms(kb)


def open_store(data: str | os.PathLike[str] | None = None, meanwhile: Callable[[], object] | None = None) -> Store:
    """The store for --data / $PAINREF_DATA, or the built-in knowledge base with its layers; cached.

    `meanwhile`: see build.
    """
    layers = resolve_layers(data)
    if not cache.enabled():
        return build(layers)
    dirs = [layer.path for layer in layers]
    found = cache.read(dirs)
    if found is None:
        return build(layers, cache_to=dirs, meanwhile=meanwhile)
    header, fh = found
    extras: cache.Records[Any] = cache.records_of(fh, header, [GLOSSARY, GUIDE, NOTES])
    reader = _Reader(header["files"], layers)
    kb = KnowledgeBase(
        procedures=cache.records_of(fh, header, header["procedure_ids"], reader.procedure),
        conditions=cache.records_of(fh, header, header["condition_ids"], reader.condition),
        terms=cache.Deferred(lambda: extras[GLOSSARY]),
        guide=cache.Deferred(lambda: extras[GUIDE]),
        where=header["where"],
        names=header["names"],
        origin=header["origin"],
        warnings=header["warnings"],
        notes=cache.Deferred(lambda: extras[NOTES]),
    )
    entries, terms = header["more"]
    return Store(kb, Index.from_state(entries), Index.from_state(terms))
