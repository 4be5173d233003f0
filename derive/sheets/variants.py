"""Each student's variant of a problem of the bank: seeded by hashing the assignment's secret,
its course and id, the student's id and the question's id, so that a variant is the same run
after run, cannot be guessed without the secret, and does not depend on the order of the roster
or on the other questions.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import replace

from derive.claims.assignment import Assignment, Question
from derive.claims.claimfile import functions_of, symbols_of
from derive.errors import DeriveError
from derive.sheets.bank import Degenerate, Variant, lookup

MAX_DRAWS = 200  # draws before a problem's ranges are judged to give no good variant


def seed_of(assignment: Assignment, student: str, question: str) -> int:
    parts = [assignment.secret.hex(), assignment.course, assignment.id, student, question]
    digest = hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:16], "big")


def draw(q: Question, seed: int, where: str = "", net=None) -> Question:
    """Question ``q`` as drawn for this seed; a degenerate draw (see
    :class:`~derive.sheets.bank.Degenerate`) is drawn again, from the same random stream, so the
    sheets and the grading draw the same variant."""
    bank = lookup(q.problem, where or f"question {q.id}")
    rng = random.Random(seed)
    for _ in range(MAX_DRAWS):
        params = bank.draw(rng, q.ranges)
        try:
            v = bank.generate(params, net) if bank.network else bank.generate(params)
            return as_question(q, params, v)
        except Degenerate:
            continue
        except ValueError as err:  # the instructor's parameters do not fit the network
            raise DeriveError(f"{where or 'question ' + q.id}: {err}") from None
    raise DeriveError(f"{where or 'question ' + q.id}: {q.problem} gives no usable variant in "
                      f"{MAX_DRAWS} draws: widen its params")  # fmt: skip


def variant_id(problem: str, params: dict) -> str:
    """A short id of a variant: the same parameters give the same id, in every assignment."""
    text = json.dumps([problem, params], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def as_question(q: Question, params: dict, v: Variant) -> Question:
    """The bank question ``q`` as one student is asked it."""
    where = f"question {q.id} ({q.problem})"
    return replace(
        q,
        ask=v.ask,
        kind=v.kind,
        text=v.statement,
        variant=variant_id(q.problem, params),
        params=dict(params),
        answer=v.answer,
        value=float(v.answer) if v.kind == "number" else None,
        slips=tuple(v.slips),
        symbols=symbols_of(v.symbols, where),
        functions=functions_of(v.functions, where),
        claim=v.claim,
        solution=tuple(v.solution),
        values={**q.values, **v.values} if v.values else q.values,
        tolerance=q.tolerance if v.tolerance is None else v.tolerance,
        abs_tolerance=q.abs_tolerance if v.abs_tolerance is None else v.abs_tolerance,
    )


def variant_question(assignment: Assignment, q: Question, student: str) -> Question:
    """The variant of bank question ``q`` that ``student`` is asked."""
    net = None
    if q.network is not None:
        from derive.claims.grade import loaded

        spec = assignment.networks[q.network]
        net, _ = loaded(spec.file, spec.settings)
    where = f"{assignment.path.name}:{q.line}: question {q.id}"
    return draw(q, seed_of(assignment, student, q.id), where, net)


_DISTINCT: dict[tuple, dict[str, Question]] = {}


def distinct_variants(assignment: Assignment, q: Question, students) -> dict[str, Question]:
    """A variant of ``q`` for each student, no two the same (``distinct: true``). Students are
    taken in the order of their seeds, not of the roster, and a student whose variant an
    earlier one has is drawn again from their next seed: the same roster gives the same
    variants whatever its order."""
    from derive.sheets.selftest import content_key

    key = (assignment.secret, assignment.course, assignment.id, q.id, tuple(sorted(students)))
    if key in _DISTINCT:
        return _DISTINCT[key]
    net = None
    if q.network is not None:
        from derive.claims.grade import loaded

        spec = assignment.networks[q.network]
        net, _ = loaded(spec.file, spec.settings)
    where = f"{assignment.path.name}:{q.line}: question {q.id}"
    taken: set = set()
    out: dict[str, Question] = {}
    for student in sorted(students, key=lambda s: (seed_of(assignment, s, q.id), s)):
        seed = seed_of(assignment, student, q.id)
        for attempt in range(MAX_DRAWS):
            v = draw(q, seed + attempt, where, net)
            if content_key(v) not in taken:
                break
        else:
            raise DeriveError(f"{where}: {len(students)} students need a variant each, and "
                              f"{q.problem} with these params gives only {len(taken)}: widen "
                              "them, or drop distinct")  # fmt: skip
        taken.add(content_key(v))
        out[student] = v
    _DISTINCT[key] = out
    return out
