"""The two notations of the course: the homework's residuals and the lectures' Jacobians.

Golden .tex of the residual, Jacobian and batch-matrix forms of the linear classifier of lecture 3
(regenerate after an intended change with ``DERIVE_UPDATE_GOLDEN=1 pytest tests/test_notation.py``
and read the diff), the printed Jacobian-notation gradients against the lecture's formulas and
against NumPy, the PDF, the command line, and the notebook reprs.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
from conftest import EXAMPLES, ROOT, need_latex

import derive
from derive.errors import DeriveError
from derive.expr import Residual, substitute
from derive.ops.algebra import transpose
from derive.render import jacobian
from derive.render.report import compile_pdf, render_tex, write_report
from derive.render.rowform import RowGrad, row
from derive.verify import verify

LINEAR = EXAMPLES / "linear_softmax.py"
KLAYER = EXAMPLES / "klayer.py"
GOLDEN = ROOT / "tests" / "golden"


@pytest.fixture(scope="module")
def linear():
    derivation = derive.load(LINEAR).derive()
    return derivation, verify(derivation)


def mask_errors(tex: str) -> str:
    """Numeric errors depend on the machine's floating point; everything else must not."""
    return re.sub(r"\\relerr\{[^}]*\}\{[^}]*\}", r"\\relerr{?}{?}", tex)


@pytest.mark.parametrize("notation", ["residual", "jacobian", "batch"])
def test_golden_tex(linear, notation):
    derivation, verification = linear
    tex = render_tex(derivation, verification, notation)
    golden = GOLDEN / f"linear_softmax_{notation}.tex"
    if os.environ.get("DERIVE_UPDATE_GOLDEN"):
        golden.write_text(tex, encoding="utf-8")
    assert golden.is_file(), "no golden file: run with DERIVE_UPDATE_GOLDEN=1"
    assert mask_errors(tex) == mask_errors(golden.read_text(encoding="utf-8")), (
        "the report changed; if that is intended, regenerate with DERIVE_UPDATE_GOLDEN=1"
    )


def test_residual_is_the_default(linear):
    derivation, verification = linear
    assert render_tex(derivation, verification) == render_tex(derivation, verification, "residual")


# --- what the Jacobian notation says --------------------------------------------------------
def test_jacobian_report_reads_like_the_lecture(linear):
    """Seed 004: g = dJ/dl, g <- g dl/dp = -y^T / (y^T p), g <- g (diag(p) - p p^T),
    dJ/db = g, dJ/dW = g^T x^T + 2 lambda W (summed over the samples), via vec(W)."""
    derivation, verification = linear
    tex = render_tex(derivation, verification, "jacobian")
    assert r"\section{The backward pass}" in tex and r"\section{Residuals}" not in tex
    assert r"\mathbf{g} &= \frac{\partial J}{\partial l} = \frac{1}{m}" in tex
    assert (
        r"\mathbf{g} &\leftarrow \mathbf{g} \frac{\partial l}{\partial \mathbf{p}} = "
        r"\mathbf{g} \left(- \frac{1}{\mathbf{y}^{T} \mathbf{p}} \mathbf{y}^{T}\right)"
    ) in tex
    assert (r"\mathbf{g} &\leftarrow \mathbf{g} \frac{\partial \mathbf{p}}{\partial \mathbf{s}} = "
            r"\mathbf{g} \left[\operatorname{diag}\left(\mathbf{p}\right) - \mathbf{p} "
            r"\mathbf{p}^{T}\right]") in tex  # fmt: skip
    # lecture 3's z = W x, s = z + b: g <- g ds/dz = g I_C, and z = (I_C (x) x^T) vec(W)
    assert (r"\mathbf{g} &\leftarrow \mathbf{g} \frac{\partial \mathbf{s}}{\partial \mathbf{z}} = "
            r"\mathbf{g} I_{C}") in tex  # fmt: skip
    vec = r"\frac{\partial \mathbf{z}}{\partial \operatorname{vec}(W)}"
    assert vec + r" &= I_{C} \otimes \mathbf{x}^{T}" in tex
    assert r"\frac{\partial r}{\partial W} &= 2 W" in tex
    # the hand formula of the lecture, summed over the samples of the batch
    assert (r"\frac{\partial J}{\partial W} &= \sum_{i=1}^{m} \left(\mathbf{g}^{i}\right)^{T} "
            r"\left(\mathbf{x}^{i}\right)^{T} + 2 \lambda W") in tex  # fmt: skip
    assert r"\frac{\partial J}{\partial \mathbf{b}} &= \sum_{i=1}^{m} \mathbf{g}^{i}" in tex
    # the verification table is the same in both notations
    residual = render_tex(derivation, verification, "residual")
    table = re.compile(r"\\begin\{longtable\}.*?\\end\{longtable\}", re.S)
    assert mask_errors(table.search(tex).group(0)) == mask_errors(table.search(residual).group(0))


def test_printed_jacobian_gradient_matches_a_hand_computation():
    """The formulas the report prints, evaluated sample by sample in NumPy (g a row vector,
    updated by the local Jacobians), give the gradients derive compiles."""
    net = derive.load(LINEAR)
    m, d, C = 5, 3, 3
    rng = np.random.default_rng(1)
    values = {"x": rng.normal(size=(m, d)), "y": np.eye(C)[rng.integers(0, C, m)],
              "lam": np.array(0.3), "W": rng.normal(size=(C, d)),
              "b": rng.normal(size=C)}  # fmt: skip
    got = net.compile().loss_and_grads(values)
    W, lam = values["W"], float(values["lam"])
    dW, db, rows = 2 * lam * W, np.zeros(C), []
    for x, y in zip(values["x"], values["y"]):
        s = W @ x + values["b"]
        p = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
        g = np.array([[1 / m]])  # g = dJ/dl
        g = g @ (-y[None, :] / (y @ p))  # g <- g dl/dp
        g = g @ (np.diag(p) - np.outer(p, p))  # g <- g dp/ds
        db += g[0]  # dJ/db = sum_i g^i
        rows.append(g[0])
        dW += g.T @ x[None, :]  # dJ/dW = sum_i g^T x^T + 2 lambda W
    np.testing.assert_allclose(got["grad_W"], dW, rtol=1e-10)
    np.testing.assert_allclose(got["grad_b"], db, rtol=1e-10)
    # the batch form: G has the g^i as rows, X the x^i as columns
    np.testing.assert_allclose(np.array(rows).T @ values["x"] + 2 * lam * W, dW, rtol=1e-10)
    np.testing.assert_allclose(np.ones(m) @ np.array(rows), db, rtol=1e-10)


def test_batch_form_is_the_matrix_of_the_sums():
    """--notation batch: dJ/dW = G^T X^T + 2 lambda W and dJ/db = 1^T G for the linear
    classifier; G <- G W_l and G <- G o Ind(S_l > 0)^T for the k-layer network."""
    tex = render_tex(derive.load(LINEAR).derive(), None, "batch")
    assert r"\subsection*{The whole batch at once}" in tex
    assert r"\frac{\partial J}{\partial W} &= G^{T} X^{T} + 2 \lambda W" in tex
    assert r"\frac{\partial J}{\partial \mathbf{b}} &= \mathbf{1}^{T} G" in tex
    assert "whole batch" not in render_tex(derive.load(LINEAR).derive(), None, "jacobian")
    # the start of the chain as one matrix, as lecture 3 writes it, not by its rows
    assert r"G &= \frac{1}{m} \left(P - Y\right)^{T}" in tex
    deep = render_tex(derive.load(KLAYER).derive(), None, "batch")
    assert r"G &= \frac{1}{m} \left(P - Y\right)^{T}" in deep and r"\vdots" not in deep
    assert r"G &\leftarrow G W_{3}" in deep
    assert r"G &\leftarrow G \circ \operatorname{Ind}\left(S_{2} > 0\right)^{T}" in deep
    assert r"&= G^{T} \left(X^{(1)}\right)^{T} + 2 \lambda W_{2}" in deep


def test_klayer_propagates_g_through_every_layer():
    """Seed 001: g <- g W_l, g <- g diag(Ind(s > 0)), dJ/dW_l = g^T x^(l-1)T + 2 lambda W_l."""
    tex = render_tex(derive.load(KLAYER).derive(), None, "jacobian")
    for l in (2, 3):
        assert rf"&\leftarrow \mathbf{{g}} \frac{{\partial \mathbf{{s}}_{{{l}}}}}" in tex
        assert rf"= \mathbf{{g}} W_{{{l}}}" in tex
        assert (rf"\frac{{\partial J}}{{\partial W_{{{l}}}}} &= \sum_{{i=1}}^{{m}} "
                rf"\left(\mathbf{{g}}^{{i}}\right)^{{T}} \left(\mathbf{{x}}^{{({l - 1}), i}}"
                rf"\right)^{{T}} + 2 \lambda W_{{{l}}}") in tex  # fmt: skip
    for l in (1, 2):
        assert (rf"\mathbf{{g}} \operatorname{{diag}}\left(\operatorname{{Ind}}\left("
                rf"\mathbf{{s}}_{{{l}}} > 0\right)\right)") in tex  # fmt: skip
    assert r"\subsection*{The backward pass in short}" in tex
    # the vec(W) convention is explained once, then referred to
    assert tex.count("is a matrix: as in the lecture") == 1
    assert tex.count("As for $W_{3}$, the Jacobians are taken with respect to") == 2


def test_updates_are_the_transposed_residuals():
    """Each g update of a chain is the node's compact residual, transposed, with dJ/dw = g^T."""
    derivation = derive.load(KLAYER).derive()
    backward = jacobian.build(derivation)
    assert [s.name for grp in backward.groups for s in grp.steps][:4] == [
        "r", "l", r"\mathbf{p}", r"\mathbf{s}_{3}"]  # fmt: skip
    s2 = derivation["s2"]
    x2 = s2.terms[0].consumer
    form = row(substitute(s2.compact, {Residual(x2): transpose(RowGrad(x2, r"\mathbf{g}"))}))
    assert jacobian.marked(form) == (
        r"\mathbf{g} \circ \operatorname{Ind}\left(\mathbf{s}_{2} > 0\right)^{T}"
    )
    assert row(row(s2.expanded)) == s2.expanded


# --- files, command line, notebooks -----------------------------------------------------------
def test_jacobian_pdf_builds_without_overfull_lines(linear, tmp_path):
    need_latex()
    derivation, verification = linear
    paths = write_report(derivation, verification, tmp_path / "out", {"tex", "pdf"}, "jacobian")
    assert [p.name for p in paths] == ["linear_softmax.tex", "linear_softmax.pdf"]
    assert paths[1].read_bytes().startswith(b"%PDF")
    compile_pdf(paths[0], tmp_path / "build")
    log = (tmp_path / "build" / "linear_softmax.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log and "undefined" not in log.lower()


def test_klayer_jacobian_pdf_builds(tmp_path):
    need_latex()
    paths = write_report(derive.load(KLAYER).derive(), None, tmp_path, {"pdf"}, "jacobian")
    assert paths[1].name == "klayer.pdf"


def test_unknown_notation_is_refused(linear, tmp_path):
    derivation, verification = linear
    with pytest.raises(DeriveError, match="unknown notation 'rows'"):
        write_report(derivation, verification, tmp_path, {"tex"}, "rows")
    with pytest.raises(DeriveError, match="residual notation only"):
        write_report(derivation, verification, tmp_path, {"tex", "md"}, "jacobian")
    assert not any(tmp_path.iterdir())


def test_cli_notation_jacobian(cli, tmp_path):
    result = cli("report", LINEAR, "--out", tmp_path, "--format", "tex", "--notation", "jacobian")
    assert result.exit_code == 0, result.output
    tex = (tmp_path / "linear_softmax.tex").read_text()
    assert r"\section{The backward pass}" in tex and r"\mathbf{g} &\leftarrow" in tex


def test_cli_unknown_notation_is_one_line_and_exit_2(cli, tmp_path):
    result = cli("report", LINEAR, "--out", tmp_path, "--format", "tex", "--notation", "rows")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "derive: error: unknown notation 'rows': use residual, jacobian or batch"
    ]
    assert not (tmp_path / "linear_softmax.tex").exists()


def test_repr_latex_for_jupyter():
    net = derive.load(LINEAR)
    shown = net._repr_latex_()
    assert shown.startswith("$$\n\\begin{aligned}") and shown.endswith("\\end{aligned}\n$$")
    assert r"\mathbf{z} &= W \mathbf{x}" in shown
    assert r"\mathbf{s} &= \mathbf{z} + \mathbf{b}" in shown
    steps = net.derive()._repr_latex_()
    assert r"\frac{\partial J}{\partial W} &=" in steps and "\\VAR" not in steps
    assert "\x01" not in steps and "\x02" not in steps


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda p: p.stem)
def test_every_example_renders_in_every_notation(path):
    """Non-chain graphs too (the multi-task network's branches, batch statistics): the
    gradients named with the network's own loss symbol, every parameter shown."""
    derivation = derive.load(path).derive()
    loss = derivation.network.loss_q.latex
    for notation in ("jacobian", "batch"):
        tex = render_tex(derivation, None, notation)
        assert "\x01" not in tex and "\x02" not in tex
        if loss != "J":
            assert r"\partial J}" not in tex
        for g in derivation.gradients:
            assert rf"\frac{{\partial {loss}}}{{\partial {g.q.latex}}} &=" in tex, g.q.name


@pytest.mark.parametrize("path", [LINEAR, KLAYER], ids=lambda p: p.stem)
def test_each_update_equals_the_proved_residual(path):
    """g <- g dw/dv prints the local Jacobian of the op; (g J)^T must be the compact residual
    that verify.py proves, for a symbolic g, at small sizes: the update and its result agree."""
    import sympy as sp

    from derive.expand import StepExpander

    derivation = derive.load(path).derive()
    net = derivation.network
    sizes = {**{d: 2 for d in net.dims}, derive.m: 1}
    checked = 0
    for g in derivation.residuals:
        if len(g.terms) != 1 or g.terms[0].jacobian is None or g.terms[0].consumer == net.loss_q:
            continue
        w = g.terms[0].consumer
        expander = StepExpander(net, sizes, g.q, set())  # every other node a fresh symbol
        R = expander._symbols("g:", w, 0)
        residuals = {Residual(w): [R]}
        J = expander.value(g.terms[0].jacobian, 0)
        compact = expander.value(g.compact, 0, residuals)
        assert sp.simplify((R.T * J).T - compact) == sp.zeros(*compact.shape), g.q.name
        checked += 1
    assert checked >= 2
