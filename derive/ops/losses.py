"""Softmax, the squared norm, and the losses built from them."""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.errors import ShapeError
from derive.expr import SCALAR_ONE, Expr, Ones, Op, shape_str, test_leaf
from derive.ops.algebra import add, exact, matmul, scale, transpose
from derive.ops.elementwise import (
    ELEMENTWISE,
    Diag,
    S,
    ScalarFn,
    absolute,
    apply,
    exp,
    hadamard,
    log,
    relu,
)  # fmt: skip


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

    @property
    def delimited(self) -> bool:
        return not self.e.is_scalar

    @property
    def latex_template(self):
        if self.e.is_scalar:  # of a number: its square, (o - t)^2 as the homework writes it
            return r"\left({0}\right)^2"
        return r"\left\| {0} \right\|_" + ("2" if self.e.is_col else "F") + "^2"

    @property
    def shape(self):
        return (sp.Integer(1), sp.Integer(1))

    def rebuild(self, e):
        return sq_norm(e)

    def numpy(self, code):
        # atleast_*: a constant side (the norm of a number in a claim) compiles to a float
        if self.e.is_col:
            return f"(numpy.atleast_1d({code(self.e)})**2).sum(axis=-1)"
        return f"(numpy.atleast_2d({code(self.e)})**2).sum(axis=(-2, -1))"

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


@dataclass(frozen=True, repr=False)
class LogSumExp(Op):
    """log 1^T exp(z): the normaliser of the softmax, whose gradient is the softmax."""

    z: Expr
    latex_template = r"\operatorname{logsumexp}\left({0}\right)"

    @property
    def shape(self):
        return (sp.Integer(1), sp.Integer(1))

    def rebuild(self, z):
        return logsumexp(z)

    def numpy(self, code):
        return f"_logsumexp({code(self.z)})"

    def explicit(self, args, sizes):
        return sp.Matrix(
            [[ELEMENTWISE["log"].scalar(sum(args[0].applyfunc(ELEMENTWISE["exp"].scalar)))]]
        )

    def vjp(self, k, g):
        return matmul(g, softmax(self.z))

    def jacobian(self, k):
        return transpose(softmax(self.z))

    @classmethod
    def examples(cls):
        return [LogSumExp(test_leaf("z", 3))]


def logsumexp(z: Expr) -> Expr:
    _need_col("logsumexp", z)
    return LogSumExp(z)


def _total(v: Expr) -> Expr:
    """1^T v: the sum of the entries of a column vector."""
    return matmul(transpose(Ones(v.shape[0])), v)


def _same_shape(name: str, a: Expr, b: Expr) -> None:
    if a.shape != b.shape:
        raise ShapeError(
            f"{name}: the prediction {a!r} ({shape_str(a.shape)}) and the target {b!r} "
            f"({shape_str(b.shape)}) differ in shape"
        )


def softmax_cross_entropy(scores: Expr, target: Expr) -> Expr:
    """-y^T log softmax(z), fused: logsumexp(z) - y^T z for a one-hot y (times 1^T y otherwise).
    Its gradient is softmax(z) - y, and it never takes the log of an underflowed probability."""
    _need_col("softmax cross-entropy", scores)
    _same_shape("softmax cross-entropy", scores, target)
    from derive.expr import Leaf

    onehot = isinstance(target, Leaf) and target.q.content == "onehot"
    weight = SCALAR_ONE if onehot else _total(target)
    return matmul(weight, logsumexp(scores)) - transpose(target) * scores


def mse(prediction: Expr, target: Expr) -> Expr:
    """1/n ||prediction - target||^2 for one sample of n outputs."""
    _same_shape("mse", prediction, target)
    return scale(1 / prediction.shape[0], sq_norm(prediction - target))


def l1_loss(prediction: Expr, target: Expr) -> Expr:
    """||prediction - target||_1 = 1^T |prediction - target| for one sample."""
    _same_shape("L1 loss", prediction, target)
    return _total(absolute(prediction - target))


def huber_fn(delta) -> ScalarFn:
    d = exact(delta)
    return ScalarFn(
        sp.Piecewise((S**2 / 2, sp.Abs(S) <= d), (d * sp.Abs(S) - d**2 / 2, True)),
        "Huber",
        r"\operatorname{H}_{" + sp.latex(d) + "}",
        numpy=f"numpy.where(numpy.abs({{0}}) <= {float(d)!r}, 0.5 * ({{0}})**2, "
        f"{float(d)!r} * numpy.abs({{0}}) - {float(d) ** 2 / 2!r})",
    )


def huber(prediction: Expr, target: Expr, delta=1) -> Expr:
    """sum_k H_delta(prediction_k - target_k): quadratic within delta, linear beyond."""
    _same_shape("Huber loss", prediction, target)
    return _total(apply(huber_fn(delta), prediction - target))


def hinge(score: Expr, label: Expr) -> Expr:
    """max(0, 1 - y s) for a scalar score s and a label y in {-1, 1}."""
    if not (score.is_scalar and label.is_scalar):
        raise ShapeError(f"the binary hinge loss needs a scalar score and label, got "
                         f"{shape_str(score.shape)} and {shape_str(label.shape)}")  # fmt: skip
    return relu(add(SCALAR_ONE, scale(-1, matmul(label, score))))


def perceptron(score: Expr, label: Expr) -> Expr:
    """max(0, -y s) for a scalar score s and a label y in {-1, 1}: Rosenblatt's perceptron loss,
    zero on a sample classified right, -y s (the distance's scale) on one classified wrong."""
    if not (score.is_scalar and label.is_scalar):
        raise ShapeError(f"the perceptron loss needs a scalar score and label, got "
                         f"{shape_str(score.shape)} and {shape_str(label.shape)}")  # fmt: skip
    return relu(scale(-1, matmul(label, score)))


def multiclass_hinge(scores: Expr, target: Expr, margin=1) -> Expr:
    """sum_{j != y} max(0, s_j - s_y + margin) for a one-hot target: the multi-class SVM loss,
    written 1^T max(0, s - (y^T s) 1 + margin 1) - margin (the j = y term is the margin)."""
    _need_col("the multi-class hinge loss", scores)
    _same_shape("multi-class hinge", scores, target)
    n = scores.shape[0]
    margins = add(
        scores, scale(-1, matmul(Ones(n), transpose(target) * scores)), scale(margin, Ones(n))
    )
    return add(_total(relu(margins)), scale(-margin, SCALAR_ONE))


@dataclass(frozen=True, repr=False)
class Norm(Op):
    """||e||_2 of a column vector."""

    e: Expr
    delimited = True
    latex_template = r"\left\| {0} \right\|_2"

    @property
    def shape(self):
        return (sp.Integer(1), sp.Integer(1))

    def rebuild(self, e):
        return norm(e)

    def numpy(self, code):
        return f"numpy.sqrt((numpy.atleast_1d({code(self.e)})**2).sum(axis=-1))"

    def explicit(self, args, sizes):
        return sp.Matrix([[ELEMENTWISE["sqrt"].scalar(sum(v**2 for v in args[0]))]])

    def vjp(self, k, g):
        return matmul(hadamard(g, (self, -1)), self.e)

    def jacobian(self, k):
        return matmul(hadamard((self, -1)), transpose(self.e))

    @classmethod
    def examples(cls):
        return [Norm(test_leaf("u", 3))]


def norm(e: Expr) -> Expr:
    _need_col("the norm", e)
    return Norm(e)


def cosine_similarity(a: Expr, b: Expr) -> Expr:
    """a^T b / (||a|| ||b||)."""
    _need_col("cosine similarity", a)
    _same_shape("cosine similarity", a, b)
    return hadamard(transpose(b) * a, (norm(a), -1), (norm(b), -1))


def cosine_loss(prediction: Expr, target: Expr) -> Expr:
    """-cos(prediction, target): seed 002's -y^T yhat / ||yhat|| when ||y|| = 1."""
    return scale(-1, cosine_similarity(prediction, target))


def gaussian_kl(mu: Expr, logvar: Expr) -> Expr:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) = -1/2 1^T (1 + logvar - mu^2 - exp(logvar))."""
    _need_col("the Gaussian KL term", mu)
    _same_shape("Gaussian KL", mu, logvar)
    inner = add(Ones(mu.shape[0]), logvar, scale(-1, hadamard((mu, 2))), scale(-1, exp(logvar)))
    return scale(sp.Rational(-1, 2), _total(inner))
