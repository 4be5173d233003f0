"""The initialisation study of lecture 4 (seed 001): N(0, 1) data forwarded through a deep
fully-connected network, and the activations of every layer summarised.

The numerics only: :func:`run` draws the data and the weights, :func:`propagate` is the pure
function that forwards given arrays and measures every layer, and :func:`trend` reads what happened
off the statistics, so an unusual combination (ReLU with N(0, 1) weights) is described as truly as
the lecture's five. Writing it up is derive/render/initstudy.py's job.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from derive.errors import DeriveError

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "relu": lambda s: np.maximum(s, 0.0),
}

#: The standard deviation of the weights as a function of the fan-in, per initialisation. small is
#: the lecture's "small random numbers" N(0, 0.01^2); xavier is N(0, 1/n_in) (the lecture writes
#: 1/sqrt(500), the standard deviation); he is N(0, 2/n_in), which makes up for ReLU halving the
#: second moment.
INITS: dict[str, Callable[[int], float]] = {
    "small": lambda fan_in: 0.01,
    "large": lambda fan_in: 1.0,
    "xavier": lambda fan_in: 1.0 / math.sqrt(fan_in),
    "he": lambda fan_in: math.sqrt(2.0 / fan_in),
}

#: The lecture's experiments, in its order (ReLU + He is its remedy for ReLU + Xavier).
LECTURE: tuple[tuple[str, str], ...] = (
    ("tanh", "small"),
    ("tanh", "large"),
    ("tanh", "xavier"),
    ("relu", "xavier"),
    ("relu", "he"),
)

BINS = 41  # odd, so that a bin is centred on 0 and a collapse to zero shows as one bar
SATURATED = 0.99  # |tanh| above this: tanh' = 1 - tanh^2 < 0.02, the gradient barely passes
TAIL = 99.9  # the ReLU axes end at this percentile of the positive activations (of any layer)

# Limits that keep a mistyped option from exhausting memory (every layer's activations are kept
# until the shared ReLU axis is known) or the figure from running off the page.
MAX_LAYERS = 30
MAX_WIDTH = 4000
MAX_ELEMENTS = 20_000_000  # layers x batch x width, 160 MB of float64


# --- results ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Histogram:
    """Bars over ``edges`` (one more edge than heights); a height is the fraction of all of the
    layer's activations that fall in the bar, so ReLU's exact zeros (not drawn) and values beyond
    the axis (``beyond``) make the bars sum to less than one."""

    edges: tuple[float, ...]
    heights: tuple[float, ...]
    beyond: float


@dataclass(frozen=True)
class LayerStats:
    layer: int  # 1 for the first hidden layer
    mean: float
    std: float
    saturated: float  # fraction with |a| > SATURATED (meaningful for tanh)
    zero: float  # fraction exactly zero (ReLU's dead units for this batch)
    histogram: Histogram


@dataclass(frozen=True)
class Study:
    activation: str
    init: str
    layers: int
    width: int
    batch: int
    seed: int
    weight_std: float
    stats: tuple[LayerStats, ...]


@dataclass(frozen=True)
class Trend:
    """What the statistics say, for the conclusion sentence: ``kind`` is one of collapse (the
    activations vanish), shrink (they fall steadily with depth), explode, saturate (tanh pinned at
    +-1) or healthy."""

    kind: str
    first: LayerStats
    last: LayerStats
    ratio: float  # std of the last layer / std of the first
    per_layer: float  # the geometric mean factor of the std from one layer to the next


# --- numerics -----------------------------------------------------------------------------
def check(layers: int, width: int, activation: str, init: str, batch: int) -> None:
    """A DeriveError for any option out of range, before anything is drawn or written."""
    if activation not in ACTIVATIONS:
        raise DeriveError(f"unknown activation {activation!r}: use {' or '.join(ACTIVATIONS)}")
    if init not in INITS:
        raise DeriveError(f"unknown initialisation {init!r}: use {', '.join(INITS)}")
    if not 1 <= layers <= MAX_LAYERS:
        raise DeriveError(f"--layers {layers}: give 1 to {MAX_LAYERS} layers")
    if not 1 <= width <= MAX_WIDTH:
        raise DeriveError(f"--width {width}: give 1 to {MAX_WIDTH} units per layer")
    if batch < 1:
        raise DeriveError(f"--batch {batch}: give at least 1 sample")
    if layers * batch * width > MAX_ELEMENTS:
        raise DeriveError(
            f"--layers {layers} x --batch {batch} x --width {width} is "
            f"{layers * batch * width:,} activations: keep it under {MAX_ELEMENTS:,}"
        )


def experiments(activation: str | None, init: str | None) -> list[tuple[str, str]]:
    """Both given: that one experiment. One given: the lecture's experiments with it (--init he:
    ReLU + He). Neither: all five."""
    if activation is not None and init is not None:
        return [(activation, init)]
    chosen = [(a, i) for a, i in LECTURE if activation in (None, a) and init in (None, i)]
    if chosen:
        return chosen
    # only an unknown name matches nothing: run it, and let check() word the error
    return [(activation or "tanh", init or "xavier")]


def run(layers: int, width: int, activation: str, init: str, batch: int = 1000,
        seed: int = 0) -> Study:  # fmt: skip
    """Draw N(0, 1) data (batch x width) and the weights (out x in) from ``seed``, and forward.

    The data is drawn first, then the layers' standard-normal draws scaled by the init's standard
    deviation, so every experiment with one seed sees the same data and the same weight
    directions: the experiments differ in scale and activation only."""
    check(layers, width, activation, init, batch)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width))
    std = INITS[init](width)
    weights = (std * rng.standard_normal((width, width)) for _ in range(layers))
    stats = propagate(x, weights, activation)
    return Study(activation, init, layers, width, batch, seed, std, stats)


def propagate(
    x: np.ndarray, weights: Iterable[np.ndarray], activation: str
) -> tuple[LayerStats, ...]:
    """Forward ``x`` (samples as rows) through a_l = f(W_l a_{l-1}), no biases, and measure every
    layer. ``weights`` may be a generator, so only one matrix is held at a time."""
    f = ACTIVATIONS[activation]
    outputs = []
    a = x
    for w in weights:
        a = f(a @ w.T)
        outputs.append(measure(a))
    # the ReLU axes are shared by all layers, so that shrinking (or growth) is seen, not rescaled
    top = 1.0 if activation == "tanh" else _relu_top([o[1] for o in outputs])
    return tuple(
        LayerStats(k, *stats, histogram=histogram(sample, activation, top))
        for k, (stats, sample) in enumerate(outputs, start=1)
    )


def measure(a: np.ndarray) -> tuple[tuple[float, float, float, float], np.ndarray]:
    """(mean, std, fraction saturated, fraction zero), and the activations kept for the bars."""
    flat = a.ravel()
    stats = (
        float(flat.mean()),
        float(flat.std()),
        float(np.mean(np.abs(flat) > SATURATED)),
        float(np.mean(flat == 0.0)),
    )
    return stats, flat


def _relu_top(samples: Sequence[np.ndarray]) -> float:
    tops = [np.percentile(s[s > 0], TAIL) for s in samples if np.any(s > 0)]
    top = max(tops, default=0.0)
    return float(top) if top > 0 else 1.0  # all dead: any axis will do


def histogram(a: np.ndarray, activation: str, top: float) -> Histogram:
    """tanh: [-1, 1]. ReLU: (0, top], the exact zeros left out (their fraction is reported)."""
    if activation == "tanh":
        lo, values = -1.0, a
    else:
        lo, values = 0.0, a[a > 0]
    counts, edges = np.histogram(values, bins=BINS, range=(lo, top))
    n = a.size
    beyond = float(np.sum(values > top)) / n
    return Histogram(tuple(map(float, edges)), tuple(float(c) / n for c in counts), beyond)


# --- reading the statistics ---------------------------------------------------------------
COLLAPSED = 1e-3  # a last-layer std below this (of unit-scale data) is "zero" for the lecture


def trend(study: Study) -> Trend:
    """Classify the run from its numbers; the thresholds are the lecture's qualitative words made
    concrete (a factor of ten over the depth is no longer "the same distribution")."""
    first, last = study.stats[0], study.stats[-1]
    ratio = last.std / first.std if first.std > 0 else math.nan
    steps = max(len(study.stats) - 1, 1)
    per_layer = ratio ** (1 / steps) if ratio == ratio and ratio > 0 else 0.0
    if study.activation == "tanh" and last.saturated >= 0.5:
        kind = "saturate"
    elif last.std < COLLAPSED:
        kind = "collapse"
    elif ratio < 0.1:
        kind = "shrink"
    elif ratio > 10:
        kind = "explode"
    else:
        kind = "healthy"
    return Trend(kind, first, last, ratio, per_layer)
