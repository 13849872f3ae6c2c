"""The knowledge base and its search indexes, loaded together and cached together."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from painref import cache
from painref.model import KnowledgeBase
from painref.paths import resolve_data_dir
from painref.search import Index


@dataclass(slots=True, repr=False, eq=False)
class Store:
    kb: KnowledgeBase
    entries: Index
    terms: Index


def build(data_dir: Path) -> Store:
    from painref.knowledge import load_uncached  # YAML and validation only on a cache miss

    kb = load_uncached(data_dir)
    return Store(kb, Index.for_entries(kb), Index.for_terms(kb))


GLOSSARY, GUIDE = "<glossary>", "<guide>"  # record keys that cannot be entry ids


def _save(data_dir: Path, store: Store) -> None:
    kb = store.kb
    header = {
        "entries": store.entries.state(),
        "terms": store.terms.state(),
        "procedure_ids": list(kb.procedures),
        "condition_ids": list(kb.conditions),
        "names": dict(kb.names),
        "where": kb.where,
    }
    records = {**kb.procedures, **kb.conditions, GLOSSARY: dict(kb.terms), GUIDE: dict(kb.guide)}
    cache.write(data_dir, header, records)


def open_store(data: str | os.PathLike[str] | None = None) -> Store:
    """The store for --data / $PAINREF_DATA / the built-in knowledge base, from cache when fresh."""
    data_dir = resolve_data_dir(data)
    if not cache.enabled():
        return build(data_dir)
    found = cache.read(data_dir)
    if found is None:
        store = build(data_dir)
        _save(data_dir, store)
        return store
    header, fh = found
    extras = cache.records_of(fh, header, [GLOSSARY, GUIDE])
    kb = KnowledgeBase(
        procedures=cache.records_of(fh, header, header["procedure_ids"]),
        conditions=cache.records_of(fh, header, header["condition_ids"]),
        terms=cache.Deferred(lambda: extras[GLOSSARY]),
        guide=cache.Deferred(lambda: extras[GUIDE]),
        where=header["where"],
        names=header["names"],
    )
    return Store(kb, Index.from_state(header["entries"]), Index.from_state(header["terms"]))
