"""The layers of the knowledge base, read in order and merged by id.

Without --data: the built-in knowledge base, then each directory of
$PAINREF_PATH (colon-separated, like PATH), then the user's own directory
($PAINREF_HOME, else the platform's user data directory). Each may hold any of
procedures.yaml, conditions.yaml, glossary.yaml, guide.yaml and notes.yaml.
With --data DIR (or $PAINREF_DATA) that one directory is the whole knowledge base.

Reading, checking and merging are separate steps: every file is read and
checked on its own (read_layer), then merge() lets a later layer's entry
replace an earlier one with the same id.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from painref.dirs import builtin_data_dir, existing_directory, is_dir, user_dir
from painref.errors import DataError, PainrefError, Problem
from painref.kb.model import Note

# The files a knowledge-base directory may hold, and the top-level key of each;
# the first two are required in a directory given with --data.
FILES = {
    "procedures.yaml": "procedures",
    "conditions.yaml": "conditions",
    "glossary.yaml": "terms",
    "guide.yaml": "sections",
    "notes.yaml": "notes",
    "sources.yaml": "seeds",
}
REQUIRED_FILES = ("procedures.yaml", "conditions.yaml")

DATA_HINT = "--data and PAINREF_DATA name a directory"


@dataclass(frozen=True, slots=True, repr=False)
class Layer:
    name: str
    path: Path
    required: bool = False  # must hold procedures.yaml and conditions.yaml


def resolve_layers(data: str | os.PathLike[str] | None) -> list[Layer]:
    """--data wins, then $PAINREF_DATA; else built-in, $PAINREF_PATH and the user's layer."""
    chosen = data if data not in (None, "") else os.environ.get("PAINREF_DATA") or None
    if chosen is not None:
        return [Layer("data", existing_directory(chosen, DATA_HINT), required=True)]
    layers = [Layer("built-in", builtin_data_dir(), required=True)]
    for number, entry in enumerate(filter(None, os.environ.get("PAINREF_PATH", "").split(os.pathsep)), 1):
        layers.append(Layer(f"PAINREF_PATH {number}", Path(entry).expanduser()))
    # No user layer without a home directory to hold it (HOME unset, a uid unknown to the system).
    with contextlib.suppress(PainrefError):
        layers.append(Layer("user", user_dir()))
    return layers


def layer_files(layers: list[Layer]) -> list[tuple[Layer, str, Path]]:
    """Every data file a layer may hold, in reading order: (layer, top key, path)."""
    return [(layer, key, layer.path / name) for layer in layers for name, key in FILES.items()]


@dataclass(slots=True, repr=False, eq=False)
class FileRead:
    """One file, read and checked: its records, its problems, and where its entries are."""

    layer: Layer
    key: str
    path: Path
    records: list[Any] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unreadable: bool = False  # could not be parsed at all
    entries: dict[str, Any] = field(default_factory=dict)  # entry id -> its raw mapping, for lines
    marks: Any = None  # yamlfile.Marks, once read

    def line(self, entry: str | None, field_name: str | None) -> int | None:
        raw = self.entries.get(entry or "")
        if raw is None or self.marks is None:
            return None
        found: int | None = self.marks.line(raw, field_name)
        return found


def read_file(layer: Layer, key: str, path: Path) -> FileRead:
    from painref.kb import yamlfile
    from painref.kb.schema import check_entries

    read = FileRead(layer, key, path)
    try:
        data, read.marks = yamlfile.read(path)
    except DataError as exc:
        read.problems.extend(exc.problems)
        read.unreadable = True
        return read
    read.records = check_entries(data, read.marks, str(path), key, read.problems)
    listed = data.get(key) if isinstance(data, dict) else None
    for raw in listed if isinstance(listed, list) else ():
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            read.entries.setdefault(raw["id"].strip(), raw)
    return read


def read_layers(layers: list[Layer]) -> tuple[list[FileRead], list[Problem]]:
    """Every present file of every layer, read and checked; and the required files that are missing."""
    reads: list[FileRead] = []
    missing: list[Problem] = []
    for layer in layers:
        if not layer.required and not is_dir(layer.path):
            continue  # an optional layer that does not exist adds nothing
        for name, key in FILES.items():
            path = layer.path / name
            if os.path.lexists(path):
                reads.append(read_file(layer, key, path))
            elif layer.required and name in REQUIRED_FILES:
                missing.append(Problem(str(path), "missing file"))
    return reads, missing


@dataclass(slots=True, repr=False, eq=False)
class Merged:
    """Entries of all layers by id, where each came from, and the problems found so far."""

    tables: dict[str, dict[str, Any]] = field(default_factory=lambda: {key: {} for key in FILES.values()})
    file_of: dict[str, str] = field(default_factory=dict)  # "table/id" -> the file it came from
    origin: dict[str, str] = field(default_factory=dict)  # entry id -> layer name
    notes: dict[str, list[tuple[Note, str]]] = field(default_factory=dict)  # entry id -> (note, file)
    problems: list[Problem] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)  # tables with a file that could not be parsed


def merge(reads: list[FileRead]) -> Merged:
    """Layers in order, a later layer's entry replacing an earlier one with the same id."""
    merged = Merged()
    for read in reads:
        merged.problems.extend(read.problems)
        if read.unreadable:
            merged.unreadable.add(read.key)
            continue
        file, key, layer = str(read.path), read.key, read.layer.name
        seen_here: set[str] = set()
        for record in read.records:
            if not record.id:
                continue
            if record.id in seen_here:
                merged.problems.append(Problem(file, "duplicate id", read.line(record.id, "id"), record.id, "id"))
                continue
            seen_here.add(record.id)
            if key == "notes":
                merged.notes.setdefault(record.id, []).append((Note(record.id, record.text, layer), file))
                continue
            if key in ("procedures", "conditions"):
                other = "conditions" if key == "procedures" else "procedures"
                if record.id in merged.tables[other]:
                    message = (
                        f"duplicate id: already a {other[:-1]}"
                        if merged.origin.get(record.id) == layer
                        else f"id is a {other[:-1]} in an earlier layer; an entry cannot change kind"
                    )
                    merged.problems.append(Problem(file, message, read.line(record.id, "id"), record.id, "id"))
                    continue
                merged.origin[record.id] = layer
            merged.tables[key][record.id] = record
            merged.file_of[f"{key}/{record.id}"] = file
    return merged
