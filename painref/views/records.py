"""Records as plain JSON-ready dicts, links resolved to {id, name}."""

from __future__ import annotations

import json
import re
from typing import Any

from painref.find.names import Hit, Result
from painref.kb.model import Condition, Entry, GuideSection, KnowledgeBase, Procedure, Term


def _ref(kb: KnowledgeBase, entry_id: str) -> dict[str, str]:
    return {"id": entry_id, "name": kb.name_of(entry_id)}


def procedure_record(kb: KnowledgeBase, proc: Procedure) -> dict[str, Any]:
    return {
        "kind": "procedure",
        "id": proc.id,
        "name": proc.name,
        "aliases": list(proc.aliases),
        "lay_terms": list(proc.lay_terms),
        "category": proc.category,
        "purpose": proc.purpose,
        "summary": proc.summary,
        "mechanism": {"agent": proc.agent, "target": proc.target},
        "imaging": {"modalities": list(proc.modalities), "note": proc.imaging_note},
        "anesthesia": proc.anesthesia,
        "setting": proc.setting,
        "procedure_time": proc.procedure_time,
        "onset": proc.onset,
        "relief": {"text": proc.relief_text, "band": proc.relief_band},
        "recovery": proc.recovery,
        "risks": list(proc.risks),
        "bleeding_risk": {"category": proc.bleeding_risk, "note": proc.bleeding_note},
        "parent": _ref(kb, proc.parent) if proc.parent else None,
        "variants": [_ref(kb, v) for v in proc.variants],
        "prerequisites": [_ref(kb, p) for p in proc.prerequisites],
        "next_steps": [_ref(kb, p) for p in proc.next_steps],
        "conditions": [{**_ref(kb, link.id), "role": link.role} for link in proc.treats],
        "questions": list(proc.questions),
        "sources": [s.as_dict() for s in proc.sources],
    }


def condition_record(kb: KnowledgeBase, cond: Condition) -> dict[str, Any]:
    return {
        "kind": "condition",
        "id": cond.id,
        "name": cond.name,
        "aliases": list(cond.aliases),
        "lay_terms": list(cond.lay_terms),
        "course": cond.course,
        "red_flag": cond.red_flag,
        "region": cond.region,
        "summary": cond.summary,
        "symptoms": list(cond.symptoms),
        "diagnosis": list(cond.diagnosis),
        "icd10": [{"code": c.code, "description": c.description} for c in cond.icd10],
        "conservative_care": list(cond.conservative_care),
        "procedures": [{**_ref(kb, link.id), "role": link.role} for link in cond.procedures],
        "questions": list(cond.questions),
        "sources": [s.as_dict() for s in cond.sources],
    }


def entry_record(kb: KnowledgeBase, entry: Entry) -> dict[str, Any]:
    """The full record, with the layer it came from and any local notes."""
    record = procedure_record(kb, entry) if isinstance(entry, Procedure) else condition_record(kb, entry)
    record["layer"] = kb.origin.get(entry.id, "data")
    record["notes"] = [{"layer": n.layer, "text": n.text} for n in kb.notes.get(entry.id, ())]
    return record


def term_record(term: Term) -> dict[str, Any]:
    return {
        "kind": "term",
        "id": term.id,
        "term": term.term,
        "aliases": list(term.aliases),
        "definition": term.definition,
        "sources": [s.as_dict() for s in term.sources],
    }


def section_record(section: GuideSection) -> dict[str, Any]:
    return {
        "id": section.id,
        "title": section.title,
        "items": list(section.items),
        "sources": [s.as_dict() for s in section.sources],
    }


def hit_record(hit: Hit) -> dict[str, Any]:
    return {"kind": hit.kind, "id": hit.id, "name": hit.name, "aliases": list(hit.aliases), "score": hit.score}


def lookup_record(result: Result) -> dict[str, Any]:
    return {
        "query": result.query,
        "matches": [hit_record(h) for h in result.matches],
        "suggestions": [hit_record(h) for h in result.suggestions],
        "unexplained": list(result.unexplained),
    }


def list_record(entry: Entry) -> dict[str, Any]:
    """A row of `list --json`: every column the table shows, and the id."""
    out: dict[str, Any] = {"kind": entry.kind, "id": entry.id, "name": entry.name, "aliases": list(entry.aliases)}
    if isinstance(entry, Procedure):
        out["category"] = entry.category
        out["purpose"] = entry.purpose
        out["imaging"] = list(entry.modalities)
        out["relief"] = entry.relief_band
        out["bleeding_risk"] = entry.bleeding_risk
        out["parent"] = entry.parent
    else:
        out["region"] = entry.region
        out["icd10"] = [c.code for c in entry.icd10]
    return out


# Characters a terminal acts on or reorders, escaped even in JSON's readable (non-ASCII) form.
_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def dumps(value: Any) -> str:
    """JSON with non-ASCII letters kept readable; NaN and infinity refused (they are not JSON)."""
    text = json.dumps(value, ensure_ascii=False, indent=2, allow_nan=False)
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def pathway_record(kb: KnowledgeBase, entry: Entry) -> dict[str, Any]:
    from painref.kb.pathway import build as build_pathway

    return {
        "entry": {"kind": entry.kind, "id": entry.id, "name": entry.name},
        "steps": [
            {
                "title": step.title,
                "notes": list(step.notes),
                "procedures": [
                    {"id": p.id, "name": p.name, "purpose": p.purpose, "relief": p.relief_text} for p in step.procedures
                ],
            }
            for step in build_pathway(kb, entry)
        ],
    }


def search_record(query: str, found: list[Any]) -> dict[str, Any]:
    return {
        "query": query,
        "results": [
            {
                "kind": f.entry.kind,
                "id": f.entry.id,
                "name": f.entry.name,
                "field": f.field,
                "snippet": f.snippet,
                "score": f.score,
            }
            for f in found
        ],
    }
