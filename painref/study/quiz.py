"""Multiple-choice questions generated from the knowledge base.

Every question is a fact already on a card, asked back: which imaging guides a
procedure, how long relief typically lasts, whether it is diagnostic or
therapeutic, what treats a condition, what must come first, the bleeding-risk
category, which condition an ICD-10-CM code names. Distractors are drawn from
the same knowledge base, so they are plausible. Each question has a stable id
(kind:entry), so progress and Anki notes survive a rebuild.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from painref.kb.model import MODALITIES, PURPOSES, Condition, KnowledgeBase, Procedure, Seed, Source

OPTIONS = 4


@dataclass(frozen=True, slots=True, repr=False)
class Question:
    id: str
    kind: str
    entry_id: str
    prompt: str
    options: tuple[str, ...]
    answer: int  # index into options
    explanation: str  # the card line the answer comes from
    sources: tuple[Source, ...]
    tags: tuple[str, ...]  # category or region, for topics and Anki

    @property
    def correct(self) -> str:
        return self.options[self.answer]


def _imaging(proc: Procedure) -> str:
    """The modalities in a fixed order, so that "fluoroscopy, ultrasound" is one answer, not two."""
    names = {"ct": "CT", "none": "landmark technique (no imaging)"}
    used = [m for m in MODALITIES if m in proc.modalities]
    return ", ".join(names.get(m, m) for m in used)


def _imaging_pool(proc: Procedure, procs: list[Procedure]) -> list[str]:
    """Other procedures' imaging, leaving out any that is part of this one's (then it is not wrong)."""
    mine = set(proc.modalities)
    return [_imaging(p) for p in procs if not (set(p.modalities) <= mine or mine <= set(p.modalities))]


def backing(text: str, sources: tuple[Source, ...], seeds: Mapping[str, Seed]) -> tuple[Source, ...]:
    """The sources a card line cites: seeds named in it, citations whose year it gives (else none)."""
    found: list[Source] = []
    for source in sources:
        seed = seeds.get(source.seed) if source.seed else None
        named = seed is not None and seed.short in text
        marked = source.seed is not None and source.seed[:3] in text
        dated = source.year is not None and str(source.year) in text
        if named or marked or dated:
            found.append(source)
    return tuple(found)


def _choices(rng: random.Random, correct: str, pool: list[str]) -> tuple[tuple[str, ...], int] | None:
    """The correct answer among up to three distractors (at least two), shuffled."""
    distractors = sorted({p for p in pool if p != correct})
    if len(distractors) < 2:
        return None
    options = [correct, *rng.sample(distractors, min(OPTIONS - 1, len(distractors)))]
    rng.shuffle(options)
    return tuple(options), options.index(correct)


def _procedure_questions(kb: KnowledgeBase, proc: Procedure, rng: random.Random) -> Iterator[Question]:
    procs = list(kb.procedures.values())
    tags = (proc.category,)

    def make(kind: str, prompt: str, correct: str, pool: list[str], explanation: str) -> Question | None:
        picked = _choices(rng, correct, pool)
        if picked is None:
            return None
        options, answer = picked
        cited = backing(explanation, proc.sources, kb.seeds)
        return Question(f"{kind}:{proc.id}", kind, proc.id, prompt, options, answer, explanation, cited, tags)

    candidates = [
        make(
            "imaging",
            f"Which imaging guides {proc.name}?",
            _imaging(proc),
            _imaging_pool(proc, procs),
            f"Imaging: {_imaging(proc)} — {proc.imaging_note}",
        ),
        make(
            "relief",
            f"How long does relief from {proc.name} typically last?",
            proc.relief_label,
            [p.relief_label for p in procs if p.relief_rank >= 0],
            f"Typical relief: {proc.relief_text}",
        )
        if proc.relief_rank >= 0
        else None,
        make(
            "purpose",
            f"Is {proc.name} diagnostic, therapeutic, or both?",
            proc.purpose,
            list(PURPOSES),
            f"Purpose: {proc.purpose}. {proc.summary}",
        ),
        make(
            "bleeding",
            f"What is the periprocedural bleeding-risk category of {proc.name} (ASRA 2018)?",
            proc.bleeding_risk,
            ["low", "intermediate", "high", "unclassified"],
            f"Bleeding risk: {proc.bleeding_risk} — {proc.bleeding_note}",
        )
        # A category given "by analogy" is the card's reasoning, not the guideline's: not asked as fact.
        if proc.bleeding_risk != "unclassified" and "analogy" not in proc.bleeding_note.lower()
        else None,
    ]
    if proc.prerequisites:
        first = kb.procedures[proc.prerequisites[0]]
        before = {p.id for p in procs if p.id in proc.prerequisites or p.id == proc.id}
        candidates.append(
            make(
                "prerequisite",
                f"What must come before {proc.name}?",
                first.name,
                [p.name for p in procs if p.id not in before],
                f"Comes before it: {', '.join(kb.name_of(i) for i in proc.prerequisites)}",
            )
        )
    yield from (q for q in candidates if q is not None)


def _condition_questions(kb: KnowledgeBase, cond: Condition, rng: random.Random) -> Iterator[Question]:
    tags = (cond.region,)
    treating = [link.id for link in cond.procedures if link.role == "therapeutic"]
    if treating:
        correct = kb.procedures[treating[0]]
        linked = {link.id for link in cond.procedures}
        picked = _choices(rng, correct.name, [p.name for p in kb.procedures.values() if p.id not in linked])
        if picked:
            options, answer = picked
            yield Question(
                f"treats:{cond.id}",
                "treats",
                cond.id,
                f"Which of these procedures is used to treat {cond.name}?",
                options,
                answer,
                f"Procedures for {cond.name}: " + ", ".join(kb.name_of(i) for i in treating),
                cond.sources,
                tags,
            )
    # Only a code that names this card alone: a code several cards share has several right answers.
    shared = {c.code for other in kb.conditions.values() if other.id != cond.id for c in other.icd10}
    code = next((c for c in cond.icd10 if c.code not in shared), None)
    if code is None:
        return
    picked = _choices(rng, cond.name, [c.name for c in kb.conditions.values() if c.id != cond.id])
    if picked:
        options, answer = picked
        yield Question(
            f"icd10:{cond.id}",
            "icd10",
            cond.id,
            f"Which condition does ICD-10-CM code {code.code} name?",
            options,
            answer,
            f"ICD-10-CM {code.code}: {code.description} (the official ICD-10-CM code set)",
            (),
            tags,
        )


def all_questions(kb: KnowledgeBase, seed: int = 0) -> list[Question]:
    """Every question the knowledge base supports, with options fixed by `seed`."""
    rng = random.Random(seed)
    out: list[Question] = []
    for proc in sorted(kb.procedures.values(), key=lambda p: p.id):
        out.extend(_procedure_questions(kb, proc, rng))
    for cond in sorted(kb.conditions.values(), key=lambda c: c.id):
        out.extend(_condition_questions(kb, cond, rng))
    return out


def topic_filter(
    kb: KnowledgeBase, topic: str | None, resolve: Callable[[str], str | None]
) -> Callable[[Question], bool]:
    """Questions on a category, a region, or one entry (and, for a condition, its procedures)."""
    if not topic:
        return lambda q: True
    wanted = "-".join(topic.strip().lower().replace("_", " ").split())
    tags = {p.category for p in kb.procedures.values()} | {c.region for c in kb.conditions.values()}
    starting = sorted(t for t in tags if t.startswith(wanted)) if len(wanted) >= 3 else []
    if wanted in tags or len(starting) == 1:
        tag = wanted if wanted in tags else starting[0]
        return lambda q: tag in q.tags
    entry_id = resolve(topic)
    if entry_id is None:
        return lambda q: False
    related = {entry_id}
    if entry_id in kb.conditions:
        related |= {link.id for link in kb.conditions[entry_id].procedures}
    return lambda q: q.entry_id in related
