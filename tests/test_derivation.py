"""The multi-task network of the course, derived and proved both ways, and its compiled gradients
against an independent hand-written NumPy backpropagation."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import derive
from derive.backprop import Derivation
from derive.expr import Leaf
from derive.numeric import prove_numeric
from derive.ops.elementwise import hadamard
from derive.render.printer import latex
from derive.verify import TOLERANCE, prove_symbolic, symbolic_sizes, verify

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "multitask.py"


@pytest.fixture(scope="module")
def net():
    return derive.load(EXAMPLE)


@pytest.fixture(scope="module")
def derivation(net):
    return net.derive()


def test_every_residual_and_gradient_is_proved(derivation):
    # end to end as well as layer by layer (derive verify --end-to-end): the two proofs agree
    v = verify(derivation, scheme="both")
    assert v.ok and v.symbolic_scheme == "both"
    names = {c.name for c in v.checks}
    assert {"z_2B", "x_1B", "mu", "theta_1B", "b_1B", "theta_2B", "b_2B", "theta_1A"} <= names
    assert all(c.symbolic is True for c in v.checks)
    assert all(c.numeric_error < TOLERANCE for c in v.checks)


def test_results_read_like_the_homework(derivation):
    def tex(name):
        g = derivation[name]
        return latex(g.expanded, "i" if g.q.batched else None)

    assert tex("z_2B") == r"\frac{1}{m} \left(\hat{\mathbf{y}}_{B}^{i} - \mathbf{y}_{B}^{i}\right)"
    assert tex("x_oplus").startswith(r"\frac{1}{m} \theta_{2B}^{T}")
    assert r"\sum_{j=1}^{m}" in tex("x_1B")  # the batch mean couples sample i to every j
    assert r"\mathbb{1}" in tex("x_BN")  # ReLU's derivative is an indicator, not sgn
    assert r"\cos" in tex("z_1A") and r"\mathbf{M}^{i}" in tex("z_1A")


def _planted(derivation: Derivation, name: str, wrong) -> Derivation:
    """The derivation with one expanded result replaced (and its compact form alike)."""
    items = []
    for g in derivation.residuals:
        items.append(replace(g, expanded=wrong, compact=wrong) if g.q.name == name else g)
    return replace(derivation, residuals=tuple(items))


def test_the_homeworks_slip_is_caught_both_ways(net, derivation):
    # seed 000 writes the ReLU derivative as sgn(x) = (x + |x|)/2, which is ReLU itself
    g = derivation["x_BN"]
    relu_out = Leaf(net.quantities["x_BNstar"])
    x_bnstar_residual = derivation["x_BNstar"].expanded
    wrong = hadamard(x_bnstar_residual, relu_out)
    bad = _planted(derivation, "x_BN", wrong)
    assert prove_symbolic(bad, symbolic_sizes(net))["x_BN"] is False
    assert prove_numeric(bad, net.sizes(m=4))["x_BN"] > 1e-3
    assert g.expanded != wrong


def test_a_missing_one_over_m_is_caught(net, derivation):
    g = derivation["z_2B"]
    bad = _planted(derivation, "z_2B", g.expanded.e)  # drop the 1/m
    assert prove_symbolic(bad, symbolic_sizes(net))["z_2B"] is False


def reference_backprop(v):
    """The multi-task network's gradients written out by hand, without derive."""
    x, yA, yB, M = v["x"], v["y_A"], v["y_B"], v["M"]
    m = x.shape[0]
    z1A = x @ v["theta_1A"].T + v["b_1A"]
    x1A = np.sin(z1A)
    xDP = x1A * M
    x2A = xDP @ v["theta_2A"].T + v["b_2A"]
    x1B = x @ v["theta_1B"].T
    xBN = x1B - x1B.mean(axis=0) + v["b_1B"]
    xBNs = np.maximum(xBN, 0)
    xo = x2A + xBNs
    z2B = xo @ v["theta_2B"].T + v["b_2B"]
    e = np.exp(z2B - z2B.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    L = (0.5 * ((x2A - yA) ** 2).sum() - (yB * np.log(p)).sum()) / m
    dz2B = (p - yB) / m
    dxo = dz2B @ v["theta_2B"]
    dxBN = dxo * (xBN > 0)
    dx1B = dxBN - dxBN.mean(axis=0)
    dx2A = (x2A - yA) / m + dxo
    dz1A = (dx2A @ v["theta_2A"]) * M * np.cos(z1A)
    return {
        "L": L,
        "grad_theta_1A": dz1A.T @ x, "grad_b_1A": dz1A.sum(0),
        "grad_theta_2A": dx2A.T @ xDP, "grad_b_2A": dx2A.sum(0),
        "grad_theta_1B": dx1B.T @ x, "grad_b_1B": dxBN.sum(0),
        "grad_theta_2B": dz2B.T @ xo, "grad_b_2B": dz2B.sum(0),
    }  # fmt: skip


def multitask_values(rng, m=16, d=5, h=7, a=3, c=4):
    return {
        "x": rng.normal(size=(m, d)), "y_A": rng.normal(size=(m, a)),
        "y_B": np.eye(c)[rng.integers(0, c, m)], "M": (rng.random((m, h)) < 0.5) * 2.0,
        "theta_1A": rng.normal(size=(h, d)), "b_1A": rng.normal(size=h),
        "theta_2A": rng.normal(size=(a, h)), "b_2A": rng.normal(size=a),
        "theta_1B": rng.normal(size=(a, d)), "b_1B": rng.normal(size=a),
        "theta_2B": rng.normal(size=(c, a)), "b_2B": rng.normal(size=c),
    }  # fmt: skip


def test_compiled_gradients_match_hand_written_backprop(net):
    values = multitask_values(np.random.default_rng(3))
    got = net.compile().loss_and_grads(values)
    want = reference_backprop(values)
    assert set(got) == set(want)
    for k in want:
        assert np.shape(got[k]) == np.shape(want[k]), k
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=1e-12, err_msg=k)


def test_sizes_come_from_the_arrays(net):
    values = multitask_values(np.random.default_rng(4), m=3, d=2, h=9, a=2, c=5)
    out = net.compile().loss_and_grads(values)
    assert out["grad_theta_1A"].shape == (9, 2)
    assert out["grad_b_2B"].shape == (5,)


def test_values_with_a_wrong_shape_name_both(net):
    values = multitask_values(np.random.default_rng(5))
    values["theta_2A"] = np.zeros((3, 6))  # h is 7
    with pytest.raises(derive.DeriveError, match=r"theta_2A has shape \(3, 6\).*h = 7"):
        net.compile().loss_and_grads(values)
