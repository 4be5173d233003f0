"""Proofs that every derived residual and gradient is right, two independent ways.

- Symbolic: at small concrete sizes every quantity is expanded into scalar SymPy expressions. The
  loss is differentiated with ``sympy.diff``, by each parameter entry and, for a node, by fresh
  symbols standing for the node's values (so the batch coupling of a batch mean is included).
  The derived expanded form must equal it exactly. The compact form, with the true residuals of
  the consumers put in, must too: each chain-rule step is checked on its own.
- Numeric: the formulas compiled to NumPy against float64 central differences at random points.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from derive.backprop import Derivation, Gradient
from derive.expand import Expander, IdentityTest, StepExpander, label_assignments
from derive.expr import Expr, Residual, leaves, m
from derive.ops.algebra import Add, Scale

#: Largest numeric relative error accepted.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Check:
    """The proof of one residual or gradient."""

    name: str
    latex: str  # dL/dq, for the table
    symbolic: bool | None  # None: not run
    numeric_error: float  # max relative error against central differences (nan: not run)

    @property
    def ok(self) -> bool:
        return self.symbolic is not False and self.numeric_error <= TOLERANCE


@dataclass(frozen=True)
class Verification:
    checks: tuple[Check, ...]
    symbolic_sizes: dict[str, int]  # the sizes of the scalar expansion, m included
    numeric_sizes: dict[str, int]
    numeric_points: int
    seconds: float
    # how the symbolic proof went: "full" (end to end), "layers" (layer by layer), "both";
    # "" when it was not run
    symbolic_scheme: str = ""
    inputs: tuple[Check, ...] = ()  # dL/dx of the data inputs (not in the write-up's table)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks + self.inputs)


def verify(derivation: Derivation, symbolic: bool = True, seed: int = 0,
           scheme: str = "auto") -> Verification:  # fmt: skip
    """Both proofs. ``scheme``: "auto" (:func:`choose_scheme`), "both" (end to end as well,
    whatever the network), or "layers"."""
    start = time.perf_counter()
    net = derivation.network
    sym_sizes = symbolic_sizes(net)
    # the two proofs are independent: the symbolic one runs on the other core meanwhile
    scheme = (choose_scheme(net) if scheme == "auto" else scheme) if symbolic else ""
    # the inputs' derivatives are proved as residuals are (their consumers come before them)
    whole = replace(derivation, residuals=derivation.residuals + derivation.inputs, inputs=())
    sym = in_background(lambda: prove_symbolic(whole, sym_sizes, scheme)) if symbolic else dict
    num_sizes = net.sizes(m=4)
    from derive.numeric import prove_numeric

    points = 3
    num = prove_numeric(whole, num_sizes, points=points, seed=seed)
    sym = sym()
    from derive.render.printer import latex

    def check(g: Gradient) -> Check:
        idx = "i" if g.q.batched else None
        return Check(g.q.name, latex(Residual(g.q), idx, net.loss_quantity.latex),
                     sym.get(g.q.name), num[g.q.name])  # fmt: skip

    checks = [check(g) for g in derivation.residuals + derivation.gradients]
    return Verification(
        tuple(checks),
        {str(k): v for k, v in sym_sizes.items()},
        {str(k): v for k, v in num_sizes.items()},
        points,
        time.perf_counter() - start,
        scheme,
        tuple(check(g) for g in derivation.inputs),
    )


def in_background(task: Callable[[], dict]) -> Callable[[], dict]:
    """Start ``task`` in a forked process (it sees everything built so far, nothing is pickled
    but its result); the returned function waits for the result. Without fork: run it later."""
    if "fork" not in mp.get_all_start_methods():
        return task
    receive, send = mp.Pipe(duplex=False)

    def child() -> None:
        try:
            send.send(("ok", task()))
        except BaseException as err:  # the parent reports it
            send.send(("error", f"{type(err).__name__}: {err}"))

    process = mp.get_context("fork").Process(target=child, daemon=True)
    process.start()
    send.close()

    def result() -> dict:
        try:
            status, value = receive.recv()
        except EOFError:
            status, value = "error", "the symbolic proof stopped without a result"
        process.join()
        if status != "ok":
            raise RuntimeError(value)
        return value

    return result


def symbolic_sizes(net) -> dict[sp.Symbol, int]:
    """Every dim at most 2 and a batch of 2: small enough to expand, big enough to couple."""
    return {**{s: min(v, 2) for s, v in net.sizes().items()}, m: 2}


#: Networks up to this depth (nodes on the longest path to the loss) are also proved end to end
#: (the layer-by-layer proof alone is complete; end to end, sympy.diff of the whole scalar loss,
#: is a second, independent check whose cost grows with depth: 4 s of the multi-task network's
#: 4.5 s). ``derive verify --end-to-end`` runs it for any network.
END_TO_END_DEPTH = 6


def depth(net) -> int:
    """The number of nodes on the longest path from an input or parameter to the loss."""
    reach: dict[str, int] = {}
    for n in net.nodes:
        reach[n.name] = 1 + max((reach.get(x.q.name, 0) for x in leaves(n.definition)), default=0)
    return reach.get(net.loss_quantity.name, 0)


#: ... and with at most this many smooth non-linear layers (tanh, sigmoid) on a path: each one's
#: derivative holds its argument again, so the scalar loss's derivative doubles per layer
#: (an 8-layer tanh network took minutes end to end, a second layer by layer).
END_TO_END_SMOOTH = 3


def smooth_depth(net) -> int:
    """The most nodes on one path to the loss that apply a smooth non-polynomial function."""
    from derive.ops.elementwise import Apply

    def smooth(e: Expr) -> bool:
        stack = [e]
        while stack:
            x = stack.pop()
            if isinstance(x, Apply):
                f = x.fn.expr
                if not f.is_polynomial() and not f.has(sp.Max, sp.Min, sp.Piecewise, sp.Abs):
                    return True
            stack.extend(x.children)
        return False

    reach: dict[str, int] = {}
    for n in net.nodes:
        before = max((reach.get(x.q.name, 0) for x in leaves(n.definition)), default=0)
        reach[n.name] = before + smooth(n.definition)
    return max(reach.values(), default=0)


def choose_scheme(net) -> str:
    """End to end and layer by layer ("both") up to END_TO_END_DEPTH and END_TO_END_SMOOTH,
    "layers" beyond: the layer-by-layer proof alone is complete (by induction from the loss)."""
    shallow = depth(net) <= END_TO_END_DEPTH and smooth_depth(net) <= END_TO_END_SMOOTH
    return "both" if shallow else "layers"


#: The schemes of the symbolic proof in words, for the CLI and the bench.
SCHEMES = {
    "full": "end to end",
    "layers": "layer by layer (each chain-rule step through its consumers' definitions only, "
    "each expanded form from its step)",
    "both": "end to end, and layer by layer",
}


def symbolic_scheme(net, scheme: str = "auto") -> str:
    """How the symbolic proof goes for this network, in words."""
    return SCHEMES[choose_scheme(net) if scheme == "auto" else scheme]


def prove_symbolic(derivation: Derivation, sizes: dict, scheme: str = "auto") -> dict[str, bool]:
    """name -> whether the derived forms are right, at the small ``sizes``.

    ``full`` (end to end): the whole network is expanded into scalars and the loss is
    differentiated; both forms must equal that. Its cost grows with depth.
    ``layers`` (layer by layer, bounded): each compact form against the scalar chain rule through
    its consumers' definitions only (:func:`prove_steps`), each expanded form against its compact
    form with the consumers' expanded forms put in (:func:`prove_links`); by induction from the
    loss backwards, every form is right. Each step costs the same at any depth.
    ``auto``: both for a network of depth up to END_TO_END_DEPTH, layer by layer beyond.

    A one-hot input is first any vector whose entries sum to one; a form that holds only for
    one-hot vectors (after y o p / (y^T p) = y) is then proved at every assignment of classes
    to the samples' labels (:func:`derive.expand.label_assignments`).
    """
    if scheme == "auto":
        scheme = choose_scheme(derivation.network)
    proved = _prove_at(derivation, sizes, scheme, None)
    if all(proved.values()):
        return proved  # for every label whose entries sum to one, so for every one-hot label
    # a one-hot identity (y o p / (y^T p) = y) holds for one-hot labels only: each of them
    assignments = label_assignments(derivation.network, sizes)
    if assignments == [None]:
        return proved
    by_label = [_prove_at(derivation, sizes, scheme, labels) for labels in assignments]
    return {name: ok or all(r[name] for r in by_label) for name, ok in proved.items()}


def _prove_at(derivation: Derivation, sizes: dict, scheme: str, labels) -> dict[str, bool]:
    found = []
    if scheme in ("full", "both"):
        found.append(prove_end_to_end(derivation, sizes, labels))
    if scheme in ("layers", "both"):
        found.append(prove_layers(derivation, sizes, labels))
    return {name: all(r[name] for r in found) for name in found[0]}


def prove_layers(derivation: Derivation, sizes: dict, labels=None) -> dict[str, bool]:
    """Layer by layer: a form is proved when its own step is right and so are its consumers'."""
    net = derivation.network
    steps = prove_steps(derivation, sizes, labels)
    links = prove_links(derivation, sizes, labels)
    proved: dict[str, bool] = {}
    for g in derivation.residuals + derivation.gradients:  # consumers come first
        consumers = {t.consumer.name for t in g.terms} - {net.loss_quantity.name}
        below = all(proved.get(w, False) for w in consumers)
        proved[g.q.name] = steps[g.q.name] and links[g.q.name] and below
    return proved


def prove_steps(derivation: Derivation, sizes: dict, labels=None) -> dict[str, bool]:
    """Each compact form against the scalar chain rule through its consumers' definitions.

    For q with consumers w: in the world of :class:`StepExpander` (q's values and every other
    node read by the step are fresh symbols; the consumers' residuals dL/dw are fresh symbols,
    or 1 for the loss, or the constant the derivation put in), the truth is
    d/dq sum_w sum_i <dL/dw^i, w^i>, each consumer w^i expanded from its definition and
    differentiated by q only where it reads q directly (the backward pass's partial
    derivative: another consumer of q is a term of its own). The compact form, with the same
    residual symbols, must equal it identically, once the derivative is taken at q's own value
    (q as its definition makes it from its inputs' symbols, so that an identity of the network,
    sum_i (s^i - mu_b) = 0, holds in the step too). No step looks past its consumers."""
    items = derivation.residuals + derivation.gradients
    by_name = {g.q.name: g for g in items}
    return {g.q.name: _step(derivation, g, sizes, by_name, labels) for g in items}


def _step(derivation: Derivation, g: Gradient, sizes: dict, by_name: dict, labels) -> bool:
    net = derivation.network
    q, loss = g.q, net.loss_quantity
    consumers = list(dict.fromkeys(t.consumer for t in g.terms))
    computed = {x.q for x in leaves(g.compact) if x.q.kind == "node"} - {q}
    ex = StepExpander(net, sizes, q, computed, labels)
    given: dict[Residual, list[sp.Matrix]] = {}
    weights: dict[str, list[sp.Matrix]] = {}
    kept = leaves(g.compact, Residual)
    for w in consumers:
        if Residual(w) in kept:
            weights[w.name] = [ex.residual_symbols(w, i) for i in ex.samples(w)]
            given[Residual(w)] = weights[w.name]
        elif w == loss:
            weights[w.name] = [sp.Matrix([[1]])]
        else:  # put in by the derivation as a constant (dL/dL_A = 1): its derived value
            weights[w.name] = [ex.value(by_name[w.name].expanded, i) for i in ex.samples(w)]
    total = sp.Integer(0)
    for w in consumers:
        reads_q = _reading(w.definition, q)
        for i, weight in zip(ex.samples(w), weights[w.name]):
            value = ex.value(reads_q, i, direct=q)
            total += sum((a * b for a, b in zip(value, weight)), sp.Integer(0))
    at_point, defined = {}, {}
    for i in ex.samples(q):
        at_point.update(zip(ex.direct_symbols(q, i), ex.value_of(q, i)))
        if q.kind == "node":  # q as its definition makes it: mu_b is the mean of the s^i
            defined.update(zip(ex.value_of(q, i), ex.value(q.definition, i)))
    for i in ex.samples(q):
        want = ex.direct_symbols(q, i).applyfunc(
            lambda s: sp.diff(total, s).xreplace(at_point).xreplace(defined)  # noqa: B023
        )
        got = ex.value(g.compact, i, residuals=given).xreplace(defined)
        if not all(IdentityTest().equal(a, b) for a, b in zip(got, want)):
            return False
    return True


def _reading(e: Expr, q) -> Expr:
    """``e`` without the summands (of its outermost sums and scalar multiples) that do not read
    q: their derivative by q is zero, and a regulariser summing every layer's weights would make
    each layer's step as long as the network."""
    if isinstance(e, Scale):
        return Scale(e.c, _reading(e.e, q))
    if isinstance(e, Add):
        kept = [_reading(t, q) for t in e.terms if any(x.q == q for x in leaves(t))]
        return kept[0] if len(kept) == 1 else Add(tuple(kept))
    return e


def prove_links(derivation: Derivation, sizes: dict, labels=None) -> dict[str, bool]:
    """Each expanded form against its compact form with the consumers' expanded forms put in,
    both expanded at the same random points of the whole network's scalars. The expanded forms
    of a deep network share their sub-expressions, and so do their scalar expansions and their
    values at the points (both memoised across quantities): every layer adds a bounded amount."""
    net = derivation.network
    loss = net.loss_quantity
    base = Expander(net, sizes, labels=labels)
    shared: dict = {}
    points = [IdentityTest(seed) for seed in range(2)]
    expanded: dict[str, list[sp.Matrix]] = {loss.name: [sp.Matrix([[1]])]}
    out = {}
    for g in derivation.residuals + derivation.gradients:  # consumers come first
        samples = base.samples(g.q)
        forms = [base.value(g.expanded, i, shared=shared) for i in samples]
        consumers = {t.consumer for t in g.terms}
        if any(w.name not in expanded for w in consumers):
            out[g.q.name] = False
            continue
        given = {Residual(w): expanded[w.name] for w in consumers}
        steps = [base.value(g.compact, i, residuals=given) for i in samples]
        out[g.q.name] = all(
            p.at(a) == p.at(b)
            for form, step in zip(forms, steps)
            for a, b in zip(form, step)
            for p in points
        )
        expanded[g.q.name] = forms
    return out


def prove_end_to_end(derivation: Derivation, sizes: dict, labels=None) -> dict[str, bool]:
    """name -> whether the expanded and the compact form equal sympy.diff of the scalar loss."""
    net = derivation.network
    loss = net.loss_quantity
    base = Expander(net, sizes, labels=labels)
    items = derivation.residuals + derivation.gradients
    truth: dict[str, list[sp.Matrix]] = {loss.name: [sp.Matrix([[1]])]}  # true dL/dq per sample

    for g in derivation.residuals:
        cut = Expander(net, sizes, cut=g.q, labels=labels)
        loss_value = cut.value_of(loss)[0, 0]
        samples = cut.samples(g.q)
        actual = {}
        for i in samples:
            actual.update(zip(cut.cut_symbols(g.q, i), base.value_of(g.q, i)))
        truth[g.q.name] = [
            cut.cut_symbols(g.q, i).applyfunc(lambda s: sp.diff(loss_value, s).xreplace(actual))  # noqa: B023
            for i in samples
        ]
    loss_value = base.value_of(loss)[0, 0]
    for g in derivation.gradients:
        symbols = base.leaf_symbols(g.q, None)
        truth[g.q.name] = [symbols.applyfunc(lambda s: sp.diff(loss_value, s))]
    return {g.q.name: _matches(base, g, truth) for g in items}


def _matches(base: Expander, g: Gradient, truth: dict) -> bool:
    residual_values = {
        Residual(w): truth[w.name] for w in {t.consumer for t in g.terms} if w.name in truth
    }
    for k, i in enumerate(base.samples(g.q)):
        want = truth[g.q.name][k]
        for form in (g.expanded, g.compact):
            got = base.value(form, i, residuals=residual_values)
            if not all(IdentityTest().equal(a, b) for a, b in zip(got, want)):
                return False
    return True


def relative_error(derived: np.ndarray, numeric: np.ndarray, floor: float = 1e-8) -> float:
    """max |derived - numeric| / max |numeric|: the error relative to the gradient's scale.
    ``floor`` bounds the scale from below: a gradient that is zero (the bias before a batch
    normalisation) is compared with the differencing noise, not divided by it."""
    if not (np.all(np.isfinite(derived)) and np.all(np.isfinite(numeric))):
        return float("inf")
    scale = max(float(np.max(np.abs(numeric))), floor)
    return float(np.max(np.abs(derived - numeric))) / scale
