"""Golden simplified forms: the examples' results as the course writes them, each still proved."""

from dataclasses import replace
from pathlib import Path

import pytest

import derive
from derive.expand import label_assignments
from derive.expr import Leaf, Ones
from derive.ops.algebra import scale
from derive.ops.elementwise import Hadamard
from derive.render.printer import latex
from derive.verify import prove_symbolic, symbolic_sizes

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def linear_softmax():
    net = derive.load(EXAMPLES / "linear_softmax.py")
    return net, net.derive()


def tex(derivation, name):
    g = derivation[name]
    return latex(g.expanded, "i" if g.q.batched else None)


def test_softmax_and_log_of_the_label_gives_p_minus_y(linear_softmax):
    """Lecture 3: dJ/ds = (1/m)(p - y), however the cross-entropy is spelled (-log y^T p)."""
    _, d = linear_softmax
    assert tex(d, "s") == r"\frac{1}{m} \left(\mathbf{p}^{i} - \mathbf{y}^{i}\right)"
    assert r"\circ" not in tex(d, "W") and r"\circ" not in tex(d, "b")


def test_the_one_hot_form_is_proved_for_every_label(linear_softmax):
    net, d = linear_softmax
    sizes = symbolic_sizes(net)
    assert len(label_assignments(net, sizes)) == 2**2  # C = 2 classes, m = 2 samples
    assert all(prove_symbolic(d, sizes).values())


def test_a_wrong_one_hot_form_is_not_proved(linear_softmax):
    """(p - y) o (1 + y) is p - y away from the label and 2 (p_c - 1) at it: wrong for every
    label, so neither the proof over sums-to-one labels nor the one over one-hot labels passes."""
    net, d = linear_softmax
    g = d["s"]
    y = Leaf(net.quantities["y"])
    wrong = Hadamard(((g.expanded, 1), (Ones(y.shape[0]) + y, 1)))
    items = tuple(replace(r, expanded=wrong, compact=wrong) if r.q.name == "s" else r
                  for r in d.residuals)  # fmt: skip
    assert prove_symbolic(replace(d, residuals=items), symbolic_sizes(net))["s"] is False
    half = scale(2, g.expanded)
    items = tuple(replace(r, expanded=half) if r.q.name == "s" else r for r in d.residuals)
    assert prove_symbolic(replace(d, residuals=items), symbolic_sizes(net))["s"] is False


@pytest.fixture(scope="module")
def batchnorm():
    net = derive.load(EXAMPLES / "batchnorm.py")
    return net, net.derive()


def test_a_bias_before_batch_normalisation_has_gradient_zero(batchnorm):
    """Lecture 4: the mean subtraction cancels b_1, and dv_b/dmu_b = 0 drops a term."""
    from derive.expr import Residual, Zero, leaves
    from derive.verify import verify

    net, d = batchnorm
    assert isinstance(d["b1"].expanded, Zero)
    assert Residual(net.quantities["v_b"]) not in leaves(d["mu_b"].compact, Residual)
    v = verify(d)
    assert v.ok, [c.name for c in v.checks if not c.ok]


def test_a_gradient_wrongly_derived_as_zero_fails_both_proofs(batchnorm):
    from derive.expr import Zero
    from derive.numeric import prove_numeric

    net, d = batchnorm
    zero = Zero(net.quantities["b2"].shape)
    items = tuple(replace(g, expanded=zero, compact=zero) if g.q.name == "b2" else g
                  for g in d.gradients)  # fmt: skip
    bad = replace(d, gradients=items)
    assert prove_symbolic(bad, symbolic_sizes(net))["b2"] is False
    assert prove_numeric(bad, net.sizes(m=4))["b2"] > 1e-3


def test_the_report_says_why_a_term_and_a_gradient_are_zero(batchnorm):
    from derive.render.report import render_tex
    from derive.verify import verify

    _, d = batchnorm
    tex = render_tex(d, verify(d, symbolic=False))
    assert r"\frac{\partial \mathbf{v}_{b}}{\partial \boldsymbol{\mu}_{b}} &= \mathbf{0}" in tex
    assert "The term through $\\mathbf{v}_{b}$ is zero" in tex
    assert "It is zero whatever the data: $\\mathbf{b}_{1}$" in tex
    # the long forms are written through the residuals they use, and the report says so
    assert "it is left in terms of $\\partial J / \\partial \\hat{\\mathbf{s}}^{i}$" in tex


BCE = """
from derive import Network, hadamard, log, mean, sigmoid
net = Network("bce")
d = net.dim("d", 3)
x = net.input("x", d)
y = net.input("y", 1, target=True)
w = net.param("w", (1, d))
b = net.param("b", 1)
p = net.node("p", sigmoid(w * x + b))
l = net.node("l", -(hadamard(y, log(p)) + hadamard(1 - y, log(1 - p))))
J = net.loss("J", mean(l))
"""


def test_binary_cross_entropy_by_hand_gives_p_minus_y(tmp_path):
    """Numbers added to expressions (1 - y), and the element-wise fractions cancelled."""
    from derive.verify import verify

    path = tmp_path / "bce.py"
    path.write_text(BCE)
    d = derive.load(path).derive()
    assert tex(d, "b") == r"\frac{1}{m} \sum_{i=1}^{m} \left(p^{i} - y^{i}\right)"
    assert verify(d).ok


def test_numbers_and_division_in_network_expressions():
    """1 - y and v + epsilon broadcast a number over a vector; a / b divides entry by entry;
    a number added to a matrix, or a division of different shapes, is one clear error."""
    from derive.errors import ShapeError
    from derive.expr import test_leaf
    from derive.ops.elementwise import Hadamard

    u, v = test_leaf("u", 3), test_leaf("v", 3)
    W = test_leaf("W", 3, 2, batched=False)
    assert isinstance(u / v, Hadamard) and dict(u.__truediv__(v).factors)[v] == -1
    assert repr(1 - u) == "Ones + -1*u"
    with pytest.raises(ShapeError, match="numbers are added to vectors"):
        _ = W + 1
    with pytest.raises(ShapeError, match="the shapes differ"):
        _ = u / test_leaf("w", 2)
    with pytest.raises(ShapeError, match="cannot combine"):
        _ = u + "1"  # text is never parsed into a number


def test_sign_is_differentiable_almost_everywhere(tmp_path, cli):
    path = tmp_path / "sign.py"
    path.write_text(
        "from derive import Network, mean, sign, sq_norm\n"
        "net = Network('s')\nd = net.dim('d', 3)\nx = net.input('x', d)\n"
        "W = net.param('W', (d, d))\na = net.node('a', sign(W * x) + W * x)\n"
        "L = net.loss('L', mean(sq_norm(a)))\n"
    )
    result = cli("verify", str(path))
    assert result.exit_code == 0, result.output
    assert "all 2 checks passed" in result.output


def test_the_derivative_by_an_input_is_derived_and_proved():
    """dL/dx (seed 003, 2.p), for the data inputs only (not labels, targets, masks or noise)."""
    from derive.verify import verify

    net = derive.load(EXAMPLES / "multitask.py")
    d = net.derive()
    assert [g.q.name for g in d.inputs] == ["x"]
    assert tex(d, "x").startswith(r"\frac{1}{m} \left[\theta_{1B}^{T}")  # both branches
    v = verify(d)
    assert [c.name for c in v.inputs] == ["x"] and v.ok
    assert all(c.symbolic and c.numeric_error < 1e-6 for c in v.inputs)
    # a wrong one fails both proofs
    g = d["x"]
    bad = replace(
        d, inputs=(replace(g, expanded=scale(2, g.expanded), compact=scale(2, g.compact)),)
    )
    v = verify(bad)
    assert not v.ok and v.inputs[0].symbolic is False and v.inputs[0].numeric_error > 1e-3
