"""An Anki deck (.apkg) of the quiz's fact cards, with genanki.

One note per question. Note GUIDs come from the question ids (kind:entry), so
importing a newer deck updates the same notes instead of duplicating them; the
deck and note-type ids are fixed for the same reason.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

from painref.kb.model import Seed
from painref.study.quiz import Question

DECK_ID = 1_759_204_113  # fixed: re-imports land in the same deck
MODEL_ID = 1_759_204_114
DECK_NAME = "painref: interventional pain management"


def _tag(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text.lower()).strip("-")


def build_deck(questions: list[Question], seeds: Mapping[str, Seed] | None = None) -> object:
    import genanki

    model = genanki.Model(
        MODEL_ID,
        "painref fact",
        fields=[{"name": "Question"}, {"name": "Answer"}, {"name": "Detail"}, {"name": "Source"}],
        templates=[
            {
                "name": "Fact",
                "qfmt": "{{Question}}",
                "afmt": "{{FrontSide}}<hr id=answer><b>{{Answer}}</b><br><br>{{Detail}}<br><small>{{Source}}</small>",
            }
        ],
    )
    deck = genanki.Deck(DECK_ID, DECK_NAME)
    for q in questions:
        source = "; ".join(s.label(seeds) for s in q.sources)
        deck.add_note(
            genanki.Note(
                model=model,
                fields=[html.escape(q.prompt), html.escape(q.correct), html.escape(q.explanation), html.escape(source)],
                guid=genanki.guid_for("painref", q.id),
                tags=[_tag(t) for t in (*q.tags, q.kind)],
            )
        )
    return deck


def write_package(questions: list[Question], path: Path, seeds: Mapping[str, Seed] | None = None) -> int:
    import genanki

    deck = build_deck(questions, seeds)
    path.parent.mkdir(parents=True, exist_ok=True)
    genanki.Package(deck).write_to_file(str(path))
    return len(questions)
