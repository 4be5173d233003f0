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
from dataclasses import dataclass

import numpy as np
import sympy as sp

from derive.backprop import Derivation, Gradient
from derive.expand import Expander, IdentityTest
from derive.expr import Residual, m

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

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def verify(derivation: Derivation, symbolic: bool = True, seed: int = 0) -> Verification:
    start = time.perf_counter()
    net = derivation.network
    sym_sizes = symbolic_sizes(net)
    # the two proofs are independent: the symbolic one runs on the other core meanwhile
    sym = in_background(lambda: prove_symbolic(derivation, sym_sizes)) if symbolic else dict
    num_sizes = net.sizes(m=4)
    from derive.numeric import prove_numeric

    points = 3
    num = prove_numeric(derivation, num_sizes, points=points, seed=seed)
    sym = sym()
    from derive.render.printer import latex

    checks = []
    for g in derivation.residuals + derivation.gradients:
        idx = "i" if g.q.batched else None
        checks.append(Check(g.q.name, latex(Residual(g.q), idx, net.loss_quantity.latex),
                            sym.get(g.q.name), num[g.q.name]))  # fmt: skip
    return Verification(
        tuple(checks),
        {str(k): v for k, v in sym_sizes.items()},
        {str(k): v for k, v in num_sizes.items()},
        points,
        time.perf_counter() - start,
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


def prove_symbolic(derivation: Derivation, sizes: dict) -> dict[str, bool]:
    """name -> whether the expanded and the compact form equal sympy.diff of the scalar loss."""
    net = derivation.network
    loss = net.loss_quantity
    base = Expander(net, sizes)
    items = derivation.residuals + derivation.gradients
    truth: dict[str, list[sp.Matrix]] = {loss.name: [sp.Matrix([[1]])]}  # true dL/dq per sample

    for g in derivation.residuals:
        cut = Expander(net, sizes, cut=g.q)
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
