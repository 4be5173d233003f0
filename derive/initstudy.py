"""The initialisation study of lecture 4 (seed 001): N(0, 1) data forwarded through a deep
fully-connected network, the activations of every layer summarised, and a gradient propagated back
from the top, its size summarised layer by layer.

The numerics only: :func:`run` draws the data, the weights and the upstream gradient;
:func:`propagate` is the pure function that forwards given arrays and measures every layer,
:func:`backward` the one that backpropagates L = sum_i g^i . a_L^i (g^i the upstream gradient of
sample i) and :func:`gradients` measures what it gives; :func:`trend` and :func:`flow` read what
happened off the statistics, so an unusual combination (ReLU with N(0, 1) weights) is described as
truly as the lecture's. Writing it up is derive/render/initstudy.py's job.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from derive.errors import DeriveError

ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": np.tanh,
    "relu": lambda s: np.maximum(s, 0.0),
}

#: The activation's derivative written in terms of its output a = f(s), which is all the backward
#: pass keeps: tanh' = 1 - a^2; ReLU' = Ind(s > 0) = Ind(a > 0), 0 at s = 0 as in the lecture's
#: backward pass (diag(Ind(s > 0))).
DERIVATIVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "tanh": lambda a: 1.0 - a * a,
    "relu": lambda a: (a > 0).astype(float),
}

#: The standard deviation of the weights as a function of the fan-in, per initialisation. zero is
#: the lecture's "What happens when you initialize each weight matrix entry to zero?"; small is
#: the lecture's "small random numbers" N(0, 0.01^2); xavier is N(0, 1/n_in) (the lecture writes
#: 1/sqrt(500), the standard deviation); he is N(0, 2/n_in), which makes up for ReLU halving the
#: second moment.
INITS: dict[str, Callable[[int], float]] = {
    "zero": lambda fan_in: 0.0,
    "small": lambda fan_in: 0.01,
    "large": lambda fan_in: 1.0,
    "xavier": lambda fan_in: 1.0 / math.sqrt(fan_in),
    "he": lambda fan_in: math.sqrt(2.0 / fan_in),
}

#: The lecture's experiments, in its order (zero weights is its first question, ReLU + He its
#: remedy for ReLU + Xavier).
LECTURE: tuple[tuple[str, str], ...] = (
    ("tanh", "zero"),
    ("tanh", "small"),
    ("tanh", "large"),
    ("tanh", "xavier"),
    ("relu", "xavier"),
    ("relu", "he"),
)

BINS = 41  # odd, so that a bin is centred on 0 and a collapse to zero shows as one bar
SATURATED = 0.99  # |tanh| above this: tanh' = 1 - tanh^2 < 0.02, the gradient barely passes
TAIL = 99.9  # the ReLU axes end at this percentile of the positive activations (of any layer)

# Limits that keep a mistyped option from exhausting memory (every layer's activations and weights
# are kept for the backward pass) or the figure from running off the page.
MAX_LAYERS = 30
MAX_WIDTH = 4000
MAX_ELEMENTS = 20_000_000  # layers x batch x width, 160 MB of float64
MAX_WEIGHTS = 20_000_000  # layers x width x width


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
class GradientStats:
    """The backward pass at one layer: the residual dL/da_l (all batch x width entries, a_l the
    layer's output) and the weight gradient dL/dW_l (width x width)."""

    layer: int  # 1 for the first hidden layer
    residual_mean: float
    residual_std: float
    residual_max: float  # max |dL/da_l|: 0 exactly when no gradient reaches the layer
    weight_mean: float
    weight_std: float
    weight_max: float  # max |dL/dW_l|: 0 exactly when the layer's weights get no gradient
    spread: float  # the largest difference between two units' rows of dL/dW_l: 0 when every unit
    # of the layer gets the same gradient (trivially so for one unit)
    # the size the plot and the sentences follow: the std, or |the entry| of a one-entry array
    # (one unit: dL/dW_l is 1 x 1, whose std is 0 whatever it is)
    residual_size: float
    weight_size: float


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
    gradients: tuple[GradientStats, ...]  # layer 1 first, as stats


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


@dataclass(frozen=True)
class Flow:
    """What the backward statistics say: ``kind`` is one of dead (no weight gets any gradient),
    vanish (the residual falls by more than ten on its way down), explode (it grows by more than
    ten) or steady. The residual is followed from the top layer down to layer 1."""

    kind: str
    top: GradientStats  # the last layer, where the upstream gradient enters
    bottom: GradientStats  # layer 1
    ratio: float  # residual size at layer 1 / at the top (nan when the top's is 0)
    per_layer: float  # the geometric mean factor of the residual's size per layer down
    silent: tuple[int, ...]  # the layers whose residual is exactly 0
    still: tuple[int, ...]  # the layers whose weight gradient is exactly 0
    weight_low: float  # the smallest and largest size of dL/dW_l over the layers
    weight_high: float
    symmetric: bool  # more than one unit, and every layer's units get identical gradients


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
    if layers * width * width > MAX_WEIGHTS:
        raise DeriveError(
            f"--layers {layers} x --width {width} x --width {width} is "
            f"{layers * width * width:,} weights: keep it under {MAX_WEIGHTS:,}"
        )


def experiments(activation: str | None, init: str | None) -> list[tuple[str, str]]:
    """Both given: that one experiment. One given: the lecture's experiments with it (--init he:
    ReLU + He). Neither: all six."""
    if activation is not None and init is not None:
        return [(activation, init)]
    chosen = [(a, i) for a, i in LECTURE if activation in (None, a) and init in (None, i)]
    if chosen:
        return chosen
    # only an unknown name matches nothing: run it, and let check() word the error
    return [(activation or "tanh", init or "xavier")]


def run(layers: int, width: int, activation: str, init: str, batch: int = 1000,
        seed: int = 0) -> Study:  # fmt: skip
    """Draw N(0, 1) data (batch x width), the weights (out x in) and the upstream gradient
    (batch x width, N(0, 1)) from ``seed``; forward, and backpropagate.

    The data is drawn first, then the layers' standard-normal draws scaled by the init's standard
    deviation (zero too, to keep the stream), then the upstream gradient, so every experiment with
    one seed sees the same data, the same weight directions and the same upstream gradient: the
    experiments differ in scale and activation only."""
    check(layers, width, activation, init, batch)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, width))
    std = INITS[init](width)
    weights = [std * rng.standard_normal((width, width)) for _ in range(layers)]
    upstream = rng.standard_normal((batch, width))
    outputs = forward(x, weights, activation)
    stats = layer_stats(outputs, activation)
    grads = measure_gradients(backward(x, outputs, weights, activation, upstream))
    return Study(activation, init, layers, width, batch, seed, std, stats, grads)


def forward(x: np.ndarray, weights: Iterable[np.ndarray], activation: str) -> list[np.ndarray]:
    """a_1 .. a_L (samples as rows) of a_l = f(W_l a_{l-1}), a_0 = x, no biases."""
    f = ACTIVATIONS[activation]
    outputs, a = [], x
    for w in weights:
        a = f(a @ w.T)
        outputs.append(a)
    return outputs


Step = tuple[int, np.ndarray, np.ndarray]  # (l, dL/da_l, dL/dW_l)


def backward(x: np.ndarray, outputs: Sequence[np.ndarray], weights: Sequence[np.ndarray],
             activation: str, upstream: np.ndarray) -> Iterator[Step]:  # fmt: skip
    """Backpropagate L = sum_i g^i . a_L^i (``upstream`` holds the g^i as rows, so dL/da_L = g):
    yield (l, dL/da_l, dL/dW_l) from the top layer l = L down to 1, one layer at a time.

    With s_l = W_l a_{l-1}: dL/ds_l = dL/da_l * f'(s_l) (entrywise), dL/dW_l = sum_i
    dL/ds_l^i a_{l-1}^i^T, and dL/da_{l-1} = dL/ds_l W_l."""
    derivative = DERIVATIVES[activation]
    residual = upstream
    for l in range(len(weights), 0, -1):
        below = outputs[l - 2] if l > 1 else x
        local = residual * derivative(outputs[l - 1])
        yield l, residual, local.T @ below
        residual = local @ weights[l - 1]


def measure_gradients(steps: Iterable[Step]) -> tuple[GradientStats, ...]:
    """The statistics of every layer's residual and weight gradient, layer 1 first."""
    out = []
    for l, residual, weight in steps:
        spread = float(np.max(np.ptp(weight, axis=0)))  # over the units, per input
        out.append(GradientStats(l, *_moments(residual), *_moments(weight), spread,
                                 _size(residual), _size(weight)))  # fmt: skip
    return tuple(sorted(out, key=lambda g: g.layer))


def _size(a: np.ndarray) -> float:
    return float(a.std()) if a.size > 1 else float(np.abs(a).max())


def _moments(a: np.ndarray) -> tuple[float, float, float]:
    """mean, std, max |.|: all 0, never NaN, for an all-zero array."""
    return float(a.mean()), float(a.std()), float(np.max(np.abs(a)))


def gradients(x: np.ndarray, weights: Sequence[np.ndarray], activation: str,
              upstream: np.ndarray) -> tuple[GradientStats, ...]:  # fmt: skip
    """Forward ``x``, backpropagate ``upstream`` and measure every layer (layer 1 first)."""
    weights = list(weights)
    outputs = forward(x, weights, activation)
    return measure_gradients(backward(x, outputs, weights, activation, upstream))


def propagate(
    x: np.ndarray, weights: Iterable[np.ndarray], activation: str
) -> tuple[LayerStats, ...]:
    """Forward ``x`` (samples as rows) through a_l = f(W_l a_{l-1}), no biases, and measure every
    layer."""
    return layer_stats(forward(x, weights, activation), activation)


def layer_stats(outputs: Sequence[np.ndarray], activation: str) -> tuple[LayerStats, ...]:
    """Every layer's statistics and histogram."""
    outputs = [measure(a) for a in outputs]
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
    concrete (a factor of ten over the depth is no longer "the same distribution"). zero: every
    activation of every layer is exactly 0."""
    first, last = study.stats[0], study.stats[-1]
    ratio = last.std / first.std if first.std > 0 else math.nan
    steps = max(len(study.stats) - 1, 1)
    per_layer = ratio ** (1 / steps) if ratio == ratio and ratio > 0 else 0.0
    if all(s.zero == 1.0 for s in study.stats):
        kind = "zero"
    elif study.activation == "tanh" and last.saturated >= 0.5:
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


GROWTH = 10.0  # the residual changing by more than this over the depth has vanished or exploded


def flow(study: Study) -> Flow:
    """Classify the backward pass from its numbers, as :func:`trend` does the forward one."""
    grads = study.gradients
    top, bottom = grads[-1], grads[0]
    ratio = bottom.residual_size / top.residual_size if top.residual_size > 0 else math.nan
    steps = max(len(grads) - 1, 1)
    per_layer = ratio ** (1 / steps) if ratio == ratio and ratio > 0 else 0.0
    silent = tuple(g.layer for g in grads if g.residual_max == 0)
    still = tuple(g.layer for g in grads if g.weight_max == 0)
    if len(still) == len(grads):
        kind = "dead"
    elif ratio == ratio and ratio < 1 / GROWTH:
        kind = "vanish"
    elif ratio > GROWTH:
        kind = "explode"
    else:
        kind = "steady"
    stds = [g.weight_size for g in grads]
    symmetric = study.width > 1 and all(g.spread == 0 for g in grads)
    return Flow(kind, top, bottom, ratio, per_layer, silent, still, min(stds), max(stds),
                symmetric)  # fmt: skip
