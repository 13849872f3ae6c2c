"""A forked child hands its bytes back, or None when anything went wrong."""

from __future__ import annotations

import os
import signal
import time

import pytest

from painref import workers


@pytest.fixture(autouse=True)
def _two_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "available", lambda: True)


def _started(work: object) -> workers.Forked:
    child = workers.start(work)  # type: ignore[arg-type]
    assert child is not None
    return child


def test_the_childs_bytes_come_back_even_more_than_a_pipe_holds() -> None:
    data = bytes(range(256)) * 4096  # 1 MiB; a pipe buffers 64 KiB
    assert _started(lambda: data).result() == data


def test_the_work_runs_in_another_process() -> None:
    here = os.getpid()
    there = _started(lambda: str(os.getpid()).encode()).result()
    assert there is not None and int(there) != here


def test_a_child_that_raises_gives_none() -> None:
    def broken() -> bytes:
        raise ValueError("no")

    assert _started(broken).result() is None


def test_a_child_that_dies_gives_none() -> None:
    assert _started(lambda: os._exit(3)).result() is None


def test_a_result_is_collected_once() -> None:
    child = _started(lambda: b"once")
    assert child.result() == b"once"
    assert child.result() is None


def test_no_fork_with_one_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "available", lambda: False)
    assert workers.start(lambda: b"x") is None


def test_the_result_does_not_wait_for_the_child_to_finish_exiting(monkeypatch: pytest.MonkeyPatch) -> None:
    real_exit = os._exit
    monkeypatch.setattr(os, "_exit", lambda code: (time.sleep(60), real_exit(code)))  # a slow exit, in the child
    child = _started(lambda: b"done")
    monkeypatch.undo()
    began = time.monotonic()
    try:
        assert child.result() == b"done"
        assert time.monotonic() - began < 30
    finally:
        os.kill(child.pid, signal.SIGKILL)
        workers._reap(wait=True)
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, 0)  # reaped


def test_finished_children_are_reaped() -> None:
    child = _started(lambda: b"x")
    assert child.result() == b"x"
    workers._reap(wait=True)
    assert child.pid not in workers._unreaped
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, 0)


def _started_with_then(work: object, then: object) -> workers.Forked:
    child = workers.start(work, then)  # type: ignore[arg-type]
    assert child is not None
    return child


def _gone_within(pid: int, seconds: float = 10.0) -> bool:
    """Whether the child exits (and is reaped) in time; killed otherwise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return True  # already reaped
        if done:
            return True
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    return False


def test_a_child_started_with_then_answers_one_request() -> None:
    child = _started_with_then(lambda: b"first", lambda data: bytes(data).upper())
    assert child.result() == b"first"
    assert child.send(b"second")
    assert child.result() == b"SECOND"
    assert child.result() is None
    assert child.send(b"again") is False
    assert _gone_within(child.pid)


def test_a_waiting_child_leaves_when_closed() -> None:
    child = _started_with_then(lambda: b"first", lambda data: b"never")
    assert child.result() == b"first"
    child.close()
    assert child.result() is None
    assert _gone_within(child.pid)


def test_no_request_before_the_first_result() -> None:
    child = _started_with_then(lambda: b"first", lambda data: b"never")
    assert child.send(b"too early") is False
    assert child.result() == b"first"
    assert child.result() is None
    assert _gone_within(child.pid)


def test_a_failing_second_request_gives_none() -> None:
    def broken(data: memoryview) -> bytes:
        raise ValueError("no")

    child = _started_with_then(lambda: b"first", broken)
    assert child.result() == b"first"
    assert child.send(b"x")
    assert child.result() is None
    assert _gone_within(child.pid)


def test_a_later_child_does_not_keep_an_earlier_one_waiting() -> None:
    waiting = _started_with_then(lambda: b"first", lambda data: b"never")
    assert waiting.result() == b"first"
    later = _started_with_then(lambda: b"later", lambda data: b"never")  # inherits nothing it could hold open
    waiting.close()
    assert _gone_within(waiting.pid)  # even while the later child still waits
    assert later.result() == b"later"
    later.close()
    assert _gone_within(later.pid)
