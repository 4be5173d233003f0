"""A class of 200 students x 10 claims, checked by `derive check --class` (two workers).

Each student's file mixes, as a homework would, identities in declared symbols (sigma', tanh',
ReLU', d(u^T W v)/dW), gradients and residuals of the MLP (some right, some with a planted slip:
a missing 1/m, a missing activation derivative, a missing transpose, a wrong sample index),
numbers of the MLP at values the file gives (one with a sign error), and an unparseable line. The
students differ (a seeded choice per claim), as a real class does. The target is under 60 s on
this 2-core machine; `--pdf` adds each student's feedback PDF (pdflatex).

    python bench/bench_check.py [--students 200] [--workers 2] [--pdf]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from collections import Counter
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

IDENTITIES = [
    r"\frac{d\sigma(x)}{dx} = \sigma(x)(1-\sigma(x))",
    r"\frac{d\sigma(x)}{dx} = \sigma(x)(1+\sigma(x))",
    r"\frac{d\tanh(x)}{dx} = 1 - \tanh^2(x)",
    r"\frac{d\tanh(x)}{dx} = 1 - \tanh(x)",
    r"\frac{d}{dx} \max(0, x) = \mathbb{1}[x > 0]",
    r"\frac{d}{dx} \max(0, x) = \mathbb{1}[x \geq 0]",
    r"\frac{\partial}{\partial W} u^T W v = u v^T",
    r"\frac{\partial}{\partial W} u^T W v = v u^T",
]
GRADIENTS = [
    r"\frac{\partial J}{\partial W_2} = \frac{1}{m}\sum_{i=1}^{m}(\mathbf{p}^i - \mathbf{y}^i)"
    r"(\mathbf{h}^i)^T",
    r"\frac{\partial J}{\partial W_2} = \sum_{i=1}^{m}(\mathbf{p}^i - \mathbf{y}^i)"
    r"(\mathbf{h}^i)^T",
    r"\frac{\partial J}{\partial W_2} = \frac{1}{m}\sum_{i=1}^{m}(\mathbf{p}^i - \mathbf{y}^i)"
    r"\mathbf{h}^i",
    r"\frac{\partial J}{\partial W_2} = \frac{1}{m}\sum_{i=1}^{m}(\mathbf{p}^i - \mathbf{y}^i)"
    r"(\mathbf{h}^j)^T",
    r"\frac{\partial J}{\partial \mathbf{s}_1^i} = W_2^T \frac{\partial J}{\partial \mathbf{s}_2^i}"
    r" \circ \mathbb{1}[\mathbf{s}_1^i > 0]",
    r"\frac{\partial J}{\partial \mathbf{s}_1^i} = W_2^T "
    r"\frac{\partial J}{\partial \mathbf{s}_2^i}",
    r"\frac{\partial J}{\partial \mathbf{b}_2} = \frac{1}{m}\sum_{i=1}^{m}(\mathbf{p}^i - "
    r"\mathbf{y}^i)",
    r"\frac{\partial J}{\partial \mathbf{s}_2^i} = \frac{1}{m}(\mathbf{p}^i - \mathbf{y}^i)",
]
#: numbers of the MLP at the values every student's file carries (VALUES); {J} and {db} are
#: filled in with the true values, so some number claims are right and some are not
NUMBERS = ["J = {J}", "J = {J_wrong}", r"\frac{{\partial J}}{{\partial b_{{11}}}} = {db}",
           r"\frac{{\partial J}}{{\partial b_{{11}}}} = {db_neg}"]  # fmt: skip
VALUES = """aliases: {b_11: 'b_1[1]'}
values:
  x: [[0.5, -1.0, 2.0, 0.25], [1.5, 0.5, -0.5, 1.0]]
  y: [[1, 0, 0], [0, 0, 1]]
  W_1: [[0.1, -0.2, 0.3, 0.4], [-0.5, 0.6, 0.1, -0.3], [0.2, 0.2, -0.4, 0.5]]
  b_1: [0.1, -0.1, 0.2]
  W_2: [[0.3, -0.1, 0.2], [0.5, 0.4, -0.6], [-0.2, 0.1, 0.3]]
  b_2: [0.0, 0.1, -0.1]
"""
BROKEN = [r"\frac{\partial J}{\partial W_2 = 1", r"\sigma(x) = = 1"]


def true_numbers() -> dict[str, str]:
    """J and dJ/db_1[1] at VALUES, by derive itself (the bench times checking, not this)."""
    import numpy as np
    import yaml

    import derive

    values = {k: np.asarray(v, dtype=float) for k, v in yaml.safe_load(VALUES)["values"].items()}
    out = derive.load(ROOT / "examples" / "mlp.py").compile().loss_and_grads(values)
    J, db = float(out["J"]), float(out["grad_b_1"][0])
    return {"J": f"{J:.4f}", "J_wrong": f"{J * 1.3:.4f}", "db": f"{db:.4f}", "db_neg": f"{-db:.4f}"}


def student_file(k: int, rng: random.Random, numbers: dict[str, str]) -> str:
    claims = (
        [rng.choice(IDENTITIES) for _ in range(3)]
        + [rng.choice(GRADIENTS) for _ in range(4)]
        + [rng.choice(NUMBERS).format(**numbers) for _ in range(2)]
        + [rng.choice(BROKEN + GRADIENTS)]
    )
    head = [f"student: student{k:03d}", "network: mlp.py", "symbols:", "  x: scalar",
            "  u: {vector: a}", "  v: {vector: b}", "  W: {matrix: [a, b]}"]  # fmt: skip
    body = [f"  - id: c{n + 1}\n    claim: '{text}'" for n, text in enumerate(claims)]
    return "\n".join(head) + "\n" + VALUES + "claims:\n" + "\n".join(body) + "\n"


def make_class(folder: Path, students: int, seed: int = 0) -> int:
    """Write the class (one claims file per student); returns the number of claims."""
    rng = random.Random(seed)
    shutil.copy(ROOT / "examples" / "mlp.py", folder / "mlp.py")
    numbers = true_numbers()
    for k in range(students):
        (folder / f"student{k:03d}.yaml").write_text(student_file(k, rng, numbers))
    return 10 * students


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=200, help="claims files")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pdf", action="store_true", help="also each student's feedback PDF")
    args = parser.parse_args()
    from derive.claims.check import check_file
    from derive.claims.classrun import run_class

    with tempfile.TemporaryDirectory(prefix="derive-class-") as tmp:
        folder, out = Path(tmp) / "class", Path(tmp) / "out"
        folder.mkdir()
        claims = make_class(folder, args.students)
        start = time.perf_counter()
        check = partial(check_file, networks=(folder / "mlp.py",))  # the class's network
        summary = run_class(folder, out, workers=args.workers, pdf=args.pdf, check=check)
        seconds = time.perf_counter() - start
        counts = Counter()
        import json

        for student in json.loads((out / "results.json").read_text()).get("students", []):
            for c in student.get("claims", []):
                counts[c["verdict"]] += 1
    print(f"{args.students} claims files, {claims} claims, {args.workers} workers: {seconds:.1f} s "
          f"({seconds / claims * 1e3:.0f} ms a claim); verdicts: {dict(counts)}")  # fmt: skip
    print(summary)


if __name__ == "__main__":
    main()
