"""Checking one claim: parsed, given its meaning, and decided against the truth.

The :class:`Checker` checks claims in one :class:`Context`: the network (loaded from a trusted
file, never one a student named), the declared symbols, the function names, aliases and
definitions, and the numbers of number claims. :mod:`derive.claims.grade` builds the contexts of
a claims file or of an assignment's questions and checks whole files within their time budget.

A claim's two sides are evaluated directly (:mod:`derive.claims.evaluate`): a derivative of the
loss is derive's proved formula, a derivative of an expression in the symbols is SymPy's, and
everything else is computed as written. :mod:`derive.claims.decide` says whether the sides agree.
A wrong formula comes back with the point where it fails, both sides' values there, the right
expression in the course's notation, and the likely slip.
"""

from __future__ import annotations

import contextlib
import functools
import os
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
from derive.claims.decide import Formula, Setting, ShapesDiffer, Tree, decide, seed_of
from derive.claims.evaluate import (
    INDEX_LETTERS,
    Evaluator,
    Meaning,
    NeedIndex,
    OffSizes,
    _index_letters,
    label_and_index,
)
from derive.claims.meaning import InvalidClaim, as_number, key_of, written_name
from derive.claims.points import Compiled, FloatPoint, MpPoint, SymPoint
from derive.claims.repairs import MAX_REPAIRS, ast_repairs
from derive.claims.slips import likely_slip
from derive.claims.verdict import PASSING, ClaimResult, StepResult
from derive.errors import DeriveError
from derive.expr import Expr, Leaf, Quantity, m, substitute, sym
from derive.graph import Network

SECONDS_PER_CLAIM = 10.0
EXACT = 1e-9  # relative: a formula evaluated at the numbers is no rounding
REPEAT = 0.1  # s between alarms once a time limit is up, until one is heard
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
    # and again every REPEAT s: code that swallows the first (SymPy's "except Exception",
    # a garbage-collector callback) does not make the claim run on unbounded
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class OutOfTime(Exception):
    """A step's own share of the time ran out (the claim's limit still holds)."""


@contextlib.contextmanager
def share_of_time(seconds: float) -> Iterator[bool]:
    """Run a step for at most ``seconds`` of the claim's time, and at least half a second
    before the claim's own limit: OutOfTime when the step overruns, the claim's TimeoutError
    still to come when the claim's time is up. Yields False (run nothing) without time."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(
        signal, "setitimer"
    ):
        yield True
        return
    outer_left = signal.getitimer(signal.ITIMER_REAL)[0]
    outer_handler = signal.getsignal(signal.SIGALRM)
    share = seconds if outer_left == 0 else min(seconds, outer_left - 0.5)
    if share <= 0.05:
        yield False
        return

    def expire(signum, frame):
        raise OutOfTime

    start = time.monotonic()
    signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, share, REPEAT)  # again until it is heard
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, outer_handler)
        if outer_left:
            left = max(0.01, outer_left - (time.monotonic() - start))
            signal.setitimer(signal.ITIMER_REAL, left, REPEAT)


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
    definitions: dict[str, str] = field(default_factory=dict)  # name -> LaTeX (trusted or not)
    notation: str = "residual"  # or "jacobian": dJ/ds of a column s is a row
    secret: bytes | None = None  # seeds the random points; None: drawn afresh per process


_PROCESS_SECRET = os.urandom(16)


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
        self._compiled: dict[int, Compiled] = {}
        self._definitions: dict[str, ast.Node] | None = None
        self._symbolic: dict = {}  # derivatives of students' expressions, by their trees
        self.secret = context.secret or _PROCESS_SECRET

    # --- one claim --------------------------------------------------------------------------
    def check(self, entry: ClaimEntry, seconds: float = SECONDS_PER_CLAIM) -> ClaimResult:
        start = time.perf_counter()
        if len(self._symbolic) > 256:
            self._symbolic = {}
        self._shown = None
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
        if self._shown is not None and result.latex is None:
            result = replace(result, latex=self._shown)
        return _with_time(result, time.perf_counter() - start)

    def _check(self, entry: ClaimEntry) -> ClaimResult:
        from derive.claims.parse import parse_claim

        if entry.problem:
            return _result(entry, "invalid", entry.problem)
        functions = frozenset(self.context.functions)
        if entry.kind == "number" and entry.value is not None:  # the right number is given
            number = entry.number
            if number is None:
                tree = parse_claim(entry.text, functions)
                number = as_number(tree.sides[-1] if isinstance(tree, ast.Equation) else tree)
            if number is None:
                raise InvalidClaim("this question asks for a number: write one, like 42")
            return self.check_number(entry, None, number, None)
        if entry.ask is not None:
            tree = self.answer_tree(entry, functions)
        else:
            tree = parse_claim(entry.text, functions)
            if not isinstance(tree, ast.Equation):
                raise InvalidClaim("a claim is an equation, lhs = rhs")
        meaning = self.meaning_for(tree)
        meaning.where = entry.where
        self._shown = _as_latex(tree if entry.ask is None else _answer_part(tree), meaning)
        lhs = tree.sides[0]
        if entry.ask is None:
            _no_restating(tree)  # (a chain's working may, its final result may not)
        if entry.kind == "number" and entry.number is None and len(tree.sides) > 2:
            # a hand calculation's chain, E = 1/2 (o - t)^2 = 1.73: every step, at the numbers
            if as_number(tree.sides[-1]) is None:
                raise InvalidClaim("this question asks for a number: end with one, like -0.0045")
            return self.chain(replace(entry, kind="claim", numbered=True), tree.sides, meaning)
        if entry.kind == "number":
            number = entry.number
            if number is None:
                number = as_number(tree.sides[-1]) if len(tree.sides) == 2 else None
            if number is None:
                raise InvalidClaim("this question asks for a number: write one, like -0.0045")
            return self.check_number(entry, lhs, number, meaning)
        if len(tree.sides) == 2 and not entry.numbered:
            return self.step(entry, *tree.sides, meaning)
        return self.chain(entry, tree.sides, meaning)

    def chain(self, entry: ClaimEntry, sides, meaning) -> ClaimResult:
        """A chain a = b = c: every step judged, each within its share of the claim's time,
        the chain rule written out (dL/dx = dL/dz dz/dx) bridged. The verdict: every step
        right; or the first wrong step named, and whether the final result survived it."""
        numbers = entry.numbers if len(entry.numbers) == len(sides) else tuple(
            range(1, len(sides) + 1))  # the sides as written  # fmt: skip
        n = numbers[-1] - 1  # steps as written
        kept = [k for k, side in enumerate(sides) if k in (0, len(sides) - 1)
                or not self.chain_rule(side, meaning, sides[0])]  # fmt: skip
        left = signal.getitimer(signal.ITIMER_REAL)[0] if hasattr(signal, "getitimer") else 0
        share = max(left / len(kept) - 0.05, 0.2) if left else SECONDS_PER_CLAIM
        pairs = list(zip(kept, kept[1:]))
        step = functools.partial(self.step, inside=True)
        if self.calculation(entry, sides, meaning):  # E = 1/2 (o - t)^2 = 1.73: at the numbers
            try:
                truth = self.side_number(sides[0], meaning)
            except InvalidClaim:
                truth = None
            if truth is not None:
                step = functools.partial(self.number_step, truth=truth, first=sides[0])
        mixed = {k for k in kept if self.jacobians(sides[k], meaning)}  # and other terms
        full = {}
        for i, j in pairs:
            if i in mixed or j in mixed:
                k = numbers[i if i in mixed else j]
                full[numbers[i]] = _result(entry, "invalid", f"side {k} writes a Jacobian of one "
                                           "quantity by another beside other terms, which derive "
                                           "does not evaluate")  # fmt: skip
            else:
                full[numbers[i]] = self.timed_step(entry, sides[i], sides[j], meaning, share,
                                                   step)  # fmt: skip
        steps = tuple(StepResult.of(numbers[i], numbers[j], full[numbers[i]]) for i, j in pairs)
        if len(sides) == 2:  # one step: its own verdict (a calculation's a = b)
            return full[numbers[0]]
        # the ends as well, always: steps can each look right where a side breaks down (a
        # float64 overflow in the middle), and the final result is what a grade scores
        ends = steps[0] if len(steps) == 1 else StepResult.of(numbers[0], numbers[-1], (
            self.timed_step(entry, sides[0], sides[-1], meaning, share, step)))  # fmt: skip
        right = ends.verdict in PASSING
        judged = any(s.verdict in PASSING or s.verdict == "incorrect" for s in steps)
        if not judged and not right:
            return replace(full[steps[0].first], steps=steps)  # nothing could be checked
        wrong = next((s for s in steps if s.verdict == "incorrect"), None)
        unchecked = next((s for s in steps if s.verdict not in PASSING), None)
        if wrong is None and unchecked is None:
            if not right and ends.verdict == "incorrect":  # every step looked right
                return _result(entry, "incorrect", "every step looks right, but the first and "
                               f"last sides differ: {ends.message}", steps=steps,
                               ends_right=False)  # fmt: skip
            told = _skipped(numbers, kept, n)
            best = "almost-everywhere" if any(s.verdict != "correct" for s in steps) else "correct"
            return _result(entry, best, f"every step is right ({n} steps{told})", steps=steps)
        if wrong is None:  # no step is wrong, one could not be checked: not right either
            said = f"{unchecked.name()} could not be checked: {unchecked.message}"
            tail = "; the final result is right" if right else ""
            if ends.verdict == "incorrect":
                tail = "; the final result is wrong"
            return _result(entry, "invalid", said + tail, steps=steps, step=unchecked.first,
                           ends_right=right)  # fmt: skip
        a, b = sides[numbers.index(wrong.first)], sides[numbers.index(wrong.last)]
        shown = " = ".join(_as_latex(x, meaning) or "?" for x in (a, b))
        tail = ("; the final result is right although this step is wrong" if right
                else "; the final result is wrong too")  # fmt: skip
        verb = "are" if wrong.plural else "is"
        message = (f"{wrong.name()} of {n}{wrong.across} {verb} wrong, ${shown}$: "
                   f"{wrong.message}{tail}")  # fmt: skip
        self._shown = _chain_latex(sides, numbers, wrong, meaning) or self._shown
        return replace(full[wrong.first], message=message, step=wrong.first, ends_right=right,
                       steps=steps)  # fmt: skip

    def timed_step(self, entry, a: ast.Node, b: ast.Node, meaning, seconds: float, step=None):
        """:meth:`step` (or ``step``) within ``seconds`` of the claim's time (a chain's
        share)."""
        try:
            with share_of_time(seconds) as may:
                if may:
                    return (step or self.step)(entry, a, b, meaning)
                return _result(entry, "invalid", "not checked: the claim's time was used up")
        except OutOfTime:
            return _result(entry, "invalid", f"took longer than {seconds:.2g} s to check")

    def calculation(self, entry: ClaimEntry, sides, meaning) -> bool:
        """A chain of a calculation by hand (a number among its sides, or the answer to a
        number question) on a network with numbers: each step is checked at the numbers, and
        with one sample a per-sample name means that sample."""
        if self.net is None or meaning.net is not self.net or entry.kind != "claim":
            return False
        if not entry.numbered and not any(as_number(s) is not None for s in sides):
            return False
        try:
            values = self.values(self.net)
        except InvalidClaim:
            return False
        samples = {np.shape(values[q.name])[0] for q in self.net.inputs if q.name in values}
        if samples == {1}:  # one sample: a per-sample name is that sample's
            meaning.implicit = meaning.implicit or "i"
            meaning.fixed = {**meaning.fixed, m: 1}
        return True

    def number_step(self, entry: ClaimEntry, a: ast.Node, b: ast.Node, meaning,
                    truth: float, first: ast.Node) -> ClaimResult:  # fmt: skip
        """A step a = b of a calculation. b is checked at the numbers against the value of the
        chain's first side: a number (or arithmetic of numbers, sigma(0.7384)) within the
        tolerance, as a student rounds (0.6767 = 0.68; roundings do not add up along the chain);
        a formula exactly. A step between two formulas is also an identity: at one point, the
        numbers can show a formula wrong but never right."""
        try:
            value = self.side_number(b, meaning)
        except InvalidClaim as err:
            return _result(entry, "invalid", str(err))
        if not np.isfinite(value):
            return _result(entry, "invalid", "a side is not a finite number here")
        if _constant(b):
            return self.check_number(replace(entry, value=truth), None, Fraction(value), None)
        exact = replace(entry, value=truth, tolerance=EXACT, abs_tolerance=0.0)
        at_numbers = self.check_number(exact, None, Fraction(value), None)
        if at_numbers.verdict != "correct":
            return at_numbers  # a formula wrong at the numbers is wrong
        if _constant(a):  # 1.73 = 1/2 (o - t)^2: the formula against the chain's first side
            if _constant(first):
                return at_numbers
            a = first
        result = self.step(entry, a, b, meaning, inside=True)
        if result.verdict == "invalid":
            said = "right at the homework's numbers, which does not make a formula right, "
            return _result(entry, "invalid", f"{said}and not checked as one: {result.message}")
        return result

    def side_number(self, node: ast.Node, meaning) -> float:
        x = as_number(node)
        return float(x) if x is not None else self.number_value(node, meaning)

    def step(self, entry: ClaimEntry, a: ast.Node, b: ast.Node, meaning,
             inside: bool = False) -> ClaimResult:  # fmt: skip
        """One step a = b of a chain (or a claim's two sides), repaired where a slip made it
        meaningless; a number on one side is checked as a number claim (a hand calculation's
        = (1.86)(0.57) = 0.31)."""
        numbered = meaning.names is self.names_of(self.net) and self.net is not None
        x, y = as_number(a), as_number(b)
        if entry.kind == "claim" and x is not None and y is not None:  # a rounding, arithmetic
            return self.check_number(replace(entry, value=float(x)), None, y, None)
        if entry.kind == "claim" and numbered and (x is None) != (y is None):
            side, number = (a, y) if y is not None else (b, x)
            try:
                return self.check_number(entry, side, number, meaning)
            except InvalidClaim as err:  # no numbers to evaluate at: dJ/dJ = 1 is a formula
                if not (str(err).startswith("a number claim needs values")
                        and isinstance(side, ast.Derivative)):  # fmt: skip
                    raise
        try:
            result = self.check_pair(entry, a, b, meaning)
        except InvalidClaim as err:  # perhaps a slip made it meaningless: try repairs
            result = _result(entry, "invalid", str(err))
        if inside and result.verdict == "invalid" and (
                "bound by no sum and not by the left-hand side" in result.message):  # fmt: skip
            # a step inside a chain whose right side has an index its left side lost (S_i -
            # S_i^2 = S_i - S_i S_j for i = j): the same step, read from the right
            try:
                turned = self.check_pair(entry, b, a, meaning, slips=False)
            except InvalidClaim:
                turned = result
            if turned.verdict in PASSING:
                return turned
            if turned.verdict == "incorrect":  # a counterexample either way round
                return replace(turned, claimed_value=turned.correct_value, expected=None,
                               correct_value=turned.claimed_value, slip=None)  # fmt: skip
        if result.verdict in ("invalid", "incorrect") and not result.slip:
            result = self.repaired(entry, a, b, meaning) or result
        return result

    def same(self, a: ast.Node, b: ast.Node) -> bool:
        """Whether two left-hand sides name the same quantity (dL/d theta_lB and dL/d theta_1B
        under an alias): the same derivative of the loss, or the same name."""
        try:
            meaning = self.meaning_for(ast.Equation((a, b)))
            if isinstance(a, ast.Derivative) and isinstance(b, ast.Derivative):
                if meaning.net is not self.net or self.net is None:
                    return False
                loss = self.net.loss_quantity
                if not all(isinstance(d.f, ast.Name) and meaning.names.get(key_of(d.f)) == loss
                           for d in (a, b)):  # fmt: skip
                    return False
                qa, qb = self.resolve_var(a, meaning), self.resolve_var(b, meaning)
                return qa == qb  # the quantity, its sample letter, its entry
        except InvalidClaim:
            return False
        return False

    def knows(self, tree: ast.Node) -> bool:
        """Whether every name of ``tree`` means something here (a quantity, an alias, a
        symbol or an entry of one, a size): a formula derive can say something about."""
        return self.unknown(tree) is None

    def unknown(self, tree: ast.Node) -> str | None:
        """The first name of ``tree`` that means nothing here, as written (r, y_{soft,i})."""
        meaning = self.meaning_for(ast.Equation((tree, tree)))
        symbols = set(self.context.symbols)
        for n in _names(tree):
            if n.base in (*INDEX_LETTERS, "m") and n.sub is None and not n.accents:
                continue  # an index (x^i), the batch size
            plain = ast.Name(n.base, None, n.accents, n.label)
            labelled = label_and_index(n)
            if labelled is not None:
                plain = labelled[0]
            known = (key_of(n) in meaning.names, key_of(plain) in meaning.names,
                     written_name(n) in meaning.aliases, n.base in symbols,
                     written_name(n) in meaning.dims, n.base in meaning.definitions)  # fmt: skip
            if any(known):
                continue
            return written_name(n)
        return None

    def names_entries(self, a: ast.Node, b: ast.Node, meaning) -> bool:
        """Whether a side names an entry through an alias (h_1: 'h[1]')."""
        return any(isinstance(n, ast.Name) and meaning.aliases.get(written_name(n), (0, None))[1]
                   is not None for side in (a, b) for n in _walk(side))  # fmt: skip

    def states_chain_rule(self, tree: ast.Node, lhs: ast.Node | None = None) -> bool:
        """:meth:`chain_rule` for a side on its own (a write-up's dE/dw = dE/do do/dw)."""
        try:
            meaning = self.meaning_for(ast.Equation((lhs or tree, tree)))
            return self.chain_rule(tree, meaning, lhs)
        except InvalidClaim:
            return False

    def chain_rule(self, side: ast.Node, meaning, lhs: ast.Node | None = None) -> bool:
        """A side that writes the chain rule out for ``lhs`` (the chain's first side, dL/dx):
        a product of Jacobians dL/dz dz/dx from the loss down to x, each by a quantity its
        numerator is computed from, summed over the samples or over the loss's parts. On a
        network such a side is not evaluated; the steps on either side of it are, bridged.
        Anything else with a Jacobian in it (a minus sign, a factor, a wrong path) is not the
        chain rule and is no step derive can check."""
        if self.net is None or meaning.net is not self.net or lhs is None:
            return False
        if not (_only_derivatives(side) and self.jacobians(side, meaning)):
            return False
        if not isinstance(lhs, ast.Derivative):
            return False
        try:
            start = self.quantity_of(lhs.f, meaning)
            end = self.resolve_var(lhs, meaning)[0]
            terms = _terms(_samples_summed(side))
            paths = [self.path(t, meaning) for t in terms]
        except InvalidClaim:
            return False
        if any(p is None or p[1] != end for p in paths):
            return False
        starts = [p[0] for p in paths]
        if starts == [start]:
            return True
        from derive.render.context import unit_parts  # L = L_A + L_B: dL/dx = dL_A/dx + ...

        parts = unit_parts(self.derivation) if start == self.net.loss_quantity else frozenset()
        return len(set(starts)) == len(starts) and set(starts) <= parts and len(starts) > 1

    def quantity_of(self, node: ast.Node, meaning) -> Quantity:
        """The quantity a name (the numerator of a derivative, p^i) means, read as a
        derivative's variable is; InvalidClaim if none."""
        return self.resolve_var(ast.Derivative(node, node, True), meaning)[0]

    def path(self, term: ast.Node, meaning) -> tuple[Quantity, Quantity] | None:
        """(first numerator, last variable) of a product of Jacobians that telescopes, each
        by a quantity its numerator is computed from (dL/dz dz/dx: L, x); None otherwise."""
        edges = []
        for factor in _factors(term):
            if not isinstance(factor, ast.Derivative):
                return None
            a, b = self.quantity_of(factor.f, meaning), self.resolve_var(factor, meaning)[0]
            if a not in downstream(self.net, b):
                return None
            edges.append((a, b))
        for order in (edges, edges[::-1]):  # dL/dz dz/dx, or (dz/dx)^T dL/dz
            if all(x[1] == y[0] for x, y in zip(order, order[1:])):
                return order[0][0], order[-1][1]
        return None

    def jacobians(self, side: ast.Node, meaning) -> bool:
        """Whether a side holds a derivative of another quantity than the loss (dz/dx), or of
        an expression by a quantity, on a network: what derive does not evaluate."""
        if self.net is None or meaning.net is not self.net:
            return False
        loss = self.net.loss_quantity
        return any(isinstance(d, ast.Derivative) and not (isinstance(d.f, ast.Name) and
                   meaning.names.get(key_of(d.f)) == loss) for d in _walk(side))  # fmt: skip

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
        meaning = self.meaning_for(ast.Equation((asked, asked)))
        if kind == "number":
            return f"{self.number_value(asked, meaning):.12g}"
        setting = self.setting(meaning, ask)
        point = self.first_point(setting)
        side = Tree(asked, meaning)
        from derive.claims.decide import environments

        environments(side, point)  # raises for a question that means nothing
        return self.expected(asked, meaning) or ""

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
        tree = ast.Equation((asked, *sides))
        _no_restating(tree)
        return tree

    def repaired(self, entry, a: ast.Node, b: ast.Node, meaning: Meaning) -> ClaimResult | None:
        """The right-hand side changed in one place the way a slip would have changed it (a
        transpose dropped, ∘ for a product, x^j for x^i): if that makes it right, the change
        names the slip, and says where. This also explains claims whose shapes do not match."""
        tried = 0
        for slip, detail, fixed in ast_repairs(b, meaning.implicit or "i", entry.text):
            tried += 1
            if tried > MAX_REPAIRS:
                break
            try:
                outcome = self.check_pair(entry, a, fixed, meaning, repairing=True)
                if outcome.verdict in ("correct", "almost-everywhere"):  # confirmed in full
                    outcome = self.check_pair(entry, a, fixed, meaning, repairing=False,
                                              slips=False)  # fmt: skip
            except DeriveError:
                continue
            if outcome.verdict in ("correct", "almost-everywhere"):
                return ClaimResult(
                    entry.id,
                    entry.text,
                    "incorrect",
                    f"the two sides differ: probably {slip} ({detail})",
                    expected=self.expected(a, meaning),
                    slip=slip,
                )
        return None

    def check_pair(self, entry, a: ast.Node, b: ast.Node, meaning: Meaning,
                   repairing: bool = False, slips: bool = True) -> ClaimResult:  # fmt: skip
        self.downstream_only(a, b, meaning)
        setting = self.setting(meaning, entry.text)
        setting.fixed = dict(meaning.fixed)
        if self.names_entries(a, b, meaning):  # w_5: 'W1[1,3]' is an entry at these sizes only
            setting.fixed.update(meaning.net.dims)
        if meaning.where is not None and meaning.where[1] == "!=":
            setting.minimum = 2  # so that two indices can differ
        if meaning.net is self.symbols_net:  # an identity of numbers: decided exactly
            used = self.used(a, b, meaning)
            setting.scalar_symbols = all(
                q.shape == (1, 1) for q in self.symbols_net.quantities.values() if q.name in used
            )
        try:
            left, right = Tree(a, meaning), Tree(b, meaning)
            left.like, right.like = Tree(b, meaning), Tree(a, meaning)
            outcome = decide(left, right, setting, quick=repairing)
        except ShapesDiffer as err:
            return _result(entry, "invalid", str(err))
        if outcome.verdict == "equal":
            return _result(entry, "correct", f"both sides agree ({outcome.how})")
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
        slip = self.slip(a, b, meaning, setting, outcome) if slips else None
        message = "the two sides differ" + (f": probably {slip}" if slip else "")
        return ClaimResult(
            entry.id,
            entry.text,
            "incorrect",
            message,
            point=self.shown_point(outcome, meaning, self.used(a, b, meaning)),
            claimed_value=_plain(outcome.right),
            correct_value=_plain(outcome.left),
            expected=self.expected(a, meaning),
            slip=slip,
        )

    def downstream_only(self, a: ast.Node, b: ast.Node, meaning: Meaning) -> None:
        """A right-hand side may use the loss's derivatives by quantities computed from the one
        asked (the compact form: dJ/dW_2 = sum_i dJ/ds_2^i (h^i)^T), never by the asked
        quantity or one it is computed from (that would assume what is to be shown)."""
        if meaning.net is not self.net or not isinstance(a, ast.Derivative):
            return
        try:
            asked = self.resolve_var(a, meaning)[0]
        except InvalidClaim:
            return
        after = downstream(self.net, asked)
        for node in _walk(b):
            if isinstance(node, ast.Derivative):
                try:
                    q = self.resolve_var(node, meaning)[0]
                except InvalidClaim:
                    continue
                if q == asked:
                    raise InvalidClaim(
                        f"the right-hand side uses the derivative by {q.name}, which is what is "
                        "asked: the derivative must be worked out, not restated"
                    )
                if q not in after:
                    raise InvalidClaim(
                        f"the right-hand side uses the derivative by {q.name}, which is not "
                        f"computed from {asked.name}: only derivatives by later quantities may "
                        "be used (the derivative must be worked out, not assumed)"
                    )

    # --- what names mean ----------------------------------------------------------------------
    def meaning_for(self, tree: ast.Equation) -> Meaning:
        """The symbols' little network when the claim names a declared symbol (or there is no
        network), else the network."""
        written = {written_name(n) for n in _names(tree)}
        use_symbols = self.net is None or bool(written & set(self.context.symbols))
        net = self.symbols_net if use_symbols else self.net
        lhs = tree.sides[0]
        meaning = Meaning(
            names=self.names_of(net),
            functions=dict(self.context.functions),
            aliases=self.aliases if net is self.net else {},
            definitions=self.definitions(),
            constants={s.name: s for s in net.constants},
            notation=self.context.notation,
            dims={str(d): d for d in net.dims},
        )
        meaning.net = net
        meaning.derivative = self.derivative
        meaning.implicit = implicit_sample(lhs, meaning)
        return meaning

    def names_of(self, net: Network | None) -> dict:
        if net is None:
            return {}
        if id(net) not in self._names:
            self._names[id(net)] = quantity_names(net)
        return self._names[id(net)]

    def definitions(self) -> dict[str, ast.Node]:
        if self._definitions is None:
            from derive.claims.parse import parse_claim

            out = {}
            for name, text in self.context.definitions.items():
                out[name] = parse_claim(text, frozenset(self.context.functions))
            self._definitions = out
        return self._definitions

    def alias_target(self, text: str) -> tuple[Quantity, tuple[int, ...] | None]:
        name, _, rest = text.partition("[")
        q = self.net.quantities.get(name) if self.net is not None else None
        if q is None:
            raise InvalidClaim(f"alias target {name} is no quantity of the network")
        entry = tuple(int(k) for k in rest.rstrip("]").split(",")) if rest else None
        return q, entry

    @property
    def aliases(self) -> dict[str, tuple[Quantity, tuple[int, ...] | None]]:
        """The context's aliases, resolved once (a bad one raises again for every claim)."""
        if not hasattr(self, "_aliases"):
            self._aliases = {k: self.alias_target(v) for k, v in self.context.aliases.items()}
        return self._aliases

    def setting(self, meaning: Meaning, text: str) -> Setting:
        net = meaning.net
        if id(net) not in self._compiled:
            derivation = self.derivation if net is self.net else None
            self._compiled[id(net)] = Compiled(net, derivation)
        return Setting(net, self._compiled[id(net)], self.derivation if net is self.net else None,
                       seed_of(self.secret, text))  # fmt: skip

    def first_point(self, setting: Setting) -> FloatPoint:
        from derive.claims.decide import size_sets
        from derive.claims.points import random_point

        return random_point(setting.compiled, size_sets(setting.net)[0],
                            np.random.default_rng(setting.seed))  # fmt: skip

    # --- derivatives --------------------------------------------------------------------------
    def derivative(self, node: ast.Derivative, env: dict, ev: Evaluator):
        meaning = ev.meaning
        if meaning.net is self.net and self.net is not None:
            return self.loss_derivative(node, env, ev)
        return self.symbol_derivative(node, env, ev)

    def resolve_var(self, node: ast.Derivative, meaning: Meaning):
        """The quantity a derivative is by, its sample letter, its entry (alias) and its
        component letters."""
        var, sample = node.var, None
        if isinstance(var, ast.Component) and isinstance(var.base, ast.Name):  # (W_2)_{kj}
            q, sample, entry, letters = self.resolve_var(replace(node, var=var.base), meaning)
            if letters is not None or entry is not None:
                raise InvalidClaim("a derivative is by one quantity or one entry of it")
            return q, sample, entry, var.indices
        if isinstance(var, ast.Sup) and isinstance(var.base, ast.Name):
            if isinstance(var.exponent, ast.Name) and var.exponent.base in INDEX_LETTERS:
                sample = var.exponent.base
            var = var.base
        if not isinstance(var, ast.Name):
            raise InvalidClaim("a derivative is by one quantity")
        alias = meaning.aliases.get(written_name(var))
        if alias is not None:
            return alias[0], sample, alias[1], None
        q = meaning.names.get(key_of(var))
        letters = None
        if q is None and var.sub is not None:
            base = ast.Name(var.base, None, var.accents, var.label)
            q = meaning.names.get(key_of(base))
            letters = _index_letters(var.sub) if q is not None else None
            if q is not None and letters is None:
                q = None
            labelled = label_and_index(var) if q is None else None
            if labelled is not None and meaning.names.get(key_of(labelled[0])) is not None:
                q, letters = meaning.names[key_of(labelled[0])], labelled[1]
        if q is None and var.label is not None and var.label in INDEX_LETTERS:
            q = meaning.names.get(key_of(ast.Name(var.base, var.sub, var.accents, None)))
            sample = var.label if q is not None else sample
        if q is None:
            raise InvalidClaim(f"unknown name {var.base}" + (f"_{var.sub}" if var.sub else ""))
        return q, sample, None, letters

    def loss_derivative(self, node: ast.Derivative, env: dict, ev: Evaluator):
        meaning = ev.meaning
        loss = self.net.loss_quantity
        if not (isinstance(node.f, ast.Name) and meaning.names.get(key_of(node.f)) == loss):
            raise InvalidClaim(f"only derivatives of the loss {loss.name} are checked here")
        q, sample_letter, entry, letters = self.resolve_var(node, meaning)
        if entry is not None and not ev.at_declared_sizes():  # w_5: 'W1[1,3]' exists there only
            raise OffSizes(f"d{loss.name}/d{q.name}{list(entry)} at other sizes")
        known = self.derivation.residuals + self.derivation.inputs
        if q.kind == "input" and not any(g.q == q for g in known):
            raise InvalidClaim(f"{q.name} is an input: the loss has no derivative by it here")
        sample = None
        if q.batched:
            sample = ev.sample(sample_letter, ast.Name(q.name), env)
        elif sample_letter is not None:
            raise InvalidClaim(f"{q.name} is one for the whole batch: it has no sample index")
        value = ev.point.derivative(q, sample)
        if value is None:
            raise InvalidClaim(f"{q.name} is an input: the loss has no derivative by it here")
        if entry is not None:  # dE/dw_1, w_1 an entry: that entry of dE/dW1
            return ev.components(value, entry, env, f"d{loss.name}/d{q.name}{list(entry)}")
        if letters is not None:
            return ev.components(value, letters, env, f"d{loss.name}/d{q.name}")
        if meaning.notation == "jacobian" and value.shape[1] == 1 and value.shape[0] > 1:
            return value.T  # the lectures' row-vector gradient
        return value

    def symbol_derivative(self, node: ast.Derivative, env: dict, ev: Evaluator):
        """d f / d x of an expression in the declared symbols, by SymPy at the point's sizes:
        of a number by a symbol, its shape (a row in the Jacobian notation for a column); of a
        vector by a vector, the Jacobian [df_i/dx_j]; by one entry x_j, the partial derivative."""
        meaning = ev.meaning
        q, sample, entry, letters = self.resolve_var(node, meaning)
        if sample is not None or entry is not None:
            raise InvalidClaim("a derivative is by one declared symbol")
        point = ev.point
        sizes_key = tuple(sorted((str(k), int(v)) for k, v in point.sizes.items()))
        key = (node, meaning.notation, tuple(sorted(env.items())), sizes_key)
        if key not in self._symbolic:
            self._symbolic[key] = self._symbolic_derivative(node, env, q, letters, point.sizes,
                                                            meaning)  # fmt: skip
        matrix, symbols, fn, where = self._symbolic[key]
        if isinstance(point, SymPoint) and not isinstance(point, MpPoint):
            values = matrix if point.at is None else np.vectorize(
                lambda e: sym(e).xreplace(point.at), otypes=[object])(matrix)  # fmt: skip
            return values
        if isinstance(point, MpPoint):
            mp = point.backend.mpmath

            def at(e):
                return mp.mpf(sp.N(sym(e).xreplace(point.at), point.dps))

            with mp.workdps(point.dps):
                return np.vectorize(at, otypes=[object])(matrix)
        args = [float(point.leaf(q, i)[r, c]) for q, i, r, c in where]
        with np.errstate(all="ignore"):
            out = np.asarray(fn(*args), dtype=float)
        return out.reshape(matrix.shape)

    def _symbolic_derivative(self, node, env, q: Quantity, letters, sizes: dict,
                             meaning: Meaning):  # fmt: skip
        from derive.claims.points import sym_point as shared

        sym_point = shared(self.symbols_net, sizes)
        f = Evaluator(meaning, sym_point).value(node.f, env)
        x = sym_point.leaf(q, None)
        if letters is not None:
            x = Evaluator(meaning, sym_point).components(x, letters, env, q.name)
        fr, fc = f.shape
        xr, xc = x.shape

        def diff(e, s):
            # the course's conventions at a kink: max(0, x)' = 1[x > 0], 0 at 0 (SymPy's H(0)
            # is 1/2), and a step's derivative 0 (a Dirac delta is 0 almost everywhere)
            d = sp.diff(e, s)
            d = d.replace(lambda t: isinstance(t, sp.Heaviside),
                          lambda t: sp.Heaviside(t.args[0], 0))  # fmt: skip
            return d.replace(lambda t: isinstance(t, sp.DiracDelta), lambda t: sp.Integer(0))

        if (fr, fc) == (1, 1):
            out = np.vectorize(lambda s: diff(f[0, 0], s), otypes=[object])(x)
            if meaning.notation == "jacobian" and xc == 1 and xr > 1:
                out = out.T
        elif fc == 1 and xc == 1:  # the Jacobian of a vector by a vector
            out = np.array([[diff(f[a, 0], x[b, 0]) for b in range(xr)] for a in range(fr)],
                           dtype=object)  # fmt: skip
        else:
            raise InvalidClaim(
                f"the derivative of a {_shape(f)} expression by a {_shape(x)} one: derive checks "
                "gradients of numbers and Jacobians of vectors by vectors"
            )
        entries = sym_point.entries()
        symbols = [s for s, _ in entries]
        fn = sp.lambdify(symbols, sp.Matrix(out.tolist()), "numpy", cse=True)
        return out, symbols, fn, [w for _, w in entries]

    # --- number claims ------------------------------------------------------------------------
    def check_number(self, entry, lhs: ast.Node | None, number: Fraction,
                     meaning: Meaning | None) -> ClaimResult:  # fmt: skip
        """The claimed number against the value of ``lhs`` (or the entry's given value)."""
        true = entry.value if lhs is None else self.number_value(lhs, meaning)
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

    def number_value(self, lhs: ast.Node, meaning: Meaning) -> float:
        """The value of a number claim's left-hand side, at the context's numbers."""
        from derive.claims.decide import environments
        from derive.compile import bind_sizes, to_internal

        net = meaning.net
        values = self.values(net)
        sizes = bind_sizes(net, values)
        if id(net) not in self._compiled:
            self.setting(meaning, "")
        point = FloatPoint(self._compiled[id(net)], sizes, to_internal(net, values, sizes))
        entry_index = None
        if isinstance(lhs, ast.Derivative) and net is self.net:
            q, sample, entry_index, _ = self.resolve_var(lhs, meaning)
            if entry_index is not None:
                lhs = ast.Derivative(lhs.f, ast.Name(*_name_of(q)), lhs.partial)
                meaning = replace_names(meaning, q)
        elif isinstance(lhs, ast.Name) and written_name(lhs) in meaning.aliases:
            q, entry_index = meaning.aliases[written_name(lhs)]
            lhs = ast.Name(*_name_of(q))
            meaning = replace_names(meaning, q)
        side = Tree(lhs, meaning)
        envs = environments(side, point)
        if len(envs) != 1:
            raise InvalidClaim("a per-sample value with several samples: give one sample")
        value = np.asarray(side.value(point, envs[0]), dtype=float)
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

    # --- what a wrong claim is told -----------------------------------------------------------
    def right_formula(self, a: ast.Node, meaning: Meaning) -> tuple[Expr, Gradient] | None:
        """derive's own formula for the left-hand side, when it is a derivative of the loss."""
        if not isinstance(a, ast.Derivative) or meaning.net is not self.net or self.net is None:
            return None
        try:
            q, sample, entry, letters = self.resolve_var(a, meaning)
        except InvalidClaim:
            return None
        if entry is not None or letters is not None or meaning.notation == "jacobian":
            return None
        for g in self.derivation.residuals + self.derivation.gradients:
            if g.q == q:
                return g.expanded, g
        return None

    def expected(self, a: ast.Node, meaning: Meaning) -> str | None:
        """The right expression in the course's notation: derive's formula of a derivative of
        the loss (the network's names, sample i), or of a derivative in the symbols."""
        from derive.render.printer import latex

        found = self.right_formula(a, meaning)
        if found is not None:
            return latex(found[0], index=meaning.implicit, loss=self.net.loss_quantity.latex)
        if isinstance(a, ast.Derivative) and meaning.net is self.symbols_net:
            expr = self.symbol_formula(a, meaning)
            if expr is not None:
                return latex(expr, index=None, loss="f")
        return None

    def symbol_formula(self, a: ast.Derivative, meaning: Meaning) -> Expr | None:
        """derive's derivation of a scalar expression in the symbols (for the right expression
        as the course writes it: sigma(x)(1 - sigma(x)), u v^T)."""
        from derive.claims.meaning import Scope, build

        try:
            q, _, _, letters = self.resolve_var(a, meaning)
            if letters is not None:
                return None
            scope = Scope(net=self.symbols_net, names=meaning.names,
                          functions=dict(meaning.functions))  # fmt: skip
            f = build(a.f, scope)
            if f.shape != (sp.Integer(1), sp.Integer(1)):
                return None
            net = symbols_network(self.context.symbols)
            net.loss("claim_f", f)
            derivation = net.derive()
            for g in derivation.gradients:  # in the symbols alone: sigma(x)(1 - sigma(x))
                if g.q.name == q.name:
                    return substitute(g.expanded, {Leaf(n): n.definition for n in net.nodes})
        except (DeriveError, ValueError, TypeError):
            return None
        return None

    def used(self, a: ast.Node, b: ast.Node, meaning: Meaning) -> set[str]:
        """The inputs and parameters the two sides read (through nodes and derivatives)."""
        from derive.expr import leaves

        names = {n for side in (a, b) for n in _names(side)}
        found = set()
        for n in names:
            q = meaning.names.get(key_of(n)) or meaning.names.get(
                key_of(ast.Name(n.base, None, n.accents, n.label)))  # fmt: skip
            if q is not None:
                found.add(q)
        derivatives = any(isinstance(x, ast.Derivative) for side in (a, b) for x in _walk(side))
        if derivatives and meaning.net is self.net:  # derivatives of the loss read everything
            return {q.name for q in meaning.net.inputs + meaning.net.params}
        todo, seen = list(found), set()
        while todo:
            q = todo.pop()
            if q in seen:
                continue
            seen.add(q)
            if q.definition is not None:
                todo += [leaf.q for leaf in leaves(q.definition)]
        return {q.name for q in seen if q.kind != "node"}

    def slip(self, a: ast.Node, b: ast.Node, meaning: Meaning, setting: Setting, outcome):
        found = self.right_formula(a, meaning)
        right = gradient = None
        if found is not None:
            right, gradient = found
        elif isinstance(a, ast.Derivative) and meaning.net is self.symbols_net:
            right = self.symbol_formula(a, meaning)
        if right is None:
            return None
        claimed = Tree(b, meaning, like=Tree(a, meaning))
        from derive.claims.decide import environments, size_sets
        from derive.claims.points import random_point

        rng = np.random.default_rng(setting.seed ^ 0x511)
        probes = []  # the student's side at a few points, computed once for every candidate
        try:
            for sizes in size_sets(setting.net)[::-1]:
                for _ in range(2):
                    point = random_point(setting.compiled, sizes, rng)
                    for env in environments(Tree(a, meaning), point):
                        with np.errstate(all="ignore"):
                            probes.append((point, env, np.asarray(claimed.value(point, env),
                                                                  dtype=float)))  # fmt: skip
        except (DeriveError, NeedIndex, ValueError):
            return None

        def same(candidate: Expr) -> bool:
            """At the probe points; confirmed in full (conditions probed) when it agrees."""
            side = Formula(candidate, meaning.implicit)
            try:
                for point, env, want in probes:
                    with np.errstate(all="ignore"):
                        got = np.asarray(side.value(point, env), dtype=float)
                    if got.shape != want.shape or not np.allclose(
                        got, want, rtol=1e-8, atol=1e-10, equal_nan=True
                    ):
                        return False  # fmt: skip
                return decide(side, claimed, setting).verdict in ("equal", "almost-everywhere")
            except (DeriveError, NeedIndex, ValueError):
                return False

        expanded = None
        if gradient is not None:
            expanded = {g.q: g.expanded for g in self.derivation.residuals}
        return likely_slip(right, same, gradient, expanded)

    def shown_point(self, outcome, meaning: Meaning, used: set[str] | None = None) -> dict | None:
        """The counterexample: the inputs and parameters there that the claim reads (and the
        indices, when any are free), in the layout of derive grad (samples first)."""
        where = outcome.point or {}
        point = where.get("__point__")
        out: dict = {}
        if point is not None:
            for q in meaning.net.inputs + meaning.net.params:
                if used is None or q.name in used:
                    out[q.name] = _plain(point.values[q.name])
        elif "__mp__" in where:
            out.update({k: _plain(v) for k, v in where["__mp__"].items()})
        if outcome.env:
            for letter, k in outcome.env.items():
                out[letter] = k + 1
        return out or None


# --- helpers ----------------------------------------------------------------------------------
def downstream(net: Network, q: Quantity) -> set[Quantity]:
    """The quantities computed from ``q`` (its consumers, theirs, ..., the loss)."""
    from derive.expr import leaves

    after: set[Quantity] = set()
    changed = True
    while changed:
        changed = False
        for n in net.nodes:
            if n in after:
                continue
            if any(leaf.q == q or leaf.q in after for leaf in leaves(n.definition)):
                after.add(n)
                changed = True
    return after


def replace_names(meaning: Meaning, q: Quantity) -> Meaning:
    """``meaning`` that also knows ``q`` by its Python name (an alias resolved)."""
    names = dict(meaning.names)
    names[key_of(ast.Name(*_name_of(q)))] = q
    new = Meaning(**{k: getattr(meaning, k) for k in Meaning.__dataclass_fields__})
    new.names = names
    new.net = meaning.net
    return new


def _name_of(q: Quantity) -> tuple:
    base, _, sub = q.name.partition("_")
    return (base, sub or None)


def _shape(x) -> str:
    return f"({x.shape[0]} x {x.shape[1]})"


def _no_restating(tree: ast.Equation) -> None:
    """A right-hand side may use derivatives of the loss by quantities after the one asked
    (compact forms), never by the asked quantity itself; a derivative in the symbols is to be
    worked out, not restated."""
    lhs = tree.sides[0]
    if not isinstance(lhs, ast.Derivative):
        return
    for side in tree.sides[-1:]:  # a chain's working (the quotient rule) may use derivatives
        if _mentions(side, lhs):
            raise InvalidClaim(
                "the right-hand side is written in terms of what is asked: the derivative must "
                "be worked out, not restated"
            )


def _mentions(tree: ast.Node, derivative: ast.Derivative) -> bool:
    """Does ``tree`` hold a derivative by the same quantity (of the same function, or by a
    declared symbol at all)?"""
    if isinstance(tree, ast.Derivative) and _by(tree) == _by(derivative):
        if tree.f == derivative.f or not _is_loss_like(derivative):
            return True
    return any(_mentions(child, derivative) for child in tree.children)


def _is_loss_like(d: ast.Derivative) -> bool:
    """A derivative of a plain name (the loss J), not of an expression (sigma(x))."""
    return isinstance(d.f, ast.Name)


def _by(d: ast.Derivative) -> ast.Node:
    var = d.var
    return var.base if isinstance(var, ast.Sup) and isinstance(var.base, ast.Name) else var


def _answer_part(tree: ast.Equation) -> ast.Node:
    """What the student wrote of ask = answer: the answer's sides."""
    sides = tree.sides[1:]
    return sides[0] if len(sides) == 1 else ast.Equation(tuple(sides))


def _samples_summed(node: ast.Node) -> ast.Node:
    """The body of a sum over the samples (no limits, or 1 to m), else the node itself."""
    if isinstance(node, ast.Sum) and node.exclude is None:
        low, up = node.lower, node.upper
        plain = low is None and up is None
        samples = (isinstance(low, ast.Number) and low.fraction() == 1 and isinstance(up, ast.Name)
                   and up.base == "m" and up.sub is None)  # fmt: skip
        if plain or samples:
            return node.body
        raise InvalidClaim("a sum over other indices than the samples")
    return node


def _terms(node: ast.Node) -> list[ast.Node]:
    """The terms of a sum a + b + c (a minus sign is no chain rule)."""
    if isinstance(node, ast.BinOp) and node.op == "+":
        return _terms(node.left) + _terms(node.right)
    if isinstance(node, ast.BinOp) and node.op == "-" or isinstance(node, ast.Neg):
        raise InvalidClaim("a difference")
    return [node]


def _factors(node: ast.Node) -> list[ast.Node]:
    """The factors of a product, transposes taken off."""
    if isinstance(node, ast.Transpose):
        return _factors(node.operand)
    if isinstance(node, ast.BinOp) and node.op in ("*", "hadamard"):
        return _factors(node.left) + _factors(node.right)
    return [node]


def _only_derivatives(node: ast.Node) -> bool:
    """Whether ``node`` is made of derivatives only, as the chain rule is written out:
    products, sums over an index, transposes and sums of them (and + 0); no other term, no
    factor (5 dL/ds ds/db is not the chain rule)."""
    if isinstance(node, ast.Derivative):
        return True
    if isinstance(node, ast.Transpose | ast.Neg):
        return _only_derivatives(node.operand)
    if isinstance(node, ast.Sum):
        return _only_derivatives(node.body)
    if isinstance(node, ast.BinOp):
        zero = [isinstance(x, ast.Number) and x.fraction() == 0 for x in (node.left, node.right)]
        if node.op in ("+", "-") and any(zero):
            other = node.right if zero[0] else node.left
            return _only_derivatives(other)
        if node.op in ("+", "-", "*", "hadamard"):
            return _only_derivatives(node.left) and _only_derivatives(node.right)
    return False


def _constant(node: ast.Node) -> bool:
    """A side with no names: a number, arithmetic of numbers, sigma(0.7384)."""
    return not any(True for _ in _names(node))


def _skipped(numbers: tuple[int, ...], kept: list[int], n: int) -> str:
    """What of a chain was not checked itself: sides left out as unreadable, and the chain
    rule written out (bridged)."""
    bridged = [numbers[k] for k in range(len(numbers)) if k not in kept]
    missing = [k for k in range(1, n + 2) if k not in numbers]
    told = []
    if bridged:
        told.append(f"side {', '.join(map(str, bridged))} writes the chain rule out and is "
                    "bridged")  # fmt: skip
    if missing:
        told.append(f"side {', '.join(map(str, missing))} could not be read")
    return "; " + "; ".join(told) if told else ""


def _chain_latex(sides, numbers, wrong: StepResult, meaning: Meaning) -> str | None:
    """The student's chain as LaTeX, the wrong step's = marked."""
    parts = []
    for k, side in enumerate(sides):
        text = _as_latex(side, meaning)
        if text is None:
            return None
        if k:
            mark = numbers[k] == wrong.last
            parts.append(r" \overset{\text{wrong}}{=} " if mark else " = ")
        parts.append(text)
    out = "".join(parts)
    return out if len(out) <= 8000 else None


def _as_latex(tree: ast.Node, meaning: Meaning) -> str | None:
    """The claim in the course's notation: every name the network knows written as the
    network writes it (its LaTeX, from the trusted network file)."""
    from derive.claims.latex import to_latex

    def names(n: ast.Name) -> str | None:
        q = meaning.names.get(key_of(n))
        if q is None or n.label is not None:
            return None
        return q.latex if q.latex and len(q.latex) < 100 else None

    try:
        text = to_latex(tree, names)
    except (AttributeError, KeyError, TypeError, ValueError, RecursionError):
        return None
    return text if len(text) <= 4000 else None


def _walk(tree: ast.Node) -> Iterator[ast.Node]:
    yield tree
    for child in tree.children:
        yield from _walk(child)


def _names(tree: ast.Node) -> Iterator[ast.Name]:
    if isinstance(tree, ast.Name):
        yield tree
    for child in tree.children:
        yield from _names(child)


def implicit_sample(lhs: ast.Node, meaning: Meaning) -> str | None:
    """The sample the left-hand side is "for every sample" of (dL/dz^i: i), also for a
    per-sample quantity written without an index (dL/dz, o): then i; else None."""
    node = lhs.var if isinstance(lhs, ast.Derivative) else lhs
    if isinstance(node, ast.Sup) and isinstance(node.exponent, ast.Name):
        if node.exponent.base in INDEX_LETTERS:
            return node.exponent.base
    if isinstance(node, ast.Name):
        if node.label in INDEX_LETTERS:
            return node.label
        q = meaning.names.get(key_of(node))
        alias = meaning.aliases.get(written_name(node))
        if q is None and alias is not None:  # h_1: 'h[1]'
            q = alias[0]
        if q is not None and q.batched:
            return "i"
        if node.sub in INDEX_LETTERS and q is None:
            return None
    if not isinstance(lhs, ast.Derivative) and _reads_per_sample(lhs, meaning):
        return "i"
    return None


def _reads_per_sample(tree: ast.Node, meaning: Meaning) -> bool:
    if isinstance(tree, ast.Sum):
        return False
    if isinstance(tree, ast.Name):
        q = meaning.names.get(key_of(tree))
        alias = meaning.aliases.get(written_name(tree))
        if q is None and alias is not None:
            q = alias[0]
        return q is not None and q.batched
    if isinstance(tree, ast.Sup) and isinstance(tree.exponent, ast.Name):
        if tree.exponent.base in INDEX_LETTERS:
            return False
    return any(_reads_per_sample(c, meaning) for c in tree.children)


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


_ = (m, NeedIndex)
