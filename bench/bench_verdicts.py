"""How verdicts are reached, measured (issue 11): wrong claims made from right ones, and the
seconds a claim takes by kind.

1. **Wrong claims**: every right claim of tests/test_verdicts.py broken by construction (a term
   that vanishes on a region, a changed constant, a transpose, a tiny factor; see
   tests/test_wrong_claims.py) with many thresholds and factors: how many are judged correct
   or almost everywhere (must be 0), and how many incorrect or invalid.
2. **Seconds per claim by kind**: the known-answer claims, grouped (identities of numbers,
   identities of vectors and matrices, formulas of a network, numbers, unparseable), each
   checked with a fresh seed: median and slowest.

    python bench/bench_verdicts.py [--wrong 3000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

KINDS = ("region", "region-plus", "constant", "transpose", "tiny", "index")


def wrong_claims(n: int, seed: int = 0):
    from test_wrong_claims import RIGHT, mutate

    rng = random.Random(seed)
    made = 0
    while made < n:
        net, claim = rng.choice(RIGHT)
        wrong = mutate(net, claim, rng.choice(KINDS), rng.choice([3.0, 10.0, 50.0, 1000.0]),
                       rng.randint(1, 9))  # fmt: skip
        if wrong is not None:
            made += 1
            yield net, wrong


def bench_wrong(n: int) -> None:
    from test_verdicts import verdict

    counts, fooled = Counter(), []
    start = time.perf_counter()
    for net, claim in wrong_claims(n):
        got, message = verdict(net, claim)
        counts[got] += 1
        if got in ("correct", "almost-everywhere"):
            fooled.append((net, claim, message))
    seconds = time.perf_counter() - start
    print(f"wrong claims: {n:,}, checked in {seconds:.0f} s: {dict(counts)}; judged correct "
          f"or almost everywhere: {len(fooled)}")  # fmt: skip
    for net, claim, message in fooled[:10]:
        print("   ", net, claim[:120], "|", message[:80])


def kind_of(net, claim: str, expected: str) -> str:
    if expected == "unparseable":
        return "unparseable"
    if net is None:
        vector = any(v in claim for v in ("u", "v", "X", "Y", "A", "B", "S(", "z", "t^"))
        return "identity of vectors and matrices" if vector else "identity of numbers"
    return "formula of a network"


def bench_kinds(repeat: int = 3) -> None:
    from test_verdicts import CASES, checker

    from derive.claims.claimfile import ClaimEntry

    times: dict[str, list[float]] = {}
    slowest: dict[str, tuple[float, str]] = {}
    checkers: dict = {}
    cases = [*CASES, ("hand321", "E = 1.7336", "number"),
             ("hand321", r"\frac{\partial E}{\partial b_2} = 0.46", "number"),
             ("mlp", r"\frac{\partial J}{\partial W_2 = 1", "unparseable"),
             (None, r"__import__('os').system('x') = 1", "unparseable")]  # fmt: skip
    for net, claim, expected in cases:
        kind = "number" if expected == "number" else kind_of(net, claim, expected)
        if net not in checkers:
            checkers[net] = checker(net)
        c = checkers[net]
        for _ in range(repeat):
            c.secret = os.urandom(16)
            result = c.check(ClaimEntry("q", claim))
            times.setdefault(kind, []).append(result.seconds)
            if result.seconds > slowest.get(kind, (0.0, ""))[0]:
                slowest[kind] = (result.seconds, claim)
    print(f"seconds per claim by kind ({repeat} seeds each, 2 cores):")
    for kind, values in times.items():
        s, claim = slowest[kind]
        print(f"  {kind:34s} {len(values):4d} checks: median {statistics.median(values):.3f} s, "
              f"slowest {s:.2f} s ({claim[:60]!r})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wrong", type=int, default=3000, help="wrong claims to make")
    parser.add_argument("--repeat", type=int, default=3, help="seeds per known-answer claim")
    args = parser.parse_args()
    os.chdir(ROOT / "tests")
    bench_kinds(args.repeat)
    bench_wrong(args.wrong)


if __name__ == "__main__":
    main()
