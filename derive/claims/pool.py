"""Worker processes that check students' files, one file at a time each, and outlive them.

A student's file may make its check run long (an answer that takes SymPy or NumPy into a slow
corner no alarm can interrupt), eat memory, or kill the process that checks it. So each worker
is a forked process with an address-space limit (``RLIMIT_AS``) that checks one file at a time.
The parent gives each file a hard deadline; when a worker has not answered by then, or has died
(the out-of-memory killer, a ``kill``), the parent kills it, reports that one file as failed, and
starts a new worker: no other file is lost. Workers die with the parent (``PR_SET_PDEATHSIG`` on
Linux; elsewhere a thread of the worker watches for the parent), so killing derive, even with
``kill -9``, leaves no worker behind.

Fork, not spawn: a worker starts in milliseconds with everything the parent has loaded (the
assignment's networks, derived once). The parent starts no threads (LaTeX runs as subprocesses
that it polls), so forking is safe at any moment. ``workers=0`` checks in this process, without
limits (for tests and debugging).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait

GRACE = 10.0  # seconds past a task's own budget before its worker is killed
_CONTEXT = multiprocessing.get_context("fork") if hasattr(os, "fork") else None


@dataclass(frozen=True)
class Outcome:
    key: object
    result: object | None  # what the task returned; None when it failed
    error: str | None = None  # why there is no result, one sentence
    seconds: float = 0.0
    max_rss_mb: float = 0.0  # the worker's peak resident memory so far


class Interrupted(Exception):
    """A task raised KeyboardInterrupt (Ctrl-C reached it): the run stops."""


# --- in the worker ------------------------------------------------------------------------
def _die_with_parent(parent: int) -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, signal.SIGKILL) != 0:  # PR_SET_PDEATHSIG
            raise OSError
    except (OSError, AttributeError):

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent died before the call above
        os._exit(1)


def _limit_memory(megabytes: int | None) -> None:
    if not megabytes:
        return
    try:
        import resource

        with open("/proc/self/statm") as f:
            now = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        wanted = max(megabytes << 20, now + (256 << 20))
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    except (ImportError, OSError, ValueError):
        pass  # no /proc or no RLIMIT_AS here: the deadline still holds


def _peak_mb() -> float:
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    except ImportError:
        return 0.0


def _worker(conn, task: Callable, memory_mb: int | None, parent: int) -> None:
    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    _limit_memory(memory_mb)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        if message is None:
            os._exit(0)
        key, arg = message
        start = time.monotonic()
        try:
            reply = ("ok", task(arg))
        except KeyboardInterrupt:
            reply = ("interrupt", None)
        except MemoryError:
            reply = ("error", "ran out of memory (the memory limit of a check)")
        except BaseException as err:  # the task's own failure: this file only
            reply = (
                "error",
                f"the checker failed: {type(err).__name__}: {' '.join(str(err).split())}",
            )
        seconds = time.monotonic() - start
        try:
            conn.send((*reply, seconds, _peak_mb()))
        except Exception as err:  # a result that does not pickle
            conn.send(("error", f"the result could not be returned ({type(err).__name__})",
                       seconds, _peak_mb()))  # fmt: skip


# --- in the parent ------------------------------------------------------------------------
class _Worker:
    def __init__(self, task, memory_mb):
        parent_end, child_end = _CONTEXT.Pipe()
        self.process = _CONTEXT.Process(target=_worker, args=(child_end, task, memory_mb,
                                        os.getpid()), daemon=True)  # fmt: skip
        self.process.start()
        child_end.close()
        self.conn = parent_end
        self.key = None  # the task it is on
        self.started = 0.0
        self.peak = 0.0

    def give(self, key, arg) -> None:
        self.key, self.started = key, time.monotonic()
        self.conn.send((key, arg))

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self.conn.send(None)
        self.process.join(2)
        if self.process.is_alive():
            self.kill()
        else:
            self.conn.close()


class Pool:
    """``workers`` processes running ``task(arg)``; ``deadline`` seconds per task, after which
    its worker is killed (None: no deadline); ``memory_mb`` each worker's address space."""

    def __init__(self, task: Callable, workers: int = 2, memory_mb: int | None = None,
                 deadline: float | None = None):  # fmt: skip
        if workers < 0:
            raise ValueError("workers must be 0 (this process) or more")
        if workers and _CONTEXT is None:
            workers = 0  # no fork here (Windows): check in this process
        self.task, self.workers, self.memory_mb, self.deadline = task, workers, memory_mb, deadline
        self.peak_mb = 0.0
        self._live: list[_Worker] = []

    def run(self, items: Iterable[tuple[object, object]], tick: Callable[[], None] | None = None,
            poll: float = 0.1) -> Iterator[Outcome]:  # fmt: skip
        """An Outcome for each (key, arg), as each finishes. ``tick()`` is called while
        waiting, at least every ``poll`` seconds. A task that raised KeyboardInterrupt, or
        Ctrl-C in the parent, stops every worker and raises KeyboardInterrupt."""
        if not self.workers:
            yield from self._here(items, tick)
            return
        todo = list(items)[::-1]
        try:
            while todo or any(w.key is not None for w in self._live):
                self._feed(todo)
                finished = list(self._collect(poll))
                self._feed(todo)  # before the caller handles the results: no worker waits
                yield from finished
                if tick is not None:
                    tick()
        except BaseException:
            self.close(kill=True)
            raise
        self.close()

    def _feed(self, todo: list) -> None:
        while todo and len(self._live) < self.workers:
            self._live.append(_Worker(self.task, self.memory_mb))
        for w in self._live:
            if w.key is None and todo:
                w.give(*todo.pop())

    def _here(self, items, tick) -> Iterator[Outcome]:
        for key, arg in items:
            start = time.monotonic()
            try:
                result, error = self.task(arg), None
            except MemoryError:
                result, error = None, "ran out of memory"
            except KeyboardInterrupt:
                raise
            except Exception as err:
                result, error = None, failure(err)
            yield Outcome(key, result, error, time.monotonic() - start, _peak_mb())
            if tick is not None:
                tick()

    def _collect(self, poll: float) -> Iterator[Outcome]:
        busy = [w for w in self._live if w.key is not None]
        if not busy:
            return
        timeout = poll
        if self.deadline is not None:
            due = min(w.started + self.deadline for w in busy) - time.monotonic()
            timeout = max(0.0, min(poll, due))
        ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout)
        now = time.monotonic()
        for w in busy:
            key, seconds = w.key, now - w.started
            if w.conn in ready or (w.process.sentinel in ready and w.conn.poll()):
                try:
                    status, result, seconds, peak = w.conn.recv()
                except (EOFError, OSError):
                    status, result = "died", None
                else:
                    w.peak = peak
                    self.peak_mb = max(self.peak_mb, peak)
                if status == "ok":
                    w.key = None
                    yield Outcome(key, result, None, seconds, w.peak)
                    continue
                if status == "interrupt":
                    raise KeyboardInterrupt
                if status == "error":
                    w.key = None
                    yield Outcome(key, None, result, seconds, w.peak)
                    continue
                self._replace(w)
                yield Outcome(key, None, _died(w), seconds, w.peak)
            elif w.process.sentinel in ready:
                self._replace(w)
                yield Outcome(key, None, _died(w), seconds, w.peak)
            elif self.deadline is not None and seconds > self.deadline:
                self._replace(w)
                yield Outcome(key, None, f"stopped after {seconds:.0f} s (the time limit of a "
                              "check)", seconds, w.peak)  # fmt: skip

    def _replace(self, w: _Worker) -> None:
        w.kill()
        self._live.remove(w)

    def close(self, kill: bool = False) -> None:
        for w in self._live:
            w.kill() if kill else w.stop()
        self._live = []


def failure(err: BaseException) -> str:
    return f"the checker failed: {type(err).__name__}: {' '.join(str(err).split())}".rstrip(": ")


def _died(w: _Worker) -> str:
    code = w.process.exitcode
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else code
        cause = " (out of memory?)" if -code == signal.SIGKILL else ""
        return f"the checking process was killed by {name}{cause}"
    return f"the checking process died (exit code {code})"
