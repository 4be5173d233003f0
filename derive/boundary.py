"""Decision boundaries of a 2-layer network on toy data in the plane (lecture 4, seed 001): the
figures "m is the number of nodes in the hidden layer", "Result depends on parameter
initialization" and "Effect of regularization" (lambda = 0, .001, .01, .1), repeated.

The network is built here from derive's ops and trained by :mod:`derive.train` on its derived,
compiled gradients: s_1 = W_1 x + b_1, h = ReLU(s_1), s = W_2 h + b_2, and the cost
J = 1/n sum_i -y_i^T log softmax(s_i) + lambda (||W_1||_F^2 + ||W_2||_F^2), with lambda a
per-batch input, so the L2 term is derived (2 lambda W) and proved with the rest. For each
(lambda, seed, width) of the series, :func:`run` trains it on the same points and measures the
panel: the training accuracy, the weights' squared norm, and the classes on a grid, from which
the boundary and its length are read. Writing it up is derive/render/boundary.py's job.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from derive import toy
from derive.errors import DeriveError
from derive.expr import Leaf
from derive.graph import Network

GRID = 160  # grid points per side of a panel
PAD = 0.15  # the panels reach this share of the data's extent beyond it
MAX_WIDTH = 500
MAX_PANELS = 48
MAX_EACH = 8  # widths, seeds or lambdas in one series: a row of panels must fit the page


# --- the network ----------------------------------------------------------------------------
def network(width: int) -> Network:
    """The 2-layer network of the study, at hidden width ``width`` (the proofs use at most 3)."""
    from derive.ops.algebra import add
    from derive.ops.batch import mean
    from derive.ops.elementwise import relu
    from derive.ops.losses import softmax_cross_entropy, sq_norm

    net = Network("boundary", title=f"A 2-layer ReLU network of width {width} in the plane")
    d = net.dim("d", 2)
    h = net.dim("h", min(width, 3), size=width)
    c = net.dim("c", 2)
    x = net.input("x", d, description="a point in the plane")
    y = net.input("y", c, onehot=True, description="its class, one-hot")
    lam = net.input("lam", 1, r"\lambda", per_sample=False, description="the L2 weight")
    W_1 = net.param("W_1", (h, d))
    b_1 = net.param("b_1", h)
    W_2 = net.param("W_2", (c, h))
    b_2 = net.param("b_2", c)
    s_1 = net.node("s_1", W_1 * x + b_1, layer="FC_1")
    h_1 = net.node("h_1", relu(s_1), r"\mathbf{h}", layer="FC_1")
    s = net.node("s", W_2 * h_1 + b_2, layer="FC_2")
    l = net.node("l", softmax_cross_entropy(s, y), "l", layer="cross-entropy")
    r = net.node("r", add(sq_norm(W_1), sq_norm(W_2)), "R", layer="regulariser")
    net.loss("J", mean(l) + lam * r, layer="cost")
    return net


# --- options --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Options:
    data: str = "moons"
    widths: tuple[int, ...] = (1, 2, 3, 10)
    seeds: tuple[int, ...] = (0, 1)
    lams: tuple[float, ...] = (0.0,)
    samples: int = 200
    noise: float | None = None  # None: the data set's own
    data_seed: int = 0
    epochs: int = 300
    lr: float = 0.1
    momentum: float = 0.9
    batch_size: int = 20

    def __post_init__(self):
        toy.check(self.data, self.samples, self.noise)
        series = (("--width", self.widths), ("--seeds", self.seeds), ("--lam", self.lams))
        for name, values in series:
            if not values:
                raise DeriveError(f"{name}: give at least one value")
            if len(values) > MAX_EACH:
                raise DeriveError(f"{name}: at most {MAX_EACH} values, got {len(values)}")
            if len(set(values)) != len(values):
                raise DeriveError(f"{name}: a value is given twice")
        for w in self.widths:
            if not 1 <= w <= MAX_WIDTH:
                raise DeriveError(f"--width {w}: give hidden widths from 1 to {MAX_WIDTH}")
        for s in (*self.seeds, self.data_seed):
            if s < 0:
                raise DeriveError(f"seed {s}: seeds are 0 or more")
        for lam in self.lams:
            if not (lam >= 0 and math.isfinite(lam)):
                raise DeriveError(f"--lam {lam:g}: the L2 weight lambda is 0 or more")
        panels = len(self.widths) * len(self.seeds) * len(self.lams)
        if panels > MAX_PANELS:
            raise DeriveError(f"{panels} panels (widths x seeds x lambdas): at most {MAX_PANELS}")
        if not 1 <= self.epochs <= 100_000:
            raise DeriveError(f"--epochs {self.epochs}: give 1 to 100,000")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise DeriveError(f"--lr {self.lr:g}: the learning rate is positive")
        if not 1 <= self.batch_size:
            raise DeriveError(f"--batch-size {self.batch_size}: give at least 1")


def parse_list(name: str, text: str, kind: Callable = int) -> tuple:
    """``"1,2,3"`` -> (1, 2, 3); one line naming the option when an item is not a number."""
    items = [t.strip() for t in text.split(",")]
    try:
        values = tuple(kind(t) for t in items)
    except ValueError:
        what = "whole numbers" if kind is int else "numbers"
        raise DeriveError(f"{name} {text}: expected {what} separated by commas") from None
    return values


# --- results --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Panel:
    lam: float
    seed: int
    width: int
    accuracy: float  # on the training points
    loss: float  # J at the end, the L2 term included
    norm: float  # ||W_1||_F^2 + ||W_2||_F^2, the regulariser R
    length: float  # the boundary's length inside the panel, estimated on the grid
    classes: np.ndarray  # GRID x GRID, 0 or 1, row 0 at the bottom (y = ymin)

    def __eq__(self, other):
        if not isinstance(other, Panel):
            return NotImplemented
        same = (self.lam, self.seed, self.width, self.accuracy, self.loss, self.norm)
        return same == (other.lam, other.seed, other.width, other.accuracy, other.loss,
                        other.norm) and np.array_equal(self.classes, other.classes)  # fmt: skip

    __hash__ = None


@dataclass(frozen=True)
class Study:
    options: Options
    description: str
    x: np.ndarray
    labels: np.ndarray
    extent: tuple[float, float, float, float]  # xmin, xmax, ymin, ymax
    panels: tuple[Panel, ...]  # lambda by lambda, then seed by seed, then width by width

    def panel(self, lam: float, seed: int, width: int) -> Panel:
        return next(p for p in self.panels if (p.lam, p.seed, p.width) == (lam, seed, width))


def extent(x: np.ndarray) -> tuple[float, float, float, float]:
    """A square around the points, PAD of their extent beyond them on every side."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    centre, half = (lo + hi) / 2, (hi - lo).max() / 2 * (1 + 2 * PAD)
    half = half if half > 0 else 1.0
    return (centre[0] - half, centre[0] + half, centre[1] - half, centre[1] + half)


def grid(box: tuple[float, float, float, float], n: int = GRID) -> np.ndarray:
    """The centres of n x n cells covering ``box``, row by row from the bottom: (n*n, 2)."""
    xmin, xmax, ymin, ymax = box
    xs = xmin + (np.arange(n) + 0.5) * (xmax - xmin) / n
    ys = ymin + (np.arange(n) + 0.5) * (ymax - ymin) / n
    gx, gy = np.meshgrid(xs, ys)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def boundary_length(classes: np.ndarray, box: tuple[float, float, float, float]) -> float:
    """The length of the curves between the classes, from the cell sides that separate two
    classes: their total length times pi/4 (a curve crossing a grid in random directions cuts
    4/pi times its length in cell sides, Cauchy and Crofton). Exact for a circle in the limit;
    a straight line at 45 degrees comes out 11% long, one along the grid 21% short."""
    xmin, xmax, ymin, ymax = box
    n_rows, n_cols = classes.shape
    dx, dy = (xmax - xmin) / n_cols, (ymax - ymin) / n_rows
    vertical = np.count_nonzero(classes[:, 1:] != classes[:, :-1])  # sides of height dy
    horizontal = np.count_nonzero(classes[1:, :] != classes[:-1, :])  # sides of width dx
    return math.pi / 4 * (vertical * dy + horizontal * dx)


def run(options: Options, on_panel: Callable[[Panel], None] | None = None) -> Study:
    """Train the network once per (lambda, seed, width) on the same points and measure it: the
    seed draws the initial weights and the order of the mini-batches, the data is the same."""
    o = options
    points = toy.make(o.data, o.samples, o.data_seed, o.noise)
    box = extent(points.x)
    noise = toy.TOYS[o.data][1] if o.noise is None else o.noise
    description = (f"{o.data} ({toy.describe(o.data)}): {o.samples} points, noise {noise:g}, "
                   f"seed {o.data_seed}")  # fmt: skip
    panels = []
    for lam in o.lams:
        for seed in o.seeds:
            for width in o.widths:
                panel = train_panel(o, points, box, lam, seed, width, description)
                panels.append(panel)
                if on_panel is not None:
                    on_panel(panel)
    return Study(o, description, points.x, points.labels, box, tuple(panels))


def train_panel(o: Options, points: toy.Toy, box, lam: float, seed: int, width: int,
                description: str) -> Panel:  # fmt: skip
    from derive.compile import compile_expressions, size_names
    from derive.train import Data, Settings, Trainer, start_sizes

    net = network(width)
    sizes = start_sizes(net)  # d = c = 2, h = width
    arrays = {"x": points.x, "y": np.eye(2)[points.labels]}
    data = Data(description, arrays, arrays, sizes)  # scored on the training points
    settings = Settings(o.epochs, o.batch_size, o.lr, momentum=o.momentum, seed=seed)
    trainer = Trainer(net, data, settings, {"lam": lam})
    result = trainer.run()
    cells = grid(box)
    score = compile_expressions(net, {"s": Leaf(net.quantities["s"])})
    values = {**trainer.params, **trainer.fixed, "x": cells, "y": np.zeros((len(cells), 2))}
    s = np.asarray(score(values, {**size_names(sizes), "m": len(cells)})["s"])  # y is not read
    classes = (s[:, 1] > s[:, 0]).astype(np.int8).reshape(GRID, GRID)
    W_1, W_2 = result.params["W_1"], result.params["W_2"]
    norm = float(np.sum(W_1**2) + np.sum(W_2**2))
    final = result.final
    return Panel(lam, seed, width, float(final.test_accuracy), float(final.test_loss), norm,
                 boundary_length(classes, box), classes)  # fmt: skip


# --- reading the series ---------------------------------------------------------------------
def spread(values: Sequence[float]) -> float:
    return max(values) - min(values)
