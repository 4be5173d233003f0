"""A student's whole write-up checked as a teaching assistant reads it: every display formula
taken as a chain (:mod:`derive.claims.writeup`), each chain about a quantity derive knows (a
network's, the symbols', or a question of the assignment) checked step by step, each verdict
at the line of the student's file, and everything that could not be read listed with why.

The student's file is data: its formulas go through :func:`derive.claims.parse.parse_claim`
and the checker like every claim; which networks, names and tolerances apply is the
instructor's (``--network`` or the assignment), and the file's time is bounded by the limits.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace
from pathlib import Path

from derive.claims.assignment import Limits
from derive.claims.check import Checker, Context
from derive.claims.claimfile import DEFAULT_TOLERANCE, ClaimEntry
from derive.claims.meaning import as_number
from derive.claims.verdict import PASSING, ClaimResult, FileResult
from derive.claims.writeup import Chain, Writeup, read_writeup
from derive.errors import DeriveError

MAX_CHAINS = 600  # chains checked in one write-up
MAX_NOTES = 300  # formulas listed as not read or not checked (then how many more)
#: an invalid verdict that says the chain is about something derive does not check here
NOT_CHECKED = ("unknown name", "only derivatives of the loss")


@dataclass(frozen=True)
class Reader:
    """Who reads the write-up: the contexts a chain may be about, tried in order (the first
    that knows the chain's names checks it), and the assignment's questions a chain may answer
    (id, ask, kind, points, the checker's index)."""

    contexts: tuple[Context, ...]
    questions: tuple[tuple, ...] = ()
    tolerance: float = DEFAULT_TOLERANCE
    limits: Limits = Limits()
    credit: float = 0.0  # share of a question's points: final result right, a step wrong
    names: tuple[str, ...] = ()  # of the contexts, for "read with sgn as the step: ..."
    same_network: tuple[int, ...] = ()  # per context: the first context of its network

    def also(self, k: int) -> list[int]:
        """The other readings of context ``k``'s network."""
        if not self.same_network:
            return []
        return [j for j, first in enumerate(self.same_network) if first == k and j != k]


def reader_for_networks(
    networks,
    settings: dict | None = None,
    values: dict | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> Reader:
    """A quick check's reader: the trusted network files given on the command line."""
    from derive.claims.grade import loaded

    contexts = []
    for path in networks:
        net, derivation = loaded(Path(path), settings or {})
        contexts.append(Context(net, derivation, values=dict(values or {})))
    return Reader(tuple(contexts), tolerance=tolerance)


def reader_for_assignment(assignment) -> Reader:
    """The assignment's reader: each network (its aliases and numbers), then the symbols, then
    the assignment's further readings; its questions, each answered by the chain that starts
    with what it asks."""
    from derive.claims.grade import loaded

    a = assignment
    contexts, names, where, firsts = [], [], {}, []

    def network(name: str, functions: dict) -> Context:
        spec = a.networks[name]
        net, derivation = loaded(spec.file, spec.settings)
        return Context(
            net,
            derivation,
            {},
            functions,
            spec.aliases,
            spec.values,
            a.definitions,
            a.notation,
            a.secret,
        )

    if a.symbols or not a.networks:  # a formula in the declared symbols is read in them
        where[None] = len(contexts)
        firsts.append(len(contexts))
        contexts.append(
            Context(None, None, a.symbols, a.functions, {}, {}, a.definitions, a.notation, a.secret)
        )
        names.append("in the symbols")
    for name in a.networks:
        where[name] = len(contexts)
        firsts.append(len(contexts))
        contexts.append(network(name, a.functions))
        names.append(f"on {name}")
    for reading in a.readings:
        functions = {**a.functions, **reading.functions}
        firsts.append(where[reading.network] if reading.network is not None else len(contexts))
        if reading.network is not None:
            contexts.append(network(reading.network, functions))
        else:
            contexts.append(
                Context(
                    None,
                    None,
                    reading.symbols,
                    functions,
                    {},
                    {},
                    a.definitions,
                    a.notation,
                    a.secret,
                )
            )
        names.append(reading.name)
    questions = tuple(
        (q.id, q.ask, q.kind, q.points, where[q.network])
        for q in a.questions
        if q.ask and not q.problem and q.network in where and q.kind != "truth"
    )
    tolerance = min((q.tolerance for q in a.questions), default=DEFAULT_TOLERANCE)
    return Reader(
        tuple(contexts), questions, tolerance, a.limits, a.chain_credit, tuple(names), tuple(firsts)
    )


def check_homework(path: Path, reader: Reader, *, follow_symlinks: bool = True) -> FileResult:
    """Every chain of the write-up at ``path``; a DeriveError only when the file itself
    cannot be read. Reading the file is part of its time."""
    end = time.monotonic() + reader.limits.seconds_per_student
    writeup = read_writeup(Path(path), follow_symlinks=follow_symlinks)
    return check_writeup(writeup, reader, end=end)


def check_writeup(writeup: Writeup, reader: Reader, end: float | None = None) -> FileResult:
    """Every chain of ``writeup`` checked (until ``end``, a time.monotonic(); default the
    limits' seconds from now); each question of the reader scored once, by the worst of the
    chains that answer it, the others kept without points."""
    from derive.claims.parse import parse_claim

    checkers = [Checker(c) for c in reader.contexts]
    if not checkers:
        raise DeriveError("a homework check needs --network NET.py or --assignment A.yaml")
    functions = frozenset().union(*(c.functions for c in reader.contexts))
    asked = [(q, parse_claim(q[1], functions)) for q in reader.questions]
    end = end if end is not None else time.monotonic() + reader.limits.seconds_per_student
    results: list[ClaimResult] = []
    notes = [f"line {u.line}: {u.reason}: {u.text}" for u in writeup.unread]
    for n, chain in enumerate(writeup.chains):
        left = end - time.monotonic()
        if left < 0.05 or n >= MAX_CHAINS:
            why = (
                f"the file's {reader.limits.seconds_per_student:g} s were used up"
                if left < 0.05
                else f"a write-up is checked up to {MAX_CHAINS} formulas"
            )
            notes.append(f"line {chain.line}: not checked, nor what follows: {why}")
            break
        result = _check_chain(chain, checkers, asked, reader, functions, left)
        if isinstance(result, str):
            notes.append(f"line {chain.line}: {result}")
        else:
            results.append(result)
    results = _once_each(results, reader)
    if len(notes) > MAX_NOTES:
        notes = [
            *notes[:MAX_NOTES],
            f"... and {len(notes) - MAX_NOTES} more formulas not read or not checked",
        ]
    student = Path(writeup.path).stem
    return FileResult(Path(writeup.path), student, tuple(results), notes=tuple(notes))


def _once_each(results: list[ClaimResult], reader: Reader) -> list[ClaimResult]:
    """Each question scored once: by the worst of its answers (a wrong answer beside a right
    one is not hedged into points), the others shown without points; an unanswered question
    said so."""
    by_question: dict[str, list[int]] = {}
    for k, r in enumerate(results):
        if r.max_points is not None:
            by_question.setdefault(r.id, []).append(k)
    out = list(results)
    for ident, places in by_question.items():
        scoring = min(places, key=lambda k: (results[k].points or 0,
                                             results[k].verdict != "incorrect", k))  # fmt: skip
        for k in places:
            if k != scoring:
                r = results[k]
                out[k] = replace(
                    r,
                    id=f"{ident} again",
                    points=None,
                    max_points=None,
                    message=f"{r.message} (another answer to {ident}: the question "
                    f"is scored by its worst answer, line {results[scoring].line})",
                )
    for ident, ask, _, points, _ in reader.questions:
        if ident not in by_question:
            out.append(
                ClaimResult(
                    ident,
                    "",
                    "unanswered",
                    "no formula of the write-up starts with what this question asks",
                    points=0.0,
                    max_points=points,
                    question=ask,
                )
            )
    return out


def _check_chain(chain: Chain, checkers, asked, reader: Reader, functions, left: float):
    """The chain's result, or a note (str) saying why it is not checked."""
    readable, failed = _readable(chain, functions)
    if not readable or readable[0][0] != 1 or len(readable) < 2:
        k, why = failed[0] if failed else (1, "nothing to compare it with")
        question = _question(readable[0][2], asked, checkers) if readable and (
            readable[0][0] == 1) else None  # fmt: skip
        if question:  # an answer to a question that cannot be read earns nothing
            ident, ask, _, points, _ = question
            return ClaimResult(ident, chain.text, "unparseable", f"side {k} could not be read: "
                               f"{why}", points=0.0, max_points=points, question=ask,
                               line=chain.line)  # fmt: skip
        return f"not read: side {k}: {why}"
    numbers = tuple(k for k, _, _ in readable)
    lhs, rest = readable[0][2], [t for _, _, t in readable[1:]]
    seconds = min(left, reader.limits.seconds_per_answer * len(rest))
    question = _question(lhs, asked, checkers)
    numbered = False
    if question is not None and question[2] == "number" and as_number(rest[-1]) is None:
        question, numbered = None, True  # dE/dw = (o - t) o (1 - o) h: a step of the working
    which = (
        [question[4], *reader.also(question[4])]
        if question
        else [k for k, checker in enumerate(checkers) if checker.knows(lhs)]
    )
    if not which:
        name = checkers[0].unknown(lhs)
        return f"not checked: derive does not know {name} here ({_first(chain)})"
    if all(checkers[which[0]].states_chain_rule(t, lhs) for t in rest):
        return "not checked: the chain rule written out, nothing worked out after it"
    if question is not None:  # a question of the assignment, answered in the write-up
        ident, ask, kind, points, _ = question
        answer = " = ".join(side.text for _, side, _ in readable[1:])  # ask = answer
        entry = ClaimEntry(  # the question asks in general: a condition of the prose is not its
            ident, answer, tolerance=reader.tolerance, ask=ask, kind=kind, numbers=numbers
        )
        result = _judged(entry, which, checkers, reader, seconds)
        scored = _scored(_told(result, chain, failed, conditioned=False), points, reader.credit)
        return replace(scored, question=ask)
    text = " = ".join(side.text for _, side, _ in readable)
    entry = ClaimEntry(
        f"line {chain.line}",
        text,
        tolerance=reader.tolerance,
        numbers=numbers,
        where=chain.where,
        numbered=numbered,
    )
    result = _judged(entry, which, checkers, reader, seconds)
    if result.verdict == "invalid" and result.message.startswith(NOT_CHECKED):
        return f"not checked: {result.message} ({_first(chain)})"
    return _told(result, chain, failed)


def _question(lhs, asked, checkers) -> tuple | None:
    """The question whose ask the left side is (as written, or naming the same quantity)."""
    return next((q for q, tree in asked if lhs == tree or checkers[q[4]].same(lhs, tree)), None)


def _readable(chain: Chain, functions) -> tuple[list, list]:
    """(number, side, tree) of the sides that parse, and (number, why) of those that do not."""
    from derive.claims.parse import parse_claim

    readable, failed = [], []
    for k, side in enumerate(chain.sides, 1):
        try:
            tree = parse_claim(side.text, functions)
        except DeriveError as err:
            failed.append((k, str(err)))
            continue
        if hasattr(tree, "sides"):  # '=' inside what the reader took for one side
            failed.append((k, "not one expression"))
            continue
        readable.append((k, side, tree))
    return readable, failed


def _judged(entry: ClaimEntry, which: list[int], checkers, reader: Reader, seconds: float):
    """The verdict of the first reading that judges the chain; when it is wrong, the other
    readings' too (up to three), where they differ."""
    judged, first = [], None
    for k in which:
        result = checkers[k].check(entry, seconds)
        if result.verdict not in ("invalid", "unparseable"):
            judged.append((k, result))
        first = first or result
        if len(judged) == 1 and result.verdict != "incorrect" or len(judged) == 3:
            break  # right read one way is right; a wrong one is read the other ways too
    return _read_otherwise(judged, reader.names) if judged else first


def _read_otherwise(judged, names: tuple[str, ...]) -> ClaimResult:
    """The first reading's verdict, with what the others found when it differs (wrong with
    sgn the sign function, and read with sgn as the step: wrong another way)."""
    k, result = judged[0]
    others = []
    for j, other in judged[1:]:
        if (other.verdict, other.slip) != (result.verdict, result.slip):
            name = names[j] if j < len(names) else f"reading {j + 1}"
            if other.verdict in PASSING:
                others.append(f"read {name}, it is right")
                continue
            probably = re.search(r"probably (.*?)(?:; the final result|$)", other.message)
            said = f": probably {probably.group(1)}" if probably else ""
            others.append(f"read {name}, it is still wrong{said}")
    if not others:
        return result
    return replace(result, message=result.message + "; " + "; ".join(others))


def _told(result: ClaimResult, chain: Chain, failed, conditioned: bool = True) -> ClaimResult:
    """The result at the chain's line, with the sides that could not be read said, and what
    follows the chain in its formula that derive could not place."""
    message = result.message
    if conditioned and chain.where is not None:
        a, op, b = chain.where
        message += (
            f" (for {a} {'=' if op == '=' else 'different from'} {b}, as the text before it says)"
        )
    changes = {}
    if failed:
        sides = ", ".join(str(k) for k, _ in failed)
        said = f"side {sides} could not be read: {failed[0][1]}"
        if result.verdict in PASSING:  # what could not be read is not right either
            last = failed[-1][0] == len(chain.sides)
            message = (
                f"the final side could not be read ({said}); the steps before it are right"
                if last
                else f"every step derive could read is right, but {said}"
            )
            changes = {
                "verdict": "invalid",
                "step": failed[0][0] - 1,
                "ends_right": None if last else True,
            }
        else:
            message += f" ({said})"
    verdict = changes.get("verdict", result.verdict)
    if chain.trailing and verdict in PASSING:  # = RW \quad 2: the 2 is part of the answer
        message = (f"the formula goes on after its last side ({chain.trailing}), which derive "
                   f"cannot place; before that: {message}")  # fmt: skip
        changes = {**changes, "verdict": "invalid", "step": len(chain.sides) - 1,
                   "ends_right": None}  # fmt: skip
    return replace(result, message=message, line=chain.line, claim=chain.text, **changes)


def _scored(result: ClaimResult, points: float, credit: float) -> ClaimResult:
    from derive.claims.grade import points_of

    return replace(result, points=points_of(result, points, credit), max_points=points)


def _first(chain: Chain) -> str:
    from derive.safeio import shown

    return shown(chain.sides[0].text, 40)
