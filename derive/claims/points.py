"""The points claims are evaluated at: values of a network's quantities, sample by sample, and of
derive's proved derivatives of its loss, in one backend of :mod:`derive.claims.evaluate`.

- :class:`FloatPoint`: float64 values, from the network's compiled forward pass and compiled
  derivatives (every residual and gradient in its expanded form), at random inputs and
  parameters (drawn as the numeric proof draws them: one-hot labels, masks) or given ones.
- :class:`SymPoint`: SymPy values at concrete sizes, every input and parameter entry a symbol
  (derive's :class:`~derive.expand.Expander`); element-wise functions written out (for proofs)
  or opaque (for derivatives that read as a textbook writes them). Optionally at a rational point.
- :class:`MpPoint`: a :class:`SymPoint` at numbers, each entry evaluated at ``dps`` digits.

Values are 2-D (rows x cols), for one sample (``sample``) of a per-sample quantity.
"""

from __future__ import annotations

import functools
from fractions import Fraction

import numpy as np
import sympy as sp

from derive.claims.evaluate import FLOAT, MpBackend, SymBackend
from derive.compile import compile_expressions, size_names
from derive.expr import Leaf, Quantity, m, sym
from derive.graph import Network

_LAYOUTS: dict = {}  # (network, sizes) -> (dims by shape, size names, internal shapes)


def _layout(net: Network, sizes: dict):
    """What one set of sizes makes of a network's shapes, worked out with SymPy once (a claim
    makes hundreds of points; each used to pay SymPy's subs for every quantity)."""
    key = (id(net), tuple(sorted((str(k), int(v)) for k, v in sizes.items())))
    if key not in _LAYOUTS:
        from derive.compile import internal_shape

        if len(_LAYOUTS) > 256:
            _LAYOUTS.clear()
        dims = {q.shape: tuple(int(sym(d).subs(sizes)) for d in q.shape)
                for q in net.quantities.values()}  # fmt: skip
        by_size: dict[int, list[str]] = {}
        for d, n in sizes.items():
            by_size.setdefault(int(n), []).append(str(d))
        names = {n: ns[0] for n, ns in by_size.items() if len(ns) == 1}
        shapes = {q.name: internal_shape(q, sizes) for q in net.inputs + net.params}
        _LAYOUTS[key] = (dims, names, shapes, net)  # net kept: its id stays its own
    return _LAYOUTS[key]


class _Point:
    backend = FLOAT

    def __init__(self, net: Network, sizes: dict):
        self.net, self.sizes = net, sizes
        self.m = int(sizes[m])
        self._dims, self._names, self.shapes, _ = _layout(net, sizes)

    def dims(self, q: Quantity) -> tuple[int, int]:
        return self._dims[q.shape]

    def size(self, dim) -> int:
        if isinstance(dim, int):
            return dim
        value = self.sizes.get(dim)
        return int(value) if value is not None else int(sym(dim).subs(self.sizes))

    def shape_text(self, shape) -> str:
        """A shape in the names of the sizes where they tell (every size is different in the
        second size set): (h x d) rather than (3 x 4)."""
        return "(" + " x ".join(self._names.get(n, str(n)) if n != 1 else "1" for n in shape) + ")"


# --- float64 ----------------------------------------------------------------------------------
class Compiled:
    """A network's forward pass and derivatives, compiled once (shared by all its points)."""

    def __init__(self, net: Network, derivation=None):
        self.net = net
        self.forward = compile_expressions(net, {n.name: Leaf(n) for n in net.nodes}) if (
            net.nodes) else None  # fmt: skip
        items = (
            []
            if derivation is None
            else (derivation.residuals + derivation.gradients + derivation.inputs)
        )
        self.items = {g.q.name: g for g in items}
        self.derived = compile_expressions(net, {g.q.name: g.expanded for g in items}) if (
            items) else None  # fmt: skip


class FloatPoint(_Point):
    """The nodes and the derivatives are computed when first asked for (a condition probed
    along a ray needs the nodes only, an identity of inputs neither)."""

    def __init__(self, compiled: Compiled, sizes: dict, values: dict):
        super().__init__(compiled.net, sizes)
        self.values = values  # internal layout (samples first)
        self.compiled = compiled
        self._items = compiled.items

    def _run(self, fn) -> dict:
        if fn is None:
            return {}
        with np.errstate(all="ignore"):
            return fn(self.values, size_names(self.sizes))

    @functools.cached_property
    def nodes(self) -> dict:
        return self._run(self.compiled.forward)

    @functools.cached_property
    def derived(self) -> dict:
        return self._run(self.compiled.derived)

    def _two_d(self, array, q: Quantity, sample: int | None):
        array = np.asarray(array, dtype=float)
        rows, cols = self.dims(q)
        if q.batched and sample is not None:
            if array.ndim and array.shape[0] == self.m and array.size == self.m * rows * cols:
                array = array[sample]
        return np.broadcast_to(array.reshape(-1) if array.size == rows * cols else array,
                               (rows * cols,)).reshape(rows, cols)  # fmt: skip

    def leaf(self, q: Quantity, sample: int | None):
        source = self.nodes if q.kind == "node" else self.values
        return self._two_d(source[q.name], q, sample)

    def derivative(self, q: Quantity, sample: int | None):
        if q.name not in self.derived:
            return None
        return self._two_d(self.derived[q.name], q, sample)

    def constant(self, symbol):
        return float(self.net.constants[symbol])

    def finite(self) -> bool:
        parts = [*self.nodes.values(), *self.derived.values()]
        return all(np.all(np.isfinite(np.asarray(v, dtype=float))) for v in parts)


def random_point(compiled: Compiled, sizes: dict, rng: np.random.Generator,
                 scale: float = 1.0) -> FloatPoint:  # fmt: skip
    """Inputs and parameters drawn as the numeric proof draws them (see
    :func:`derive.numeric.random_values`), real ones times ``scale`` (one-hot labels and masks
    as they are)."""
    from derive.numeric import random_values

    shapes = _layout(compiled.net, sizes)[2]
    values = random_values(compiled.net, sizes, rng, scale, shapes)
    return FloatPoint(compiled, sizes, values)


# --- SymPy ------------------------------------------------------------------------------------
class SymPoint(_Point):
    """Every input and parameter entry a symbol (or, with ``at``, the rational numbers given
    for them); nodes and derivatives as derive's Expander writes them."""

    def __init__(self, net: Network, sizes: dict, derivation=None, opaque: bool = False,
                 at: dict | None = None):  # fmt: skip
        from derive.expand import Expander

        super().__init__(net, sizes)
        self.backend = SymBackend(opaque)
        self.opaque = opaque
        self.expander = Expander(net, sizes)
        known = (
            ()
            if derivation is None
            else (derivation.residuals + derivation.gradients + derivation.inputs)
        )
        self.items = {g.q.name: g for g in known}
        self.at = at
        self._memo: dict = {}

    def _finish(self, matrix: sp.Matrix):
        if not self.opaque:
            matrix = written_out(matrix)
        if self.at is not None:
            matrix = matrix.xreplace(self.at)
        return np.array(matrix.tolist(), dtype=object)

    def leaf(self, q: Quantity, sample: int | None):
        key = ("leaf", q.name, sample)
        if key not in self._memo:
            self._memo[key] = self._finish(self.expander.value_of(q, sample if q.batched else None))
        return self._memo[key]

    def derivative(self, q: Quantity, sample: int | None):
        g = self.items.get(q.name)
        if g is None:
            return None
        key = ("d", q.name, sample)
        if key not in self._memo:
            i = sample if g.expanded.batched else None
            self._memo[key] = self._finish(self.expander.value(g.expanded, i))
        return self._memo[key]

    def constant(self, symbol):
        return symbol if self.at is None else self.at.get(symbol, symbol)

    def symbols(self) -> list[sp.Symbol]:
        """Every symbol of the inputs and parameters, in a fixed order."""
        return [s for s, _ in self.entries()]

    def entries(self) -> list[tuple[sp.Symbol, tuple]]:
        """Every symbol of the inputs and parameters with where it is: (quantity, sample,
        row, column)."""
        if not hasattr(self, "_entries"):
            out = []
            for q in self.net.inputs + self.net.params:
                for i in range(self.m) if q.batched else [None]:
                    mat = self.expander.leaf_symbols(q, i)
                    for r in range(mat.rows):
                        for c in range(mat.cols):
                            if isinstance(mat[r, c], sp.Symbol):
                                out.append((mat[r, c], (q, i, r, c)))
            self._entries = out
        return self._entries


class MpPoint(SymPoint):
    """A SymPoint at numbers (``at``: symbol -> Fraction), entries evaluated at ``dps``
    digits."""

    def __init__(self, net: Network, sizes: dict, at: dict, derivation=None, dps: int = 50):
        exact = {s: sp.Rational(v.numerator, v.denominator) for s, v in at.items()}
        for symbol, value in net.constants.items():  # epsilon: its value, exactly
            f = Fraction(value)
            exact.setdefault(symbol, sp.Rational(f.numerator, f.denominator))
        super().__init__(net, sizes, derivation, opaque=False, at=exact)
        self.backend = MpBackend(dps)
        self.dps = dps

    def _finish(self, matrix: sp.Matrix):
        exact = super()._finish(matrix)
        mp = self.backend.mpmath

        def number(e):
            if isinstance(e, sp.Rational):  # an input's or a parameter's own value: exact
                return mp.mpf(e.p) / e.q
            value = sp.N(e, self.dps)
            return mp.mpf(value) if value.is_real is not False else mp.mpc(complex(value))

        with mp.workdps(self.dps):
            return np.vectorize(number, otypes=[object])(exact)

    def constant(self, symbol):
        f = Fraction(self.net.constants[symbol])
        return self.backend.mpmath.mpf(f.numerator) / f.denominator


_SYM_POINTS: dict = {}


def sym_point(net: Network, sizes: dict, derivation=None, opaque: bool = False) -> SymPoint:
    """A SymPoint of symbols (no ``at``), shared: what it expands (the network's nodes and
    derivatives at these sizes) is the same for every claim."""
    key = (id(net), id(derivation), opaque,
           tuple(sorted((str(k), int(v)) for k, v in sizes.items())))  # fmt: skip
    if key not in _SYM_POINTS:
        if len(_SYM_POINTS) > 64:
            _SYM_POINTS.clear()
        _SYM_POINTS[key] = (SymPoint(net, sizes, derivation, opaque), net, derivation)
    return _SYM_POINTS[key][0]


def rational_point(point: FloatPoint, sym_point: SymPoint) -> dict:
    """The float point's inputs and parameters as exact rationals, keyed by the SymPoint's
    symbols (the same entries)."""
    at = {}
    for q in point.net.inputs + point.net.params:
        for i in range(point.m) if q.batched else [None]:
            symbols = sym_point.expander.leaf_symbols(q, i)
            values = point.leaf(q, i)
            for s, v in zip(symbols, values.reshape(-1)):
                if isinstance(s, sp.Symbol):
                    at[s] = Fraction(float(v)).limit_denominator(10**12)
    return at


def written_out(matrix: sp.Matrix) -> sp.Matrix:
    """Opaque element-wise functions (as derive's proofs keep them) written out, and the step
    as the course writes ReLU's derivative, 1[s > 0]: 0 at 0 (SymPy's H(0) is 1/2)."""
    from derive.ops.elementwise import _OPAQUE, S

    reverse = {cls: fn for fn, cls in _OPAQUE.items()}
    matrix = matrix.replace(lambda x: type(x) in reverse,
                            lambda x: reverse[type(x)].expr.subs(S, x.args[0]))  # fmt: skip
    return matrix.replace(lambda x: isinstance(x, sp.Heaviside),
                          lambda x: sp.Heaviside(x.args[0], 0))  # fmt: skip
