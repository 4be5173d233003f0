"""The key that ``derive sheet`` writes, read back for grading: ``derive check --assignment
SHEETS/key.json``. For every student it holds each question as that student was asked it: a
bank variant with its parameters, its right answer, slips, symbols and functions, so that the
key grades the same after the bank's generators change. Questions written out in the assignment
(about a network) are graded from the assignment file the key names, as without sheets.

The key is the instructor's (it holds every answer): it is trusted, but read with the same
bounds as any file, and a key that does not fit together is one line naming the problem.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from derive.claims.assignment import Assignment, Question, read_assignment
from derive.claims.claimfile import functions_of, symbols_of
from derive.errors import DeriveError
from derive.safeio import read_text, shown
from derive.values import to_arrays

MAX_KEY_BYTES = 200_000_000
KIND = ("formula", "number", "truth")


def read_key(path: Path) -> Assignment:
    path = Path(path)
    where = shown(path)
    try:
        key = json.loads(read_text(path, MAX_KEY_BYTES, what="key file"))
    except json.JSONDecodeError as err:
        raise DeriveError(f"{where}:{err.lineno}: not JSON: {err.msg}") from None
    if not isinstance(key, dict) or not isinstance(key.get("students"), dict):
        raise DeriveError(f"{where}: not a key written by derive sheet (no students)")
    source = path.parent / str(key.get("assignment_file", ""))
    if not source.is_file():
        raise DeriveError(f"{where}: the assignment it was made from, "
                          f"{shown(key.get('assignment_file'))}, is not beside it")  # fmt: skip
    a = read_assignment(source)
    if key.get("assignment") != a.id:
        raise DeriveError(f"{where}: the key is for assignment {shown(key.get('assignment'))}, "
                          f"{shown(source)} is {a.id}")  # fmt: skip
    variants: dict[str, dict[str, Question]] = {}
    for student, entry in key["students"].items():
        asked = entry.get("questions") if isinstance(entry, dict) else None
        if not isinstance(asked, dict):
            raise DeriveError(f"{where}: student {shown(student, 40)}: no questions")
        variants[student] = {}
        for q in a.questions:
            if q.id not in asked:
                raise DeriveError(
                    f"{where}: student {shown(student, 40)} has no question "
                    f"{q.id}: the assignment changed after the key was made"
                )
            at = f"{where}: student {shown(student, 40)}: question {q.id}"
            variants[student][q.id] = _variant(q, asked[q.id], at) if q.problem else q
    return replace(a, variants=variants, roster=tuple(variants), sources=(*a.sources, path),
                   secret=bytes.fromhex(key.get("secret", a.secret.hex())))  # fmt: skip


def _variant(q: Question, entry, at: str) -> Question:
    if not isinstance(entry, dict) or entry.get("kind") not in KIND:
        raise DeriveError(f"{at}: not a variant written by derive sheet")
    try:
        return replace(
            q,
            ask=str(entry["ask"]),
            kind=entry["kind"],
            points=float(entry["points"]),
            answer=str(entry["answer"]),
            value=float(entry["answer"]) if entry["kind"] == "number" else None,
            text=str(entry.get("statement", "")),
            variant=str(entry.get("variant", "")),
            params=dict(entry.get("params", {})),
            slips=tuple((str(n), str(w)) for n, w in entry.get("slips", [])),
            symbols=symbols_of(entry.get("symbols") or {}, at),
            functions=functions_of(entry.get("functions") or {}, at),
            claim=str(entry.get("claim", "")),
            values=to_arrays(entry["values"], at) if entry.get("values") else q.values,
            tolerance=float(entry.get("tolerance", q.tolerance)),
            abs_tolerance=float(entry.get("abs_tolerance", q.abs_tolerance)),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise DeriveError(f"{at}: a broken entry ({type(err).__name__}: {err})") from None
