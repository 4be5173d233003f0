"""The write-up: deterministic .tex (golden file), a PDF that compiles without overfull lines,
Markdown with $$ math, and an output folder that is never left half-written.

Regenerate the golden file after an intended change with
``DERIVE_UPDATE_GOLDEN=1 pytest tests/test_report.py`` and read its diff.
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import MULTITASK, ROOT, need_latex

import derive
from derive.errors import DeriveError
from derive.render import breaking, report
from derive.render.printer import CLOSE, OPEN
from derive.render.report import (
    compile_pdf,
    derivation_markdown,
    network_markdown,
    render_tex,
    write_report,
)
from derive.verify import verify

GOLDEN = ROOT / "tests" / "golden" / "multitask.tex"


@pytest.fixture(scope="module")
def multitask():
    """The multi-task network, its derivation and its real verification."""
    net = derive.load(MULTITASK)
    derivation = net.derive()
    return net, derivation, verify(derivation)


def tiny_network():
    """tanh, sigmoid and ReLU in a row, the loss reading the last node directly."""
    net = derive.Network("tiny", title="A tiny network: tanh, sigmoid & ReLU")
    d = net.dim("d", 2)
    x = net.input("x", d)
    W = net.param("W", (d, d))
    z = net.node("z", derive.tanh(W * x), layer="FC")
    s = net.node("s", derive.sigmoid(z), layer="FC")
    r = net.node("r", derive.relu(s), layer="FC")
    net.loss("L", derive.mean(derive.sq_norm(r)))
    return net


def mask_errors(tex: str) -> str:
    """Numeric errors depend on the machine's floating point; everything else must not."""
    return re.sub(r"\\relerr\{[^}]*\}\{[^}]*\}", r"\\relerr{?}{?}", tex)


# --- determinism ---------------------------------------------------------------------------
def test_tex_is_byte_identical_across_runs(multitask, tmp_path):
    _, derivation, verification = multitask
    one = write_report(derivation, verification, tmp_path / "one", {"tex"})
    two = write_report(derivation, verification, tmp_path / "two", {"tex"})
    assert [p.name for p in one] == [p.name for p in two] == ["multitask.tex"]
    assert one[0].read_bytes() == two[0].read_bytes()
    text = one[0].read_text()
    assert str(ROOT) not in text and str(tmp_path) not in text


def test_tex_is_the_same_under_another_hash_seed(multitask, tmp_path):
    """A fresh interpreter with other string hashes (set orders) writes the same bytes."""
    _, derivation, verification = multitask
    (tmp_path / "verification.pkl").write_bytes(pickle.dumps(verification))
    code = (
        "import pickle, sys, derive\n"
        "from derive.render.report import render_tex\n"
        "v = pickle.loads(open(sys.argv[2], 'rb').read())\n"
        "sys.stdout.write(render_tex(derive.load(sys.argv[1]).derive(), v))\n"
    )
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", code, str(MULTITASK),
                               str(tmp_path / "verification.pkl")],
                              capture_output=True, text=True, env=env, check=True)  # fmt: skip
        assert done.stdout == render_tex(derivation, verification)


def test_golden_tex(multitask):
    _, derivation, verification = multitask
    tex = render_tex(derivation, verification)
    if os.environ.get("DERIVE_UPDATE_GOLDEN"):
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(tex, encoding="utf-8")
    assert GOLDEN.is_file(), "no golden file: run with DERIVE_UPDATE_GOLDEN=1"
    assert mask_errors(tex) == mask_errors(GOLDEN.read_text(encoding="utf-8")), (
        "the report changed; if that is intended, regenerate with DERIVE_UPDATE_GOLDEN=1"
    )


# --- what the report says -----------------------------------------------------------------
def test_report_reads_like_the_homework(multitask):
    _, derivation, verification = multitask
    tex = render_tex(derivation, verification)
    # forward pass with aka names and dimensions
    assert (r"\hat{\mathbf{y}}_{A} &= \mathbf{x}_{2A} = \theta_{2A} \mathbf{x}_{DP} + "
            r"\mathbf{b}_{2A} &\qquad &\in \mathbb{R}^{a}") in tex  # fmt: skip
    assert r"\mathbf{z}_{1A} &= \theta_{1A} \mathbf{x} + \mathbf{b}_{1A}" in tex
    # residuals layer by layer from the loss backwards, with the local derivatives
    # grouped by task as the homework is: Task B's residuals first (backprop reaches it first)
    residuals, gradients = tex.split(r"\section{Parameter gradients}")
    layer = r"\\subsubsection\*\{The (?:residual|gradient)s? of layer \$\\mathrm\{(.*?)\}\$\}"
    part = r"|\\subsection\*\{(Task .)\}"
    headings = re.findall(layer + part, residuals.split(r"\section{Resid")[1])
    assert [a or b for a, b in headings] == [
        "Task B", "FC_{2B}", r"\oplus", "BN^*", "FC_{1B}", "Task A", "FC_{2A}", "DP", "FC_{1A}"
    ]  # fmt: skip
    # the gradients by task, Task A first, each from its output backwards (seed 000, 2.2)
    headings = re.findall(layer + part, gradients.split(r"\section{Verif")[0])
    assert [a or b for a, b in headings] == [
        "Task A", "FC_{2A}", "FC_{1A}", "Task B", "FC_{2B}", "BN^*", "FC_{1B}"
    ]  # fmt: skip
    # and the forward pass by task
    assert re.findall(r"\\textbf\{(Task .)\.\} The result of layer \$\\mathrm\{(.*?)\}\$", tex) == [
        ("Task A", "FC_{1A}"), ("Task B", "FC_{1B}")
    ]  # fmt: skip
    assert (r"\frac{\partial \mathbf{z}_{2B}^{i}}{\partial \mathbf{x}_{\oplus}^{i}} &= \theta_{2B}"
            in tex)  # fmt: skip
    assert r"\frac{\partial L}{\partial \mathbf{z}_{2B}^{i}} &=" in tex
    assert r"&= \frac{1}{m} \left(\hat{\mathbf{y}}_{B}^{i} - \mathbf{y}_{B}^{i}\right)" in tex
    # the batch mean: its residual sums over the samples
    assert (r"\frac{\partial L}{\partial \boldsymbol{\mu}} &= \sum_{i=1}^{m} \left(\frac{\partial "
            r"\mathbf{x}_{BN}^{i}}{\partial \boldsymbol{\mu}}\right)^{T}") in tex  # fmt: skip
    # trivial residuals of the loss parts in one line, not a section each, and their factor 1
    # left out of the chain rule: dL/dy_A = (dL_A/dy_A)^T + ..., as the homework writes it
    assert (r"so $\frac{\partial L}{\partial L_{A}} = \frac{\partial L}{\partial L_{B}} = 1$, a "
            "factor the chain rule below leaves out") in tex  # fmt: skip
    assert r"\frac{\partial L_{A}}{\partial \hat{\mathbf{y}}_{A}^{i}}\right)^{T} + " in tex
    assert r"\frac{\partial L}{\partial L_{B}}" not in tex.split("leaves out")[1].split("Verif")[0]
    # parameters, and the verification table with every check
    assert r"\frac{\partial L}{\partial \theta_{1B}} &= \sum_{i=1}^{m}" in tex
    assert tex.count(r"$\checkmark$") == len(verification.checks) == 21
    assert "All 21 residuals and gradients passed both checks." in tex
    assert r"d = h = a = c = m = 2" in tex


def test_long_formulas_are_broken(multitask):
    _, derivation, verification = multitask
    tex = render_tex(derivation, verification)
    # dL/dtheta_1B is too long for one line: cut at its top-level minus, with fixed-size braces
    assert r"&\qquad {} - \frac{1}{m} \sum_{j=1}^{m}" in tex
    assert tex.count(r"\biggl") == tex.count(r"\biggr") > 0
    for line in tex.splitlines():
        if line.startswith("\\frac{\\partial") or line.startswith(" &"):
            assert breaking.width(line) < 1.15 * breaking.LINE_WIDTH, line


def test_break_marked_cuts_at_the_shallowest_signs():
    terms = [rf"\theta_{{{k}}}^{{T}} \mathbf{{x}}_{{{k}}}" for k in range(14)]
    s = r"\frac{1}{m} " + OPEN + " + ".join(terms) + CLOSE + r" \mathbf{u}^{T}"
    lines = breaking.break_marked(s, 20, 18)
    assert len(lines) > 1
    assert all(breaking.width(line) <= 20 for line in lines)
    assert lines[0].startswith(r"\frac{1}{m} \Bigl(")
    assert lines[-1].endswith(r"\Bigr) \mathbf{u}^{T}")
    assert all(line.startswith("+ ") for line in lines[1:])
    assert not any(OPEN in line or CLOSE in line for line in lines)
    short = breaking.break_marked(OPEN + "a + b" + CLOSE + " c", 20)
    assert short == (r"\left(a + b\right) c",)


def test_other_ops_print_unambiguously():
    net = tiny_network()
    tex = render_tex(net.derive())
    # tanh' = 1 - tanh^2 and sigma' = sigma (1 - sigma), in terms of the nodes they make;
    # 1 - z^2 is one Hadamard factor; ReLU's derivative is an indicator
    assert r"\circ \left(\mathbf{1} - \left(\mathbf{z}^{i}\right)^{\circ 2}\right)" in tex
    assert r"\mathbf{s}^{i} \circ \left(\mathbf{1} - \mathbf{s}^{i}\right)" in tex
    assert r"\mathbb{1}\left[\mathbf{s}^{i} > 0\right]" in tex
    # the loss reads r directly: no dL/dL, no "local derivative" that looks like the residual
    assert r"$\mathbf{r}^{i}$ enters the loss directly:" in tex
    assert r"\partial L}{\partial L}" not in tex
    # text from the network file is escaped
    assert r"A tiny network: tanh, sigmoid \& ReLU" in tex
    assert "The formulas of this report were not verified." in tex


def test_file_and_network_names_are_escaped(tmp_path):
    need_latex()
    net = tiny_network()
    net.source = str(tmp_path / "my_tiny_net%1.py")  # as derive.load sets it
    net.name = "tiny_net"
    tex = render_tex(net.derive())
    assert r"\texttt{my\_tiny\_net\%1.py}" in tex and str(tmp_path) not in tex
    assert [p.name for p in write_report(net.derive(), None, tmp_path, {"pdf"})] == [
        "tiny_net.tex",
        "tiny_net.pdf",
    ]


def test_a_failed_check_is_reported(multitask):
    _, derivation, verification = multitask
    bad = replace(verification.checks[3], numeric_error=0.5, symbolic=False)
    checks = verification.checks[:3] + (bad,) + verification.checks[4:]
    tex = render_tex(derivation, replace(verification, checks=checks))
    assert r"\textbf{wrong}" in tex and r"\textbf{(failed)}" in tex
    assert r"\textbf{The checks failed for} $\partial L / \partial \mathbf{z}_{2B}^{i}$" in tex
    assert "passed both checks" not in tex


# --- Markdown -----------------------------------------------------------------------------
def test_markdown_report_and_jupyter(multitask, tmp_path):
    net, derivation, verification = multitask
    paths = write_report(derivation, verification, tmp_path, {"tex", "md"})
    assert [p.name for p in paths] == ["multitask.tex", "multitask.md"]
    md = paths[1].read_text()
    assert md.startswith("# The multi-task network")
    assert md.count("$$") % 2 == 0 and md.count("$$") > 40
    assert "\\begin{aligned}" in md and "\\VAR" not in md and "\\BLOCK" not in md
    assert "| $\\partial L / \\partial \\theta_{1A}$ | ✓ |" in md
    # KaTeX draws \mathbb{1} as a plain 1: the indicator is \mathbb{I} in Markdown
    assert "\\mathbb{1}" not in md and "\\mathbb{I}\\left[" in md
    shown = network_markdown(net)
    assert shown == net._repr_markdown_()
    assert "## The network" in shown and "$$" in shown and "## Residuals" not in shown
    steps = derivation_markdown(derivation)
    assert steps == derivation._repr_markdown_()
    assert "## Residuals" in steps and "## Parameter gradients" in steps and "$$" in steps


def test_network_without_a_loss_still_shows():
    net = derive.Network("half")
    x = net.input("x", net.dim("d", 2))
    net.node("z", derive.tanh(x), layer="FC")
    shown = net._repr_markdown_()
    assert r"\mathbf{z} &= \tanh\left(\mathbf{x}\right)" in shown and "## The loss" not in shown


# --- files and LaTeX ----------------------------------------------------------------------
def test_pdf_compiles_without_overfull_lines(multitask, tmp_path):
    need_latex()
    _, derivation, verification = multitask
    paths = write_report(derivation, verification, tmp_path / "out", {"tex", "pdf"})
    assert [p.name for p in paths] == ["multitask.tex", "multitask.pdf"]
    assert paths[1].read_bytes().startswith(b"%PDF")
    assert sorted(os.listdir(tmp_path / "out")) == ["multitask.pdf", "multitask.tex"]
    # the log of the same source: no formula runs into the margin, no undefined reference
    compile_pdf(paths[0], tmp_path / "build")
    log = (tmp_path / "build" / "multitask.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log
    assert "undefined" not in log.lower()


def test_pdf_of_other_ops_compiles(tmp_path):
    need_latex()
    paths = write_report(tiny_network().derive(), None, tmp_path, {"pdf"})
    assert [p.name for p in paths] == ["tiny.tex", "tiny.pdf"]


def test_latex_error_leaves_the_output_folder_untouched(multitask, tmp_path, monkeypatch):
    need_latex()
    _, derivation, verification = multitask
    out = tmp_path / "out"
    out.mkdir()
    (out / "multitask.tex").write_text("the previous report\n")
    good = render_tex(derivation, verification)
    broken = good.replace(r"\section{The loss}", r"\section{The loss}\undefinedmacro")
    monkeypatch.setattr(report, "render_tex", lambda *args, **kw: broken)
    with pytest.raises(DeriveError) as err:
        write_report(derivation, verification, out, {"tex", "md", "pdf"})
    message = str(err.value)
    assert "\n" not in message and "Undefined control sequence" in message
    assert message.startswith("LaTeX failed on multitask.tex")
    assert sorted(os.listdir(out)) == ["multitask.tex"]
    assert (out / "multitask.tex").read_text() == "the previous report\n"
    # and a folder that did not exist is not created
    with pytest.raises(DeriveError):
        write_report(derivation, verification, tmp_path / "new", {"pdf"})
    assert not (tmp_path / "new").exists()


def test_without_latexmk_the_tex_is_written_with_one_hint(multitask, tmp_path, monkeypatch, capsys):
    _, derivation, verification = multitask
    real_which = report.shutil.which
    monkeypatch.setattr(report.shutil, "which", lambda n: None if n == "latexmk" else real_which(n))
    paths = write_report(derivation, verification, tmp_path, {"tex", "pdf"})
    assert [p.name for p in paths] == ["multitask.tex"]
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "apt-get install latexmk" in err


def test_unknown_format_is_refused(multitask, tmp_path):
    _, derivation, verification = multitask
    with pytest.raises(DeriveError, match="unknown report format"):
        write_report(derivation, verification, tmp_path, {"html"})
    assert not list(tmp_path.iterdir())


def test_first_error_of_a_log():
    log = "(./x.tex\n! Undefined control sequence.\nl.42 \\foo\n          bar\n"
    assert report.first_error(log) == "Undefined control sequence. (l.42)"
    assert report.first_error("") == "no log"


def test_templates_ship_inside_the_package():
    import importlib.resources

    files = importlib.resources.files("derive.templates")
    assert files.joinpath("report.tex.j2").is_file() and files.joinpath("report.md.j2").is_file()
    assert Path(report.__file__).name == "report.py"


def test_a_scalar_times_a_norm_needs_no_brackets():
    """lambda ||W||_F^2, not lambda (||W||_F^2): the bars delimit the norm already."""
    net = derive.load(Path(__file__).resolve().parents[1] / "examples" / "linear_softmax.py")
    tex = render_tex(net.derive())
    assert r"+ \lambda \left\| W \right\|_F^2" in tex
    assert r"\lambda \left(\left\|" not in tex
