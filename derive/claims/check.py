"""Checking one claim: parsed, given its meaning, and compared with the truth.

The :class:`Checker` checks claims in one :class:`Context`: the network (loaded from a trusted
file, never one a student named), the declared symbols, the function names and aliases, and the
numbers of number claims. :mod:`derive.claims.grade` builds the contexts of a claims file or of
an assignment's questions and checks whole files within their time budget.

A claim about the network (a residual or a gradient of its loss) is compared with derive's proved
formula; an identity in declared symbols with itself, both sides as expressions of a small
network made of the symbols; a number with the value at the file's (or the network's) values.
A wrong formula comes back with the point where it fails, both sides' values there, the right
expression in the course's notation, and the likely slip.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from fractions import Fraction

import numpy as np
import sympy as sp

from derive.backprop import Derivation, Gradient
from derive.claims import ast
from derive.claims.claimfile import ClaimEntry, Symbol
from derive.claims.compare import compare
from derive.claims.meaning import (
    InvalidClaim,
    Scope,
    as_number,
    build,
    key_of,
    shape_str,
    written_name,
)
from derive.claims.repairs import MAX_REPAIRS, ast_repairs
from derive.claims.slips import likely_slip
from derive.claims.verdict import ClaimResult
from derive.errors import DeriveError
from derive.expr import Expr, Leaf, Quantity, m, substitute, sym
from derive.graph import Network

SECONDS_PER_CLAIM = 10.0
ROUND = 6  # significant digits of the numbers shown


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise TimeoutError after ``seconds`` (where signals can be had: the main thread)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield
        return

    def expire(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- the context ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Context:
    """What the names of a claim can mean, and the numbers a number claim is evaluated at."""

    net: Network | None = None
    derivation: Derivation | None = None
    symbols: dict[str, Symbol] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    values: dict[str, np.ndarray] = field(default_factory=dict)  # over the network's examples


class Checker:
    def __init__(self, context: Context):
        self.context = context
        self.net = context.net
        self.derivation = context.derivation
        if self.net is not None and self.derivation is None:
            self.derivation = self.net.derive()
        self.symbols_net = symbols_network(context.symbols)
        self._names: dict[int, dict] = {}
        self._asked: dict[str, ast.Node] = {}

    # --- one claim --------------------------------------------------------------------------
    def check(self, entry: ClaimEntry, seconds: float = SECONDS_PER_CLAIM) -> ClaimResult:
        start = time.perf_counter()
        try:
            with time_limit(seconds):
                result = self._check(entry)
        except TimeoutError:
            result = _result(entry, "invalid", f"took longer than {seconds:.3g} s to check")
        except InvalidClaim as err:
            result = _result(entry, "invalid", str(err))
        except DeriveError as err:
            position = getattr(err, "position", None)
            if position is not None:
                result = _result(entry, "unparseable", str(err), position=position)
            else:
                result = _result(entry, "invalid", str(err))
        except (RecursionError, MemoryError, OverflowError, ZeroDivisionError) as err:
            result = _result(entry, "invalid", f"cannot be evaluated ({type(err).__name__})")
        except Exception as err:  # noqa: BLE001 - one claim must never stop a class run
            result = _result(
                entry, "invalid", f"derive could not check this claim ({type(err).__name__}: {err})"
            )
        return _with_time(result, time.perf_counter() - start)

    def _check(self, entry: ClaimEntry) -> ClaimResult:
        from derive.claims.parse import parse_claim

        if entry.problem:
            return _result(entry, "invalid", entry.problem)
        functions = frozenset(self.context.functions)
        if entry.ask is not None:
            tree = self.answer_tree(entry, functions)
        else:
            tree = parse_claim(entry.text, functions)
            if not isinstance(tree, ast.Equation):
                raise InvalidClaim("a claim is an equation, lhs = rhs")
        scope = self.scope_for(tree)
        lhs = tree.sides[0]
        scope.sample = sample_index(lhs, scope)
        if entry.kind == "number":
            number = entry.number
            if number is None:
                number = as_number(tree.sides[-1]) if len(tree.sides) == 2 else None
            if number is None:
                raise InvalidClaim("this question asks for a number: write one, like -0.0045")
            return self.check_number(entry, lhs, number, scope)
        number = as_number(tree.sides[-1])
        if number is not None and as_number(lhs) is None and len(tree.sides) == 2:
            return self.check_number(entry, lhs, number, scope)
        sides = tree.sides
        for a, b in zip(sides, sides[1:]):
            try:
                result = self.check_pair(entry, a, b, scope)
            except InvalidClaim as err:  # perhaps a slip made it meaningless: try repairs
                result = _result(entry, "invalid", str(err))
            if result.verdict in ("invalid", "incorrect") and not result.slip:
                result = self.repaired(entry, a, b, scope) or result
            if result.verdict != "correct" or b is sides[-1]:
                return result
        raise AssertionError("unreachable")

    def asked(self, ask: str) -> ast.Node:
        """The question's left-hand side, parsed once (the instructor's text)."""
        from derive.claims.parse import parse_claim

        if ask not in self._asked:
            self._asked[ask] = parse_claim(ask, frozenset(self.context.functions))
        return self._asked[ask]

    def right_answer(self, ask: str, kind: str) -> str:
        """The right answer to a question: the right expression in the course's notation, or
        for a number question the number (raises for a question that cannot be answered)."""
        asked = self.asked(ask)
        scope = self.scope_for(ast.Equation((asked, asked)))
        scope.sample = sample_index(asked, scope)
        if kind == "number":
            return f"{self.number_value(asked, scope):.12g}"
        right, _ = self.side(asked, scope)
        return self.expected(right, scope)

    def answer_tree(self, entry: ClaimEntry, functions: frozenset) -> ast.Equation:
        """ask = the student's answer: its one side, or each side of the equation (a chain)
        the student wrote, the first dropped when it restates what is asked."""
        from derive.claims.parse import parse_claim

        asked = self.asked(entry.ask)
        if entry.kind == "number" and entry.number is not None:
            return ast.Equation((asked, ast.Number(str(abs(entry.number)))))
        answer = parse_claim(entry.text, functions)
        sides = answer.sides if isinstance(answer, ast.Equation) else (answer,)
        if len(sides) > 1 and sides[0] == asked:
            sides = sides[1:]
        if isinstance(asked, ast.Derivative) and _mentions(sides[-1], asked):
            raise InvalidClaim(
                "the answer is written in terms of what is asked: the derivative must be "
                "worked out, not restated"
            )
        return ast.Equation((asked, *sides))

    def repaired(self, entry, a: ast.Node, b: ast.Node, scope: Scope) -> ClaimResult | None:
        """The right-hand side changed in one place the way a slip would have changed it (a
        transpose dropped, ∘ for a product, x^j for x^i): if that makes it right, the change
        names the slip, and says where. This also explains claims whose shapes do not match."""
        tried = 0
        for slip, detail, fixed in ast_repairs(b, scope.sample or "i", entry.text):
            tried += 1
            if tried > MAX_REPAIRS:
                break
            try:
                outcome = self.check_pair(entry, a, fixed, scope, repairing=True)
            except DeriveError:
                continue
            if outcome.verdict in ("correct", "almost-everywhere"):
                right, _ = self.side(a, scope)
                return ClaimResult(
                    entry.id,
                    entry.text,
                    "incorrect",
                    f"the two sides differ: probably {slip} ({detail})",
                    expected=self.expected(right, scope),
                    slip=slip,
                )
        return None

    def check_pair(self, entry, a: ast.Node, b: ast.Node, scope: Scope,
                   repairing: bool = False) -> ClaimResult:  # fmt: skip
        right, gradient = self.side(a, scope)
        claimed, _ = self.side(b, scope)
        if right.shape != claimed.shape or right.batched != claimed.batched:
            return _result(entry, "invalid", _shape_message(right, claimed))
        net = scope.net
        outcome = compare(net, right, claimed)
        if outcome.verdict == "equal":
            how = "proved exactly" if outcome.exact else "at random points, at two sets of sizes"
            return _result(entry, "correct", f"both sides agree ({how})")
        if repairing:  # trying a repair: only whether it is right matters
            return _result(entry, "incorrect", "")
        if outcome.verdict == "almost-everywhere":
            where = ", ".join(f"{k} = {_fmt(v)}" for k, v in (outcome.point or {}).items())
            return _result(
                entry,
                "almost-everywhere",
                "both sides agree except where a kink is met (a set of measure zero), e.g. at "
                + where,
            )
        if outcome.verdict == "undecided":
            return _result(entry, "invalid", "cannot be evaluated at any point tried")
        slip = None
        if gradient is not None and self.derivation is not None:
            expanded = {g.q: g.expanded for g in self.derivation.residuals}
            slip = likely_slip(net, right, claimed, gradient, expanded)
        elif gradient is None:
            slip = likely_slip(net, right, claimed)
        message = "the two sides differ" + (f": probably {slip}" if slip else "")
        return ClaimResult(
            entry.id,
            entry.text,
            "incorrect",
            message,
            point=_point(net, outcome.point, right, claimed),
            claimed_value=_plain(outcome.claimed),
            correct_value=_plain(outcome.correct),
            expected=self.expected(right, scope),
            slip=slip,
        )

    def expected(self, right: Expr, scope: Scope) -> str:
        """The right expression in the course's notation (the network's names, sample i)."""
        from derive.render.printer import latex

        loss = self.net.loss_quantity.latex if scope.net is self.net else "f"
        return latex(right, index=scope.sample, loss=loss)

    def side(self, node: ast.Node, scope: Scope) -> tuple[Expr, Gradient | None]:
        """A side's expression, and the derived Gradient when the side is a derivative."""
        if isinstance(node, ast.Derivative) and scope.net is self.net:
            expr, gradient, _ = self.network_derivative(node, scope)
            return expr, gradient
        return build(node, scope), None

    # --- number claims ------------------------------------------------------------------------
    def check_number(self, entry, lhs: ast.Node, number: Fraction, scope: Scope) -> ClaimResult:
        true = self.number_value(lhs, scope)
        claimed = float(number)
        allowed = max(entry.tolerance * abs(true), entry.abs_tolerance, 1e-12 * abs(true))
        if abs(claimed - true) <= allowed:
            return _result(entry, "correct", f"{_fmt(claimed)} agrees with {_fmt(true)}")
        # the slip is a hint, not the grade: named when the size agrees to 5% (or the tolerance)
        near = max(allowed, 0.05 * abs(true))
        slip = "a sign error" if true != 0 and abs(claimed + true) <= near else None
        message = f"the value is {_fmt(true)}, not {_fmt(claimed)}" + (
            f": {slip} (the size is right, the sign is not)" if slip else ""
        )
        return ClaimResult(
            entry.id,
            entry.text,
            "incorrect",
            message,
            claimed_value=claimed,
            correct_value=true,
            slip=slip,
        )

    def number_value(self, lhs: ast.Node, scope: Scope) -> float:
        """The value of a number claim's left-hand side, at the context's numbers."""
        net = scope.net
        values = self.values(net)
        entry_index = None
        if isinstance(lhs, ast.Derivative) and net is self.net:
            expr, _, entry_index = self.network_derivative(lhs, scope)
        elif isinstance(lhs, ast.Name) and written_name(lhs) in scope.aliases:
            q, entry_index = scope.aliases[written_name(lhs)]
            expr = Leaf(q)
        else:
            scope.sample = scope.sample or "i"  # one sample: o means o^1
            expr = build(lhs, scope)
        value = evaluate(net, expr, values)
        if entry_index is not None:
            at = (entry_index[0] - 1, entry_index[1] - 1 if len(entry_index) > 1 else 0)
            if not all(0 <= k < n for k, n in zip(at, value.shape)):
                raise InvalidClaim(
                    f"no entry {list(entry_index)} in a {value.shape[0]} x {value.shape[1]} matrix"
                )
            value = value[at]
        if np.size(value) != 1:
            raise InvalidClaim(
                f"the left-hand side is {np.shape(value)} numbers; a number claim needs one: "
                "name an entry with an alias (w_1: 'W1[1,1]')"
            )
        true = float(np.asarray(value).reshape(()))
        if not np.isfinite(true):
            raise InvalidClaim("the value here is not a finite number")
        return true

    def values(self, net: Network) -> dict[str, np.ndarray]:
        given = dict(net.examples) if net is self.net else {}
        for name, value in self.context.values.items():
            if name not in net.quantities:
                raise InvalidClaim(f"values: {name} is no input or parameter of {net.name}")
            given[name] = np.asarray(value, dtype=float)
        missing = [q.name for q in net.inputs + net.params if q.name not in given]
        if missing:
            raise InvalidClaim(
                f"a number claim needs values: {missing[0]} has none (the network ships none, "
                "and none were given with --values or by the assignment)"
            )
        return given

    # --- names ------------------------------------------------------------------------------
    def scope_for(self, tree: ast.Equation) -> Scope:
        """The symbols' little network when the claim names a declared symbol (or there is no
        network), else the network."""
        written = {written_name(n) for n in _names(tree)}
        use_symbols = self.net is None or bool(written & set(self.context.symbols))
        net = self.symbols_net if use_symbols else self.net
        return Scope(
            net=net,
            names=self.names_of(net),
            functions=dict(self.context.functions),
            aliases=self.aliases if net is self.net else {},
            derivative=self.derivative,
        )

    def names_of(self, net: Network) -> dict:
        if id(net) not in self._names:
            self._names[id(net)] = quantity_names(net)
        return self._names[id(net)]

    def alias_target(self, text: str) -> tuple[Quantity, tuple[int, ...] | None]:
        name, _, rest = text.partition("[")
        q = self.net.quantities.get(name) if self.net is not None else None
        if q is None:
            raise InvalidClaim(f"alias target {name} is no quantity of the network")
        entry = tuple(int(k) for k in rest.rstrip("]").split(",")) if rest else None
        return q, entry

    @functools.cached_property
    def aliases(self) -> dict[str, tuple[Quantity, tuple[int, ...] | None]]:
        """The file's aliases, resolved once (a bad one raises again for every claim)."""
        return {k: self.alias_target(v) for k, v in self.context.aliases.items()}

    # --- derivatives --------------------------------------------------------------------------
    def derivative(self, node: ast.Derivative, scope: Scope):
        if scope.net is self.net and self.net is not None:
            expr, gradient, entry = self.network_derivative(node, scope)
            if entry is not None:
                raise InvalidClaim("a derivative by one entry belongs in a number claim")
            return expr, gradient
        return self.symbol_derivative(node, scope), None

    def network_derivative(self, node: ast.Derivative, scope: Scope):
        net = self.net
        f = node.f
        loss = net.loss_quantity
        if not (isinstance(f, ast.Name) and scope.names.get(key_of(f)) == loss):
            raise InvalidClaim(f"only derivatives of the loss {loss.name} are checked here")
        var, entry = node.var, None
        if isinstance(var, ast.Sup) and isinstance(var.base, ast.Name):
            var = var.base
        if not isinstance(var, ast.Name):
            raise InvalidClaim("a derivative is by one quantity")
        alias = scope.aliases.get(written_name(var))
        if alias is not None:
            q, entry = alias
        else:
            q = scope.names.get(key_of(var))
            if q is None and var.sub is not None:
                q = scope.names.get((var.base, None, tuple(var.accents), var.label))
        if q is None:
            raise InvalidClaim(f"unknown name {var.base}" + (f"_{var.sub}" if var.sub else ""))
        if self.derivation is None:
            self.derivation = net.derive()
        for g in self.derivation.residuals + self.derivation.gradients:
            if g.q == q:
                return g.expanded, g, entry
        raise InvalidClaim(f"{q.name} is an input: the loss has no derivative by it here")

    def symbol_derivative(self, node: ast.Derivative, scope: Scope) -> Expr:
        var = node.var
        if not isinstance(var, ast.Name) or key_of(var) not in scope.names:
            raise InvalidClaim("a derivative is by one declared symbol")
        q = scope.names[key_of(var)]
        f = build(node.f, scope)
        if f.shape != (sp.Integer(1), sp.Integer(1)):
            raise InvalidClaim(
                f"the derivative of a {shape_str(f.shape)} expression: derive checks derivatives "
                "of scalars (by scalars, vectors or matrices)"
            )
        net = symbols_network(self.context.symbols)
        net.loss("claim_f", f)
        derivation = net.derive()
        for g in derivation.gradients:
            if g.q == q:  # in terms of the symbols alone: sigma(x)(1 - sigma(x)), not f(1 - f)
                return substitute(g.expanded, {Leaf(n): n.definition for n in net.nodes})
        raise InvalidClaim(f"{q.name} is not a symbol of the claim")


# --- helpers ----------------------------------------------------------------------------------
def symbols_network(symbols: dict[str, Symbol]) -> Network:
    """The declared symbols as parameters of a network (no loss); sizes named in the file get
    distinct small values (2, 3, 4, ...), so that a formula right only for square shapes fails."""
    net = Network("claims")
    dims: dict[str, sp.Symbol] = {}

    def size(s):
        if isinstance(s, int):
            return s
        if s not in dims:  # m is the batch size everywhere else: the student's m is m_
            dims[s] = net.dim(s if s != "m" else "m_", 2 + len(dims))
        return dims[s]

    for symbol in symbols.values():
        base, _, sub = symbol.name.partition("_")
        latex = base + (f"_{{{sub}}}" if sub else "")
        shape = (size(symbol.rows), size(symbol.cols))
        if symbol.onehot:
            net.input(symbol.name, shape[0], latex, onehot=True, per_sample=False)
        else:
            net.param(symbol.name, shape, latex)
    return net


def quantity_names(net: Network) -> dict[tuple, Quantity]:
    """Every way a claim may name each quantity: its LaTeX, its other names, its Python name."""
    from derive.claims.parse import parse_claim

    names: dict[tuple, Quantity] = {}
    for q in net.quantities.values():
        base, _, sub = q.name.partition("_")
        names.setdefault((base, sub or None, (), None), q)
        for text in (q.latex, *q.aka):
            try:
                tree = parse_claim(text)
            except DeriveError:
                continue
            if isinstance(tree, ast.Name):
                names[key_of(tree)] = q
    return names


def sample_index(lhs: ast.Node, scope: Scope) -> str | None:
    """The sample the left-hand side is "for every sample" of: dL/dz^i, or a per-sample
    quantity's residual written without an index."""
    if isinstance(lhs, ast.Derivative):
        var = lhs.var
        if isinstance(var, ast.Sup) and isinstance(var.exponent, ast.Name):
            return var.exponent.base
        if isinstance(var, ast.Name):
            if var.sub in ("i", "j") or var.label in ("i", "j"):
                return var.sub if var.sub in ("i", "j") else var.label
            q = scope.names.get(key_of(var))
            if q is not None and q.batched:
                return "i"
    return None


def _mentions(tree: ast.Node, derivative: ast.Derivative) -> bool:
    """Does ``tree`` hold ``derivative`` (the same function by the same quantity)?"""
    if isinstance(tree, ast.Derivative) and _by(tree) == _by(derivative) and tree.f == derivative.f:
        return True
    return any(_mentions(child, derivative) for child in tree.children)


def _by(d: ast.Derivative) -> ast.Node:
    var = d.var
    return var.base if isinstance(var, ast.Sup) and isinstance(var.base, ast.Name) else var


def _names(tree: ast.Node) -> Iterator[ast.Name]:
    if isinstance(tree, ast.Name):
        yield tree
    for child in tree.children:
        yield from _names(child)


def evaluate(net: Network, expr: Expr, values: dict) -> np.ndarray:
    from derive.compile import bind_sizes, compile_expressions, size_names, to_internal

    sizes = bind_sizes(net, values)
    fn = compile_expressions(net, {"v": expr})
    out = fn(to_internal(net, values, sizes), size_names(sizes))["v"]
    rows, cols = (int(sym(s).subs(sizes)) for s in expr.shape)
    out = np.asarray(out, dtype=float)
    if expr.batched:
        if sizes.get(m) != 1:
            raise InvalidClaim("a per-sample value with several samples: give one sample")
        out = out[0]
    return out.reshape(rows, cols)  # entries are (row, column), 1-based in aliases


def _shape_message(a: Expr, b: Expr) -> str:
    def describe(e: Expr) -> str:
        return shape_str(e.shape) + (" per sample" if e.batched else "")

    hint = ""
    if a.shape == (b.shape[1], b.shape[0]) and a.shape != b.shape:
        hint = ": a missing transpose?"
    return f"the left side is {describe(a)}, the right side {describe(b)}{hint}"


def _point(net: Network, point, right: Expr, claimed: Expr) -> dict | None:
    if point is None:
        return None
    from derive.expr import leaves

    used = {leaf.q.name for e in (right, claimed) for leaf in leaves(e)}
    for q in net.nodes:
        if q.name in used:
            used |= {leaf.q.name for leaf in leaves(q.definition)}
    return {
        k: _plain(v) for k, v in point.items() if k in used and k in net.quantities
        and net.quantities[k].kind != "node"
    }  # fmt: skip


def _plain(value):
    if value is None:
        return None
    array = np.asarray(value, dtype=float)
    return np.vectorize(lambda x: float(f"{x:.{ROUND}g}"))(array).tolist() if array.size else []


def _fmt(x) -> str:
    return f"{float(x):.{ROUND}g}"


def _result(entry: ClaimEntry, verdict: str, message: str, **kw) -> ClaimResult:
    return ClaimResult(entry.id, entry.text, verdict, message, **kw)


def _with_time(result: ClaimResult, seconds: float) -> ClaimResult:
    return replace(result, seconds=round(seconds, 4))
