"""The autograder's grading step on Gradescope (run by ``run_autograder``, see
:mod:`derive.sheets.exports`)::

    python -m derive.sheets.gradescope KEY SUBMISSION_DIR RESULTS_JSON

Grades the one answers file of the submission (``answers.yaml``, or its only ``*.yaml``) against
the key, as ``derive check`` does, and writes Gradescope's results.json: ``score``, and one test
per question (``name``, ``score``, ``max_score``, ``status``, ``output``). A submission that cannot
be graded gets score 0 and says why; the student's id comes from the file, else from
Gradescope's submission_metadata.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from derive.errors import DeriveError


def answers_file(folder: Path) -> Path:
    named = folder / "answers.yaml"
    if named.is_file():
        return named
    found = sorted(p for p in folder.glob("*.y*ml") if p.is_file() and not p.is_symlink())
    if len(found) != 1:
        raise DeriveError("hand in one answers file, answers.yaml (found "
                          f"{len(found)} YAML files)")  # fmt: skip
    return found[0]


def _metadata_id(folder: Path) -> str | None:
    try:
        data = json.loads((folder.parent / "submission_metadata.json").read_text("utf-8"))
        users = data.get("users") or []
        return str(users[0].get("sid") or users[0].get("email")) if users else None
    except (OSError, ValueError, AttributeError, IndexError):
        return None


def results(key: Path, submission: Path) -> dict:
    from derive.claims.grade import Grader
    from derive.claims.pool import GRACE, Pool
    from derive.sheets.key import read_key

    grader = Grader(read_key(key))
    path = answers_file(submission)
    student = _metadata_id(submission)
    limits = grader.assignment.limits
    pool = Pool(lambda p: grader.grade(p, student), 1, limits.memory_mb,
                limits.seconds_per_student + GRACE)  # fmt: skip
    outcome = next(iter(pool.run([(path, path)])))
    if outcome.error is not None:
        raise DeriveError(outcome.error)
    result = outcome.result
    tests = []
    for c in result.claims:
        output = c.message + (f"\nThe right answer: {c.expected}" if c.expected else "")
        if c.verdict in ("unparseable", "invalid"):  # not judged: no mark against the student
            output = ("Not read as an answer, so not judged: fix it and submit again. "
                      + output)  # fmt: skip
        tests.append({"name": c.id, "score": c.points or 0.0, "max_score": c.max_points or 0.0,
                      "status": "passed" if (c.points or 0) == c.max_points else "failed",
                      "output": output})  # fmt: skip
    return {"score": result.points, "output": f"Graded as {result.student}.", "tests": tests}


def main(argv: list[str] | None = None) -> int:
    key, submission, out = (Path(a) for a in (argv or sys.argv[1:]))
    try:
        data = results(key, submission)
    except DeriveError as err:
        data = {"score": 0.0, "output": f"This submission could not be graded: {err}",
                "tests": []}  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
