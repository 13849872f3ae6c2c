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
