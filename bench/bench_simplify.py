"""The simplifier two ways, on every example: derive's rule table (derive/ops/identities.py,
applied by the smart constructors as an expression is built) against equality saturation with
egglog, given the same identities as rewrites.

For each example the derivation is made twice, with the rule table and without it. Every
residual and gradient of the rule-free derivation (its compact and its expanded form) is put
into an e-graph with the course's identities and the algebra they need (commutativity and
associativity of +, o and scalar products; distributivity; transposes of products), saturated
iteration by iteration until nothing changes or the time budget is spent, and the smallest term
is extracted. Sizes are counted the same way for both: the nodes of the binary term that egglog
extracts (a sum of three terms is two Add nodes).

    pip install egglog   # not a dependency of derive: only this benchmark uses it
    python bench/bench_simplify.py [--budget 10] [--examples batchnorm,klayer]

Prints, per example: the rule-free size, the rule table's size, the time of the whole derivation
with the rule table, egglog's size and time, and in how many formulas egglog reached the rule
table's size (or did better); then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from derive.backprop import derive  # noqa: E402
from derive.expr import Identity, Leaf, Ones, Residual, Zero  # noqa: E402
from derive.graph import load  # noqa: E402
from derive.ops import identities  # noqa: E402
from derive.ops.algebra import Add, MatMul, Scale, Transpose  # noqa: E402
from derive.ops.batch import BatchSum, mean  # noqa: E402
from derive.ops.elementwise import Apply, Diag, Hadamard  # noqa: E402

EXAMPLES = ["mlp", "mlp2", "multitask", "linear_softmax", "klayer", "batchnorm", "vae", "losses"]

#: The term language, the facts the identities need, and the rewrites: the rule table's five
#: identities (marked) and the algebra an e-graph needs to find them (it has no canonical
#: forms: a + b and b + a are two terms until a rule says they are equal).
PROGRAM = r"""
(datatype M
  (Leaf String) (One1) (Ones) (Id) (Zero)
  (Sc String M) (Add M M) (Mm M M) (Had M M) (Inv M) (T M) (Bsum M) (Diag M)
  (Fn String M) (Fn2 String M M))
(relation onehot (M))
(relation scalar (M))
(relation shared (M))
(relation meanof (M M))

; facts for the terms the rewrites build
(rule ((= e (Had a b)) (scalar a) (scalar b)) ((scalar e)))
(rule ((= e (Add a b)) (scalar a)) ((scalar e)))
(rule ((= e (Sc c a)) (scalar a)) ((scalar e)))
(rule ((= e (Inv a)) (scalar a)) ((scalar e)))
(rule ((= e (Mm (T a) b)) (scalar (Mm (T a) b))) ((scalar e)))
(rule ((= e (Bsum a))) ((shared e)))
(rule ((= e (Add a b)) (shared a) (shared b)) ((shared e)))
(rule ((= e (Had a b)) (shared a) (shared b)) ((shared e)))
(rule ((= e (Mm a b)) (shared a) (shared b)) ((shared e)))
(rule ((= e (Sc c a)) (shared a)) ((shared e)))
(rule ((= e (T a)) (shared a)) ((shared e)))
(rule ((= e (Inv a)) (shared a)) ((shared e)))

; the algebra
(rewrite (Add a b) (Add b a))
(rewrite (Add (Add a b) c) (Add a (Add b c)))
(rewrite (Add a (Zero)) a)
(rewrite (Add a (Sc "-1" a)) (Zero))
(rewrite (Had a b) (Had b a))
(rewrite (Had (Had a b) c) (Had a (Had b c)))
(rewrite (Had a (Add b c)) (Add (Had a b) (Had a c)))
(rewrite (Had a (Sc c b)) (Sc c (Had a b)))
(rewrite (Had a (Ones)) a)
(rewrite (Had a (Inv a)) (Ones))
(rewrite (Had a (Zero)) (Zero))
(rewrite (Mm (Mm a b) c) (Mm a (Mm b c)))
(rewrite (Mm a (Mm b c)) (Mm (Mm a b) c))
(rewrite (Mm a (Add b c)) (Add (Mm a b) (Mm a c)))
(rewrite (Mm (Add a b) c) (Add (Mm a c) (Mm b c)))
(rewrite (Mm a (Sc c b)) (Sc c (Mm a b)))
(rewrite (Mm (Sc c a) b) (Sc c (Mm a b)))
(rewrite (Mm s a) (Mm a s) :when ((scalar s)))
(rewrite (Mm (One1) a) a)
(rewrite (Mm (Inv s) s) (One1) :when ((scalar s)))
(rewrite (Mm a (Zero)) (Zero))
(rewrite (Sc c (Add a b)) (Add (Sc c a) (Sc c b)))
(rewrite (Sc "-1" (Sc "-1" a)) a)
(rewrite (Sc c (Zero)) (Zero))
(rewrite (T (T a)) a)
(rewrite (T (Mm a b)) (Mm (T b) (T a)))
(rewrite (T (Add a b)) (Add (T a) (T b)))
(rewrite (T (Sc c a)) (Sc c (T a)))
(rewrite (Bsum (Sc c a)) (Sc c (Bsum a)))
(rewrite (Bsum (Zero)) (Zero))

; one-hot picks an entry: v o (s y) = s (y^T v) y
(rewrite (Had v (Mm s y)) (Mm (Mm s (Mm (T y) v)) y) :when ((onehot y) (scalar s)))
(rewrite (Had v y) (Mm (Mm (T y) v) y) :when ((onehot y)))
; element-wise fractions cancel: by the algebra above, and
(rewrite (Had (Inv a) a) (Ones))
; batch centring: sum_i g o (s^i - mu_b) = 0 for g shared
(rewrite (Bsum (Add s (Sc "-1" mu))) (Zero) :when ((meanof mu s)))
(rewrite (Bsum (Had g (Add s (Sc "-1" mu)))) (Zero) :when ((meanof mu s) (shared g)))
(rewrite (Bsum (Diag (Add s (Sc "-1" mu)))) (Zero) :when ((meanof mu s)))
; a batch sum distributes, and sums a shared term m times
(rewrite (Bsum (Add a b)) (Add (Bsum a) (Bsum b)))
(rewrite (Bsum a) (Sc "m" a) :when ((shared a)))
(rewrite (Sc "-1/m" (Sc "m" a)) (Sc "-1" a))
(rewrite (Sc "1/m" (Sc "m" a)) a)
; the ones vector sums the rows
(rewrite (Mm (T (Ones)) (Diag v)) (T v))
(rewrite (Mm (T (Ones)) (Id)) (T (Ones)))
"""


class Program:
    """An expression as egglog `let` bindings, one per distinct sub-expression, with its facts."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.names: dict = {}

    def term(self, e) -> str:
        if e in self.names:
            return self.names[e]
        text = self._build(e)
        name = f"$t{len(self.names)}"
        self.names[e] = name
        self.lines.append(f"(let {name} {text})")
        if e.shape == (1, 1) or tuple(str(s) for s in e.shape) == ("1", "1"):
            self.lines.append(f"(scalar {name})")
        if not e.batched:
            self.lines.append(f"(shared {name})")
        return name

    def _fold(self, op: str, items: list[str]) -> str:
        out = items[-1]
        for item in reversed(items[:-1]):
            out = f"({op} {item} {out})"
        return out

    def _build(self, e) -> str:
        if isinstance(e, Leaf):
            self._facts(e)
            return f'(Leaf "{e.q.name}")'
        if isinstance(e, Residual):
            return f'(Leaf "d{e.q.name}")'
        if isinstance(e, (Identity, Ones)) and str(e.n) == "1":
            return "(One1)"
        if isinstance(e, Identity):
            return "(Id)"
        if isinstance(e, Ones):
            return "(Ones)"
        if isinstance(e, Zero):
            return "(Zero)"
        if isinstance(e, Scale):
            return f'(Sc "{e.c}" {self.term(e.e)})'
        if isinstance(e, Add):
            return self._fold("Add", [self.term(t) for t in e.terms])
        if isinstance(e, MatMul):
            return self._fold("Mm", [self.term(f) for f in e.factors])
        if isinstance(e, Hadamard):
            items = []
            for f, p in e.factors:
                t = self.term(f)
                items += [f"(Inv {t})" if p < 0 else t] * abs(p)
            return self._fold("Had", items)
        if isinstance(e, Transpose):
            return f"(T {self.term(e.e)})"
        if isinstance(e, BatchSum):
            return f"(Bsum {self.term(e.e)})"
        if isinstance(e, Diag):
            return f"(Diag {self.term(e.v)})"
        name = e.fn.name if isinstance(e, Apply) else type(e).__name__
        kids = [self.term(c) for c in e.children]
        if len(kids) == 1:
            return f'(Fn "{name}" {kids[0]})'
        return f'(Fn2 "{name}" {kids[0]} {self._fold("Add", kids[1:])})'

    def _facts(self, leaf: Leaf) -> None:
        q = leaf.q
        if q.content == "onehot":
            self.after(f'(onehot (Leaf "{q.name}"))')
        d = q.definition
        if d is not None and isinstance(d, (Scale,)) and d.children:
            s = d.e.e if isinstance(d.e, BatchSum) else None
            if isinstance(s, Leaf) and d == mean(s):
                self.after(f'(meanof (Leaf "{q.name}") (Leaf "{s.q.name}"))')

    def after(self, line: str) -> None:
        self.lines.append(line)


def egg_size(e) -> int:
    """The nodes of e's binary term, as egglog counts the cost of an extracted term."""
    from egglog.bindings import EGraph

    p = Program()
    root = p.term(e)
    graph = EGraph()
    out = graph.run_program(
        *graph.parse_program(PROGRAM + "\n".join(p.lines) + f"\n(extract {root})")
    )
    return out[-1].cost


def _saturating(text: str, root: str, sizes) -> None:
    """In a child process: saturate iteration by iteration, sending the best size after each
    (one iteration can take minutes once the e-graph has grown, so the parent kills it)."""
    from egglog.bindings import EGraph

    start = time.perf_counter()
    graph = EGraph()
    graph.run_program(*graph.parse_program(text))

    def best() -> int:
        return graph.run_program(*graph.parse_program(f"(extract {root})"))[-1].cost

    while True:
        sizes.put((best(), False, time.perf_counter() - start))
        report = graph.run_program(*graph.parse_program("(run 1)"))[-1].report
        if not report.updated:
            sizes.put((best(), True, time.perf_counter() - start))
            return


def saturate(e, budget: float) -> tuple[int, float, bool]:
    """The smallest term egglog finds for e within the budget: its size, the time, and whether
    the e-graph saturated."""
    import multiprocessing
    import queue

    p = Program()
    root = p.term(e)
    spawn = multiprocessing.get_context("spawn")  # egglog's threads do not survive a fork
    sizes = spawn.Queue()
    child = spawn.Process(target=_saturating, args=(PROGRAM + "\n".join(p.lines), root, sizes))
    child.start()
    best, saturated, seconds = None, False, budget
    while not saturated:
        try:  # the child's clock starts once it runs: starting a process is not egglog's time
            size, saturated, elapsed = sizes.get(timeout=budget + 30 if best is None else budget)
        except queue.Empty:
            break
        if elapsed > budget:
            break
        best = size if best is None else min(best, size)
        seconds = elapsed if saturated else budget
    child.kill()
    child.join()
    return (best if best is not None else egg_size(e)), seconds, saturated


def formulas(d) -> list:
    return [f for g in list(d.residuals) + list(d.gradients) for f in (g.compact, g.expanded)]


def measure(name: str, budget: float) -> dict:
    net = load(ROOT / "examples" / f"{name}.py")
    rules = list(identities.RULES)
    start = time.perf_counter()
    with_rules = derive(net)
    table_time = time.perf_counter() - start
    identities.RULES[:] = []
    try:
        start = time.perf_counter()
        without = derive(net)
        plain_time = time.perf_counter() - start
    finally:
        identities.RULES[:] = rules
    table = [egg_size(f) for f in formulas(with_rules)]
    plain = [egg_size(f) for f in formulas(without)]
    egg, egg_time, saturated, reached = [], 0.0, 0, 0
    for f, target in zip(formulas(without), table):
        size, seconds, done = saturate(f, budget)
        egg.append(size)
        egg_time += seconds
        saturated += done
        reached += size <= target
    return {
        "example": name, "formulas": len(table), "rule_free": sum(plain), "table": sum(table),
        "derive_s": round(table_time, 3), "derive_without_rules_s": round(plain_time, 3),
        "egglog": sum(egg), "egglog_s": round(egg_time, 2), "saturated": saturated,
        "reached": reached,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=10.0, help="egglog seconds per formula")
    ap.add_argument("--examples", default=",".join(EXAMPLES))
    args = ap.parse_args()
    try:
        import egglog  # noqa: F401
    except ImportError:
        sys.exit("bench_simplify needs egglog: pip install egglog")
    rows = [measure(name, args.budget) for name in args.examples.split(",")]
    print(f"{'example':16}{'formulas':>9}{'no rules':>9}{'table':>7}{'derive s':>9}"
          f"{'egglog':>8}{'egglog s':>10}{'saturated':>10}{'reached':>9}")  # fmt: skip
    for r in rows:
        print(f"{r['example']:16}{r['formulas']:>9}{r['rule_free']:>9}{r['table']:>7}"
              f"{r['derive_s']:>9.2f}{r['egglog']:>8}{r['egglog_s']:>10.1f}"
              f"{r['saturated']:>10}{r['reached']:>9}")  # fmt: skip
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
