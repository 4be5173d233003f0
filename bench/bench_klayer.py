"""How derivation cost grows with depth: the k-layer example for k = 2, 5, 10, 20, 50.

Timed separately, each the median of a few runs in one Python process:

- derive: load the file and derive every residual and gradient;
- numeric: the numeric proof (central differences of the compiled loss, 3 random points);
- render: the .tex report;
- symbolic: the symbolic proof alone, in this process (``verify`` runs it on the second core
  while the numeric proof runs, so it adds to the wall time only where it is the longer one);
- pipeline: derive + ``verify`` (both proofs, as ``derive report`` runs them) + render.

The target: derive + numeric + render grows linearly with k, and is under 5 s at k = 50 on a
2-core machine. A straight line t = a + b k is fitted to each column (b: the cost per layer),
and a parabola a + b k + c k^2 (c: what grows faster than the depth).

    python bench/bench_klayer.py [--runs 3] [--ks 2,5,10,20,50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sympy.core.cache import clear_cache

import derive
from derive.numeric import prove_numeric
from derive.render.report import write_report
from derive.verify import prove_symbolic, symbolic_scheme, symbolic_sizes, verify

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "klayer.py"
TARGET = 5.0  # seconds for derive + numeric + render at k = 50
STEPS = ("derive", "numeric", "render", "total", "symbolic", "pipeline")


def once(k: int, out: Path) -> dict[str, float]:
    clear_cache()  # SymPy's cache would make repeated runs at small k look free
    t0 = time.perf_counter()
    net = derive.load(EXAMPLE, k=k)
    derivation = net.derive()
    t1 = time.perf_counter()
    errors = prove_numeric(derivation, net.sizes(m=4), points=3)
    t2 = time.perf_counter()
    verification = verify(derivation, symbolic=False)  # the numeric proof again, for the table
    t3 = time.perf_counter()
    write_report(derivation, verification, out, {"tex"})
    t4 = time.perf_counter()
    symbolic = prove_symbolic(derivation, symbolic_sizes(net))
    t5 = time.perf_counter()
    assert verification.ok and all(symbolic.values()) and max(errors.values()) < 1e-6
    clear_cache()
    full = verify(derivation)  # both proofs, the symbolic one on the other core
    write_report(derivation, full, out, {"tex"})
    t7 = time.perf_counter()
    assert full.ok
    return {
        "derive": t1 - t0,
        "numeric": t2 - t1,
        "render": t4 - t3,
        "total": (t1 - t0) + (t2 - t1) + (t4 - t3),
        "symbolic": t5 - t4,
        "pipeline": (t1 - t0) + (t7 - t5),
    }


def fit(ks: list[int], ts: list[float]) -> tuple[float, float]:
    """Least-squares a + b k."""
    mk, mt = statistics.fmean(ks), statistics.fmean(ts)
    b = sum((k - mk) * (t - mt) for k, t in zip(ks, ts)) / sum((k - mk) ** 2 for k in ks)
    return mt - b * mk, b


def fit2(ks: list[int], ts: list[float]) -> tuple[float, float, float]:
    """Least-squares a + b k + c k^2 (the normal equations, by Cramer's rule)."""
    s = [sum(k**p for k in ks) for p in range(5)]
    r = [sum(t * k**p for k, t in zip(ks, ts)) for p in range(3)]
    m = [[s[0], s[1], s[2]], [s[1], s[2], s[3]], [s[2], s[3], s[4]]]

    def det(a):
        return (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
                - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
                + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]))  # fmt: skip

    d = det(m)
    out = []
    for j in range(3):
        mj = [row[:] for row in m]
        for i in range(3):
            mj[i][j] = r[i]
        out.append(det(mj) / d)
    return out[0], out[1], out[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ks", default="2,5,10,20,50")
    args = parser.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    rows: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        once(2, Path(tmp))  # warm SymPy's caches and the imports
        for k in ks:
            runs = [once(k, Path(tmp)) for _ in range(args.runs)]
            rows[k] = {s: statistics.median(r[s] for r in runs) for s in STEPS}
            print(f"  k = {k} done", file=sys.stderr, flush=True)
    net = derive.load(EXAMPLE, k=ks[-1])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"klayer, median of {args.runs} runs (python {sys.version.split()[0]}, "
          f"{os.cpu_count()} cores, load average {load:.1f})")  # fmt: skip
    print(f"symbolic proof at k = {ks[-1]}: {symbolic_scheme(net)}")
    print()
    print("| k | nodes | derive | numeric | render | total | symbolic (alone) | pipeline |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for k in ks:
        r = rows[k]
        nodes = len(derive.load(EXAMPLE, k=k).nodes)
        cells = " | ".join(f"{r[s]:.2f} s" for s in STEPS)
        print(f"| {k} | {nodes} | {cells} |")
    print()
    mid = ks[len(ks) // 2]
    print("| step | per layer (fit a + b k) | fit a + b k + c k^2: b, c | t / k at the largest k | "
          f"t({ks[-1]}) / t({mid}) (linear: {ks[-1] / mid:.1f}) |")  # fmt: skip
    print("| --- | ---: | ---: | ---: | ---: |")
    for s in STEPS:
        ts = [rows[k][s] for k in ks]
        _, b = fit(ks, ts)
        _, b2, c2 = fit2(ks, ts) if len(ks) >= 3 else (0.0, b, 0.0)
        ratio = rows[ks[-1]][s] / rows[mid][s]
        print(f"| {s} | {1000 * b:.0f} ms | {1000 * b2:.1f} ms, {1000 * c2:.2f} ms "
              f"| {1000 * ts[-1] / ks[-1]:.0f} ms | {ratio:.1f} |")  # fmt: skip
    big = rows[ks[-1]]["total"]
    print()
    print(f"derive + numeric + render at k = {ks[-1]}: {big:.2f} s "
          f"(target under {TARGET:g} s: {'met' if big < TARGET else 'MISSED'})")  # fmt: skip


if __name__ == "__main__":
    main()
