"""What each command does: arguments and the store in, a Reply out (see output.py).

No printing here, and no argument parsing: the Typer app (app.py) parses,
output.py prints. Rich and the views are imported only inside the functions
that show a terminal view, so `--json` never loads them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from painref.cli.output import Reply
from painref.errors import NotFound, PainrefError
from painref.text import normalize

if TYPE_CHECKING:
    from painref.find.names import Hit, Index
    from painref.kb.model import Entry, Procedure
    from painref.store import Store

# A shell's completion code may evaluate what it is given ($(...), `...`): names keep only plain characters.
_SHELL_UNSAFE = re.compile(r"[^\w\s.,/()+-]")
LIST_HINT = "try 'painref list procedures' or 'painref list conditions'"


def _query(words: list[str]) -> str:
    return " ".join(words).strip()


def shown(query: str, limit: int = 60) -> str:
    """A query quoted for a message, shortened when long."""
    return repr(query if len(query) <= limit else query[:limit] + "…")


def _no_match(query: str, hits: list[Hit]) -> str:
    """Why nothing was picked: nothing close enough, or several entries equally close."""
    from painref.find.names import CONFIDENT

    if len(hits) > 1 and hits[0].score >= CONFIDENT:
        return f"{shown(query)} matches several entries equally; add a word to say which"
    return f"no confident match for {shown(query)}"


def _names_hint(hits: list[Hit]) -> str | None:
    if not hits:
        return None
    return "did you mean: " + ", ".join(h.name for h in hits[:5]) + "?"


def require_words(query: str) -> None:
    if not normalize(query):
        raise PainrefError(
            "the query has no letters or digits" if query.strip() else "empty query",
            hint="give a name, alias or abbreviation, e.g. painref lookup sciatica",
        )


def entries_index(store: Store) -> Index:
    from painref.find.names import Index

    return Index(store.db, "entries")


def resolve(store: Store, words: list[str]) -> Entry:
    """The single entry a query names (an exact id first), or NotFound with suggestions."""
    query = _query(words)
    require_words(query)
    exact = store.kb.entry(query)
    if exact is not None:
        return exact
    result = entries_index(store).match(query)
    if result.best is None:
        raise NotFound(
            _no_match(query, result.suggestions),
            suggestions=[h.name for h in result.suggestions],
            hint=_names_hint(result.suggestions) or LIST_HINT,
        )
    entry = store.kb.entry(result.best.id)
    assert entry is not None
    return entry


def resolve_procedure(store: Store, arg: str) -> Procedure:
    from painref.kb.model import Procedure

    entry = resolve(store, [arg])
    if not isinstance(entry, Procedure):
        procs = [store.kb.name_of(link.id) for link in entry.procedures][:5]
        raise PainrefError(
            f"{shown(arg)} is a condition ({entry.name}), not a procedure; compare takes procedures",
            hint="procedures for it: " + ", ".join(procs) if procs else None,
        )
    return entry


# ---------------------------------------------------------------- finding and showing


def lookup(store: Store, words: list[str]) -> Reply:
    from painref.views.records import lookup_record

    query = _query(words)
    require_words(query)
    from painref.find.query import comparison

    if comparison(query) is not None:  # "rfa vs epidural", "difference between kyphoplasty and vertebroplasty"
        try:
            return compare(store, [query])
        except PainrefError:
            pass  # not two procedures: look up what was asked about first
    result = entries_index(store).match(query)
    kb = store.kb
    if result.best is None:
        why = _no_match(result.query, result.suggestions)
        if result.unexplained:
            why += "; nothing in the knowledge base accounts for " + ", ".join(repr(w) for w in result.unexplained)
        missing = NotFound(why, hint=_names_hint(result.suggestions) or LIST_HINT)
        return Reply(lookup_record(result), code=1, missing=missing)
    entry = kb.entry(result.best.id)
    assert entry is not None
    others = result.matches[1:] + result.suggestions[: max(0, 3 - len(result.matches[1:]))]

    def view() -> Any:
        from rich.console import Group

        from painref.views import terminal

        parts: list[Any] = [terminal.entry_card(kb, entry)]
        if others:
            parts.append(terminal.hits_table(others, "Other close matches"))
        return Group(*parts)

    return Reply(lookup_record(result), view)


def routed_lookup(store: Store, words: list[str]) -> Reply:
    """`painref WORDS...`: a lookup; finding nothing is a usage error, since a command may have been meant."""
    reply = lookup(store, words)
    if reply.code == 1:
        hints = reply.missing.hint if reply.missing else None
        reply.code = 2
        reply.missing = NotFound(
            f"{shown(_query(words))} is not a command, and no entry matches it confidently",
            hint=f"{hints}; 'painref --help' lists the commands" if hints and hints != LIST_HINT else LIST_HINT,
        )
        reply.missing.exit_code = 2
    return reply


# `show --field`: the names people type for each field of the JSON record.
FIELD_NAMES = {
    "time": "procedure_time", "procedure-time": "procedure_time", "bleeding": "bleeding_risk", "asra": "bleeding_risk",
    "before": "prerequisites", "prerequisite": "prerequisites", "first": "prerequisites", "next": "next_steps",
    "after": "next_steps", "next-steps": "next_steps", "treats": "conditions", "codes": "icd10", "icd": "icd10",
    "icd-10": "icd10", "icd-10-cm": "icd10", "care": "conservative_care", "conservative": "conservative_care",
    "lay": "lay_terms", "lay-terms": "lay_terms", "risk": "risks", "question": "questions", "source": "sources",
    "alias": "aliases", "how": "mechanism", "guidance": "imaging", "duration": "relief", "symptom": "symptoms",
    "exam": "diagnosis", "examination": "diagnosis", "sign": "diagnosis", "signs": "diagnosis", "test": "diagnosis",
    "tests": "diagnosis",
}  # fmt: skip
NOT_FIELDS = {"kind", "id", "name", "layer"}


def show(store: Store, words: list[str], brief: bool = False, field: str | None = None) -> Reply:
    from painref.views.records import entry_record

    entry = resolve(store, words)
    record = entry_record(store.kb, entry)
    if field is not None:
        return _field(record, field)

    def view() -> Any:
        from painref.views.terminal import brief_card, entry_card

        return brief_card(store.kb, entry) if brief else entry_card(store.kb, entry)

    return Reply(record, view)


def _field(record: dict[str, Any], field: str) -> Reply:
    wanted = field.strip().lower().replace(" ", "-")
    key = FIELD_NAMES.get(wanted, wanted.replace("-", "_"))
    fields = [k for k in record if k not in NOT_FIELDS]
    if key not in fields:
        raise PainrefError(
            f"a {record['kind']} has no field {field!r}",
            hint="fields: " + ", ".join(k.replace("_", "-") for k in fields),
        )
    value = record[key]
    data = {"kind": record["kind"], "id": record["id"], "name": record["name"], "field": key, "value": value}

    def view() -> Any:
        from painref.views.terminal import field_view

        return field_view(record["name"], key, value)

    return Reply(data, view)


def compare(store: Store, names: list[str]) -> Reply:
    from painref.views.records import procedure_record

    if len(names) == 1:  # one quoted argument may still say "X vs Y" or "how is X different from Y"
        from painref.find.query import comparison

        sides = comparison(names[0])
        if sides:
            names = [part for side in sides for part in (side, "vs")][:-1]
    procs = split_procedures(store, names)
    if len({p.id for p in procs}) < len(procs):
        raise PainrefError(
            "the same procedure was named twice: " + ", ".join(p.name for p in procs),
            hint="compare takes different procedures, e.g. painref compare rfa epidural",
        )

    def view() -> Any:
        from painref.views.terminal import compare_table

        return compare_table(store.kb, procs)

    return Reply({"procedures": [procedure_record(store.kb, p) for p in procs]}, view)


MAX_SPLIT_WORDS = 10  # beyond this, the ways to split the words are too many to try: quotes or "vs" are needed
SEPARATORS = ("vs", "vs.", "versus")


def split_procedures(store: Store, args: list[str]) -> list[Procedure]:
    """The procedures a compare names: the best split of its words ("genicular rfa epidural" is two).

    "vs" separates explicitly, and a quoted argument is never split (compare reads a lone
    quoted "X vs Y" or "how is X different from Y" as a comparison first). Every way to
    split the rest into two or more procedures is tried; the split whose parts are
    all confident procedures with the best mean score wins. Two best splits that
    name different procedures are a usage error: the user says which.
    """
    from painref.kb.model import Procedure

    groups: list[list[str]] = [[]]
    for arg in args:
        if arg.strip().lower() in SEPARATORS:
            groups.append([])
        elif arg.strip():
            groups[-1].append(arg.strip())
    groups = [g for g in groups if g]
    hint = 'quote each name or put "vs" between them: painref compare "medial branch block" vs rfa'
    if len(groups) > 1:  # explicit: each group is one procedure
        return [resolve_procedure(store, " ".join(g)) for g in groups]
    units = groups[0] if groups else []
    if len(units) < 2:
        raise PainrefError("compare needs at least two procedures", hint="e.g. painref compare rfa epidural")
    if sum(len(u.split()) for u in units) > MAX_SPLIT_WORDS:
        raise PainrefError("too many words to tell where each procedure's name ends", hint=hint)
    index = entries_index(store)
    seen: dict[str, tuple[float, str, str] | None] = {}

    def part(text: str) -> tuple[float, str, str] | None:
        if text not in seen:
            exact = store.kb.entry(text)
            best = index.match(text).best
            if exact is not None:
                seen[text] = (100.0, exact.kind, exact.id)
            else:
                seen[text] = (best.score, best.kind, best.id) if best else None
        return seen[text]

    best_mean = -1.0
    winners: set[tuple[str, ...]] = set()
    for cuts in range(1 << (len(units) - 1)):
        parts, start = [], 0
        for i in range(1, len(units)):
            if cuts >> (i - 1) & 1:
                parts.append(" ".join(units[start:i]))
                start = i
        parts.append(" ".join(units[start:]))
        if len(parts) < 2:
            continue
        found = [part(p) for p in parts]
        if any(f is None or f[1] != "procedure" for f in found):
            continue
        mean = sum(f[0] for f in found if f) / len(found)
        ids = tuple(f[2] for f in found if f)
        if mean > best_mean + 1e-9:
            best_mean, winners = mean, {ids}
        elif abs(mean - best_mean) <= 1e-9:
            winners.add(ids)
    if not winners:
        # No split into procedures: say what the first word that is not one is.
        for unit in units:
            resolve_procedure(store, unit)
        raise PainrefError("these words do not split into procedures", hint=hint)
    if len(winners) > 1:
        options = " or ".join(" / ".join(store.kb.name_of(i) for i in w) for w in sorted(winners))
        raise PainrefError(f"the words can be read as {options}", hint=hint)
    procs = [store.kb.procedures[i] for i in next(iter(winners))]
    return [p for p in procs if isinstance(p, Procedure)]


def search(store: Store, words: list[str], limit: int = 20) -> Reply:
    from painref.find import fulltext
    from painref.views.records import search_record

    query = _query(words)
    if not normalize(query):
        raise PainrefError("nothing to search for", hint="give a word or two, e.g. painref search ultrasound")
    found, total = fulltext.search(store, query, limit)
    missing = None
    if not found:
        missing = NotFound(f"no entry mentions {shown(query)}", hint="search looks inside cards; lookup finds names")

    def view() -> Any:
        from painref.views import terminal

        return terminal.search_table(found, terminal.search_title(len(found), total, query))

    return Reply(search_record(query, found), view, code=0 if found else 1, missing=missing)


def questions(store: Store, words: list[str]) -> Reply:
    entry = resolve(store, words)
    general = store.kb.guide.get("questions")
    record = {
        "entry": {"kind": entry.kind, "id": entry.id, "name": entry.name},
        "questions": list(entry.questions),
        "general": list(general.items) if general else [],
    }

    def view() -> Any:
        from painref.views.terminal import questions_view

        return questions_view(store.kb, entry)

    return Reply(record, view)


def pathway(store: Store, words: list[str]) -> Reply:
    from painref.kb.pathway import build
    from painref.views.records import pathway_record

    entry = resolve(store, words)
    steps = build(store.kb, entry)

    def view() -> Any:
        from painref.views.terminal import pathway_tree

        return pathway_tree(steps, entry.name)

    return Reply(pathway_record(store.kb, entry), view)


def define(store: Store, words: list[str]) -> Reply:
    from painref.find.names import Index
    from painref.views.records import term_record

    query = _query(words)
    if not query:
        raise PainrefError("define needs a term", hint="e.g. painref define fluoroscopy, or painref define --list")
    require_words(query)
    found = store.kb.terms.get(query)
    if found is None:
        result = Index(store.db, "terms").match(query)
        if result.best is None:
            entry = entries_index(store).match(query).best
            hint = (
                f"{shown(query)} is a {entry.kind}: painref show {entry.id}"
                if entry
                else _names_hint(result.suggestions) or "the glossary covers terms used on the cards"
            )
            raise NotFound(f"no glossary term matches {shown(result.query)}", hint=hint)
        found = store.kb.terms[result.best.id]
    term = found

    def view() -> Any:
        from painref.views.terminal import term_card

        return term_card(term, store.kb.seeds)

    return Reply(term_record(term), view)


def glossary(store: Store) -> Reply:
    """Every glossary term, alphabetically."""
    terms = sorted(store.kb.terms.values(), key=lambda t: t.term.lower())
    rows = [{"id": t.id, "term": t.term, "aliases": list(t.aliases)} for t in terms]

    def view() -> Any:
        from painref.views.lists import glossary_table

        return glossary_table(terms)

    return Reply(rows, view)


def guide(store: Store) -> Reply:
    from painref.views.records import section_record

    if not store.kb.guide:
        raise NotFound("this knowledge base has no guide.yaml")

    def view() -> Any:
        from painref.views.terminal import guide_view

        return guide_view(store.kb)

    return Reply({"sections": [section_record(s) for s in store.kb.guide.values()]}, view)


def sources(store: Store) -> Reply:
    """The source documents, then every other reference the cards cite, with the entries citing each."""
    kb = store.kb
    seeds = [
        {"id": seed.id, "short": seed.short, "publisher": seed.publisher, "title": seed.title, "about": seed.about}
        for seed in kb.seeds.values()
    ]
    cited: dict[str, dict[str, Any]] = {}
    everything: list[Any] = [*kb.procedures.values(), *kb.conditions.values(), *kb.terms.values(), *kb.guide.values()]
    for entry in everything:
        for source in entry.sources:
            if source.seed:
                continue
            # The work itself; its marker and quotes belong to each citing card (show --json has them).
            work = {k: v for k, v in source.as_dict().items() if k not in ("cite", "quotes")}
            row = cited.setdefault(source.label(), {**work, "cited_by": []})
            row["cited_by"].append(entry.id)
    citations = sorted(cited.values(), key=lambda r: (str(r["title"]).lower(), r["year"]))

    def view() -> Any:
        from painref.views.lists import sources_view

        return sources_view(seeds, citations)

    return Reply({"seeds": seeds, "citations": citations}, view)


# ---------------------------------------------------------------- the knowledge base itself


def validate(directory: Path | None, data: str | None) -> Reply:
    """Check one directory (DIR), or every layer in force (--data, or built-in + PAINREF_PATH + user)."""
    from painref import kb as knowledge
    from painref.dirs import existing_directory, is_dir
    from painref.errors import DataError
    from painref.kb.layers import Layer, resolve_layers

    hint = "validate DIR checks a knowledge-base directory"
    layers = [Layer("data", existing_directory(directory, hint), required=True)] if directory else resolve_layers(data)
    where = ", ".join(str(layer.path) for layer in layers if layer.required or is_dir(layer.path))
    try:
        loaded = knowledge.load(layers)
        problems: list[str] = list(loaded.warnings)
    except DataError as exc:
        problems = [str(p) for p in exc.problems]
    record = {"directory": where, "ok": not problems, "problems": problems}
    if problems:
        return Reply(record, code=2, notes=[*problems, f"{len(problems)} problem(s) in {where}"])
    counts = [
        (len(loaded.procedures), "procedure"),
        (len(loaded.conditions), "condition"),
        (len(loaded.terms), "glossary term"),
        (len(loaded.guide), "guide section"),
        (sum(len(n) for n in loaded.notes.values()), "note"),
    ]
    text = f"ok: {where}: " + ", ".join(f"{n} {noun}{'' if n == 1 else 's'}" for n, noun in counts) + "\n"
    return Reply(record, text=text)


def paths(data: str | None) -> Reply:
    """The layers in order: whether each exists, and what it adds or overrides."""
    from painref.dirs import is_dir
    from painref.kb.layers import FILES, read_file, resolve_layers

    seen: set[str] = set()
    rows: list[dict[str, Any]] = []
    for layer in resolve_layers(data):
        row: dict[str, Any] = {
            "layer": layer.name,
            "path": str(layer.path),
            "exists": is_dir(layer.path),
            "files": [],
            "added": 0,
            "overridden": 0,
            "notes": 0,
            "problems": 0,
        }
        for name, key in FILES.items() if row["exists"] else ():
            path = layer.path / name
            if not os.path.lexists(path):
                continue
            row["files"].append(name)
            read = read_file(layer, key, path)
            row["problems"] += len(read.problems)
            if key == "notes":
                row["notes"] += len(read.records)
            elif key in ("procedures", "conditions"):
                for record in read.records:
                    row["overridden" if record.id in seen else "added"] += 1
                    seen.add(record.id)
        rows.append(row)

    def view() -> Any:
        from painref.views.lists import paths_table

        return paths_table(rows)

    return Reply({"layers": rows}, view)


def new(kind: str, ident: str) -> Reply:
    """Append a commented template for a new entry to the user's layer, in place."""
    from painref.atomic import append_text
    from painref.dirs import user_dir
    from painref.kb.schema import is_slug
    from painref.kb.templates import TEMPLATES

    if not is_slug(ident):
        raise PainrefError(f"{shown(ident)} is not an id", hint="ids are lowercase words joined by hyphens: my-block")
    home = user_dir()
    path = home / f"{kind}s.yaml"

    def addition(current: str) -> str:
        if re.search(rf"^[ \t#-]*id:[ \t]*{re.escape(ident)}[ \t]*\r?$", current, re.MULTILINE):
            raise PainrefError(f"{path} already has an entry or template with id {ident!r}", hint="edit it there")
        header = ""
        if not current.strip():
            header = f"# Your own {kind}s for painref (the user layer). Schema: data/SCHEMA.md in painref's source.\n"
            header += f"{kind}s:\n"
        return header + TEMPLATES[kind].format(id=ident)

    if os.path.lexists(home) and not home.is_dir():
        raise PainrefError(f"your painref directory {home} is not a directory", hint="set PAINREF_HOME to a directory")
    try:
        home.mkdir(parents=True, exist_ok=True)
        append_text(path, addition)
    except UnicodeDecodeError:
        raise PainrefError(f"{path} is not UTF-8 text; nothing was added", hint="fix or move the file") from None
    except OSError as exc:
        raise PainrefError(
            f"cannot write {path}: {exc.strerror or exc}", hint="check the file and its directory"
        ) from None
    note = f"added a template for {ident!r}; edit it, then run 'painref validate'"
    return Reply({"path": str(path), "id": ident}, text=f"{path}\n", notes=[note])


def complete_entries(incomplete: str, terms: bool = False) -> list[tuple[str, str]]:
    """Shell completion: entry ids whose id, name or alias starts with what was typed."""
    from painref.cli.output import open_store
    from painref.find.names import Index

    try:
        store = open_store(None)
    except PainrefError:
        return []
    typed = normalize(incomplete)
    out: list[tuple[str, str]] = []
    for _kind, ident, name, aliases, *_rest in Index(store.db, "terms" if terms else "entries").all_entries():
        if ident.startswith(incomplete) or any(normalize(label).startswith(typed) for label in (name, *aliases)):
            out.append((ident, _SHELL_UNSAFE.sub("", name)))
    return sorted(out)[:100]
