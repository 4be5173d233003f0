"""Wrong claims made from right ones are never judged right (issue 11): a property-based test.

Every right claim of tests/test_verdicts.py (each a theorem, checked by hand) is broken in a way
that makes it wrong by construction, and the checker must not say "correct" nor "almost
everywhere":

- a term that vanishes on a region: the right-hand side times (1 + 1[v > t]) or plus
  k 1[v > t] (v a scalar of the claim: a scalar symbol, the loss), t from 3 to 1000;
- a constant changed: the right-hand side times a number other than 1;
- a transpose swapped: the right-hand side of a gradient of the loss transposed (a shape that
  no longer fits, or a square matrix that is not symmetric);
- a tiny term: plus 10^{-k} times a term that does not vanish;
- an index moved across sums: in a sum over the samples of a product L^i R^i, the factor R
  read at the inner index of a new mean, L^i (1/m sum_j R^j): the sum over i then misses the
  covariance of L and R over the batch, which for these networks is not identically zero.

`bench/bench_verdicts.py` runs the same family at scale (3,000 claims).
"""

from __future__ import annotations

from dataclasses import fields, replace

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


def _reindexed(node, old: str, new: str):
    """The tree with the sample index ``old`` read as ``new`` (x^i, x^{(i)})."""
    if isinstance(node, ast.Sup) and node.exponent == ast.Name(old):
        return replace(node, base=_reindexed(node.base, old, new), exponent=ast.Name(new))
    if isinstance(node, ast.Name) and node.label == old:
        return replace(node, label=new)
    return ast.map_children(node, lambda child: _reindexed(child, old, new))


def _moved_index(node, j: str = "l"):
    """The first sum over i of a product whose two factors both read sample i, its right factor
    moved to a mean over j (a letter the claim does not use); None when there is no such sum."""
    if isinstance(node, ast.Sum) and node.index == "i" and isinstance(node.body, ast.BinOp) and (
            node.body.op in ("*", "hadamard")):  # fmt: skip
        left, right = node.body.left, node.body.right
        moved = _reindexed(right, "i", j)
        if moved != right and _reindexed(left, "i", j) != left:
            mean = ast.BinOp("/", ast.Sum(j, ast.Number("1"), ast.Name("m"), moved), ast.Name("m"))
            return replace(node, body=replace(node.body, right=mean))
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, ast.Node):
            found = _moved_index(value, j)
            if found is not None:
                return replace(node, **{f.name: found})
    return None


def mutate(net, claim: str, kind: str, threshold: float, factor: int) -> str | None:
    tree = parse_claim(claim, frozenset({"S"}))
    lhs, rhs = tree.sides[0], tree.sides[-1]
    rhs_tex = to_latex(rhs)
    v = scalar_of(net, tree)
    if kind == "region":
        if v is None:
            return None
        region = f"\\mathbb{{1}}\\left[{v} > {threshold:g}\\right]"
        return f"{to_latex(lhs)} = \\left(1 + {region}\\right) \\left({rhs_tex}\\right)"
    if kind == "region-plus":
        if v is None or net is not None:
            return None
        region = f"\\mathbb{{1}}\\left[{v} > {threshold:g}\\right]"
        return f"{to_latex(lhs)} = {rhs_tex} + {factor} {region}"
    if kind == "constant":
        return f"{to_latex(lhs)} = \\frac{{{factor + 1}}}{{{factor}}} \\left({rhs_tex}\\right)"
    if kind == "transpose":  # of a gradient that is no number (an entry's transpose is itself)
        if net is None or not isinstance(lhs, ast.Derivative) or isinstance(lhs.var, ast.Component):
            return None
        return f"{to_latex(lhs)} = \\left({rhs_tex}\\right)^T"
    if kind == "index":
        used = {n.base for n in _names(tree)} | {c for n in _names(tree) for c in n.sub or ""}
        fresh = next(c for c in "ljkrq" if c not in used)
        moved = _moved_index(rhs, fresh)
        return None if moved is None else f"{to_latex(lhs)} = {to_latex(moved)}"
    if kind == "tiny":
        if v is None:
            return None
        return f"{to_latex(lhs)} = \\left(1 + 10^{{-{factor + 8}}}\\right) \\left({rhs_tex}\\right)"
    raise AssertionError(kind)


@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])  # fmt: skip
@given(
    st.sampled_from(RIGHT),
    st.sampled_from(["region", "region-plus", "constant", "transpose", "tiny", "index"]),
    st.sampled_from([3.0, 10.0, 50.0, 1000.0]),
    st.integers(1, 9),
)
def test_a_wrong_claim_made_from_a_right_one_is_never_right(right, kind, threshold, factor):
    net, claim = right
    wrong = mutate(net, claim, kind, threshold, factor)
    if wrong is None:
        return
    got, message = verdict(net, wrong)
    # the points come from this process's secret: say it, so that a failure can be replayed
    from derive.claims.check import _PROCESS_SECRET

    secret = _PROCESS_SECRET.hex()
    assert got not in ("correct", "almost-everywhere"), f"{wrong}\n{got}: {message}\n{secret}"


def test_indices_moved_across_sums_are_wrong():
    """Every right claim with a sum of a product over the samples, its index moved."""
    moved = [(net, mutate(net, claim, "index", 0, 0)) for net, claim in RIGHT]
    moved = [(net, wrong) for net, wrong in moved if wrong is not None]
    assert len(moved) >= 4, moved
    for net, wrong in moved:
        got, message = verdict(net, wrong)
        assert got == "incorrect", f"{wrong}\n{got}: {message}"


def test_the_right_claims_are_right():
    """The family's starting points: each judged correct (else the test above proves nothing)."""
    for net, claim in RIGHT:
        assert verdict(net, claim)[0] == "correct", claim


def test_a_tiny_factor_on_entries_is_wrong_whatever_the_seed():
    """(1 + 10^{-9}) on an entry claim of the MLP: float64 cannot tell, so high precision decides.
    With some secrets every ReLU was off at the high-precision points of size 2 and the points
    of size 3 had more index values (3 x 3) than were checked, so it passed (2 of 40 secrets)."""
    from test_verdicts import checker

    from derive.claims.claimfile import ClaimEntry

    claim = (
        r"\frac{\partial J}{\partial \left(W_{2}\right)_{kj}} = \left(1 + 10^{-9}\right) "
        r"\left(\frac{1}{m} \sum_{i=1}^{m} \left(p_{k}^{i} - y_{k}^{i}\right) h_{j}^{i}\right)"
    )
    c = checker("mlp")
    for secret in (30, 31, 0, 1):
        c.secret = secret.to_bytes(16, "big")
        got = c.check(ClaimEntry("q", claim))
        assert got.verdict == "incorrect", (secret, got.message)


def test_a_region_past_where_float64_reaches_is_found_whatever_the_seed():
    """The right side times (1 + 1[J > 1000]) on the MLP: where J > 1000, p underflows in float64
    and the indicator reads 0, so only 50-digit rays find the region. Along one ray it was missed
    (judged correct) under about 6% of secrets: every ReLU dead, so J never passed 1000, or two
    samples' errors cancelling exactly where it did. These are the secrets that fooled it."""
    from test_verdicts import checker

    from derive.claims.claimfile import ClaimEntry

    region = r"\left(1 + \mathbb{1}\left[J > 1000\right]\right)"
    j = (rf"J = {region} \left(-\left(\frac{{1}}{{m}} \sum_{{i=1}}^{{m}} \sum_{{k=1}}^{{C}} "
         r"y_{k}^{i} \log\left(p_{k}^{i}\right)\right)\right)")  # fmt: skip
    s2 = (r"\frac{\partial J}{\partial s_{2}^{i}} + \frac{1}{m} \sum_{j=1, j \neq i}^{m} "
          rf"\left(p^{{j}} - y^{{j}}\right) = {region} \left(\frac{{1}}{{m}} \sum_{{j=1}}^{{m}} "
          r"\left(p^{j} - y^{j}\right)\right)")  # fmt: skip
    mean = (r"\frac{1}{m^{2}} \sum_{i=1}^{m} \sum_{j=1}^{m} p^{j} \left(x^{i}\right)^{T} = "
            rf"{region} \left(\left(\frac{{1}}{{m}} \sum_{{j=1}}^{{m}} p^{{j}}\right) "
            r"\left(\frac{1}{m} \sum_{i=1}^{m} x^{i}\right)^{T}\right)")  # fmt: skip
    c = checker("mlp")
    for secret, claim in [("9e883bf1699f95a61f87fba98c2ecde9", j),
                          ("9e883bf1699f95a61f87fba98c2ecde9", s2),
                          ("43ca02adbf2105b75300fca9e4157554", s2),
                          ("e1511a9300259c779d0451d343aecd90", mean)]:  # fmt: skip
        c.secret = bytes.fromhex(secret)
        got = c.check(ClaimEntry("q", claim))
        assert got.verdict == "incorrect", (secret, claim, got.message)
