"""Grading a whole class (derive/claims/classrun.py) and the output side of `derive check`.

The checker itself is not needed here: a fake check, below, reads a claims file with the real
reader and takes each claim's verdict from the claim's first word ("incorrect x = 2"). Grading
against a real assignment is tested at the end and in test_grading.py.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, need_latex

from derive.claims.claimfile import read_claims
from derive.claims.classrun import run_class, submissions
from derive.claims.verdict import VERDICTS, ClaimResult, FileResult
from derive.errors import DeriveError
from derive.render.feedback import render_feedback, safe_math, tex_escape

HOSTILE = r"\input{/etc/passwd} \immediate\write18{touch pwned} \def\x{1} ^^5cinput $x$ % # & ~"
RIGHT = r"\frac{1}{m}\sum_{i=1}^{m}(\hat{\mathbf{y}}^i - \mathbf{y}^i)(\mathbf{x}^i)^T"


# --- a fake checker -----------------------------------------------------------------------
def fake_check(path: Path, student: str | None = None) -> FileResult:
    """Verdicts from the claims' first words; "raise" fails like a buggy checker, "error" gives
    an error result. Logs each call to $CHECK_LOG (a file: workers are other processes)."""
    if os.environ.get("CHECK_LOG"):
        with open(os.environ["CHECK_LOG"], "a") as log:
            log.write(path.name + "\n")
    claims = read_claims(path)  # a broken file raises DeriveError, as the real checker does
    results = []
    for entry in claims.claims:
        word = entry.text.split()[0] if entry.text.split() else ""
        if word == "raise":
            raise ValueError("boom")
        if word == "interrupt":
            raise KeyboardInterrupt
        if word == "error":
            return FileResult(path, claims.student, error=f"{path}: the network does not load")
        if word == "incorrect":
            results.append(
                ClaimResult(
                    entry.id,
                    entry.text,
                    word,
                    "The two sides differ.",
                    point={"x": 0.5},
                    claimed_value=[1.0, 2.0],
                    correct_value=[2.0, 4.0],
                    expected=RIGHT,
                    slip="a missing 1/m",
                )  # fmt: skip
            )
        elif word == "unparseable":
            results.append(ClaimResult(entry.id, entry.text, word, "Unexpected ).", position=3))
        else:
            verdict = word if word in VERDICTS else "invalid"
            results.append(ClaimResult(entry.id, entry.text, verdict, f"This claim is {verdict}."))
    return FileResult(path, claims.student, tuple(results))


class Recorder:
    """A check that records the files it is given and raises KeyboardInterrupt at call
    number ``stop`` (1-based), as Ctrl-C would in the middle of a run."""

    def __init__(self, stop: int | None = None):
        self.calls: list[str] = []
        self.stop = stop

    def __call__(self, path: Path, student: str | None = None) -> FileResult:
        self.calls.append(path.name)
        if len(self.calls) == self.stop:
            raise KeyboardInterrupt
        return fake_check(path)


def write_class(folder: Path, students: dict[str, list[str]]) -> Path:
    """One claims file per student: {"alice": ["correct a = a", ...]} -> alice.yaml, ids q1..."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, texts in students.items():
        claims = [{"id": f"q{k}", "claim": text} for k, text in enumerate(texts, 1)]
        (folder / f"{name}.yaml").write_text(yaml.safe_dump({"student": name, "claims": claims}))
    return folder


def read_csv(path: Path) -> list[dict[str, str]]:
    text = path.read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


CLASS = {
    "alice": ["correct a = a", "incorrect b = 2", "almost-everywhere r = r"],
    "bob": ["correct a = a", "unparseable (b ="],
    "carol": ["invalid z = q", "correct a = a", "correct c = c", "correct d = d"],
}


@pytest.fixture
def klass(tmp_path) -> Path:
    return write_class(tmp_path / "class", CLASS)


def run(folder: Path, out: Path, **options):
    options.setdefault("check", fake_check)
    options.setdefault("workers", 0)  # in this process: a Recorder sees its calls
    options.setdefault("pdf", False)
    return run_class(folder, out, **options)


# --- the gradebook ------------------------------------------------------------------------
def test_gradebook_has_a_row_per_student_and_a_column_per_claim(klass, tmp_path):
    out = tmp_path / "out"
    summary = run(klass, out)
    rows = read_csv(out / "gradebook.csv")
    header = (out / "gradebook.csv").read_text().splitlines()[0]
    assert header == ("student,file,points,max_points,q1,q2,q3,q4,verdict q1,verdict q2,"
                      "verdict q3,verdict q4,notes,error")  # fmt: skip
    assert [r["student"] for r in rows] == ["alice", "bob", "carol"]
    alice, bob, carol = rows
    assert alice == {
        "student": "alice", "file": "alice.yaml", "points": "2", "max_points": "3", "q1": "1",
        "q2": "0", "q3": "1", "q4": "", "verdict q1": "correct", "verdict q2": "incorrect",
        "verdict q3": "almost-everywhere", "verdict q4": "", "notes": "", "error": "",
    }  # fmt: skip
    assert (bob["points"], bob["max_points"], bob["verdict q2"], bob["verdict q3"]) == (
        "1", "2", "unparseable", "")  # fmt: skip
    assert (carol["points"], carol["max_points"], carol["verdict q1"]) == ("3", "4", "invalid")
    assert summary.students == summary.checked == 3 and summary.skipped == summary.errors == 0
    assert summary.verdicts == {
        "correct": 5, "almost-everywhere": 1, "incorrect": 1, "unparseable": 1, "invalid": 1,
        "unanswered": 0,
    }  # fmt: skip
    assert summary.gradebook == out / "gradebook.csv" and summary.gradebook in summary.written
    data = json.loads((out / "results.json").read_text())
    assert [s["student"] for s in data["students"]] == ["alice", "bob", "carol"]
    assert data["questions"] == ["q1", "q2", "q3", "q4"]
    assert data["slips"] == {"q2": {"a missing 1/m": 1}}
    assert data["students"][0]["claims"][1]["point"] == {"x": 0.5}
    assert data["verdicts"]["correct"] == 5


def test_claim_ids_in_order_of_first_appearance_and_spreadsheet_safe(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name, ids in {"a": ["q2", "q1"], "b": ["q1", "=cmd|x", "score"]}.items():
        claims = [{"id": i, "claim": "correct x = x"} for i in ids]
        student = "=HYPERLINK(1)" if name == "b" else name
        (folder / f"{name}.yml").write_text(yaml.safe_dump({"student": student, "claims": claims}))
    run(folder, tmp_path / "out")
    lines = (tmp_path / "out" / "gradebook.csv").read_text().splitlines()
    assert lines[0].startswith("student,file,points,max_points,q2,q1,'=cmd|x,score,verdict q2,")
    assert lines[2].startswith("'=HYPERLINK(1),b.yml,3,3,")


def test_a_broken_file_is_an_error_row_and_the_rest_go_on(klass, tmp_path):
    (klass / "dave.yaml").write_text("claims: [unclosed\n")
    (klass / "erin.yml").write_text(yaml.safe_dump({"claims": [{"id": "q1", "claim": "raise"}]}))
    (klass / "fred.yaml").write_text(yaml.safe_dump({"claims": [{"id": "q1", "claim": "error"}]}))
    (klass / "notes.txt").write_text("not a claims file")
    (klass / ".hidden.yaml").write_text("claims: [")
    out = tmp_path / "out"
    summary = run(klass, out)
    rows = {r["file"]: r for r in read_csv(out / "gradebook.csv")}
    assert list(rows) == ["alice.yaml", "bob.yaml", "carol.yaml", "dave.yaml", "erin.yml",
                          "fred.yaml"]  # fmt: skip
    assert rows["dave.yaml"]["error"].startswith("dave.yaml:2: not valid YAML")
    assert rows["dave.yaml"]["points"] == rows["dave.yaml"]["max_points"] == ""
    assert rows["erin.yml"]["error"] == "the checker failed: ValueError: boom"
    assert rows["fred.yaml"]["error"] == "fred.yaml: the network does not load"  # no folder path
    assert str(klass) not in (out / "gradebook.csv").read_text()
    assert rows["alice.yaml"]["points"] == "2" and summary.errors == 3
    assert "could not be checked" in (out / "feedback" / "dave.yaml.md").read_text()
    # the next run checks the error rows again (the cause may be outside the file), not the rest
    again = Recorder()
    summary = run(klass, out, check=again)
    assert again.calls == ["dave.yaml", "erin.yml", "fred.yaml"] and summary.skipped == 3


# --- resuming -----------------------------------------------------------------------------
def test_an_interrupted_run_keeps_what_it_did_and_resumes(tmp_path):
    names = [f"s{k:02d}" for k in range(8)]
    students = {n: ["correct a = a", "incorrect b = 2"] for n in names}
    folder = write_class(tmp_path / "class", students)
    out, k = tmp_path / "out", 3
    first = Recorder(stop=k + 1)
    progress = []
    with pytest.raises(KeyboardInterrupt):
        run(folder, out, check=first, on_progress=lambda *a: progress.append(a))
    assert first.calls == [f"{n}.yaml" for n in names[: k + 1]]
    assert [r["student"] for r in read_csv(out / "gradebook.csv")] == names[:k]
    assert len(json.loads((out / "results.json").read_text())["students"]) == k
    assert sorted(p.stem for p in (out / "feedback").glob("*.md")) == [f"{n}.yaml" for n in
                                                                       names[:k]]  # fmt: skip
    assert progress[-1] == (k, len(names), names[k - 1])

    second = Recorder()
    summary = run(folder, out, check=second)
    assert second.calls == [f"{n}.yaml" for n in names[k:]]  # the first k are not checked again
    assert (summary.skipped, summary.checked) == (k, len(names) - k)
    rows = read_csv(out / "gradebook.csv")
    assert [r["student"] for r in rows] == names  # every student once, in file order
    assert all(r["verdict q2"] == "incorrect" for r in rows)


def test_redo_and_changed_files_are_checked_again(klass, tmp_path):
    out = tmp_path / "out"
    run(klass, out)
    same = Recorder()
    assert run(klass, out, check=same).skipped == 3 and same.calls == []
    write_class(klass, {"bob": ["correct a = a", "correct b = b"]})  # bob hands in again
    changed = Recorder()
    run(klass, out, check=changed)
    assert changed.calls == ["bob.yaml"]
    assert read_csv(out / "gradebook.csv")[1]["verdict q2"] == "correct"
    redo = Recorder()
    summary = run(klass, out, check=redo, redo=True)
    assert redo.calls == ["alice.yaml", "bob.yaml", "carol.yaml"] and summary.skipped == 0


def test_missing_feedback_of_a_done_student_is_written_again(klass, tmp_path):
    out = tmp_path / "out"
    run(klass, out)
    (out / "feedback" / "bob.yaml.md").unlink()
    again = Recorder()
    summary = run(klass, out, check=again)
    assert again.calls == [] and (out / "feedback" / "bob.yaml.md").is_file()
    assert out / "feedback" / "bob.yaml.md" in summary.written


KILLED = """
import os, signal, sys
from pathlib import Path
sys.path.insert(0, {tests!r})
from test_check_class import fake_check
from derive.claims.classrun import run_class
calls = []

def check(path, student):
    calls.append(path)
    if len(calls) == {stop}:
        os.kill(os.getpid(), signal.SIGKILL)  # no finally, no atexit: as kill -9
    return fake_check(path)

run_class(Path({folder!r}), Path({out!r}), check=check, workers=0, pdf=False)
"""


def test_a_killed_run_leaves_a_valid_gradebook_and_resumes(tmp_path):
    names = [f"s{k}" for k in range(6)]
    folder = write_class(tmp_path / "class", {n: ["correct a = a"] for n in names})
    out, k = tmp_path / "out", 4
    script = KILLED.format(tests=str(ROOT / "tests"), stop=k + 1, folder=str(folder), out=str(out))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, cwd=tmp_path)
    assert done.returncode == -9, done.stderr
    assert [r["student"] for r in read_csv(out / "gradebook.csv")] == names[:k]
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]
    second = Recorder()
    summary = run(folder, out, check=second)
    assert second.calls == [f"{n}.yaml" for n in names[k:]] and summary.skipped == k
    assert [r["student"] for r in read_csv(out / "gradebook.csv")] == names
    assert len(json.loads((out / "results.json").read_text())["students"]) == len(names)


# --- in parallel --------------------------------------------------------------------------
def test_workers_give_the_same_gradebook(klass, tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("CHECK_LOG", str(log))
    run(klass, tmp_path / "one", workers=1)  # one worker process
    summary = run(klass, tmp_path / "two", workers=2)
    one = (tmp_path / "one" / "gradebook.csv").read_text()
    assert (tmp_path / "two" / "gradebook.csv").read_text() == one
    assert summary.checked == 3 and sorted(log.read_text().split()) == sorted(2 * [
        "alice.yaml", "bob.yaml", "carol.yaml"])  # fmt: skip


def test_ctrl_c_in_a_worker_stops_the_run_and_keeps_the_finished(tmp_path, monkeypatch):
    names = [f"s{k}" for k in range(6)]
    students = {n: ["correct a = a"] for n in names}
    students["s3"] = ["interrupt"]
    folder = write_class(tmp_path / "class", students)
    log = tmp_path / "calls.log"
    monkeypatch.setenv("CHECK_LOG", str(log))
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run(folder, out, workers=2)
    done = [r["student"] for r in read_csv(out / "gradebook.csv")]
    assert "s3" not in done and set(done) <= set(names)
    students["s3"] = ["correct a = a"]
    write_class(folder, students)
    log.write_text("")
    summary = run(folder, out, workers=2)
    again = log.read_text().split()
    assert sorted(again) == sorted(f"{n}.yaml" for n in names if n not in done)
    assert summary.skipped == len(done)
    assert [r["student"] for r in read_csv(out / "gradebook.csv")] == names


# --- progress -----------------------------------------------------------------------------
def test_progress_is_reported_for_every_student(klass, tmp_path):
    calls = []
    run(klass, tmp_path / "out", on_progress=lambda *a: calls.append(a))
    assert calls == [(0, 3, ""), (1, 3, "alice"), (2, 3, "bob"), (3, 3, "carol")]
    write_class(klass, {"dave": ["correct a = a"]})
    calls.clear()
    run(klass, tmp_path / "out", on_progress=lambda *a: calls.append(a))
    assert calls == [(3, 4, ""), (4, 4, "dave")]


def test_folder_problems_are_one_line_errors(tmp_path):
    with pytest.raises(DeriveError, match="no such folder"):
        run(tmp_path / "missing", tmp_path / "out")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DeriveError, match=r"no answers files \(\*\.yaml, \*\.yml"):
        run(tmp_path / "empty", tmp_path / "out")


def test_feedback_names_are_safe_and_unique(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("a.yaml", "a.yml", "Zoë Ng.yaml", "-rf.yaml", "a b.yaml", "a_b.yaml"):
        (folder / name).write_text("claims: []\n")
    names = {s.label: s.name for s in submissions(folder)}
    assert len(set(names.values())) == 6
    assert all(re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9._-]*", n) for n in names.values()), names
    assert names["Zoë Ng.yaml"] == "Zo_c3_ab_20Ng.yaml" and names["-rf.yaml"] == "_2drf.yaml"
    assert (names["a b.yaml"], names["a_b.yaml"]) == ("a_20b.yaml", "a_5fb.yaml")


# --- feedback -----------------------------------------------------------------------------
def test_feedback_tells_each_claim_with_its_evidence(klass, tmp_path):
    out = tmp_path / "out"
    run(klass, out)
    assert sorted(p.name for p in (out / "feedback").iterdir()) == [
        "alice.yaml.md", "alice.yaml.tex", "bob.yaml.md", "bob.yaml.tex", "carol.yaml.md",
        "carol.yaml.tex",
    ]  # fmt: skip
    md = (out / "feedback" / "alice.yaml.md").read_text()
    assert md.startswith("# Feedback for `alice`\n")  # a name is code: never a link
    assert "2 of 3 claims earn the mark" in md
    assert "## q2: incorrect" in md and "```text\nincorrect b = 2\n```" in md
    assert "The two sides differ." in md
    assert "**Where the two sides differ:** x = `0.5`" in md
    assert "**Your side there:** `[1, 2]`" in md and "**The right side there:** `[2, 4]`" in md
    assert f"**The right expression:** ${RIGHT}$" in md
    assert "**Likely slip:** a missing 1/m" in md
    bob = (out / "feedback" / "bob.yaml.md").read_text()
    assert "```text\nunparseable (b =\n   ^ here\n```" in bob  # the problem's position
    tex = (out / "feedback" / "alice.yaml.tex").read_text()
    assert f"${RIGHT}$" in tex and r"\texttt{incorrect b =" in tex


def hostile_result() -> FileResult:
    return FileResult(
        Path("class/mallory.yaml"),
        r"mallory\input{/etc/passwd}",
        (
            ClaimResult(
                "q1\\def",
                HOSTILE,
                "incorrect",
                r"Unknown name \input at 1.",
                point={"\\x": "\\input{/etc/passwd}"},
                expected=r"\input{/etc/passwd}",
                slip="\\write18{rm}",
            ),  # fmt: skip
            ClaimResult(
                "q2", "x^^5cinput{/etc/passwd} \\end{verbatim}", "unparseable", "", position=1
            ),  # fmt: skip
        ),
    )


def test_a_students_text_never_reaches_tex_as_tex():
    tex, md = render_feedback(hostile_result())
    body = tex[tex.index(r"\begin{document}") :]
    for danger in (r"\input", r"\write", r"\immediate", r"\def", "^^", r"\end{verbatim}"):
        assert danger not in body
    # the only control words in the body are the template's and the escapes'
    words = set(re.findall(r"\\([A-Za-z]+)", body))
    assert words <= {
        "begin", "end", "section", "subsection", "texttt", "textbackslash", "textasciicircum",
        "textasciitilde", "allowbreak", "item", "normalfont", "boldmath", "blacktriangleright",
    }, words  # fmt: skip
    assert r"\textbackslash{}input\{/\allowbreak{}etc/\allowbreak{}passwd\}" in body
    assert "\\input{/etc/passwd}\n" not in md and "<" not in md


@pytest.mark.parametrize(
    "text",
    [r"\input{/etc/passwd}", "\\immediate\\write18{ls}", r"\def\a{b}", "^^5cinput", "a%b",
     "$x$", "#1", "\x00\x1b[31m", "{", "}", "~", "\\", "a\nb"],
)  # fmt: skip
def test_tex_escape_leaves_only_harmless_tex(text):
    escaped = tex_escape(text, breaks=True)
    assert "^^" not in escaped and "$" not in escaped.replace(r"\$", "")
    assert "%" not in escaped.replace(r"\%", "") and "#" not in escaped.replace(r"\#", "")
    assert set(re.findall(r"\\([A-Za-z]+)", escaped)) <= {
        "textbackslash", "textasciicircum", "textasciitilde", "allowbreak",
    }  # fmt: skip
    assert escaped.replace(r"\{", "").replace(r"\}", "").count("{") == escaped.replace(
        r"\{", ""
    ).replace(r"\}", "").count("}")


def test_only_known_math_is_set_as_math():
    assert safe_math(RIGHT) == RIGHT
    assert safe_math(r"\sigma(z)\left(1 - \sigma(z)\right) \circ \mathbb{1}_{s > 0}")
    assert safe_math(r"\begin{pmatrix} a \\ b \end{pmatrix}")
    for bad in (r"\input{/etc/passwd}", r"x \write18{a}", r"\def\a{b}", "x^^5cinput", "a % b",
                r"\begin{verbatim}x\end{verbatim}", "{x", "x}{", "$x$", r"\csname x\endcsname",
                r"\catcode`\@=11", "σ"):  # fmt: skip
        assert safe_math(bad) is None, bad


def test_hostile_feedback_compiles_and_shows_the_text(tmp_path):
    need_latex()
    from derive.render.feedback import write_feedback

    paths = write_feedback(hostile_result(), tmp_path, "mallory", pdf=True)
    assert tmp_path / "mallory.pdf" in paths
    if shutil.which("pdftotext") is None:
        return
    text = subprocess.run(["pdftotext", str(tmp_path / "mallory.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert r"\input{/etc/passwd}" in text  # printed, not read
    assert "root:" not in text


def test_class_feedback_pdfs(klass, tmp_path):
    need_latex()
    summary = run(klass, tmp_path / "out", pdf=True, workers=2)
    assert sorted(p.name for p in (tmp_path / "out" / "feedback").glob("*.pdf")) == [
        "alice.yaml.pdf", "bob.yaml.pdf", "carol.yaml.pdf",
    ]  # fmt: skip
    assert summary.problems == ()
