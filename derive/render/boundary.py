"""Writing up the boundary study: a PNG of each panel's regions, the sentences that say what
changed across the series (worded from the numbers of derive/boundary.py), and the LaTeX page,
where pgfplots draws the points over the regions.

Every number is formatted here, in the styles of the initialisation study (``text`` for the
terminal, ``tex``), so the template only arranges finished strings.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from derive.boundary import GRID, Panel, Study, spread
from derive.render.context import tex_text
from derive.render.initstudy import math_number, number
from derive.render.report import render, write_documents

#: The regions' colours (RGB), light versions of the points' colours, and the boundary's.
REGION = ((199, 215, 245), (247, 207, 196))
EDGE = (60, 60, 60)
SAME = 0.005  # accuracies closer than this are "the same" (one sample in 200 is 0.005)


# --- the figure of a panel ------------------------------------------------------------------
def png(rgb: np.ndarray) -> bytes:
    """A PNG (8-bit RGB, no interlace) of an (rows, cols, 3) array of uint8, top row first."""
    rows, cols, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[r].tobytes() for r in range(rows))  # filter 0 on every row

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", cols, rows, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9))
            + chunk(b"IEND", b""))  # fmt: skip


def edges(classes: np.ndarray) -> np.ndarray:
    """The cells with a neighbour (left, right, up or down) of the other class: the boundary."""
    edge = np.zeros(classes.shape, dtype=bool)
    across = classes[:, 1:] != classes[:, :-1]
    edge[:, 1:] |= across
    edge[:, :-1] |= across
    up = classes[1:, :] != classes[:-1, :]
    edge[1:, :] |= up
    edge[:-1, :] |= up
    return edge


def regions(classes: np.ndarray) -> np.ndarray:
    """The panel's image: each cell in its class's colour, the boundary dark; the top row of the
    image is the top of the plane (classes hold row 0 at the bottom)."""
    rgb = np.array(REGION, dtype=np.uint8)[classes]
    rgb[edges(classes)] = EDGE
    return np.ascontiguousarray(rgb[::-1])


# --- the sentences --------------------------------------------------------------------------
def lam_text(lam: float, style: str) -> str:
    value = "0" if lam == 0 else f"{lam:g}"
    return f"lambda = {value}" if style == "text" else rf"$\lambda = {value}$"


def _acc(x: float, style: str) -> str:
    return f"{x:.3f}" if style == "text" else f"${x:.3f}$"


def hw(width, style: str) -> str:
    """h = 3 (the hidden width, the lecture's m), or a list of widths: h = 1, 2 and 3."""
    width = str(width).replace(" and ", ", ")
    return f"h = {width}" if style == "text" else f"$h = {width}$"


def _listed(values: Sequence[str]) -> str:
    return ", ".join(values[:-1]) + " and " + values[-1] if len(values) > 1 else values[0]


def _trend(values: Sequence[float], same: float) -> str:
    """rises, falls, stays, or goes (up and down) over the series."""
    steps = np.diff(values)
    if spread(values) < same:
        return "stays"
    if np.all(steps >= -same / 2):
        return "rises"
    if np.all(steps <= same / 2):
        return "falls"
    return "goes"


def _moves(values: Sequence[float], same: float, fmt) -> str:
    """ "rises from a to b", "falls ...", "stays at a", or "goes up and down from a to b"."""
    verb = _trend(values, same)
    if verb == "stays":
        return f"stays at {fmt(values[0])}"
    if verb == "goes":
        verb = "goes up and down"
    return f"{verb} from {fmt(values[0])} to {fmt(values[-1])}"


def width_sentence(study: Study, lam: float, seed: int, style: str) -> str:
    """How the training accuracy and the boundary change with the width, at one lambda and one
    seed, with the numbers."""
    widths = study.options.widths
    panels = [study.panel(lam, seed, w) for w in widths]
    acc = [p.accuracy for p in panels]
    accs = _listed([_acc(a, style) for a in acc])
    ws = _listed([str(w) for w in widths])
    where = f"With {lam_text(lam, style)} and seed {seed}"
    if len(widths) == 1:
        return f"{where}, the training accuracy at {hw(widths[0], style)} is {accs}."
    verb = _trend(acc, SAME)
    sentence = f"{where}, the training accuracy is {accs} at {hw(ws, style)}"
    first, last = _acc(acc[0], style), _acc(acc[-1], style)
    if verb == "stays":
        sentence += f": the width changes it by less than {SAME:g}"
    elif verb == "goes":
        best = widths[int(np.argmax(acc))]
        sentence += f": it goes up and down, highest at {hw(best, style)}"
    else:
        sentence += f": it {verb} from {first} to {last}"
    lengths = [p.length for p in panels]
    flat = [w for w, p in zip(widths, panels) if p.length == 0]
    moves = _moves(lengths, 0.05 * max(lengths + [1e-9]), lambda v: number(v, style))
    sentence += f", and the boundary's length {moves}"
    if flat:
        sentence += (f"; at {hw(_listed([str(w) for w in flat]), style)} the network gives every "
                     "point of the plane one class")  # fmt: skip
    return sentence + "."


def seed_sentence(study: Study, lam: float, style: str) -> str | None:
    """Where the initialisation matters most and least, at one lambda (with two seeds or more)."""
    seeds, widths = study.options.seeds, study.options.widths
    if len(seeds) < 2:
        return None
    spreads = []
    for w in widths:
        acc = [study.panel(lam, s, w).accuracy for s in seeds]
        spreads.append((spread(acc), w, acc))
    most = max(spreads, key=lambda t: t[0])
    least = min(spreads, key=lambda t: t[0])
    where = f"With {lam_text(lam, style)}"
    if most[0] < SAME:
        return (f"{where}, the seeds give the same training accuracy at every width "
                f"(within {SAME:g}).")  # fmt: skip
    lo, hi = int(np.argmin(most[2])), int(np.argmax(most[2]))
    sentence = (
        f"{where}, the initialisation matters most at {hw(most[1], style)}: the training accuracy "
        f"is {_acc(most[2][lo], style)} with seed {seeds[lo]} and {_acc(most[2][hi], style)} "
        f"with seed {seeds[hi]}"
    )
    if least[1] != most[1]:
        if least[0] < SAME:
            sentence += f"; at {hw(least[1], style)} every seed reaches {_acc(least[2][0], style)}"
        else:
            sentence += f"; it matters least at {hw(least[1], style)} (a spread of {least[0]:.3f})"
    return sentence + "."


def lam_sentence(study: Study, seed: int, width: int, style: str) -> str | None:
    """How lambda changes the weights' norm, the accuracy and the boundary, at one width."""
    lams = study.options.lams
    if len(lams) < 2:
        return None
    panels = [study.panel(lam, seed, width) for lam in lams]
    norms = [p.norm for p in panels]
    acc = [p.accuracy for p in panels]
    lengths = [p.length for p in panels]
    r = norm_text(study.options.network is not None, style)
    first, last = (lam_text(x, style).split("= ")[-1].rstrip("$") for x in (lams[0], lams[-1]))
    lam = "lambda" if style == "text" else r"$\lambda$"

    def num(v: float) -> str:
        return number(v, style)

    span = f"{first} to {last}" if style == "text" else f"${first}$ to ${last}$"
    sentence = (
        f"At {hw(width, style)} with seed {seed}, as {lam} goes from {span}, the weights' squared "
        f"norm {r} {_moves(norms, 0.02 * max(norms + [1e-9]), num)} "
        f"({_listed([num(n) for n in norms])}), the training accuracy "
        f"{_moves(acc, SAME, lambda v: _acc(v, style))}, and the boundary's length "
        f"{_moves(lengths, 0.05 * max(lengths + [1e-9]), num)}"
    )
    flat = [x for x, p in zip(lams, panels) if p.length == 0]
    if flat:
        sentence += (f"; at {_listed([lam_text(x, style) for x in flat])} the network gives "
                     "every point of the plane one class")  # fmt: skip
    return sentence + "."


def sentences(study: Study, style: str = "text") -> dict[float | None, list[str]]:
    """lambda -> its sentences (width, then seeds); None -> the sentences across lambda."""
    o = study.options
    out: dict[float | None, list[str]] = {}
    for lam in o.lams:
        said = [width_sentence(study, lam, s, style) for s in o.seeds]
        seeds = seed_sentence(study, lam, style)
        out[lam] = said + ([seeds] if seeds else [])
    across = [lam_sentence(study, o.seeds[0], w, style) for w in (o.widths[-1],)]
    out[None] = [s for s in across if s]
    return out


# --- the terminal ---------------------------------------------------------------------------
def norm_text(from_file: bool, style: str) -> str:
    """The regulariser's name: the squared norms of the study's two weight matrices, or of every
    matrix of a network file."""
    if from_file:
        return "sum ||W||^2" if style == "text" else r"$\sum_W \|W\|_F^2$"
    return "||W_1||^2 + ||W_2||^2" if style == "text" else r"$\|W_1\|_F^2 + \|W_2\|_F^2$"


def panel_line(p: Panel, from_file: bool = False) -> str:
    return (f"{lam_text(p.lam, 'text')}, seed {p.seed}, h = {p.width}: training accuracy "
            f"{p.accuracy:.3f}, J {number(p.loss, 'text')}, {norm_text(from_file, 'text')} "
            f"{number(p.norm, 'text')}, boundary length {number(p.length, 'text')}")  # fmt: skip


def terminal_lines(study: Study) -> list[str]:
    said = sentences(study, "text")
    return [s for group in said.values() for s in group]


# --- the page -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PanelView:
    file: str  # the PNG, beside the .tex
    width: int
    seed: int
    accuracy: str
    first_column: bool
    lam: str = ""  # in the figure across lambda: \lambda = 0.01, its title


@dataclass(frozen=True)
class Section:
    lam: str  # \lambda = 0.01
    sentences: tuple[str, ...]
    columns: int
    rows: int
    panels: tuple[PanelView, ...]
    figure: bool  # False when the figure across lambda already shows its one panel


@dataclass(frozen=True)
class Row:
    lam: str
    seed: int
    width: int
    accuracy: str
    loss: str
    norm: str
    length: str


@dataclass(frozen=True)
class Document:
    data: str
    description: str
    samples: int
    epochs: int
    batch_size: int
    lr: str
    momentum: str
    widths: str
    seeds: str
    lams: str
    extent: tuple[str, str, str, str]
    grid: int
    panel_size: str  # cm
    class0: str  # pgfplots table rows "x y"
    class1: str
    sections: tuple[Section, ...]
    across: tuple[str, ...]
    network: str  # the network file, or "" for the study's own network
    title: str  # its title
    norm: str  # the regulariser's name, as math
    across_panels: tuple[PanelView, ...]  # the widest width, the first seed, lambda by lambda
    across_width: int
    across_seed: int
    rows: tuple[Row, ...]


def file_names(study: Study, name: str) -> list[str]:
    return [f"{name}-{k:02d}.png" for k in range(1, len(study.panels) + 1)]


def document(study: Study, name: str) -> Document:
    o = study.options
    files = dict(zip([(p.lam, p.seed, p.width) for p in study.panels], file_names(study, name)))
    said = sentences(study, "tex")
    columns = len(o.widths)
    sections = []
    for lam in o.lams:
        views = tuple(
            PanelView(files[(lam, s, w)], w, s, f"{study.panel(lam, s, w).accuracy:.3f}", k == 0)
            for s in o.seeds
            for k, w in enumerate(o.widths)
        )
        single = len(views) == 1 and len(o.lams) > 1
        sections.append(Section(lam_text(lam, "tex"), tuple(said[lam]), columns, len(o.seeds),
                                views, not single))  # fmt: skip
    wide, first = o.widths[-1], o.seeds[0]
    across = tuple(
        PanelView(files[(lam, first, wide)], wide, first,
                  f"{study.panel(lam, first, wide).accuracy:.3f}", k == 0, lam_text(lam, "tex"))
        for k, lam in enumerate(o.lams)
    ) if len(o.lams) > 1 else ()  # fmt: skip
    size = min(3.6, (16.0 - 0.35 * (max(columns, len(across)) - 1)) / max(columns, len(across)))

    def table(k: int) -> str:
        return "\n".join(f"{a:.5f} {b:.5f}" for a, b in study.x[study.labels == k])

    rows = tuple(
        Row(
            lam_text(p.lam, "tex"),
            p.seed,
            p.width,
            f"{p.accuracy:.3f}",
            number(p.loss, "tex"),
            number(p.norm, "tex"),
            number(p.length, "tex"),
        )  # fmt: skip
        for p in study.panels
    )
    return Document(
        data=o.data,
        description=study.description,
        samples=o.samples,
        epochs=o.epochs,
        batch_size=o.batch_size,
        lr=f"{o.lr:g}",
        momentum=f"{o.momentum:g}",
        widths=", ".join(map(str, o.widths)),
        seeds=", ".join(map(str, o.seeds)),
        lams=", ".join("0" if x == 0 else f"{x:g}" for x in o.lams),
        extent=tuple(f"{v:.5f}" for v in study.extent),
        grid=GRID,
        panel_size=f"{size:.2f}",
        class0=table(0),
        class1=table(1),
        sections=tuple(sections),
        across=tuple(said[None]),
        network=tex_text(str(o.network)) if o.network is not None else "",
        title=tex_text(study.title),
        norm=norm_text(o.network is not None, "tex"),
        across_panels=across,
        across_width=wide,
        across_seed=first,
        rows=rows,
    )


def figures(study: Study, name: str) -> dict[str, bytes]:
    return {f: png(regions(p.classes)) for f, p in zip(file_names(study, name), study.panels)}


def render_tex(study: Study, name: str) -> str:
    return render("boundary.tex.j2", d=document(study, name), math_number=math_number)


def write_boundary(study: Study, out_dir: Path, name: str, formats: set[str]) -> list[Path]:
    """<name>.tex, a PNG per panel and the PDF, through the report's writer: nothing lands in
    ``out_dir`` unless everything was made."""
    return write_documents(name, render_tex(study, name), Path(out_dir), formats,
                           assets=figures(study, name))  # fmt: skip
