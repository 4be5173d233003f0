"""derive: declare a network, derive every residual and gradient in matrix form, prove them,
compile them to NumPy and write them up."""

from derive.errors import DeriveError, ShapeError
from derive.expr import m
from derive.graph import Network, load
from derive.layers import batch_norm, batch_variance, normalise
from derive.ops.algebra import transpose
from derive.ops.batch import batch_sum, mean
from derive.ops.conv import avg_pool, conv2d, flatten, image, max_pool
from derive.ops.elementwise import (
    absolute,
    cos,
    elementwise,
    elu,
    exp,
    hadamard,
    identity,
    leaky_relu,
    log,
    relu,
    sigmoid,
    sign,
    sin,
    softplus,
    sqrt,
    square,
    tanh,
)  # fmt: skip
from derive.ops.losses import (
    cosine_loss,
    cosine_similarity,
    cross_entropy,
    gaussian_kl,
    hinge,
    huber,
    l1_loss,
    logsumexp,
    mse,
    multiclass_hinge,
    norm,
    perceptron,
    softmax,
    softmax_cross_entropy,
    sq_norm,
    squared_error,
)  # fmt: skip
from derive.ops.structure import concat


def dropout(x, mask):
    """x o M: inverted dropout with a given mask M whose entries are 0 or 1/keep."""
    return hadamard(x, mask)


__all__ = [
    "DeriveError", "ShapeError", "Network", "load", "m", "transpose", "batch_sum", "mean",
    "batch_norm", "batch_variance", "normalise", "concat",
    "conv2d", "image", "max_pool", "avg_pool", "flatten",
    "absolute", "cos", "elementwise", "elu", "exp", "hadamard", "identity", "leaky_relu", "log",
    "relu", "sigmoid", "sign", "sin", "softplus", "sqrt", "square", "tanh",
    "cross_entropy", "softmax", "sq_norm", "squared_error", "dropout", "cosine_loss",
    "cosine_similarity", "gaussian_kl", "hinge", "huber", "l1_loss", "logsumexp", "mse",
    "multiclass_hinge", "norm", "perceptron", "softmax_cross_entropy",
]  # fmt: skip
