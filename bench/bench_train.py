"""The speed of a training step on the compiled gradients, against references run beside it.

One step = forward pass + loss + every parameter gradient of examples/mlp.py (784-50-10, ReLU,
softmax, cross-entropy), at batch 16 and 256, through the public API users time in their own loops,
``derive.load(path).compile().loss_and_grads(values)``. References in the same run, float64 like
derive:
- a hand-written NumPy backprop of the same network (the fused softmax-cross-entropy residual
  (p - y)/m, as one writes it by hand);
- PyTorch CPU autograd (optional: ``pip install torch==2.13.0``), forward + backward, float64.
Implementations take turns, one step each, so drift in the machine's speed hits all of them alike;
medians of many steps. At batch 1024 the achieved GFLOP/s of a derive step is set against NumPy's
own matmul GFLOP/s, measured in the same run.

    python bench/bench_train.py            # about a minute
    python bench/bench_train.py --quick    # fewer steps
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np

import derive

ROOT = Path(__file__).resolve().parent.parent
D, H, C = 784, 50, 10


def values(m: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "x": rng.random((m, D)),
        "y": np.eye(C)[rng.integers(0, C, m)],
        "W_1": rng.normal(0, np.sqrt(2 / D), (H, D)),
        "b_1": np.zeros(H),
        "W_2": rng.normal(0, np.sqrt(2 / H), (C, H)),
        "b_2": np.zeros(C),
    }


def hand_step(v: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """What a student writes: forward, then backward with the fused softmax-CE residual."""
    x, y, W1, b1, W2, b2 = v["x"], v["y"], v["W_1"], v["b_1"], v["W_2"], v["b_2"]
    m = len(x)
    s1 = x @ W1.T + b1
    h = np.maximum(s1, 0)
    s2 = h @ W2.T + b2
    e = np.exp(s2 - s2.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[y.astype(bool)]).sum() / m
    g2 = (p - y) / m
    g1 = (g2 @ W2) * (s1 > 0)
    return {"J": loss, "W_1": g1.T @ x, "b_1": g1.sum(0), "W_2": g2.T @ h, "b_2": g2.sum(0)}


def torch_step_factory(v: dict[str, np.ndarray]):
    import torch

    t = {k: torch.tensor(a, dtype=torch.float64) for k, a in v.items()}
    params = [t[k].requires_grad_() for k in ("W_1", "b_1", "W_2", "b_2")]
    labels = t["y"].argmax(1)

    def step():
        for p in params:
            p.grad = None
        s1 = t["x"] @ t["W_1"].T + t["b_1"]
        s2 = torch.relu(s1) @ t["W_2"].T + t["b_2"]
        loss = torch.nn.functional.cross_entropy(s2, labels)
        loss.backward()
        return loss

    return step


def time_interleaved(functions: dict, steps: int, block: int = 100) -> dict[str, float]:
    """Median seconds per call of each function. NumPy implementations take turns call by call;
    PyTorch runs in blocks of its own between theirs, with a pause, because its OpenMP threads
    spin after each call and would steal both cores from OpenBLAS (and the reverse)."""
    numpy_like = {k: f for k, f in functions.items() if k != "torch"}
    times: dict[str, list[float]] = {name: [] for name in functions}
    for f in functions.values():  # warm up
        for _ in range(20):
            f()
    done = 0
    while done < steps:
        n = min(block, steps - done)
        for _ in range(n):
            for name, f in numpy_like.items():
                start = time.perf_counter()
                f()
                times[name].append(time.perf_counter() - start)
        if "torch" in functions:
            time.sleep(0.05)
            for _ in range(n):
                start = time.perf_counter()
                functions["torch"]()
                times["torch"].append(time.perf_counter() - start)
            time.sleep(0.05)
        done += n
    return {name: statistics.median(t) for name, t in times.items()}


def step_flops(m: int) -> int:
    """Multiply-adds x 2 of the matmuls of one step: forward W1 x, W2 h; backward dW2, dh, dW1."""
    return 2 * m * (D * H + H * C) + 2 * m * (H * C + H * C + H * D)


def matmul_gflops(n: int = 1024, repeats: int = 10) -> float:
    rng = np.random.default_rng(1)
    a, b = rng.random((n, n)), rng.random((n, n))
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best / 1e9


def _timed(f) -> float:
    start = time.perf_counter()
    f()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    compiled = derive.load(ROOT / "examples" / "mlp.py").compile()
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    torch_text = torch_version or "not installed"
    print(f"{os.cpu_count()} cores; numpy {np.__version__}; torch {torch_text}")

    # the compiled gradients agree with the hand-written ones (else the timing means nothing)
    check = values(16, rng)
    ours, hand = compiled.loss_and_grads(check), hand_step(check)
    for k in ("W_1", "b_1", "W_2", "b_2"):
        np.testing.assert_allclose(ours[f"grad_{k}"], hand[k], rtol=1e-9, atol=1e-12)

    print(
        "\n| batch | derive (ms) | hand NumPy (ms) | derive / hand | PyTorch (ms) "
        "| derive / PyTorch |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for m, steps in ((16, 3000), (256, 600)):
        steps = steps // 5 if args.quick else steps
        v = values(m, rng)
        functions = {
            "derive": lambda v=v: compiled.loss_and_grads(v),
            "hand": lambda v=v: hand_step(v),
        }
        if torch_version:
            functions["torch"] = torch_step_factory(v)
        t = time_interleaved(functions, steps)
        torch_cells = (
            f"{t['torch'] * 1e3:.3f} | {t['derive'] / t['torch']:.2f}x" if "torch" in t else "- | -"
        )
        print(
            f"| {m} | {t['derive'] * 1e3:.3f} | {t['hand'] * 1e3:.3f} | "
            f"{t['derive'] / t['hand']:.2f}x | {torch_cells} |"
        )

    m = 1024
    v = values(m, rng)
    steps = 40 if args.quick else 200
    t = time_interleaved({"derive": lambda: compiled.loss_and_grads(v)}, steps)["derive"]
    achieved = step_flops(m) / t / 1e9
    peak = matmul_gflops()
    print(
        f"\nbatch {m}: a derive step does {step_flops(m) / 1e6:.0f} MFLOP in {t * 1e3:.2f} ms = "
        f"{achieved:.1f} GFLOP/s; NumPy's 1024 x 1024 matmul: {peak:.1f} GFLOP/s "
        f"({achieved / peak:.0%} of it)"
    )


if __name__ == "__main__":
    main()
