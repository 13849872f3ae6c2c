"""Run a function in a forked process while this one goes on working.

A cold build of a large knowledge base is Python work on every entry; a second
process on a second core halves the part that can be split. Threads would not:
the work holds the interpreter lock (and yaml-rs overflows a thread's stack).

Only on Linux with more than one CPU available; elsewhere `start` returns None
and the caller does the work itself. The child inherits everything already
imported, writes the bytes the function returns to a memory file the parent
then maps (no copy through a pipe; the caller picks the encoding: pickle for
records, marshal for builtin values, which is faster), tells their length
through a pipe once they are all there, and leaves with os._exit (no atexit
handlers, no flushing the parent's buffers). The parent takes the result
without waiting for the child's exit.
"""

from __future__ import annotations

import mmap
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

    def __init__(self, pid: int, signal: int, shared: int) -> None:
        self.pid = pid
        self._signal = signal  # pipe: the child writes the result's length when it is complete
        self._shared = shared  # memory file holding the result

    def result(self) -> memoryview | None:
        """The function's bytes, or None if it raised, crashed or sent nothing.

        Always call it (or let it run in a `finally`). It returns as soon as the
        whole result is there, without waiting for the child to finish exiting
        (freeing a large process's memory takes a while); such a child is reaped
        later (_reap). The bytes are the child's own pages, mapped, not copied.
        """
        if self._signal < 0:
            return None
        try:
            with os.fdopen(self._signal, "rb") as pipe:
                told = pipe.read(_LENGTH.size)
            if len(told) < _LENGTH.size:
                return None  # the child failed before its result was complete
            (length,) = _LENGTH.unpack(told)
            if length == 0:
                return memoryview(b"")
            return memoryview(mmap.mmap(self._shared, length, access=mmap.ACCESS_READ))
        except (OSError, ValueError):
            return None
        finally:
            os.close(self._shared)
            self._signal = -1
            _unreaped.append(self.pid)
            _reap()


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
        shared = os.memfd_create("painref-result", os.MFD_CLOEXEC)
    except (AttributeError, OSError):
        return None
    try:
        signal, told = os.pipe()
    except OSError:
        os.close(shared)
        return None
    try:
        pid = os.fork()
    except OSError:
        for fd in (shared, signal, told):
            os.close(fd)
        return None
    if pid == 0:  # the child: never returns
        code = 1
        try:
            os.close(signal)
            result = memoryview(work())
            rest = result
            while rest:
                rest = rest[os.write(shared, rest) :]
            os.write(told, _LENGTH.pack(len(result)))
            code = 0
        except BaseException:  # the parent sees a failure and does without
            pass
        finally:
            os._exit(code)
    os.close(told)
    if not _reaper_registered:
        _register_reaper()
    return Forked(pid, signal, shared)


_reaper_registered = False


def _register_reaper() -> None:
    """A long-running caller (a test run) reaps its children at exit; painref's own
    exit (os._exit) leaves them to the system, which reaps them at once."""
    global _reaper_registered
    import atexit

    atexit.register(_reap, wait=True)
    _reaper_registered = True
