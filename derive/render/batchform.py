"""The backward pass for the whole batch at once (--notation batch): the samples as the columns of
a matrix (X = (x^1 ... x^m)), the per-sample row gradients g^i as the rows of a matrix G, so that
sum_i (g^i)^T (x^i)^T = G^T X^T and sum_i g^i = 1^T G.

Only what is a matrix product for the whole batch is rewritten: g <- g W becomes G <- G W,
g <- g diag(f(s)) becomes G <- G o f(S)^T; a per-sample Jacobian that differs from sample to
sample (the softmax's diag(p) - p p^T) leaves G defined by its rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sympy.printing.latex import LatexPrinter

from derive.errors import ShapeError
from derive.expr import Expr, Leaf, Ones, Quantity, leaves, m, substitute
from derive.ops.algebra import MatMul, Transpose, matmul, transpose
from derive.ops.batch import BatchSum
from derive.ops.elementwise import Diag, hadamard
from derive.render.printer import with_superscript
from derive.render.rowform import JacobianPrinter, RowGrad


@dataclass(frozen=True, repr=False)
class BatchMatrix(Expr):
    """All samples of a quantity at once: its values as columns (``grad`` False, n x m) or its
    row gradients as rows (``grad`` True, m x n, written G)."""

    q: Quantity
    grad: bool = False
    current: bool = True  # the running G of the backward pass (else G with a subscript)
    batched = False

    @property
    def shape(self):
        n = self.q.shape[0]
        return (m, n) if self.grad else (n, m)


def matrix_name(latex: str) -> str:
    """x -> X, s_1 -> S_1, x^(1) -> X^(1): bold lower-case vectors become capitals."""
    return re.sub(r"\\(?:mathbf|boldsymbol)\{([A-Za-z])\}", lambda mt: mt.group(1).upper(), latex)


class BatchPrinter(JacobianPrinter):
    def _print_BatchMatrix(self, e):
        if not e.grad:
            return matrix_name(e.q.latex)
        return "G" if e.current else "G_{" + e.q.latex + "}"

    def _print_Transpose(self, e):
        if isinstance(e.e, BatchMatrix):
            return with_superscript(self._print(e.e), "T")
        return super()._print_Transpose(e)


def to_batch(expr: Expr, current: Quantity | None) -> Expr | None:
    """``expr`` with every sum over the samples written as a matrix product, or None."""
    mapping: dict[Expr, Expr] = {}
    for s in leaves(expr, BatchSum):
        form = _sum_as_product(s.e, current)
        if form is None:
            return None
        mapping[s] = form
    try:
        out = substitute(expr, mapping)
    except ShapeError:
        return None
    return None if leaves(out, BatchSum) or any(x.batched for x in leaves(out)) else out


def _grad(e: Expr, current) -> BatchMatrix | None:
    inner = e.e if isinstance(e, Transpose) else e
    if isinstance(inner, RowGrad) and inner.q.shape[1] == 1:
        return BatchMatrix(inner.q, grad=True, current=inner.q == current)
    return None


def _sum_as_product(e: Expr, current) -> Expr | None:
    G = _grad(e, current)
    if G is not None and not isinstance(e, Transpose):  # sum_i g^i = 1^T G
        return matmul(transpose(Ones(m)), G)
    if isinstance(e, MatMul) and len(e.factors) == 2:  # sum_i (g^i)^T (v^i)^T = G^T V^T
        G, v = _grad(e.factors[0], current), transpose(e.factors[1])
        row_first = isinstance(e.factors[0], Transpose) or e.factors[0].is_scalar
        if G is not None and row_first and isinstance(v, Leaf):
            return matmul(transpose(G), transpose(BatchMatrix(v.q)))
    return None


def data(e: Expr) -> Expr:
    """Every per-sample quantity replaced by its batch matrix (s -> S)."""
    return substitute(e, {x: BatchMatrix(x.q) for x in leaves(e) if x.batched})


def update(jacobian: Expr, current: Quantity) -> Expr | None:
    """G <- G J for a Jacobian shared by the samples, G o f(S)^T for diag(f(s)); else None."""
    G = BatchMatrix(current, grad=True)
    if not any(x.batched for x in leaves(jacobian)):
        return matmul(G, jacobian)
    if isinstance(jacobian, Diag):
        try:
            return hadamard(G, transpose(data(jacobian.v)))
        except ShapeError:  # a vector of ones in it (1 - sigma) has no batch-matrix form here
            return None
    return None


def as_rows(residual: Expr) -> Expr | None:
    """G, whose rows are the transposed per-sample residuals, as one matrix expression:
    (1/m)(p^i - y^i) gives (1/m)(P - Y)^T. None where a residual sums over the batch or mixes
    in a vector that has no batch matrix (1 - p)."""
    if not residual.batched or leaves(residual, BatchSum) or not residual.is_col:
        return None
    try:
        return transpose(data(residual))
    except ShapeError:
        return None


#: G written by its rows, the g^i of the samples.
ROWS = r"\begin{pmatrix} \mathbf{g}^{1} \\ \vdots \\ \mathbf{g}^{m} \end{pmatrix}"


def marked(expr: Expr, loss: str = "J") -> str:
    return LatexPrinter.doprint(BatchPrinter(loss, None), expr)
