"""What a claim means: its tree evaluated directly, at a point, in an environment of indices.

Every sum binds its own index, and every written index refers to exactly what it names: a
superscript ``i`` on a per-sample quantity is sample i of the batch, a subscript ``j`` on a
vector its j-th entry, ``\\delta_{ij}`` is 1 where the two agree. A claim holds for every value of
the indices free on its left-hand side (dL/dz^i: every sample i; dL/dW_{kj}: every entry), and an
index free on the right but not on the left is an error. So ``\\sum_i \\sum_j a^i (b^j)^T`` is
exactly that double sum, never ``\\sum_i a^i (b^i)^T``, which translating a claim into the
network's one-index expressions had made it.

Values are 2-D arrays (rows x cols; a number is 1 x 1) of one *backend*: float64 (the random
points), SymPy expressions (exact proofs, derivatives of a student's own expressions) or mpmath
numbers (high precision). The same rules apply in every backend; only the arithmetic of the
entries differs. A *point* gives the values of the network's quantities and of derive's proved
derivatives of the loss, sample by sample (:mod:`derive.claims.points`).

Free indices are found as they are met: evaluating a name whose index is not bound raises
:class:`NeedIndex` with the index's range, and the caller (a sum, or the driver of a whole claim)
evaluates again for each value. Anything that means nothing here (an unknown name, two shapes
that do not fit, an index bound twice) is an :class:`~derive.claims.meaning.InvalidClaim`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import sympy as sp

from derive.claims import ast
from derive.claims.meaning import MAX_POWER, MEANINGS, InvalidClaim, key_of, written_name
from derive.expr import Quantity
from derive.ops.elementwise import ELEMENTWISE, S, ScalarFn

# functions that on a square matrix could mean the matrix function
MATRIX_FUNCTIONS = ("exp", "log", "sin", "cos", "sqrt")
INDEX_LETTERS = ("i", "j", "k", "l", "n")  # sample (superscript) or entry (subscript) indices
# the letters of entries, in subscripts only: (XA)_{ij}, X_{mn}, x_r (The Matrix Cookbook's)
COMPONENT_LETTERS = (*INDEX_LETTERS, "m", "p", "q", "r", "s", "t")
IMPLICIT = "·"  # the sample of a per-sample quantity written without an index


class NeedIndex(Exception):
    """An index met unbound: ``letter`` ranges over ``size`` values of ``kind``."""

    def __init__(self, letter: str, kind: str, size: int):
        super().__init__(letter)
        self.letter, self.kind, self.size = letter, kind, size


# --- backends ---------------------------------------------------------------------------------
class Backend:
    """The arithmetic of one kind of entry. Arrays are NumPy arrays (float64, or object arrays
    of SymPy or mpmath numbers), always 2-D."""

    name = "float"
    dtype: object = float

    def number(self, x: Fraction):
        return float(x)

    def fn(self, f: ScalarFn) -> Callable:
        return _float_fn(f)

    def compare(self, op: str, x):
        return {">": x > 0, ">=": x >= 0, "<": x < 0, "<=": x <= 0, "=": x == 0,
                "!=": x != 0}[op].astype(float)  # fmt: skip

    def maximum(self, a, b):
        return np.maximum(a, b)

    def minimum(self, a, b):
        return np.minimum(a, b)

    def absolute(self, x):
        return np.abs(x)

    def sqrt(self, x):
        return np.sqrt(x)

    def exp(self, x):
        return np.exp(x)

    def log(self, x):
        return np.log(x)

    def full(self, shape, value):
        return np.full(shape, self.number(Fraction(value)), dtype=self.dtype)

    def eye(self, n: int):
        return np.eye(n, dtype=self.dtype) if self.dtype is float else _object_eye(n, self)

    def inverse(self, x):
        return np.linalg.inv(x)

    def det(self, x):
        return np.linalg.det(x)

    def select(self, values, conditions):
        """The value of the first row whose condition (op, x: x op 0) holds, entry by entry;
        a condition None holds always (otherwise); NaN where none does."""
        masks = [np.ones(values[0].shape, dtype=bool) if c is None else self.compare(*c) > 0
                 for c in conditions]  # fmt: skip
        with np.errstate(all="ignore"):
            return np.select(masks, [np.asarray(v, dtype=float) for v in values],
                             default=np.nan)  # fmt: skip


def _object_eye(n: int, backend: Backend):
    out = np.full((n, n), backend.number(Fraction(0)), dtype=object)
    for k in range(n):
        out[k, k] = backend.number(Fraction(1))
    return out


_FLOAT_FNS: dict[ScalarFn, Callable] = {}


def _float_fn(f: ScalarFn) -> Callable:
    if f not in _FLOAT_FNS:
        _FLOAT_FNS[f] = sp.lambdify(S, f.expr, "numpy")
    fn = _FLOAT_FNS[f]
    return lambda x: np.broadcast_to(np.asarray(fn(x), dtype=float), np.shape(x)).copy()


class SymBackend(Backend):
    """Entries are SymPy expressions; element-wise functions written out (sigma as
    1/(1 + e^-s)) so that simplify can prove identities, or ``opaque`` (as derive's proofs keep
    them), so that a derivative reads as a textbook writes it."""

    dtype = object

    def __init__(self, opaque: bool = False):
        self.opaque = opaque
        self.name = "sym-opaque" if opaque else "sym"

    def number(self, x: Fraction):
        return sp.Rational(x.numerator, x.denominator)

    def fn(self, f: ScalarFn) -> Callable:
        one = f.scalar if self.opaque else (lambda a: f.expr.subs(S, a))
        return np.vectorize(one, otypes=[object])

    def compare(self, op: str, x):
        rel = {">": sp.StrictGreaterThan, ">=": sp.GreaterThan, "<": sp.StrictLessThan,
               "<=": sp.LessThan, "=": sp.Eq, "!=": sp.Ne}[op]  # fmt: skip
        return np.vectorize(lambda a: sp.Piecewise((1, rel(a, 0)), (0, True)), otypes=[object])(x)

    def maximum(self, a, b):
        # at a tie the first argument: so max(0, x)' = 1[x > 0] and max(0.01x, x)' = 0.01 at 0
        return np.vectorize(lambda x, y: sp.Piecewise((x, x >= y), (y, True)),
                            otypes=[object])(a, b)  # fmt: skip

    def minimum(self, a, b):
        return np.vectorize(lambda x, y: sp.Piecewise((x, x <= y), (y, True)),
                            otypes=[object])(a, b)  # fmt: skip

    def absolute(self, x):
        return np.vectorize(sp.Abs, otypes=[object])(x)

    def sqrt(self, x):
        return np.vectorize(sp.sqrt, otypes=[object])(x)

    def exp(self, x):
        return np.vectorize(sp.exp, otypes=[object])(x)

    def log(self, x):
        return np.vectorize(sp.log, otypes=[object])(x)

    def inverse(self, x):
        return np.array(sp.Matrix(x).inv().tolist(), dtype=object)

    def det(self, x):
        return sp.Matrix(x).det(method="berkowitz")

    def select(self, values, conditions):
        rel = {">": sp.StrictGreaterThan, ">=": sp.GreaterThan, "<": sp.StrictLessThan,
               "<=": sp.LessThan, "=": sp.Eq, "!=": sp.Ne}  # fmt: skip
        out = np.empty(values[0].shape, dtype=object)
        for idx in np.ndindex(out.shape):
            pieces = [(v[idx], True if c is None else rel[c[0]](c[1][idx], 0))
                      for v, c in zip(values, conditions)]  # fmt: skip
            if pieces[-1][1] is not True:
                pieces.append((sp.nan, True))
            out[idx] = sp.Piecewise(*pieces)
        return out


class MpBackend(Backend):
    """Entries are mpmath numbers at ``dps`` decimal digits."""

    dtype = object
    name = "mp"

    def __init__(self, dps: int = 50):
        import mpmath

        self.dps = dps
        self.mpmath = mpmath  # its precision set by the caller: with mpmath.workdps(dps)

    def number(self, x: Fraction):
        return self.mpmath.mpf(x.numerator) / x.denominator

    def fn(self, f: ScalarFn) -> Callable:
        g = sp.lambdify(S, f.expr, "mpmath")
        return np.vectorize(lambda a: self.mpmath.mpf(g(a)) if _real(g(a)) else g(a),
                            otypes=[object])  # fmt: skip

    def compare(self, op: str, x):
        ops = {">": lambda a: a > 0, ">=": lambda a: a >= 0, "<": lambda a: a < 0,
               "<=": lambda a: a <= 0, "=": lambda a: a == 0, "!=": lambda a: a != 0}  # fmt: skip
        test = ops[op]
        one, zero = self.number(Fraction(1)), self.number(Fraction(0))
        return np.vectorize(lambda a: one if test(a) else zero, otypes=[object])(x)

    def maximum(self, a, b):
        return np.vectorize(lambda x, y: x if x >= y else y, otypes=[object])(a, b)

    def minimum(self, a, b):
        return np.vectorize(lambda x, y: x if x <= y else y, otypes=[object])(a, b)

    def absolute(self, x):
        return np.vectorize(abs, otypes=[object])(x)

    def sqrt(self, x):
        return np.vectorize(self.mpmath.sqrt, otypes=[object])(x)

    def exp(self, x):
        return np.vectorize(self.mpmath.exp, otypes=[object])(x)

    def log(self, x):
        return np.vectorize(self.mpmath.log, otypes=[object])(x)

    def inverse(self, x):
        m = self.mpmath.matrix(x.tolist()) ** -1
        return np.array(m.tolist(), dtype=object)

    def det(self, x):
        return self.mpmath.det(self.mpmath.matrix(x.tolist()))

    def select(self, values, conditions):
        tests = {">": lambda a: a > 0, ">=": lambda a: a >= 0, "<": lambda a: a < 0,
                 "<=": lambda a: a <= 0, "=": lambda a: a == 0, "!=": lambda a: a != 0}  # fmt: skip
        out = np.empty(values[0].shape, dtype=object)
        for idx in np.ndindex(out.shape):
            out[idx] = self.mpmath.nan
            for v, c in zip(values, conditions):
                if c is None or tests[c[0]](c[1][idx]):
                    out[idx] = v[idx]
                    break
        return out


def _real(v) -> bool:
    return not isinstance(v, complex) and getattr(v, "imag", 0) == 0


FLOAT = Backend()


# --- what names mean --------------------------------------------------------------------------
@dataclass
class Meaning:
    """What the names of one claim mean: quantities by their written names (the network's or
    the declared symbols'), the student's function names, aliases of entries, definitions, the
    letter of the implicit sample, the notation, and the checker's derivatives."""

    names: dict[tuple, Quantity]
    functions: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, tuple[Quantity, tuple[int, ...] | None]] = field(default_factory=dict)
    definitions: dict[str, ast.Node] = field(default_factory=dict)
    constants: dict[str, object] = field(default_factory=dict)  # name -> the constant's symbol
    implicit: str | None = None  # the letter a per-sample quantity without an index means
    notation: str = "residual"
    derivative: Callable | None = None  # (node, env, evaluator) -> value
    dims: dict[str, object] = field(default_factory=dict)  # size names -> dim symbols
    net: object = None  # the network the names are of (the declared symbols' own, or the real)
    where: tuple[str, str, str] | None = None  # the claim holds when: ("i", "!=", "j")
    fixed: dict = field(default_factory=dict)  # sizes the claim is read at (one sample: {m: 1})


class OffSizes(InvalidClaim):
    """The claim names an entry (an instructor's alias, w_5: 'W1[1,3]') that exists at the
    network's own sizes only: a point at other sizes is no evidence either way."""


@dataclass(frozen=True)
class Ones:
    """``\\mathbf{1}`` (or, with ``eye``, the identity ``I``) before its size is known from the
    operand it meets (times a number: ``\\epsilon \\mathbf{1}`` in ``\\mathbf{v} + \\epsilon
    \\mathbf{1}``, ``I / \\|x\\|``)."""

    transposed: bool = False
    factor: object = None  # a 1 x 1 value, or None for 1
    eye: bool = False

    @property
    def what(self) -> str:
        return "the identity matrix" if self.eye else "a vector of ones"


Env = dict  # index letter -> its value (0-based)


class Evaluator:
    """Evaluates claim trees at one point (the values of one size set, one backend)."""

    def __init__(self, meaning: Meaning, point):
        self.meaning = meaning
        self.point = point
        self.backend: Backend = point.backend
        self.kinds: dict[str, str] = {}  # index letter -> "sample" | "component", as met

    # --- entry points ---------------------------------------------------------------------
    def value(self, node: ast.Node, env: Env, like: Callable | None = None):
        """``like() -> shape``: the shape a lone ``I`` or ``1`` (times numbers) takes."""
        out = self._value(node, env)
        if isinstance(out, Ones) and like is not None:
            return self._filled(out, like())
        if isinstance(out, Ones):
            raise InvalidClaim(f"the size of {out.what} is unclear: write it beside a vector")
        return out

    def _exact_power(self, node: ast.Sup):
        """A number to a whole power, exactly: 10^{-30}."""
        from derive.claims.meaning import as_number

        if node.hadamard:
            return None
        value = as_number(node)
        return None if value is None else self.number(value)

    def _value(self, node: ast.Node, env: Env):
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:
            raise InvalidClaim(f"{type(node).__name__.lower()} is not supported here")
        return method(node, env)

    def number(self, x: Fraction | int):
        return np.full((1, 1), self.backend.number(Fraction(x)), dtype=self.backend.dtype)

    # --- names --------------------------------------------------------------------------------
    def _number(self, node: ast.Number, env: Env):
        return self.number(node.fraction())

    def _name(self, node: ast.Name, env: Env, index: str | None = None, entry=None):
        m = self.meaning
        written = written_name(node)
        if written in m.aliases and node.label is None:
            q, where = m.aliases[written]
            if where is not None and not self.at_declared_sizes():
                raise OffSizes(f"{_show(node)} is an entry at the network's own sizes only")
            value = self.quantity(q, node, env, index)
            if where is not None:  # h_1: 'h[1]', w_3: 'W1[1,2]': that entry
                return self.components(value, where, env, _show(node))
            return value
        if written in m.definitions and index is None and node.label is None:
            return self._definition(written, env)
        q = m.names.get(key_of(node))
        if q is not None:
            return self.quantity(q, node, env, index)
        base = ast.Name(node.base, None, node.accents, node.label)
        plain = m.names.get(key_of(base))
        if node.sub is not None:
            letters = _index_letters(node.sub)
            if plain is not None and letters is not None:
                value = self.quantity(plain, base, env, index)
                return self.components(value, letters, env, _show(node))
            labelled = label_and_index(node)  # y_{B,k}: entry k of y_B
            if labelled is not None and m.names.get(key_of(labelled[0])) is not None:
                named, letters = labelled
                value = self.quantity(m.names[key_of(named)], named, env, index)
                return self.components(value, letters, env, _show(node))
            if node.base == "delta" and letters is not None and len(letters) == 2:
                return self._kronecker(letters, env)
        if node.label is not None and index is None:
            without = ast.Name(node.base, node.sub, node.accents, None)
            q = m.names.get(key_of(without))
            if q is not None and node.label in INDEX_LETTERS:
                return self.quantity(q, without, env, node.label)
        plain_letter = node.sub is None and node.label is None and not node.accents
        if plain_letter and node.base in env and index is None:  # sum_{r=0}^{2} ... r: a number
            return self.number(env[node.base] + 1)
        if node.base == "I" and node.label is None and not node.accents:  # the identity
            if node.sub is None:
                return Ones(eye=True)
            dim = m.dims.get(node.sub)
            if dim is not None:
                return self.backend.eye(int(self.point.size(dim)))
            if node.sub.isascii() and node.sub.isdigit() and 1 <= int(node.sub) <= 100:
                return self.backend.eye(int(node.sub))
        if key_of(node) == ("m", None, (), None):
            return self.number(self.point.m)
        if plain_letter:
            if node.base in m.constants:
                return self.constant(m.constants[node.base])
        raise InvalidClaim(f"unknown name {_show(node)}")

    def at_declared_sizes(self) -> bool:
        """Whether the point has the network's own sizes (an alias to an entry, W1[1,3], is
        that entry only there)."""
        net = self.meaning.net
        dims = getattr(net, "dims", {})
        try:
            return all(int(self.point.size(d)) == int(v) for d, v in dims.items())
        except (AttributeError, TypeError, ValueError):
            return False

    def quantity(self, q: Quantity, node: ast.Name, env: Env, index: str | None):
        if index is not None and not q.batched:
            raise InvalidClaim(
                f"{_show(node)} is one for the whole batch: it has no sample {index}"
            )
        if not q.batched:
            return self.point.leaf(q, None)
        return self.point.leaf(q, self.sample(index, node, env))

    def sample(self, index: str | None, node: ast.Name, env: Env) -> int:
        letter = index if index is not None else self.meaning.implicit
        if letter is None:
            raise InvalidClaim(
                f"{_show(node)} is per sample: write its sample index, {_show(node)}^i, inside "
                "a sum over i"
            )
        self._kind(letter, "sample")
        if letter not in env:
            raise NeedIndex(letter, "sample", self.point.m)
        return env[letter]

    def _kind(self, letter: str, kind: str) -> None:
        known = self.kinds.setdefault(letter, kind)
        if known != kind:
            raise InvalidClaim(
                f"the index {letter} is used both as a sample index and as the index of an entry"
            )

    def components(self, value, letters: tuple, env: Env, shown: str):
        """Entries of ``value``: ``letters`` are index letters or 1-based numbers."""
        rows, cols = value.shape
        if len(letters) == 1:
            if cols == 1:
                axes = [(letters[0], rows, 0)]
            elif rows == 1:
                axes = [(letters[0], cols, 1)]
            else:
                raise InvalidClaim(f"{shown}: a matrix has two indices, like W_{{kj}}")
        elif len(letters) == 2:
            axes = [(letters[0], rows, 0), (letters[1], cols, 1)]
        else:
            raise InvalidClaim(f"{shown}: at most two indices")
        at = [0, 0]
        for letter, size, axis in axes:
            if isinstance(letter, int):
                if not 1 <= letter <= size:
                    raise InvalidClaim(f"{shown}: no entry {letter} among {size}")
                at[axis] = letter - 1
                continue
            self._kind(letter, "component")
            if letter not in env:
                raise NeedIndex(letter, "component", size)
            if not 0 <= env[letter] < size:
                raise InvalidClaim(f"{shown}: the index {letter} runs over {size} entries here, "
                                   "and another use of it over more")  # fmt: skip
            at[axis] = env[letter]
        return value[at[0] : at[0] + 1, at[1] : at[1] + 1]

    def _kronecker(self, letters: tuple, env: Env):
        a, b = (self._index_value(x, env) for x in letters)
        return self.number(1 if a == b else 0)

    def _index_value(self, letter, env: Env) -> int:
        if isinstance(letter, int):
            return letter - 1
        if letter not in env:
            kind = self.kinds.get(letter)
            if kind is None:
                raise InvalidClaim(f"the index {letter} is not the index of anything here")
            raise NeedIndex(letter, kind, self._size_of(letter))
        return env[letter]

    def _size_of(self, letter: str) -> int:
        raise InvalidClaim(f"the range of the index {letter} is unclear")

    def _definition(self, name: str, env: Env):
        tree = self.meaning.definitions[name]
        saved = self.meaning.definitions
        self.meaning.definitions = {k: v for k, v in saved.items() if k != name}  # no recursion
        try:
            return self.value(tree, env)
        finally:
            self.meaning.definitions = saved

    def constant(self, symbol):
        return self.number(0) + self.point.constant(symbol)

    # --- scripts ----------------------------------------------------------------------------
    def _sup(self, node: ast.Sup, env: Env):
        base, exponent = node.base, node.exponent
        if isinstance(base, ast.Number):
            exact = self._exact_power(node)
            if exact is not None:
                return exact
        if isinstance(base, ast.Name) and isinstance(exponent, ast.Name):
            if (exponent.base in INDEX_LETTERS and exponent.sub is None and not exponent.accents
                    and not self._counts(exponent.base, base, env)):  # fmt: skip
                return self._name(base, env, index=exponent.base)
        if isinstance(base, ast.Name) and key_of(base) == ("e", None, (), None):
            if "e" not in {k[0] for k in self.meaning.names if k[1] is None}:
                return self.backend.exp(self._entrywise("e^{...}", self.value(exponent, env)))
        power = _integer(exponent)
        if power is None:
            power = self._counted_power(exponent, env)
        if power is None:  # a real power of a number: (e^{x_i})^c, x^{1/2}
            value, exponent_value = self.value(base, env), self.value(exponent, env)
            if getattr(value, "shape", None) == (1, 1) and getattr(
                    exponent_value, "shape", None) == (1, 1):  # fmt: skip
                return self.backend.exp(self.backend.log(value) * exponent_value)
            raise InvalidClaim("only whole-number powers are supported, or powers of numbers")
        if isinstance(base, ast.Norm) and power == 2 and not node.hadamard:
            return self._norm(base, env, squared=True)
        value = self.value(base, env)
        if node.hadamard:  # x^{\circ 2}: entry by entry
            return self.number(1) / value ** (-power) if power < 0 else value**power
        return self.power(value, power)

    def _counts(self, letter: str, base: ast.Name, env: Env) -> bool:
        """In X^k, k is a power, not a sample, when a sum binds k as a count and X is not per
        sample: \\sum_{k=0}^{2} X^k."""
        if letter not in env or self.kinds.get(letter) == "sample":
            return False
        names = self.meaning.names
        q = names.get(key_of(base)) or names.get(key_of(ast.Name(base.base, None, base.accents)))
        return q is None or not q.batched

    def _counted_power(self, node: ast.Node, env: Env) -> int | None:
        """A whole exponent made of numbers and the indices of sums: X^{2-r}."""
        if isinstance(node, ast.Number):
            return _integer(node)
        if isinstance(node, ast.Name):
            plain = node.sub is None and node.label is None and not node.accents
            if plain and node.base in env and self.kinds.get(node.base) != "sample":
                return env[node.base] + 1
            return None
        if isinstance(node, ast.Neg):
            inner = self._counted_power(node.operand, env)
            return None if inner is None else -inner
        if isinstance(node, ast.BinOp) and node.op in ("+", "-", "*"):
            a, b = self._counted_power(node.left, env), self._counted_power(node.right, env)
            if a is None or b is None:
                return None
            out = a + b if node.op == "+" else a - b if node.op == "-" else a * b
            return out if abs(out) <= MAX_POWER else None
        return None

    def power(self, value, power: int):
        rows, cols = value.shape
        if rows == cols and rows > 1:  # a square matrix: the matrix power
            if power < 0:
                value, power = self.backend.inverse(value), -power
            out = self.backend.eye(rows)
            for _ in range(power):
                out = out @ value
            return out
        if power < 0:
            return self.number(1) / value ** (-power)
        return value**power

    def _transpose(self, node: ast.Transpose, env: Env):
        value = self._value(node.operand, env)
        if isinstance(value, Ones):
            return value if value.eye else Ones(not value.transposed, value.factor)
        return value.T

    def _neg(self, node: ast.Neg, env: Env):
        return -self.value(node.operand, env)

    # --- products and sums ------------------------------------------------------------------
    def _binop(self, node: ast.BinOp, env: Env):
        a, b = self._value(node.left, env), self._value(node.right, env)
        op = node.op
        if isinstance(a, Ones) and isinstance(b, Ones):
            raise InvalidClaim(f"the size of {a.what} is unclear")
        if op in ("*", "/") and (isinstance(a, Ones) or isinstance(b, Ones)):
            ones, other = (a, b) if isinstance(a, Ones) else (b, a)
            if other.shape == (1, 1) and not (op == "/" and other is a):
                factor = other if op == "*" else self.number(1) / other
                if ones.factor is not None:
                    factor = factor * ones.factor
                return Ones(ones.transposed, factor, ones.eye)
        if op in ("+", "-", "hadamard", "/"):
            a, b = self._ones_like(a, b), self._ones_like(b, a)
            if op == "/" and b.shape == (1, 1):
                return a / b
            a, b = _broadcast(a, b, {"+": "add", "-": "subtract", "hadamard": "multiply "
                              "element-wise", "/": "divide"}[op], self)  # fmt: skip
            return a + b if op == "+" else a - b if op == "-" else a * b if op == "hadamard" else (
                a / b)  # fmt: skip
        a, b = self._ones_for_product(a, b)
        return self.times(a, b)

    def _ones_like(self, x, other):
        r"""``\mathbf{1}`` added to (or multiplied entry by entry with) a vector: that shape."""
        if not isinstance(x, Ones):
            return x
        return self._filled(x, other.shape)

    def _filled(self, ones: Ones, shape):
        if ones.eye:
            if shape[0] != shape[1]:
                raise InvalidClaim(f"the identity matrix meets a {self.point.shape_text(shape)} "
                                   "matrix, which is not square")  # fmt: skip
            out = self.backend.eye(shape[0])
            return out if ones.factor is None else out * ones.factor[0, 0]
        out = self.backend.full(shape, 1)
        return out if ones.factor is None else out * ones.factor[0, 0]

    def _ones_for_product(self, a, b):
        """``A 1`` is A times the column of ones of A's width; ``1^T A`` the row of ones of A's
        height; ``1 b^T`` and ``a 1^T`` leave the size unclear (an error)."""
        if isinstance(b, Ones) and b.eye:  # A I: I of A's width
            b = self._filled(b, (a.shape[1], a.shape[1]))
        if isinstance(a, Ones) and a.eye:  # I B: I of B's height
            a = self._filled(a, (b.shape[0], b.shape[0]))
        if isinstance(b, Ones):
            if b.transposed or a.shape == (1, 1):
                raise InvalidClaim("the size of a vector of ones is unclear: write 1_n")
            b = self._filled(b, (a.shape[1], 1))
        if isinstance(a, Ones):
            if not a.transposed:
                if b.shape[0] == 1 and b.shape != (1, 1):
                    raise InvalidClaim("the size of a vector of ones is unclear: write 1_n")
                a = self._filled(a, (b.shape[0], 1) if b.shape[0] != 1 else (1, 1))
            else:
                a = self._filled(a, (1, b.shape[0]))
        return a, b

    def times(self, a, b):
        """Juxtaposition: a number times anything, or the matrix product."""
        if a.shape == (1, 1) and b.shape != (1, 1):
            return a[0, 0] * b
        if b.shape == (1, 1) and a.shape != (1, 1):
            return a * b[0, 0]
        if a.shape[1] != b.shape[0]:
            raise InvalidClaim(
                f"cannot multiply {self.shape_text(a)} by {self.shape_text(b)}: the inner sizes "
                "differ"
            )
        return a @ b

    def shape_text(self, value) -> str:
        return self.point.shape_text(value.shape)

    def _frac(self, node: ast.Frac, env: Env):
        num, den = self._value(node.num, env), self.value(node.den, env)
        if isinstance(num, Ones) and den.shape == (1, 1):  # \frac{I}{\|x\|}: still lazy
            factor = self.number(1) / den
            return Ones(num.transposed, factor if num.factor is None else factor * num.factor,
                        num.eye)  # fmt: skip
        if isinstance(num, Ones):
            raise InvalidClaim(f"the size of {num.what} is unclear")
        if den.shape == (1, 1):
            return num / den[0, 0]
        num, den = _broadcast(num, den, "divide", self)
        return num / den

    def _sum(self, node: ast.Sum, env: Env):
        letter = node.index or self.meaning.implicit or "i"
        lower, upper, kind = self._limits(node, letter)
        if letter in env and kind is None:
            kind = self.kinds.get(letter)
        inner = {k: v for k, v in env.items() if k != letter}
        try:  # without the index first: a body that reads it says over what (x_j: the entries)
            try:
                probe = self.value(node.body, inner)
            except InvalidClaim:  # read where only its value means something (1_{i=j})
                probe = self.value(node.body, {**inner, letter: lower})
        except NeedIndex as need:
            if need.letter != letter:
                raise
            kind = kind or need.kind
            size = need.size
        else:
            # the body does not read the index (or read it at ``lower``): its range from the
            # limits, else the samples
            size = None
            if self.kinds.get(letter) is not None:
                kind = self.kinds[letter]
            if kind == "sample" or (kind is None and upper is None):
                size = self.point.m
            del probe
        if upper is None:
            if size is None:
                size = self.point.m
            upper = size
        elif size is not None and upper > size:
            raise InvalidClaim(f"the sum over {letter} runs to {upper}, past the {size} there are")
        if kind == "sample" and (lower, upper) != (0, self.point.m):
            raise InvalidClaim("a sum over the samples runs from 1 to m")
        total = None
        for k in range(lower, upper):
            exclude = getattr(node, "exclude", None)
            if exclude is not None and k == self._index_value(exclude, env):
                continue
            term = self.value(node.body, {**inner, letter: k})
            total = term if total is None else _add(total, term, self)
        if total is None:
            return self.number(0)
        return total

    def _limits(self, node: ast.Sum, letter: str) -> tuple[int, int | None, str | None]:
        """The 0-based start, the end (None: from the body) and the kind the limits imply."""
        lower = 0
        if node.lower is not None:
            low = _integer(node.lower)
            if low is None or low < 0:
                raise InvalidClaim("a sum runs from 0, 1 (or another whole number) upwards")
            lower = low - 1
        upper, kind = None, None
        if node.upper is not None:
            top = _integer(node.upper)
            if top is not None:
                upper = top
            elif isinstance(node.upper, ast.Name) and node.upper.sub is None:
                name = node.upper.base
                if name == "m":
                    upper, kind = self.point.m, "sample"
                elif name in self.meaning.dims:
                    upper, kind = self.point.size(self.meaning.dims[name]), "component"
                elif name.lower() in self.meaning.dims:
                    upper, kind = self.point.size(self.meaning.dims[name.lower()]), "component"
                else:
                    kind = "component"  # \sum_{k=1}^{C}: C is the range the body gives
            else:
                raise InvalidClaim("a sum runs up to m, a size, or a whole number")
        return lower, upper, kind

    def _ones(self, node: ast.Ones, env: Env):
        if node.sub is None:
            return Ones()
        dim = self.meaning.dims.get(node.sub)
        if dim is None:
            if node.sub.isdigit():
                return self.backend.full((int(node.sub), 1), 1)
            raise InvalidClaim(f"the size of 1_{node.sub} is unknown")
        return self.backend.full((self.point.size(dim), 1), 1)

    # --- functions --------------------------------------------------------------------------
    def _call(self, node: ast.Call, env: Env):
        m = self.meaning
        fn = m.functions.get(node.spelling or node.fn) or m.functions.get(node.fn) or node.fn
        if fn in ("max", "min"):
            return self._max_min(fn, node.args, env)
        if len(node.args) != 1:
            raise InvalidClaim(f"{node.spelling or node.fn} takes one argument, got "
                               f"{len(node.args)}")  # fmt: skip
        x = self.value(node.args[0], env)
        if fn == "softmax":
            return self._softmax(x)
        if fn == "logsumexp":
            return self._logsumexp(x)
        if fn == "diag":
            return self._diag(x)
        if fn == "det":
            if x.shape[0] != x.shape[1]:
                raise InvalidClaim(f"the determinant of a {self.shape_text(x)} matrix")
            return np.full((1, 1), self.backend.det(x), dtype=x.dtype)
        if fn in ("tr", "trace"):
            if x.shape[0] != x.shape[1]:
                raise InvalidClaim(f"the trace of a {self.shape_text(x)} matrix")
            return np.full((1, 1), sum(x[k, k] for k in range(x.shape[0])), dtype=x.dtype)
        if fn in MATRIX_FUNCTIONS:
            self._entrywise(f"\\{fn}", x)
        if fn == "sqrt":
            return self.backend.sqrt(x)
        if fn == "exp":
            return self.backend.exp(x)
        if fn == "log":
            return self.backend.log(x)
        if fn == "abs":
            return self.backend.absolute(x)
        meaning = MEANINGS.get(fn)
        if meaning is None:
            raise InvalidClaim(f"unknown function {node.spelling or node.fn}")
        return self.backend.fn(meaning)(x)

    def _entrywise(self, shown: str, x):
        """exp, log, sin, cos, sqrt act entry by entry; of a declared square matrix that is
        ambiguous (The Matrix Cookbook's e^X is the matrix exponential), so it is refused."""
        if x.shape[0] == x.shape[1] > 1 and getattr(self.meaning.net, "name", "") == "claims":
            raise InvalidClaim(
                f"{shown} of a square matrix: derive reads it entry by entry, and the matrix "
                "function is not supported; write it for one entry"
            )
        return x

    def _max_min(self, fn: str, args, env: Env):
        if len(args) != 2:
            raise InvalidClaim(f"\\{fn} of two arguments, like \\{fn}(0, x)")
        a, b = (self.value(x, env) for x in args)
        a, b = _broadcast(a, b, f"take the {fn} of", self)
        return self.backend.maximum(a, b) if fn == "max" else self.backend.minimum(a, b)

    def _softmax(self, x):
        if x.shape[1] != 1:
            raise InvalidClaim(f"softmax of a {self.shape_text(x)} matrix: a vector is needed")
        if self.backend is FLOAT:
            e = np.exp(x - x.max())
            return e / e.sum()
        e = self.backend.exp(x)
        return e / sum(e[:, 0])

    def _logsumexp(self, x):
        if x.shape[1] != 1:
            raise InvalidClaim(f"logsumexp of a {self.shape_text(x)} matrix: a vector is needed")
        if self.backend is FLOAT:
            top = x.max()
            return np.full((1, 1), top + np.log(np.exp(x - top).sum()))
        return self.backend.log(np.full((1, 1), sum(self.backend.exp(x)[:, 0]), dtype=object))

    def _diag(self, x):
        rows, cols = x.shape
        if cols == 1:
            out = self.backend.full((rows, rows), 0)
            for k in range(rows):
                out[k, k] = x[k, 0]
            return out
        if rows == cols:  # the diagonal of a square matrix, as a vector
            return np.array([[x[k, k]] for k in range(rows)], dtype=x.dtype)
        raise InvalidClaim(f"diag of a {self.shape_text(x)} matrix: a vector is needed")

    def _abs(self, node: ast.Abs, env: Env):
        return self.backend.absolute(self.value(node.operand, env))

    def _norm(self, node: ast.Norm, env: Env, squared: bool = False):
        x = self.value(node.operand, env)
        if node.p == "1":
            total = sum(self.backend.absolute(x).ravel())
            out = np.full((1, 1), total, dtype=x.dtype)
            return out**2 if squared else out
        if node.p in ("infty", "inf", "\\infty"):
            flat = list(self.backend.absolute(x).ravel())
            top = flat[0]
            for v in flat[1:]:
                top = self.backend.maximum(np.full((1, 1), top, dtype=x.dtype),
                                           np.full((1, 1), v, dtype=x.dtype))[0, 0]  # fmt: skip
            out = np.full((1, 1), top, dtype=x.dtype)
            return out**2 if squared else out
        if node.p not in (None, "2", "F"):
            raise InvalidClaim(f"the {node.p}-norm is not supported")
        total = np.full((1, 1), sum((x * x).ravel()), dtype=x.dtype)
        return total if squared else self.backend.sqrt(total)

    def _indicator(self, node: ast.Indicator, env: Env):
        c = node.condition
        if c.op in ("=", "!=") and _is_index(c.left) and _is_index(c.right):
            a = self._index_value(_index_of(c.left), env)
            b = self._index_value(_index_of(c.right), env)
            return self.number(1 if (a == b) == (c.op == "=") else 0)
        left, right = self.value(c.left, env), self.value(c.right, env)
        left, right = _broadcast(left, right, "compare", self)
        return self.backend.compare(c.op, left - right)

    def _cases(self, node: ast.Cases, env: Env):
        values = [self.value(v, env) for v in node.values]
        conditions = []
        for c in node.conditions:
            if c is None:
                conditions.append(None)
                continue
            left, right = _broadcast(self.value(c.left, env), self.value(c.right, env),
                                     "compare", self)  # fmt: skip
            conditions.append((c.op, left - right))
        shape = next((v.shape for v in values if v.shape != (1, 1)), None)
        shape = shape or next((d.shape for c in conditions if c for d in [c[1]]
                               if d.shape != (1, 1)), (1, 1))  # fmt: skip
        values = [_broadcast(v, np.empty(shape, dtype=object), "choose between", self)[0]
                  if v.shape != shape else v for v in values]  # fmt: skip
        conditions = [None if c is None else (c[0], c[1] if c[1].shape == shape else np.full(
            shape, c[1][0, 0], dtype=c[1].dtype)) for c in conditions]  # fmt: skip
        return self.backend.select(values, conditions)

    def _derivative(self, node: ast.Derivative, env: Env):
        if self.meaning.derivative is None:
            raise InvalidClaim("a derivative is not supported here")
        return self.meaning.derivative(node, env, self)

    def _component(self, node, env: Env):
        value = self.value(node.base, env)
        return self.components(value, node.indices, env, "an entry")


# --- helpers ----------------------------------------------------------------------------------
def _add(a, b, ev: Evaluator):
    if a.shape != b.shape:
        raise InvalidClaim(
            f"the terms of a sum differ in shape: {ev.shape_text(a)} and {ev.shape_text(b)}"
        )
    return a + b


def _broadcast(a, b, verb: str, ev: Evaluator):
    """A number meets an array entry by entry, as in 1 - sigma(x); otherwise the shapes must
    agree."""
    if a.shape == b.shape:
        return a, b
    if a.shape == (1, 1):
        return np.full(b.shape, a[0, 0], dtype=a.dtype if a.dtype == b.dtype else object), b
    if b.shape == (1, 1):
        return a, np.full(a.shape, b[0, 0], dtype=a.dtype if a.dtype == b.dtype else object)
    raise InvalidClaim(f"cannot {verb} {ev.shape_text(a)} and {ev.shape_text(b)}")


def _integer(node: ast.Node) -> int | None:
    sign = 1
    if isinstance(node, ast.Neg):
        sign, node = -1, node.operand
    if isinstance(node, ast.Number):
        value = node.fraction()
        if value.denominator == 1 and abs(value) <= MAX_POWER:
            return sign * int(value)
    return None


def label_and_index(node: ast.Name) -> tuple[ast.Name, tuple] | None:
    """``y_{B,k}``, ``z_{2B,j}``: the quantity y_B (its label before the last comma) and the
    index letters after it; None for any other name."""
    if node.sub is None or "," not in node.sub:
        return None
    head, _, tail = node.sub.rpartition(",")
    letters = _index_letters(tail)
    if not head.strip() or letters is None or len(letters) != 1:
        return None
    return ast.Name(node.base, head.strip(), node.accents, node.label), letters


def _index_letters(sub: str) -> tuple | None:
    """``"j"`` -> ("j",), ``"kj"`` or ``"k,j"`` -> ("k", "j"), ``"1"`` -> (1,), ``"12"`` -> (1, 2),
    ``"1,j"`` -> (1, "j"); None when the subscript is not indices (a label such as 2B)."""
    parts = sub.split(",") if "," in sub else list(sub)
    if not 1 <= len(parts) <= 2:
        return None
    out = []
    for p in parts:
        p = p.strip()
        if p in COMPONENT_LETTERS:
            out.append(p)
        elif p.isascii() and p.isdigit() and len(p) <= 3 and int(p) >= 1:
            out.append(int(p))
        else:
            return None
    return tuple(out)


def _is_index(node: ast.Node) -> bool:
    return (isinstance(node, ast.Name) and node.base in INDEX_LETTERS and node.sub is None
            and not node.accents and node.label is None) or (
        isinstance(node, ast.Number) and node.fraction().denominator == 1)  # fmt: skip


def _index_of(node: ast.Node):
    return node.base if isinstance(node, ast.Name) else int(node.fraction())


def _show(node: ast.Name) -> str:
    text = node.base
    for accent in node.accents:
        text = f"{accent}({text})"
    if node.sub is not None:
        text += f"_{node.sub}"
    if node.label is not None:
        text += f"^({node.label})"
    return text


def is_scalar_fn(name: str) -> bool:
    return name in MEANINGS or name in ELEMENTWISE
