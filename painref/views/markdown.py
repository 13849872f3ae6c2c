"""Markdown pages, one per entry, linked to each other, for notes kept in plain text."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from painref.kb.model import Condition, Entry, KnowledgeBase, Procedure
from painref.text import clean

DISCLAIMER = "_From painref: an educational reference, not medical advice._"


# Characters Markdown (and the HTML it may hold) would act on: each is shown as typed.
_SPECIAL = re.compile(r"([\\`*_\[\]()<>#|!~{}&])")


def md(text: str) -> str:
    """Text from the knowledge base as literal Markdown: no markup, no links, no HTML, no control characters."""
    return _SPECIAL.sub(r"\\\1", " ".join(clean(text).split()))


def page_path(entry: Entry) -> str:
    return f"{entry.kind}s/{entry.id}.md"


def _link(kb: KnowledgeBase, entry_id: str, here: Entry) -> str:
    target = kb.entry(entry_id)
    if target is None:
        return entry_id
    return f"[{md(target.name)}](../{page_path(target)})"


def _bullets(items: Iterable[str]) -> list[str]:
    return [f"- {md(item)}" for item in items] or ["- —"]


def page(kb: KnowledgeBase, entry: Entry) -> str:
    lines = [f"# {md(entry.name)}", "", DISCLAIMER, ""]
    if entry.aliases:
        lines += [f"Also called: {md(', '.join(entry.aliases))}", ""]
    lines += [md(entry.summary), ""]
    if isinstance(entry, Procedure):
        relief = entry.relief_text
        lines += [
            f"- **Purpose:** {md(entry.purpose)}",
            f"- **Category:** {md(entry.category)}",
            f"- **How it works:** {md(entry.agent)} → {md(entry.target)}",
            f"- **Imaging:** {', '.join(entry.modalities)} — {md(entry.imaging_note)}",
            f"- **Anesthesia:** {md(entry.anesthesia)}",
            f"- **Setting:** {md(entry.setting)}",
            f"- **Time:** {md(entry.procedure_time)}",
            f"- **Onset:** {md(entry.onset)}",
            f"- **Typical relief:** {md(relief)}",
            f"- **Recovery:** {md(entry.recovery)}",
            f"- **Bleeding risk (ASRA 2018):** {entry.bleeding_risk} — {md(entry.bleeding_note)}",
        ]
        if entry.parent:
            lines.append(f"- **Family:** variant of {_link(kb, entry.parent, entry)}")
        if entry.variants:
            lines.append("- **Variants:** " + ", ".join(_link(kb, v, entry) for v in entry.variants))
        lines.append("- **Comes before it:** " + (", ".join(_link(kb, p, entry) for p in entry.prerequisites) or "—"))
        lines.append("- **May come next:** " + (", ".join(_link(kb, p, entry) for p in entry.next_steps) or "—"))
        lines.append("- **Treats:** " + ", ".join(f"{_link(kb, t.id, entry)} ({t.role})" for t in entry.treats))
        lines += ["", "## Risks", "", *_bullets(entry.risks)]
    elif isinstance(entry, Condition):
        lines += [f"- **Region:** {md(entry.region)}"]
        lines += [f"- **ICD-10-CM:** {md(c.code)} {md(c.description)}" for c in entry.icd10]
        lines += ["", "## Symptoms", "", *_bullets(entry.symptoms)]
        if entry.diagnosis:
            lines += ["", "## Diagnosis", "", *_bullets(entry.diagnosis)]
        lines += ["", "## Conservative care first", "", *_bullets(entry.conservative_care)]
        lines += ["", "## Procedures", ""]
        lines += [f"- {_link(kb, link.id, entry)} ({link.role})" for link in entry.procedures]
    lines += ["", "## Questions to ask", "", *_bullets(entry.questions)]
    lines += ["", "## Sources", "", *_bullets([s.label(kb.seeds) for s in entry.sources]), ""]
    return "\n".join(lines)


def pages(kb: KnowledgeBase) -> Iterator[tuple[str, str]]:
    """(relative path, text) for every entry, then an index."""
    entries: list[Entry] = [*kb.procedures.values(), *kb.conditions.values()]
    for entry in entries:
        yield page_path(entry), page(kb, entry)
    index = ["# painref", "", DISCLAIMER, "", "## Procedures", ""]
    index += [f"- [{md(p.name)}]({page_path(p)})" for p in sorted(kb.procedures.values(), key=lambda p: p.name.lower())]
    index += ["", "## Conditions", ""]
    index += [f"- [{md(c.name)}]({page_path(c)})" for c in sorted(kb.conditions.values(), key=lambda c: c.name.lower())]
    yield "index.md", "\n".join(index) + "\n"
