"""Writing up the initialisation study: the terminal table, the conclusion sentence, and the
LaTeX (pgfplots) and Markdown write-ups of derive/initstudy.py's results.

Every number is formatted here, in one of three styles (``text`` for the terminal, ``tex``, and
``md`` with $...$ math), so the templates only arrange finished strings, as context.py does for
the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from derive.initstudy import BINS, COLLAPSED, SATURATED, TAIL, Study, Trend, trend
from derive.render.report import render, write_documents

#: How each initialisation is written: the distribution of the weights, as math.
WEIGHTS = {
    "small": ("N(0, 0.01^2)", r"\mathcal{N}(0, 0.01^2)"),
    "large": ("N(0, 1)", r"\mathcal{N}(0, 1)"),
    "xavier": ("N(0, 1/n_in)", r"\mathcal{N}(0, 1/n_{\mathrm{in}})"),
    "he": ("N(0, 2/n_in)", r"\mathcal{N}(0, 2/n_{\mathrm{in}})"),
}
INIT_NAMES = {
    "small": "small random weights",
    "large": "large random weights",
    "xavier": "Xavier initialisation",
    "he": "He initialisation",
}
ACTIVATION_NAMES = {"tanh": "tanh", "relu": "ReLU"}


# --- numbers ------------------------------------------------------------------------------
def number(x: float, style: str) -> str:
    """Three significant digits; powers of ten outside [0.001, 1000), as math unless text."""
    if style != "text":
        return f"${math_number(x)}$"
    mantissa, exponent = _digits(x)
    return mantissa if exponent is None else f"{mantissa}e{exponent:+03d}"


def math_number(x: float) -> str:
    """:func:`number` as the inside of math: 0.213, 2.98 \\times 10^{-7}."""
    mantissa, exponent = _digits(x)
    return mantissa if exponent is None else rf"{mantissa} \times 10^{{{exponent}}}"


def _digits(x: float) -> tuple[str, int | None]:
    plain = f"{x:.3g}"
    if x == 0 or (1e-3 <= abs(x) < 1e3 and "e" not in plain):  # 999.7 rounds to 1e+03
        return ("0" if x == 0 else plain), None
    mantissa, exponent = f"{x:.2e}".split("e")
    return mantissa, int(exponent)


def percent(fraction: float, style: str) -> str:
    sign = r"\%" if style == "tex" else "%"
    if fraction == 0 or fraction == 1:
        return f"{100 * fraction:.0f}{sign}"
    if fraction < 0.001:  # never round a few saturated units down to "0%"
        return ("$<$" if style == "tex" else "<") + f"0.1{sign}"
    if fraction > 0.999:
        return ("$>$" if style == "tex" else ">") + f"99.9{sign}"
    return f"{100 * fraction:.1f}{sign}"


def _share(fraction: float, style: str) -> str:
    return "none" if fraction == 0 else percent(fraction, style)


def _math(text: str, tex: str, style: str) -> str:
    return text if style == "text" else f"${tex}$"


def saturated_label(style: str) -> str:
    # \lvert, not |, which would end a cell of a Markdown table
    return _math(f"|a| > {SATURATED}", rf"\lvert a \rvert > {SATURATED}", style)


def zero_label(style: str) -> str:
    return _math("a = 0", "a = 0", style)


# --- the conclusion -----------------------------------------------------------------------
def conclusion(study: Study, style: str = "text") -> str:
    """One sentence, worded from :func:`derive.initstudy.trend` and quoting its numbers."""
    t = trend(study)
    n = len(study.stats)

    def std(stats) -> str:
        return number(stats.std, style)

    def span(verb: str) -> str:  # "falls from 0.585 in layer 1 to 0.024 in layer 10, ..."
        if n == 1:
            return f"is {std(t.first)} in its one layer"
        factor = number(t.per_layer, style)
        return (
            f"{verb} from {std(t.first)} in layer 1 to {std(t.last)} in layer {n}, "
            f"a factor of {factor} per layer"
        )

    zeros = f"{percent(t.last.zero, style)} of those of layer {n} exactly zero"
    relu = study.activation == "relu"
    if t.kind == "saturate":
        pm = "+-1" if style == "text" else r"$\pm 1$"
        tanh_prime = _math("tanh' = 1 - tanh^2 < 0.02", r"\tanh' = 1 - \tanh^2 < 0.02", style)
        return (
            f"The activations saturate at {pm}: {percent(t.last.saturated, style)} of those of "
            f"layer {n} have {saturated_label(style)} ({percent(t.first.saturated, style)} in "
            f"layer 1), where {tanh_prime}, so almost no gradient flows back."
        )
    if t.kind == "collapse":
        # the layer from which on every std is below the threshold (the last one is)
        threshold = _math(f"{COLLAPSED:g}", f"{COLLAPSED:g}", style)
        below = next((s.layer for s in reversed(study.stats) if s.std >= COLLAPSED), 0) + 1
        return (
            f"The activations collapse to zero: their standard deviation {span('falls')}, below "
            f"{threshold} from layer {below} on"
            + (f" ({zeros})" if relu else "")
            + ", so the weight gradients, which multiply them, vanish too."
        )
    if t.kind == "shrink":
        return (
            f"The activations shrink with depth: their standard deviation {span('falls')}"
            + (f", with {zeros}" if relu else "")
            + "."
        )
    if t.kind == "explode":
        return f"The activations explode with depth: their standard deviation {span('grows')}."
    detail = (
        f"with {zeros} (ReLU cuts off the negative half)"
        if relu
        else f"with {_share(t.last.saturated, style)} of those of layer {n} saturated "
        f"({saturated_label(style)})"
    )
    return f"The activations stay healthy: their standard deviation {span('goes')}, {detail}."


# --- the terminal -------------------------------------------------------------------------
def heading(study: Study, style: str = "text") -> str:
    """The heading: tanh, small random weights, W ~ N(0, 0.01^2), with math unless text."""
    return f"{activation_name(study)}, {init_name(study, style)}"


def activation_name(study: Study) -> str:
    return ACTIVATION_NAMES[study.activation]


def init_name(study: Study, style: str) -> str:
    text, tex = WEIGHTS[study.init]
    weights = _math(f"W ~ {text}", rf"W \sim {tex}", style)
    return f"{INIT_NAMES[study.init]}, {weights}"


def terminal_lines(study: Study) -> list[str]:
    """The heading, a layer | mean | std | fraction table, and the conclusion."""
    relu = study.activation == "relu"
    last = "a = 0" if relu else f"|a| > {SATURATED}"
    rows = [("layer", "mean", "std", last)]
    for s in study.stats:
        rows.append((str(s.layer), number(s.mean, "text"), number(s.std, "text"),
                     percent(s.zero if relu else s.saturated, "text")))  # fmt: skip
    widths = [max(len(r[k]) for r in rows) for k in range(4)]
    table = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    setup = (
        f"{study.layers} layer{'s' if study.layers > 1 else ''} of {study.width}, "
        f"batch {study.batch}, seed {study.seed}, "
        f"weight std {number(study.weight_std, 'text')}"
    )
    return [f"{heading(study)}: {setup}", *table, conclusion(study), ""]


# --- the write-ups ------------------------------------------------------------------------
@dataclass(frozen=True)
class Panel:
    layer: int
    coordinates: str  # pgfplots "(x,y) (x,y) ..."; y in percent of the layer's activations
    note: str  # ReLU: the share exactly zero, which no bar shows


@dataclass(frozen=True)
class Row:
    layer: int
    mean: str
    std: str
    fraction: str
    bars: str  # Markdown: the histogram as a line of block characters


@dataclass(frozen=True)
class Experiment:
    key: str  # "tanh-small", for labels
    tanh: bool
    title: str
    bookmark: str  # the title without math, for the PDF's outline
    activation: str  # the title's two parts, for the summary table
    init: str
    top: str  # the right end of the histograms' axis, inside math
    columns: int
    grid_rows: int
    xmin: str
    xmax: str
    panels: tuple[Panel, ...]
    fraction_header: str
    rows: tuple[Row, ...]
    conclusion: str
    kind: str
    first_std: str
    last_std: str
    beyond: str  # ReLU: how much of a layer lies beyond the axis, at most; "" when nothing


@dataclass(frozen=True)
class Document:
    layers: int
    width: int
    batch: int
    seed: int
    bins: int
    tail: str
    experiments: tuple[Experiment, ...]


BLOCKS = " ▁▂▃▄▅▆▇█"


def bars(heights: tuple[float, ...]) -> str:
    """The histogram as block characters, scaled to its highest bar; a non-empty bar never shows
    as blank."""
    top = max(heights, default=0.0)
    if top <= 0:
        return " " * len(heights)
    steps = len(BLOCKS) - 1
    return "".join(BLOCKS[0 if h == 0 else max(1, round(steps * h / top))] for h in heights)


def experiment(study: Study, style: str) -> Experiment:
    t: Trend = trend(study)
    relu = study.activation == "relu"
    panels, rows = [], []
    for s in study.stats:
        h = s.histogram
        coordinates = " ".join(
            f"({x:.6g},{100 * y:.4g})" for x, y in zip(h.edges, (*h.heights, 0.0))
        )
        note = f"{percent(s.zero, style)} at 0" if relu else ""
        panels.append(Panel(s.layer, coordinates, note))
        fraction = s.zero if relu else s.saturated
        rows.append(Row(s.layer, number(s.mean, style), number(s.std, style),
                        percent(fraction, style), bars(h.heights)))  # fmt: skip
    edges = study.stats[0].histogram.edges
    beyond = max(s.histogram.beyond for s in study.stats)
    columns = min(5, study.layers)
    return Experiment(
        key=f"{study.activation}-{study.init}",
        tanh=not relu,
        title=heading(study, style),
        bookmark=f"{activation_name(study)}, {INIT_NAMES[study.init]}",
        activation=activation_name(study),
        init=init_name(study, style),
        top=math_number(edges[-1]),
        columns=columns,
        grid_rows=math.ceil(study.layers / columns),
        xmin=f"{edges[0]:.6g}",
        xmax=f"{edges[-1]:.6g}",
        panels=tuple(panels),
        fraction_header=zero_label(style) if relu else saturated_label(style),
        rows=tuple(rows),
        conclusion=conclusion(study, style),
        kind=t.kind,
        first_std=number(t.first.std, style),
        last_std=number(t.last.std, style),
        beyond=_beyond(beyond, style),
    )


def _beyond(fraction: float, style: str) -> str:
    if fraction == 0:
        return ""
    if fraction < 0.001:
        return "less than 0.1" + (r"\%" if style == "tex" else "%")
    return f"at most {percent(fraction, style)}"


def document(studies: list[Study], style: str) -> Document:
    s = studies[0]
    return Document(s.layers, s.width, s.batch, s.seed, BINS, f"{TAIL:g}",
                    tuple(experiment(study, style) for study in studies))  # fmt: skip


def render_tex(studies: list[Study]) -> str:
    return render("init_study.tex.j2", d=document(studies, "tex"))


def render_md(studies: list[Study]) -> str:
    return render("init_study.md.j2", d=document(studies, "md"))


def write_init_study(studies: list[Study], out_dir: Path, name: str,
                     formats: set[str]) -> list[Path]:  # fmt: skip
    """<name>.tex, and the PDF or the Markdown, through the report's writer: nothing lands in
    ``out_dir`` unless everything was made."""
    md = render_md(studies) if "md" in formats else None
    return write_documents(name, render_tex(studies), Path(out_dir), formats, md=md)
