"""The numeric proof: derived formulas, compiled to NumPy, against float64 central differences.

Every residual and gradient is evaluated in both its forms at random points (inputs drawn by
what they hold: normal values, one-hot labels, labels of -1 and +1, dropout masks) and compared
with central differences of the compiled loss. For a node the difference quotient perturbs the
node's own values (the forward pass takes them as given), which is the definition of its
residual.
"""

from __future__ import annotations

import numpy as np

from derive.backprop import Derivation
from derive.compile import compile_expressions, internal_shape, size_names
from derive.expr import Leaf, Quantity, Zero, leaves
from derive.graph import Network

STEP = 1e-3


def random_values(net: Network, sizes: dict, rng: np.random.Generator, scale: float = 1.0,
                  shapes: dict | None = None) -> dict[str, np.ndarray]:  # fmt: skip
    """A random point in the internal layout: one-hot labels and masks as they are, the real
    values from N(0, 1) times ``scale``. ``shapes``: the internal shapes, if already known."""
    values = {}
    for q in net.inputs + net.params:
        shape = shapes[q.name] if shapes is not None else internal_shape(q, sizes)
        if q.content == "onehot":
            n = shape[-1]
            values[q.name] = np.eye(n)[rng.integers(0, n, size=shape[:-1])]
        elif q.content == "sign":
            values[q.name] = rng.choice([-1.0, 1.0], size=shape)
        elif q.content == "mask":
            values[q.name] = (rng.random(shape) < q.keep) / q.keep
        else:
            drawn = rng.normal(size=shape)
            values[q.name] = drawn * scale if scale != 1.0 else drawn  # a 0-d array stays one
    return values


def prove_numeric(derivation: Derivation, sizes: dict, points: int = 3, seed: int = 0) -> dict:
    """name -> max relative error of the derived formulas over ``points`` random points."""
    from derive.verify import TOLERANCE, relative_error

    net = derivation.network
    loss = net.loss_quantity
    items = derivation.residuals + derivation.gradients
    forward = compile_expressions(net, {"loss": Leaf(loss)}, overridable=True)
    expanded = compile_expressions(net, {g.q.name: g.expanded for g in items})
    compact = compile_expressions(net, {g.q.name: g.compact for g in items}, residual_inputs=True)
    names = size_names(sizes)
    upstream = upstream_of(net)
    rng = np.random.default_rng(seed)
    errors = {g.q.name: 0.0 for g in items}
    forward_all = compile_expressions(net, {n.name: Leaf(n) for n in net.nodes})

    def exercised(values: dict) -> set[str]:
        """The quantities whose derivative is not zero at this point."""
        got = expanded(values, names)
        return {g.q.name for g in items if np.any(np.asarray(got[g.q.name]) != 0)}

    for values in choose_points(net, sizes, rng, points, exercised):
        state = forward_all(values, names)
        noise: list[float] = []
        kinks: dict[str, dict] = {g.q.name: {} for g in items}
        truth = {
            g.q.name: central_difference(
                forward, values, state, g.q, names, upstream, noise, kinks[g.q.name]
            )  # fmt: skip
            for g in items
        }
        truth[loss.name] = np.ones(())
        given = dict(values)
        given.update({f"_r_{k}": v for k, v in truth.items()})
        got_expanded = expanded(values, names)
        got_compact = compact(given, names)
        # differencing noise is relative to the loss: about 1e-12 |L| per entry here, more where
        # the step is small (an entry near zero, a kink stepped over): a gradient that is zero
        # is compared with the noise, not divided by it
        floor = 1e-5 * (1 + abs(float(state[loss.name])))
        floor = max(floor, NOISE_MARGIN * max(noise, default=0.0) / TOLERANCE)
        # a derivative derived to be zero (the bias before a batch normalisation) must be
        # negligible beside the network's other derivatives: its differences are pure noise,
        # amplified by the normalisation, and no floor of the loss's scale bounds them
        largest = max(float(np.max(np.abs(truth[g.q.name]), initial=0.0)) for g in items)
        for g in items:
            want = truth[g.q.name]
            bound = max(floor, largest) if isinstance(g.expanded, Zero) else floor
            for got in (got_expanded[g.q.name], got_compact[g.q.name]):
                got = np.broadcast_to(np.asarray(got, dtype=float), want.shape)
                want = at_kinks(want, got, kinks[g.q.name])
                errors[g.q.name] = max(errors[g.q.name], relative_error(got, want, bound))
    return errors


#: Further random points drawn when the first ones leave some derivative zero everywhere.
CANDIDATES = 12


def choose_points(net: Network, sizes: dict, rng: np.random.Generator, points: int,
                  exercised) -> list[dict]:  # fmt: skip
    """``points`` random points, the first ones drawn unless they leave a derivative zero at
    every point that another point makes nonzero. A deep ReLU network of a few units per layer
    often has a layer that is off for every sample: every residual before it is zero there,
    and comparing zero with zero proves nothing. Then CANDIDATES more points are drawn and the
    points are picked greedily, each exercising the most derivatives not yet exercised (the
    earliest on a tie); a derivative that is zero at every candidate (the bias before a batch
    normalisation) is zero by structure."""
    first = [random_values(net, sizes, rng) for _ in range(points)]
    covers = [exercised(v) for v in first]
    done = set().union(*covers)
    extra = [random_values(net, sizes, rng) for _ in range(CANDIDATES)]
    extra_covers = [exercised(v) for v in extra]
    if set().union(done, *extra_covers) == done:
        return first
    candidates, covers = first + extra, covers + extra_covers
    chosen: list[int] = []
    done = set()
    for _ in range(points):
        best = max((k for k in range(len(candidates)) if k not in chosen),
                   key=lambda k: (len(covers[k] - done), -k))  # fmt: skip
        chosen.append(best)
        done |= covers[best]
    return [candidates[k] for k in sorted(chosen)]


def upstream_of(net: Network) -> dict[str, set[str]]:
    """node name -> the names of every quantity its value depends on."""
    upstream: dict[str, set[str]] = {}
    for n in net.nodes:
        deps: set[str] = set()
        for leaf in leaves(n.definition):
            deps.add(leaf.q.name)
            deps |= upstream.get(leaf.q.name, set())
        upstream[n.name] = deps
    return upstream


#: The rounding error of a compact form, made of several difference quotients, against that of
#: one quotient (see prove_numeric's floor).
NOISE_MARGIN = 10


def central_difference(forward, values: dict, state: dict, q: Quantity, names: dict,
                       upstream: dict[str, set[str]] | None = None,
                       noise: list[float] | None = None,
                       kinks: dict | None = None) -> np.ndarray:  # fmt: skip
    """dL/dq entry by entry with the fourth-order central difference
    (-L(q+2h) + 8 L(q+h) - 8 L(q-h) + L(q-2h)) / 12h, the step scaled to the entry, so that
    entries near zero (a probability of 0.01 inside a log) are differentiated as precisely as the
    rest. Nodes are perturbed in place: the forward pass takes their values as given. With
    ``upstream`` (see :func:`upstream_of`) every node that does not depend on q is given too, at
    its value in ``state``: the same numbers, but only the nodes downstream of q are recomputed
    (a deep network would otherwise be run whole for every entry of every layer). ``noise``
    collects a bound on the rounding error of each entry's quotient, 18 eps max|L| / 12h.
    ``kinks`` collects, for each entry that sits on a kink itself (the loss not smooth across
    even the smallest stencil: a tie of two maxima of a pooling window, two ReLU outputs of 0),
    its one-sided slopes (left, right): the derivative there is any value between them (see
    :func:`at_kinks`)."""
    base = dict(values)
    if upstream is not None:
        base.update({n: v for n, v in state.items() if q.name not in upstream[n]})
    if q.kind == "node":
        base[q.name] = state[q.name]
    point = np.array(base[q.name], dtype=float)
    grad = np.zeros_like(point)

    def loss_at(idx, step: float) -> float:
        moved = point.copy()
        moved[idx] += step
        return float(forward({**base, q.name: moved}, names)["loss"])

    centre = float(forward(base, names)["loss"]) if kinks is not None else 0.0
    for idx in np.ndindex(point.shape):
        h = STEP * max(abs(point[idx]), 0.01)
        if point[idx] != 0:  # never step across zero: log(p) needs p > 0
            h = min(h, abs(point[idx]) / 100)
        for _ in range(KINK_RETRIES + 1):
            f = [loss_at(idx, k * h) for k in (2, 1, -1, -2)]
            grad[idx] = (-f[0] + 8 * f[1] - 8 * f[2] + f[3]) / (12 * h)
            if kinks is not None and on_kink(f, centre, h):
                kinks[idx] = ((centre - f[2]) / h, (f[1] - centre) / h)
                break
            if smooth(f, h):
                break
            h /= 16  # a kink (ReLU downstream) between q - 2h and q + 2h: step over less
        if noise is not None:
            noise.append(float(1.5 * np.finfo(float).eps * max(abs(v) for v in f) / h))
    return grad


def on_kink(f: list[float], centre: float, h: float) -> bool:
    """Whether the loss has a kink at the point itself (f = L at +2h, +h, -h, -2h). The
    symmetric stencil cannot see one (a kink at 0 looks smooth to it, its quotient the mean of
    the two slopes), the one-sided quotients can: for a smooth loss the second differences
    with steps 2h and h are in the ratio 4, (f(2h) + f(-2h) - 2L) / 2 = 2 (f(h) + f(-h) - 2L)
    up to O(h^4); at a kink with a jump J in slope they differ by hJ."""
    gap = abs((f[0] + f[3] - 2 * centre) / 2 - 2 * (f[1] + f[2] - 2 * centre)) / h
    slope = max(abs(f[1] - centre), abs(centre - f[2])) / h
    noise = 1e3 * np.finfo(float).eps * (1 + max(abs(v) for v in f)) / h
    return gap > 1e-3 * slope + noise


def at_kinks(want: np.ndarray, got: np.ndarray, kinks: dict) -> np.ndarray:
    """The central differences ``want`` with each entry on a kink replaced by the value nearest
    ``got`` between its one-sided slopes: a derivative there is right when it is one of the
    slopes or between them (a subgradient, as backpropagation picks one: the first of two equal
    maxima), and is compared with the nearer slope otherwise."""
    if not kinks:
        return want
    want = np.array(want, dtype=float)
    for idx, (left, right) in kinks.items():
        lo, hi = min(left, right), max(left, right)
        want[idx] = min(max(float(got[idx]), lo), hi)
    return want


#: How many times a difference quotient that straddles a kink is retried with a step 16 times
#: smaller (a deep ReLU network has many units whose input sits near zero for some entry).
KINK_RETRIES = 3


def smooth(f: list[float], h: float) -> bool:
    """Whether the loss looks smooth across the stencil: the second-order quotients with steps
    h and 2h agree up to their h^2 error (well under 1e-4 of the slope for a smooth loss at
    these steps) and the rounding noise. Across a kink they differ by a fraction of the jump in
    slope."""
    d1 = (f[1] - f[2]) / (2 * h)
    d2 = (f[0] - f[3]) / (4 * h)
    noise = 1e3 * np.finfo(float).eps * (1 + max(abs(v) for v in f)) / h
    return abs(d1 - d2) <= 1e-4 * max(abs(d1), abs(d2)) + noise
