"""Solution sheets for a class: 200 students x 10 problems of the bank.

Times ``make_sheets`` writing every sheet, solution, answers file and the key as .tex (the
self-test included: every distinct variant graded by the checker), then grading 200 filled-in
answers files against the key (half the key's answers, half a catalogued slip per question), and
the PDFs of a few students, per PDF.

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

        folder = tmp / "class"
        folder.mkdir()
        for k, (student, entry) in enumerate(key["students"].items()):
            given = {}
            for qid, q in entry["questions"].items():
                slips = q.get("slips") or []
                given[qid] = slips[0][1] if (k % 2 and slips) else q["answer"]
            text = yaml.safe_dump({"student": student, "answers": given})
            (folder / f"{student}.yaml").write_text(text)
        grader = Grader(read_key(tmp / "sheets" / "key.json"))
        start = time.perf_counter()
        summary = run_class(folder, tmp / "grades", grader, workers=args.workers, pdf=False)
        grade_seconds = time.perf_counter() - start

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
        "sheets_tex_s": round(tex_seconds, 1), "grading_s": round(grade_seconds, 1),
        "graded": summary.checked, "verdicts": summary.verdicts,
        "seconds_per_pdf": None if pdf_seconds is None else round(pdf_seconds, 2),
    }  # fmt: skip
    print(f"{args.students} students x {len(QUESTIONS)} problems: sheets, solutions, answers "
          f"files and key (.tex) in {tex_seconds:.1f} s ({run.selftest.variants} variants "
          f"self-tested, {run.selftest.checks} checks)")  # fmt: skip
    print(f"grading {summary.checked} submissions against the key: {grade_seconds:.1f} s "
          f"({args.workers} workers)")  # fmt: skip
    if pdf_seconds is not None:
        print(f"PDFs: {pdf_seconds:.2f} s each (sheets, solutions and the instructor's file)")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
