"""Check one file's entries against the schema (data/SCHEMA.md) and build their records.

Every problem is collected, not raised, each with the file, the line, the
entry and the field; nothing here reads files or knows about layers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from painref.errors import Problem
from painref.kb.model import (
    BLEEDING_RISKS,
    CATEGORIES,
    COURSES,
    MODALITIES,
    PURPOSES,
    REGIONS,
    RELIEF_BANDS,
    ROLES,
    SEED_NUMBER,
    Condition,
    GuideSection,
    IcdCode,
    Link,
    Note,
    Procedure,
    Seed,
    Source,
    Term,
    brackets,
    reads_as_marker,
)
from painref.kb.yamlfile import Marks

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")  # used with fullmatch: no trailing newline slips through
SEED_ID = re.compile(r"\d{3}_[0-9a-f]{16}")
PLACEHOLDER = re.compile(r"^\s*(tbd|todo|tba|n/?a|\?+|-+|none|null|xxx+)\s*\.?$", re.IGNORECASE)
CITE_KEY = re.compile(r"[^\s();,][^();,\n]{0,38}[^\s();,]|[^\s();,]")
ICD10 = re.compile(r"[A-TV-Z][0-9][0-9AB](\.[0-9A-Z]{1,4})?")


def is_slug(value: str) -> bool:
    return SLUG.fullmatch(value) is not None


class _Checker:
    """Reads one entry's fields, recording a problem for each missing or wrong one."""

    def __init__(self, file: str, index: int, raw: Any, marks: Marks, problems: list[Problem]) -> None:
        self.file = file
        self.raw = raw if isinstance(raw, dict) else {}
        self.marks = marks
        self.problems = problems
        ident = self.raw.get("id")
        self.entry = ident.strip() if isinstance(ident, str) and ident.strip() else f"#{index + 1}"
        self.line = marks.line(raw)

    def fail(self, field: str | None, message: str) -> None:
        line = self.marks.line(self.raw, field) or self.line
        self.problems.append(Problem(self.file, message, line=line, entry=self.entry, field=field))

    def _get(self, data: dict[str, Any], key: str, prefix: str) -> Any:
        if key not in data or data[key] is None:
            self.fail(prefix + key, "missing")
            return None
        return data[key]

    def text(self, key: str, data: dict[str, Any] | None = None, prefix: str = "") -> str:
        value = (self.raw if data is None else data).get(key)
        if value is None:
            self.fail(prefix + key, "missing")
            return ""
        found = _text_or_reason(value)
        if found[1]:
            self.fail(prefix + key, found[1])
        return found[0]

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
        out: list[str] = []
        for i, item in enumerate(value):
            text, reason = _text_or_reason(item)
            if reason:
                self.fail(f"{key}[{i}]", reason)
            else:
                out.append(text)
        if len(value) < minimum:
            self.fail(key, f"expected at least {minimum} item(s), found {len(value)}")
        return tuple(out)

    def ids(self, key: str, optional: bool = True) -> tuple[str, ...]:
        values = self.texts(key, minimum=0, optional=optional)
        for i, value in enumerate(values):
            if not is_slug(value):
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
            src = _source(item)
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


_INF = float("inf")


def _text_or_reason(value: Any) -> tuple[str, str]:
    """(the text, "") or ("", why it is not text): a number counts as text, a list or a placeholder does not."""
    if isinstance(value, str):  # the common case first
        text = value.strip()
    elif isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or abs(value) == _INF:
        return "", f"expected text, found {_kind(value)}"
    else:
        text = str(value).strip()
    if not text:
        return "", "empty"
    if PLACEHOLDER.match(text):
        return "", f"placeholder {text!r}"
    return text, ""


def _source(item: Any) -> Source | str:
    """A Source, or the reason the item is not one."""
    if isinstance(item, str):
        if SEED_ID.fullmatch(item.strip()):
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
        extra = set(item) - {"title", "publisher", "year", "doi", "url", "cite", "quotes"}
        if extra:
            return f"unknown citation field(s): {', '.join(sorted(map(str, extra)))}"
        cite, why = _text_or_reason(item.get("cite")) if "cite" in item else ("", "")
        if why or (cite and not CITE_KEY.fullmatch(cite)):
            return (
                f"cite must be a short marker such as 'Cohen 2020' (no brackets, commas or semicolons): {why or cite!r}"
            )
        quotes = item.get("quotes", [])
        texts = [_text_or_reason(q) for q in quotes] if isinstance(quotes, list) else [("", "expected a list")]
        if (not quotes and "quotes" in item) or any(reason for _t, reason in texts):
            return "quotes must be a non-empty list of the source's own words"
        return Source(
            title=str(item["title"]).strip(),
            publisher=str(item["publisher"]).strip(),
            year=year,
            doi=str(item["doi"]).strip() if item.get("doi") else None,
            url=str(item["url"]).strip() if item.get("url") else None,
            cite=cite or None,
            quotes=tuple(t for t, _r in texts),
        )
    return f"expected a seed id or a citation mapping, found {_kind(item)}"


PROCEDURE_FIELDS = {
    "id", "name", "aliases", "lay_terms", "parent", "category", "purpose", "summary", "mechanism", "imaging",
    "anesthesia", "setting", "procedure_time", "onset", "relief", "recovery", "risks", "bleeding_risk",
    "prerequisites", "next_steps", "questions", "sources",
}  # fmt: skip
CONDITION_FIELDS = {
    "id", "name", "aliases", "lay_terms", "course", "red_flag", "region", "summary", "symptoms", "diagnosis",
    "icd10", "conservative_care", "procedures", "questions", "sources",
}  # fmt: skip


def _unknown_fields(c: _Checker, allowed: set[str]) -> None:
    for key in c.raw:
        if key not in allowed:
            c.fail(str(key), "unknown field (see data/SCHEMA.md)")


def _identity(c: _Checker) -> tuple[str, str, tuple[str, ...]]:
    ident = c.text("id")
    if ident and not is_slug(ident):
        c.fail("id", f"not a lowercase slug: {ident!r}")
    return ident, c.text("name"), c.texts("aliases", minimum=0)


def _relief_band(c: _Checker, relief: dict[str, Any]) -> str:
    if "weeks" in relief:
        c.fail("relief.weeks", "no longer used: relief is a band (relief.band), its figures in relief.text")
    unknown = sorted(str(k) for k in relief if k not in ("text", "band", "weeks"))
    if unknown:
        c.fail(f"relief.{unknown[0]}", "unknown field (relief has text and band)")
    return c.choice("band", RELIEF_BANDS, relief, "relief.")


def _procedure(c: _Checker) -> Procedure:
    _unknown_fields(c, PROCEDURE_FIELDS)
    ident, name, aliases = _identity(c)
    parent = c.raw.get("parent")
    if parent is not None and (not isinstance(parent, str) or not is_slug(parent)):
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
        relief_band=_relief_band(c, relief) if relief else "",
        recovery=c.text("recovery"),
        risks=c.texts("risks"),
        bleeding_risk=c.choice("category", BLEEDING_RISKS, bleeding, "bleeding_risk.") if bleeding else "",
        bleeding_note=c.text("note", bleeding, "bleeding_risk.") if bleeding else "",
        prerequisites=c.ids("prerequisites"),
        next_steps=c.ids("next_steps"),
        questions=c.texts("questions", minimum=3),
        sources=c.sources(),
        lay_terms=c.texts("lay_terms", optional=True),
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
            if not ICD10.fullmatch(code):
                c.fail(f"icd10[{i}]", f"not an ICD-10-CM code: {code!r}")
            codes.append(IcdCode(code, str(item["description"]).strip()))
    links: list[Link] = []
    raw_links = c.raw.get("procedures")
    red_flag = c.raw.get("red_flag", False)
    if not isinstance(red_flag, bool):
        c.fail("red_flag", f"expected true or false, found {_kind(red_flag)}")
        red_flag = False
    if red_flag and raw_links == []:
        pass  # a red flag sends the patient elsewhere: it may link no procedure
    elif not isinstance(raw_links, list) or not raw_links:
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
        diagnosis=c.texts("diagnosis", optional=True),
        icd10=tuple(codes),
        conservative_care=c.texts("conservative_care"),
        procedures=tuple(links),
        questions=c.texts("questions", minimum=3),
        sources=c.sources(),
        lay_terms=c.texts("lay_terms", optional=True),
        course=c.choice("course", COURSES) if "course" in c.raw else "chronic",
        red_flag=red_flag,
    )


def _term(c: _Checker) -> Term:
    _unknown_fields(c, {"id", "term", "aliases", "definition", "sources"})
    ident = c.text("id")
    if ident and not is_slug(ident):
        c.fail("id", f"not a lowercase slug: {ident!r}")
    return Term(ident, c.text("term"), c.texts("aliases", minimum=0), c.text("definition"), c.sources())


def _section(c: _Checker) -> GuideSection:
    _unknown_fields(c, {"id", "title", "items", "sources"})
    return GuideSection(c.text("id"), c.text("title"), c.texts("items"), c.sources())


def _note(c: _Checker) -> Note:
    _unknown_fields(c, {"id", "text"})
    ident = c.text("id")
    if ident and not is_slug(ident):
        c.fail("id", f"not an id (lowercase-slug): {ident!r}")
    return Note(ident, c.text("text"))


def _seed(c: _Checker) -> Seed:
    _unknown_fields(c, {"id", "short", "publisher", "title", "about"})
    ident = c.text("id")
    if ident and not SEED_ID.fullmatch(ident):
        c.fail("id", f"not a source document id (like 001_e91aa19b8059c247): {ident!r}")
    return Seed(ident, c.text("short"), c.text("publisher"), c.text("title"), c.text("about"))


ENDS_IN_YEAR = re.compile(r"\b(?:19|20)\d\d[a-z]?$")  # "(cervical ILESI review 2020)", "(2023)"
PUBLISHER_WORD = re.compile(r"\b[A-Z][\w-]{2,}")
# Words of many publishers' names that also start ordinary brackets.
COMMON_WORDS = frozenset(
    (
        "The",
        "American",
        "International",
        "Journal",
        "Society",
        "Medicine",
        "Medical",
        "European",
        "British",
        "National",
        "Clinical",
        "Research",
        "Publishing",
        "Pain",
        "Annals",
        "Archives",
        "Current",
        "Frontiers",
        "Association",
        "Academy",
        "College",
        "Institute",
        "Health",
    )
)
# The record's text fields, by the names problems give them (as in the YAML file).
YAML_NAMES = {
    "agent": "mechanism.agent", "target": "mechanism.target", "imaging_note": "imaging.note",
    "relief_text": "relief.text", "bleeding_note": "bleeding_risk.note",
}  # fmt: skip


def _markers(c: _Checker, record: Any) -> None:
    """Every source marker in the text names a source the entry lists: a seed's number or a citation's cite.

    A bracket is a marker when any of its parts reads as one (a seed's number, a cite, "Cohen 2020",
    a listed publisher's name): then every part must name a listed source ("(003, StatPearls)").
    """
    keys = {s.cite for s in record.sources if s.cite}
    cites = [s.cite for s in record.sources if s.cite]
    for key in {k for k in cites if cites.count(k) > 1}:
        c.fail("sources", f"two citations share the cite {key!r}")
    listed = keys | {s.seed.split("_")[0] for s in record.sources if s.seed}
    # A bracket naming a listed citation's publisher ("(StatPearls)") is meant as a marker too.
    publishers = {
        w for s in record.sources if s.publisher for w in PUBLISHER_WORD.findall(s.publisher) if w not in COMMON_WORDS
    }
    for name in record.__dataclass_fields__:
        value = getattr(record, name)
        texts = [value] if isinstance(value, str) else value if isinstance(value, tuple) else ()
        for text in texts:
            if not isinstance(text, str) or "(" not in text:
                continue
            for _found, parts in brackets(text):
                # A bracket with any source in it is a marker throughout: "(Chang 2020; a 2020 review)" too.
                meant = any(
                    reads_as_marker(p, keys) or p.split()[0] in publishers or ENDS_IN_YEAR.search(p) for p in parts
                )
                if not meant:
                    continue  # an ordinary bracket: "(52% vs 56%)", "(lidocaine)"
                for part in parts:
                    if part not in listed:
                        seed = SEED_NUMBER.fullmatch(part)
                        hint = "list that source document" if seed else f"give that citation cite: {part}"
                        why = f"the marker ({'; '.join(parts)}) names no source of this entry as {part!r}"
                        c.fail(YAML_NAMES.get(name, name), f"{why}; {hint}")


BUILDERS: dict[str, Callable[[_Checker], Any]] = {
    "procedures": _procedure,
    "conditions": _condition,
    "terms": _term,
    "sections": _section,
    "notes": _note,
    "seeds": _seed,
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


def check_entries(data: Any, marks: Marks, file: str, top_key: str, problems: list[Problem]) -> list[Any]:
    """The records of one parsed file's entries; a problem for each missing or wrong field."""
    records: list[Any] = []
    for index, raw in enumerate(_entries(data, file, top_key, problems)):
        checker = _Checker(file, index, raw, marks, problems)
        if isinstance(raw, dict):
            record = BUILDERS[top_key](checker)
            if hasattr(record, "sources"):
                _markers(checker, record)
            records.append(record)
        else:
            checker.fail(None, f"expected a mapping (an entry), found {_kind(raw)}")
    return records
