"""Writing a user's files safely: whole or not at all, never over a file unasked, never through a link.

* write_file: a temporary file in the target's own directory, flushed, fsynced
  and renamed into place, so a full disk or a kill leaves the old file intact.
  An existing file is kept unless `replace` (it is then replaced, and a symlink
  at the path is replaced itself: nothing is written through it).
* append_text: a user's own file extended in place under a lock, keeping its
  mode, its line endings, its links and its hard links.
* locked: an exclusive lock that two processes writing one file share.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path


class Exists(FileExistsError):
    """The target exists and replacing it was not asked for."""


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` (a lock file, created 0600 if missing), held for the block."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def write_file(path: Path, chunks: Iterable[bytes], replace: bool = False) -> None:
    """Write `path` atomically in its existing directory (see the module's docstring).

    A replaced file keeps its mode; a new one gets 0666 less the umask, as with open().
    """
    parent = path.parent
    if not parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, "no such directory", str(parent))
    try:
        existing = os.lstat(path)
    except FileNotFoundError:
        existing = None
    if existing is not None and not replace:
        raise Exists(errno.EEXIST, "already exists", str(path))
    regular = existing is not None and stat.S_ISREG(existing.st_mode)
    mode = stat.S_IMODE(existing.st_mode) if existing is not None and regular else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)  # fails if something appeared meanwhile: never a silent overwrite
            except FileExistsError:
                raise Exists(errno.EEXIST, "already exists", str(path)) from None
            except OSError:  # a file system without hard links (FAT, some network shares)
                if os.path.lexists(path):
                    raise Exists(errno.EEXIST, "already exists", str(path)) from None
                os.replace(tmp, path)
                return
            os.unlink(tmp)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def append_text(path: Path, addition: Callable[[str], str], mode: int = 0o644) -> None:
    """Extend a user's file in place, under a lock: `addition(current text)` says what to add.

    The file is created if missing (with `mode`); otherwise its mode, links and
    hard links stay as they are, and what is added uses its line endings.
    `addition` may raise to refuse; nothing is written then.
    """
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), mode)
    with os.fdopen(fd, "r+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        head = fh.read()
        newline = b"\r\n" if b"\r\n" in head else b"\n"
        data = addition(head.decode("utf-8")).replace("\r\n", "\n").encode("utf-8").replace(b"\n", newline)
        if head and not head.endswith(b"\n"):
            data = newline + data
        fh.seek(0, os.SEEK_END)
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
