"""The compiled cache never serves stale or wrong data."""

from __future__ import annotations

import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from painref import cache, knowledge, store, workers
from painref.cache import Records
from painref.errors import PainrefError
from painref.export import entry_record
from painref.knowledge import load_uncached
from painref.model import KnowledgeBase
from painref.paths import builtin_data_dir, resolve_layers
from painref.store import open_store


def test_second_open_reads_the_cache_lazily(kb_dir: Path) -> None:
    first = open_store(kb_dir)
    assert isinstance(first.kb.procedures, dict)
    assert cache.path_for([kb_dir]).exists()
    second = open_store(kb_dir)
    assert isinstance(second.kb.procedures, Records)
    rfa = second.kb.procedures["radiofrequency-ablation"]
    assert rfa.variants == ("genicular-radiofrequency-ablation",)
    assert second.kb.name_of("sciatica") == "Sciatica"
    assert second.entries.search("knee rfa").best is not None
    assert sorted(second.kb.procedures) == sorted(first.kb.procedures)


def test_an_edit_rebuilds_it(kb_dir: Path) -> None:
    open_store(kb_dir)
    path = kb_dir / "conditions.yaml"
    path.write_text(path.read_text().replace("name: Sciatica", "name: Sciatica (edited)"))
    assert open_store(kb_dir).kb.conditions["sciatica"].name == "Sciatica (edited)"


def test_same_size_edit_with_new_mtime_rebuilds_it(kb_dir: Path) -> None:
    open_store(kb_dir)
    path = kb_dir / "conditions.yaml"
    text = path.read_text()
    path.write_text(text.replace("name: Sciatica", "name: Sciaticx"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert open_store(kb_dir).kb.conditions["sciatica"].name == "Sciaticx"


@pytest.mark.parametrize("garbage", [b"", b"\x00" * 3, b"not a pickle at all", pickle.dumps({"key": "x"})])
def test_a_corrupt_cache_is_rebuilt(kb_dir: Path, garbage: bytes) -> None:
    open_store(kb_dir)
    cache.path_for([kb_dir]).write_bytes(garbage)
    store = open_store(kb_dir)
    assert store.kb.conditions["sciatica"].name == "Sciatica"
    assert isinstance(open_store(kb_dir).kb.procedures, Records)  # and rewritten


def test_a_cache_from_another_version_is_ignored(kb_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    open_store(kb_dir)
    monkeypatch.setattr(cache, "__version__", "999.0")
    assert cache.read([kb_dir]) is None
    assert isinstance(open_store(kb_dir).kb.procedures, dict)


def test_no_cache_switch(kb_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAINREF_NO_CACHE", "1")
    open_store(kb_dir)
    assert not cache.path_for([kb_dir]).exists()


def test_writes_leave_no_temporary_files(kb_dir: Path) -> None:
    open_store(kb_dir)
    open_store(kb_dir)
    leftovers = [p.name for p in cache.cache_dir().iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_an_unwritable_cache_directory_is_not_an_error(kb_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = kb_dir / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv("PAINREF_CACHE_DIR", str(blocker / "cache"))
    assert open_store(kb_dir).kb.conditions["sciatica"].name == "Sciatica"


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("child_fails", [False, True])
def test_a_rebuild_indexing_in_another_process_gives_the_same_store(
    kb_dir: Path, monkeypatch: pytest.MonkeyPatch, child_fails: bool, split: bool
) -> None:
    serial = store.build(resolve_layers(kb_dir))
    real_start = workers.start
    started: list[str] = []

    def failing(*_args: object) -> bytes:
        os._exit(1)

    def start(work: Callable[[], bytes], then: Callable[[memoryview], bytes] | None = None) -> workers.Forked | None:
        started.append("halves, then the index" if then else "the index")
        if child_fails:  # the index is never sent back: built here instead
            work, then = (work, failing) if then else (failing, None)
        return real_start(work, then)

    monkeypatch.setattr(workers, "available", lambda: True)
    monkeypatch.setattr(workers, "start", start)
    monkeypatch.setattr(store, "LARGE_ENTRIES", 0)
    if split:
        monkeypatch.setattr(knowledge, "SPLIT_BYTES", 0)
    built = open_store(kb_dir)  # no cache yet: build, index in a child, write the cache
    assert started == (["halves, then the index"] if split else ["the index"])
    cached = open_store(kb_dir)
    assert isinstance(cached.kb.procedures, Records)
    for found in (built, cached):
        assert found.entries.state() == serial.entries.state()
        assert found.terms.state() == serial.terms.state()
    links = [(link.id, link.role) for link in serial.kb.procedures["radiofrequency-ablation"].treats]
    assert [(link.id, link.role) for link in cached.kb.procedures["radiofrequency-ablation"].treats] == links


# ------------------------------------------------------------ entries cached as their place in a file


@pytest.fixture
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Treat any knowledge base as large: entries are cached as their place in their files."""
    monkeypatch.setattr(store, "LARGE_ENTRIES", 0)


def _records(kb: KnowledgeBase) -> dict[str, dict[str, object]]:
    return {i: entry_record(kb, entry) for i in [*kb.procedures, *kb.conditions] if (entry := kb.entry(i))}


def _blob_kinds(directory: Path) -> set[bytes]:
    found = cache.read([directory])
    assert found is not None
    header, fh = found
    kinds = {cache.records_of(fh, header, [i], lambda _i, blob: blob[:1])[i] for i in header["procedure_ids"]}
    fh.close()
    return kinds


def _read_in_halves(directory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on every file is read in two halves, as large files on two CPUs; checked here."""
    monkeypatch.setattr(knowledge, "SPLIT_BYTES", 0)
    monkeypatch.setattr(workers, "available", lambda: True)
    sources: dict[str, Any] = {}
    knowledge.read_layers(resolve_layers(directory), sources)
    cut = [s.raw is None for s in sources.values() if s.top_key in ("procedures", "conditions")]
    assert cut == [True, True], "both files really were read in halves"


@pytest.mark.parametrize("split", [False, True])
@pytest.mark.parametrize("which", ["fixture", "built-in"])
def test_entries_read_back_from_their_place_in_the_files_are_the_same(
    which: str, split: bool, kb_dir: Path, tmp_path: Path, large: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = kb_dir if which == "fixture" else Path(shutil.copytree(builtin_data_dir(), tmp_path / "builtin"))
    if split:
        _read_in_halves(directory, monkeypatch)
    open_store(directory)
    assert _blob_kinds(directory) == {store.SPAN}
    whole = load_uncached(directory)
    cached = open_store(directory)
    assert isinstance(cached.kb.procedures, Records)
    monkeypatch.setattr(store, "build", None)  # each entry is read from its place, not from a full load
    assert _records(cached.kb) == _records(whole)


@pytest.mark.parametrize("split", [False, True])
def test_byte_offsets_hold_with_a_bom_crlf_and_accents(
    kb_dir: Path, large: None, split: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("procedures.yaml", "conditions.yaml"):
        path = kb_dir / name
        text = path.read_text().replace("Heat from radio waves", "Chaleur des ondes radio, à 80 °C —")
        text = text.replace("name: Sciatica", "name: Sciatica (ischias, névralgie)")
        path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    if split:
        _read_in_halves(kb_dir, monkeypatch)
    open_store(kb_dir)
    assert _blob_kinds(kb_dir) == {store.SPAN}
    cached = open_store(kb_dir)
    assert cached.kb.conditions["sciatica"].name == "Sciatica (ischias, névralgie)"
    assert _records(cached.kb) == _records(load_uncached(kb_dir))


def test_a_file_changed_after_the_cache_was_opened_is_read_whole_again(kb_dir: Path, large: None) -> None:
    open_store(kb_dir)
    cached = open_store(kb_dir)
    path = kb_dir / "conditions.yaml"
    path.write_text(path.read_text().replace("name: Sciatica", "name: Sciatica (edited)"))
    assert cached.kb.conditions["sciatica"].name == "Sciatica (edited)"  # not the old text, not a torn read


def test_an_entry_gone_from_a_file_changed_after_the_cache_was_opened_is_a_clear_error(
    kb_dir: Path, large: None
) -> None:
    open_store(kb_dir)
    cached = open_store(kb_dir)
    path = kb_dir / "conditions.yaml"
    path.write_text(path.read_text().replace("id: sciatica", "id: sciatica-renamed"))
    with pytest.raises(PainrefError, match="changed while painref was reading it"):
        cached.kb.conditions["sciatica"]


def test_a_place_that_holds_another_entry_is_never_served(
    kb_dir: Path, large: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = knowledge.entry_spans

    def swapped(sources: dict[str, Any]) -> dict[str, knowledge.Span]:
        spans = real(sources)
        spans["radiofrequency-ablation"], spans["epidural-steroid-injection"] = (
            spans["epidural-steroid-injection"],
            spans["radiofrequency-ablation"],
        )
        return spans

    monkeypatch.setattr(knowledge, "entry_spans", swapped)
    open_store(kb_dir)
    cached = open_store(kb_dir)
    assert cached.kb.procedures["radiofrequency-ablation"].name == "Radiofrequency ablation"
    assert _records(cached.kb) == _records(load_uncached(kb_dir))


def test_a_place_that_is_not_one_whole_entry_is_never_served(
    kb_dir: Path, large: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = knowledge.entry_starts
    # Each entry's text would start past its "- ": a mapping, not a list of one entry.
    monkeypatch.setattr(knowledge, "entry_starts", lambda text, key: [s + 4 for s in real(text, key) or []])
    open_store(kb_dir)
    assert _records(open_store(kb_dir).kb) == _records(load_uncached(kb_dir))


def test_an_entry_overridden_by_a_layer_that_cannot_be_cut_is_the_override(
    tmp_path: Path, large: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import yaml

    builtin = yaml.safe_load((builtin_data_dir() / "procedures.yaml").read_text())["procedures"]
    override = next(p for p in builtin if p["id"] == "kyphoplasty")
    override["summary"] = "The clinic's own summary of kyphoplasty."
    layer = tmp_path / "clinic"
    layer.mkdir()
    (layer / "procedures.yaml").write_text(yaml.safe_dump({"procedures": [override]}, default_flow_style=True))
    monkeypatch.setenv("PAINREF_PATH", str(layer))
    open_store()
    cached = open_store()
    assert isinstance(cached.kb.procedures, Records)
    assert cached.kb.procedures["kyphoplasty"].summary == "The clinic's own summary of kyphoplasty."
    assert _records(cached.kb) == _records(store.build(resolve_layers(None)).kb)


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("procedures:\n  - id: a\n    x: [1]\n  - id: b\n", ["  - id: a", "  - id: b"]),
        ("# c\n\nprocedures:  # here\n- id: a\n  list:\n  - nested\n- id: b\n", ["- id: a", "- id: b"]),
        ("procedures: [{id: a}]\n", None),
        ("conditions:\n  - id: a\n", None),
        ("\ufeffprocedures:\n- id: é\n- id: b\n", ["- id: é", "- id: b"]),
    ],
)
def test_entry_starts(text: str, lines: list[str] | None) -> None:
    raw = text.encode()
    starts = knowledge.entry_starts(raw, "procedures")
    assert (None if starts is None else [raw[s:].decode().split("\n")[0] for s in starts]) == lines
