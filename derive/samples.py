"""Samples of a trained generative network (a VAE): z ~ N(0, I) through the decoder.

The network tells what to sample: its noise input (``noise=True``, the VAE's eps) enters the
*latent* node (the first node that reads it: z = mu + sigma o eps), and the *decoder's output*
is the last per-sample node of the data's shape that depends on the latent (xhat). Sampling
puts z ~ N(0, I), the prior, in place of the latent and evaluates the decoder.

"With decoder noise" draws x ~ p(x | z) rather than showing its mean: the reconstruction term
c ||xhat - x||^2 of the loss is -log N(x; xhat, sigma^2 I) up to a constant, with
sigma^2 = 1 / (2 c) (sigma = 1 for the squared error 1/2 ||xhat - x||^2), so the noisy sample is
xhat + sigma n, n ~ N(0, I), clipped to [0, 1] for display. The grid shows both for the same z:
the means on the left, with decoder noise on the right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from derive.compile import compile_expressions, internal_shape
from derive.errors import DeriveError
from derive.expr import Expr, Leaf, Quantity, leaves, m
from derive.graph import Network
from derive.ops.algebra import Scale
from derive.ops.losses import SqNorm

GRID = 8  # 8 x 8 samples a panel
PAD = 2  # grey pixels around and between the samples
GAP = 8  # white pixels between the two panels
BACKGROUND, GAP_LEVEL = 0.5, 1.0


@dataclass(frozen=True)
class Decoder:
    """What sampling reads off the network."""

    data: Quantity  # x, the images
    noise: Quantity  # eps
    latent: Quantity  # z
    output: Quantity  # xhat, the decoder's mean
    sigma: float  # the decoder's standard deviation, from the reconstruction term

    def describe(self) -> str:
        return (
            f"{self.latent.name} ~ N(0, I) through the decoder to {self.output.name}; with "
            f"decoder noise, {self.output.name} + {self.sigma:g} n, n ~ N(0, I), clipped to "
            "[0, 1] (the Gaussian decoder of the squared-error reconstruction)"
        )


def _depends(net: Network, on: Quantity) -> set[str]:
    """The names of the nodes that depend on ``on``, directly or through other nodes."""
    found: set[str] = set()
    for q in net.nodes:
        if any(leaf.q == on or leaf.q.name in found for leaf in leaves(q.definition)):
            found.add(q.name)
    return found


def _walk(e: Expr):
    yield e
    for c in e.children:
        yield from _walk(c)


def _reconstruction_sigma(net: Network, output: Quantity, data: Quantity) -> float:
    """sigma of the Gaussian decoder that a term c ||output - data||^2 of the loss implies."""
    pair = {output, data}
    for q in net.nodes:
        for e in _walk(q.definition):
            if isinstance(e, Scale) and isinstance(e.e, SqNorm):
                if {leaf.q for leaf in leaves(e.e)} == pair and e.c.is_positive:
                    return math.sqrt(float(1 / (2 * e.c)))  # e.c: a SymPy number
    raise DeriveError(
        f"--samples: the loss compares {output.name} with {data.name} by no squared error "
        f"c ||{output.name} - {data.name}||^2, so derive does not know the decoder's noise "
        "(it samples the Gaussian decoder of a squared-error reconstruction)"
    )


def find_decoder(net: Network) -> Decoder:
    """The noise, latent and decoder output of ``net``, or a one-line DeriveError."""
    noise = [q for q in net.inputs if q.batched and q.content == "noise"]
    if not noise:
        raise DeriveError(
            f"--samples: {net.name} has no noise input, so nothing to sample (a VAE's eps, "
            "declared with net.input(..., noise=True), feeds the latent z)"
        )
    data = [q for q in net.inputs if q.batched and q.content == "real" and not q.target]
    if len(data) != 1:
        raise DeriveError(
            f"--samples: {net.name} has {len(data)} data inputs; sampling needs one (the images)"
        )
    eps, x = noise[0], data[0]
    readers = [q for q in net.nodes if any(leaf.q == eps for leaf in leaves(q.definition))]
    latent = next((q for q in readers if q.batched and q.shape == eps.shape), None)
    if latent is None:
        raise DeriveError(
            f"--samples: no node of {eps.name}'s shape reads the noise {eps.name}: {net.name} "
            "has no latent z = mu + sigma o eps to sample"
        )
    downstream = _depends(net, latent)
    outputs = [q for q in net.nodes if q.name in downstream and q.batched and q.shape == x.shape]
    if not outputs:
        raise DeriveError(
            f"--samples: no node of {x.name}'s shape depends on the latent {latent.name}: "
            f"{net.name} has no decoder to sample"
        )
    output = outputs[-1]
    return Decoder(x, eps, latent, output, _reconstruction_sigma(net, output, x))


def image_side(decoder: Decoder, sizes: dict) -> int:
    """The side of the square images that the data's vectors are (28 for d = 784)."""
    d = int(decoder.data.shape[0].subs(sizes))
    side = math.isqrt(d)
    if side * side != d:
        raise DeriveError(
            f"--samples: {decoder.data.name} has {d} entries, which is no square image "
            "(the grid shows n x n images: 784 = 28 x 28)"
        )
    return side


@dataclass(frozen=True)
class Samples:
    means: np.ndarray  # (n, d): the decoder's output at z ~ N(0, I)
    noisy: np.ndarray  # (n, d): with decoder noise, clipped to [0, 1]
    side: int
    decoder: Decoder


def draw_samples(net: Network, decoder: Decoder, params: dict[str, np.ndarray], sizes: dict,
                 seed: int = 0, n: int = GRID * GRID, fixed: dict | None = None,
                 running: dict | None = None) -> Samples:  # fmt: skip
    """``n`` samples from ``params`` (in the layout of the generated code, as the trainer
    keeps them) at ``sizes``: z and the decoder noise from ``default_rng([seed, 2])``."""
    side = image_side(decoder, sizes)
    rng = np.random.default_rng([seed, 2])
    at = {**sizes, m: n}
    z = rng.normal(size=internal_shape(decoder.latent, at))
    inputs = {q.name: np.zeros(internal_shape(q, at)) for q in net.inputs if q.batched}
    values = {**inputs, **(fixed or {}), **params, **(running or {}), decoder.latent.name: z}
    fn = compile_expressions(net, {"out": Leaf(decoder.output)}, overridable=True)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = fn(values, {**{str(k): int(v) for k, v in sizes.items() if k != m}, "m": n})
    means = np.asarray(out["out"], dtype=float).reshape(n, -1)
    noisy = np.clip(means + decoder.sigma * rng.normal(size=means.shape), 0.0, 1.0)
    return Samples(means, noisy, side, decoder)


def tile(images: np.ndarray, side: int, grid: int = GRID) -> np.ndarray:
    """``grid`` x ``grid`` images (each a row of side * side values) in one panel, PAD grey
    pixels around and between them; values clipped to [0, 1]."""
    size = grid * side + (grid + 1) * PAD
    panel = np.full((size, size), BACKGROUND)
    for k, image in enumerate(images[: grid * grid]):
        r, c = divmod(k, grid)
        top, left = PAD + r * (side + PAD), PAD + c * (side + PAD)
        panel[top : top + side, left : left + side] = np.clip(image.reshape(side, side), 0, 1)
    return panel


def grid_image(samples: Samples) -> np.ndarray:
    """The two panels side by side: the means, then with decoder noise."""
    left, right = tile(samples.means, samples.side), tile(samples.noisy, samples.side)
    gap = np.full((left.shape[0], GAP), GAP_LEVEL)
    return np.concatenate([left, gap, right], axis=1)
