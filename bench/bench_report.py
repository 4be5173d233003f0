"""Wall time of derive + prove + render .tex for the multi-task example (target: under 1 s on a
2-core machine), with the PDF compile reported separately.

The reference, timed in the same run, is the scalar route a student would take with SymPy alone:
expand the loss into scalars at the same small sizes and sympy.diff it by every parameter entry
(no residuals, no proof, no write-up). Timings drift on shared machines: quote the ratio.

    python bench/bench_report.py [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sympy as sp

import derive
from derive.expand import Expander
from derive.render.report import write_report
from derive.verify import symbolic_sizes, verify

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "multitask.py"


def pipeline(out: Path) -> dict[str, float]:
    t0 = time.perf_counter()
    net = derive.load(EXAMPLE)
    derivation = net.derive()
    t1 = time.perf_counter()
    verification = verify(derivation)
    t2 = time.perf_counter()
    write_report(derivation, verification, out, {"tex"})
    t3 = time.perf_counter()
    assert verification.ok
    return {"derive": t1 - t0, "prove": t2 - t1, "render": t3 - t2, "total": t3 - t0}


def scalar_reference() -> float:
    t0 = time.perf_counter()
    net = derive.load(EXAMPLE)
    ex = Expander(net, symbolic_sizes(net))
    loss = ex.value_of(net.loss_quantity)[0, 0]
    for q in net.params:
        ex.leaf_symbols(q, None).applyfunc(lambda s: sp.diff(loss, s))
    return time.perf_counter() - t0


def pdf_compile(tex_dir: Path) -> float | None:
    if not shutil.which("latexmk"):
        return None
    t0 = time.perf_counter()
    subprocess.run(
        ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", "multitask.tex"],
        cwd=tex_dir, check=True, capture_output=True,
    )  # fmt: skip
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    results, references = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            results.append(pipeline(Path(tmp)))
            references.append(scalar_reference())
        pdf = pdf_compile(Path(tmp))
    med = {k: statistics.median(r[k] for r in results) for k in results[0]}
    ref = statistics.median(references)
    print(f"multi-task example, median of {runs} runs (python {sys.version.split()[0]})")
    for k in ("derive", "prove", "render", "total"):
        print(f"  {k:<7} {med[k]:6.2f} s")
    print(f"  reference: sympy.diff of the scalar loss by every parameter entry {ref:.2f} s")
    print(f"  ratio total / reference: {med['total'] / ref:.2f}")
    print(f"  target total < 1 s: {'met' if med['total'] < 1 else 'MISSED'}")
    if pdf is not None:
        print(f"  PDF compile (latexmk, separately): {pdf:.2f} s")


if __name__ == "__main__":
    main()
