"""The problem bank: each problem type is one entry, its parameters (and their ranges) beside
the generator that turns drawn parameters into a variant: the statement on the sheet, what is
asked, the right answer in the language a student writes, the worked solution, and the slips a
student is likely to make, each named.

    @problem("cnn_output", "The output size of a convolution",
             params={"n": Ints(8, 128), "k": Choice(1, 3, 5, 7), ...})
    def cnn_output(p: dict) -> Variant: ...

The bank never grades: the checker of :mod:`derive.claims` does, and before a sheet is written
every variant's answer is graded right by it and every slip wrong (:mod:`derive.sheets.selftest`).
A generator raises :class:`Degenerate` for parameters that make a poor problem (an output size
of zero, a slip that equals the answer); the variant is then drawn again.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from derive.errors import DeriveError


class Degenerate(Exception):
    """These parameters make a poor problem: draw again."""


@dataclass(frozen=True)
class Choice:
    """One of the given values."""

    values: tuple

    def __init__(self, *values):
        object.__setattr__(self, "values", tuple(values))

    def draw(self, rng: random.Random):
        return self.values[rng.randrange(len(self.values))]

    def restrict(self, given, where: str) -> Choice:
        """The instructor's narrower choice (a value or a list of values), checked."""
        given = given if isinstance(given, list) else [given]
        bad = [g for g in given if g not in self.values]
        if bad or not given:
            known = ", ".join(map(str, self.values))
            raise DeriveError(f"{where}: {bad[0] if bad else 'nothing'!s} is not one of {known}")
        return Choice(*given)

    def describe(self) -> str:
        return ", ".join(map(str, self.values))


@dataclass(frozen=True)
class Ints:
    """An integer from low to high, both included."""

    low: int
    high: int

    def draw(self, rng: random.Random) -> int:
        return rng.randint(self.low, self.high)

    def restrict(self, given, where: str) -> Ints | Choice:
        """A narrower range [low, high], or one value, or a list of values, checked."""
        if isinstance(given, list) and len(given) == 2 and all(type(g) is int for g in given):
            low, high = given
            if self.low <= low <= high <= self.high:
                return Ints(low, high)
            raise DeriveError(f"{where}: [{low}, {high}] is not inside [{self.low}, {self.high}]")
        values = given if isinstance(given, list) else [given]
        for v in values:
            if type(v) is not int or not self.low <= v <= self.high:
                raise DeriveError(
                    f"{where}: {v!r} is not an integer from {self.low} to {self.high}"
                )
        return Choice(*values)

    def describe(self) -> str:
        return f"{self.low} to {self.high}"


@dataclass(frozen=True)
class Names:
    """Names of a network's quantities, the instructor's (``W1[1,1]``: one entry, 1-based; the
    loss by its name); ``default`` where the instructor gives none."""

    default: tuple = ()
    values: tuple = ()

    def draw(self, rng: random.Random):
        values = self.values or self.default
        return values[rng.randrange(len(values))]

    def restrict(self, given, where: str) -> Names:
        import re

        given = given if isinstance(given, list) else [given]
        for g in given:
            if not isinstance(g, str) or not re.fullmatch(r"[A-Za-z]\w*(\[\d+(,\d+)?\])?", g):
                raise DeriveError(f"{where}: {g!r}: expected a quantity or one entry of it, "
                                  "like W1 or 'W1[1,2]' (1-based)")  # fmt: skip
        if not given:
            raise DeriveError(f"{where}: at least one quantity")
        return Names(self.default, tuple(given))

    def describe(self) -> str:
        return "quantities of the network, like W1[1,1]"


Range = Choice | Ints | Names


@dataclass(frozen=True)
class Variant:
    """One student's version of a problem: everything the sheet, the solution, the key and the
    grader need. Formulas are LaTeX in the claims language; ``symbols`` and ``functions`` are
    as in an assignment file (``{"x": "scalar"}``, ``{"S": "softmax"}``)."""

    statement: str  # the problem as the sheet states it: LaTeX text with $math$
    ask: str  # the left-hand side the answer completes, LaTeX ("" for a number or truth)
    kind: str  # "formula", "number" or "truth"
    answer: str  # the right answer as a student writes it: LaTeX, a number, "true"/"false"
    solution: tuple[str, ...]  # the worked solution: paragraphs of LaTeX text with $math$
    slips: tuple[tuple[str, str], ...] = ()  # (name, the answer that slip gives)
    symbols: dict = field(default_factory=dict)
    functions: dict = field(default_factory=dict)
    claim: str = ""  # truth questions: the identity, judged by the checker to prove the answer
    values: dict = field(default_factory=dict)  # a network's numbers (name -> nested lists)
    tolerance: float | None = None  # number questions: relative (None: the assignment's)
    abs_tolerance: float | None = None


@dataclass(frozen=True)
class Problem:
    name: str
    title: str
    params: dict[str, Range]
    generate: Callable[..., Variant]  # (params) -> Variant, or (params, network) -> Variant
    network: bool = False  # about a network of the assignment (its question names it)
    build: Callable | None = None  # params -> (network, derivation): a variant's own network

    def draw(self, rng: random.Random, ranges: dict[str, Range] | None = None) -> dict:
        """Parameters drawn in the order of their names, from ``ranges`` (the instructor's
        narrower ones) where given."""
        ranges = {**self.params, **(ranges or {})}
        return {name: ranges[name].draw(rng) for name in sorted(ranges)}


#: Every problem type, by name.
BANK: dict[str, Problem] = {}


def problem(name: str, title: str, params: dict[str, Range], network: bool = False,
            build: Callable | None = None):  # fmt: skip
    """Register the decorated generator as the problem type ``name``; with ``network``, it is
    called with the network of the question as well; ``build`` makes a variant's own network
    from its parameters (the checker grades against it)."""

    def register(generate: Callable[..., Variant]):
        if name in BANK:
            raise ValueError(f"problem type {name} registered twice")
        BANK[name] = Problem(name, title, params, generate, network, build)
        return generate

    return register


def lookup(name: str, where: str) -> Problem:
    from derive.sheets import problems  # noqa: F401 (registers the entries)

    if name not in BANK:
        raise DeriveError(f"{where}: unknown problem type {name!r} (known: {', '.join(BANK)})")
    return BANK[name]


def number(x: float) -> str:
    """A number as a student would write it: 6, 0.25, -1.5 (no trailing zeros, no 1e-05)."""
    if float(x).is_integer():
        return str(int(x))
    text = f"{x:.10f}".rstrip("0")
    return text


def distinct_slips(answer: str, slips: list[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The slips whose answers differ from the right one and from each other (for numbers:
    as numbers), first name kept."""
    out: list[tuple[str, str]] = []
    seen = {_key(answer)}
    for name, wrong in slips:
        if _key(wrong) not in seen:
            seen.add(_key(wrong))
            out.append((name, wrong))
    return tuple(out)


def _key(text: str):
    try:
        return float(text)
    except ValueError:
        return " ".join(text.split())
