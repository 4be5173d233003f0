"""Expansion of matrix expressions into explicit SymPy matrices of scalars, at concrete sizes.

Inputs and parameters become matrices of scalar symbols (one set per sample for batched inputs);
nodes are computed from their definitions. A one-hot input's last entry is 1 minus the others, so
a proof covers every vector whose entries sum to one. A node can be *cut*: its values become fresh
symbols, so that differentiating the loss by them gives the node's true residual.
"""

from __future__ import annotations

import functools
import random
from fractions import Fraction

import sympy as sp

from derive.expr import Expr, Identity, Leaf, Ones, Op, Quantity, Residual, Zero, m, sym
from derive.graph import Network
from derive.ops.batch import BatchSum
from derive.ops.elementwise import Diag

#: The most label assignments a proof goes through (see :func:`label_assignments`).
MAX_ASSIGNMENTS = 64


def label_assignments(net: Network, sizes: dict) -> list[dict | None]:
    """Every way of giving each one-hot input of each sample a class, at these sizes: a proof
    that holds for each of them holds for every one-hot label (the one-hot identities, such as
    y o p / (y^T p) = y, hold for no other vector). [None] for a network without one-hot
    inputs: its proof covers every value."""
    import itertools

    slots = []
    for q in net.inputs if net is not None else []:
        if q.content == "onehot":
            rows = int(sym(q.shape[0]).subs(sizes))
            samples = range(sizes[m]) if q.batched else [None]
            slots += [((q.name, i), rows) for i in samples]
    if not slots:
        return [None]
    combos = list(itertools.product(*(range(rows) for _, rows in slots)))
    if len(combos) > MAX_ASSIGNMENTS:
        raise ValueError(f"{len(combos)} one-hot label assignments: too many to prove each")
    return [{key: c for (key, _), c in zip(slots, combo)} for combo in combos]


class Expander:
    def __init__(self, network: Network, sizes: dict, cut: Quantity | None = None,
                 labels: dict | None = None):  # fmt: skip
        """``labels``: the class of each one-hot input per sample, {(name, i): class}; without
        it a one-hot input is any vector whose entries sum to one."""
        self.net = network
        self.sizes = sizes
        self.batch = sizes[m]
        self.cut = cut
        self.labels = labels
        self.memo: dict[tuple[str, int | None], sp.Matrix] = {}
        self._dims: dict[tuple, tuple[int, int]] = {}

    def dims(self, q: Quantity) -> tuple[int, int]:
        if q.shape not in self._dims:
            self._dims[q.shape] = tuple(int(sym(d).subs(self.sizes)) for d in q.shape)
        return self._dims[q.shape]

    def samples(self, q: Quantity) -> list[int | None]:
        return list(range(self.batch)) if q.batched else [None]

    def _symbols(self, prefix: str, q: Quantity, i: int | None) -> sp.Matrix:
        rows, cols = self.dims(q)
        tag = f"{prefix}{q.name}" + (f"^{i + 1}" if i is not None else "")
        if cols == 1:
            return sp.Matrix(rows, 1, lambda r, _: sp.Symbol(f"{tag}[{r + 1}]", real=True))
        return sp.Matrix(rows, cols, lambda r, c: sp.Symbol(f"{tag}[{r + 1},{c + 1}]", real=True))

    def leaf_symbols(self, q: Quantity, i: int | None) -> sp.Matrix:
        mat = self._symbols("", q, i)
        if q.content == "onehot" and self.labels is not None:
            mat = sp.zeros(mat.rows, 1)
            mat[self.labels[(q.name, i)], 0] = 1
        elif q.content == "onehot" and mat.rows > 1:
            mat[-1, 0] = 1 - sum(mat[:-1, 0])
        return mat

    def cut_symbols(self, q: Quantity, i: int | None) -> sp.Matrix:
        return self._symbols("cut:", q, i)

    def direct_symbols(self, q: Quantity, i: int | None) -> sp.Matrix:
        """q where it is read directly (see ``value(direct=q)``), for partial derivatives."""
        return self._symbols("direct:", q, i)

    def value_of(self, q: Quantity, i: int | None = None) -> sp.Matrix:
        key = (q.name, i)
        if key not in self.memo:
            if q == self.cut:
                self.memo[key] = self.cut_symbols(q, i)
            elif q.kind == "node":
                self.memo[key] = self.value(q.definition, i)
            else:
                self.memo[key] = self.leaf_symbols(q, i)
        return self.memo[key]

    def value(self, e: Expr, i: int | None, residuals: dict | None = None,
              direct: Quantity | None = None, shared: dict | None = None) -> sp.Matrix:  # fmt: skip
        """The explicit value of ``e`` for sample ``i`` (None outside any sample).
        ``residuals`` maps Residual(q) to its values per sample, for compact forms. ``direct``:
        a quantity whose leaves in ``e`` read its direct symbols rather than its value (so that
        differentiating by them is the partial derivative of ``e``, every other leaf held).
        ``shared``: a memo kept across calls (keyed by the expressions themselves, so that
        expressions sharing sub-trees, as the expanded residuals of a deep network do, are
        expanded once); only for expressions without residuals."""
        memo: dict = {}
        if shared is not None and residuals is None and direct is None:
            memo = shared

        def walk(x: Expr, i: int | None) -> sp.Matrix:
            key = (x, i) if memo is shared else (id(x), i)
            if key in memo:
                return memo[key]
            if isinstance(x, Leaf) and x.q == direct:
                out = self.direct_symbols(x.q, i if x.q.batched else None)
            elif isinstance(x, Leaf):
                out = self.value_of(x.q, i if x.q.batched else None)
            elif isinstance(x, Residual):
                out = residuals[x][i if x.q.batched else 0]
            elif isinstance(x, Identity):
                out = sp.eye(int(x.n.subs(self.sizes)))
            elif isinstance(x, Ones):
                out = sp.ones(int(x.n.subs(self.sizes)), 1)
            elif isinstance(x, Zero):
                out = sp.zeros(*(int(sym(d).subs(self.sizes)) for d in x.shape))
            elif isinstance(x, BatchSum):
                parts = [walk(x.e, j) for j in range(self.batch)]
                out = sum(parts[1:], parts[0])
            elif isinstance(x, Diag):
                out = sp.diag(*walk(x.v, i))
            elif isinstance(x, Op):
                out = x.explicit([walk(c, i) for c in x.children], self.sizes)
            else:
                raise TypeError(f"cannot expand {type(x).__name__}")
            memo[key] = out
            return out

        return walk(e, i)


class StepExpander(Expander):
    """The world of one chain-rule step dL/dq = sum over consumers w of (dw/dq)^T dL/dw: q is
    cut (its values are fresh symbols), the nodes in ``computed`` are computed from their
    definitions, and every other node is a fresh symbol too. So expanding a consumer reads only
    its own definition, never the layers before it: the cost is the same at any depth."""

    def __init__(self, network: Network, sizes: dict, q: Quantity, computed: set[Quantity],
                 labels: dict | None = None):  # fmt: skip
        super().__init__(network, sizes, cut=q, labels=labels)
        self.computed = computed

    def value_of(self, q: Quantity, i: int | None = None) -> sp.Matrix:
        key = (q.name, i)
        if key not in self.memo:
            if q.kind == "node" and q != self.cut and q not in self.computed:
                self.memo[key] = self._symbols("node:", q, i)
            else:
                return super().value_of(q, i)
        return self.memo[key]

    def residual_symbols(self, q: Quantity, i: int | None) -> sp.Matrix:
        return self._symbols("dL/d", q, i)


class IdentityTest:
    """Decides whether scalar expressions are identical, in exact rational arithmetic.

    Every symbol gets a random rational value, and every function application (sin a, exp a,
    Heaviside a, ...) a random rational value of its own, the same for the same argument: the
    expressions are evaluated as rational functions of these independent unknowns. Two different
    rational functions agree at a random point from a set of size N with probability at most
    degree/N (Schwartz-Zippel); with N = 10^12 and two points, an error is practically
    impossible. Equal expressions always agree. The test is exact (no rounding) and fast, unlike
    ``cancel``/``simplify`` on expressions with thousands of terms.
    """

    SPAN = 10**12

    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)
        self.values: dict = {}
        self.memo: dict | None = None  # for at()

    def _unknown(self, key) -> Fraction:
        if key not in self.values:
            self.values[key] = Fraction(
                self.rng.randint(1, self.SPAN), self.rng.randint(1, self.SPAN)
            )
        return self.values[key]

    def value(self, e: sp.Expr, memo: dict) -> Fraction:
        if e in memo:
            return memo[e]
        if e.is_Symbol:
            out = self._unknown(e)
        elif e.is_Rational:
            out = Fraction(int(e.p), int(e.q))
        elif e.is_Add:
            out = sum((self.value(a, memo) for a in e.args), Fraction(0))
        elif e.is_Mul:
            out = Fraction(1)
            for a in e.args:
                out *= self.value(a, memo)
        elif e.is_Pow and e.exp.is_Integer:
            out = self.value(e.base, memo) ** int(e.exp)
        elif getattr(e.func, "exponential", False) and (power := _exponent(e.args[0])):
            # exp(c t) = b(t)^(12 c) for a rational c with 12 c whole: exp(a)^2 = exp(2 a) and
            # exp(a/2)^2 = exp(a) hold here as they do for exp
            k, t = power
            out = self._unknown(("exp", self.value(t, memo))) ** k
        else:  # sin(a), exp(a), Heaviside(a), Max(0, a), a^(1/2), E, pi: an unknown per argument
            out = self._unknown((e.func, tuple(self.value(a, memo) for a in e.args)))
        memo[e] = out
        return out

    def at(self, e: sp.Expr) -> Fraction:
        """The value of ``e`` at this test's point, kept with every value computed so far (for
        many comparisons at one point; ``equal`` draws new points instead)."""
        if self.memo is None:
            self.values, self.memo = {}, {}
        return self.value(sym(e), self.memo)

    def equal(self, a: sp.Expr, b: sp.Expr, points: int = 2) -> bool:
        for _ in range(points):
            self.values = {}
            memo: dict = {}
            if self.value(sym(a), memo) != self.value(sym(b), memo):
                return False
        return True


@functools.lru_cache(maxsize=4096)
def _exponent(arg: sp.Expr) -> tuple[int, sp.Expr] | None:
    """arg = c t with t primitive and its sign fixed (x/2 + y/2 is 1/2 (x + y)): (12 c, t) when
    12 c is a whole number of moderate size (every point of every proof asks again)."""
    c, t = arg.as_content_primitive()
    if t.could_extract_minus_sign():
        c, t = -c, -t
    k = sp.Rational(c) * 12
    return (int(k), t) if k.is_Integer and abs(k) <= 240 else None
