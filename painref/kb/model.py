"""Typed records of the knowledge base: plain data, no I/O, no terminal."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Kind = Literal["procedure", "condition"]

PURPOSES = ("diagnostic", "therapeutic", "both")
COURSES = ("chronic", "acute")
ROLES = ("diagnostic", "therapeutic")
MODALITIES = ("fluoroscopy", "ultrasound", "ct", "none")
BLEEDING_RISKS = ("low", "intermediate", "high", "unclassified")
CATEGORIES = (
    "spinal-injection",
    "joint-injection",
    "nerve-block",
    "radiofrequency",
    "neuromodulation",
    "drug-delivery",
    "vertebral-augmentation",
    "disc-procedure",
    "minimally-invasive-surgery",
    "soft-tissue-injection",
    "regenerative",
    "non-invasive",
)
REGIONS = (
    "head",
    "face",
    "neck",
    "shoulder",
    "upper-limb",
    "chest-wall",
    "thoracic-spine",
    "low-back",
    "pelvis",
    "hip",
    "knee",
    "lower-limb",
    "widespread",
)
GUIDE_SECTIONS = ("candidacy", "expectations", "care-team", "questions")


# How long relief typically lasts, as an ordinal band: enough to sort and filter by, never shown
# as a number. The card shows the source's own words (relief.text); "not-stated" when no source says.
RELIEF_BANDS = ("hours", "days", "weeks-to-months", "months-to-years", "not-stated")


@dataclass(slots=True, repr=False, eq=False)
class Source:
    """A seed document (``seed`` set) or a full citation (``title`` etc. set)."""

    seed: str | None = None
    title: str | None = None
    publisher: str | None = None
    year: int | None = None
    doi: str | None = None
    url: str | None = None
    cite: str | None = None  # the marker the entry's text uses for it, e.g. "Cohen 2020"
    quotes: tuple[str, ...] = ()  # the source's own words behind the entry's figures

    def label(self, seeds: Mapping[str, Seed] | None = None) -> str:
        """The full reference: a seed by its publisher and title, a citation as title, publisher, year, link."""
        if self.seed:
            known = (seeds or {}).get(self.seed)
            short = self.seed.split("_")[0]
            return (
                f"{known.publisher}: {known.title} (source document {short})" if known else f"source document {short}"
            )
        where = f"doi:{self.doi}" if self.doi else (self.url or "")
        return f"{self.title}. {self.publisher}, {self.year}. {where}".strip()

    def short_label(self, seeds: Mapping[str, Seed] | None = None) -> str:
        """One line for a card: the seed's short name and title, or a citation's first words, journal and year.

        The full reference is in `painref sources` (and in --json)."""
        if self.seed:
            known = (seeds or {}).get(self.seed)
            return f"{known.short}: {known.title}" if known else f"source document {self.seed.split('_')[0]}"
        words = str(self.title).split()
        title = " ".join(words[:9]) + ("…" if len(words) > 9 else ".")
        return f"{self.cite + ': ' if self.cite else ''}{title} {self.publisher}, {self.year}"

    def as_dict(self) -> dict[str, object]:
        if self.seed:
            return {"seed": self.seed}
        out: dict[str, object] = {"title": self.title, "publisher": self.publisher, "year": self.year}
        if self.doi:
            out["doi"] = self.doi
        if self.url:
            out["url"] = self.url
        if self.cite:
            out["cite"] = self.cite
        if self.quotes:
            out["quotes"] = list(self.quotes)
        return out


@dataclass(slots=True, repr=False, eq=False)
class Link:
    """A condition-procedure link with the procedure's role for that condition."""

    id: str
    role: str


@dataclass(slots=True, repr=False, eq=False)
class IcdCode:
    code: str
    description: str


@dataclass(slots=True, repr=False, eq=False)
class Procedure:
    id: str
    name: str
    aliases: tuple[str, ...]
    parent: str | None
    category: str
    purpose: str
    summary: str
    agent: str
    target: str
    modalities: tuple[str, ...]
    imaging_note: str
    anesthesia: str
    setting: str
    procedure_time: str
    onset: str
    relief_text: str
    relief_band: str
    recovery: str
    risks: tuple[str, ...]
    bleeding_risk: str
    bleeding_note: str
    prerequisites: tuple[str, ...]
    next_steps: tuple[str, ...]
    questions: tuple[str, ...]
    sources: tuple[Source, ...]
    lay_terms: tuple[str, ...] = ()  # how patients and nurses say it; searched, not shown as names
    # Derived at load time from the other entries.
    variants: tuple[str, ...] = field(default=())
    treats: tuple[Link, ...] = field(default=())
    common: tuple[str, ...] = ()  # logistics fields whose text most procedures share (said once, in the guide)
    kind: Kind = "procedure"

    @property
    def relief_label(self) -> str:
        """The relief band in words: "weeks to months", "not stated"."""
        return self.relief_band.replace("-", " ")

    @property
    def relief_rank(self) -> int:
        """The band's place in RELIEF_BANDS (hours = 0 ... months to years = 3); -1 when not stated."""
        return RELIEF_BANDS.index(self.relief_band) if self.relief_band in RELIEF_BANDS[:-1] else -1


@dataclass(slots=True, repr=False, eq=False)
class Condition:
    id: str
    name: str
    aliases: tuple[str, ...]
    region: str
    summary: str
    symptoms: tuple[str, ...]
    icd10: tuple[IcdCode, ...]
    conservative_care: tuple[str, ...]
    procedures: tuple[Link, ...]
    questions: tuple[str, ...]
    sources: tuple[Source, ...]
    lay_terms: tuple[str, ...] = ()
    # What points to it and confirms it (telling history, examination, tests, imaging): shown on the card
    # and found by `search`, but not weighed when a description is matched (see painref.find.names.UNWEIGHED).
    diagnosis: tuple[str, ...] = ()
    course: str = "chronic"  # or "acute" (a fracture, a headache after a dural puncture): no three-month rule
    red_flag: bool = False  # sends the patient elsewhere urgently; may link no procedure
    kind: Kind = "condition"


@dataclass(slots=True, repr=False, eq=False)
class Seed:
    """One of the source documents the knowledge base is written from (data/sources.yaml)."""

    id: str
    short: str  # the name the card's text cites it by: "(Nortex)"
    publisher: str
    title: str
    about: str


@dataclass(slots=True, repr=False, eq=False)
class Term:
    id: str
    term: str
    aliases: tuple[str, ...]
    definition: str
    sources: tuple[Source, ...]


@dataclass(slots=True, repr=False, eq=False)
class GuideSection:
    id: str
    title: str
    items: tuple[str, ...]
    sources: tuple[Source, ...]


@dataclass(slots=True, repr=False, eq=False)
class Note:
    """A layer's own note on an entry (a clinic's protocol, a trainee's mnemonic)."""

    id: str  # the entry it is attached to
    text: str
    layer: str = ""


Entry = Procedure | Condition


class KnowledgeBase:
    """All entries. The mappings may be plain dicts or lazily loaded from the cache."""

    __slots__ = (
        "conditions", "guide", "names", "notes", "origin", "procedures", "seeds", "terms", "warnings", "where",
    )  # fmt: skip

    def __init__(
        self,
        procedures: Mapping[str, Procedure],
        conditions: Mapping[str, Condition],
        terms: Mapping[str, Term],
        guide: Mapping[str, GuideSection],
        where: str = "",
        names: Mapping[str, str] | None = None,
        origin: Mapping[str, str] | None = None,
        notes: Mapping[str, tuple[Note, ...]] | None = None,
        warnings: list[str] | None = None,
        seeds: Mapping[str, Seed] | None = None,
    ) -> None:
        self.procedures = procedures
        self.seeds = seeds or {}  # seed id -> the source document
        self.conditions = conditions
        self.terms = terms
        self.guide = guide
        self.where = where
        if names is None:
            names = {p.id: p.name for p in procedures.values()} | {c.id: c.name for c in conditions.values()}
        self.names = names
        self.origin = origin or {}  # entry id -> the layer it came from
        self.notes = notes or {}  # entry id -> notes attached by layers
        self.warnings = warnings or []  # problems that do not stop a lookup (validate reports them)

    def entry(self, entry_id: str) -> Entry | None:
        if entry_id in self.procedures:
            return self.procedures[entry_id]
        if entry_id in self.conditions:
            return self.conditions[entry_id]
        return None

    def name_of(self, entry_id: str) -> str:
        return self.names.get(entry_id, entry_id)


# ---------------------------------------------------------------- as JSON (the compiled store's rows)


def to_json(record: Procedure | Condition | Term | GuideSection | Seed) -> dict[str, Any]:
    """A record as plain JSON values (the *_from functions turn it back)."""
    return {name: _plain(getattr(record, name)) for name in record.__dataclass_fields__}


def _plain(value: Any) -> Any:
    if isinstance(value, str):  # most values: text
        return value
    if isinstance(value, tuple):
        return [v if isinstance(v, str) else _plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def _sources(items: list[dict[str, Any]]) -> tuple[Source, ...]:
    return tuple(Source(**{**item, "quotes": tuple(item.get("quotes", ()))}) for item in items)


def _links(items: list[dict[str, Any]]) -> tuple[Link, ...]:
    return tuple(Link(item["id"], item["role"]) for item in items)


def procedure_from(d: dict[str, Any]) -> Procedure:
    return Procedure(
        **{
            **d,
            "aliases": tuple(d["aliases"]),
            "lay_terms": tuple(d["lay_terms"]),
            "modalities": tuple(d["modalities"]),
            "risks": tuple(d["risks"]),
            "prerequisites": tuple(d["prerequisites"]),
            "next_steps": tuple(d["next_steps"]),
            "questions": tuple(d["questions"]),
            "sources": _sources(d["sources"]),
            "variants": tuple(d["variants"]),
            "treats": _links(d["treats"]),
            "common": tuple(d.get("common", ())),
        }
    )


def condition_from(d: dict[str, Any]) -> Condition:
    return Condition(
        **{
            **d,
            "aliases": tuple(d["aliases"]),
            "lay_terms": tuple(d["lay_terms"]),
            "symptoms": tuple(d["symptoms"]),
            "diagnosis": tuple(d["diagnosis"]),
            "icd10": tuple(IcdCode(i["code"], i["description"]) for i in d["icd10"]),
            "conservative_care": tuple(d["conservative_care"]),
            "procedures": _links(d["procedures"]),
            "questions": tuple(d["questions"]),
            "sources": _sources(d["sources"]),
        }
    )


def term_from(d: dict[str, Any]) -> Term:
    return Term(d["id"], d["term"], tuple(d["aliases"]), d["definition"], _sources(d["sources"]))


def section_from(d: dict[str, Any]) -> GuideSection:
    return GuideSection(d["id"], d["title"], tuple(d["items"]), _sources(d["sources"]))


def seed_from(d: dict[str, Any]) -> Seed:
    return Seed(d["id"], d["short"], d["publisher"], d["title"], d["about"])


_MARKER = re.compile(r"\(([^()]*\b\d{3}\b[^()]*)\)")
_SEED_NUMBER = re.compile(r"\b(\d{3})\b")
_GROUP = re.compile(r"\(([^()]*)\)")
_PART_SPLIT = re.compile(r"\s*[;,]\s*")
_WORD = re.compile(r"\w")
SEED_NUMBER = re.compile(r"\d{3}")
# "Cohen 2020", "ASRA 2018", "Ruiz Santiago 2014": a parenthetical part that reads as a citation.
AUTHOR_YEAR = re.compile(r"[A-Z][^\s();,]*(?: [^\s();,]+){0,3} (?:19|20)\d\d[a-z]?")


def brackets(text: str) -> Iterator[tuple[re.Match[str], tuple[str, ...]]]:
    """Every bracket of the text with its parts, split at "," or ";" (a bracket broken over lines reads as one)."""
    for found in _GROUP.finditer(text):
        inner = found.group(1)
        yield found, _cached_parts(inner) if len(inner) <= _CACHED else _parts(inner)


def _parts(inner: str) -> tuple[str, ...]:
    return tuple(p for p in _PART_SPLIT.split(" ".join(inner.split())) if p)


def reads_as_marker(part: str, keys: Collection[str]) -> bool:
    """A seed's number ("001"), one of the entry's citation `keys`, or a citation's form ("Cohen 2020")."""
    return part in keys or (_cached_form(part) if len(part) <= _CACHED else _citation_form(part))


def _citation_form(part: str) -> bool:
    return bool(SEED_NUMBER.fullmatch(part) or AUTHOR_YEAR.fullmatch(part))


# The same few markers ("(Nortex)", "(ASRA 2018)") recur thousands of times in a knowledge base:
# each short one is split and read once (a long bracket is prose, and is not kept).
_CACHED = 120
_cached_parts = functools.lru_cache(maxsize=4096)(_parts)
_cached_form = functools.lru_cache(maxsize=4096)(_citation_form)


def claims(text: str, keys: Collection[str] = ()) -> list[tuple[str, tuple[str, ...]]]:
    """The text cut after each source marker, as (claim, the marker's parts); a last unmarked piece has ().

    A marker covers the text since the previous marker. A bracket is a marker when every part reads as
    one (see reads_as_marker); any other bracket ("(52% vs 56%)", "(lidocaine)") is part of the claim.
    """
    out: list[tuple[str, tuple[str, ...]]] = []
    start = 0
    for found, parts in brackets(text):
        if parts and all(reads_as_marker(p, keys) for p in parts):
            out.append((text[start : found.start()], parts))
            start = found.end()
    if _WORD.search(text, start):
        out.append((text[start:], ()))
    return out


def unmarked(text: str, keys: Collection[str]) -> str:
    """The text without its source markers (see claims): what it says, not who says it."""
    return "".join(claim for claim, _parts in claims(text, keys)) if "(" in text else text


def cite(text: str, seeds: Mapping[str, Seed], short: Mapping[str, str] | None = None) -> str:
    """Seed markers as the seeds' short names: "(001, 003)" -> "(Nortex, Access Pain)"."""
    if short is None:
        short = {ident.split("_")[0]: seed.short for ident, seed in seeds.items()}
    if not short or "(" not in text or not any(number in text for number in short):
        return text

    def group(found: re.Match[str]) -> str:
        return "(" + _SEED_NUMBER.sub(lambda m: short.get(m.group(1), m.group(1)), found.group(1)) + ")"

    return _MARKER.sub(group, text)


def cited(record: Any, seeds: Mapping[str, Seed]) -> Any:
    """The record with every seed marker in its text shown by the seed's short name (see cite)."""
    if not seeds:
        return record
    short = {ident.split("_")[0]: seed.short for ident, seed in seeds.items()}
    changes: dict[str, Any] = {}
    for name in record.__dataclass_fields__:
        value = getattr(record, name)
        if isinstance(value, str):
            if "(" in value:
                changes[name] = cite(value, seeds, short)
        elif isinstance(value, tuple) and value and isinstance(value[0], str):
            changes[name] = tuple(cite(v, seeds, short) for v in value)
    return replace(record, **changes) if changes else record
