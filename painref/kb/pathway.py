"""The care sequence around an entry, as plain steps (rendered as a tree, exported as JSON).

Built only from the knowledge base: the linked conditions' conservative care,
the guide's candidacy criteria (and what follows a block that does not help), prerequisites (followed back to the first
step), the entry itself, and next steps. A diagnostic block's next steps are
what a positive block opens the door to; a treatment's next steps are what may
follow when relief is too short or absent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from painref.kb.model import Condition, Entry, KnowledgeBase, Procedure


@dataclass(slots=True, repr=False, eq=False)
class Step:
    title: str
    notes: list[str] = field(default_factory=list)
    procedures: list[Procedure] = field(default_factory=list)


def prerequisite_chain(kb: KnowledgeBase, proc: Procedure) -> list[Procedure]:
    """Prerequisites, earliest first, following each prerequisite's own prerequisites."""
    chain: list[Procedure] = []
    seen = {proc.id}
    frontier = list(proc.prerequisites)
    while frontier:
        ident = frontier.pop(0)
        if ident in seen or ident not in kb.procedures:
            continue
        seen.add(ident)
        pre = kb.procedures[ident]
        chain.insert(0, pre)
        frontier.extend(pre.prerequisites)
    return chain


def _conservative(kb: KnowledgeBase, conditions: list[Condition]) -> Step:
    """The conservative care the conditions share (all of one condition's; for several, what at
    least half of them list: a step for one condition does not belong in every pathway), and the
    guide's general candidacy criterion unless every condition is an acute one."""
    step = Step("Conservative care first")
    counts: dict[str, int] = {}
    for cond in conditions:
        for item in dict.fromkeys(cond.conservative_care):
            counts[item] = counts.get(item, 0) + 1
    needed = 1 if len(conditions) <= 1 else max(2, (len(conditions) + 1) // 2)
    step.notes.extend(item for item, n in counts.items() if n >= needed)
    candidacy = kb.guide.get("candidacy")
    if candidacy and not (conditions and all(c.course == "acute" for c in conditions)):
        step.notes.append(f"In general: {candidacy.items[0]}")
    return step


def build(kb: KnowledgeBase, entry: Entry) -> list[Step]:
    if isinstance(entry, Condition):
        return _for_condition(kb, entry)
    return _for_procedure(kb, entry)


def _for_condition(kb: KnowledgeBase, cond: Condition) -> list[Step]:
    diagnostic = [kb.procedures[link.id] for link in cond.procedures if link.role == "diagnostic"]
    therapeutic = [kb.procedures[link.id] for link in cond.procedures if link.role == "therapeutic"]
    linked = {p.id for p in diagnostic + therapeutic}
    later = [kb.procedures[n] for p in therapeutic for n in p.next_steps if n in kb.procedures and n not in linked]
    steps = [
        _conservative(kb, [cond]),
        Step("Diagnostic blocks to confirm the pain source", procedures=diagnostic),
        Step("Therapeutic procedures", procedures=therapeutic),
        Step("If relief is too short or absent", procedures=list(dict.fromkeys(later))),
    ]
    return [step for step in steps if step.notes or step.procedures]  # a step with nothing in it is left out


def _for_procedure(kb: KnowledgeBase, proc: Procedure) -> list[Step]:
    conditions = [kb.conditions[link.id] for link in proc.treats if link.id in kb.conditions]
    nexts = [kb.procedures[n] for n in proc.next_steps if n in kb.procedures]
    steps = [
        _conservative(kb, conditions),
        Step("Comes first", procedures=prerequisite_chain(kb, proc)),
        Step("This procedure", notes=[f"Typical relief: {proc.relief_text}"], procedures=[proc]),
    ]
    if proc.purpose == "diagnostic":
        steps.append(Step("If the block helps (source confirmed)", procedures=nexts))
        negative = kb.guide.get("if-a-block-does-not-help")
        steps.append(Step("If it does not help", notes=list(negative.items) if negative else []))
    else:
        steps.append(Step("If relief is too short or absent: what may come next", procedures=nexts))
    return [step for step in steps if step.notes or step.procedures]
