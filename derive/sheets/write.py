"""``derive sheet``: an assignment's per-student problem sheets, their worked solutions, the
answers files students fill in, and the key the checker grades against.

Stages: the assignment (trusted) and the roster -> each student's questions, their bank
variants drawn and self-tested (:mod:`derive.sheets.selftest`) -> :class:`Page` dataclasses of
LaTeX -> templates/sheet.tex.j2 -> latexmk. Everything is made in a temporary folder and moved
into the output folder only once all of it is made.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import yaml

from derive.claims.assignment import Assignment, Question, read_assignment, read_roster
from derive.claims.grade import Grader
from derive.errors import DeriveError
from derive.render.context import tex_text
from derive.render.report import INSTALL_HINT, compile_pdf, latex_installed, render
from derive.safeio import shown
from derive.sheets.bank import lookup
from derive.sheets.selftest import SelfTest
from derive.sheets.variants import distinct_variants, variant_question
from derive.version import derive_version

KEY_FORMAT = 1
HANDOUT = "handout"  # the one "student" of a sheet made without a roster


@dataclass(frozen=True)
class SheetQuestion:
    id: str
    title: str
    points: str
    statement: str  # LaTeX text
    ask: str  # LaTeX math, or ""
    display: str  # the answer as display math, or "" (numbers and truths are text)
    answer_text: str
    solution: tuple[str, ...]
    proof: str
    steps: tuple[str, ...] = ()  # the chain rule, each an align* body (a network's formula)


@dataclass(frozen=True)
class Page:
    student: str  # LaTeX text ("" for a handout)
    variant: str
    qr: str
    questions: tuple[SheetQuestion, ...]


@dataclass(frozen=True)
class Sheets:
    title: str
    course: str
    pages: tuple[Page, ...]


@dataclass
class SheetRun:
    students: int
    files: list[Path]
    selftest: SelfTest


def folder_name(student: str) -> str:
    """A folder for a student: the id where it is a safe file name, else a safe form of it
    with a short hash (two ids never share a folder)."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,59}", student) and student not in (".", ".."):
        return student
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", student)[:40].strip("._") or "student"
    return f"{slug}-{digest}"


def student_questions(a: Assignment, grader: Grader, student: str, test: SelfTest,
                      roster: tuple[str, ...] = ()) -> list:  # fmt: skip
    """The questions as this student is asked them: bank variants drawn (and self-tested),
    the others with their right answer."""
    from dataclasses import replace

    out = []
    for q in a.questions:
        if not q.problem:
            out.append(replace(q, answer=grader.expected[q.id]))
            continue
        v = (distinct_variants(a, q, roster)[student] if q.distinct
             else variant_question(a, q, student))  # fmt: skip
        why = test.failure(grader, v)
        if why:  # the bank is wrong about this variant: no sheet may carry it
            raise DeriveError(f"{shown(a.path)}:{q.line}: question {q.id}: the variant "
                              f"{json.dumps(v.params, sort_keys=True)} of {q.problem} fails its "
                              f"self-test: {why}")  # fmt: skip
        out.append(v)
    return out


def variant_of(questions: list[Question]) -> str:
    text = json.dumps([[q.id, q.problem, q.params] for q in questions], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _points(x: float) -> str:
    n = f"{x:g}"
    return f"{n} point" + ("" if x == 1 else "s")


def chain_steps(grader: Grader, q: Question) -> tuple[str, ...]:
    """A network formula's worked solution: the chain rule from the loss down to the quantity
    asked, as the report writes it (each step an align* body)."""
    from derive.claims import ast
    from derive.render.context import worked_steps

    if q.kind != "formula" or not q.ask:
        return ()
    checker = grader.checker(q)
    if checker.net is None or checker.derivation is None:
        return ()
    try:
        asked = checker.asked(q.ask)
        found = checker.right_formula(asked, checker.meaning_for(ast.Equation((asked, asked))))
    except DeriveError:
        return ()
    if found is None:
        return ()
    bodies = []
    for display in worked_steps(checker.derivation, found[1].q):
        rows = [f"{r.lhs} &{r.body}" for r in display.rows]
        bodies.append(" \\\\\n".join(rows))
    return tuple(bodies)


def about_network(grader: Grader, q: Question, statement: str) -> str:
    """A question written out about a network: its forward equations (and, for a number, the
    numbers it is asked at) before the instructor's words, so the sheet says what it is."""
    import numpy as np

    from derive.sheets.problems import equations_display, numbers_tex

    checker = grader.checker(q)
    net = checker.net
    if net is None:
        return statement
    text = ("The network computes, for each sample $i$ of a mini-batch of $m$ (the superscript "
            f"$i$ left out):{equations_display(net)}")  # fmt: skip
    if q.kind == "number":
        values = {**net.examples, **grader.assignment.networks[q.network].values, **q.values}
        shown = [f"${x.latex} = {numbers_tex(np.asarray(values[x.name]), x, 2)}$"
                 for x in net.inputs + net.params if x.name in values]  # fmt: skip
        text += "At the numbers " + ", ".join(shown) + ": "
    return text + statement


def sheet_question(q: Question, test: SelfTest, grader: Grader | None = None) -> SheetQuestion:
    if q.problem:  # the bank writes its statements in LaTeX
        title, statement, proof = lookup(q.problem, q.id).title, q.text, test.proof(q)
    else:
        title = "A value of the network" if q.kind == "number" else "A derivative"
        statement = tex_text(q.text) if q.text else f"Give ${q.ask}$."
        if q.network is not None and grader is not None:
            statement = about_network(grader, q, statement)
        proof = "derived, and proved exactly and numerically, by derive"
    formula = q.kind == "formula"
    return SheetQuestion(
        id=tex_text(q.id),
        title=title,
        points=_points(q.points),
        statement=statement,
        ask=q.ask if formula else "",
        display=(q.ask + " = " + q.answer) if formula else "",
        answer_text=q.answer if q.kind != "number" else f"${_shown_number(q.answer)}$",
        solution=q.solution,
        proof=tex_text(proof) + ("." if proof and not proof.endswith(".") else ""),
        steps=chain_steps(grader, q) if grader is not None else (),
    )


def _shown_number(text: str) -> str:
    """A number as the solution prints it: an integer whole, else 4 significant digits."""
    x = float(text)
    return text if x.is_integer() else f"{x:.4g}"


def answers_yaml(a: Assignment, student: str, variant: str, questions: list[Question]) -> str:
    """The file a student fills in: their id, and an empty answer for each question."""
    lines = [
        f"# {a.title} ({a.id}), variant {variant}.",
        "# Write each answer between the quotes: a formula in LaTeX as on the sheet, a number,",
        "# or true / false. Keep the student line as it is.",
        yaml.safe_dump({"student": student}, allow_unicode=False, width=1000).strip(),
        "answers:",
    ]
    what = {"formula": "a formula", "number": "a number", "truth": "true or false"}
    for q in questions:
        hint = what[q.kind] + (f": {q.ask} = ..." if q.kind == "formula" and q.ask else "")
        if q.kind == "number" and q.tolerance < 1e-6 and not q.abs_tolerance:
            hint += " (exactly)"
        elif q.kind == "number":
            hint += f" (right within {q.tolerance:.2%} of the answer)".replace(".00%", "%")
        hint = hint.replace("\n", " ")
        lines.append(f"  {q.id}: ''  # {hint}")
    return "\n".join(lines) + "\n"


def key_entry(q: Question) -> dict:
    """What grading needs of one question as one student is asked it."""
    out = {"points": q.points, "kind": q.kind, "answer": q.answer, "ask": q.ask,
           "tolerance": q.tolerance, "abs_tolerance": q.abs_tolerance}  # fmt: skip
    if q.problem:
        out.update(
            problem=q.problem,
            params=q.params,
            variant=q.variant,
            statement=q.text,
            slips=[list(s) for s in q.slips],
            symbols={k: _symbol_spec(v) for k, v in (q.symbols or {}).items()},
            functions=dict(q.functions or {}),
            claim=q.claim,
        )
        if q.network is not None:
            out.update(network=q.network, values={k: _listed(v) for k, v in q.values.items()})
    return out


def _listed(value):
    return value.tolist() if hasattr(value, "tolist") else value


def _symbol_spec(symbol) -> object:
    if symbol.kind == "scalar":
        return "scalar"
    if symbol.kind == "vector":
        return {"vector": symbol.rows, **({"onehot": True} if symbol.onehot else {})}
    return {"matrix": [symbol.rows, symbol.cols]}


def make_sheets(assignment: Path, roster: Path | None, out_dir: Path, pdf: bool = True,
                gradescope: bool = False, moodle: bool = False) -> SheetRun:  # fmt: skip
    """Write every student's sheet, solution and answers file, the key, and all solutions in
    one file (and the Gradescope autograder, Moodle XML); a DeriveError names what is wrong,
    and nothing is written then."""
    a = read_assignment(Path(assignment))
    students = read_roster(Path(roster)) if roster is not None else a.roster
    handout = students is None
    students = (HANDOUT,) if handout else students
    grader = Grader(a)
    test = SelfTest()
    key = {"format": KEY_FORMAT, "assignment": a.id, "title": a.title, "course": a.course,
           "derive_version": derive_version(), "assignment_file": _relative(a.path, Path(out_dir)),
           "secret": a.secret.hex(), "students": {}}  # fmt: skip
    pages, documents = [], {}  # name -> text (or bytes)
    for student in students:
        questions = student_questions(a, grader, student, test, students)
        variant = variant_of(questions)
        folder = folder_name(student)
        key["students"][student] = {
            "folder": folder,
            "variant": variant,
            "questions": {q.id: key_entry(q) for q in questions},
        }
        page = Page(
            student="" if handout else tex_text(student),
            variant=variant,
            qr=f"derive:{a.id}:{folder}:{variant}",
            questions=tuple(sheet_question(q, test, grader) for q in questions),
        )
        pages.append(page)
        title = tex_text(a.title)
        one = Sheets(title, tex_text(a.course), (page,))
        documents[f"{folder}/sheet.tex"] = render("sheet.tex.j2", s=one, solution=False)
        documents[f"{folder}/solution.tex"] = render("sheet.tex.j2", s=one, solution=True)
        documents[f"{folder}/answers.yaml"] = answers_yaml(a, student, variant, questions)
    every = Sheets(tex_text(a.title), tex_text(a.course), tuple(pages))
    documents["solutions.tex"] = render("sheet.tex.j2", s=every, solution=True)
    documents["key.json"] = json.dumps(key, indent=1, sort_keys=False) + "\n"
    if moodle:
        from derive.sheets.exports import moodle_xml

        documents["moodle.xml"] = moodle_xml(key)
    if gradescope:
        from derive.sheets.exports import gradescope_zip

        documents["gradescope.zip"] = gradescope_zip(Path(out_dir) / "key.json", key, a)
    files = _write_all(documents, Path(out_dir), pdf)
    return SheetRun(len(students), files, test)


def _relative(path: Path, folder: Path) -> str:
    """``path`` as seen from ``folder`` (where the key is), with forward slashes."""
    return Path(os.path.relpath(path.resolve(), folder.resolve())).as_posix()


def _write_all(documents: dict[str, str], out_dir: Path, pdf: bool) -> list[Path]:
    """Stage every file (and the PDFs of the .tex files) in a temporary folder, then move them
    into ``out_dir``; nothing lands there unless everything was made."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".derive-sheets-", dir=out_dir.parent) as tmp:
        stage = Path(tmp)
        for name, content in documents.items():
            path = stage / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        made = list(documents)
        if pdf and latex_installed(INSTALL_HINT.replace("no PDF was made", "no PDFs were made")):
            texs = [name for name in documents if name.endswith(".tex")]

            def build(name: str) -> str:
                tex = stage / name
                built = compile_pdf(tex, stage / ".build" / name.replace("/", "__"))
                shutil.move(built, tex.with_suffix(".pdf"))
                return name[:-4] + ".pdf"

            with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as ex:
                made += list(ex.map(build, texs))
        written = []
        for name in made:
            target = out_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            part = target.with_name(f".{target.name}.part")
            shutil.copyfile(stage / name, part)
            os.replace(part, target)
            written.append(target)
        return written
