"""A student's file is written by an adversary (issue 10): one test for each attack that worked
before the grader was redesigned, by the number of the issue's list.

Markers: an attack that would run code makes it create a file named HACKED; each test asserts
that no such file appeared. Timings are bounds generous enough for a loaded CI machine, never
benchmarks: a refusal that takes the old path takes tens of seconds.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import DATA, EXAMPLES, ROOT

import derive
from derive.claims import parse_claim
from derive.claims.assignment import read_assignment
from derive.claims.claimfile import read_claims
from derive.claims.classrun import feedback_name, run_class, submissions
from derive.claims.grade import check_file, prepare
from derive.claims.gradebook import gradebook_csv
from derive.claims.pool import Pool
from derive.claims.verdict import ClaimResult, FileResult
from derive.errors import DeriveError
from derive.safeio import clean, load_yaml, read_yaml, shown

ASSIGNMENT = EXAMPLES / "homework.yaml"
MARKER = "HACKED"


@pytest.fixture(scope="module")
def grader():
    return prepare(read_assignment(ASSIGNMENT))


def evil_zip(path: Path, marker: Path) -> bytes:
    """A zip archive that runpy would run: its __main__.py creates ``marker``."""
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("__main__.py", f"open({str(marker)!r}, 'w').close()\n")
    return path.read_bytes()


def answers(folder: Path, name: str, data: dict | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def graded(grader, path: Path, question: str):
    """The verdict on one question of a graded answers file."""
    return next(c for c in grader.grade(path).claims if c.id == question)


def read_csv(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


# --- 1-3: running code on the grader ---------------------------------------------------------
def test_1_derive_never_runs_a_file_it_wrote_nor_a_zip(tmp_path, monkeypatch, grader):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / MARKER
    archive = evil_zip(tmp_path / "payload.zip", marker)
    # a zip, as the feedback .md a student's text could fill, and as a file named .py
    for name in ("feedback.md", "net.py"):
        (tmp_path / name).write_bytes(archive)
        with pytest.raises(DeriveError):
            derive.load(tmp_path / name)
    # a claims file that names such a file as its network
    (tmp_path / "bob.yaml").write_text("network: feedback.md\nclaims: [{id: a, claim: 'x = 1'}]\n")
    with pytest.raises(DeriveError, match="does not run"):
        check_file(tmp_path / "bob.yaml")
    # a class: mallory's answer holds the archive's bytes, bob names her feedback as a network
    klass = tmp_path / "class"
    text = archive.decode("latin-1")
    answers(klass, "mallory.yaml", {"student": "mallory", "answers": {"sigmoid": text}})
    out = tmp_path / "out"
    run_class(klass, out, grader, workers=0, pdf=False)
    written = out / "feedback" / "mallory.yaml.md"
    assert written.is_file()
    answers(klass, "bob.yaml", {"student": "bob", "network": str(written), "answers": {}})
    run_class(klass, out, grader, workers=0, pdf=False)
    assert not marker.exists()
    assert not [p for p in out.rglob("*.py")]  # derive writes no Python, so runs none of its own


def test_2_another_students_upload_is_never_run(tmp_path, monkeypatch):
    subs = tmp_path / "subs"
    (subs / "bob").mkdir(parents=True)
    (subs / "bob" / "net.py").write_text(f"open({str(tmp_path / MARKER)!r}, 'w').close()\n")
    (subs / "alice").mkdir()
    (subs / "alice" / "claims.yaml").write_text(
        "network: ../bob/net.py\nclaims: [{id: a, claim: 'x = 1'}]\n"
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DeriveError, match="--network"):
        check_file(subs / "alice" / "claims.yaml")
    assert not (tmp_path / MARKER).exists()


def test_3_a_class_in_the_working_folder_runs_none_of_its_files(cli, tmp_path, monkeypatch):
    hw = tmp_path / "hw"
    hw.mkdir()
    (hw / "net.py").write_text(f"open({str(tmp_path / MARKER)!r}, 'w').close()\n")
    (hw / "eve.yaml").write_text("network: net.py\nclaims: [{id: a, claim: 'x = 1'}]\n")
    monkeypatch.chdir(hw)
    assert cli("check", "--class", ".").exit_code == 2  # a class needs an assignment
    # an assignment inside the class folder, or naming a network there, is refused
    (hw / "a.yaml").write_text(
        "assignment: a\nnetworks: {n: {file: net.py}}\nquestions: [{id: q, ask: 'x'}]\n"
    )
    result = cli("check", "-a", hw / "a.yaml", "--class", ".")
    assert result.exit_code == 2 and "inside the class folder" in result.stderr
    assert not (tmp_path / MARKER).exists()


def test_3_an_assignment_naming_a_network_in_the_class_folder_is_refused(cli, tmp_path):
    hw, course = tmp_path / "hw", tmp_path / "course"
    hw.mkdir()
    course.mkdir()
    (hw / "net.py").write_text(f"open({str(tmp_path / MARKER)!r}, 'w').close()\n")
    (hw / "eve.yaml").write_text("answers: {}\n")
    (course / "a.yaml").write_text(
        "assignment: a\nnetworks: {n: {file: ../hw/net.py}}\nquestions: [{id: q, ask: 'x'}]\n"
    )
    result = cli("check", "-a", course / "a.yaml", "--class", hw)
    assert result.exit_code == 2 and "inside the class folder" in result.stderr
    assert not (tmp_path / MARKER).exists()


# --- 4-7: hanging the grader or exhausting memory ----------------------------------------
@pytest.mark.parametrize(
    "key, value", [("set", {"k": 1000}), ("set", {"d": 6000, "d_h": 6000, "c": 6000})]
)
def test_4_a_student_cannot_choose_the_sizes(tmp_path, grader, key, value):
    path = answers(tmp_path, "s.yaml", {key: value, "answers": {"E": 1.7336}})
    start = time.perf_counter()
    result = grader.grade(path)
    assert time.perf_counter() - start < 5
    assert any(f"{key}: refused" in n for n in result.notes)
    claims = answers(tmp_path, "c.yaml", {key: value, "claims": [{"id": "a", "claim": "J = 1"}]})
    with pytest.raises(DeriveError, match="set: not in a claims file"):
        read_claims(claims)


def test_5_each_file_has_a_total_budget(tmp_path, grader, monkeypatch):
    """seconds_per_answer stops one answer; seconds_per_student the file: after it, the rest are
    not checked (each says so) and the file costs no more."""
    from dataclasses import replace

    from derive.claims import check

    def slow(self, entry):
        time.sleep(0.6)
        raise AssertionError("not reached within the time limit")

    monkeypatch.setattr(check.Checker, "_check", slow)
    limits = replace(grader.assignment.limits, seconds_per_student=1.0, seconds_per_answer=0.3)
    monkeypatch.setattr(grader, "assignment", replace(grader.assignment, limits=limits))
    given = {q.id: "x" for q in grader.assignment.questions}
    start = time.perf_counter()
    result = grader.grade(answers(tmp_path, "s.yaml", {"answers": given}))
    assert time.perf_counter() - start < 2.0  # 7 answers of 0.6 s each would take 4.2 s
    messages = [c.message for c in result.claims]
    assert messages[0] == "took longer than 0.3 s to check"
    assert messages[-1].startswith("not checked: this file may take 1 s in all")


def test_5_a_hung_or_killed_worker_costs_one_student(tmp_path):
    def task(n):
        if n == 2:
            time.sleep(60)  # beyond every alarm: only the parent's deadline stops it
        if n == 4:
            os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer would
        return n * 10

    start = time.perf_counter()
    outcomes = {o.key: o for o in Pool(task, workers=2, deadline=1.5).run((n, n) for n in range(8))}
    assert time.perf_counter() - start < 20
    assert {k: o.result for k, o in outcomes.items() if o.error is None} == {
        n: 10 * n for n in (0, 1, 3, 5, 6, 7)}  # fmt: skip
    assert outcomes[2].error.startswith("stopped after")
    assert "killed by SIGKILL" in outcomes[4].error


def test_5_a_worker_that_dies_is_one_error_row_and_the_class_goes_on(tmp_path):
    folder = tmp_path / "class"
    for k in range(6):
        answers(folder, f"s{k}.yaml", {"student": f"s{k}", "answers": {}})

    def check(path, student):
        if path.name == "s2.yaml":
            os.kill(os.getpid(), signal.SIGKILL)
        return FileResult(path, student, (ClaimResult("q", "", "correct", "", points=1.0,
                                                      max_points=1.0),))  # fmt: skip

    summary = run_class(folder, tmp_path / "out", check=check, workers=2, pdf=False)
    rows = {r["student"]: r for r in read_csv(tmp_path / "out" / "gradebook.csv")}
    assert summary.errors == 1 and len(rows) == 6
    assert "killed by SIGKILL" in rows["s2"]["error"]
    assert all(rows[f"s{k}"]["points"] == "1" for k in (0, 1, 3, 4, 5))


def test_5_a_worker_has_a_memory_limit():
    def hungry(_):
        return np.ones(2 << 30, dtype=np.uint8).sum()  # 2 GiB

    outcome = next(iter(Pool(hungry, workers=1, memory_mb=512, deadline=30).run([(0, 0)])))
    assert outcome.error is not None and "memory" in outcome.error


def test_6_deep_yaml_nesting_is_refused_fast(tmp_path):
    for text in ("[" * 240_000, "claims: " + "[" * 40_000, "a:\n" + "".join(
            " " * k + "- \n" for k in range(1, 300))):  # fmt: skip
        path = tmp_path / "deep.yaml"
        path.write_text(text)
        start = time.perf_counter()
        with pytest.raises(DeriveError, match="nested deeper|not valid YAML"):
            read_yaml(path, 10**6)
        assert time.perf_counter() - start < 1.0


def test_6_a_huge_sparse_file_is_not_read(tmp_path):
    path = tmp_path / "big.yaml"
    with open(path, "wb") as f:
        f.truncate(3 * 2**30)  # 3 GB that takes no disk
    start = time.perf_counter()
    (sub,) = submissions(tmp_path)
    assert "larger than 256 kB" in sub.problem and sub.digest == ""
    with pytest.raises(DeriveError, match="larger than"):
        read_claims(path)
    assert time.perf_counter() - start < 1.0


def test_6_handcalc_values_with_aliases_are_refused(cli, tmp_path):
    bomb = "x: &a [0.18, 2.42, 1.34]\n" + "".join(
        f"v{k}: &v{k} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for k, p in enumerate(["a", *(f"v{j}" for j in range(7))])
    )
    path = tmp_path / "v.yaml"
    path.write_text(bomb)
    start = time.perf_counter()
    result = cli("handcalc", EXAMPLES / "hand321.py", "--values", path, "-o", tmp_path / "o")
    assert result.exit_code == 2 and "aliases" in result.stderr
    assert time.perf_counter() - start < 2.0


KILL_PARENT = """
import os, sys, time
from pathlib import Path
sys.path.insert(0, {tests!r})
from derive.claims.classrun import run_class
from derive.claims.verdict import FileResult

def check(path, student):
    Path({pids!r}, str(os.getpid())).write_text("")
    time.sleep(60)
    return FileResult(path, student)

run_class(Path({folder!r}), Path({out!r}), check=check, workers=2, pdf=False)
"""


def test_7_killing_derive_kills_its_workers(tmp_path):
    folder = tmp_path / "class"
    for k in range(4):
        answers(folder, f"s{k}.yaml", {"answers": {}})
    pids = tmp_path / "pids"
    pids.mkdir()
    script = KILL_PARENT.format(tests=str(ROOT / "tests"), pids=str(pids), folder=str(folder),
                                out=str(tmp_path / "out"))  # fmt: skip
    parent = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 30
    while len(list(pids.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = [int(p.name) for p in pids.iterdir()]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"  # a zombie is dead
    except FileNotFoundError:
        return False


# --- 8-9: crashing a class run ------------------------------------------------------------
def test_8_a_lone_surrogate_never_stops_a_class(tmp_path):
    assert clean({"\ud800": ["a\udfffb"]}) == {"\ufffd": ["a\ufffdb"]}
    for loader in ("default", "pure"):
        text = 'student: "\\ud800"\nanswers: {sigmoid: "\\ud800 x"}\n'
        if loader == "pure":  # PyYAML without libyaml accepts the escape: cleaned
            import derive.safeio as safeio

            data = yaml.load(text, Loader=yaml.SafeLoader)
            assert clean(data)["student"] == "\ufffd" and safeio
        else:
            try:
                assert load_yaml(text, "x")["student"] == "\ufffd"
            except DeriveError as err:
                assert "not valid YAML" in str(err)  # libyaml refuses the escape itself
    folder = tmp_path / "class"
    answers(folder, "ok.yaml", {"answers": {}})

    def check(path, student):  # a result full of surrogates, as a checker could quote back
        bad = "\ud800"
        return FileResult(path, bad, (ClaimResult(bad, bad, "incorrect", bad, slip=bad),),
                          notes=(bad,))  # fmt: skip

    summary = run_class(folder, tmp_path / "out", check=check, workers=0, pdf=True)
    assert summary.checked == 1
    assert "\\ud800" in (tmp_path / "out" / "gradebook.csv").read_text("utf-8")
    json.loads((tmp_path / "out" / "results.json").read_text("utf-8"))


def test_9_a_file_name_that_is_not_utf8_is_graded(tmp_path, grader):
    folder = tmp_path / "class"
    folder.mkdir()
    raw = os.path.join(os.fsencode(folder), b"\xff\xfe.yaml")
    with open(raw, "w") as f:
        f.write("answers: {E: 1.7336}\n")
    answers(folder, "ok.yaml", {"answers": {"E": 1.7336}})
    summary = run_class(folder, tmp_path / "out", grader, workers=0, pdf=False)
    rows = read_csv(tmp_path / "out" / "gradebook.csv")
    assert summary.checked == 2 and {r["file"] for r in rows} == {"\\xff\\xfe.yaml", "ok.yaml"}
    assert all(r["points"] == "1" for r in rows)


# --- 10-12: grading policy taken from the student ----------------------------------------
def test_10_infinite_values_never_make_a_number_right(tmp_path, grader):
    claims = answers(
        tmp_path, "c.yaml", "values: {t: [[.inf]]}\nclaims: [{id: E, claim: 'E = 42'}]\n"
    )
    with pytest.raises(DeriveError, match="values: not in a claims file"):
        read_claims(claims)
    path = answers(tmp_path, "s.yaml", "values: {t: [[.inf]]}\nanswers: {E: 42}\n")
    assert graded(grader, path, "E").verdict == "incorrect"
    (tmp_path / "a.yaml").write_text(
        ASSIGNMENT.read_text().replace("{file: mlp.py}", "{file: mlp.py, values: {x: [[.inf]]}}")
    )
    for name in ("mlp.py", "hand321.py"):
        (tmp_path / name).write_text((EXAMPLES / name).read_text())
    with pytest.raises(DeriveError, match="not a finite number"):
        read_assignment(tmp_path / "a.yaml")


def test_11_a_students_tolerance_is_ignored(tmp_path, grader):
    path = answers(tmp_path, "s.yaml", {"tolerance": 0.99, "answers": {"E": 0.1}})
    assert graded(grader, path, "E").verdict == "incorrect"
    claims = answers(tmp_path, "c.yaml", {"claims": [{"id": "E", "claim": "E = 0.1",
                                                      "tolerance": 0.99}]})  # fmt: skip
    assert "tolerance: not in a claims file" in read_claims(claims).claims[0].problem


def test_12_two_files_for_one_student_are_both_error_rows(tmp_path, grader):
    folder = tmp_path / "class"
    answers(folder, "bob.yaml", {"student": "bob", "answers": {"E": 1.7336}})
    answers(folder, "mallory.yaml", {"student": "bob", "answers": {"E": 0}})
    answers(folder, "ann.yaml", {"student": "ann", "answers": {"E": 1.7336}})
    run_class(folder, tmp_path / "out", grader, workers=0, pdf=False)
    rows = read_csv(tmp_path / "out" / "gradebook.csv")
    bobs = [r for r in rows if r["student"] == "bob"]
    assert len(bobs) == 2 and all("2 files say they are student bob" in r["error"] for r in bobs)
    assert all(r["points"] == "" for r in bobs)
    assert [r["points"] for r in rows if r["student"] == "ann"] == ["1"]
    md = (tmp_path / "out" / "feedback" / "mallory.yaml.md").read_text()
    assert "2 files say they are student bob" in md


# --- 13-16: files and output ---------------------------------------------------------------
def test_13_feedback_names_never_collide(tmp_path):
    crafted = "a_b-" + hashlib.sha256(b"a b.yaml").hexdigest()[:8] + ".yaml"
    names = ["a b.yaml", "a_b.yaml", crafted, "a.yaml", "a.yml", "A.yaml", "a__b.yaml",
             "a_5fb.yaml", "a/b.yaml", "a_2fb.yaml", "-x.yaml", "_2dx.yaml"]  # fmt: skip
    made = [feedback_name(n) for n in names]
    assert len(set(made)) == len(made), made
    long = ["x" * 200 + str(k) for k in range(5)]
    assert len({feedback_name(n) for n in long}) == 5
    assert all(len(feedback_name(n)) <= 120 for n in long)


def test_14_links_and_special_files_are_not_read(tmp_path, grader):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "key.yaml").write_text("answers: {E: 1.7336}\nstudent: TOPSECRET\n")
    folder = tmp_path / "class"
    answers(folder, "ok.yaml", {"answers": {}})
    (folder / "eve.yaml").symlink_to(secret / "key.yaml")
    (folder / "env.yaml").symlink_to("/proc/self/environ")
    (folder / "dir").symlink_to(secret)
    os.mkfifo(folder / "fifo.yaml")
    run_class(folder, tmp_path / "out", grader, workers=0, pdf=False)
    rows = {r["file"]: r for r in read_csv(tmp_path / "out" / "gradebook.csv")}
    for name in ("eve.yaml", "env.yaml", "dir"):
        assert "symbolic link" in rows[name]["error"], rows
    assert rows["fifo.yaml"]["error"] == "not a regular file"
    everything = "".join(p.read_text(errors="replace") for p in (tmp_path / "out").rglob("*")
                         if p.is_file())  # fmt: skip
    assert "TOPSECRET" not in everything and "PATH=" not in everything


def test_15_cells_never_start_a_formula(tmp_path):
    bad = ["\x01=HYPERLINK(1)", "=1+1", " =1", "\t=1", "\u200b=cmd", "+1", "-1", "@SUM(1)",
           "\r=1", "\x00=1"]  # fmt: skip
    results = [FileResult(Path(f"{k}.yaml"), s, notes=(s,)) for k, s in enumerate(bad)]
    text = gradebook_csv(results)
    for row in list(csv.reader(io.StringIO(text)))[1:]:
        for cell in (row[0], row[-2]):
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell
            assert all(ch.isprintable() for ch in cell), cell


def test_15_ids_that_differ_in_white_space_are_not_questions(tmp_path, grader):
    result = grader.grade(answers(tmp_path, "s.yaml",
                                  {"answers": {"E": 1.7336, "E ": 0, "E\t": 0}}))  # fmt: skip
    assert [c.id for c in result.claims].count("E") == 1 and result.points == 1
    assert any("does not ask" in n for n in result.notes)


def test_16_control_characters_never_reach_the_terminal(cli, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text('network: "\\e]0;owned\\a\\e[2J"\nclaims: [{id: "\\e[31mq", claim: "x = 1"}]\n')
    result = cli("check", path)
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "\\x1b]0;owned\\x07" in result.stderr
    path.write_text('symbols: {x: scalar}\nclaims: [{id: "\\e[31mq", claim: "x = \\e[2J"}]\n')
    result = cli("check", path)
    assert "\x1b" not in result.stdout and "\\x1b[31mq" in result.stdout


# --- 17-19: the parser, the other commands, strict numbers ---------------------------------
@pytest.mark.parametrize("text", ["²", "x²", "١ = 1", "x_² = 1", "ｘ = 1", "\u0663"])
def test_17_unicode_digits_are_a_parse_error(text):
    from derive.claims import ParseError

    with pytest.raises(ParseError):
        parse_claim(text)


def test_17_claims_that_crashed_the_checker(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"symbols": {"u": {"vector": "n"}, "x": "scalar"}, "claims": [
        {"id": "a", "claim": "u - u = u - u + 1"},
        {"id": "b", "claim": "sigma(x)*(1-sigma(x)) = d/dx sigma(x)"},
        {"id": "c", "claim": "u - u = 0 u"},
    ]}))  # fmt: skip
    got = {c.id: c.verdict for c in check_file(path).claims}
    assert got == {"a": "incorrect", "b": "correct", "c": "correct"}


def test_18_grad_with_no_samples(cli, tmp_path):
    path = tmp_path / "v.npz"
    np.savez(path, x=np.zeros((0, 3)), y=np.zeros((0, 2)), theta=np.ones((2, 3)), b=np.ones(2))
    result = cli("grad", DATA / "small.py", "--values", path)
    assert result.exit_code == 2 and "no samples" in result.stderr
    assert result.stderr.count("\n") == 1


def test_18_complex_values_are_refused(cli, tmp_path):
    path = tmp_path / "v.npz"
    np.savez(path, x=np.ones((2, 3)) * 1j, y=np.ones((2, 2)), theta=np.ones((2, 3)), b=np.ones(2))
    result = cli("grad", DATA / "small.py", "--values", path)
    assert result.exit_code == 2 and "complex" in result.stderr


def test_18_an_output_folder_under_a_file(cli, tmp_path):
    (tmp_path / "f").write_text("")
    result = cli("report", DATA / "small.py", "-o", tmp_path / "f" / "sub", "--format", "tex")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "Not a directory" in result.stderr


def test_18_handcalc_values_nested_deep(cli, tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("x: " + "[" * 5000 + "1" + "]" * 5000 + "\n")
    result = cli("handcalc", EXAMPLES / "hand321.py", "--values", path, "-o", tmp_path / "o")
    assert result.exit_code == 2 and re.search("nested deeper|nesting depth", result.stderr)


def test_18_a_full_disk_is_one_line(cli, tmp_path, monkeypatch):
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o"))

    monkeypatch.setattr("derive.render.report._move_into", full)
    result = cli("report", DATA / "small.py", "-o", tmp_path / "o", "--format", "tex")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert "No space left on device" in result.stderr


def test_19_no_string_ever_reaches_sympify():
    from derive.ops.algebra import exact

    with pytest.raises(Exception, match="SympifyError|strict"):
        exact("__import__('os').system('true')")
    source = {p: p.read_text() for p in (ROOT / "derive").rglob("*.py")}
    for path, text in source.items():
        for line in text.splitlines():
            code = line.split("#")[0]
            if "sympify(" in code:
                assert "strict=True" in code, f"{path}: {line}"
            # (SymPy's Function.eval is a method derive defines, not Python's eval called)
            assert not re.search(r"(?<!def )\b(parse_expr|parse_latex|eval)\(", code), line
            if re.search(r"\bexec\(", code):  # the trusted network file; derive's own NumPy code
                assert path.name in ("graph.py", "compile.py"), f"{path}: {line}"


def test_shown_makes_every_character_visible():
    assert shown("a\x1b[31mb\n\tc\u202e") == "a\\x1b[31mb c\\u202e"
    assert shown(b"\xff".decode("utf-8", "surrogateescape")) == "\\udcff"


# --- a second hunt (a reviewer's attacks on the redesigned grader) ---------------------------
def test_a_name_that_differs_in_white_space_is_its_own_row(tmp_path, grader):
    folder = tmp_path / "class"
    answers(folder, "alice.yaml", (EXAMPLES / "answers" / "alice.yaml").read_text())
    answers(folder, " alice.yaml", "student: mallory\nanswers: {E: 2}\n")
    answers(folder, "\u00a0alice.yaml", "student: eve\nanswers: {E: 2}\n")
    summary = run_class(folder, tmp_path / "out", grader, workers=0, pdf=False)
    rows = {r["file"]: r for r in read_csv(tmp_path / "out" / "gradebook.csv")}
    assert summary.checked == 3 and len(rows) == 3
    assert rows["alice.yaml"]["points"] == "9" and rows["alice.yaml"]["student"] == "alice"
    assert rows[" alice.yaml"]["student"] == "mallory" and "\\xa0alice.yaml" in rows
    assert "Feedback for `alice`" in (tmp_path / "out" / "feedback" / "alice.yaml.md").read_text()


def test_a_formula_question_answered_with_a_number_is_not_a_number_question(tmp_path):
    (tmp_path / "a.yaml").write_text(
        f"assignment: a\nnetworks: {{hand: {{file: {EXAMPLES / 'hand321.py'}}}}}\n"
        "questions: [{id: db2, ask: '\\frac{\\partial E}{\\partial b_2}', points: 3}]\n"
    )
    grader = prepare(read_assignment(tmp_path / "a.yaml"))
    result = grader.grade(answers(tmp_path, "s.yaml", {"answers": {"db2": 0.46}}))
    assert result.claims[0].verdict != "correct" and result.points == 0  # dE/db2 is 0.4558


@pytest.mark.parametrize(
    "question, answer",
    [
        ("ds1", r"\frac{\partial J}{\partial \mathbf{s}_1^{(i)}}"),  # another way to write i
        ("ds1", r"\frac{\partial J}{\partial s_1^i}"),  # the Python name
        ("sigmoid", r"\frac{d\,\mathrm{sigmoid}(x)}{dx}"),  # another spelling of sigma
        ("tanh", r"\frac{d\tanh(x+0)}{dx}"),
        (
            "dW2",
            r"\frac{\partial J}{\partial \mathbf{s}_2^i} (\mathbf{h}^i)^T \frac{\partial J}"
            r"{\partial W_2}",
        ),  # fmt: skip
    ],
)
def test_restating_the_question_in_other_words_earns_nothing(tmp_path, grader, question, answer):
    claim = graded(grader, answers(tmp_path, "s.yaml", {"answers": {question: answer}}), question)
    assert claim.verdict == "invalid" and claim.points == 0, claim.message


@pytest.mark.parametrize(
    "question, answer",
    [
        ("sigmoid", r"\sigma(x)(1-\sigma(x)) \cdot \mathbb{1}[x < 50]"),
        ("sigmoid", r"\sigma(x)(1-\sigma(x)) + 5\,\mathbb{1}[x > 7]"),
        ("sigmoid", r"\sigma(x)(1-\sigma(x)) + \mathrm{relu}(x-30)"),
        ("sigmoid", r"\sigma(x)(1-\sigma(x)) + 10^{-9}"),
        ("sigmoid", r"\sigma(x)(1-\sigma(x)) + \mathbb{1}[x \geq 100]"),
        (
            "dW2",
            r"\frac{1}{m}\sum_{i=1}^{m} (\mathbf{p}^i - \mathbf{y}^i)(\mathbf{h}^i)^T + "
            r"\mathbb{1}[J > 1000]\, W_2",
        ),  # fmt: skip
    ],
)
def test_a_term_where_the_random_points_never_fall_is_found(tmp_path, grader, question, answer):
    claim = graded(grader, answers(tmp_path, "s.yaml", {"answers": {question: answer}}), question)
    assert claim.verdict == "incorrect", claim.message


def test_every_link_of_a_chain_is_checked(tmp_path, grader):
    ae = r"W_2^T \frac{\partial J}{\partial \mathbf{s}_2^i} \circ \mathbb{1}[\mathbf{s}_1^i \geq 0]"
    for tail in ("42", r"\mathbf{0}", r"W_2^T(\mathbf{p}^i-\mathbf{y}^i)"):
        result = grader.grade(answers(tmp_path, "s.yaml", {"answers": {"ds1": f"{ae} = {tail}"}}))
        assert result.claims[3].id == "ds1" and result.claims[3].points == 0, tail


def test_an_unreadable_student_folder_is_one_error_row(tmp_path, grader):
    folder = tmp_path / "class"
    answers(folder, "alice.yaml", {"answers": {"E": 1.7336}})
    locked = folder / "locked"
    answers(locked, "answers.yaml", {"answers": {}})
    import derive.claims.classrun as classrun

    real = os.scandir

    def scandir(path="."):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real(path)

    classrun.os.scandir, saved = scandir, classrun.os.scandir
    try:
        run_class(folder, tmp_path / "out", grader, workers=0, pdf=False)
    finally:
        classrun.os.scandir = saved
    rows = {r["file"]: r for r in read_csv(tmp_path / "out" / "gradebook.csv")}
    assert "cannot be read" in rows["locked"]["error"] and rows["alice.yaml"]["points"] == "1"


def test_a_students_folder_says_who_handed_it_in(tmp_path, grader):
    folder = tmp_path / "class"
    answers(folder / "bob", "answers.yaml", {"answers": {"E": 1.7336}})
    answers(folder / "mallory", "answers.yaml", {"student": "bob", "answers": {"E": 0}})
    run_class(folder, tmp_path / "out", grader, workers=0, pdf=False)
    rows = {r["file"]: r for r in read_csv(tmp_path / "out" / "gradebook.csv")}
    assert (
        rows["bob/answers.yaml"]["student"] == "bob" and rows["bob/answers.yaml"]["points"] == "1"
    )
    mallory = rows["mallory/answers.yaml"]
    assert mallory["student"] == "mallory" and "the file says it is student bob" in mallory["notes"]


def test_results_are_strict_ascii_json(tmp_path, grader):
    folder = tmp_path / "class"
    answers(folder, "s.yaml", {"student": "s\u009b", "answers": {"sigmoid": r"\log(0 x)"}})
    run_class(folder, tmp_path / "out", grader, workers=0, pdf=False)
    text = (tmp_path / "out" / "results.json").read_text()
    assert text.isascii() and "Infinity" not in text and "NaN" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))


def test_many_refused_keys_make_a_few_notes(tmp_path, grader):
    text = "answers: {E: 1.7336}\n" + "".join(f"k{k}: 1\n" for k in range(5000))
    result = grader.grade(answers(tmp_path, "s.yaml", text))
    assert len(result.notes) <= 12 and "4,990 more keys refused" in result.notes[-1]


def test_a_claims_file_cannot_redefine_a_built_in_function(tmp_path):
    path = answers(
        tmp_path,
        "c.yaml",
        "functions: {sigma: tanh}\nsymbols: {x: scalar}\n"
        "claims: [{id: q, claim: '\\frac{d\\sigma(x)}{dx} = 1 - \\sigma(x)^2'}]\n",
    )
    with pytest.raises(DeriveError, match="sigma is a built-in function"):
        read_claims(path)
    ok = answers(tmp_path, "d.yaml", "functions: {sgn: step}\nclaims: [{id: q, claim: 'x = x'}]\n")
    assert read_claims(ok).functions == {"sgn": "step"}  # seed 000's sgn for the step


def test_keys_equal_in_value_are_one_key(tmp_path):
    with pytest.raises(DeriveError, match="given twice"):
        load_yaml("answers:\n  1: 2\n  0x1: 1.7336\n", "s.yaml")


def test_a_network_question_reads_the_networks_names(tmp_path):
    """An assignment's symbol x (for sigma') does not hide the MLP's input x."""
    text = (EXAMPLES / "homework.yaml").read_text() + (
        "  - {id: dW1, network: mlp, ask: '\\frac{\\partial J}{\\partial W_1}'}\n")  # fmt: skip
    (tmp_path / "a.yaml").write_text(text)
    for name in ("mlp.py", "hand321.py"):
        (tmp_path / name).write_text((EXAMPLES / name).read_text())
    grader = prepare(read_assignment(tmp_path / "a.yaml"))
    answer = r"\sum_{i=1}^{m} \frac{\partial J}{\partial \mathbf{s}_1^i} (\mathbf{x}^i)^T"
    result = grader.grade(answers(tmp_path, "s.yaml", {"answers": {"dW1": answer}}))
    assert result.claims[-1].verdict == "correct", result.claims[-1].message


def test_a_time_limit_that_is_swallowed_fires_again():
    """Code that catches the first alarm (SymPy's "except Exception", a garbage-collector
    callback, where an exception is only reported) must not run on unbounded."""
    import time

    from derive.claims.check import OutOfTime, share_of_time, time_limit

    swallowed = []
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        with time_limit(0.2):
            try:
                time.sleep(1)
            except TimeoutError:
                swallowed.append("claim")
            time.sleep(3)
    assert swallowed == ["claim"] and time.monotonic() - start < 1.0
    start = time.monotonic()
    with time_limit(5):
        with pytest.raises(OutOfTime):
            with share_of_time(0.2):
                try:
                    time.sleep(1)
                except OutOfTime:
                    swallowed.append("share")
                time.sleep(3)
    assert swallowed[-1] == "share" and time.monotonic() - start < 1.0
