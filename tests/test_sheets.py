"""Solution sheets: the problem bank, per-student variants, the self-test, the key, and a class
graded against it.

Every variant of every problem type is graded by the checker: its answer right, and each
catalogued slip (a wrong answer by construction) wrong, with that slip's name. The numbers of the
convolution and parameter-count problems are compared with values worked out by hand (seed 003,
Q3; the issue's LeNet layers). A simulated class (the key's answers, each slip, another student's
answers, blanks, hostile text) is graded and its gradebook compared with what was simulated.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, need_latex

from derive.claims.answers import Answer
from derive.claims.assignment import read_assignment
from derive.claims.classrun import run_class
from derive.claims.grade import Grader
from derive.errors import DeriveError
from derive.sheets import problems  # noqa: F401 (registers the bank)
from derive.sheets.bank import BANK, Choice, Degenerate
from derive.sheets.key import read_key
from derive.sheets.selftest import SelfTest
from derive.sheets.variants import as_question, seed_of, variant_question
from derive.sheets.write import folder_name, make_sheets

SHEETS = EXAMPLES / "assignment.yaml"
ROSTER = EXAMPLES / "roster.csv"


def bank_assignment(tmp_path: Path) -> Path:
    """An assignment with one question of every problem type of the bank."""
    lines = ["assignment: bank", "secret: 'a secret for the tests'", "questions:"]
    lines += [f"  - {{id: {name}, problem: {name}}}" for name in BANK if not BANK[name].network]
    path = tmp_path / "bank.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


SAMPLE = 60  # combinations of a problem type with more than 300 (a seeded sample of them)


def every_variant(name: str):
    """(params, variant) for every combination of the parameters of a problem type (for a type
    with more than 300, a seeded sample), each distinct variant once (parameters a variant does
    not use make no new variant)."""
    import random

    bank = BANK[name]
    names = sorted(bank.params)
    ranges = [
        r.values if isinstance(r, Choice) else sorted({r.low, (r.low + r.high) // 2, r.high})
        for r in (bank.params[n] for n in names)
    ]
    combos = list(itertools.product(*ranges))
    if len(combos) > 300:
        combos = random.Random(name).sample(combos, SAMPLE)
    seen = set()
    for combo in combos:
        params = dict(zip(names, combo))
        try:
            v = bank.generate(params)
        except Degenerate:
            continue
        key = (v.ask, v.answer, v.slips, v.claim, repr(v.symbols))
        if key not in seen:
            seen.add(key)
            yield params, v


@pytest.fixture(scope="module")
def bank_grader(tmp_path_factory):
    a = read_assignment(bank_assignment(tmp_path_factory.mktemp("bank")))
    return a, Grader(a)


# --- the bank: every variant proved by the checker ------------------------------------------
@pytest.mark.parametrize("name", sorted(n for n in BANK if not BANK[n].network))
def test_every_variant_is_right_and_every_slip_is_wrong_by_name(bank_grader, name):
    a, grader = bank_grader
    q = a.question(name)
    test = SelfTest()
    count = 0
    for params, v in every_variant(name):
        count += 1
        why = test.failure(grader, as_question(q, params, v))
        assert not why, (params, why)
        assert v.slips or v.kind == "truth", params
    assert count >= 2 and test.checks >= count


def test_each_problem_type_is_one_entry_with_its_parameters():
    assert set(BANK) >= {"activation_derivative", "loss_gradient", "jacobian", "identity_truth",
                         "cnn_output", "cnn_solve", "cnn_params", "param_count",
                         "network_gradient", "hand_calculation"}  # fmt: skip
    functions = BANK["activation_derivative"].params["function"].values
    assert set(functions) >= {"sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "swish"}
    losses = BANK["loss_gradient"].params["loss"].values
    assert set(losses) >= {"cross_entropy", "squared_error", "l1", "huber", "hinge"}


@pytest.mark.parametrize(
    "n, k, s, p, d, expected",
    [(32, 5, 1, 0, 1, 28), (64, 3, 2, 1, 1, 32), (7, 3, 1, 0, 2, 3), (10, 3, 3, 1, 1, 4),
     (28, 2, 2, 0, 1, 14), (64, 5, 2, 0, 2, 28)],
)  # fmt: skip
def test_convolution_sizes_worked_by_hand(n, k, s, p, d, expected):
    v = BANK["cnn_output"].generate({"n": n, "k": k, "s": s, "p": p, "d": d})
    assert v.answer == str(expected)
    assert str(expected) not in [w for _, w in v.slips]


@pytest.mark.parametrize(
    "c_in, c_out, k, bias, expected",
    [(1, 6, 5, "without", 150), (1, 6, 5, "with", 156), (6, 16, 5, "without", 2400),
     (6, 16, 5, "with", 2416), (3, 64, 3, "with", 1792)],
)  # fmt: skip
def test_convolution_parameters_of_lenet(c_in, c_out, k, bias, expected):
    v = BANK["cnn_params"].generate({"c_in": c_in, "c_out": c_out, "k": k, "bias": bias})
    assert v.answer == str(expected)


@pytest.mark.parametrize(
    "n, k, s, p, d, largest, smallest",
    [(64, 5, 2, 0, 1, 6, 5), (32, 3, 3, 1, 1, 4, 2), (28, 2, 2, 0, 2, 2, 2)],
)  # fmt: skip
def test_a_kernel_size_for_a_wanted_output(n, k, s, p, d, largest, smallest):
    """Worked by hand: 64 -> 30 with stride 2 takes k = 5 or 6 ((64 - 5)/2 = 29.5, (64 - 6)/2 =
    29, both + 1 = 30; k = 7 gives 29, k = 4 gives 31); 32 with stride 3 and padding 1 -> 11
    takes k = 2, 3, 4 (32/3, 31/3, 30/3 floor to 10; 29/3 to 9); 28 with stride 2, dilation 2 ->
    13 takes only k = 2 (k = 1: 27/2 -> 14; k = 3 spans 5: 23/2 -> 12)."""
    v = BANK["cnn_solve"].generate({"n": n, "k": k, "s": s, "p": p, "d": d})
    assert v.answer == str(largest)
    assert dict(v.slips).get("the smallest such kernel", str(largest)) == str(smallest)


def test_the_parameter_count_of_an_mlp():
    v = BANK["param_count"].generate({"d": 784, "hidden": 1, "width": 100, "c": 10})
    assert v.answer == str(784 * 100 + 100 + 100 * 10 + 10)  # 79,510
    assert dict(v.slips)["the biases forgotten"] == str(784 * 100 + 100 * 10)


def hand321(x, W1, b1, W2, b2, t):
    """The 3-2-1 sigmoid network's loss, written out in NumPy (the reference, not derive's)."""
    import numpy as np

    s = lambda u: 1 / (1 + np.exp(-u))  # noqa: E731
    o = s(W2 @ s(W1 @ x + b1) + b2)
    return float(0.5 * np.sum((o - t) ** 2))


def test_a_hand_calculation_at_each_students_numbers(tmp_path):
    """The numbers the sheet prints (rounded to its decimals before anything is computed), put
    into the network written out by hand: central differences of its loss give the answer."""
    import numpy as np

    shutil.copy(EXAMPLES / "hand321.py", tmp_path / "hand321.py")
    path = tmp_path / "a.yaml"
    path.write_text(
        "assignment: h\nnetworks: {hand: {file: hand321.py}}\nquestions:\n"
        "  - {id: q, problem: hand_calculation, params: {quantity: ['W1[2,3]', 'W2[1,2]', "
        "'b1[1]', E], decimals: 2}}\n"
    )
    a = read_assignment(path)
    seen = set()
    for k in range(12):
        q = variant_question(a, a.question("q"), f"student{k}")
        v = {name: np.asarray(x, dtype=float) for name, x in q.values.items()}
        assert all(np.allclose(x, np.round(x, 2)) for x in v.values())  # the printed numbers
        args = dict(x=v["x"][0], W1=v["W1"], b1=v["b1"], W2=v["W2"][0], b2=v["b2"], t=v["t"][0])
        name = q.params["quantity"]
        seen.add(name)
        if name == "E":
            expected = hand321(**args)
        else:
            key, index = {"W1[2,3]": ("W1", (1, 2)), "W2[1,2]": ("W2", (1,)),
                          "b1[1]": ("b1", (0,))}[name]  # fmt: skip
            h = 1e-6
            up, down = ({**args, key: args[key].copy()} for _ in (0, 1))
            up[key][index] += h
            down[key][index] -= h
            expected = (hand321(**up) - hand321(**down)) / (2 * h)
        assert float(q.answer) == pytest.approx(expected, rel=1e-7, abs=1e-10), (name, q.params)
        assert dict(q.slips)["a sign error"] == f"{-float(q.answer):.12g}"
    assert len(seen) >= 3
    grader = Grader(a)
    assert grader.check(q, Answer(f"{float(q.answer):.4g}"), 5).verdict == "correct"
    wrong = grader.check(q, Answer(f"{-float(q.answer):.4g}"), 5)
    assert wrong.verdict == "incorrect" and wrong.slip == "a sign error"


def test_a_hand_calculation_needs_a_network_and_its_quantities(tmp_path):
    shutil.copy(EXAMPLES / "hand321.py", tmp_path / "hand321.py")
    path = tmp_path / "a.yaml"
    path.write_text("assignment: h\nquestions:\n  - {id: q, problem: hand_calculation}\n")
    with pytest.raises(DeriveError, match="is about a network of the assignment"):
        read_assignment(path)
    path.write_text("assignment: h\nnetworks: {hand: {file: hand321.py}}\nquestions:\n"
                    "  - {id: q, problem: hand_calculation, params: {quantity: W9}}\n")  # fmt: skip
    a = read_assignment(path)
    with pytest.raises(DeriveError, match="W9 is not the loss or a parameter of hand321"):
        variant_question(a, a.question("q"), "s")


# --- variants ---------------------------------------------------------------------------------
def test_variants_are_reproducible_independent_and_keyed_by_the_secret(tmp_path):
    a = read_assignment(bank_assignment(tmp_path))
    q = a.question("activation_derivative")
    students = [f"s{k}" for k in range(30)]
    first = [variant_question(a, q, s).params for s in students]
    again = [variant_question(a, q, s).params for s in reversed(students)][::-1]
    assert first == again  # the same, whatever the order
    assert len({json.dumps(p, sort_keys=True) for p in first}) >= 10  # students differ
    assert seed_of(a, "s1", q.id) != seed_of(a, "s1", "other")  # each question its own stream
    from dataclasses import replace

    other = replace(a, secret=b"another secret")
    assert [variant_question(other, q, s).params for s in students] != first


def test_the_instructors_ranges_narrow_the_draw(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text(
        "assignment: a\nquestions:\n"
        "  - {id: q, problem: activation_derivative, params: {function: [relu, tanh]}}\n"
        "  - {id: c, problem: cnn_output, params: {n: [20, 24], d: 1}}\n"
    )
    a = read_assignment(path)
    for s in range(20):
        v = variant_question(a, a.question("q"), f"s{s}")
        assert v.params["function"] in ("relu", "tanh")
        c = variant_question(a, a.question("c"), f"s{s}")
        assert 20 <= c.params["n"] <= 24 and c.params["d"] == 1


@pytest.mark.parametrize(
    "question, message",
    [
        ("{id: q, problem: nosuch}", "unknown problem type 'nosuch'"),
        ("{id: q, problem: cnn_output, params: {n: [2, 500]}}", "is not inside [8, 64]"),
        ("{id: q, problem: cnn_output, params: {k: 4}}", "4 is not one of 1, 2, 3, 5, 7"),
        ("{id: q, problem: cnn_output, params: {w: 3}}", "cnn_output has no such parameter"),
        ("{id: q, problem: cnn_output, ask: 'x'}", "ask: a problem of the bank makes its own"),
    ],
)
def test_a_bad_bank_question_is_one_line_with_its_line(tmp_path, cli, question, message):
    path = tmp_path / "a.yaml"
    path.write_text(
        f"assignment: a\nquestions:\n  - {{id: ok, problem: jacobian}}\n  - {question}\n"
    )
    out = tmp_path / "out"
    result = cli("sheet", path, "-o", out, "-f", "tex")
    assert result.exit_code == 2 and "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0] and "a.yaml:4" in lines[0], lines
    assert not out.exists()


@pytest.mark.parametrize(
    "roster, message",
    [("id\nann\nann\n", "student ann is on the roster twice"), ("id\nann\n \n,x\n", ""),
     ("name\nann\n", "no 'id' column")],
)  # fmt: skip
def test_a_bad_roster_is_one_line(tmp_path, cli, roster, message):
    path = tmp_path / "roster.csv"
    path.write_text(roster)
    out = tmp_path / "out"
    result = cli("sheet", bank_assignment(tmp_path), "--roster", path, "-o", out, "-f", "tex")
    if not message:  # blank lines are skipped, an empty id in a row is an error
        message = "an empty student id"
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert not out.exists()


def test_folder_names_are_safe_and_distinct():
    assert folder_name("alice") == "alice"
    names = {folder_name(s) for s in ("../x", "a/b", "a_b", "..", "a b", "a\\b", "é")}
    assert len(names) == 7
    assert all("/" not in n and "\\" not in n and n not in (".", "..") for n in names)


# --- the sheets, the key, and a simulated class -----------------------------------------------
@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """The example's sheets for six students (.tex only), and the key read back."""
    folder = tmp_path_factory.mktemp("sheets")
    roster = folder / "roster.csv"
    roster.write_text("id,name\n" + "".join(f"s{k},Student {k}\n" for k in range(6)))
    out = folder / "out"
    try:
        run = make_sheets(SHEETS, roster, out, pdf=False)
    except DeriveError as err:  # say which variant and why, whole
        pytest.fail(f"make_sheets: {err}")
    return out, run, json.loads((out / "key.json").read_text())


def test_the_sheets_and_the_key(made):
    out, run, key = made
    assert run.students == 6 and run.selftest.variants >= 6
    assert key["assignment"] == "backprop-sheet" and key["derive_version"]
    assert set(key["students"]) == {f"s{k}" for k in range(6)}
    entry = key["students"]["s0"]
    assert set(entry["questions"]) == {q.id for q in read_assignment(SHEETS).questions}
    conv = entry["questions"]["conv"]
    assert conv["kind"] == "number" and conv["params"]["d"] == 1 and conv["slips"]
    assert entry["questions"]["dW2"]["answer"].startswith(r"\frac{1}{m}")
    for s in key["students"]:
        folder = out / key["students"][s]["folder"]
        sheet = (folder / "sheet.tex").read_text()
        assert key["students"][s]["variant"] in sheet and r"\qrcode" in sheet
        assert "Answer." not in sheet  # the sheet has no answers
        assert "Checked by derive" in (folder / "solution.tex").read_text()
        answers = yaml.safe_load((folder / "answers.yaml").read_text())
        assert answers["student"] == s and set(answers["answers"]) == set(entry["questions"])
        assert all(v == "" for v in answers["answers"].values())
    everyone = (out / "solutions.tex").read_text()
    assert everyone.count(r"\clearpage") == 5


def simulated(key: dict) -> dict[str, dict]:
    """Answers by construction: s0 the key's, s1 a slip wherever the bank has one, s2 s0's
    answers (right only where the two variants agree), s3 nothing, s4 and s5 hostile text."""
    q0 = key["students"]["s0"]["questions"]
    q1 = key["students"]["s1"]["questions"]
    hostile = [r"\input{/etc/passwd}", "__import__('os').system('true')", "(" * 3000,
               r"\def\x{\x}\x", "1" * 5000, "{{{{" * 200, "\x00\x1b[2J", "∂²/∂x²"]  # fmt: skip
    return {
        "s0": {qid: q["answer"] for qid, q in q0.items()},
        "s1": {qid: (q["slips"][0][1] if q.get("slips") else q["answer"]) for qid, q in q1.items()},
        "s2": {qid: q["answer"] for qid, q in q0.items()},
        "s3": {},
        "s4": {qid: hostile[k % len(hostile)] for k, qid in enumerate(q0)},
        "s5": {qid: hostile[(k + 3) % len(hostile)] for k, qid in enumerate(q0)},
    }


def test_a_simulated_class_is_graded_as_simulated(made, tmp_path):
    out, _, key = made
    folder = tmp_path / "class"
    folder.mkdir()
    answers = simulated(key)
    for student, given in answers.items():
        text = yaml.safe_dump({"student": student, "answers": given}, allow_unicode=True)
        (folder / f"{student}.yaml").write_text(text)
    grader = Grader(read_key(out / "key.json"))
    summary = run_class(folder, tmp_path / "grades", grader, workers=0, pdf=False)
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(
        (tmp_path / "grades" / "gradebook.csv").read_text()))}  # fmt: skip
    questions = key["students"]["s0"]["questions"]
    total = sum(q["points"] for q in questions.values())
    assert float(rows["s0"]["points"]) == total
    # s1: every bank question with a slip is wrong, with the slip's name counted
    slipped = [qid for qid, q in key["students"]["s1"]["questions"].items() if q.get("slips")]
    assert all(rows["s1"][f"verdict {qid}"] == "incorrect" for qid in slipped)
    for qid in slipped:
        name = key["students"]["s1"]["questions"][qid]["slips"][0][0]
        assert summary.slips[qid].get(name, 0) >= 1, (qid, name, summary.slips.get(qid))
    # s2 copied s0: right exactly where s2's own right answer is s0's
    own = key["students"]["s2"]["questions"]
    for qid, q in questions.items():
        same = own[qid]["answer"] == q["answer"]
        if own[qid]["kind"] == "truth" or same:
            continue
        assert rows["s2"][f"verdict {qid}"] != "correct", qid
    assert float(rows["s2"]["points"]) < total
    assert rows["s3"]["points"] == "0" and rows["s3"]["verdict act"] == "unanswered"
    for s in ("s4", "s5"):
        assert rows[s]["points"] == "0" and rows[s]["error"] == ""
        assert {rows[s][f"verdict {qid}"] for qid in questions} <= {
            "unparseable", "invalid", "incorrect"}  # fmt: skip


def test_grading_against_the_assignment_draws_the_same_variants(made, tmp_path):
    out, _, key = made
    path = tmp_path / "s3.yaml"
    given = {qid: q["answer"] for qid, q in key["students"]["s3"]["questions"].items()}
    path.write_text(yaml.safe_dump({"student": "s3", "answers": given}))
    for a in (read_key(out / "key.json"), read_assignment(SHEETS)):
        result = Grader(a).grade(path)
        assert result.points == result.max_points, [(c.id, c.verdict) for c in result.claims]


def test_a_key_that_does_not_fit_is_one_line(made, tmp_path):
    out, _, key = made
    broken = tmp_path / "deeper" / "than" / "before" / "key.json"
    broken.parent.mkdir(parents=True)
    shutil.copy(out / "key.json", broken)
    with pytest.raises(DeriveError, match="is not beside it"):
        read_key(broken)
    broken.write_text("{not json")
    with pytest.raises(DeriveError, match="not JSON"):
        read_key(broken)
    k = json.loads((out / "key.json").read_text())
    del k["students"]["s0"]["questions"]["act"]
    (out / "bad.json").write_text(json.dumps(k))
    try:
        with pytest.raises(DeriveError, match="has no question act"):
            read_key(out / "bad.json")
    finally:
        (out / "bad.json").unlink()


def test_a_truth_answer_may_be_yaml_true_or_false(bank_grader):
    a, grader = bank_grader
    q = variant_question(a, a.question("identity_truth"), "someone")
    right = q.answer == "true"
    assert grader.check(q, Answer(q.answer, truth=right), 5).verdict == "correct"
    assert grader.check(q, Answer("x", truth=not right), 5).verdict == "incorrect"
    assert grader.check(q, Answer("maybe"), 5).verdict == "unparseable"


def test_derive_sheet_writes_the_pdfs(cli, tmp_path):
    need_latex()
    out = tmp_path / "out"
    result = cli("sheet", SHEETS, "-o", out)
    assert result.exit_code == 0, result.output
    assert "1 sheet in" in result.stderr and "self-test:" in result.stderr
    for name in ("handout/sheet.pdf", "handout/solution.pdf", "solutions.pdf", "key.json"):
        assert (out / name).is_file(), name


# --- exports: Gradescope and Moodle -----------------------------------------------------------
def test_the_gradescope_autograder_grades_with_its_own_copy_of_derive(made, tmp_path):
    import subprocess
    import sys
    import zipfile

    out, _, key = made
    from derive.sheets.exports import gradescope_zip

    data = gradescope_zip(out / "key.json", key, read_assignment(SHEETS))
    root = tmp_path / "autograder"
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "source/assignment/key.json",
                "source/assignment/assignment.yaml", "source/assignment/mlp.py",
                "source/derive/sheets/gradescope.py",
                "source/derive/templates/sheet.tex.j2"} <= names  # fmt: skip
        assert z.getinfo("run_autograder").external_attr >> 16 & 0o111
        z.extractall(root)
    assert "sympy==" in (root / "setup.sh").read_text()
    submission = root / "submission"
    submission.mkdir()
    given = {qid: q["answer"] for qid, q in key["students"]["s1"]["questions"].items()}
    wrong = key["students"]["s1"]["questions"]["convp"]["slips"][0]
    given["convp"] = wrong[1]
    (submission / "answers.yaml").write_text(yaml.safe_dump({"student": "s1", "answers": given}))
    results = root / "results" / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "derive.sheets.gradescope", root / "source/assignment/key.json",
         submission, results],
        cwd=root / "source", env={"PYTHONPATH": str(root / "source"), "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    graded = json.loads(results.read_text())
    tests = {t["name"]: t for t in graded["tests"]}
    total = sum(q["points"] for q in key["students"]["s1"]["questions"].values())
    assert graded["score"] == total - key["students"]["s1"]["questions"]["convp"]["points"]
    assert tests["convp"]["status"] == "failed" and wrong[0] in tests["convp"]["output"]
    assert all(set(t) == {"name", "score", "max_score", "status", "output"} for t in tests.values())
    # a submission without an answers file: score 0, and why
    (submission / "answers.yaml").unlink()
    subprocess.run([sys.executable, "-m", "derive.sheets.gradescope",
                    root / "source/assignment/key.json", submission, results],
                   cwd=root / "source", env={"PYTHONPATH": str(root / "source")},
                   check=True, timeout=300)  # fmt: skip
    assert json.loads(results.read_text())["score"] == 0


def test_moodle_xml_has_one_numerical_question_per_variant(made):
    import xml.etree.ElementTree as ET

    from derive.sheets.exports import moodle_xml

    _, _, key = made
    quiz = ET.fromstring(moodle_xml(key))
    numbers = quiz.findall("question[@type='numerical']")
    variants = {(qid, q["variant"]) for e in key["students"].values()
                for qid, q in e["questions"].items()
                if q["kind"] == "number" and q.get("variant")}  # fmt: skip
    assert len(numbers) == len(variants) > 0
    categories = [c.find("category/text").text for c in quiz.findall("question[@type='category']")]
    assert all(c.startswith("$course$/") for c in categories) and len(categories) == len(
        {qid for qid, _ in variants})  # fmt: skip
    q = numbers[0]
    value = float(q.find("answer/text").text)
    assert float(q.find("answer/tolerance").text) >= 0 and value == int(value)


# --- a class on several machines: --shard and --merge -----------------------------------------
def test_shards_merge_into_the_gradebook_of_one_run(made, tmp_path):
    from derive.claims.shards import merge_shards

    out, _, key = made
    folder = tmp_path / "class"
    folder.mkdir()
    for student, e in key["students"].items():
        given = {
            qid: q["answer"] for qid, q in list(e["questions"].items())[: int(student[1:]) + 2]
        }
        (folder / f"{student}.yaml").write_text(
            yaml.safe_dump({"student": student, "answers": given})
        )
    a = read_key(out / "key.json")
    whole = tmp_path / "whole"
    run_class(folder, whole, Grader(a), workers=0, pdf=False)
    parts = []
    for k in (1, 2, 3):
        parts.append(tmp_path / f"part{k}")
        run_class(folder, parts[-1], Grader(a), workers=0, pdf=False, shard=(k, 3))
    mine = [json.loads((p / "shard.json").read_text())["mine"] for p in parts]
    assert sorted(sum(mine, [])) == sorted(f"s{k}.yaml" for k in range(6))
    merged = tmp_path / "merged"
    assert merge_shards(parts, merged, a) == (6, 3)
    assert (merged / "gradebook.csv").read_text() == (whole / "gradebook.csv").read_text()
    with pytest.raises(DeriveError, match="part 3 of 3 is missing"):
        merge_shards(parts[:2], tmp_path / "m2", a)
    with pytest.raises(DeriveError, match="part 1 of 3 is given twice"):
        merge_shards([parts[0], parts[0], parts[2]], tmp_path / "m3", a)
    record = json.loads((parts[1] / "shard.json").read_text())
    (parts[1] / "shard.json").write_text(json.dumps({**record, "assignment": "other"}))
    with pytest.raises(DeriveError, match="graded against another assignment"):
        merge_shards(parts, tmp_path / "m4", a)
    (parts[1] / "shard.json").write_text(json.dumps(record))
    results = json.loads((parts[1] / "results.json").read_text())
    if record["mine"]:
        (parts[1] / "results.json").write_text(json.dumps({**results, "students": []}))
        with pytest.raises(DeriveError, match="part 2 is not finished"):
            merge_shards(parts, tmp_path / "m5", a)


def test_a_network_of_its_own_is_rebuilt_from_the_key(made, tmp_path):
    """A network_gradient variant is graded against the network its parameters build; a key
    whose parameters build another network (the bank changed) is refused, not misgraded."""
    out, _, key = made
    entry = key["students"]["s0"]["questions"]["net"]
    assert entry["problem"] == "network_gradient" and entry["params"]["hidden"] == 1
    path = tmp_path / "s0.yaml"
    path.write_text(yaml.safe_dump({"student": "s0", "answers": {"net": entry["answer"]}}))
    grader = Grader(read_key(out / "key.json"))
    net = next(c for c in grader.grade(path).claims if c.id == "net")
    assert net.verdict == "correct"
    wrong = entry["slips"][0]
    path.write_text(yaml.safe_dump({"student": "s0", "answers": {"net": "1 + " + wrong[1]}}))
    assert next(c for c in grader.grade(path).claims if c.id == "net").verdict == "incorrect"
    k = json.loads((out / "key.json").read_text())
    params = k["students"]["s0"]["questions"]["net"]["params"]
    params.update(hidden=2, batchnorm="no")  # a deeper network: every answer changes
    (out / "changed.json").write_text(json.dumps(k))
    try:
        a = read_key(out / "changed.json")
        q = a.question_for(a.question("net"), "s0")
        with pytest.raises(DeriveError, match="the bank builds another network"):
            Grader(a).checker(q)
    finally:
        (out / "changed.json").unlink()


def test_zero_written_for_a_zero_gradient(bank_grader):
    """dJ/db_1 = 0 for a bias before a mean subtraction (the course writes 0 for the zero
    vector); 0 for a gradient that is not zero is wrong, and an expression that only comes out
    1 x 1 is still a shape error."""
    a, grader = bank_grader
    q = a.question("network_gradient")
    base = dict(hidden=1, width=3, activation="tanh", output="squared_error", dropout="no",
                skip="no", asked="first_bias")  # fmt: skip
    make = BANK["network_gradient"].generate
    with_bn = as_question(q, {**base, "batchnorm": "yes"}, make({**base, "batchnorm": "yes"}))
    without = as_question(q, {**base, "batchnorm": "no"}, make({**base, "batchnorm": "no"}))
    assert with_bn.answer == r"\mathbf{0}"
    for zero in ("0", r"\mathbf{0}", "0.0"):
        assert grader.check(with_bn, Answer(zero), 10).verdict == "correct", zero
        assert grader.check(without, Answer(zero), 10).verdict == "incorrect", zero
    assert grader.check(with_bn, Answer("0 J"), 10).verdict == "invalid"  # a scalar


def test_distinct_variants_give_every_student_their_own(tmp_path):
    from derive.sheets.selftest import content_key
    from derive.sheets.variants import distinct_variants

    path = tmp_path / "a.yaml"
    ids = [f"s{k}" for k in range(30)]
    path.write_text("assignment: d\nsecret: 'distinct secret'\nroster: [" + ", ".join(ids) + "]\n"
                    "questions:\n  - {id: c, problem: cnn_output, distinct: true}\n"
                    "  - {id: a, problem: activation_derivative, params: {function: relu}, "
                    "distinct: true}\n")  # fmt: skip
    a = read_assignment(path)
    mine = distinct_variants(a, a.question("c"), ids)
    assert len({content_key(v) for v in mine.values()}) == 30
    assert distinct_variants(a, a.question("c"), ids[::-1]) == mine  # whatever the order
    assert a.question_for(a.question("c"), "s7") == mine["s7"]  # grading draws the same
    with pytest.raises(DeriveError, match="30 students need a variant each"):
        distinct_variants(a, a.question("a"), ids)
    path.write_text("assignment: d\nquestions:\n  - {id: c, problem: cnn_output, distinct: true}\n")
    b = read_assignment(path)
    with pytest.raises(DeriveError, match="needs the roster"):
        b.question_for(b.question("c"), "s1")


@pytest.mark.parametrize(
    "params, right, wrong",
    [({"n": 64, "o": 6, "s": 1, "p": 0, "d": 1}, 59, 52),  # c): the homework's table says 52
     ({"n": 64, "o": 6, "s": 3, "p": 1, "d": 2}, 26, 21),  # d): 21 divides by 5 for s = 3
     ({"n": 64, "o": 6, "s": 2, "p": 1, "d": 1}, 56, 41)],  # e): (66 - k) / 5 for s = 2
)  # fmt: skip
def test_seed_003s_kernel_tables_are_graded(tmp_path, params, right, wrong):
    """Seed 003 Q3 c) to e) worked by hand: 6 = (64 + 2p - d (k - 1) - 1) / s + 1. c) s = 1:
    k - 1 = 63 - 5 = 58, k = 59 (the homework's 52 is a slip). d) p = 1, d = 2, s = 3:
    2 (k - 1) = 65 - 15 = 50, k = 26, as the homework has it; its working divides by 5, which
    for s = 3 would give 2 (k - 1) = 40, k = 21. e) p = 1, d = 1, s = 2: k - 1 = 65 - 10, k = 56
    as its table; dividing by 5 gives k - 1 = 40, k = 41."""
    spec = ", ".join(f"{k}: {v}" for k, v in params.items())
    path = tmp_path / "a.yaml"
    path.write_text(
        f"assignment: q3\nquestions:\n  - {{id: k, problem: cnn_kernel, params: {{{spec}}}}}\n"
    )
    a = read_assignment(path)
    q = variant_question(a, a.question("k"), "s1")
    assert q.answer == str(right)
    grader = Grader(a)
    assert grader.check(q, Answer(str(right)), 5).verdict == "correct"
    result = grader.check(q, Answer(str(wrong)), 5)
    assert result.verdict == "incorrect"
    if params["s"] != 1:
        assert result.slip == "the output minus one taken for the stride"
