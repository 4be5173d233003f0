"""Linear algebra: scalar multiples, sums, matrix products, transposes.

Their smart constructors are where expressions are kept readable: ``scale`` collects numeric and
symbolic factors in front, ``add`` collects like terms and factors out a common coefficient
(``1/m (a - b)`` rather than ``a/m - b/m``), ``matmul`` flattens chains and moves 1 x 1 factors
to the front, ``transpose`` is pushed down to the leaves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

import sympy as sp

from derive.errors import ShapeError
from derive.expr import (
    ONE,
    SCALAR_ONE,
    Expr,
    Identity,
    Leaf,
    Ones,
    Op,
    Zero,
    shape_str,
    sym,
    test_leaf,
)
from derive.ops import layout


# --- scalar multiple ---------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Scale(Op):
    """c * e for a SymPy scalar c (such as 1/m, -1, 2)."""

    c: sp.Expr
    e: Expr

    @property
    def shape(self):
        return self.e.shape

    def rebuild(self, e):
        return scale(self.c, e)

    def numpy(self, code: Callable[[Expr], str]) -> str:
        return f"({layout.coefficient(self.c)} * {code(self.e)})"

    def explicit(self, args, sizes):
        return args[0] * self.c.subs(sizes)

    def vjp(self, k, g):
        return scale(self.c, g)

    def jacobian(self, k):
        return scale(self.c, Identity(self.e.shape[0])) if self.e.is_col else None

    @classmethod
    def examples(cls):
        return [scale(sp.Rational(3, 2), test_leaf("u", 2))]


def exact(x) -> sp.Expr:
    """A number as SymPy, a float as the rational it stands for (0.5 -> 1/2): the proofs'
    exact arithmetic stays exact."""
    return sp.nsimplify(x, rational=True) if isinstance(x, (float, sp.Float)) else sym(x)


def scale(c, e: Expr) -> Expr:
    c = exact(c)
    if isinstance(e, Ones) and e.n == 1:
        e = SCALAR_ONE  # the ones vector of size one is the scalar 1: one form, so terms collect
    if c == 1:
        return e
    if c == 0 or isinstance(e, Zero):
        return Zero(e.shape)
    if isinstance(e, Scale):
        return scale(c * e.c, e.e)
    return Scale(c, e)


def split_scale(e: Expr) -> tuple[sp.Expr, Expr]:
    return (e.c, e.e) if isinstance(e, Scale) else (ONE, e)


# --- sums --------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Add(Op):
    terms: tuple[Expr, ...]

    @property
    def shape(self):
        return self.terms[0].shape

    def rebuild(self, *terms):
        return add(*terms)

    def numpy(self, code):
        return "(" + " + ".join(code(t) for t in self.terms) + ")"

    def explicit(self, args, sizes):
        return reduce(lambda a, b: a + b, args)

    def vjp(self, k, g):
        return g

    def jacobian(self, k):
        return Identity(self.shape[0]) if self.terms[k].is_col else None

    @classmethod
    def examples(cls):
        return [
            test_leaf("u", 2) + test_leaf("v", 2),
            test_leaf("u", 2) + test_leaf("b", 2, 1, False),
        ]


def add(*terms: Expr) -> Expr:
    shape = terms[0].shape
    for t in terms[1:]:
        if t.shape != shape:
            raise ShapeError(
                f"cannot add {terms[0]!r} ({shape_str(shape)}) and {t!r} ({shape_str(t.shape)})"
            )
    collected: dict[Expr, sp.Expr] = {}

    def collect(t: Expr, c: sp.Expr) -> None:
        c2, base = split_scale(t)
        if isinstance(base, Ones) and base.n == 1:
            base = SCALAR_ONE
        if isinstance(base, Add):
            for u in base.terms:
                collect(u, c * c2)
        elif not isinstance(base, Zero):
            collected[base] = collected.get(base, 0) + c * c2

    for t in terms:
        collect(t, ONE)
    items = [(b, sp.simplify(c)) for b, c in collected.items()]
    items = [(b, c) for b, c in items if c != 0]
    if not items:
        return Zero(shape)
    if len(items) == 1:
        return scale(items[0][1], items[0][0])
    common = common_factor([c for _, c in items])
    # start with a positive term: "p - y" rather than "-y + p"; otherwise keep the order
    negative = [bool((c / common).could_extract_minus_sign()) for _, c in items]
    if negative[0] and not all(negative):
        items.insert(0, items.pop(negative.index(False)))
    return scale(common, Add(tuple(scale(sp.simplify(c / common), b) for b, c in items)))


def common_factor(coefficients: list[sp.Expr]) -> sp.Expr:
    """The factor a person would pull out of a sum with these coefficients (1/m for 1/m, -1/m)."""
    xs = sp.symbols(f"_x0:{len(coefficients)}")
    factored = sp.factor_terms(sum(c * x for c, x in zip(coefficients, xs)))
    common, _ = factored.as_independent(*xs, as_Add=False)
    if common.could_extract_minus_sign() and not all(
        c.could_extract_minus_sign() for c in coefficients
    ):
        common = -common
    return common


# --- matrix products ---------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class MatMul(Op):
    """A product chain. 1 x 1 factors (scalars such as p^T g) stand first and commute."""

    factors: tuple[Expr, ...]

    @property
    def shape(self):
        chain = [f for f in self.factors if not f.is_scalar] or [self.factors[-1]]
        return (chain[0].shape[0], chain[-1].shape[1])

    def rebuild(self, *factors):
        return matmul(*factors)

    def numpy(self, code):
        acc, acc_expr = None, None
        for f in self.factors:
            if acc is None:
                acc, acc_expr = code(f), f
                continue
            acc = layout.product(acc, acc_expr, code(f), f)
            acc_expr = _Shaped(
                (acc_expr.shape[0], f.shape[1]) if not acc_expr.is_scalar else f.shape,
                acc_expr.batched or f.batched,
            )
        return acc

    def explicit(self, args, sizes):
        out = args[0]
        for a in args[1:]:
            if out.shape == (1, 1):
                out = a * out[0, 0]
            elif a.shape == (1, 1):
                out = out * a[0, 0]
            else:
                out = out * a
        return out

    def _split(self, k):
        before, after = self.factors[:k], self.factors[k + 1 :]
        return before, after

    def vjp(self, k, g):
        before, after = self._split(k)
        f = self.factors[k]
        if f.is_scalar and not self.is_scalar:
            rest = matmul(*(before + after))
            if not rest.is_col:
                raise ShapeError(
                    "a scalar factor of a matrix-valued product has no matrix-form residual"
                )
            return matmul(transpose(rest), g)
        left = [x for x in before if not x.is_scalar]
        scalars = [x for x in before + after if x.is_scalar]
        right = [x for x in after if not x.is_scalar]
        parts = scalars + ([transpose(matmul(*left))] if left else []) + [g]
        parts += [transpose(matmul(*right))] if right else []
        return matmul(*parts)

    def jacobian(self, k):
        f = self.factors[k]
        before, after = self._split(k)
        if not f.is_col:
            return None
        if f.is_scalar:
            rest = matmul(*(before + after))
            return rest if rest.is_col else None
        if any(not x.is_scalar for x in after):
            return None
        parts = list(before) + [x for x in after if x.is_scalar]
        return matmul(*parts) if parts else Identity(f.shape[0])

    @classmethod
    def examples(cls):
        W = test_leaf("W", 3, 2, batched=False)
        x, u = test_leaf("x", 2), test_leaf("u", 3)
        return [W * x, u.T * (W * x), matmul(W, x, test_leaf("s", 1))]


@dataclass(frozen=True)
class _Shaped:
    """Shape and batching of an intermediate product, for code generation."""

    shape: tuple
    batched: bool

    @property
    def is_scalar(self):
        return self.shape == (ONE, ONE)


def matmul(*factors: Expr) -> Expr:
    chain = [f for f in factors if not f.is_scalar]
    for a, b in zip(chain, chain[1:]):
        if a.shape[1] != b.shape[0]:
            raise ShapeError(
                f"cannot multiply {a!r} ({shape_str(a.shape)}) by {b!r} ({shape_str(b.shape)})"
            )
    coef = ONE
    scalars: list[Expr] = []
    flat: list[Expr] = []
    for f in factors:
        c, f = split_scale(f)
        coef *= c
        if isinstance(f, Zero):
            return Zero(_product_shape(factors))
        if isinstance(f, MatMul) and not f.is_scalar:
            for g in f.factors:
                (scalars if g.is_scalar else flat).append(g)
        elif f.is_scalar:
            if f != SCALAR_ONE:
                scalars.append(f)
        elif isinstance(f, Identity):
            continue
        else:
            flat.append(f)
    flat = _inner_products(flat)
    scalars += [f for f in flat if f.is_scalar and f != SCALAR_ONE]
    flat = [f for f in flat if not f.is_scalar]
    if len(flat) == 2 and _product_shape(factors) == (ONE, ONE):
        inner = MatMul(tuple(_oriented(*flat)))
        if not scalars:
            return scale(coef, inner)
        scalars, flat = [*scalars, inner], []
    if len(scalars) > 1:
        # scalars commute: (y^T p)^-1 (y^T p) = 1, as a Hadamard product of 1 x 1 factors does
        from derive.ops.elementwise import hadamard

        c, merged = split_scale(hadamard(*scalars))
        coef *= c
        scalars = [] if isinstance(merged, Ones) or merged == SCALAR_ONE else [merged]
    shape = _product_shape(factors)
    if not flat and shape != (ONE, ONE):
        flat = [Identity(shape[0])]
    out = scalars + flat
    if not out:
        return scale(coef, SCALAR_ONE)
    if len(out) == 1:
        return scale(coef, out[0])
    from derive.ops import identities

    return scale(coef, identities.simplify("matmul", MatMul(tuple(out))))


def _oriented(row: Expr, col: Expr) -> list[Expr]:
    """An inner product u^T v equals v^T u: one orientation, so that equal scalars compare
    equal and cancel. Inputs first, then parameters, then the rest (y^T p, as the course
    writes it)."""
    if not (isinstance(row, Transpose) and row.e.is_col):
        return [row, col]  # a row of a matrix times a vector (W_2 h): not an inner product
    u = row.e

    def rank(e: Expr):
        order = {"input": 0, "param": 1, "node": 2}
        return (order[e.q.kind], e.q.name) if isinstance(e, Leaf) else (3, repr(e))

    if u.is_col and rank(col) < rank(u):
        return [transpose(col), u]
    return [row, col]


def _product_shape(factors) -> tuple:
    chain = [f for f in factors if not f.is_scalar]
    if not chain:
        return (ONE, ONE)
    return (chain[0].shape[0], chain[-1].shape[1])


def _inner_products(flat: list[Expr]) -> list[Expr]:
    """u^T v for column vectors u, v: simplify through 1^T (u o v) when the Hadamard product
    cancels (p^T (y / p) = 1^T y), and 1^T y = 1 when y is a one-hot or probability vector."""
    from derive.ops.elementwise import Hadamard, hadamard

    out: list[Expr] = []
    for f in flat:
        if out and out[-1].shape[0] == 1 and f.is_col and out[-1].shape[1] != 1:
            row = out[-1]
            u = transpose(row)
            if isinstance(u, Ones) and _sums_to_one(f):
                out[-1] = SCALAR_ONE
                continue
            if isinstance(f, Hadamard) or isinstance(u, Hadamard):
                h = hadamard(u, f)
                size = lambda e: len(e.factors) if isinstance(e, Hadamard) else 1  # noqa: E731
                if size(h) < size(u) + size(f):
                    ones = Ones(f.shape[0])
                    out[-1] = SCALAR_ONE if _sums_to_one(h) else MatMul((transpose(ones), h))
                    continue
        out.append(f)
    return out


def _sums_to_one(e: Expr) -> bool:
    return isinstance(e, Leaf) and e.q.content == "onehot"


# --- transposes --------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Transpose(Op):
    e: Expr

    @property
    def shape(self):
        return (self.e.shape[1], self.e.shape[0])

    def rebuild(self, e):
        return transpose(e)

    def numpy(self, code):
        return layout.transpose(code(self.e), self.e)

    def explicit(self, args, sizes):
        return args[0].T

    def vjp(self, k, g):
        return transpose(g)

    @classmethod
    def examples(cls):
        return [Transpose(test_leaf("W", 3, 2, batched=False)), Transpose(test_leaf("u", 2))]


def transpose(e: Expr) -> Expr:
    from derive.ops.elementwise import Diag, Hadamard, hadamard

    if e.is_scalar or isinstance(e, (Identity, Diag)):
        return e
    if isinstance(e, Transpose):
        return e.e
    if isinstance(e, Zero):
        return Zero((e.shape[1], e.shape[0]))
    if isinstance(e, Scale):
        return scale(e.c, transpose(e.e))
    if isinstance(e, MatMul):
        return matmul(*(transpose(f) for f in reversed(e.factors)))
    if isinstance(e, Hadamard):
        return hadamard(*((transpose(f), p) for f, p in e.factors))
    return Transpose(e)
