"""Stacking column vectors: concatenation and its adjoint, taking a block of rows."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.errors import ShapeError
from derive.expr import Expr, Op, Zero, shape_str, sym, test_leaf
from derive.ops import layout


def _rows(e: Expr):
    return e.shape[0]


@dataclass(frozen=True, repr=False)
class Concat(Op):
    """[a; b; ...]: column vectors stacked."""

    parts: tuple[Expr, ...]

    @property
    def shape(self):
        return (sp.Add(*(_rows(p) for p in self.parts)), sp.Integer(1))

    def rebuild(self, *parts):
        return concat(*parts)

    def numpy(self, code):
        items = [f"int({layout.coefficient(_rows(p))})" if isinstance(p, Zero) else code(p)
                 for p in self.parts]  # fmt: skip
        return f"_concat([{', '.join(items)}])"

    def explicit(self, args, sizes):
        return sp.Matrix.vstack(*args)

    def _start(self, k):
        return sp.Add(*(_rows(p) for p in self.parts[:k]))

    def vjp(self, k, g):
        return take_rows(g, self._start(k), self._start(k) + _rows(self.parts[k]))

    def jacobian(self, k):
        return None  # [0 I 0]: written through its vjp, a block of rows

    def _derive_latex(self, printer):
        return (
            r"\begin{bmatrix} "
            + r" \\ ".join(printer._print(p) for p in self.parts)
            + (r" \end{bmatrix}")
        )

    @classmethod
    def examples(cls):
        return [Concat((test_leaf("u", 2), test_leaf("v", 3))),
                Concat((test_leaf("u", 2), test_leaf("w", 1, batched=False)))]  # fmt: skip


def concat(*parts: Expr) -> Expr:
    """Stack column vectors: [a; b]. Fan-out and concatenation, as in a skip connection."""
    for p in parts:
        if not p.is_col:
            raise ShapeError(f"concat stacks column vectors, got {p!r} ({shape_str(p.shape)})")
    parts = tuple(p for p in parts if _rows(p) != 0)
    if all(isinstance(p, Zero) for p in parts):
        return Zero((sp.Add(*(_rows(p) for p in parts)), sp.Integer(1)))
    return parts[0] if len(parts) == 1 else Concat(parts)


@dataclass(frozen=True, repr=False)
class TakeRows(Op):
    """Rows start .. stop - 1 (0-based) of a column vector: the residual of one stacked part."""

    e: Expr
    start: sp.Expr
    stop: sp.Expr

    @property
    def shape(self):
        return (self.stop - self.start, sp.Integer(1))

    def rebuild(self, e):
        return take_rows(e, self.start, self.stop)

    def numpy(self, code):
        lo, hi = layout.coefficient(self.start), layout.coefficient(self.stop)
        return f"{code(self.e)}[..., int({lo}):int({hi})]"

    def explicit(self, args, sizes):
        lo, hi = (int(sym(v).subs(sizes)) for v in (self.start, self.stop))
        return args[0][lo:hi, :]

    def vjp(self, k, g):
        n = _rows(self.e)
        return concat(Zero((self.start, sp.Integer(1))), g, Zero((n - self.stop, sp.Integer(1))))

    def jacobian(self, k):
        return None

    def _derive_latex(self, printer):
        lo, hi = printer._print(self.start + 1), printer._print(self.stop)
        return r"\left[" + printer._print(self.e) + r"\right]_{" + lo + ":" + hi + "}"

    @classmethod
    def examples(cls):
        return [TakeRows(test_leaf("u", 4), sp.Integer(1), sp.Integer(3))]


def take_rows(e: Expr, start, stop) -> Expr:
    start, stop = sym(start), sym(stop)
    if start == 0 and stop == _rows(e):
        return e
    if isinstance(e, Concat):  # the block of one part: that part
        offset = sp.Integer(0)
        for p in e.parts:
            if offset == start and offset + _rows(p) == stop:
                return p
            offset += _rows(p)
    if isinstance(e, Zero):
        return Zero((stop - start, sp.Integer(1)))
    return TakeRows(e, start, stop)
