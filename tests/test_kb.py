"""The loader: every kind of bad file is one clear problem naming file, line, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from painref.errors import DataError, PainrefError
from painref.kb import load_directory as load_uncached
from painref.kb.layers import resolve_layers
from tests.conftest import FIXTURE_KB


def problems_for(kb_dir: Path) -> list[str]:
    with pytest.raises(DataError) as info:
        load_uncached(kb_dir)
    return [str(p) for p in info.value.problems]


def replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def test_fixture_loads_and_links_both_ways() -> None:
    kb = load_uncached(FIXTURE_KB)
    assert set(kb.procedures) >= {"radiofrequency-ablation", "medial-branch-block"}
    rfa = kb.procedures["radiofrequency-ablation"]
    assert rfa.variants == ("genicular-radiofrequency-ablation",)
    assert [link.id for link in rfa.treats] == ["facet-joint-arthritis"]
    assert rfa.relief_band == "months-to-years" and rfa.relief_label == "months to years"
    assert kb.conditions["sciatica"].icd10[0].code == "M54.3"
    assert kb.procedures["genicular-radiofrequency-ablation"].parent == "radiofrequency-ablation"


def test_missing_field_names_file_line_entry_and_field(kb_dir: Path) -> None:
    replace(kb_dir / "procedures.yaml", "    onset: Immediate.\n", "")
    [problem] = problems_for(kb_dir)
    assert "procedures.yaml:" in problem
    assert "entry 'medial-branch-block'" in problem
    assert "field 'onset'" in problem
    assert "missing" in problem
    line = int(problem.split("procedures.yaml:")[1].split(":")[0])
    lines = (kb_dir / "procedures.yaml").read_text().splitlines()
    assert "id: medial-branch-block" in lines[line - 1]


def test_wrong_value_says_expected_and_found(kb_dir: Path) -> None:
    replace(kb_dir / "procedures.yaml", "purpose: diagnostic", "purpose: curative")
    [problem] = problems_for(kb_dir)
    assert "field 'purpose'" in problem and "diagnostic, therapeutic, both" in problem and "'curative'" in problem
    lines = (kb_dir / "procedures.yaml").read_text().splitlines()
    line = int(problem.split("procedures.yaml:")[1].split(":")[0])
    assert "purpose: curative" in lines[line - 1]


def test_all_problems_are_reported_not_just_the_first(kb_dir: Path) -> None:
    replace(kb_dir / "procedures.yaml", "purpose: diagnostic", "purpose: curative")
    replace(kb_dir / "conditions.yaml", "region: knee", "region: elbow")
    found = problems_for(kb_dir)
    assert len(found) == 2
    assert any("conditions.yaml" in p and "region" in p for p in found)


def test_broken_cross_reference_names_file_entry_and_field(kb_dir: Path) -> None:
    replace(kb_dir / "procedures.yaml", "next_steps: [radiofrequency-ablation]", "next_steps: [cryoablation]")
    [problem] = problems_for(kb_dir)
    assert "procedures.yaml" in problem and "'medial-branch-block'" in problem and "'next_steps'" in problem
    assert "cryoablation" in problem


def test_cross_reference_problems_name_a_line_too(kb_dir: Path) -> None:
    replace(kb_dir / "procedures.yaml", "next_steps: [radiofrequency-ablation]", "next_steps: [cryoablation]")
    [problem] = problems_for(kb_dir)
    line = int(problem.split("procedures.yaml:")[1].split(":")[0])
    assert "cryoablation" in (kb_dir / "procedures.yaml").read_text().splitlines()[line - 1]


def test_condition_where_procedure_expected(kb_dir: Path) -> None:
    replace(kb_dir / "procedures.yaml", "prerequisites: [medial-branch-block]", "prerequisites: [sciatica]")
    [problem] = problems_for(kb_dir)
    assert "is a condition" in problem


def test_duplicate_alias_across_entries(kb_dir: Path) -> None:
    replace(kb_dir / "procedures.yaml", "aliases: [MBB]", "aliases: [MBB, r.f.a.]")
    [problem] = problems_for(kb_dir)
    assert "also used by 'radiofrequency-ablation'" in problem


def test_duplicate_id_across_files(kb_dir: Path) -> None:
    replace(kb_dir / "conditions.yaml", "id: sciatica", "id: medial-branch-block")
    found = problems_for(kb_dir)
    assert any("duplicate id" in p for p in found)


def test_parent_cycle(kb_dir: Path) -> None:
    replace(
        kb_dir / "procedures.yaml",
        "    aliases: [RFA, nerve burning]\n",
        "    aliases: [RFA, nerve burning]\n    parent: genicular-radiofrequency-ablation\n",
    )
    assert any("loops" in p for p in problems_for(kb_dir))


def test_python_object_tag_is_refused_and_not_run(kb_dir: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (kb_dir / "glossary.yaml").write_text(f"terms: !!python/object/apply:os.system ['touch {marker}']\n")
    [problem] = problems_for(kb_dir)
    assert "glossary.yaml:1" in problem and "not allowed" in problem
    assert not marker.exists()


def test_syntax_error_names_line_column_and_quotes_it(kb_dir: Path) -> None:
    path = kb_dir / "conditions.yaml"
    lines = path.read_text().splitlines()
    lines[4] = "    region: [low-back"
    path.write_text("\n".join(lines) + "\n")
    [problem] = problems_for(kb_dir)
    assert "conditions.yaml:" in problem and "YAML syntax error" in problem and "column" in problem


def test_not_utf8(kb_dir: Path) -> None:
    (kb_dir / "glossary.yaml").write_bytes("terms:\n  - id: caf\xe9\n".encode("latin-1"))
    [problem] = problems_for(kb_dir)
    assert "glossary.yaml:2" in problem and "UTF-8" in problem


def test_empty_file(kb_dir: Path) -> None:
    (kb_dir / "glossary.yaml").write_text("")
    [problem] = problems_for(kb_dir)
    assert "empty" in problem


def test_list_where_mapping_expected(kb_dir: Path) -> None:
    (kb_dir / "glossary.yaml").write_text("- id: x\n")
    [problem] = problems_for(kb_dir)
    assert "expected a mapping" in problem and "found a list" in problem


def test_missing_required_file(kb_dir: Path) -> None:
    (kb_dir / "conditions.yaml").unlink()
    found = problems_for(kb_dir)
    assert any("conditions.yaml: missing file" in p for p in found)


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PainrefError, match="data directory not found"):
        resolve_layers(str(tmp_path / "nope"))


def test_anchors_and_aliases_are_refused(kb_dir: Path) -> None:
    bomb = "terms:\n" + "".join(f"  - &a{i} [*a{i - 1}, *a{i - 1}]\n" if i else "  - &a0 [lol]\n" for i in range(30))
    (kb_dir / "glossary.yaml").write_text(bomb)
    [problem] = problems_for(kb_dir)
    assert "anchors and aliases" in problem


def test_deep_nesting_is_refused(kb_dir: Path) -> None:
    (kb_dir / "glossary.yaml").write_text("terms: " + "[" * 5000 + "]" * 5000 + "\n")
    [problem] = problems_for(kb_dir)
    assert "glossary.yaml:1:" in problem  # refused with its line (the parser's own words may vary)


@pytest.mark.parametrize(
    "text",
    [
        "terms:\n- " + "- " * 20000 + "x\n",  # 40 kB that overflowed the YAML parser's stack
        "terms:\n" + "".join(" " * i + "-\n" for i in range(200)),
        "terms:\n" + "".join(" " * i + "? k\n" + " " * i + ":\n" for i in range(0, 120, 2)),
    ],
)
def test_deep_block_nesting_is_refused_without_crashing(kb_dir: Path, text: str) -> None:
    (kb_dir / "glossary.yaml").write_text(text)
    [problem] = problems_for(kb_dir)
    assert "glossary.yaml:" in problem and "nested deeper than" in problem


def test_an_entry_that_is_not_a_mapping_names_its_line(kb_dir: Path) -> None:
    (kb_dir / "glossary.yaml").write_text("terms:\n- - - x\n")
    [problem] = problems_for(kb_dir)
    assert "glossary.yaml:2" in problem and "expected a mapping (an entry), found a list" in problem


def test_citation_year_is_checked_every_time_it_appears(kb_dir: Path) -> None:
    """A citation seen before with a good year does not vouch for the same one with 2018.0."""
    path = kb_dir / "procedures.yaml"
    cite = "{title: A paper, publisher: A journal, year: %s, doi: 10.1/x}"
    replace(path, "sources: [003_0f73fea668c8ff44]", f"sources: [{cite % 2018}]")
    replace(path, "sources: [003_0f73fea668c8ff44]", f"sources: [{cite % '2018.0'}]")
    [problem] = problems_for(kb_dir)
    assert "citation year must be a year, found 2018.0" in problem


def test_several_documents_in_one_file_are_refused(kb_dir: Path) -> None:
    (kb_dir / "glossary.yaml").write_text("terms: []\n---\nterms: []\n")
    [problem] = problems_for(kb_dir)
    assert "glossary.yaml:2" in problem and "several documents" in problem


def test_tags_and_unused_anchors_are_refused(kb_dir: Path) -> None:
    for text in ("terms:\n  - !custom {id: x}\n", "terms: !local [a]\n", "terms:\n  - &unused {id: x}\n"):
        (kb_dir / "glossary.yaml").write_text(text)
        [problem] = problems_for(kb_dir)
        assert "glossary.yaml:" in problem and "not allowed" in problem, text


def test_duplicate_key_names_its_line(kb_dir: Path) -> None:
    replace(kb_dir / "procedures.yaml", "    onset: Immediate.\n", "    onset: Immediate.\n    onset: Later.\n")
    [problem] = problems_for(kb_dir)
    assert "procedures.yaml:" in problem and "duplicate key 'onset'" in problem


def test_byte_order_mark_and_yaml_1_2_words(kb_dir: Path) -> None:
    """A BOM is not part of the first key; yes/no/on/off are words, not booleans (YAML 1.2)."""
    path = kb_dir / "procedures.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    replace(path, "recovery: Home the same day.", "recovery: no")
    kb = load_uncached(kb_dir)
    assert any(p.recovery == "no" for p in kb.procedures.values())


def test_core_schema_scalars() -> None:
    """Plain scalars follow YAML 1.2's core schema; a non-specific tag ("! 123") makes text."""
    from painref.kb.yamlfile import load

    data, _marks = load("a: 123\nb: ! 123\nc: '123'\nd: on\ne: null\nf: 1.5\ng: 0x1F\n", "x.yaml")
    assert data == {"a": 123, "b": "123", "c": "123", "d": "on", "e": None, "f": 1.5, "g": 31}


def test_placeholder_text_is_refused(kb_dir: Path) -> None:
    replace(kb_dir / "procedures.yaml", "recovery: Home the same day.", "recovery: TBD")
    [problem] = problems_for(kb_dir)
    assert "field 'recovery'" in problem


def test_source_must_be_seed_or_full_citation(kb_dir: Path) -> None:
    replace(kb_dir / "procedures.yaml", "sources: [001_e91aa19b8059c247]", "sources: [{title: A paper, year: 2020}]")
    [problem] = problems_for(kb_dir)
    assert "citation lacks publisher, doi or url" in problem


def test_a_file_that_cannot_be_parsed_does_not_bury_its_error(kb_dir: Path) -> None:
    (kb_dir / "procedures.yaml").write_text("procedures: [\n")
    found = problems_for(kb_dir)
    assert len(found) == 1 and "YAML syntax error" in found[0]


def test_duplicate_keys_are_refused(kb_dir: Path) -> None:
    replace(kb_dir / "procedures.yaml", "    onset: Immediate.\n", "    onset: Immediate.\n    onset: Later.\n")
    [problem] = problems_for(kb_dir)
    assert "duplicate key 'onset'" in problem and "procedures.yaml:" in problem


CITATION = (
    "    sources:\n"
    "      - 003_0f73fea668c8ff44\n"
    "      - {title: A review, publisher: A journal, year: 2020, doi: 10.1/x, cite: Cohen 2020,"
    " quotes: ['relief lasted 12 months']}\n"
)


def test_a_marker_must_name_a_source_the_entry_lists(kb_dir: Path) -> None:
    path = kb_dir / "procedures.yaml"
    replace(path, "A test block of the nerves serving the facet joints.", "A test block (Cohen 2020) (002).")
    [cohen, seed] = problems_for(kb_dir)
    assert "entry 'medial-branch-block'" in cohen and "field 'summary'" in cohen and "(Cohen 2020)" in cohen
    assert "cite: Cohen 2020" in cohen  # the hint says how to mend it
    assert "(002)" in seed
    replace(
        path,
        "    sources: [003_0f73fea668c8ff44]\n  - id: epidural",
        CITATION.replace("(002)", "") + "  - id: epidural",
    )
    replace(path, "(Cohen 2020) (002)", "(Cohen 2020) (003)")
    kb = load_uncached(kb_dir)
    [_seed, cited] = kb.procedures["medial-branch-block"].sources
    assert cited.cite == "Cohen 2020" and cited.quotes == ("relief lasted 12 months",)
    assert cited.short_label().startswith("Cohen 2020: A review.")


@pytest.mark.parametrize(
    "citation",
    [
        "cite: 'Cohen, 2020'",  # a comma would split the marker
        "cite: ''",
        "quotes: []",
        "quotes: 'not a list'",
        "quotes: ['']",
    ],
)
def test_bad_cite_or_quotes_are_one_problem_each(kb_dir: Path, citation: str) -> None:
    path = kb_dir / "procedures.yaml"
    block = CITATION.replace("cite: Cohen 2020, quotes: ['relief lasted 12 months']", citation)
    replace(path, "    sources: [003_0f73fea668c8ff44]\n  - id: epidural", block + "  - id: epidural")
    [problem] = problems_for(kb_dir)
    assert "field 'sources[1]'" in problem


def test_two_citations_may_not_share_a_cite(kb_dir: Path) -> None:
    path = kb_dir / "procedures.yaml"
    twice = CITATION + CITATION.split("\n")[2] + "\n"
    replace(path, "    sources: [003_0f73fea668c8ff44]\n  - id: epidural", twice + "  - id: epidural")
    [problem] = problems_for(kb_dir)
    assert "'Cohen 2020'" in problem and "field 'sources'" in problem


def test_claims_cut_text_at_its_source_markers() -> None:
    from painref.kb.model import claims

    text = "Relief for 6 months (001). Similar success (52% vs 56%) (Cohen 2020; 003). A question?"
    assert claims(text) == [
        ("Relief for 6 months ", ("001",)),
        (". Similar success (52% vs 56%) ", ("Cohen 2020", "003")),
        (". A question?", ()),
    ]
    assert claims("Headache days (ICHD-3).", {"ICHD-3"}) == [("Headache days ", ("ICHD-3",))]
    assert claims("Headache days (ICHD-3).") == [("Headache days (ICHD-3).", ())]


def test_a_bracket_naming_a_listed_publisher_is_a_marker_that_must_resolve(kb_dir: Path) -> None:
    path = kb_dir / "procedures.yaml"
    block = CITATION.replace("publisher: A journal", "publisher: StatPearls Publishing")
    replace(path, "    sources: [003_0f73fea668c8ff44]\n  - id: epidural", block + "  - id: epidural")
    replace(path, "A test block of the nerves serving the facet joints.", "A test block (StatPearls).")
    [problem] = problems_for(kb_dir)
    assert "(StatPearls)" in problem and "cite: StatPearls" in problem
    replace(path, "(StatPearls)", "(lidocaine) (Cohen 2020)")  # an ordinary bracket, then the citation's own marker
    load_uncached(kb_dir)


def test_a_marker_broken_over_lines_is_one_line_in_its_problem(kb_dir: Path) -> None:
    path = kb_dir / "procedures.yaml"
    replace(
        path,
        "summary: A test block of the nerves serving the facet joints.",
        "summary: |\n      A test (Cohen\n      2020) block.",
    )
    [problem] = problems_for(kb_dir)
    assert "\n" not in problem and "(Cohen 2020)" in problem


def test_a_diagnosis_is_a_list_of_texts_whose_markers_are_checked(kb_dir: Path) -> None:
    path = kb_dir / "conditions.yaml"
    replace(path, "(003)]", "(Cohen 2020)]")
    [problem] = problems_for(kb_dir)
    assert "entry 'sciatica'" in problem and "field 'diagnosis'" in problem and "(Cohen 2020)" in problem
    replace(path, "diagnosis: [Pain down the leg when the opposite leg is raised (Cohen 2020)]", "diagnosis: 7")
    [problem] = problems_for(kb_dir)
    assert "entry 'sciatica'" in problem and "field 'diagnosis'" in problem
    replace(path, "diagnosis: 7", "diagnosis: []")  # optional, but not empty (data/SCHEMA.md)
    [problem] = problems_for(kb_dir)
    assert "entry 'sciatica'" in problem and "field 'diagnosis'" in problem
    replace(path, "    diagnosis: []\n", "")
    assert not load_uncached(kb_dir).conditions["sciatica"].diagnosis
