"""A class of 200 students x 10 answers, graded by `derive check --assignment --class` (two
workers, with the limits on: a worker process per file, a memory limit, a deadline, a budget).

The assignment asks, as a homework would, identities in symbols (sigma', tanh', ReLU',
d(u^T W v)/dW), gradients and residuals of the MLP (dJ/dW_2, dJ/ds_1, dJ/db_2, dJ/ds_2) and two
numbers of the MLP at the assignment's values. Each student answers every question with a seeded
choice among right answers and planted slips (a missing 1/m, a missing activation derivative, a
missing transpose, a wrong sample index, a sign error), and some write an unparseable line. The
target is under 60 s on this 2-core machine; `--pdf` adds each student's feedback PDF.

`--compare REV` also runs the same claims through the checker as it was at git revision REV
(its own bench script, in a temporary worktree), and through today's checker in a quick-check
class run, in the same run, and prints the ratio: what the limits cost.

    python bench/bench_check.py [--students 200] [--workers 2] [--pdf] [--compare 920baa3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

VALUES = {
    "x": [[0.5, -1.0, 2.0, 0.25], [1.5, 0.5, -0.5, 1.0]],
    "y": [[1, 0, 0], [0, 0, 1]],
    "W_1": [[0.1, -0.2, 0.3, 0.4], [-0.5, 0.6, 0.1, -0.3], [0.2, 0.2, -0.4, 0.5]],
    "b_1": [0.1, -0.1, 0.2],
    "W_2": [[0.3, -0.1, 0.2], [0.5, 0.4, -0.6], [-0.2, 0.1, 0.3]],
    "b_2": [0.0, 0.1, -0.1],
}
H = r"(\mathbf{h}^i)^T"
PY = r"(\mathbf{p}^i - \mathbf{y}^i)"
#: question id -> (ask, network or None, answers to choose from: right ones and slips)
QUESTIONS = {
    "sig": (r"\frac{d\sigma(x)}{dx}", None, [r"\sigma(x)(1-\sigma(x))", r"\sigma(x)(1+\sigma(x))"]),
    "tanh": (r"\frac{d\tanh(x)}{dx}", None, [r"1 - \tanh^2(x)", r"1 - \tanh(x)"]),
    "relu": (r"\frac{d}{dx} \max(0, x)", None, [r"\mathbb{1}[x > 0]", r"\mathbb{1}[x \geq 0]"]),
    "uWv": (r"\frac{\partial}{\partial W} u^T W v", None, ["u v^T", "v u^T"]),
    "dW2": (r"\frac{\partial J}{\partial W_2}", "mlp",
            [rf"\frac{{1}}{{m}}\sum_{{i=1}}^{{m}}{PY}{H}", rf"\sum_{{i=1}}^{{m}}{PY}{H}",
             rf"\frac{{1}}{{m}}\sum_{{i=1}}^{{m}}{PY}\mathbf{{h}}^i",
             rf"\frac{{1}}{{m}}\sum_{{i=1}}^{{m}}{PY}(\mathbf{{h}}^j)^T"]),
    "ds1": (r"\frac{\partial J}{\partial \mathbf{s}_1^i}", "mlp",
            [r"W_2^T \frac{\partial J}{\partial \mathbf{s}_2^i} \circ "
             r"\mathbb{1}[\mathbf{s}_1^i > 0]",
             r"W_2^T \frac{\partial J}{\partial \mathbf{s}_2^i}"]),
    "db2": (r"\frac{\partial J}{\partial \mathbf{b}_2}", "mlp",
            [rf"\frac{{1}}{{m}}\sum_{{i=1}}^{{m}}{PY}", rf"\sum_{{i=1}}^{{m}}{PY}"]),
    "ds2": (r"\frac{\partial J}{\partial \mathbf{s}_2^i}", "mlp",
            [rf"\frac{{1}}{{m}}{PY}", r"\frac{1}{m}(\mathbf{y}^i - \mathbf{p}^i)"]),
    "J": ("J", "mlp", ["{J}", "{J_wrong}"]),
    "db11": (r"\frac{\partial J}{\partial b_{11}}", "mlp", ["{db}", "{db_neg}"]),
}  # fmt: skip
BROKEN = [r"\frac{\partial J}{\partial W_2 = 1", r"\sigma(x) = = 1"]


def true_numbers() -> dict[str, str]:
    """J and dJ/db_1[1] at VALUES, by derive itself (the bench times grading, not this)."""
    import numpy as np

    import derive

    values = {k: np.asarray(v, dtype=float) for k, v in VALUES.items()}
    out = derive.load(ROOT / "examples" / "mlp.py").compile().loss_and_grads(values)
    J, db = float(out["J"]), float(out["grad_b_1"][0])
    return {"J": f"{J:.4f}", "J_wrong": f"{J * 1.3:.4f}", "db": f"{db:.4f}", "db_neg": f"{-db:.4f}"}


def assignment_text() -> str:
    lines = ["assignment: bench", "tolerance: 0.01", "symbols:", "  x: scalar",
             "  u: {vector: a}", "  v: {vector: b}", "  W: {matrix: [a, b]}", "networks:",
             f"  mlp: {{file: {ROOT / 'examples' / 'mlp.py'}, aliases: {{b_11: 'b_1[1]'}},",
             f"        values: {json.dumps(VALUES)}}}", "questions:"]  # fmt: skip
    for ident, (ask, network, _) in QUESTIONS.items():
        kind = ", kind: number" if ident in ("J", "db11") else ""
        lines.append(f"  - {{id: {ident}, ask: '{ask}', network: {network or 'null'}{kind}}}")
    return "\n".join(lines) + "\n"


def answers(rng: random.Random, numbers: dict) -> dict[str, str]:
    out = {ident: rng.choice(choices) for ident, (_, _, choices) in QUESTIONS.items()}
    for ident in ("J", "db11"):  # the numbers, filled in
        out[ident] = out[ident].format(**numbers)
    if rng.random() < 0.3:
        out["dW2"] = rng.choice(BROKEN)
    return out


def make_class(folder: Path, students: int, seed: int = 0) -> int:
    import yaml

    rng = random.Random(seed)
    numbers = true_numbers()
    folder.mkdir(parents=True)
    for k in range(students):
        data = {"student": f"student{k:03d}", "answers": answers(rng, numbers)}
        (folder / f"student{k:03d}.yaml").write_text(yaml.safe_dump(data, width=1000))
    return len(QUESTIONS) * students


def grade(tmp: Path, students: int, workers: int, pdf: bool) -> tuple[float, object]:
    from derive.claims.assignment import read_assignment
    from derive.claims.classrun import run_class
    from derive.claims.grade import prepare

    (tmp / "a.yaml").write_text(assignment_text())
    make_class(tmp / "class", students)
    start = time.perf_counter()
    grader = prepare(read_assignment(tmp / "a.yaml"))  # as the command does: once, then fork
    summary = run_class(tmp / "class", tmp / "out", grader, workers=workers, pdf=pdf)
    return time.perf_counter() - start, summary


# --- the same claims, before and after ---------------------------------------------------------
def compare(rev: str, students: int, workers: int, repeat: int = 3) -> None:
    """The old bench (at ``rev``, its own class of claims files) and today's checker on the
    same claims files (their values and network given as a quick check would), in one run,
    taking turns ``repeat`` times; medians."""
    import statistics

    with tempfile.TemporaryDirectory(prefix="derive-before-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
                       check=True, capture_output=True)  # fmt: skip
        try:
            env = {**os.environ, "PYTHONPATH": str(tree)}
            olds, news = [], []
            for _ in range(repeat):
                olds.append(_old_seconds(tree, env, students, workers))
                news.append(_today_on_old_claims(tree, students, workers))
            old, new = statistics.median(olds), statistics.median(news)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True)  # fmt: skip
    ratios = ", ".join(f"{n / o:.2f}" for o, n in zip(olds, news))
    print(
        f"the same {students} x 10 claims, medians of {repeat}: before ({rev}) {old:.1f} s, "
        f"today with the limits {new:.1f} s: {new / old:.2f}x (each turn: {ratios})"
    )


def _old_seconds(tree: Path, env: dict, students: int, workers: int) -> float:
    done = subprocess.run([sys.executable, str(tree / "bench" / "bench_check.py"), "--students",
                           str(students), "--workers", str(workers)], env=env, cwd=tree,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return float(re.search(r"workers: ([\d.]+) s", done.stdout).group(1))


def _today_on_old_claims(tree: Path, students: int, workers: int) -> float:
    """The old bench's claims files, read by today's quick check: their values and network
    come from the caller, as --values and --network give them."""
    import importlib.util

    import yaml

    from derive.claims.classrun import run_class
    from derive.claims.grade import check_file
    from derive.values import to_arrays

    spec = importlib.util.spec_from_file_location("old_bench", tree / "bench" / "bench_check.py")
    old = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(tree))  # its true_numbers() loads derive: today's is already loaded
    spec.loader.exec_module(old)
    sys.path.remove(str(tree))
    with tempfile.TemporaryDirectory(prefix="derive-class-") as tmp:
        folder = Path(tmp) / "class"
        folder.mkdir()
        old.make_class(folder, students)
        values = None
        for path in folder.glob("*.yaml"):
            data = yaml.safe_load(path.read_text())
            values = to_arrays(data.pop("values"), "values")
            data.pop("network")
            path.write_text(yaml.safe_dump(data, width=1000))
        network = folder / "mlp.py"

        def check(path, student):
            return check_file(path, (network,), values=values)

        from derive.claims.assignment import Limits
        from derive.claims.classrun import _Task  # noqa: F401 (the same task as a class run)

        start = time.perf_counter()
        run_class(folder, Path(tmp) / "out", check=check, workers=workers, pdf=False,
                  fingerprint="bench")  # fmt: skip
        seconds = time.perf_counter() - start
        _ = Limits
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200, help="answers files")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pdf", action="store_true", help="also each student's feedback PDF")
    parser.add_argument("--compare", metavar="REV", help="also time the same claims at REV")
    parser.add_argument("--repeat", type=int, default=3, help="turns of --compare, --against")
    parser.add_argument("--against", metavar="REV",
                        help="also grade the same class with this bench as it was at REV, "
                        "taking turns with today's (its own assignment and answers)")  # fmt: skip
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="derive-class-") as tmp:
        seconds, summary = grade(Path(tmp), args.students, args.workers, args.pdf)
        counts = Counter()
        slowest = 0.0
        for student in json.loads((Path(tmp) / "out" / "results.json").read_text())["students"]:
            for c in student.get("claims", []):
                counts[c["verdict"]] += 1
                slowest = max(slowest, c.get("seconds", 0.0))
    answers_n = args.students * len(QUESTIONS)
    print(f"{args.students} answers files, {answers_n} answers, {args.workers} workers: "
          f"{seconds:.1f} s ({seconds / answers_n * 1e3:.0f} ms an answer), the slowest answer "
          f"{slowest:.2f} s, the largest worker {summary.peak_mb:.0f} MB; verdicts: "
          f"{dict(counts)}")  # fmt: skip
    if args.compare:
        compare(args.compare, args.students, args.workers, args.repeat)
    if args.against:
        against(args.against, args.students, args.workers, args.repeat)


def against(rev: str, students: int, workers: int, repeat: int) -> None:
    """This bench at ``rev`` and today, each in a fresh process, taking turns; medians."""
    import statistics

    def seconds(tree: Path) -> float:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        done = subprocess.run([sys.executable, str(tree / "bench" / "bench_check.py"),
                               "--students", str(students), "--workers", str(workers)],
                              env=env, cwd=tree, capture_output=True, text=True,
                              check=True)  # fmt: skip
        return float(re.search(r"workers: ([\d.]+) s", done.stdout).group(1))

    with tempfile.TemporaryDirectory(prefix="derive-against-") as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
                       check=True, capture_output=True)  # fmt: skip
        try:
            olds, news = [], []
            for _ in range(repeat):
                olds.append(seconds(tree))
                news.append(seconds(ROOT))
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                           check=False, capture_output=True)  # fmt: skip
    old, new = statistics.median(olds), statistics.median(news)
    turns = ", ".join(f"{n / o:.2f}" for o, n in zip(olds, news))
    print(
        f"the same class, medians of {repeat}: at {rev} {old:.1f} s, today {new:.1f} s: "
        f"{new / old:.2f}x (each turn: {turns})"
    )


if __name__ == "__main__":
    main()
