"""The likely mistake behind a wrong gradient: the right formula, broken in each common way,
compared with the student's.

Each rule takes one sub-expression of the right formula and returns it broken the way a student
breaks it; every place the rule applies gives one candidate. A candidate the student's formula
equals (see :mod:`derive.claims.compare`) names the slip. The rules are a table, apart from the
code that applies them, so a new kind of slip is one entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import sympy as sp

from derive.backprop import Gradient
from derive.errors import DeriveError
from derive.expr import Expr, Leaf, m
from derive.ops.algebra import Add, MatMul, Scale, Transpose, add, scale, transpose
from derive.ops.elementwise import Apply, Hadamard, hadamard

MAX_CANDIDATES = 150  # candidates per claim, each compiled and evaluated at a few points


def _no_transpose(e: Expr) -> Expr | None:
    return e.e if isinstance(e, Transpose) else None


def _extra_transpose(e: Expr) -> Expr | None:
    r, c = e.shape
    if r == c and r != 1 and not isinstance(e, Transpose | Leaf):
        return transpose(e)
    return None


def _no_one_over_m(e: Expr) -> Expr | None:
    if isinstance(e, Scale) and e.c.has(m):
        rest = sp.simplify(e.c * m)
        if not rest.has(m):
            return scale(rest, e.e)
    return None


def _sign_flip(e: Expr) -> Expr | None:
    return scale(-1, e)


def _hadamard_for_product(e: Expr) -> Expr | None:
    """A Hadamard product written where a matrix product of two same-shape (square) factors
    belongs. Where the shapes differ, the student's formula does not fit its shapes at all, and
    :func:`derive.claims.check.ast_repairs` finds the slip by changing the product back."""
    if isinstance(e, MatMul) and len(e.factors) == 2:
        a, b = e.factors
        if a.shape == b.shape:
            return hadamard(a, b)
    return None


def _no_activation_derivative(e: Expr) -> Expr | None:
    """The factor f'(s) of an activation left out: a Hadamard factor made of element-wise
    functions of one quantity (sigma o (1 - sigma), 1 - tanh^2, 1[s > 0])."""
    if not isinstance(e, Hadamard):
        return None
    for k, (f, power) in enumerate(e.factors):
        if power == 1 and _is_activation_factor(f):
            rest = [(x, p) for j, (x, p) in enumerate(e.factors) if j != k]
            return hadamard(*rest) if rest else None
    return None


def _is_activation_factor(f: Expr) -> bool:
    if isinstance(f, Apply):
        return True
    if isinstance(f, Add | Hadamard | Scale):
        return any(isinstance(x, Apply) for x in f.children) and not any(
            isinstance(x, MatMul) for x in f.children
        )
    return False


def _wrong_factor(e: Expr) -> list[Expr] | None:
    """A constant factor halved or doubled: lambda W for 2 lambda W, a 1/2 dropped or added."""
    if isinstance(e, Scale) and not e.c.has(m) and e.c.is_number and e.c != 0:
        return [scale(sp.Rational(1, 2), e), scale(2, e)]
    if isinstance(e, Add):
        return None  # its terms are tried one by one
    if isinstance(e, Leaf):
        return None
    return [scale(sp.Rational(1, 2), e), scale(2, e)] if e.shape == e.shape else None


#: slip -> rule; a rule returns the sub-expression broken (or several ways), or None where it
#: does not apply
RULES: dict[str, Callable[[Expr], Expr | list[Expr] | None]] = {
    "a missing transpose": _no_transpose,
    "an extra transpose": _extra_transpose,
    "a missing 1/m": _no_one_over_m,
    "a Hadamard product where a matrix product belongs": _hadamard_for_product,
    "a missing derivative factor of an activation": _no_activation_derivative,
    "a wrong constant factor": _wrong_factor,
}


def broken(e: Expr, rule: Callable[[Expr], Expr | None]) -> Iterator[Expr]:
    """``e`` with one sub-expression broken by ``rule``, at every place it applies."""
    here = _safely(rule, e)
    for option in here if isinstance(here, list) else [here]:
        if option is not None and option.shape == e.shape:
            yield option
    children = e.children
    for k, child in enumerate(children):
        for b in broken(child, rule):
            parts = list(children)
            parts[k] = b
            try:
                rebuilt = e.rebuild(*parts)
            except (DeriveError, ValueError, TypeError):
                continue
            if rebuilt.shape == e.shape:
                yield rebuilt


def _safely(rule, e):
    try:
        return rule(e)
    except (DeriveError, ValueError, TypeError):
        return None


def dropped_branches(gradient: Gradient, expanded: dict) -> Iterator[Expr]:
    """The residual of a node that feeds several others with one consumer's share left out:
    the compact form's terms, each consumer's residual in its expanded form, all but one."""
    if len(gradient.terms) < 2:
        return
    from derive.expr import Residual, substitute

    products = [t.product for t in gradient.terms]
    for k in range(len(products)):
        kept = [p for j, p in enumerate(products) if j != k]
        try:
            yield substitute(add(*kept), {Residual(q): e for q, e in expanded.items()})
        except (DeriveError, ValueError, TypeError):
            continue


def likely_slip(right: Expr, same: Callable[[Expr], bool], gradient: Gradient | None = None,
                expanded: dict | None = None) -> str | None:  # fmt: skip
    """The name of the first slip whose broken formula the student's equals (``same``), or
    None."""
    tried = 0
    candidates: list[tuple[str, Iterator[Expr]]] = [("a sign flip", iter([scale(-1, right)]))]
    if gradient is not None and expanded is not None:
        candidates.append(
            ("a dropped branch where the graph fans out", dropped_branches(gradient, expanded))
        )
    candidates += [(name, broken(right, rule)) for name, rule in RULES.items()]
    seen = {right}
    for name, options in candidates:
        for candidate in options:
            if candidate in seen:
                continue
            seen.add(candidate)
            tried += 1
            if tried > MAX_CANDIDATES:
                return None
            if same(candidate):
                return name
    return None
