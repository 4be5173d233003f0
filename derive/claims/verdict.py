"""What checking a claim gives: a verdict with the evidence, for the table, the JSON, the
gradebook and the feedback. Frozen dataclasses, plain values only (numbers as lists), so that a
result crosses process boundaries and goes to JSON as it is."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

#: every verdict, best first
VERDICTS = ("correct", "almost-everywhere", "incorrect", "unparseable", "invalid")
#: verdicts that earn the claim's mark in the gradebook
PASSING = ("correct", "almost-everywhere")


@dataclass(frozen=True)
class ClaimResult:
    id: str
    claim: str  # the student's text, as given
    verdict: str  # one of VERDICTS
    message: str  # one sentence for the student
    position: int | None = None  # unparseable: 0-based offset of the problem in ``claim``
    point: dict[str, object] | None = None  # incorrect: where the two sides differ (name -> value)
    claimed_value: object | None = None  # incorrect: the student's side there
    correct_value: object | None = None  # incorrect: the right value there
    expected: str | None = None  # incorrect gradient/residual: the right expression, LaTeX
    slip: str | None = None  # incorrect: the likely mistake, when one matches
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class FileResult:
    """One student's claims file, checked; ``error`` when the file itself could not be read
    (then ``claims`` is empty)."""

    path: Path
    student: str
    claims: tuple[ClaimResult, ...] = field(default=())
    error: str | None = None

    @property
    def score(self) -> int:
        return sum(c.verdict in PASSING for c in self.claims)

    def to_json(self) -> dict:
        out = {"student": self.student, "file": self.path.name, "score": self.score}
        out["total"] = len(self.claims)
        if self.error:
            out["error"] = self.error
        out["claims"] = [c.to_json() for c in self.claims]
        return out
