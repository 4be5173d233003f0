"""How values sit in NumPy arrays, and the NumPy source for products in that layout.

Samples run along the first axis. Per sample (or for an unbatched value): a scalar is a 0-d array,
a column or row vector is 1-D, a matrix is 2-D. So a batch of column vectors is (m, n), a bias is
(n,), a weight matrix is (out, in): the layout users give and get back.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter

ONE = sp.Integer(1)


def kind(e) -> str:
    r, c = e.shape
    if r == 1 and c == 1:
        return "scalar"
    if c == 1:
        return "col"
    if r == 1:
        return "row"
    return "mat"


def dims_code(sym: sp.Symbol) -> str:
    return "_" + sym.name


class ScalarPrinter(NumPyPrinter):
    """NumPy source of scalar SymPy expressions, applied entry by entry."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": True})

    def _print_Heaviside(self, expr):
        # the indicator 1[s > 0] the report prints, 0 at 0 as in PyTorch (SymPy's H(0) = 1/2
        # never reaches the proofs, which keep away from kinks); 4x faster than numpy.heaviside
        return f"({self._print(expr.args[0])} > 0).astype(float)"


def scalar_code(expr: sp.Expr) -> str:
    return "(" + ScalarPrinter().doprint(expr) + ")"


def coefficient(c: sp.Expr) -> str:
    """NumPy source of a SymPy scalar; sizes are the locals _m, _d, ... of generated code."""
    return scalar_code(c.subs({s: sp.Symbol(dims_code(s)) for s in c.free_symbols}))


def transpose(code: str, e) -> str:
    if kind(e) != "mat":
        return code
    return f"numpy.swapaxes({code}, -1, -2)" if e.batched else f"{code}.T"


def scalar_times(s_code: str, s, x_code: str, x) -> str:
    if s.batched and kind(x) != "scalar":
        s_code = f"{s_code}[:, None]" if kind(x) != "mat" else f"{s_code}[:, None, None]"
    return f"({s_code} * {x_code})"


def product(a_code: str, a, b_code: str, b) -> str:
    """NumPy source of the matrix product a b, in the layout above."""
    ka, kb = kind(a), kind(b)
    if ka == "scalar":
        return scalar_times(a_code, a, b_code, b)
    if kb == "scalar":
        return scalar_times(b_code, b, a_code, a)
    if ka == "mat" and not a.batched and kb == "col":
        return f"({b_code} @ {a_code}.T)" if b.batched else f"({a_code} @ {b_code})"
    if kb == "mat" and not b.batched and ka in ("row", "mat") and not (ka == "mat" and a.batched):
        return f"({a_code} @ {b_code})"
    if ka == "row" and kb == "col":
        return f"({a_code} * {b_code}).sum(axis=-1)"
    if ka == "mat" and kb == "mat":  # a batch of matrices broadcasts: one BLAS call a sample
        return f"({a_code} @ {b_code})"
    return einsum_product(a_code, a, b_code, b)


def einsum_product(a_code: str, a, b_code: str, b, keep_batch: bool = True) -> str:
    r, k = a.shape
    c = b.shape[1]
    sa = ("z" if a.batched else "") + ("a" if r != 1 else "") + ("b" if k != 1 else "")
    sb = ("z" if b.batched else "") + ("b" if k != 1 else "") + ("c" if c != 1 else "")
    batch = "z" if (a.batched or b.batched) and keep_batch else ""
    out = batch + ("a" if r != 1 else "") + ("c" if c != 1 else "")
    if not keep_batch and a.batched and b.batched and r != 1 and k != 1 and c != 1:
        # sum_i A^i B^i, the gradient of a kernel: one matrix product over samples and columns
        return f"_sample_matmul({a_code}, {b_code})"
    return f"numpy.einsum('{sa},{sb}->{out}', {a_code}, {b_code})"
