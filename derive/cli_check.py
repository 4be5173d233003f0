"""``derive check``: one student's claims file, or a whole class (``--class DIR``).

Registered on the app of :mod:`derive.cli`, whose helpers it shares (one-line errors, atomic
writes); the checking itself is :mod:`derive.claims`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from derive.cli import app, user_errors, write_atomically
from derive.errors import DeriveError


def _printable(text: object, limit: int = 0) -> str:
    """A student's text for the terminal: on one line, control characters (an escape sequence
    could repaint the screen) as ?, at most ``limit`` characters."""
    flat = "".join(ch if ch.isprintable() else "?" for ch in " ".join(str(text).split()))
    return flat if not limit or len(flat) <= limit else flat[: limit - 1] + "…"


def print_claims(result) -> None:
    """id | verdict | message, the message wrapped to the terminal; for a wrong claim, the right
    expression and the likely slip under it; then the score."""
    import shutil
    import textwrap
    from collections import Counter

    from derive.claims.verdict import VERDICTS

    width = min(max(shutil.get_terminal_size((100, 24)).columns, 60), 140)
    ids = [_printable(c.id, 24) for c in result.claims]
    w_id = max([len("id"), *map(len, ids)])
    w_verdict = max([len("verdict"), *(len(c.verdict) for c in result.claims)])
    w_message = max(width - w_id - w_verdict - 4, 30)
    rows = [("id", "verdict", "message"), ("-" * w_id, "-" * w_verdict, "-" * len("message"))]
    for ident, c in zip(ids, result.claims):
        lines = textwrap.wrap(_printable(c.message), w_message) or [""]
        if c.expected:
            lines += textwrap.wrap(f"right: {_printable(c.expected)}", w_message)
        if c.slip and c.slip not in c.message:  # the checker's message often names it already
            lines += textwrap.wrap(f"likely slip: {_printable(c.slip)}", w_message)
        rows.append((ident, _printable(c.verdict), lines[0]))
        rows += [("", "", line) for line in lines[1:]]
    for a, b, text in rows:
        typer.echo(f"{a.ljust(w_id)}  {b.ljust(w_verdict)}  {text}".rstrip())
    counts = Counter(c.verdict for c in result.claims)
    told = ", ".join(f"{counts[v]} {v}" for v in [*VERDICTS, *sorted(set(counts) - set(VERDICTS))]
                     if counts[v])  # fmt: skip
    typer.echo(
        f"{_printable(result.student, 60)}: {result.score} of {len(result.claims)} claims "
        f"earn the mark ({told})"
    )


def check_class(folder: Path, out: Path | None, redo: bool, workers: int, pdf: bool,
                networks: tuple[Path, ...] = ()) -> None:  # fmt: skip
    """derive check --class: the run with a progress bar, then the summary."""
    from derive.claims.classrun import latex_available, run_class
    from derive.render.report import INSTALL_HINT
    from derive.terminal import ProgressBar

    name = folder.resolve().name or "class"
    out_dir = out if out is not None else Path("reports") / "check" / name
    if out_dir.exists() and not out_dir.is_dir():
        raise DeriveError(f"{out_dir}: is a file; -o takes the folder to write into")
    if pdf and not latex_available():
        hint = INSTALL_HINT.replace("no PDF was made (the .tex is written)", "no feedback PDFs")
        typer.echo(hint, err=True)
        pdf = False
    bars: list[ProgressBar] = []
    state = {"done": 0, "total": 0}

    def progress(done: int, total: int, student: str) -> None:
        state.update(done=done, total=total)
        if not bars:
            before = f"; {done} checked before and unchanged: skipped" if done else ""
            typer.echo(f"{total} claims files in {folder}{before}")
            bars.append(ProgressBar(total))
        bars[0].update(done, _printable(student, 30))

    try:
        from functools import partial

        from derive.claims.check import check_file

        # a partial of a module-level function pickles, for the worker processes
        check = partial(check_file, networks=networks) if networks else None
        summary = run_class(folder, out_dir, redo=redo, workers=workers, on_progress=progress,
                            pdf=pdf, check=check)  # fmt: skip
    except KeyboardInterrupt:
        if bars:
            bars[0].clear()
        typer.echo(
            f"derive: interrupted: {state['done']} of {state['total']} students done, in "
            f"{out_dir}; run the same command again to go on",
            err=True,
        )
        raise typer.Exit(130) from None
    if bars:
        bars[0].clear()
    for line in summary.problems[:5]:
        typer.echo(f"derive: {line}", err=True)
    if len(summary.problems) > 5:
        typer.echo(f"derive: ... and {len(summary.problems) - 5} more feedback problems", err=True)
    errors = f", {summary.errors} could not be checked" if summary.errors else ""
    typer.echo(
        f"{summary.students} students: {summary.checked} checked, {summary.skipped} skipped "
        f"(done before){errors}; {summary.seconds:.1f} s"
    )
    counts = ", ".join(f"{n} {v}" for v, n in summary.verdicts.items() if n)
    typer.echo(f"claims: {counts or 'none checked'}")
    typer.echo(f"gradebook: {summary.gradebook}")
    typer.echo(f"feedback: {summary.feedback}{os.sep} (Markdown, LaTeX{', PDF' if pdf else ''})")
    typer.echo(f"all results: {summary.results}")


@app.command()
def check(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="A student's claims file (YAML): the formulas and numbers to check.",
            metavar="FILE",
            show_default=False,
        ),
    ] = None,
    json_out: Annotated[
        Path | None,
        typer.Option(
            "--json",
            help="Write every claim's verdict and evidence to this JSON file.",
            show_default=False,
        ),
    ] = None,
    class_dir: Annotated[
        Path | None,
        typer.Option(
            "--class",
            metavar="DIR",
            help="Check a whole class: DIR holds one claims file per student (*.yaml, *.yml). "
            "Writes a gradebook CSV, results.json and per-student feedback (Markdown, and PDF "
            "with LaTeX); an interrupted run goes on where it stopped when run again.",
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
            "--redo", help="With --class: check every student again, not only new or changed."
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(help="With --class: processes checking at once (default 2)."),
    ] = None,
    no_pdf: Annotated[
        bool, typer.Option("--no-pdf", help="With --class: Markdown and .tex feedback only.")
    ] = False,
    network: Annotated[
        list[Path] | None,
        typer.Option(
            "--network",
            metavar="FILE",
            help="A network file to trust (it is Python that derive runs); may repeat. Without "
            "it, a claims file may name only networks under the working folder and outside the "
            "students' folder.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check a student's claimed formulas and numbers (exit 0 whatever the verdicts), or with
    --class DIR a whole class at once."""
    with user_errors():
        if file is not None and class_dir is not None:
            raise DeriveError("give a claims FILE or --class DIR, not both")
        if class_dir is not None:
            if json_out is not None:
                raise DeriveError("--json goes with one FILE; --class writes OUT/results.json")
            check_class(class_dir, out, redo, 2 if workers is None else workers, not no_pdf,
                        tuple(network or ()))  # fmt: skip
            return
        if file is None:
            raise DeriveError("give a claims FILE to check, or --class DIR for a whole class")
        given = [o for o, v in (("-o", out), ("--workers", workers)) if v is not None]
        given += [o for o, v in (("--redo", redo), ("--no-pdf", no_pdf)) if v]
        if given:
            raise DeriveError(f"{', '.join(given)}: only with --class DIR")
        from derive.claims.check import check_file
        from derive.claims.gradebook import to_json_text

        result = check_file(file, networks=tuple(network)) if network else check_file(file)
        if result.error:
            raise DeriveError(result.error)
        if json_out is not None:
            text = to_json_text(result.to_json())
            write_atomically(json_out, lambda f: f.write(text.encode()), "claims.json")
    print_claims(result)
    if json_out is not None:
        typer.echo(str(json_out))
