"""``derive sheet``: per-student problem sheets, solutions, answers files and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from derive.cli import app, user_errors
from derive.errors import DeriveError


@app.command(short_help="Write per-student problem sheets, solutions, answers files and the key.")
def sheet(
    assignment: Annotated[
        Path,
        typer.Argument(
            help="The instructor's assignment (YAML): its questions, some drawn from the "
            "problem bank for each student (problem: TYPE, params: ...).",
            metavar="ASSIGNMENT",
            show_default=False,
        ),
    ],
    roster: Annotated[
        Path | None,
        typer.Option(
            "--roster",
            help="A CSV with a header and an id column: one sheet per student. Default: the "
            "assignment's roster, or else one sheet (a handout).",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output folder (default: sheets/<assignment id>/).",
            show_default=False,
            file_okay=False,
        ),  # fmt: skip
    ] = None,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="pdf|tex",
            help="pdf: the .tex files and their PDFs (needs LaTeX); tex: the .tex only.",
        ),
    ] = "pdf",  # fmt: skip
    selftest: Annotated[
        bool,
        typer.Option("--selftest", help="Print what the self-test checked, variant by variant."),
    ] = False,
    gradescope: Annotated[
        bool,
        typer.Option(
            "--gradescope",
            help="Also write gradescope.zip, an autograder that runs "
            "derive on each submission (setup.sh, run_autograder, the key).",
        ),
    ] = False,
    moodle: Annotated[
        bool,
        typer.Option(
            "--moodle",
            help="Also write moodle.xml: the number questions, one "
            "numerical question per variant, a category per question.",
        ),
    ] = False,  # fmt: skip
) -> None:
    """Write each student's problem sheet and worked solution (.tex, PDF), the answers.yaml
    they fill in, all solutions in one file, and key.json, which derive check grades against.
    Every variant is graded by the checker first: its answer right, each slip wrong."""
    with user_errors():
        from derive.claims.assignment import read_assignment
        from derive.sheets.write import make_sheets

        if format not in ("pdf", "tex"):
            raise DeriveError(f"--format {format}: use pdf or tex")
        out_dir = out if out is not None else Path("sheets") / read_assignment(assignment).id
        run = make_sheets(assignment, roster, out_dir, pdf=format == "pdf",
                          gradescope=gradescope, moodle=moodle)  # fmt: skip
    if selftest:
        for line in run.selftest.details():
            typer.echo(line, err=True)
    typer.echo(f"{run.students} sheet{'s' if run.students != 1 else ''} in {out_dir}; the key is "
               f"{out_dir / 'key.json'}", err=True)  # fmt: skip
    typer.echo(run.selftest.summary(), err=True)
