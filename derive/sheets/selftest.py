"""Deploy, then test: before a sheet is written, each variant is graded by the checker that will
grade the students. Its answer must be graded right, each catalogued slip wrong with that slip's
name, and, for a prove-or-disprove question, the identity judged as the answer says. A variant
that fails stops the run with the reason (the bank is wrong about it: no sheet may carry it);
the same parameters are tested once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from derive.claims.answers import Answer
from derive.claims.assignment import Question
from derive.claims.claimfile import ClaimEntry
from derive.claims.verdict import PASSING

SECONDS = 20.0  # per check: the instructor's own answers, not a student's


@dataclass
class SelfTest:
    """What the self-test did: the variants tested and the checks run."""

    variants: int = 0
    checks: int = 0
    _seen: dict[tuple, str] = field(default_factory=dict)  # (question, variant) -> "" or why
    proofs: dict[tuple, str] = field(default_factory=dict)  # (question, variant) -> the verdict

    def failure(self, grader, q: Question) -> str:
        """ "" when the variant passes, else why not (cached per variant)."""
        key = (q.id, q.problem, q.variant)
        if key not in self._seen:
            self.variants += 1
            self._seen[key] = self._test(grader, q)
        return self._seen[key]

    def _test(self, grader, q: Question) -> str:
        self.checks += 1
        right = grader.check(q, Answer(q.answer), SECONDS)
        if right.verdict not in PASSING:
            return f"its answer {q.answer} is judged {right.verdict}: {right.message}"
        self.proofs[(q.id, q.problem, q.variant)] = right.message
        if q.kind == "truth":
            self.checks += 1
            entry = ClaimEntry(q.id, q.claim)
            judged = grader.checker(q).check(entry, SECONDS)
            verdict = judged.verdict
            holds = verdict in PASSING
            if verdict not in (*PASSING, "incorrect") or holds != (q.answer == "true"):
                return f"the identity {q.claim} is judged {verdict}, the answer says {q.answer}"
            self.proofs[(q.id, q.problem, q.variant)] = (
                f"the checker judges the identity {'true' if holds else 'false'}: {judged.message}"
            )
        for name, wrong in q.slips:
            self.checks += 1
            result = grader.check(q, Answer(wrong), SECONDS)
            if result.verdict != "incorrect" or result.slip != name:
                return (f"the slip '{name}' ({wrong}) is judged {result.verdict}"
                        + (f" as '{result.slip}'" if result.slip else ""))  # fmt: skip
        return ""

    def details(self) -> list[str]:
        """One line per variant tested: the question, the variant's parameters, the outcome."""
        out = []
        for (qid, problem, variant), why in self._seen.items():
            outcome = why or self.proofs.get((qid, problem, variant), "passed")
            out.append(f"{qid} ({problem}, variant {variant}): {outcome}")
        return out

    def proof(self, q: Question) -> str:
        return self.proofs.get((q.id, q.problem, q.variant), "")

    def summary(self) -> str:
        return (f"self-test: {self.variants} variants, {self.checks} checks: every answer graded "
                "right and every slip wrong by name")  # fmt: skip
