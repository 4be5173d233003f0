"""Wrong claims made from right ones are never judged right (issue 11): a property-based test.

Every right claim of tests/test_verdicts.py (each a theorem, checked by hand) is broken in a way
that makes it wrong by construction, and the checker must not say "correct" nor "almost
everywhere":

- a term that vanishes on a region: the right-hand side times (1 + 1[v > t]) or plus
  k 1[v > t] (v a scalar of the claim: a scalar symbol, the loss), t from 3 to 1000;
- a constant changed: the right-hand side times a number other than 1;
- a transpose swapped: the right-hand side of a gradient of the loss transposed (a shape that
  no longer fits, or a square matrix that is not symmetric);
- a tiny term: plus 10^{-k} times a term that does not vanish.

`bench/bench_verdicts.py` runs the same family at scale (3,000 claims).
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_verdicts import CASES, verdict

from derive.claims import ast, parse_claim
from derive.claims.latex import to_latex

RIGHT = [(net, claim) for net, claim, expected in CASES if expected == "correct"
         and "=" in claim and "begin{cases}" not in claim]  # fmt: skip


def scalar_of(net: str | None, tree: ast.Equation) -> str | None:
    """A scalar the claim's scope has: x or y among the symbols it names, the loss J or L."""
    if net is None:
        names = {n.base for side in tree.sides for n in _names(side)}
        return next((v for v in ("x", "y") if v in names), None)
    return "L" if net == "multitask" else "E" if net == "hand321" else "J"


def _names(node):
    if isinstance(node, ast.Name):
        yield node
    for child in node.children:
        yield from _names(child)


def mutate(net, claim: str, kind: str, threshold: float, factor: int) -> str | None:
    tree = parse_claim(claim, frozenset({"S"}))
    lhs, rhs = tree.sides[0], tree.sides[-1]
    rhs_tex = to_latex(rhs)
    v = scalar_of(net, tree)
    if kind == "region":
        if v is None:
            return None
        return f"{to_latex(lhs)} = \\left(1 + \\mathbb{{1}}\\left[{v} > {threshold:g}\\right]\\right) \\left({rhs_tex}\\right)"
    if kind == "region-plus":
        if v is None or net is not None:
            return None
        return f"{to_latex(lhs)} = {rhs_tex} + {factor} \\mathbb{{1}}\\left[{v} > {threshold:g}\\right]"
    if kind == "constant":
        return f"{to_latex(lhs)} = \\frac{{{factor + 1}}}{{{factor}}} \\left({rhs_tex}\\right)"
    if kind == "transpose":  # of a gradient that is no number (an entry's transpose is itself)
        if net is None or not isinstance(lhs, ast.Derivative) or isinstance(lhs.var, ast.Component):
            return None
        return f"{to_latex(lhs)} = \\left({rhs_tex}\\right)^T"
    if kind == "tiny":
        if v is None:
            return None
        return f"{to_latex(lhs)} = \\left(1 + 10^{{-{factor + 8}}}\\right) \\left({rhs_tex}\\right)"
    raise AssertionError(kind)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])  # fmt: skip
@given(
    st.sampled_from(RIGHT),
    st.sampled_from(["region", "region-plus", "constant", "transpose", "tiny"]),
    st.sampled_from([3.0, 10.0, 50.0, 1000.0]),
    st.integers(1, 9),
)
def test_a_wrong_claim_made_from_a_right_one_is_never_right(right, kind, threshold, factor):
    net, claim = right
    wrong = mutate(net, claim, kind, threshold, factor)
    if wrong is None:
        return
    got, message = verdict(net, wrong)
    assert got not in ("correct", "almost-everywhere"), f"{wrong}\n{got}: {message}"


def test_the_right_claims_are_right():
    """The family's starting points: each judged correct (else the test above proves nothing)."""
    for net, claim in RIGHT:
        assert verdict(net, claim)[0] == "correct", claim
