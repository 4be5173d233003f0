"""Sums over the samples of a batch: the 1/m sum_i of losses and batch statistics."""

from __future__ import annotations

from dataclasses import dataclass

from derive.expr import Expr, Identity, Op, m, test_leaf
from derive.ops import layout
from derive.ops.algebra import MatMul, Scale, scale


@dataclass(frozen=True, repr=False)
class BatchSum(Op):
    """sum_{i=1}^m e^i. Couples the samples: its residual reaches every sample."""

    e: Expr
    batched = False

    @property
    def shape(self):
        return self.e.shape

    def rebuild(self, e):
        return batch_sum(e)

    def numpy(self, code):
        e = self.e
        # sum_i a^i (b^i)^T is one matrix product, not m outer products
        if isinstance(e, MatMul) and len(e.factors) == 2 and all(f.batched for f in e.factors):
            a, b = e.factors
            if layout.kind(a) == "col" and layout.kind(b) == "row":
                return f"_sample_outer({code(a)}, {code(b)})"
        if isinstance(e, MatMul) and len(e.factors) == 2 and not e.factors[0].is_scalar:
            a, b = e.factors
            return layout.einsum_product(code(a), a, code(b), b, keep_batch=False)
        return f"{code(e)}.sum(axis=0)"

    def vjp(self, k, g):
        return g

    def jacobian(self, k):
        return Identity(self.shape[0]) if self.e.is_col else None

    @classmethod
    def examples(cls):
        return [BatchSum(test_leaf("u", 2)), BatchSum(test_leaf("u", 2) * test_leaf("v", 3).T)]


def batch_sum(e: Expr) -> Expr:
    if isinstance(e, Scale):
        return scale(e.c, batch_sum(e.e))
    if not e.batched:
        return scale(m, e)
    from derive.ops import identities

    return identities.simplify("batch_sum", BatchSum(e))


def mean(e: Expr) -> Expr:
    """The batch mean 1/m sum_i e^i."""
    return scale(1 / m, batch_sum(e))
