"""Link the merged entries: check every cross-reference and derive the reverse links.

A condition lists its procedures with their role; a procedure's `treats` and
`variants` are derived here. Names and aliases must each point at one entry.
"""

from __future__ import annotations

from pathlib import Path

from painref.errors import DataError, Problem
from painref.kb.layers import FileRead, Merged
from painref.kb.model import GUIDE_SECTIONS, Condition, GuideSection, KnowledgeBase, Link, Note, Procedure, Seed, Term
from painref.text import squash

LOGISTICS = ("anesthesia", "setting", "procedure_time", "recovery")
COMMON_AT_LEAST = 5  # procedures with the same text make it the common one


def link(merged: Merged, reads: list[FileRead], where: str) -> KnowledgeBase:
    """The linked knowledge base; DataError listing every problem (each with its line) if any."""
    linked: list[Problem] = []
    kb = _link(merged, linked, where)
    by_file = {str(read.path): read for read in reads}
    problems = list(merged.problems)
    for problem in linked:
        read = by_file.get(problem.file)
        line = read.line(problem.entry, problem.field) if read and problem.line is None else None
        problems.append(Problem(problem.file, problem.message, line, problem.entry, problem.field) if line else problem)
    layers = {str(read.path.parent): read.layer.name for read in reads}
    if len(set(layers.values())) > 1:
        problems = [_in_layer(p, layers) for p in problems]
    if problems:
        raise DataError(problems)
    return kb


def _in_layer(problem: Problem, names: dict[str, str]) -> Problem:
    layer = names.get(str(Path(problem.file).parent))
    if layer is None:
        return problem
    return Problem(problem.file, f"{problem.message} (layer {layer})", problem.line, problem.entry, problem.field)


def _link(merged: Merged, problems: list[Problem], where: str) -> KnowledgeBase:
    unreadable = merged.unreadable
    procedures: dict[str, Procedure] = merged.tables["procedures"]
    conditions: dict[str, Condition] = merged.tables["conditions"]

    # Names and aliases must point at one entry only.
    owner: dict[str, str] = {}
    procedure_files = {pid: merged.file_of[f"procedures/{pid}"] for pid in procedures}
    condition_files = {cid: merged.file_of[f"conditions/{cid}"] for cid in conditions}
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
    # The logistics most procedures share word for word are said once (in the guide's "what to
    # expect"), not on every card: a card names which of its fields are the shared text.
    shared: dict[str, set[str]] = {}
    for name in LOGISTICS:
        counts: dict[str, int] = {}
        for proc in procedures.values():
            counts[getattr(proc, name)] = counts.get(getattr(proc, name), 0) + 1
        shared[name] = {text for text, n in counts.items() if n >= max(COMMON_AT_LEAST, len(procedures) // 8)}
    for proc in procedures.values():
        proc.common = tuple(name for name in LOGISTICS if getattr(proc, name) in shared[name])

    terms: dict[str, Term] = merged.tables["terms"]
    guide: dict[str, GuideSection] = merged.tables["sections"]
    if guide:
        guide_file = merged.file_of[f"sections/{next(iter(guide))}"]
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
    seeds: dict[str, Seed] = merged.tables["seeds"]
    if seeds:  # every source document cited is described (the built-in sources.yaml)
        cited = [(table, entry) for table in ("procedures", "conditions", "terms", "sections")
                 for entry in merged.tables[table].values()]  # fmt: skip
        for table, entry in cited:
            for source in entry.sources:
                if source.seed and source.seed not in seeds:
                    file = merged.file_of[f"{table}/{entry.id}"]
                    problems.append(
                        Problem(
                            file, f"source document {source.seed} is not in sources.yaml", None, entry.id, "sources"
                        )
                    )
    return KnowledgeBase(
        procedures, conditions, terms, guide, where, origin=merged.origin, notes=notes, warnings=warnings, seeds=seeds
    )
