"""The hand calculation: the forward and the backward pass of a network at given numbers, every
step written as a student writes it by hand (seed 002, Part B.3): the formula, the formula with
the numbers put in, and the result.

The numbers are computed in float64 by ``derive grad``'s own generated code
(:func:`derive.compile.compile_network`), asked for every node and every residual as well, and
rounded only when printed: the write-up's loss and gradients are ``derive grad``'s to the last
bit. (That code may compute a residual from its expanded form where that is cheaper; both forms
are proved equal, and the compact form shown agrees with it to rounding.)

Per-sample quantities are written sample by sample (x^{1}, x^{2}) rather than as batch
matrices: the formulas derive gives are per sample, so each line of numbers is then that very
formula with numbers in, and a parameter's gradient, a sum over the samples, is written out as
that sum, one term per sample, as a student adds them up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import sympy as sp

from derive.compile import (
    bind_sizes,
    compile_network,
    external_dims,
    external_shape,
    size_names,
    to_internal,
)
from derive.errors import DeriveError
from derive.expr import Leaf, Quantity, Residual, m, sym
from derive.graph import Network
from derive.render import context
from derive.render.handcalc import (
    MAX_SAMPLES,
    SHOWN_SAMPLES,
    NumberPrinter,
    formula,
    matrix,
    quantity,
    shown,
    substituted,
)  # fmt: skip
from derive.values import read_values  # noqa: F401 (derive.handcalc.read_values)

#: Without example values: random ones at the network's small default sizes, for this many
#: samples (two, so that batch sums and batch statistics have something to sum; one sample
#: would make a batch normalisation's variance zero) and from this seed.
RANDOM_M = 2
SEED = 0


@dataclass(frozen=True)
class Step:
    """One quantity (at one sample): ``lhs = formula = substituted = result``. The LaTeX still
    carries the printer's bracket marks, so that the write-up can break long lines."""

    name: str  # the quantity
    sample: int | None  # 0-based; None for a quantity of the whole batch
    lhs: str
    formula: str  # "" for a given value
    substituted: str  # ""  for a given value
    result: str
    value: np.ndarray = field(compare=False, repr=False)  # float64, at full precision


@dataclass(frozen=True)
class Group:
    """The steps of one layer."""

    heading: str  # the layer's name in math, or ""
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class HandCalc:
    network: Network = field(compare=False, repr=False)
    origin: str  # where the numbers come from, a sentence of plain text
    digits: int
    m: int
    given: tuple[Group, ...]  # the inputs, the parameters, the constants (epsilon)
    forward: tuple[Group, ...]
    backward: tuple[Group, ...]  # the residuals, from the loss backwards
    gradients: tuple[Group, ...]
    constant: str  # inline math: residuals of loss parts, which are constants (dL/dL_A = 1)
    summary: tuple[Step, ...]  # the loss and every gradient
    #: the loss under its own name and grad_<param>, as Compiled.loss_and_grads returns them
    result: dict = field(compare=False, repr=False)
    nodes: dict = field(compare=False, repr=False)  # node name -> value, samples first
    residuals: dict = field(compare=False, repr=False)  # node name -> its residual


# --- values -------------------------------------------------------------------------------
# read_values: derive.values (a values file is read within bounds and strictly)
def random_point(net: Network, samples: int = RANDOM_M, seed: int = SEED) -> dict[str, np.ndarray]:
    """Reproducible random values at the network's default sizes, in the layout of ``derive
    grad``, drawn as the numeric proof draws them (one-hot labels, dropout masks)."""
    from derive.numeric import random_values

    sizes = net.sizes(m=samples)
    drawn = random_values(net, sizes, np.random.default_rng(seed))
    out = {}
    for q in net.inputs + net.params:
        value = drawn[q.name].reshape(external_shape(q, sizes))
        if q.kind == "input" and not q.batched and q.content == "real":
            value = np.abs(value)  # a weight such as lambda reads oddly when negative
        out[q.name] = value
    return out


def check_names(net: Network, values: dict, where: str) -> dict:
    """Every input and parameter, no other name; a bare number for a 1 x 1 quantity."""
    declared = net.inputs + net.params
    known = {q.name for q in declared}
    for name in values:
        if name not in known:
            names = ", ".join(q.name for q in declared)
            raise DeriveError(f"{where}: {name} is no input or parameter of {net.name} ({names})")
    out = dict(values)
    for q in declared:
        if q.name not in values:
            dims = ", ".join(str(d) for d in external_dims(q))
            kind = "parameter" if q.kind == "param" else q.kind
            raise DeriveError(f"{where}: no value for {kind} {q.name}, of shape ({dims})")
        dims = external_dims(q)
        if np.ndim(values[q.name]) == 0 and all(d == 1 for d in dims):
            out[q.name] = np.reshape(values[q.name], (1,) * len(dims))
    return out


# --- the calculation ----------------------------------------------------------------------
def calculate(net: Network, values: dict | None = None, digits: int = 4,
              where: str = "values", origin: str = "") -> HandCalc:  # fmt: skip
    """The hand calculation at ``values`` (every input and parameter by name, in the layout of
    ``derive grad``); without them at the example values the network ships, or at random ones.
    ``where`` names the values in messages; ``origin`` says in the write-up where they come from.
    """
    if digits < 1:
        raise DeriveError(f"--digits {digits}: give at least 1")
    if values is None:
        source = Path(net.source).name if net.source else net.name
        if net.examples:
            values, origin = net.examples, f"the example values that {source} ships"
        else:
            values = random_point(net)
            origin = (
                f"random values: {source} ships no example values, so these were drawn "
                f"with numpy.random.default_rng({SEED}) at the network's default sizes, "
                f"m = {RANDOM_M} samples"
            )
    values = check_names(net, values, where)
    sizes = bind_sizes(net, values, where)
    sizes.setdefault(m, 1)
    derivation = net.derive()
    loss = net.loss_quantity
    internal = to_internal(net, values, sizes)

    # derive grad's own code, asked for every node and residual as well
    extra = {f"node:{n.name}": Leaf(n) for n in net.nodes}
    extra.update({f"residual:{g.q.name}": Residual(g.q) for g in derivation.residuals})
    compiled = compile_network(net, derivation, extra)
    out = compiled.function(internal, size_names(sizes))
    result = compiled.loss_and_grads(values)

    def grab(key: str) -> np.ndarray:
        return np.asarray(out[key], dtype=float)

    nodes = {n.name: grab(f"node:{n.name}") for n in net.nodes}
    residuals = {g.q.name: grab(f"residual:{g.q.name}") for g in derivation.residuals}
    grads = {q.name: result[f"grad_{q.name}"] for q in net.params}

    steps = _Steps(net, {**internal, **nodes}, residuals, grads, sizes, digits)
    constant = [g for g in derivation.residuals if context.is_constant(g)]
    backward = [g for g in derivation.residuals if g not in constant]
    return HandCalc(
        network=net,
        origin=origin or f"the values of {where}",
        digits=digits,
        m=int(sizes[m]),
        given=(
            Group("inputs", tuple(s for q in net.inputs for s in steps.given(q))),
            Group("parameters", tuple(s for q in net.params for s in steps.given(q))),
            Group("constants", tuple(steps.constant(c, v) for c, v in net.constants.items())),
        ),
        forward=_grouped([(layer(q), s) for q in net.nodes for s in steps.forward(q)]),
        backward=_grouped([(layer(g.q), s) for g in backward for s in steps.backward(g)]),
        gradients=_grouped(
            [(gradient_layer(g), steps.gradient(g)) for g in context.gradient_order(derivation)]
        ),
        constant=context.constants_tex(derivation),
        summary=tuple(steps.given(loss))
        + tuple(steps.gradient(g, summary=True) for g in derivation.gradients),
        result=result,
        nodes=nodes,
        residuals=residuals,
    )


def layer(q: Quantity) -> str:
    return context.layer_tex(q.layer)


def gradient_layer(g) -> str:
    """A parameter's gradient is shown under the layer of its first consumer that has one."""
    return context.layer_tex(next((t.consumer.layer for t in g.terms if t.consumer.layer), None))


def _grouped(items: list[tuple[str, Step]]) -> tuple[Group, ...]:
    out: list[Group] = []
    for heading, step in items:
        if out and out[-1].heading == heading:
            out[-1] = Group(heading, out[-1].steps + (step,))
        else:
            out.append(Group(heading, (step,)))
    return tuple(out)


class _Steps:
    """Makes the steps of one calculation: the values, sizes and printing settings in one place."""

    def __init__(self, net: Network, values: dict, residuals: dict, grads: dict, sizes: dict,
                 digits: int):  # fmt: skip
        self.net, self.values, self.residuals, self.grads = net, values, residuals, grads
        self.m = int(sizes[m])
        # a constant such as epsilon keeps its symbol in the formulas with numbers, its value
        # given once with the others: 1e-5 inside sqrt(v + eps 1) would only clutter them
        self.sizes = sizes
        self.digits = digits
        self.loss = context.loss_latex(net)

    def samples(self, q: Quantity) -> list[int | None]:
        if not q.batched:
            return [None]
        return [s for s in shown(self.m, MAX_SAMPLES, SHOWN_SAMPLES) if s is not None]

    def index(self, sample: int | None) -> str | None:
        """The superscript of sample ``sample``: none when there is one sample, as by hand."""
        return None if sample is None or self.m == 1 else str(sample + 1)

    def value(self, q: Quantity, array, sample: int | None) -> np.ndarray:
        a = np.asarray(array, dtype=float)
        if sample is not None:
            a = a[sample]
        r, c = (int(sym(d).subs(self.sizes)) for d in q.shape)
        return a.reshape(r, c)

    def printer(self, sample: int | None) -> NumberPrinter:
        return NumberPrinter(self.loss, self.values, self.residuals, self.sizes, self.digits,
                             sample)  # fmt: skip

    def given(self, q: Quantity) -> list[Step]:
        out = []
        for s in self.samples(q):
            value = self.value(q, self.values[q.name], s)
            lhs = quantity(q, self.loss, self.index(s))
            out.append(Step(q.name, s, lhs, "", "", matrix(value, self.digits), value))
        return out

    def constant(self, symbol: sp.Symbol, value: float) -> Step:
        a = np.full((1, 1), float(value))
        return Step(symbol.name, None, sp.latex(symbol), "", "", matrix(a, self.digits), a)

    def forward(self, q: Quantity) -> list[Step]:
        out = []
        for s in self.samples(q):
            idx = self.index(s)
            value = self.value(q, self.values[q.name], s)
            out.append(Step(q.name, s, quantity(q, self.loss, idx),
                            formula(q.definition, self.loss, idx),
                            substituted(q.definition, self.printer(s)),
                            matrix(value, self.digits, given=False), value))  # fmt: skip
        return out

    def backward(self, g) -> list[Step]:
        out = []
        for s in self.samples(g.q):
            idx = self.index(s)
            value = self.value(g.q, self.residuals[g.q.name], s)
            out.append(Step(g.q.name, s, quantity(g.q, self.loss, idx, residual=True),
                            formula(g.compact, self.loss, idx),
                            substituted(g.compact, self.printer(s)),
                            matrix(value, self.digits, given=False), value))  # fmt: skip
        return out

    def gradient(self, g, summary: bool = False) -> Step:
        value = self.value(g.q, self.grads[g.q.name], None)
        lhs = quantity(g.q, self.loss, None, residual=True)
        result = matrix(value, self.digits, given=False)
        if summary:
            return Step(g.q.name, None, lhs, "", "", result, value)
        return Step(g.q.name, None, lhs, formula(g.compact, self.loss, None),
                    substituted(g.compact, self.printer(None)), result, value)  # fmt: skip
