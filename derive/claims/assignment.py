"""The instructor's assignment file: what is asked, what each answer is worth, and the only
network files derive runs while grading.

An assignment is trusted (it is the instructor's, as are the network files it names); a
student's file is not, and may give nothing but its ``student`` id and its ``answers`` (see
:mod:`derive.claims.answers`). So everything that decides a grade is here: the networks and
their settings, the numbers of number questions, the symbols, what a function name means, the
tolerances, the points, the roster and the limits of a check. ::

    assignment: backprop-hw3          # an id: letters, digits, - and _
    title: Backpropagation, homework 3
    roster: roster.csv                # a CSV with an id column, or a list of ids (optional)
    limits: {seconds_per_student: 60, seconds_per_answer: 10, memory_mb: 2048}
    tolerance: 0.05                   # relative, for number questions (the default)
    functions: {sgn: step}            # function names students may use, and their meaning
    symbols: {x: scalar, u: {vector: n}, W: {matrix: [m, n]}}
    networks:                         # files relative to this file
      mlp: {file: ../examples/mlp.py, set: {hidden: 3}}
      hand: {file: ../examples/hand321.py, aliases: {w_1: 'W1[1,1]'}}
    questions:
      - {id: sigmoid, ask: '\\frac{d\\sigma(x)}{dx}', points: 1}
      - {id: dW2, network: mlp, ask: '\\frac{\\partial J}{\\partial W_2}', points: 2}
      - {id: w1, network: hand, kind: number, ask: '\\frac{\\partial E}{\\partial w_1}',
         tolerance: 0.01}

A question's ``ask`` is the left-hand side of what the student writes: a derivative of the
network's loss, of a scalar expression in the symbols, or (``kind: number``) a quantity whose
value the student computes. A question uses the network named by its ``network``; without one,
the assignment's only network, or the symbols when the assignment has no network. ``values`` (of
a network, or of one question) are the numbers a number question is asked at, over the numbers
the network file ships. Per-student variants (a later extension) replace a question's values
for one student; :meth:`Assignment.question_for` is where that happens.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from derive.claims.claimfile import (
    MEANINGS,
    NAME,
    Symbol,
    aliases_of,
    definitions_of,
    functions_of,
    notation_of,
    symbols_of,
)
from derive.errors import DeriveError
from derive.safeio import YamlMap, read_text, read_yaml, shown
from derive.values import to_array, to_arrays

MAX_ASSIGNMENT_BYTES = 2_000_000
MAX_QUESTIONS = 500
MAX_ROSTER = 20_000
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
STUDENT_ID = re.compile(r"[^\x00-\x1f\x7f]{1,100}")
KINDS = ("formula", "number")
RESERVED = ("student", "file", "points", "max_points", "notes", "error")


@dataclass(frozen=True)
class Limits:
    """What one student's file may cost: seconds in all, seconds for one answer, and the memory
    of the process that checks it."""

    seconds_per_student: float = 60.0
    seconds_per_answer: float = 10.0
    memory_mb: int = 2048

    RANGES = {"seconds_per_student": (1, 3600), "seconds_per_answer": (0.1, 600),
              "memory_mb": (256, 65536)}  # fmt: skip


@dataclass(frozen=True)
class Reading:
    """Another way to read a write-up's names (derive check --homework): a network's names
    with other function meanings (sgn as the step), or other symbols (x a vector)."""

    name: str
    network: str | None = None
    symbols: dict = field(default_factory=dict)
    functions: dict = field(default_factory=dict)


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    file: Path
    settings: dict[str, object] = field(default_factory=dict)
    values: dict = field(default_factory=dict)  # name -> array
    aliases: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Question:
    id: str
    ask: str  # LaTeX: the left-hand side
    kind: str = "formula"  # or "number"
    points: float = 1.0
    network: str | None = None  # a NetworkSpec's name; None: the symbols
    tolerance: float = 0.05  # number questions: relative
    abs_tolerance: float = 0.0  # number questions: absolute (for answers near 0)
    values: dict = field(default_factory=dict)  # over the network's
    aliases: dict[str, str] = field(default_factory=dict)  # over the network's
    text: str = ""  # the problem as the sheet states it (plain text with $math$)
    line: int = 0  # in the assignment file
    # a problem of the bank (derive.sheets): drawn for each student from these ranges
    problem: str = ""  # the problem type; "" for a question written out in full
    ranges: dict = field(default_factory=dict)  # parameter -> the instructor's bank.Range
    distinct: bool = False  # no two students of the roster are given the same variant
    # one student's variant (question_for): its parameters and what grading needs
    variant: str = ""  # a short id of the variant, printed on the sheet
    params: dict = field(default_factory=dict)
    answer: str = ""  # the right answer, in the language a student writes
    value: float | None = None  # a number question: the right number
    slips: tuple[tuple[str, str], ...] = ()  # (name, the answer the slip gives)
    symbols: dict | None = None  # the variant's symbols (None: the assignment's)
    functions: dict | None = None
    claim: str = ""  # a truth question: the identity the checker judges
    solution: tuple[str, ...] = ()  # the worked solution (LaTeX paragraphs), for the sheets


@dataclass(frozen=True)
class Assignment:
    path: Path
    id: str
    title: str
    questions: tuple[Question, ...]
    networks: dict[str, NetworkSpec] = field(default_factory=dict)
    symbols: dict[str, Symbol] = field(default_factory=dict)
    functions: dict[str, str] = field(default_factory=dict)
    roster: tuple[str, ...] | None = None
    limits: Limits = Limits()
    sources: tuple[Path, ...] = ()  # every file it is made of: itself, networks, values, roster
    definitions: dict[str, str] = field(default_factory=dict)
    notation: str = "residual"
    secret: bytes = b""  # seeds the random points of every answer (with the answer's text)
    course: str = ""  # with the assignment id and the secret, seeds each student's variants
    variants: dict = field(default_factory=dict)  # a key's: student -> question id -> Question
    # derive check --homework: more readings of a write-up's names (symbols, functions), tried
    # after the networks and the symbols (a course writes x for a number, then for a vector)
    readings: tuple[Reading, ...] = ()
    chain_credit: float = 0.0  # share of the points: final result right, a step of it wrong

    def question(self, ident: str) -> Question:
        for q in self.questions:
            if q.id == ident:
                return q
        raise KeyError(ident)

    def question_for(self, question: Question, student: str | None) -> Question:
        """The question as ``student`` is asked it: a problem of the bank drawn for that
        student (from a key: the variant the key holds); else the question itself."""
        if self.variants:
            try:
                return self.variants[student][question.id]
            except KeyError:
                raise DeriveError(f"student {shown(student, 60)!r} has no variant of question "
                                  f"{question.id} in the key") from None  # fmt: skip
        if question.problem:
            from derive.sheets.variants import distinct_variants, variant_question

            if question.distinct:
                if self.roster is None:
                    raise DeriveError(
                        f"{shown(self.path)}: question {question.id} gives each student of the "
                        "roster a variant of their own, so it needs the roster: grade against "
                        "the key written with the sheets (derive check --assignment KEY.json)"
                    )
                return distinct_variants(self, question, self.roster)[student or ""]
            return variant_question(self, question, student or "")
        return question

    @property
    def max_points(self) -> float:
        return sum(q.points for q in self.questions)

    def network_files(self) -> list[Path]:
        return [spec.file for spec in self.networks.values()]


KEYS = ("assignment", "title", "course", "secret", "roster", "limits", "notation", "tolerance",
        "readings", "chain_credit",
        "abs_tolerance", "functions", "symbols", "definitions", "networks",
        "questions")  # fmt: skip
NETWORK_KEYS = ("file", "set", "values", "aliases")
QUESTION_KEYS = ("id", "ask", "kind", "points", "network", "tolerance", "abs_tolerance",
                 "values", "aliases", "text", "problem", "params", "distinct")  # fmt: skip


def read_assignment(path: Path) -> Assignment:
    """The assignment at ``path``, checked for its form (the networks are loaded and every
    question resolved by :func:`derive.claims.grade.prepare`); a DeriveError names the line."""
    path = Path(path)
    data = read_yaml(path, MAX_ASSIGNMENT_BYTES, what="assignment file")
    where = shown(path)
    if not isinstance(data, dict) or "questions" not in data:
        raise DeriveError(f"{where}: expected a mapping with 'assignment' and 'questions'")
    at = _At(where, data)
    at.unknown(data, KEYS)
    ident = data.get("assignment")
    if not isinstance(ident, str) or not ID.fullmatch(ident):
        raise DeriveError(
            f"{at('assignment')}: an assignment id (letters, digits, - and _) is needed, "
            f"like 'assignment: hw3'"
        )
    title = data.get("title", ident)
    if not isinstance(title, str):
        raise DeriveError(f"{at('title')}: expected text")
    tolerance = _tolerance(data.get("tolerance", 0.05), at("tolerance"))
    abs_tolerance = _abs_tolerance(data.get("abs_tolerance", 0.0), at("abs_tolerance"))
    functions = functions_of(data.get("functions"), at("functions"))
    symbols = symbols_of(data.get("symbols"), at("symbols"))
    networks = _networks(data.get("networks"), at, path.parent)
    questions = _questions(data.get("questions"), at, networks, tolerance, abs_tolerance,
                           path.parent)  # fmt: skip
    return Assignment(
        sources=_sources(path, data, networks),
        path=path,
        id=ident,
        title=title,
        questions=questions,
        networks=networks,
        symbols=symbols,
        functions=functions,
        roster=_roster(data.get("roster"), at("roster"), path.parent),
        limits=_limits(data.get("limits"), at("limits")),
        definitions=definitions_of(data.get("definitions"), at("definitions")),
        notation=notation_of(data.get("notation", "residual"), at("notation")),
        secret=_secret(data.get("secret"), at("secret"), path),
        course=_course(data.get("course", ""), at("course")),
        readings=_readings(data.get("readings"), at("readings"), networks),
        chain_credit=_share(data.get("chain_credit", 0.0), at("chain_credit")),
    )


def _readings(value, where: str, networks: dict) -> tuple[Reading, ...]:
    """readings: [{name: ..., network: ..., symbols: {...}, functions: {...}}, ...]"""
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > 10:
        raise DeriveError(f"{where}: a list (at most 10) of readings (name, network or symbols, "
                          "functions)")  # fmt: skip
    out = []
    for k, item in enumerate(value, 1):
        at = f"{where}: reading {k}"
        if not isinstance(item, dict) or set(item) - {"name", "network", "symbols", "functions"}:
            raise DeriveError(f"{at}: expected name, network or symbols, and functions")
        network = item.get("network")
        if network is not None and network not in networks:
            raise DeriveError(f"{at}: network {shown(network, 40)} is not one of the "
                              "assignment's networks")  # fmt: skip
        if network is not None and item.get("symbols"):
            raise DeriveError(f"{at}: a reading is of a network or of symbols, not both")
        name = item.get("name", f"reading {k}")
        if not isinstance(name, str) or len(name) > 80:
            raise DeriveError(f"{at}: name: text, at most 80 characters")
        out.append(Reading(name, network, symbols_of(item.get("symbols"), f"{at}: symbols"),
                           functions_of(item.get("functions"), f"{at}: functions")))  # fmt: skip
    return tuple(out)


def _share(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise DeriveError(f"{where}: a share of the points, from 0 to 1")
    return float(value)


def _sources(path: Path, data: dict, networks: dict) -> tuple[Path, ...]:
    """Every file the assignment is made of (for the fingerprint of a grading)."""
    folder = path.parent
    found = [path, *(spec.file for spec in networks.values())]
    items = [*(v for v in (data.get("networks") or {}).values() if isinstance(v, dict)),
             *(q for q in data.get("questions") or () if isinstance(q, dict))]  # fmt: skip
    found += [folder / i["values"] for i in items if isinstance(i.get("values"), str)]
    if isinstance(data.get("roster"), str):
        found.append(folder / data["roster"])
    return tuple(found)


def _course(value, where: str) -> str:
    if not isinstance(value, str) or len(value) > 100:
        raise DeriveError(f"{where}: a course is text (at most 100 characters)")
    return value


def _secret(value, where: str, path: Path) -> bytes:
    """What seeds the random points: the assignment's ``secret``, else its file's own bytes
    (which students do not see); either way the same points for the same answer, run after run."""
    import hashlib

    if value is None:
        return hashlib.sha256(path.read_bytes()).digest()
    if not isinstance(value, str) or len(value) < 8:
        raise DeriveError(f"{where}: a secret is text of 8 characters or more")
    return hashlib.sha256(value.encode()).digest()


class _At:
    """``file:line`` of a key of a mapping, for messages."""

    def __init__(self, where: str, data):
        self.where, self.data = where, data

    def __call__(self, key: str, data=None) -> str:
        data = self.data if data is None else data
        line = data.line_of(key) if isinstance(data, YamlMap) else 0
        return f"{self.where}:{line}: {key}" if line else f"{self.where}: {key}"

    def line(self, data) -> str:
        line = data.line if isinstance(data, YamlMap) else 0
        return f"{self.where}:{line}" if line else self.where

    def unknown(self, data: dict, known, what: str = "") -> None:
        for key in data:
            if key not in known:
                raise DeriveError(
                    f"{self(shown(key, 40), data)}: unknown key{what} (known: {', '.join(known)})"
                )


def _number(value, where: str, low: float, high: float, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise DeriveError(f"{where}: {what} must be a number, got {shown(repr(value), 40)}")
    if not low <= value <= high:
        raise DeriveError(f"{where}: {value} is out of range ({low:g} to {high:g})")
    return value


def _tolerance(value, where: str) -> float:
    t = _number(value, where, 0, 1, "a relative tolerance")
    if not 0 < t < 1:
        raise DeriveError(f"{where}: a relative tolerance is in (0, 1), got {t}")
    return float(t)


def _abs_tolerance(value, where: str) -> float:
    return float(_number(value, where, 0, 1e12, "an absolute tolerance"))


def _limits(value, where: str) -> Limits:
    if value is None:
        return Limits()
    if not isinstance(value, dict):
        raise DeriveError(f"{where}: expected a mapping ({', '.join(Limits.RANGES)})")
    given = {}
    for key, v in value.items():
        if key not in Limits.RANGES:
            raise DeriveError(f"{where}: unknown limit {shown(key, 40)!r} "
                              f"(known: {', '.join(Limits.RANGES)})")  # fmt: skip
        low, high = Limits.RANGES[key]
        given[key] = _number(v, f"{where}: {key}", low, high, key)
    limits = replace(Limits(), **given)
    if limits.seconds_per_answer > limits.seconds_per_student:
        raise DeriveError(f"{where}: seconds_per_answer is more than seconds_per_student")
    return limits


def _networks(value, at: _At, folder: Path) -> dict[str, NetworkSpec]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DeriveError(f"{at('networks')}: expected a mapping: name: {{file: net.py}}")
    out = {}
    for name, spec in value.items():
        where = at(f"networks: {shown(name, 40)}", value)
        if not isinstance(name, str) or not NAME.fullmatch(name):
            raise DeriveError(f"{where}: a network's name is letters, digits and _")
        if isinstance(spec, str):
            spec = {"file": spec}
        if not isinstance(spec, dict) or "file" not in spec:
            raise DeriveError(f"{where}: expected {{file: net.py}} (and set, values, aliases)")
        at.unknown(spec, NETWORK_KEYS, f" of network {name}")
        file = spec["file"]
        if not isinstance(file, str) or not file.endswith(".py"):
            raise DeriveError(f"{where}: file: a network file is Python source, *.py")
        path = (folder / file) if not Path(file).is_absolute() else Path(file)
        if not path.is_file():
            raise DeriveError(f"{where}: file {file}: no such file (next to the assignment)")
        out[name] = NetworkSpec(
            name=name,
            file=path,
            settings=_settings(spec.get("set"), f"{where}: set"),
            values=_values(spec.get("values"), f"{where}: values", folder),
            aliases=aliases_of(spec.get("aliases"), f"{where}: aliases"),
        )
    return out


def _settings(value, where: str) -> dict[str, object]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DeriveError(f"{where}: expected a mapping (name: value)")
    for key, v in value.items():
        if not isinstance(key, str) or not NAME.fullmatch(key):
            raise DeriveError(f"{where}: {shown(key, 40)!r} is not a name")
        if not isinstance(v, str | int | float | bool):
            raise DeriveError(f"{where}: {key} must be a number, text or true/false")
    return dict(value)


def _values(value, where: str, folder: Path) -> dict:
    """A mapping, or the name of a YAML values file beside the assignment."""
    if value is None:
        return {}
    if isinstance(value, str):
        from derive.values import read_values

        return read_values(folder / value)
    return to_arrays(value, where)


def _questions(value, at: _At, networks: dict, tolerance: float, abs_tolerance: float,
               folder: Path) -> tuple[Question, ...]:  # fmt: skip
    if not isinstance(value, list) or not value:
        raise DeriveError(f"{at('questions')}: a list of questions (id, ask, points) is needed")
    if len(value) > MAX_QUESTIONS:
        raise DeriveError(f"{at('questions')}: at most {MAX_QUESTIONS} questions")
    out: list[Question] = []
    seen: dict[str, str] = {}
    for k, item in enumerate(value, 1):
        where = f"{at.line(item)}: question {k}"
        if not isinstance(item, dict):
            raise DeriveError(f"{where}: expected a mapping (id, ask, points)")
        at.unknown(item, QUESTION_KEYS, " of a question")
        ident = item.get("id")
        if not isinstance(ident, str) or not ID.fullmatch(ident) or ident in RESERVED:
            raise DeriveError(
                f"{where}: id {shown(ident, 40)!r}: an id is letters, digits, '.', '-', '_' "
                f"(at most 40), and not one of {', '.join(RESERVED)}"
            )
        if ident.casefold() in seen:
            raise DeriveError(f"{where}: id {ident} is taken (question {seen[ident.casefold()]})")
        seen[ident.casefold()] = str(k)
        where = f"{at.line(item)}: question {ident}"
        if "problem" in item:
            out.append(_bank_question(item, ident, where, tolerance, abs_tolerance, networks))
            continue
        if "params" in item:
            raise DeriveError(f"{where}: params: only a problem of the bank (problem: TYPE) "
                              "has them")  # fmt: skip
        ask = item.get("ask")
        if not isinstance(ask, str) or not ask.strip():
            raise DeriveError(f"{where}: ask: what is asked, like '\\frac{{\\partial J}}{{...}}'")
        kind = item.get("kind", "formula")
        if kind not in KINDS:
            raise DeriveError(f"{where}: kind {shown(kind, 20)!r} is not one of {', '.join(KINDS)}")
        network = item.get("network")
        if "network" not in item and len(networks) == 1:
            network = next(iter(networks))
        if network is not None and network not in networks:
            known = ", ".join(networks) or "none"
            raise DeriveError(f"{where}: network {shown(network, 40)!r} is not one of the "
                              f"assignment's networks ({known})")  # fmt: skip
        text = item.get("text", "")
        if not isinstance(text, str):
            raise DeriveError(f"{where}: text: expected text")
        out.append(
            Question(
                id=ident,
                ask=ask,
                kind=kind,
                points=float(_number(item.get("points", 1), f"{where}: points", 0, 1e6, "points")),
                network=network,
                tolerance=_tolerance(item.get("tolerance", tolerance), f"{where}: tolerance"),
                abs_tolerance=_abs_tolerance(
                    item.get("abs_tolerance", abs_tolerance), f"{where}: abs_tolerance"
                ),
                values=_values(item.get("values"), f"{where}: values", folder),
                aliases=aliases_of(item.get("aliases"), f"{where}: aliases"),
                text=text,
                line=item.line if isinstance(item, YamlMap) else 0,
            )
        )
    return tuple(out)


def _distinct(value, where: str) -> bool:
    if not isinstance(value, bool):
        raise DeriveError(f"{where}: expected true or false")
    return value


def _bank_question(item, ident: str, where: str, tolerance: float, abs_tolerance: float,
                   networks: dict) -> Question:  # fmt: skip
    """A question drawn from the problem bank for each student: ``problem: TYPE`` and
    ``params`` narrowing the type's ranges (a value, a list of values, or [low, high])."""
    from derive.sheets.bank import lookup

    for key in ("ask", "kind", "values", "aliases"):
        if key in item:
            raise DeriveError(f"{where}: {key}: a problem of the bank makes its own (drop it)")
    name = item["problem"]
    if not isinstance(name, str):
        raise DeriveError(f"{where}: problem: expected the name of a problem type")
    bank = lookup(name, f"{where}: problem")
    network = item.get("network")
    if "network" not in item and bank.network and len(networks) == 1:
        network = next(iter(networks))
    if bank.network and network not in networks:
        known = ", ".join(networks) or "none"
        raise DeriveError(f"{where}: network: {name} is about a network of the assignment "
                          f"({known})")  # fmt: skip
    if not bank.network and network is not None:
        raise DeriveError(f"{where}: network: {name} is not about a network (drop it)")
    given = item.get("params") or {}
    if not isinstance(given, dict):
        raise DeriveError(f"{where}: params: expected a mapping, parameter: values")
    ranges = {}
    for key, value in given.items():
        if key not in bank.params:
            known = ", ".join(f"{k} ({r.describe()})" for k, r in bank.params.items())
            raise DeriveError(f"{where}: params: {shown(key, 40)}: {name} has no such parameter "
                              f"(it has {known})")  # fmt: skip
        ranges[key] = bank.params[key].restrict(value, f"{where}: params: {key}")
    text = item.get("text", "")
    if not isinstance(text, str):
        raise DeriveError(f"{where}: text: expected text")
    return Question(
        id=ident,
        ask="",
        kind="formula",
        points=float(_number(item.get("points", 1), f"{where}: points", 0, 1e6, "points")),
        tolerance=_tolerance(item.get("tolerance", tolerance), f"{where}: tolerance"),
        abs_tolerance=_abs_tolerance(
            item.get("abs_tolerance", abs_tolerance), f"{where}: abs_tolerance"
        ),  # fmt: skip
        text=text,
        line=item.line if isinstance(item, YamlMap) else 0,
        problem=name,
        ranges=ranges,
        network=network,
        distinct=_distinct(item.get("distinct", False), f"{where}: distinct"),
    )


# --- the roster ---------------------------------------------------------------------------
def _roster(value, where: str, folder: Path) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return read_roster(folder / value)
    if not isinstance(value, list):
        raise DeriveError(f"{where}: a list of student ids, or a CSV file with an id column")
    items = [(str(v) if isinstance(v, int) and not isinstance(v, bool) else v, where)
             for v in value]  # fmt: skip
    return _ids([(v.strip() if isinstance(v, str) else v, at) for v, at in items], where)


def read_roster(path: Path) -> tuple[str, ...]:
    """The ids of a roster CSV: a header, and a column ``id`` (others are kept for the sheets)."""
    text = read_text(path, 10_000_000, what="roster file").lstrip("\ufeff")
    where = shown(path)
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise DeriveError(f"{where}: empty; a roster has a header line with an id column")
    header = [h.strip().lower() for h in rows[0]]
    if "id" not in header:
        raise DeriveError(f"{where}:1: no 'id' column in the header ({', '.join(header)})")
    column = header.index("id")
    ids = []
    for k, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        cell = row[column].strip() if column < len(row) else ""
        ids.append((cell, f"{where}:{k}"))
    return _ids(ids, where)


def _ids(items: list[tuple[object, str]], where: str) -> tuple[str, ...]:
    if len(items) > MAX_ROSTER:
        raise DeriveError(f"{where}: more than {MAX_ROSTER:,} students")
    seen: dict[str, str] = {}
    for ident, at in items:
        if not isinstance(ident, str) or not ident.strip():
            raise DeriveError(f"{at}: an empty student id")
        if not STUDENT_ID.fullmatch(ident):
            raise DeriveError(f"{at}: student id {shown(ident, 40)!r} has control characters")
        if ident in seen:
            raise DeriveError(f"{at}: student {shown(ident, 40)} is on the roster twice")
        seen[ident] = at
    return tuple(i for i, _ in items)


__all__ = ["Assignment", "Limits", "MEANINGS", "NetworkSpec", "Question", "read_assignment",
           "read_roster", "to_array"]  # fmt: skip
