"""The compiled cache never serves stale or wrong data."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from painref import cache, store, workers
from painref.cache import Records
from painref.paths import resolve_layers
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


@pytest.mark.parametrize("child_fails", [False, True])
def test_a_rebuild_indexing_in_a_forked_process_gives_the_same_store(
    kb_dir: Path, monkeypatch: pytest.MonkeyPatch, child_fails: bool
) -> None:
    serial = store.build(resolve_layers(kb_dir))
    real_start = workers.start
    started: list[bool] = []

    def start(work: Callable[[], bytes]) -> workers.Forked | None:
        started.append(True)
        return real_start((lambda: os._exit(1)) if child_fails else work)

    monkeypatch.setattr(workers, "available", lambda: True)
    monkeypatch.setattr(workers, "start", start)
    monkeypatch.setattr(store, "FORK_ENTRIES", 0)
    built = open_store(kb_dir)  # no cache yet: build, index in a child, write the cache
    assert started == [True]
    cached = open_store(kb_dir)
    assert isinstance(cached.kb.procedures, Records)
    for found in (built, cached):
        assert found.entries.state() == serial.entries.state()
        assert found.terms.state() == serial.terms.state()
    links = [(link.id, link.role) for link in serial.kb.procedures["radiofrequency-ablation"].treats]
    assert [(link.id, link.role) for link in cached.kb.procedures["radiofrequency-ablation"].treats] == links
