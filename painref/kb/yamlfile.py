"""Read one knowledge-base file: bytes -> text -> plain data, strictly, with lines.

One loader for every file: PyYAML's event stream (its C parser where present),
built into plain values here, so that what is refused is decided in one place:

* no tags (``!!python/object`` and friends are refused, never run), no anchors
  or aliases (the "billion laughs" shape), no duplicate keys, one document;
* nesting deeper than MAX_DEPTH is refused before anything deeper is built;
* scalars follow YAML 1.2's core schema: ``yes``, ``no``, ``on``, ``off`` are
  words, not booleans; ``.nan`` and ``.inf`` are floats the schema refuses.

Every mapping and list remembers its line, and every mapping the line of each
key (Marks), so a problem found later names the line where it is.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from painref.errors import DataError, Problem

# A knowledge-base file larger than this is refused before it is read.
MAX_FILE_BYTES = 64 * 1024 * 1024
# Entries nest four levels deep (file -> list -> entry -> relief -> weeks); this leaves room.
MAX_DEPTH = 12

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_TRUE = re.compile(r"^(?:true|True|TRUE)$")
_FALSE = re.compile(r"^(?:false|False|FALSE)$")
_INT = re.compile(r"^[-+]?[0-9]+$")
_INT_OCT = re.compile(r"^0o[0-7]+$")
_INT_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
# Integers longer than this are not numbers anyone meant (and int() of a huge one is slow).
MAX_DIGITS = 18


@dataclass(slots=True, repr=False, eq=False)
class Marks:
    """Lines (1-based) of a loaded document's containers and of each mapping's keys."""

    of: dict[int, int] = field(default_factory=dict)  # id(list or dict) -> line
    keys: dict[tuple[int, str], int] = field(default_factory=dict)  # (id(dict), key) -> line

    def line(self, value: Any, field: str | None = None) -> int | None:
        """The line of a container, or of one of its keys: a field as problems name it
        ("relief.band", "risks[2]") is found by its first key; the container's line otherwise."""
        key = re.split(r"[.\[]", field, maxsplit=1)[0] if field else None
        if key is not None and (id(value), key) in self.keys:
            return self.keys[(id(value), key)]
        return self.of.get(id(value))


def read_text(path: Path) -> str:
    """A data file's text: a regular file, at most MAX_FILE_BYTES, UTF-8 (a BOM is dropped).

    Opened without blocking, so a FIFO or a device at the path is refused, not waited on.
    """
    file = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise DataError([Problem(file, f"cannot read file: {exc.strerror or exc}")]) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise DataError([Problem(file, "not a regular file")])
        if info.st_size > MAX_FILE_BYTES:
            raise DataError([Problem(file, f"file is {info.st_size} bytes; the limit is {MAX_FILE_BYTES}")])
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DataError([Problem(file, f"cannot read file: {exc.strerror or exc}")]) from None
    finally:
        os.close(fd)
    if len(raw) > MAX_FILE_BYTES:
        raise DataError([Problem(file, f"file is over {MAX_FILE_BYTES} bytes")])
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError([Problem(file, f"not valid UTF-8 (byte {exc.start})", line=line)]) from None


_WORDS = frozenset(("null", "Null", "NULL", "true", "True", "TRUE", "false", "False", "FALSE"))


def _scalar(value: str, plain: bool, file: str, line: int) -> Any:
    if not plain or (value[:1].isalpha() and value not in _WORDS):
        return value  # the common case: text (a number starts with a digit, a sign or a point)
    if _NULL.match(value):
        return None
    if _TRUE.match(value):
        return True
    if _FALSE.match(value):
        return False
    if _INT.match(value):
        if len(value.lstrip("+-")) > MAX_DIGITS:
            raise DataError([Problem(file, f"number too long: {value[:24]}…", line=line)])
        return int(value)
    if _INT_OCT.match(value) or _INT_HEX.match(value):
        if len(value) > MAX_DIGITS + 2:
            raise DataError([Problem(file, f"number too long: {value[:24]}…", line=line)])
        return int(value, 0)
    if _FLOAT.match(value):
        return float(value)
    if _INF.match(value):
        return float("-inf") if value.startswith("-") else float("inf")
    if _NAN.match(value):
        return float("nan")
    return value


def _quote(text: str, line: int) -> str:
    lines = text.splitlines()
    return f": {lines[line - 1].strip()[:80]!r}" if 0 < line <= len(lines) else ""


def _refused(event: Any) -> str | None:
    """Why a scalar, list or mapping event is refused (an anchor, a tag other than "!"), or None."""
    if event.anchor is not None:
        return "anchors and aliases (&name, *name) are not allowed"
    if event.tag is not None and event.tag != "!":
        return f"tags such as {event.tag} are not allowed"
    return None


def _line_of(event: Any) -> int:
    mark = event.start_mark
    return int(mark.line) + 1 if mark is not None else 0


def load(text: str, file: str) -> tuple[Any, Marks]:
    """Parse one YAML document strictly (see the module's docstring); DataError with the line otherwise."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    marks = Marks()
    stack: list[Any] = []  # open containers
    keys: list[Any] = []  # per open mapping: the key waiting for its value (or a sentinel)
    root: Any = None
    documents = 0
    waiting = object()

    def fail(message: str, event: Any) -> DataError:
        line = _line_of(event)
        return DataError([Problem(file, message + _quote(text, line), line=line)])

    def place(container: Any, event: Any) -> None:
        """A new list or mapping where it belongs (scalars are placed in the loop below)."""
        nonlocal root
        if not stack:
            root = container
        elif type(stack[-1]) is list:
            stack[-1].append(container)
        elif keys[-1] is waiting:
            raise fail("a list or mapping cannot be a key", event)
        else:
            stack[-1][keys[-1]] = container
            keys[-1] = waiting

    scalar, mapping, sequence = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    keyed = marks.keys
    parser: Any = None
    try:
        parser = loader(text)
        get = parser.get_event  # not yaml.parse: its generator costs a tenth of the load
        while (event := get()) is not None:
            kind = type(event)
            if kind is scalar:
                # The common case, placed here rather than in a call: a scalar in a list, or a mapping's key or value.
                if why := _refused(event):
                    raise fail(why, event)
                value = event.value
                plain = not event.style and event.implicit[0] and event.tag is None  # "! 123" is text (YAML 1.2)
                if plain and not (value[:1].isalpha() and value not in _WORDS):  # else text, as written
                    value = _scalar(value, True, file, event.start_mark.line + 1)
                if not stack:
                    root = value
                    continue
                parent = stack[-1]
                if type(parent) is list:
                    parent.append(value)
                elif keys[-1] is not waiting:  # a mapping's value
                    parent[keys[-1]] = value
                    keys[-1] = waiting
                else:  # a mapping's key
                    if value in parent:
                        raise fail(f"duplicate key {value!r}", event)
                    keys[-1] = value
                    keyed[(id(parent), str(value))] = event.start_mark.line + 1
            elif kind is mapping or kind is sequence:
                if why := _refused(event):
                    raise fail(why, event)
                if len(stack) >= MAX_DEPTH:
                    raise fail(f"nested deeper than {MAX_DEPTH} levels", event)
                container: Any = {} if kind is mapping else []
                marks.of[id(container)] = event.start_mark.line + 1
                place(container, event)
                stack.append(container)
                keys.append(waiting)
            elif kind in ends:
                stack.pop()
                keys.pop()
            elif kind is yaml.AliasEvent:
                raise fail("anchors and aliases (&name, *name) are not allowed", event)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise fail("several documents in one file; a knowledge-base file holds one", event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        at = f" (column {mark.column + 1})" if mark else ""
        quoted = _quote(text, where) if where is not None else ""
        raise DataError([Problem(file, f"YAML syntax error{at}: {what}{quoted}", line=where)]) from None
    except yaml.YAMLError as exc:
        raise DataError([Problem(file, f"invalid YAML: {str(exc).splitlines()[0] if str(exc) else 'error'}")]) from None
    finally:
        if parser is not None:
            parser.dispose()
    return root, marks


def read(path: Path) -> tuple[Any, Marks]:
    """A data file, read and parsed strictly (read_text, then load)."""
    return load(read_text(path), str(path))
