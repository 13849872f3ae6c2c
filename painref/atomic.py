"""Write a file so that readers see the old content or the new, never a mix."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def replacing(path: Path) -> Iterator[IO[bytes]]:
    """A temporary file beside `path` to write to; when the block ends without an
    error it is flushed, fsynced and renamed over `path`, otherwise removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(path: Path, chunks: Iterable[bytes]) -> None:
    """Write the chunks to `path` atomically (see replacing)."""
    with replacing(path) as fh:
        for chunk in chunks:
            fh.write(chunk)
