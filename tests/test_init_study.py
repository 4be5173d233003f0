"""derive init-study: the statistics against a direct NumPy loop, the lecture's five conclusions
(seed 001, lecture 4), the command line, the PDF, and bad input."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import need_latex

from derive import initstudy
from derive.errors import DeriveError
from derive.initstudy import LECTURE, experiments, propagate, run, trend
from derive.render.initstudy import conclusion, number, percent
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
    assert study.weight_std == pytest.approx(np.sqrt(0.1))
    assert run(3, 20, "relu", "he", batch=30, seed=3) == study  # same seed, same numbers
    assert run(3, 20, "relu", "he", batch=30, seed=4) != study


def test_weight_standard_deviations():
    stds = {name: f(500) for name, f in initstudy.INITS.items()}
    assert stds == pytest.approx(
        {"small": 0.01, "large": 1.0, "xavier": 500**-0.5, "he": (2 / 500) ** 0.5}
    )


# --- the lecture's conclusions --------------------------------------------------------------
LECTURE_KINDS = {
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
    else:
        quoted = [number(t.first.std, "text"), number(t.last.std, "text")]
    assert all(q in sentence for q in quoted), (quoted, sentence)
    assert "layer 10" in sentence


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


def test_an_unusual_combination_gets_a_true_statement():
    study = run(10, 100, "relu", "large", batch=50, seed=1)
    t = trend(study)
    assert t.kind == "explode" and t.ratio > 1e6
    assert conclusion(study).startswith("The activations explode with depth")
    tanh_he = run(10, 100, "tanh", "he", batch=50, seed=1)
    assert trend(tanh_he).kind == "healthy"


def test_experiments_chosen_by_the_options():
    assert experiments(None, None) == list(LECTURE)
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
    assert lines[1].split() == ["layer", "mean", "std", "a", "=", "0"]
    study = run(4, 60, "relu", "xavier", batch=30, seed=0)
    row = lines[2].split()
    assert row[:3] == ["1", number(study.stats[0].mean, "text"), number(study.stats[0].std, "text")]
    assert conclusion(study) in lines
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


def test_cli_without_choice_runs_the_five_experiments(cli, tmp_path):
    result = cli("init-study", *SMALL_RUN, "--format", "tex", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("The activations") == 5
    tex = (tmp_path / "init-study.tex").read_text()
    assert tex.count(r"\section{") == 5 and tex.count(r"\begin{groupplot}") == 5
    assert tex.count(r"\nextgroupplot") == 5 * 4
    cli("init-study", *SMALL_RUN, "--format", "tex", "-o", tmp_path / "again")
    assert (tmp_path / "again" / "init-study.tex").read_text() == tex  # same seed, same bytes


def test_pdf_builds(cli, tmp_path):
    need_latex()
    # ReLU: the panels' notes and the caption of the shared axis; five layers fill a row
    args = ("--activation", "relu", "--init", "he", "--layers", "5", "--width", "60")
    result = cli("init-study", *args, "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "init-study-relu-he.pdf").read_bytes().startswith(b"%PDF")
    compile_pdf(tmp_path / "init-study-relu-he.tex", tmp_path / "build")
    log = (tmp_path / "build" / "init-study-relu-he.log").read_text(errors="replace")
    assert "Overfull \\hbox" not in log and "undefined" not in log.lower()


@pytest.mark.parametrize(
    "args, words",
    [
        (("--layers", "0"), "--layers 0"),
        (("--width", "-3"), "--width -3"),
        (("--activation", "sigmoid"), "unknown activation 'sigmoid'"),
        (("--init", "zeros"), "unknown initialisation 'zeros'"),
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
