"""derive init-study: the statistics against a direct NumPy loop, the backward pass against central
differences and closed forms, the lecture's conclusions (seed 001, lecture 4) forward and back,
zero initialisation, the command line, the PDF, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import need_latex

from derive import initstudy
from derive.errors import DeriveError
from derive.initstudy import LECTURE, experiments, flow, gradients, propagate, run, trend
from derive.render.initstudy import (
    conclusion,
    flow_conclusion,
    layers_phrase,
    number,
    percent,
    render_md,
    render_tex,
    std_plot,
)
from derive.render.report import compile_pdf


# --- the numbers ----------------------------------------------------------------------------
def direct(x: np.ndarray, weights: list[np.ndarray], activation: str) -> list[dict]:
    """The same measurements written out plainly, layer by layer."""
    layers, a = [], x
    for w in weights:
        s = a @ w.T
        a = np.tanh(s) if activation == "tanh" else np.where(s > 0, s, 0.0)
        layers.append(a)
    if activation == "tanh":
        lo, top = -1.0, 1.0
    else:
        lo, top = 0.0, max(np.percentile(a[a > 0], 99.9) for a in layers)
    out = []
    for a in layers:
        drawn = a if activation == "tanh" else a[a > 0]
        counts, _ = np.histogram(drawn, bins=41, range=(lo, top))
        out.append(
            {
                "mean": a.mean(),
                "std": np.sqrt(((a - a.mean()) ** 2).mean()),
                "saturated": np.count_nonzero(np.abs(a) > 0.99) / a.size,
                "zero": np.count_nonzero(a == 0) / a.size,
                "heights": counts / a.size,
                "beyond": np.count_nonzero(drawn > top) / a.size,
            }
        )
    return out


@pytest.mark.parametrize("activation, scale", [("tanh", 1.0), ("tanh", 0.05), ("relu", 0.12)])
def test_statistics_match_a_direct_computation(activation, scale):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(60, 40))
    weights = [scale * rng.normal(size=(40, 40)) for _ in range(4)]
    stats = propagate(x, iter(weights), activation)
    expected = direct(x, weights, activation)
    assert [s.layer for s in stats] == [1, 2, 3, 4]
    for s, e in zip(stats, expected, strict=True):
        assert s.mean == pytest.approx(e["mean"], rel=1e-12, abs=1e-15)
        assert s.std == pytest.approx(e["std"], rel=1e-12)
        assert s.saturated == e["saturated"] and s.zero == e["zero"]
        np.testing.assert_allclose(s.histogram.heights, e["heights"], rtol=1e-12)
        assert s.histogram.beyond == pytest.approx(e["beyond"])
        assert len(s.histogram.edges) == len(s.histogram.heights) + 1 == 42
    if activation == "relu":  # the exact zeros are not drawn: bars + zeros + beyond = 1
        for s in stats:
            drawn = sum(s.histogram.heights) + s.zero + s.histogram.beyond
            assert drawn == pytest.approx(1.0)
            assert s.histogram.edges[0] == 0.0
    else:
        assert all(s.histogram.edges[::41] == (-1.0, 1.0) for s in stats)
        assert all(sum(s.histogram.heights) == pytest.approx(1.0) for s in stats)


def test_run_draws_data_then_weights_from_the_seed():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((30, 20))
    weights = [np.sqrt(2 / 20) * rng.standard_normal((20, 20)) for _ in range(3)]
    study = run(3, 20, "relu", "he", batch=30, seed=3)
    assert study.stats == propagate(x, weights, "relu")
    # the upstream gradient is drawn after the weights, so the forward draws are as before
    assert study.gradients == gradients(x, weights, "relu", rng.standard_normal((30, 20)))
    assert study.weight_std == pytest.approx(np.sqrt(0.1))
    assert run(3, 20, "relu", "he", batch=30, seed=3) == study  # same seed, same numbers
    assert run(3, 20, "relu", "he", batch=30, seed=4) != study


def test_weight_standard_deviations():
    stds = {name: f(500) for name, f in initstudy.INITS.items()}
    assert stds == pytest.approx(
        {"zero": 0.0, "small": 0.01, "large": 1.0, "xavier": 500**-0.5, "he": (2 / 500) ** 0.5}
    )


# --- the backward pass ----------------------------------------------------------------------
def forward_from(a: np.ndarray, weights: list[np.ndarray], activation: str) -> np.ndarray:
    """The top layer's activations from ``a`` through ``weights``, written out plainly."""
    for w in weights:
        s = a @ w.T
        a = np.tanh(s) if activation == "tanh" else np.where(s > 0, s, 0.0)
    return a


def central_differences(x, weights, activation, g, eps=1e-6):
    """dL/dW_l and dL/da_l of L = sum(g * a_L) by central differences of L itself, layer 1 first:
    every weight entry nudged by +-eps, and every activation a_l nudged by +-eps with the rest of
    the network forwarded from there."""

    def loss(a, ws):
        return float(np.sum(g * forward_from(a, ws, activation)))

    grads_w, grads_a = [], []
    for l in range(len(weights)):
        d = np.zeros_like(weights[l])
        for idx in np.ndindex(*weights[l].shape):
            nudged = [w.copy() for w in weights]
            nudged[l][idx] += eps
            up = loss(x, nudged)
            nudged[l][idx] -= 2 * eps
            d[idx] = (up - loss(x, nudged)) / (2 * eps)
        grads_w.append(d)
        a_l = forward_from(x, weights[: l + 1], activation)
        da = np.zeros_like(a_l)
        for idx in np.ndindex(*a_l.shape):
            shifted = a_l.copy()
            shifted[idx] += eps
            up = loss(shifted, weights[l + 1 :])
            shifted[idx] -= 2 * eps
            da[idx] = (up - loss(shifted, weights[l + 1 :])) / (2 * eps)
        grads_a.append(da)
    return grads_w, grads_a


def moments(a: np.ndarray) -> tuple[float, float, float]:
    return a.mean(), np.sqrt(((a - a.mean()) ** 2).mean()), np.abs(a).max()


@pytest.mark.parametrize("activation, scale", [("tanh", 0.9), ("tanh", 3.0), ("relu", 0.8)])
def test_backward_matches_central_differences(activation, scale):
    rng = np.random.default_rng(16)
    x = rng.normal(size=(5, 4))
    weights = [scale * rng.normal(size=(4, 4)) for _ in range(3)]
    g = rng.normal(size=(5, 4))
    outputs = initstudy.forward(x, weights, activation)
    # away from ReLU's kink (a sample dead in every unit feeds s = 0 exactly to the next layer,
    # where the one-sided slopes differ and central differences give half of one)
    below = [x, *outputs[:-1]]
    assert min(np.abs(a @ w.T).min() for a, w in zip(below, weights)) > 1e-3
    steps = {l: (da, dw) for l, da, dw in initstudy.backward(x, outputs, weights, activation, g)}
    assert sorted(steps) == [1, 2, 3]
    numeric_w, numeric_a = central_differences(x, weights, activation, g)
    for l in (1, 2, 3):
        da, dw = steps[l]
        np.testing.assert_allclose(dw, numeric_w[l - 1], rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(da, numeric_a[l - 1], rtol=1e-6, atol=1e-8)
    # and the statistics are those of the central differences' arrays
    stats = gradients(x, weights, activation, g)
    assert [s.layer for s in stats] == [1, 2, 3]
    for s, dw, da in zip(stats, numeric_w, numeric_a, strict=True):
        assert (s.residual_mean, s.residual_std, s.residual_max) == pytest.approx(
            moments(da), rel=1e-5, abs=1e-8
        )
        assert (s.weight_mean, s.weight_std, s.weight_max) == pytest.approx(
            moments(dw), rel=1e-5, abs=1e-8
        )
        spread = max(np.abs(dw[j] - dw[k]).max() for j in range(4) for k in range(4))
        assert s.spread == pytest.approx(spread, rel=1e-5)
    assert stats[-1].residual_std == pytest.approx(g.std())  # dL/da_L is the upstream gradient


def test_a_one_unit_chain_has_the_product_of_its_derivatives():
    """Width 1: a_l = f(w_l a_{l-1}), so dL/da_l = g prod_{k > l} w_k f'(s_k) and dL/dw_l =
    sum_i dL/da_l^i f'(s_l^i) a_{l-1}^i, here with the numbers multiplied out by hand."""
    x = np.array([[0.5], [-1.0]])
    g = np.array([[2.0], [1.0]])
    w = [0.5, -2.0]
    # ReLU on positive s is the identity: a_1 = 0.25 | 0 (s_1 = -0.5 is cut), a_2 = 0 | 0
    # tanh: a_1 = tanh(w_1 x), a_2 = tanh(w_2 a_1)
    a1 = np.tanh(0.5 * x[:, 0])
    a2 = np.tanh(-2.0 * a1)
    d2 = 1 - a2**2
    d1 = 1 - a1**2
    expect_residual_1 = g[:, 0] * d2 * -2.0
    expect_w2 = np.sum(g[:, 0] * d2 * a1)
    expect_w1 = np.sum(expect_residual_1 * d1 * x[:, 0])
    weights = [np.array([[v]]) for v in w]
    steps = {l: (da, dw) for l, da, dw in initstudy.backward(
        x, initstudy.forward(x, weights, "tanh"), weights, "tanh", g)}  # fmt: skip
    assert steps[2][1][0, 0] == pytest.approx(expect_w2, rel=1e-13)
    assert steps[1][1][0, 0] == pytest.approx(expect_w1, rel=1e-13)
    np.testing.assert_allclose(steps[1][0][:, 0], expect_residual_1, rtol=1e-13)
    # one unit: dL/dW_l is one number, whose size is its absolute value (its std is 0)
    stats = gradients(x, weights, "tanh", g)
    assert [s.weight_std for s in stats] == [0.0, 0.0]
    assert [s.weight_size for s in stats] == pytest.approx([abs(expect_w1), abs(expect_w2)])
    assert stats[0].residual_size == pytest.approx(np.std(expect_residual_1))
    # ReLU with positive weights and data is linear: a_2 = 0.5 * 3 * x, dL/dw_1 = sum g 3 x = 7.5,
    # dL/dw_2 = sum g a_1 = 2 * 0.25 + 1 * 1 = 1.5, dL/da_1 = 3 g
    x, weights = np.array([[0.5], [2.0]]), [np.array([[0.5]]), np.array([[3.0]])]
    steps = {l: (da, dw) for l, da, dw in initstudy.backward(
        x, initstudy.forward(x, weights, "relu"), weights, "relu", g)}  # fmt: skip
    assert steps[1][1][0, 0] == pytest.approx(2 * 3 * 0.5 + 1 * 3 * 2.0)
    assert steps[2][1][0, 0] == pytest.approx(1.5)
    np.testing.assert_allclose(steps[1][0][:, 0], [6.0, 3.0])
    # a negative weight cuts sample 2 at layer 1: its gradients are exactly 0 below the cut
    weights = [np.array([[-0.5]]), np.array([[3.0]])]
    x = np.array([[-1.0], [2.0]])  # s_1 = 0.5 | -1: sample 1 passes, sample 2 is cut
    steps = {l: (da, dw) for l, da, dw in initstudy.backward(
        x, initstudy.forward(x, weights, "relu"), weights, "relu", g)}  # fmt: skip
    assert steps[1][1][0, 0] == pytest.approx(2 * 3 * -1.0)  # sample 1 only
    assert steps[2][1][0, 0] == pytest.approx(2 * 0.5)


def test_linear_regime_orthogonal_weights_keep_the_residual_norm():
    """Permutation matrices (orthogonal) on positive data: ReLU passes everything, the network is
    linear, and dL/da_l = g P_L ... P_{l+1} holds the entries of g, permuted: the same mean and
    std in every layer, and every ||dL/dW_l|| = ||g^T x||."""
    rng = np.random.default_rng(5)
    x = np.abs(rng.normal(size=(6, 5))) + 0.1  # positive: ReLU passes everything
    perms = [np.eye(5)[rng.permutation(5)] for _ in range(4)]
    g = rng.normal(size=(6, 5))
    stats = gradients(x, perms, "relu", g)
    for s in stats:
        assert s.residual_std == pytest.approx(g.std(), rel=1e-12)
        assert s.residual_mean == pytest.approx(g.mean(), rel=1e-12)
    # dL/dW_l = g_l^T x_{l-1} with g_l and x_{l-1} permuted copies: same sum of squares
    expected = np.linalg.norm(g.T @ x)
    outputs = initstudy.forward(x, perms, "relu")
    for _, _, dw in initstudy.backward(x, outputs, perms, "relu", g):
        assert np.linalg.norm(dw) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_zero_weights(activation):
    study = run(4, 30, activation, "zero", batch=20, seed=2)
    rng = np.random.default_rng(2)
    rng.standard_normal((20, 30))
    for _ in range(4):
        rng.standard_normal((30, 30))
    g = rng.standard_normal((20, 30))
    assert all(s.mean == 0 and s.std == 0 and s.zero == 1.0 for s in study.stats)
    below, top = study.gradients[:-1], study.gradients[-1]
    assert all(b.residual_max == 0 and b.residual_std == 0 for b in below)
    assert top.residual_std == pytest.approx(g.std())
    assert top.residual_mean == pytest.approx(g.mean())
    assert all(b.weight_max == 0 and b.weight_std == 0 and b.spread == 0 for b in study.gradients)
    assert trend(study).kind == "zero"
    f = flow(study)
    assert f.kind == "dead" and f.symmetric and f.silent == (1, 2, 3) and f.still == (1, 2, 3, 4)
    sentence = flow_conclusion(study)
    assert sentence.startswith("No weight gets a gradient: dL/dW_l is exactly 0 in all 4 layers")
    assert "every layer below layer 4" in sentence and "never broken" in sentence
    assert "all 30 units" in sentence
    # no NaN or infinity in the write-ups; the zeros are drawn on the log axis's bottom edge
    for text in (render_tex([study]), render_md([study])):
        assert "nan" not in text.lower() and "inf" not in text.lower().replace("\\inf", "")
    plot = std_plot(study)
    low = int(np.floor(np.log10(top.residual_std))) - 1  # a decade below the only positive std
    assert plot.zeros and plot.ymin == f"1e{low}" and 10.0**low < top.residual_std / 10
    floor = f"{10.0**low:g}"
    activations, residual, weights = plot.series
    assert activations.coordinates == "" and weights.coordinates == ""
    assert residual.coordinates == f"(4,{top.residual_std:.6g})"
    assert residual.zeros == f"(1,{floor}) (2,{floor}) (3,{floor})"
    # side by side at each layer, so that no line's zero hides another's
    assert activations.zeros.startswith(f"(0.8,{floor}) (1.8,{floor})")
    assert weights.zeros.endswith(f"(4.2,{floor})")


def test_one_layer_of_zero_weights_gets_the_gradient_of_its_input():
    """With one layer, dL/dW_1 = (g * tanh'(0))^T x = g^T x: not zero and not symmetric."""
    study = run(1, 8, "tanh", "zero", batch=10, seed=0)
    f = flow(study)
    assert f.kind != "dead" and not f.symmetric and study.gradients[0].weight_max > 0
    assert "never broken" not in flow_conclusion(study)


def test_symmetry_is_not_claimed_of_random_weights_nor_of_one_unit():
    assert not flow(run(3, 20, "tanh", "xavier", batch=10)).symmetric
    one = run(3, 1, "tanh", "zero", batch=10)
    assert not flow(one).symmetric and "never broken" not in flow_conclusion(one)
    chain = run(3, 1, "tanh", "large", batch=10)
    sentence = flow_conclusion(chain)
    assert "one entry per layer" in sentence and "standard deviation of the weight" not in sentence
    sizes = [abs(g.weight_mean) for g in chain.gradients]
    f = flow(chain)
    assert (f.weight_low, f.weight_high) == (min(sizes), max(sizes)) and f.weight_low > 0


def test_layers_are_named_in_words():
    assert layers_phrase((1, 2, 3), 3) == "all 3 layers"
    assert layers_phrase((1, 2, 3), 4) == "layers 1 to 3"
    assert layers_phrase((2, 5, 7), 9) == "layers 2, 5 and 7"
    assert layers_phrase((4,), 9) == "layer 4" and layers_phrase((1,), 1) == "its one layer"


# --- the lecture's conclusions --------------------------------------------------------------
LECTURE_KINDS = {
    ("tanh", "zero"): ("zero", "Every activation is exactly 0"),
    ("tanh", "small"): ("collapse", "collapse to zero"),
    ("tanh", "large"): ("saturate", "saturate at +-1"),
    ("tanh", "xavier"): ("healthy", "stay healthy"),
    ("relu", "xavier"): ("shrink", "shrink with depth"),
    ("relu", "he"): ("healthy", "stay healthy"),
}


@pytest.fixture(scope="module")
def lecture() -> dict[tuple[str, str], initstudy.Study]:
    return {(a, i): run(10, 500, a, i, batch=200, seed=0) for a, i in LECTURE}


@pytest.mark.parametrize("combination", LECTURE)
def test_the_lecture_conclusions(lecture, combination):
    study = lecture[combination]
    kind, words = LECTURE_KINDS[combination]
    t = trend(study)
    assert t.kind == kind
    sentence = conclusion(study)
    assert words in sentence
    # the sentence quotes the measured numbers, not a stock phrase
    if kind == "saturate":
        quoted = [percent(t.last.saturated, "text"), percent(t.first.saturated, "text")]
    elif kind == "zero":
        quoted = ["100%", "200 x 500", "all 10 layers", "all 500 units"]
    else:
        quoted = [number(t.first.std, "text"), number(t.last.std, "text")]
    assert all(q in sentence for q in quoted), (quoted, sentence)
    assert "layer 10" in sentence or kind == "zero"


def test_the_lecture_numbers(lecture):
    first = {c: s.stats[0].std for c, s in lecture.items()}
    last = {c: s.stats[-1].std for c, s in lecture.items()}
    assert last["tanh", "small"] < 1e-6  # "all activations become zero at the layers > 2"
    assert lecture["tanh", "large"].stats[-1].saturated > 0.85  # "almost all saturated"
    assert 0.15 < last["tanh", "xavier"] < 0.35 and 0.55 < first["tanh", "xavier"] < 0.7
    # ReLU halves the second moment under Xavier: about 1/sqrt(2) per layer
    assert trend(lecture["relu", "xavier"]).per_layer == pytest.approx(2**-0.5, abs=0.03)
    assert 0.8 < last["relu", "he"] / first["relu", "he"] < 1.25
    for combination in [("relu", "xavier"), ("relu", "he")]:
        assert all(0.45 < s.zero < 0.55 for s in lecture[combination].stats)


FLOW_KINDS = {
    ("tanh", "zero"): ("dead", "No weight gets a gradient"),
    ("tanh", "small"): ("vanish", "The gradient vanishes on its way down"),
    ("tanh", "large"): ("explode", "The gradient explodes on its way down"),
    ("tanh", "xavier"): ("steady", "The gradient flows back steadily"),
    ("relu", "xavier"): ("vanish", "The gradient vanishes on its way down"),
    ("relu", "he"): ("steady", "The gradient flows back steadily"),
}


@pytest.mark.parametrize("combination", LECTURE)
def test_the_lecture_gradients(lecture, combination):
    study = lecture[combination]
    kind, words = FLOW_KINDS[combination]
    f = flow(study)
    assert f.kind == kind
    sentence = flow_conclusion(study)
    assert sentence.startswith(words)
    if kind != "dead":  # the sentence quotes the measured numbers
        quoted = [number(f.top.residual_std, "text"), number(f.bottom.residual_std, "text"),
                  number(f.weight_low, "text"), number(f.weight_high, "text")]  # fmt: skip
        assert all(q in sentence for q in quoted), (quoted, sentence)
        assert "at layer 10" in sentence and "never broken" not in sentence
    if combination == ("tanh", "large"):
        assert "saturated" in sentence


def test_the_lecture_gradient_numbers(lecture):
    top = {c: s.gradients[-1].residual_std for c, s in lecture.items()}
    bottom = {c: s.gradients[0].residual_std for c, s in lecture.items()}
    assert all(0.95 < v < 1.05 for v in top.values())  # the upstream gradient is N(0, 1)
    # tanh + small: in the linear regime each layer multiplies the residual by about
    # 0.01 sqrt(500) = 0.224 on the way down
    assert flow(lecture["tanh", "small"]).per_layer == pytest.approx(0.01 * 500**0.5, rel=0.03)
    assert bottom["tanh", "small"] < 1e-5
    # ReLU + Xavier: about 1/sqrt(2) per layer, as forward; ReLU + He keeps it
    assert flow(lecture["relu", "xavier"]).per_layer == pytest.approx(2**-0.5, abs=0.03)
    assert 0.8 < bottom["relu", "he"] < 1.25 and 0.2 < bottom["tanh", "xavier"] < 0.6
    assert bottom["tanh", "large"] > 1e3
    # the weight gradients: all layers within a factor of two, except for N(0, 1) + tanh
    for c in [("tanh", "small"), ("tanh", "xavier"), ("relu", "xavier"), ("relu", "he")]:
        f = flow(lecture[c])
        assert f.weight_high < 2 * f.weight_low
    zero = lecture["tanh", "zero"]
    assert all(g.weight_max == 0 for g in zero.gradients)


def test_an_unusual_combination_gets_a_true_statement():
    study = run(10, 100, "relu", "large", batch=50, seed=1)
    t = trend(study)
    assert t.kind == "explode" and t.ratio > 1e6
    assert conclusion(study).startswith("The activations explode with depth")
    tanh_he = run(10, 100, "tanh", "he", batch=50, seed=1)
    assert trend(tanh_he).kind == "healthy"


def test_experiments_chosen_by_the_options():
    assert experiments(None, None) == list(LECTURE) and len(LECTURE) == 6
    assert experiments(None, "zero") == [("tanh", "zero")]
    assert experiments("relu", None) == [("relu", "xavier"), ("relu", "he")]
    assert experiments(None, "xavier") == [("tanh", "xavier"), ("relu", "xavier")]
    assert experiments(None, "he") == [("relu", "he")]
    assert experiments("relu", "large") == [("relu", "large")]


def test_numbers_and_percentages():
    assert number(0.214, "text") == "0.214" and number(2.98e-7, "text") == "2.98e-07"
    assert number(2.98e-7, "tex") == r"$2.98 \times 10^{-7}$"
    assert percent(0.0004, "text") == "<0.1%" and percent(0.0, "tex") == r"0\%"
    assert percent(0.5153, "text") == "51.5%"


# --- the command line ---------------------------------------------------------------------
SMALL_RUN = ("--layers", "4", "--width", "60", "--batch", "30")


def test_cli_one_experiment_prints_the_table_and_writes_markdown(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("init-study", "--activation", "relu", "--init", "xavier", *SMALL_RUN,
                 "--format", "md", "-o", out)  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ReLU, Xavier initialisation, W ~ N(0, 1/n_in): 4 layers of 60")
    assert lines[1].split() == ["layer", "mean", "std", "a=0", "std(dL/da)", "std(dL/dW)"]
    study = run(4, 60, "relu", "xavier", batch=30, seed=0)
    row = lines[2].split()
    assert row[:3] == ["1", number(study.stats[0].mean, "text"), number(study.stats[0].std, "text")]
    g = study.gradients[0]
    assert row[4:] == [number(g.residual_std, "text"), number(g.weight_std, "text")]
    assert conclusion(study) in lines and flow_conclusion(study) in lines
    assert sorted(p.name for p in out.iterdir()) == [
        "init-study-relu-xavier.md",
        "init-study-relu-xavier.tex",
    ]
    assert lines[-2:] == [
        str(out / "init-study-relu-xavier.tex"),
        str(out / "init-study-relu-xavier.md"),
    ]
    md = (out / "init-study-relu-xavier.md").read_text()
    assert "## ReLU, Xavier initialisation" in md and conclusion(study, "md") in md
    assert flow_conclusion(study, "md") in md


def test_cli_without_choice_runs_the_five_experiments(cli, tmp_path):
    result = cli("init-study", *SMALL_RUN, "--format", "tex", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("The activations") + result.stdout.count("Every activation") == 6
    assert result.stdout.count("No weight gets a gradient") == 1
    assert result.stdout.count("The gradient ") == 5
    tex = (tmp_path / "init-study.tex").read_text()
    assert tex.count(r"\section{") == 6 and tex.count(r"\begin{groupplot}") == 6
    assert tex.count(r"\nextgroupplot") == 6 * 4 and tex.count(r"\begin{semilogyaxis}") == 6
    cli("init-study", *SMALL_RUN, "--format", "tex", "-o", tmp_path / "again")
    assert (tmp_path / "again" / "init-study.tex").read_text() == tex  # same seed, same bytes


@pytest.mark.parametrize("activation, init", [("relu", "he"), ("tanh", "zero")])
def test_pdf_builds(cli, tmp_path, activation, init):
    need_latex()
    # ReLU: the panels' notes and the caption of the shared axis; five layers fill a row.
    # zero: the exact zeros on the log axis
    args = ("--activation", activation, "--init", init, "--layers", "5", "--width", "60")
    result = cli("init-study", *args, "-o", tmp_path)
    assert result.exit_code == 0, result.output
    name = f"init-study-{activation}-{init}"
    assert (tmp_path / f"{name}.pdf").read_bytes().startswith(b"%PDF")
    compile_pdf(tmp_path / f"{name}.tex", tmp_path / "build")
    log = (tmp_path / "build" / f"{name}.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log and "undefined" not in log.lower()


@pytest.mark.parametrize(
    "args, words",
    [
        (("--layers", "0"), "--layers 0"),
        (("--width", "-3"), "--width -3"),
        (("--activation", "sigmoid"), "unknown activation 'sigmoid'"),
        (("--init", "zeros"), "unknown initialisation 'zeros'"),
        (("--layers", "30", "--width", "900", "--batch", "10"), "weights: keep it under"),
        (("--activation", "relu", "--init", "glorot"), "unknown initialisation 'glorot'"),
        (("--batch", "0"), "--batch 0"),
        (("--layers", "30", "--width", "4000", "--batch", "1000"), "keep it under"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, tmp_path, args, words):
    out = tmp_path / "out"
    result = cli("init-study", *args, "-o", out)
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("derive: error: ") and words in lines[0]
    assert not out.exists()


def test_check_rejects_before_drawing():
    with pytest.raises(DeriveError, match="give 1 to"):
        run(0, 10, "tanh", "xavier")
