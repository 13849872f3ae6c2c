"""The knowledge base: read every layer's files, check them, merge the layers, link the entries.

    read (yamlfile) -> check (schema) -> merge layers (layers) -> link (links) -> KnowledgeBase

Nothing here knows about the terminal or the compiled store.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from painref.kb.layers import Layer
    from painref.kb.model import KnowledgeBase


def load(layers: list[Layer]) -> KnowledgeBase:
    """Every layer read, checked, merged and linked; DataError listing every problem found."""
    from painref.kb.layers import merge, read_layers
    from painref.kb.links import link

    reads, missing = read_layers(layers)
    merged = merge(reads)
    merged.problems[:0] = missing
    where = ":".join(str(layer.path) for layer in layers)
    return link(merged, reads, where)


def load_directory(path: Path) -> KnowledgeBase:
    """One knowledge-base directory on its own (as --data reads it)."""
    from painref.kb.layers import Layer

    return load([Layer("data", path, required=True)])
