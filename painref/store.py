"""The knowledge base and its search indexes, loaded together and cached together."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from painref import cache
from painref.model import KnowledgeBase
from painref.paths import Layer, resolve_layers
from painref.search import Index


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


GLOSSARY, GUIDE, NOTES = "<glossary>", "<guide>", "<notes>"  # record keys that cannot be entry ids
# From this many entries on, a rebuild indexes in a forked process while this one pickles.
FORK_ENTRIES = 2000


def build(layers: list[Layer], cache_to: list[Path] | None = None) -> Store:
    """Load, validate and index the knowledge base; with `cache_to`, also write its cache.

    Writing the cache means pickling every record. With many entries and two CPUs
    the indexes are built meanwhile in a forked process (painref.workers), which
    hands them back as marshal bytes.
    """
    import marshal

    from painref import workers
    from painref.knowledge import load_layers  # YAML and validation only on a cache miss

    with _collector_paused():
        kb = load_layers(layers)
        if cache_to is None:
            return Store(kb, *_indexes(kb))
        child = None
        if len(kb.procedures) + len(kb.conditions) >= FORK_ENTRIES:
            child = workers.start(lambda: marshal.dumps([index.state() for index in _indexes(kb)]))
        try:
            extras = {GLOSSARY: dict(kb.terms), GUIDE: dict(kb.guide), NOTES: dict(kb.notes)}
            blobs = cache.pickled({**kb.procedures, **kb.conditions, **extras})
        finally:
            sent = child.result() if child is not None else None
        indexes = [Index.from_state(state) for state in marshal.loads(sent)] if sent is not None else _indexes(kb)
        store = Store(kb, *indexes)
    header = {
        "entries": store.entries.state(),
        "terms": store.terms.state(),
        "procedure_ids": list(kb.procedures),
        "condition_ids": list(kb.conditions),
        "names": dict(kb.names),
        "origin": dict(kb.origin),
        "warnings": list(kb.warnings),
        "where": kb.where,
    }
    cache.write(cache_to, header, blobs)
    return store


def _indexes(kb: KnowledgeBase) -> tuple[Index, Index]:
    return Index.for_entries(kb), Index.for_terms(kb)


def open_store(data: str | os.PathLike[str] | None = None) -> Store:
    """The store for --data / $PAINREF_DATA, or the built-in knowledge base with its layers; cached."""
    layers = resolve_layers(data)
    if not cache.enabled():
        return build(layers)
    dirs = [layer.path for layer in layers]
    found = cache.read(dirs)
    if found is None:
        return build(layers, cache_to=dirs)
    header, fh = found
    extras = cache.records_of(fh, header, [GLOSSARY, GUIDE, NOTES])
    kb = KnowledgeBase(
        procedures=cache.records_of(fh, header, header["procedure_ids"]),
        conditions=cache.records_of(fh, header, header["condition_ids"]),
        terms=cache.Deferred(lambda: extras[GLOSSARY]),
        guide=cache.Deferred(lambda: extras[GUIDE]),
        where=header["where"],
        names=header["names"],
        origin=header["origin"],
        warnings=header["warnings"],
        notes=cache.Deferred(lambda: extras[NOTES]),
    )
    return Store(kb, Index.from_state(header["entries"]), Index.from_state(header["terms"]))
