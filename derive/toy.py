"""Two-class toy data in the plane, drawn with a seed: the data of lecture 4's decision-boundary
figures (seed 001), and of the perceptron and the hinge loss with labels in {-1, 1}.

- ``blobs``: two clusters, centred at (-2, 0) and (2, 0), each point within 1.5 of its centre:
  linearly separable by the line x_1 = 0 with a margin of at least 0.5 on either side.
- ``circles``: a disc of radius at most 0.5 inside a ring of radius 1 (plus noise): separable by
  the circle of radius 0.75 (with the default noise) but by no line.
- ``moons``: two interleaving half circles, scikit-learn's ``make_moons`` drawn afresh.
- ``spirals``: two interleaved spirals, one turn and a half each.

Class 0 and class 1 alternate, so a data set of n points has n // 2 of class 1. Labels are
the integers 0 and 1; :func:`signs` gives them as -1 and +1.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from derive.errors import DeriveError

MAX_SAMPLES = 100_000


@dataclass(frozen=True)
class Toy:
    """Points ``x`` (n x 2) and their classes ``labels`` (n,), 0 or 1."""

    name: str
    x: np.ndarray
    labels: np.ndarray

    @property
    def signs(self) -> np.ndarray:
        return signs(self.labels)


def signs(labels: np.ndarray) -> np.ndarray:
    """Class 0 -> -1, class 1 -> +1, as the perceptron writes labels."""
    return 2.0 * np.asarray(labels, dtype=float) - 1.0


def _blobs(labels: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    centre = np.where(labels == 1, 2.0, -2.0)
    # uniform in a disc of radius 1.5 around the centre: never closer than 0.5 to x_1 = 0
    r = 1.5 * np.sqrt(rng.random(len(labels)))
    t = rng.uniform(0, 2 * math.pi, len(labels))
    return np.stack([centre + r * np.cos(t), r * np.sin(t)], axis=1)


def _circles(labels: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    n = len(labels)
    t = rng.uniform(0, 2 * math.pi, n)
    inner = 0.5 * np.sqrt(rng.random(n))  # a filled disc of radius 0.5
    outer = 1.0 + noise * np.clip(rng.standard_normal(n), -2.0, 2.0)
    r = np.where(labels == 0, inner, outer)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1)


def _moons(labels: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    t = rng.uniform(0, math.pi, len(labels))
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    x = np.where((labels == 0)[:, None], upper, lower)
    return x + noise * rng.standard_normal(x.shape)


def _spirals(labels: np.ndarray, rng: np.random.Generator, noise: float) -> np.ndarray:
    t = rng.random(len(labels))  # position along the spiral, 0 at the centre
    angle = 3 * math.pi * t + math.pi * labels  # the second spiral turned by half a turn
    r = 0.1 + 0.9 * t
    x = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1)
    return x + noise * rng.standard_normal(x.shape)


#: name -> (draw the points of the given classes, the default noise, what it is)
TOYS: dict[str, tuple[Callable, float, str]] = {
    "moons": (_moons, 0.1, "two interleaving half circles"),
    "circles": (_circles, 0.05, "a disc inside a ring"),
    "spirals": (_spirals, 0.02, "two interleaved spirals"),
    "blobs": (_blobs, 0.0, "two clusters, separable by a line"),
}


def check(name: str, n: int = 200, noise: float | None = None) -> None:
    if name not in TOYS:
        raise DeriveError(f"--data {name}: no such toy data set (one of {', '.join(TOYS)})")
    if not 2 <= n <= MAX_SAMPLES:
        raise DeriveError(f"--samples {n}: give 2 to {MAX_SAMPLES:,} points")
    if noise is not None and not (0 <= noise <= 1 and math.isfinite(noise)):
        raise DeriveError(f"--noise {noise}: give a standard deviation from 0 to 1")


def make(name: str, n: int = 200, seed: int = 0, noise: float | None = None) -> Toy:
    """``n`` points of data set ``name``, classes alternating 0, 1, 0, ...; the same seed gives
    the same points."""
    check(name, n, noise)
    draw, default, _ = TOYS[name]
    labels = np.arange(n) % 2
    x = draw(labels, np.random.default_rng(seed), default if noise is None else noise)
    return Toy(name, x, labels)


def describe(name: str) -> str:
    return TOYS[name][2]
