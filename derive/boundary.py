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
from pathlib import Path

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
    network: Path | None = None  # a network file with a setting "hidden", instead of network()

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
    title: str  # the network's, at the first width
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
    make = network_of(o)
    panels = []
    for lam in o.lams:
        for seed in o.seeds:
            for width in o.widths:
                panel = train_panel(o, points, box, lam, seed, width, description, make)
                panels.append(panel)
                if on_panel is not None:
                    on_panel(panel)
    title = make(o.widths[0]).title
    return Study(o, description, points.x, points.labels, box, title, tuple(panels))


def network_of(options: Options) -> Callable[[int], Network]:
    """width -> the network to train: the one built here, or the network file of ``--network``
    loaded with ``--set hidden=WIDTH``. A file is loaded once here and checked, so that a file
    that does not fit is one line before anything is trained."""
    if options.network is None:
        return network
    from derive.graph import load
    from derive.train import Roles, toy_data

    def make(width: int) -> Network:
        net = load(options.network, hidden=width)
        roles = Roles.of(net)
        toy_data(net, roles, options.data, options.data_seed, 2, 0)  # checks the inputs
        if len(roles.fixed) > 1:
            names = ", ".join(q.name for q in roles.fixed)
            raise DeriveError(f"{options.network}: more than one per-batch input ({names}); "
                              "derive boundary gives one, the weight lambda")  # fmt: skip
        if not roles.fixed and any(lam != 0 for lam in options.lams):
            raise DeriveError(f"{options.network}: no per-batch input for the weight lambda "
                              "(net.input('lam', 1, per_sample=False)); use --lam 0")  # fmt: skip
        return net

    make(options.widths[0])
    return make


def train_panel(o: Options, points: toy.Toy, box, lam: float, seed: int, width: int,
                description: str, make: Callable[[int], Network] = network) -> Panel:  # fmt: skip
    from derive.compile import compile_expressions, size_names
    from derive.train import Data, Roles, Settings, Trainer, labels_of, prediction_of, toy_data

    net = make(width)
    roles = Roles.of(net)
    label = labels_of(roles)[0]
    sized = toy_data(net, roles, o.data, o.data_seed, 2, 0)  # d = 2, c = 2, h = width
    x_name, sign = roles.features[0].name, label.content == "sign"
    target = points.signs[:, None] if sign else np.eye(2)[points.labels]
    arrays = {x_name: points.x, label.name: target}
    data = Data(description, arrays, arrays, sized.sizes)  # scored on the training points
    settings = Settings(o.epochs, o.batch_size, o.lr, momentum=o.momentum, seed=seed)
    fixed = {roles.fixed[0].name: lam} if roles.fixed else {}
    trainer = Trainer(net, data, settings, fixed)
    result = trainer.run()
    cells = grid(box)
    prediction = prediction_of(net, label)
    score = compile_expressions(net, {"s": Leaf(prediction)})
    values = {**trainer.params, **trainer.fixed, x_name: cells}
    values[label.name] = np.zeros((len(cells),) if sign else (len(cells), 2))  # not read
    sizes = {**size_names(sized.sizes), "m": len(cells)}
    s = np.asarray(score(values, sizes)["s"]).reshape(len(cells), -1)
    side = s[:, 0] > 0 if sign else s[:, 1] > s[:, 0]
    classes = side.astype(np.int8).reshape(GRID, GRID)
    weights = [q.name for q in net.params if q.shape[1] != 1]  # the matrices, not the biases
    norm = float(sum(np.sum(result.params[w] ** 2) for w in weights))
    final = result.final
    return Panel(lam, seed, width, float(final.test_accuracy), float(final.test_loss), norm,
                 boundary_length(classes, box), classes)  # fmt: skip


# --- reading the series ---------------------------------------------------------------------
def spread(values: Sequence[float]) -> float:
    return max(values) - min(values)
