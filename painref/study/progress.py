"""Quiz progress: FSRS cards per question, kept in the user's data directory.

The file is rewritten atomically after every answer (temporary file, fsync,
rename), so a crash or Ctrl-C loses at most the answer being given. A file that
is corrupt or written by a newer painref is set aside (renamed, never deleted)
with a warning, and a fresh one started.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = 1
FILE = "progress.json"


def home_dir() -> Path:
    from painref.dirs import user_dir

    return user_dir()


@dataclass(slots=True)
class CardState:
    card: dict[str, Any]
    right: int = 0
    wrong: int = 0
    last_correct: bool | None = None


@dataclass(slots=True)
class Progress:
    path: Path
    cards: dict[str, CardState] = field(default_factory=dict)
    warning: str | None = None
    writable: bool = True  # False when the file exists but cannot be read: never overwrite it
    touched: set[str] = field(default_factory=set)  # questions answered in this session

    def due(self, qid: str, now: datetime) -> bool:
        state = self.cards.get(qid)
        if state is None:
            return False
        return _parse_time(state.card.get("due")) <= now

    def record(self, qid: str, correct: bool, now: datetime | None = None) -> CardState:
        """Rate a review with FSRS (Good when right, Again when wrong) and keep the result."""
        from fsrs import Card, Rating, Scheduler

        state = self.cards.get(qid)
        card = Card.from_dict(state.card) if state else Card(card_id=_card_id(qid))  # type: ignore[arg-type]
        card, _log = Scheduler(enable_fuzzing=False).review_card(
            card, Rating.Good if correct else Rating.Again, review_datetime=now
        )
        state = state or CardState(card={})
        state.card = dict(card.to_dict())
        state.right += correct
        state.wrong += not correct
        state.last_correct = correct
        self.cards[qid] = state
        self.touched.add(qid)
        return state

    def save(self) -> None:
        """Merge this session's answers into the file as it is now, under a lock, and write it atomically.

        Another quiz saving to the same file meanwhile keeps its answers too; a
        symlinked progress file stays a link (its target is written).
        """
        from painref.atomic import locked, write_file

        real = Path(os.path.realpath(self.path))
        real.parent.mkdir(parents=True, exist_ok=True)
        with locked(real.with_name(f".{real.name}.lock")):
            try:
                on_disk = _cards_in(real)
            except _Newer:
                raise PermissionError(f"{real} was written by a newer painref meanwhile") from None
            except (ValueError, KeyError, TypeError):  # damaged meanwhile: kept aside, not overwritten
                _set_aside(real, "corrupt", "is corrupt")
                on_disk = {}
            self.cards = {**on_disk, **{qid: self.cards[qid] for qid in self.touched if qid in self.cards}}
            payload = {
                "format": FORMAT,
                "cards": {
                    qid: {"card": s.card, "right": s.right, "wrong": s.wrong, "last_correct": s.last_correct}
                    for qid, s in sorted(self.cards.items())
                },
            }
            write_file(real, [json.dumps(payload, indent=1, sort_keys=True).encode("utf-8")], replace=True)


def _card_id(qid: str) -> int:
    import zlib

    return zlib.crc32(qid.encode()) + 1


def _parse_time(value: object) -> datetime:
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return datetime.min.replace(tzinfo=UTC)


def _set_aside(path: Path, suffix: str, reason: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.{suffix}-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.{suffix}-{stamp}-{n}")
        n += 1
    path.rename(target)
    return f"progress file {path} {reason}; kept it as {target.name} and started a fresh one"


def _cards_in(path: Path) -> dict[str, CardState]:
    """The cards of a progress file; ValueError if it is not one, {} if it is missing."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict) or not isinstance(data.get("format"), int):
        raise ValueError("not a painref progress file")
    if data["format"] > FORMAT:
        raise _Newer
    cards = {
        str(qid): CardState(
            card=dict(entry["card"]),
            right=int(entry.get("right", 0)),
            wrong=int(entry.get("wrong", 0)),
            last_correct=entry.get("last_correct"),
        )
        for qid, entry in data.get("cards", {}).items()
    }
    from fsrs import Card

    for state in cards.values():
        Card.from_dict(state.card)  # type: ignore[arg-type]  # validates the stored card
    return cards


class _Newer(Exception):
    pass


def load(path: Path | None = None) -> Progress:
    path = path or home_dir() / FILE
    try:
        return Progress(path, _cards_in(path))
    except OSError as exc:
        return Progress(path, warning=f"cannot read {path}: {exc.strerror}; progress will not be kept", writable=False)
    except _Newer:
        reason, suffix = "was written by a newer painref", "newer"
    except Exception:
        reason, suffix = "is corrupt", "corrupt"
    try:
        return Progress(path, warning=_set_aside(path, suffix, reason))
    except OSError as exc:
        warning = f"progress file {path} {reason} and cannot be set aside ({exc.strerror}); progress will not be kept"
        return Progress(path, warning=warning, writable=False)
