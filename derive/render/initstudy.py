"""Writing up the initialisation study: the terminal table, the conclusion sentences (one for the
activations, one for the gradients), and the LaTeX (pgfplots) and Markdown write-ups of
derive/initstudy.py's results.

Every number is formatted here, in one of three styles (``text`` for the terminal, ``tex``, and
``md`` with $...$ math), so the templates only arrange finished strings, as context.py does for
the report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from derive.initstudy import (
    BINS,
    COLLAPSED,
    SATURATED,
    TAIL,
    Flow,
    GradientStats,
    Study,
    Trend,
    flow,
    trend,
)
from derive.render.report import render, write_documents

#: How each initialisation is written: the distribution of the weights, as math.
WEIGHTS = {
    "zero": ("0", "0"),
    "small": ("N(0, 0.01^2)", r"\mathcal{N}(0, 0.01^2)"),
    "large": ("N(0, 1)", r"\mathcal{N}(0, 1)"),
    "xavier": ("N(0, 1/n_in)", r"\mathcal{N}(0, 1/n_{\mathrm{in}})"),
    "he": ("N(0, 2/n_in)", r"\mathcal{N}(0, 2/n_{\mathrm{in}})"),
}
INIT_NAMES = {
    "zero": "zero weights",
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
    sign = _percent_sign(style)
    if fraction == 0 or fraction == 1:
        return f"{100 * fraction:.0f}{sign}"
    if fraction < 0.001:  # never round a few saturated units down to "0%"
        return ("$<$" if style == "tex" else "<") + f"0.1{sign}"
    if fraction > 0.999:
        return ("$>$" if style == "tex" else ">") + f"99.9{sign}"
    return f"{100 * fraction:.1f}{sign}"


def _percent_sign(style: str) -> str:
    return r"\%" if style == "tex" else "%"


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
    if t.kind == "zero":
        every = f"all {n} layers" if n > 1 else "its one layer"
        m, w = study.batch, study.width
        size = _math(f"{m} x {w}", rf"{m} \times {w}", style)
        return (
            f"Every activation is exactly 0: {percent(1.0, style)} of the {size} activations of "
            f"{every}, so all {study.width} units of a layer compute the same."
        )
    if t.kind == "saturate":
        pm = "+-1" if style == "text" else r"$\pm 1$"
        tanh_prime = _math("tanh' = 1 - tanh^2 < 0.02", r"\tanh' = 1 - \tanh^2 < 0.02", style)
        return (
            f"The activations saturate at {pm}: {percent(t.last.saturated, style)} of those of "
            f"layer {n} have {saturated_label(style)} ({percent(t.first.saturated, style)} in "
            f"layer 1), where {tanh_prime}."
        )
    if t.kind == "collapse":
        # the layer from which on every std is below the threshold (the last one is)
        threshold = _math(f"{COLLAPSED:g}", f"{COLLAPSED:g}", style)
        below = next((s.layer for s in reversed(study.stats) if s.std >= COLLAPSED), 0) + 1
        return (
            f"The activations collapse to zero: their standard deviation {span('falls')}, below "
            f"{threshold} from layer {below} on" + (f" ({zeros})" if relu else "") + "."
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


def layers_phrase(layers: tuple[int, ...], n: int) -> str:
    """ "all 10 layers", "layer 3", "layers 1 to 9", "layers 2, 5 and 7"."""
    if len(layers) == n:
        return f"all {n} layers" if n > 1 else "its one layer"
    if len(layers) == 1:
        return f"layer {layers[0]}"
    if list(layers) == list(range(layers[0], layers[-1] + 1)):
        return f"layers {layers[0]} to {layers[-1]}"
    return "layers " + ", ".join(map(str, layers[:-1])) + f" and {layers[-1]}"


def residual_name(style: str) -> str:
    return _math("dL/da_l", r"\partial L / \partial \mathbf{a}_l", style)


def gradient_name(style: str) -> str:
    return _math("dL/dW_l", r"\partial L / \partial W_l", style)


def flow_conclusion(study: Study, style: str = "text") -> str:
    """What the backward pass did, worded from :func:`derive.initstudy.flow` and quoting its
    numbers: the residual followed from the top layer down, then the weight gradients."""
    f: Flow = flow(study)
    n = len(study.gradients)
    residual, gradient = residual_name(style), gradient_name(style)
    symmetry = (
        f"all {study.width} units of every layer get identical gradients (every row of "
        f"{gradient} is the same): the symmetry between them is never broken"
    )
    if f.kind == "dead":
        text = f"No weight gets a gradient: {gradient} is exactly 0 in {layers_phrase(f.still, n)}."
        if f.silent and f.silent == tuple(range(1, n)):
            text += (
                f" The residual {residual} is exactly 0 in every layer below layer {n} (the top "
                "one, where the upstream gradient enters)"
            )
        elif f.silent:
            text += f" The residual {residual} is exactly 0 in {layers_phrase(f.silent, n)}"
        else:
            text += " The residual reaches every layer"
        if trend(study).kind == "zero":
            text += ", and every activation is 0"
        text += ", so gradient descent never moves the weights"
        return text + (f"; {symmetry}." if f.symmetric else ".")

    def std(g: GradientStats) -> str:
        return number(g.residual_size, style)

    if n == 1:
        span = f"is {std(f.top)} in its one layer"
    else:
        verb = {"vanish": "falls", "explode": "grows"}.get(f.kind, "goes")
        span = (
            f"{verb} from {std(f.top)} at layer {n} to {std(f.bottom)} at layer 1, a factor of "
            f"{number(f.per_layer, style)} per layer"
        )
    opening = {
        "vanish": "The gradient vanishes on its way down",
        "explode": "The gradient explodes on its way down",
        "steady": "The gradient flows back steadily" if n > 1 else "The gradient reaches the layer",
    }[f.kind]
    single = study.batch * study.width == 1  # one entry: its absolute value, not its std 0
    measure = "the absolute value" if single else "the standard deviation"
    text = f"{opening}: {measure} of the residual {residual} {span}"
    last = study.stats[-1]
    if study.activation == "tanh" and last.saturated >= 0.5:
        tanh_prime = _math("tanh' < 0.02", r"\tanh' < 0.02", style)
        text += (
            f", although {percent(last.saturated, style)} of the units of layer {n} are "
            f"saturated and pass on less than 2{_percent_sign(style)} of it ({tanh_prime})"
        )
    low, high = number(f.weight_low, style), number(f.weight_high, style)
    one = f.weight_low == f.weight_high or n == 1
    stds = f"is {low}" if one else f"lies between {low} and {high}"
    if study.width > 1:
        text += f". The standard deviation of the weight gradients {gradient} {stds}"
    else:
        text += f". The weight gradient {gradient}, one entry per layer, {stds} in absolute value"
    if study.weight_std > 0:
        text += f" (the weights are drawn with {number(study.weight_std, style)})"
    if f.still:
        text += f"; {gradient} is exactly 0 in {layers_phrase(f.still, n)}"
    return text + (f"; {symmetry}." if f.symmetric else ".")


# --- the terminal -------------------------------------------------------------------------
def heading(study: Study, style: str = "text") -> str:
    """The heading: tanh, small random weights, W ~ N(0, 0.01^2), with math unless text."""
    return f"{activation_name(study)}, {init_name(study, style)}"


def activation_name(study: Study) -> str:
    return ACTIVATION_NAMES[study.activation]


def init_name(study: Study, style: str) -> str:
    return f"{INIT_NAMES[study.init]}, {weights_name(study, style)}"


def weights_name(study: Study, style: str) -> str:
    """W ~ N(0, 0.01^2), or W = 0."""
    text, tex = WEIGHTS[study.init]
    relation = ("=", "=") if study.init == "zero" else ("~", r"\sim")
    return _math(f"W {relation[0]} {text}", rf"W {relation[1]} {tex}", style)


def terminal_lines(study: Study) -> list[str]:
    """The heading, a table (layer | the activations' mean, std and fraction saturated or zero |
    the std of the residual and of the weight gradient), and the two conclusions."""
    relu = study.activation == "relu"
    last = "a=0" if relu else f"|a|>{SATURATED}"
    rows = [("layer", "mean", "std", last, "std(dL/da)", "std(dL/dW)")]
    for s, g in zip(study.stats, study.gradients, strict=True):
        rows.append((str(s.layer), number(s.mean, "text"), number(s.std, "text"),
                     percent(s.zero if relu else s.saturated, "text"),
                     number(g.residual_std, "text"), number(g.weight_std, "text")))  # fmt: skip
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]))]
    table = ["  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in rows]
    setup = (
        f"{study.layers} layer{'s' if study.layers > 1 else ''} of {study.width}, "
        f"batch {study.batch}, seed {study.seed}, "
        f"weight std {number(study.weight_std, 'text')}"
    )
    return [f"{heading(study)}: {setup}", *table, conclusion(study), flow_conclusion(study), ""]


# --- the write-ups ------------------------------------------------------------------------
@dataclass(frozen=True)
class Panel:
    layer: int
    coordinates: str  # pgfplots "(x,y) (x,y) ..."; y in percent of the layer's activations
    note: str  # ReLU: the share exactly zero, which no bar shows
    empty: bool  # no bar at all (ReLU, every activation 0): the axis gets a fixed height


@dataclass(frozen=True)
class Row:
    layer: int
    mean: str
    std: str
    fraction: str
    bars: str  # Markdown: the histogram as a line of block characters


@dataclass(frozen=True)
class GradientRow:
    layer: int
    residual_mean: str
    residual_std: str
    weight_mean: str
    weight_std: str


@dataclass(frozen=True)
class Series:
    """One line of the standard deviations per layer: the positive values on the log axis, and
    the exact zeros, which a log axis cannot show, as open marks on its bottom edge."""

    legend: str
    style: str  # pgfplots options: colour and mark
    coordinates: str
    zeros: str


@dataclass(frozen=True)
class StdPlot:
    ymin: str  # powers of ten around every positive value
    ymax: str
    series: tuple[Series, ...]
    zeros: bool  # some value is exactly 0 (the caption says how it is drawn)


@dataclass(frozen=True)
class Experiment:
    key: str  # "tanh-small", for labels
    tanh: bool
    title: str
    bookmark: str  # the title without math, for the PDF's outline
    activation: str  # the title's two parts, for the summary table
    init: str
    weights: str  # the init's distribution alone, for the PDF's summary table
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
    gradient_rows: tuple[GradientRow, ...]
    flow_conclusion: str
    flow_kind: str
    bottom_residual: str  # the std of the residual at layer 1
    weight_range: str  # the std of the weight gradients, lowest to highest over the layers
    plot: StdPlot


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
        panels.append(Panel(s.layer, coordinates, note, not any(h.heights)))
        fraction = s.zero if relu else s.saturated
        rows.append(Row(s.layer, number(s.mean, style), number(s.std, style),
                        percent(fraction, style), bars(h.heights)))  # fmt: skip
    edges = study.stats[0].histogram.edges
    beyond = max(s.histogram.beyond for s in study.stats)
    columns = min(5, study.layers)
    f = flow(study)
    gradient_rows = tuple(
        GradientRow(
            g.layer,
            number(g.residual_mean, style),
            number(g.residual_std, style),
            number(g.weight_mean, style),
            number(g.weight_std, style),
        )  # fmt: skip
        for g in study.gradients
    )
    low, high = number(f.weight_low, style), number(f.weight_high, style)
    return Experiment(
        key=f"{study.activation}-{study.init}",
        tanh=not relu,
        title=heading(study, style),
        bookmark=f"{activation_name(study)}, {INIT_NAMES[study.init]}",
        activation=activation_name(study),
        init=init_name(study, style),
        weights=weights_name(study, style),
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
        gradient_rows=gradient_rows,
        flow_conclusion=flow_conclusion(study, style),
        flow_kind=f.kind,
        bottom_residual=number(f.bottom.residual_size, style),
        weight_range=low if low == high else f"{low} to {high}",
        plot=std_plot(study),
    )


#: The lines of the standard-deviation plot: legend (LaTeX), pgfplots style, and the values.
PLOT_LINES: tuple[tuple[str, str, str], ...] = (
    (r"activations $\mathbf{a}_l$", "blue!70!black, mark=*", "activations"),
    (r"residual $\partial L / \partial \mathbf{a}_l$", "red!75!black, mark=square*", "residual"),
    (r"weight gradient $\partial L / \partial W_l$", "green!50!black, mark=triangle*",
     "weights"),
)  # fmt: skip


def std_plot(study: Study) -> StdPlot:
    """Every layer's standard deviation of the activations, the residual and the weight
    gradient (of a one-entry array its absolute value), for a log axis: exact zeros are drawn on
    its floor instead."""
    values = {
        "activations": [s.std for s in study.stats],
        "residual": [g.residual_size for g in study.gradients],
        "weights": [g.weight_size for g in study.gradients],
    }
    positive = [v for vs in values.values() for v in vs if v > 0]
    any_zero = len(positive) < sum(len(vs) for vs in values.values())
    low = math.floor(math.log10(min(positive))) if positive else 0
    low -= 1 if any_zero else 0  # a decade of room between the zeros and the smallest value
    high = math.ceil(math.log10(max(positive))) if positive else 1
    high = max(high, low + 1)
    floor = 10.0**low
    series = []
    for (legend, style, key), shift in zip(PLOT_LINES, ZERO_SHIFTS, strict=True):
        layers = range(1, len(values[key]) + 1)
        points = [(k, v) for k, v in zip(layers, values[key]) if v > 0]
        # side by side, so that two lines' zeros at one layer do not hide each other
        zeros = [(k + shift, floor) for k, v in zip(layers, values[key]) if v == 0]
        series.append(Series(legend, style, _coordinates(points), _coordinates(zeros)))
    return StdPlot(f"1e{low}", f"1e{high}", tuple(series), any_zero)


ZERO_SHIFTS = (-0.2, 0.0, 0.2)  # in layers, one per line of PLOT_LINES


def _coordinates(points: list[tuple[float, float]]) -> str:
    return " ".join(f"({k:g},{v:.6g})" for k, v in points)


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
