"""Load, validate and cache the knowledge base.

Reading is strict: files must be UTF-8, plain YAML (safe loading, no tags, no
anchors or aliases), and every entry must match the schema in data/SCHEMA.md.
All problems in all files are collected and reported together, each naming the
file, the line, the entry and the field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, AnyStr

from painref.errors import DataError, Problem
from painref.model import (
    BLEEDING_RISKS,
    CATEGORIES,
    GUIDE_SECTIONS,
    MODALITIES,
    PURPOSES,
    REGIONS,
    ROLES,
    Condition,
    GuideSection,
    IcdCode,
    KnowledgeBase,
    Link,
    Note,
    Procedure,
    Source,
    Term,
)
from painref.paths import DATA_FILES, Layer
from painref.text import squash

if TYPE_CHECKING:
    from painref.workers import Forked

Then = Callable[[memoryview], bytes]

# file name -> top-level key; the first two are required in a data directory.
FILES = DATA_FILES
REQUIRED_FILES = ("procedures.yaml", "conditions.yaml")

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
SEED_ID = re.compile(r"^\d{3}_[0-9a-f]{16}$")
PLACEHOLDER = re.compile(r"^\s*(tbd|todo|tba|n/?a|\?+|-+|none|null|xxx+)\s*\.?$", re.IGNORECASE)
# The same, for any line of several texts joined by newlines (one search for a whole list).
PLACEHOLDER_LINE = re.compile(PLACEHOLDER.pattern, re.IGNORECASE | re.MULTILINE)
ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9AB](\.[0-9A-Z]{1,4})?$")

# A knowledge-base file larger than this is refused before parsing.
MAX_FILE_BYTES = 256 * 1024 * 1024
# Documents nested deeper than this are refused (the schema needs 4 levels).
MAX_DEPTH = 12


# ---------------------------------------------------------------- parsing


def read_bytes(path: Path) -> bytes:
    """A knowledge-base file's bytes, refusing an oversize or unreadable file."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DataError([Problem(str(path), f"file is {size} bytes; the limit is {MAX_FILE_BYTES}")])
        return path.read_bytes()
    except OSError as exc:
        raise DataError([Problem(str(path), f"cannot read file: {exc.strerror or exc}")]) from None


def decode(raw: bytes, file: str) -> str:
    """A file's text: UTF-8 without a byte-order mark; DataError (with the line) if it is not UTF-8."""
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataError([Problem(file, f"not valid UTF-8 (byte {exc.start})", line=line)]) from None


def _ascii_or_text(raw: bytes, file: str) -> bytes | str:
    """The bytes themselves when they are plain ASCII (parsed as they are, no copy), else the decoded text."""
    return raw if raw.isascii() else decode(raw, file)


def _text(data: bytes | str) -> str:
    return data.decode("ascii") if isinstance(data, bytes) else data


def parse_yaml(data: bytes | str, file: str) -> Any:
    """Parse plain YAML 1.2 safely: no tags that build objects, no aliases, no duplicate keys.

    yaml-rs (Rust) builds the data: at ten thousand entries it is over ten times
    faster than PyYAML's C loader, whose constructor runs in Python. It is called
    from one thread only: parsing files side by side overflowed a thread's stack. It never
    executes anything, refuses duplicate keys and unknown !! tags, and is told to
    replay no alias. PyYAML reads a file the strict, slow way (event by event) only
    where yaml-rs would be lenient or unsafe, and when yaml-rs refuses a file, to say
    exactly what is wrong and where (file, line, column, the offending line).

    `data` is a file's bytes (checked to be UTF-8 here) or its text. Plain ASCII
    bytes go to yaml-rs as they are: decoding a large file first costs time.
    """
    text = _ascii_or_text(data, file) if isinstance(data, bytes) else data
    # yaml-rs ignores a tag on a list or mapping, accepts an anchor nobody uses, and
    # overflows its stack on block nesting some thousands deep ("- - - ... x" in 40 kB).
    suspect = _tag_or_anchor(text) or _maybe_deep(text)
    if suspect:
        problem = _pyyaml_problem(_text(text), file)
        if problem is not None:
            raise DataError([problem])
    try:
        parsed = _rs_loads(text)
    except Exception as exc:  # yaml-rs raises YAMLDecodeError, ValueError or RecursionError
        found = None if suspect else _pyyaml_problem(_text(text), file)  # a suspect file was read above
        raise DataError([found or _fast_problem(_text(text), file, str(exc))]) from None
    if not suspect and not isinstance(parsed, (dict, type(None))):
        problem = _pyyaml_problem(_text(text), file)  # several documents come back as one list
        if problem is not None:
            raise DataError([problem])
    return parsed


def _rs_loads(text: bytes | str) -> Any:
    """yaml-rs on a text, or on bytes that are plain ASCII (it would replace invalid UTF-8 silently)."""
    import yaml_rs

    no_aliases = yaml_rs.AliasLimits(
        max_total_replayed_events=0, max_replay_stack_depth=0, max_alias_expansions_per_anchor=0
    )
    if isinstance(text, bytes):
        return yaml_rs.load(text, parse_datetime=False, alias_limits=no_aliases)
    return yaml_rs.loads(text, parse_datetime=False, alias_limits=no_aliases)


_FAST_ERROR = re.compile(r"at line (\d+), column (\d+)")


def _tag_or_anchor(text: bytes | str) -> bool:
    """Whether a "!tag" or "&anchor" may start a node: "!" or "&" after a space,
    bracket or comma and before a non-space; prose rarely has either. (str.find
    scans 40 MB in milliseconds, a regular expression in a fifth of a second.)"""
    if isinstance(text, bytes):
        return _marks_a_node(text, (b"!", b"&"), b" \t\r\n[{,")
    return _marks_a_node(text, ("!", "&"), " \t\r\n[{,")


def _marks_a_node(text: AnyStr, marks: tuple[AnyStr, AnyStr], before: AnyStr) -> bool:
    for mark in marks:
        i = text.find(mark)
        while i != -1:
            if (i == 0 or text[i - 1 : i] in before) and text[i + 1 : i + 2].strip():
                return True
            i = text.find(mark, i + 1)
    return False


# Block nesting deepens only with indentation or with indicators side by side at the
# start of a line ("- - x", "? - x", ": - x"); yaml-rs itself stops flow nesting
# ([[[...) at 255 levels. (One search from each newline: a fast scan of 40 MB.)
_DEEP_INDENT = "\n" + " " * 40
_SIDE_BY_SIDE = r"\n[ ]*+[-?:][ \t]++[-?:]"  # possessive: the same matches, found in half the time
_DEEP = (_DEEP_INDENT, re.compile(_SIDE_BY_SIDE), "\n")
_DEEP_BYTES = (_DEEP_INDENT.encode(), re.compile(_SIDE_BY_SIDE.encode()), b"\n")


def _maybe_deep(text: bytes | str) -> bool:
    """Whether block nesting might run deeper than the schema's few levels."""
    if isinstance(text, bytes):
        return _deep(text, *_DEEP_BYTES)
    return _deep(text, *_DEEP)


def _deep(text: AnyStr, indent: AnyStr, side_by_side: re.Pattern[AnyStr], newline: AnyStr) -> bool:
    return (
        indent in text
        or side_by_side.search(newline + text[:64]) is not None  # the first line
        or side_by_side.search(text) is not None
    )


def _fast_problem(text: str, file: str, fast_message: str) -> Problem:
    """yaml-rs's reason for refusing a document (used when PyYAML finds nothing wrong)."""
    at = _FAST_ERROR.search(fast_message)
    what = fast_message.strip().splitlines()[-1] if fast_message.strip() else "invalid YAML"
    if "alias" in what:
        what = "anchors and aliases (&name, *name) are not allowed"
    if at:
        line = int(at.group(1))
        return Problem(file, f"YAML syntax error (column {at.group(2)}): {what}{_quote(text, line)}", line=line)
    return Problem(file, f"invalid YAML: {what}")


def _quote(text: str, line: int) -> str:
    lines = text.splitlines()
    return f": {lines[line - 1].strip()[:80]!r}" if 0 < line <= len(lines) else ""


def _pyyaml_problem(text: str, file: str) -> Problem | None:
    """The first problem PyYAML (strict: no aliases, no duplicate keys) finds, with its line; None if none."""
    import yaml

    loader_cls = _strict_loader()
    try:
        depth = 0
        for event in yaml.parse(text, Loader=loader_cls):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return Problem(file, "anchors and aliases (&name, *name) are not allowed", line=_line(event))
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:  # libyaml's composer can crash on very deep flow nesting
                    return Problem(file, f"nested deeper than {MAX_DEPTH} levels", line=_line(event))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
        yaml.load(text, Loader=loader_cls)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and exc.context.startswith("expected"):
            what = f"{exc.context}, {exc.problem}"  # "expected a single document ..., but found another"
        if "could not determine a constructor" in what:
            what = "tags such as !!python/object are not allowed"
        at = f" (column {mark.column + 1})" if mark else ""
        quoted = _quote(text, line) if line is not None else ""
        return Problem(file, f"YAML syntax error{at}: {what}{quoted}", line=line)
    except yaml.YAMLError as exc:
        return Problem(file, f"invalid YAML: {exc}")
    except RecursionError:
        return Problem(file, "document is nested too deeply")
    return None


_STRICT: Any = None


def _strict_loader() -> Any:
    """PyYAML's C safe loader (the pure-Python one if libyaml is missing), refusing duplicate keys."""
    global _STRICT
    if _STRICT is None:
        import yaml

        base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class StrictLoader(base):  # type: ignore[misc]
            def construct_mapping(self, node: Any, deep: bool = False) -> Any:
                seen: set[Any] = set()
                for key_node, _value in node.value:
                    if not isinstance(key_node, yaml.ScalarNode):
                        continue  # a list or mapping as a key: the schema refuses it later
                    key = key_node.value
                    if key in seen:
                        raise yaml.constructor.ConstructorError(
                            None, None, f"duplicate key {key!r}", key_node.start_mark
                        )
                    seen.add(key)
                return super().construct_mapping(node, deep)

        _STRICT = StrictLoader
    return _STRICT


def _line(node: Any) -> int | None:
    mark = getattr(node, "start_mark", None)
    return int(mark.line) + 1 if mark is not None else None


def line_finder(text: str, top_key: str) -> Callable[[int | None, str | None], int | None]:
    """A function giving the 1-based line of an entry's field (or the entry, or the top key).

    The document is composed once, only when there is something to locate.
    """
    import yaml

    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        root = None

    def find(index: int | None, field: str | None) -> int | None:
        if not isinstance(root, yaml.MappingNode):
            return _line(root) if root is not None else None
        for key, value in root.value:
            if key.value != top_key:
                continue
            if index is None or not isinstance(value, yaml.SequenceNode) or index >= len(value.value):
                return _line(key)
            item = value.value[index]
            if field and isinstance(item, yaml.MappingNode):
                head = field.split(".")[0].split("[")[0]
                for fkey, _fvalue in item.value:
                    if fkey.value == head:
                        return _line(fkey)
            return _line(item)
        return 1

    return find


# ---------------------------------------------------------------- validation


class _Checker:
    """Reads one entry's fields, recording a problem for each missing or wrong one."""

    def __init__(self, file: str, top_key: str, index: int, raw: Any, problems: list[Problem]) -> None:
        self.file = file
        self.top_key = top_key
        self.index = index
        self.raw = raw if isinstance(raw, dict) else {}
        self.problems = problems
        ident = self.raw.get("id")
        self.entry = ident if isinstance(ident, str) and ident else f"#{index + 1}"
        self.paths: list[tuple[Problem, int, str | None]] = []

    def fail(self, field: str | None, message: str) -> None:
        problem = Problem(self.file, message, entry=self.entry, field=field)
        self.problems.append(problem)
        self.paths.append((problem, self.index, field))

    def _get(self, data: dict[str, Any], key: str, prefix: str) -> Any:
        if key not in data or data[key] is None:
            self.fail(prefix + key, "missing")
            return None
        return data[key]

    def text(self, key: str, data: dict[str, Any] | None = None, prefix: str = "") -> str:
        value = (self.raw if data is None else data).get(key)
        if type(value) is str:  # the common case, kept short: a build checks 200 000 of these
            value = value.strip()
            if value and not PLACEHOLDER.match(value):
                return value
        if value is None:
            self.fail(prefix + key, "missing")
            return ""
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.fail(prefix + key, f"expected text, found {_kind(value)}")
            return ""
        value = str(value).strip()
        if not value or PLACEHOLDER.match(value):
            self.fail(prefix + key, f"expected text, found {value!r}" if value else "empty")
            return ""
        return value

    def choice(self, key: str, allowed: tuple[str, ...], data: dict[str, Any] | None = None, prefix: str = "") -> str:
        value = self.text(key, data, prefix)
        if value and value not in allowed:
            self.fail(prefix + key, f"expected one of {', '.join(allowed)}; found {value!r}")
            return ""
        return value

    def texts(self, key: str, minimum: int = 1, optional: bool = False) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            if not optional:
                self.fail(key, "missing")
            return ()
        if not isinstance(value, list):
            self.fail(key, f"expected a list, found {_kind(value)}")
            return ()
        if all(type(item) is str for item in value):  # the common case, checked in one pass
            stripped = [item.strip() for item in value]
            if all(stripped) and not PLACEHOLDER_LINE.search("\n".join(stripped)):
                if len(value) < minimum:
                    self.fail(key, f"expected at least {minimum} item(s), found {len(value)}")
                return tuple(stripped)
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, bool) or not isinstance(item, (str, int, float)) or not str(item).strip():
                self.fail(f"{key}[{i}]", f"expected text, found {_kind(item)}")
            elif PLACEHOLDER.match(str(item)):
                self.fail(f"{key}[{i}]", f"placeholder {item!r}")
            else:
                out.append(str(item).strip())
        if len(out) < minimum and len(value) >= minimum:
            pass  # item errors already reported
        elif len(value) < minimum:
            self.fail(key, f"expected at least {minimum} item(s), found {len(value)}")
        return tuple(out)

    def ids(self, key: str, optional: bool = True) -> tuple[str, ...]:
        values = self.texts(key, minimum=0, optional=optional)
        for i, value in enumerate(values):
            if not SLUG.match(value):
                self.fail(f"{key}[{i}]", f"not an id (lowercase-slug): {value!r}")
        return values

    def mapping(self, key: str) -> dict[str, Any]:
        value = self._get(self.raw, key, "")
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(key, f"expected a mapping, found {_kind(value)}")
            return {}
        return value

    def sources(self) -> tuple[Source, ...]:
        value = self.raw.get("sources")
        if not isinstance(value, list) or not value:
            self.fail(
                "sources",
                "expected a non-empty list"
                if value is None or value == []
                else f"expected a list, found {_kind(value)}",
            )
            return ()
        out: list[Source] = []
        for i, item in enumerate(value):
            src = _cited(item)
            if isinstance(src, str):
                self.fail(f"sources[{i}]", src)
            else:
                out.append(src)
        return tuple(out)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"a boolean ({value})"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {value[:40]!r}"
    return f"{type(value).__name__} {value!r}"[:60]


_CITED: dict[Any, Source | str] = {}


def _cited(item: Any) -> Source | str:
    """_source, remembered: most entries cite the same few documents."""
    key: Any
    if isinstance(item, str):
        key = item
    elif isinstance(item, dict) and all(type(v) in (str, int) for v in item.values()):
        key = tuple(item.items())  # exact types only: 2018.0 and True must still be checked
    else:
        return _source(item)
    found = _CITED.get(key)
    if found is None:
        found = _source(item)
        if len(_CITED) < 10_000:
            _CITED[key] = found
    return found


def _source(item: Any) -> Source | str:
    """A Source, or the reason the item is not one."""
    if isinstance(item, str):
        if SEED_ID.match(item.strip()):
            return Source(seed=item.strip())
        return f"expected a seed document id (like 001_e91aa19b8059c247) or a full citation; found {item[:60]!r}"
    if isinstance(item, dict):
        missing = [k for k in ("title", "publisher", "year") if not item.get(k)]
        if not (item.get("doi") or item.get("url")):
            missing.append("doi or url")
        if missing:
            return f"citation lacks {', '.join(missing)}"
        year = item["year"]
        if isinstance(year, bool) or not isinstance(year, int) or not 1800 <= year <= 2100:
            return f"citation year must be a year, found {year!r}"
        extra = set(item) - {"title", "publisher", "year", "doi", "url"}
        if extra:
            return f"unknown citation field(s): {', '.join(sorted(map(str, extra)))}"
        return Source(
            title=str(item["title"]).strip(),
            publisher=str(item["publisher"]).strip(),
            year=year,
            doi=str(item["doi"]).strip() if item.get("doi") else None,
            url=str(item["url"]).strip() if item.get("url") else None,
        )
    return f"expected a seed id or a citation mapping, found {_kind(item)}"


PROCEDURE_FIELDS = {
    "id", "name", "aliases", "parent", "category", "purpose", "summary", "mechanism", "imaging",
    "anesthesia", "setting", "procedure_time", "onset", "relief", "recovery", "risks", "bleeding_risk",
    "prerequisites", "next_steps", "questions", "sources",
}  # fmt: skip
CONDITION_FIELDS = {
    "id", "name", "aliases", "region", "summary", "symptoms", "icd10", "conservative_care", "procedures",
    "questions", "sources",
}  # fmt: skip


def _unknown_fields(c: _Checker, allowed: set[str]) -> None:
    for key in c.raw:
        if key not in allowed:
            c.fail(str(key), "unknown field (see data/SCHEMA.md)")


def _identity(c: _Checker) -> tuple[str, str, tuple[str, ...]]:
    ident = c.text("id")
    if ident and not SLUG.match(ident):
        c.fail("id", f"not a lowercase slug: {ident!r}")
    return ident, c.text("name"), c.texts("aliases", minimum=0)


def _relief_weeks(c: _Checker, relief: dict[str, Any]) -> tuple[float, float | None] | None:
    if "weeks" not in relief:
        c.fail("relief.weeks", "missing (use null when no figure is known)")
        return None
    weeks = relief["weeks"]
    if weeks is None:
        return None
    if not isinstance(weeks, list) or len(weeks) != 2:
        c.fail("relief.weeks", f"expected [min, max] in weeks, found {_kind(weeks)}")
        return None
    low, high = weeks
    if isinstance(low, bool) or not isinstance(low, (int, float)) or low < 0:
        c.fail("relief.weeks", f"minimum must be a number of weeks >= 0, found {low!r}")
        return None
    if high is not None and (isinstance(high, bool) or not isinstance(high, (int, float)) or high < low):
        c.fail("relief.weeks", f"maximum must be null or a number >= the minimum, found {high!r}")
        return None
    return float(low), None if high is None else float(high)


def _procedure(c: _Checker) -> Procedure:
    _unknown_fields(c, PROCEDURE_FIELDS)
    ident, name, aliases = _identity(c)
    parent = c.raw.get("parent")
    if parent is not None and (not isinstance(parent, str) or not SLUG.match(parent)):
        c.fail("parent", f"expected an id or null, found {_kind(parent)}")
        parent = None
    mechanism = c.mapping("mechanism")
    imaging = c.mapping("imaging")
    relief = c.mapping("relief")
    bleeding = c.mapping("bleeding_risk")
    modalities = imaging.get("modalities") if imaging else None
    mods: tuple[str, ...] = ()
    if imaging:
        if not isinstance(modalities, list) or not modalities:
            c.fail("imaging.modalities", "expected a non-empty list")
        else:
            bad = [m for m in modalities if m not in MODALITIES]
            if bad:
                c.fail("imaging.modalities", f"expected items from {', '.join(MODALITIES)}; found {bad[0]!r}")
            mods = tuple(str(m) for m in modalities if m in MODALITIES)
    return Procedure(
        id=ident,
        name=name,
        aliases=aliases,
        parent=parent,
        category=c.choice("category", CATEGORIES),
        purpose=c.choice("purpose", PURPOSES),
        summary=c.text("summary"),
        agent=c.text("agent", mechanism, "mechanism.") if mechanism else "",
        target=c.text("target", mechanism, "mechanism.") if mechanism else "",
        modalities=mods,
        imaging_note=c.text("note", imaging, "imaging.") if imaging else "",
        anesthesia=c.text("anesthesia"),
        setting=c.text("setting"),
        procedure_time=c.text("procedure_time"),
        onset=c.text("onset"),
        relief_text=c.text("text", relief, "relief.") if relief else "",
        relief_weeks=_relief_weeks(c, relief) if relief else None,
        recovery=c.text("recovery"),
        risks=c.texts("risks"),
        bleeding_risk=c.choice("category", BLEEDING_RISKS, bleeding, "bleeding_risk.") if bleeding else "",
        bleeding_note=c.text("note", bleeding, "bleeding_risk.") if bleeding else "",
        prerequisites=c.ids("prerequisites"),
        next_steps=c.ids("next_steps"),
        questions=c.texts("questions", minimum=3),
        sources=c.sources(),
    )


def _condition(c: _Checker) -> Condition:
    _unknown_fields(c, CONDITION_FIELDS)
    ident, name, aliases = _identity(c)
    codes: list[IcdCode] = []
    raw_codes = c.raw.get("icd10")
    if not isinstance(raw_codes, list) or not raw_codes:
        c.fail("icd10", "expected a non-empty list of {code, description}")
    else:
        for i, item in enumerate(raw_codes):
            if not isinstance(item, dict) or not item.get("code") or not item.get("description"):
                c.fail(f"icd10[{i}]", "expected {code, description}")
                continue
            code = str(item["code"]).strip().upper()
            if not ICD10.match(code):
                c.fail(f"icd10[{i}]", f"not an ICD-10-CM code: {code!r}")
            codes.append(IcdCode(code, str(item["description"]).strip()))
    links: list[Link] = []
    raw_links = c.raw.get("procedures")
    if not isinstance(raw_links, list) or not raw_links:
        c.fail("procedures", "expected a non-empty list of {id, role}")
    else:
        for i, item in enumerate(raw_links):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                c.fail(f"procedures[{i}]", "expected {id, role}")
                continue
            role = item.get("role")
            if role not in ROLES:
                c.fail(f"procedures[{i}].role", f"expected one of {', '.join(ROLES)}; found {role!r}")
                continue
            links.append(Link(item["id"], role))
    return Condition(
        id=ident,
        name=name,
        aliases=aliases,
        region=c.choice("region", REGIONS),
        summary=c.text("summary"),
        symptoms=c.texts("symptoms"),
        icd10=tuple(codes),
        conservative_care=c.texts("conservative_care"),
        procedures=tuple(links),
        questions=c.texts("questions", minimum=3),
        sources=c.sources(),
    )


def _term(c: _Checker) -> Term:
    _unknown_fields(c, {"id", "term", "aliases", "definition", "sources"})
    ident = c.text("id")
    if ident and not SLUG.match(ident):
        c.fail("id", f"not a lowercase slug: {ident!r}")
    return Term(ident, c.text("term"), c.texts("aliases", minimum=0), c.text("definition"), c.sources())


def _section(c: _Checker) -> GuideSection:
    _unknown_fields(c, {"id", "title", "items", "sources"})
    return GuideSection(c.text("id"), c.text("title"), c.texts("items"), c.sources())


def _note(c: _Checker) -> Note:
    _unknown_fields(c, {"id", "text"})
    ident = c.text("id")
    if ident and not SLUG.match(ident):
        c.fail("id", f"not an id (lowercase-slug): {ident!r}")
    return Note(ident, c.text("text"))


BUILDERS: dict[str, Callable[[_Checker], Any]] = {
    "procedures": _procedure,
    "conditions": _condition,
    "terms": _term,
    "sections": _section,
    "notes": _note,
}


def _entries(data: Any, file: str, top_key: str, problems: list[Problem]) -> list[Any]:
    if data is None:
        problems.append(Problem(file, f"file is empty; expected a mapping with a '{top_key}:' list"))
        return []
    if not isinstance(data, dict):
        problems.append(Problem(file, f"expected a mapping with a '{top_key}:' list, found {_kind(data)}", line=1))
        return []
    extra = [k for k in data if k != top_key]
    if extra:
        problems.append(Problem(file, f"unknown top-level key {extra[0]!r}; expected only '{top_key}'"))
    entries = data.get(top_key)
    if entries is None:
        return []  # "procedures:" followed only by comments (a fresh template): no entries yet
    if not isinstance(entries, list):
        problems.append(Problem(file, f"'{top_key}' must be a list of entries, found {_kind(entries)}"))
        return []
    return entries


class _Source:
    """A parsed file and where each entry sits in it: to give later problems a line, and
    the cache each entry's place (entry_spans).

    `raw` is the file's bytes; a file read in two halves keeps no copy, only where
    its entries start (and reads itself again if a problem needs a line).
    """

    def __init__(
        self,
        file: str,
        top_key: str,
        positions: dict[str, int],
        raw: bytes | None = None,
        bounds: list[int] | None = None,
    ) -> None:
        self.file = file
        self.top_key = top_key
        self.positions = positions  # entry id -> its index in the file
        self.raw = raw
        self._bounds = bounds  # see bounds(), when known without `raw`
        self._find: Callable[[int | None, str | None], int | None] | None = None

    def line(self, entry: str | None, field: str | None) -> int | None:
        if entry not in self.positions:
            return None
        if self._find is None:
            raw = self.raw if self.raw is not None else read_bytes(Path(self.file))
            self._find = line_finder(decode(raw, self.file), self.top_key)
        return self._find(self.positions[entry], field)

    def bounds(self) -> list[int] | None:
        """Where each entry starts and, last, where the file ends (see entry_starts); None if unknown."""
        if self._bounds is not None or self.raw is None:
            return self._bounds
        starts = entry_starts(self.raw, self.top_key)
        return None if starts is None else [*starts, len(self.raw)]


def parse_file(
    path: Path, top_key: str, problems: list[Problem], sources: dict[str, _Source] | None = None
) -> list[Any]:
    """Parse and check one file's entries; problems (with lines) are appended.

    `sources`, when given, receives the file's text and entry positions so that
    cross-file problems found later can name a line too.
    """
    file = str(path)
    raw = read_bytes(path)
    raw_entries, records, own, paths = _check_text(raw, file, top_key)
    if sources is not None:
        positions = {
            r["id"].strip(): i
            for i, r in enumerate(raw_entries)
            if isinstance(r, dict) and isinstance(r.get("id"), str)
        }
        sources[file] = _Source(file, top_key, positions, raw=raw)
    if own:
        find = line_finder(decode(raw, file), top_key)
        lines = {id(p): find(i, f) for p, i, f in paths}
        for problem in own:
            line = lines.get(id(problem), problem.line)
            problems.append(
                Problem(problem.file, problem.message, line, problem.entry, problem.field)
                if line != problem.line
                else problem
            )
    return records


def _check_text(
    text: bytes | str, file: str, top_key: str
) -> tuple[list[Any], list[Any], list[Problem], list[tuple[Problem, int, str | None]]]:
    """Parse a file's bytes or text and check its entries: (raw entries, records, problems, where each is)."""
    data = parse_yaml(text, file)
    own: list[Problem] = []
    raw_entries = _entries(data, file, top_key, own)
    records: list[Any] = []
    paths: list[tuple[Problem, int, str | None]] = []
    for index, raw in enumerate(raw_entries):
        checker = _Checker(file, top_key, index, raw, own)
        if isinstance(raw, dict):
            records.append(BUILDERS[top_key](checker))
        else:
            checker.fail(None, f"expected a mapping (an entry), found {_kind(raw)}")
        paths.extend(checker.paths)
    return raw_entries, records, own, paths


# ---------------------------------------------------------------- large files, in two halves

# A file at least this large is parsed and checked in two halves side by side, one in a
# forked process (painref.workers), when two CPUs are available.
SPLIT_BYTES = 1 << 20
# This process keeps a little more than half: the other also has to pickle its records
# and send them over, and this one to unpickle them.
OWN_SHARE = 0.56
_BOM = b"\xef\xbb\xbf"
_BLANK_OR_COMMENT = rb"(?:[ \t]*(?:#[^\n]*)?\r?\n)*"


_HEAD = 1 << 16  # a file's first bytes, read to see whether it opens the usual way (_layout)
_PROBE = 1 << 16  # bytes read at a time while looking for where to cut a file


@dataclass(frozen=True, slots=True)
class Cut:
    """Where a file is cut in two: its header ends at `header`, its second half starts at `at`."""

    header: int
    at: int

    def first(self, fh: IO[bytes]) -> bytes:
        fh.seek(0)
        return fh.read(self.at)

    def second(self, fh: IO[bytes]) -> bytes:
        """The header and the second half: a file of the same kind."""
        fh.seek(0)
        head = fh.read(self.header)
        fh.seek(self.at)
        return head + fh.read()


def _layout(raw: bytes, top_key: str) -> tuple[int, bytes] | None:
    """Where the first entry starts and the entries' indentation, for a file that opens
    the usual way: comments or blank lines, the top key alone on its line, then a list
    of entries each starting "- " at one indentation. None for any other file.

    A line holding just that indentation and "- " always starts a new entry: block
    scalars, plain scalars spread over lines and nested lists must be indented further,
    and so must the lines of a quoted scalar or flow collection (yaml-rs refuses them
    otherwise). The callers check their pieces all the same.
    """
    header = re.match(
        b"(?:"
        + re.escape(_BOM)
        + b")?"  # a byte-order mark
        + _BLANK_OR_COMMENT
        + re.escape(top_key.encode())
        + rb":[ \t]*(?:#[^\n]*)?\r?\n"
        + _BLANK_OR_COMMENT
        + rb"( *)- ",
        raw,
    )
    if header is None:
        return None
    indent = header.group(1)
    return header.end() - len(indent) - 2, indent


def cut(fh: IO[bytes], top_key: str, share: float = 0.5) -> Cut | None:
    """Where to cut a file before the first top-level entry past `share` of it; None if nowhere.

    Only a file laid out the usual way (see _layout) is cut, and only its start and
    the stretch after the cut point are read. The second half gets the file's
    header, so it reads as a file of the same kind. A quoted scalar or flow
    collection left open across the cut leaves the first half unparseable, and the
    file is then read whole.
    """
    size = fh.seek(0, os.SEEK_END)
    fh.seek(0)
    layout = _layout(fh.read(_HEAD), top_key)
    if layout is None:
        return None
    first, indent = layout
    marker = b"\n" + indent + b"- "
    start = max(int(size * share), first + len(indent) + 2)  # where `window` starts in the file
    fh.seek(start)
    window = b""
    while chunk := fh.read(_PROBE):
        kept = window[max(0, len(window) - len(marker) + 1) :]  # a marker may straddle two reads
        start += len(window) - len(kept)
        window = kept + chunk
        found = window.find(marker)
        if found != -1:
            return Cut(first, start + found + 1)
    return None


def entry_starts(raw: bytes, top_key: str) -> list[int] | None:
    """Where each top-level entry starts (a byte offset), for a file laid out the usual way (see _layout)."""
    layout = _layout(raw, top_key)
    if layout is None:
        return None
    first, indent = layout
    marker = re.compile(re.escape(b"\n" + indent + b"- "))  # twice as fast as a loop of bytes.find
    return [first, *(found.start() + 1 for found in marker.finditer(raw, first))]


Halves = tuple[list[Any], list[int]]  # records, and where each starts in the file


Split = dict[int, tuple[list[Any], list[int], int]]  # index in files -> (records, entry starts, file size)


def _parse_split(files: list[tuple[Path, str]], then: Then | None = None) -> tuple[Split, Forked | None]:
    """Large files read in two halves, the second half of each in a forked process.

    Returns {index in files: (records, where each entry starts, file size)} for the
    files whose halves both came back without a single problem, read from the file
    as it was when the cut was chosen. Any problem, a file changed meanwhile, or no
    worker, and the file is read again whole (parse_file), so what is reported
    never depends on the cut. Each process reads only its own half. With `then`,
    the forked process is returned too, waiting for a request (workers.Forked).
    """
    import pickle

    from painref import workers

    if not workers.available():
        return {}, None
    plans: dict[int, tuple[Path, str, Cut, tuple[int, int]]] = {}  # index -> (path, key, cut, (size, mtime))
    for i, (path, key) in enumerate(files):
        try:
            with path.open("rb") as fh:
                st = os.fstat(fh.fileno())
                if not SPLIT_BYTES <= st.st_size <= MAX_FILE_BYTES:
                    continue
                where = cut(fh, key, OWN_SHARE)
        except OSError:
            continue  # reported when the file is read whole
        if where is not None:
            plans[i] = (path, key, where, (st.st_size, st.st_mtime_ns))
    if not plans:
        return {}, None

    def second_halves() -> bytes:
        done = {}
        for i, (path, key, where, stamp) in plans.items():
            half = _half(path, key, stamp, where.second)
            # Offsets in the half (after the header) -> offsets in the file.
            done[i] = None if half is None else (half[0], [s - where.header + where.at for s in half[1]])
        return pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL)

    child = workers.start(second_halves, then)
    if child is None:
        return {}, None
    try:
        firsts = {i: _half(path, key, stamp, where.first) for i, (path, key, where, stamp) in plans.items()}
    except BaseException:
        child.close()
        raise
    finally:
        sent = child.result()
    seconds: dict[int, Halves | None] = pickle.loads(sent) if sent is not None else {}
    done: Split = {}
    for i, (*_rest, stamp) in plans.items():
        first, second = firsts.get(i), seconds.get(i)
        if first is not None and second is not None:
            done[i] = (first[0] + second[0], first[1] + second[1], stamp[0])
    return done, (child if then is not None and sent is not None else None)


def _half(path: Path, top_key: str, stamp: tuple[int, int], part: Callable[[IO[bytes]], bytes]) -> Halves | None:
    """A half's records and where each starts in it; None at the first sign of a problem, or if the file changed."""
    try:
        with path.open("rb") as fh:
            raw = part(fh)
            st = os.fstat(fh.fileno())
    except OSError:
        return None
    if (st.st_size, st.st_mtime_ns) != stamp:
        return None
    try:
        _raw, records, own, _paths = _check_text(raw, str(path), top_key)
    except DataError:
        return None
    starts = entry_starts(raw, top_key)
    if own or starts is None:
        return None
    return records, starts


def parse_files(
    files: list[tuple[Path, str]], sources: dict[str, _Source] | None = None, then: Then | None = None
) -> tuple[list[tuple[list[Any], list[Problem], bool]], Forked | None]:
    """parse_file for each (path, top key): (records, problems, whether the file could not be read at all).

    Also the process that read halves of large files, if `then` was given (see _parse_split).
    """
    split, worker = _parse_split(files, then)
    out: list[tuple[list[Any], list[Problem], bool]] = []
    for i, (path, key) in enumerate(files):
        problems: list[Problem] = []
        if i in split:
            records, starts, size = split[i]
            if sources is not None:
                positions = {r.id: n for n, r in enumerate(records)}
                sources[str(path)] = _Source(str(path), key, positions, bounds=[*starts, size])
            out.append((records, problems, False))
            continue
        try:
            out.append((parse_file(path, key, problems, sources), problems, False))
        except DataError as exc:
            out.append(([], exc.problems, True))
    return out, worker


# ---------------------------------------------------------------- entries by their place in a file

Span = tuple[str, int, int]  # file, byte offset, length in bytes


def entry_spans(sources: dict[str, _Source]) -> dict[str, Span]:
    """Where each loaded procedure and condition sits in its file, in bytes.

    The cache stores these instead of the records: a later lookup reads and checks
    just its entries' bytes again (entry_from_bytes), and a rebuild writes no records.
    Only files laid out the usual way (see _layout) with exactly one entry marker
    per entry are covered; a later layer's entry replaces an earlier one's span,
    or removes it when its own file is not covered.
    """
    spans: dict[str, Span] = {}
    for file, source in sources.items():
        if source.top_key not in ("procedures", "conditions"):
            continue
        bounds = source.bounds()
        if bounds is None or len(bounds) != len(source.positions) + 1:
            for ident in source.positions:
                spans.pop(ident, None)
            continue
        for ident, n in source.positions.items():
            spans[ident] = (file, bounds[n], bounds[n + 1] - bounds[n])
    return spans


def entry_from_bytes(raw: bytes, file: str, top_key: str, ident: str) -> Procedure | Condition | None:
    """The record of one entry's bytes (from entry_spans) as the full load built it.

    None unless they are exactly one entry, with that id, read without a single
    problem: a caller then loads the files whole. Links derived from other entries
    (a procedure's variants and treats) are not in the text; the caller adds them.
    """
    try:
        text = _ascii_or_text(raw, file)
    except DataError:
        return None
    if top_key not in ("procedures", "conditions") or _tag_or_anchor(text) or _maybe_deep(text):
        return None
    try:
        data = _rs_loads(text)
    except Exception:
        return None
    if not (isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict)):
        return None
    problems: list[Problem] = []
    record = BUILDERS[top_key](_Checker(file, top_key, 0, data[0], problems))
    if problems or not isinstance(record, (Procedure, Condition)) or record.id != ident:
        return None
    return record


def load_uncached(data_dir: Path) -> KnowledgeBase:
    """Read, validate and cross-link one knowledge-base directory; raise DataError listing all problems."""
    return load_layers([Layer("data", data_dir, required=True)])


class Merged:
    """Entries of all layers by id (a later layer's entry replaces an earlier one), where
    each came from, and the problems found so far; not yet cross-linked (see link)."""

    def __init__(self, layers: list[Layer], sources: dict[str, _Source]) -> None:
        self.layers = layers
        self.sources = sources
        self.worker: Forked | None = None  # waiting for a request, if read_layers was given `then`
        self.problems: list[Problem] = []
        self.unreadable: set[str] = set()  # tables with a file that could not be parsed at all
        self.tables: dict[str, dict[str, Any]] = {key: {} for key in FILES.values()}
        self.file_of: dict[str, dict[str, str]] = {key: {} for key in FILES.values()}  # table -> id -> file
        self.origin: dict[str, str] = {}  # entry id -> layer name
        self.notes: dict[str, list[tuple[Note, str]]] = {}  # entry id -> (note, file)

    @property
    def procedures(self) -> dict[str, Procedure]:
        return self.tables["procedures"]

    @property
    def conditions(self) -> dict[str, Condition]:
        return self.tables["conditions"]

    @property
    def terms(self) -> dict[str, Term]:
        return self.tables["terms"]


def load_layers(layers: list[Layer], sources: dict[str, _Source] | None = None) -> KnowledgeBase:
    """Read every layer in order, merge them and cross-link the result; raise DataError listing all problems.

    `sources`, when given, receives every file's text and where its entries sit (for entry_spans).
    """
    return link(read_layers(layers, sources))


def read_layers(layers: list[Layer], sources: dict[str, _Source] | None = None, then: Then | None = None) -> Merged:
    """Read, check and merge every layer's files in order; problems are collected, not raised.

    With `then`, a process forked to read halves of large files stays, waiting for
    one more request (Merged.worker, workers.Forked); the caller must close it.
    """
    merged = Merged(layers, {} if sources is None else sources)
    plan: list[tuple[Layer, str, Path] | Problem] = []  # files to read, and missing ones, in order
    for layer in layers:
        if not layer.required and not layer.path.is_dir():
            continue  # an optional layer that does not exist adds nothing
        for name, key in FILES.items():
            path = layer.path / name
            if path.is_file():
                plan.append((layer, key, path))
            elif layer.required and name in REQUIRED_FILES:
                plan.append(Problem(str(path), "missing file"))
    jobs = [step for step in plan if not isinstance(step, Problem)]
    results, merged.worker = parse_files([(path, key) for _layer, key, path in jobs], merged.sources, then)
    parsed = iter(results)
    for step in plan:
        if isinstance(step, Problem):
            merged.problems.append(step)
            continue
        layer, key, path = step
        records, found, failed = next(parsed)
        merged.problems.extend(found)
        if failed:
            merged.unreadable.add(key)
        else:
            _merge(merged, layer, key, records, str(path), merged.problems)
    return merged


def link(merged: Merged) -> KnowledgeBase:
    """Cross-link what read_layers merged; raise DataError listing every problem found in all."""
    layers = merged.layers
    linked: list[Problem] = []
    kb = _link(merged, linked, where=":".join(str(layer.path) for layer in layers), unreadable=merged.unreadable)
    problems = list(merged.problems)
    for problem in linked:
        source = merged.sources.get(problem.file)
        line = source.line(problem.entry, problem.field) if source and problem.line is None else None
        problems.append(Problem(problem.file, problem.message, line, problem.entry, problem.field) if line else problem)
    if len(layers) > 1:
        names = {str(layer.path): layer.name for layer in layers}
        problems = [_in_layer(p, names) for p in problems]
    if problems:
        raise DataError(problems)
    return kb


def _in_layer(problem: Problem, names: dict[str, str]) -> Problem:
    layer = names.get(str(Path(problem.file).parent))
    if layer is None:
        return problem
    return Problem(problem.file, f"{problem.message} (layer {layer})", problem.line, problem.entry, problem.field)


def _merge(merged: Merged, layer: Layer, key: str, records: list[Any], file: str, problems: list[Problem]) -> None:
    seen_here: set[str] = set()
    for record in records:
        if not record.id:
            continue
        if record.id in seen_here:
            problems.append(Problem(file, "duplicate id", entry=record.id, field="id"))
            continue
        seen_here.add(record.id)
        if key == "notes":
            merged.notes.setdefault(record.id, []).append((Note(record.id, record.text, layer.name), file))
            continue
        if key in ("procedures", "conditions"):
            other = "conditions" if key == "procedures" else "procedures"
            if record.id in merged.tables[other]:
                kind = other[:-1]
                same_layer = merged.origin.get(record.id) == layer.name
                message = (
                    f"duplicate id: already a {kind}"
                    if same_layer
                    else f"id is a {kind} in an earlier layer; an entry cannot change kind"
                )
                problems.append(Problem(file, message, entry=record.id, field="id"))
                continue
            if record.id in merged.tables[key] and merged.origin.get(record.id) == layer.name:
                problems.append(Problem(file, "duplicate id", entry=record.id, field="id"))
                continue
            merged.origin[record.id] = layer.name
        merged.tables[key][record.id] = record
        merged.file_of[key][record.id] = file


def _link(merged: Merged, problems: list[Problem], where: str, unreadable: set[str]) -> KnowledgeBase:
    procedures: dict[str, Procedure] = merged.tables["procedures"]
    conditions: dict[str, Condition] = merged.tables["conditions"]

    # Names and aliases must point at one entry only.
    owner: dict[str, str] = {}
    procedure_files, condition_files = merged.file_of["procedures"], merged.file_of["conditions"]
    labelled: list[tuple[Procedure | Condition, str]] = [(p, procedure_files[p.id]) for p in procedures.values()]
    labelled += [(c, condition_files[c.id]) for c in conditions.values()]
    for entry, file in labelled:
        seen_here: set[str] = set()
        for label in (entry.name, *entry.aliases):
            key = squash(label)
            if not key:
                problems.append(
                    Problem(file, f"name or alias {label!r} has no letters or digits", entry=entry.id, field="aliases")
                )
                continue
            if key in seen_here:
                continue
            seen_here.add(key)
            if key in owner and owner[key] != entry.id:
                problems.append(
                    Problem(
                        file, f"name or alias {label!r} is also used by {owner[key]!r}", entry=entry.id, field="aliases"
                    )
                )
            owner.setdefault(key, entry.id)

    def check_procedure_ids(entry_id: str, field: str, ids: tuple[str, ...], file: str) -> None:
        if "procedures" in unreadable:
            return  # every reference would look broken; the parse error itself is what to fix
        for ref in ids:
            if ref in procedures:
                continue
            what = "is a condition, not a procedure" if ref in conditions else "unknown procedure id"
            problems.append(Problem(file, f"{what}: {ref!r}", entry=entry_id, field=field))

    for proc in procedures.values():
        proc_file = procedure_files[proc.id]
        if proc.parent is not None:
            check_procedure_ids(proc.id, "parent", (proc.parent,), proc_file)
        check_procedure_ids(proc.id, "prerequisites", proc.prerequisites, proc_file)
        check_procedure_ids(proc.id, "next_steps", proc.next_steps, proc_file)
        if proc.id in proc.prerequisites or proc.id in proc.next_steps:
            problems.append(Problem(proc_file, "an entry cannot come before or after itself", entry=proc.id))
    for proc in procedures.values():
        proc_file = procedure_files[proc.id]
        seen = {proc.id}
        node = proc
        while node.parent and node.parent in procedures:
            if node.parent in seen:
                problems.append(Problem(proc_file, "parent chain loops back on itself", entry=proc.id, field="parent"))
                break
            seen.add(node.parent)
            node = procedures[node.parent]

    treats: dict[str, list[Link]] = {pid: [] for pid in procedures}
    for cond in conditions.values():
        cond_file = condition_files[cond.id]
        check_procedure_ids(cond.id, "procedures", tuple(link.id for link in cond.procedures), cond_file)
        seen_links: set[str] = set()
        for link in cond.procedures:
            if link.id in seen_links:
                problems.append(
                    Problem(cond_file, f"procedure {link.id!r} linked twice", entry=cond.id, field="procedures")
                )
            seen_links.add(link.id)
            if link.id in treats:
                treats[link.id].append(Link(cond.id, link.role))

    variants: dict[str, list[str]] = {pid: [] for pid in procedures}
    for proc in procedures.values():
        if proc.parent in variants:
            variants[proc.parent].append(proc.id)
    for proc in procedures.values():
        proc.variants = tuple(variants[proc.id])
        proc.treats = tuple(treats[proc.id])

    terms: dict[str, Term] = merged.tables["terms"]
    guide: dict[str, GuideSection] = merged.tables["sections"]
    if guide:
        guide_file = merged.file_of["sections"][next(iter(guide))]
        for required in GUIDE_SECTIONS:
            if required not in guide:
                problems.append(Problem(guide_file, f"missing the {required!r} section"))
    # A note whose entry is gone (renamed upstream, say) is set aside with a warning rather
    # than stopping every lookup; `validate` still reports it as a problem.
    notes: dict[str, tuple[Note, ...]] = {}
    warnings: list[str] = []
    for entry_id, attached in merged.notes.items():
        if entry_id not in procedures and entry_id not in conditions:
            for file in sorted({file for _note, file in attached}):
                problem = Problem(file, f"note for an unknown entry, ignored: {entry_id!r}", entry=entry_id, field="id")
                warnings.append(str(problem))
            continue
        notes[entry_id] = tuple(note for note, _file in attached)
    return KnowledgeBase(
        procedures, conditions, terms, guide, where, origin=merged.origin, notes=notes, warnings=warnings
    )
