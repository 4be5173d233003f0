"""Are the two sides of a claim the same? Everywhere, almost everywhere, or not; and where not.

How a verdict is reached (the README repeats this):

1. **Random points.** Both sides are evaluated (:mod:`derive.claims.evaluate`) in float64 at
   random points of two size sets (the network's small sizes with a batch of 3; then every size
   different, 2, 3, 4, ..., with a batch of 2, so a formula right only when two sizes coincide
   fails), at several scales (inputs and parameters times 1, 0.1, 10 and 100), for every value
   of the indices free on the left. The points come from a seed the student cannot know (drawn
   afresh, or from the assignment's secret and the claim). The first point where the sides
   differ beyond rounding is the counterexample.
2. **Conditions.** Every indicator, case, kink (|.|, max, sign, a step, ReLU) of either side is
   probed on both sides of its boundary: at size one, SymPy solves the condition's argument = 0
   for a variable, and the sides are compared just inside, just outside and far out. So a term
   that vanishes where the random points fall (1000 1[x > 10]) is found.
3. **Exactly, or in high precision.** Where the sides agree and every quantity is a number (an
   identity in scalar symbols), SymPy proves it (the difference simplifies to 0); failing a
   proof, the sides are compared at random rationals in 50-digit arithmetic (mpmath), so
   e^{e^{x^2+3}} + 1 is not e^{e^{x^2+3}} however float64 rounds.
4. **Kinks.** Where an element-wise function with a kink is involved, the sides are compared
   exactly (rationals, 30 digits) at points on the kink: sides that agree everywhere else agree
   *almost everywhere* (1[s >= 0] for ReLU's derivative 1[s > 0]).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np
import sympy as sp

from derive.claims import ast
from derive.claims.evaluate import Evaluator, Meaning, NeedIndex, OffSizes
from derive.claims.meaning import InvalidClaim, key_of
from derive.claims.points import Compiled, FloatPoint, SymPoint, random_point
from derive.claims.points import sym_point as shared_sym_point
from derive.errors import DeriveError
from derive.expr import m, sym
from derive.graph import Network

SCALES = (1.0, 1.0, 1.0, 0.1, 10.0, 100.0)  # of the random points of each size set
RTOL, ATOL = 1e-8, 1e-10
MP_DIGITS = 50
MP_POINTS = 3
MAX_ENVS = 400  # assignments of free indices at one point
MAX_OPS = 300  # beyond this, simplify may take seconds: the high-precision points decide
PROOF_SECONDS = 3.0  # of SymPy's simplify; past it, the high-precision points decide
#: the same for a difference with cases, steps or |.| (Huber's loss): SymPy's simplification of
#: piecewise conditions rarely proves one, and slowly; the digits decide as soundly
PIECEWISE_PROOF_SECONDS = 1.0


@dataclass(frozen=True)
class Comparison:
    verdict: str  # "equal" | "almost-everywhere" | "different" | "undecided"
    point: dict | None = None  # where they differ: name -> value (the caller's names)
    env: dict | None = None  # the indices there
    left: np.ndarray | None = None
    right: np.ndarray | None = None
    how: str = ""  # "exactly", "at high precision", "at random points"


class Side:
    """One side of a claim: its value at a point, for an assignment of indices."""

    def value(self, point, env: dict):
        raise NotImplementedError

    def conditions(self) -> list[ast.Node]:
        return []


@dataclass
class Tree(Side):
    """A side as written: its tree, and what its names mean."""

    node: ast.Node
    meaning: Meaning
    like: Side | None = None  # the other side: the shape of a lone I or 1 (d x / d x = I)

    def value(self, point, env: dict):
        ev = Evaluator(self.meaning, point)
        if self.like is None:
            return ev.value(self.node, env)
        return ev.value(self.node, env, like=lambda: self.like.value(point, env).shape)

    def conditions(self) -> list[ast.Node]:
        return conditions_of(self.node)


@dataclass
class Formula(Side):
    """A side that is one of derive's own expressions (a slip applied to the right formula):
    per sample ``letter`` when it reads per-sample quantities."""

    expr: object
    letter: str | None
    compiled: dict = field(default_factory=dict)

    def value(self, point, env: dict):
        from derive.compile import compile_expressions, size_names

        sample = None
        if self.expr.batched:
            if self.letter not in env:
                raise NeedIndex(self.letter, "sample", point.m)
            sample = env[self.letter]
        if isinstance(point, SymPoint):
            return point._finish(point.expander.value(self.expr, sample))
        fn = self.compiled.get("fn")
        if fn is None:
            fn = self.compiled["fn"] = compile_expressions(point.net, {"v": self.expr})
        with np.errstate(all="ignore"):
            out = np.asarray(fn(point.values, size_names(point.sizes))["v"], dtype=float)
        rows, cols = (point.size(d) for d in self.expr.shape)
        if sample is not None:
            out = out[sample]
        return np.broadcast_to(out.reshape(-1) if out.size == rows * cols else out,
                               (rows * cols,)).reshape(rows, cols)  # fmt: skip


@dataclass
class Setting:  # noqa: B903
    """Where a claim is decided: the network (compiled once), its derivation, the seed."""

    net: Network
    compiled: Compiled
    derivation: object = None
    seed: int = 0
    scalar_symbols: bool = False  # every quantity a number: decide exactly / in high precision
    broken_down: list = field(default_factory=list)  # conditions float64 cannot follow far out
    fixed: dict = field(default_factory=dict)  # sizes every point must have (see sized)
    minimum: int = 0  # the smallest size of a dimension (0: any)


def compare_formulas(net: Network, a, b, derivation=None, seed: int = 0) -> Comparison:
    """Two of derive's own expressions of ``net`` (per sample i where they read per-sample
    quantities), decided as claims are."""
    setting = Setting(net, Compiled(net, derivation), derivation, seed)
    return decide(Formula(a, "i"), Formula(b, "i"), setting)


def seed_of(secret: bytes, text: str) -> int:
    """The seed of a claim's points: from a secret the student cannot know and the claim."""
    return int.from_bytes(hashlib.sha256(secret + text.encode("utf-8", "replace")).digest()[:8],
                          "big")  # fmt: skip


def size_sets(where) -> list[dict]:
    """The two sets of sizes random points are drawn at (of a Setting, or a Network)."""
    net = where.net if isinstance(where, Setting) else where
    first = {**net.dims, m: 3}
    second = {**{d: 2 + k for k, d in enumerate(net.dims)}, m: 2}
    # every size other than in the first set, so that no formula right at one size only
    # (the softmax of two entries as a sigmoid) passes
    second = {d: (v + 1 if d != m and v == first.get(d) else v) for d, v in second.items()}
    if isinstance(where, Setting):
        return list({repr(x): x for x in (sized(where, first), sized(where, second))}.values())
    return [first, second]


def sized(setting: Setting, sizes: dict) -> dict:
    """``sizes`` as the claim allows: the network's own sizes where it names an entry
    (w_5: 'W1[1,3]' is an entry at those only), one sample in a hand calculation with one,
    every size at least 2 under a condition i != j (which one entry cannot meet)."""
    out = {**sizes, **setting.fixed}
    if setting.minimum:
        out = {d: (max(v, setting.minimum) if d != m else v) for d, v in out.items()}
    return out


# --- the free indices -------------------------------------------------------------------------
def environments(side: Side, point, limit: int = MAX_ENVS) -> list[dict]:
    """Every assignment of the indices free in ``side`` (its left-hand side): found as they are
    met (see :class:`NeedIndex`)."""
    envs = [env for env, _ in valued_environments(side, point, limit)]
    if not envs:  # at these sizes no indices meet the claim's condition (i != j of one entry)
        raise ValueError("no assignment of the indices meets the claim's condition here")
    return envs


def valued_environments(side: Side, point, limit: int = MAX_ENVS) -> list[tuple[dict, object]]:
    """:func:`environments`, each with the side's value there (computed on the way)."""
    done: list = []
    todo: list[dict] = [{}]
    while todo:
        env = todo.pop()
        try:
            with np.errstate(all="ignore"):
                value = side.value(point, env)
        except NeedIndex as need:
            if need.letter in env:
                raise InvalidClaim(f"the index {need.letter} is bound twice") from None
            todo += [{**env, need.letter: k} for k in range(need.size)]
            if len(done) + len(todo) > limit:
                raise InvalidClaim("too many values of the free indices to check") from None
            continue
        if _holds(side, env):
            done.append((env, value))
    return done


def _holds(side: Side, env: dict) -> bool:
    """Whether the indices meet the condition the claim is stated under (``i \\neq j`` in
    the prose before it): a claim for i = j only is judged at i = j only."""
    where = getattr(getattr(side, "meaning", None), "where", None)
    if not where:
        return True
    a, op, b = where
    if a not in env or b not in env:
        return True
    return (env[a] == env[b]) == (op == "=")


def both(lhs: Side, rhs: Side, point, env: dict, a=None):
    if a is None:
        a = lhs.value(point, env)
    try:
        b = rhs.value(point, env)
    except NeedIndex as need:
        what = "a sample index" if need.kind == "sample" else "an index"
        raise InvalidClaim(
            f"the right-hand side uses {what} {need.letter} that is bound by no sum and not by "
            "the left-hand side"
        ) from None
    shape = getattr(a, "shape", ())
    if zero_written(rhs) and len(shape) == 2 and shape != (1, 1):
        b = np.zeros(shape, dtype=object) + b.reshape(-1)[0]  # 0 for a zero vector or matrix
    return a, b


def zero_written(side: Side) -> bool:
    r"""The side is the number 0 as written (0, \mathbf{0}): the zero of whatever shape the
    other side has, as a course writes dJ/db_1 = 0. Only as written: an expression that merely
    comes out 1 x 1 keeps its shape, so a missing factor is still a shape error."""
    return isinstance(side, Tree) and isinstance(side.node, ast.Number) and (
        side.node.fraction() == 0)  # fmt: skip


# --- deciding ---------------------------------------------------------------------------------
def decide(lhs: Side, rhs: Side, setting: Setting, quick: bool = False) -> Comparison:
    """``quick``: random points only (to try a candidate slip or a repair)."""
    rng = np.random.default_rng(setting.seed)
    agreed = 0
    suspects: list[Comparison] = []  # points where a side is not finite in float64
    for sizes in size_sets(setting):
        for scale in SCALES[:3] if quick else SCALES:
            point = random_point(setting.compiled, sizes, rng, scale)
            try:
                outcome = _at(lhs, rhs, point)
            except OffSizes:  # an entry of the network's own sizes, at others
                continue
            if outcome is None:
                continue
            if outcome.verdict == "nonfinite":
                suspects.append(outcome)
                continue
            if outcome.verdict == "different":
                return outcome
            agreed += 1
    if quick and suspects:  # trying a repair: one that needs 50 digits is no candidate
        return replace(suspects[0], verdict="different")
    confirmed = _confirmed(lhs, rhs, setting, suspects)
    if confirmed is not None:
        return confirmed
    if agreed == 0:
        return Comparison("undecided")
    if quick:
        return Comparison("equal", how="at random points")
    for point in boundary_points(lhs, rhs, setting, rng):
        try:
            outcome = _at(lhs, rhs, point)
        except (InvalidClaim, ValueError, FloatingPointError):
            continue
        if outcome is None:
            continue
        if outcome.verdict == "different" or outcome.verdict == "nonfinite" and (
                _confirmed(lhs, rhs, setting, [outcome]) is not None):  # fmt: skip
            return replace(outcome, verdict="different")
    exact = _decide_scalars(lhs, rhs, setting) if setting.scalar_symbols else None
    if exact is not None and (exact.verdict == "different" or exact.how == "proved exactly"):
        return exact
    if exact is None and (_extreme_constants(lhs) or _extreme_constants(rhs)):
        digits = _in_high_precision(lhs, rhs, setting)  # (1 + 10^{-9}) x passes float64
        if digits is not None:
            return digits
    if exact is None:
        far = far_in_high_precision(lhs, rhs, setting)
        if far is not None:
            return far
    kink = _at_a_kink(lhs, rhs, setting)
    if kink is not None:
        return kink
    return exact or Comparison("equal", how="at random points, at two sets of sizes")


EXTREME = (1e-3, 1e3)  # a constant smaller or larger makes float64 closeness meaningless
EXTREME_TERMS = 10**6  # a fraction with a longer numerator or denominator is as fine-grained
MAX_MP_DIGITS = 3000  # the most digits a point is computed with
MP_NETWORK_POINTS = 4  # random points of a network checked in high precision (sizes 2 and 3)
MP_NETWORK_DRAWS = 12  # the most points drawn to find those where the sides are not all zero
MP_ENVIRONMENTS = 27  # index values checked at a point: every (k, j, l) at size 3


def _extreme_constants(side: Side) -> bool:
    """Does the side hold a constant (a part without any name) smaller than 1e-3 or larger
    than 1e3 in size, such as 10^{-9}, e^{-30}, \\sigma(-40), 1/10^6? Only through such a
    constant can two sides differ by less than float64 resolves."""
    if not isinstance(side, Tree):
        return False
    from derive.claims.points import _Point

    class _NoNames(_Point):  # a point with no quantities: a constant evaluates, a name fails
        def __init__(self):
            self.m, self.sizes, self._names = 1, {}, {}

    ev = Evaluator(Meaning(names={}), _NoNames())

    def walk(node: ast.Node) -> bool:
        if not any(isinstance(n, ast.Name | ast.Ones | ast.Derivative) for n in _nodes(node)):
            if isinstance(node, ast.Number):
                exact = node.fraction()
                value = abs(float(exact))
                # 1 + 10^{-9} may arrive as the one number 1000000001/10^9
                fine = max(abs(exact.numerator), exact.denominator) > EXTREME_TERMS
                return fine or (value != 0 and not EXTREME[0] <= value <= EXTREME[1])
            try:
                with np.errstate(all="ignore"):
                    value = np.abs(np.asarray(ev.value(node, {}), dtype=float))
            except (DeriveError, NeedIndex, ValueError, TypeError, ZeroDivisionError,
                    OverflowError, AttributeError):  # fmt: skip
                return True  # cannot tell: check in high precision
            nonzero = value[value != 0]
            if nonzero.size and bool(
                (nonzero < EXTREME[0]).any() or (nonzero > EXTREME[1]).any() or
                not np.isfinite(nonzero).all()):  # fmt: skip
                return True
        return any(walk(child) for child in node.children)  # 10^{-9} inside 1 + 10^{-9}

    return walk(side.node)


def _nodes(node: ast.Node) -> Iterator[ast.Node]:
    yield node
    for child in node.children:
        yield from _nodes(child)


def _in_high_precision(lhs: Side, rhs: Side, setting: Setting) -> Comparison | None:
    """Both sides at one point in 50-digit arithmetic, at small sizes (every dim 2, a batch of
    2): different where they differ beyond the digits; None when they agree (or cannot be
    evaluated so)."""
    net = setting.net
    rng = np.random.default_rng(setting.seed ^ 0xD161)
    # several points: at one, every value may be 0 (every ReLU off), which shows nothing; such
    # a point does not count, another is drawn
    informative = 0
    for k in range(MP_NETWORK_DRAWS):
        if informative == MP_NETWORK_POINTS:
            break
        sizes = sized(setting, {**{d: 2 + k % 2 for d in net.dims}, m: 2})
        try:
            float_point = random_point(setting.compiled, sizes, rng)
            mp_point = in_digits(setting, float_point)
            mpmath = mp_point.backend.mpmath
            nonzero = False
            with mpmath.workdps(MP_DIGITS):
                for env in environments(lhs, mp_point, limit=MP_ENVIRONMENTS):
                    a, b = both(lhs, rhs, mp_point, env)
                    for x, y in zip(a.reshape(-1), b.reshape(-1)):
                        nonzero = nonzero or x != 0 or y != 0
                        if _beyond_digits(mpmath, x, y):
                            return Comparison("different", _where(float_point), env,
                                              np.asarray(a.tolist(), dtype=float),
                                              np.asarray(b.tolist(), dtype=float),
                                              how="at high precision")  # fmt: skip
            informative += nonzero
        except (DeriveError, NeedIndex, ValueError, TypeError, ZeroDivisionError, OverflowError):
            continue
    return None


def _at(lhs: Side, rhs: Side, point) -> Comparison | None:
    """The sides at one point (every assignment of the free indices): different, equal,
    "nonfinite" (a side is not finite at some indices, to be looked at in 50 digits), or None
    when nothing was compared there (no indices meet the claim's condition; every one on the
    boundary of the student's own cases)."""
    envs = valued_environments(lhs, point)
    compared, suspect = 0, None
    for env, a in envs:
        with np.errstate(all="ignore"):
            a, b = both(lhs, rhs, point, env, a)
        if a.shape != b.shape:
            raise ShapesDiffer(point.shape_text(a.shape), point.shape_text(b.shape), a.shape,
                               b.shape)  # fmt: skip
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        finite_a, finite_b = np.isfinite(a), np.isfinite(b)
        if not (finite_a.all() and finite_b.all()):
            if finite_a.all() and np.isnan(b).any() and on_boundary(rhs, point, env):
                # a point on the boundary of the right side's own cases, which leave it out
                # (x < 1 and x > 1 at x = 1): a set of measure zero, no evidence either way
                continue
            both_finite = finite_a & finite_b
            if both_finite.any() and not np.allclose(a[both_finite], b[both_finite], rtol=RTOL,
                                                     atol=ATOL * max(1.0, float(np.abs(
                                                         a[both_finite]).max()))):  # fmt: skip
                return Comparison("different", _where(point), env, a, b)
            # a side breaks down here: at the digits of float64 perhaps (0/0 where p
            # underflows, e^{cx} overflowing in a softmax written out), or for good (log 0)
            suspect = suspect or Comparison("nonfinite", _where(point), env, a, b)
            continue
        compared += 1
        if not np.allclose(a, b, rtol=RTOL, atol=ATOL * max(1.0, float(np.abs(a).max()))):
            return Comparison("different", _where(point), env, a, b)
    if suspect is not None:
        return suspect
    return Comparison("equal") if compared else None


MAX_SUSPECTS = 4  # points where a side is not finite in float64, looked at in 50 digits


def _confirmed(lhs: Side, rhs: Side, setting: Setting, suspects: list) -> Comparison | None:
    """The first of the suspect points where the sides differ in 50-digit arithmetic too."""
    for outcome in suspects[:MAX_SUSPECTS]:
        if _nonfinite_confirmed(lhs, rhs, setting, outcome):
            return replace(outcome, verdict="different")
    return None


def in_digits(setting: Setting, point: FloatPoint):
    """The float64 point ``point`` as an exact point in 50-digit arithmetic."""
    from derive.claims.points import MpPoint, rational_point

    sym_point = shared_sym_point(setting.net, point.sizes, setting.derivation)
    at = rational_point(point, sym_point)
    return MpPoint(setting.net, point.sizes, at, setting.derivation, MP_DIGITS)


def _beyond_digits(mpmath, x, y) -> bool:
    """Whether two 50-digit values differ by more than their last 15 digits can blur."""
    return abs(x - y) > max(abs(x), abs(y), 1) * mpmath.mpf(10) ** (-(MP_DIGITS - 15))


def _nonfinite_confirmed(lhs: Side, rhs: Side, setting: Setting, outcome) -> bool:
    """Whether the sides, one of them not finite at a float64 point, differ there in 50-digit
    arithmetic too (one side undefined there and the other not, or two different numbers)
    rather than overflowing (inf / inf). Where both are undefined, they do not differ."""
    try:
        mp_point = in_digits(setting, outcome.point["__point__"])
        mpmath = mp_point.backend.mpmath
        with mpmath.workdps(MP_DIGITS):
            for env in environments(lhs, mp_point, limit=MP_ENVIRONMENTS):
                a, b = both(lhs, rhs, mp_point, env)
                for x, y in zip(a.reshape(-1), b.reshape(-1)):
                    fx, fy = mpmath.isfinite(x), mpmath.isfinite(y)
                    if fx != fy:
                        return True
                    if fx and _beyond_digits(mpmath, x, y):
                        return True
    except (DeriveError, NeedIndex, ValueError, TypeError, ZeroDivisionError, OverflowError,
            AttributeError, KeyError):  # fmt: skip
        return True  # cannot be looked at more closely: the float64 evidence stands
    return False


def on_boundary(side: Side, point, env: dict) -> bool:
    """Whether the point lies exactly on the boundary of one of the side's conditions (the
    argument of a step, |.|, max, or a condition of its cases is 0 there)."""
    if not isinstance(side, Tree):
        return False
    for cond in side.conditions()[:16]:
        if not _varies(cond, side.meaning):
            continue  # |0|, or a condition on a label (1[y^i = 1]): no boundary a point is on
        value = _float(Tree(cond, side.meaning), point, env)
        if value.size and (value == 0).any():
            return True
    return False


def _varies(cond: ast.Node, meaning: Meaning) -> bool:
    """Whether a condition reads a quantity that varies continuously (not only numbers, one-hot
    labels and sizes)."""
    for node in _nodes(cond):
        if isinstance(node, ast.Name):
            q = meaning.names.get(key_of(node)) or meaning.names.get(
                key_of(ast.Name(node.base, None, node.accents, node.label)))  # fmt: skip
            if q is not None and q.content != "onehot":
                return True
            if q is None and node.base not in ("m",) and node.base not in meaning.dims:
                return True  # an alias, an index: take it as varying
    return False


class ShapesDiffer(InvalidClaim):
    def __init__(self, left: str, right: str, a_shape, b_shape):
        hint = ": a missing transpose?" if tuple(a_shape) == tuple(b_shape)[::-1] else ""
        super().__init__(f"the left side is {left}, the right side {right}{hint}")


def _where(point: FloatPoint) -> dict:
    return {"__point__": point}


# --- conditions, probed on both sides of their boundaries ---------------------------------------
def conditions_of(node: ast.Node) -> list[ast.Node]:
    """The arguments whose sign decides a branch: of indicators (left - right), max/min,
    |.|, sign, steps, ReLU."""
    found: list[ast.Node] = []
    if isinstance(node, ast.Indicator):
        c = node.condition
        found.append(ast.BinOp("-", c.left, c.right))
    elif isinstance(node, ast.Call):
        if node.fn in ("max", "min") and len(node.args) == 2:
            found.append(ast.BinOp("-", node.args[0], node.args[1]))
        elif node.fn in ("relu", "sign") or (node.spelling or "") in ("sgn",):
            found.extend(node.args[:1])
    elif isinstance(node, ast.Abs):
        found.append(node.operand)
    elif isinstance(node, ast.Cases):
        found += [ast.BinOp("-", c.left, c.right) for c in node.conditions if c is not None]
    for child in node.children:
        found.extend(conditions_of(child))
    return found


def boundary_points(lhs: Side, rhs: Side, setting: Setting, rng) -> Iterator[FloatPoint]:
    """Points just inside, just outside and far out of every condition's boundary, at size one
    (every dim 1, one sample): there each condition is a scalar function of the inputs and
    parameters, and SymPy solves it = 0 for one of them, the others at random rationals."""
    conds = [c for side in (lhs, rhs) for c in side.conditions()]
    if not conds:
        return
    net = setting.net
    sizes = sized(setting, {**{d: 1 for d in net.dims}, m: 1})
    sym_point = shared_sym_point(net, sizes, setting.derivation)
    meanings = [s.meaning for s in (lhs, rhs) if isinstance(s, Tree)]
    if not meanings:
        return
    symbols = sym_point.symbols()
    r = random.Random(setting.seed)
    for cond in conds[:12]:
        for meaning in meanings[:1]:
            try:
                expr = _scalar(Tree(cond, meaning), sym_point)
            except (DeriveError, NeedIndex, ValueError, TypeError, ZeroDivisionError):
                continue
            if expr is None or not expr.free_symbols:
                continue
            labels = _one_hot({}, net, sym_point, r)  # labels stay labels: one-hot, not solved
            if labels:
                expr = expr.xreplace({k: sp.Integer(v) for k, v in labels.items()})
            rest = [x for x in symbols if x not in labels]
            for at in _solved(expr, rest, r):
                for offset in OFFSETS:
                    yield _float_at(setting, sizes, sym_point, {**labels, **at}, offset)
    if not setting.scalar_symbols:  # numbers alone: solving at size one is the whole story
        yield from ray_points(lhs, rhs, conds, setting, rng)


OFFSETS = (1e-6, -1e-6, 1.0, -50.0, 50.0)
RAY = (-1000.0, -100.0, -30.0, -10.0, -3.0, -1.0, -0.3, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 1000.0)


def ray_points(lhs: Side, rhs: Side, conds: list, setting: Setting, rng) -> Iterator[FloatPoint]:
    """At the network's own sizes (where a condition at size one may be degenerate: the
    softmax of one class is 1), points along a ray through a random point: every input and
    parameter times t, for t from -1000 to 1000; where a condition changes sign between two
    t's, its boundary is found by bisection, and the points just on either side of it (and
    the t's themselves) are returned."""
    meaning = next((s.meaning for s in (lhs, rhs) if isinstance(s, Tree)), None)
    if meaning is None:
        return
    sizes = size_sets(setting)[0]
    base = random_point(setting.compiled, sizes, rng)

    def at(t: float) -> FloatPoint:
        values = {k: (v * t if setting.net.quantities[k].content == "real" else v)
                  for k, v in base.values.items()}  # fmt: skip
        return FloatPoint(setting.compiled, sizes, values)

    try:
        env = environments(lhs, base)[0]
    except (DeriveError, NeedIndex, ValueError):
        return
    broken_down: list = []
    for cond in conds[:8]:
        side = Tree(cond, meaning)

        def sign(t: float, side: Side = side):
            try:
                with np.errstate(all="ignore"):
                    value = np.asarray(side.value(at(t), env), dtype=float)
            except (DeriveError, NeedIndex, ValueError, TypeError):
                return None
            return np.sign(np.nan_to_num(value, nan=0.0)).reshape(-1)

        signs = [(t, sign(t)) for t in RAY]
        for t in RAY:
            yield at(t)
        if any(s is None or np.isnan(_float(side, at(t), env)).any() for t, s in signs):
            broken_down.append(cond)  # float64 fails along the ray: see far_in_high_precision
        for (t0, s0), (t1, s1) in zip(signs, signs[1:]):
            if s0 is None or s1 is None or s0.shape != s1.shape or np.array_equal(s0, s1):
                continue
            lo, hi = t0, t1
            for _ in range(20):
                mid = (lo + hi) / 2
                s_mid = sign(mid)
                if s_mid is None:
                    break
                if np.array_equal(s_mid, s0):
                    lo = mid
                else:
                    hi = mid
            step = max(1e-6 * max(abs(lo), abs(hi)), 1e-9)  # just off the boundary, never on it:
            for t in (lo - step, hi + step, lo - 1e3 * step, hi + 1e3 * step):  # that is a kink
                if t != 0:
                    yield at(t)
    setting.broken_down = broken_down


def _float(side: Side, point, env) -> np.ndarray:
    try:
        with np.errstate(all="ignore"):
            return np.asarray(side.value(point, env), dtype=float)
    except (DeriveError, NeedIndex, ValueError, TypeError):
        return np.array([np.nan])


#: Base points of far_in_high_precision: along one ray the condition may never change side (every
#: ReLU dead, so J grows too slowly to pass 1000) or both sides vanish where it has (two samples'
#: errors cancel); a wrong claim must not pass for want of a second ray.
FAR_BASES = 6
FAR_RAY = (1, 3, 10, 30, 100, 1000, 10**4, 10**5)


def far_in_high_precision(lhs: Side, rhs: Side, setting: Setting) -> Comparison | None:
    """A condition that float64 cannot follow far out (the loss J > 1000 where p underflows
    and log p is -inf) is followed in 50-digit arithmetic: along rays t x from several base
    points (every input and parameter times t), wherever it has changed side; there both sides
    are compared in the same digits."""
    conds = getattr(setting, "broken_down", [])
    meaning = next((s.meaning for s in (lhs, rhs) if isinstance(s, Tree)), None)
    if not conds or meaning is None:
        return None
    net = setting.net
    sizes = sized(setting, {**{d: 2 for d in net.dims}, m: 2})
    sym_point = shared_sym_point(net, sizes, setting.derivation)
    real = {s for q in net.inputs + net.params if q.content == "real"
            for i in (range(sym_point.m) if q.batched else [None])
            for s in sym_point.expander.leaf_symbols(q, i) if isinstance(s, sp.Symbol)}  # fmt: skip
    for k in range(FAR_BASES):
        rng = np.random.default_rng((setting.seed ^ 0xFA5) + 7919 * k)
        base = random_point(setting.compiled, sizes, rng)
        found = _far_along(lhs, rhs, setting, conds, meaning, base, sym_point, sizes, real)
        if found is not None:
            return found
    return None


def _far_along(lhs, rhs, setting, conds, meaning, base, sym_point, sizes, real):
    from derive.claims.points import MpPoint, rational_point

    net = setting.net
    at0 = rational_point(base, sym_point)
    try:
        env = environments(lhs, base)[0]
    except (DeriveError, NeedIndex, ValueError):
        return None
    for cond in conds[:3]:
        side, first = Tree(cond, meaning), None
        for t in (*FAR_RAY, *(-t for t in FAR_RAY)):
            at = {s: v * t if s in real else v for s, v in at0.items()}
            try:
                point = MpPoint(net, sizes, at, setting.derivation, MP_DIGITS)
                with point.backend.mpmath.workdps(MP_DIGITS):
                    value = side.value(point, env)
                    signs = tuple(int(x > 0) - int(x < 0) for x in value.reshape(-1))
                    if first is None:
                        first = signs
                        continue
                    if signs == first:
                        continue
                    a, b = both(lhs, rhs, point, env)
                    for x, y in zip(a.reshape(-1), b.reshape(-1)):
                        if _beyond_digits(point.backend.mpmath, x, y):
                            where = FloatPoint(setting.compiled, sizes, {
                                k: v * t if net.quantities[k].content == "real" else v
                                for k, v in base.values.items()})  # fmt: skip
                            return Comparison("different", _where(where), env,
                                              np.asarray(a.tolist(), dtype=float),
                                              np.asarray(b.tolist(), dtype=float),
                                              how="at high precision")  # fmt: skip
            except (DeriveError, NeedIndex, ValueError, TypeError, ZeroDivisionError,
                    OverflowError):  # fmt: skip
                continue
    return None


def _scalar(tree: Tree, sym_point: SymPoint):
    envs = environments(tree, sym_point, limit=4)
    value = tree.value(sym_point, envs[0])
    return sym(value.reshape(-1)[0]) if value.size else None


def _solved(expr: sp.Expr, symbols: list[sp.Symbol], r: random.Random) -> Iterator[dict]:
    """Assignments of the symbols (Fractions) where ``expr`` is zero: one variable solved for,
    the others random rationals."""
    free = [s for s in symbols if s in expr.free_symbols]
    for v in free[:1]:
        point = {s: Fraction(r.randint(-20, 20), r.randint(1, 7)) for s in symbols if s != v}
        exact = {s: sp.Rational(x.numerator, x.denominator) for s, x in point.items()}
        try:
            roots = sp.solve(sp.Eq(expr.xreplace(exact), 0), v)
        except (NotImplementedError, ValueError, TypeError):
            continue
        for root in roots[:2]:
            value = complex(sp.N(root))
            if abs(value.imag) < 1e-12 and abs(value.real) < 1e6:
                yield {**point, v: Fraction(value.real).limit_denominator(10**9)}


def _float_at(setting: Setting, sizes: dict, sym_point: SymPoint, at: dict, offset: float):
    """A FloatPoint at size one from an assignment of the SymPoint's symbols; the solved-for
    variable is the last one of ``at``, moved by ``offset`` (relative where it is not 0)."""
    solved = list(at)[-1]
    values: dict = {}
    for q in setting.net.inputs + setting.net.params:
        entries = []
        for i in range(sym_point.m) if q.batched else [None]:
            for s in sym_point.expander.leaf_symbols(q, i):
                if isinstance(s, sp.Symbol):
                    x = float(at.get(s, 0.0))
                    if s == solved:
                        x = x + offset * max(1.0, abs(x)) if abs(offset) < 1 else x + offset
                    entries.append(x)
                else:
                    entries.append(1.0 - sum(entries[-(sym_point.dims(q)[0] - 1) :]))
        values[q.name] = np.asarray(entries, dtype=float).reshape(sym_point.shapes[q.name])
    return FloatPoint(setting.compiled, sizes, values)


# --- scalars: exactly, or in high precision ----------------------------------------------------
def _decide_scalars(lhs: Side, rhs: Side, setting: Setting) -> Comparison | None:
    net = setting.net
    sizes = sized(setting, {**{d: 1 for d in net.dims}, m: 1})
    sym_point = shared_sym_point(net, sizes, setting.derivation)
    try:
        envs = environments(lhs, sym_point, limit=8)
        diffs: list = []
        for env in envs:
            a, b = both(lhs, rhs, sym_point, env)
            diffs += [sym(x) - sym(y) for x, y in zip(a.reshape(-1), b.reshape(-1))]
    except (DeriveError, NeedIndex, ValueError, TypeError, ZeroDivisionError):
        return None
    symbols = sym_point.symbols()
    r = random.Random(setting.seed ^ 0x5EED)
    if all(sp.count_ops(d) <= MAX_OPS for d in diffs):
        from derive.claims.check import OutOfTime, share_of_time

        simplified = []
        try:
            kinked = any(d.has(*KINKS) for d in diffs)
            seconds = PIECEWISE_PROOF_SECONDS if kinked else PROOF_SECONDS
            with share_of_time(seconds) as may:  # a slow proof: the digits decide
                if may:
                    simplified = [_simplified(d) for d in diffs]
        except (ValueError, TypeError, NotImplementedError, RecursionError, OutOfTime):
            simplified = []
        if simplified and all(d == 0 for d in simplified):
            return Comparison("equal", how="proved exactly")
        for d in simplified:  # SymPy proves them different: never zero (a number, e^{...})
            if has_labels(net):
                break  # different for vectors that sum to one, perhaps not for labels
            if d.is_zero is False:
                return _mp_counterexample(lhs, rhs, setting, sym_point, envs, symbols, r,
                                          how="proved exactly")  # fmt: skip
            inside = _nonzero_piece(d)  # or never zero on an interval: 6 1[x > 3]
            if inside is not None:
                return _mp_counterexample(lhs, rhs, setting, sym_point, envs, symbols, r,
                                          how="proved exactly", points=[inside])  # fmt: skip
    found = _mp_counterexample(lhs, rhs, setting, sym_point, envs, symbols, r)
    if found is None:
        extra = list(_boundary_rationals(lhs, rhs, sym_point, symbols, r))
        if extra:
            found = _mp_counterexample(lhs, rhs, setting, sym_point, envs, symbols, r,
                                       points=extra)  # fmt: skip
    if found is not None:
        return found
    return Comparison("equal", how=f"in {MP_DIGITS}-digit arithmetic at {MP_POINTS} random points")


def _nonzero_piece(d: sp.Expr) -> dict | None:
    """A point inside an interval where a piecewise difference of one variable is a piece that
    SymPy proves never zero (-6 for x > 3, -1/(e^x + 1) for x > 1000): the sides differ on a
    set of positive measure, however small the difference is there. None when there is none."""
    if not isinstance(d, sp.Piecewise) or len(d.free_symbols) != 1:
        return None
    (x,) = d.free_symbols
    covered = sp.S.EmptySet
    try:
        for expr, cond in d.args:
            region = sp.S.Reals if cond is sp.true else cond.as_set()
            region, covered = sp.Complement(region, covered), sp.Union(covered, region)
            if expr.is_zero is not False or region.measure == 0:
                continue
            parts = region.args if isinstance(region, sp.Union) else (region,)
            for part in parts:
                if isinstance(part, sp.Interval) and part.measure > 0:
                    return {x: _inside(part)}
    except (TypeError, ValueError, NotImplementedError, AttributeError):
        return None
    return None


def _inside(interval: sp.Interval) -> Fraction:
    a, b = interval.inf, interval.sup
    if a.is_infinite and b.is_infinite:
        return Fraction(1, 2)
    if a.is_infinite:
        mid = sp.floor(b) - sp.Rational(1, 2)
    elif b.is_infinite:
        mid = sp.ceiling(a) + sp.Rational(1, 2)
    else:
        mid = (a + b) / 2
    mid = sp.Rational(sp.nsimplify(mid)) if not mid.is_Rational else mid
    return Fraction(int(mid.p), int(mid.q))


def _boundary_rationals(lhs, rhs, sym_point, symbols, r) -> Iterator[dict]:
    """Rational points just inside and outside every condition's boundary (exact roots moved
    by small and large amounts): where a term that vanishes on one side of a condition shows,
    however small it is there (sigma'(x) 1[x < 50] at x = 50.5 is about 1e-22)."""
    for side in (lhs, rhs):
        if not isinstance(side, Tree):
            continue
        for cond in side.conditions()[:8]:
            try:
                expr = _scalar(Tree(cond, side.meaning), sym_point)
            except (DeriveError, NeedIndex, ValueError, TypeError, ZeroDivisionError):
                continue
            if expr is None or not expr.free_symbols:
                continue
            for at in _solved(expr, symbols, r):
                v = list(at)[-1]
                for offset in (Fraction(1, 10**6), Fraction(1, 2), Fraction(50)):
                    for sign in (1, -1):
                        yield {**at, v: at[v] + sign * offset}


def _mp_counterexample(lhs, rhs, setting, sym_point, envs, symbols, r, how="",
                       points=None) -> Comparison | None:  # fmt: skip
    """A point where the sides differ in high precision (small rationals, and as many digits
    as the values' size needs); None when they agree at every point tried. ``how``: the sides
    are known to differ; return the first point, whatever the digits show."""
    from derive.claims.points import MpPoint

    net = setting.net
    sizes = sized(setting, {**{d: 1 for d in net.dims}, m: 1})
    last = None
    chosen = points if points is not None else [{s: _generic(r) for s in symbols}
                                                for _ in range(MP_POINTS)]  # fmt: skip
    if how:  # known to differ: also where a bump such as e^{-10^6 x^2} shows, near 0
        chosen = [*chosen, *({s: Fraction(k, 1000) for s in symbols} for k in (1, 0))]
    chosen = _at_every_class(chosen, net, sym_point, r)
    for at in chosen:
        digits = MP_DIGITS
        while True:
            mp_point = MpPoint(net, sizes, at, setting.derivation, digits)
            mpmath = mp_point.backend.mpmath
            need = digits
            with mpmath.workdps(digits):
                for env in envs:
                    try:
                        a, b = both(lhs, rhs, mp_point, env)
                    except (ValueError, TypeError, ZeroDivisionError, OverflowError):
                        continue
                    for x, y in zip(a.reshape(-1), b.reshape(-1)):
                        size = max(abs(x), abs(y), 1)
                        point = {str(s): float(v) for s, v in at.items()}
                        last = Comparison("different", {"__mp__": point}, env,
                                          np.array([[_mp_float(x)]]), np.array([[_mp_float(y)]]),
                                          how=how or "at high precision")  # fmt: skip
                        if abs(x - y) > size * mpmath.mpf(10) ** (-(digits - 15)):
                            return last
                        need = max(need, _digits_for(mpmath, x, y))
            if need <= digits or digits >= MAX_MP_DIGITS:
                break
            digits = min(need, MAX_MP_DIGITS)  # values too large or too small for the digits
    return last if how else None


def _labels(net) -> list:
    """The one-hot inputs: labels."""
    return [q for q in net.inputs if q.content == "onehot"]


def _class(entries: list, k: int) -> dict:
    """A label's free symbols set so that it is class k (the last entry is 1 minus the rest)."""
    return {s: Fraction(int(j == k)) for j, s in enumerate(entries) if isinstance(s, sp.Symbol)}


def _one_hot(at: dict, net, sym_point, r: random.Random) -> dict:
    """The point with every one-hot label one-hot (a class drawn at random): a symbol declared
    one-hot is a label, and a formula about labels (the SVM's) need hold at labels only. The
    symbolic proof treats a label as any vector whose entries sum to one."""
    at = dict(at)
    for q in _labels(net):
        for i in range(sym_point.m) if q.batched else [None]:
            entries = sym_point.expander.leaf_symbols(q, i)
            at.update(_class(entries, r.randrange(len(entries))))
    return at


def _at_every_class(points: list[dict], net, sym_point, r: random.Random) -> list[dict]:
    """Each point once for every class of a one-hot label (one label; with several, a class
    each at random): a formula wrong for one class only is still found."""
    labels = _labels(net)
    if len(labels) != 1 or labels[0].batched:
        return [_one_hot(at, net, sym_point, r) for at in points]
    entries = sym_point.expander.leaf_symbols(labels[0], None)
    return [{**at, **_class(entries, k)} for at in points for k in range(len(entries))]


def has_labels(net) -> bool:
    return bool(_labels(net))


def _digits_for(mpmath, x, y) -> int:
    """The digits that resolve a difference of values this size: beyond the size of the larger
    (e^{e^{12}} + 6), and below the smaller when it is tiny (1 - sigma(1000) = e^{-1000},
    which 50 digits compute as 0)."""
    need = MP_DIGITS
    big = max(abs(x), abs(y))
    if big > mpmath.mpf(10) ** 30:
        need = max(need, MP_DIGITS + int(mpmath.log10(big)))
    small = [abs(v) for v in (x, y) if v != 0]
    if small and min(small) < mpmath.mpf(10) ** -30:
        need = max(need, MP_DIGITS + int(-mpmath.log10(min(small))))
    return need


_PRIMES = [p for p in range(101, 1000) if all(p % d for d in range(2, 32))]


def _generic(r: random.Random) -> Fraction:
    """A random rational in about [-10, 10] that is no whole number nor a fraction with a
    small denominator (its denominator a prime over 100): never exactly on a kink such as
    x = 0 or x = 1/2, where two sides that agree almost everywhere may differ."""
    q = r.choice(_PRIMES)
    p = r.randint(1, 10 * q - 1)
    if p % q == 0:
        p += 1
    return Fraction(p if r.random() < 0.5 else -p, q)


def _mp_float(x) -> float:
    try:
        return float(x)
    except (OverflowError, TypeError, ValueError):
        return float("inf")


def _simplified(d: sp.Expr) -> sp.Expr:
    if d == 0:
        return d
    if d.has(sp.Heaviside, sp.sign, sp.Abs, sp.Max, sp.Min):
        d = d.rewrite(sp.Piecewise)
    d = sp.piecewise_fold(d)
    out = sp.simplify(d)
    if out != 0:
        again = sp.simplify(d.rewrite(sp.exp))
        if again == 0 or (again.is_number and not out.is_number):
            out = again
    return out


# --- kinks ----------------------------------------------------------------------------------
KINKS = (sp.Heaviside, sp.Abs, sp.sign, sp.Max, sp.Min, sp.Piecewise)
KINK_POINTS = 3


def _at_a_kink(lhs: Side, rhs: Side, setting: Setting) -> Comparison | None:
    """Almost everywhere: the sides differ exactly on a kink (at size one, in rationals)."""
    net = setting.net
    sizes = sized(setting, {**{d: 1 for d in net.dims}, m: 1})
    try:
        sym_point = shared_sym_point(net, sizes, setting.derivation)
        envs = environments(lhs, sym_point, limit=4)
        a, b = both(lhs, rhs, sym_point, envs[0])
        diff = sp.Matrix(a.tolist()) - sp.Matrix(b.tolist())
    except (DeriveError, NeedIndex, ValueError, TypeError, ZeroDivisionError):
        return None
    if not any(x.has(*KINKS) for x in diff):
        return None
    args = {arg for x in diff for kind in KINKS for arg in _kink_arguments(x, kind)}
    symbols = sorted(diff.free_symbols, key=str)
    r = random.Random(setting.seed)
    for arg in sorted(args, key=str):
        for v in sorted(arg.free_symbols, key=str):
            if not (arg.is_polynomial(v) and sp.degree(arg, v) == 1):
                continue  # solve arg = 0 for a variable it is linear in
            for _ in range(KINK_POINTS):
                point = {s: sp.Rational(Fraction(r.randint(-20, 20), r.randint(1, 7)))
                         for s in symbols if s != v}  # fmt: skip
                solved = sp.solve(sp.Eq(arg.subs(point), 0), v)
                if len(solved) != 1:
                    continue
                point[v] = solved[0]
                gap = diff.xreplace(point)
                if any(_nonzero(g) for g in gap):
                    where = {str(k): float(val) for k, val in point.items()}
                    return Comparison("almost-everywhere", where)
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


__all__ = ["Comparison", "Formula", "Setting", "ShapesDiffer", "Side", "Tree", "decide",
           "environments", "seed_of", "size_sets"]  # fmt: skip
