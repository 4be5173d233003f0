"""derive check --homework: a student's write-up read into chains of equalities, each chain
about a quantity derive knows checked step by step, each verdict at its line (issue 14).

Known answers by construction: a write-up written right passes untouched, and the same write-up
with one slip planted is wrong at that line and nowhere else; the course documents' own slips
are found at their lines (seed 000's sgn for ReLU's derivative and its index slip in dL/dtheta_1B,
seed 002's sign error, seed 003's softplus step and its S(cx) = S(x)); hostile files cost
bounded time and run nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import DATA, EXAMPLES

from derive.claims.assignment import Limits
from derive.claims.check import Context
from derive.claims.grade import loaded
from derive.claims.homework import Reader, check_writeup
from derive.claims.writeup import MAX_FORMULAS, parse_writeup

HOMEWORK = DATA / "homework"
COURSE = EXAMPLES / "course"


def sides(chain) -> list[str]:
    return [s.text for s in chain.sides]


# --- reading a write-up into chains ----------------------------------------------------------
def test_an_aligned_block_is_one_chain_its_remarks_tags_and_boxes_dropped():
    text = (
        "Some prose, $x = 1$ inline, ignored.\n\n"
        "$$\\begin{aligned} f(x) &= a + b \\quad \\text{(by the chain rule)} \\\\\n"
        "&= c \\tag{3} \\\\\n"
        "&= \\boxed{d}. \\end{aligned}$$\n"
    )
    w = parse_writeup(text)
    assert [sides(c) for c in w.chains] == [["f(x)", "a + b", "c", "d"]]
    assert [s.line for s in w.chains[0].sides] == [3, 3, 4, 5]
    assert not w.unread


def test_latex_align_star_its_comments_and_the_line_of_every_side():
    text = (
        "\\documentclass{article}\n"  # 1
        "\\begin{document}\n"  # 2
        "We have % a comment with = signs = here\n"  # 3
        "\\begin{align*}\n"  # 4
        "  g &= h \\label{eq:g} \\nonumber \\\\\n"  # 5
        "    &= k  % and here = too\n"  # 6
        "\\end{align*}\n"  # 7
        "\\[ u = v \\]\n"  # 8
        "\\end{document}\n"
    )
    w = parse_writeup(text, "tex")
    assert [sides(c) for c in w.chains] == [["g", "h", "k"], ["u", "v"]]
    assert [s.line for s in w.chains[0].sides] == [5, 5, 6]
    assert w.chains[1].line == 8


def test_a_formula_that_starts_with_equals_goes_on_with_the_one_before():
    joined = parse_writeup("$$a = b$$\n\n \n$$= c$$\n")
    assert [sides(c) for c in joined.chains] == [["a", "b", "c"]]
    apart = parse_writeup("$$a = b$$\n\nSo then\n\n$$= c$$\n")
    assert [sides(c) for c in apart.chains] == [["a", "b"]]
    assert "it goes on from no formula" in apart.unread[0].reason


def test_rows_that_start_with_a_new_left_side_are_new_chains():
    w = parse_writeup(
        "$$\\begin{aligned} p &= q \\\\ r &= s \\\\ &= t \\\\ &\\quad + w \\end{aligned}$$"
    )
    assert [sides(c) for c in w.chains] == [["p", "q"], ["r", "s", "t + w"]]


def test_statements_apart_on_one_row_are_chains_apart():
    w = parse_writeup("$$a = b \\quad ; \\quad c = d \\Rightarrow e = f \\quad (4)$$")
    assert [sides(c) for c in w.chains] == [["a", "b"], ["c", "d"], ["e", "f"]]


def test_a_word_in_text_that_is_a_function_or_a_name_stays():
    w = parse_writeup(
        "$$\\text{softplus}(x) - \\text{softplus}(-x) = x \\quad \\text{for all } x$$"
    )
    assert sides(w.chains[0]) == ["\\text{softplus}(x) - \\text{softplus}(-x)", "x"]


def test_an_unclosed_block_loses_one_formula_not_the_file():
    w = parse_writeup("$$a = b\n\nprose\n\n$$c = d$$\n")
    assert [sides(c) for c in w.chains] == [["c", "d"]]
    assert w.unread[0].line == 1 and "never closed" in w.unread[0].reason


def test_the_condition_the_prose_states_goes_with_the_formula_after_it():
    w = parse_writeup(
        "When $i \\neq j$:\n\n$$a_i = b$$\n\nOtherwise:\n\n$$c = d$$\n\nThen\n$$e = f$$"
    )
    assert [c.where for c in w.chains] == [("i", "!=", "j"), ("i", "=", "j"), None]


# --- checking a write-up ----------------------------------------------------------------------
MLP = EXAMPLES / "mlp.py"
RIGHT = r"""# Homework 2: the MLP's gradients

The forward pass, for sample $i$:

$$\mathbf{s}_1 = W_1 \mathbf{x} + \mathbf{b}_1 \qquad \mathbf{h} = \max(0, \mathbf{s}_1)$$

The residual of the output scores:

$$\frac{\partial J}{\partial \mathbf{s}_2^i} = \frac{\partial J}{\partial \mathbf{p}^i}
\frac{\partial \mathbf{p}^i}{\partial \mathbf{s}_2^i} = \frac{1}{m}(\mathbf{p}^i - \mathbf{y}^i)$$

and so, by the chain rule,

\begin{align*}
\frac{\partial J}{\partial W_2} &= \sum_{i=1}^{m} \frac{\partial J}{\partial \mathbf{s}_2^i}
  \left(\mathbf{h}^i\right)^T \\
&= \frac{1}{m} \sum_{i=1}^{m} (\mathbf{p}^i - \mathbf{y}^i) (\mathbf{h}^i)^T \tag{2}
\end{align*}

$$\frac{\partial J}{\partial \mathbf{b}_2}
= \frac{1}{m}\sum_{i=1}^{m}(\mathbf{p}^i - \mathbf{y}^i)$$

The hidden layer:

$$\frac{\partial J}{\partial \mathbf{s}_1^i} = W_2^T \frac{\partial J}{\partial \mathbf{s}_2^i}
\circ \mathbb{1}[\mathbf{s}_1^i > 0]$$

Something derive does not know: $$\mathbf{r} = \mathrm{dropout}(\mathbf{h})$$
"""


def line_of(snippet: str, text: str = "") -> int:
    """The line of the write-up where ``snippet`` starts (counted here, not by the reader)."""
    text = text or RIGHT
    return text[: text.index(snippet)].count("\n") + 1


STARTS = [
    r"\mathbf{s}_1 = W_1",
    r"\mathbf{h} = \max",
    r"\frac{\partial J}{\partial \mathbf{s}_2^i} =",
    r"\frac{\partial J}{\partial W_2} &=",
    r"\frac{\partial J}{\partial \mathbf{b}_2}",
    r"\frac{\partial J}{\partial \mathbf{s}_1^i}",
]
LINES = [line_of(s) for s in STARTS]  # where each chain starts
SLIPS = {  # a planted slip: the text it replaces, the wrong text
    "a dropped 1/m": (r"\frac{1}{m}\sum_{i=1}^{m}(\mathbf{p}^i", r"\sum_{i=1}^{m}(\mathbf{p}^i"),
    "a missing transpose": (r"(\mathbf{h}^i)^T \tag{2}", r"(\mathbf{h}^i) \tag{2}"),
    "the sign of a residual": (r"= \frac{1}{m}(\mathbf{p}^i - \mathbf{y}^i)$$",
                               r"= \frac{1}{m}(\mathbf{y}^i - \mathbf{p}^i)$$"),
}  # fmt: skip


@pytest.fixture(scope="module")
def mlp_reader() -> Reader:
    net, derivation = loaded(MLP, {})
    return Reader((Context(net, derivation, secret=b"homework"),))


def test_a_right_write_up_passes_untouched(mlp_reader):
    result = check_writeup(parse_writeup(RIGHT), mlp_reader)
    assert [(c.line, c.verdict) for c in result.claims] == [(n, "correct") for n in LINES]
    unknown = line_of(r"\mathbf{r} = ")
    assert f"line {unknown}: not checked: derive does not know r here" in result.notes[0]


@pytest.mark.parametrize("slip", SLIPS)
def test_a_planted_slip_is_found_at_its_line_and_nowhere_else(mlp_reader, slip):
    right, wrong = SLIPS[slip]
    assert RIGHT.count(right) == 1
    line = line_of(right)
    text = RIGHT.replace(right, wrong)
    result = check_writeup(parse_writeup(text), mlp_reader)
    verdicts = {c.line: c.verdict for c in result.claims}
    chain = max(n for n in LINES if n <= line)  # the chain the slip's line belongs to
    assert verdicts[chain] == "incorrect", result.claims
    assert all(v == "correct" for n, v in verdicts.items() if n != chain)


def test_a_wrong_step_is_named_with_its_line_and_the_final_result_judged(mlp_reader):
    text = RIGHT.replace(
        r"&= \frac{1}{m} \sum_{i=1}^{m} (\mathbf{p}^i - \mathbf{y}^i) (\mathbf{h}^i)^T \tag{2}",
        r"&= \frac{1}{m} \sum_{i=1}^{m} (\mathbf{p}^i - \mathbf{y}^i) \mathbf{h}^i \\"
        "\n"
        r"&= \frac{1}{m} \sum_{i=1}^{m} (\mathbf{p}^i - \mathbf{y}^i) (\mathbf{h}^i)^T",
    )
    result = check_writeup(parse_writeup(text), mlp_reader)
    wrong = next(c for c in result.claims if c.line == LINES[3])
    # side 3 drops the transpose: step 2 is wrong (step 3 multiplies a column by a column)
    assert (wrong.verdict, wrong.step, wrong.ends_right) == ("incorrect", 2, True)
    assert [s.verdict for s in wrong.steps] == ["correct", "incorrect", "invalid"]
    assert wrong.slip == "a missing transpose"
    assert "the final result is right although this step is wrong" in wrong.message
    assert r"\overset{\text{wrong}}{=} \frac{1}{m}" in wrong.latex  # the feedback marks it


def test_the_file_has_a_time_budget_and_says_what_it_did_not_check(mlp_reader):
    reader = Reader(mlp_reader.contexts, limits=Limits(seconds_per_student=1))
    text = "\n\n".join([RIGHT] * 8)
    start = time.monotonic()
    result = check_writeup(parse_writeup(text), reader)
    assert time.monotonic() - start < 20
    assert any("were used up" in n for n in result.notes)


# --- the course documents, as students handed them in -----------------------------------------
SEEDS = {
    "seed000": [
        # sgn, the sign function, for ReLU's derivative; read as the step, it is right
        (145, "incorrect", ["the sign function where ReLU's derivative",
                            "read with sgn as the step 1[x > 0], it is right"]),
        (149, "incorrect", ["step 5 of 5 is wrong", "the sign function where ReLU's"]),
        # dL/dtheta_1B: sgn(x_BN^i) inside the sum over j, where x_BN^j belongs
        (187, "incorrect", ["still wrong: probably a wrong sample index inside a sum (i where "
                            "j belongs, inside the sum over j)"]),
        (135, "correct", []),
        # its side 3 adds the chain rule written out to a formula: not evaluated, so the chain
        # is not vouched for, though its final result is right
        (155, "invalid", ["side 3 writes a Jacobian", "the final result is right"]),
    ],
    "seed002": [
        (285, "incorrect", ["step 2 of 2 is wrong", "a sign error"]),  # +0.0043 for -0.0043
        (265, "correct", []),  # E = 1/2 (theta - t)^2 = 1.73
        (255, "correct", []),  # h_1 = sigma(0.7384) = 0.6767 = 0.68: a rounding
        # dE/dw_8 = (theta - t) theta (1 - theta) h_2: a formula by one entry, at one sample
        (275, "correct", []),
        (29, "incorrect", ["step 2 of 3 is wrong", "the final result is right"]),  # tanh'
    ],
    "seed003": [
        # a difference of logarithms taken for a quotient of logarithms
        (39, "incorrect", ["step 2 of 5 is wrong", "the final result is right although"]),
        (63, "incorrect", []),  # S(cx) = S(x)
        (68, "correct", []),  # S(x + c) = S(x)
        (80, "correct", ["for i = j, as the text before it says"]),
        (84, "correct", ["for i different from j"]),
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """Each document checked by the derive command, two at a time (in processes of their own,
    as a user runs them)."""
    import os
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    script = str(Path(sys.executable).parent / "derive")
    env = {**os.environ, "COLUMNS": "100"}

    def one(name):
        target = tmp_path_factory.mktemp(name) / "verdicts.json"
        args = [script, "check", "--homework", str(HOMEWORK / f"{name}.txt"), "--assignment",
                str(COURSE / f"{name}.yaml"), "--json", str(target)]  # fmt: skip
        ran = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
        assert ran.returncode == 0, ran.stderr
        return name, (json.loads(target.read_text()), ran.stdout)

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(one, SEEDS))


@pytest.mark.parametrize(
    "seed,line,verdict,said",
    [(s, *case) for s, cases in SEEDS.items() for case in cases],
    ids=[f"{s}:{case[0]}" for s, cases in SEEDS.items() for case in cases],
)
def test_the_course_documents_slips_are_found_at_their_lines(seeds, seed, line, verdict, said):
    data, _ = seeds[seed]
    found = [c for c in data["claims"] if c.get("line") == line]
    assert found, f"nothing checked at line {line}"
    assert found[0]["verdict"] == verdict, found[0]["message"]
    for words in said:
        assert words in found[0]["message"]


def test_a_seed_s_unreadable_formulas_are_listed_with_the_reason(seeds):
    data, output = seeds["seed003"]
    notes = data["notes"]
    assert any(n.startswith("line 15: not read") for n in notes)  # g'(x): a prime
    assert any(n.startswith("line 141: not checked") for n in notes)  # h^a: not derive's
    assert "note: line 15: not read" in output


def test_chain_credit_gives_part_of_the_points_when_only_the_final_result_is_right(seeds):
    data, _ = seeds["seed000"]  # chain_credit 0.5; every question there is wrong or right
    by_id = {c["id"]: c for c in data["claims"]}
    assert by_id["z2B"]["points"] == 1 and by_id["theta1B"]["points"] == 0
    from derive.claims.grade import points_of
    from derive.claims.verdict import ClaimResult

    survived = ClaimResult("e", "", "incorrect", "", step=2, ends_right=True)
    lost = ClaimResult("e", "", "incorrect", "", step=2, ends_right=False)
    assert points_of(survived, 2, 0.5) == 1.0 and points_of(lost, 2, 0.5) == 0.0


def test_a_chain_answer_in_an_answers_file_earns_the_chain_credit(tmp_path):
    from derive.claims.assignment import read_assignment
    from derive.claims.grade import prepare

    task = tmp_path / "a.yaml"
    task.write_text(
        "assignment: chains\nchain_credit: 0.25\nsymbols: {x: scalar}\nquestions:\n"
        "  - {id: e, ask: '\\log(1+e^x) - \\log(1+e^{-x})', points: 4}\n"
    )
    answers = tmp_path / "ada.yaml"
    answers.write_text(
        "student: ada\nanswers:\n  e: '\\frac{\\log(1+e^x)}{\\log(1+e^{-x})} = \\log e^x = x'\n"
    )
    result = prepare(read_assignment(task)).grade(answers)
    (e,) = result.claims
    assert (e.verdict, e.step, e.ends_right, e.points) == ("incorrect", 1, True, 1.0)


# --- hostile write-ups -----------------------------------------------------------------------
def run(cli, path: Path, *more):
    return cli("check", "--homework", path, "--network", MLP, *more)


def test_a_file_too_large_or_of_another_kind_is_one_line_and_exit_2(cli, tmp_path):
    big = tmp_path / "big.md"
    big.write_text("$$a = b$$\n" * 120_000)
    for path in (big, tmp_path / "homework.pdf", tmp_path / "missing.md"):
        if path.suffix == ".pdf":
            path.write_bytes(b"%PDF-1.4")
        got = run(cli, path)
        assert got.exit_code == 2
        assert len(got.stderr.strip().splitlines()) == 1, got.stderr
        assert "Traceback" not in got.output + got.stderr


def test_binary_and_nul_bytes_are_refused_in_one_line(cli, tmp_path):
    path = tmp_path / "nul.md"
    path.write_bytes(b"$$a = b$$\x00\xff\xfe")
    got = run(cli, path)
    assert got.exit_code == 2 and len(got.stderr.strip().splitlines()) == 1


def test_code_and_file_inclusion_in_formulas_are_data(cli, tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "attack.tex"
    path.write_text(
        "\\input{/etc/passwd}\n"
        "\\[ \\frac{\\partial J}{\\partial \\mathbf{b}_2} = \\input{/etc/passwd} \\]\n"
        f"$$J = __import__('os').system('touch {marker}')$$\n"
        "$$\\write18{touch " + str(marker) + "} = 1$$\n"
        "$$\\csname x\\endcsname = \\catcode`\\^^M=13 = \\def\\a{b}$$\n"
    )
    got = run(cli, path)
    assert got.exit_code == 0, got.output
    assert not marker.exists()
    assert "root:" not in got.output


def test_many_formulas_deep_nesting_and_unclosed_blocks_cost_bounded_time(cli, tmp_path):
    path = tmp_path / "flood.md"
    nested = "\\left(" * 3000 + "x" + "\\right)" * 3000
    path.write_text(
        "$$\\begin{aligned} a &= " + "{" * 5000 + "\n\n"  # unclosed, then a blank line
        + f"$${nested} = x$$\n\n"
        + "$$" + " = ".join(["x"] * 100) + "$$\n\n"  # too many sides
        + "$$" + " = ".join(["x"] * 5000) + "$$\n\n"  # too long
        + "\n\n".join(["$$q = q$$"] * (MAX_FORMULAS + 50))
    )  # fmt: skip
    start = time.monotonic()
    got = run(cli, path)
    assert time.monotonic() - start < 120
    assert got.exit_code == 0, got.output
    assert f"read up to {MAX_FORMULAS} display formulas" in got.output
    assert "never closed" in got.output
    assert "more than 24 sides" in got.output
    assert "longer than 12000 characters" in got.output


def test_homework_needs_a_network_or_an_assignment_and_checks_one_file(cli, tmp_path):
    path = tmp_path / "hw.md"
    path.write_text("$$a = b$$")
    alone = cli("check", "--homework", path)
    assert alone.exit_code == 2 and "--network" in alone.stderr
    both = cli("check", "--homework", path, "--class", tmp_path, "--network", MLP)
    assert both.exit_code == 2 and "one write-up" in both.stderr


def test_the_json_verdicts_are_written_whole(cli, tmp_path):
    path = tmp_path / "hw.md"
    path.write_text(RIGHT)
    out = tmp_path / "v.json"
    got = run(cli, path, "--json", out)
    assert got.exit_code == 0, got.output
    data = json.loads(out.read_text())
    assert [c["line"] for c in data["claims"]] == LINES
    assert data["claims"][2]["steps"][0]["verdict"] == "correct"
    assert not list(tmp_path.glob("*.tmp*"))


def test_the_readme_shows_what_the_command_prints(cli, monkeypatch):
    import re

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Checking a whole write-up") :]
    (shown,) = re.findall(r"```output\n(.*?)```", section, flags=re.DOTALL)[:1]
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "100")
    got = cli("check", "--homework", "examples/writeups/grace.tex", "--assignment",
              "examples/homework.yaml")  # fmt: skip
    assert got.exit_code == 0, got.output
    assert got.stdout.startswith(shown), got.stdout


def test_a_class_folder_of_write_ups_and_answers_files_is_graded_together(tmp_path):
    import shutil

    from derive.claims.assignment import read_assignment
    from derive.claims.classrun import run_class
    from derive.claims.grade import prepare

    folder = tmp_path / "class"
    folder.mkdir()
    for name in ("writeups/ada.md", "writeups/grace.tex", "answers/bob.yaml"):
        shutil.copy(EXAMPLES / name, folder)
    (folder / "notes.md").symlink_to(EXAMPLES / "writeups" / "ada.md")
    summary = run_class(folder, tmp_path / "out", prepare(read_assignment(EXAMPLES /
                        "homework.yaml")), workers=0, pdf=False)  # fmt: skip
    rows = (tmp_path / "out" / "gradebook.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["ada", "bob", "grace", "notes"]
    assert "symbolic link" in rows[-1]
    assert summary.students == 4
    grace = (tmp_path / "out" / "feedback" / "grace.tex.md").read_text()
    assert grace.startswith("# Feedback for `grace`\n\nWrite-up `grace.tex`.")
    assert r"\overset{\text{wrong}}{=} \sigma\left(x\right) \left(1 + \sigma" in grace
    assert "- **In your file:** line 9" in grace
    assert "step 1: right; step 2: right; step 3: right; step 4: wrong" in grace


# --- what a hostile hunt found -----------------------------------------------------------------
def test_many_unclosed_blocks_are_read_in_linear_time():
    from derive.claims.writeup import MAX_WRITEUP_BYTES

    for unit in ("\\[\n\n", "$$a=b$$ "):
        text = unit * ((MAX_WRITEUP_BYTES - 100) // len(unit))
        start = time.monotonic()
        parse_writeup(text)
        assert time.monotonic() - start < 10, unit


def test_reading_a_large_file_is_part_of_its_time_and_the_answers_before_survive(cli, tmp_path):
    path = tmp_path / "slow.md"
    right = "$$\\frac{\\partial J}{\\partial \\mathbf{b}_2} = " + R_B2 + "$$\n\n"
    path.write_text(right + "\\[\n\n" * 240_000)
    got = run(cli, path)
    assert got.exit_code == 0, got.stderr
    assert "line 1  correct" in got.stdout
    assert got.stdout.count("\nnote:") <= 301  # the notes are bounded too


R_B2 = r"\frac{1}{m}\sum_{i=1}^{m}(\mathbf{p}^i - \mathbf{y}^i)"


def test_a_question_answered_many_times_is_scored_once_by_its_worst_answer(tmp_path):
    from derive.claims.assignment import read_assignment
    from derive.claims.grade import prepare

    task = tmp_path / "a.yaml"
    task.write_text(
        f"assignment: once\nnetworks: {{mlp: {{file: {MLP}}}}}\nquestions:\n"
        "  - {id: b2, network: mlp, points: 1,\n"
        "     ask: '\\frac{\\partial J}{\\partial \\mathbf{b}_2}'}\n"
        "  - {id: W2, network: mlp, points: 1, ask: '\\frac{\\partial J}{\\partial W_2}'}\n"
    )
    grader = prepare(read_assignment(task))
    answer = f"$$\\frac{{\\partial J}}{{\\partial \\mathbf{{b}}_2}} = {R_B2}$$\n\n"
    wrong = "$$\\frac{\\partial J}{\\partial \\mathbf{b}_2} = \\sum_{i=1}^{m} \\mathbf{p}^i$$\n\n"
    cases = {"repeated.md": (answer * 50, 1.0), "hedged.md": (wrong + answer, 0.0)}
    for name, (text, points) in cases.items():
        (tmp_path / name).write_text(text)
        result = grader.homework(tmp_path / name)
        assert (result.points, result.max_points) == (points, 2.0), name
        assert sum(c.id == "b2" for c in result.claims) == 1


def test_a_formula_hidden_from_the_reader_is_not_an_answer():
    hidden = {
        "md": "<!-- $$a = b$$ -->\n$$c = d$$\n<!-- unclosed $$e = f$$",
        "tex": "\\iffalse\n\\[ a = b \\]\n\\fi\n\\[ c = d \\]\n\\begin{comment}\\[ e = f \\]"
        "\\end{comment}\n% \\[ g = h \\]\n",
    }
    for kind, text in hidden.items():
        w = parse_writeup(text, kind)
        assert [sides(c) for c in w.chains] == [["c", "d"]], kind


def test_a_condition_hidden_or_inside_another_sentence_is_not_the_formula_s():
    for lead in ("<!-- when j = k -->", "(the case $j = k$ was done above, it is not special)",
                 "It makes no difference if j = k or not, so:"):  # fmt: skip
        w = parse_writeup(f"{lead}\n\n$$a_j = b_k$$\n")
        assert w.chains[0].where is None, lead


def test_old_mac_line_ends_are_lines(tmp_path):
    w = parse_writeup("prose\r$$a = b$$\r\r$$c = d\r\rprose\r$$e = f$$\r")
    assert [(c.line, sides(c)) for c in w.chains] == [(2, ["a", "b"]), (7, ["e", "f"])]
    assert w.unread[0].line == 4


def test_json_never_replaces_a_device_a_pipe_or_an_input(cli, tmp_path):
    import os

    path = tmp_path / "hw.md"
    path.write_text(RIGHT)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, path, MLP):
        before = target.read_text() if target.is_file() else None
        got = run(cli, path, "--json", target)
        assert got.exit_code == 2, target
        assert len(got.stderr.strip().splitlines()) == 1 and ".tmp" not in got.stderr
        assert (target.read_text() if target.is_file() else None) == before
    assert fifo.is_fifo()


def test_a_folder_or_a_pipe_given_as_the_write_up_is_named_so(cli, tmp_path):
    import os

    os.mkfifo(tmp_path / "pipe.md")
    for target in (tmp_path, tmp_path / "pipe.md"):
        got = run(cli, target)
        assert got.exit_code == 2 and "not a regular file" in got.stderr
