"""Run a function in a forked process while this one goes on working.

A cold build of a large knowledge base is Python work on every entry; a second
process on a second core halves the part that can be split. Threads would not:
the work holds the interpreter lock (and yaml-rs overflows a thread's stack).

Only on Linux with more than one CPU available; elsewhere `start` returns None
and the caller does the work itself. The child inherits everything already
imported, sends back the bytes the function returns through a pipe (the caller
picks the encoding: pickle for records, marshal for builtin values, which is
faster) and leaves with os._exit (no atexit handlers, no flushing the parent's
buffers). The bytes are sent with their length first, so the parent knows it
has all of them without waiting for the child's exit.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Callable


def available() -> bool:
    # Linux only: elsewhere forking a process that has loaded system libraries is not
    # always safe (macOS), or there is no fork at all (Windows); the gain was measured here.
    if not sys.platform.startswith("linux"):
        return False
    try:
        return len(os.sched_getaffinity(0)) > 1
    except (AttributeError, OSError):
        return (os.cpu_count() or 1) > 1


_LENGTH = struct.Struct("<Q")
_unreaped: list[int] = []  # children that had sent their result but were still exiting


class Forked:
    """The result of one function run in a child process; `result()` waits for it."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self._fd = fd

    def result(self) -> bytes | None:
        """The function's bytes, or None if it raised, crashed or sent nothing.

        Always call it (or let it run in a `finally`). It returns as soon as the
        whole result has arrived, without waiting for the child to finish exiting
        (freeing a large process's memory takes a while); such a child is reaped
        later (_reap).
        """
        if self._fd < 0:
            return None
        try:
            with os.fdopen(self._fd, "rb") as pipe:
                data = pipe.read()
        finally:
            self._fd = -1
            _unreaped.append(self.pid)
            _reap()
        if len(data) < _LENGTH.size or _LENGTH.unpack_from(data)[0] != len(data) - _LENGTH.size:
            return None  # the child failed before sending all of it
        return data[_LENGTH.size :]


def _reap(wait: bool = False) -> None:
    for pid in list(_unreaped):
        try:
            done, _status = os.waitpid(pid, 0 if wait else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _unreaped.remove(pid)


def start(work: Callable[[], bytes]) -> Forked | None:
    """Run `work()` in a forked child; None where forking is not available or failed."""
    if not available():
        return None
    try:
        read_end, write_end = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        return None
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(read_end)
            data = work()
            with os.fdopen(write_end, "wb") as pipe:  # closed here, before the slow exit
                pipe.write(_LENGTH.pack(len(data)))
                pipe.write(data)
            code = 0
        except BaseException:  # the parent sees a failure and does without
            pass
        finally:
            os._exit(code)
    os.close(write_end)
    if not _reaper_registered:
        _register_reaper()
    return Forked(pid, read_end)


_reaper_registered = False


def _register_reaper() -> None:
    """A long-running caller (a test run) reaps its children at exit; painref's own
    exit (os._exit) leaves them to the system, which reaps them at once."""
    global _reaper_registered
    import atexit

    atexit.register(_reap, wait=True)
    _reaper_registered = True
