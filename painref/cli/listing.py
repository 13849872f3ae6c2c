"""`painref list`: procedures or conditions, filtered by the words people type for the values."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from painref.cli.commands import resolve
from painref.cli.output import Reply
from painref.errors import PainrefError

if TYPE_CHECKING:
    from painref.kb.model import Procedure
    from painref.store import Store


def family_order(procs: dict[str, Procedure]) -> list[Procedure]:
    """Procedures alphabetically, each family's variants right under their general entry."""
    out: list[Procedure] = []

    def visit(proc: Procedure) -> None:
        out.append(proc)
        for child in sorted((procs[v] for v in proc.variants if v in procs), key=lambda p: p.name.lower()):
            visit(child)

    for proc in sorted(
        (p for p in procs.values() if not p.parent or p.parent not in procs), key=lambda p: p.name.lower()
    ):
        visit(proc)
    return out


def relief_rank(text: str) -> int:
    """--min-relief: a band (weeks-to-months) or a duration (6m, 12w, 1y, 3d), as the band it falls in."""
    from painref.kb.model import RELIEF_BANDS

    word = text.strip().lower().replace(" ", "-")
    if word in RELIEF_BANDS[:-1]:
        return RELIEF_BANDS.index(word)
    match = re.fullmatch(r"(\d{1,4}(?:\.\d{1,3})?)-*(d|days?|w|wks?|weeks?|m|mo|months?|y|yrs?|years?)", word)
    if not match:
        raise PainrefError(
            f"cannot read the duration {text!r}",
            hint="a band (hours, days, weeks-to-months, months-to-years) or a duration: 3d, 12w, 6m, 1y",
        )
    weeks = float(match.group(1)) * {"d": 1 / 7, "w": 1.0, "m": 4.3, "y": 52.0}[match.group(2)[0]]
    # The band whose shortest relief is that long: months (two or more), weeks, days, hours.
    return 3 if weeks >= 8 else 2 if weeks >= 1 else 1 if weeks >= 1 / 7 else 0


# The words people type for a filter's values: "fluoro", "US", "x-ray", "moderate", "dx".
VALUE_WORDS = {
    "fluoro": "fluoroscopy", "xray": "fluoroscopy", "x-ray": "fluoroscopy", "c-arm": "fluoroscopy",
    "us": "ultrasound", "u-s": "ultrasound", "sono": "ultrasound", "sonography": "ultrasound",
    "cat": "ct", "computed-tomography": "ct", "landmark": "none", "no-imaging": "none", "blind": "none",
    "medium": "intermediate", "moderate": "intermediate", "med": "intermediate",
    "dx": "diagnostic", "tx": "therapeutic", "treatment": "therapeutic",
    "back": "low-back", "lumbar": "low-back", "lower-back": "low-back", "cervical": "neck",
    "thoracic": "thoracic-spine",
    "rf": "radiofrequency", "rfa": "radiofrequency", "injection": "spinal-injection", "block": "nerve-block",
    "stimulation": "neuromodulation", "stimulator": "neuromodulation",
}  # fmt: skip


def _choice(option: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    """A filter's value as the knowledge base spells it: its own words, a synonym, or an unambiguous prefix."""
    if value is None:
        return None
    typed = "-".join(value.strip().lower().replace("_", " ").replace("/", " ").split())
    typed = VALUE_WORDS.get(typed, typed)
    if typed in allowed:
        return typed
    starting = [a for a in allowed if a.startswith(typed)] if len(typed) >= 2 else []
    if len(starting) == 1:
        return starting[0]
    raise PainrefError(f"unknown {option} {value!r}", hint=f"{option} takes one of: " + ", ".join(allowed))


def list_kind(kind: str, command: str = "list") -> str:
    """procedures or conditions, however it is typed: singular, plural, abbreviated."""
    typed = kind.strip().lower().rstrip("s")
    for name in ("procedures", "conditions"):
        if len(typed) >= 3 and name.startswith(typed):
            return name
    words = (
        "procedures, or painref list conditions" if command == "list" else "procedure ID, or painref new condition ID"
    )
    raise PainrefError(
        f"painref {command} takes procedure or condition, not {kind!r}", hint=f"painref {command} {words}"
    )


def list_entries(store: Store, kind: str, filters: dict[str, str | None], sort: str) -> Reply:
    from painref.kb.model import BLEEDING_RISKS, CATEGORIES, MODALITIES, PURPOSES, REGIONS, Condition
    from painref.views.records import list_record

    kind = list_kind(kind)
    sort = _choice("--sort", sort, ("name", "relief")) or "name"
    region = filters.pop("region", None)
    entries: list[Any]
    if kind == "procedures":
        if region:
            raise PainrefError(
                "--region filters conditions", hint="procedures take --category, --imaging, --treats ..."
            )
        category, imaging = filters.get("category"), filters.get("imaging")
        purpose, bleeding = filters.get("purpose"), filters.get("bleeding_risk")
        treats, min_relief = filters.get("treats"), filters.get("min_relief")
        category = _choice("--category", category, CATEGORIES)
        imaging = _choice("--imaging", imaging, MODALITIES)
        purpose = _choice("--purpose", purpose, PURPOSES)
        bleeding = _choice("--bleeding-risk", bleeding, BLEEDING_RISKS)
        least = relief_rank(min_relief) if min_relief is not None else None
        treated: set[str] | None = None
        if treats is not None:
            condition = resolve(store, [treats])
            if not isinstance(condition, Condition):
                raise PainrefError(f"--treats takes a condition; {treats!r} is {condition.name}, a procedure")
            treated = {link.id for link in condition.procedures}
        every = {p.id: p for p in store.kb.procedures.values()}
        procs = [
            p
            for p in family_order(every)
            if (category is None or p.category == category)
            and (imaging is None or imaging in p.modalities)
            # "diagnostic" includes procedures that are both diagnostic and therapeutic.
            and (purpose is None or p.purpose in (purpose, "both"))
            and (bleeding is None or p.bleeding_risk == bleeding)
            and (treated is None or p.id in treated)
            and (least is None or p.relief_rank >= least)
        ]
        if sort == "relief":
            procs.sort(key=lambda p: -p.relief_rank)  # longest band first, not stated last; by name within
        entries = procs
    else:
        used = [name for name, value in filters.items() if value is not None]
        if used:
            raise PainrefError(f"--{used[0].replace('_', '-')} filters procedures", hint="conditions take --region")
        if sort == "relief":
            raise PainrefError("--sort relief orders procedures", hint="conditions are listed by name")
        region = _choice("--region", region, REGIONS)
        entries = sorted(
            (c for c in store.kb.conditions.values() if not region or c.region == region),
            key=lambda c: c.name.lower(),
        )

    def view() -> Any:
        from painref.views.terminal import list_table

        noun = kind if len(entries) != 1 else kind[:-1]
        title = f"{len(entries)} {noun}" if entries else f"no {kind} match these filters"
        return list_table(entries, title, kind == "procedures", families=sort == "name")

    return Reply([list_record(e) for e in entries], view, code=0 if entries else 1)
