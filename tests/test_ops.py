"""Every op's backward rule against sympy.diff, parametrised over the op registry.

For each example instance e of an op, the scalar l = sum_i <R^i, e^i> with random integer R has
residual R at e; the residual the engine derives for each leaf must equal sympy.diff of l (the
scalar expansion) by that leaf's entries. Where an op states a local Jacobian J, J^T R must give
the same. A new op is covered the moment it subclasses Op and gives examples().
"""

import random

import pytest
import sympy as sp

from derive.backprop import contribution
from derive.expand import Expander, IdentityTest
from derive.expr import OPS, Leaf, Quantity, Residual, leaves, m
from derive.expr import test_leaf as make_leaf
from derive.ops.algebra import matmul, transpose

CASES = [(name, k, e) for name, op in sorted(OPS.items()) for k, e in enumerate(op.examples())]
SIZES = {m: 2}


def test_every_op_has_examples():
    missing = [name for name, op in OPS.items() if not op.examples()]
    assert not missing, f"ops without examples (so untested): {missing}"


def _residual_leaf(e):
    return Residual(Quantity("R", "R", e.shape, "input", e.batched))


@pytest.mark.parametrize("name,k,e", CASES, ids=[f"{n}-{k}" for n, k, _ in CASES])
def test_backward_rule_matches_sympy_diff(name, k, e):
    ex = Expander(None, SIZES)
    rng = random.Random(k)
    g = _residual_leaf(e)
    samples = [0, 1] if e.batched else [None]
    rows, cols = (int(d) for d in e.shape)
    r_values = [sp.Matrix(rows, cols, lambda *_: rng.randint(-5, 5)) for _ in samples]
    loss = sum(
        (sum(a * b for a, b in zip(r, ex.value(e, i))) for r, i in zip(r_values, samples)),
        sp.Integer(0),
    )
    for leaf in sorted(leaves(e), key=lambda x: x.q.name):
        derived = contribution(e, leaf.q, g)
        for i in [0, 1] if leaf.q.batched else [None]:
            want = ex.value_of(leaf.q, i).applyfunc(lambda s: sp.diff(loss, s))
            got = ex.value(derived, i, residuals={g: r_values})
            assert got.shape == want.shape
            assert all(IdentityTest().equal(a, b) for a, b in zip(got, want)), (name, leaf.q.name)


@pytest.mark.parametrize("name,k,e", CASES, ids=[f"{n}-{k}" for n, k, _ in CASES])
def test_local_jacobian_agrees_with_backward_rule(name, k, e):
    from derive.backprop import jacobian

    g = _residual_leaf(e)
    ex = Expander(None, SIZES)
    rng = random.Random(k)
    r_values = [
        sp.Matrix(*(int(d) for d in e.shape), lambda *_: rng.randint(-5, 5)) for _ in (0, 1)
    ]
    for leaf in leaves(e):
        J = jacobian(e, leaf.q)
        if J is None or e.batched != leaf.q.batched:
            continue
        via_jacobian = matmul(transpose(J), g)
        via_vjp = contribution(e, leaf.q, g)
        for i in [0, 1] if e.batched else [None]:
            a = ex.value(via_jacobian, i, residuals={g: r_values})
            b = ex.value(via_vjp, i, residuals={g: r_values})
            assert all(IdentityTest().equal(x, y) for x, y in zip(a, b)), (name, leaf.q.name)


def test_elementwise_derivatives_come_from_sympy():
    from derive.ops.elementwise import ELEMENTWISE, S

    for fn in ELEMENTWISE.values():
        # almost everywhere: sign' = 2 delta(s) is 0 off the origin, as backpropagation takes it
        want = sp.diff(fn.expr, S).subs(sp.DiracDelta(S), 0)
        assert sp.simplify(fn.derivative().expr - want) == 0


def test_sign_differentiates_to_zero_and_compiles():
    """sign' is zero almost everywhere (SymPy says 2 delta(s), which NumPy cannot print)."""
    from derive.ops.elementwise import sign

    u = make_leaf("u", 3)
    assert contribution(sign(u), u.q, _residual_leaf(u)) is not None
    assert isinstance(contribution(sign(u) + u, u.q, _residual_leaf(u)), Residual)


def test_identity_test_tells_different_expressions_apart():
    x, y = sp.symbols("x y")
    t = IdentityTest()
    assert t.equal(sp.sin(x) * (x + y) ** 2, sp.sin(x) * (x**2 + 2 * x * y + y**2))
    assert not t.equal(sp.sin(x) * (x + y) ** 2, sp.sin(x) * (x**2 + y**2))
    assert not t.equal(sp.sin(x), sp.cos(x))
    assert Leaf  # keep the import for readers: leaves are Leaf instances


# --- element-wise functions: the derivative derive prints is the derivative -----------------
def _user_functions():
    from derive.ops.elementwise import S, ScalarFn, elu_fn, leaky_relu_fn

    swish = ScalarFn(S / (1 + sp.exp(-S)), "swish")
    return [leaky_relu_fn(0.01), leaky_relu_fn(0.2), elu_fn(1), elu_fn(0.5), swish]


def _all_functions():
    from derive.ops.elementwise import ELEMENTWISE

    return list(ELEMENTWISE.values()) + _user_functions()


@pytest.mark.parametrize("fn", _all_functions(), ids=lambda f: f.name or str(f.expr))
def test_elementwise_derivative_is_sympys(fn):
    """The form derive writes (textbook: sigma (1 - sigma); or its own derivative function)
    equals sympy.diff of the plain scalar expression at points on both sides of any kink."""
    from derive.ops.elementwise import S, U

    truth = sp.diff(fn.expr, S)
    book = fn.textbook()
    if book:
        g, named = book
        written = g.subs(U, named.expr)
    else:
        written = fn.derivative().expr
    for x in [-2.3, -0.7, -0.01, 0.013, 0.4, 1.9]:
        if fn.name in ("log", "sqrt") and x <= 0:
            continue
        want = complex(truth.subs(S, x).evalf())
        got = complex(written.subs(S, x).evalf())
        assert abs(got - want) <= 1e-12 * (1 + abs(want)), (fn.name, x, got, want)


def test_textbook_forms():
    from derive.ops.elementwise import ELEMENTWISE, U

    assert ELEMENTWISE["sigmoid"].textbook()[0] == U * (1 - U)
    assert ELEMENTWISE["tanh"].textbook()[0] == 1 - U**2
    assert ELEMENTWISE["softplus"].derivative() is ELEMENTWISE["sigmoid"]
    swish = _user_functions()[-1]
    g, named = swish.textbook()  # sigma + s sigma (1 - sigma): in terms of sigma, not e^-s
    assert named is ELEMENTWISE["sigmoid"] and not g.has(sp.exp)
