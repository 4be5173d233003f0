"""The course's identities, as a table of rewrite rules apart from the code that applies them.

Each rule is one entry: its name, the identity as the course writes it, the smart constructor that
applies it (its *hook*), the rewrite (a function of the expression just built, returning the
simpler form or None) and an example, an instance of the left side built without the rule. The
test suite proves every entry's example both ways (exactly, with SymPy, over every one-hot value
where the rule assumes one, and numerically), and checks that the constructor applies it.

A rule fires only where it shortens the expression: the identity y o v = (y^T v) y holds for any v
when y is one-hot, but it is a simplification only where the scalar y^T v then cancels
(y o p / (y^T p) = y).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from derive.expr import SCALAR_ONE, Expr, Identity, Leaf, Ones, Quantity, Zero, m, test_leaf
from derive.ops.algebra import (
    Add,
    MatMul,
    Scale,
    Transpose,
    add,
    matmul,
    scale,
    split_scale,
    transpose,
)
from derive.ops.batch import BatchSum, batch_sum, mean

# derive.ops.elementwise imports this module: its names are imported where they are used


@dataclass(frozen=True)
class Rule:
    name: str
    statement: str  # LaTeX, as the course writes it
    hook: str  # the smart constructor that applies it
    rewrite: Callable[[Expr], Expr | None]
    example: Callable[[], Expr]  # the left side, built without the rule
    assumes: str = ""  # what the proof must hold fixed ("onehot": labels are one-hot)


#: Every rule, in the order they are tried.
RULES: list[Rule] = []


def rule(name: str, statement: str, hook: str, example: Callable[[], Expr], assumes: str = ""):
    """Register the decorated rewrite as a rule."""

    def register(rewrite: Callable[[Expr], Expr | None]):
        RULES.append(Rule(name, statement, hook, rewrite, example, assumes))
        return rewrite

    return register


_active: set[str] = set()


def simplify(hook: str, e: Expr) -> Expr:
    """``e`` after the first rule of this hook that applies to it, or ``e`` itself. A rule
    builds its result with the smart constructors, which do not apply it again meanwhile."""
    for r in RULES:
        if r.hook == hook and r.name not in _active:
            _active.add(r.name)
            try:
                out = r.rewrite(e)
            finally:
                _active.discard(r.name)
            if out is not None:
                return out
    return e


def size(e: Expr) -> int:
    """The number of nodes of the tree: what "shorter" means."""
    return 1 + sum(size(c) for c in e.children)


def is_onehot(e: Expr) -> bool:
    return isinstance(e, Leaf) and e.q.content == "onehot"


# --- one-hot labels ----------------------------------------------------------------------------
def _scaled_onehot(f: Expr) -> tuple[list[Expr], Expr] | None:
    """f = s_1 ... s_k y for 1 x 1 factors s_j and a one-hot y: (the s_j, y)."""
    if is_onehot(f):
        return [], f
    if isinstance(f, MatMul) and is_onehot(f.factors[-1]):
        if all(g.is_scalar for g in f.factors[:-1]):
            return list(f.factors[:-1]), f.factors[-1]
    return None


def _onehot_example() -> Expr:
    from derive.ops.elementwise import Hadamard, hadamard

    y = test_leaf("y", 3, content="onehot")
    p = test_leaf("p", 3)
    weight = matmul(hadamard((matmul(transpose(y), p), -1)), y)  # y / (y^T p)
    return Hadamard(((p, 1), (weight, 1)))  # the product before the rule


@rule(
    "one-hot picks an entry",
    r"\mathbf{y} \circ \mathbf{v} = (\mathbf{y}^T \mathbf{v})\, \mathbf{y}"
    r"\text{ for one-hot } \mathbf{y}, \text{ so } "
    r"\mathbf{p} \circ \frac{\mathbf{y}}{\mathbf{y}^T \mathbf{p}} = \mathbf{y}",
    "hadamard",
    _onehot_example,
    assumes="onehot",
)
def onehot_pick(h: Expr) -> Expr | None:
    from derive.ops.elementwise import Hadamard, hadamard

    if not isinstance(h, Hadamard) or not h.is_col or h.is_scalar:
        return None
    for k, (f, p) in enumerate(h.factors):
        found = _scaled_onehot(f)
        if found is None or p != 1:
            continue
        scalars, y = found
        rest = hadamard(*(fp for j, fp in enumerate(h.factors) if j != k))
        picked = matmul(*scalars, matmul(transpose(y), rest), y)
        if size(picked) < size(h):
            return picked
    return None


# --- element-wise fractions ------------------------------------------------------------------
def _fraction_example() -> Expr:
    """The binary cross-entropy's (1 - y)/(1 - p) - y/p times the sigmoid's p o (1 - p)."""
    from derive.ops.elementwise import Hadamard, hadamard

    y, p = test_leaf("y", 2), test_leaf("p", 2)
    one = Ones(y.shape[0])
    g = add(hadamard(one - y, (one - p, -1)), scale(-1, hadamard(y, (p, -1))))
    return Hadamard(((g, 1), (p, 1), (one - p, 1)))


@rule(
    "element-wise fractions cancel",
    r"\left(\frac{\mathbf{1} - \mathbf{y}}{\mathbf{1} - \mathbf{p}} - \frac{\mathbf{y}}{\mathbf{p}}"
    r"\right) \circ \mathbf{p} \circ (\mathbf{1} - \mathbf{p}) = \mathbf{p} - \mathbf{y}",
    "hadamard",
    _fraction_example,
)
def elementwise_fraction(h: Expr) -> Expr | None:
    """A Hadamard product of a sum of element-wise fractions: entry by entry it is a rational
    function of the entries (the Hadamard product commutes), which SymPy cancels."""
    from derive.ops.elementwise import Hadamard

    if not isinstance(h, Hadamard) or not h.is_col:
        return None

    def fraction_sum(f: Expr) -> bool:
        f = split_scale(f)[1]
        return isinstance(f, Add) and any(
            isinstance(t, Hadamard) and any(p < 0 for _, p in t.factors)
            for t in (split_scale(u)[1] for u in f.terms)
        )

    if not any(fraction_sum(f) for f, _ in h.factors):
        return None
    atoms: dict[Expr, sp.Symbol] = {}
    scalar = _to_scalar(h, atoms)
    cancelled = sp.factor(sp.cancel(scalar))
    if cancelled == scalar:
        return None
    from derive.ops.elementwise import from_scalar

    out = from_scalar(cancelled, {s: e for e, s in atoms.items()})
    return out if size(out) < size(h) else None


def _to_scalar(e: Expr, atoms: dict):
    """A column built of sums, multiples, Hadamard powers and ones as a SymPy scalar, each
    other sub-expression a symbol (an entry of it)."""
    from derive.ops.elementwise import Hadamard

    if isinstance(e, Scale):
        return e.c * _to_scalar(e.e, atoms)
    if isinstance(e, Add):
        return sp.Add(*(_to_scalar(t, atoms) for t in e.terms))
    if isinstance(e, Hadamard):
        return sp.Mul(*(_to_scalar(f, atoms) ** p for f, p in e.factors))
    if isinstance(e, Ones) or e == SCALAR_ONE:
        return sp.Integer(1)
    if e not in atoms:
        atoms[e] = sp.Symbol(f"_a{len(atoms)}")
    return atoms[e]


# --- batch centring --------------------------------------------------------------------------
def _centred(f: Expr) -> tuple[Leaf, Leaf] | None:
    """(s, mu_b) when f = c (s - mu_b) for a batched s and its batch mean mu_b = 1/m sum_i s^i."""
    f = split_scale(f)[1]
    if not isinstance(f, Add) or len(f.terms) != 2:
        return None
    (c1, a), (c2, b) = (split_scale(t) for t in f.terms)
    if c1 + c2 != 0 or not (isinstance(a, Leaf) and isinstance(b, Leaf)):
        return None
    for s, mu in ((a, b), (b, a)):
        if s.batched and mu.q.definition is not None and mu.q.definition == mean(s):
            return s, mu
    return None


def centred_pair(e: Expr) -> tuple[Leaf, Leaf] | None:
    """The first (s, mu_b) whose difference s - mu_b appears in ``e``, for the write-up."""
    stack = [e]
    while stack:
        x = stack.pop()
        found = _centred(x)
        if found:
            return found
        stack.extend(x.children)
    return None


def _centring_example() -> Expr:
    from derive.ops.elementwise import Hadamard

    s = test_leaf("s", 2)
    mu = Leaf(Quantity("mu", "mu", s.shape, "node", False, definition=mean(s)))
    g = transpose(test_leaf("G", 1, 2, batched=False))
    return BatchSum(Hadamard(((g, 1), (s - mu, 1))))


@rule(
    "batch centring",
    r"\sum_{i=1}^{m} \mathbf{g} \circ (\mathbf{s}^{i} - \boldsymbol{\mu}_b) = \mathbf{0}"
    r"\text{ for } \boldsymbol{\mu}_b = \frac{1}{m} \sum_{i=1}^{m} \mathbf{s}^{i}"
    r"\text{ and } \mathbf{g} \text{ the same for every sample}",
    "batch_sum",
    _centring_example,
)
def batch_centring(e: Expr) -> Expr | None:
    from derive.ops.elementwise import Hadamard

    if not isinstance(e, BatchSum):
        return None
    from derive.ops.elementwise import Diag

    _, inner = split_scale(e.e)
    if isinstance(inner, Diag):  # a Jacobian: sum_i diag(s^i - mu_b)
        inner = split_scale(inner.v)[1]
    if _centred(inner):
        return Zero(e.shape)
    if isinstance(inner, Hadamard):
        centred = [f for f, p in inner.factors if p == 1 and _centred(f)]
        others = [f for f, _ in inner.factors if f not in centred]
        if centred and not any(f.batched for f in others):
            return Zero(e.shape)
    return None


def _distributing_example() -> Expr:
    a = test_leaf("a", 2)
    return BatchSum(Add((a, scale(-1, scale(1 / m, BatchSum(a))))))


@rule(
    "a batch sum distributes where terms cancel",
    r"\sum_{i=1}^{m} \Big(\mathbf{a}^{i} - \frac{1}{m} \sum_{j=1}^{m} \mathbf{a}^{j}\Big)"
    r" = \mathbf{0}",
    "batch_sum",
    _distributing_example,
)
def batch_sum_distributes(e: Expr) -> Expr | None:
    """sum_i (a^i + b^i) = sum_i a^i + sum_i b^i, where that is shorter (terms cancel: the
    gradient of a bias before a batch normalisation is zero)."""
    if not isinstance(e, BatchSum):
        return None
    c, inner = split_scale(e.e)
    if not isinstance(inner, Add):
        return None
    out = scale(c, add(*(batch_sum(t) for t in inner.terms)))
    return out if size(out) < size(e) else None


# --- sums of rows -----------------------------------------------------------------------------
def _ones_diag_example() -> Expr:
    from derive.ops.elementwise import Diag

    v = test_leaf("v", 3)
    rows = Add((Identity(v.shape[0]), Scale(sp.Integer(-1), Diag(v))))
    return MatMul((Transpose(Ones(v.shape[0])), rows))


@rule(
    "the ones vector sums the rows",
    r"\mathbf{1}^T \operatorname{diag}(\mathbf{v}) = \mathbf{v}^T, \quad \mathbf{1}^T I = "
    r"\mathbf{1}^T",
    "matmul",
    _ones_diag_example,
)
def ones_times_diag(e: Expr) -> Expr | None:
    """1^T diag(v) = v^T, also in a sum of diagonal matrices and identities (a local Jacobian
    of the KL term: -1/2 1^T [I - diag(sigma^2)] = -1/2 (1 - sigma^2)^T)."""
    from derive.ops.elementwise import Diag

    if not isinstance(e, MatMul):
        return None
    f = e.factors
    for k in range(len(f) - 1):
        if not (isinstance(f[k], Transpose) and isinstance(f[k].e, Ones)):
            continue
        c, nxt = split_scale(f[k + 1])
        terms = nxt.terms if isinstance(nxt, Add) else (nxt,)
        if not all(isinstance(split_scale(t)[1], (Diag, Identity)) for t in terms):
            continue

        ones = f[k]

        def row(t: Expr, ones: Expr = ones) -> Expr:
            a, base = split_scale(t)
            return scale(a, transpose(base.v) if isinstance(base, Diag) else ones)

        summed = scale(c, add(*(row(t) for t in terms)))
        return matmul(*f[:k], summed, *f[k + 2 :])
    return None
