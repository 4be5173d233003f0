"""Convolution and pooling: the NumPy kernels against loops written out here, the adjoints by
their defining identity, the SymPy forms against the kernels, the CNN example against
PyTorch (when installed), trained on the digits, and bad shapes refused in one line.

(Each op's backward rule against sympy.diff is in test_ops.py, which covers every registered
op; the CNN's derivation, proved both ways, in test_examples.py.)"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import sympy as sp

import derive
from derive.errors import ShapeError
from derive.expand import Expander
from derive.expr import Leaf, m
from derive.expr import test_leaf as leaf
from derive.numeric import at_kinks, central_difference, on_kink
from derive.ops import conv
from derive.ops import kernels as K

GEOMETRIES = [  # (h, w, k, s, p)
    (5, 5, 3, 1, 0), (5, 5, 3, 1, 1), (6, 7, 3, 2, 1), (8, 8, 2, 2, 0), (7, 5, 4, 3, 2),
    (4, 4, 1, 1, 0),
]  # fmt: skip


def out(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def loop_conv(x, weight, h, w, k, s, p):
    """Correlation as the definition writes it: (c', r, q) = sum_{c, a, b} W[c', c, a, b] x[c,
    r s + a - p, q s + b - p], zero outside the image. x: (C, h w), weight: (C', C, k, k)."""
    c_in = x.shape[0]
    img = x.reshape(c_in, h, w)
    ho, wo = out(h, k, s, p), out(w, k, s, p)
    y = np.zeros((weight.shape[0], ho, wo))
    for o, r, q in itertools.product(range(weight.shape[0]), range(ho), range(wo)):
        for c, a, b in itertools.product(range(c_in), range(k), range(k)):
            i, j = r * s + a - p, q * s + b - p
            if 0 <= i < h and 0 <= j < w:
                y[o, r, q] += weight[o, c, a, b] * img[c, i, j]
    return y.reshape(weight.shape[0], ho * wo)


def loop_pool(x, h, w, k, s, reduce):
    img = x.reshape(x.shape[0], h, w)
    ho, wo = out(h, k, s, 0), out(w, k, s, 0)
    y = np.zeros((x.shape[0], ho, wo))
    for c, r, q in itertools.product(range(x.shape[0]), range(ho), range(wo)):
        y[c, r, q] = reduce(img[c, r * s : r * s + k, q * s : q * s + k])
    return y.reshape(x.shape[0], ho * wo)


@pytest.mark.parametrize("h,w,k,s,p", GEOMETRIES)
def test_im2col_times_the_kernels_is_the_convolution(h, w, k, s, p):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 3, h * w))  # a batch of 2 maps of 3 channels
    weight = rng.normal(size=(4, 3, k, k))
    cols = K._im2col(x, h, w, k, s, p)
    assert cols.shape == (2, 3 * k * k, out(h, k, s, p) * out(w, k, s, p))
    got = weight.reshape(4, -1) @ cols
    for i in range(2):
        np.testing.assert_allclose(got[i], loop_conv(x[i], weight, h, w, k, s, p), atol=1e-12)


@pytest.mark.parametrize("h,w,k,s,p", GEOMETRIES)
def test_col2im_is_the_adjoint_of_im2col(h, w, k, s, p):
    """<im2col(x), G> = <x, col2im(G)> for every x and G: what makes col2im the residual."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, h * w))
    g = rng.normal(size=(2 * k * k, out(h, k, s, p) * out(w, k, s, p)))
    lhs = np.sum(K._im2col(x, h, w, k, s, p) * g)
    rhs = np.sum(x * K._col2im(g, h, w, k, s, p))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_col2im_of_stride_one_is_the_correlation_with_the_flipped_kernel():
    """The lecture's form of the input's residual: W^T G folded back is the full correlation
    of G with the kernel turned by 180 degrees."""
    rng = np.random.default_rng(2)
    h = w = 5
    k = 3
    weight = rng.normal(size=(1, 1, k, k))
    g = rng.normal(size=(1, out(h, k, 1, 0) ** 2))
    got = K._col2im(weight.reshape(1, -1).T @ g, h, w, k, 1, 0)
    flipped = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)
    gpad = np.pad(g.reshape(1, 3, 3), ((0, 0), (2, 2), (2, 2))).reshape(1, -1)
    want = loop_conv(gpad, flipped, 7, 7, k, 1, 0)
    np.testing.assert_allclose(got, want, atol=1e-12)


@pytest.mark.parametrize("k,s", [(2, 2), (3, 1), (3, 2)])
def test_pooling_against_loops(k, s):
    rng = np.random.default_rng(3)
    h, w = 7, 6
    x = rng.normal(size=(3, h * w))
    np.testing.assert_allclose(K._maxpool(x, h, w, k, s, 0), loop_pool(x, h, w, k, s, np.max))
    np.testing.assert_allclose(K._avgpool(x, h, w, k, s, 0), loop_pool(x, h, w, k, s, np.mean))


@pytest.mark.parametrize("h,w,k,s", [(7, 6, 2, 2), (8, 6, 2, 2), (6, 6, 3, 3), (7, 6, 3, 1),
                                     (7, 6, 3, 2)])  # fmt: skip
def test_pooling_residuals_against_central_differences(h, w, k, s):
    """unpool_X(G) and avgpool^T(G) are the gradients of sum(G o pool(X)) by X, overlapping
    windows included, and windows that tile the image (a reshape of it); pick is unpool's
    adjoint."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, h * w))
    g = rng.normal(size=(2, out(h, k, s, 0) * out(w, k, s, 0)))
    for pool, residual in ((K._maxpool, K._max_unpool(x, g, h, w, k, s, 0)),
                           (K._avgpool, K._avgpool_adjoint(g, h, w, k, s, 0))):  # fmt: skip
        numeric = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            e = np.zeros_like(x)
            e[idx] = 1e-6
            plus, minus = pool(x + e, h, w, k, s, 0), pool(x - e, h, w, k, s, 0)
            numeric[idx] = np.sum(g * (plus - minus)) / 2e-6
        np.testing.assert_allclose(residual, numeric, atol=1e-8)
    big = rng.normal(size=x.shape)
    lhs = np.sum(K._max_unpool(x, g, h, w, k, s, 0) * big)
    assert lhs == pytest.approx(np.sum(g * K._max_pick(x, big, h, w, k, s, 0)), rel=1e-12)


def test_a_tie_sends_the_residual_to_the_first_maximum_only():
    x = np.array([[0.0, 0.0, 0.0, 0.0]])  # ReLU's zeros: one 2 x 2 window, four equal maxima
    got = K._max_unpool(x, np.array([[1.0]]), 2, 2, 2, 2, 0)
    np.testing.assert_array_equal(got, [[1.0, 0.0, 0.0, 0.0]])


OPS = [
    lambda X, win: conv.im2col(X, win),
    lambda X, win: conv.maxpool(X, win),
    lambda X, win: conv.avgpool(X, win),
]


@pytest.mark.parametrize("make", OPS)
def test_the_sympy_forms_agree_with_the_kernels(make):
    """The proofs' explicit form of each op, at numbers, is what the compiled code computes."""
    from derive.compile import compile_expressions

    win = conv.Window(sp.Integer(4), sp.Integer(4), 2, 2)
    if make is OPS[0]:
        win = conv.Window(sp.Integer(4), sp.Integer(4), 3, 2, 1)
    net = derive.Network("t")
    X = net.input("X", 32)  # two channels of 4 x 4
    e = make(conv.image(X, 2), win)
    rng = np.random.default_rng(5)
    value = rng.normal(size=(1, 32))
    got = compile_expressions(net, {"e": e})({"X": value}, {"m": 1})["e"][0]
    ex = Expander(net, {m: 1})
    explicit = ex.value(e, 0)
    subs = {sp.Symbol(f"X^1[{r + 1}]", real=True): value[0, r] for r in range(32)}
    numbers = explicit.subs(subs)
    numbers = numbers.applyfunc(
        lambda v: v.replace(conv.WindowMax, lambda *a: sp.Max(*a)) if hasattr(v, "replace") else v
    )
    np.testing.assert_allclose(np.array(numbers, dtype=float), got, atol=1e-12)


def test_the_cnn_agrees_with_pytorch():
    """The CNN example's loss and every derived gradient against PyTorch's conv2d, max_pool2d
    and autograd, in float64, at the training sizes (8 x 8 digits, 8 kernels, 10 classes)."""
    torch = pytest.importorskip("torch")
    from derive.compile import compile_expressions

    net = derive.load(derive_example("cnn"))
    derivation = net.derive()
    sizes = {"m": 5, "n": 4, "c_1": 8, "c": 10}
    rng = np.random.default_rng(6)
    v = {
        "x": rng.uniform(size=(5, 64)),
        "y": np.eye(10)[rng.integers(0, 10, size=5)],
        "W_1": rng.normal(size=(8, 9)) / 3,
        "b_1": rng.normal(size=8) / 10,
        "W_2": rng.normal(size=(10, 128)) / 10,
        "b_2": rng.normal(size=10) / 10,
    }
    grads = {g.q.name: g.expanded for g in derivation.gradients}
    loss_leaf = Leaf(net.loss_quantity)
    got = compile_expressions(net, {"J": loss_leaf, **grads})(v, sizes)
    t = {k: torch.tensor(a, requires_grad=k.startswith(("W", "b"))) for k, a in v.items()}
    s1 = torch.nn.functional.conv2d(t["x"].reshape(5, 1, 8, 8), t["W_1"].reshape(8, 1, 3, 3),
                                    t["b_1"], padding=1)  # fmt: skip
    pooled = torch.nn.functional.max_pool2d(torch.relu(s1), 2)
    s2 = pooled.reshape(5, -1) @ t["W_2"].T + t["b_2"]
    loss = torch.nn.functional.cross_entropy(s2, t["y"].argmax(1))
    loss.backward()
    assert float(got["J"]) == pytest.approx(loss.item(), rel=1e-12)
    for name in ("W_1", "b_1", "W_2", "b_2"):
        np.testing.assert_allclose(got[name], t[name].grad.numpy(), rtol=1e-9, atol=1e-12)


def derive_example(name):
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "examples" / f"{name}.py"


def test_the_cnn_learns_the_digits():
    from derive.train import Settings, load_data, train

    net = derive.load(derive_example("cnn"))
    data = load_data(net, "digits")
    result = train(net, data, Settings(epochs=4, batch_size=32, lr=0.1, seed=0))
    assert result.final.test_accuracy > 0.9  # a linear model on these pixels needs ~20 epochs


# --- the numeric proof at a kink ---------------------------------------------------------
def _difference(f, x0, kinks):
    net = derive.Network("k")
    return central_difference(lambda values, names: {"loss": f(values["x"])}, {"x": x0}, {},
                              net.param("x", 2).q, {}, kinks=kinks)  # fmt: skip


def test_a_kink_at_the_point_is_seen_and_a_smooth_loss_is_not():
    kinks: dict = {}
    x0 = np.array([0.0, 0.7])
    grad = _difference(lambda x: abs(x[0]) + x[1] ** 3 + x[1] * x[0] ** 2, x0, kinks)
    assert set(kinks) == {(0,)}  # |x_0| at 0; x_1 smooth
    assert kinks[(0,)] == pytest.approx((-1.0, 1.0), abs=1e-4)  # one-sided: O(h)
    assert grad[1] == pytest.approx(3 * 0.7**2, rel=1e-9)
    assert not on_kink([4.0, 1.0, 1.0, 4.0], 0.0, 1.0)  # x^2 at 0: smooth
    assert on_kink([2.0, 1.0, 0.0, 0.0], 0.0, 1.0)  # max(0, x) at 0


def test_at_a_kink_a_value_between_the_slopes_is_right_and_one_outside_is_not():
    want = np.array([0.0, 5.0])
    kinks = {(0,): (0.0, 2.0)}
    np.testing.assert_array_equal(at_kinks(want, np.array([2.0, 5.0]), kinks), [2.0, 5.0])
    np.testing.assert_array_equal(at_kinks(want, np.array([1.5, 5.0]), kinks), [1.5, 5.0])
    np.testing.assert_array_equal(at_kinks(want, np.array([-3.0, 5.0]), kinks), [0.0, 5.0])
    np.testing.assert_array_equal(at_kinks(want, np.array([9.0, 1.0]), kinks), [2.0, 5.0])


# --- bad shapes --------------------------------------------------------------------------
def test_bad_shapes_are_refused_in_one_line():
    X = leaf("X", 1, 64)
    cases = [
        (lambda: derive.conv2d(leaf("W", 4, 8, batched=False), X, k=3), "1 channels of 3"),
        (lambda: derive.conv2d(leaf("W", 4, 9, batched=False), leaf("x", 64), k=3),
         "is a vector"),
        (lambda: derive.max_pool(leaf("Y", 2, 63), 2), "not a square"),
        (lambda: derive.max_pool(X, 9), "does not fit"),
        (lambda: derive.image(leaf("x", 10), 3), "do not make 3 rows"),
        (lambda: conv.Window(8, 8, 3, 1, 3), "padding must be 0 to k - 1"),
    ]  # fmt: skip
    for make, words in cases:
        with pytest.raises(ShapeError) as caught:
            make()
        assert words in str(caught.value) and "\n" not in str(caught.value)


def test_the_readmes_cnn_lines_are_the_examples():
    """The README's `py` block quotes examples/cnn.py: every line of it is a line of the file."""
    import re

    root = derive_example("cnn").parent.parent
    (block,) = re.findall(r"```py\n(.*?)```", (root / "README.md").read_text(), flags=re.DOTALL)
    source = derive_example("cnn").read_text().splitlines()
    lines = [line for line in block.splitlines() if line and not line.startswith("#")]
    assert len(lines) == 5 and all(line in source for line in lines)
