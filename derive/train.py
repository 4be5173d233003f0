"""Mini-batch SGD on the compiled gradients: the derived formulas, trained.

Each step runs the generated forward pass and residuals (``derive.compile``) on a batch and moves
every parameter against its gradient (with momentum, PyTorch's form: v <- mu v + g,
theta <- theta - lr v). Dropout masks and noise inputs are drawn afresh at every step; the batch
statistics of batch normalisation feed running averages, which take their place when the network
is evaluated on the test set (masks are then all ones: inverted dropout). Everything random in
training comes from one generator seeded by ``seed``; the test set's noise from a second one
(:func:`evaluation_noise`), the same draws at every epoch. The same seed gives the same numbers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np
import sympy as sp

from derive import toy
from derive.compile import (
    compile_expressions,
    compile_network,
    external_shape,
    internal_shape,
    size_names,
)
from derive.data import Images, load_images
from derive.errors import DeriveError
from derive.expr import Leaf, Quantity, leaves, m, sym
from derive.graph import Network

SYNTHETIC_TRAIN, SYNTHETIC_TEST = 2000, 500
TOY_TRAIN, TOY_TEST = 200, 200
EVAL_CHUNK = 2000  # samples per forward pass on the test set: bounds the memory


# --- settings ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Schedule:
    """The learning rate times ``factor`` every ``every`` epochs (``step:EVERY:FACTOR``)."""

    every: int = 0  # 0: constant
    factor: float = 1.0

    @classmethod
    def parse(cls, text: str | None) -> Schedule:
        if not text or text == "constant":
            return cls()
        parts = text.split(":")
        try:
            kind, every, factor = parts
            every_n, factor_x = int(every), float(factor)
        except ValueError:
            kind, every_n, factor_x = "", 0, 0.0
        if kind != "step" or every_n < 1 or not 0 < factor_x:
            raise DeriveError(
                f"--schedule {text!r}: expected step:EVERY:FACTOR, e.g. step:20:0.1 "
                "(times 0.1 every 20 epochs), or constant"
            )
        return cls(every_n, factor_x)

    def rate(self, lr: float, epoch: int) -> float:
        """The learning rate of ``epoch`` (counted from 1)."""
        return lr if not self.every else lr * self.factor ** ((epoch - 1) // self.every)

    def __str__(self) -> str:
        return f"step:{self.every}:{self.factor:g}" if self.every else "constant"


@dataclass(frozen=True)
class Settings:
    epochs: int = 10
    batch_size: int = 16
    lr: float = 0.1
    schedule: Schedule = Schedule()
    momentum: float = 0.0
    seed: int = 0

    def __post_init__(self):
        for name, value, ok in (
            ("--epochs", self.epochs, self.epochs >= 1),
            ("--batch-size", self.batch_size, self.batch_size >= 1),
            ("--lr", self.lr, self.lr > 0 and math.isfinite(self.lr)),
            ("--momentum", self.momentum, 0 <= self.momentum < 1),
        ):
            if not ok:
                raise DeriveError(f"{name} {value}: out of range")


# --- the data, bound to the network's inputs -----------------------------------------------
@dataclass(frozen=True)
class Roles:
    """What training does with each input of the network."""

    features: tuple[Quantity, ...]  # taken from the data
    targets: tuple[Quantity, ...]  # taken from the data's labels or targets
    drawn: tuple[Quantity, ...]  # masks and noise, drawn at every step
    fixed: tuple[Quantity, ...]  # one value for the whole batch (lambda), given by the user

    @classmethod
    def of(cls, net: Network) -> Roles:
        def pick(test) -> tuple[Quantity, ...]:
            return tuple(q for q in net.inputs if test(q))

        return cls(
            pick(lambda q: q.batched and q.content == "real" and not q.target),
            pick(lambda q: q.batched and q.target),
            pick(lambda q: q.batched and q.content in ("mask", "noise")),
            pick(lambda q: not q.batched),
        )


@dataclass(frozen=True)
class Data:
    """Arrays by input name (samples first), to train on and to test on."""

    description: str
    train: dict[str, np.ndarray]
    test: dict[str, np.ndarray]
    sizes: dict[sp.Symbol, int]  # every dim of the network

    @property
    def n_train(self) -> int:
        return len(next(iter(self.train.values())))

    @property
    def n_test(self) -> int:
        return len(next(iter(self.test.values())))


def start_sizes(net: Network) -> dict[sp.Symbol, int]:
    """The small proof sizes, with the real ones the network declares for training on top."""
    return {**net.dims, **net.train_sizes}


def bind_dim(sizes: dict, q: Quantity, n: int, source: str) -> None:
    """Fix the dim of input ``q`` (its rows) to ``n`` from the data, or check that it fits."""
    rows = q.shape[0]
    if isinstance(rows, sp.Symbol) and rows in sizes:
        sizes[rows] = n
        return
    want = int(rows.subs(sizes))
    if want != n:
        raise DeriveError(f"{source} gives {q.name} {n} entries, but {q.name} is {rows} = {want}")


def load_data(net: Network, spec: str, seed: int = 0) -> Data:
    """``spec``: synthetic, mnist5k, digits or a folder of IDX files, bound to ``net``'s inputs."""
    roles = Roles.of(net)
    if spec == "synthetic":
        return synthetic(net, roles, seed)
    if spec in toy.TOYS:
        return toy_data(net, roles, spec, seed)
    images = load_images(spec)
    labels = [q for q in roles.targets if q.content == "onehot"]
    if len(roles.features) == 1 and not roles.targets:  # an autoencoder: the images alone
        return image_data(net, images, roles.features[0], None)
    if len(roles.features) != 1 or len(labels) != 1 or len(roles.targets) != 1:
        names = lambda qs: ", ".join(q.name for q in qs) or "none"  # noqa: E731
        raise DeriveError(
            f"--data {spec} gives images and labels: the network needs one input for the "
            f"images and either one one-hot input for the labels or no target at all (an "
            f"autoencoder; it has features: {names(roles.features)}; targets: "
            f"{names(roles.targets)}); use --data synthetic"
        )
    return image_data(net, images, roles.features[0], labels[0])


def image_data(net: Network, images: Images, x: Quantity, y: Quantity | None) -> Data:
    """The images as input ``x``, their labels as the one-hot ``y``; without ``y`` (an
    autoencoder, whose target is the image itself) the labels are left out."""
    sizes = start_sizes(net)
    bind_dim(sizes, x, images.x_train.shape[1], f"--data {images.name}")
    train, test = {x.name: images.x_train}, {x.name: images.x_test}
    description = images.description
    if y is not None:
        bind_dim(sizes, y, images.classes, f"--data {images.name} ({images.classes} classes)")
        eye = np.eye(images.classes)
        train[y.name], test[y.name] = eye[images.labels_train], eye[images.labels_test]
    else:
        description += " (the images alone: no labels)"
    return Data(description, train, test, sizes)


def labels_of(roles: Roles) -> list[Quantity]:
    """The class labels among the targets: one-hot vectors, or single entries of -1 and +1."""
    return [q for q in roles.targets if q.content in ("onehot", "sign")]


def toy_data(net: Network, roles: Roles, name: str, seed: int,
             n_train: int = TOY_TRAIN, n_test: int = TOY_TEST) -> Data:  # fmt: skip
    """Points in the plane (derive.toy) for a network with one input of 2 entries and one label:
    one-hot over 2 classes, or -1/+1 (``sign=True``). The first ``n_train`` points of the seed's
    draw train, the rest test."""
    labels = labels_of(roles)
    if len(roles.features) != 1 or len(labels) != 1 or len(roles.targets) != 1:
        names = lambda qs: ", ".join(q.name for q in qs) or "none"  # noqa: E731
        raise DeriveError(
            f"--data {name} gives points in the plane and two classes: the network needs one "
            f"input for the points and one label, one-hot or sign=True (it has features: "
            f"{names(roles.features)}; targets: {names(roles.targets)})"
        )
    x, y = roles.features[0], labels[0]
    sizes = start_sizes(net)
    bind_dim(sizes, x, 2, f"--data {name} (points in the plane)")
    sign = y.content == "sign"
    bind_dim(
        sizes, y, 1 if sign else 2, f"--data {name} ({'a -1/+1 label' if sign else '2 classes'})"
    )
    points = toy.make(name, n_train + n_test, seed)
    target = points.signs[:, None] if sign else np.eye(2)[points.labels]
    labelled = "labels -1 and +1" if sign else "one-hot labels of 2 classes"
    return Data(
        f"{name} ({toy.describe(name)}, seed {seed}): {n_train} points to train and {n_test} to "
        f"test, {labelled}",
        {x.name: points.x[:n_train], y.name: target[:n_train]},
        {x.name: points.x[n_train:], y.name: target[n_train:]},
        sizes,
    )


def synthetic(net: Network, roles: Roles, seed: int) -> Data:
    """Features from N(0, 1); each target made by a fixed random teacher from all the features:
    labels the arg-max of a linear map, real targets tanh of one, plus a little noise."""
    if not roles.features:
        raise DeriveError(f"network {net.name} has no input to draw synthetic features for")
    sizes = start_sizes(net)
    rng = np.random.default_rng(seed + 7919)  # not the training stream: the task is fixed
    n = SYNTHETIC_TRAIN + SYNTHETIC_TEST

    def width(q: Quantity) -> int:
        return int(q.shape[0].subs(sizes))

    arrays = {q.name: rng.normal(size=(n, width(q))) for q in roles.features}
    inputs = np.concatenate(list(arrays.values()), axis=1)
    for q in roles.targets:
        k = width(q)
        teacher = rng.normal(size=(inputs.shape[1], k)) / math.sqrt(inputs.shape[1])
        scores = inputs @ teacher
        if q.content == "onehot":
            arrays[q.name] = np.eye(k)[np.argmax(scores + 0.1 * rng.normal(size=scores.shape), 1)]
        elif q.content == "sign":
            arrays[q.name] = np.where(scores + 0.1 * rng.normal(size=scores.shape) > 0, 1.0, -1.0)
        else:
            arrays[q.name] = np.tanh(scores) + 0.05 * rng.normal(size=scores.shape)
    return Data(
        f"synthetic: {SYNTHETIC_TRAIN} samples to train and {SYNTHETIC_TEST} to test, inputs "
        "from N(0, 1), targets from a fixed random teacher",
        {k: v[:SYNTHETIC_TRAIN] for k, v in arrays.items()},
        {k: v[SYNTHETIC_TRAIN:] for k, v in arrays.items()},
        sizes,
    )


# --- the results ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Epoch:
    epoch: int
    lr: float
    train_loss: float  # the mean of the batch losses during the epoch
    test_loss: float
    test_accuracy: float | None  # None without a one-hot or -1/+1 label
    seconds: float


@dataclass(frozen=True)
class Result:
    network: str
    data: str
    settings: Settings
    sizes: dict[str, int]
    parameters: int
    epochs: tuple[Epoch, ...]
    params: dict[str, np.ndarray] = field(repr=False)  # trained, in the layout of `derive grad`
    running: dict[str, np.ndarray] = field(repr=False)  # running averages of batch statistics
    loss_words: str = "loss"  # what the loss is called: "negative ELBO"

    @property
    def final(self) -> Epoch:
        return self.epochs[-1]

    def metrics(self) -> dict:
        """What --metrics writes: the settings, the curves, and the final figures on top."""
        settings = asdict(self.settings)
        settings["schedule"] = str(self.settings.schedule)
        return {
            "network": self.network,
            "data": self.data,
            "settings": settings,
            "sizes": self.sizes,
            "parameters": self.parameters,
            "loss_words": self.loss_words,
            "train_loss": self.final.train_loss,
            "test_loss": self.final.test_loss,
            "test_accuracy": self.final.test_accuracy,
            "seconds": round(sum(e.seconds for e in self.epochs), 3),
            "epochs": [asdict(e) for e in self.epochs],
        }


# --- training ---------------------------------------------------------------------------------
def prediction_of(net: Network, label: Quantity) -> Quantity | None:
    """The node whose arg-max predicts the one-hot ``label`` (or whose sign predicts a -1/+1
    one): the last per-sample node of its shape that does not depend on it (the probabilities p,
    or the scores before them)."""
    depends: dict[str, bool] = {}
    for q in net.nodes:
        depends[q.name] = any(
            leaf.q == label or depends.get(leaf.q.name, False) for leaf in leaves(q.definition)
        )
    candidates = [q for q in net.nodes if q.batched and q.shape == label.shape]
    candidates = [q for q in candidates if not depends[q.name]]
    return candidates[-1] if candidates else None


def agreeing(prediction: np.ndarray, label: np.ndarray, q: Quantity) -> int:
    """How many samples are classified right: for a one-hot label, the arg-max of the prediction
    is the label's class; for a -1/+1 label, the prediction's sign is the label (a score of 0,
    as the perceptron has it, says -1)."""
    if q.content == "sign":
        guess = np.where(np.reshape(prediction, np.shape(label)) > 0, 1.0, -1.0)
        return int(np.sum(guess == label))
    return int(np.sum(np.argmax(prediction, axis=-1) == np.argmax(label, axis=-1)))


def init_params(net: Network, sizes: dict, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """He's N(0, 2/fan_in) for matrices, zeros for vectors, unless ``net.param(init=...)``."""
    params = {}
    for q in net.params:
        shape = internal_shape(q, sizes)  # a (1 x h) row of weights is stored as (h,)
        fan_in = int(sym(q.shape[1]).subs(sizes))  # the columns: inputs per unit
        init = net.inits.get(q.name, "he" if q.shape[1] != 1 else "zeros")
        if init in ("he", "xavier"):
            std = math.sqrt((2.0 if init == "he" else 1.0) / fan_in)
            params[q.name] = rng.normal(0.0, std, size=shape)
        else:
            params[q.name] = np.full(shape, 1.0 if init == "ones" else 0.0)
    return params


def fixed_values(net: Network, roles: Roles, given: dict[str, float]) -> dict[str, np.ndarray]:
    """Per-batch inputs (lambda): from ``given`` (--value NAME=X), else the example values."""
    unknown = sorted(set(given) - {q.name for q in roles.fixed})
    if unknown:
        names = ", ".join(q.name for q in roles.fixed) or "none"
        raise DeriveError(f"--value {unknown[0]}: not a per-batch input of {net.name} ({names})")
    out = {}
    for q in roles.fixed:
        if q.name in given:
            value = given[q.name]
        elif q.name in net.examples:
            value = net.examples[q.name]
        else:
            raise DeriveError(
                f"{q.name} is one value for the whole batch: give it with --value {q.name}=X"
            )
        out[q.name] = np.asarray(value, dtype=float).reshape(())
    return out


def evaluation_noise(seed: int) -> np.random.Generator:
    """The generator of the test set's noise (a VAE's eps), apart from the training stream and
    seeded anew at every evaluation: each epoch is scored on the same draws, sample i of the
    test set getting rows i of ``default_rng([seed, 1]).normal(size=(n_test, k))``."""
    return np.random.default_rng([seed, 1])


class Trainer:
    """Compiles the network once, then trains it on ``data``."""

    def __init__(self, net: Network, data: Data, settings: Settings, fixed: dict | None = None):
        self.net, self.data, self.settings = net, data, settings
        self.roles = Roles.of(net)
        self.fixed = fixed_values(net, self.roles, fixed or {})
        self.rng = np.random.default_rng(settings.seed)
        self.params = init_params(net, data.sizes, self.rng)
        self.velocity = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.stats = {name: net.quantities[name] for name in net.running_averages}
        stat_outputs = {f"stat:{name}": Leaf(q) for name, q in self.stats.items()}
        self.compiled = compile_network(net, extra=stat_outputs)
        self.step_fn = self.compiled.function
        self.running: dict[str, np.ndarray] = {}  # starts at the first batch's statistics
        labels = labels_of(self.roles)
        self.label = labels[0] if labels else None
        self.prediction = prediction_of(net, self.label) if self.label else None
        outputs = {"loss": Leaf(net.loss_quantity)}
        if self.prediction is not None:
            outputs["prediction"] = Leaf(self.prediction)
        self.eval_fn = compile_expressions(net, outputs, overridable=True)
        self.sizes = size_names(data.sizes)
        # the data in the layout of the generated code (a per-sample scalar as (n,), not (n, 1))
        self.train_arrays = self.internal(data.train)
        self.test_arrays = self.internal(data.test)

    def internal(self, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = {}
        for name, array in arrays.items():
            shape = internal_shape(self.net.quantities[name], {**self.data.sizes, m: len(array)})
            out[name] = np.ascontiguousarray(array, dtype=float).reshape(shape)
        return out

    def draw(self, n: int, train: bool, rng: np.random.Generator | None = None
             ) -> dict[str, np.ndarray]:  # fmt: skip
        """Masks (all ones at test time: inverted dropout) and noise for ``n`` samples, from
        ``rng`` (by default the training stream)."""
        rng = self.rng if rng is None else rng
        out = {}
        for q in self.roles.drawn:
            shape = internal_shape(q, {**self.data.sizes, m: n})
            if q.content == "mask":
                keep = q.keep
                out[q.name] = (rng.random(shape) < keep) / keep if train else np.ones(shape)
            else:
                out[q.name] = rng.normal(size=shape)
        return out

    def batch(self, arrays: dict[str, np.ndarray], index) -> dict[str, np.ndarray]:
        return {name: array[index] for name, array in arrays.items()}

    def step(self, batch: dict[str, np.ndarray], lr: float) -> float:
        n = len(next(iter(batch.values())))
        values = {**batch, **self.draw(n, train=True), **self.fixed, **self.params}
        out = self.step_fn(values, {**self.sizes, "m": n})
        mu = self.settings.momentum
        for name, param in self.params.items():
            grad = out[name]
            if mu:
                velocity = self.velocity[name]
                velocity *= mu
                velocity += grad
                grad = velocity
            param -= lr * grad  # in place: the values dict holds the same arrays
        for name, rho in self.net.running_averages.items():
            batch_value = out[f"stat:{name}"]
            old = self.running.get(name, batch_value)
            self.running[name] = rho * old + (1 - rho) * batch_value
        return float(out[self.net.loss_quantity.name])

    def evaluate(self) -> tuple[float, float | None]:
        """The test loss and accuracy, with the running averages in place of batch statistics."""
        test, n = self.test_arrays, self.data.n_test
        total, correct = 0.0, 0
        noise = evaluation_noise(self.settings.seed)
        for start in range(0, n, EVAL_CHUNK):
            index = slice(start, min(n, start + EVAL_CHUNK))
            chunk = self.batch(test, index)
            size = index.stop - index.start
            values = {**chunk, **self.draw(size, False, noise), **self.fixed, **self.params}
            values.update(self.running)
            out = self.eval_fn(values, {**self.sizes, "m": size})
            total += float(out["loss"]) * size  # a batch mean (plus per-batch terms)
            if self.prediction is not None:
                correct += agreeing(out["prediction"], chunk[self.label.name], self.label)
        accuracy = correct / n if self.prediction is not None else None
        return total / n, accuracy

    def run(self, on_step: Callable[[int, int, float], None] | None = None,
            on_epoch: Callable[[Epoch], None] | None = None) -> Result:  # fmt: skip
        """Train for the set number of epochs; ``on_step(epoch, step, loss)`` and
        ``on_epoch(Epoch)`` report progress."""
        s, n = self.settings, self.data.n_train
        epochs = []
        for epoch in range(1, s.epochs + 1):
            start = time.perf_counter()
            lr = s.schedule.rate(s.lr, epoch)
            order = self.rng.permutation(n)
            total = 0.0
            for step, first in enumerate(range(0, n, s.batch_size), 1):
                index = order[first : first + s.batch_size]
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    loss = self.step(self.batch(self.train_arrays, index), lr)  # checked next
                if not math.isfinite(loss):
                    raise DeriveError(
                        f"the loss became {loss} at epoch {epoch}, step {step} (lr {lr:g}): "
                        "lower the learning rate"
                    )
                total += loss * len(index)
                if on_step is not None:
                    on_step(epoch, step, loss)
            test_loss, accuracy = self.evaluate()
            record = Epoch(
                epoch, lr, total / n, test_loss, accuracy, round(time.perf_counter() - start, 4)
            )
            epochs.append(record)
            if on_epoch is not None:
                on_epoch(record)
        return self.result(tuple(epochs))

    @property
    def parameters(self) -> int:
        """How many numbers are trained, at the data's sizes."""
        return int(self.net.parameter_count().subs(self.data.sizes))

    def steps_per_epoch(self) -> int:
        return -(-self.data.n_train // self.settings.batch_size)

    def external_params(self) -> dict[str, np.ndarray]:
        """The parameters in the layout of ``derive grad``: weights (out x in), biases 1-D."""
        sizes = self.data.sizes
        return {
            q.name: self.params[q.name].reshape(external_shape(q, sizes)) for q in self.net.params
        }

    def result(self, epochs: tuple[Epoch, ...]) -> Result:
        net, sizes = self.net, self.data.sizes
        params = {k: v.copy() for k, v in self.external_params().items()}
        return Result(
            net.name,
            self.data.description,
            self.settings,
            {str(k): int(v) for k, v in sizes.items() if k != m},
            self.parameters,
            epochs,
            params,
            dict(self.running),
            net.loss_words,
        )


def train(net: Network, data: Data, settings: Settings, fixed: dict | None = None,
          **callbacks) -> Result:  # fmt: skip
    """Train ``net`` on ``data``; see :class:`Trainer`."""
    return Trainer(net, data, settings, fixed).run(**callbacks)
