"""Grading a whole class against an assignment: a gradebook, results, and feedback for each.

``run_class(folder, out, grader)`` grades every submission in ``folder``: each ``*.yaml`` /
``*.yml`` file at its top, or the one such file in each student's subfolder (``alice/answers.yaml``;
hidden files and folders are skipped), and writes into ``out``::

    gradebook.csv          one row per student (see derive/claims/gradebook.py)
    results.json           every student's result, and the slips counted per question
    feedback/<name>.md     each question: the verdict, the points, the evidence of a wrong answer
    feedback/<name>.tex    the same for LaTeX, and <name>.pdf when pdflatex is installed
    .done/<hash>.json      one per submission graded: the result, and what it was graded from

Everything in the folder is a student's: only regular files are read (a symbolic link, a FIFO
or a device is an error row, never followed or opened), each at most 256 kB (the size is checked
before it is read), and nothing in it is run. ``<name>`` is the submission's path in the folder
with every character outside ``A-Za-z0-9.-`` written as ``_XX`` (its UTF-8 bytes in hex), so two
submissions never share a feedback file (``a b.yaml`` is ``a_20b.yaml``, ``a_b.yaml`` is
``a_5fb.yaml``). Two files that give the same ``student:`` are both error rows; with a roster,
a student not on it is an error row and one who handed in nothing is a row "no submission".

Resuming: a submission's ``.done`` file is written the moment it is graded, then the gradebook
is rewritten (to a temporary file, renamed over the old one: the CSV is whole at every moment)
and the feedback written. An interrupted run (Ctrl-C, a kill) keeps all of that; the next run
skips every submission whose ``.done`` file is there, whose content has not changed since (its
SHA-256), graded against the same assignment (its files' SHA-256) without an error, unless
``redo``. Error rows are graded again by the next run (the cause may lie outside the file).

Parallel and contained: submissions are graded by :class:`~derive.claims.pool.Pool` workers,
each with the assignment's memory limit and a hard deadline; a worker that dies or overruns
costs that one submission an error row, and the rest go on. The parent alone writes, as each
submission completes; feedback PDFs are pdflatex subprocesses it polls.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import shutil
import stat
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from derive.claims import gradebook
from derive.claims.answers import MAX_FILE_BYTES
from derive.claims.pool import GRACE, Outcome, Pool
from derive.claims.verdict import FileResult
from derive.claims.writeup import MAX_WRITEUP_BYTES
from derive.errors import DeriveError
from derive.safeio import file_label, shown

SUFFIXES = (".yaml", ".yml")
WRITEUPS = (".tex", ".md")  # a whole write-up, read as derive check --homework reads one
Check = Callable[[Path, str], FileResult]
Progress = Callable[[int, int, str], None]
MAX_NAME = 120  # characters of a feedback name before it is shortened with a hash


@dataclass(frozen=True)
class ClassSummary:
    students: int  # submissions in the folder
    checked: int  # graded by this run
    skipped: int  # graded by an earlier run, not again
    errors: int  # rows with an error (a file that could not be graded, no submission)
    verdicts: dict[str, int]  # answers per verdict over the whole gradebook
    seconds: float
    gradebook: Path
    results: Path
    feedback: Path  # the folder
    written: tuple[Path, ...] = field(default=(), repr=False)  # every file this run wrote
    problems: tuple[str, ...] = field(default=())  # feedback not made (LaTeX errors), a line each
    peak_mb: float = 0.0  # the largest resident memory of a worker
    slips: dict[str, dict[str, int]] = field(default_factory=dict)  # question -> slip -> count


@dataclass(frozen=True)
class Submission:
    path: Path
    relative: str  # the path in the folder, as the file system has it
    name: str  # of its feedback files
    student: str  # the id when the file gives none: its folder's name, or its stem
    digest: str  # SHA-256 of the file ("" when it is not read: see problem)
    problem: str = ""  # why it is an error row without being graded
    in_folder: bool = False  # DIR/<id>/answers.yaml: the folder's name is the student's id

    @property
    def label(self) -> str:
        """The path in the folder as safe text: alice.yaml, bob/answers.yaml."""
        return file_label(self.relative)

    @property
    def state_name(self) -> str:
        return hashlib.sha256(os.fsencode(self.relative)).hexdigest()[:24] + ".json"


# --- the folder ---------------------------------------------------------------------------
def feedback_name(relative: str) -> str:
    """The submission's path in the folder as a file name: characters outside A-Za-z0-9.- (and
    a leading '.' or '-') as _XX per UTF-8 byte; unique by construction (``_`` itself is
    ``_5f``). Longer than MAX_NAME: shortened, with 16 hex digits of its SHA-256."""
    raw = os.fsencode(relative)
    out = []
    for k, byte in enumerate(raw):
        ch = chr(byte)
        keep = byte < 128 and (ch.isalnum() or (ch in ".-" and k > 0))
        out.append(ch if keep else f"_{byte:02x}")
    name = "".join(out)
    if len(name) > MAX_NAME:
        name = name[: MAX_NAME - 17] + "-" + hashlib.sha256(raw).hexdigest()[:16]
    return name


def _is_answers(name: str) -> bool:
    suffix = os.path.splitext(name)[1].lower()
    return not name.startswith(".") and suffix in (*SUFFIXES, *WRITEUPS)


def submissions(folder: Path) -> list[Submission]:
    """The submissions of ``folder``, in order of their paths' bytes."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DeriveError(f"{shown(folder)}: no such folder")
    found: list[Submission] = []
    for entry in sorted(os.scandir(folder), key=lambda e: os.fsencode(e.name)):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            if _is_answers(entry.name) or os.path.isdir(entry.path):
                found.append(_refused(Path(entry.path), entry.name,
                                      "a symbolic link: only regular files in the class folder "
                                      "are graded"))  # fmt: skip
            continue
        if entry.is_dir(follow_symlinks=False):
            found += _in_subfolder(Path(entry.path), entry.name)
        elif _is_answers(entry.name):
            found.append(_submission(Path(entry.path), entry.name, _stem(entry.name)))
    if not found:
        raise DeriveError(
            f"{shown(folder)}: no answers files (*.yaml, *.yml, write-ups *.tex, *.md, or one in "
            "each student's folder)"
        )
    return found


def _in_subfolder(sub: Path, dirname: str) -> list[Submission]:
    student = file_label(dirname)
    try:
        files = sorted((e for e in os.scandir(sub) if _is_answers(e.name)),
                       key=lambda e: os.fsencode(e.name))  # fmt: skip
    except OSError as err:
        return [replace(_refused(sub, dirname, f"the folder cannot be read ({err.strerror})",
                                 student), in_folder=True)]  # fmt: skip
    if not files:
        return []
    if len(files) > 1:
        names = ", ".join(file_label(e.name) for e in files[:5])
        return [_refused(Path(files[0].path), f"{dirname}/{files[0].name}",
                         f"several answers files in {student}/ ({names}): hand in one",
                         student)]  # fmt: skip
    e = files[0]
    label = f"{dirname}/{e.name}"
    if e.is_symlink():
        return [_refused(Path(e.path), label, "a symbolic link: only regular files are graded",
                         student)]  # fmt: skip
    return [replace(_submission(Path(e.path), label, student), in_folder=True)]


def _stem(name: str) -> str:
    return file_label(os.path.splitext(name)[0])


def _refused(path: Path, relative: str, problem: str, student: str = "") -> Submission:
    return Submission(path, relative, feedback_name(relative),
                      student or _stem(os.path.basename(relative)), "", problem)  # fmt: skip


def _submission(path: Path, relative: str, student: str) -> Submission:
    """Hashed within bounds: a file that is not regular, or too large, is not read."""
    try:
        info = os.lstat(path)
    except OSError as err:
        return _refused(path, relative, f"cannot be read ({err.strerror})", student)
    if not stat.S_ISREG(info.st_mode):
        return _refused(path, relative, "not a regular file", student)
    writeup = path.suffix.lower() in WRITEUPS
    limit = MAX_WRITEUP_BYTES if writeup else MAX_FILE_BYTES
    if info.st_size > limit:
        what = "a write-up" if writeup else "an answers file"
        return _refused(path, relative, f"larger than {limit // 1000} kB; not {what}",
                        student)  # fmt: skip
    from derive.safeio import read_bytes

    try:
        data = read_bytes(path, limit, follow_symlinks=False)
    except DeriveError as err:
        return _refused(path, relative, str(err).replace(shown(path), file_label(relative)),
                        student)  # fmt: skip
    return Submission(path, relative, feedback_name(relative), student,
                      hashlib.sha256(data).hexdigest())  # fmt: skip


# --- writing ------------------------------------------------------------------------------
def write_text_atomically(path: Path, text: str) -> Path:
    """Write to a temporary file beside ``path``, then rename: readers see the old file or the
    new one, never half of one, whenever the process stops. A write that fails (a full disk, a
    read-only folder) raises DeriveError and leaves the old file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise DeriveError(f"cannot write {shown(path)}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(err, OSError):
            raise DeriveError(f"cannot write {shown(path)}: {err.strerror}") from None
        raise
    return path


class _Store:
    """The .done folder: one JSON file per submission graded."""

    def __init__(self, out: Path, fingerprint: str):
        self.folder = out / ".done"
        self.fingerprint = fingerprint

    def clear(self) -> None:
        if self.folder.is_dir():
            for path in self.folder.glob("*.json"):
                path.unlink()

    def load(self, s: Submission) -> FileResult | None:
        """The stored result of ``s``, when its file is unchanged, was graded against this
        assignment, and without an error (see the module's docstring)."""
        if s.problem:
            return None
        path = self.folder / s.state_name
        try:
            data = json.loads(path.read_text("utf-8"))
            if (data["file"], data["digest"], data["assignment"]) != (
                s.label,
                s.digest,
                self.fingerprint,
            ):
                return None
            result = gradebook.result_from_json(data["result"], s.path)
            return None if result.error else result
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none, or unreadable: grade again

    def save(self, s: Submission, result: FileResult) -> None:
        record = {"file": s.label, "digest": s.digest, "assignment": self.fingerprint,
                  "result": result.to_json()}  # fmt: skip
        write_text_atomically(self.folder / s.state_name, gradebook.to_json_text(record))


# --- grading ------------------------------------------------------------------------------
def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def error_row(s: Submission, error: str) -> FileResult:
    return FileResult(s.path, s.student, error=error, file=s.label)


class _Task:
    """What a worker runs for one submission: ``check(path, student)``, its problems turned
    into an error row (a DeriveError is the file's problem; anything else the checker's)."""

    def __init__(self, check: Check):
        self.check = check

    def __call__(self, s: Submission) -> FileResult:
        try:
            result = self.check(s.path, s.student)
        except DeriveError as err:
            message = _one_line(err).replace(str(s.path), s.label).replace(shown(s.path), s.label)
            return error_row(s, message or type(err).__name__)
        except (RecursionError, MemoryError) as err:
            return error_row(s, f"the file could not be graded ({type(err).__name__})")
        if not isinstance(result, FileResult):
            return error_row(s, f"the checker gave a {type(result).__name__}")
        if result.error:
            return error_row(s, _one_line(result.error).replace(str(s.path), s.label))
        if s.in_folder and result.student != s.student:  # the folder says who handed it in
            note = (f"the file says it is student {shown(result.student, 60)}; it is graded as "
                    f"{s.student}, the name of its folder")  # fmt: skip
            result = replace(result, student=s.student, notes=(*result.notes, note))
        return replace(result, file=s.label)


def latex_available() -> bool:
    return shutil.which("pdflatex") is not None


class _Feedback:
    """Feedback files: Markdown and .tex at once, the PDFs as pdflatex subprocesses."""

    def __init__(self, folder: Path, pdf: bool, jobs: int):
        self.folder, self.pdf, self.jobs = folder, pdf, max(1, jobs)
        self.pending: list = []
        self.written: list[Path] = []
        self.problems: list[str] = []

    def missing(self, s: Submission) -> bool:
        wanted = (".md", ".tex", ".pdf") if self.pdf else (".md", ".tex")
        return any(not (self.folder / f"{s.name}{suffix}").is_file() for suffix in wanted)

    def write(self, s: Submission, result: FileResult) -> None:
        from derive.render.feedback import PdfJob, render_feedback
        from derive.render.report import write_documents

        self.collect()
        try:
            tex, md = render_feedback(result)
            self.written += write_documents(s.name, tex, self.folder, {"tex", "md"}, md)
        except Exception as err:
            self.problems.append(f"{s.label}: the feedback failed: {_one_line(err)}")
            return
        if self.pdf:
            while len(self.pending) >= self.jobs:
                self.collect()
                time.sleep(0.02)
            try:
                self.pending.append((PdfJob(tex, self.folder, s.name), s.label))
            except OSError as err:
                self.problems.append(f"{s.label}: no PDF: {err}")

    def collect(self, wait: bool = False) -> None:
        for job, label in list(self.pending):
            if not (wait or job.done()):
                continue
            self.pending.remove((job, label))
            try:
                self.written.append(job.finish())
            except Exception as err:  # a LaTeX error: the .md and .tex are there
                self.problems.append(f"{label}: no PDF: {_one_line(err)}")

    def finish(self, interrupted: bool) -> None:
        if interrupted:
            for job, _ in self.pending:
                job.cancel()
            self.pending = []
        self.collect(wait=True)


def run_class(
    folder: Path,
    out: Path,
    grader=None,
    *,
    redo: bool = False,
    workers: int = 2,
    check: Check | None = None,
    on_progress: Progress | None = None,
    pdf: bool | None = None,
    fingerprint: str = "",
    shard: tuple[int, int] | None = None,
) -> ClassSummary:
    """Grade every submission of ``folder`` and write the gradebook, results.json and the
    feedback into ``out`` (see the module's docstring). ``grader``: a prepared assignment
    (:class:`derive.claims.grade.Grader`); ``check(path, student) -> FileResult`` replaces its
    grading (tests). ``workers``: processes grading at once (0: in this process, without the
    limits). ``on_progress(done, total, student)`` is called once at the start (``student``
    empty, done counting the skipped ones) and after each submission. ``pdf``: None makes
    feedback PDFs when pdflatex is installed. A KeyboardInterrupt stops the run, keeps what is
    done, and is raised again. ``shard`` (k, n): grade only the k-th of n parts of the class
    (see :mod:`derive.claims.shards`), and record which in ``out/shard.json``."""
    start = time.monotonic()
    if workers < 0:
        raise DeriveError(f"workers {workers}: 0 (this process) or more")
    assignment = getattr(grader, "assignment", None)
    if check is None:
        if grader is None:
            raise TypeError("run_class needs a grader (an assignment) or a check")
        check = grader.grade
    limits = assignment.limits if assignment is not None else None
    out = Path(out)
    subs = submissions(folder)
    fingerprint = fingerprint or (assignment_fingerprint(assignment) if assignment else "")
    if shard is not None:
        from derive.claims.shards import in_shard, write_shard

        everyone = subs
        subs = [s for s in everyone if in_shard(s.relative, shard)]
        write_shard(out, shard, fingerprint, everyone, subs)
    store = _Store(out, fingerprint)
    if redo:
        store.clear()
    results: dict[str, FileResult] = {}  # by the submission's path in the folder, as it is
    for s in subs:
        stored = store.load(s)
        if stored is not None:
            results[s.relative] = replace(stored, file=s.label)
    done_before = set(results)
    skipped = len(done_before)
    todo = [s for s in subs if s.relative not in done_before]
    paths = {"gradebook": out / "gradebook.csv", "results": out / "results.json"}
    feedback = _Feedback(out / "feedback", latex_available() if pdf is None else pdf,
                         max(workers, 1))  # fmt: skip
    roster = assignment.roster if assignment is not None and shard is None else None

    def rows() -> list[FileResult]:
        return class_rows(subs, results, roster)

    def save_gradebook() -> None:
        write_text_atomically(paths["gradebook"], gradebook.gradebook_csv(rows(), assignment))

    if on_progress is not None:
        on_progress(skipped, len(subs), "")
    deadline = None if limits is None else limits.seconds_per_student + GRACE
    pool = Pool(_Task(check), workers, limits.memory_mb if limits else None, deadline)
    finished = False
    try:
        save_gradebook()
        refused = [s for s in todo if s.problem]
        outcomes = [Outcome(s, error_row(s, s.problem)) for s in refused]
        graded = [(s, s) for s in todo if not s.problem]
        for outcome in itertools.chain(outcomes, pool.run(graded, tick=feedback.collect)):
            s = outcome.key
            result = outcome.result if outcome.error is None else error_row(s, outcome.error)
            store.save(s, result)  # first: from here on, s is done
            results[s.relative] = result
            save_gradebook()
            feedback.write(s, result)
            if on_progress is not None:
                on_progress(len(results), len(subs), result.student)
        for s in subs:  # feedback that an earlier, killed run did not get to
            if s.relative in done_before and feedback.missing(s):
                feedback.write(s, results[s.relative])
        by_label = {x.label: x for x in subs}
        for row in rows():  # a student claimed by two files: the feedback says so
            s = by_label.get(row.file)
            if s is not None and row.error and results.get(s.relative) is not row:
                feedback.write(s, row)
        finished = True
    finally:
        pool.close(kill=not finished)
        feedback.finish(interrupted=not finished)
        save_gradebook()
        write_text_atomically(paths["results"], gradebook.results_json(rows(), assignment))
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
        peak_mb=pool.peak_mb,
        slips=gradebook.slip_counts(done),
    )


def class_rows(subs: list[Submission], results: dict[str, FileResult],
               roster: tuple[str, ...] | None) -> list[FileResult]:  # fmt: skip
    """The gradebook's rows: each submission graded so far, in folder order; a student id
    given by two or more files is an error in each of them; with a roster, a row for each
    student who handed in nothing (once every submission is graded)."""
    rows = [results[s.relative] for s in subs if s.relative in results]
    claimed = Counter(r.student for r in rows if r.error is None)
    files: dict[str, list[str]] = {}
    for r in rows:
        files.setdefault(r.student, []).append(r.file)
    out = []
    for r in rows:
        if r.error is None and claimed[r.student] > 1:
            names = ", ".join(files[r.student][:5])
            error = (f"{claimed[r.student]} files say they are student {r.student} ({names}): "
                     "none is graded")  # fmt: skip
            r = FileResult(r.path, r.student, (), error, file=r.file)
        out.append(r)
    if roster is not None and len(rows) == len(subs):
        handed_in = {r.student for r in rows}
        out += [FileResult(Path(""), ident, (), "no submission", file="")
                for ident in roster if ident not in handed_in]  # fmt: skip
    return out


def assignment_fingerprint(assignment) -> str:
    """SHA-256 of every file the assignment is made of (itself, its network files, values
    and roster files) and of derive's version: a change to any of them grades again."""
    from derive.version import derive_version

    digest = hashlib.sha256(derive_version().encode())
    for path in assignment.sources:
        with contextlib.suppress(OSError):
            digest.update(os.fsencode(str(path)) + b"\0" + Path(path).read_bytes() + b"\0")
    return digest.hexdigest()


__all__ = ["ClassSummary", "Submission", "class_rows", "feedback_name", "run_class",
           "submissions", "write_text_atomically"]  # fmt: skip
