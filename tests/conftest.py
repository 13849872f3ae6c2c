from __future__ import annotations

import shutil
from pathlib import Path

import pytest

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test gets its own cache directory and no inherited data directory."""
    monkeypatch.setenv("PAINREF_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("PAINREF_DATA", raising=False)
    monkeypatch.delenv("PAINREF_PATH", raising=False)
    monkeypatch.setenv("PAINREF_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A writable copy of the small fixture knowledge base."""
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    return target


def index_of(kb: object) -> object:
    """The name index of a knowledge base, compiled into a store held in memory."""
    from painref.find.names import Index
    from painref.store import memory_store

    return Index(memory_store(kb).db, "entries")  # type: ignore[arg-type]
