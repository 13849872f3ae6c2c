"""The knowledge base: read every layer's files, check them, merge the layers, link the entries.

    read (yamlfile) -> check (schema) -> merge layers (layers) -> link (links) -> KnowledgeBase

Nothing here knows about the terminal or the compiled store.
"""

from __future__ import annotations

from painref.errors import DataError
from painref.kb.layers import Layer, merge, read_layers
from painref.kb.links import link
from painref.kb.model import KnowledgeBase


def load(layers: list[Layer]) -> KnowledgeBase:
    """Every layer read, checked, merged and linked; DataError listing every problem found."""
    reads, missing = read_layers(layers)
    merged = merge(reads)
    merged.problems[:0] = missing
    where = ":".join(str(layer.path) for layer in layers)
    return link(merged, reads, where)


__all__ = ["DataError", "KnowledgeBase", "Layer", "load"]
