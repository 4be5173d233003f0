"""The likely mistake: each slip planted in a right formula by hand (not by the rules under test)
is named; a formula wrong in no common way is named nothing."""

from __future__ import annotations

import pytest
from conftest import EXAMPLES

import derive
from derive.claims.slips import likely_slip
from derive.expr import Leaf, m
from derive.ops.algebra import add, matmul, scale, transpose
from derive.ops.batch import batch_sum
from derive.ops.elementwise import hadamard


@pytest.fixture(scope="module")
def mlp():
    net = derive.load(EXAMPLES / "mlp.py")
    d = net.derive()
    q = {name: Leaf(x) for name, x in net.quantities.items()}
    return net, d, q


def same_as(net, claimed):
    """Is a candidate the same function as ``claimed`` (both derive's expressions)?"""
    from derive.claims.decide import compare_formulas

    def same(candidate) -> bool:
        return compare_formulas(net, candidate, claimed).verdict in ("equal", "almost-everywhere")

    return same


def slip(net, d, name, claimed):
    g = next(g for g in d.residuals + d.gradients if g.q.name == name)
    expanded = {r.q: r.expanded for r in d.residuals}
    return likely_slip(g.expanded, same_as(net, claimed), g, expanded)


def test_a_missing_one_over_m(mlp):
    net, d, q = mlp
    claimed = add(q["p"], scale(-1, q["y"]))  # p - y, where (p - y)/m is right
    assert slip(net, d, "s_2", claimed) == "a missing 1/m"


def test_a_sign_flip(mlp):
    net, d, q = mlp
    claimed = scale(1 / m, add(q["y"], scale(-1, q["p"])))
    assert slip(net, d, "s_2", claimed) == "a sign flip"


def test_a_missing_activation_derivative(mlp):
    net, d, q = mlp
    r2 = scale(1 / m, add(q["p"], scale(-1, q["y"])))
    claimed = matmul(transpose(q["W_2"]), r2)  # W_2^T r, without o 1[s_1 > 0]
    assert slip(net, d, "s_1", claimed) == "a missing derivative factor of an activation"


def test_a_hadamard_product_for_a_matrix_product(mlp):
    net, d, q = mlp
    r2 = scale(1 / m, add(q["p"], scale(-1, q["y"])))
    # dJ/dW_2 = sum_i r_2^i (h^i)^T; written with o on a (c x 1) and (1 x h): not even a shape
    # match, so plant it where the shapes agree instead: dJ/db_2 vs sum_i r_2^i o 1
    claimed = batch_sum(hadamard(r2, q["p"]))
    assert slip(net, d, "b_2", claimed) is None  # wrong, but in no common way


def test_a_dropped_branch_where_the_graph_fans_out():
    net = derive.load(EXAMPLES / "multitask.py")
    d = net.derive()
    fans = [g for g in d.residuals if len(g.terms) >= 2]
    assert fans, "the multi-task network has a node with two consumers"
    g = fans[0]
    expanded = {r.q: r.expanded for r in d.residuals}
    from derive.claims.slips import dropped_branches

    planted = next(dropped_branches(g, expanded))
    assert likely_slip(g.expanded, same_as(net, planted), g, expanded) == (
        "a dropped branch where the graph fans out"
    )
