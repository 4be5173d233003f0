"""Grading against an assignment (derive/claims/assignment.py, answers.py, grade.py): the
instructor's file read and checked line by line, a student's answers graded question by
question with the points, and `derive check --assignment` for one student and a class.

The answers of examples/answers/ are written by hand with their verdicts known: alice is right
throughout; bob makes one named slip per question (sigma(1 + sigma), 1 - tanh, a missing 1/m,
a missing activation derivative, the sign of seed 002's dE/dw1); carol leaves questions out,
writes an unparseable formula and a missing transpose, and sets a tolerance of her own.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES

from derive.claims.answers import read_answers
from derive.claims.assignment import read_assignment, read_roster
from derive.claims.classrun import run_class
from derive.claims.grade import prepare
from derive.errors import DeriveError

ASSIGNMENT = EXAMPLES / "homework.yaml"
ANSWERS = EXAMPLES / "answers"


@pytest.fixture(scope="module")
def grader():
    return prepare(read_assignment(ASSIGNMENT))


def verdicts(result) -> dict[str, tuple[str, float, str | None]]:
    return {c.id: (c.verdict, c.points, c.slip) for c in result.claims}


# --- the example class, known by construction --------------------------------------------
def test_alice_is_right_throughout(grader):
    result = grader.grade(ANSWERS / "alice.yaml")
    assert result.student == "alice" and result.notes == ()
    assert all(c.verdict == "correct" for c in result.claims), verdicts(result)
    assert (result.points, result.max_points) == (9, 9)


def test_bob_makes_one_named_slip_per_question(grader):
    got = verdicts(grader.grade(ANSWERS / "bob.yaml"))
    assert got == {
        "sigmoid": ("incorrect", 0, None),
        "tanh": ("incorrect", 0, None),
        "dW2": ("incorrect", 0, "a missing 1/m"),
        "ds1": ("incorrect", 0, "a missing derivative factor of an activation"),
        "db1": ("correct", 1, None),  # sgn is the step here (the assignment's functions)
        "E": ("correct", 1, None),
        "w1": ("incorrect", 0, "a sign error"),  # seed 002's boxed +0.0043
    }


def test_carol_leaves_out_questions_and_her_tolerance_is_refused(grader):
    result = grader.grade(ANSWERS / "carol.yaml")
    got = verdicts(result)
    assert got["sigmoid"] == ("correct", 1, None)  # plain text
    assert got["tanh"] == got["db1"] == got["w1"] == ("unanswered", 0, None)
    assert got["dW2"] == ("incorrect", 0, "a missing transpose")
    assert got["ds1"][0] == "unparseable"
    assert got["E"] == ("incorrect", 0, None)  # 2 is not 1.7336 at the assignment's 1%
    assert any("tolerance: refused and ignored" in n for n in result.notes)
    assert result.points == 1


def test_the_right_answers_are_computed_when_the_assignment_is_prepared(grader):
    assert grader.expected["E"] == "1.73363140015"
    assert float(grader.expected["w1"]) == pytest.approx(-0.00448818, abs=1e-8)
    assert r"\frac{1}{m}" in grader.expected["dW2"]


# --- what an answer may be ----------------------------------------------------------------
def answers(tmp_path: Path, given: dict, student: str = "dan", **extra) -> Path:
    path = tmp_path / f"{student}.yaml"
    path.write_text(yaml.safe_dump({"student": student, **extra, "answers": given}))
    return path


RIGHT_DW2 = r"\frac{1}{m}\sum_{i=1}^{m} (\mathbf{p}^i - \mathbf{y}^i)(\mathbf{h}^i)^T"


@pytest.mark.parametrize(
    "answer, verdict",
    [
        (RIGHT_DW2, "correct"),
        (r"\frac{\partial J}{\partial W_2} = " + RIGHT_DW2, "correct"),  # the whole equation
        (r"\frac{\partial J}{\partial W_2}", "invalid"),  # the question restated
        (r"\frac{\partial J}{\partial W_2} = \frac{\partial J}{\partial W_2}", "invalid"),
        (r"\sum_{i=1}^{m} \frac{\partial J}{\partial \mathbf{s}_2^i} (\mathbf{h}^i)^T", "correct"),
        ("", "unanswered"),
        (None, "unanswered"),
        ([1, 2], "invalid"),
        ({"a": 1}, "invalid"),
        (True, "invalid"),
        (0, "incorrect"),  # 0 written is the zero matrix, and dJ/dW2 is not zero
        ("0 J", "invalid"),  # the shapes differ: a number is not a 3 x 3 matrix
    ],
)
def test_a_formula_answer(grader, tmp_path, answer, verdict):
    result = grader.grade(answers(tmp_path, {"dW2": answer}))
    claim = next(c for c in result.claims if c.id == "dW2")
    assert claim.verdict == verdict, claim.message
    assert claim.points == (2 if verdict == "correct" else 0)


@pytest.mark.parametrize(
    "answer, verdict",
    [
        (-0.004488, "correct"),
        ("-0.004488", "correct"),
        (r"-\frac{4488}{1000000}", "correct"),
        (r"\frac{\partial E}{\partial w_1} = -0.004488", "correct"),
        (-0.0045, "correct"),  # within the assignment's 1%
        (-0.0046, "incorrect"),
        (0.004488, "incorrect"),  # a sign error
        (float("inf"), "invalid"),
        (".inf", "unparseable"),  # the text, not YAML's infinity
        (float("nan"), "invalid"),
        ("x + 1", "invalid"),
        (10**400, "invalid"),
    ],
)
def test_a_number_answer(grader, tmp_path, answer, verdict):
    result = grader.grade(answers(tmp_path, {"w1": answer}))
    claim = next(c for c in result.claims if c.id == "w1")
    assert claim.verdict == verdict, claim.message


def test_an_answer_to_a_question_not_asked_earns_nothing(grader, tmp_path):
    result = grader.grade(answers(tmp_path, {"g1": "1 = 1", "sigmoid": "x"}))
    assert result.points == 0 and [c.id for c in result.claims][:2] == ["sigmoid", "tanh"]
    assert "g1" not in {c.id for c in result.claims}
    assert any("does not ask, ignored: g1" in n for n in result.notes)


@pytest.mark.parametrize(
    "key, value",
    [
        ("network", "evil.py"),
        ("set", {"hidden": 1000}),
        ("values", {"t": [[1e300]]}),
        ("tolerance", 0.99),
        ("symbols", {"x": {"matrix": [5, 5]}}),
        ("functions", {"sigma": "relu"}),
        ("claims", [{"id": "q", "claim": "1 = 1"}]),
    ],
)
def test_keys_that_would_change_the_question_are_refused(grader, tmp_path, key, value):
    plain = grader.grade(answers(tmp_path, {"sigmoid": r"\sigma(x)(1-\sigma(x))", "E": 0.1}))
    given = grader.grade(answers(tmp_path, {"sigmoid": r"\sigma(x)(1-\sigma(x))", "E": 0.1},
                                 **{key: value}))  # fmt: skip
    assert verdicts(given) == verdicts(plain)  # graded as the assignment says
    assert verdicts(given)["E"][0] == "incorrect"
    assert any(f": {key}: refused and ignored" in n for n in given.notes), given.notes


def test_the_student_id(grader, tmp_path):
    path = tmp_path / "anon.yaml"
    path.write_text("answers: {E: 1.7336}\n")
    assert grader.grade(path).student == "anon"  # the file's stem when it gives none
    assert grader.grade(path, student="s123").student == "s123"  # its folder's, in a class


# --- the assignment file ------------------------------------------------------------------
def write_assignment(tmp_path: Path, text: str) -> Path:
    shutil.copy(EXAMPLES / "mlp.py", tmp_path / "mlp.py")
    path = tmp_path / "hw.yaml"
    path.write_text(text)
    return path


GOOD = """assignment: hw
networks:
  mlp: {file: mlp.py}
questions:
  - {id: q1, ask: '\\frac{\\partial J}{\\partial W_2}'}
"""


def test_a_minimal_assignment(tmp_path):
    a = read_assignment(write_assignment(tmp_path, GOOD))
    q = a.questions[0]
    assert (a.id, q.network, q.points, q.kind, q.tolerance) == ("hw", "mlp", 1.0, "formula", 0.05)
    assert a.limits.seconds_per_student == 60 and a.roster is None
    assert tmp_path / "mlp.py" in a.sources


@pytest.mark.parametrize(
    "text, message",
    [
        (GOOD + "colour: red\n", "hw.yaml:6: colour: unknown key"),
        (
            GOOD.replace("assignment: hw", "assignment: 'h w'"),
            "hw.yaml:1: assignment: an assignment id",
        ),
        (GOOD.replace("mlp.py}", "nowhere.py}"), "no such file"),
        (GOOD.replace("mlp.py}", "mlp.txt}"), "a network file is Python source, *.py"),
        (
            GOOD.replace("{id: q1,", "{id: q1, points: -1,"),
            "question q1: points: -1 is out of range",
        ),
        (GOOD.replace("{id: q1,", "{id: q1, kind: essay,"), "kind 'essay' is not one of"),
        (GOOD.replace("{id: q1,", "{id: q1, network: cnn,"), "network 'cnn' is not one of"),
        (GOOD.replace("{id: q1,", "{id: q1, tolerance: 2,"), "q1: tolerance: 2 is out of range"),
        (GOOD.replace("{id: q1,", "{id: points,"), "not one of student, file, points"),
        (GOOD + "  - {id: Q1, ask: 'J'}\n", "hw.yaml:6: question 2: id Q1 is taken"),
        (GOOD + "  - {id: q2}\n", "hw.yaml:6: question q2: ask:"),
        (GOOD + "limits: {seconds: 5}\n", "unknown limit 'seconds'"),
        (GOOD + "limits: {memory_mb: 10}\n", "memory_mb: 10 is out of range"),
        (GOOD + "roster: [a, b, a]\n", "student a is on the roster twice"),
        (GOOD + "roster: [a, '']\n", "an empty student id"),
        (GOOD + "networks2: 1\n", "networks2: unknown key"),
        ("questions: []\n", "an assignment id"),
        ("- 1\n", "expected a mapping with 'assignment' and 'questions'"),
        (GOOD + "roster: [a]\nroster: [b]\n", "'roster' is given twice"),
    ],
)
def test_a_bad_assignment_is_one_error_naming_the_line(tmp_path, text, message):
    with pytest.raises(DeriveError) as err:
        read_assignment(write_assignment(tmp_path, text))
    assert message in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "ask, message",
    [
        ("\\frac{\\partial J}{\\partial W_9}", "question q1: unknown name W_9"),
        ("\\frac{\\partial J}{\\partial (", "question q1: unexpected"),
    ],
)
def test_a_question_that_cannot_be_answered_is_refused_before_grading(tmp_path, ask, message):
    text = GOOD.replace("\\frac{\\partial J}{\\partial W_2}", ask.replace("\\", "\\\\"))
    path = write_assignment(tmp_path, text.replace("'", '"'))
    with pytest.raises(DeriveError, match="hw.yaml:5: " + message.replace("(", r"\(")):
        prepare(read_assignment(path))


def test_a_number_question_needs_numbers(tmp_path):
    text = GOOD.replace("{id: q1,", "{id: q1, kind: number,")
    with pytest.raises(DeriveError, match="question q1: .*needs values: x has none"):
        prepare(read_assignment(write_assignment(tmp_path, text)))


def test_a_roster_csv(tmp_path):
    (tmp_path / "roster.csv").write_text("\ufeffid,name\ns1,Ann\n\ns2,Bo\n")
    assert read_roster(tmp_path / "roster.csv") == ("s1", "s2")
    (tmp_path / "bad.csv").write_text("name\nAnn\n")
    with pytest.raises(DeriveError, match="no 'id' column"):
        read_roster(tmp_path / "bad.csv")
    (tmp_path / "dup.csv").write_text("id\ns1\ns1\n")
    with pytest.raises(DeriveError, match="dup.csv:3: student s1 is on the roster twice"):
        read_roster(tmp_path / "dup.csv")


def test_the_answers_file(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("student: 42\nanswers: {q1: 'x', 2: 0.5, q3: ~}\nnetwork: x.py\n")
    got = read_answers(path)
    assert got.student == "42" and set(got.answers) == {"q1", "2", "q3"}
    assert got.answers["2"].number == pytest.approx(0.5) and got.answers["q3"].text == ""
    assert got.notes and got.notes[0].startswith("line 3: network: refused")
    path.write_text("answers: [1, 2]\n")
    with pytest.raises(DeriveError, match="answers: expected a mapping"):
        read_answers(path)


# --- a class ------------------------------------------------------------------------------
def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


def test_the_example_class(grader, tmp_path):
    summary = run_class(ANSWERS, tmp_path / "out", grader, workers=2, pdf=False)
    rows = {r["student"]: r for r in read_csv(tmp_path / "out" / "gradebook.csv")}
    assert {k: (r["points"], r["max_points"]) for k, r in rows.items()} == {
        "alice": ("9", "9"), "bob": ("2", "9"), "carol": ("1", "9")}  # fmt: skip
    assert rows["bob"]["dW2"] == "0" and rows["bob"]["verdict dW2"] == "incorrect"
    assert rows["alice"]["dW2"] == "2" and "tolerance" in rows["carol"]["notes"]
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert data["assignment"] == "backprop-hw" and data["max_points"] == 9
    assert data["slips"]["dW2"] == {"a missing 1/m": 1, "a missing transpose": 1}
    assert summary.slips["w1"] == {"a sign error": 1}
    md = (tmp_path / "out" / "feedback" / "bob.yaml.md").read_text()
    assert "**2 of 9 points.**" in md and "## dW2: incorrect (0 of 2 points)" in md
    assert r"Asked: $\frac{\partial J}{\partial W_2}$" in md


def test_a_roster_makes_rows_for_the_missing_and_refuses_strangers(tmp_path):
    folder = tmp_path / "class"
    shutil.copytree(ANSWERS, folder)
    (folder / "zed.yaml").write_text("student: zed\nanswers: {E: 1.7336}\n")
    text = ASSIGNMENT.read_text().replace(
        "networks:", "roster: [alice, bob, carol, dora]\nnetworks:"
    )
    (tmp_path / "hw").mkdir()
    for name in ("mlp.py", "hand321.py"):
        shutil.copy(EXAMPLES / name, tmp_path / "hw" / name)
    (tmp_path / "hw" / "a.yaml").write_text(text)
    grader = prepare(read_assignment(tmp_path / "hw" / "a.yaml"))
    run_class(folder, tmp_path / "out", grader, workers=0, pdf=False)
    rows = {r["student"]: r for r in read_csv(tmp_path / "out" / "gradebook.csv")}
    assert rows["zed"]["error"] == "student 'zed' is not on the roster"
    assert rows["dora"]["error"] == "no submission" and rows["dora"]["points"] == ""
    assert rows["alice"]["points"] == "9"


def test_a_folder_per_student(grader, tmp_path):
    folder = tmp_path / "class"
    for name in ("alice", "bob"):
        (folder / f"s_{name}").mkdir(parents=True)
        text = (ANSWERS / f"{name}.yaml").read_text().replace(f"student: {name}\n", "")
        (folder / f"s_{name}" / "answers.yaml").write_text(text)
    (folder / "s_eve").mkdir()
    (folder / "s_eve" / "a.yaml").write_text("answers: {}\n")
    (folder / "s_eve" / "b.yaml").write_text("answers: {}\n")
    run_class(folder, tmp_path / "out", grader, workers=0, pdf=False)
    rows = {r["student"]: r for r in read_csv(tmp_path / "out" / "gradebook.csv")}
    assert rows["s_alice"]["points"] == "9" and rows["s_bob"]["file"] == "s_bob/answers.yaml"
    assert "several answers files in s_eve/" in rows["s_eve"]["error"]
    assert (tmp_path / "out" / "feedback" / "s_5falice_2fanswers.yaml.md").is_file()


def test_a_changed_assignment_grades_again(tmp_path):
    hw = tmp_path / "hw"
    hw.mkdir()
    for name in ("mlp.py", "hand321.py", "homework.yaml"):
        shutil.copy(EXAMPLES / name, hw / name)
    out = tmp_path / "out"
    first = run_class(ANSWERS, out, prepare(read_assignment(hw / "homework.yaml")), workers=0,
                      pdf=False)  # fmt: skip
    again = run_class(ANSWERS, out, prepare(read_assignment(hw / "homework.yaml")), workers=0,
                      pdf=False)  # fmt: skip
    assert (first.checked, again.skipped) == (3, 3)
    text = (hw / "homework.yaml").read_text().replace("tolerance: 0.01", "tolerance: 0.5")
    (hw / "homework.yaml").write_text(text)
    changed = run_class(ANSWERS, out, prepare(read_assignment(hw / "homework.yaml")),
                        workers=0, pdf=False)  # fmt: skip
    assert changed.checked == 3  # a live edit regrades everyone, nobody keeps a stale grade
    rows = {r["student"]: r for r in read_csv(out / "gradebook.csv")}
    assert rows["carol"]["verdict E"] == "correct"  # 2 is within 50% of 1.7336 now


# --- the command line ---------------------------------------------------------------------
def test_check_one_students_answers(cli, tmp_path):
    out = tmp_path / "bob.json"
    result = cli("check", "--assignment", ASSIGNMENT, ANSWERS / "bob.yaml", "--json", out)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["question", "points", "verdict", "message"]
    assert lines[2].split()[:3] == ["sigmoid", "0/1", "incorrect"]
    assert "bob: 2 of 9 points (2 correct, 5 incorrect)" in result.stdout
    data = json.loads(out.read_text())
    assert (data["points"], data["max_points"]) == (2, 9)


def test_check_a_class_from_the_command_line(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("check", "-a", ASSIGNMENT, "--class", ANSWERS, "-o", out, "--no-pdf")
    assert result.exit_code == 0, result.output
    assert "3 submissions: 3 graded, 0 skipped" in result.stdout
    assert "slips in dW2: a missing 1/m (1), a missing transpose (1)" in result.stdout
    assert len(read_csv(out / "gradebook.csv")) == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--class", "ANSWERS"], "--class needs --assignment"),
        (["-a", "ASSIGNMENT", "FILE", "--network", "x.py"], "--network: with --assignment"),
        (["-a", "ASSIGNMENT", "FILE", "--set", "k=1"], "--set: with --assignment"),
        (["-a", "ASSIGNMENT", "FILE", "--tolerance", "0.5"], "--tolerance: with --assignment"),
        (["-a", "ASSIGNMENT", "FILE", "--workers", "2"], "--workers: only with --class"),
        (["-a", "ASSIGNMENT", "FILE", "--class", "ANSWERS"], "a FILE or --class DIR, not both"),
        (["-a", "nowhere.yaml", "FILE"], "nowhere.yaml: no such assignment file"),
        (["FILE", "--tolerance", "2"], "--tolerance 2.0: a relative tolerance is in (0, 1)"),
        ([], "give a claims FILE to check"),
    ],
)
def test_check_option_errors(cli, args, message):
    where = {"ANSWERS": ANSWERS, "ASSIGNMENT": ASSIGNMENT, "FILE": ANSWERS / "bob.yaml"}
    result = cli("check", *[where.get(a, a) for a in args])
    assert result.exit_code == 2, result.output
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
