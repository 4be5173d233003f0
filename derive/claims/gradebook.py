"""The gradebook of a class: one CSV row per student, and every result as JSON.

Columns: student, file, points, max_points, one column per question of the assignment holding
the points earned, one ``verdict <id>`` column per question, notes, and error. A student whose
file could not be graded has empty points and the reason under error. Without an assignment
(a check given directly, in tests) the questions are the claim ids of all students, in order of
first appearance. Text a student controls (the id, the file name, the notes) is written so that
a spreadsheet never reads it as a formula: control characters escaped, and a cell that would
start with = + - @ led by an apostrophe.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from pathlib import Path

from derive.claims.verdict import VERDICTS, ClaimResult, FileResult
from derive.safeio import shown, visible

FIXED = ("student", "file", "points", "max_points")
MAX_CELL = 200  # characters of a name or a message in a cell


def question_ids(results: list[FileResult], assignment=None) -> list[str]:
    """The assignment's question ids, or every claim id of the class in order of appearance."""
    if assignment is not None:
        return [q.id for q in assignment.questions]
    return list(dict.fromkeys(c.id for r in results for c in r.claims))


def _cell(text: object, exact: bool = False) -> str:
    """Text that a spreadsheet shows as text. ``exact``: the text is already made visible and
    one to one (a file label, a student id) and is kept as it is, spaces included."""
    text = str(text)[:MAX_CELL] if exact else shown(text, MAX_CELL)
    if exact:
        text = visible(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _column(ident: str) -> str:
    """A claim id as a header that cannot be taken for one of the fixed columns."""
    return f"claim {ident}" if ident in (*FIXED, "notes", "error") else ident


def _points(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def gradebook_csv(results: list[FileResult], assignment=None) -> str:
    """The CSV text of the gradebook, one row per result in the order given."""
    ids = question_ids(results, assignment)
    out = io.StringIO()
    writer = csv.writer(out)
    header = [*FIXED, *(_cell(_column(i)) for i in ids), *(_cell(f"verdict {i}") for i in ids)]
    writer.writerow([*header, "notes", "error"])
    for r in results:
        by_id: dict[str, list[ClaimResult]] = {}
        for c in r.claims:
            by_id.setdefault(c.id, []).append(c)
        graded = r.error is None
        if not graded:
            points = verdicts = ["" for _ in ids]
            total = maximum = ""
        elif r.graded or assignment is not None:
            points = [_points(sum(c.points or 0 for c in by_id[i])) if i in by_id else "0"
                      for i in ids]  # fmt: skip
            total, maximum = _points(r.points), _points(r.max_points)
            verdicts = [" ".join(c.verdict for c in by_id.get(i, [])) for i in ids]
        else:  # a quick check's claims: one point each
            points = [str(sum(c.verdict in ("correct", "almost-everywhere") for c in by_id[i]))
                      if i in by_id else "" for i in ids]  # fmt: skip
            total, maximum = str(r.score), str(len(r.claims))
            verdicts = [" ".join(c.verdict for c in by_id.get(i, [])) for i in ids]
        writer.writerow(
            [
                _cell(r.student, exact=True),
                _cell(r.file, exact=True),
                total,
                maximum,
                *points,
                *verdicts,
                _cell(" | ".join(r.notes)) if r.notes else "",
                _cell(r.error) if r.error else "",
            ]
        )
    return out.getvalue()


def verdict_counts(results: list[FileResult]) -> dict[str, int]:
    """Answers per verdict over the class, best verdict first (unknown ones after)."""
    counts = Counter(c.verdict for r in results if r.error is None for c in r.claims)
    return {v: counts[v] for v in [*VERDICTS, *sorted(set(counts) - set(VERDICTS))]}


def slip_counts(results: list[FileResult]) -> dict[str, dict[str, int]]:
    """Per question, how many students made each named slip (most frequent first)."""
    per: dict[str, Counter] = {}
    for r in results:
        if r.error is None:
            for c in r.claims:
                if c.slip:
                    per.setdefault(c.id, Counter())[c.slip] += 1
    return {q: dict(counts.most_common()) for q, counts in per.items()}


def _plain(value):
    """JSON for what the checker may leave in a result: NumPy values, SymPy numbers."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _finite(data):
    """JSON has no infinity or NaN: they are written as the strings "inf", "-inf", "nan"."""
    if isinstance(data, float) and not math.isfinite(data):
        return str(data)
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    if hasattr(data, "tolist"):
        return _finite(data.tolist())
    return data


def to_json_text(data) -> str:
    """Strict JSON (no NaN), all ASCII: every character of a student's past U+007F is an
    escape, so no control character (the 8-bit CSI U+009B) reaches a reader raw."""
    return json.dumps(_finite(data), indent=2, ensure_ascii=True, allow_nan=False,
                      default=_plain) + "\n"  # fmt: skip


def results_json(results: list[FileResult], assignment=None) -> str:
    """results.json: the counts, the questions, the slips per question, every student."""
    head = {}
    if assignment is not None:
        head = {"assignment": assignment.id, "max_points": assignment.max_points}
    return to_json_text(
        {
            **head,
            "verdicts": verdict_counts(results),
            "questions": question_ids(results, assignment),
            "slips": slip_counts(results),
            "students": [r.to_json() for r in results],
        }
    )


def result_from_json(data: dict, path: Path) -> FileResult:
    """The FileResult that :meth:`FileResult.to_json` wrote (``path``: the file graded)."""
    claims = tuple(ClaimResult.from_json(c) for c in data["claims"])
    return FileResult(Path(path), str(data["student"]), claims, data.get("error"),
                      tuple(data.get("notes", ())), str(data.get("file", "")))  # fmt: skip
