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

Started with `then`, the child stays after its first result: the parent may send
it bytes and get then(bytes) back as a second result, computed by a process
that owns its memory. (A process forked later would share this one's pages, and
each page either of them then writes to, if only to count a reference, is
copied: at 15 000 entries that cost a third more time on both sides.)
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
_requests: set[int] = set()  # this process's open pipes to waiting children (closed in any new child)


class Forked:
    """A function run in a child process; `result()` waits for its result.

    Started with `then`, the child waits after that first result: `send(data)`
    asks it for then(data), the next result; `close()` (or this process's exit)
    lets it go.
    """

    def __init__(self, pid: int, signal: int, results: list[int], request: int) -> None:
        self.pid = pid
        self._signal = signal  # pipe from the child: each result's length, once it is complete
        self._results = results  # memory files holding the results to come
        self._request = request  # pipe to the child, for send(); -1 without `then`
        self._due = 1  # results the child owes: work()'s, and then()'s once asked

    def result(self) -> memoryview | None:
        """The next result, or None if the child raised, crashed or owes nothing.

        It returns as soon as the whole result is there, without waiting for the
        child to finish exiting (freeing a large process's memory takes a while);
        such a child is reaped later (_reap). The bytes are the child's own pages,
        mapped, not copied. Call it, or close(), before leaving the child behind.
        """
        if self._due == 0 or not self._results:
            return None
        self._due -= 1
        shared = self._results.pop(0)
        found: memoryview | None = None
        try:
            told = os.read(self._signal, _LENGTH.size)  # written in one go: never split
            if len(told) == _LENGTH.size:
                (length,) = _LENGTH.unpack(told)
                found = memoryview(mmap.mmap(shared, length, access=mmap.ACCESS_READ) if length else b"")
        except (OSError, ValueError):
            found = None
        finally:
            os.close(shared)
        if found is None or not self._results:
            self.close()
        return found

    def send(self, data: bytes) -> bool:
        """Ask the child for then(data), the next result(); False if it cannot be asked."""
        request, self._request = self._request, -1
        if request < 0 or self._due or not self._results:
            if request >= 0:
                self._release(request)
            return False
        _requests.discard(request)
        try:
            with os.fdopen(request, "wb") as pipe:
                pipe.write(_LENGTH.pack(len(data)))
                pipe.write(data)
        except OSError:  # the child is gone
            self.close()
            return False
        self._due = 1
        return True

    def close(self) -> None:
        """No more results wanted: a waiting child leaves; it is reaped later."""
        request, self._request = self._request, -1
        if request >= 0:
            self._release(request)
        for fd in (self._signal, *self._results):
            if fd >= 0:
                os.close(fd)
        self._signal, self._results, self._due = -1, [], 0
        if self.pid not in _unreaped:
            _unreaped.append(self.pid)
        _reap()

    @staticmethod
    def _release(request: int) -> None:
        _requests.discard(request)
        os.close(request)


def _reap(wait: bool = False) -> None:
    for pid in list(_unreaped):
        try:
            done, _status = os.waitpid(pid, 0 if wait else os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            _unreaped.remove(pid)


def start(work: Callable[[], bytes], then: Callable[[memoryview], bytes] | None = None) -> Forked | None:
    """Run `work()` in a forked child (and, if asked, `then`; see Forked); None where forking is not available."""
    if not available():
        return None
    opened: list[int] = []
    try:
        results = [os.memfd_create("painref-result", os.MFD_CLOEXEC) for _ in range(1 if then is None else 2)]
        opened += results
        signal, told = os.pipe()
        opened += [signal, told]
        asked, request = os.pipe() if then is not None else (-1, -1)
        opened += [asked, request] if then is not None else []
        pid = os.fork()
    except (AttributeError, OSError):
        for fd in opened:
            os.close(fd)
        return None
    if pid == 0:  # the child: never returns
        code = 1
        try:
            for fd in (signal, request, *_requests):  # other children's requests too: they wait for an end
                if fd >= 0:
                    os.close(fd)
            _answer(results[0], told, work())
            if then is not None:
                data = _asked(asked)
                if data is not None:
                    _answer(results[1], told, then(memoryview(data)))
            code = 0
        except BaseException:  # the parent sees a failure and does without
            pass
        finally:
            os._exit(code)
    os.close(told)
    if then is not None:
        os.close(asked)
        _requests.add(request)
    if not _reaper_registered:
        _register_reaper()
    return Forked(pid, signal, results, request)


def _answer(shared: int, told: int, data: bytes) -> None:
    """In the child: the result into its memory file, then its length to the parent."""
    result = memoryview(data)
    rest = result
    while rest:
        rest = rest[os.write(shared, rest) :]
    os.write(told, _LENGTH.pack(len(result)))


def _asked(asked: int) -> bytes | None:
    """In the child: the parent's request, or None if it closed the pipe instead."""
    with os.fdopen(asked, "rb") as pipe:
        told = pipe.read(_LENGTH.size)
        if len(told) < _LENGTH.size:
            return None
        (length,) = _LENGTH.unpack(told)
        data = pipe.read(length)
    return data if len(data) == length else None


_reaper_registered = False


def _register_reaper() -> None:
    """A long-running caller (a test run) lets go of waiting children and reaps them
    all at exit; painref's own exit (os._exit) leaves them to the system, which closes
    the pipes they wait on and reaps them at once."""
    global _reaper_registered
    import atexit

    atexit.register(_reap_all)
    _reaper_registered = True


def _reap_all() -> None:
    for request in list(_requests):
        Forked._release(request)
    _reap(wait=True)
