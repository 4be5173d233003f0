"""A student's answers file: who they are, and an answer for each question id. Nothing else.

    student: alice
    answers:
      dW2: '\\frac{1}{m}\\sum_{i=1}^{m} (\\mathbf{p}^i - \\mathbf{y}^i)(\\mathbf{h}^i)^T'
      w1: -0.0045

An answer is a formula in the claims language (LaTeX or plain text: its right-hand side, or the
whole equation) or a number. The file is the student's, so it is data, read within bounds by
:func:`derive.safeio.read_yaml`, and it decides nothing about how it is judged: any other key
(``network``, ``set``, ``values``, ``tolerance``, ``symbols``, ...) is refused and noted in the
student's row, and the answers are graded as the assignment says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from derive.claims.claimfile import student_of
from derive.errors import DeriveError
from derive.safeio import read_yaml, shown

MAX_FILE_BYTES = 256_000
MAX_ANSWERS = 500
MAX_ANSWER = 5000  # characters of one answer (the grammar takes at most 2,000)
MAX_NOTES = 10  # a file of 40,000 refused keys gets ten notes and a count, not 40,000
KEYS = ("student", "answers")


@dataclass(frozen=True)
class Answer:
    text: str  # as the student wrote it (a number as its YAML text)
    number: Fraction | None = None  # an answer given as a YAML number, exactly
    problem: str = ""  # an answer that is no formula or number (a list, a mapping, too long)
    truth: bool | None = None  # an answer given as YAML true/false (for a truth question)


@dataclass(frozen=True)
class Answers:
    path: Path
    student: str | None  # None: the file does not say
    answers: dict[str, Answer] = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # keys refused and the like, one sentence each


def read_answers(path: Path, follow_symlinks: bool = True) -> Answers:
    """The answers file at ``path``; a DeriveError when it cannot be read as one at all."""
    path = Path(path)
    where = shown(path.name)
    data = read_yaml(path, MAX_FILE_BYTES, follow_symlinks=follow_symlinks, what="answers file")
    if not isinstance(data, dict):
        raise DeriveError(f"{where}: expected 'student: <id>' and 'answers:' (question: answer)")
    notes = []
    refused = [key for key in data if key not in KEYS]
    for key in refused[:MAX_NOTES]:
        line = data.line_of(key) if hasattr(data, "line_of") else 0
        notes.append(
            f"line {line}: {shown(key, 40)}: refused and ignored: a student's file gives "
            "only student and answers; the questions, networks, numbers and tolerances are "
            "the assignment's"
        )
    if len(refused) > MAX_NOTES:
        notes.append(f"... and {len(refused) - MAX_NOTES:,} more keys refused and ignored")
    student = None
    if "student" in data:
        student = student_of(data["student"], f"{where}: student")
    given = data.get("answers")
    if given is None:
        given = {}
        notes.append("no answers: (write answers: followed by question: answer lines)")
    if not isinstance(given, dict):
        raise DeriveError(f"{where}: answers: expected a mapping, question id: answer")
    if len(given) > MAX_ANSWERS:
        raise DeriveError(f"{where}: answers: more than {MAX_ANSWERS}")
    answers = {}
    for key, value in given.items():
        if isinstance(key, bool) or not isinstance(key, str | int):
            if len(notes) < 2 * MAX_NOTES:
                notes.append(f"answers: {shown(repr(key), 40)} is not a question id: ignored")
            continue
        answers[str(key)] = _answer(value)
    return Answers(path, student, answers, tuple(notes))


def _answer(value) -> Answer:
    if value is None:
        return Answer("")
    if isinstance(value, bool):
        return Answer(str(value).lower(), problem="true/false is neither a formula nor a number",
                      truth=value)  # fmt: skip
    if isinstance(value, int):
        if abs(value) > 10**300:
            return Answer(shown(value, 40), problem="a number too large to check")
        return Answer(str(value), Fraction(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            return Answer(str(value), problem="not a finite number")
        return Answer(repr(value), Fraction(repr(value)))  # 0.0043 as written, exactly
    if isinstance(value, str):
        if len(value) > MAX_ANSWER:
            return Answer(value[:200], problem=f"longer than {MAX_ANSWER:,} characters")
        return Answer(value)
    kind = "a list" if isinstance(value, list) else "a mapping" if isinstance(value, dict) else (
        type(value).__name__)  # fmt: skip
    return Answer(shown(repr(value), 200), problem=f"{kind}, not a formula or a number")
