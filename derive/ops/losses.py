"""Softmax, the squared norm, and the losses built from them."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.errors import ShapeError
from derive.expr import Expr, Op, shape_str, test_leaf
from derive.ops.algebra import matmul, scale, transpose
from derive.ops.elementwise import ELEMENTWISE, Diag, hadamard, log


def _need_col(name: str, e: Expr) -> None:
    if not e.is_col:
        raise ShapeError(f"{name} needs a column vector, got {e!r} ({shape_str(e.shape)})")


@dataclass(frozen=True, repr=False)
class Softmax(Op):
    z: Expr
    latex_template = r"\operatorname{softmax}\left({0}\right)"

    @property
    def shape(self):
        return self.z.shape

    @property
    def batched(self):
        return self.z.batched

    @property
    def children(self):
        return (self.z,)

    def rebuild(self, z):
        return softmax(z)

    def numpy(self, code):
        return f"_softmax({code(self.z)})"

    def explicit(self, args, sizes):
        e = args[0].applyfunc(ELEMENTWISE["exp"].scalar)
        return e / sum(e)

    def vjp(self, k, g):
        # (diag(p) - p p^T) g  =  p o g - p (p^T g)
        return hadamard(self, g) - matmul(self, matmul(transpose(self), g))

    def jacobian(self, k):
        return Diag(self) - matmul(self, transpose(self))

    @classmethod
    def examples(cls):
        return [Softmax(test_leaf("z", 3))]


def softmax(z: Expr) -> Expr:
    _need_col("softmax", z)
    return Softmax(z)


@dataclass(frozen=True, repr=False)
class SqNorm(Op):
    """||e||_2^2 of a vector, ||E||_F^2 (the sum of squared entries) of a matrix."""

    e: Expr
    delimited = True

    @property
    def latex_template(self):
        return r"\left\| {0} \right\|_" + ("2" if self.e.is_col else "F") + "^2"

    @property
    def shape(self):
        return (sp.Integer(1), sp.Integer(1))

    @property
    def batched(self):
        return self.e.batched

    @property
    def children(self):
        return (self.e,)

    def rebuild(self, e):
        return sq_norm(e)

    def numpy(self, code):
        axes = "-1" if self.e.is_col else "(-2, -1)"
        return f"({code(self.e)}**2).sum(axis={axes})"

    def explicit(self, args, sizes):
        return sp.Matrix([[sum(v**2 for v in args[0])]])

    def vjp(self, k, g):
        return scale(2, matmul(g, self.e))

    def jacobian(self, k):
        return scale(2, transpose(self.e)) if self.e.is_col else None

    @classmethod
    def examples(cls):
        return [SqNorm(test_leaf("u", 3)), SqNorm(test_leaf("W", 2, 3, batched=False))]


def sq_norm(e: Expr) -> Expr:
    """||e||^2: the squared Euclidean norm of a vector, the squared Frobenius norm of a matrix."""
    return SqNorm(e)


def squared_error(prediction: Expr, target: Expr) -> Expr:
    """1/2 ||prediction - target||_2^2 for one sample."""
    return scale(sp.Rational(1, 2), sq_norm(prediction - target))


def cross_entropy(probabilities: Expr, target: Expr) -> Expr:
    """-y^T log(p) for one sample: the cross-entropy of the predicted distribution p."""
    _need_col("cross-entropy", probabilities)
    return -(transpose(target) * log(probabilities))
