"""Reverse-mode chain rule over the network, in matrix form.

For every node v, from the loss backwards, the residual dL/dv is the sum over the nodes w that
consume v of (dw/dv)^T dL/dw: the lecture's generic backward pass. Each term is found by walking
w's defining expression with the vector-Jacobian products the ops declare; this module never names
an op. Two rules are generic:

- a batched contribution flowing into an unbatched value (a parameter, a batch mean) is summed over
  the batch: sum_i;
- an unbatched residual flowing into a batched value (through a batch sum) reaches every sample.

Each residual is kept in two forms: *compact*, in terms of the residuals of its consumers, and
*expanded*, in terms of forward quantities only. Parameters get gradients the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.expr import SCALAR_ONE, Expr, Leaf, Quantity, Residual, Zero, leaves, substitute
from derive.graph import Network
from derive.ops.algebra import Add, add, matmul
from derive.ops.batch import batch_sum


@dataclass(frozen=True)
class Term:
    """One consumer's share of a residual: (d consumer / d q)^T dL/d consumer."""

    consumer: Quantity
    jacobian: Expr | None  # the local Jacobian d consumer / d q per sample, where it is a matrix
    product: Expr  # the contribution, in terms of dL/d consumer
    summed: bool  # the consumer is batched and q is not: the product sums over the samples


@dataclass(frozen=True)
class Gradient:
    """dL/dq for a node (its residual) or a parameter (its gradient)."""

    q: Quantity
    terms: tuple[Term, ...]
    compact: Expr
    expanded: Expr


@dataclass(frozen=True)
class Derivation:
    network: Network
    residuals: tuple[Gradient, ...]  # nodes, from the loss backwards
    gradients: tuple[Gradient, ...]  # parameters, in declaration order
    # dL/dx of the inputs that are data (not targets, labels, masks or noise): the input
    # gradient (seed 003's dL/dx), proved with the rest but not part of the write-up
    inputs: tuple[Gradient, ...] = ()

    def __getitem__(self, name: str) -> Gradient:
        for g in self.residuals + self.gradients + self.inputs:
            if g.q.name == name:
                return g
        raise KeyError(name)

    def _repr_markdown_(self) -> str:
        from derive.render.report import derivation_markdown

        return derivation_markdown(self)

    def _repr_latex_(self) -> str:
        from derive.render.report import derivation_latex

        return derivation_latex(self)


def contribution(expr: Expr, q: Quantity, g: Expr) -> Expr | None:
    """The share of dL/dq that flows through ``expr`` whose residual is ``g``."""
    if isinstance(expr, Leaf):
        if expr.q != q:
            return None
        return batch_sum(g) if g.batched and not q.batched else g
    shares = []
    for k, child in enumerate(expr.children):
        if not any(leaf.q == q for leaf in leaves(child)):
            continue
        gk = expr.vjp(k, g)
        if gk.batched and not child.batched:
            gk = batch_sum(gk)
        share = contribution(child, q, gk)
        if share is not None:
            shares.append(share)
    return add(*shares) if shares else None


def jacobian(expr: Expr, q: Quantity) -> Expr | None:
    """d expr / d q per sample as a matrix expression, or None where it is not a matrix."""
    if isinstance(expr, Leaf):
        from derive.expr import Identity

        return Identity(q.shape[0]) if expr.q == q and q.shape[1] == 1 else None
    parts = []
    for k, child in enumerate(expr.children):
        if not any(leaf.q == q for leaf in leaves(child)):
            continue
        local, inner = expr.jacobian(k), jacobian(child, q)
        if local is None or inner is None:
            return None
        part = matmul(local, inner)
        # an unbatched value (a batch sum) depends on an unbatched q through every sample:
        # dv_b/dmu_b = -(2/m) sum_i diag(s^i - mu_b); on a batched q through its own sample
        summed = part.batched and not expr.batched and not q.batched
        parts.append(batch_sum(part) if summed else part)
    return add(*parts) if parts else None


def powers_named(network: Network, before: Quantity | None = None) -> dict[Expr, Expr]:
    """exp(k c u) written through a node s = exp(c u) as s^{o k}: the VAE's exp(log sigma^2) is
    sigma o sigma, as the homework writes it (k = 2, 3). Only nodes before ``before``."""
    from derive.ops.algebra import scale, split_scale
    from derive.ops.elementwise import Apply, apply, hadamard

    out: dict[Expr, Expr] = {}
    for n in network.nodes:
        if n == before:
            break
        e = n.definition
        if isinstance(e, Apply) and e.fn.name == "exp":
            c, u = split_scale(e.e)
            for k in (2, 3):
                out[apply(e.fn, scale(k * c, u))] = hadamard((Leaf(n), k))
    return out


def derive(network: Network) -> Derivation:
    loss = network.loss_quantity
    named = {n.definition: Leaf(n) for n in network.nodes}
    named.update({k: v for k, v in powers_named(network).items() if k not in named})
    renamed: dict = {}  # sub-expressions already named, shared across the residuals

    def name_known(e: Expr) -> Expr:
        """Write sub-expressions that are nodes by their names (softmax(z_2B) -> y_B hat)."""
        return substitute(e, named, renamed)

    expanded: dict[Quantity, Expr] = {loss: SCALAR_ONE}
    put_in: dict[Expr, Expr] = {Residual(loss): SCALAR_ONE}  # Residual(w) -> expanded[w]
    constant: dict[Expr, Expr] = {Residual(loss): SCALAR_ONE}
    results: dict[Quantity, Gradient] = {}
    data = [q for q in network.inputs if q.content == "real" and not q.target]
    order = [n for n in reversed(network.nodes) if n != loss] + network.params + data
    for q in order:
        terms = []
        # the consumer nearest the loss first: dL_A/dy_A before the branch into x_oplus
        for w in reversed(network.consumers(q)):
            product = contribution(w.definition, q, Residual(w))
            product = name_known(substitute(product, constant))
            jac = jacobian(w.definition, q)
            terms.append(Term(w, jac and name_known(jac), product, w.batched and not q.batched))
        if not terms:
            continue  # not upstream of the loss
        # one summand per consumer, as the generic backward pass writes it (not flattened)
        # a consumer whose share is zero (sum_i dL/dv_b o (s^i - mu_b)) is left out
        shares = [t.product for t in terms if not isinstance(t.product, Zero)]
        if not shares:
            compact = Zero(q.shape)
        else:
            compact = shares[0] if len(shares) == 1 else Add(tuple(shares))
        full = name_known(substitute(compact, put_in))
        expanded[q] = full
        put_in[Residual(q)] = full
        if not leaves(full) and not q.batched:
            constant[Residual(q)] = full  # dL/dL_A = 1 needs no symbol
        results[q] = Gradient(q, tuple(terms), compact, full)
    residuals = tuple(results[n] for n in reversed(network.nodes) if n in results)
    gradients = tuple(results[p] for p in network.params if p in results)
    inputs = tuple(results[q] for q in data if q in results)
    return Derivation(network, residuals, gradients, inputs)
