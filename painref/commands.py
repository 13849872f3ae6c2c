"""What each command does, as plain functions: arguments in, output written, exit code out.

No command-line framework here: the Typer app (cli.py) and the fast dispatcher
(main.py) both call these. Expected failures are raised as PainrefError and
reported by the caller. Rich is imported only when a table is printed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from painref.errors import NotFound, PainrefError
from painref.search import CONFIDENT
from painref.text import normalize

if TYPE_CHECKING:
    from rich.console import RenderableType

    from painref.model import Entry, Procedure
    from painref.search import Hit
    from painref.store import Store

DataDir = str | os.PathLike[str] | None
LIST_HINT = "try 'painref list procedures' or 'painref list conditions'"


_kept: list[Store] = []


def _store(data: DataDir, json: bool) -> Store:
    """The store; when printing with Rich, a rebuild imports that meanwhile (see store.build)."""
    from painref.store import open_store

    store = open_store(data, meanwhile=None if json else _import_printing)
    # Kept until the process ends: freeing a large knowledge base object by object when
    # the command returns took longer than the lookup itself (60 ms at 15 000 entries).
    _kept[:] = [store]
    for warning in store.kb.warnings:
        sys.stderr.write(f"painref: warning: {warning}\n")
    return store


def _import_printing() -> None:
    import rich.console  # noqa: F401

    import painref.render  # noqa: F401


def _print(renderable: RenderableType) -> None:
    from rich.console import Console

    Console().print(renderable)


def _print_json(value: Any) -> None:
    from painref.export import dumps

    sys.stdout.write(dumps(value) + "\n")


def _query(words: list[str]) -> str:
    return " ".join(words).strip()


def _shown(query: str, limit: int = 60) -> str:
    """A query quoted for a message, shortened when long."""
    return repr(query if len(query) <= limit else query[:limit] + "…")


def _no_match(query: str, hits: list[Hit]) -> str:
    """Why nothing was picked: nothing close enough, or several entries equally close."""
    if len(hits) > 1 and hits[0].score >= CONFIDENT:
        return f"{_shown(query)} matches several entries equally; add a word to say which"
    return f"no confident match for {_shown(query)}"


def _names_hint(hits: list[Hit]) -> str | None:
    if not hits:
        return None
    return "did you mean: " + ", ".join(h.name for h in hits[:5]) + "?"


def _require_words(query: str) -> None:
    if not normalize(query):
        raise PainrefError(
            "the query has no letters or digits" if query.strip() else "empty query",
            hint="give a name, alias or abbreviation, e.g. painref lookup sciatica",
        )


def resolve(store: Store, words: list[str]) -> Entry:
    """The single entry a query names, or NotFound with suggestions."""
    query = _query(words)
    _require_words(query)
    result = store.entries.search(query)
    if result.best is None:
        raise NotFound(
            _no_match(query, result.suggestions) if query else "empty query",
            suggestions=[h.name for h in result.suggestions],
            hint=_names_hint(result.suggestions) or LIST_HINT,
        )
    entry = store.kb.entry(result.best.id)
    assert entry is not None
    return entry


def resolve_procedure(store: Store, arg: str) -> Procedure:
    from painref.model import Procedure

    entry = resolve(store, [arg])
    if not isinstance(entry, Procedure):
        procs = [store.kb.name_of(link.id) for link in entry.procedures][:5]
        raise PainrefError(
            f"{_shown(arg)} is a condition ({entry.name}), not a procedure; compare takes procedures",
            hint="procedures for it: " + ", ".join(procs) if procs else None,
        )
    return entry


# ---------------------------------------------------------------- commands


def lookup(query: list[str], json: bool = False, data: DataDir = None) -> int:
    _require_words(_query(query))
    store = _store(data, json)
    result = store.entries.search(_query(query))
    if json:
        from painref.export import lookup_record

        _print_json(lookup_record(result))
        return 0 if result.best else 1
    if result.best is None:
        raise NotFound(_no_match(result.query, result.suggestions), hint=_names_hint(result.suggestions) or LIST_HINT)
    from rich.console import Group

    from painref import render

    entry = store.kb.entry(result.best.id)
    assert entry is not None
    parts: list[RenderableType] = [render.entry_card(store.kb, entry)]
    others = result.matches[1:] + result.suggestions[: max(0, 3 - len(result.matches[1:]))]
    if others:
        parts.append(render.hits_table(others, "Other close matches"))
    _print(Group(*parts))
    return 0


def show(name: list[str], json: bool = False, data: DataDir = None) -> int:
    store = _store(data, json)
    entry = resolve(store, name)
    if json:
        from painref.export import entry_record

        _print_json(entry_record(store.kb, entry))
        return 0
    from painref import render

    _print(render.entry_card(store.kb, entry))
    return 0


def compare(names: list[str], json: bool = False, data: DataDir = None) -> int:
    if len(names) < 2:
        raise PainrefError("compare needs at least two procedures", hint="e.g. painref compare rfa epidural")
    store = _store(data, json)
    procs = [resolve_procedure(store, arg) for arg in names]
    if len({p.id for p in procs}) < len(procs):
        raise PainrefError(
            "the same procedure was named twice: " + ", ".join(p.name for p in procs),
            hint="compare takes different procedures, e.g. painref compare rfa epidural",
        )
    if json:
        from painref.export import procedure_record

        _print_json({"procedures": [procedure_record(store.kb, p) for p in procs]})
        return 0
    from painref import render

    _print(render.compare_table(store.kb, procs))
    return 0


def family_order(store: Store) -> list[Procedure]:
    """Procedures alphabetically, each family's variants right under their general entry."""
    procs = store.kb.procedures
    out: list[Procedure] = []

    def visit(proc: Procedure) -> None:
        out.append(proc)
        for child in sorted((procs[v] for v in proc.variants), key=lambda p: p.name.lower()):
            visit(child)

    for proc in sorted((p for p in procs.values() if not p.parent), key=lambda p: p.name.lower()):
        visit(proc)
    return out


def parse_weeks(text: str) -> float:
    """'6m', '12w', '1y', '3d', '6 months' -> weeks, coded as in data/SCHEMA.md (a month is 4.3 weeks)."""
    import re

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(d|days?|w|wks?|weeks?|m|mo|months?|y|yrs?|years?)\s*", text.lower())
    if not match:
        raise PainrefError(f"cannot read the duration {text!r}", hint="use a number and a unit: 3d, 12w, 6m, 1y")
    number, unit = float(match.group(1)), match.group(2)[0]
    return number * {"d": 1 / 7, "w": 1.0, "m": 4.3, "y": 52.0}[unit]


def _choice(option: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise PainrefError(f"unknown {option} {value!r}", hint=f"{option} takes one of: " + ", ".join(allowed))
    return value


def list_entries(
    kind: str,
    category: str | None = None,
    region: str | None = None,
    json: bool = False,
    data: DataDir = None,
    imaging: str | None = None,
    purpose: str | None = None,
    bleeding_risk: str | None = None,
    treats: str | None = None,
    min_relief: str | None = None,
    sort: str = "name",
) -> int:
    from painref.model import BLEEDING_RISKS, CATEGORIES, MODALITIES, PURPOSES, REGIONS, Condition

    procedure_only = {
        "--category": category,
        "--imaging": imaging,
        "--purpose": purpose,
        "--bleeding-risk": bleeding_risk,
        "--treats": treats,
        "--min-relief": min_relief,
    }
    _choice("--sort", sort, ("name", "relief"))
    store = _store(data, json)
    entries: list[Entry]
    if kind == "procedures":
        if region:
            raise PainrefError(
                "--region filters conditions", hint="procedures take --category, --imaging, --treats ..."
            )
        _choice("--category", category, CATEGORIES)
        _choice("--imaging", imaging, MODALITIES)
        _choice("--purpose", purpose, PURPOSES)
        _choice("--bleeding-risk", bleeding_risk, BLEEDING_RISKS)
        weeks = parse_weeks(min_relief) if min_relief is not None else None
        treated: set[str] | None = None
        if treats is not None:
            condition = resolve(store, [treats])
            if not isinstance(condition, Condition):
                raise PainrefError(f"--treats takes a condition; {treats!r} is {condition.name}, a procedure")
            treated = {link.id for link in condition.procedures}
        procs = [
            p
            for p in family_order(store)
            if (category is None or p.category == category)
            and (imaging is None or imaging in p.modalities)
            # "diagnostic" includes procedures that are both diagnostic and therapeutic.
            and (purpose is None or p.purpose in (purpose, "both"))
            and (bleeding_risk is None or p.bleeding_risk == bleeding_risk)
            and (treated is None or p.id in treated)
            and (weeks is None or (p.relief_min is not None and p.relief_min >= weeks - 1e-9))
        ]
        if sort == "relief":
            procs.sort(key=lambda p: (p.relief_min is None, -(p.relief_min or 0), -(p.relief_max or 1e9)))
        entries = list(procs)
    else:
        used = [name for name, value in procedure_only.items() if value is not None]
        if used:
            raise PainrefError(f"{used[0]} filters procedures", hint="conditions take --region")
        if sort == "relief":
            raise PainrefError("--sort relief orders procedures", hint="conditions are listed by name")
        _choice("--region", region, REGIONS)
        entries = sorted(
            (c for c in store.kb.conditions.values() if not region or c.region == region),
            key=lambda c: c.name.lower(),
        )
    if json:
        from painref.export import list_record

        _print_json([list_record(e) for e in entries])
    else:
        from painref import render

        noun = kind if len(entries) != 1 else kind[:-1]
        title = f"{len(entries)} {noun}" if entries else f"no {kind} match these filters"
        _print(render.list_table(entries, title, kind == "procedures", families=sort == "name"))
    return 0 if entries else 1


def search(text: list[str], json: bool = False, data: DataDir = None, limit: int = 20) -> int:
    from painref import fulltext

    store = _store(data, json)
    query = _query(text)
    if not normalize(query):
        raise PainrefError("nothing to search for", hint="give a word or two, e.g. painref search ultrasound")
    every = fulltext.search(store.kb, query, limit=None)
    found = every[:limit]
    if json:
        from painref.export import search_record

        _print_json(search_record(query, found))
        return 0 if found else 1
    if not found:
        raise NotFound(f"no entry mentions {_shown(query)}", hint="search looks inside cards; lookup finds names")
    from painref import render

    _print(render.search_table(found, render.search_title(len(found), len(every), query)))
    return 0


def questions(name: list[str], json: bool = False, data: DataDir = None) -> int:
    store = _store(data, json)
    entry = resolve(store, name)
    general = store.kb.guide.get("questions")
    if json:
        _print_json(
            {
                "entry": {"kind": entry.kind, "id": entry.id, "name": entry.name},
                "questions": list(entry.questions),
                "general": list(general.items) if general else [],
            }
        )
        return 0
    from painref import render

    _print(render.questions_view(store.kb, entry))
    return 0


def pathway(name: list[str], json: bool = False, data: DataDir = None) -> int:
    store = _store(data, json)
    entry = resolve(store, name)
    if json:
        from painref.export import pathway_record

        _print_json(pathway_record(store.kb, entry))
        return 0
    from painref import render
    from painref.pathway import build

    _print(render.pathway_tree(build(store.kb, entry), entry.name))
    return 0


def define(term: list[str], json: bool = False, data: DataDir = None) -> int:
    _require_words(_query(term))
    store = _store(data, json)
    result = store.terms.search(_query(term))
    if result.best is None:
        entry = store.entries.search(_query(term)).best
        hint = (
            f"{_shown(_query(term))} is a {entry.kind}: painref show {entry.id}"
            if entry
            else _names_hint(result.suggestions) or "the glossary covers terms used on the cards"
        )
        raise NotFound(f"no glossary term matches {_shown(result.query)}", hint=hint)
    found = store.kb.terms[result.best.id]
    if json:
        from painref.export import term_record

        _print_json(term_record(found))
        return 0
    from painref import render

    _print(render.term_card(found))
    return 0


def guide(json: bool = False, data: DataDir = None) -> int:
    store = _store(data, json)
    if not store.kb.guide:
        raise NotFound("this knowledge base has no guide.yaml")
    if json:
        from painref.export import section_record

        _print_json({"sections": [section_record(s) for s in store.kb.guide.values()]})
        return 0
    from painref import render

    _print(render.guide_view(store.kb))
    return 0


def validate(directory: Path | None = None, json: bool = False, data: DataDir = None) -> int:
    """Check one directory (DIR), or every layer in force (--data, or built-in + PAINREF_PATH + user)."""
    from painref.errors import DataError
    from painref.knowledge import load_layers
    from painref.paths import Layer, existing_directory, resolve_layers

    hint = "validate DIR checks a knowledge-base directory"
    layers = [Layer("data", existing_directory(directory, hint), required=True)] if directory else resolve_layers(data)
    where = ", ".join(str(layer.path) for layer in layers if layer.required or layer.path.is_dir())
    try:
        kb = load_layers(layers)
        problems: list[str] = list(kb.warnings)
    except DataError as exc:
        problems = [str(p) for p in exc.problems]
    if json:
        _print_json({"directory": where, "ok": not problems, "problems": problems})
    elif problems:
        for line in problems:
            sys.stderr.write(f"{line}\n")
        sys.stderr.write(f"painref: {len(problems)} problem(s) in {where}\n")
    else:
        sys.stdout.write(
            f"ok: {where}: {len(kb.procedures)} procedures, {len(kb.conditions)} conditions, "
            f"{len(kb.terms)} glossary terms, {len(kb.guide)} guide sections, "
            f"{sum(len(n) for n in kb.notes.values())} notes\n"
        )
    return 2 if problems else 0


def paths(json: bool = False, data: DataDir = None) -> int:
    """The layers in order: whether each exists, and what it adds or overrides."""
    from painref.errors import DataError, Problem
    from painref.knowledge import FILES, parse_file
    from painref.paths import resolve_layers

    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    for layer in resolve_layers(data):
        row: dict[str, Any] = {
            "layer": layer.name,
            "path": str(layer.path),
            "exists": layer.path.is_dir(),
            "files": [],
            "added": 0,
            "overridden": 0,
            "notes": 0,
            "problems": 0,
        }
        for name, key in FILES.items() if row["exists"] else ():
            path = layer.path / name
            if not path.is_file():
                continue
            row["files"].append(name)
            problems: list[Problem] = []
            try:
                records = parse_file(path, key, problems)
            except DataError as exc:
                row["problems"] += len(exc.problems)
                continue
            row["problems"] += len(problems)
            if key == "notes":
                row["notes"] += len(records)
            elif key in ("procedures", "conditions"):
                for record in records:
                    row["overridden" if record.id in seen else "added"] += 1
                    seen.add(record.id)
        rows.append(row)
    if json:
        _print_json({"layers": rows})
        return 0
    from painref import render

    _print(render.paths_table(rows))
    return 0


TEMPLATES = {
    "procedure": """
# --- new procedure: uncomment, fill in every field, then run `painref validate` ---
# - id: {id}
#   name: Standard clinical name
#   aliases: [abbreviation, lay name]
#   parent: null                  # or the id of the family's general entry
#   category: nerve-block         # see `painref list procedures`; data/SCHEMA.md lists them
#   purpose: therapeutic          # diagnostic | therapeutic | both
#   summary: One or two sentences in your own words.
#   mechanism:
#     agent: Medication or energy used
#     target: Target anatomy
#   imaging:
#     modalities: [fluoroscopy]   # fluoroscopy | ultrasound | ct | none
#     note: How imaging guides it.
#   anesthesia: Local anesthetic; sedation if any.
#   setting: Where it is done.
#   procedure_time: How long it takes.
#   onset: When relief starts.
#   relief:
#     text: How long relief typically lasts, with its source.
#     weeks: [2, 26]              # [min, max] in weeks, max may be null; or null when unknown
#   recovery: What recovery looks like.
#   risks: [A risk]
#   bleeding_risk:
#     category: low               # low | intermediate | high | unclassified (ASRA 2018)
#     note: Which row of the guideline, listed or by analogy.
#   prerequisites: []             # ids of procedures that come first
#   next_steps: []                # ids of procedures that may follow
#   questions: [First question?, Second question?, Third question?]
#   sources:
#     - title: Title of the reference
#       publisher: Journal or organisation
#       year: 2024
#       url: https://example.org/reference
""",
    "condition": """
# --- new condition: uncomment, fill in every field, then run `painref validate` ---
# - id: {id}
#   name: Standard clinical name
#   aliases: [lay name]
#   region: low-back              # see data/SCHEMA.md for the list
#   summary: One or two sentences in your own words.
#   symptoms: [A symptom]
#   icd10:
#     - code: M54.50
#       description: Low back pain, unspecified   # the official ICD-10-CM description
#   conservative_care: [Physical therapy]
#   procedures:
#     - id: epidural-steroid-injection
#       role: therapeutic         # diagnostic | therapeutic
#   questions: [First question?, Second question?, Third question?]
#   sources:
#     - title: Title of the reference
#       publisher: Journal or organisation
#       year: 2024
#       url: https://example.org/reference
""",
}


def new(kind: str, ident: str) -> int:
    """Append a commented template for a new entry to the user's layer."""
    from painref.knowledge import SLUG
    from painref.paths import user_dir

    if not SLUG.match(ident):
        raise PainrefError(f"{_shown(ident)} is not an id", hint="ids are lowercase words joined by hyphens: my-block")
    path = user_dir() / f"{kind}s.yaml"
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if f"id: {ident}\n" in text:
            raise PainrefError(f"{path} already has an entry or template with id {ident!r}", hint="edit it there")
    else:
        text = f"# Your own {kind}s for painref (the user layer). Schema: data/SCHEMA.md in painref's source.\n"
        text += f"{kind}s:\n"
    from painref.atomic import write_atomic

    write_atomic(path, [(text.rstrip("\n") + "\n" + TEMPLATES[kind].format(id=ident)).encode("utf-8")])
    sys.stdout.write(f"{path}\n")
    sys.stderr.write(f"painref: added a template for {ident!r}; edit it, then run 'painref validate'\n")
    return 0


def complete_entries(incomplete: str) -> list[tuple[str, str]]:
    """Shell completion: entry ids whose id, name or alias starts with what was typed."""
    return _complete(incomplete, terms=False)


def complete_terms(incomplete: str) -> list[tuple[str, str]]:
    return _complete(incomplete, terms=True)


def _complete(incomplete: str, terms: bool) -> list[tuple[str, str]]:
    from painref.text import normalize

    try:
        store = _store(None, json=True)
    except PainrefError:
        return []
    index = store.terms if terms else store.entries
    typed = normalize(incomplete)
    out: list[tuple[str, str]] = []
    for _kind, ident, name, aliases, *_rest in index.entries:
        if ident.startswith(incomplete) or any(normalize(label).startswith(typed) for label in (name, *aliases)):
            out.append((ident, name))
    return sorted(out)[:100]


def report(exc: PainrefError) -> int:
    """Write an expected failure as one line (and a hint) to stderr; return its exit code."""
    from painref.text import clean

    sys.stderr.write(f"painref: {clean(exc.message)}\n")
    if exc.hint:
        sys.stderr.write(f"hint: {clean(exc.hint)}\n")
    return exc.exit_code
