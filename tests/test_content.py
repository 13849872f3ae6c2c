"""The shipped knowledge base: complete, linked, sourced, and checked against official ICD-10-CM."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from painref.dirs import builtin_data_dir
from painref.kb import load_directory as load_uncached
from painref.kb.model import KnowledgeBase, claims
from painref.text import normalize
from tests.conftest import index_of

SEEDS = {"000_7f3623f05c56e85c", "001_e91aa19b8059c247", "002_fc61ea7414d851aa", "003_0f73fea668c8ff44"}
SEED_DIR = Path(__file__).parent / "data" / "seeds"  # copies of the four source documents
ASRA_DOI = "10.1097/AAP.0000000000000700"

# Every concept issue #3 names, by the words a user types, and the entry it must find.
CONCEPTS = {
    "epidural steroid injection": "epidural-steroid-injection",
    "cervical epidural injection": "cervical-epidural-steroid-injection",
    "transforaminal epidural steroid injection": "transforaminal-epidural-steroid-injection",
    "interlaminar epidural steroid injection": "interlaminar-epidural-steroid-injection",
    "selective nerve root block": "selective-nerve-root-block",
    "facet joint injection": "facet-joint-injection",
    "lumbar facet injection": "lumbar-facet-injection",
    "medial branch block": "medial-branch-block",
    "radiofrequency ablation": "radiofrequency-ablation",
    "radiofrequency medial branch neurotomy": "radiofrequency-medial-branch-neurotomy",
    "cervical radiofrequency ablation": "cervical-radiofrequency-ablation",
    "lumbar radiofrequency ablation": "lumbar-radiofrequency-ablation",
    "genicular radiofrequency ablation": "genicular-radiofrequency-ablation",
    "hip radiofrequency ablation": "hip-radiofrequency-ablation",
    "sacroiliac radiofrequency ablation": "sacroiliac-radiofrequency-ablation",
    "pulsed radiofrequency": "pulsed-radiofrequency-peripheral-nerve",
    "sacroiliac joint injection": "sacroiliac-joint-injection",
    "sacroiliac joint fusion": "sacroiliac-joint-fusion",
    "joint injection": "joint-injection",
    "knee joint injection": "knee-joint-injection",
    "hip joint injection": "hip-joint-injection",
    "shoulder joint injection": "shoulder-joint-injection",
    "ultrasound guided hip joint injection": "ultrasound-guided-hip-joint-injection",
    "hyaluronic acid injection": "hyaluronic-acid-injection",
    "trigger point injection": "trigger-point-injection",
    "nerve block": "nerve-block",
    "diagnostic nerve block": "diagnostic-nerve-block",
    "therapeutic nerve block": "therapeutic-nerve-block",
    "occipital nerve block": "occipital-nerve-block",
    "stellate ganglion block": "stellate-ganglion-block",
    "lumbar sympathetic block": "lumbar-sympathetic-block",
    "intercostal nerve block": "intercostal-nerve-block",
    "genicular nerve block": "genicular-nerve-block",
    "suprascapular nerve block": "suprascapular-nerve-block",
    "ultrasound guided peripheral nerve injection": "ultrasound-guided-peripheral-nerve-injection",
    "ultrasound guided piriformis injection": "ultrasound-guided-piriformis-injection",
    "spinal cord stimulation": "spinal-cord-stimulation",
    "spinal cord stimulator trial": "spinal-cord-stimulator-trial",
    "spinal cord stimulator implant": "spinal-cord-stimulator-implant",
    "peripheral nerve stimulation": "peripheral-nerve-stimulation",
    "percutaneous electrical nerve stimulation": "percutaneous-electrical-nerve-stimulation",
    "intrathecal pain pump": "intrathecal-pain-pump",
    "kyphoplasty": "kyphoplasty",
    "vertebroplasty": "vertebroplasty",
    "botox for chronic migraine": "botox-chronic-migraine",
    "infrared therapy": "infrared-therapy",
    "platelet rich plasma injection": "platelet-rich-plasma-injection",
    "stem cell injection": "stem-cell-injection",
    "prolotherapy": "prolotherapy",
    "discography": "discography",
    "intradiscal injection": "intradiscal-injection",
    "chemonucleolysis": "chemonucleolysis",
    "nucleoplasty": "nucleoplasty",
    "endoscopic lumbar discectomy": "endoscopic-lumbar-discectomy",
    "minimally invasive lumbar discectomy": "endoscopic-lumbar-discectomy",
    "facet joint synovial cyst aspiration": "facet-synovial-cyst-aspiration",
    "sciatica": "sciatica",
    "lumbar radiculopathy": "lumbar-radiculopathy",
    "cervical radiculopathy": "cervical-radiculopathy",
    "pinched nerve": "pinched-nerve",
    "herniated disc": "herniated-disc",
    "bulging disc": "bulging-disc",
    "disc protrusion": "disc-protrusion",
    "disc extrusion": "disc-extrusion",
    "annular tear": "annular-tear",
    "degenerative disc disease": "degenerative-disc-disease",
    "discogenic pain": "degenerative-disc-disease",
    "spinal stenosis": "spinal-stenosis",
    "spondylolisthesis": "spondylolisthesis",
    "spondylosis": "spondylosis",
    "facet joint arthritis": "facet-joint-arthritis",
    "sacroiliac joint dysfunction": "sacroiliac-joint-dysfunction",
    "failed back surgery syndrome": "failed-back-surgery-syndrome",
    "complex regional pain syndrome": "complex-regional-pain-syndrome",
    "reflex sympathetic dystrophy": "complex-regional-pain-syndrome",
    "occipital neuralgia": "occipital-neuralgia",
    "cervicogenic headache": "cervicogenic-headache",
    "chronic migraine": "chronic-migraine",
    "whiplash": "whiplash",
    "vertebral compression fracture": "vertebral-compression-fracture",
    "knee osteoarthritis": "knee-osteoarthritis",
    "hip osteoarthritis": "hip-osteoarthritis",
    "shoulder osteoarthritis": "shoulder-osteoarthritis",
    "peripheral nerve injury": "peripheral-nerve-injury",
    "postherpetic neuralgia": "postherpetic-neuralgia",
    "chest wall pain": "chest-wall-pain",
    "painful diabetic neuropathy": "painful-diabetic-neuropathy",
    "piriformis syndrome": "piriformis-syndrome",
    "myofascial pain": "myofascial-pain",
    "fibromyalgia": "fibromyalgia",
    "chronic neck pain": "chronic-neck-pain",
    "chronic low back pain": "chronic-low-back-pain",
    "chronic facial pain": "chronic-facial-pain",
    "cancer pain": "cancer-pain",
    "ptsd": "post-traumatic-stress-disorder",
}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_uncached(builtin_data_dir())


def test_size(kb: KnowledgeBase) -> None:
    assert len(kb.procedures) >= 40
    assert len(kb.conditions) >= 35
    assert len(kb.terms) >= 30
    assert {"candidacy", "expectations", "care-team", "questions"} <= set(kb.guide)


@pytest.mark.parametrize(("query", "expected"), sorted(CONCEPTS.items()))
def test_every_concept_is_found_under_its_own_name(kb: KnowledgeBase, query: str, expected: str) -> None:
    index = index_of(kb)
    best = index.match(query).best
    assert best is not None and best.id == expected, (query, best)


def test_links_both_ways(kb: KnowledgeBase) -> None:
    for proc in kb.procedures.values():
        assert proc.treats, f"{proc.id} treats no condition"
        for link in proc.treats:
            assert proc.id in {x.id for x in kb.conditions[link.id].procedures}
    for cond in kb.conditions.values():
        assert cond.procedures or cond.red_flag, f"{cond.id} links no procedure"
        for link in cond.procedures:
            assert cond.id in {x.id for x in kb.procedures[link.id].treats}


def test_every_procedure_has_a_bleeding_risk_from_the_asra_guideline(kb: KnowledgeBase) -> None:
    for proc in kb.procedures.values():
        assert proc.bleeding_risk in {"low", "intermediate", "high", "unclassified"}
        assert any(s.doi == ASRA_DOI for s in proc.sources), proc.id
    high = {p.id for p in kb.procedures.values() if p.bleeding_risk == "high"}
    assert {"kyphoplasty", "vertebroplasty", "spinal-cord-stimulator-implant", "intrathecal-pain-pump"} <= high
    assert kb.procedures["trigger-point-injection"].bleeding_risk == "low"
    assert kb.procedures["interlaminar-epidural-steroid-injection"].bleeding_risk == "intermediate"


def test_procedures_are_complete(kb: KnowledgeBase) -> None:
    for proc in kb.procedures.values():
        assert len(proc.questions) >= 3, proc.id
        assert proc.modalities, proc.id
        assert proc.relief_text and proc.relief_band, proc.id


def test_sources_are_seeds_or_full_citations(kb: KnowledgeBase) -> None:
    if SEED_DIR.is_dir():
        assert {p.stem for p in SEED_DIR.glob("*.txt")} == SEEDS
    everything = [*kb.procedures.values(), *kb.conditions.values(), *kb.terms.values(), *kb.guide.values()]
    for entry in everything:
        assert entry.sources
        for source in entry.sources:
            if source.seed:
                assert source.seed in SEEDS, (entry.id, source.seed)
            else:
                assert source.title and source.publisher and source.year and (source.doi or source.url), entry.id
    assert any(s.seed for e in everything for s in e.sources)


def test_icd10_codes_exist_with_official_descriptions(kb: KnowledgeBase) -> None:
    import simple_icd_10_cm as icd

    for cond in kb.conditions.values():
        assert cond.icd10, cond.id
        for code in cond.icd10:
            assert icd.is_valid_item(code.code), (cond.id, code.code)
            assert icd.get_description(code.code) == code.description, (cond.id, code.code)


def test_icd10_codes_are_billable_leaves(kb: KnowledgeBase) -> None:
    """A code with children (a category or subcategory header) cannot be billed.

    The package lists the 7th-character codes (M80.08XA, S13.4XXA) as children of the
    code they extend, so a code still missing its 7th character is not a leaf either.
    """
    import simple_icd_10_cm as icd

    for cond in kb.conditions.values():
        for code in cond.icd10:
            assert icd.is_leaf(code.code), (cond.id, code.code, icd.get_children(code.code))


# A code reference inside an Excludes1 note: "M51.1-", "M50.1", "M54.3-M54.4", "G56-G58", "M54.-".
_CODE = r"[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?"
_EXCLUDED = re.compile(rf"({_CODE})(?:\s*-\s*({_CODE}))?")


def _excluded_ranges(note: str) -> list[tuple[str, str]]:
    """The codes an Excludes1 note names, as (low, high) prefixes without dots."""
    out = []
    for inside in re.findall(r"\(([^()]*)\)", note):
        for low, high in _EXCLUDED.findall(inside):
            out.append((low.replace(".", ""), (high or low).replace(".", "")))
    return out


def _named_by(code: str, low: str, high: str) -> bool:
    bare = code.replace(".", "")
    return bare[: len(low)] >= low and bare[: len(high)] <= high


def test_the_range_parser_reads_the_note_forms_the_tabular_uses() -> None:
    assert _excluded_ranges("sciatica (M54.3-M54.4)") == [("M543", "M544")]
    assert _excluded_ranges("mononeuropathies (G56-G58)") == [("G56", "G58")]
    assert _excluded_ranges("traumatic fracture of vertebra (S12.-, S22.-, S32.-)") == [
        ("S12", "S12"),
        ("S22", "S22"),
        ("S32", "S32"),
    ]
    assert _named_by("M54.42", "M544", "M544") and _named_by("G58.9", "G56", "G58")
    assert not _named_by("G59", "G56", "G58") and not _named_by("M54.50", "M543", "M544")


def test_no_two_codes_of_one_condition_exclude_each_other(kb: KnowledgeBase) -> None:
    """Excludes1 means "never coded together": a condition's codes must not say so of each other.

    The note may sit on the code or on any of its ancestors, and either code may carry it.
    """
    import simple_icd_10_cm as icd

    def excludes1(code: str) -> list[tuple[str, str]]:
        notes = [n for c in (code, *icd.get_ancestors(code)) for n in icd.get_excludes1(c)]
        return [r for n in notes for r in _excluded_ranges(n)]

    # The notes that the shipped codes are known to carry: the parser must be reading them.
    assert ("M544", "M544") in excludes1("M54.31")
    assert ("M511", "M511") in excludes1("M54.16")

    for cond in kb.conditions.values():
        codes = [c.code for c in cond.icd10]
        for a in codes:
            ranges = excludes1(a)
            for b in codes:
                if b != a:
                    assert not any(_named_by(b, low, high) for low, high in ranges), (cond.id, a, b)


def test_seed_facts_are_carried(kb: KnowledgeBase) -> None:
    """A few of the documents' numbers, where a trainee would look for them."""
    neurotomy = kb.procedures["radiofrequency-medial-branch-neurotomy"].relief_text
    assert "9 to 12 months" in neurotomy
    assert "six months to two years" in kb.procedures["radiofrequency-ablation"].relief_text.lower()
    botox = kb.procedures["botox-chronic-migraine"]
    assert "15" in botox.summary + botox.relief_text and "twelve weeks" in (botox.summary + botox.relief_text).lower()
    assert "9 million" in kb.procedures["epidural-steroid-injection"].summary
    candidacy = " ".join(kb.guide["candidacy"].items).lower()
    assert "three months" in candidacy


def _texts(record: object) -> list[str]:
    out: list[str] = []
    for name in record.__dataclass_fields__:  # type: ignore[attr-defined]
        value = getattr(record, name)
        if isinstance(value, str):
            out.append(value)
        elif isinstance(value, tuple):
            out.extend(v for v in value if isinstance(v, str))
    return out


def test_every_seed_marker_points_at_a_source_the_entry_lists(kb: KnowledgeBase) -> None:
    import re

    marker = re.compile(r"\(([^()]*)\)")
    wrong: list[str] = []
    everything = [*kb.procedures.values(), *kb.conditions.values(), *kb.terms.values(), *kb.guide.values()]
    for entry in everything:
        listed = {s.seed.split("_")[0] for s in entry.sources if s.seed}
        for text in _texts(entry):
            for group in marker.findall(text):
                for number in re.findall(r"\b(00[0-3])\b", group):
                    if number not in listed:
                        wrong.append(f"{entry.id}: ({group})")
    assert wrong == []


def test_every_source_document_is_named(kb: KnowledgeBase) -> None:
    assert set(kb.seeds) == SEEDS
    for seed in kb.seeds.values():
        assert seed.publisher and seed.title and seed.short


# A figure: a number in digits, or a number word from two up ("one" is too often not a figure).
_WORDS = [
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
]
_WORD_VALUE: dict[str, object] = dict(zip(_WORDS, [*range(2, 21), 30, 40, 50, 60, 70, 80, 90, 100], strict=True))
# Fractions in words are figures too ("at least half", "about a third"; not "the third occipital nerve").
_FRACTION = re.compile(r"\bhalf\b|\b(?:a|one|two|three)[ -](?:thirds?|quarters?)\b")
# Not figures: spinal levels and names with digits (L4-5, C2, CAPS-5, ICHD-3, TA159, G90.5), and years.
_NOT_FIGURE = re.compile(r"\b[A-Za-z]+[-\u2013]?\d+(?:\.\d+)?(?:[-\u2013/][A-Za-z]*\d+)*\b|\b(?:19|20)\d\d\b")
_FIGURE = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])|\b(?:" + "|".join(_WORDS) + r")\b")


def figures(text: str) -> set[str]:
    """The figures a text states, number words as digits: "two to five days" -> {"2", "5"}."""
    text = _NOT_FIGURE.sub(" ", text.lower().replace("\u2013", "-").replace("\u2014", "-"))
    fractions = {f.replace("-", " ") for f in _FRACTION.findall(text)}
    return {str(_WORD_VALUE.get(f, f)).replace(",", "") for f in _FIGURE.findall(_FRACTION.sub(" ", text))} | fractions


def test_figures_reads_digits_words_and_skips_levels_and_years() -> None:
    assert figures("two to five days, 24-48 hours, 50% (L4-5, C2, ICHD-3, in 2020)") == {"2", "5", "24", "48", "50"}
    assert figures("one of the 1,000 cases lasting 2.5 weeks") == {"1000", "2.5"}
    assert figures("about a third, at least half, the third occipital nerve") == {"a third", "half"}


def _fields(record: object) -> list[tuple[str, str]]:
    """(field, text) for every displayed text of a record, names and codes aside."""
    out = []
    for name in record.__dataclass_fields__:  # type: ignore[attr-defined]
        if name in ("id", "name", "term", "aliases", "lay_terms", "icd10", "sources", "title"):
            continue
        value = getattr(record, name)
        for text in [value] if isinstance(value, str) else value if isinstance(value, tuple) else ():
            if isinstance(text, str):
                out.append((name, text))
    return out


def test_every_displayed_figure_is_in_its_source_text(kb: KnowledgeBase) -> None:
    """A figure stands in its source's words: the text of a seed it is marked with, or the quotes kept from a cited
    reference. A figure in unmarked text (a question, say) must be one the entry states with a source elsewhere."""
    seeds = {p.stem.split("_")[0]: figures(p.read_text(encoding="utf-8")) for p in SEED_DIR.glob("*.txt")}
    assert len(seeds) == 4
    unbacked: list[str] = []
    everything = [*kb.procedures.values(), *kb.conditions.values(), *kb.terms.values(), *kb.guide.values()]
    for entry in everything:
        quoted = {s.cite: figures(" ".join(s.quotes)) for s in entry.sources if s.cite}
        backed: set[str] = set()
        loose: list[tuple[str, str, str]] = []
        for field, text in _fields(entry):
            for claim, parts in claims(text, quoted.keys()):
                have = set().union(*(seeds.get(p, set()) | quoted.get(p, set()) for p in parts)) if parts else set()
                for figure in figures(claim):
                    if figure in have:
                        backed.add(figure)
                    elif parts:  # marked: its own sources must give it
                        unbacked.append(f"{entry.id} {field}: {figure!r} not in ({', '.join(parts)}): ...{claim[-70:]}")
                    else:
                        loose.append((field, figure, claim.strip()[-70:]))
        unbacked += [f"{entry.id} {field}: {fig!r} in ...{claim}" for field, fig, claim in loose if fig not in backed]
    assert unbacked == []


def test_a_relief_text_without_a_typical_duration_has_no_band(kb: KnowledgeBase) -> None:
    says_none = re.compile(r"\bno (?:typical )?duration\b(?! is given for (?:local|therapeutic))", re.IGNORECASE)
    banded = [p.id for p in kb.procedures.values() if says_none.search(p.relief_text) and p.relief_band != "not-stated"]
    assert banded == []
    assert not [p.id for p in kb.procedures.values() if "coded" in p.relief_text]  # the schema's word, not the card's


def test_a_doi_names_one_work(kb: KnowledgeBase) -> None:
    titles: dict[str, set[str]] = {}
    for entry in [*kb.procedures.values(), *kb.conditions.values(), *kb.terms.values(), *kb.guide.values()]:
        for source in entry.sources:
            if source.doi:
                titles.setdefault(source.doi.lower(), set()).add(normalize(str(source.title)))
    assert {doi: found for doi, found in titles.items() if len(found) > 1} == {}


# Classifications cited by their own names; every other marker is an author or organisation and a year.
NAMED_WORKS = {"ICHD-3", "ICD-10-CM", "ICD-11", "DSM-5"}
# Reference works cited by their publisher's name, as clinicians cite them ("StatPearls 2024").
PUBLISHER_CITED = {"StatPearls", "MedlinePlus", "Medscape", "RxList", "ACP", "MSD"}
# Organisations that author their own guidelines and statements, cited by their acronym.
ORGANISATIONS = {"AAOS", "ACR", "ADA", "ASPN", "ASRA", "FDA", "IASP", "IUPAC", "NICE", "NIH", "PACC", "MSD"}
# Works whose author line no copy we could read shows: the journal and year name them until one does.
AUTHOR_UNREAD = {
    "Spine 1996", "Expert Rev Med Devices 2011", "Medicine 2015", "AOTT 2024", "Biochem Res Int 2020",
    "JOCN 2019", "KJP 2024", "LRA 2024", "ACP Journal Club 1997", "Curr Pain Headache Rep 2020", "BCMJ 2024",
    "Phys Med Rehabil Clin N Am 2017",
}  # fmt: skip


def test_a_cite_names_an_author_or_organisation_and_a_year(kb: KnowledgeBase) -> None:
    wrong: list[str] = []
    for entry in [*kb.procedures.values(), *kb.conditions.values(), *kb.terms.values(), *kb.guide.values()]:
        for source in entry.sources:
            if not source.cite or source.cite in NAMED_WORKS or source.cite in AUTHOR_UNREAD:
                continue
            first = source.cite.split()[0]
            journal = str(source.publisher).split()[0]
            named_by_journal = first not in PUBLISHER_CITED and (
                journal.lower().startswith(first.lower()) or (first.isupper() and first not in ORGANISATIONS)
            )
            if not re.search(r"\b(?:19|20)\d\d[a-z]?$", source.cite) or named_by_journal:
                wrong.append(f"{entry.id}: {source.cite} ({source.publisher})")
    assert wrong == []


def test_an_entry_the_documents_do_not_name_cites_a_public_reference(kb: KnowledgeBase) -> None:
    """Entries beyond the four documents (caudal ESI, celiac plexus block, trigeminal neuralgia ...) rest on a
    full citation, not on the seeds alone."""
    seeds = " " + normalize(" ".join(p.read_text(encoding="utf-8") for p in SEED_DIR.glob("*.txt"))) + " "
    unsourced = []
    for entry in [*kb.procedures.values(), *kb.conditions.values()]:
        named = any(f" {normalize(label)} " in seeds for label in (entry.name, *entry.aliases))
        if not named and not any(s.title for s in entry.sources):
            unsourced.append(entry.id)
    assert unsourced == []
    assert (
        sum(
            1
            for e in [*kb.procedures.values(), *kb.conditions.values()]
            if not any(normalize(label) in seeds for label in (e.name, *e.aliases))
        )
        >= 33
    )  # the entries added beyond the documents


def test_cards_speak_of_source_documents_not_of_the_schemas_words(kb: KnowledgeBase) -> None:
    jargon = re.compile(r"\bseeds?\b|\bnone is coded\b|\bcite key\b", re.IGNORECASE)
    found = [
        f"{entry.id} {field}"
        for entry in [*kb.procedures.values(), *kb.conditions.values(), *kb.terms.values(), *kb.guide.values()]
        for field, text in _fields(entry)
        if jargon.search(text)
    ]
    assert found == []
