"""Writing the report: Jinja2 templates over the context of derive/render/context.py, and the PDF.

Stages: Derivation (+ Verification) -> :func:`context.build` (frozen dataclasses of LaTeX) ->
templates/report.tex.j2, report.md.j2 -> latexmk. The .tex depends on nothing but its input (no
dates, no paths, no set order), so the same network gives the same bytes.

Nothing is written into the output folder until everything succeeded: the files are made in a
temporary folder and moved into place at the end.
"""

from __future__ import annotations

import importlib.resources
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import jinja2

from derive.errors import DeriveError
from derive.render import activations, context, graphfigure

INSTALL_HINT = (
    "derive: latexmk is not installed, so no PDF was made (the .tex is written); install it with "
    "`apt-get install latexmk texlive-latex-base texlive-latex-recommended texlive-pictures`"
)
FORMATS = {"tex", "pdf", "md"}
#: The notations of the course: the homework's residuals (seed 000), the lectures' row-vector
#: gradients and local Jacobians (seeds 001, 004).
NOTATIONS = ("residual", "jacobian", "batch")  # batch: jacobian, plus the batch-matrix form
LATEX_TIMEOUT = 300


# --- templates ----------------------------------------------------------------------------
def _template_source(name: str) -> str:
    """Templates ship as the package derive.templates; in a source checkout that package is the
    top-level templates/ folder, which Python finds only once derive is installed."""
    try:
        folder = importlib.resources.files("derive.templates")
    except ModuleNotFoundError:
        folder = Path(__file__).resolve().parents[2] / "templates"
    return folder.joinpath(name).read_text("utf-8")


@cache
def _environment(tex: bool) -> jinja2.Environment:
    """LaTeX-safe delimiters for .tex templates (\\VAR{...}, \\BLOCK{...}, %# comments)."""
    options = dict(
        loader=jinja2.FunctionLoader(_template_source),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )
    if tex:
        options.update(
            block_start_string=r"\BLOCK{",
            block_end_string="}",
            variable_start_string=r"\VAR{",
            variable_end_string="}",
            comment_start_string=r"\#{",
            comment_end_string="}",
            line_comment_prefix="%#",
        )
    return jinja2.Environment(**options)


#: LaTeX that Markdown's math renderers (KaTeX, MathJax) do not draw as LaTeX does: the
#: indicator's blackboard 1 is a plain 1 in KaTeX and a fallback glyph in MathJax.
MARKDOWN_MATH = {r"\mathbb{1}": r"\mathbb{I}"}


def render(template: str, **values) -> str:
    env = _environment(template.endswith(".tex.j2"))
    text = env.get_template(template).render(**values)
    if template.endswith(".md.j2"):
        for tex, md in MARKDOWN_MATH.items():
            text = text.replace(tex, md)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def check_notation(notation: str) -> str:
    """The notation, or a DeriveError naming the known ones."""
    if notation not in NOTATIONS:
        known = ", ".join(NOTATIONS[:-1]) + " or " + NOTATIONS[-1]
        raise DeriveError(f"unknown notation {notation!r}: use {known}")
    return notation


def render_tex(derivation, verification=None, notation: str = "residual", training=None) -> str:
    """``training``: a :class:`derive.render.training.Training`, drawn as a section of curves."""
    r = context.build(derivation, verification)
    figures = {"g": graphfigure.build(derivation), "a": activations.build(derivation)}
    if check_notation(notation) in ("jacobian", "batch"):
        from derive.render import jacobian

        j = jacobian.build(derivation, batch=notation == "batch")
        return render("jacobian.tex.j2", r=r, j=j, t=training, **figures)
    return render("report.tex.j2", r=r, t=training, **figures)


def render_md(derivation, verification=None, part: str = "all", training=None) -> str:
    r = context.build(derivation, verification)
    return render("report.md.j2", r=r, part=part, t=training)


# --- Jupyter ------------------------------------------------------------------------------
def network_markdown(net) -> str:
    """The network (inputs, parameters, forward pass, loss) as Markdown with $$ math."""
    from derive.backprop import Derivation

    return render("report.md.j2", r=context.build(Derivation(net, (), ())), part="network", t=None)


def derivation_markdown(derivation) -> str:
    """The residuals and parameter gradients as Markdown with $$ math."""
    return render_md(derivation, None, part="derivation", training=None)


def network_latex(net) -> str:
    """The forward pass and the loss as one $$ aligned $$ block (Jupyter's _repr_latex_)."""
    from derive.backprop import Derivation

    r = context.build(Derivation(net, (), ()))
    return _math([layer.display for layer in r.layers] + [r.loss_display])


def derivation_latex(derivation) -> str:
    """Every residual, then every parameter gradient, as one $$ aligned $$ block."""
    r = context.build(derivation)
    steps = [s for group in r.residuals + r.gradients for s in group.steps]
    return _math([s.chain for s in steps])


def _math(displays) -> str:
    rows = [row for d in displays if d is not None for row in d.rows]
    body = " \\\\\n".join(
        f"{row.lhs} &{row.body}" + (f" &&{row.note}" if row.note else "") for row in rows
    )
    return "$$\n\\begin{aligned}\n" + body + "\n\\end{aligned}\n$$"


# --- files --------------------------------------------------------------------------------
def write_report(derivation, verification, out_dir: Path, formats: set[str],
                 notation: str = "residual", training=None) -> list[Path]:  # fmt: skip
    """Write <name>.tex (always), and <name>.md and <name>.pdf when asked; return the paths.
    ``notation`` is "residual" (the homework's), "jacobian" (the lectures'), or "batch" (the
    lectures', plus the backward pass for the whole batch in matrices).

    Without latexmk the PDF is skipped with one line on stderr. A LaTeX error raises DeriveError
    naming the first error, and leaves the output folder untouched."""
    unknown = set(formats) - FORMATS
    if unknown:
        names = ", ".join(sorted(unknown))
        raise DeriveError(f"unknown report format(s) {names}: use tex, pdf, md")
    if check_notation(notation) != "residual" and "md" in formats:
        raise DeriveError("the Markdown report is in the residual notation only: use pdf or tex")
    tex = render_tex(derivation, verification, notation, training)
    md = render_md(derivation, verification, training=training) if "md" in formats else None
    assets = {}
    if training is not None and training.samples_source is not None:
        assets[training.samples_file] = Path(training.samples_source).read_bytes()
    return write_documents(derivation.network.name, tex, Path(out_dir), formats, md, assets)


def write_documents(name: str, tex: str, out_dir: Path, formats: set[str],
                    md: str | None = None,
                    assets: dict[str, bytes] | None = None) -> list[Path]:  # fmt: skip
    """Write <name>.tex, and <name>.md (given) and <name>.pdf (built from the .tex) when
    ``formats`` asks, staged in a temporary folder and moved into ``out_dir`` only once all are
    made; return the paths. Any write-up with a .tex (the report, the initialisation study).
    ``assets``: files the .tex includes (the figures of the boundary study), by name, written
    beside it."""
    with tempfile.TemporaryDirectory(prefix="derive-report-") as tmp:
        stage = Path(tmp)
        made = [stage / f"{name}.tex"]
        made[0].write_text(tex, encoding="utf-8")
        included = []
        for file, data in (assets or {}).items():
            included.append(stage / file)
            included[-1].write_bytes(data)
        if "md" in formats and md is not None:
            made.append(stage / f"{name}.md")
            made[-1].write_text(md, encoding="utf-8")
        if "pdf" in formats and latex_installed():
            made.append(compile_pdf(made[0], stage / "build", included))
        return _move_into([*made, *included], out_dir)


def latex_installed(hint: str = INSTALL_HINT) -> bool:
    """Whether latexmk and pdflatex are there; if not, ``hint`` says how to install them."""
    if shutil.which("latexmk") is None or shutil.which("pdflatex") is None:
        print(hint, file=sys.stderr)
        return False
    return True


def compile_pdf(tex: Path, build: Path, assets: Sequence[Path] = ()) -> Path:
    """Run latexmk on a copy of ``tex`` (and of the ``assets`` it includes) in ``build``; return
    the PDF, or raise DeriveError."""
    build.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(tex, build / tex.name)
    for asset in assets:
        shutil.copyfile(asset, build / asset.name)
    command = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", tex.name]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "0", "FORCE_SOURCE_DATE": "1"}
    try:
        done = subprocess.run(command, cwd=build, env=env, capture_output=True, text=True,
                              errors="replace", timeout=LATEX_TIMEOUT)  # fmt: skip
    except subprocess.TimeoutExpired:
        raise DeriveError(f"LaTeX did not finish {tex.name} in {LATEX_TIMEOUT} s") from None
    pdf = build / tex.with_suffix(".pdf").name
    if done.returncode != 0 or not pdf.is_file():
        log = build / tex.with_suffix(".log").name
        text = log.read_text("utf-8", errors="replace") if log.is_file() else done.stdout
        raise DeriveError(f"LaTeX failed on {tex.name}: {first_error(text)}")
    return pdf


def first_error(log: str) -> str:
    """The first error of a LaTeX log, with its line number: one line."""
    lines = log.splitlines()
    for k, line in enumerate(lines):
        if line.startswith("! "):
            found = [re.match(r"l\.\d+", later) for later in lines[k + 1 : k + 8]]
            where = next((m.group(0) for m in found if m), "")
            return (line[2:].strip() + (f" ({where})" if where else "")).strip()
    tail = [line.strip() for line in lines if line.strip()]
    return tail[-1] if tail else "no log"


def _move_into(files: list[Path], out_dir: Path) -> list[Path]:
    """Move finished files into out_dir: each lands whole (written aside, then renamed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for src in files:
        target = out_dir / src.name
        part = out_dir / f".{src.name}.part"
        shutil.copyfile(src, part)
        os.replace(part, target)
        written.append(target)
    return written
