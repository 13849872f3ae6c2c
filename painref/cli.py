"""The painref command line: parse, call, print. Nothing else lives here."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from painref import __version__
from painref.errors import NotFound, PainrefError

if TYPE_CHECKING:
    from rich.console import RenderableType

    from painref.model import Entry, Procedure
    from painref.search import Hit
    from painref.store import Store

DISCLAIMER = "Educational reference for trainees, not medical advice."
EXIT_CODES = "Exit codes: 0 found, 1 nothing found, 2 usage or data error."

app = typer.Typer(
    name="painref",
    help=(
        "A terminal reference on interventional pain management: conditions, procedures, imaging, "
        f"relief, pathways and questions to ask.\n\n{DISCLAIMER}"
    ),
    epilog=(
        "Examples: painref lookup sciatica · painref compare rfa epidural · "
        f'painref pathway "medial branch block" · painref lookup knee rfa --json\n\n{EXIT_CODES}'
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

DataOpt = Annotated[
    Path | None,
    typer.Option(
        "--data",
        envvar="PAINREF_DATA",
        help="Load the knowledge base from this directory instead of the built-in one.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


class ListKind(StrEnum):
    procedures = "procedures"
    conditions = "conditions"


# ---------------------------------------------------------------- helpers

F = TypeVar("F", bound=Callable[..., None])


def _report(exc: PainrefError) -> None:
    from painref.render import clean

    sys.stderr.write(f"painref: {clean(exc.message)}\n")
    if exc.hint:
        sys.stderr.write(f"hint: {clean(exc.hint)}\n")


def command(name: str | None = None) -> Callable[[F], F]:
    """Register a command whose expected failures become one stderr line and an exit code."""

    def register(fn: F) -> F:
        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> None:
            try:
                fn(*args, **kwargs)
            except PainrefError as exc:
                _report(exc)
                raise typer.Exit(exc.exit_code) from None

        app.command(name)(run)
        return fn

    return register


def _store(data: Path | None) -> Store:
    from painref.store import open_store

    return open_store(data)


def _print(renderable: RenderableType) -> None:
    from rich.console import Console

    Console().print(renderable)


def _print_json(value: Any) -> None:
    from painref.export import dumps

    sys.stdout.write(dumps(value) + "\n")


def _query(words: list[str]) -> str:
    return " ".join(words).strip()


def _names_hint(hits: list[Hit]) -> str | None:
    if not hits:
        return None
    return "did you mean: " + ", ".join(h.name for h in hits[:5]) + "?"


def _resolve(store: Store, words: list[str]) -> Entry:
    """The single entry a query names, or NotFound with suggestions."""
    query = _query(words)
    result = store.entries.search(query)
    if result.best is None:
        raise NotFound(
            f"no entry matches {query!r}" if query else "empty query",
            suggestions=[h.name for h in result.suggestions],
            hint=_names_hint(result.suggestions) or "try 'painref list procedures' or 'painref list conditions'",
        )
    entry = store.kb.entry(result.best.id)
    assert entry is not None
    return entry


def _resolve_procedure(store: Store, arg: str) -> Procedure:
    from painref.model import Procedure

    entry = _resolve(store, [arg])
    if not isinstance(entry, Procedure):
        procs = [store.kb.procedures[link.id].name for link in entry.procedures][:5]
        raise PainrefError(
            f"{arg!r} is a condition ({entry.name}), not a procedure; compare takes procedures",
            hint="procedures for it: " + ", ".join(procs) if procs else None,
        )
    return entry


# ---------------------------------------------------------------- commands


def _version(value: bool) -> None:
    if value:
        typer.echo(f"painref {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    pass


@command()
def lookup(
    query: Annotated[
        list[str], typer.Argument(help="Words to look up: a condition or procedure name, alias or abbreviation.")
    ],
    json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Find a condition or procedure and show its card.

    The best match is shown in full; other close matches follow. With no
    confident match, the nearest suggestions are shown and the exit code is 1.

    Examples: painref lookup sciatica · painref lookup knee rfa · painref lookup "slipped disc" --json
    """
    store = _store(data)
    result = store.entries.search(_query(query))
    if json:
        from painref.export import lookup_record

        _print_json(lookup_record(result))
        if result.best is None:
            raise typer.Exit(1)
        return
    if result.best is None:
        raise NotFound(
            f"no confident match for {result.query!r}",
            hint=_names_hint(result.suggestions) or "try 'painref list procedures' or 'painref list conditions'",
        )
    from rich.console import Group

    from painref import render

    entry = store.kb.entry(result.best.id)
    assert entry is not None
    parts: list[RenderableType] = [render.entry_card(store.kb, entry)]
    others = result.matches[1:] + result.suggestions[: max(0, 3 - len(result.matches[1:]))]
    if others:
        parts.append(render.hits_table(others, "Other close matches"))
    _print(Group(*parts))


@command()
def show(
    name: Annotated[list[str], typer.Argument(help="The entry's name, alias or id.")],
    json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Show the full card of one condition or procedure.

    Examples: painref show kyphoplasty · painref show "medial branch block" --json
    """
    store = _store(data)
    entry = _resolve(store, name)
    if json:
        from painref.export import entry_record

        _print_json(entry_record(store.kb, entry))
        return
    from painref import render

    _print(render.entry_card(store.kb, entry))


@command()
def compare(
    names: Annotated[list[str], typer.Argument(help="Two or more procedures; quote names of several words.")],
    json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Compare procedures side by side: attributes as rows, procedures as columns.

    A general word means the family's general entry: 'rfa' is Radiofrequency
    ablation, 'epidural' is Epidural steroid injection.

    Examples: painref compare rfa epidural · painref compare kyphoplasty vertebroplasty --json
    """
    if len(names) < 2:
        raise PainrefError("compare needs at least two procedures", hint="e.g. painref compare rfa epidural")
    store = _store(data)
    procs = [_resolve_procedure(store, arg) for arg in names]
    if json:
        from painref.export import procedure_record

        _print_json({"procedures": [procedure_record(store.kb, p) for p in procs]})
        return
    from painref import render

    _print(render.compare_table(store.kb, procs))


@command("list")
def list_entries(
    kind: Annotated[ListKind, typer.Argument(help="procedures or conditions.")],
    category: Annotated[
        str | None, typer.Option(help="Only procedures of this category, e.g. nerve-block.", show_default=False)
    ] = None,
    region: Annotated[
        str | None, typer.Option(help="Only conditions of this region, e.g. low-back.", show_default=False)
    ] = None,
    json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """List procedures or conditions, optionally filtered.

    Examples: painref list procedures --category radiofrequency · painref list conditions --region neck --json
    """
    from painref.model import CATEGORIES, REGIONS

    store = _store(data)
    entries: list[Entry]
    if kind is ListKind.procedures:
        if region:
            raise PainrefError("--region filters conditions", hint="use --category with procedures")
        if category and category not in CATEGORIES:
            raise PainrefError(f"unknown category {category!r}", hint="categories: " + ", ".join(CATEGORIES))
        entries = [p for p in _family_order(store) if not category or p.category == category]
    else:
        if category:
            raise PainrefError("--category filters procedures", hint="use --region with conditions")
        if region and region not in REGIONS:
            raise PainrefError(f"unknown region {region!r}", hint="regions: " + ", ".join(REGIONS))
        entries = sorted(
            (c for c in store.kb.conditions.values() if not region or c.region == region), key=lambda c: c.name.lower()
        )
    if json:
        from painref.export import list_record

        _print_json([list_record(e) for e in entries])
    else:
        from painref import render

        _print(render.list_table(entries, f"{len(entries)} {kind.value}"))
    if not entries:
        raise typer.Exit(1)


def _family_order(store: Store) -> list[Procedure]:
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


@command()
def questions(
    name: Annotated[list[str], typer.Argument(help="A procedure or condition.")],
    json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Questions to ask about a procedure or condition, plus the general ones.

    Examples: painref questions rfa · painref questions sciatica --json
    """
    store = _store(data)
    entry = _resolve(store, name)
    general = store.kb.guide.get("questions")
    if json:
        _print_json(
            {
                "entry": {"kind": entry.kind, "id": entry.id, "name": entry.name},
                "questions": list(entry.questions),
                "general": list(general.items) if general else [],
            }
        )
        return
    from painref import render

    _print(render.questions_view(store.kb, entry))


@command()
def pathway(
    name: Annotated[list[str], typer.Argument(help="A procedure or condition.")],
    json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """The care sequence around an entry: conservative care, diagnostic block,
    treatment, and what comes next.

    Examples: painref pathway "medial branch block" · painref pathway sciatica --json
    """
    store = _store(data)
    entry = _resolve(store, name)
    if json:
        from painref.export import pathway_record

        _print_json(pathway_record(store.kb, entry))
        return
    from painref import render
    from painref.pathway import build

    _print(render.pathway_tree(build(store.kb, entry), entry.name))


@command()
def define(
    term: Annotated[list[str], typer.Argument(help="A term used on the cards, e.g. fluoroscopy.")],
    json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Define a term from the glossary.

    Examples: painref define fluoroscopy · painref define "medial branch" --json
    """
    store = _store(data)
    result = store.terms.search(_query(term))
    if result.best is None:
        raise NotFound(
            f"no glossary term matches {result.query!r}",
            hint=_names_hint(result.suggestions) or "the glossary covers terms used on the cards",
        )
    found = store.kb.terms[result.best.id]
    if json:
        from painref.export import term_record

        _print_json(term_record(found))
        return
    from painref import render

    _print(render.term_card(found))


@command()
def guide(json: JsonOpt = False, data: DataOpt = None) -> None:
    """The documents' general guidance: who is a candidate, what to expect,
    the care team and the general questions to ask.

    Examples: painref guide · painref guide --json
    """
    store = _store(data)
    if not store.kb.guide:
        raise NotFound("this knowledge base has no guide.yaml")
    if json:
        from painref.export import section_record

        _print_json({"sections": [section_record(s) for s in store.kb.guide.values()]})
        return
    from painref import render

    _print(render.guide_view(store.kb))


@command()
def validate(
    directory: Annotated[
        Path | None, typer.Argument(help="Knowledge-base directory (default: --data, $PAINREF_DATA or built-in).")
    ] = None,
    json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Check a knowledge base and report every problem with file and line.

    Exit 0 when clean, 2 otherwise.

    Examples: painref validate ./my-data · painref validate --json
    """
    from painref.errors import DataError
    from painref.knowledge import load_uncached, resolve_data_dir

    where = resolve_data_dir(directory or data)
    try:
        kb = load_uncached(where)
        problems: list[str] = []
    except DataError as exc:
        problems = [str(p) for p in exc.problems]
    if json:
        _print_json({"directory": str(where), "ok": not problems, "problems": problems})
    elif problems:
        for line in problems:
            sys.stderr.write(f"{line}\n")
        sys.stderr.write(f"painref: {len(problems)} problem(s) in {where}\n")
    else:
        sys.stdout.write(
            f"ok: {where}: {len(kb.procedures)} procedures, {len(kb.conditions)} conditions, "
            f"{len(kb.terms)} glossary terms, {len(kb.guide)} guide sections\n"
        )
    if problems:
        raise typer.Exit(2)


# ---------------------------------------------------------------- entry point


def main() -> None:
    try:
        app()
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except KeyboardInterrupt:
        sys.stderr.write("painref: interrupted\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
