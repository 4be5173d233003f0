"""The VAE on real images (issue 15): trained without labels on a slice of MNIST, its negative
ELBO falls and equals an independent NumPy computation from the saved parameters; --samples
writes a PNG (decoded here with zlib and struct alone) whose left panel is the decoder's means at
z ~ N(0, I), computed here independently; bad paths and networks are one-line errors; the report
shows the grid."""

from __future__ import annotations

import json
import re
import struct
import zlib

import numpy as np
import pytest
from conftest import EXAMPLES, need_latex

import derive
from derive.data import load_images, write_idx
from derive.errors import DeriveError
from derive.samples import find_decoder
from derive.train import load_data

VAE = EXAMPLES / "vae.py"
N_TRAIN, N_TEST, HIDDEN, LATENT = 800, 200, 50, 5
SMALL = ["--set", f"hidden={HIDDEN}", "--set", f"latent={LATENT}"]
TRAIN = ["--epochs", "3", "--lr", "0.002", "--momentum", "0.9", "--seed", "0", *SMALL]


@pytest.fixture(scope="module")
def digits_folder(tmp_path_factory):
    """A slice of the real mnist5k digits (every class), as MNIST's four IDX files."""
    images = load_images("mnist5k")
    folder = tmp_path_factory.mktemp("mnist")
    pick = np.random.default_rng(5)
    parts = {
        "train": (images.x_train, images.labels_train, N_TRAIN),
        "t10k": (images.x_test, images.labels_test, N_TEST),
    }
    arrays = {}
    for part, (x, labels, n) in parts.items():
        index = np.sort(pick.choice(len(x), n, replace=False))
        pixels = np.rint(x[index] * 255).astype(np.uint8)
        write_idx(folder / f"{part}-images-idx3-ubyte", pixels.reshape(n, 28, 28))
        write_idx(folder / f"{part}-labels-idx1-ubyte", labels[index].astype(np.uint8))
        arrays[part] = pixels / 255.0
    return folder, arrays


@pytest.fixture(scope="module")
def trained(digits_folder, tmp_path_factory):
    from typer.testing import CliRunner

    from derive.cli import app

    folder, arrays = digits_folder
    out = tmp_path_factory.mktemp("run")
    args = ["train", str(VAE), "--data", str(folder), *TRAIN, "--metrics", str(out / "m.json"),
            "--save", str(out / "p.npz"), "--samples", str(out / "grid.png")]  # fmt: skip
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result, out, arrays


# --- an independent NumPy VAE ------------------------------------------------------------------
def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def decode(p, z):
    return sigmoid(np.tanh(z @ p["W_h"].T + p["b_h"]) @ p["W_d"].T + p["b_d"])


def negative_elbo(p, x, eps):
    """1/m sum_i 1/2 ||xhat_i - x_i||^2 + KL(N(mu_i, sigma_i^2) || N(0, I)), written out."""
    h = np.tanh(x @ p["W_e"].T + p["b_e"])
    mu, logvar = h @ p["W_mu"].T + p["b_mu"], h @ p["W_v"].T + p["b_v"]
    z = mu + np.exp(logvar / 2) * eps
    rec = 0.5 * ((decode(p, z) - x) ** 2).sum(axis=1)
    kl = 0.5 * (mu**2 + np.exp(logvar) - 1 - logvar).sum(axis=1)
    return float(np.mean(rec + kl))


# --- a PNG reader of its own: chunks, CRCs, zlib, filter bytes -------------------------------
def read_png(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, chunks = 8, []
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        at += 12 + length
    assert [k for k, _ in chunks][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, colour, interlace) == (8, 0, 0)  # 8-bit grey, not interlaced
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    rows = np.frombuffer(raw, np.uint8).reshape(height, width + 1)
    assert not rows[:, 0].any()  # filter type 0 on every row
    return rows[:, 1:]


# --- training ------------------------------------------------------------------------------------
def test_the_negative_elbo_falls_on_real_digits(trained):
    result, out, _ = trained
    metrics = json.loads((out / "m.json").read_text())
    assert metrics["sizes"] == {"d": 784, "h": HIDDEN, "k": LATENT}
    assert metrics["loss_words"] == "negative ELBO" and metrics["test_accuracy"] is None
    train = [e["train_loss"] for e in metrics["epochs"]]
    test = [e["test_loss"] for e in metrics["epochs"]]
    assert train[0] > train[1] > train[2] and test[2] < 0.9 * test[0], (train, test)
    assert "train negative ELBO" in result.stdout and "test negative ELBO" in result.stdout
    assert "loss" not in result.stdout.replace("ELBO", "") and "accuracy" not in result.stdout


def test_the_printed_elbo_is_the_negative_elbo_of_the_trained_parameters(trained):
    result, out, arrays = trained
    with np.load(out / "p.npz") as saved:
        params = {k: saved[k] for k in saved.files}
    x = arrays["t10k"]
    eps = np.random.default_rng([0, 1]).normal(size=(len(x), LATENT))  # the test set's noise
    expected = negative_elbo(params, x, eps)
    final = json.loads((out / "m.json").read_text())["test_loss"]
    assert final == pytest.approx(expected, rel=1e-10)
    printed = re.findall(r"test negative ELBO (\d+\.\d{4})", result.stdout)
    assert printed[-1] == f"{expected:.4f}"
    other = np.random.default_rng(9).normal(size=eps.shape)  # other noise: another estimate
    assert negative_elbo(params, x, other) != pytest.approx(expected, rel=1e-10)


def test_images_alone_train_an_autoencoder():
    data = load_data(derive.load(VAE), "digits")
    assert set(data.train) == {"x"} and data.sizes[derive.load(VAE).quantities["x"].shape[0]] == 64
    assert "no labels" in data.description


# --- the samples -----------------------------------------------------------------------------
def test_the_samples_are_a_png_of_two_8_by_8_grids(trained):
    _, out, _ = trained
    data = (out / "grid.png").read_bytes()
    pixels = read_png(data)
    panel = 8 * 28 + 9 * 2  # 8 digits of 28 pixels, 2 grey pixels around and between
    assert pixels.shape == (panel, 2 * panel + 8)
    assert (pixels[:2, :panel] == 128).all() and (pixels[:, panel : panel + 8] == 255).all()
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(out / "grid.png") as image:
        assert image.size == (2 * panel + 8, panel) and image.mode == "L"


def test_the_samples_are_the_decoder_at_z_from_the_prior(trained):
    _, out, _ = trained
    pixels = read_png((out / "grid.png").read_bytes()).astype(float)
    with np.load(out / "p.npz") as saved:
        params = {k: saved[k] for k in saved.files}
    rng = np.random.default_rng([0, 2])  # the samples' stream: z, then the decoder noise
    z = rng.normal(size=(64, LATENT))
    means = decode(params, z)
    noisy = np.clip(means + rng.normal(size=means.shape), 0, 1)  # sigma = 1: 1/2 ||xhat - x||^2
    right = 8 * 28 + 9 * 2 + 8
    for k in (0, 9, 63):
        r, c = divmod(k, 8)
        top, left = 2 + 30 * r, 2 + 30 * c
        tile = pixels[top : top + 28, left : left + 28]
        assert np.abs(tile - 255 * means[k].reshape(28, 28)).max() <= 0.5 + 1e-9
        tile = pixels[top : top + 28, right + left : right + left + 28]
        assert np.abs(tile - 255 * noisy[k].reshape(28, 28)).max() <= 0.5 + 1e-9


def test_the_decoder_of_the_vae():
    decoder = find_decoder(derive.load(VAE))
    assert (decoder.noise.name, decoder.latent.name, decoder.output.name) == ("eps", "z", "xhat")
    assert decoder.sigma == 1.0  # 1/2 ||xhat - x||^2 = -log N(x; xhat, I) + const


@pytest.mark.parametrize(
    "name,message",
    [
        ("mlp", "mlp has no noise input, so nothing to sample"),
        ("multitask", "multitask has no noise input"),
    ],
)
def test_samples_of_a_network_without_a_decoder(cli, tmp_path, name, message):
    grid = tmp_path / "grid.png"
    result = cli("train", EXAMPLES / f"{name}.py", "--data", "synthetic", "--samples", grid)
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "epoch" not in result.stdout
    assert not grid.exists()
    with pytest.raises(DeriveError, match="no noise input"):
        find_decoder(derive.load(EXAMPLES / f"{name}.py"))


def test_samples_need_square_images(cli, tmp_path):
    result = cli("train", VAE, "--data", "synthetic", "--samples", tmp_path / "g.png")
    assert result.exit_code == 2 and "no square image" in result.stderr
    assert "epoch" not in result.stdout


@pytest.mark.parametrize(
    "where,message",
    [
        (lambda tmp: tmp, "is a folder"),
        (lambda tmp: tmp / "grid.jpg", "give a .png file"),
        (lambda tmp: tmp / "file.txt" / "grid.png", "is not a folder"),
    ],
)
def test_a_bad_samples_path_is_one_line_before_training(cli, tmp_path, where, message):
    (tmp_path / "file.txt").write_text("x")
    metrics = tmp_path / "m.json"
    result = cli("train", VAE, "--data", "digits", "--samples", where(tmp_path),
                 "--metrics", metrics)  # fmt: skip
    assert result.exit_code == 2, result.stdout
    assert result.stderr.startswith("derive: error: --samples ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "epoch" not in result.stdout
    assert not metrics.exists() and not list(tmp_path.glob(".*tmp"))


# --- the report ----------------------------------------------------------------------------------
def test_the_report_shows_the_samples(cli, trained, tmp_path):
    _, out, _ = trained
    result = cli("report", VAE, *SMALL, "--metrics", out / "m.json", "-o", tmp_path, "-f", "md")
    assert result.exit_code == 0, result.stderr
    tex = (tmp_path / "vae.tex").read_text()
    assert r"\includegraphics[width=\textwidth]{vae-samples.png}" in tex
    assert r"train negative ELBO & test negative ELBO" in tex and r"\sigma = 1" in tex
    assert "ylabel={negative ELBO}" in tex and "ymode=log" not in tex  # within a factor of 10
    assert (tmp_path / "vae-samples.png").read_bytes() == (out / "grid.png").read_bytes()
    md = (tmp_path / "vae.md").read_text()
    assert "](vae-samples.png)" in md and "| train negative ELBO |" in md


def test_a_missing_samples_image_is_one_line(cli, trained, tmp_path):
    _, out, _ = trained
    metrics = json.loads((out / "m.json").read_text())
    metrics["samples"]["file"] = "gone.png"
    path = tmp_path / "m.json"
    path.write_text(json.dumps(metrics))
    result = cli("report", VAE, "--metrics", path, "-o", tmp_path / "r", "-f", "tex")
    assert result.exit_code == 2 and "no such samples image" in result.stderr
    assert not (tmp_path / "r").exists()
    (tmp_path / "gone.png").write_text("not a picture")
    result = cli("report", VAE, "--metrics", path, "-o", tmp_path / "r", "-f", "tex")
    assert result.exit_code == 2 and "not a PNG image" in result.stderr


def test_the_report_pdf_with_the_samples_builds(cli, trained, tmp_path):
    need_latex()
    _, out, _ = trained
    result = cli("report", VAE, *SMALL, "--metrics", out / "m.json", "-o", tmp_path)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "vae.pdf").stat().st_size > (out / "grid.png").stat().st_size
