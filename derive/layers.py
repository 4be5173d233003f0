"""Layers that declare several nodes at once: batch normalisation, written as the lecture does."""

from __future__ import annotations

import sympy as sp

from derive.expr import Expr, Leaf, Ones
from derive.graph import Network
from derive.ops.algebra import add, scale
from derive.ops.batch import mean
from derive.ops.elementwise import S, ScalarFn, apply, hadamard

#: (v + epsilon)^(-1/2) entry by entry
INV_SQRT = ScalarFn(S ** sp.Rational(-1, 2))


def batch_variance(s: Expr, mu: Expr) -> Expr:
    """v_b = 1/m sum_i (s^i - mu_b) o (s^i - mu_b): the biased batch variance, per feature."""
    return mean(hadamard((s - mu, 2)))


def normalise(s: Expr, mu: Expr, v: Expr, eps: sp.Expr) -> Expr:
    """(s - mu_b) o (v_b + epsilon 1)^(-1/2): the lecture's V_b^(-1/2) (s_i - mu_b)."""
    n = s.shape[0]
    return hadamard(s - mu, apply(INV_SQRT, add(v, scale(eps, Ones(n)))))


def batch_norm(net: Network, name: str, s: Leaf, gamma: Leaf | None = None,
               beta: Leaf | None = None, *, eps: float = 1e-5, momentum: float = 0.9,
               layer: str = "BN", latex: str = "s") -> Leaf:  # fmt: skip
    """Declare the nodes of a batch-normalisation layer on the batch of ``s``: the batch mean
    mu_b, the variance v_b, the normalised s-hat, and (with scale gamma and shift beta) the
    output gamma o s-hat + beta. Training uses the batch statistics, which is what is derived;
    at test time the running averages mu <- rho mu + (1 - rho) mu_b (and the same for v) take
    their place, as recorded in ``net.running_averages``."""
    epsilon = net.constant("epsilon", eps)
    mu = net.node(f"mu_{name}", mean(s), r"\boldsymbol{\mu}_{b}", layer=layer)
    v = net.node(f"v_{name}", batch_variance(s, mu), r"\mathbf{v}_{b}", layer=layer)
    hat = net.node(f"{latex}hat_{name}", normalise(s, mu, v, epsilon),
                   rf"\hat{{\mathbf{{{latex}}}}}", layer=layer)  # fmt: skip
    out = hat
    if gamma is not None or beta is not None:
        scaled = hadamard(gamma, hat) if gamma is not None else hat
        out = net.node(f"{latex}tilde_{name}", scaled + beta if beta is not None else scaled,
                       rf"\tilde{{\mathbf{{{latex}}}}}", layer=layer)  # fmt: skip
    if gamma is not None and isinstance(gamma, Leaf) and gamma.q.kind == "param":
        net.inits.setdefault(gamma.q.name, "ones")  # the identity transform to start with
    net.running_averages[mu.q.name] = momentum
    net.running_averages[v.q.name] = momentum
    net.notes["test time"] = (
        rf"At test time the batch statistics $\boldsymbol{{\mu}}_b$ and $\mathbf{{v}}_b$ are "
        rf"replaced by running averages kept during training, "
        rf"$\bar{{\boldsymbol{{\mu}}}} \leftarrow \rho \bar{{\boldsymbol{{\mu}}}} + (1 - \rho) "
        rf"\boldsymbol{{\mu}}_b$ and $\bar{{\mathbf{{v}}}} \leftarrow \rho \bar{{\mathbf{{v}}}} "
        rf"+ (1 - \rho) \mathbf{{v}}_b$ with $\rho = {momentum}$, so that a test sample is "
        rf"normalised alone: $\hat{{\mathbf{{{latex}}}}} = (\mathbf{{{latex}}} - "
        rf"\bar{{\boldsymbol{{\mu}}}}) \oslash \sqrt{{\bar{{\mathbf{{v}}}} + \epsilon}}$."
    )
    return out
