"""Deep networks: the k-layer example proved both ways, the layer-by-layer symbolic proof, and
slips planted in a layer far from the loss. (Speed is measured by bench/bench_klayer.py.)"""

from dataclasses import replace
from pathlib import Path

import pytest

import derive
from derive.backprop import Derivation
from derive.expr import Leaf, Residual
from derive.numeric import prove_numeric
from derive.ops.algebra import scale
from derive.ops.elementwise import hadamard
from derive.verify import (
    TOLERANCE,
    choose_scheme,
    depth,
    prove_layers,
    prove_symbolic,
    symbolic_sizes,
    verify,
)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def deep():
    net = derive.load(EXAMPLES / "klayer.py", k=10)
    return net, net.derive()


def _planted(derivation: Derivation, name: str, **forms) -> Derivation:
    items = tuple(replace(g, **forms) if g.q.name == name else g for g in derivation.residuals)
    return replace(derivation, residuals=items)


def test_two_layers_are_proved_end_to_end_and_layer_by_layer():
    net = derive.load(EXAMPLES / "klayer.py", k=2)
    v = verify(net.derive())
    assert v.symbolic_scheme == "both"
    assert v.ok and all(c.symbolic is True for c in v.checks)


def test_ten_layers_are_proved_layer_by_layer(deep):
    net, derivation = deep
    assert depth(net) == 22 and choose_scheme(net) == "layers"
    v = verify(derivation)
    assert v.symbolic_scheme == "layers"
    assert {c.name for c in v.checks} >= {"s1", "x9", "s10", "W1", "b10", "p", "r"}
    assert all(c.symbolic is True for c in v.checks)
    assert all(c.numeric_error < TOLERANCE for c in v.checks)


def test_a_forgotten_relu_derivative_in_layer_3_of_10_is_caught(deep):
    net, derivation = deep
    # dJ/ds_3 = dJ/dx_3, without the indicator 1[s_3 > 0]: in the step and in the final form
    wrong = _planted(derivation, "s3", compact=Residual(net.quantities["x3"]),
                     expanded=derivation["x3"].expanded)  # fmt: skip
    proved = prove_symbolic(wrong, symbolic_sizes(net))
    assert proved["s3"] is False
    # every layer between the slip and the loss is untouched, and still proved
    assert all(proved[n] for n in ("x3", "s4", "x9", "s10", "p", "W4", "b10"))
    # the forms before it are built on the wrong one: not proved either
    assert not proved["x2"] and not proved["W3"]
    assert prove_numeric(wrong, net.sizes(m=4))["s3"] > 1e-3


def test_a_slip_in_a_final_form_alone_is_caught(deep):
    net, derivation = deep
    g = derivation["s3"]
    wrong = _planted(derivation, "s3", expanded=g.expanded.e)  # drop the 1/m in front
    assert prove_layers(wrong, symbolic_sizes(net))["s3"] is False


@pytest.mark.parametrize("scheme", ["full", "layers"])
def test_the_homeworks_slips_are_caught_by_each_scheme(scheme):
    net = derive.load(EXAMPLES / "multitask.py")
    derivation = net.derive()
    sizes = symbolic_sizes(net)
    # seed 000's ReLU derivative written as sgn(x) = (x + |x|)/2, which is ReLU itself
    sgn = hadamard(derivation["x_BNstar"].expanded, Leaf(net.quantities["x_BNstar"]))
    bad = _planted(derivation, "x_BN", compact=sgn, expanded=sgn)
    assert prove_symbolic(bad, sizes, scheme)["x_BN"] is False
    g = derivation["z_2B"]
    bad = _planted(derivation, "z_2B", compact=g.expanded.e, expanded=g.expanded.e)
    assert prove_symbolic(bad, sizes, scheme)["z_2B"] is False


@pytest.mark.parametrize("example", ["multitask", "batchnorm", "vae", "linear_softmax"])
def test_the_layer_by_layer_proof_agrees_on_the_examples(example):
    net = derive.load(EXAMPLES / f"{example}.py")
    # with one-hot labels proved at each of their values (batchnorm's p - y needs them)
    proved = prove_symbolic(net.derive(), symbolic_sizes(net), "layers")
    assert all(proved.values()), [n for n, ok in proved.items() if not ok]


DEEP_TANH = """
from derive import Network, cross_entropy, mean, softmax, tanh
net = Network("deep")
d = net.dim("d", 3)
x = net.input("x", d)
y = net.input("y", d, onehot=True)
prev = x
for l in range(1, 6):
    W = net.param(f"W_{l}", (d, d))
    prev = net.node(f"x_{l}", tanh(W * prev))
p = net.node("p", softmax(prev))
L = net.loss("L", mean(cross_entropy(p, y)))
"""


def test_deep_smooth_networks_are_proved_layer_by_layer(tmp_path):
    """Five tanh layers: end to end the scalar derivative doubles per layer, so the proof goes
    layer by layer only (complete by induction), and still catches a planted slip."""
    from derive.verify import choose_scheme, smooth_depth

    path = tmp_path / "deep.py"
    path.write_text(DEEP_TANH)
    net = derive.load(path)
    assert smooth_depth(net) == 6 and choose_scheme(net) == "layers"  # and the log of the loss
    derivation = net.derive()
    sizes = symbolic_sizes(net)
    assert all(prove_symbolic(derivation, sizes).values())
    g = derivation["x_3"]
    bad = _planted(derivation, "x_3", compact=scale(2, g.compact), expanded=scale(2, g.expanded))
    proved = prove_symbolic(bad, sizes)
    assert proved["x_3"] is False and proved["W_1"] is False  # and everything it feeds
