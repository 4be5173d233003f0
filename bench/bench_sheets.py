"""Solution sheets for a class: 200 students x 10 problems of the bank.

Times ``make_sheets`` writing every sheet, solution, answers file and the key as .tex (the
self-test included: every distinct variant graded by the checker), then grading 200 filled-in
answers files against the key (half the students give the key's answers, half a catalogued slip
per question), twice: written as the key writes them (an answer equal to the key's is known
right, one equal to a slip is named without a search), and spelled otherwise, so that every
answer is checked afresh; and the PDFs of a few students, per PDF.

    python bench/bench_sheets.py [--students 200] [--pdf-students 5] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from derive.claims.classrun import run_class  # noqa: E402
from derive.claims.grade import Grader  # noqa: E402
from derive.sheets.key import read_key  # noqa: E402
from derive.sheets.write import make_sheets  # noqa: E402

QUESTIONS = [
    ("act", "activation_derivative"), ("act2", "activation_derivative"),
    ("loss", "loss_gradient"), ("loss2", "loss_gradient"), ("jac", "jacobian"),
    ("prove", "identity_truth"), ("conv", "cnn_output"), ("conv2", "cnn_output"),
    ("convp", "cnn_params"), ("count", "param_count"),
]  # fmt: skip


def respelled(answer: str, kind: str, spelling: str) -> str:
    """The answer as a student might write it: verbatim, or spelled otherwise (1 times it in
    brackets, a number with a decimal point, yes / no), so that it is checked afresh."""
    if spelling == "verbatim":
        return answer
    if kind == "formula":
        return rf"1 \cdot \left({answer}\right)"
    if kind == "number":
        return f"{float(answer):.1f}"
    return {"true": "yes", "false": "no"}.get(answer, answer)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--students", type=int, default=200)
    ap.add_argument("--pdf-students", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lines = ["assignment: bench", "secret: 'the secret of the benchmark'", "questions:"]
        lines += [f"  - {{id: {qid}, problem: {name}}}" for qid, name in QUESTIONS]
        assignment = tmp / "bench.yaml"
        assignment.write_text("\n".join(lines) + "\n")
        roster = tmp / "roster.csv"
        roster.write_text("id\n" + "".join(f"student{k:03d}\n" for k in range(args.students)))

        start = time.perf_counter()
        run = make_sheets(assignment, roster, tmp / "sheets", pdf=False)
        tex_seconds = time.perf_counter() - start
        key = json.loads((tmp / "sheets" / "key.json").read_text())

        grade_seconds = {}
        for spelling in ("verbatim", "respelled"):
            folder = tmp / spelling
            folder.mkdir()
            for k, (student, entry) in enumerate(key["students"].items()):
                given = {}
                for qid, q in entry["questions"].items():
                    slips = q.get("slips") or []
                    given[qid] = respelled(
                        slips[0][1] if (k % 2 and slips) else q["answer"], q["kind"], spelling
                    )
                text = yaml.safe_dump({"student": student, "answers": given})
                (folder / f"{student}.yaml").write_text(text)
            grader = Grader(read_key(tmp / "sheets" / "key.json"))
            start = time.perf_counter()
            summary = run_class(folder, tmp / f"grades-{spelling}", grader, workers=args.workers,
                                pdf=False)  # fmt: skip
            grade_seconds[spelling] = time.perf_counter() - start

        pdf_seconds = None
        if args.pdf_students:
            small = tmp / "small.csv"
            small.write_text("id\n" + "".join(f"student{k:03d}\n"
                                              for k in range(args.pdf_students)))  # fmt: skip
            start = time.perf_counter()
            made = make_sheets(assignment, small, tmp / "pdf", pdf=True)
            pdfs = sum(1 for p in made.files if p.suffix == ".pdf")
            pdf_seconds = (time.perf_counter() - start) / max(pdfs, 1)

    row = {
        "students": args.students, "problems": len(QUESTIONS),
        "variants_tested": run.selftest.variants, "selftest_checks": run.selftest.checks,
        "sheets_tex_s": round(tex_seconds, 1),
        "grading_verbatim_s": round(grade_seconds["verbatim"], 1),
        "grading_respelled_s": round(grade_seconds["respelled"], 1),
        "graded": summary.checked, "verdicts": summary.verdicts,
        "seconds_per_pdf": None if pdf_seconds is None else round(pdf_seconds, 2),
    }  # fmt: skip
    print(f"{args.students} students x {len(QUESTIONS)} problems: sheets, solutions, answers "
          f"files and key (.tex) in {tex_seconds:.1f} s ({run.selftest.variants} variants "
          f"self-tested, {run.selftest.checks} checks)")  # fmt: skip
    print(f"grading {summary.checked} submissions against the key ({args.workers} workers): "
          f"{grade_seconds['verbatim']:.1f} s with the key's answers and slips as the key writes "
          f"them, {grade_seconds['respelled']:.1f} s spelled otherwise")  # fmt: skip
    if pdf_seconds is not None:
        print(f"PDFs: {pdf_seconds:.2f} s each (sheets, solutions and the instructor's file)")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
