"""Every shipped example network, derived and proved both ways; the losses of seed 002 against
the closed forms that document derives, computed here in plain NumPy."""

from pathlib import Path

import numpy as np
import pytest

import derive
from derive.compile import compile_expressions
from derive.numeric import random_values
from derive.verify import TOLERANCE, verify

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LOSSES = ("cross_entropy", "hinge", "l1", "huber", "l2", "cosine", "svm")
CASES = [
    ("multitask", {}),
    ("linear_softmax", {}),
    ("klayer", {"k": 2}),
    ("klayer", {"k": 4}),
    ("batchnorm", {}),
    ("vae", {}),
    ("mlp", {}),
    ("cnn", {}),
    ("perceptron", {}),
    ("hinge", {}),
    *[("losses", {"loss": name}) for name in LOSSES],
]


@pytest.mark.parametrize("name,settings", CASES, ids=[f"{n}{s or ''}" for n, s in CASES])
def test_example_is_proved_both_ways(name, settings):
    net = derive.load(EXAMPLES / f"{name}.py", **settings)
    result = verify(net.derive())
    for check in result.checks:
        assert check.symbolic is True, f"{name}: {check.name} not proved symbolically"
        assert check.numeric_error <= TOLERANCE, f"{name}: {check.name} {check.numeric_error}"


def test_every_example_file_is_covered():
    shipped = {p.stem for p in EXAMPLES.glob("*.py")}
    covered = {n for n, _ in CASES} | {"hand321", "mlp2"}  # those two: test_examples_course.py
    assert shipped <= covered, f"examples without a proof test: {shipped - covered}"


# --- seed 002's gradients dJ/dyhat, per sample, written out independently ------------------
def seed_gradient(loss: str, yhat: np.ndarray, y: np.ndarray) -> np.ndarray:
    if loss == "cross_entropy":
        p = np.exp(yhat - yhat.max(axis=1, keepdims=True))
        return p / p.sum(axis=1, keepdims=True) - y
    if loss == "hinge":
        return np.where(y * yhat < 1, -y, 0.0)
    if loss == "l1":
        return np.abs(yhat - y) / (yhat - y)
    if loss == "huber":
        r = y - yhat
        return np.where(np.abs(r) <= 1.0, yhat - y, -r / np.abs(r))
    if loss == "l2":
        return yhat - y
    if loss == "cosine":  # y one-hot: ||y|| = 1
        n = np.linalg.norm(yhat, axis=1, keepdims=True)
        dot = (y * yhat).sum(axis=1, keepdims=True)
        return -(y / n - dot * yhat / n**3)
    if loss == "svm":  # Lecture 3: margins over the wrong classes
        true = (y * yhat).sum(axis=1, keepdims=True)
        active = ((yhat - true + 1 > 0) & (y == 0)).astype(float)
        return active - y * active.sum(axis=1, keepdims=True)
    raise KeyError(loss)


@pytest.mark.parametrize("loss", LOSSES)
def test_losses_reproduce_seed_002(loss):
    net = derive.load(EXAMPLES / "losses.py", loss=loss)
    derivation = net.derive()
    sizes = net.sizes(m=5)
    names = {s.name: v for s, v in sizes.items()}
    rng = np.random.default_rng(1)
    values = random_values(net, sizes, rng)
    if loss == "hinge":
        values["y"] = rng.choice([-1.0, 1.0], size=values["y"].shape)
    run = compile_expressions(net, {"yhat": derive.expr.Leaf(net.quantities["yhat"]),
                                    "g": derivation["yhat"].expanded})  # fmt: skip
    out = run(values, names)
    yhat, y = out["yhat"], values["y"]
    if yhat.ndim == 1:
        yhat, y = yhat[:, None], y[:, None]
    want = seed_gradient(loss, yhat, y)
    got = np.asarray(out["g"]).reshape(want.shape)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_concatenation_with_fan_out_is_proved():
    """A skip connection: x feeds a hidden layer and, stacked under it, the output layer."""
    net = derive.Network("skip")
    d, h = net.dim("d", 2), net.dim("h", 3)
    x = net.input("x", d)
    t = net.input("t", 1)
    W1, b = net.param("W1", (h, d)), net.param("b", 1, "b")
    W2 = net.param("W2", (1, h + d))
    hid = net.node("hid", derive.tanh(W1 * x), r"\mathbf{h}")
    both = net.node("c", derive.concat(hid, x), r"\mathbf{c}")
    out = net.node("o", W2 * both + b, "o")
    net.loss("L", derive.mean(derive.squared_error(out, t)))
    result = verify(net.derive())
    assert result.ok and all(c.symbolic for c in result.checks)
    from derive.render.printer import DerivePrinter

    text = DerivePrinter("L", "i").doprint(net.derive()["hid"].compact)
    assert r"\right]_{1:h}" in text  # the residual of h is the top block of the residual of c
