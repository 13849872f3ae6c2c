"""Renderables are pure: render them at fixed widths and read the text."""

from __future__ import annotations

import pytest
from rich.console import Console, RenderableType

from painref.kb import load_directory as load_uncached
from painref.kb.model import KnowledgeBase
from painref.kb.pathway import build
from painref.views import terminal as render
from tests.conftest import FIXTURE_KB


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_uncached(FIXTURE_KB)


def text_of(renderable: RenderableType, width: int = 100) -> str:
    console = Console(record=True, width=width, force_terminal=False, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_procedure_card_shows_the_facts(kb: KnowledgeBase) -> None:
    out = text_of(render.procedure_card(kb, kb.procedures["radiofrequency-ablation"]))
    for fact in [
        "Radiofrequency ablation",
        "fluoroscopy",
        "Six months to two years",
        "months to years",
        "intermediate",
        "Medial branch block",
        "Facet joint arthritis (therapeutic)",
        "Genicular radiofrequency ablation",
        "How long will it last?",
        "document 003",
    ]:
        assert fact in out, fact


def test_condition_card_has_procedure_table(kb: KnowledgeBase) -> None:
    out = text_of(render.condition_card(kb, kb.conditions["facet-joint-arthritis"]))
    assert "Procedures for Facet joint arthritis" in out
    assert "Medial branch block" in out and "diagnostic" in out
    assert "M47.816" in out and "Anti-inflammatory medication" in out


def test_markup_in_data_is_shown_literally(kb: KnowledgeBase) -> None:
    out = text_of(render.procedure_card(kb, kb.procedures["epidural-steroid-injection"]))
    assert "[bold red]not markup[/]" in out


def test_control_characters_are_removed() -> None:
    assert render.clean("a\x1b[31mred\x07b\tc\n") == "a[31mredb\tc\n"
    assert "\x1b" not in text_of(render.plain("\x1b[2Jboom"))


def test_compare_has_procedures_as_columns(kb: KnowledgeBase) -> None:
    procs = [kb.procedures["radiofrequency-ablation"], kb.procedures["epidural-steroid-injection"]]
    out = text_of(render.compare_table(kb, procs), width=120)
    header = next(line for line in out.splitlines() if "Radiofrequency ablation" in line)
    assert "Epidural steroid injection" in header
    for row in ["Imaging", "Typical relief", "Bleeding risk", "Comes before"]:
        assert row in out


@pytest.mark.parametrize("width", [40, 80, 200])
def test_cards_fit_any_width(kb: KnowledgeBase, width: int) -> None:
    out = text_of(render.procedure_card(kb, kb.procedures["medial-branch-block"]), width=width)
    assert max(len(line) for line in out.splitlines()) <= width
    assert "Medial branch" in out


def test_pathway_of_a_diagnostic_block(kb: KnowledgeBase) -> None:
    steps = build(kb, kb.procedures["medial-branch-block"])
    out = text_of(render.pathway_tree(steps, "Medial branch block"))
    assert "Conservative care first" in out and "Anti-inflammatory medication" in out
    assert "If the block helps" in out and "Radiofrequency ablation" in out
    assert out.index("Conservative care") < out.index("If the block helps")


def test_pathway_of_a_treatment_lists_its_prerequisite_first(kb: KnowledgeBase) -> None:
    out = text_of(render.pathway_tree(build(kb, kb.procedures["radiofrequency-ablation"]), "RFA"))
    assert out.index("Medial branch block") < out.index("This procedure")


def test_list_table_indents_variants(kb: KnowledgeBase) -> None:
    procs = [kb.procedures["radiofrequency-ablation"], kb.procedures["genicular-radiofrequency-ablation"]]
    out = text_of(render.list_table(procs, "2 procedures", procedures=True), width=200)
    assert "  Genicular radiofrequency" in out


def test_relief_is_a_band_in_words_never_a_number(kb: KnowledgeBase) -> None:
    assert kb.procedures["radiofrequency-ablation"].relief_label == "months to years"
    assert kb.procedures["medial-branch-block"].relief_label == "hours"
    assert kb.procedures["epidural-steroid-injection"].relief_label == "weeks to months"
    out = text_of(render.procedure_card(kb, kb.procedures["epidural-steroid-injection"]), width=120)
    assert "wk" not in out and " mo " not in out


def test_an_empty_procedure_list_keeps_procedure_columns() -> None:
    out = text_of(render.list_table([], "no procedures match these filters", procedures=True), width=120)
    assert "Purpose" in out and "ICD-10-CM" not in out


def test_sorted_lists_do_not_indent_variants(kb: KnowledgeBase) -> None:
    procs = [kb.procedures["genicular-radiofrequency-ablation"], kb.procedures["radiofrequency-ablation"]]
    out = text_of(render.list_table(procs, "2 procedures", procedures=True, families=False), width=200)
    assert "  Genicular radiofrequency" not in out.replace("\n  Genicular", "\nGenicular")


def test_brief_fits_one_80_by_24_screen_for_every_shipped_entry() -> None:
    from painref.dirs import builtin_data_dir

    shipped = load_uncached(builtin_data_dir())
    for entry in [*shipped.procedures.values(), *shipped.conditions.values()]:
        out = text_of(render.brief_card(shipped, entry), width=80)
        assert len(out.splitlines()) <= 24, entry.id
        for heading in ("What", "Ask"):
            assert heading in out, entry.id


@pytest.mark.parametrize("width", [40, 80, 120])
def test_a_field_view_at_any_width(kb: KnowledgeBase, width: int) -> None:
    out = text_of(
        render.field_view("Radiofrequency ablation", "imaging", {"modalities": ["fluoroscopy"], "note": "x"}), width
    )
    assert "modalities: fluoroscopy" in out


@pytest.mark.parametrize("width", [40, 80, 120])
def test_tables_never_break_an_id_or_a_word(width: int) -> None:
    from painref.dirs import builtin_data_dir
    from painref.find.names import Hit

    shipped = load_uncached(builtin_data_dir())
    hits = [
        Hit("procedure", "lumbar-epidural-steroid-injection", "Lumbar epidural steroid injection", (), 90.0, ""),
        Hit("condition", "complex-regional-pain-syndrome", "Complex regional pain syndrome", (), 85.0, ""),
    ]
    out = text_of(render.hits_table(hits, "Other close matches"), width)
    for hit in hits:
        assert hit.id in out  # whole, on one line
    listing = text_of(render.list_table(list(shipped.conditions.values()), "conditions", procedures=False), width)
    words = {w for c in shipped.conditions.values() for w in c.name.split() if len(w) <= width // 3}
    cut = [
        w
        for w in words
        if any(line.strip().endswith(w[: len(w) // 2]) and w not in line for line in listing.splitlines())
    ]
    assert "conditio" not in listing.replace("conditions", "").replace("condition", "")
    assert not cut or width == 40


def test_logistics_most_procedures_share_are_said_once(kb: KnowledgeBase) -> None:
    from painref.dirs import builtin_data_dir

    shipped = load_uncached(builtin_data_dir())
    common = [p for p in shipped.procedures.values() if len(p.common) == 4]
    assert common
    out = text_of(render.procedure_card(shipped, common[0]), width=100)
    import re

    assert "as for most procedures" in out and not re.search(r"│ Anesthesia\s", out)


def test_pathways_keep_to_what_belongs_to_them() -> None:
    from painref.dirs import builtin_data_dir

    shipped = load_uncached(builtin_data_dir())
    trial = build(shipped, shipped.procedures["spinal-cord-stimulator-trial"])
    diabetic = set(shipped.conditions["painful-diabetic-neuropathy"].conservative_care)
    assert not diabetic & set(trial[0].notes)  # one condition's care is not every pathway's
    kypho = build(shipped, shipped.procedures["kyphoplasty"])
    assert not any("three months" in note for step in kypho for note in step.notes)  # a fracture is acute
    sciatica = build(shipped, shipped.conditions["sciatica"])
    assert all(step.notes or step.procedures for step in sciatica)


def test_quiz_imaging_distractors_are_never_partly_right() -> None:
    from painref.dirs import builtin_data_dir
    from painref.study.quiz import all_questions

    shipped = load_uncached(builtin_data_dir())
    questions = all_questions(shipped, seed=3)
    for q in questions:
        if q.kind == "imaging":
            right = set(q.correct.split(", "))
            for option in q.options:
                if option != q.correct:
                    assert not set(option.split(", ")) <= right, (q.prompt, option)
        if q.kind == "bleeding":  # a category given by analogy is not asked as the guideline's
            assert "analogy" not in shipped.procedures[q.entry_id].bleeding_note.lower()
    assert any(q.kind == "bleeding" for q in questions)


@pytest.mark.parametrize("width", [40, 80, 120])
def test_brief_and_card_at_every_width_cite_each_source_in_one_short_line(width: int) -> None:
    from painref.dirs import builtin_data_dir

    shipped = load_uncached(builtin_data_dir())
    esi = shipped.procedures["epidural-steroid-injection"]
    brief = text_of(render.brief_card(shipped, esi), width)
    assert "Imaging" in brief and "Relief" in brief and "Bleeding" in brief
    card = text_of(render.procedure_card(shipped, esi), width)
    # What trainees check comes first: imaging and relief before how it works and the logistics.
    assert card.index("Imaging") < card.index("How it works") and card.index("Typical relief") < card.index("Onset")
    if width >= 80:
        assert "Nortex: What is interventional pain medicine" in " ".join(card.split())
        assert "doi:" not in card  # full references are in `painref sources`


def test_a_condition_card_shows_its_diagnosis_only_when_it_has_one(kb: KnowledgeBase) -> None:
    sciatica = text_of(render.condition_card(kb, kb.conditions["sciatica"]))
    assert "Diagnosis" in sciatica and "opposite leg is raised" in sciatica
    assert "Diagnosis" not in text_of(render.condition_card(kb, kb.conditions["facet-joint-arthritis"]))


@pytest.mark.parametrize("width", [76, 80, 100])
def test_search_shows_the_field_name_whole(kb: KnowledgeBase, width: int) -> None:
    from painref.find import fulltext
    from painref.store import memory_store

    found, total = fulltext.search(memory_store(kb), "opposite", limit=10)
    out = text_of(render.search_table(found, render.search_title(len(found), total, "opposite")), width)
    assert "diagnosis" in out and "diagno…" not in out
