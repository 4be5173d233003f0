"""The arithmetic of convolutional stacks (seed 003, Q3): each layer's output shape and its
parameters, with the formula of every step, and the (stride, kernel) pairs that give a wanted
output size.

A layer is written as ``derive conv`` takes it: ``conv:c=6,k=5`` (``c`` channels out, ``k``
kernel, ``s`` stride, ``p`` padding, ``d`` dilation) or ``pool:k=2,s=2`` (max or average pooling:
the channels stay, no parameters; ``s`` defaults to ``k``). The output size along each side is
``floor((n + 2p - d (k - 1) - 1) / s) + 1``, as PyTorch computes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from derive.errors import DeriveError

KINDS = ("conv", "pool")
KEYS = {"conv": ("c", "k", "s", "p", "d"), "pool": ("k", "s", "p", "d")}
MAX_SIZE = 100_000  # of an input side, a kernel, a stride, channels
MAX_LAYERS = 100


@dataclass(frozen=True)
class Layer:
    kind: str  # "conv" or "pool"
    k: int
    s: int = 1
    p: int = 0
    d: int = 1
    c: int | None = None  # channels out (conv)

    @property
    def text(self) -> str:
        keys = [f"{key}={getattr(self, key)}" for key in KEYS[self.kind]]
        return f"{self.kind}:" + ",".join(keys)


@dataclass(frozen=True)
class Step:
    layer: Layer
    input_shape: tuple[int, int, int]  # channels, height, width
    output_shape: tuple[int, int, int]
    params: int
    params_without_bias: int
    formula: str  # the output size, worked out

    def to_json(self) -> dict:
        return {"kind": self.layer.kind, "layer": self.layer.text,
                "output_shape": list(self.output_shape), "params": self.params,
                "params_without_bias": self.params_without_bias}  # fmt: skip


def output_size(n: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """floor((n + 2p - d (k - 1) - 1) / s) + 1."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def parse_layer(text: str) -> Layer:
    """``conv:c=6,k=5`` or ``pool:k=2,s=2``; a DeriveError naming what is wrong."""
    m = re.fullmatch(r"\s*([a-z]+)\s*:\s*(.*?)\s*", text)
    if m is None or m.group(1) not in KINDS:
        raise DeriveError(f"--layer {text!r}: expected conv:c=..,k=.. or pool:k=..")
    kind, values = m.group(1), {}
    for item in filter(None, (x.strip() for x in m.group(2).split(","))):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in KEYS[kind]:
            raise DeriveError(f"--layer {text!r}: {item!r} is not one of "
                              f"{', '.join(k + '=N' for k in KEYS[kind])}")  # fmt: skip
        values[key] = _positive(value.strip(), f"--layer {text!r}: {key}", zero=key == "p")
    if "k" not in values or (kind == "conv" and "c" not in values):
        need = "c and k" if kind == "conv" else "k"
        raise DeriveError(f"--layer {text!r}: {kind} needs {need}")
    if kind == "pool":
        values.setdefault("s", values["k"])
    return Layer(kind, **values)


def parse_shape(text: str) -> tuple[int, int, int]:
    """``1x32x32`` (channels x height x width), or ``32x32`` (one channel), or ``64``."""
    parts = [x.strip() for x in re.split(r"[x×,]", text.strip().lower())]
    if not 1 <= len(parts) <= 3:
        raise DeriveError(f"--input {text!r}: expected CxHxW, HxW or N")
    sizes = [_positive(x, f"--input {text!r}") for x in parts]
    if len(sizes) == 1:
        return (1, sizes[0], sizes[0])
    if len(sizes) == 2:
        return (1, sizes[0], sizes[1])
    return (sizes[0], sizes[1], sizes[2])


def stack(shape: tuple[int, int, int], layers: list[Layer]) -> list[Step]:
    """Each layer's output shape and parameters, in order; a DeriveError when a layer has
    nothing left to slide over."""
    if len(layers) > MAX_LAYERS:
        raise DeriveError(f"at most {MAX_LAYERS} layers")
    steps = []
    for n, layer in enumerate(layers, 1):
        c, h, w = shape
        oh, ow = (output_size(x, layer.k, layer.s, layer.p, layer.d) for x in (h, w))
        if oh < 1 or ow < 1:
            raise DeriveError(f"layer {n} ({layer.text}): its {layer.k} x {layer.k} kernel "
                              f"does not fit the {h} x {w} input")  # fmt: skip
        out_c = layer.c if layer.kind == "conv" else c
        weights = out_c * c * layer.k * layer.k if layer.kind == "conv" else 0
        bias = out_c if layer.kind == "conv" else 0
        steps.append(Step(layer, shape, (out_c, oh, ow), weights + bias, weights,
                          _formula(h, layer, oh)))  # fmt: skip
        shape = (out_c, oh, ow)
    return steps


def _formula(n: int, layer: Layer, out: int) -> str:
    """floor((n + 2p - d (k - 1) - 1) / s) + 1 at the layer's numbers."""
    k, s, p, d = layer.k, layer.s, layer.p, layer.d
    inside = n + 2 * p - d * (k - 1) - 1
    rounded = "" if inside % s == 0 else f", {inside}/{s} rounded down"
    return f"({n} + 2*{p} - {d}*({k} - 1) - 1)/{s} + 1 = {out}{rounded}"


def solve(n: int, out: int, p: int = 0, d: int = 1, exact: bool = True) -> list[tuple[int, int]]:
    """Every (stride, kernel) that gives ``out`` from ``n``, strides from 1; ``exact``: only
    those whose windows fit exactly (no pixel left over, as seed 003 tabulates them), else every
    pair that gives ``out`` with the floor."""
    if out < 1 or n < 1:
        raise DeriveError("the sizes are positive")
    pairs = []
    for s in range(1, n + 2 * p + 1):
        for k in range(1, n + 2 * p + 1):
            span = d * (k - 1) + 1
            if span > n + 2 * p:
                break
            if output_size(n, k, s, p, d) == out and (not exact or (n + 2 * p - span) % s == 0):
                pairs.append((s, k))
    return pairs


def _positive(text: str, where: str, zero: bool = False) -> int:
    if not re.fullmatch(r"\d{1,6}", text):
        raise DeriveError(f"{where}: {text!r} is not a whole number")
    value = int(text)
    if value > MAX_SIZE or value < (0 if zero else 1):
        raise DeriveError(f"{where}: {value} is out of range (1 to {MAX_SIZE})")
    return value
