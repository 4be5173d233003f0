"""The figure of a network's computational graph: where each quantity sits, and its edges.

Every input, parameter and node (the loss included) is a box labelled with its LaTeX name, and
every edge of the graph (quantity -> each node whose definition reads it, as
``Network.consumers`` has them) is an arrow. The layout is layered, left to right: a node stands
one column after the last quantity it reads, an input or a parameter one column before its first
use; within a column the boxes are ordered to keep edges short and straight (a few sweeps of the
barycentre heuristic), and an edge that spans several columns bends through reserved points so
that it passes between boxes, never through one. What the template marks:

- a quantity used by two or more nodes (fan-out: its residual sums over its uses);
- batch-level quantities (parameters, per-batch inputs, batch statistics, the loss), one value
  for the whole batch, as against per-sample ones, drawn as a stack (one per sample);
- the batch coupling: an edge from a batch statistic (a node of the whole batch computed from
  per-sample values, such as batch normalisation's mean) into a per-sample node, which carries
  every sample's values into every other sample.

templates/figures.tex.j2 draws it with TikZ; sizes here are in cm.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.expr import Quantity, leaves
from derive.render import breaking
from derive.render.printer import with_superscript

#: Centimetres per em of a label at the figure's font size (\small, 10 pt), with the box's inner
#: space around it, and the spacing of rows and the gap between columns.
EM, PAD, ROW, GAP, HEIGHT = 0.34, 0.45, 1.05, 1.0, 0.62
#: How far an edge runs straight out of (and into) a column before it slopes.
STUB = 0.15
SWEEPS = 8


@dataclass(frozen=True)
class Box:
    name: str  # the quantity's name, also the TikZ node's (q-<name>)
    label: str  # LaTeX math
    kind: str  # "input", "param", "node" or "loss"
    batch: bool  # one value for the whole batch (not per sample)
    statistic: bool  # a batch statistic: batch-level, computed from per-sample values
    fanout: bool  # read by two or more nodes
    x: float
    y: float
    width: float


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    via: tuple[tuple[float, float], ...]  # its bends: where it leaves and enters columns
    fanout: bool  # from a quantity read by two or more nodes
    coupling: bool  # from a batch statistic into a per-sample node

    @property
    def path(self) -> str:
        """TikZ: (q-a.east) -- (x, y) -- ... -- (q-b.west)."""
        points = [f"({x:.2f},{y:.2f})" for x, y in self.via]
        return " -- ".join([f"(q-{self.source}.east)", *points, f"(q-{self.target}.west)"])

    @property
    def branch(self) -> str:
        """Where the edges of a quantity read twice part: the edge of its column."""
        x, y = self.via[0]
        return f"({x:.2f},{y:.2f})"


@dataclass(frozen=True)
class Graph:
    boxes: tuple[Box, ...]
    edges: tuple[Edge, ...]
    branches: tuple[tuple[str, str], ...]  # (quantity, TikZ point) where its fan-out parts
    width: float  # cm, before any scaling to the text width
    height: float  # cm, of a box
    loss: str  # the loss's LaTeX
    has_fanout: bool
    has_coupling: bool
    has_statistic: bool
    has_batch_input: bool


def edges_of(net) -> list[tuple[Quantity, Quantity]]:
    """(read, node) for every quantity a node's definition reads, in declaration order."""
    order = {q: k for k, q in enumerate(net.quantities.values())}
    out = []
    for n in net.nodes:
        for q in sorted({leaf.q for leaf in leaves(n.definition)}, key=order.__getitem__):
            out.append((q, n))
    return out


def build(derivation) -> Graph:
    net = derivation.network
    quantities = list(net.quantities.values())
    pairs = edges_of(net)
    preds: dict[Quantity, list[Quantity]] = {q: [] for q in quantities}
    succs: dict[Quantity, list[Quantity]] = {q: [] for q in quantities}
    for a, b in pairs:
        preds[b].append(a)
        succs[a].append(b)
    column = _columns(quantities, preds, succs)

    # the layers, with a reserved point in every column a long edge passes
    layers: dict[int, list] = {}
    for q in quantities:
        layers.setdefault(column[q], []).append(q)
    chains: dict[tuple[Quantity, Quantity], list] = {}
    up: dict = {q: list(preds[q]) for q in quantities}
    down: dict = {q: list(succs[q]) for q in quantities}
    for a, b in pairs:
        chain = [a]
        for c in range(column[a] + 1, column[b]):
            point = ("via", a.name, b.name, c)
            layers[c].append(point)
            up[point], down[point] = [chain[-1]], []
            down[chain[-1]].append(point)
            chain.append(point)
        if len(chain) > 1:
            down[chain[-1]].append(b)
            up[b].append(chain[-1])
            down[a].remove(b)
            up[b].remove(a)
        chains[(a, b)] = chain[1:]

    order = _order(layers, up, down)
    widths = {q: _width(_label(q)) for q in quantities}
    band: dict[int, tuple[float, float]] = {}  # column -> (left, right)
    x = 0.0
    for c in sorted(layers):
        w = max((widths.get(v, 0.0) for v in order[c]), default=0.0)
        band[c] = (x, x + w)
        x += w + GAP
    ys = _rows(order, up, down, _spine(net, column, preds))

    def route(a: Quantity, b: Quantity) -> tuple[tuple[float, float], ...]:
        """Horizontal inside the columns (from the box to the column's edge, and across the
        columns it passes), sloping only in the gaps between columns."""
        points = [(band[column[a]][1] + STUB, ys[a])]
        for p in chains[(a, b)]:
            points += [(band[p[3]][0] - STUB, ys[p]), (band[p[3]][1] + STUB, ys[p])]
        points.append((band[column[b]][0] - STUB, ys[b]))
        return tuple((round(px, 3), round(py, 3)) for px, py in points)

    # a batch statistic: one value for the batch, computed from per-sample values and read by
    # per-sample nodes (batch normalisation's mean); a loss part, read by the loss only, is none
    statistic = {
        q
        for q in net.nodes
        if not q.batched and any(p.batched for p in _reads(q)) and any(w.batched for w in succs[q])
    }
    boxes = tuple(
        Box(
            name=q.name,
            label=_label(q),
            kind="loss" if q == net.loss_q else q.kind,
            batch=not q.batched,
            statistic=q in statistic,
            fanout=len(succs[q]) > 1,
            x=round(sum(band[column[q]]) / 2, 3),
            y=round(ys[q], 3),
            width=round(widths[q], 3),
        )
        for q in quantities
    )
    edges = tuple(
        Edge(
            a.name,
            b.name,
            route(a, b),
            fanout=len(succs[a]) > 1,
            coupling=a in statistic and b.batched,
        )
        for a, b in pairs
    )
    branches = {e.source: e.branch for e in edges if e.fanout}
    return Graph(
        boxes=boxes,
        edges=edges,
        branches=tuple((q.name, branches[q.name]) for q in quantities if q.name in branches),
        width=round(x - GAP, 2),
        height=HEIGHT,
        loss=net.loss_q.latex if net.loss_q is not None else "L",
        has_fanout=any(b.fanout for b in boxes),
        has_coupling=any(e.coupling for e in edges),
        has_statistic=any(b.statistic for b in boxes),
        has_batch_input=any(b.kind == "input" and b.batch for b in boxes),
    )


def _reads(q: Quantity) -> set[Quantity]:
    return {leaf.q for leaf in leaves(q.definition)} if q.definition is not None else set()


def _label(q: Quantity) -> str:
    """The quantity as the report writes it: per-sample ones with the sample index i."""
    return with_superscript(q.latex, "i") if q.batched else q.latex


def _width(label: str) -> float:
    return breaking.width(label) * EM + PAD


def _columns(quantities, preds, succs) -> dict[Quantity, int]:
    """A node one column after the last quantity it reads; an input or parameter one column
    before the first node that reads it (in declaration order), so that it stands beside its
    use; repeated until nothing moves."""
    column = {q: 0 for q in quantities}
    for _ in range(len(quantities) + 1):
        moved = False
        for q in quantities:
            if q.kind == "node":
                want = max((column[p] + 1 for p in preds[q]), default=0)
            else:
                want = column[succs[q][0]] - 1 if succs[q] else 0
            want = max(want, 0)
            if want != column[q]:
                column[q], moved = want, True
        if not moved:
            break
    low = min(column.values(), default=0)
    return {q: c - low for q, c in column.items()}


def _order(layers, up, down) -> dict[int, list]:
    """Each column's order, top to bottom: declaration order first, then sweeps that move each
    vertex to the mean position of its neighbours in the column before (or after)."""
    order = {c: list(vs) for c, vs in layers.items()}
    columns = sorted(order)

    def position(c):
        return {v: k for k, v in enumerate(order[c])}

    for sweep in range(SWEEPS):
        forward = sweep % 2 == 0
        run = columns[1:] if forward else columns[-2::-1]
        for c in run:
            near = position(c - 1 if forward else c + 1)
            here = position(c)

            def key(v, near=near, here=here, forward=forward):
                linked = [
                    (near[u], _weight(u, v)) for u in (up if forward else down)[v] if u in near
                ]
                return (_mean(linked) if linked else here[v], here[v])

            order[c].sort(key=key)
    return order


def _spine(net, column, preds) -> set[Quantity]:
    """The forward pass's main line: from the loss back, always to the quantity it reads that
    stands furthest right (a node before an input before a parameter, then the first
    declared), down to an input. It is drawn straight, at height 0."""
    rank = {"node": 0, "input": 1, "param": 2}
    order = {q: k for k, q in enumerate(net.quantities.values())}
    q, out = net.loss_q, set()
    while q is not None:
        out.add(q)
        q = min(preds[q], key=lambda p: (-column[p], rank[p.kind], order[p]), default=None)
    return out


def _rows(order, up, down, spine=frozenset()) -> dict:
    """The height of each vertex: near the mean height of its neighbours, keeping the column's
    order and at least ROW apart (a least-squares fit under the order, by pooling adjacent
    violators), alternately from the left and from the right."""
    ys = {}
    for vs in order.values():
        for k, v in enumerate(vs):
            ys[v] = -ROW * (k - (len(vs) - 1) / 2)
    columns = sorted(order)
    for sweep in range(SWEEPS):
        run = columns if sweep % 2 == 0 else columns[::-1]
        for c in run:
            vs = order[c]
            wants = []
            for v in vs:
                linked = [(ys[u], _weight(u, v)) for u in up[v] + down[v] if u in ys]
                wants.append(_mean(linked) if linked else ys[v])
            held = [v in spine for v in vs]
            wants = [0.0 if h else w for h, w in zip(held, wants)]
            ys.update(zip(vs, _fit(wants, _gaps(vs), [SPINE if h else 1.0 for h in held])))
    return ys


#: How strongly an edge between two nodes pulls them level, against one from an input or a
#: parameter: the chain of the forward pass runs straight, the parameters sit beside it.
NODE_WEIGHT = 2.0
#: How firmly the main line is held at its height.
SPINE = 1000.0


def _weight(u, v) -> float:
    def node(w):
        return not isinstance(w, tuple) and w.kind == "node"

    return NODE_WEIGHT if node(u) and node(v) else 1.0


def _mean(pairs) -> float:
    return sum(y * w for y, w in pairs) / sum(w for _, w in pairs)


def _gaps(vs) -> list[float]:
    """The least distance between neighbours of a column: a bend needs less room than a box."""
    out = []
    for a, b in zip(vs, vs[1:]):
        points = sum(isinstance(v, tuple) for v in (a, b))
        out.append(ROW if points == 0 else ROW * 0.75 if points == 1 else ROW * 0.4)
    return out


def _fit(wants: list[float], gaps: list[float], weights: list[float]) -> list[float]:
    """Heights closest to ``wants`` (top first, decreasing) with y_k - y_(k+1) >= gaps[k]."""
    offsets = [0.0]
    for g in gaps:
        offsets.append(offsets[-1] + g)
    # z_k = y_k + offset_k must be non-increasing: pool adjacent violators
    blocks: list[list[float]] = []  # [weighted sum, weight, count]
    for want, o, w in zip(wants, offsets, weights):
        blocks.append([(want + o) * w, w, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] < blocks[-1][0] / blocks[-1][1]:
            s, w, n = blocks.pop()
            blocks[-1][0] += s
            blocks[-1][1] += w
            blocks[-1][2] += n
    z = [s / w for s, w, n in blocks for _ in range(n)]
    return [zk - o for zk, o in zip(z, offsets)]
