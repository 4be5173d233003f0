"""The matrix expression language networks are written in.

Why not SymPy's MatrixExpr: SymPy sorts the terms of sums and Hadamard products (the write-up
would read ``b + theta x``), cannot tell that ``(h, d)`` and ``(a, d)`` differ when the dims are
symbols, and its matrix calculus returns wrong zeros. So the matrix layer is a small tree of frozen
dataclasses; everything scalar inside it (dims, coefficients such as 1/m, element-wise functions)
is SymPy, and every expression expands to explicit SymPy matrices for the proofs.

Every operation is one subclass of :class:`Op` (see ``derive/ops``): its shape rule, its forward
pass in NumPy and in SymPy scalars, its vector-Jacobian product and local Jacobian, and its LaTeX
form sit together. Building an expression goes through *smart constructors* (``matmul``, ``add``,
...) that keep every expression in a canonical, readable form: scalar factors pulled to the front,
like terms collected, transposes pushed to the leaves, cancelling Hadamard factors removed.

Batches: a quantity is *batched* when it has one value per sample (written with superscript i);
parameters and batch statistics are not. An expression is batched when it reads a batched value
outside a batch sum.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import ClassVar

import sympy as sp

from derive.errors import ShapeError

#: The batch size, a symbol in every formula (1/m sum_i ...).
m = sp.Symbol("m", positive=True, integer=True)
ONE = sp.Integer(1)

Shape = tuple[sp.Expr, sp.Expr]


def sym(x) -> sp.Basic:
    """``x`` (an int, a float, a Fraction, a NumPy number or already SymPy) as SymPy. Strict:
    a string is refused, never parsed (SymPy's parser evaluates Python), so no text from a file
    can reach it by way of a number."""
    return sp.sympify(x, strict=True)


def shape_str(shape: Shape) -> str:
    """A shape as people write it: ``h x d``, ``h`` for a column vector, ``1`` for a scalar."""
    r, c = shape
    if c == 1:
        return str(r)
    return f"{r} x {c}"


class _Once:
    """A property of an immutable expression, computed on first use and kept in the instance
    (a deep tree would otherwise recompute its shape from every leaf at every level)."""

    def __init__(self, fget):
        self.fget = fget
        self.name = fget.__name__
        self.__doc__ = fget.__doc__

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        value = self.fget(obj)
        obj.__dict__[self.name] = value  # found before this (non-data) descriptor from now on
        return value


def _hash_once(self) -> int:
    """The dataclass hash (of the compared fields), computed once: hashing a deep tree is
    otherwise a walk of the whole tree at every dict or set lookup."""
    try:
        return self.__dict__["_hash"]
    except KeyError:
        pass
    names = _HASHED.get(type(self))
    if names is None:
        names = _HASHED[type(self)] = tuple(
            f.name for f in fields(self) if (f.compare if f.hash is None else f.hash)
        )
    value = hash(tuple(getattr(self, n) for n in names))
    self.__dict__["_hash"] = value
    return value


_HASHED: dict[type, tuple[str, ...]] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
    return names


class Expr:
    """Base class of every matrix expression. Subclasses are frozen dataclasses."""

    shape: Shape

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # shapes, batching and hashes of immutable trees are computed once per instance
        for name in ("shape", "batched", "children"):
            prop = cls.__dict__.get(name)
            if isinstance(prop, property) and prop.fset is None:
                setattr(cls, name, _Once(prop.fget))
        if "__hash__" not in cls.__dict__ and "__eq__" not in cls.__dict__:
            cls.__hash__ = _hash_once  # kept by @dataclass(frozen=True) as an explicit hash

    # --- tree protocol -------------------------------------------------------------------
    @_Once
    def children(self) -> tuple[Expr, ...]:
        """The sub-expressions: by default the fields that hold expressions (or tuples of
        them), in declaration order. An op whose children are not plain fields says so."""
        out: list[Expr] = []
        for name in _field_names(type(self)):
            value = getattr(self, name)
            if isinstance(value, Expr):
                out.append(value)
            elif isinstance(value, tuple) and all(isinstance(v, Expr) for v in value):
                out.extend(value)
        return tuple(out)

    @_Once
    def batched(self) -> bool:
        """By default an expression has one value per sample when any child has."""
        return any(c.batched for c in self.children)

    def rebuild(self, *children: Expr) -> Expr:
        """The same operation on new children, through the smart constructor."""
        return self

    @property
    def is_scalar(self) -> bool:
        return self.shape == (ONE, ONE)

    @property
    def is_col(self) -> bool:
        return self.shape[1] == 1

    # --- writing expressions as on paper -------------------------------------------------
    def __add__(self, other):
        from derive.ops.algebra import add

        return add(self, as_expr(other, self))

    def __radd__(self, other):
        from derive.ops.algebra import add

        return add(as_expr(other, self), self)

    def __sub__(self, other):
        from derive.ops.algebra import add, scale

        return add(self, scale(-1, as_expr(other, self)))

    def __rsub__(self, other):
        from derive.ops.algebra import add, scale

        return add(as_expr(other, self), scale(-1, self))

    def __neg__(self):
        from derive.ops.algebra import scale

        return scale(-1, self)

    def __mul__(self, other):
        from derive.ops.algebra import matmul, scale

        if isinstance(other, Expr):
            return matmul(self, other)
        return scale(other, self)

    def __rmul__(self, other):
        from derive.ops.algebra import scale

        return scale(other, self)

    __matmul__ = __mul__

    def __truediv__(self, other):
        from derive.ops.algebra import matmul, scale
        from derive.ops.elementwise import hadamard

        if not isinstance(other, Expr):
            return scale(1 / sym(other), self)
        if other.is_scalar:
            return matmul(hadamard((other, -1)), self)
        if other.shape != self.shape:
            raise ShapeError(
                f"cannot divide {self!r} ({shape_str(self.shape)}) by {other!r} "
                f"({shape_str(other.shape)}) element-wise: the shapes differ"
            )
        return hadamard(self, (other, -1))

    def __rtruediv__(self, other):
        from derive.ops.elementwise import hadamard

        return (
            as_expr(other, self) / self
            if not self.is_scalar
            else (as_expr(other, self) * hadamard((self, -1)))
        )

    @property
    def T(self) -> Expr:
        from derive.ops.algebra import transpose

        return transpose(self)

    def __repr__(self) -> str:
        from derive.render.printer import plain

        return plain(self)


def as_expr(value, like: Expr) -> Expr:
    """A number (or a constant's symbol) where an expression of ``like``'s shape is needed:
    c times the ones vector, as NumPy broadcasts it (1 - y, v_b + epsilon); of a scalar, c."""
    if isinstance(value, Expr):
        return value
    from derive.ops.algebra import scale

    try:
        c = sym(value)
    except (TypeError, ValueError, sp.SympifyError):
        c = None
    if c is None or not isinstance(c, sp.Expr) or c.free_symbols - _constant_symbols(c):
        raise ShapeError(
            f"cannot combine {value!r} with a {shape_str(like.shape)} matrix expression"
        )
    if like.is_scalar:
        return scale(c, SCALAR_ONE)
    if like.is_col:
        return scale(c, Ones(like.shape[0]))
    raise ShapeError(
        f"cannot add the number {value} to the {shape_str(like.shape)} matrix {like!r}: "
        "numbers are added to vectors (1 - y) and scalars only"
    )


def _constant_symbols(c: sp.Expr) -> set:
    """The symbols a number added to an expression may hold: constants (positive symbols
    from ``net.constant``), not dimensions or the batch size."""
    return {s for s in c.free_symbols if s.is_positive and not s.is_integer}


def leaves(expr: Expr, kind: type | None = None) -> set[Expr]:
    """Every Leaf in the tree (or every node of another ``kind``, such as Residual)."""
    kind = kind or Leaf
    out: set[Expr] = set()
    stack = [expr]
    while stack:
        e = stack.pop()
        if isinstance(e, kind):
            out.add(e)
        stack.extend(e.children)
    return out


def substitute(expr: Expr, mapping: dict[Expr, Expr], memo: dict | None = None) -> Expr:
    """Replace leaves by expressions, re-simplifying on the way up. ``memo``: results kept
    across calls with the same mapping, keyed by the expressions themselves (a deep network's
    expanded residuals share their sub-trees: each is then walked once, not once per layer)."""
    shared = memo is not None
    memo = memo if shared else {}

    def walk(e: Expr) -> Expr:
        if e in mapping:
            return mapping[e]
        if not e.children:
            return e
        key = e if shared else id(e)
        if key not in memo:
            kids = tuple(walk(c) for c in e.children)
            memo[key] = e if all(a is b for a, b in zip(kids, e.children)) else e.rebuild(*kids)
        return memo[key]

    return walk(expr)


# --- quantities and leaves ---------------------------------------------------------------
@dataclass(frozen=True)
class Quantity:
    """A named value of the network: an input, a parameter, or a node defined by an expression."""

    name: str
    latex: str
    shape: Shape
    kind: str  # "input" | "param" | "node"
    batched: bool
    definition: Expr | None = field(default=None, compare=False, repr=False)
    layer: str | None = field(default=None, compare=False)
    part: str | None = field(default=None, compare=False)  # Task A of a multi-task network
    aka: tuple[str, ...] = field(default=(), compare=False)
    # what an input holds, for random test points, simplification and training:
    # "real" | "onehot" | "sign" (a label of entries -1 or +1) | "mask" | "noise" (drawn from
    # N(0, 1) afresh at every training step)
    content: str = field(default="real", compare=False)
    target: bool = field(default=False, compare=False)  # an input the loss compares against
    keep: float = field(default=0.5, compare=False)  # masks: probability of keeping a unit
    line: int | None = field(default=None, compare=False)
    description: str = field(default="", compare=False)


@dataclass(frozen=True, repr=False)
class Leaf(Expr):
    """A quantity used inside an expression."""

    q: Quantity

    @property
    def shape(self) -> Shape:
        return self.q.shape

    @property
    def batched(self) -> bool:
        return self.q.batched


@dataclass(frozen=True, repr=False)
class Residual(Expr):
    """The residual dL/dq of a quantity, a leaf in the compact form of other residuals."""

    q: Quantity

    @property
    def shape(self) -> Shape:
        return self.q.shape

    @property
    def batched(self) -> bool:
        return self.q.batched


@dataclass(frozen=True, repr=False)
class Identity(Expr):
    """The n x n identity; Identity(1) is the scalar 1."""

    n: sp.Expr
    batched: ClassVar[bool] = False

    @property
    def shape(self) -> Shape:
        return (self.n, self.n)


@dataclass(frozen=True, repr=False)
class Ones(Expr):
    """The all-ones column vector 1 (the identity of the Hadamard product)."""

    n: sp.Expr
    batched: ClassVar[bool] = False

    @property
    def shape(self) -> Shape:
        return (self.n, ONE)


@dataclass(frozen=True, repr=False)
class Zero(Expr):
    shape: Shape
    batched: ClassVar[bool] = False


SCALAR_ONE = Identity(ONE)


# --- the op registry ---------------------------------------------------------------------
#: Every operation class, by name. Filled by Op.__init_subclass__; the test suite checks every
#: entry's rules against sympy.diff, so a new op is tested the moment it is defined.
OPS: dict[str, type[Op]] = {}


class Op(Expr):
    """An operation. Subclasses define, in one place:

    - ``shape`` (checked by the smart constructor that builds it); ``children`` and ``batched``
      only where they are not the defaults (the expression fields; batched if any child is),
    - ``numpy(args)``: the forward pass as NumPy source, given the children's source,
    - ``explicit(args)``: the forward pass on explicit SymPy matrices (the proofs use it),
    - ``vjp(k, g)``: the contribution to the residual of child ``k`` given the residual ``g``
      of this expression (a vector-Jacobian product, in matrix form),
    - ``jacobian(k)``: the local Jacobian d(self)/d(child k) for display, or None,
    - ``examples()``: instances on fresh leaves, for the registry test,
    - LaTeX: structural ops are printed by the printer; others give ``latex_template``.
    """

    latex_template: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        OPS[cls.__name__] = cls

    def numpy(self, args: list[str]) -> str:
        raise NotImplementedError

    def explicit(self, args: list[sp.Matrix]) -> sp.Matrix:
        raise NotImplementedError

    def vjp(self, k: int, g: Expr) -> Expr:
        raise NotImplementedError

    def jacobian(self, k: int) -> Expr | None:
        return None

    @classmethod
    def examples(cls) -> list[Expr]:
        return []


def test_leaf(name: str, rows, cols=1, batched: bool = True, content: str = "real") -> Leaf:
    """A fresh leaf for op examples and tests."""
    shape = (sym(rows), sym(cols))
    kind = "input" if batched else "param"
    return Leaf(Quantity(name, name, shape, kind, batched, content=content))
