"""Checking a whole class: one claims file per student, a gradebook, and feedback for each.

``run_class(folder, out)`` checks every ``*.yaml``/``*.yml`` file of ``folder`` (not its
subfolders; hidden files are skipped) and writes into ``out``::

    gradebook.csv          one row per student (see derive/claims/gradebook.py)
    results.json           every student's result
    feedback/<name>.md     each claim: the verdict, the message, the evidence of a wrong one
    feedback/<name>.tex    the same for LaTeX, and <name>.pdf when pdflatex is installed
    .done/<hash>.json      one per student checked: the result, and the digest of the file

``<name>`` is the claims file's name without its suffix, reduced to letters, digits and ``._-``
(file names are unique in a folder; the ``student:`` of two files may be the same).

Resuming: a student's ``.done`` file is written the moment that student's check returns, then
the gradebook is rewritten (to a temporary file, renamed over the old one: the CSV is whole at
every moment) and the feedback written. An interrupted run (Ctrl-C, a killed process) keeps all
of that; the next run skips every student whose ``.done`` file is there, whose claims file has not
changed since (its SHA-256) and who was checked without an error, unless ``redo``. Feedback
missing for a done student (killed before it was written) is written again without checking
again. results.json is written at the end, also of an interrupted run (and by the next run after
a kill).

Parallel: the checker is CPU-bound (SymPy, NumPy), so students are checked in a process pool;
the main process alone writes, as each student completes. PDFs (~0.1 s of pdflatex each) are
made by a few threads of the main process, since they wait on a subprocess.

A broken file (the checker raises DeriveError, or returns a result with ``error``) is an error
row, and so is any other exception of the checker for one student (named with its type). Error
rows are checked again by the next run: the cause may lie outside the file (a network file not
there yet, the checker's own failure), and a broken file fails again quickly.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import json
import os
import pickle
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path

from derive.claims import gradebook
from derive.claims.verdict import FileResult
from derive.errors import DeriveError

SUFFIXES = (".yaml", ".yml")
Check = Callable[[Path], FileResult]
Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ClassSummary:
    students: int  # claims files in the folder
    checked: int  # checked by this run
    skipped: int  # done by an earlier run, not checked again
    errors: int  # students whose file could not be checked (error rows)
    verdicts: dict[str, int]  # claims per verdict over the whole gradebook
    seconds: float
    gradebook: Path
    results: Path
    feedback: Path  # the folder
    written: tuple[Path, ...] = field(default=(), repr=False)  # every file this run wrote
    problems: tuple[str, ...] = field(default=())  # feedback not made (LaTeX errors), a line each


@dataclass(frozen=True)
class Submission:
    path: Path
    name: str  # of its feedback files
    digest: str  # SHA-256 of the file: a changed file is checked again

    @property
    def state_name(self) -> str:
        return hashlib.sha256(self.path.name.encode()).hexdigest()[:20] + ".json"


# --- the folder ---------------------------------------------------------------------------
def claims_files(folder: Path) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise DeriveError(f"{folder}: no such folder")
    files = sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() in SUFFIXES and not p.name.startswith(".") and p.is_file()
    )
    if not files:
        raise DeriveError(f"{folder}: no claims files (*.yaml, *.yml) in it")
    return files


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:80]
    return slug or "student"


def submissions(folder: Path) -> list[Submission]:
    """The claims files of ``folder``, each with a feedback name unique in the class."""
    files = claims_files(folder)
    names = [_slug(p.stem) for p in files]
    taken = {n for n in names if names.count(n) > 1}  # a.yaml and a.yml, "a b" and "a_b"
    return [
        Submission(
            p,
            n if n not in taken else f"{n}-{hashlib.sha256(p.name.encode()).hexdigest()[:8]}",
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p, n in zip(files, names)
    ]


# --- writing ------------------------------------------------------------------------------
def write_text_atomically(path: Path, text: str) -> Path:
    """Write to a temporary file beside ``path``, then rename: readers see the old file or the
    new one, never half of one, whenever the process stops."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


class _Store:
    """The .done folder: one JSON file per student checked."""

    def __init__(self, out: Path):
        self.folder = out / ".done"

    def clear(self) -> None:
        if self.folder.is_dir():
            for path in self.folder.glob("*.json"):
                path.unlink()

    def load(self, s: Submission) -> FileResult | None:
        """The stored result of ``s``, when its file is unchanged and was checked without an
        error (see the module's docstring)."""
        path = self.folder / s.state_name
        try:
            data = json.loads(path.read_text("utf-8"))
            if data["file"] != s.path.name or data["digest"] != s.digest:
                return None
            result = gradebook.result_from_json(data["result"], s.path)
            return None if result.error else result
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none, or unreadable: check again

    def save(self, s: Submission, result: FileResult) -> None:
        record = {"file": s.path.name, "digest": s.digest, "result": result.to_json()}
        write_text_atomically(self.folder / s.state_name, gradebook.to_json_text(record))


# --- checking -----------------------------------------------------------------------------
def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def check_one(check: Check, path: Path) -> FileResult:
    """``check(path)``, never raising for a problem of this one file."""
    try:
        result = check(path)
    except DeriveError as err:
        message = _one_line(err).replace(str(path), path.name) or type(err).__name__
        return FileResult(path, path.stem, error=message)
    except Exception as err:  # the checker's failure on this file: an error row, not a crash
        detail = f"{type(err).__name__}: {_one_line(err)}".rstrip(": ")
        return FileResult(path, path.stem, error=f"the checker failed: {detail}")
    if not isinstance(result, FileResult):
        kind = type(result).__name__
        return FileResult(path, path.stem, error=f"the checker gave a {kind}")
    if result.error:
        error = _one_line(result.error).replace(str(path), path.name)
        return FileResult(result.path, result.student, (), error)
    return result


def _ignore_sigint() -> None:
    """In the workers: Ctrl-C is for the main process, which stops them itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stop(pool: cf.ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now (no waiting for running checks)."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(5)


class _Checks:
    """(submission, result) as each check completes: in this process with one worker,
    else in a process pool, started at once (all students submitted before any thread of ours
    exists: a forked worker must not inherit a thread's lock). ``close()`` cancels the rest."""

    def __init__(self, todo: list[Submission], check: Check, workers: int):
        self.todo, self.check, self.pool = todo, check, None
        if workers > 1 and len(todo) > 1:
            try:
                pickle.dumps(check)
            except Exception as err:
                raise TypeError(f"with workers > 1, check must be picklable: {err}") from None
            self.pool = cf.ProcessPoolExecutor(
                max_workers=min(workers, len(todo)), initializer=_ignore_sigint
            )
            self.futures = {self.pool.submit(check_one, check, s.path): s for s in todo}

    def __iter__(self) -> Iterator[tuple[Submission, FileResult]]:
        if self.pool is None:
            for s in self.todo:
                yield s, check_one(self.check, s.path)
            return
        for future in cf.as_completed(self.futures):
            s = self.futures[future]
            try:
                result = future.result()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BrokenProcessPool:
                error = "the checking process died (out of memory?); it is checked again next run"
                result = FileResult(s.path, s.path.stem, error=error)
            except BaseException as err:  # a worker's own failure (e.g. pickling the result)
                error = f"the checker failed: {type(err).__name__}: {_one_line(err)}"
                result = FileResult(s.path, s.path.stem, error=error)
            yield s, result

    def close(self, finished: bool) -> None:
        if self.pool is not None:
            if not finished:
                _stop(self.pool)
            self.pool.shutdown(wait=True, cancel_futures=True)


# --- the run ------------------------------------------------------------------------------
def latex_available() -> bool:
    return shutil.which("pdflatex") is not None


class _Feedback:
    """Feedback files: Markdown and .tex at once, the PDFs on a few threads."""

    def __init__(self, folder: Path, pdf: bool, threads: int):
        self.folder, self.pdf = folder, pdf
        self.pool = cf.ThreadPoolExecutor(max_workers=threads) if pdf else None
        self.pending: dict[cf.Future, str] = {}
        self.written: list[Path] = []
        self.problems: list[str] = []

    def missing(self, s: Submission) -> bool:
        wanted = (".md", ".tex", ".pdf") if self.pdf else (".md", ".tex")
        return any(not (self.folder / f"{s.name}{suffix}").is_file() for suffix in wanted)

    def write(self, s: Submission, result: FileResult) -> None:
        from derive.render.feedback import render_feedback, write_pdf
        from derive.render.report import write_documents

        self._collect()
        try:
            tex, md = render_feedback(result)
            self.written += write_documents(s.name, tex, self.folder, {"tex", "md"}, md)
        except Exception as err:
            self.problems.append(f"{s.path.name}: the feedback failed: {_one_line(err)}")
            return
        if self.pool is not None:
            self.pending[self.pool.submit(write_pdf, tex, self.folder, s.name)] = s.path.name

    def _collect(self, wait: bool = False) -> None:
        for future in list(self.pending):
            if not (wait or future.done()):
                continue
            name = self.pending.pop(future)
            try:
                self.written.append(future.result())
            except cf.CancelledError:
                pass
            except Exception as err:  # a LaTeX error: the .md and .tex are there
                self.problems.append(f"{name}: no PDF: {_one_line(err)}")

    def finish(self, interrupted: bool) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=interrupted)
            self._collect(wait=True)


def run_class(
    folder: Path,
    out: Path,
    *,
    redo: bool = False,
    workers: int = 2,
    check: Check | None = None,
    on_progress: Progress | None = None,
    pdf: bool | None = None,
) -> ClassSummary:
    """Check every claims file of ``folder`` and write the gradebook, results.json and the
    feedback into ``out`` (see the module's docstring). ``check(path) -> FileResult`` defaults
    to :func:`derive.claims.check.check_file`; with ``workers`` > 1 it must be picklable.
    ``on_progress(done, total, student)`` is called once at the start (``student`` empty, done
    counting the skipped ones) and after each student. ``pdf``: None makes feedback PDFs when
    pdflatex is installed. A KeyboardInterrupt stops the run, keeps what is done, and is raised
    again."""
    start = time.monotonic()
    if workers < 1:
        raise DeriveError(f"workers {workers}: at least 1 is needed")
    if check is None:
        from derive.claims.check import check_file as check  # the checker, lazily: it is heavy
    out = Path(out)
    subs = submissions(folder)
    store = _Store(out)
    if redo:
        store.clear()
    results: dict[Path, FileResult] = {}
    for s in subs:
        stored = store.load(s)
        if stored is not None:
            results[s.path] = stored
    done_before = set(results)
    skipped = len(done_before)
    todo = [s for s in subs if s.path not in done_before]
    paths = {"gradebook": out / "gradebook.csv", "results": out / "results.json"}
    feedback = _Feedback(out / "feedback", latex_available() if pdf is None else pdf, workers)

    def rows() -> list[FileResult]:
        return [results[s.path] for s in subs if s.path in results]

    if on_progress is not None:
        on_progress(skipped, len(subs), "")
    finished = False
    checks = _Checks(todo, check, workers)  # first: the pool starts before the PDF threads
    try:
        write_text_atomically(paths["gradebook"], gradebook.gradebook_csv(rows()))
        for s, result in checks:
            store.save(s, result)  # first: from here on, s is done
            results[s.path] = result
            write_text_atomically(paths["gradebook"], gradebook.gradebook_csv(rows()))
            feedback.write(s, result)
            if on_progress is not None:
                on_progress(len(results), len(subs), result.student)
        for s in subs:  # feedback that an earlier, killed run did not get to
            if s.path in done_before and feedback.missing(s):
                feedback.write(s, results[s.path])
        finished = True
    finally:
        checks.close(finished)
        feedback.finish(interrupted=not finished)
        write_text_atomically(paths["gradebook"], gradebook.gradebook_csv(rows()))
        write_text_atomically(paths["results"], gradebook.results_json(rows()))
    done = rows()
    return ClassSummary(
        students=len(subs),
        checked=len(results) - skipped,
        skipped=skipped,
        errors=sum(r.error is not None for r in done),
        verdicts=gradebook.verdict_counts(done),
        seconds=time.monotonic() - start,
        gradebook=paths["gradebook"],
        results=paths["results"],
        feedback=out / "feedback",
        written=tuple(dict.fromkeys([*paths.values(), *feedback.written])),
        problems=tuple(feedback.problems),
    )
