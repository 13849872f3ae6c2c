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


def _build(data_dir: Path) -> Store:
    from painref.knowledge import load_uncached  # YAML and validation only on a cache miss

    kb = load_uncached(data_dir)
    return Store(kb, Index.for_entries(kb), Index.for_terms(kb))


def open_store(data: str | os.PathLike[str] | None = None) -> Store:
    """The store for --data / $PAINREF_DATA / the built-in knowledge base, from cache when fresh."""
    return cache.cached(resolve_data_dir(data), _build)
