"""Two networks of the course: the 3-2-1 sigmoid network of the hand calculation (seed 002,
Part B.3), whose numbers ship with it, and the two-layer multiclass MLP (seed 003, Q2) with its
parameter count. The gradients at the homework's numbers are checked against a NumPy
backpropagation written out by hand below, not against derive."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp
from conftest import EXAMPLES

import derive
from derive.errors import DeriveError
from derive.render import context
from derive.render.report import render_md
from derive.verify import TOLERANCE, verify

HAND321 = EXAMPLES / "hand321.py"
MLP2 = EXAMPLES / "mlp2.py"

#: The homework's numbers, its W_1 (3 x 2, column j feeding hidden unit j) transposed.
SEED = {
    "x": np.array([[0.18, 2.42, 1.34]]),
    "t": np.array([[-1.29]]),
    "W1": np.array([[-0.10, 0.19, 0.49], [-0.15, -0.07, -0.48]]),
    "b1": np.array([-0.36, -0.04]),
    "W2": np.array([[-0.25, 0.68]]),
    "b2": np.array([0.26]),
}


def by_hand(v: dict) -> dict:
    """The 3-2-1 network in plain NumPy: forward with np.exp, backward by hand (delta rule)."""
    x, t, W1, b1, W2, b2 = (v[k] for k in ("x", "t", "W1", "b1", "W2", "b2"))
    m = x.shape[0]
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    h = sig(x @ W1.T + b1)  # m x 2
    o = sig(h @ W2.T + b2)  # m x 1
    E = np.sum(0.5 * (o - t) ** 2) / m
    delta_o = (o - t) * o * (1 - o) / m  # dE/dz_o, m x 1
    delta_h = (delta_o @ W2) * h * (1 - h)  # dE/dz_h, m x 2
    return {
        "E": E,
        "grad_W1": delta_h.T @ x,
        "grad_b1": delta_h.sum(axis=0),
        "grad_W2": delta_o.T @ h,
        "grad_b2": delta_o.sum(axis=0),
    }


@pytest.fixture(scope="module")
def hand321():
    return derive.load(HAND321)


@pytest.fixture(scope="module")
def mlp2():
    return derive.load(MLP2)


# --- the 3-2-1 network at the homework's numbers -------------------------------------------
def test_the_homeworks_numbers_ship_with_the_network(hand321):
    assert set(hand321.examples) == set(SEED)
    for name, value in SEED.items():
        np.testing.assert_array_equal(hand321.examples[name], value)


def test_python_api_at_the_shipped_values(hand321):
    got = hand321.compile().loss_and_grads(hand321.examples)
    want = by_hand(SEED)
    assert round(float(got["E"]), 4) == 1.7336
    assert set(got) == set(want)
    for key in want:
        assert got[key].shape == np.shape(want[key]) == (() if key == "E" else SEED[key[5:]].shape)
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-15)


def test_the_homeworks_rounded_results_and_its_sign_slip(hand321):
    """Where the homework multiplied right, its rounded results agree; its dE/dw_1 = +0.0043
    is a slip (its own factors (-0.11)(0.68)(0.32)(0.18) are negative), and derive is not."""
    got = hand321.compile().loss_and_grads(hand321.examples)
    np.testing.assert_allclose(got["grad_W2"], [[0.31, 0.13]], atol=0.01)
    np.testing.assert_allclose(got["grad_b2"], [0.46], atol=0.01)
    np.testing.assert_allclose(got["grad_W1"][:, 1:], [[-0.0579, -0.0321], [0.1544, 0.0855]],
                               atol=0.003)  # fmt: skip
    assert got["grad_W1"][0, 0] < 0 < 0.0043  # dE/dw_1: the homework's sign is wrong
    np.testing.assert_allclose(got["grad_W1"][0, 0], (-0.11) * 0.68 * 0.32 * 0.18, atol=5e-4)


def test_grad_prints_at_the_shipped_values(cli):
    result = cli("grad", HAND321)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"hand321 at the example values of {HAND321}, m = 1"
    assert lines[1].startswith("E = 1.7336")
    want = by_hand(SEED)
    for name in ("W1", "b1", "W2", "b2"):
        label = next(k for k, line in enumerate(lines) if line.startswith(f"dE/d{name} ("))
        numbers = []
        for line in lines[label + 1 :]:
            if not line.startswith("  "):
                break
            numbers += [float(n) for n in re.findall(r"-?\d+\.\d*(?:e[-+]\d+)?", line)]
        np.testing.assert_allclose(numbers, np.ravel(want[f"grad_{name}"]), atol=1e-6)
    assert "dE/dW1 (2 x 3):" in lines and "dE/db2 (1):" in lines


def test_the_readme_shows_what_grad_prints(cli, monkeypatch):
    readme = (EXAMPLES.parent / "README.md").read_text()
    (block,) = re.findall(r"```console\n\$ (derive grad .*?)```", readme, flags=re.DOTALL)
    command, printed = block.split("\n", 1)
    monkeypatch.chdir(EXAMPLES.parent)
    result = cli(*command.split()[1:])
    assert result.exit_code == 0
    assert result.stdout == printed


def test_grad_writes_the_shipped_values_result(cli, tmp_path):
    out = tmp_path / "grads.npz"
    result = cli("grad", HAND321, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    with np.load(out) as got:
        got = dict(got)
    assert round(float(got["E"]), 4) == 1.7336
    want = by_hand(SEED)
    assert set(got) == set(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-15)


def test_values_given_on_the_command_line_win(cli, tmp_path):
    rng = np.random.default_rng(3)
    values = {k: rng.normal(size=(5, *v.shape[1:]) if k in ("x", "t") else v.shape)
              for k, v in SEED.items()}  # fmt: skip
    np.savez(tmp_path / "in.npz", **values)
    result = cli("grad", HAND321, "--values", tmp_path / "in.npz", "--out", tmp_path / "o.npz")
    assert result.exit_code == 0, result.output
    with np.load(tmp_path / "o.npz") as got:
        for key, want in by_hand(values).items():
            np.testing.assert_allclose(got[key], want, rtol=1e-12, atol=1e-15)
    printed = cli("grad", HAND321, "--values", tmp_path / "in.npz")
    assert printed.exit_code == 0 and printed.stdout.startswith(
        f"hand321 at the values of {tmp_path / 'in.npz'}, m = 5\n"
    )


def test_without_values_grad_uses_the_random_values_of_handcalc(cli):
    """derive grad and derive handcalc agree: without values, the same seeded random ones."""
    from derive.handcalc import random_point

    result = cli("grad", MLP2)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"mlp2 at random values ({MLP2} ships no example values)")
    net = derive.load(MLP2)
    want = net.compile().loss_and_grads(random_point(net))
    loss = net.loss_quantity.name
    assert f"{loss} = {float(want[loss]):.6g}" in result.stdout


# --- shipped values that do not fit --------------------------------------------------------
BAD = """\
from derive import Network, mean, sigmoid, squared_error

net = Network("bad")
d = net.dim("d", 3)
h = net.dim("h", 2)
x = net.input("x", d)
t = net.input("t", 1)
W = net.param("W", (h, d))
w = net.param("w", (1, h))
o = net.node("o", sigmoid(w * sigmoid(W * x)))
E = net.loss("E", mean(squared_error(o, t)))
net.example_values({values})
"""
GOOD = {"x": [[1.0, 2.0, 3.0]], "t": [[0.5]], "W": [[0.1] * 3] * 2, "w": [[0.2, 0.3]]}


def bad_file(tmp_path, **change):
    values = {**GOOD, **change}
    path = tmp_path / "bad.py"
    path.write_text(BAD.replace("{values}", repr({k: v for k, v in values.items() if v})))
    return path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"W": [[0.1, 0.2]] * 3}, "value W has shape (3, 2), but param W is (h, d) = (2, 3)"),
        ({"x": [[1.0, 2.0]]}, "value x has shape (1, 2), but input x is (m, d) = (1, 3)"),
        ({"t": [[0.5], [0.1]]},
         "value t has shape (2, 1), but input t is (m, 1) = (1, 1) (m = 1 from x)"),
        ({"w": [0.2, 0.3]}, "value w has shape (2,), but param w is (1, h) = (1, 2)"),
        ({"w": None}, "values: no value for param w"),
        ({"v": [1.0]}, "values: v is no input or parameter (x, t, W, w)"),
        ({"W": [["a", "b", "c"]] * 2}, "values: W is not an array of numbers"),
    ],
)  # fmt: skip
def test_shipped_values_of_a_wrong_shape_are_refused_at_load(tmp_path, change, message):
    path = bad_file(tmp_path, **change)
    with pytest.raises(DeriveError) as err:
        derive.load(path)
    assert str(err.value) == f"{path}:12: example {message}"


def test_a_wrong_shipped_value_on_the_command_line(cli, tmp_path):
    path = bad_file(tmp_path, W=[[0.1, 0.2]] * 3)
    result = cli("grad", path)
    assert result.exit_code == 2
    assert result.stderr == (
        f"derive: error: {path}:12: example value W has shape (3, 2), "
        "but param W is (h, d) = (2, 3)\n"
    )
    assert cli("grad", bad_file(tmp_path)).exit_code == 0  # the good values pass


# --- both networks proved ------------------------------------------------------------------
@pytest.mark.parametrize("path", [HAND321, MLP2], ids=["hand321", "mlp2"])
def test_every_residual_and_gradient_is_proved(path):
    net = derive.load(path)
    v = verify(net.derive())
    assert v.ok
    assert {c.name for c in v.checks} >= {q.name for q in net.params}
    assert all(c.symbolic is True for c in v.checks)
    assert all(c.numeric_error < TOLERANCE for c in v.checks)


# --- the MLP's parameter count -------------------------------------------------------------
def seed_count(d, d_h, m):
    """The homework's n_theta, its m being the number of classes."""
    return d_h * (d + 1) + m * (d_h + 1)


def test_parameter_count_is_the_homeworks_formula(mlp2):
    dims = {s.name: s for s in mlp2.dims}
    d, d_h, c = dims["d"], dims["d_h"], dims["c"]
    assert sp.expand(mlp2.parameter_count() - seed_count(d, d_h, c)) == 0


@pytest.mark.parametrize(("d", "d_h", "c"), [(3, 4, 3), (784, 50, 10), (1, 1, 2), (5, 7, 4)])
def test_parameter_count_at_sizes(d, d_h, c):
    net = derive.load(MLP2, d=d, d_h=d_h, c=c)
    assert int(net.parameter_count().subs(net.dims)) == seed_count(d, d_h, c)
    rng = np.random.default_rng(0)
    values = {"x": rng.normal(size=(2, d)), "y": np.eye(c)[[0, c - 1]],
              "W_1": rng.normal(size=(d_h, d)), "b_1": rng.normal(size=d_h),
              "W_2": rng.normal(size=(c, d_h)), "b_2": rng.normal(size=c)}  # fmt: skip
    grads = net.compile().loss_and_grads(values)
    assert sum(g.size for k, g in grads.items() if k.startswith("grad_")) == seed_count(d, d_h, c)


def test_the_report_states_the_count_and_the_homeworks_symbols(mlp2):
    derivation = mlp2.derive()
    r = context.build(derivation)
    assert r.param_count == r"d_{h} (d + 1) + c (d_{h} + 1)"
    assert r.param_count_at == "$31$ at $d = 3$, $d_{h} = 4$, and $c = 3$"
    assert [n.title_tex for n in r.notes] == ["The homework's symbols"]
    assert r"$n_\theta = d_h (d + 1) + m (d_h + 1)$" in r.notes[0].text_tex
    md = render_md(derivation)
    assert r"$n_\theta = d_{h} (d + 1) + c (d_{h} + 1)$ scalar parameters" in md
    assert "**The homework's symbols.** The homework writes $m$ for the number of classes" in md


def test_a_count_of_numbers_only(hand321):
    """hand321's sizes are symbols too; with numbers only the count is one number."""
    r = context.build(hand321.derive())
    assert r.param_count == r"d_{h} (d + 1) + d_{h} + 1"
    assert r.param_count_at == "$11$ at $d = 3$ and $d_{h} = 2$"
    net = derive.Network("numbers")
    x = net.input("x", 3)
    W = net.param("W", (2, 3))
    net.loss("L", derive.mean(derive.sq_norm(W * x)))
    r = context.build(net.derive())
    assert (r.param_count, r.param_count_at) == ("6", "")


def test_mlp2_gradients_against_numpy_by_hand():
    """The per-sample loss node L has the residual 1/m in every sample (a compiled constant that
    must still be one value per sample), then o_s - y, W^(2)T, the ReLU's indicator."""
    net = derive.load(MLP2)
    rng = np.random.default_rng(1)
    m, d, d_h, c = 6, 3, 4, 3
    v = {"x": rng.normal(size=(m, d)), "y": np.eye(c)[rng.integers(0, c, m)],
         "W_1": rng.normal(size=(d_h, d)), "b_1": rng.normal(size=d_h),
         "W_2": rng.normal(size=(c, d_h)), "b_2": rng.normal(size=c)}  # fmt: skip
    h_a = v["x"] @ v["W_1"].T + v["b_1"]
    h_s = np.maximum(h_a, 0)
    o_a = h_s @ v["W_2"].T + v["b_2"]
    o_s = np.exp(o_a) / np.exp(o_a).sum(axis=1, keepdims=True)
    delta_o = (o_s - v["y"]) / m
    delta_h = (delta_o @ v["W_2"]) * (h_a > 0)
    want = {"R": -np.sum(v["y"] * np.log(o_s)) / m,
            "grad_W_1": delta_h.T @ v["x"], "grad_b_1": delta_h.sum(axis=0),
            "grad_W_2": delta_o.T @ h_s, "grad_b_2": delta_o.sum(axis=0)}  # fmt: skip
    got = net.compile().loss_and_grads(v)
    assert set(got) == set(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-15)


def test_a_note_with_code_and_math(hand321):
    (note,) = context.build(hand321.derive()).notes
    assert note.title_tex == note.title_md == "The homework's numbers"
    assert r"\texttt{derive grad hand321.py} evaluates $E$" in note.text_tex
    assert "`derive grad hand321.py` evaluates $E$" in note.text_md
    net = derive.Network("n")
    x = net.input("x", 2)
    net.loss("L", derive.mean(derive.sq_norm(x)))
    net.notes["a_b & c"] = "50% of `my_net.py`, $x_1$"
    (note,) = context.build(net.derive()).notes
    assert (note.title_tex, note.text_tex) == (r"A\_b \& c", r"50\% of \texttt{my\_net.py}, $x_1$")
