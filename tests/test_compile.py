"""The compiled training function (``compile().loss_and_grads``) against central differences of
the compiled loss, for every example: it picks, per residual, the cheaper of the two proved forms
and skips residuals nothing needs, so it is checked on its own, not only through the proofs."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EXAMPLES

import derive
from derive.compile import PRELUDE, backward_pass, compile_expressions
from derive.expr import Leaf, m
from derive.numeric import random_values

CASES = [
    ("multitask", {}),
    ("linear_softmax", {}),
    ("klayer", {"k": 3}),
    ("batchnorm", {}),
    ("vae", {}),
    ("mlp", {}),
    ("mlp2", {}),
    ("hand321", {}),
    ("losses", {"loss": "huber"}),
    ("losses", {"loss": "svm"}),
]


@pytest.mark.parametrize("name,settings", CASES, ids=[f"{n}{s or ''}" for n, s in CASES])
def test_compiled_gradients_match_central_differences(name, settings):
    net = derive.load(EXAMPLES / f"{name}.py", **settings)
    compiled = net.compile()
    loss = compile_expressions(net, {"J": Leaf(net.loss_quantity)})
    sizes = {**net.dims, m: 3}
    names = {str(k): v for k, v in sizes.items()}
    values = random_values(net, sizes, np.random.default_rng(1))
    grads = compiled.function(values, names)

    def f(v):
        return float(loss(v, names)["J"])

    for q in net.params:
        numeric = np.zeros_like(values[q.name])
        for index in np.ndindex(numeric.shape):
            moved = {k: a.copy() for k, a in values.items()}
            moved[q.name][index] += 1e-6
            up = f(moved)
            moved[q.name][index] -= 2e-6
            numeric[index] = (up - f(moved)) / 2e-6
        np.testing.assert_allclose(grads[q.name], numeric, rtol=1e-5, atol=1e-7, err_msg=q.name)


def test_the_softmax_residual_is_computed_as_p_minus_y():
    net = derive.load(EXAMPLES / "mlp.py")
    derivation = net.derive()
    outputs = {g.q.name: g.compact for g in derivation.gradients}
    chosen = dict((q.name, e) for q, e in backward_pass(derivation, outputs))
    assert "p" not in chosen  # dJ/dp is no longer needed: nothing divides by p
    assert "_r_p" not in net.compile().source
    assert "y / p" not in net.compile().source


@pytest.mark.parametrize("shape", [(5, 3, 7), (5, 7, 3), (1, 4, 4)])
def test_sample_outer_is_a_transposed_product_either_way(shape):
    n, r, c = shape
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(n, r)), rng.normal(size=(n, c))
    prelude = {"numpy": np}
    exec(PRELUDE, prelude)  # the helpers every generated function starts with
    np.testing.assert_allclose(prelude["_sample_outer"](a, b), a.T @ b, rtol=1e-14)


def test_relu_gradient_is_the_indicator_zero_at_zero():
    net = derive.load(EXAMPLES / "mlp.py")
    v = {
        "x": np.zeros((2, 4)),
        "y": np.eye(3)[[0, 1]],
        "W_1": np.ones((3, 4)),
        "b_1": np.zeros(3),  # s_1 = 0 exactly: the kink
        "W_2": np.ones((3, 3)),
        "b_2": np.zeros(3),
    }
    grads = net.compile().loss_and_grads(v)
    assert np.all(grads["grad_b_1"] == 0)  # 1[s > 0] at s = 0 is 0, as in PyTorch
