"""derive handcalc: the forward and backward pass with the numbers put in at every step.

The 3-2-1 network of seed 002, Part B.3 is checked number by number against a NumPy calculation
written out below (not derive's), and the printed numbers against the homework's; every result
equals `derive grad`'s to the last bit; every example makes a write-up; a values file in YAML
that is wrong in any way is one line on stderr and exit code 2, with nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import EXAMPLES, MULTITASK, need_latex

import derive
from derive.errors import DeriveError
from derive.handcalc import RANDOM_M, calculate, random_point, read_values
from derive.render.handcalc import MAX_SIDE, document, matrix, number
from derive.render.printer import resolve_brackets
from derive.render.report import render

HAND321 = EXAMPLES / "hand321.py"

#: The homework's numbers (seed 002, Part B.3); its W_1 is 3 x 2, derive's (out x in) 2 x 3.
SEED_VALUES = {
    "x": [[0.18, 2.42, 1.34]],
    "t": [[-1.29]],
    "W1": [[-0.10, 0.19, 0.49], [-0.15, -0.07, -0.48]],
    "b1": [-0.36, -0.04],
    "W2": [[-0.25, 0.68]],
    "b2": [0.26],
}


def by_hand(v: dict) -> dict:
    """The 3-2-1 sigmoid network in plain NumPy, every intermediate value, samples first."""
    x, t, W1, b1, W2, b2 = (np.asarray(v[k], dtype=float) for k in SEED_VALUES)
    m = x.shape[0]
    t = t.reshape(m, 1)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    z_h = x @ W1.T + b1
    h = sig(z_h)
    z_o = h @ W2.T + b2
    o = sig(z_o)
    E = np.sum(0.5 * (o - t) ** 2) / m
    dE_do = (o - t) / m
    dE_dzo = dE_do * o * (1 - o)
    dE_dh = dE_dzo @ W2
    dE_dzh = dE_dh * h * (1 - h)
    return {
        "z_h": z_h, "h": h, "z_o": z_o[:, 0], "o": o[:, 0], "E": E,
        "d_o": dE_do[:, 0], "d_z_o": dE_dzo[:, 0], "d_h": dE_dh, "d_z_h": dE_dzh,
        "grad_W1": dE_dzh.T @ x, "grad_b1": dE_dzh.sum(axis=0),
        "grad_W2": dE_dzo.T @ h, "grad_b2": dE_dzo.sum(axis=0),
    }  # fmt: skip


@pytest.fixture(scope="module")
def hand321():
    return derive.load(HAND321)


@pytest.fixture(scope="module")
def calc(hand321):
    return calculate(hand321)


def tex_of(calc) -> str:
    return render("handcalc.tex.j2", h=document(calc))


def step(calc, section: str, name: str, sample: int | None = None):
    found = getattr(calc, section)
    steps = found if section == "summary" else [s for g in found for s in g.steps]
    return next(s for s in steps if s.name == name and s.sample == sample)


# --- hand321 at the homework's numbers ----------------------------------------------------
def test_hand321_every_number_against_numpy(calc):
    want = by_hand(SEED_VALUES)
    for name in ("z_h", "h", "z_o", "o"):
        np.testing.assert_allclose(calc.nodes[name], want[name], rtol=1e-13)
    assert calc.nodes["E"] == pytest.approx(want["E"], rel=1e-14)
    for name in ("o", "z_o", "h", "z_h"):
        np.testing.assert_allclose(calc.residuals[name], want[f"d_{name}"], rtol=1e-13)
    for key in ("grad_W1", "grad_b1", "grad_W2", "grad_b2"):
        np.testing.assert_allclose(calc.result[key], want[key], rtol=1e-13, atol=1e-16)
    # the steps carry the same numbers at full precision
    np.testing.assert_array_equal(step(calc, "forward", "h", 0).value[:, 0], calc.nodes["h"][0])
    np.testing.assert_array_equal(step(calc, "gradients", "W1").value, calc.result["grad_W1"])


def test_hand321_prints_the_homeworks_numbers(calc):
    """E = 1.7336 as the issue states; z_h as the homework computes it (0.7384, -0.8796); the
    homework's own rounding of h (0.68, 0.29) moves its later numbers, not these."""
    assert calc.m == 1
    assert step(calc, "summary", "E").result == "1.7336"
    assert step(calc, "forward", "E", None).result == "1.7336"
    z_h = step(calc, "forward", "z_h", 0)
    assert z_h.result == r"\begin{bmatrix} 0.7384 \\ -0.8796 \end{bmatrix}"
    assert resolve_brackets(z_h.formula) == r"W_{1} \mathbf{x} + \mathbf{b}_{1}"  # one sample: no i
    assert resolve_brackets(z_h.substituted) == (
        r"\begin{bmatrix} -0.1 & 0.19 & 0.49 \\ -0.15 & -0.07 & -0.48 \end{bmatrix} "
        r"\begin{bmatrix} 0.18 \\ 2.42 \\ 1.34 \end{bmatrix} + "
        r"\begin{bmatrix} -0.36 \\ -0.04 \end{bmatrix}"
    )
    assert step(calc, "forward", "o", 0).result == "0.5721"
    assert step(calc, "backward", "o", 0).result == "1.8621"  # the homework's 1.86
    # a computed number keeps its decimals (0.3100 beside 0.5721); given ones keep their own (0.18)
    assert (
        step(calc, "backward", "h", 0).result == r"\begin{bmatrix} -0.1140 \\ 0.3100 \end{bmatrix}"
    )
    assert step(calc, "gradients", "W2").result == r"\begin{bmatrix} 0.3084 & 0.1337 \end{bmatrix}"
    assert step(calc, "gradients", "b2").result == "0.4558"
    # the homework's sign slip: its dE/dw_1 = +0.0043 is negative here
    assert step(calc, "gradients", "W1").result.startswith(r"\begin{bmatrix} -0.004488 & ")
    # formula, numbers, result: the residual of z_o as the homework writes it, (1.86)(0.57)(...)
    dzo = step(calc, "backward", "z_o", 0)
    assert resolve_brackets(dzo.substituted) == (
        r"\left(1.8621\right) \left(0.5721\right) \left(1 - 0.5721\right)"
    )
    tex = tex_of(calc)
    assert "E &= 1.7336" in tex
    assert "example values that hand321.py ships" in tex


def test_results_equal_derive_grad_to_the_last_bit(hand321, calc):
    want = hand321.compile().loss_and_grads(hand321.examples)
    assert set(calc.result) == set(want)
    for key in want:
        assert calc.result[key].shape == want[key].shape
        np.testing.assert_array_equal(calc.result[key], want[key])


# --- every example ------------------------------------------------------------------------
EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.glob("*.py"))


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_results_equal_derive_grad_for_every_example(name):
    net = derive.load(EXAMPLES / name)
    values = net.examples or random_point(net)
    calc = calculate(net, values)
    want = net.compile().loss_and_grads(values)
    assert set(calc.result) == set(want)
    for key in want:
        np.testing.assert_array_equal(calc.result[key], want[key])
    # and every gradient step shows that very number
    for group in calc.gradients:
        for s in group.steps:
            np.testing.assert_array_equal(s.value.reshape(want[f"grad_{s.name}"].shape),
                                          want[f"grad_{s.name}"])  # fmt: skip


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_every_example_makes_a_handcalc(cli, tmp_path, name):
    out = tmp_path / "out"
    result = cli("handcalc", EXAMPLES / name, "-o", out, "--format", "tex")
    assert result.exit_code == 0, result.output
    (tex,) = out.glob("*_handcalc.tex")
    text = tex.read_text()
    assert text.count(r"\begin{align*}") == text.count(r"\end{align*}") > 3
    assert "\x01" not in text and "\x02" not in text  # no bracket mark left unresolved
    if name != "hand321.py":  # ships no example values: random ones, and it says so
        assert "numpy.random.default\\_rng(0)" in text
        assert f"$m = {RANDOM_M}$ samples" in text


def test_random_values_are_reproducible():
    net = derive.load(MULTITASK)
    first, second = random_point(net), random_point(net)
    assert set(first) == {q.name for q in net.inputs + net.params}
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    assert tex_of(calculate(net)) == tex_of(calculate(net))
    # labels one-hot, the dropout mask 0 or 1/keep, as the numeric proof draws them
    assert set(np.unique(first["M"])) <= {0.0, 2.0}
    np.testing.assert_array_equal(first["y_B"].sum(axis=1), 1)


def test_pdf(cli, tmp_path):
    need_latex()
    out = tmp_path / "out"
    result = cli("handcalc", HAND321, "-o", out)
    assert result.exit_code == 0, result.output
    assert (out / "hand321_handcalc.pdf").read_bytes().startswith(b"%PDF")
    assert result.stdout.splitlines() == [
        str(out / "hand321_handcalc.tex"),
        str(out / "hand321_handcalc.pdf"),
    ]


def test_markdown(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("handcalc", HAND321, "-o", out, "-f", "md", "--digits", "2")
    assert result.exit_code == 0, result.output
    md = (out / "hand321_handcalc.md").read_text()
    assert "$$\n\\begin{aligned}" in md and "\\\\*" not in md
    assert re.search(r"\nE &= 1\.73 ", md)  # two decimals
    assert not (out / "hand321_handcalc.pdf").exists()


# --- values from a YAML file --------------------------------------------------------------
def write_yaml(tmp_path: Path, values: dict | str) -> Path:
    path = tmp_path / "values.yaml"
    path.write_text(values if isinstance(values, str) else yaml.safe_dump(values))
    return path


def test_yaml_values_two_samples(cli, tmp_path, hand321):
    values = dict(SEED_VALUES, x=[[0.18, 2.42, 1.34], [1.0, -0.5, 0.25]], t=[-1.29, 0.5])
    path = write_yaml(tmp_path, values)
    calc = calculate(hand321, read_values(path), where=str(path))
    want = by_hand(values)
    assert calc.m == 2
    np.testing.assert_allclose(calc.result["grad_W1"], want["grad_W1"], rtol=1e-13)
    np.testing.assert_allclose(calc.nodes["h"], want["h"], rtol=1e-13)
    tex = tex_of(calc)
    assert r"\mathbf{x}^{2} &= " not in tex  # the samples of an input side by side
    assert r"\mathbf{z}_{h}^{2} &= W_{1} \mathbf{x}^{2} + \mathbf{b}_{1}" in tex
    # the gradient of W_1 written out as the sum of the two samples' outer products
    sub = resolve_brackets(step(calc, "gradients", "W1").substituted)
    assert sub.count(r"\begin{bmatrix}") == 4 and " + " in sub
    out = tmp_path / "out"
    result = cli("handcalc", HAND321, "--values", path, "-o", out, "-f", "tex")
    assert result.exit_code == 0, result.output
    text = (out / "hand321_handcalc.tex").read_text()
    assert "The numbers are those of values.yaml." in text  # the file's name, not its folder


def test_a_bare_number_for_a_scalar(hand321, tmp_path):
    path = write_yaml(tmp_path, dict(SEED_VALUES, b2=0.26))
    calc = calculate(hand321, read_values(path), where=str(path))
    np.testing.assert_array_equal(
        calc.result["grad_W1"], hand321.compile().loss_and_grads(hand321.examples)["grad_W1"]
    )


def test_many_samples_and_large_sides_are_elided(hand321, tmp_path):
    rng = np.random.default_rng(1)
    values = dict(SEED_VALUES, x=rng.normal(size=(6, 3)).tolist(), t=rng.normal(size=6).tolist())
    calc = calculate(hand321, read_values(write_yaml(tmp_path, values)))
    assert {s.sample for g in calc.forward for s in g.steps if s.name == "z_h"} == {0, 1, 5}
    assert r"\cdots" in step(calc, "gradients", "b1").substituted
    np.testing.assert_allclose(calc.result["grad_W1"], by_hand(values)["grad_W1"], rtol=1e-12)
    assert "Only samples 1, 2, and 6 are written out" in tex_of(calc)
    big = matrix(np.arange(MAX_SIDE + 3.0 * MAX_SIDE).reshape(1, -1) + np.zeros((MAX_SIDE + 2, 1)))
    assert r"\vdots" in big and r"\cdots" in big and r"\ddots" in big
    assert big.count(r"\\") == MAX_SIDE - 1  # the first rows, dots, the last row


def check_one_line_error(result, out: Path, *expected: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("derive: error: ")
    for text in expected:
        assert text in lines[0], (text, lines[0])
    assert not out.exists() or not any(out.iterdir())
    return lines[0]


BAD_VALUES = {
    "not YAML": ("x: [1, 2\nW1: ]", ["values.yaml:", "not valid YAML"]),
    "a list": ("- 1\n- 2\n", ["values.yaml", "mapping of names"]),
    "unknown": (dict(SEED_VALUES, W3=[1.0]), ["values.yaml", "W3", "no input or parameter"]),
    "missing": ({k: v for k, v in SEED_VALUES.items() if k != "b1"}, ["values.yaml", "b1"]),
    "shape": (dict(SEED_VALUES, W1=[[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]),
              ["values.yaml", "W1", "(3, 2)", "(d_h, d)"]),
    "ragged": (dict(SEED_VALUES, W1=[[0.1, 0.2, 0.3], [0.4]]),
               ["values.yaml", "W1", "rectangular"]),
    "text": (dict(SEED_VALUES, b2="big"), ["values.yaml", "b2", "'big'"]),
    "empty": ("x:\n", ["values.yaml", "x is empty"]),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_VALUES)
def test_bad_values_file(cli, tmp_path, case):
    content, expected = BAD_VALUES[case]
    path = write_yaml(tmp_path, content)
    out = tmp_path / "out"
    result = cli("handcalc", HAND321, "--values", path, "-o", out)
    check_one_line_error(result, out, *expected)


def test_missing_values_file(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("handcalc", HAND321, "--values", tmp_path / "nowhere.yaml", "-o", out)
    check_one_line_error(result, out, "nowhere.yaml", "no such values file")


@pytest.mark.parametrize("digits", ["0", "-2"])
def test_digits_at_least_one(cli, tmp_path, digits):
    out = tmp_path / "out"
    result = cli("handcalc", HAND321, "--digits", digits, "-o", out)
    check_one_line_error(result, out, f"--digits {digits}", "at least 1")


def test_wrong_shape_names_both_shapes(hand321, tmp_path):
    values = dict(SEED_VALUES, b1=[0.1, 0.2, 0.3])
    path = write_yaml(tmp_path, values)
    with pytest.raises(DeriveError) as err:
        calculate(hand321, read_values(path), where=str(path))
    message = str(err.value)
    assert message.startswith(f"{path}: b1 has shape (3,)")
    assert re.search(r"d_h = 2", message), message


# --- numbers as a student writes them -----------------------------------------------------
@pytest.mark.parametrize(
    "x, digits, text",
    [
        (1.7336287, 4, "1.7336"),  # four decimals: the E = 1.7336
        (0.18, 4, "0.18"),  # trailing zeros dropped, as the homework writes its inputs
        (-0.0044883, 4, "-0.004488"),  # small: four significant digits rather than 0.0045
        (112.96051, 4, "112.9605"),
        (0.0, 4, "0"),
        (-1e-9, 4, r"-1 \cdot 10^{-9}"),
        (0.000012345, 3, r"1.23 \cdot 10^{-5}"),
        (2.5e7, 2, r"2.5 \cdot 10^{7}"),
        (1.73363, 1, "1.7"),
        (-0.00004, 4, r"-4 \cdot 10^{-5}"),
    ],
)
def test_number(x, digits, text):
    assert number(x, digits) == text
