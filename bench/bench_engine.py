"""Issue 12's engine figures, each beside a reference timed in the same run:

- every element-wise function of the course (GELU included) derived in a fresh process
  (derive caches a function's derivative per process: a fresh one pays it), against ReLU;
- k = 10 networks of tanh, sigmoid and ReLU layers (width 3) verified, both proofs, against
  ReLU (the k-layer example's activation);
- derive + prove + render .tex of the multi-task example in one process, and the fresh command
  ``derive report examples/multitask.py --format tex``.

    python bench/bench_engine.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

FUNCTIONS = {
    "ReLU": "derive.relu",
    "sigmoid": "derive.sigmoid",
    "tanh": "derive.tanh",
    "softplus": "derive.softplus",
    "leaky ReLU": "lambda e: derive.leaky_relu(e, 0.1)",
    "ELU": "lambda e: derive.elu(e, 1)",
    "swish": 'derive.elementwise("swish", lambda s: s / (1 + sympy.exp(-s)))',
    "GELU (tanh form)": 'derive.elementwise("GELU", lambda s: s / 2 * (1 + sympy.tanh('
    "sympy.sqrt(2 / sympy.pi) * (s + sympy.Rational(44715, 10**6) * s**3))))",
    "GELU (erf form)": 'derive.elementwise("GELUerf", lambda s: s / 2 * (1 + sympy.erf(s / '
    "sympy.sqrt(2))))",
    "mish": 'derive.elementwise("mish", lambda s: s * sympy.tanh(sympy.log(1 + sympy.exp(s))))',
}

ONE_LAYER = """
import time, sympy, derive
from derive import Network, mean, sq_norm
f = {f}
start = time.perf_counter()
net = Network("f")
d = net.dim("d", 3)
x = net.input("x", d)
W = net.param("W", (d, d))
a = net.node("a", f(W * x))
L = net.loss("L", mean(sq_norm(a)))
net.derive()
print(time.perf_counter() - start)
"""

DEEP = """
from derive import Network, cross_entropy, mean, relu, sigmoid, softmax, tanh
net = Network("deep")
act = {{"tanh": tanh, "sigmoid": sigmoid, "ReLU": relu}}["{act}"]
d = net.dim("d", 3)
C = net.dim("C", 3)
x = net.input("x", d)
y = net.input("y", C, onehot=True)
prev = x
for l in range(1, 11):
    W = net.param(f"W_{{l}}", (d, d))
    b = net.param(f"b_{{l}}", d)
    prev = net.node(f"x_{{l}}", act(W * prev + b))
W = net.param("W_o", (C, d))
p = net.node("p", softmax(W * prev))
L = net.loss("L", mean(cross_entropy(p, y)))
"""


def fresh(code: str) -> float:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(done.stdout.strip().splitlines()[-1])


def deep_verify(act: str, tmp: Path) -> float:
    import derive
    from derive.verify import verify

    path = tmp / f"deep_{act}.py"
    path.write_text(DEEP.format(act=act))
    start = time.perf_counter()
    v = verify(derive.load(path).derive())
    assert v.ok, act
    return time.perf_counter() - start


def multitask(tmp: Path) -> float:
    import derive
    from derive.render.report import write_report
    from derive.verify import verify

    start = time.perf_counter()
    d = derive.load(ROOT / "examples" / "multitask.py").derive()
    write_report(d, verify(d), tmp, {"tex"})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    runs = parser.parse_args().runs
    print(f"element-wise functions: derive in a fresh process, median of {runs} (2 cores)")
    times = {}
    for name, f in FUNCTIONS.items():
        code = textwrap.dedent(ONE_LAYER.format(f=f))
        times[name] = statistics.median(fresh(code) for _ in range(runs))
    for name, t in times.items():
        print(f"  {name:<18} {t:6.2f} s   {t / times['ReLU']:5.1f}x ReLU"
              f"   {'met' if t < 1 else 'MISSED'} (< 1 s)")  # fmt: skip
    print(f"k = 10 networks of width 3: verify (both proofs), median of {runs}")
    with tempfile.TemporaryDirectory() as tmp:
        deep = {a: statistics.median(deep_verify(a, Path(tmp)) for _ in range(runs))
                for a in ("ReLU", "tanh", "sigmoid")}  # fmt: skip
        for act, t in deep.items():
            print(f"  {act:<8} {t:6.2f} s   {t / deep['ReLU']:5.1f}x ReLU"
                  f"   {'met' if t < 5 else 'MISSED'} (< 5 s)")  # fmt: skip
        multitask(Path(tmp))  # warm
        inproc = statistics.median(multitask(Path(tmp)) for _ in range(runs))
        cli = []
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([str(Path(sys.executable).parent / "derive"), "report",
                            str(ROOT / "examples" / "multitask.py"), "--format", "tex", "-o",
                            tmp], check=True, capture_output=True)  # fmt: skip
            cli.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import derive.cli"], check=True)
        imports = time.perf_counter() - start
    print("multi-task example: derive + prove + render .tex")
    met = "met" if inproc < 1 else "MISSED"
    print(f"  in one process (warm)   {inproc:6.2f} s   {met} (< 1 s)")
    cmd = statistics.median(cli)
    print(f"  fresh CLI command       {cmd:6.2f} s   {'met' if cmd < 3 else 'MISSED'} (< 3 s); "
          f"python -c 'import derive.cli' alone: {imports:.2f} s")  # fmt: skip


if __name__ == "__main__":
    main()
