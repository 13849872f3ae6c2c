"""The compiled knowledge base: one SQLite database per knowledge-base state.

A lookup should not re-read and re-check 330 KB of YAML, so the checked and
linked knowledge base is compiled once into a database in the user's cache
directory, which anyone debugging can open with `sqlite3`:

    meta     format, painref's version, the fingerprint of the layer files, warnings
    entries  one row per procedure, condition, glossary term and guide section (JSON body)
    notes    the layers' notes, by entry
    links    every cross-reference (treats, parent, prerequisite, next step)
    labels, exact, vocab   the name index that painref.find.names reads
    fulltext an FTS5 table over every text field, for `painref search`

The database is named after a fingerprint of every layer file (path, size,
mtime, ctime, inode, device): any edit, even one that keeps the size and the
modification time, gives a new fingerprint and so a new database. It is built
in a temporary file and renamed into place. A database that is not a regular
file, not the user's own, writable by others, corrupt, or from another format
is never read; it is rebuilt. The directory is created 0700 and files 0600
whatever the umask. The database holds data only: nothing in it is code.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Generic, TypeVar

from painref import __version__
from painref.dirs import cache_dir
from painref.errors import PainrefError
from painref.kb.layers import Layer, layer_files
from painref.kb.model import (
    Condition,
    Entry,
    GuideSection,
    KnowledgeBase,
    Note,
    Procedure,
    Seed,
    Term,
    cited,
    condition_from,
    procedure_from,
    section_from,
    seed_from,
    term_from,
    to_json,
    unmarked,
)
from painref.text import FUNCTION, PERSON, fold_plurals, normalize

# Bump when the tables change: a database of another format is rebuilt.
FORMAT = 10
KEEP = 8  # databases kept in the cache directory (one per knowledge-base state); older ones are removed
SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE entries(
    rowid INTEGER PRIMARY KEY, kind TEXT NOT NULL, id TEXT NOT NULL, name TEXT NOT NULL,
    aliases TEXT NOT NULL, layer TEXT NOT NULL, depth INTEGER NOT NULL, family TEXT NOT NULL,
    body TEXT NOT NULL, UNIQUE(kind, id));
CREATE TABLE notes(entry TEXT NOT NULL, layer TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX notes_entry ON notes(entry);
CREATE TABLE links(source TEXT NOT NULL, relation TEXT NOT NULL, target TEXT NOT NULL, role TEXT);
CREATE INDEX links_target ON links(target, relation);
CREATE INDEX links_source ON links(source, relation);
CREATE INDEX entries_id ON entries(id);
CREATE TABLE labels(n INTEGER PRIMARY KEY, ix TEXT NOT NULL, entry INTEGER NOT NULL, label TEXT NOT NULL,
    tokens TEXT NOT NULL);
CREATE TABLE exact(ix TEXT NOT NULL, key TEXT NOT NULL, entries TEXT NOT NULL, PRIMARY KEY(ix, key)) WITHOUT ROWID;
CREATE TABLE vocab(ix TEXT NOT NULL, token TEXT NOT NULL, size INTEGER NOT NULL, labels TEXT NOT NULL,
    n_labels INTEGER NOT NULL, n_entries INTEGER NOT NULL, PRIMARY KEY(ix, token)) WITHOUT ROWID;
"""
# The text fields `painref search` looks in, one FTS5 column each (a list field is one column, a line per item).
SEARCH_FIELDS = (
    "name", "aliases", "lay_terms", "purpose", "imaging", "category", "region", "summary", "mechanism", "symptoms",
    "diagnosis", "conditions", "icd10", "relief", "onset", "risks", "bleeding_risk", "conservative_care", "anesthesia",
    "setting", "procedure_time", "recovery", "questions",
)  # fmt: skip
FULLTEXT = (
    f"CREATE VIRTUAL TABLE fulltext USING fts5(entry UNINDEXED, {', '.join(SEARCH_FIELDS)}, "
    "tokenize='porter unicode61 remove_diacritics 2')"
)
# Marks around a match in fulltext snippets: private-use characters, removed from the indexed text.
MARK_ON, MARK_OFF = "\ue000", "\ue001"

T = TypeVar("T")


class Table(Mapping[str, T], Generic[T]):
    """The entries of one kind, read from the database only when asked for."""

    def __init__(self, db: sqlite3.Connection, kind: str, make: Any) -> None:
        self._db, self._kind, self._make = db, kind, make
        self._read: dict[str, T] = {}

    def __getitem__(self, key: str) -> T:
        found = self._read.get(key)
        if found is None:
            row = self._db.execute("SELECT body FROM entries WHERE kind = ? AND id = ?", (self._kind, key)).fetchone()
            if row is None:
                raise KeyError(key)
            found = self._read[key] = self._make(json.loads(row[0]))
        return found

    def __contains__(self, key: object) -> bool:
        if key in self._read:
            return True
        sql = "SELECT 1 FROM entries WHERE kind = ? AND id = ?"
        return isinstance(key, str) and self._db.execute(sql, (self._kind, key)).fetchone() is not None

    def __iter__(self) -> Iterator[str]:
        rows = self._db.execute("SELECT id FROM entries WHERE kind = ? ORDER BY rowid", (self._kind,))
        return (row[0] for row in rows.fetchall())

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM entries WHERE kind = ?", (self._kind,)).fetchone()[0])

    def values(self) -> list[T]:  # type: ignore[override]
        """Every entry of this kind, in one query."""
        rows = self._db.execute("SELECT id, body FROM entries WHERE kind = ? ORDER BY rowid", (self._kind,))
        for ident, body in rows.fetchall():
            if ident not in self._read:
                self._read[ident] = self._make(json.loads(body))
        return [self._read[ident] for ident in self]


class Column(Mapping[str, str]):
    """One column of the procedures and conditions, by id (names, layers)."""

    def __init__(self, db: sqlite3.Connection, column: str) -> None:
        self._db = db
        self._sql = f"SELECT {column} FROM entries WHERE id = ? AND kind IN ('procedure', 'condition')"

    def __getitem__(self, key: str) -> str:
        row = self._db.execute(self._sql, (key,)).fetchone()
        if row is None:
            raise KeyError(key)
        return str(row[0])

    def __iter__(self) -> Iterator[str]:
        rows = self._db.execute("SELECT id FROM entries WHERE kind IN ('procedure', 'condition')").fetchall()
        return (row[0] for row in rows)

    def __len__(self) -> int:
        sql = "SELECT count(*) FROM entries WHERE kind IN ('procedure', 'condition')"
        return int(self._db.execute(sql).fetchone()[0])


class Notes(Mapping[str, tuple[Note, ...]]):
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __getitem__(self, key: str) -> tuple[Note, ...]:
        rows = self._db.execute("SELECT layer, text FROM notes WHERE entry = ? ORDER BY rowid", (key,)).fetchall()
        if not rows:
            raise KeyError(key)
        return tuple(Note(key, text, layer) for layer, text in rows)

    def __iter__(self) -> Iterator[str]:
        return (row[0] for row in self._db.execute("SELECT DISTINCT entry FROM notes").fetchall())

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(DISTINCT entry) FROM notes").fetchone()[0])


class Store:
    """An open compiled knowledge base: its records (kb) and its connection for the finders."""

    def __init__(self, db: sqlite3.Connection, path: Path | None) -> None:
        self.db = db
        self.path = path  # None for a database held in memory
        self.meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        self.kb = KnowledgeBase(
            procedures=Table[Procedure](db, "procedure", procedure_from),
            conditions=Table[Condition](db, "condition", condition_from),
            terms=Table[Term](db, "term", term_from),
            guide=Table[GuideSection](db, "section", section_from),
            where=self.meta.get("where", ""),
            names=Column(db, "name"),
            origin=Column(db, "layer"),
            notes=Notes(db),
            warnings=json.loads(self.meta.get("warnings", "[]")),
            seeds=Table[Seed](db, "seed", seed_from),
        )

    @property
    def has_fulltext(self) -> bool:
        return self.meta.get("fulltext") == "yes"

    def discard(self) -> None:
        """Forget this database (it proved corrupt): the next open rebuilds it."""
        with contextlib.suppress(sqlite3.Error):
            self.db.close()
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()


# ---------------------------------------------------------------- where, and whether to trust it


def fingerprint(layers: list[Layer]) -> str:
    """Every layer file's identity and state, and painref's: a new value after any edit."""
    files: list[Any] = []
    for layer, _key, path in layer_files(layers):
        try:
            info = os.stat(path)
        except (OSError, ValueError):
            files.append([layer.name, str(path), None])
            continue
        files.append(
            [layer.name, str(path), info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev]
        )
    return json.dumps({"format": FORMAT, "version": __version__, "files": files}, separators=(",", ":"))


def _private_dir() -> Path | None:
    """The cache directory, made 0700 if it is new; None if it cannot be used safely."""
    try:
        where = cache_dir()
    except PainrefError:
        return None
    try:
        old = os.umask(0o077)
        try:
            where.mkdir(parents=True, exist_ok=True)
        finally:
            os.umask(old)
        info = os.lstat(where)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            return None
        if info.st_mode & 0o077:
            os.chmod(where, 0o700)
    except (OSError, ValueError):
        return None
    return where


def _trusted(path: Path) -> bool:
    """A regular file (not a link, FIFO or device), the user's own, writable by nobody else."""
    try:
        info = os.lstat(path)
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o022


def _open(path: Path, expected: str) -> Store | None:
    if not _trusted(path):
        return None
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
    except sqlite3.Error:
        return None
    try:
        store = Store(db, path)
        if store.meta.get("fingerprint") == expected:
            return store
    except (sqlite3.Error, ValueError):
        pass
    db.close()
    return None


Building = Callable[[], contextlib.AbstractContextManager[object]]


def open_store(layers: list[Layer], building: Building = contextlib.nullcontext) -> Store:
    """The compiled knowledge base of these layers, built first if there is none to trust.

    A build runs inside `building()` (the caller's way of saying, on a slow
    build, what is going on). Building raises DataError when the knowledge base
    has problems.
    """
    expected = fingerprint(layers)
    where = _private_dir()
    if where is None:
        return _build(layers, expected, None, building)
    import zlib

    # The name only spreads states over files; the full fingerprint inside is what is checked.
    path = where / f"kb-{zlib.crc32(expected.encode()):08x}-{len(expected)}.sqlite"
    return _open(path, expected) or _build(layers, expected, path, building)


# ---------------------------------------------------------------- building


def _build(layers: list[Layer], expected: str, path: Path | None, building: Building) -> Store:
    from painref import kb as knowledge

    with building():
        kb = knowledge.load(layers)
        if path is None or _write(path, kb, expected) is None:
            return memory_store(kb, expected)  # no usable cache directory, or it is full: this time only
    _tidy(path.parent, keep=path)
    # None if replaced meanwhile by something not to be trusted
    return _open(path, expected) or memory_store(kb, expected)


def memory_store(kb: KnowledgeBase, expected: str = "") -> Store:
    """The knowledge base compiled into a database held in memory."""
    db = sqlite3.connect(":memory:")
    compile_into(db, kb, expected)
    return Store(db, None)


def _write(path: Path, kb: KnowledgeBase, expected: str) -> Path | None:
    """Compile into a temporary file beside `path` (0600, locked while written) and rename it into place."""
    import fcntl

    # os.urandom, not secrets: the name need only be unlikely to clash (O_EXCL refuses a clash),
    # and secrets imports hashlib and hmac, a few milliseconds of every rebuild.
    tmp = path.with_name(f".{path.stem}-{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # _tidy leaves a locked temporary file alone: it is being built
        db = sqlite3.connect(tmp)
        try:
            compile_into(db, kb, expected)
        finally:
            db.close()
        os.replace(tmp, path)
    except (OSError, sqlite3.Error):
        with contextlib.suppress(OSError):
            tmp.unlink()
        return None
    finally:
        os.close(fd)
    return path


def _tidy(where: Path, keep: Path) -> None:
    """Remove temporary files of builds that were killed, and all but the newest KEEP databases."""
    import fcntl

    with contextlib.suppress(OSError):
        for tmp in where.glob(".kb-*.tmp"):
            try:
                fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                tmp.unlink()
            except OSError:
                pass  # locked: a build in progress
            finally:
                os.close(fd)
        built = sorted(
            (p for p in where.glob("kb-*.sqlite") if p != keep and _trusted(p)),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in built[KEEP - 1 :]:
            old.unlink()


def compile_into(db: sqlite3.Connection, kb: KnowledgeBase, expected: str) -> None:
    """Write the knowledge base, its links, its name indexes and its full-text table into `db`."""
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.executescript(SCHEMA)
    try:
        db.execute(FULLTEXT)
        fulltext = True
    except sqlite3.OperationalError:  # this Python's SQLite was built without FTS5
        fulltext = False
    procedures = kb.procedures
    rows: list[tuple[Any, ...]] = []
    for proc in procedures.values():
        depth, node, seen = 0, proc, {proc.id}
        while node.parent and node.parent in procedures and node.parent not in seen:
            depth += 1
            seen.add(node.parent)
            node = procedures[node.parent]
        rows.append(("procedure", proc, proc.name, proc.aliases, depth, node.id))
    rows += [("condition", c, c.name, c.aliases, 0, c.id) for c in kb.conditions.values()]
    rows += [("term", t, t.term, t.aliases, 0, t.id) for t in kb.terms.values()]
    rows += [("section", s, s.title, (), 0, s.id) for s in kb.guide.values()]
    rows += [("seed", s, s.title, (), 0, s.id) for s in kb.seeds.values()]
    # Seed markers shown by the seeds' short names ("(Nortex)", not "(001)"), once per record.
    rows = [(kind, cited(rec, kb.seeds), *rest) for kind, rec, *rest in rows]
    db.executemany(
        "INSERT INTO entries(rowid, kind, id, name, aliases, layer, depth, family, body) VALUES (?,?,?,?,?,?,?,?,?)",
        [
            (
                n,
                kind,
                rec.id,
                name,
                json.dumps(aliases),
                kb.origin.get(rec.id, ""),
                depth,
                family,
                _dumps(rec),
            )
            for n, (kind, rec, name, aliases, depth, family) in enumerate(rows, 1)
        ],
    )
    db.executemany(
        "INSERT INTO notes(entry, layer, text) VALUES (?,?,?)",
        [(ident, note.layer, note.text) for ident, notes in kb.notes.items() for note in notes],
    )
    db.executemany("INSERT INTO links VALUES (?,?,?,?)", list(_links(kb)))
    by_ix = {"entries": [], "terms": []}  # type: dict[str, list[tuple[int, str, tuple[str, ...]]]]
    for n, (kind, rec, name, aliases, _depth, _family) in enumerate(rows, 1):
        if kind in ("procedure", "condition"):
            # Lay terms are names too, as patients say them (they may be shared: then they tie).
            by_ix["entries"].append((n, name, (*aliases, *rec.lay_terms)))
        elif kind == "term":
            by_ix["terms"].append((n, name, aliases))
    for ix, named in by_ix.items():
        _name_index(db, ix, named)
    if fulltext:
        shorts = {seed.short for seed in kb.seeds.values()}
        db.executemany(
            f"INSERT INTO fulltext VALUES (?{', ?' * len(SEARCH_FIELDS)})",
            [
                (n, *_searchable(kb, rec, shorts))
                for n, (kind, rec, *_rest) in enumerate(rows, 1)
                if kind in ("procedure", "condition")
            ],
        )
    meta = {
        "format": str(FORMAT),
        "version": __version__,
        "fingerprint": expected,
        "where": kb.where,
        "warnings": json.dumps(kb.warnings),
        "fulltext": "yes" if fulltext else "no",
        "entries": str(len(by_ix["entries"])),
        "terms": str(len(by_ix["terms"])),
    }
    db.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
    db.commit()


def _dumps(record: Any) -> str:
    return json.dumps(to_json(record), ensure_ascii=False, separators=(",", ":"))


def _links(kb: KnowledgeBase) -> Iterator[tuple[str, str, str, str | None]]:
    for proc in kb.procedures.values():
        if proc.parent:
            yield proc.id, "parent", proc.parent, None
        for ref in proc.prerequisites:
            yield proc.id, "prerequisite", ref, None
        for ref in proc.next_steps:
            yield proc.id, "next_step", ref, None
    for cond in kb.conditions.values():
        for link in cond.procedures:
            yield cond.id, "treated_by", link.id, link.role


def _numbers(values: list[int]) -> str:
    """Row numbers as the name index stores them: "3 17 42" (painref.find.names splits them)."""
    return " ".join(map(str, values))


def _name_index(db: sqlite3.Connection, ix: str, named: list[tuple[int, str, tuple[str, ...]]]) -> None:
    """Names and aliases, as painref.find.names reads them.

    exact: every way a label may be typed in full (as written, without spaces,
    plurals folded, function words dropped) -> its entries. vocab: each word of
    a label -> the labels holding it. labels: a label's words, for scoring.
    """
    exact: dict[str, set[int]] = {}
    postings: dict[str, list[int]] = {}
    labels: list[tuple[int, str, int, str, str]] = []
    n_label = int(db.execute("SELECT coalesce(max(n), 0) FROM labels").fetchone()[0])
    function = FUNCTION | PERSON  # a lay term's "my mother", "old": a query's are left out too
    for entry, name, aliases in named:
        seen: set[str] = set()
        for label in (name, *aliases):
            norm = normalize(label)
            if not norm or norm in seen:
                continue
            seen.add(norm)
            n_label += 1
            words = fold_plurals(norm)
            if label.islower():
                tokens = [t for t in words if t not in function]
            else:
                # Function words in names ("arthritis of the knee") are not matched against, unless
                # written in capitals as an abbreviation ("IT pump", "ON block").
                caps = {t.lower() for t in label.split() if t.isupper() and len(t) > 1}
                tokens = [t for t in words if t not in function or t in caps]
            if not tokens:
                tokens = words
            joined = " ".join(tokens)
            keys = {norm, " ".join(words), joined}
            if len(words) <= 3:  # typed without spaces: "radiofrequency" for "radio frequency"
                keys.add(norm.replace(" ", ""))
            for key in keys:
                found = exact.get(key)
                if found is None:
                    exact[key] = {entry}
                else:
                    found.add(entry)
            labels.append((n_label, ix, entry, label, joined))
            for token in set(tokens):
                post = postings.get(token)
                if post is None:
                    postings[token] = [n_label]
                else:
                    post.append(n_label)
    label_entry = {n: entry for n, _ix, entry, _label, _joined in labels}
    db.executemany("INSERT INTO labels VALUES (?,?,?,?,?)", labels)
    db.executemany(
        "INSERT INTO exact VALUES (?,?,?)",
        [(ix, key, _numbers(sorted(found)) if len(found) > 1 else str(*found)) for key, found in sorted(exact.items())],
    )
    db.executemany(
        "INSERT INTO vocab VALUES (?,?,?,?,?,?)",
        [
            (ix, token, len(token), _numbers(ns), len(ns), len({label_entry[n] for n in ns}))
            for token, ns in sorted(postings.items())  # in key order: a B-tree filled in order is built fastest
        ],
    )


def _searchable(kb: KnowledgeBase, entry: Entry, shorts: set[str]) -> list[str]:
    """An entry's text, one string per SEARCH_FIELDS column: the marks of snippets removed, and the
    source markers ("(Nortex)", "(Sit 2016)"), so that "sit" finds what a card says, not who said it."""
    keys = shorts | {source.cite for source in entry.sources if source.cite}
    found: dict[str, list[str]] = {}
    for field, text in searchable_fields(kb, entry):
        found.setdefault(field, []).append(unmarked(text.replace(MARK_ON, "").replace(MARK_OFF, ""), keys))
    return ["\n".join(found.get(field, ())) for field in SEARCH_FIELDS]


def searchable_fields(kb: KnowledgeBase, entry: Entry) -> Iterator[tuple[str, str]]:
    """Every text field of an entry that `painref search` looks in, by field name."""
    yield "name", entry.name
    yield "aliases", "; ".join(entry.aliases)
    yield "lay_terms", "; ".join(entry.lay_terms)
    if isinstance(entry, Procedure):
        yield "purpose", entry.purpose
        yield "category", entry.category.replace("-", " ")
        yield "summary", entry.summary
        yield "mechanism", f"{entry.agent}; {entry.target}"
        yield "imaging", f"{', '.join(entry.modalities)}: {entry.imaging_note}"
        yield "anesthesia", entry.anesthesia
        yield "setting", entry.setting
        yield "procedure_time", entry.procedure_time
        yield "onset", entry.onset
        yield "relief", entry.relief_text
        yield "recovery", entry.recovery
        yield "bleeding_risk", f"{entry.bleeding_risk}: {entry.bleeding_note}"
        yield "conditions", "; ".join(kb.name_of(link.id) for link in entry.treats)
        for item in entry.risks:
            yield "risks", item
        for item in entry.questions:
            yield "questions", item
    else:
        yield "region", entry.region.replace("-", " ")
        yield "summary", entry.summary
        yield "icd10", "; ".join(f"{c.code} {c.description}" for c in entry.icd10)
        for item in entry.symptoms:
            yield "symptoms", item
        for item in entry.diagnosis:
            yield "diagnosis", item
        for item in entry.conservative_care:
            yield "conservative_care", item
        for item in entry.questions:
            yield "questions", item
