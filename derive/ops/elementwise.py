"""Element-wise functions and the Hadamard product.

An element-wise function is given only by its scalar SymPy form: its derivative comes from
``sympy.diff`` and is printed in textbook form (cos z, 1[z > 0], ...), never from a hand table.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from derive.errors import DeriveError, ShapeError
from derive.expr import Expr, Identity, Ones, Op, Zero, shape_str, sym, test_leaf
from derive.ops import identities
from derive.ops.algebra import exact, scale
from derive.ops.identities import is_onehot

#: The scalar variable of every element-wise function.
S = sp.Symbol("s", real=True)


@dataclass(frozen=True)
class ScalarFn:
    """A scalar function s -> expr applied entry by entry. Named ones print as \\sin(.) etc."""

    expr: sp.Expr
    name: str | None = None
    latex: str | None = None
    numpy: str | None = None  # a faster NumPy form than the lambdified one, "{0}" the argument

    def derivative(self) -> ScalarFn:
        return _derivative(self)

    def textbook(self) -> tuple[sp.Expr, ScalarFn] | None:
        """The derivative as g(s, u) with u = G(s) for a named function G, when that is how a
        textbook writes it: sigma(1 - sigma), 1 - tanh^2, sigma + s sigma (1 - sigma)."""
        return _textbook(self)

    def scalar(self, a: sp.Expr) -> sp.Expr:
        """This function of the scalar ``a`` for the proofs: as an unevaluated SymPy function
        whose derivative is (the same way) the derivative above. Keeping applications opaque
        makes sympy.diff fast (no Max simplification) and lets the identity test treat each
        application as an unknown. Polynomials and powers (s^2, 1/s) stay plain."""
        expr = self.expr
        if expr.is_polynomial(S) or (expr.is_Pow and expr.base == S and expr.exp.is_Integer):
            return expr.subs(S, a)
        if self not in _OPAQUE:
            fn = self

            def fdiff(f, argindex=1):
                arg = f.args[0]
                book = fn.textbook()
                if book:
                    g, named = book
                    return g.subs({U: named.scalar(arg), S: arg}, simultaneous=True)
                return fn.derivative().scalar(arg)

            # exp(k a) = exp(a)^k: the identity test knows it (sigma o sigma = exp(log sigma^2))
            methods = {"fdiff": fdiff, "exponential": expr == sp.exp(S)}
            _OPAQUE[self] = type(f"F_{self.name or len(_OPAQUE)}", (sp.Function,), methods)
        return _OPAQUE[self](a)

    def numpy_code(self, arg: str) -> str:
        if self.numpy:
            return self.numpy.format(arg)
        from derive.ops.layout import scalar_code

        placeholder = sp.Symbol("__ARG__")
        return scalar_code(self.expr.subs(S, placeholder)).replace("__ARG__", f"({arg})")


#: The value u = G(s) of a named function in a textbook derivative.
U = sp.Symbol("u", real=True)


def _diff(expr: sp.Expr) -> sp.Expr:
    """The derivative almost everywhere, as backpropagation uses it: the Dirac deltas of
    sign and of a step (zero except at one point) are dropped, so sign' = 0."""
    d = sp.diff(expr, S)
    return d.replace(lambda e: isinstance(e, sp.DiracDelta), lambda e: sp.Integer(0))


@functools.cache
def _derivative(fn: ScalarFn) -> ScalarFn:
    d = _diff(fn.expr)
    for other in ELEMENTWISE.values():
        if other.expr == d:
            return other
    for other in ELEMENTWISE.values():  # softplus' = sigmoid, written another way
        if other.expr.has(S) and d.has(S) and _same_function(other.expr, d):
            return other
    return ScalarFn(d)


#: Where two scalar functions are compared before SymPy is asked to prove them equal.
_PROBES = (-2.3, -0.7, 0.4, 1.1, 2.9)


def _same_function(a: sp.Expr, b: sp.Expr) -> bool:
    """a = b as functions of s: they must agree in 30 digits at a few points before
    ``sympy.simplify`` is asked for the proof (on a GELU it takes minutes to say no)."""
    agreed = 0
    for v in _PROBES:
        try:
            x, y = (complex(e.subs(S, sp.Float(v, 40)).evalf(30)) for e in (a, b))
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        if any(z != z or abs(z) == float("inf") for z in (x, y)):
            continue  # outside a function's domain
        if abs(x - y) > 1e-20 * max(1.0, abs(x)):
            return False
        agreed += 1
    return agreed > 0 and sp.simplify(a - b) == 0


@functools.cache
def _textbook(fn: ScalarFn) -> tuple[sp.Expr, ScalarFn] | None:
    d = _diff(fn.expr)
    if not d.has(S) or d.has(sp.Heaviside, sp.Piecewise, sp.sign) or _derivative(fn).name:
        return None  # a constant, an indicator, or itself a named function (cos, sigmoid)
    candidates = [fn] + [ELEMENTWISE[n] for n in ("sigmoid", "tanh") if n in ELEMENTWISE]
    for named in candidates:
        if not named.name:
            continue
        g = _in_terms_of(d, named)
        if g is not None:
            return g, named
    return None


def _in_terms_of(d: sp.Expr, named: ScalarFn) -> sp.Expr | None:
    """d(s) rewritten as a rational function of s and u = named(s), or None."""
    if named.name == "sigmoid":  # e^-s = (1 - u)/u
        rewritten = d.subs(sp.exp(-S), (1 - U) / U).subs(sp.exp(S), U / (1 - U))
    else:  # tanh' = 1 - tanh^2, sqrt' = 1 / (2 sqrt)
        rewritten = d.subs(named.expr, U)
    if rewritten.has(sp.exp, sp.tanh) or not rewritten.has(U):
        return None
    g = sp.factor(sp.cancel(rewritten))
    if not g.is_rational_function(U, S) or any(p.is_Pow and not p.exp.is_Integer
                                               for p in sp.preorder_traversal(g)):  # fmt: skip
        return None
    expanded, tidy = sp.expand(g), _tidy(g)
    g = expanded if sp.count_ops(expanded) < sp.count_ops(tidy) else tidy
    if sp.simplify(g.subs(U, named.expr) - d) != 0:
        return None
    return g


def _tidy(g: sp.Expr) -> sp.Expr:
    """-u (u - 1) -> u (1 - u): factors with a positive constant term, as on paper."""
    coef, factors = sp.Integer(1), []
    for f in sp.Mul.make_args(g):
        base, power = f.as_base_exp()
        if base.is_Add and base.as_coeff_add()[0].is_negative and power.is_Integer:
            base = -base
            coef *= (-1) ** power
        if f.is_number:
            coef *= f
        else:
            factors.append(sp.Pow(base, power, evaluate=False) if power != 1 else base)
    return sp.Mul(coef, *factors, evaluate=False) if coef != 1 else sp.Mul(*factors, evaluate=False)


_OPAQUE: dict[ScalarFn, type] = {}

#: The element-wise vocabulary, by name. Add an entry to add a function (with its derivative).
ELEMENTWISE: dict[str, ScalarFn] = {}


def elementwise(name: str, expr, latex: str | None = None, numpy: str | None = None):
    """Register an element-wise function given as a SymPy expression in one variable
    (or a callable building it) and return the function that applies it to matrix expressions."""
    if callable(expr):
        expr = expr(S)
    fn = ScalarFn(sym(expr), name, latex or rf"\operatorname{{{name}}}", numpy)
    ELEMENTWISE[name] = fn

    def apply_fn(e: Expr) -> Expr:
        return apply(fn, e)

    apply_fn.__name__ = name
    apply_fn.__doc__ = f"Apply {name} element-wise."
    return apply_fn


@dataclass(frozen=True, repr=False)
class Apply(Op):
    fn: ScalarFn
    e: Expr

    @property
    def shape(self):
        return self.e.shape

    def rebuild(self, e):
        return apply(self.fn, e)

    def numpy(self, code):
        return self.fn.numpy_code(code(self.e))

    def explicit(self, args, sizes):
        return args[0].applyfunc(self.fn.scalar)

    def local(self) -> Expr:
        """f'(e) entry by entry, in textbook form where there is one: sigma o (1 - sigma), which
        names the node the value belongs to once the derivation names known sub-expressions."""
        book = self.fn.textbook()
        if book and self.e.is_col:
            g, named = book
            return from_scalar(g, {S: self.e, U: apply(named, self.e)})
        return apply(self.fn.derivative(), self.e)

    def vjp(self, k, g):
        return hadamard(g, self.local())

    def jacobian(self, k):
        return diag(self.local()) if self.e.is_col else None

    @classmethod
    def examples(cls):
        u = test_leaf("u", 3)
        named = [Apply(fn, u) for fn in ELEMENTWISE.values() if fn.expr != S]
        return named + [Apply(leaky_relu_fn(0.1), u), Apply(elu_fn(1), u)]


def from_scalar(g: sp.Expr, values: dict[sp.Symbol, Expr]) -> Expr:
    """A polynomial in scalar symbols as an element-wise expression of column vectors:
    u (1 - u) -> U o (1 - U) for values {u: U}."""
    if g in values:
        return values[g]
    if g.is_number:
        n = next(iter(values.values())).shape[0]
        return scale(g, Ones(n))
    if g.is_Add:
        from derive.ops.algebra import add

        return add(*(from_scalar(t, values) for t in g.args))
    if g.is_Mul:
        coef, rest = g.as_coeff_mul()
        return scale(coef, hadamard(*(from_scalar(f, values) for f in rest)))
    if g.is_Pow and g.exp.is_Integer:
        return hadamard((from_scalar(g.base, values), int(g.exp)))
    raise ValueError(f"not a polynomial: {g}")


def apply(fn: ScalarFn, e: Expr) -> Expr:
    expr = fn.expr
    if expr == S:
        return e
    if not expr.has(S):
        if not e.is_col:
            raise ShapeError("a constant element-wise function needs a column vector")
        return scale(expr, Ones(e.shape[0]))
    if expr.is_Pow and expr.base == S and expr.exp.is_Integer:
        return hadamard((e, int(expr.exp)))
    return Apply(fn, e)


@dataclass(frozen=True, repr=False)
class Hadamard(Op):
    """Element-wise product with integer powers: ((y, 1), (p, -1)) is y / p entry by entry."""

    factors: tuple[tuple[Expr, int], ...]

    @property
    def shape(self):
        return self.factors[0][0].shape

    @property
    def children(self):
        return tuple(f for f, _ in self.factors)

    def rebuild(self, *children):
        return hadamard(*((c, p) for c, (_, p) in zip(children, self.factors)))

    def numpy(self, code):
        def power(c, p):
            return c if abs(p) == 1 else f"{c}**{abs(p)}"

        num = [power(code(f), p) for f, p in self.factors if p > 0] or ["1.0"]
        den = [power(code(f), p) for f, p in self.factors if p < 0]
        src = " * ".join(num)
        return "(" + src + "".join(f" / {d}" for d in den) + ")"

    def explicit(self, args, sizes):
        def entry(i, j):
            return sp.Mul(*(a[i, j] ** p for a, (_, p) in zip(args, self.factors)))

        return sp.Matrix(args[0].rows, args[0].cols, entry)

    def _local(self, k):
        f, p = self.factors[k]
        others = [fp for i, fp in enumerate(self.factors) if i != k]
        return scale(p, hadamard((f, p - 1), *others))

    def vjp(self, k, g):
        return hadamard(g, self._local(k))

    def jacobian(self, k):
        return diag(self._local(k)) if self.shape[1] == 1 else None

    @classmethod
    def examples(cls):
        u, v = test_leaf("u", 3), test_leaf("v", 3)
        return [hadamard(u, v), hadamard((u, 1), (v, -1)), hadamard((u, 2), v)]


def hadamard(*items) -> Expr:
    """u o v o ... ; items are expressions or (expression, integer power) pairs."""
    pairs = [it if isinstance(it, tuple) else (it, 1) for it in items]
    shape = pairs[0][0].shape
    for f, _ in pairs:
        if f.shape != shape:
            raise ShapeError(
                f"cannot multiply element-wise {pairs[0][0]!r} ({shape_str(shape)}) "
                f"and {f!r} ({shape_str(f.shape)})"
            )
    coef = sp.Integer(1)
    powers: dict[Expr, int] = {}

    def collect(f: Expr, p: int) -> None:
        nonlocal coef
        from derive.ops.algebra import Scale

        if isinstance(f, Scale):
            coef *= f.c**p
            collect(f.e, p)
        elif isinstance(f, Hadamard):
            for g, q in f.factors:
                collect(g, p * q)
        elif isinstance(f, Ones) or f == Identity(1):
            pass
        elif isinstance(f, Zero):
            if p < 0:
                raise DeriveError("element-wise division by zero")
            powers[f] = 1
        else:
            powers[f] = powers.get(f, 0) + p

    for f, p in pairs:
        collect(f, p)
    if any(isinstance(f, Zero) for f in powers):
        return Zero(shape)
    # y o y = y for a one-hot y (its entries are 0 and 1)
    kept = tuple((f, 1 if p > 0 and is_onehot(f) else p) for f, p in powers.items() if p != 0)
    if not kept:
        return scale(coef, Ones(shape[0]))
    if len(kept) == 1 and kept[0][1] == 1:
        return scale(coef, kept[0][0])
    return scale(coef, identities.simplify("hadamard", Hadamard(kept)))


@dataclass(frozen=True, repr=False)
class Diag(Expr):
    """diag(v): only for writing Jacobians down, never computed."""

    v: Expr

    @property
    def shape(self):
        return (self.v.shape[0], self.v.shape[0])

    def rebuild(self, v):
        return Diag(v) if not isinstance(v, Ones) else Identity(v.shape[0])

    def explicit(self, args, sizes):
        return sp.diag(*args[0])


def diag(v: Expr) -> Expr:
    """diag(v) as a Jacobian; of a 1 x 1 value, the value itself."""
    return v if v.is_scalar else Diag(v)


# --- the vocabulary ----------------------------------------------------------------------
sin = elementwise("sin", sp.sin, r"\sin")
cos = elementwise("cos", sp.cos, r"\cos")
exp = elementwise("exp", sp.exp, r"\exp")
log = elementwise("log", sp.log, r"\log")
tanh = elementwise("tanh", sp.tanh, r"\tanh")
sigmoid = elementwise(
    "sigmoid", lambda s: 1 / (1 + sp.exp(-s)), r"\sigma", numpy="(1.0 / (1.0 + numpy.exp(-({0}))))"
)
relu = elementwise(
    "ReLU", lambda s: sp.Max(0, s), r"\operatorname{ReLU}", numpy="numpy.maximum({0}, 0.0)"
)
softplus = elementwise(
    "softplus", lambda s: sp.log(1 + sp.exp(s)), numpy="numpy.logaddexp(0.0, {0})"
)
identity = elementwise("identity", lambda s: s)
square = elementwise("square", lambda s: s**2)
sqrt = elementwise("sqrt", sp.sqrt, numpy="numpy.sqrt({0})")
absolute = elementwise("abs", sp.Abs, numpy="numpy.abs({0})")
sign = elementwise("sign", sp.sign, numpy="numpy.sign({0})")


@functools.cache
def leaky_relu_fn(alpha) -> ScalarFn:
    a = exact(alpha)
    return ScalarFn(
        sp.Piecewise((S, S > 0), (a * S, True)),
        "leaky_ReLU",
        r"\operatorname{LReLU}_{" + sp.latex(a) + "}",
        numpy=f"numpy.where({{0}} > 0, {{0}}, {float(a)!r} * ({{0}}))",
    )


@functools.cache
def elu_fn(alpha) -> ScalarFn:
    a = exact(alpha)
    return ScalarFn(
        sp.Piecewise((S, S > 0), (a * (sp.exp(S) - 1), True)),
        "ELU",
        r"\operatorname{ELU}_{" + sp.latex(a) + "}",
        numpy=f"numpy.where({{0}} > 0, {{0}}, {float(a)!r} * numpy.expm1(numpy.minimum({{0}}, 0)))",
    )


def leaky_relu(e: Expr, alpha=0.01) -> Expr:
    """max(s, alpha s) entry by entry."""
    return apply(leaky_relu_fn(alpha), e)


def elu(e: Expr, alpha=1) -> Expr:
    """s for s > 0, alpha (e^s - 1) otherwise, entry by entry."""
    return apply(elu_fn(alpha), e)
