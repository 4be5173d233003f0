"""Derived formulas -> NumPy.

The expressions are turned into the source of one Python function (common sub-expressions
computed once), in the batch layout of ``derive.ops.layout``: samples along the first axis.
Element-wise functions are lambdified from their scalar SymPy forms. ``loss_and_grads`` runs the
forward pass and then the residuals in their compact form, loss first: backpropagation, with each
step the formula the report shows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from derive.backprop import Derivation
from derive.errors import DeriveError
from derive.expr import (
    ONE,
    Expr,
    Identity,
    Leaf,
    Ones,
    Op,
    Quantity,
    Residual,
    Zero,
    leaves,
    m,
    sym,
)
from derive.graph import Network
from derive.ops import layout
from derive.ops.kernels import KERNELS

PRELUDE = """
# constants as NumPy scalars, not Python floats: they take .T, .sum(axis=...), .max(...) as
# arrays do (a claim may take softmax(2) or the norm of a number)
_ONE = numpy.float64(1.0)
_ZERO = numpy.float64(0.0)

def _softmax(z):
    e = numpy.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)

def _concat(parts):
    # a zero block is given by its width; shared (1-D) parts are repeated for every sample
    lead = next((p.shape[:-1] for p in parts if not isinstance(p, int) and p.ndim == 2), ())
    return numpy.concatenate([numpy.zeros(lead + (p,)) if isinstance(p, int)
                              else numpy.broadcast_to(p, lead + p.shape[-1:]) for p in parts],
                             axis=-1)

def _sample_outer(a, b):
    # sum_i a_i b_i^T = A^T B. OpenBLAS runs this product about 25% faster when the result
    # is tall rather than wide (784 x 50 rather than 50 x 784; measured at batch 16 to 1024),
    # so a wide one is computed as (B^T A)^T, a transposed view
    return (b.T @ a).T if a.shape[1] < b.shape[1] else a.T @ b

def _sample_matmul(a, b):
    # sum_i A_i B_i as one product: (r, m k) times (m k, c)
    m, r, k = a.shape
    return numpy.moveaxis(a, 0, 1).reshape(r, m * k) @ b.reshape(m * k, b.shape[-1])

def _logsumexp(z):
    top = z.max(axis=-1)
    return top + numpy.log(numpy.exp(z - top[..., None]).sum(axis=-1))
"""


def residual_var(q: Quantity) -> str:
    return f"_r_{q.name}"


class Codegen:
    """Writes one function ``f(_v, _sizes) -> dict`` computing the given outputs."""

    def __init__(self, network: Network, overridable: bool = False):
        self.net = network
        self.overridable = overridable  # nodes may be given in _v (for finite differences)
        self.lines: list[str] = []
        self.names: dict[Expr, str] = {}
        self.counts: Counter = Counter()

    def count(self, exprs: list[Expr]) -> None:
        def walk(e: Expr) -> None:
            self.counts[e] += 1
            if self.counts[e] == 1:
                for c in e.children:
                    walk(c)

        for e in exprs:
            walk(e)

    def code(self, e: Expr) -> str:
        if e in self.names:
            return self.names[e]
        if isinstance(e, Leaf):
            return e.q.name
        if isinstance(e, Residual):
            return residual_var(e.q)
        if isinstance(e, Identity):
            return "_ONE" if e.n == ONE else f"numpy.eye({layout.coefficient(e.n)})"
        if isinstance(e, Ones):
            return f"numpy.ones({layout.coefficient(e.n)})"
        if isinstance(e, Zero):
            return "_ZERO"
        if not isinstance(e, Op):
            raise DeriveError(f"cannot compute {type(e).__name__} numerically")
        src = e.numpy(self.code)
        if self.counts[e] > 1 and not src.isidentifier():
            name = f"_t{len(self.names)}"
            self.lines.append(f"    {name} = {src}")
            self.names[e] = name
            return name
        return src

    def assign(self, var: str, e: Expr, key: str | None = None) -> None:
        src = self.code(e)
        if key is not None and self.overridable:
            src = f"_v[{key!r}] if {key!r} in _v else {src}"
        self.lines.append(f"    {var} = {src}")
        self.names[e] = var

    def build(self, outputs: dict[str, Expr], residuals: list[tuple[Quantity, Expr]] = (),
              residual_inputs: bool = False) -> Callable:  # fmt: skip
        nodes = self.net.nodes
        self.count(
            [n.definition for n in nodes] + [e for _, e in residuals] + list(outputs.values())
        )
        head = ["def _f(_v, _sizes):"]
        head += [f"    {layout.dims_code(s)} = _sizes[{s.name!r}]" for s in [m, *self.net.dims]]
        head += [f"    {layout.dims_code(c)} = {v!r}" for c, v in self.net.constants.items()]
        head += [f"    {q.name} = _v[{q.name!r}]" for q in self.net.inputs + self.net.params]
        if residual_inputs:
            given = {r.q for e in outputs.values() for r in leaves(e, Residual)}
            head += [
                f"    {residual_var(q)} = _v[{residual_var(q)!r}]"
                for q in sorted(given, key=_order(self.net))
            ]
        for n in nodes:
            self.assign(n.name, n.definition, key=n.name)
            self.names[Leaf(n)] = n.name
        for q, e in residuals:
            if q.batched and not e.batched and q.kind == "node":
                # the same for every sample (1/m for a per-sample loss term): one per sample
                src = f"{self.code(e)} + numpy.zeros_like({q.name})"
                self.lines.append(f"    {residual_var(q)} = {src}")
            else:
                self.assign(residual_var(q), e)
        result = ", ".join(f"{k!r}: {self.code(e)}" for k, e in outputs.items())
        source = "\n".join(head + self.lines + [f"    return {{{result}}}"])
        namespace: dict = {"numpy": np, **KERNELS}
        exec(compile(PRELUDE + source, "<derive>", "exec"), namespace)  # our own generated code
        fn = namespace["_f"]
        fn.source = source
        return fn


def _order(net: Network):
    names = list(net.quantities)
    return lambda q: names.index(q.name)


def compile_expressions(net: Network, outputs: dict[str, Expr], overridable: bool = False,
                        residual_inputs: bool = False) -> Callable:  # fmt: skip
    """A function (values, sizes) -> {name: array} for any expressions of the network."""
    return Codegen(net, overridable).build(outputs, residual_inputs=residual_inputs)


# --- the user-facing compiled network ----------------------------------------------------
def external_shape(q: Quantity, sizes: dict) -> tuple[int, ...]:
    """The array shape users give and get: samples first, weights (out, in), biases 1-D."""
    r, c = (int(sym(s).subs(sizes)) for s in q.shape)
    if q.batched:
        return (sizes[m], r) if c == 1 else (sizes[m], r, c)
    return (r,) if c == 1 else (r, c)


def internal_shape(q: Quantity, sizes: dict) -> tuple[int, ...]:
    r, c = q.shape
    per_sample = [int(d.subs(sizes)) for d in (r, c) if d != 1]
    return ((sizes[m],) if q.batched else ()) + tuple(per_sample)


def external_dims(q: Quantity) -> list[sp.Expr]:
    r, c = q.shape
    return ([m] if q.batched else []) + [r] + ([c] if c != 1 else [])


def bind_sizes(net: Network, values: dict[str, np.ndarray], where: str = "values") -> dict:
    """Read m and every dim off the arrays; a missing name or a clash is a one-line error."""
    sizes: dict = {}
    origin: dict = {}
    formulas: list = []
    for q in net.inputs + net.params:
        if q.name not in values:
            raise DeriveError(
                f"{where}: no array named {q.name!r} ({q.kind} of shape {_ext_str(q)})"
            )
        want = external_dims(q)
        got = tuple(np.shape(values[q.name]))
        if len(got) == len(want) - 1 and want[-1] == 1:
            got = (*got, 1)  # a per-sample scalar given as (m,)
        if len(got) != len(want):
            raise DeriveError(f"{where}: {q.name} has shape {got}, expected {_ext_str(q)}")
        for dim, n in zip(want, got):
            if dim.is_Integer:
                if int(dim) != n:
                    raise DeriveError(f"{where}: {q.name} has shape {got}, expected {_ext_str(q)}")
            elif not dim.is_Symbol:  # 4 n^2 pixels: solved for n below
                formulas.append((dim, n, q, got))
            elif dim in sizes and sizes[dim] != n:
                raise DeriveError(
                    f"{where}: {q.name} has shape {got}, but {origin[dim]} gives {dim} = "
                    f"{sizes[dim]}, so {q.name} must be {_ext_str(q)}"
                )
            else:
                if n == 0:
                    what = "no samples" if dim == m else f"{dim} = 0"
                    raise DeriveError(f"{where}: {q.name} has shape {got}: {what}")
                sizes[dim] = n
                origin[dim] = f"{q.name} {got}"
    _solve_dims(formulas, sizes, where)
    return sizes


def _solve_dims(formulas: list, sizes: dict, where: str) -> None:
    """Dims that enter a shape only through a formula (an image of 4 n^2 pixels): each formula
    with one unknown dim solved for it (a positive whole number), then every formula checked."""
    pending = list(formulas)
    while pending:
        solvable = [f for f in pending if len(f[0].free_symbols - set(sizes)) == 1]
        if not solvable:
            break
        dim, n, q, got = solvable[0]
        (unknown,) = dim.free_symbols - set(sizes)
        roots = [r for r in sp.solve(sp.Eq(dim.subs(sizes), n), unknown)
                 if r.is_Integer and r > 0]  # fmt: skip
        if not roots:
            raise DeriveError(
                f"{where}: {q.name} has shape {got}: no whole {unknown} makes {dim} = {n}"
            )
        sizes[unknown] = int(roots[0])
        pending.remove(solvable[0])
    for dim, n, q, got in formulas:
        if dim.free_symbols - set(sizes):
            raise DeriveError(f"{where}: {q.name} has shape {got}: {dim} cannot be read off it")
        if int(dim.subs(sizes)) != n:
            raise DeriveError(
                f"{where}: {q.name} has shape {got}, but {dim} = {int(dim.subs(sizes))} "
                "with the sizes of the other arrays"
            )


def _ext_str(q: Quantity) -> str:
    return "(" + ", ".join(str(d) for d in external_dims(q)) + ")"


def to_internal(net: Network, values: dict, sizes: dict) -> dict[str, np.ndarray]:
    out = {}
    for q in net.inputs + net.params:
        out[q.name] = np.asarray(values[q.name], dtype=float).reshape(internal_shape(q, sizes))
    return out


def size_names(sizes: dict) -> dict[str, int]:
    return {str(k): int(v) for k, v in sizes.items()}


@dataclass(frozen=True)
class Binding:
    """What one set of array shapes fixes: the sizes, and every array's shape inside the
    generated function and outside it. Worked out with SymPy once per shape set and cached, so a
    training step pays for none of it."""

    sizes: dict[str, int]
    inside: dict[str, tuple[int, ...]]  # inputs and parameters, as the generated code takes them
    outside: dict[str, tuple[int, ...]]  # parameters, as users give them and get the gradients


@dataclass
class Compiled:
    """The network's loss and parameter gradients as one NumPy function."""

    network: Network
    derivation: Derivation
    function: Callable
    _bindings: dict = field(default_factory=dict, repr=False)

    @property
    def source(self) -> str:
        return self.function.source

    def bind(self, values: dict[str, np.ndarray]) -> Binding:
        """The sizes and shapes for these arrays; one-line errors for missing or clashing ones."""
        net = self.network
        declared = net.inputs + net.params
        try:
            key = tuple(getattr(values[q.name], "shape", None) or np.shape(values[q.name])
                        for q in declared)  # fmt: skip
        except KeyError:
            key = None  # bind_sizes names the missing array
        binding = self._bindings.get(key)
        if binding is None:
            sizes = bind_sizes(net, values)
            binding = Binding(
                size_names(sizes),
                {q.name: internal_shape(q, sizes) for q in declared},
                {q.name: external_shape(q, sizes) for q in net.params},
            )
            self._bindings[key] = binding
        return binding

    def loss_and_grads(self, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """values: every input (samples first) and parameter by name. Returns the loss under its
        own name and ``grad_<param>`` for each parameter, shaped as the parameter."""
        binding = self.bind(values)
        out = self.function(_shaped(values, binding.inside), binding.sizes)
        loss = self.network.loss_quantity.name
        result = {loss: np.asarray(out.pop(loss), dtype=float)}
        for name, shape in binding.outside.items():
            result[f"grad_{name}"] = _reshape(np.asarray(out[name], dtype=float), shape)
        return result


def _reshape(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return array if array.shape == shape else array.reshape(shape)


def _shaped(values: dict, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    """The arrays as float64 in the given shapes; no copies where they already are (this runs
    at every training step)."""
    out = {}
    for name, shape in shapes.items():
        array = values[name]
        if not (isinstance(array, np.ndarray) and array.dtype == np.float64):
            array = np.asarray(array, dtype=float)
        out[name] = _reshape(array, shape)
    return out


def op_count(e: Expr) -> int:
    """How many operations computing ``e`` takes, shared sub-expressions once."""
    seen: set = set()

    def walk(x: Expr) -> None:
        if x not in seen:
            seen.add(x)
            for c in x.children:
                walk(c)

    walk(e)
    return sum(isinstance(x, Op) for x in seen)


def backward_pass(derivation: Derivation, outputs: dict[str, Expr]) -> list[tuple[Quantity, Expr]]:
    """The residuals to compute, loss first, each in the cheaper of its two proved forms: the
    compact one (from the residuals of its consumers: backpropagation) or, where that is no
    more work, the expanded one in forward quantities ((p - y)/m, not the chain through dJ/dp);
    then only those that the outputs need, directly or through other residuals."""
    chosen = {}
    for g in derivation.residuals:
        cheaper = op_count(g.expanded) < op_count(g.compact)
        chosen[g.q] = g.expanded if cheaper else g.compact
    needed: set[Quantity] = set()
    todo = [r.q for e in outputs.values() for r in leaves(e, Residual)]
    while todo:
        q = todo.pop()
        if q not in needed and q in chosen:
            needed.add(q)
            todo += [r.q for r in leaves(chosen[q], Residual)]
    return [(g.q, chosen[g.q]) for g in derivation.residuals if g.q in needed]


def compile_network(net: Network, derivation: Derivation | None = None,
                    extra: dict[str, Expr] | None = None) -> Compiled:  # fmt: skip
    """The loss and every parameter gradient (and any ``extra`` outputs, such as the batch
    statistics training keeps running averages of) as one function."""
    derivation = derivation or net.derive()
    outputs = {net.loss_quantity.name: Leaf(net.loss_quantity)}
    outputs.update({g.q.name: g.compact for g in derivation.gradients})
    outputs.update(extra or {})
    fn = Codegen(net).build(outputs, backward_pass(derivation, outputs))
    return Compiled(net, derivation, fn)
