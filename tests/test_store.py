"""The compiled store: one SQLite database per knowledge-base state, private, never code, rebuilt on doubt."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from painref import store
from painref.kb.layers import Layer

REPO = Path(__file__).resolve().parent.parent


def _layers(kb_dir: Path) -> list[Layer]:
    return [Layer("data", kb_dir, required=True)]


def _cache() -> Path:
    return Path(os.environ["PAINREF_CACHE_DIR"])


def _databases() -> list[Path]:
    return sorted(_cache().glob("kb-*.sqlite"))


def test_built_once_then_read_from_the_database(kb_dir: Path) -> None:
    first = store.open_store(_layers(kb_dir))
    assert first.path is not None and first.path.is_file()
    assert _databases() == [first.path]
    mtime = first.path.stat().st_mtime_ns
    again = store.open_store(_layers(kb_dir))
    assert again.path == first.path and again.path.stat().st_mtime_ns == mtime  # not rebuilt
    assert set(again.kb.procedures) == set(first.kb.procedures)
    # A real database anyone can open: entries as JSON rows, and no pickles anywhere.
    db = sqlite3.connect(first.path)
    kinds = dict(db.execute("SELECT kind, count(*) FROM entries GROUP BY kind").fetchall())
    assert kinds["procedure"] == len(first.kb.procedures)
    assert db.execute("SELECT count(*) FROM fulltext").fetchone()[0] > 0
    assert db.execute("SELECT count(*) FROM entries WHERE typeof(body) != 'text'").fetchone()[0] == 0


def _edit_keeping_size_and_mtime(path: Path) -> None:
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    changed = text.replace("Medial branch block", "Medial branch bloxk", 1)
    assert changed != text and len(changed) == len(text)
    path.write_text(changed, encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as cp -p, rsync -t and tar x do


def test_an_edit_that_keeps_size_and_mtime_is_seen(kb_dir: Path) -> None:
    proc_file = kb_dir / "procedures.yaml"
    old = store.open_store(_layers(kb_dir))
    names = {p.name for p in old.kb.procedures.values()}
    assert "Medial branch block" in names
    _edit_keeping_size_and_mtime(proc_file)
    new = store.open_store(_layers(kb_dir))
    assert "Medial branch bloxk" in {p.name for p in new.kb.procedures.values()}


def test_a_same_size_edit_within_the_same_second_is_seen(kb_dir: Path) -> None:
    proc_file = kb_dir / "procedures.yaml"
    store.open_store(_layers(kb_dir))
    text = proc_file.read_text(encoding="utf-8")
    proc_file.write_text(
        text.replace("Medial branch block", "Medial branch blozk", 1), encoding="utf-8"
    )  # at once, same size
    assert "Medial branch blozk" in {p.name for p in store.open_store(_layers(kb_dir)).kb.procedures.values()}


def test_a_corrupt_database_is_rebuilt(kb_dir: Path) -> None:
    path = store.open_store(_layers(kb_dir)).path
    assert path is not None
    path.write_bytes(b"this is not a database" * 100)
    again = store.open_store(_layers(kb_dir))
    assert len(again.kb.procedures) > 0
    assert sqlite3.connect(path).execute("SELECT count(*) FROM entries").fetchone()[0] > 0


def test_a_truncated_database_is_discarded_and_the_command_still_answers(kb_dir: Path) -> None:
    path = store.open_store(_layers(kb_dir)).path
    assert path is not None
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    result = subprocess.run(
        [sys.executable, "-m", "painref", "show", "medial-branch-block", "--data", str(kb_dir), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert '"id": "medial-branch-block"' in result.stdout


def test_a_planted_database_with_another_fingerprint_is_not_trusted(kb_dir: Path) -> None:
    path = store.open_store(_layers(kb_dir)).path
    assert path is not None
    db = sqlite3.connect(path)
    db.execute("UPDATE entries SET name = 'PLANTED' WHERE kind = 'procedure'")
    db.execute("UPDATE meta SET value = 'someone else' WHERE key = 'fingerprint'")
    db.commit()
    db.close()
    again = store.open_store(_layers(kb_dir))
    assert "PLANTED" not in {p.name for p in again.kb.procedures.values()}


def _plant(kb_dir: Path) -> Path:
    """The database of this knowledge base, its procedures renamed PLANTED behind painref's back."""
    path = store.open_store(_layers(kb_dir)).path
    assert path is not None
    db = sqlite3.connect(path)
    db.execute("UPDATE entries SET name = 'PLANTED' WHERE kind = 'procedure'")
    db.commit()
    db.close()
    return path


def test_a_database_writable_by_others_is_not_trusted(kb_dir: Path) -> None:
    path = _plant(kb_dir)
    os.chmod(path, 0o666)  # anyone could have written it
    again = store.open_store(_layers(kb_dir))
    assert "PLANTED" not in {p.name for p in again.kb.procedures.values()}


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_a_database_owned_by_someone_else_is_not_trusted(kb_dir: Path) -> None:
    path = _plant(kb_dir)
    os.chown(path, 12345, 12345)
    again = store.open_store(_layers(kb_dir))
    assert "PLANTED" not in {p.name for p in again.kb.procedures.values()}


def test_a_symlink_at_the_database_path_is_not_followed(kb_dir: Path, tmp_path: Path) -> None:
    path = store.open_store(_layers(kb_dir)).path
    assert path is not None
    elsewhere = tmp_path / "elsewhere.sqlite"
    shutil.copy(path, elsewhere)
    path.unlink()
    path.symlink_to(elsewhere)
    again = store.open_store(_layers(kb_dir))
    assert len(again.kb.procedures) > 0
    assert not path.is_symlink()  # replaced by a database of its own


def test_a_fifo_at_the_database_path_does_not_hang(kb_dir: Path) -> None:
    path = store.open_store(_layers(kb_dir)).path
    assert path is not None
    path.unlink()
    os.mkfifo(path)
    answered: list[int] = []
    worker = threading.Thread(target=lambda: answered.append(len(store.open_store(_layers(kb_dir)).kb.procedures)))
    worker.start()
    worker.join(timeout=20)
    assert answered and answered[0] > 0


def test_a_fifo_as_a_data_file_is_refused_not_waited_on(kb_dir: Path) -> None:
    from painref.errors import DataError

    (kb_dir / "glossary.yaml").unlink()
    os.mkfifo(kb_dir / "glossary.yaml")
    with pytest.raises(DataError) as caught:
        store.open_store(_layers(kb_dir))
    assert any(p.file.endswith("glossary.yaml") for p in caught.value.problems)


def test_private_modes_whatever_the_umask(kb_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "new" / "cache"
    monkeypatch.setenv("PAINREF_CACHE_DIR", str(cache))
    old = os.umask(0)
    try:
        path = store.open_store(_layers(kb_dir)).path
    finally:
        os.umask(old)
    assert path is not None
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_an_open_cache_directory_is_made_private(kb_dir: Path) -> None:
    os.chmod(_cache(), 0o777)
    store.open_store(_layers(kb_dir))
    assert stat.S_IMODE(_cache().stat().st_mode) == 0o700


def test_temporary_files_of_a_killed_build_are_removed(kb_dir: Path) -> None:
    stale = _cache() / ".kb-0-1-deadbeef.tmp"
    stale.write_bytes(b"half a database")
    path = store.open_store(_layers(kb_dir)).path
    assert path is not None and not stale.exists()


def test_a_temporary_file_being_written_is_left_alone(kb_dir: Path) -> None:
    import fcntl

    busy = _cache() / ".kb-0-2-cafebabe.tmp"
    with open(busy, "wb") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        store.open_store(_layers(kb_dir))
        assert busy.exists()


def test_old_databases_are_removed_beyond_a_few(kb_dir: Path) -> None:
    proc_file = kb_dir / "procedures.yaml"
    text = proc_file.read_text(encoding="utf-8")
    for n in range(store.KEEP + 3):
        proc_file.write_text(text + f"\n# edit {n}\n", encoding="utf-8")
        store.open_store(_layers(kb_dir))
    assert len(_databases()) == store.KEEP


def test_an_unusable_cache_directory_still_answers(
    kb_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("PAINREF_CACHE_DIR", str(blocker / "cache"))
    found = store.open_store(_layers(kb_dir))
    assert found.path is None and len(found.kb.procedures) > 0


def test_a_relative_xdg_cache_home_is_ignored(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from painref.dirs import cache_dir

    monkeypatch.delenv("PAINREF_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "painref"


def test_no_cache_module_can_run_code() -> None:
    source = (REPO / "painref" / "store.py").read_text(encoding="utf-8")
    assert "pickle" not in source.split('"""', 2)[2] and "marshal" not in source.split('"""', 2)[2]
