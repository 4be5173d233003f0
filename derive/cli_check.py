"""``derive check``: a quick check of one claims file, or grading against an assignment (one
student's answers, or the whole class with ``--class DIR``).

Registered on the app of :mod:`derive.cli`, whose helpers it shares (one-line errors, atomic
writes); the checking itself is :mod:`derive.claims`. Whatever a student's file says, the code
that runs is the instructor's: the networks given with ``--network`` (a quick check) or named
by the assignment. Every file is checked in a worker process with the limits of
:mod:`derive.claims.pool` (a memory limit, a hard deadline).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from derive.cli import app, parse_settings, user_errors, write_atomically
from derive.errors import DeriveError
from derive.safeio import shown


def step_said(step) -> str:
    """'2 WRONG', 'steps 1 to 2 right': one step of a chain, for the table."""
    word = step.said.upper() if step.verdict == "incorrect" else step.said
    return f"{step.name().removeprefix('step ')} {word}"


def print_claims(result) -> None:
    """id | verdict | message (with points when graded), the message wrapped to the terminal;
    for a wrong claim, the right expression and the likely slip under it; then the score."""
    import shutil
    import textwrap
    from collections import Counter

    from derive.claims.verdict import VERDICTS

    graded = result.graded
    width = min(max(shutil.get_terminal_size((100, 24)).columns, 60), 140)
    ids = [shown(c.id, 24) if c.line is None or c.id == f"line {c.line}" else
           f"{shown(c.id, 16)} (line {c.line})" for c in result.claims]  # fmt: skip
    points = [f"{c.points or 0:g}/{c.max_points:g}" if c.max_points is not None else ""
              for c in result.claims]  # fmt: skip
    w_id = max([len("question" if graded else "id"), *map(len, ids)])
    w_points = max([len("points"), *map(len, points)]) if graded else 0
    w_verdict = max([len("verdict"), *(len(c.verdict) for c in result.claims)])
    w_message = max(width - w_id - w_verdict - w_points - 6, 30)
    head = ("question" if graded else "id", "points" if graded else "", "verdict", "message")
    rows = [head, ("-" * w_id, "-" * w_points, "-" * w_verdict, "-" * len("message"))]
    for ident, score, c in zip(ids, points, result.claims):
        lines = textwrap.wrap(shown(c.message), w_message) or [""]
        if c.steps and len(c.steps) > 1:
            said = ", ".join(step_said(s) for s in c.steps)
            lines += textwrap.wrap(f"steps: {said}", w_message)
        if c.expected:
            lines += textwrap.wrap(f"right: {shown(c.expected)}", w_message)
        if c.slip and c.slip not in c.message:  # the checker's message often names it already
            lines += textwrap.wrap(f"likely slip: {shown(c.slip)}", w_message)
        rows.append((ident, score, shown(c.verdict), lines[0]))
        rows += [("", "", "", line) for line in lines[1:]]
    for a, p, b, text in rows:
        cells = [a.ljust(w_id), *([p.ljust(w_points)] if graded else []), b.ljust(w_verdict)]
        typer.echo(f"{'  '.join(cells)}  {text}".rstrip())
    for note in result.notes:
        typer.echo(f"note: {shown(note)}")
    counts = Counter(c.verdict for c in result.claims)
    told = ", ".join(f"{counts[v]} {v}" for v in [*VERDICTS, *sorted(set(counts) - set(VERDICTS))]
                     if counts[v])  # fmt: skip
    if graded:
        typer.echo(f"{shown(result.student, 60)}: {result.points:g} of {result.max_points:g} "
                   f"points ({told})")  # fmt: skip
    else:
        typer.echo(
            f"{shown(result.student, 60)}: {result.score} of {len(result.claims)} claims "
            f"earn the mark ({told})"
        )


def read_task(assignment: Path):
    """The assignment, or the key of derive sheet (a variant per student)."""
    if assignment.suffix == ".json":
        from derive.sheets.key import read_key

        return read_key(assignment)
    from derive.claims.assignment import read_assignment

    return read_assignment(assignment)


def merge_parts(parts: list[Path], assignment: Path | None, out: Path | None,
                others: list[str]) -> None:  # fmt: skip
    """derive check -a A --merge PART ... -o OUT."""
    from derive.claims.shards import merge_shards

    if assignment is None or out is None:
        raise DeriveError("--merge needs --assignment (what the parts were graded against) and -o")
    if others:
        raise DeriveError(f"{', '.join(others)}: --merge takes the parts' folders, --assignment "
                          "and -o only")  # fmt: skip
    students, n = merge_shards(parts, out, read_task(assignment))
    typer.echo(f"{students} submissions from {n} parts merged: {shown(out / 'gradebook.csv')}")


def check_class(folder: Path, out: Path | None, redo: bool, workers: int, pdf: bool,
                grader, shard=None) -> None:  # fmt: skip
    """derive check --assignment A --class DIR: the run with a progress bar, then the summary."""
    from derive.claims.classrun import latex_available, run_class
    from derive.render.report import INSTALL_HINT
    from derive.terminal import ProgressBar

    name = folder.resolve().name or "class"
    out_dir = out if out is not None else Path("reports") / "check" / name
    if out_dir.exists() and not out_dir.is_dir():
        raise DeriveError(f"{shown(out_dir)}: is a file; -o takes the folder to write into")
    if pdf and not latex_available():
        hint = INSTALL_HINT.replace("no PDF was made (the .tex is written)", "no feedback PDFs")
        typer.echo(hint, err=True)
        pdf = False
    bars: list[ProgressBar] = []
    state = {"done": 0, "total": 0}

    def progress(done: int, total: int, student: str) -> None:
        state.update(done=done, total=total)
        if not bars:
            before = f"; {done} graded before and unchanged: skipped" if done else ""
            typer.echo(f"{total} submissions in {shown(folder)}{before}")
            bars.append(ProgressBar(total))
        bars[0].update(done, shown(student, 30))

    try:
        summary = run_class(folder, out_dir, grader, redo=redo, workers=workers,
                            on_progress=progress, pdf=pdf, shard=shard)  # fmt: skip
    except KeyboardInterrupt:
        if bars:
            bars[0].clear()
        typer.echo(
            f"derive: interrupted: {state['done']} of {state['total']} submissions done, in "
            f"{shown(out_dir)}; run the same command again to go on",
            err=True,
        )
        raise typer.Exit(130) from None
    if bars:
        bars[0].clear()
    for line in summary.problems[:5]:
        typer.echo(f"derive: {shown(line)}", err=True)
    if len(summary.problems) > 5:
        typer.echo(f"derive: ... and {len(summary.problems) - 5} more feedback problems", err=True)
    errors = f", {summary.errors} rows with an error" if summary.errors else ""
    typer.echo(
        f"{summary.students} submissions: {summary.checked} graded, {summary.skipped} skipped "
        f"(done before){errors}; {summary.seconds:.1f} s"
    )
    counts = ", ".join(f"{n} {v}" for v, n in summary.verdicts.items() if n)
    typer.echo(f"answers: {counts or 'none graded'}")
    for question, slips in list(summary.slips.items())[:10]:
        told = ", ".join(f"{shown(slip)} ({n})" for slip, n in list(slips.items())[:3])
        typer.echo(f"slips in {shown(question, 40)}: {told}")
    typer.echo(f"gradebook: {shown(summary.gradebook)}")
    kinds = "Markdown, LaTeX" + (", PDF" if pdf else "")
    typer.echo(f"feedback: {shown(summary.feedback)}{os.sep} ({kinds})")
    typer.echo(f"all results: {shown(summary.results)}")


def _not_inside(assignment, folder: Path) -> None:
    """A network file among the students' files could be replaced by a student: refused."""
    here = folder.resolve()
    for path in [assignment.path, *assignment.network_files()]:
        if Path(path).resolve().is_relative_to(here):
            raise DeriveError(
                f"{shown(path)} is inside the class folder {shown(folder)}, where students' files "
                "are: keep the assignment and its networks outside it"
            )


class _Safely:
    """``check(path)``, a DeriveError (the file's problem) returned as an error result."""

    def __init__(self, check):
        self.check = check

    def __call__(self, path: Path):
        from derive.claims.verdict import FileResult

        try:
            return self.check(path)
        except DeriveError as err:
            return FileResult(path, "", error=str(err))


def _one(check, path: Path, limits):
    """Check one file in a worker process, within the limits; its FileResult."""
    from derive.claims.pool import GRACE, Pool

    pool = Pool(_Safely(check), 1, limits.memory_mb, limits.seconds_per_student + GRACE)
    outcome = next(iter(pool.run([(path, path)])))
    if outcome.error is not None:
        raise DeriveError(f"{shown(path)}: {outcome.error}")
    return outcome.result


class _QuickCheck:
    def __init__(self, networks, settings, values, tolerance):
        self.networks, self.settings = networks, settings
        self.values, self.tolerance = values, tolerance

    def __call__(self, path):
        from derive.claims.grade import check_file

        return check_file(path, self.networks, settings=self.settings, values=self.values,
                          tolerance=self.tolerance)  # fmt: skip


@app.command(
    short_help="Check a claims file, or grade a student's answers (or a whole class) against "
    "an assignment."
)
def check(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="A claims file to check (YAML: ids and claims), or with --assignment a "
            "student's answers file.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    assignment: Annotated[
        Path | None,
        typer.Option(
            "--assignment",
            "-a",
            metavar="A.yaml",
            help="The instructor's assignment: the questions, their points, the network files "
            "(the only code derive runs while grading), the numbers and tolerances.",
            show_default=False,
        ),
    ] = None,
    class_dir: Annotated[
        Path | None,
        typer.Option(
            "--class",
            metavar="DIR",
            help="With --assignment: grade a whole class. DIR holds one answers file per "
            "student (*.yaml, or one in each student's folder). Writes a gradebook CSV, "
            "results.json and per-student feedback; an interrupted run goes on where it "
            "stopped when run again.",
            show_default=False,
        ),
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="Write every verdict and its evidence to this JSON file.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="With --class: the output folder (default: reports/check/<name of DIR>/).",
            show_default=False,
        ),
    ] = None,
    redo: Annotated[
        bool,
        typer.Option(
            "--redo", help="With --class: grade every student again, not only new or changed."
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(help="With --class: processes grading at once (default 2)."),
    ] = None,
    no_pdf: Annotated[
        bool, typer.Option("--no-pdf", help="With --class: Markdown and .tex feedback only.")
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            "--shard",
            metavar="K/N",
            help="With --class: grade only part K of N of the class (on N machines; merge the "
            "parts with --merge).",
            show_default=False,
        ),
    ] = None,
    merge: Annotated[
        list[Path] | None,
        typer.Option(
            "--merge",
            metavar="PART",
            help="With --assignment and -o: merge the output folders of the --shard parts into "
            "one gradebook, checking that no submission is missing or doubled. May repeat.",
            show_default=False,
        ),
    ] = None,
    homework: Annotated[
        Path | None,
        typer.Option(
            "--homework",
            metavar="FILE.tex|FILE.md",
            help="A student's write-up as written (LaTeX, or Markdown with $$ ... $$ blocks): "
            "every display formula is read as a chain a = b = c, those about a quantity of "
            "the --network (or a question of the --assignment) checked step by step, each "
            "verdict at its line; formulas it cannot read are listed.",
            show_default=False,
        ),
    ] = None,
    network: Annotated[
        list[Path] | None,
        typer.Option(
            "--network",
            metavar="NET.py",
            help="A quick check's network file (Python that derive runs: give only one you "
            "trust); may repeat. A claims file's network: key names one of these; it is never "
            "run because a claims file names it.",
            show_default=False,
        ),
    ] = None,
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="NAME=VALUE",
            help="A quick check: a setting of the network file. May repeat.",
            show_default=False,
        ),
    ] = None,
    values: Annotated[
        Path | None,
        typer.Option(
            "--values",
            metavar="V.yaml",
            help="A quick check: the numbers of number claims (YAML, as for derive handcalc), "
            "over those the network ships.",
            show_default=False,
        ),
    ] = None,
    tolerance: Annotated[
        float | None,
        typer.Option(
            help="A quick check: the relative tolerance of number claims (default 0.05).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check a claims file (exit 0 whatever the verdicts), or grade a student's answers (or,
    with --class, a whole class) against an --assignment."""
    with user_errors():
        quick = [o for o, v in (("--network", network), ("--set", settings), ("--values", values),
                                ("--tolerance", tolerance)) if v]  # fmt: skip
        klass = [o for o, v in (("-o", out), ("--workers", workers)) if v is not None]
        klass += [o for o, v in (("--redo", redo), ("--no-pdf", no_pdf), ("--shard", shard))
                  if v]  # fmt: skip
        if homework is not None:
            others = [o for o, v in (("FILE", file), ("--class", class_dir), ("--merge", merge))
                      if v] + klass  # fmt: skip
            result = check_homework_file(homework, assignment, network, settings, values,
                                         tolerance, others)  # fmt: skip
            _report(result, json_out, (homework, assignment, *(network or ()), values))
            return
        if merge:
            others = [o for o, v in (("FILE", file), ("--class", class_dir), ("--json", json_out),
                                     ("--shard", shard), ("--redo", redo)) if v]  # fmt: skip
            merge_parts(merge, assignment, out, others + quick)
            return
        if file is not None and class_dir is not None:
            raise DeriveError("give a FILE or --class DIR, not both")
        if class_dir is not None and assignment is None:
            raise DeriveError(
                "--class needs --assignment A.yaml: the questions, their points and the network "
                "files are the instructor's, never a student's file's"
            )
        if assignment is not None and quick:
            raise DeriveError(f"{', '.join(quick)}: with --assignment, the assignment says that")
        if class_dir is None and klass:
            raise DeriveError(f"{', '.join(klass)}: only with --class DIR")
        if class_dir is not None and json_out is not None:
            raise DeriveError("--json goes with one FILE; --class writes OUT/results.json")
        if file is None and class_dir is None:
            raise DeriveError("give a claims FILE to check, or --assignment A.yaml with a FILE "
                              "or --class DIR")  # fmt: skip
        if assignment is not None:
            from derive.claims.grade import prepare

            task = read_task(assignment)
            if class_dir is not None:  # before any network file runs: none may be a student's
                _not_inside(task, class_dir)
            grader = prepare(task)
            if class_dir is not None:
                from derive.claims.shards import parse_shard

                part = parse_shard(shard) if shard is not None else None
                check_class(class_dir, out, redo, 2 if workers is None else workers,
                            not no_pdf, grader, part)  # fmt: skip
                return
            result = _one(lambda path: grader.grade(path, follow_symlinks=True), file,
                          grader.assignment.limits)  # fmt: skip
        else:
            from derive.claims.assignment import Limits

            parsed = parse_settings(settings)
            given, relative = quick_numbers(values, tolerance)
            check = _QuickCheck(tuple(network or ()), parsed, given, relative)
            result = _one(check, file, Limits())
        _report(result, json_out, (file, assignment, *(network or ()), values))


def _report(result, json_out: Path | None, inputs=()) -> None:
    with user_errors():
        if result.error:
            raise DeriveError(result.error)
        if json_out is not None:
            from derive.claims.gradebook import to_json_text

            text = to_json_text(result.to_json())
            write_atomically(json_out, lambda f: f.write(text.encode()), "claims.json",
                             [p for p in inputs if p is not None])  # fmt: skip
    print_claims(result)
    if json_out is not None:
        typer.echo(shown(json_out))


def quick_numbers(values: Path | None, tolerance: float | None) -> tuple[dict | None, float]:
    """A quick check's --values (read) and --tolerance (checked; default 0.05)."""
    given = None
    if values is not None:
        from derive.values import read_values

        given = read_values(values)
    if tolerance is not None and not 0 < tolerance < 1:
        raise DeriveError(f"--tolerance {tolerance}: a relative tolerance is in (0, 1)")
    return given, 0.05 if tolerance is None else tolerance


class _Homework:
    def __init__(self, reader):
        self.reader = reader

    def __call__(self, path):
        from derive.claims.homework import check_homework

        return check_homework(path, self.reader)


def check_homework_file(path: Path, assignment: Path | None, networks, settings, values,
                        tolerance, others: list[str]):  # fmt: skip
    """derive check --homework FILE (--network NET.py ... | --assignment A.yaml)."""
    from derive.claims import homework

    if others:
        raise DeriveError(f"{', '.join(others)}: --homework checks one write-up")
    quick = [o for o, v in (("--network", networks), ("--set", settings), ("--values", values),
                            ("--tolerance", tolerance)) if v]  # fmt: skip
    if assignment is not None and quick:
        raise DeriveError(f"{', '.join(quick)}: with --assignment, the assignment says that")
    if assignment is None and not networks:
        raise DeriveError("--homework needs --network NET.py (the network the write-up is "
                          "about) or --assignment A.yaml")  # fmt: skip
    if not Path(path).exists():
        raise DeriveError(f"{shown(path)}: no such file")
    if not Path(path).is_file():
        raise DeriveError(f"{shown(path)}: not a regular file (a folder, a device or a pipe); "
                          "give the write-up itself")  # fmt: skip
    if assignment is not None:
        from derive.claims.grade import prepare

        grader = prepare(read_task(assignment))
        return _one(lambda p: grader.homework(p, follow_symlinks=True), path,
                    grader.assignment.limits)  # fmt: skip
    else:
        given, relative = quick_numbers(values, tolerance)
        reader = homework.reader_for_networks(networks, parse_settings(settings), given, relative)
    return _one(_Homework(reader), path, reader.limits)
