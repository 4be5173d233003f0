"""Every rule of the simplifier's table (derive/ops/identities.py), proved two ways.

For each rule's example (its left side, built without the rule): the smart constructors turn it
into the rule's right side; the two sides are equal exactly (SymPy, at every one-hot value where
the rule assumes one-hot labels) and numerically (float64 at random points); and where the rule
assumes one-hot labels, the two sides differ for a label that is not one-hot (so the test could
fail). A new rule is covered the moment it is registered.
"""

import numpy as np
import pytest
import sympy as sp

from derive.expand import Expander, IdentityTest
from derive.expr import Leaf, Zero, leaves, m
from derive.ops.identities import RULES

SIZES = {m: 1}


def _values(e, rng, onehot_class=None):
    out = {}
    for leaf in sorted(leaves(e), key=lambda x: x.q.name):
        rows, cols = (int(d) for d in leaf.shape)
        if leaf.q.content == "onehot":
            v = np.zeros((rows, cols))
            v[rng.integers(rows) if onehot_class is None else onehot_class, 0] = 1
        else:
            v = rng.normal(size=(rows, cols))
        out[leaf.q] = v
    return out


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule_fires_in_its_constructor(rule):
    lhs = rule.example()
    built = lhs.rebuild(*lhs.children)
    assert built == rule.rewrite(lhs) is not None
    assert built != lhs


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule_holds_exactly(rule):
    lhs = rule.example()
    rhs = rule.rewrite(lhs)
    onehots = [x.q for x in leaves(lhs) if x.q.content == "onehot"]
    classes = range(int(onehots[0].shape[0])) if onehots else [None]
    for c in classes:
        labels = {(q.name, 0 if q.batched else None): c for q in onehots} if onehots else None
        ex = Expander(None, SIZES, labels=labels)
        a = ex.value(lhs, 0)
        b = ex.value(rhs, 0)
        assert a.shape == b.shape
        assert all(IdentityTest().equal(x, y) for x, y in zip(a, b)), (rule.name, c)


@pytest.mark.parametrize("rule", RULES, ids=[r.name for r in RULES])
def test_rule_holds_numerically(rule):
    lhs = rule.example()
    rhs = rule.rewrite(lhs)
    ex = Expander(None, SIZES)
    rng = np.random.default_rng(0)
    for _ in range(5):
        values = _values(lhs, rng)
        got = [_evaluate(ex, side, values) for side in (lhs, rhs)]
        np.testing.assert_allclose(got[0], got[1], rtol=1e-12)


@pytest.mark.parametrize("rule", [r for r in RULES if r.assumes == "onehot"],
                         ids=[r.name for r in RULES if r.assumes == "onehot"])  # fmt: skip
def test_onehot_rules_need_onehot_labels(rule):
    """With labels whose entries merely sum to one the two sides differ: the exact test above
    would catch a rule that does not use the labels being one-hot."""
    lhs = rule.example()
    rhs = rule.rewrite(lhs)
    ex = Expander(None, SIZES)
    a, b = ex.value(lhs, 0), ex.value(rhs, 0)
    assert not all(IdentityTest().equal(x, y) for x, y in zip(a, b))


def _evaluate(ex, e, values):
    """e at float values of its leaves, through its explicit SymPy form."""
    mat = ex.value(e, 0)
    subs = {}
    for q, v in values.items():
        symbols = ex.leaf_symbols(q, 0 if q.batched else None)
        for s, x in zip(symbols, v.flatten()):
            if isinstance(s, sp.Symbol):
                subs[s] = x
    return np.array(mat.subs(subs).evalf(), dtype=float)


def test_batch_centring_needs_a_factor_the_same_for_every_sample():
    """sum_i g^i o (s^i - mu_b) is not zero when g changes with the sample: not rewritten."""
    from derive.expr import Quantity, test_leaf
    from derive.ops.batch import batch_sum, mean
    from derive.ops.elementwise import hadamard

    s, g = test_leaf("s", 2), test_leaf("g", 2)
    mu = Leaf(Quantity("mu", "mu", s.shape, "node", False, definition=mean(s)))
    assert not isinstance(batch_sum(hadamard(g, s - mu)), Zero)
    other = Leaf(Quantity("nu", "nu", s.shape, "node", False, definition=mean(g)))
    assert not isinstance(batch_sum(s - other), Zero)  # the mean of another quantity
    assert isinstance(batch_sum(s - mu), Zero)


def test_the_identity_test_knows_exp_k_a_is_exp_a_to_the_k():
    """sigma o sigma = exp(log sigma^2) for sigma = exp(log sigma^2 / 2): the exact proof
    evaluates exp(c t) as b(t)^(12 c), so these hold, and different powers still differ."""
    from derive.expand import IdentityTest
    from derive.ops.elementwise import ELEMENTWISE

    exp = ELEMENTWISE["exp"].scalar
    a, b = sp.symbols("a b", real=True)
    t = IdentityTest()
    assert t.equal(exp(a) ** 2, exp(2 * a))
    assert t.equal(exp((a + b) / 2) ** 2, exp(a + b))
    assert t.equal(exp(-a) * exp(a), 1)
    assert not t.equal(exp(a) ** 2, exp(3 * a))
    assert not t.equal(exp(a / 2), exp(a))
    assert not t.equal(exp(a), exp(b))
