"""What a parsed claim means: its sides as matrix expressions of a network.

Names resolve, in order, to the claims file's aliases, its declared symbols, and the network's
quantities by their LaTeX names (decorations ignored, accents kept; a quantity known by two names
answers to both); ``m`` is the batch size. A superscript or subscript ``i`` or ``j`` (or a label
``(i)``) on a per-sample quantity is a sample index: bound by a ``\\sum`` over it, or, when the
left-hand side carries it (dL/dz^i), meaning "for every sample i". Functions apply entry by entry.
A derivative of the loss by a quantity is derive's own proved formula for it (expanded, in
forward quantities), so a claim may use other residuals (W^T dL/dz^i) as values. The derivative
of a scalar expression of declared symbols is derived the same way, by a small network made of
them. Anything that does not fit (an unknown name, two shapes that do not match, an unknown
function) is an :class:`InvalidClaim`, one sentence naming it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

from derive.claims import ast
from derive.errors import DeriveError, ShapeError
from derive.expr import ONE, SCALAR_ONE, Expr, Leaf, Ones, Quantity, m
from derive.graph import Network
from derive.ops.algebra import add, matmul, scale, transpose
from derive.ops.batch import batch_sum
from derive.ops.elementwise import (
    ELEMENTWISE,
    S,
    ScalarFn,
    absolute,
    apply,
    diag,
    hadamard,
)
from derive.ops.losses import norm, softmax, sq_norm

INDICES = ("i", "j", "n", "k")
MAX_POWER = 12


class InvalidClaim(DeriveError):
    """A claim that parses but means nothing checkable here; the message says why."""


def step(condition) -> ScalarFn:
    return ScalarFn(sp.Piecewise((1, condition), (0, True)))


#: what a function name means, entry by entry (the students' own names map onto these)
MEANINGS: dict[str, ScalarFn] = {
    "sigma": ELEMENTWISE["sigmoid"],
    "sigmoid": ELEMENTWISE["sigmoid"],
    "tanh": ELEMENTWISE["tanh"],
    "exp": ELEMENTWISE["exp"],
    "log": ELEMENTWISE["log"],
    "softplus": ELEMENTWISE["softplus"],
    "relu": ELEMENTWISE["ReLU"],
    "sin": ELEMENTWISE["sin"],
    "cos": ELEMENTWISE["cos"],
    "sqrt": ELEMENTWISE["sqrt"],
    "sign": ELEMENTWISE["sign"],
    "abs": ELEMENTWISE["abs"],
    "square": ScalarFn(S**2),
    "identity": ScalarFn(S),
    "step": step(S > 0),  # 1[s > 0], as the course writes ReLU's derivative
}


@dataclass
class Scope:
    """Everything a name can mean in one claim."""

    net: Network
    names: dict[tuple, Quantity]  # (base, sub, accents, label) -> quantity
    functions: dict[str, str] = field(default_factory=dict)  # the student's meanings
    aliases: dict[str, tuple[Quantity, tuple[int, ...] | None]] = field(default_factory=dict)
    derivative: object = None  # (f, var) -> (Expr, Quantity | None): derives on demand
    sample: str | None = None  # the index the left-hand side is "for every sample" of
    bound: tuple[str, ...] = ()  # indices bound by the sums around

    def inside(self, index: str) -> Scope:
        inner = Scope(**{**self.__dict__})
        inner.bound = (*self.bound, index)
        return inner


def shape_str(shape) -> str:
    """Both sizes, always: a student mixes up a column (c x 1) and a row (1 x c)."""
    return f"({shape[0]} x {shape[1]})"


def written_name(name: ast.Name) -> str:
    """How a claims file names it (symbols, aliases): ``w_1``, ``theta_2B``, ``x``."""
    return name.base if name.sub is None else f"{name.base}_{name.sub}"


def key_of(name: ast.Name) -> tuple:
    return (name.base, name.sub, tuple(name.accents), name.label)


# --- building the expression ---------------------------------------------------------------
def build(node: ast.Node, scope: Scope) -> Expr:
    """The matrix expression ``node`` means; an InvalidClaim if it means nothing here."""
    method = BUILDERS.get(type(node))
    if method is None:
        raise InvalidClaim(f"{type(node).__name__.lower()} is not supported here")
    try:
        return method(node, scope)
    except ShapeError as err:
        raise InvalidClaim(str(err)) from None


def _number(node: ast.Number, scope: Scope) -> Expr:
    return scale(sp.Rational(node.fraction()), SCALAR_ONE)


def _name(node: ast.Name, scope: Scope, index: str | None = None) -> Expr:
    """A quantity; ``index`` the sample index written on it."""
    alias = scope.aliases.get(written_name(node))
    if alias is not None:
        q, entry = alias
        if entry is not None:
            raise InvalidClaim(f"{_show(node)} is one entry of {q.name}: only in number claims")
        return _leaf(q, index, node, scope)
    q = scope.names.get(key_of(node))
    if q is None and node.sub in INDICES and index is None:
        q = scope.names.get((node.base, None, tuple(node.accents), node.label))
        index = node.sub if q is not None else None
    if q is None and node.label in INDICES and index is None:
        q = scope.names.get((node.base, node.sub, tuple(node.accents), None))
        index = node.label if q is not None else None
    if q is None:
        if key_of(node) == ("m", None, (), None):
            return scale(m, SCALAR_ONE)
        raise InvalidClaim(f"unknown name {_show(node)}")
    return _leaf(q, index, node, scope)


def _leaf(q: Quantity, index: str | None, node: ast.Name, scope: Scope) -> Expr:
    if index is not None and not q.batched:
        raise InvalidClaim(f"{_show(node)} is one for the whole batch: it has no sample {index}")
    if q.batched:
        index = index or scope.sample
        if index is None:
            raise InvalidClaim(
                f"{_show(node)} is per sample: write its sample index, "
                f"{_show(node)}^i, inside a sum over i"
            )
        if index != scope.sample and index not in scope.bound:
            raise InvalidClaim(
                f"the sample index {index} of {_show(node)} is bound by no sum and not by the "
                "left-hand side"
            )
    return Leaf(q)


def _sup(node: ast.Sup, scope: Scope) -> Expr:
    base, exponent = node.base, node.exponent
    if isinstance(base, ast.Name) and isinstance(exponent, ast.Name):
        if exponent.base in INDICES and exponent.sub is None:
            return _name(base, scope, index=exponent.base)
    if isinstance(base, ast.Name) and key_of(base) == ("e", None, (), None):
        return apply(MEANINGS["exp"], build(exponent, scope))
    power = _integer(exponent)
    if power is None:
        raise InvalidClaim("only whole-number powers are supported")
    if isinstance(base, ast.Norm) and power == 2 and base.p in (None, "2", "F"):
        return sq_norm(build(base.operand, scope))
    value = build(base, scope)
    if power == 0:
        raise InvalidClaim("a power 0 is 1: write 1")
    return hadamard((value, power))


def _integer(node: ast.Node) -> int | None:
    sign = 1
    if isinstance(node, ast.Neg):
        sign, node = -1, node.operand
    if isinstance(node, ast.Number):
        value = node.fraction()
        if value.denominator == 1 and abs(value) <= MAX_POWER:
            return sign * int(value)
    return None


def _transpose(node: ast.Transpose, scope: Scope) -> Expr:
    return transpose(build(node.operand, scope))


def _neg(node: ast.Neg, scope: Scope) -> Expr:
    return scale(-1, build(node.operand, scope))


def _binop(node: ast.BinOp, scope: Scope) -> Expr:
    left, right = _operand(node.left, scope), _operand(node.right, scope)
    left, right = _ones_sized(left, right), _ones_sized(right, left)
    op = node.op
    if op in ("+", "-"):
        left, right = _broadcast(left, right), _broadcast(right, left)
        _same(left, right, "add" if op == "+" else "subtract")
        return add(left, right if op == "+" else scale(-1, right))
    if op == "hadamard":
        left, right = _broadcast(left, right), _broadcast(right, left)
        _same(left, right, "take the Hadamard product of")
        return hadamard(left, right)
    if op == "/":
        return _divide(left, right)
    return _times(left, right)


class _OnesOfAnySize:
    """``\\mathbf{1}`` before its size is known from what it meets; ``transposed``: 1^T."""

    def __init__(self, transposed: bool = False):
        self.transposed = transposed


def _operand(node: ast.Node, scope: Scope):
    if isinstance(node, ast.Ones) and node.sub is None:
        return _OnesOfAnySize()
    if isinstance(node, ast.Transpose) and isinstance(node.operand, ast.Ones):
        if node.operand.sub is None:
            return _OnesOfAnySize(transposed=True)
    return build(node, scope)


def _ones_sized(x, other):
    if not isinstance(x, _OnesOfAnySize):
        return x
    if isinstance(other, _OnesOfAnySize):
        raise InvalidClaim("the size of a vector of ones is unclear")
    n = other.shape[0]
    return transpose(Ones(n)) if x.transposed else Ones(n)


def _broadcast(x: Expr, other: Expr) -> Expr:
    """A number added to (or multiplied entry by entry with) a vector: that number in every
    entry, as in 1 - sigma(x)."""
    if x.shape == (ONE, ONE) and other.shape[1] == ONE and other.shape[0] != ONE:
        return matmul(Ones(other.shape[0]), x)
    return x


def _same(a: Expr, b: Expr, verb: str) -> None:
    if a.shape != b.shape:
        raise InvalidClaim(f"cannot {verb} {shape_str(a.shape)} and {shape_str(b.shape)}")


def _times(a: Expr, b: Expr) -> Expr:
    """Juxtaposition: a number times anything, or a matrix product."""
    if a.shape == (ONE, ONE) and b.shape != (ONE, ONE):
        a, b = b, a  # a scalar factor commutes; (n x 1)(1 x 1) is the product
    if b.shape == (ONE, ONE) and a.shape[1] != ONE:
        return hadamard(a, matmul(Ones(a.shape[0]), b, transpose(Ones(a.shape[1]))))
    if a.shape[1] != b.shape[0]:
        raise InvalidClaim(
            f"cannot multiply {shape_str(a.shape)} by {shape_str(b.shape)}: the inner sizes differ"
        )
    return matmul(a, b)


def _divide(a: Expr, b: Expr) -> Expr:
    if b.shape == (ONE, ONE):
        return _times(a, hadamard((b, -1)))
    b = _broadcast(b, a)
    a = _broadcast(a, b)
    _same(a, b, "divide")
    return hadamard((a, 1), (b, -1))


def _frac(node: ast.Frac, scope: Scope) -> Expr:
    return _divide(build(node.num, scope), build(node.den, scope))


def _call(node: ast.Call, scope: Scope) -> Expr:
    fn = scope.functions.get(node.spelling or node.fn) or scope.functions.get(node.fn) or node.fn
    args = node.args
    if fn in ("max", "min"):
        return _max_min(fn, args, scope)
    if len(args) != 1:
        raise InvalidClaim(f"{node.spelling or node.fn} takes one argument, got {len(args)}")
    x = build(args[0], scope)
    if fn == "softmax":
        if x.shape[1] != ONE:
            raise InvalidClaim(f"softmax of a {shape_str(x.shape)} matrix: a vector is needed")
        return softmax(x)
    if fn == "diag":
        if x.shape[1] != ONE:
            raise InvalidClaim(f"diag of a {shape_str(x.shape)} matrix: a vector is needed")
        return diag(x)
    meaning = MEANINGS.get(fn)
    if meaning is None:
        raise InvalidClaim(f"unknown function {node.spelling or node.fn}")
    return apply(meaning, x)


def _max_min(fn: str, args, scope: Scope) -> Expr:
    zero = [k for k, a in enumerate(args) if isinstance(a, ast.Number) and a.fraction() == 0]
    if len(args) != 2 or len(zero) != 1:
        raise InvalidClaim(f"\\{fn} is supported as \\{fn}(0, x) only")
    x = build(args[1 - zero[0]], scope)
    relu = apply(MEANINGS["relu"], x)
    return relu if fn == "max" else add(x, scale(-1, relu))  # min(0, x) = x - max(0, x)


def _abs(node: ast.Abs, scope: Scope) -> Expr:
    return absolute(build(node.operand, scope))


def _norm(node: ast.Norm, scope: Scope) -> Expr:
    x = build(node.operand, scope)
    if node.p == "1":
        if x.shape[1] != ONE:
            raise InvalidClaim("the 1-norm of a matrix is not supported")
        return matmul(transpose(Ones(x.shape[0])), absolute(x))
    if node.p in (None, "2", "F"):
        return norm(x)
    raise InvalidClaim(f"the {node.p}-norm is not supported")


def _sum(node: ast.Sum, scope: Scope) -> Expr:
    index = node.index or scope.sample or "i"
    if node.lower is not None and not (
        isinstance(node.lower, ast.Number) and node.lower.fraction() == 1
    ):
        raise InvalidClaim("a sum over the samples runs from 1 to m")
    if node.upper is not None and not (
        isinstance(node.upper, ast.Name) and key_of(node.upper) == ("m", None, (), None)
    ):
        raise InvalidClaim("a sum over the samples runs from 1 to m; other sums: write vectors")
    inner = scope.inside(index)
    inner.sample = None if scope.sample == index else scope.sample
    body = build(node.body, inner)  # sample i inside a sum over j: unbound there, an error
    return batch_sum(body) if body.batched else scale(m, body)


def _ones(node: ast.Ones, scope: Scope) -> Expr:
    size = scope.net.dims and next((d for d in scope.net.dims if d.name == node.sub), None)
    if size is None:
        raise InvalidClaim("the size of a vector of ones is unclear: write it beside a vector")
    return Ones(size)


def _indicator(node: ast.Indicator, scope: Scope) -> Expr:
    c = node.condition
    left, right = build(c.left, scope), build(c.right, scope)
    right = _broadcast(right, left)
    _same(left, right, "compare")
    conditions = {">": S > 0, ">=": S >= 0, "<": S < 0, "<=": S <= 0}
    if c.op not in conditions:
        raise InvalidClaim(f"an indicator of {c.op} is not supported")
    return apply(step(conditions[c.op]), add(left, scale(-1, right)))


def _derivative(node: ast.Derivative, scope: Scope) -> Expr:
    if scope.derivative is None:
        raise InvalidClaim("a derivative is not supported here")
    return scope.derivative(node, scope)[0]


def _show(node: ast.Name) -> str:
    text = node.base
    for accent in node.accents:
        text = f"{accent}({text})"
    if node.sub is not None:
        text += f"_{node.sub}"
    if node.label is not None:
        text += f"^({node.label})"
    return text


BUILDERS = {
    ast.Number: _number,
    ast.Name: _name,
    ast.Sup: _sup,
    ast.Transpose: _transpose,
    ast.Neg: _neg,
    ast.BinOp: _binop,
    ast.Frac: _frac,
    ast.Call: _call,
    ast.Abs: _abs,
    ast.Norm: _norm,
    ast.Sum: _sum,
    ast.Ones: _ones,
    ast.Indicator: _indicator,
    ast.Derivative: _derivative,
}


def _whole(node: ast.Node) -> int | None:
    """A whole-number exponent of a number (10^{-30}): bounded by the parser (at most 1000)."""
    value = as_number(node)
    if value is None or value.denominator != 1 or abs(value) > 1000:
        return None
    return int(value)


def as_number(node: ast.Node) -> Fraction | None:
    """A side that is just a number, written as one or as arithmetic of numbers (-0.0043,
    1.7336, -\frac{4488}{10^6}), exactly; else None."""
    if isinstance(node, ast.Number):
        return node.fraction()
    if isinstance(node, ast.Neg):
        inner = as_number(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Frac | ast.BinOp):
        if isinstance(node, ast.BinOp) and node.op == "hadamard":
            return None
        a, b = (node.num, node.den) if isinstance(node, ast.Frac) else (node.left, node.right)
        x, y = as_number(a), as_number(b)
        if x is None or y is None:
            return None
        op = "/" if isinstance(node, ast.Frac) else node.op
        if op == "/" and y == 0:
            return None
        return {"+": x + y, "-": x - y, "*": x * y, "/": x / y if y else None}[op]
    if isinstance(node, ast.Sup):
        base, power = as_number(node.base), _whole(node.exponent)
        if base is None or power is None or (base == 0 and power < 0):
            return None
        return base**power
    return None
