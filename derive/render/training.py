"""The training curves of ``derive train --metrics OUT.json``, as a section of the report.

Reads the metrics file (checking what it needs, one-line errors), and turns it into a frozen
``Training`` of ready-to-print strings: pgfplots coordinates for the loss and accuracy curves, the
settings and the final figures. templates/training.tex.j2 draws it; the PDF needs only pgfplots.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from derive.errors import DeriveError
from derive.render.context import tex_text

EPOCH_KEYS = ("epoch", "lr", "train_loss", "test_loss", "test_accuracy")


@dataclass(frozen=True)
class Training:
    data: str
    data_tex: str
    size: str  # "d = 784, h = 50, c = 10, 39,760 parameters"
    size_tex: str
    settings: str  # a clause
    settings_tex: str
    epochs: int
    train_loss: str  # pgfplots coordinates: (1,0.68) (2,0.33) ...
    test_loss: str
    accuracy: str  # empty without a one-hot target
    final_train_loss: str
    final_test_loss: str
    final_accuracy: str  # "" without accuracy
    best_accuracy: str
    best_epoch: int
    rows: tuple[tuple[str, ...], ...]  # a few epochs for the table: epoch, lr, losses, accuracy


def read_metrics(path: Path, network: str) -> dict:
    """The metrics of ``network``, or a DeriveError naming what is wrong with the file."""
    if not path.is_file():
        raise DeriveError(f"{path}: no such metrics file (write one with derive train --metrics)")
    try:
        metrics = json.loads(path.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise DeriveError(f"{path}: not a JSON metrics file ({err})") from None
    epochs = metrics.get("epochs") if isinstance(metrics, dict) else None
    if not isinstance(epochs, list) or not epochs:
        raise DeriveError(f"{path}: no per-epoch list 'epochs' (write it with derive train)")
    for k, e in enumerate(epochs, 1):
        missing = [key for key in EPOCH_KEYS if not isinstance(e, dict) or key not in e]
        if missing:
            raise DeriveError(f"{path}: epoch {k} has no {missing[0]!r}")
        values = [e[key] for key in EPOCH_KEYS if e[key] is not None]
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise DeriveError(f"{path}: epoch {k} holds a value that is not a finite number")
    if metrics.get("network") != network:
        raise DeriveError(
            f"{path}: these are the metrics of {metrics.get('network')!r}, not of {network!r}"
        )
    return metrics


def _curve(epochs: list[dict], key: str) -> str:
    return " ".join(f"({e['epoch']},{e[key]:.6g})" for e in epochs if e[key] is not None)


def build(metrics: dict) -> Training:
    epochs = metrics["epochs"]
    last = epochs[-1]
    s = metrics.get("settings", {})
    settings = (
        f"{len(epochs)} epochs of mini-batch SGD, batch {s.get('batch_size', '?')}, "
        f"learning rate {s.get('lr', '?')}{_schedule(s.get('schedule', 'constant'))}"
        + (f", momentum {s['momentum']}" if s.get("momentum") else "")
        + f", seed {s.get('seed', '?')}"
    )
    sizes = (metrics.get("sizes") or {}).items()
    count = metrics.get("parameters")
    counted = [f"{count:,} parameters"] if count else []
    size = ", ".join([f"{k} = {v}" for k, v in sizes] + counted)
    size_tex = ", ".join([f"${tex_text(str(k))} = {v}$" for k, v in sizes] + counted)
    accurate = [e for e in epochs if e["test_accuracy"] is not None]
    best = max(accurate, key=lambda e: e["test_accuracy"]) if accurate else None
    shown = _milestones(len(epochs))
    rows = tuple(
        (
            str(e["epoch"]),
            f"{e['lr']:.3g}",
            f"{e['train_loss']:.4f}",
            f"{e['test_loss']:.4f}",
            "" if e["test_accuracy"] is None else f"{e['test_accuracy']:.4f}",
        )
        for k, e in enumerate(epochs, 1)
        if k in shown
    )
    return Training(
        data=str(metrics.get("data", "")),
        data_tex=tex_text(str(metrics.get("data", ""))),
        size=size,
        size_tex=size_tex,
        settings=settings,
        settings_tex=tex_text(settings),
        epochs=len(epochs),
        train_loss=_curve(epochs, "train_loss"),
        test_loss=_curve(epochs, "test_loss"),
        accuracy=_curve(epochs, "test_accuracy"),
        final_train_loss=f"{last['train_loss']:.4f}",
        final_test_loss=f"{last['test_loss']:.4f}",
        final_accuracy="" if last["test_accuracy"] is None else f"{last['test_accuracy']:.4f}",
        best_accuracy="" if best is None else f"{best['test_accuracy']:.4f}",
        best_epoch=0 if best is None else best["epoch"],
        rows=rows,
    )


def _schedule(text: str) -> str:
    kind, _, rest = str(text).partition(":")
    every, _, factor = rest.partition(":")
    if kind != "step":
        return ""
    return f", times {factor} every {every} epochs"


def _milestones(n: int, most: int = 12) -> set[int]:
    """Which epochs the table lists: all of a short run; else evenly spaced, first and last."""
    if n <= most:
        return set(range(1, n + 1))
    return {1, n} | {round(1 + k * (n - 1) / (most - 1)) for k in range(most)}
