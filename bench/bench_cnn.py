"""The CNN of examples/cnn.py: its test accuracy on the 8 x 8 digits, and the speed of its
training step against PyTorch's conv2d run beside it.

One step = forward pass + loss + every parameter gradient: a 3 x 3 convolution of 8 kernels
(padding 1), ReLU, 2 x 2 max pooling, a linear layer to 10 classes, softmax and cross-entropy,
through the public API (``derive.load(path).compile().loss_and_grads(values)``). PyTorch: the same
network with ``torch.nn.functional.conv2d``, ``max_pool2d``, ``cross_entropy`` and autograd on the
CPU, in float64 like derive (optional: ``pip install torch``); its gradients are checked against
derive's first. Implementations take turns in blocks (see bench_train.py), medians of many steps.
Then ``derive train`` on the digits: test accuracy after 20 epochs of batch 32, lr 0.1, over
three seeds.

    python bench/bench_cnn.py            # about a minute
    python bench/bench_cnn.py --quick
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from bench_train import time_interleaved

import derive
from derive.train import Settings, load_data, train

ROOT = Path(__file__).resolve().parent.parent
K, C = 8, 10


def values(m: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "x": rng.random((m, 64)),
        "y": np.eye(C)[rng.integers(0, C, m)],
        "W_1": rng.normal(0, 1 / 3, (K, 9)),
        "b_1": np.zeros(K),
        "W_2": rng.normal(0, 1 / np.sqrt(K * 16), (C, K * 16)),
        "b_2": np.zeros(C),
    }


def torch_step_factory(v: dict[str, np.ndarray]):
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    t = {k: torch.tensor(a, dtype=torch.float64) for k, a in v.items()}
    params = [t[k].requires_grad_() for k in ("W_1", "b_1", "W_2", "b_2")]
    labels = t["y"].argmax(1)
    f = torch.nn.functional

    def step():
        for p in params:
            p.grad = None
        m = t["x"].shape[0]
        s1 = f.conv2d(t["x"].reshape(m, 1, 8, 8), t["W_1"].reshape(K, 1, 3, 3), t["b_1"], padding=1)
        h = f.max_pool2d(torch.relu(s1), 2).reshape(m, -1)
        loss = f.cross_entropy(h @ t["W_2"].T + t["b_2"], labels)
        loss.backward()
        return {
            "J": loss.item(),
            **{k: p.grad for k, p in zip(("W_1", "b_1", "W_2", "b_2"), params)},
        }

    return step


def accuracy(seed: int) -> tuple[float, float]:
    net = derive.load(ROOT / "examples" / "cnn.py")
    start = time.perf_counter()
    result = train(
        net, load_data(net, "digits"), Settings(epochs=20, batch_size=32, lr=0.1, seed=seed)
    )
    return result.final.test_accuracy, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    compiled = derive.load(ROOT / "examples" / "cnn.py").compile()
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    print(
        f"{os.cpu_count()} cores; numpy {np.__version__}; torch {torch_version or 'not installed'}"
    )

    if torch_version:  # the same gradients, else the timing means nothing
        check = values(8, rng)
        ours, theirs = compiled.loss_and_grads(check), torch_step_factory(check)()
        for k in ("W_1", "b_1", "W_2", "b_2"):
            np.testing.assert_allclose(ours[f"grad_{k}"], theirs[k].numpy(), rtol=1e-9, atol=1e-12)

    print("\n| batch | derive (ms) | PyTorch conv2d (ms) | derive / PyTorch |")
    print("|---:|---:|---:|---:|")
    for m, steps in ((32, 2000), (256, 400)):
        steps = steps // 5 if args.quick else steps
        v = values(m, rng)
        functions = {"derive": lambda v=v: compiled.loss_and_grads(v)}
        if torch_version:
            functions["torch"] = torch_step_factory(v)
        t = time_interleaved(functions, steps)
        cells = (
            f"{t['torch'] * 1e3:.3f} | {t['derive'] / t['torch']:.2f}x" if "torch" in t else "- | -"
        )
        print(f"| {m} | {t['derive'] * 1e3:.3f} | {cells} |")

    print("\n| seed | test accuracy after 20 epochs | training time (s) |")
    print("|---:|---:|---:|")
    for seed in (0, 1, 2)[: 1 if args.quick else 3]:
        acc, seconds = accuracy(seed)
        print(f"| {seed} | {acc:.4f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
