"""Renderables for the knowledge base's own lists: quiz statistics and topics, layers, sources, the glossary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from painref.kb.model import Term
from painref.views.terminal import DIM, _fields, plain


def _bar(share: float, width: int = 20) -> str:
    filled = round(max(0.0, min(1.0, share)) * width)
    return "█" * filled + "░" * (width - filled)


def stats_view(record: dict[str, object]) -> Group:
    """Quiz progress: what is due, learned and weak, and accuracy by kind of question."""
    rows: list[tuple[str, RenderableType]] = [
        ("Questions", plain(f"{record['questions']} ({record['new']} never seen)")),
        ("Due now", plain(str(record["due"]))),
        ("Learned", plain(str(record["learned"]))),
        ("Weak", plain(str(len(record["weak"])) if isinstance(record["weak"], list) else "0")),
        ("Progress file", plain(str(record["progress_file"]), DIM)),
    ]
    table = Table(title=plain("Accuracy by kind of question"), box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column(plain("Kind"))
    table.add_column(plain("Answered"), justify="right")
    table.add_column(plain("Right"), no_wrap=True)
    by_kind = record["by_kind"]
    assert isinstance(by_kind, dict)
    for kind, row in sorted(by_kind.items()):
        answered = row["right"] + row["wrong"]
        share = row["right"] / answered if answered else 0.0
        label = f"{_bar(share)} {100 * share:.0f} %" if answered else "—"
        table.add_row(plain(kind), plain(str(answered)), plain(label, "green" if share >= 0.8 else "yellow"))
    weak = record["weak"]
    parts: list[RenderableType] = [
        Panel(_fields(rows), title=plain("Quiz progress", "bold"), title_align="left"),
        table,
    ]
    if isinstance(weak, list) and weak:
        parts.append(plain("Weak: " + ", ".join(str(w) for w in weak[:12]), "yellow"))
    return Group(*parts)


def paths_table(rows: Sequence[dict[str, Any]]) -> Table:
    """The knowledge-base layers, in the order they are read."""
    table = Table(title=plain("Layers, read in this order (later ones add and override)"), box=box.SIMPLE_HEAD)
    table.add_column(plain("Layer"), no_wrap=True)
    table.add_column(plain("Path"), overflow="fold", ratio=3)
    table.add_column(plain("Exists"))
    table.add_column(plain("Adds"), justify="right")
    table.add_column(plain("Overrides"), justify="right")
    table.add_column(plain("Notes"), justify="right")
    for row in rows:
        exists = plain("yes" if row["exists"] else "no", "" if row["exists"] else DIM)
        if row["problems"]:
            exists = plain(f"{row['problems']} problem(s)", "red")
        table.add_row(
            plain(row["layer"]),
            plain(row["path"]),
            exists,
            plain(str(row["added"])),
            plain(str(row["overridden"])),
            plain(str(row["notes"])),
        )
    return table


def sources_view(seeds: Sequence[dict[str, Any]], citations: Sequence[dict[str, Any]]) -> Group:
    """The source documents with what each is, then the other references and how many cards cite them."""
    docs = [
        Panel(
            _fields([("Publisher", plain(s["publisher"])), ("Title", plain(s["title"])), ("About", plain(s["about"]))]),
            title=Text.assemble(plain(s["short"], "bold"), plain(f"  source document {s['id']}", DIM)),
            title_align="left",
        )
        for s in seeds
    ]
    refs = Table(title=plain(f"{len(citations)} other references the cards cite"), box=box.SIMPLE_HEAD, expand=True)
    refs.add_column(plain("Reference"), ratio=5, overflow="fold")
    refs.add_column(plain("Cited by"), ratio=1, justify="right")
    for c in citations:
        where = f"doi:{c['doi']}" if c.get("doi") else c.get("url", "")
        refs.add_row(plain(f"{c['title']}. {c['publisher']}, {c['year']}. {where}"), plain(str(len(c["cited_by"]))))
    return Group(*docs, refs)


def glossary_table(terms: Sequence[Term]) -> Table:
    table = Table(title=plain(f"{len(terms)} glossary terms (painref define TERM)"), box=box.SIMPLE_HEAD, expand=True)
    table.add_column(plain("Term"), ratio=2, min_width=max((len(w) for t in terms for w in t.term.split()), default=8))
    table.add_column(plain("Also"), ratio=3)
    for t in terms:
        table.add_row(plain(t.term), plain(", ".join(t.aliases), DIM))
    return table


def topics_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(title=plain("Quiz topics (painref quiz --topic TOPIC)"), box=box.SIMPLE_HEAD, expand=True)
    table.add_column(plain("Topic"), ratio=3, min_width=max((len(r["topic"]) for r in rows), default=8))
    table.add_column(plain("Kind"), ratio=1)
    table.add_column(plain("Questions"), justify="right", ratio=1)
    for r in rows:
        table.add_row(plain(r["topic"]), plain(r["kind"], DIM), plain(str(r["questions"])))
    return table
