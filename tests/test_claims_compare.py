"""The claims file reader and the comparison of two expressions of a network: equal, equal
almost everywhere (only at a kink), or different with a counterexample."""

from __future__ import annotations

import re
import time

import pytest
import sympy as sp
from conftest import EXAMPLES

import derive
from derive.claims.claimfile import read_claims
from derive.claims.decide import compare_formulas as compare
from derive.errors import DeriveError
from derive.expr import Leaf
from derive.ops.algebra import matmul, scale, transpose
from derive.ops.elementwise import S, ScalarFn, apply, hadamard


@pytest.fixture(scope="module")
def mlp():
    net = derive.load(EXAMPLES / "mlp.py")
    derivation = net.derive()
    residuals = {r.q.name: r.expanded for r in derivation.residuals}
    return net, residuals


def relu_residual(net, residuals, step: ScalarFn | None):
    """dJ/ds_1 = W_2^T dJ/ds_2 o step(s_1), written out with the given step."""
    q = net.quantities
    back = matmul(transpose(Leaf(q["W_2"])), residuals["s_2"])
    return back if step is None else hadamard(back, apply(step, Leaf(q["s_1"])))


STEP_GT = ScalarFn(sp.Piecewise((1, S > 0), (0, True)), "step_gt")  # 1[s > 0]
STEP_GE = ScalarFn(sp.Piecewise((1, S >= 0), (0, True)), "step_ge")  # 1[s >= 0]


def test_the_same_formula_is_equal(mlp):
    net, residuals = mlp
    assert compare(net, residuals["s_1"], residuals["s_1"]).verdict == "equal"
    assert compare(net, residuals["s_1"], relu_residual(net, residuals, STEP_GT)).verdict == "equal"


def test_a_different_value_at_the_kink_is_almost_everywhere(mlp):
    net, residuals = mlp
    result = compare(net, residuals["s_1"], relu_residual(net, residuals, STEP_GE))
    assert result.verdict == "almost-everywhere"
    assert result.point is not None


def test_a_missing_derivative_factor_is_different_with_a_counterexample(mlp):
    net, residuals = mlp
    result = compare(net, residuals["s_1"], relu_residual(net, residuals, None))
    assert result.verdict == "different"
    assert result.left.shape == result.right.shape
    assert not (result.left == result.right).all()


def test_a_missing_one_over_m_is_different(mlp):
    net, residuals = mlp
    m_times = scale(derive.m, residuals["s_2"])  # m (p - y)/m = p - y
    assert compare(net, residuals["s_2"], m_times).verdict == "different"


def test_a_formula_right_only_when_two_sizes_coincide_is_caught():
    net = derive.load(EXAMPLES / "linear_softmax.py")  # d = C = 3 by default
    derivation = net.derive()
    right = next(g for g in derivation.gradients if g.q.name == "W").expanded
    assert compare(net, right, right).verdict == "equal"


# --- the claims file ------------------------------------------------------------------------
def write(tmp_path, text: str):
    path = tmp_path / "alice.yaml"
    path.write_text(text)
    return path


def test_a_claims_file_is_read(tmp_path):
    (tmp_path / "net.py").write_text((EXAMPLES / "hand321.py").read_text())
    path = write(
        tmp_path,
        """
student: alice
network: net.py
symbols:
  x: scalar
  v: {vector: n}
  W: {matrix: [m, n]}
  y: {vector: 3, onehot: true}
functions: {sgn: step}
aliases: {w_1: 'W1[1,1]'}
claims:
  - id: q1
    claim: '\\frac{d\\sigma(x)}{dx} = \\sigma(x)(1-\\sigma(x))'
  - {id: q2, claim: 'x = x', tolerance: 0.01}
  - just text
  - {id: q4}
  - {id: q5, claim: 'x = 1', tolerance: 2}
""",
    )
    claims = read_claims(path)
    assert claims.student == "alice" and claims.network == "net.py"  # a name, not run
    assert claims.symbols["W"].kind == "matrix" and claims.symbols["y"].onehot
    assert claims.functions == {"sgn": "step"} and claims.aliases == {"w_1": "W1[1,1]"}
    assert [c.id for c in claims.claims] == ["q1", "q2", "#3", "q4", "q5"]
    assert "tolerance: not in a claims file" in claims.claims[1].problem  # the student's say
    assert "mapping" in claims.claims[2].problem
    assert "no claim text" in claims.claims[3].problem
    assert "tolerance" in claims.claims[4].problem


@pytest.mark.parametrize(
    "text,message",
    [
        ("claims: [", "alice.yaml:2: not valid YAML"),
        ("- a\n- b", "a mapping with a 'claims' list"),
        ("student: bob", "no 'claims' list"),
        ("claims: [{id: 1, claim: 'x=1'}]\nfoo: 1", "unknown key 'foo'"),
        ("set: {k: 1000}\nclaims: [{claim: 'x=1'}]", "set: not in a claims file"),
        ("values: {t: [[.inf]]}\nclaims: [{claim: 'x=1'}]", "values: not in a claims file"),
        ("tolerance: 0.99\nclaims: [{claim: 'x=1'}]", "tolerance: not in a claims file"),
        ("claims: [{claim: 'x=1'}]\nclaims: []", "'claims' is given twice"),
        ("symbols: {x: tensor}\nclaims: [{claim: 'x=1'}]", "symbols: x"),
        ("functions: {f: evil}\nclaims: [{claim: 'x=1'}]", "is not one of"),
        ("aliases: {w: '__import__(1)'}\nclaims: [{claim: 'x=1'}]", "aliases: w"),
        ("a: &a [1, 1]\nb: &b [*a, *a]\nclaims: [{claim: 'x=1'}]", "aliases (*name)"),
    ],
)
def test_a_bad_claims_file_is_one_error(tmp_path, text, message):
    with pytest.raises(DeriveError, match=re.escape(message)):
        read_claims(write(tmp_path, text))


def test_a_yaml_bomb_and_a_huge_file_are_refused_fast(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi")
    )
    start = time.perf_counter()
    with pytest.raises(DeriveError, match="aliases"):
        read_claims(write(tmp_path, bomb + "claims: [{claim: 'x=1'}]"))
    with pytest.raises(DeriveError, match="larger than"):
        read_claims(write(tmp_path, "claims:\n" + "  - {claim: 'x = 1'}\n" * 20_000))
    assert time.perf_counter() - start < 1.0
