"""derive boundary and labels of -1 and +1: the toy data against facts known about it, the trained
boundaries against what a line can do, the perceptron and hinge gradients against central
differences written here, the sentences, the command line, the PDF and bad input."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from conftest import EXAMPLES, need_latex

import derive
from derive import boundary, toy
from derive.errors import DeriveError
from derive.numeric import random_values
from derive.render import boundary as writeup
from derive.verify import verify


# --- the toy data ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(toy.TOYS))
def test_toy_data_is_deterministic_by_seed(name):
    a, b = toy.make(name, 100, seed=3), toy.make(name, 100, seed=3)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, toy.make(name, 100, seed=4).x)
    assert a.x.shape == (100, 2)
    assert list(a.labels[:4]) == [0, 1, 0, 1] and a.labels.sum() == 50
    assert set(a.signs) == {-1.0, 1.0} and np.all((a.signs > 0) == (a.labels == 1))


def best_line_accuracy(x: np.ndarray, labels: np.ndarray, directions: int = 720) -> float:
    """The best accuracy of any half-plane, by brute force over directions and thresholds."""
    best = 0.0
    for t in np.linspace(0, np.pi, directions, endpoint=False):
        p = x @ np.array([np.cos(t), np.sin(t)])
        order = np.argsort(p)
        y = labels[order]
        # threshold after the k-th point: class 1 above (or class 0 above, the other sign)
        ones_above = np.concatenate([[y.sum()], y.sum() - np.cumsum(y)])
        zeros_below = np.concatenate([[0], np.cumsum(1 - y)])
        right = (ones_above + zeros_below) / len(y)
        best = max(best, right.max(), (1 - right).max())
    return float(best)


def test_blobs_are_separated_by_a_line_with_a_margin():
    t = toy.make("blobs", 400, seed=1)
    assert np.all(t.x[t.labels == 1, 0] >= 0.5) and np.all(t.x[t.labels == 0, 0] <= -0.5)


def test_circles_are_separated_by_a_circle_and_by_no_line():
    t = toy.make("circles", 400, seed=2)
    r = np.hypot(t.x[:, 0], t.x[:, 1])
    assert np.all(r[t.labels == 0] < 0.75) and np.all(r[t.labels == 1] > 0.75)
    assert best_line_accuracy(t.x, t.labels) < 0.8  # a disc in a ring: a line cuts off a cap


def test_moons_are_not_separated_by_a_line_but_nearly():
    t = toy.make("moons", 400, seed=0)
    assert 0.8 < best_line_accuracy(t.x, t.labels) < 0.95  # the known ~0.87 of two moons


def test_bad_toy_options():
    for call, words in [
        (lambda: toy.make("nope"), "no such toy data set"),
        (lambda: toy.make("moons", 1), "--samples 1"),
        (lambda: toy.make("moons", 10, noise=-1), "--noise -1"),
    ]:
        with pytest.raises(DeriveError, match=words):
            call()


# --- the boundary's length and the figure ---------------------------------------------------
def test_boundary_length_of_a_circle_and_of_a_straight_line():
    box = (-1.0, 1.0, -1.0, 1.0)
    n = 400
    centres = boundary.grid(box, n)
    inside = (np.hypot(centres[:, 0], centres[:, 1]) < 0.6).reshape(n, n).astype(np.int8)
    assert boundary.boundary_length(inside, box) == pytest.approx(2 * np.pi * 0.6, rel=0.01)
    half = (centres[:, 0] > 0.1).reshape(n, n).astype(np.int8)  # a vertical line, 2 long
    assert boundary.boundary_length(half, box) == pytest.approx(np.pi / 4 * 2.0)
    assert boundary.boundary_length(np.zeros((n, n), np.int8), box) == 0


def read_png(data: bytes) -> np.ndarray:
    """A PNG of 8-bit RGB rows with filter 0, decoded by hand."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    cols, rows, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (depth, colour) == (8, 2)
    raw = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(rows, 1 + 3 * cols)
    assert np.all(raw[:, 0] == 0)
    return raw[:, 1:].reshape(rows, cols, 3)


def test_panel_image_shows_the_regions_top_row_first_and_the_boundary_dark():
    classes = np.zeros((6, 8), np.int8)
    classes[3:, :] = 1  # the upper half of the plane is class 1
    image = read_png(writeup.png(writeup.regions(classes)))
    assert image.shape == (6, 8, 3)
    assert tuple(image[0, 0]) == writeup.REGION[1]  # the image's top row: the plane's top
    assert tuple(image[5, 0]) == writeup.REGION[0]
    assert all(tuple(image[r, c]) == writeup.EDGE for r in (2, 3) for c in range(8))


# --- training -------------------------------------------------------------------------------
def test_the_network_of_the_study_is_proved_and_lambda_adds_2_lambda_w():
    net = boundary.network(3)
    result = verify(net.derive())
    assert result.ok and all(c.symbolic for c in result.checks)
    rng = np.random.default_rng(0)
    values = random_values(net, net.sizes(m=5), rng)
    values = {k: np.asarray(v) for k, v in values.items()}
    compiled = net.compile()
    without = compiled.loss_and_grads({**values, "lam": np.array(0.0)})
    with_lam = compiled.loss_and_grads({**values, "lam": np.array(0.3)})
    for w in ("W_1", "W_2"):
        np.testing.assert_allclose(
            with_lam[f"grad_{w}"] - without[f"grad_{w}"], 2 * 0.3 * values[w], atol=1e-12
        )
    r = sum(float(np.sum(values[w] ** 2)) for w in ("W_1", "W_2"))
    assert float(with_lam["J"] - without["J"]) == pytest.approx(0.3 * r)


def test_a_wide_net_fits_the_moons_and_width_1_does_no_better_than_a_line_on_circles():
    wide = boundary.run(boundary.Options("moons", widths=(30,), seeds=(0,), epochs=200))
    assert wide.panels[0].accuracy >= 0.97
    narrow = boundary.run(boundary.Options("circles", widths=(1,), seeds=(0, 1), epochs=100))
    line = best_line_accuracy(narrow.x, narrow.labels)
    for p in narrow.panels:  # one ReLU unit: the score is monotone in one projection
        assert p.accuracy <= line + 1e-9 and p.accuracy < 0.8
    # the accuracy is the share of the points on their class's side, read off independently
    p = wide.panels[0]
    box = wide.extent
    n = p.classes.shape[0]
    col = np.clip(((wide.x[:, 0] - box[0]) / (box[1] - box[0]) * n).astype(int), 0, n - 1)
    row = np.clip(((wide.x[:, 1] - box[2]) / (box[3] - box[2]) * n).astype(int), 0, n - 1)
    on_grid = np.mean(p.classes[row, col] == wide.labels)
    assert abs(on_grid - p.accuracy) <= 0.03  # the grid's cells are coarser than the model


def test_strong_regularisation_shrinks_the_weights():
    study = boundary.run(
        boundary.Options("moons", widths=(10,), seeds=(0,), lams=(0.0, 0.01), epochs=100)
    )
    free, tied = study.panel(0.0, 0, 10), study.panel(0.01, 0, 10)
    assert tied.norm < free.norm / 5
    assert boundary.run(study.options).panels == study.panels  # same options, same numbers


# --- the sentences --------------------------------------------------------------------------
def study_of(rows, widths=(1, 10), seeds=(0,), lams=(0.0,)) -> boundary.Study:
    """A study with given (lam, seed, width, accuracy, norm, length) and a uniform grid."""
    flat = np.zeros((4, 4), np.int8)
    panels = tuple(
        boundary.Panel(lam, seed, w, acc, 0.1, norm, length, flat)
        for lam, seed, w, acc, norm, length in rows
    )
    options = boundary.Options("moons", widths=widths, seeds=seeds, lams=lams)
    return boundary.Study(options, "moons", np.zeros((2, 2)), np.array([0, 1]), "net",
                          (-1, 1, -1, 1), panels)  # fmt: skip


def test_sentences_are_worded_from_the_numbers():
    s = study_of([(0.0, 0, 1, 0.5, 1.0, 0.0), (0.0, 0, 10, 1.0, 50.0, 7.0)])
    text = writeup.width_sentence(s, 0.0, 0, "text")
    assert "0.500 and 1.000 at h = 1, 10: it rises from 0.500 to 1.000" in text
    assert "at h = 1 the network gives every point of the plane one class" in text
    s = study_of(
        [(0.0, 0, 10, 1.0, 200.0, 7.0), (0.1, 0, 10, 0.87, 5.0, 4.0)],
        widths=(10,), lams=(0.0, 0.1),
    )  # fmt: skip
    text = writeup.lam_sentence(s, 0, 10, "text")
    assert "falls from 200 to 5 (200 and 5)" in text
    assert "the training accuracy falls from 1.000 to 0.870" in text
    s = study_of(
        [(0.0, 0, 1, 0.5, 1, 1), (0.0, 1, 1, 0.9, 1, 1), (0.0, 0, 2, 0.9, 1, 1),
         (0.0, 1, 2, 0.9, 1, 1)],
        widths=(1, 2), seeds=(0, 1),
    )  # fmt: skip
    text = writeup.seed_sentence(s, 0.0, "text")
    assert "matters most at h = 1: the training accuracy is 0.500 with seed 0 and 0.900" in text
    assert "at h = 2 every seed reaches 0.900" in text


# --- labels of -1 and +1: the perceptron and the hinge loss ---------------------------------
def linear_loss(kind: str, w, b, x, y, lam: float = 0.0) -> float:
    s = x @ w + b
    per = np.maximum(0, -y * s) if kind == "perceptron" else np.maximum(0, 1 - y * s)
    return float(per.mean() + lam * np.sum(w**2))


@pytest.mark.parametrize("kind", ["perceptron", "hinge"])
def test_perceptron_and_hinge_gradients_agree_with_central_differences(kind, cli):
    net = derive.load(EXAMPLES / f"{kind}.py")
    assert net.quantities["y"].content == "sign"
    rng = np.random.default_rng(5)
    x = rng.normal(size=(7, 3))
    y = rng.choice([-1.0, 1.0], size=7)
    w, b = rng.normal(size=3), rng.normal(size=1)
    values = {"x": x, "y": y, "w": w, "b": b}
    lam = 0.2 if kind == "hinge" else 0.0
    if kind == "hinge":
        values["lam"] = np.array(lam)
    got = net.compile().loss_and_grads(values)
    assert float(got["J"]) == pytest.approx(linear_loss(kind, w, b[0], x, y, lam))
    step = 1e-6
    for name, array in (("w", w), ("b", b)):
        diff = np.zeros_like(array)
        for k in range(array.size):
            up, down = array.copy(), array.copy()
            up[k] += step
            down[k] -= step
            args = {"w": w, "b": b, name: up}
            f_up = linear_loss(kind, args["w"], args["b"][0], x, y, lam)
            args[name] = down
            f_down = linear_loss(kind, args["w"], args["b"][0], x, y, lam)
            diff[k] = (f_up - f_down) / (2 * step)
        np.testing.assert_allclose(np.ravel(got[f"grad_{name}"]), diff, rtol=1e-6, atol=1e-8)
    result = cli("verify", EXAMPLES / f"{kind}.py")
    assert result.exit_code == 0 and "checks passed" in result.stdout


def test_the_proofs_draw_sign_labels_as_minus_one_and_one():
    net = derive.load(EXAMPLES / "perceptron.py")
    values = random_values(net, net.sizes(m=50), np.random.default_rng(0))
    assert set(np.unique(values["y"])) == {-1.0, 1.0}
    with pytest.raises(DeriveError, match="exclude one another"):
        derive.Network("n").input("y", 1, sign=True, onehot=True)


def test_derive_train_scores_sign_labels_by_sign_agreement(cli):
    from derive.train import Settings, agreeing, load_data, train

    net = derive.load(EXAMPLES / "perceptron.py")
    q = net.quantities["y"]
    assert agreeing(np.array([0.3, -2.0, 0.0, 1.0]), np.array([1.0, 1.0, -1.0, -1.0]), q) == 2
    blobs = train(net, load_data(net, "blobs"), Settings(epochs=5))
    assert blobs.final.test_accuracy == 1.0  # separable with a margin: the perceptron finds it
    hinge = derive.load(EXAMPLES / "hinge.py")
    circles = train(hinge, load_data(hinge, "circles"), Settings(epochs=20), {"lam": 0.01})
    assert circles.final.test_accuracy < 0.75  # a line on a disc inside a ring
    result = cli("train", EXAMPLES / "perceptron.py", "--data", "blobs", "--epochs", "2")
    assert result.exit_code == 0 and "test accuracy 1.0000 after 2 epochs" in result.stdout
    result = cli("train", EXAMPLES / "mlp.py", "--data", "moons", "--epochs", "1")
    assert result.exit_code == 0 and "one-hot labels of 2 classes" in result.stdout


# --- the command line -----------------------------------------------------------------------
def test_the_command_writes_the_figures_and_the_pdf(cli, tmp_path):
    need_latex()
    out = tmp_path / "b"
    result = cli("boundary", "--data", "moons", "--width", "1,8", "--seeds", "0",
                 "--lam", "0,0.01", "--epochs", "60", "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    names = sorted(p.name for p in out.iterdir())
    figures = [f"boundary-moons-0{k}.png" for k in (1, 2, 3, 4)]
    assert names == [*figures, "boundary-moons.pdf", "boundary-moons.tex"]
    assert (out / "boundary-moons.pdf").read_bytes()[:5] == b"%PDF-"
    image = read_png((out / "boundary-moons-02.png").read_bytes())
    assert image.shape == (boundary.GRID, boundary.GRID, 3)
    colours = {tuple(c) for c in image.reshape(-1, 3)}
    assert set(writeup.REGION) | {writeup.EDGE} == colours  # both classes and a boundary
    tex = (out / "boundary-moons.tex").read_text()
    assert r"\addplot graphics" in tex and "boundary-moons-04.png" in tex
    assert tex.count(r"\addplot graphics") == 4 + 2  # the sections, and h = 8 across lambda
    assert "lambda = 0, seed 0, h = 8: training accuracy" in result.stdout
    assert "as lambda goes from 0 to 0.01" in result.stdout


@pytest.mark.parametrize(
    "args, words",
    [
        (["--width", "0"], "--width 0: give hidden widths from 1"),
        (["--lam", "-1"], "--lam -1: the L2 weight lambda is 0 or more"),
        (["--data", "nope"], "--data nope: no such toy data set"),
        (["--width", "1,a"], "--width 1,a: expected whole numbers"),
        (["--seeds", "0,0"], "--seeds: a value is given twice"),
        (["--format", "md"], "--format md: use pdf or tex"),
        (["--width", "1,2,3,4,5,6,7,8", "--seeds", "0,1,2,3,4,5,6"], "56 panels"),
    ],
)
def test_bad_options_are_one_line_and_write_nothing(cli, tmp_path, args, words):
    out = tmp_path / "b"
    result = cli("boundary", *args, "-o", out)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and words in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


SIGN_NET = """
from derive import Network, hinge, mean, sq_norm, tanh, transpose

net = Network("tanh_hinge", title="A tanh layer and the hinge loss")
d = net.dim("d", 2)
h = net.dim("h", 3, size=net.setting("hidden", 5))
x = net.input("x", d)
y = net.input("y", 1, sign=True)
lam = net.input("lam", 1, r"\\lambda", per_sample=False)
W_1 = net.param("W_1", (h, d), init="xavier")
b_1 = net.param("b_1", h)
w = net.param("w", h)
b = net.param("b", 1)
a = net.node("a", tanh(W_1 * x + b_1))
s = net.node("s", transpose(w) * a + b)
J = net.loss("J", mean(hinge(s, y)) + lam * sq_norm(W_1))
"""


def test_a_network_file_with_a_sign_label_or_a_one_hot_one(tmp_path, cli):
    path = tmp_path / "tanh_hinge.py"
    path.write_text(SIGN_NET)
    options = boundary.Options("blobs", widths=(4,), seeds=(0,), lams=(0.0, 0.1), epochs=30,
                               network=path)  # fmt: skip
    study = boundary.run(options)
    free, tied = study.panels
    assert free.accuracy == 1.0 and tied.norm < free.norm
    # the grid's classes: the sign of the score, which puts x_1 > 0.5 (class 1) on the + side
    centres = boundary.grid(study.extent)
    right = (centres[:, 0] > 0.5).reshape(free.classes.shape)
    left = (centres[:, 0] < -0.5).reshape(free.classes.shape)
    assert np.all(free.classes[right & (np.abs(centres[:, 1]) < 1.5).reshape(right.shape)] == 1)
    assert np.all(free.classes[left & (np.abs(centres[:, 1]) < 1.5).reshape(left.shape)] == 0)
    mlp = boundary.run(boundary.Options("blobs", widths=(3,), seeds=(0,), epochs=20,
                                        network=EXAMPLES / "mlp.py"))  # fmt: skip
    assert mlp.panels[0].accuracy == 1.0
    out = tmp_path / "none"
    for network, lam, words in [
        (EXAMPLES / "perceptron.py", "0", "unknown setting 'hidden'"),
        (EXAMPLES / "mlp.py", "0.1", "no per-batch input for the weight lambda"),
    ]:
        result = cli("boundary", "--network", network, "--lam", lam, "-o", out)
        assert result.exit_code == 2 and words in result.stderr and not out.exists()
