"""The Typer app: every command's arguments, defined once.

Each command parses its arguments here and hands them to painref.cli.commands;
what comes back is printed by painref.cli.output, which also picks the exit code.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from painref import __version__
from painref.cli import commands, listing
from painref.cli.output import run, run_with_store
from painref.kb.model import BLEEDING_RISKS, CATEGORIES, MODALITIES, PURPOSES, REGIONS, RELIEF_BANDS

DISCLAIMER = "Educational reference for trainees, not medical advice."
EXIT_CODES = "Exit codes: 0 found, 1 nothing found, 2 usage or data error."

APP_SETTINGS: dict[str, Any] = dict(
    name="painref",
    help=(
        "A terminal reference on interventional pain management: conditions, procedures, imaging, "
        f"relief, pathways and questions to ask.\n\n{DISCLAIMER}"
    ),
    epilog=(
        "Examples:\n\n  painref lookup sciatica\n\n  painref sciatica\n\n  painref compare rfa epidural\n\n"
        '  painref show "medial branch block" --brief\n\n  painref lookup knee rfa --json\n\n'
        f"{EXIT_CODES}"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app = typer.Typer(**APP_SETTINGS)

DataOpt = Annotated[
    str | None,
    typer.Option(
        "--data",
        envvar="PAINREF_DATA",
        help="Load the knowledge base from this directory instead of the built-in one.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", "-j", help="Print JSON instead of tables.")]
NoPager = Annotated[
    bool, typer.Option("--no-pager", help="Print long output at once instead of through $PAGER (less -FRX).")
]
Words = Annotated[
    list[str],
    typer.Argument(
        help="A name, alias or abbreviation; several words are joined.",
        autocompletion=lambda incomplete: commands.complete_entries(incomplete),
    ),
]


def _exit(code: int) -> None:
    if code:
        raise typer.Exit(code)


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


@app.command()
def lookup(query: Words, json: JsonOpt = False, data: DataOpt = None, no_pager: NoPager = False) -> None:
    """Find a condition or procedure and show its card.

    The best match is shown in full; other close matches follow. With no
    confident match, the nearest suggestions are shown and the exit code is 1.
    Lay words, a description of symptoms, a question or "X vs Y" work too.

    Examples:

    \b
      painref lookup sciatica
      painref lookup knee rfa
      painref lookup "slipped disc" --json
      painref lookup numb heavy legs when standing, better bending forward
      painref lookup can a lumbar epidural cause headache
    """
    _exit(run_with_store(lambda store: commands.lookup(store, query), data, json, not no_pager))


@app.command()
def show(
    name: Words,
    brief: Annotated[
        bool, typer.Option("--brief", "-b", help="One screen: what it is, imaging, relief, risk, before and after.")
    ] = False,
    field: Annotated[
        str | None,
        typer.Option(
            "--field", "-f", help="Only this field: imaging, relief, risks, questions, icd10, ...", show_default=False
        ),
    ] = None,
    json: JsonOpt = False,
    data: DataOpt = None,
    no_pager: NoPager = False,
) -> None:
    """Show the full card of one condition or procedure.

    Examples:

    \b
      painref show kyphoplasty
      painref show "medial branch block" --json
    """
    _exit(run_with_store(lambda store: commands.show(store, name, brief, field), data, json, not no_pager))


@app.command()
def compare(
    names: Annotated[
        list[str],
        typer.Argument(
            help="Two or more procedures; quote names of several words.",
            autocompletion=lambda incomplete: commands.complete_entries(incomplete),
        ),
    ],
    json: JsonOpt = False,
    data: DataOpt = None,
    no_pager: NoPager = False,
) -> None:
    """Compare procedures side by side: attributes as rows, procedures as columns.

    A general word means the family's general entry: 'rfa' is Radiofrequency
    ablation, 'epidural' is Epidural steroid injection.

    Examples:

    \b
      painref compare rfa epidural
      painref compare kyphoplasty vertebroplasty --json
    """
    _exit(run_with_store(lambda store: commands.compare(store, names), data, json, not no_pager))


def _opt(help_text: str, values: tuple[str, ...] = ()) -> Any:
    """An option with its help, and shell completion of the values it takes."""
    complete = (lambda incomplete: [v for v in values if v.startswith(incomplete)]) if values else None
    return typer.Option(help=help_text, show_default=False, autocompletion=complete)


@app.command("list")
def list_entries(
    kind: Annotated[
        str,
        typer.Argument(
            help="procedures or conditions (procedure, condition ... too).",
            autocompletion=lambda incomplete: [k for k in ("procedures", "conditions") if k.startswith(incomplete)],
            show_default=False,
        ),
    ],
    category: Annotated[str | None, _opt("Procedures of this category, e.g. nerve-block.", CATEGORIES)] = None,
    imaging: Annotated[
        str | None, _opt("Procedures guided by this imaging: fluoroscopy, ultrasound, ct, none.", MODALITIES)
    ] = None,
    purpose: Annotated[
        str | None, _opt("diagnostic, therapeutic or both ('diagnostic' includes 'both').", PURPOSES)
    ] = None,
    bleeding_risk: Annotated[
        str | None, _opt("Procedures of this ASRA bleeding-risk category: low, intermediate, high.", BLEEDING_RISKS)
    ] = None,
    treats: Annotated[str | None, _opt("Procedures linked to this condition, e.g. sciatica.")] = None,
    min_relief: Annotated[
        str | None,
        _opt("At least this relief band, or a duration: weeks-to-months, months-to-years, 2w, 6m.", RELIEF_BANDS[:-1]),
    ] = None,
    sort: Annotated[str, typer.Option(help="name, or relief (longest first).")] = "name",
    region: Annotated[str | None, _opt("Conditions of this region, e.g. low-back, knee.", REGIONS)] = None,
    json: JsonOpt = False,
    data: DataOpt = None,
    no_pager: NoPager = False,
) -> None:
    """List procedures or conditions; filters combine.

    Examples:

    \b
      painref list procedures --imaging ultrasound
      painref list procedures --purpose diagnostic
      painref list procedures --treats "knee osteoarthritis" --sort relief
      painref list procedures --min-relief 6m
      painref list conditions --region neck --json
    """
    filters = {
        "category": category,
        "imaging": imaging,
        "purpose": purpose,
        "bleeding_risk": bleeding_risk,
        "treats": treats,
        "min_relief": min_relief,
        "region": region,
    }
    _exit(run_with_store(lambda store: listing.list_entries(store, kind, filters, sort), data, json, not no_pager))


@app.command()
def search(
    text: Annotated[list[str], typer.Argument(help="Words to find inside the cards.")],
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=500, help="At most this many results.")] = 20,
    json: JsonOpt = False,
    data: DataOpt = None,
    no_pager: NoPager = False,
) -> None:
    """Find entries by what their cards say: imaging, risks, symptoms, questions ...

    Each result shows the field that matched and a snippet with the match highlighted.

    Examples:

    \b
      painref search ultrasound
      painref search "relief for several hours"
      painref search knee --json
    """
    _exit(run_with_store(lambda store: commands.search(store, text, limit), data, json, not no_pager))


@app.command()
def questions(name: Words, json: JsonOpt = False, data: DataOpt = None, no_pager: NoPager = False) -> None:
    """Questions to ask about a procedure or condition, plus the general ones.

    Examples:

    \b
      painref questions rfa
      painref questions sciatica --json
    """
    _exit(run_with_store(lambda store: commands.questions(store, name), data, json, not no_pager))


@app.command()
def pathway(name: Words, json: JsonOpt = False, data: DataOpt = None, no_pager: NoPager = False) -> None:
    """The care sequence around an entry, from conservative care to what comes next.

    Conservative care first, the diagnostic block, the treatment, and what
    follows when it helps or not.

    Examples:

    \b
      painref pathway "medial branch block"
      painref pathway sciatica --json
    """
    _exit(run_with_store(lambda store: commands.pathway(store, name), data, json, not no_pager))


@app.command()
def define(
    term: Annotated[
        list[str] | None,
        typer.Argument(
            help="A term used on the cards, e.g. fluoroscopy.",
            autocompletion=lambda incomplete: commands.complete_entries(incomplete, terms=True),
            show_default=False,
        ),
    ] = None,
    list_terms: Annotated[bool, typer.Option("--list", "-l", help="List every glossary term.")] = False,
    json: JsonOpt = False,
    data: DataOpt = None,
    no_pager: NoPager = False,
) -> None:
    """Define a term from the glossary.

    Examples:

    \b
      painref define fluoroscopy
      painref define "medial branch" --json
      painref define --list
    """
    if list_terms:
        return _exit(run_with_store(commands.glossary, data, json, not no_pager))
    _exit(run_with_store(lambda store: commands.define(store, term or []), data, json, not no_pager))


@app.command()
def guide(json: JsonOpt = False, data: DataOpt = None, no_pager: NoPager = False) -> None:
    """The documents' general guidance: candidacy, what to expect, care team, questions.

    Examples:

    \b
      painref guide
      painref guide --json
    """
    _exit(run_with_store(commands.guide, data, json, not no_pager))


@app.command()
def quiz(
    count: Annotated[int, typer.Option("--count", "-n", min=1, max=500, help="How many questions.")] = 10,
    topic: Annotated[
        str | None,
        _opt("A category (nerve-block), a region (knee) or an entry (kyphoplasty, sciatica).", CATEGORIES + REGIONS),
    ] = None,
    seed: Annotated[int | None, _opt("Fix the questions' order and options, for a reproducible quiz.")] = None,
    stats: Annotated[bool, typer.Option("--stats", help="Show what is due, learned and weak.")] = False,
    topics: Annotated[
        bool, typer.Option("--topics", help="List the topics, with how many questions each has.")
    ] = False,
    json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Study: multiple-choice questions from the cards, scheduled with FSRS spaced repetition.

    Cards that are due come first, then new ones. On a terminal it asks interactively; otherwise
    it reads one answer (a-d or 1-4) per line from stdin. Progress is saved after every answer in
    $PAINREF_HOME (default: the user data directory). With --json it prints the questions instead.

    Examples:

    \b
      painref quiz
      painref quiz --topic knee --count 5
      painref quiz --stats
      painref quiz --topics
      echo b | painref quiz --count 1 --seed 1
    """
    from painref.cli import studying

    if topics:
        return _exit(run_with_store(studying.topics, data, json))
    _exit(studying.quiz(count, topic, seed, stats, json, data))


class ExportKind(StrEnum):
    anki = "anki"
    markdown = "markdown"


@app.command()
def export(
    kind: Annotated[ExportKind, typer.Argument(help="anki or markdown.")],
    target: Annotated[str, typer.Argument(help="FILE.apkg for anki; a directory, or - for stdout, for markdown.")],
    force: Annotated[bool, typer.Option("--force", help="Replace files that already exist.")] = False,
    data: DataOpt = None,
) -> None:
    """Export the knowledge base for study: an Anki deck, or Markdown pages.

    The Anki deck has one note per quiz fact, tagged by category or region; its
    note ids are stable, so importing a newer deck updates notes instead of
    duplicating them. Markdown gives one linked page per entry and an index.
    An existing file is never replaced without --force; each file is written
    whole or not at all.

    Examples:

    \b
      painref export anki painref.apkg
      painref export markdown notes/
      painref export markdown -
    """
    from painref.cli import studying

    _exit(run_with_store(lambda store: studying.export(store, kind.value, target, force), data))


@app.command()
def sources(json: JsonOpt = False, data: DataOpt = None, no_pager: NoPager = False) -> None:
    """The sources: the four documents the cards are written from, and every other reference cited.

    In a card's text a marker such as (Nortex) names the source document; its
    full reference is in the card's Sources and here.

    Examples:
      painref sources
      painref sources --json
    """
    _exit(run_with_store(commands.sources, data, json, not no_pager))


@app.command()
def paths(json: JsonOpt = False, data: DataOpt = None, no_pager: NoPager = False) -> None:
    """The knowledge-base layers in order: built-in, $PAINREF_PATH, then yours.

    For each: whether it exists and how many entries it adds or overrides.
    Set PAINREF_PATH (colon-separated) for shared layers such as a clinic's;
    your own layer is $PAINREF_HOME, or the user data directory.

    Examples:

    \b
      painref paths
      PAINREF_PATH=/srv/clinic-kb painref paths --json
    """
    _exit(run(lambda: commands.paths(data), json, not no_pager))


@app.command()
def new(
    kind: Annotated[
        str,
        typer.Argument(
            help="procedure or condition (procedures, conditions ... too).",
            autocompletion=lambda incomplete: [k for k in ("procedure", "condition") if k.startswith(incomplete)],
            show_default=False,
        ),
    ],
    ident: Annotated[str, typer.Argument(metavar="ID", help="The new entry's id, e.g. my-clinic-block.")],
) -> None:
    """Add a commented template for a new entry to your own layer, ready to edit.

    Prints the file's path. Uncomment the template, fill in every field, then
    run `painref validate`.

    Examples:

    \b
      painref new procedure my-clinic-block
      painref new condition my-condition
    """
    _exit(run(lambda: commands.new(listing.list_kind(kind, "new")[:-1], ident)))


@app.command()
def validate(
    directory: Annotated[
        Path | None, typer.Argument(help="Knowledge-base directory (default: --data, $PAINREF_DATA or built-in).")
    ] = None,
    json: JsonOpt = False,
    data: DataOpt = None,
) -> None:
    """Check a knowledge base and report every problem with file and line.

    With DIR, that directory alone; otherwise every layer in force. Exit 0
    when clean, 2 otherwise.

    Examples:

    \b
      painref validate ./my-data
      painref validate --json
    """
    _exit(run(lambda: commands.validate(directory, data), json))


def command_app(argv: list[str]) -> typer.Typer | None:
    """The app with only the command argv names, or None to use the whole app.

    Typer builds every registered command's parser on each run; for `painref
    lookup ...` only lookup's is needed. The same registered command, the same
    callback and the same settings: the one parser, just less of it.
    """
    if not argv:
        return None
    for info in app.registered_commands:
        name = info.name or (info.callback.__name__ if info.callback else None)
        if name == argv[0]:
            single = typer.Typer(**APP_SETTINGS)
            single.registered_commands = [info]
            single.registered_callback = app.registered_callback
            return single
    return None
