"""Checking whole files within a time budget: a claims file (a quick check), or a student's
answers to an assignment (grading).

The code that runs is chosen by whoever runs derive, never by a student's file: a quick check
runs only the network files given on the command line (``networks``), and grading only those
the assignment names. A claims file's ``network:`` key merely says which of the given networks
its claims are about.

Each file has a budget (:class:`~derive.claims.assignment.Limits`): each claim or answer stops
at ``seconds_per_answer`` and the whole file at ``seconds_per_student``; once the file's budget
is spent, its remaining claims are not checked (each says so). The process that checks also
has a memory limit and a hard deadline: see :mod:`derive.claims.pool`.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from derive.claims.answers import Answers, read_answers
from derive.claims.assignment import Assignment, Limits, Question
from derive.claims.check import Checker, Context
from derive.claims.claimfile import DEFAULT_TOLERANCE, ClaimEntry, read_claims
from derive.claims.meaning import InvalidClaim
from derive.claims.verdict import PASSING, ClaimResult, FileResult
from derive.errors import DeriveError
from derive.safeio import shown

_LOADED: dict[tuple, tuple] = {}


def loaded(path: Path, settings: dict):
    """The network and its derivation, once per process for a class that shares a network
    file (the file's size and time are part of the key, so an edited file is read again)."""
    import derive

    stat = Path(path).stat()
    key = (str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size,
           tuple(sorted((k, str(v)) for k, v in settings.items())))  # fmt: skip
    if key not in _LOADED:
        if len(_LOADED) > 16:
            _LOADED.clear()
        net = derive.load(path, **settings)
        _LOADED[key] = (net, net.derive())
    return _LOADED[key]


class Budget:
    """The seconds a file may take, spent claim by claim."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.end = time.monotonic() + limits.seconds_per_student

    def next(self) -> float:
        """Seconds for the next claim (0 when the file's budget is spent)."""
        left = self.end - time.monotonic()
        return 0.0 if left < 0.05 else min(self.limits.seconds_per_answer, left)

    def spent(self, entry: ClaimEntry) -> ClaimResult:
        return ClaimResult(
            entry.id,
            entry.text,
            "invalid",
            f"not checked: this file may take {self.limits.seconds_per_student:g} s in all, "
            "and the claims before used them up",
        )


def check_entries(checker: Checker, entries, budget: Budget) -> list[ClaimResult]:
    out = []
    for entry in entries:
        seconds = budget.next()
        out.append(checker.check(entry, seconds) if seconds else budget.spent(entry))
    return out


# --- a quick check ------------------------------------------------------------------------
def check_file(
    path: Path,
    networks: tuple[Path, ...] = (),
    *,
    settings: dict | None = None,
    values: dict | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    limits: Limits | None = None,
    follow_symlinks: bool = True,
) -> FileResult:
    """Every claim of the claims file at ``path``; a DeriveError when the file itself cannot
    be read, or names a network that is not one of ``networks`` (those given on the command
    line: the only network files run). ``settings``, ``values`` and ``tolerance`` are the
    command line's too."""
    budget = Budget(limits or Limits())
    claims = read_claims(Path(path), follow_symlinks)
    network = _network_for(claims.network, claims.path, tuple(Path(p) for p in networks))
    net = derivation = None
    if network is not None:
        net, derivation = loaded(network, settings or {})
    context = Context(net, derivation, claims.symbols, claims.functions, claims.aliases,
                      dict(values or {}), claims.definitions, claims.notation)  # fmt: skip
    checker = Checker(context)
    entries = [e if e.problem else _with_tolerance(e, tolerance) for e in claims.claims]
    return FileResult(claims.path, claims.student, tuple(check_entries(checker, entries, budget)))


def _with_tolerance(entry: ClaimEntry, tolerance: float) -> ClaimEntry:
    return replace(entry, tolerance=tolerance)


def _network_for(named: str | None, claims_file: Path, networks: tuple[Path, ...]) -> Path | None:
    """Which trusted network the claims are about: the one given, or the given one the file
    names. A network the file names is never run because the file names it."""
    where = shown(claims_file)
    if named is None:
        if len(networks) > 1:
            raise DeriveError(f"{where}: several --network files given; the claims file says "
                              "none (network: NAME.py)")  # fmt: skip
        return networks[0] if networks else None
    if not networks:
        raise DeriveError(
            f"{where}: names the network {shown(named, 60)}, which derive does not run because a "
            "claims file names it (a network file is code): give it with --network if you "
            "trust it, or grade with --assignment"
        )
    for candidate in (claims_file.parent / named, Path(named)):
        for trusted in networks:
            if _same_file(candidate, trusted):
                return trusted
    names = ", ".join(shown(p) for p in networks)
    raise DeriveError(
        f"{where}: network {shown(named, 60)} is not one given with --network ({names})"
    )


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or a.samefile(b)
    except OSError:
        return False


# --- grading against an assignment --------------------------------------------------------
class Grader:
    """An assignment, prepared: its networks loaded and derived, every question resolved and
    its right answer computed (in the process that prepares it; a forked worker inherits it).
    A problem with the assignment is a DeriveError naming its file and line."""

    def __init__(self, assignment: Assignment):
        self.assignment = assignment
        self.checkers: dict[str, Checker] = {}
        self.expected: dict[str, str] = {}  # question id -> the right answer (LaTeX or number)
        self._variant_checkers: dict[str, Checker] = {}  # by the symbols and functions
        self._memo: dict[tuple, ClaimResult] = {}  # a variant's answers, checked before
        self._reader = None  # how a write-up is read (derive check --homework), when needed
        for q in assignment.questions:
            if not q.problem:
                self.checkers[q.id] = self._prepare(q)

    def context(self, q: Question) -> Context:
        """A question about a network reads names as the network's, one about the symbols
        (network: null) as the symbols': an assignment's symbol x never hides a network's x."""
        a = self.assignment
        net = derivation = None
        values, aliases, symbols = dict(q.values), dict(q.aliases), a.symbols
        built = _variant_network(q)
        if built is not None:  # a variant with a network of its own, built from its params
            net, derivation = built
            return Context(net, derivation, {}, a.functions, {}, {}, a.definitions, a.notation,
                           a.secret)  # fmt: skip
        if q.symbols is not None:  # a variant of the bank: its own symbols and functions
            return Context(None, None, q.symbols, q.functions or {}, {}, {}, {}, a.notation,
                           a.secret)  # fmt: skip
        if q.network is not None:
            spec = a.networks[q.network]
            net, derivation = loaded(spec.file, spec.settings)
            values = {**spec.values, **q.values}
            aliases = {**spec.aliases, **q.aliases}
            symbols = {}
        return Context(net, derivation, symbols, a.functions, aliases, values, a.definitions,
                       a.notation, a.secret)  # fmt: skip

    def _prepare(self, q: Question) -> Checker:
        where = f"{shown(self.assignment.path)}:{q.line}: question {q.id}"
        try:
            checker = Checker(self.context(q))
            self.expected[q.id] = checker.right_answer(q.ask, q.kind)
        except DeriveError as err:
            message = spaced(str(err))
            raise DeriveError(f"{where}: {message}") from None
        return checker

    def checker(self, q: Question) -> Checker:
        """The checker of a question: prepared with the assignment, or, for a variant, one per
        set of symbols and functions, made when first needed."""
        if q.id in self.checkers and q.symbols is None:
            return self.checkers[q.id]
        built = _variant_network(q) is not None
        key = repr(
            (
                sorted((q.symbols or {}).items()),
                sorted((q.functions or {}).items()),
                q.problem,
                sorted(q.params.items()) if built else None,
            )
        )
        if key not in self._variant_checkers:
            checker = Checker(self.context(q))
            if self.assignment.variants and built and q.ask:
                # a key's variant rebuilt by today's bank: it must be the network of the sheets
                if spaced(checker.right_answer(q.ask, "formula")) != spaced(q.answer):
                    raise DeriveError(
                        f"question {q.id}: the bank builds another network for "
                        f"{q.problem} {q.params} than the key was made with"
                    )
            self._variant_checkers[key] = checker
        return self._variant_checkers[key]

    def entry(self, q: Question, answer) -> ClaimEntry:
        return ClaimEntry(
            q.id,
            answer.text,
            tolerance=q.tolerance,
            problem=answer.problem if q.kind != "truth" or answer.truth is None else "",
            ask=q.ask,
            kind=q.kind,
            number=answer.number if q.kind == "number" else None,
            abs_tolerance=q.abs_tolerance,
            value=q.value,
        )

    def check(self, q: Question, answer, seconds: float) -> ClaimResult:
        """One answer to one question (as this student is asked it), the slip named. The
        checker is deterministic (its points are seeded by the answer's text), so the same
        answer to the same variant is checked once per process."""
        key = (q.id, q.kind, q.ask, q.answer, q.slips, q.claim, q.value, q.tolerance,
               q.abs_tolerance, repr(q.symbols), repr(q.functions), answer)  # fmt: skip
        if q.symbols is not None and key in self._memo:
            return replace(self._memo[key], id=q.id)
        result = self._check(q, answer, seconds)
        if q.symbols is not None and result.verdict in (*PASSING, "incorrect", "unparseable"):
            if len(self._memo) > 50_000:
                self._memo.clear()
            self._memo[key] = result
        return result

    def _check(self, q: Question, answer, seconds: float) -> ClaimResult:
        entry = self.entry(q, answer)
        if q.kind == "truth":
            return truth_result(entry, q, answer)
        written = spaced(answer.text)
        if self.assignment.variants and q.problem and written == spaced(q.answer):
            # the key's own answer, graded right by the self-test before the sheets were made
            return ClaimResult(q.id, answer.text, "correct", "the answer of the key, proved "
                               "right when the sheets were made")  # fmt: skip
        result = self.checker(q).check(entry, seconds)
        if result.verdict == "incorrect" and q.slips:  # the catalogue's name, in every variant
            named = [n for n, w in q.slips if spaced(w) == written]
            slip = named[0] if named else self.slip_of(q, entry, result)
            if slip and slip != result.slip:
                said = result.message.split(": probably")[0]
                result = replace(result, slip=slip, message=f"{said}: {slip}")
        return result

    def slip_of(self, q: Question, entry: ClaimEntry, result: ClaimResult) -> str | None:
        """The catalogued slip of a variant that the wrong answer makes, if one does."""
        for name, wrong in q.slips:
            if q.kind == "number":
                claimed, w = result.claimed_value, float(wrong)
                near = max(q.tolerance * abs(w), q.abs_tolerance, 1e-9)
                if claimed is not None and abs(w - claimed) <= near:
                    return name
                continue
            same = self.checker(q).check(replace(entry, ask=wrong, kind="formula"), 5.0)
            if same.verdict in PASSING:
                return name
        return None

    def homework(self, path: Path, student: str | None = None,
                 follow_symlinks: bool = False) -> FileResult:  # fmt: skip
        """A student's whole write-up, every chain about the assignment read and checked (see
        :mod:`derive.claims.homework`); the student is the file's name (or ``student``)."""
        from derive.claims.homework import check_homework, reader_for_assignment

        if self._reader is None:
            self._reader = reader_for_assignment(self.assignment)
        result = check_homework(Path(path), self._reader, follow_symlinks=follow_symlinks)
        ident = student or Path(path).stem
        if self.assignment.roster is not None and ident not in self.assignment.roster:
            raise DeriveError(f"student {shown(ident, 60)!r} is not on the roster")
        return replace(result, student=ident)

    def grade(self, path: Path, student: str | None = None,
              follow_symlinks: bool = False) -> FileResult:  # fmt: skip
        """The answers file at ``path``, graded question by question; ``student`` the id to
        use when the file gives none. A file that cannot be read is a DeriveError."""
        a = self.assignment
        if Path(path).suffix.lower() in WRITEUP_SUFFIXES:
            return self.homework(path, student, follow_symlinks)
        budget = Budget(a.limits)
        answers = read_answers(Path(path), follow_symlinks)
        ident = answers.student or student or Path(path).stem
        if a.roster is not None and ident not in a.roster:
            raise DeriveError(f"student {shown(ident, 60)!r} is not on the roster")
        results = []
        for q in a.questions:
            q = a.question_for(q, ident)
            answer = answers.answers.get(q.id)
            if answer is None or (not answer.text.strip() and not answer.problem):
                result = ClaimResult(q.id, "", "unanswered", "no answer given")
            else:
                seconds = budget.next()
                try:
                    result = self.check(q, answer, seconds) if seconds else (
                        budget.spent(self.entry(q, answer)))  # fmt: skip
                except Exception as err:  # noqa: BLE001 - one question never voids the others
                    message = spaced(str(err))[:300] or type(err).__name__
                    said = f"derive could not grade this answer: {message}"
                    result = ClaimResult(q.id, answer.text, "invalid", said)
            results.append(_scored(result, q, a.chain_credit))
        return FileResult(Path(path), ident, tuple(results), notes=_notes(answers, a))


WRITEUP_SUFFIXES = (".tex", ".md", ".txt")


def spaced(text: str) -> str:
    """Text with its runs of white space as one space: two answers written alike."""
    return " ".join(text.split())


def _variant_network(q: Question):
    """(network, derivation) of a bank variant that has a network of its own, else None."""
    if not q.problem:
        return None
    from derive.sheets.bank import lookup

    bank = lookup(q.problem, f"question {q.id}")
    return bank.build(q.params) if bank.build is not None else None


TRUE, FALSE = ("true", "yes", "t", "y"), ("false", "no", "f", "n")


def truth_result(entry: ClaimEntry, q: Question, answer) -> ClaimResult:
    """A prove-or-disprove question: the answer is true or false."""
    text = entry.text.strip().lower()
    said = answer.truth if answer.truth is not None else (
        True if text in TRUE else False if text in FALSE else None)  # fmt: skip
    if said is None:
        return ClaimResult(q.id, entry.text, "unparseable", "answer true or false")
    right = q.answer == "true"
    if said == right:
        return ClaimResult(q.id, entry.text, "correct", f"the identity is {q.answer}")
    slip = q.slips[0][0] if q.slips else None
    return ClaimResult(q.id, entry.text, "incorrect", f"the identity is {q.answer}, not {text}",
                       expected=q.answer, slip=slip)  # fmt: skip


def _scored(result: ClaimResult, q: Question, credit: float = 0.0) -> ClaimResult:
    return replace(result, points=points_of(result, q.points, credit), max_points=q.points,
                   question=q.ask or q.text)  # fmt: skip


def points_of(result: ClaimResult, points: float, credit: float) -> float:
    """A question's points for this result: all of them when right; ``credit`` of them for a
    chain whose final result is right although a step of it is wrong (the assignment's
    chain_credit); else none."""
    if result.verdict in PASSING:
        return points
    if result.verdict in ("incorrect", "invalid") and result.ends_right and (
            result.step is not None):  # fmt: skip
        return points * credit
    return 0.0


def _notes(answers: Answers, a: Assignment) -> tuple[str, ...]:
    asked = {q.id for q in a.questions}
    extra = [k for k in answers.answers if k not in asked]
    notes = list(answers.notes)
    if extra:
        shown_ids = ", ".join(shown(k, 40) for k in extra[:10]) + (
            ", ..." if len(extra) > 10 else ""
        )
        notes.append(f"answers to questions the assignment does not ask, ignored: {shown_ids}")
    return tuple(notes)


def prepare(assignment: Assignment) -> Grader:
    return Grader(assignment)


__all__ = ["Budget", "Grader", "InvalidClaim", "check_file", "loaded", "prepare"]
