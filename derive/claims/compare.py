"""Are two matrix expressions of a network the same function? Everywhere, almost everywhere, or not.

1. **Numerically**, in float64 through the compiled code, at several random points (inputs drawn
   as the numeric proof draws them: one-hot labels, masks) and at two sets of sizes, the second
   all different, so that a formula right only when two sizes coincide (h = c) is caught. The
   first point where the sides differ beyond rounding is the counterexample.
2. Where they agree and every quantity is a scalar (identities in scalar symbols), **exactly**:
   SymPy simplifies the difference of the two sides to zero, or the random points decide.
3. Where they agree and an element-wise function with a kink (ReLU, |.|, sign, a step, max) is
   involved, **exactly at the kinks**: both sides expanded to scalars at size one, the kinked
   functions written out (Heaviside, Abs, ...), and evaluated, in exact rationals and 30-digit
   floats, at points where the argument of a kink is exactly zero. Sides that agree at random
   points but not there agree *almost everywhere* (1[s >= 0] for ReLU's derivative 1[s > 0]).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp

from derive.compile import compile_expressions, size_names
from derive.errors import DeriveError
from derive.expand import Expander
from derive.expr import Expr, m
from derive.graph import Network
from derive.numeric import random_values
from derive.ops.elementwise import _OPAQUE

POINTS = 4  # random points per set of sizes
RTOL, ATOL = 1e-8, 1e-10
KINKS = (sp.Heaviside, sp.Abs, sp.sign, sp.Max, sp.Min, sp.Piecewise)
KINK_POINTS = 6


@dataclass(frozen=True)
class Comparison:
    verdict: str  # "equal" | "almost-everywhere" | "different" | "undecided"
    point: dict[str, np.ndarray] | None = None  # where they differ (internal layout)
    sizes: dict[str, int] | None = None
    correct: np.ndarray | None = None
    claimed: np.ndarray | None = None
    exact: bool = False  # equal, and proved so by SymPy (not only at the random points)


def size_sets(net: Network) -> list[dict]:
    """The network's small sizes with a batch of 3, and sizes that all differ (2, 3, 4, ...
    in declaration order) with a batch of 2: a formula that mixes up two sizes which happen to
    be equal in the first set (h = c = 3 in the MLP) fails in the second."""
    first = {**net.dims, m: 3}
    second = {**{d: 2 + k for k, d in enumerate(net.dims)}, m: 2}
    return [first, second]


def compare(net: Network, correct: Expr, claimed: Expr, seed: int = 0) -> Comparison:
    if correct.shape != claimed.shape:
        raise DeriveError("the two sides have different shapes")  # callers check this first
    fn = compile_expressions(net, {"a": correct, "b": claimed})
    rng = np.random.default_rng(seed)
    agreed = 0
    for sizes in size_sets(net):
        names = size_names(sizes)
        for _ in range(POINTS):
            values = random_values(net, sizes, rng)
            with np.errstate(all="ignore"):
                out = fn(values, names)
            # a side that simplified to zero (u - u) compiles to the scalar 0
            a, b = np.broadcast_arrays(np.asarray(out["a"], dtype=float),
                                       np.asarray(out["b"], dtype=float))  # fmt: skip
            if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
                if np.array_equal(np.isfinite(a), np.isfinite(b)):
                    continue  # both blow up at this point: try another
                return Comparison("different", values, names, a, np.asarray(b))
            if not np.allclose(a, b, rtol=RTOL, atol=ATOL * max(1.0, float(np.abs(a).max()))):
                return Comparison("different", values, names, a, np.asarray(b))
            agreed += 1
    if agreed == 0:
        return Comparison("undecided")
    if kinked(net, correct) or kinked(net, claimed):
        point = differs_at_a_kink(net, correct, claimed, seed)
        if point is not None:
            return Comparison("almost-everywhere", point)
    return Comparison("equal", exact=proved_equal(net, correct, claimed))


MAX_OPS = 300  # beyond this, simplify may take seconds: the random points decide


def proved_equal(net: Network, a: Expr, b: Expr) -> bool:
    """SymPy proves a = b, where size one is the general case: every quantity a scalar (the
    identities of a claims file's scalar symbols). Elsewhere a proof at some sizes proves
    nothing general, and the random points decide."""
    from derive.expr import leaves

    used = {leaf.q for e in (a, b) for leaf in leaves(e)}
    if any(q.kind == "node" or q.batched or any(s != 1 for s in q.shape) for q in used):
        return False
    try:
        diff = sp.Matrix(explicit(net, a) - explicit(net, b))
        if any(sp.count_ops(x) > MAX_OPS for x in diff):
            return False
        return all(sp.simplify(x) == 0 or sp.simplify(x.rewrite(sp.exp)) == 0 for x in diff)
    except (DeriveError, ValueError, TypeError, NotImplementedError):
        return False


# --- at the kinks -------------------------------------------------------------------------
def kinked(net: Network, e: Expr) -> bool:
    """Does ``e`` (or a node it reads) apply an element-wise function with a kink?"""
    from derive.expr import Leaf
    from derive.ops.elementwise import Apply

    seen: set = set()
    todo = [e]
    while todo:
        x = todo.pop()
        if x in seen:
            continue
        seen.add(x)
        if isinstance(x, Apply) and x.fn.expr.has(*KINKS):
            return True
        if isinstance(x, Leaf) and x.q.definition is not None:
            todo.append(x.q.definition)
        todo.extend(x.children)
    return False


def explicit(net: Network, e: Expr) -> sp.Matrix:
    """``e`` at size one (every dim 1, one sample), its element-wise functions written out."""
    sizes = {**{d: 1 for d in net.dims}, m: 1}
    mat = Expander(net, sizes).value(e, 0 if e.batched else None)
    reverse = {cls: fn for fn, cls in _OPAQUE.items()}

    def written_out(x):
        fn = reverse[type(x)]
        from derive.ops.elementwise import S

        return fn.expr.subs(S, x.args[0])

    mat = mat.replace(lambda x: type(x) in reverse, written_out)
    # the step as the course writes ReLU's derivative, 1[s > 0]: 0 at 0 (SymPy's H(0) is 1/2)
    return mat.replace(lambda x: isinstance(x, sp.Heaviside), lambda x: sp.Heaviside(x.args[0], 0))


def differs_at_a_kink(net: Network, correct: Expr, claimed: Expr, seed: int) -> dict | None:
    """A point (symbol -> value) where an argument of a kink is zero and the sides differ."""
    try:
        diff = sp.Matrix(explicit(net, correct) - explicit(net, claimed))
    except (DeriveError, ValueError, TypeError, NotImplementedError):
        return None
    args = {a for x in diff for k in KINKS for a in _kink_arguments(x, k)}
    symbols = sorted(diff.free_symbols, key=str)
    rand = random.Random(seed)
    for arg in sorted(args, key=str):
        for v in sorted(arg.free_symbols, key=str):
            if not (arg.is_polynomial(v) and sp.degree(arg, v) == 1):
                continue  # solve arg = 0 for a variable it is linear in
            for _ in range(KINK_POINTS):
                point = {s: sp.Rational(Fraction(rand.randint(-20, 20), rand.randint(1, 7)))
                         for s in symbols if s != v}  # fmt: skip
                solved = sp.solve(sp.Eq(arg.subs(point), 0), v)
                if len(solved) != 1:
                    continue
                point[v] = solved[0]
                gap = diff.subs(point)
                if any(_nonzero(g) for g in gap):
                    return {str(k): float(val) for k, val in point.items()}
            break
    return None


def _kink_arguments(x: sp.Expr, kind) -> list[sp.Expr]:
    found = []
    for f in x.atoms(kind):
        if kind is sp.Piecewise:
            for _, cond in f.args:
                if isinstance(cond, sp.core.relational.Relational):
                    found.append(cond.lhs - cond.rhs)
        elif kind in (sp.Max, sp.Min):
            args = list(f.args)
            found += [a - b for a, b in zip(args, args[1:])]
        else:
            found.append(f.args[0])
    return found


def _nonzero(g: sp.Expr) -> bool:
    value = sp.N(g, 30)
    return value.is_number and bool(value.is_finite) and abs(value) > sp.Float("1e-20")
