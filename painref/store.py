"""The knowledge base and its search indexes, loaded together and cached together."""

from __future__ import annotations

import os
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


def build(layers: list[Layer]) -> Store:
    import gc

    from painref.knowledge import load_layers  # YAML and validation only on a cache miss

    # A build allocates millions of objects and frees few, so the cyclic collector
    # would rescan them over and over (a third of a cold build at 15 000 entries)
    # to find nothing. It is paused meanwhile, and what was built is frozen: long-lived,
    # never worth scanning again.
    paused = gc.isenabled()
    gc.disable()
    try:
        kb = load_layers(layers)
        return Store(kb, Index.for_entries(kb), Index.for_terms(kb))
    finally:
        gc.freeze()
        if paused:
            gc.enable()


GLOSSARY, GUIDE, NOTES = "<glossary>", "<guide>", "<notes>"  # record keys that cannot be entry ids


def _save(dirs: list[Path], store: Store) -> None:
    kb = store.kb
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
    records = {
        **kb.procedures,
        **kb.conditions,
        GLOSSARY: dict(kb.terms),
        GUIDE: dict(kb.guide),
        NOTES: dict(kb.notes),
    }
    cache.write(dirs, header, records)


def open_store(data: str | os.PathLike[str] | None = None) -> Store:
    """The store for --data / $PAINREF_DATA, or the built-in knowledge base with its layers; cached."""
    layers = resolve_layers(data)
    if not cache.enabled():
        return build(layers)
    dirs = [layer.path for layer in layers]
    found = cache.read(dirs)
    if found is None:
        store = build(layers)
        _save(dirs, store)
        return store
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
