"""Row-vector forms for the lectures' Jacobian notation: the gradient g = dJ/dv of one sample as a
row vector, vec(W) and Kronecker products, and a printer that writes them as the lectures do
(I_C, Ind(s > 0), g^T x^T).

The derivation keeps column residuals; a row form is the transpose of one, so what is printed in
this notation is the transpose of what is proved. :func:`row` transposes an expression and pushes
the transpose down through sums, batch sums and products, so that (a + b)^T prints as a^T + b^T.
These expressions are only ever printed, never compiled or proved.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.expr import Expr, Residual
from derive.ops.algebra import Add, MatMul, Scale, Transpose, add, matmul, scale, transpose
from derive.ops.batch import BatchSum, batch_sum
from derive.ops.elementwise import Apply, Hadamard, hadamard
from derive.render.printer import BRACKETS, DerivePrinter, ScalarPrinter, with_superscript


@dataclass(frozen=True, repr=False)
class RowGrad(Residual):
    """dJ/dq as a row vector (1 x n for a column q). ``label`` (\\mathbf{g}) names it as the
    running gradient of the backward pass; without one it prints as the fraction."""

    label: str = ""

    @property
    def shape(self):
        rows, cols = self.q.shape
        return (cols, rows)


@dataclass(frozen=True, repr=False)
class Vec(Expr):
    """vec(W): the rows of W stacked into one column, as in the lecture."""

    e: Expr

    @property
    def shape(self):
        rows, cols = self.e.shape
        return (rows * cols, sp.Integer(1))


@dataclass(frozen=True, repr=False)
class Kron(Expr):
    """The Kronecker product a (x) b; (I_C (x) x^T) vec(W) = W x."""

    a: Expr
    b: Expr

    @property
    def shape(self):
        return (self.a.shape[0] * self.b.shape[0], self.a.shape[1] * self.b.shape[1])


@dataclass(frozen=True, repr=False)
class Paren(Expr):
    """An expression in brackets, for a factor whose operator binds looser than the product."""

    e: Expr
    delimited = True  # the printer adds no further brackets around it

    @property
    def shape(self):
        return self.e.shape


def row(e: Expr) -> Expr:
    """e^T, with the transpose pushed into sums and batch sums (SymPy-free, like transpose)."""
    if e.is_scalar:
        return e
    if isinstance(e, Add):
        return add(*(row(t) for t in e.terms))
    if isinstance(e, BatchSum):
        return batch_sum(row(e.e))
    if isinstance(e, Scale):
        return scale(e.c, row(e.e))
    if isinstance(e, MatMul):
        return matmul(*(row(f) for f in reversed(e.factors)))
    if isinstance(e, Hadamard):
        return hadamard(*((row(f), p) for f, p in e.factors))
    return transpose(e)


def pushed(e: Expr) -> Expr:
    """The transposes of whole sums pushed inside: (sum_i g^i h^i)^T -> sum_i (h^i)^T g^i."""
    if isinstance(e, Transpose):
        return row(e.e)
    if isinstance(e, Add):
        return add(*(pushed(t) for t in e.terms))
    if isinstance(e, Scale):
        return scale(e.c, pushed(e.e))
    return e


class IndPrinter(ScalarPrinter):
    """The lecture writes the ReLU derivative as Ind(s > 0)."""

    def _print_Heaviside(self, expr, exp=None):
        return (
            r"\operatorname{Ind}"
            + BRACKETS[0][0]
            + self._print(expr.args[0])
            + r" > 0"
            + (BRACKETS[0][1])
        )


class JacobianPrinter(DerivePrinter):
    """DerivePrinter for the Jacobian notation: row gradients, I_C, Ind(.), vec and (x)."""

    def __init__(self, loss_latex: str = "J", index: str | None = None):
        super().__init__(loss_latex, index)
        self.scalar = IndPrinter({"order": "none"})

    def _print_RowGrad(self, e):
        if e.label:
            return self.quantity_like(e.label, e.q.batched)
        return self._print_Residual(e)

    def quantity_like(self, latex: str, batched: bool) -> str:
        return with_superscript(latex, self.index) if batched and self.index else latex

    def _print_Identity(self, e):
        return "1" if e.n == 1 else "I_{" + sp.latex(e.n) + "}"

    def _print_Vec(self, e):
        return r"\operatorname{vec}" + self.wrap(self._print(e.e))

    def _print_Kron(self, e):
        return self.operand(e.a) + r" \otimes " + self.operand(e.b)

    def _print_Paren(self, e):
        return self.wrap(self._print(e.e))

    def _print_MatMul(self, e):
        f = e.factors
        if e.is_scalar and len(f) == 2 and isinstance(f[1], Transpose):
            if isinstance(f[1].e, RowGrad):
                # p^T g^T is the scalar g p: the row gradient in front, as the lecture has it
                return self._print(f[1].e) + " " + self._print(transpose(f[0]))
        if isinstance(f[0], RowGrad) and f[0].label and f[0].is_scalar and len(f) > 1:
            return self._print(f[0]) + " " + self._print(matmul(*f[1:]))  # g h^T, not (g) h^T
        return super()._print_MatMul(e)

    def _print_Transpose(self, e):
        inner = e.e
        labelled = isinstance(inner, RowGrad) and inner.label
        if isinstance(inner, (Vec, Apply)) or (labelled and not (inner.batched and self.index)):
            return with_superscript(self._print(inner), "T")
        return super()._print_Transpose(e)
