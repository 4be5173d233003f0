"""The figure of a report's activation functions: each one and its derivative, sampled.

Which element-wise functions are activations is decided by where the network uses them
(:func:`activations`); the curves come from the function's SymPy form and the derivative that
backpropagation uses (``ScalarFn.derivative``, from ``sympy.diff``), so a function a user
declares with ``derive.elementwise`` is plotted like the built-in ones. A function with kinks or
jumps (ReLU at 0, a leaky ReLU, sign) is cut into pieces at them, found from the SymPy form, so
that a jump of the derivative is drawn as a step with open ends, never as a vertical line.
templates/figures.tex.j2 draws the result with pgfplots.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

from derive.expr import Leaf, Quantity, Zero
from derive.ops.algebra import MatMul
from derive.ops.elementwise import Apply, S, ScalarFn
from derive.render import breaking
from derive.render.printer import latex, with_network_names

#: The plotted interval of s, and the spacing of the samples.
LOW, HIGH, STEP = -4, 4, sp.Rational(1, 10)
#: How far from a kink or jump the value on either side is taken.
SIDE = 1e-9
#: The y-range shown at most (a function may run off it, as exp does; it is clipped).
Y_LIMIT = 4.5
#: A derivative formula wider than this (in em) goes under the axis, not into the legend.
LEGEND_WIDTH = 15.0


# --- which functions are activations ------------------------------------------------------
def is_activation(q: Quantity) -> bool:
    """The rule: a function is plotted as an activation where it is a layer's nonlinearity, that
    is where a per-sample node is defined as the function applied entry by entry to its
    pre-activation, which is a node of its own (x_1 = ReLU(z_1)) or an affine map computed in
    place (h = tanh(W x + b)). A function used in any other way (exp(log sigma^2 / 2), a log
    inside a loss, a square of an error) is no activation."""
    e = q.definition
    if q.kind != "node" or not q.batched or not isinstance(e, Apply):
        return False
    arg = e.e
    if isinstance(arg, Leaf):
        return arg.q.kind == "node"
    return _affine(arg)


def _affine(e) -> bool:
    """Whether ``e`` holds a product with a parameter, W v (as in W v + b)."""
    stack = [e]
    while stack:
        sub = stack.pop()
        if isinstance(sub, MatMul) and any(
            isinstance(f, Leaf) and f.q.kind == "param" for f in sub.factors
        ):
            return True
        stack.extend(sub.children)
    return False


def activations(net) -> list[tuple[ScalarFn, list[Quantity]]]:
    """The activation functions of ``net`` in the order of first use, each with its nodes."""
    found: dict[ScalarFn, list[Quantity]] = {}
    for q in net.nodes:
        if is_activation(q):
            found.setdefault(q.definition.fn, []).append(q)
    return list(found.items())


# --- the figure data ----------------------------------------------------------------------
@dataclass(frozen=True)
class Piece:
    """A stretch of a curve without a kink or a jump: its sampled points (s, value)."""

    points: tuple[tuple[float, float], ...]

    @property
    def coordinates(self) -> str:
        return " ".join(f"({x:.6g},{y:.6g})" for x, y in self.points)


@dataclass(frozen=True)
class Curve:
    pieces: tuple[Piece, ...]
    jumps: tuple[tuple[float, float], ...]  # the open ends beside each jump

    @property
    def jump_coordinates(self) -> str:
        return " ".join(f"({x:.6g},{y:.6g})" for x, y in self.jumps)


@dataclass(frozen=True)
class Plot:
    """One small axis: an activation function and its derivative."""

    name: str  # the function's name (ReLU)
    f_label: str  # LaTeX math: \sigma\left(s\right)
    d_label: str  # \sigma'\left(s\right)
    formula: str  # the derivative as the report writes it: \sigma(s) (1 - \sigma(s))
    in_legend: bool  # short enough to stand in the legend, d_label = formula
    used_in: str  # inline prose: the nodes it is the nonlinearity of
    f: Curve
    d: Curve
    breaks: tuple[float, ...]  # the kinks and jumps inside the interval
    ymin: float
    ymax: float


@with_network_names
def build(derivation) -> tuple[Plot, ...]:
    """The plots of the network's activations; none when it has none."""
    from derive.render.context import and_list

    out = []
    for fn, nodes in activations(derivation.network):
        s = Leaf(Quantity("s", "s", (sp.Integer(1), sp.Integer(1)), "input", False))
        applied = Apply(fn, s)
        f_label = latex(applied)
        arg = r"\left(s\right)"
        name = f_label[: -len(arg)] if fn.latex and f_label.endswith(arg) else ""
        d_label = (name + "'" if name else "f'") + arg
        local = applied.local()
        formula = "0" if isinstance(local, Zero) else latex(local)
        short = "cases" not in formula and breaking.width(formula) <= LEGEND_WIDTH
        breaks = breakpoints(fn)
        f = curve(fn.expr, breaks)
        d = curve(fn.derivative().expr, breaks)
        values = [y for c in (f, d) for p in c.pieces for _, y in p.points]
        lo, hi = min(values, default=-1.0), max(values, default=1.0)
        lo, hi = max(lo, -Y_LIMIT), min(hi, Y_LIMIT)
        pad = max(0.1 * (hi - lo), 0.1)
        out.append(Plot(
            name=fn.name or "f",
            f_label=f_label,
            d_label=d_label,
            formula=formula,
            in_legend=short,
            used_in=and_list([f"${q.latex}$" for q in nodes]),
            f=f,
            d=d,
            breaks=breaks,
            ymin=round(lo - pad, 2),
            ymax=round(hi + pad, 2),
        ))  # fmt: skip
    return tuple(out)


def breakpoints(fn: ScalarFn) -> tuple[float, ...]:
    """The points of (LOW, HIGH) where the function or its derivative may have a kink or a
    jump: the zeros of the arguments of Heaviside, sign and Abs, the ties of Max and Min, and
    the boundaries of a Piecewise's conditions, in the function and its derivative."""
    found: set[float] = set()
    inside = sp.Interval.open(LOW, HIGH)
    for expr in (fn.expr, fn.derivative().expr):
        for sub in sp.preorder_traversal(expr):
            if isinstance(sub, (sp.Heaviside, sp.sign, sp.Abs)):
                where = [sub.args[0]]
            elif isinstance(sub, (sp.Max, sp.Min)):
                where = [a - b for k, a in enumerate(sub.args) for b in sub.args[k + 1 :]]
            elif isinstance(sub, sp.Piecewise):
                where = [r.lhs - r.rhs for _, c in sub.args for r in _relations(c)]
            else:
                continue
            for w in where:
                if not w.has(S):
                    continue
                zeros = sp.solveset(w, S, inside)
                if isinstance(zeros, sp.FiniteSet):
                    found |= {float(z) for z in zeros if z.is_real}
    return tuple(sorted(found))


def _relations(condition) -> list:
    if isinstance(condition, sp.core.relational.Relational):
        return [condition]
    return [r for a in getattr(condition, "args", ()) for r in _relations(a)]


def grid(a: float, b: float) -> list[float]:
    """The sample points of [a, b]: its ends and the points of the common grid between them."""
    k0, k1 = math.floor(a / float(STEP)) + 1, math.ceil(b / float(STEP)) - 1
    inner = [float(k * STEP) for k in range(k0, k1 + 1)]
    inner = [x for x in inner if a + 1e-6 < x < b - 1e-6]
    return [a, *inner, b]


def curve(expr: sp.Expr, breaks: tuple[float, ...]) -> Curve:
    """``expr`` sampled on [LOW, HIGH] piece by piece between the breaks; a piece's ends are the
    one-sided values, and where the two sides of a break differ both ends are marked open. A
    value that is not a finite real number (outside a domain) cuts the piece there."""
    value = evaluator(expr)
    ends = [float(LOW), *breaks, float(HIGH)]
    pieces, jumps = [], []
    for a, b in zip(ends, ends[1:]):
        run: list[tuple[float, float]] = []
        xs = grid(a, b)
        for k, x in enumerate(xs):
            at = x
            if k == 0 and a != LOW:
                at = x + SIDE  # the value just right of a break
            elif k == len(xs) - 1 and b != HIGH:
                at = x - SIDE
            y = value(at)
            if y is None:
                if len(run) > 1:
                    pieces.append(Piece(tuple(run)))
                run = []
                continue
            run.append((x, y))
        if len(run) > 1:
            pieces.append(Piece(tuple(run)))
    for b in breaks:
        left, right = value(b - SIDE), value(b + SIDE)
        if left is not None and right is not None and abs(left - right) > 1e-6:
            jumps += [(b, left), (b, right)]
    return Curve(tuple(pieces), tuple(jumps))


def evaluator(expr: sp.Expr):
    """s -> expr(s) as a float, or None where it is not a finite real number."""
    try:
        fast = sp.lambdify(S, expr, modules=[{"Heaviside": _heaviside, "sign": _sign}, "math"])
    except (TypeError, ValueError, NameError, SyntaxError):  # pragma: no cover - SymPy's printer
        fast = None

    def value(x: float) -> float | None:
        y = None
        if fast is not None:
            try:
                y = fast(x)
            except (ValueError, ZeroDivisionError, OverflowError, TypeError, NameError):
                y = None
        if y is None or isinstance(y, complex):
            try:
                v = complex(expr.subs(S, sp.Float(x, 30)).evalf(20))
            except (TypeError, ValueError, ZeroDivisionError):
                return None
            y = v.real if abs(v.imag) < 1e-12 else None
        if y is None:
            return None
        y = float(y)
        return y if math.isfinite(y) else None

    return value


def _heaviside(x, h0=0.5):
    return 1.0 if x > 0 else 0.0 if x < 0 else h0


def _sign(x):
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0
