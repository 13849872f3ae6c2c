"""Records to Rich renderables. Pure functions: nothing here prints.

Every piece of knowledge-base or user text goes through ``plain`` so that Rich
markup in it is shown as typed and control characters never reach the terminal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from painref.kb.model import MODALITIES, Condition, Entry, KnowledgeBase, Procedure, Seed, Source, Term
from painref.text import clean

if TYPE_CHECKING:
    from painref.find.fulltext import Found
    from painref.find.names import Hit
    from painref.kb.pathway import Step

LABEL = "bold cyan"
DIM = "dim"
RISK_STYLE = {"low": "green", "intermediate": "yellow", "high": "bold red", "unclassified": "dim"}


NARROW = 60  # below this many columns, tables become lists
TABLE_MIN = 76  # tables of five or more columns need this many


class Responsive:
    """A renderable that picks its wide or narrow form from the width available."""

    def __init__(self, wide: RenderableType, narrow: RenderableType, breakpoint: int = NARROW) -> None:
        self.wide = wide
        self.narrow = narrow
        self.breakpoint = breakpoint

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.wide if options.max_width >= self.breakpoint else self.narrow


def longest_word(values: Iterable[str]) -> int:
    """The longest word among the texts: a column this wide wraps at spaces, never inside a word."""
    return max((len(word) for value in values for word in value.split()), default=1)


def plain(value: str, style: str = "") -> Text:
    """Literal text: markup is not interpreted, control characters are dropped."""
    return Text(clean(value), style=style)


class _Columns:
    """Rows of (left, right) cells whose left column has a known width.

    Rich measures every cell of a table to size its columns; here the widths are
    known (the left column's is given, the right one takes the rest), so the
    grid is built at render time with fixed widths and nothing is measured.
    """

    def __init__(self, rows: list[tuple[Text, RenderableType]], left: int, gap: int, left_style: str = "") -> None:
        self.rows, self.left, self.gap, self.left_style = rows, left, gap, left_style

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        left = min(self.left, max(1, width // 2))
        grid = Table.grid(padding=(0, self.gap, 0, 0))
        grid.add_column(width=left, style=self.left_style, no_wrap=True, overflow="ellipsis")
        grid.add_column(width=max(1, width - left - self.gap), overflow="fold")
        for label, value in self.rows:
            grid.add_row(label, value)
        yield grid


def _bullets(items: Iterable[str]) -> _Columns:
    """A bulleted list whose wrapped lines hang under the text, not the bullet."""
    return _Columns([(plain("•"), plain(item)) for item in items], left=1, gap=1)


def _names(kb: KnowledgeBase, ids: Iterable[str]) -> Text:
    names = [kb.name_of(i) for i in ids]
    return plain(", ".join(names)) if names else plain("—", DIM)


def _sources(sources: Sequence[Source], seeds: Mapping[str, Seed] | None = None) -> Text:
    """One short line per source; the full references are in `painref sources`."""
    return Text("\n").join(plain(s.short_label(seeds), DIM) for s in sources)


def _fields(rows: Iterable[tuple[str, RenderableType]]) -> _Columns:
    cells = [(plain(label), value) for label, value in rows]
    return _Columns(cells, left=max((len(label) for label, _v in cells), default=1), gap=1, left_style=LABEL)


def imaging_text(proc: Procedure, sep: str = ", ") -> str:
    """The modalities in a fixed order (fluoroscopy, ultrasound, CT), or "none"."""
    mods = [m for m in MODALITIES if m in proc.modalities and m != "none"]
    return sep.join(m if m != "ct" else "CT" for m in mods) or "none"


def risk_text(proc: Procedure) -> Text:
    return plain(proc.bleeding_risk, RISK_STYLE.get(proc.bleeding_risk, ""))


def procedure_card(kb: KnowledgeBase, proc: Procedure) -> Panel:
    family: list[tuple[str, RenderableType]] = []
    if proc.parent:
        family.append(("Family", plain(f"variant of {kb.name_of(proc.parent)}")))
    if proc.variants:
        family.append(("Variants", _names(kb, proc.variants)))
    treats = Text(", ").join(plain(f"{kb.name_of(link.id)} ({link.role})") for link in proc.treats) or plain("—", DIM)
    # What trainees check first (imaging, relief, bleeding risk, what comes before and after,
    # what to ask), then how it works and its risks, then the logistics most procedures share.
    rows: list[tuple[str, RenderableType]] = [
        ("Summary", plain(proc.summary)),
        ("Imaging", Text.assemble(plain(imaging_text(proc), "bold"), plain(f" — {proc.imaging_note}"))),
        ("Typical relief", Text.assemble(plain(proc.relief_label, "bold"), plain(f" — {proc.relief_text}"))),
        ("Bleeding risk", Text.assemble(risk_text(proc), plain(f" — {proc.bleeding_note}", DIM))),
        ("Comes before it", _names(kb, proc.prerequisites)),
        ("May come next", _names(kb, proc.next_steps)),
        ("Ask", _bullets(proc.questions)),
        ("Purpose", plain(proc.purpose)),
        ("Category", plain(proc.category)),
        *family,
        ("How it works", plain(f"{proc.agent} → {proc.target}")),
        ("Onset", plain(proc.onset)),
        ("Risks", _bullets(proc.risks)),
        ("Treats", treats),
        *((label, plain(getattr(proc, name))) for name, label in LOGISTICS if name not in proc.common),
        *_common_row(proc),
        ("Sources", _sources(proc.sources, kb.seeds)),
    ]
    title = Text.assemble(plain(proc.name, "bold"), plain("  procedure", DIM))
    return Panel(_fields(rows), title=title, title_align="left", box=box.ROUNDED, **_layer(kb, proc.id))


LOGISTICS = (("anesthesia", "Anesthesia"), ("setting", "Setting"), ("procedure_time", "Time"), ("recovery", "Recovery"))


def _common_row(proc: Procedure) -> list[tuple[str, RenderableType]]:
    """One line for the logistics this card shares with most procedures (said once, in the guide)."""
    shared = [label.lower() for name, label in LOGISTICS if name in proc.common]
    if not shared:
        return []
    listed = ", ".join(shared[:-1]) + (" and " if len(shared) > 1 else "") + shared[-1]
    return [("Logistics", plain(f"{listed.capitalize()} as for most procedures: painref guide", DIM))]


def condition_procedures_table(kb: KnowledgeBase, cond: Condition) -> Responsive:
    narrow = Text("\n").join(
        Text.assemble(
            plain(f"• {kb.procedures[link.id].name}", "bold"),
            plain(
                f"\n  {link.role} · {imaging_text(kb.procedures[link.id])} · {kb.procedures[link.id].relief_label}",
                DIM,
            ),
        )
        for link in cond.procedures
    )
    title = plain(f"Procedures for {cond.name}", "italic")
    return Responsive(_condition_procedures_wide(kb, cond), Group(title, narrow), breakpoint=TABLE_MIN)


class _RatioTable:
    """A table whose columns share the width by fixed ratios, worked out at render time.

    Given widths, Rich lays the table out without measuring every cell (the cost of
    a condition card's procedure table halves); no column is narrower than its
    longest word, so words are never split.
    """

    def __init__(self, title: str, columns: list[tuple[str, int]], rows: list[list[str]]) -> None:
        self.title, self.columns, self.rows = title, columns, rows

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        floors = [
            max(longest_word([header]), longest_word(row[i] for row in self.rows))
            for i, (header, _r) in enumerate(self.columns)
        ]
        free = options.max_width - 2 * len(self.columns) - sum(floors)
        total = sum(ratio for _h, ratio in self.columns)
        widths = [
            floor + max(0, free) * ratio // total for floor, (_h, ratio) in zip(floors, self.columns, strict=True)
        ]
        table = Table(title=plain(self.title), box=box.SIMPLE_HEAD)
        for (header, _ratio), width in zip(self.columns, widths, strict=True):
            table.add_column(plain(header), width=width, overflow="fold")
        for row in self.rows:
            table.add_row(*(plain(cell) for cell in row))
        yield table


def _condition_procedures_wide(kb: KnowledgeBase, cond: Condition) -> _RatioTable:
    rows = []
    for link in cond.procedures:
        proc = kb.procedures[link.id]
        rows.append([proc.name, link.role, proc.purpose, imaging_text(proc, "\n"), proc.relief_label])
    columns = [("Procedure", 5), ("Role", 3), ("Purpose", 3), ("Imaging", 3), ("Typical relief", 3)]
    return _RatioTable(f"Procedures for {cond.name}", columns, rows)


def condition_card(kb: KnowledgeBase, cond: Condition) -> Group:
    codes = Text("\n").join(plain(f"{c.code}  {c.description}") for c in cond.icd10)
    rows: list[tuple[str, RenderableType]] = [
        ("Summary", plain(cond.summary)),
        ("Region", plain(cond.region)),
        ("Symptoms", _bullets(cond.symptoms)),
        *([("Diagnosis", _bullets(cond.diagnosis))] if cond.diagnosis else []),
        ("ICD-10-CM", codes),
        ("First", _bullets(cond.conservative_care)),
        ("Ask", _bullets(cond.questions)),
        ("Sources", _sources(cond.sources, kb.seeds)),
    ]
    title = Text.assemble(plain(cond.name, "bold"), plain("  condition", DIM))
    if cond.red_flag:
        title.append_text(plain("  RED FLAG: urgent evaluation elsewhere", "bold red"))
    panel = Panel(_fields(rows), title=title, title_align="left", box=box.ROUNDED, **_layer(kb, cond.id))
    if not cond.procedures:
        return Group(panel)
    return Group(panel, condition_procedures_table(kb, cond))


def first_sentence(text: str) -> str:
    """The text up to its first full stop followed by a space (or all of it)."""
    cut = text.find(". ")
    return text if cut < 0 else text[: cut + 1]


def brief_card(kb: KnowledgeBase, entry: Entry) -> Panel:
    """One screen (80 x 24): what the entry is, and what a trainee checks between patients."""
    rows: list[tuple[str, RenderableType]] = [("What", plain(first_sentence(entry.summary)))]
    if isinstance(entry, Procedure):
        rows += [
            ("Imaging", plain(imaging_text(entry), "bold")),
            (
                "Relief",
                Text.assemble(plain(entry.relief_label, "bold"), plain(f" — {first_sentence(entry.relief_text)}")),
            ),
            ("Bleeding", risk_text(entry)),
            ("Before", _names(kb, entry.prerequisites)),
            ("Next", _names(kb, entry.next_steps)),
        ]
    else:
        lead = entry.icd10[0]
        rows += [
            ("Symptoms", _bullets(entry.symptoms[:3])),
            ("ICD-10-CM", plain(f"{lead.code}  {lead.description}")),
            ("Procedures", _names(kb, [link.id for link in entry.procedures[:5]])),
        ]
    rows.append(("Ask", _bullets(entry.questions[:3])))
    title = Text.assemble(plain(entry.name, "bold"), plain(f"  {entry.kind}", DIM))
    more = plain(f"painref show {entry.id} for the whole card", DIM)
    return Panel(_fields(rows), title=title, title_align="left", subtitle=more, subtitle_align="right")


def field_view(name: str, field: str, value: Any) -> RenderableType:
    """One field of an entry's record, as plain lines."""
    label = plain(f"{name}: {field.replace('_', ' ')}", "bold")

    def line(item: Any) -> str:
        if isinstance(item, dict):
            if "name" in item:
                return str(item["name"]) + (f" ({item['role']})" if item.get("role") else "")
            if "code" in item:
                return f"{item['code']}  {item['description']}"
            if "title" in item:
                return f"{item['title']}. {item['publisher']}, {item['year']}."
            if "seed" in item:
                return f"source document {str(item['seed']).split('_')[0]}"
            shown = {k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in item.items()}
            return "\n".join(f"{k.replace('_', ' ')}: {v}" for k, v in shown.items() if v not in (None, ""))
        return str(item)

    if isinstance(value, list):
        body: RenderableType = _bullets([line(v) for v in value]) if value else plain("—", DIM)
    elif isinstance(value, dict):
        body = plain(line(value))
    else:
        body = plain("—" if value in (None, "") else str(value))
    return Group(label, body)


def _layer(kb: KnowledgeBase, entry_id: str) -> dict[str, Any]:
    """The card's subtitle: the layer an entry came from, when there is more than one."""
    layer = kb.origin.get(entry_id)
    if not layer or layer == "data":
        return {}
    return {"subtitle": plain(f"from the {layer} layer", DIM), "subtitle_align": "right"}


def notes_panel(kb: KnowledgeBase, entry: Entry) -> Panel | None:
    notes = kb.notes.get(entry.id, ())
    if not notes:
        return None
    body = Text("\n").join(Text.assemble(plain(f"[{n.layer}] ", "bold magenta"), plain(n.text)) for n in notes)
    return Panel(body, title=plain("Local notes (not from the source documents)", "bold magenta"), title_align="left")


def entry_card(kb: KnowledgeBase, entry: Entry) -> RenderableType:
    card = procedure_card(kb, entry) if isinstance(entry, Procedure) else condition_card(kb, entry)
    notes = notes_panel(kb, entry)
    return card if notes is None else Group(card, notes)


def hits_table(hits: Sequence[Hit], title: str) -> Responsive:
    narrow = Group(
        plain(title, "italic"),
        *(Text.assemble(plain(f"• {h.name}", "bold"), plain(f"  {h.kind} · {h.score:g} · {h.id}", DIM)) for h in hits),
    )
    return Responsive(_hits_wide(hits, title), narrow)


def _hits_wide(hits: Sequence[Hit], title: str) -> Table:
    table = Table(title=plain(title), box=box.SIMPLE_HEAD, title_justify="left", expand=True)
    table.add_column(plain("Name"), overflow="fold", ratio=3, min_width=longest_word(h.name for h in hits))
    table.add_column(plain("Kind"), no_wrap=True)
    table.add_column(plain("Score"), justify="right", no_wrap=True)
    # The id is there to be copied: never broken.
    table.add_column(plain("Id (for painref show)"), no_wrap=True, style=DIM, min_width=max(len(h.id) for h in hits))
    for hit in hits:
        table.add_row(plain(hit.name), plain(hit.kind), plain(f"{hit.score:g}"), plain(hit.id))
    return table


def compare_table(kb: KnowledgeBase, procs: Sequence[Procedure]) -> Responsive:
    """Procedures as columns; on terminals too narrow for that, one block per procedure."""
    need = 20 + 24 * len(procs)
    return Responsive(_compare_wide(kb, procs), Group(*(_compare_block(kb, p) for p in procs)), breakpoint=need)


def _compare_rows(kb: KnowledgeBase, p: Procedure) -> list[tuple[str, RenderableType]]:
    return [
        ("Purpose", plain(p.purpose)),
        ("Imaging", plain(imaging_text(p))),
        ("Typical relief", Text.assemble(plain(p.relief_label, "bold"), plain(f" — {p.relief_text}"))),
        ("Onset", plain(p.onset)),
        ("Bleeding risk", risk_text(p)),
        ("Comes before", _names(kb, p.prerequisites)),
        ("May come next", _names(kb, p.next_steps)),
    ]


def _compare_block(kb: KnowledgeBase, p: Procedure) -> Group:
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True, style=LABEL)
    grid.add_column(ratio=1, overflow="fold")
    for label, value in _compare_rows(kb, p):
        grid.add_row(plain(label), value)
    return Group(plain(f"\n{p.name}", "bold underline"), grid)


def _compare_wide(kb: KnowledgeBase, procs: Sequence[Procedure]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_lines=True, title=plain("Side by side"), title_justify="left")
    table.add_column(plain(""), style=LABEL, no_wrap=True)
    for proc in procs:
        table.add_column(plain(proc.name, "bold"), overflow="fold", ratio=1)
    rows: list[tuple[str, list[RenderableType]]] = [
        ("Purpose", [plain(p.purpose) for p in procs]),
        ("Category", [plain(p.category) for p in procs]),
        ("Uses", [plain(p.agent) for p in procs]),
        ("Target", [plain(p.target) for p in procs]),
        ("Imaging", [plain(imaging_text(p)) for p in procs]),
        ("Anesthesia", [plain(p.anesthesia) for p in procs]),
        ("Setting", [plain(p.setting) for p in procs]),
        ("Time", [plain(p.procedure_time) for p in procs]),
        ("Onset", [plain(p.onset) for p in procs]),
        (
            "Typical relief",
            [Text.assemble(plain(p.relief_label, "bold"), plain(f"\n{p.relief_text}")) for p in procs],
        ),
        ("Recovery", [plain(p.recovery) for p in procs]),
        ("Bleeding risk", [risk_text(p) for p in procs]),
        ("Comes before", [_names(kb, p.prerequisites) for p in procs]),
        ("May come next", [_names(kb, p.next_steps) for p in procs]),
        ("Treats", [_names(kb, [link.id for link in p.treats]) for p in procs]),
    ]
    for label, cells in rows:
        table.add_row(plain(label), *cells)
    return table


def _list_wide(
    entries: Sequence[Entry], title: str, procedures: bool, aliases: bool, category: bool = True, indent: bool = True
) -> Table:
    table = Table(title=plain(title), box=box.SIMPLE_HEAD, title_justify="left", expand=True)
    names = [e.name for e in entries] or ["Name"]
    table.add_column(plain("Name"), overflow="fold", ratio=4, min_width=longest_word(names) + 2)
    if procedures:
        procs = [e for e in entries if isinstance(e, Procedure)]
        if category:
            table.add_column(
                plain("Category"), no_wrap=True, min_width=max((len(p.category) for p in procs), default=8)
            )
        table.add_column(plain("Purpose"), no_wrap=True)
        table.add_column(plain("Imaging"), no_wrap=True)
        table.add_column(plain("Relief"), ratio=2, min_width=longest_word(p.relief_label for p in procs))
        table.add_column(plain("Bleeding"), no_wrap=True)
    else:
        conds = [e for e in entries if isinstance(e, Condition)]
        table.add_column(plain("Region"), no_wrap=True, min_width=max((len(c.region) for c in conds), default=6))
        table.add_column(plain("ICD-10-CM"), ratio=2, min_width=8)
    if aliases:
        table.add_column(plain("Also called"), overflow="fold", style=DIM, ratio=4)
    for entry in entries:
        cells: list[RenderableType]
        if isinstance(entry, Procedure):
            cells = [
                plain(("  " if indent and entry.parent else "") + entry.name),
                *([plain(entry.category)] if category else []),
                plain(entry.purpose),
                plain(imaging_text(entry, "\n")),
                plain(entry.relief_label),
                risk_text(entry),
            ]
        else:
            cells = [plain(entry.name), plain(entry.region), plain(", ".join(c.code for c in entry.icd10))]
        if aliases:
            cells.append(plain(", ".join(entry.aliases[:4])))
        table.add_row(*cells)
    return table


def _list_narrow(entries: Sequence[Entry], title: str) -> Group:
    lines: list[Text] = []
    for entry in entries:
        if isinstance(entry, Procedure):
            facts = f"{entry.purpose} · {imaging_text(entry)} · {entry.relief_label}"
        else:
            facts = f"{entry.region} · {', '.join(c.code for c in entry.icd10)}"
        lines.append(Text.assemble(plain(f"• {entry.name}", "bold"), plain(f"\n  {facts}", DIM)))
    return Group(plain(title, "italic"), *lines)


def list_table(entries: Sequence[Entry], title: str, procedures: bool, families: bool = True) -> Responsive:
    """A table of entries: aliases and categories on wide terminals, a plain list on narrow ones.

    With `families`, variants are indented under their general entry (the list is in family order).
    """

    def table(aliases: bool, category: bool) -> Table:
        return _list_wide(entries, title, procedures, aliases, category, families)

    medium = Responsive(table(False, True), table(False, False), breakpoint=110)
    wide = Responsive(table(True, True), medium, breakpoint=140)
    return Responsive(wide, _list_narrow(entries, title), breakpoint=TABLE_MIN)


def questions_view(kb: KnowledgeBase, entry: Entry) -> Group:
    parts: list[RenderableType] = [
        Panel(_bullets(entry.questions), title=plain(f"Questions about {entry.name}", "bold"), title_align="left")
    ]
    general = kb.guide.get("questions")
    if general:
        parts.append(Panel(_bullets(general.items), title=plain(general.title, "bold"), title_align="left"))
    return Group(*parts)


def _proc_node(proc: Procedure) -> Text:
    return Text.assemble(
        plain(proc.name, "bold"),
        plain(f"  {proc.purpose} · {imaging_text(proc)} · relief {proc.relief_label}", DIM),
    )


def pathway_tree(steps: Sequence[Step], name: str) -> Tree:
    tree = Tree(Text.assemble(plain("Care pathway: ", "bold"), plain(name, "bold cyan")))
    for number, step in enumerate(steps, 1):
        branch = tree.add(plain(f"{number}. {step.title}", "bold"))
        for proc in step.procedures:
            branch.add(_proc_node(proc))
        for note in step.notes:
            branch.add(plain(note))
        if not step.procedures and not step.notes:
            branch.add(plain("nothing listed in the knowledge base", DIM))
    return tree


def term_card(term: Term, seeds: Mapping[str, Seed] | None = None) -> Panel:
    rows: list[tuple[str, RenderableType]] = [("Definition", plain(term.definition))]
    if term.aliases:
        rows.append(("Also", plain(", ".join(term.aliases))))
    rows.append(("Sources", _sources(term.sources, seeds)))
    return Panel(_fields(rows), title=plain(term.term, "bold"), title_align="left")


def guide_view(kb: KnowledgeBase) -> Group:
    return Group(
        *(
            Panel(
                Group(
                    _bullets(section.items), Text.assemble(plain("Sources: ", DIM), _sources(section.sources, kb.seeds))
                ),
                title=plain(section.title, "bold"),
                title_align="left",
            )
            for section in kb.guide.values()
        )
    )


def search_title(shown: int, total: int, query: str) -> str:
    quoted = repr(query if len(query) <= 60 else query[:60] + "…")
    noun = "entry mentions" if total == 1 else "entries mention"
    best = "" if shown == total else f" (best {shown} shown)"
    return f"{total} {noun} {quoted}{best}"


def _search_narrow(found: Sequence[Found], title: str) -> Group:
    lines: list[RenderableType] = [plain(title, "italic")]
    for hit in found:
        snippet = plain(hit.snippet)
        for start, end in hit.spans:
            snippet.stylize("bold yellow", start, end)
        lines.append(
            Text.assemble(plain(f"• {hit.entry.name}", "bold"), plain(f"  {hit.field.replace('_', ' ')}", DIM))
        )
        lines.append(Padding(snippet, (0, 0, 0, 2), expand=False))  # wrapped lines keep the indent
    return Group(*lines)


def search_table(found: Sequence[Found], title: str) -> Responsive:
    return Responsive(_search_wide(found, title), _search_narrow(found, title), breakpoint=TABLE_MIN)


def _search_wide(found: Sequence[Found], title: str) -> Table:
    table = Table(title=plain(title), box=box.SIMPLE_HEAD, title_justify="left", expand=True)
    table.add_column(plain("Entry"), overflow="fold", ratio=2, min_width=longest_word(f.entry.name for f in found))
    # A fixed width (its longest word): a ratio column is cut below its min_width ("diagno…").
    table.add_column(plain("Field"), width=longest_word(f.field.replace("_", " ") for f in found))
    table.add_column(plain("Where"), overflow="fold", ratio=5)
    table.add_column(plain("Score"), justify="right", no_wrap=True)
    for hit in found:
        snippet = plain(hit.snippet)
        for start, end in hit.spans:
            snippet.stylize("bold yellow", start, end)
        table.add_row(
            Text.assemble(plain(hit.entry.name, "bold"), plain(f"\n{hit.entry.kind}", DIM)),
            plain(hit.field.replace("_", " ")),
            snippet,
            plain(f"{hit.score:g}"),
        )
    return table
