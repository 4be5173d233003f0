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

SECONDS = 60.0  # per check: the instructor's own answers (a slow proof once took over 20 s)


def content_key(q: Question) -> tuple:
    """What grading a variant depends on: two draws that differ only in parameters the
    variant does not use are one variant to test."""
    return (q.id, q.problem, q.kind, q.ask, q.answer, q.slips, q.claim, q.tolerance,
            q.abs_tolerance, repr(sorted((q.symbols or {}).items())),
            repr(sorted((q.functions or {}).items())))  # fmt: skip


@dataclass
class SelfTest:
    """What the self-test did: the variants tested and the checks run."""

    variants: int = 0
    checks: int = 0
    _seen: dict[tuple, str] = field(default_factory=dict)  # content_key -> "" or why
    proofs: dict[tuple, str] = field(default_factory=dict)  # content_key -> the verdict

    def failure(self, grader, q: Question) -> str:
        """ "" when the variant passes, else why not (cached per variant)."""
        key = content_key(q)
        if key not in self._seen:
            self.variants += 1
            self._seen[key] = self._test(grader, q)
        return self._seen[key]

    def _test(self, grader, q: Question) -> str:
        self.checks += 1
        right = grader.check(q, Answer(q.answer), SECONDS)
        if right.verdict not in PASSING:
            return f"its answer {q.answer} is judged {right.verdict}: {right.message}"
        self.proofs[content_key(q)] = right.message
        if q.kind == "truth":
            self.checks += 1
            entry = ClaimEntry(q.id, q.claim)
            judged = grader.checker(q).check(entry, SECONDS)
            verdict = judged.verdict
            holds = verdict in PASSING
            if verdict not in (*PASSING, "incorrect") or holds != (q.answer == "true"):
                return f"the identity {q.claim} is judged {verdict}, the answer says {q.answer}"
            self.proofs[content_key(q)] = (
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
        for key, why in self._seen.items():
            qid, problem = key[:2]
            outcome = why or self.proofs.get(key, "passed")
            out.append(f"{qid} ({problem}): {outcome}")
        return out

    def proof(self, q: Question) -> str:
        return self.proofs.get(content_key(q), "")

    def summary(self) -> str:
        return (f"self-test: {self.variants} variants, {self.checks} checks: every answer graded "
                "right and every slip wrong by name")  # fmt: skip
