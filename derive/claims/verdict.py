"""What checking a claim gives: a verdict with the evidence, for the table, the JSON, the
gradebook and the feedback. Frozen dataclasses, plain values only (numbers as lists), so that a
result crosses process boundaries and goes to JSON as it is."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

#: every verdict, best first ("unanswered": an assignment's question with no answer)
VERDICTS = ("correct", "almost-everywhere", "incorrect", "unparseable", "invalid", "unanswered")
#: verdicts that earn the claim's mark in the gradebook
PASSING = ("correct", "almost-everywhere")
#: a step's verdict as the table and the feedback say it
STEP_WORDS = {
    "correct": "right",
    "almost-everywhere": "right except at a kink",
    "incorrect": "wrong",
    "invalid": "not checked",
    "unparseable": "not read",
}


@dataclass(frozen=True)
class StepResult:
    """One step of a chain a = b = c: from side ``first`` to side ``last`` as written (the next
    one, or further where the chain rule written out between them was bridged)."""

    first: int  # 1-based
    last: int
    verdict: str
    message: str
    point: dict[str, object] | None = None
    claimed_value: object | None = None
    correct_value: object | None = None
    slip: str | None = None

    @classmethod
    def of(cls, first: int, last: int, result: ClaimResult) -> StepResult:
        return cls(first, last, result.verdict, result.message, result.point,
                   result.claimed_value, result.correct_value, result.slip)  # fmt: skip

    @property
    def said(self) -> str:
        """The verdict in a word or two: right, wrong, not checked."""
        return STEP_WORDS.get(self.verdict, self.verdict)

    def name(self, n: int | None = None) -> str:
        """'step 2', or 'steps 2 to 3' across a bridged side."""
        if self.last == self.first + 1:
            return f"step {self.first}"
        return f"steps {self.first} to {self.last - 1}"

    @property
    def across(self) -> str:
        """' (across side 2)': the sides a bridged step passes over, or ''."""
        if self.last == self.first + 1:
            return ""
        return f" (across side {', '.join(str(k) for k in range(self.first + 1, self.last))})"

    @property
    def plural(self) -> bool:
        return self.last > self.first + 1


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
    points: float | None = None  # graded against an assignment: the points earned
    max_points: float | None = None  # and the question's worth
    question: str | None = None  # the question asked (the assignment's LaTeX)
    latex: str | None = None  # the claim as parsed, written back as LaTeX (never the raw text)
    step: int | None = None  # a chain a = b = c: the first wrong step (1 is a = b)
    ends_right: bool | None = None  # and whether its first and last sides still agree
    steps: tuple[StepResult, ...] | None = None  # a chain: every step's verdict
    line: int | None = None  # a homework file's formula: the line it starts on

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @classmethod
    def from_json(cls, data: dict) -> ClaimResult:
        known = {k: v for k, v in data.items() if k in _CLAIM_FIELDS}
        if known.get("steps") is not None:
            known["steps"] = tuple(StepResult(**{k: v for k, v in s.items() if k in _STEP_FIELDS})
                                   for s in known["steps"])  # fmt: skip
        return cls(**known)


_CLAIM_FIELDS = set(ClaimResult.__dataclass_fields__)
_STEP_FIELDS = set(StepResult.__dataclass_fields__)


@dataclass(frozen=True)
class FileResult:
    """One student's claims file, checked; ``error`` when the file itself could not be read
    (then ``claims`` is empty)."""

    path: Path
    student: str
    claims: tuple[ClaimResult, ...] = field(default=())
    error: str | None = None
    notes: tuple[str, ...] = ()  # keys refused, answers to questions not asked, ...
    file: str = ""  # the file as named in the class folder, as safe text ("" : path.name)

    def __post_init__(self):
        if not self.file:
            from derive.safeio import file_label

            object.__setattr__(self, "file", file_label(Path(self.path).name))

    @property
    def score(self) -> int:
        return sum(c.verdict in PASSING for c in self.claims)

    @property
    def graded(self) -> bool:
        """Graded against an assignment (points), not a quick check (claims counted)."""
        return any(c.max_points is not None for c in self.claims)

    @property
    def points(self) -> float:
        return sum(c.points or 0 for c in self.claims)

    @property
    def max_points(self) -> float:
        return sum(c.max_points or 0 for c in self.claims)

    def to_json(self) -> dict:
        out = {"student": self.student, "file": self.file, "score": self.score}
        out["total"] = len(self.claims)
        if self.graded:
            out["points"], out["max_points"] = self.points, self.max_points
        if self.error:
            out["error"] = self.error
        if self.notes:
            out["notes"] = list(self.notes)
        out["claims"] = [c.to_json() for c in self.claims]
        return out
