"""The gradebook of a class: one CSV row per student, and every result as JSON.

Columns: student, file, score, total, one column per claim id (the union of the ids of all
students, in order of first appearance) holding that claim's verdict, and error. A student whose
file could not be checked has empty score and total and the reason under error. Text a student
controls (the name, the claim ids) is written so that a spreadsheet never reads it as a formula.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import fields
from pathlib import Path

from derive.claims.verdict import VERDICTS, ClaimResult, FileResult

FIXED = ("student", "file", "score", "total")
MAX_CELL = 200  # characters of a name or an error message in a cell


def claim_ids(results: list[FileResult]) -> list[str]:
    """Every claim id of the class, in order of first appearance."""
    return list(dict.fromkeys(c.id for r in results for c in r.claims))


def _cell(text: str) -> str:
    """Text that a spreadsheet shows as text: =, +, -, @ (and tab, CR) lead a formula there."""
    text = " ".join(str(text).split())[:MAX_CELL]
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _column(ident: str) -> str:
    """A claim id as a header that cannot be taken for one of the fixed columns."""
    return f"claim {ident}" if ident in (*FIXED, "error") else ident


def gradebook_csv(results: list[FileResult]) -> str:
    """The CSV text of the gradebook, one row per result in the order given."""
    ids = claim_ids(results)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*FIXED, *(_cell(_column(i)) for i in ids), "error"])
    for r in results:
        verdicts: dict[str, list[str]] = {}
        for c in r.claims:
            verdicts.setdefault(c.id, []).append(c.verdict)
        graded = r.error is None
        writer.writerow(
            [
                _cell(r.student),
                _cell(r.path.name),
                r.score if graded else "",
                len(r.claims) if graded else "",
                *(" ".join(verdicts.get(i, [])) for i in ids),  # a repeated id: both verdicts
                _cell(r.error) if r.error else "",
            ]
        )
    return out.getvalue()


def verdict_counts(results: list[FileResult]) -> dict[str, int]:
    """Claims per verdict over the class, best verdict first (unknown ones after)."""
    counts = Counter(c.verdict for r in results for c in r.claims)
    return {v: counts[v] for v in [*VERDICTS, *sorted(set(counts) - set(VERDICTS))]}


def _plain(value):
    """JSON for what the checker may leave in a result: NumPy values, SymPy numbers."""
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def to_json_text(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=_plain) + "\n"


def results_json(results: list[FileResult]) -> str:
    """results.json: the counts, the claim ids, and every student's result."""
    return to_json_text(
        {
            "verdicts": verdict_counts(results),
            "claim_ids": claim_ids(results),
            "students": [r.to_json() for r in results],
        }
    )


_CLAIM_FIELDS = {f.name for f in fields(ClaimResult)}


def result_from_json(data: dict, path: Path) -> FileResult:
    """The FileResult that :meth:`FileResult.to_json` wrote (``path``: the claims file)."""
    claims = tuple(
        ClaimResult(**{k: v for k, v in c.items() if k in _CLAIM_FIELDS}) for c in data["claims"]
    )
    return FileResult(Path(path), str(data["student"]), claims, data.get("error"))
