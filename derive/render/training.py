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
from derive.render.context import md_text, tex_text

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
    loss_words: str = "loss"  # "negative ELBO"
    log_axis: bool = True  # the loss axis logarithmic: the curve spans a factor of 10 or more
    samples_file: str = ""  # the grid of decoder samples beside the report ("" without one)
    samples_source: Path | None = None  # where it is read from
    samples_how: str = ""  # how the samples were drawn, a sentence in LaTeX
    samples_how_md: str = ""  # the same in Markdown
    loss_words_md: str = "loss"


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


def samples_of(metrics: dict, where: Path) -> Path | None:
    """The PNG of decoder samples that the metrics name (relative to their folder ``where``),
    checked to be there and to be a PNG; None if they name none."""
    from derive.png import png_size

    entry = metrics.get("samples")
    if entry is None:
        return None
    file = entry.get("file") if isinstance(entry, dict) else None
    if not isinstance(file, str) or not file:
        raise DeriveError("the metrics' 'samples' names no file (write it with derive train "
                          "--samples FILE.png)")  # fmt: skip
    path = where / file
    if not path.is_file():
        raise DeriveError(f"{path}: no such samples image (the metrics name it; write it again "
                          "with derive train --samples)")  # fmt: skip
    with path.open("rb") as f:
        if png_size(f.read(32)) is None:
            raise DeriveError(f"{path}: not a PNG image (the metrics name it as the samples)")
    return path


def build(metrics: dict, where: Path | None = None) -> Training:
    """``where``: the folder of the metrics file, which the samples' path is relative to."""
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
        loss_words=tex_text(str(metrics.get("loss_words") or "loss")),
        log_axis=_spans_decades(epochs),
        loss_words_md=md_text(str(metrics.get("loss_words") or "loss")),
        **_samples_fields(metrics, where or Path.cwd()),
    )


def _spans_decades(epochs: list[dict]) -> bool:
    """Whether the losses span a factor of 10 (a log axis then reads well; 22 to 39 does not
    need 10^1.4 and 10^1.6 as ticks)."""
    values = [e[k] for e in epochs for k in ("train_loss", "test_loss")]
    low, high = min(values), max(values)
    return low > 0 and high / low >= 10


def _samples_fields(metrics: dict, where: Path) -> dict:
    source = samples_of(metrics, where)
    if source is None:
        return {}
    sigma = metrics["samples"].get("decoder_sigma")
    if not (isinstance(sigma, int | float) and math.isfinite(sigma) and sigma > 0):
        raise DeriveError("the metrics' 'samples' has no decoder_sigma, a positive number")
    return {
        "samples_file": f"{metrics.get('network', 'network')}-samples.png",
        "samples_source": source,
        "samples_how": (
            r"Each sample puts $\mathbf{z} \sim \mathcal{N}(\mathbf{0}, I)$, the prior, in "
            r"place of the latent; the noise added is $\sigma \mathbf{n}$, $\mathbf{n} \sim "
            rf"\mathcal{{N}}(\mathbf{{0}}, I)$, $\sigma = {sigma:g}$: the Gaussian decoder "
            r"$\mathcal{N}(\mathbf{x}; \hat{\mathbf{x}}, \sigma^{2} I)$ whose log-likelihood "
            r"the squared-error reconstruction is, up to a constant; the pixels are clipped to "
            r"$[0, 1]$ for display"
        ),
        "samples_how_md": (
            "Each sample puts z ~ N(0, I), the prior, in place of the latent; the noise added is "
            f"sigma n, n ~ N(0, I), sigma = {sigma:g}: the Gaussian decoder N(x; xhat, sigma^2 I) "
            "whose log-likelihood the squared-error reconstruction is, up to a constant; the "
            "pixels are clipped to [0, 1] for display"
        ),
    }


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
