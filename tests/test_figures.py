"""The report's figures: the computational graph (TikZ) and the activations with their derivatives
(pgfplots). What is drawn is read back from the .tex and compared with what is computed here
another way: the graph's edges from the definitions walked by hand, the derivative by central
differences of the function evaluated by SymPy in 30 digits."""

from __future__ import annotations

import re

import pytest
import sympy as sp
from conftest import EXAMPLES, need_latex

import derive
from derive.expr import Leaf
from derive.ops.elementwise import S
from derive.render import activations, graphfigure
from derive.render.printer import with_superscript
from derive.render.report import render_tex, write_report

EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.glob("*.py"))
SETTINGS = {"klayer.py": {"k": 5}}  # the largest: 5 layers


@pytest.fixture(scope="module")
def derivations():
    out = {}
    for name in EXAMPLE_FILES:
        out[name] = derive.load(EXAMPLES / name, **SETTINGS.get(name, {})).derive()
    return out


def read_edges(tex: str) -> list[tuple[str, str, str]]:
    """(style, source, target) of every arrow of the graph."""
    found = re.findall(r"\\draw\[(edge[^\]]*)\] \(q-(\w+)\.east\).*?\(q-(\w+)\.west\);", tex)
    return [(style, a, b) for style, a, b in found]


def read_boxes(tex: str) -> dict[str, str]:
    """name -> the styles of its box."""
    return dict(
        (name, style) for style, name in re.findall(r"\\node\[([^\]]*)\] \(q-(\w+)\) at", tex)
    )


def graph_edges(net) -> list[tuple[str, str]]:
    """Each node's definition walked by hand: (quantity read, node), each pair once."""
    out = []
    for q in net.quantities.values():
        if q.definition is None:
            continue
        read, stack = [], [q.definition]
        while stack:
            e = stack.pop()
            if isinstance(e, Leaf):
                if e.q.name not in read:
                    read.append(e.q.name)
            else:
                stack.extend(e.children)
        out += [(r, q.name) for r in read]
    return out


# --- the computational graph --------------------------------------------------------------
@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_the_graph_draws_exactly_the_graphs_edges(derivations, name):
    derivation = derivations[name]
    net = derivation.network
    tex = render_tex(derivation)
    drawn = read_edges(tex)
    expected = graph_edges(net)
    assert sorted((a, b) for _, a, b in drawn) == sorted(expected)
    assert len(drawn) == len(set((a, b) for _, a, b in drawn))
    # every input, parameter and node (the loss too) is a box, once, with its LaTeX name
    boxes = read_boxes(tex)
    assert set(boxes) == set(net.quantities)
    assert tex.count(f"(q-{net.loss_q.name}) at") == 1
    assert "loss" in boxes[net.loss_q.name].split(", ")
    for q in net.quantities.values():
        label = re.search(rf"\(q-{q.name}\) at \([^)]*\) \{{\$(.*)\$\}};", tex).group(1)
        # as the report writes it: a per-sample quantity with the sample index i
        assert label == (with_superscript(q.latex, "i") if q.batched else q.latex)
        assert "^{i}" in label or ", i}" in label or not q.batched
        # a stack for a per-sample quantity, a single box for one of the whole batch
        assert boxes[q.name].startswith("sample" if q.batched else "box"), q.name


@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_fan_out_is_marked(derivations, name):
    net = derivations[name].network
    tex = render_tex(derivations[name])
    uses: dict[str, int] = {}
    for a, _ in graph_edges(net):
        uses[a] = uses.get(a, 0) + 1
    for style, a, _ in read_edges(tex):
        assert ("fanout" in style.split(", ")) == (uses[a] > 1), (a, style)
    dots = re.findall(r"\\fill\[branch\] \(([^)]*)\) circle", tex)
    assert len(dots) == len(set(dots)) == sum(n > 1 for n in uses.values())
    if dots:
        assert "branches at a dot" in tex


def test_fan_out_in_the_examples_that_have_it(derivations):
    """x feeds both tasks of the multi-task network; W feeds z and the regulariser in lecture 3."""
    for name, source in [("multitask.py", "x"), ("linear_softmax.py", "W"), ("klayer.py", "W1")]:
        edges = read_edges(render_tex(derivations[name]))
        styles = [style for style, a, _ in edges if a == source]
        assert len(styles) >= 2 and all("fanout" in s for s in styles)


@pytest.mark.parametrize(
    "name, statistics, into",
    [("batchnorm.py", {"mu_b", "v_b"}, {"shat_b"}), ("multitask.py", {"mu"}, {"x_BN"})],
)
def test_the_batch_coupling_is_marked(derivations, name, statistics, into):
    net = derivations[name].network
    tex = render_tex(derivations[name])
    boxes = read_boxes(tex)
    marked = {n for n, style in boxes.items() if "statistic" in style.split(", ")}
    assert marked == statistics
    coupling = {(a, b) for style, a, b in read_edges(tex) if "coupling" in style}
    # every edge from a batch statistic into a per-sample node, and no other
    expected = {
        (a, b) for a, b in graph_edges(net) if a in statistics and net.quantities[b].batched
    }
    assert coupling == expected and {b for _, b in coupling} == into
    assert "couples the samples of the batch" in tex


def test_no_coupling_without_a_batch_statistic(derivations):
    for name in ("mlp2.py", "hand321.py", "vae.py", "klayer.py"):
        tex = render_tex(derivations[name])
        assert not any("coupling" in s for s, _, _ in read_edges(tex))
        assert "statistic" not in "".join(read_boxes(tex).values())


@pytest.mark.parametrize("name", ["multitask.py", "klayer.py", "batchnorm.py", "vae.py"])
def test_boxes_do_not_overlap(derivations, name):
    g = graphfigure.build(derivations[name])
    boxes = g.boxes
    for k, a in enumerate(boxes):
        for b in boxes[k + 1 :]:
            apart_x = abs(a.x - b.x) >= (a.width + b.width) / 2
            apart_y = abs(a.y - b.y) >= g.height + 0.3
            assert apart_x or apart_y, (a.name, b.name)
    # arrows go left to right, and every bend lies between the columns it joins
    x = {b.name: b.x for b in boxes}
    for e in g.edges:
        assert x[e.source] < x[e.target]
        xs = [p[0] for p in e.via]
        assert xs == sorted(xs)


# --- activations ---------------------------------------------------------------------------
def test_which_functions_are_activations(derivations):
    """A layer's nonlinearity only: not the VAE's exp(log sigma^2 / 2), nor a loss's log."""
    found = {
        name: [(fn.name, [q.name for q in qs]) for fn, qs in activations.activations(d.network)]
        for name, d in derivations.items()
    }
    assert found["multitask.py"] == [("sin", ["x_1A"]), ("ReLU", ["x_BNstar"])]
    assert found["vae.py"] == [("tanh", ["h_e", "h_d"]), ("sigmoid", ["xhat"])]
    assert found["hand321.py"] == [("sigmoid", ["h", "o"])]
    assert found["klayer.py"] == [("ReLU", ["x1", "x2", "x3", "x4"])]
    assert found["linear_softmax.py"] == found["losses.py"] == []
    tex = render_tex(derivations["linear_softmax.py"])
    assert "fig:activations" not in tex and r"\begin{axis}" not in tex


def read_plots(tex: str) -> list[dict]:
    """Each axis: its legend, the pieces of f and of f', and the open ends of their jumps."""
    out = []
    for axis in re.findall(r"\\begin\{axis\}(.*?)\\end\{axis\}", tex, re.S):
        plots = re.findall(r"\\addplot\[([^\]]*)\] coordinates \{([^}]*)\};", axis)

        def points(text):
            return [tuple(map(float, p.split(","))) for p in re.findall(r"\(([^)]*)\)", text)]

        f = [points(c) for style, c in plots if "blue" in style and "only marks" not in style]
        d = [points(c) for style, c in plots if "red" in style and "only marks" not in style]
        jumps = [points(c) for style, c in plots if "red" in style and "only marks" in style]
        out.append({"legend": re.findall(r"\\addlegendentry\{(.*)\}", axis), "f": f, "d": d,
                    "jumps": jumps[0] if jumps else []})  # fmt: skip
    return out


def f_at(expr, x: float) -> float:
    return float(sp.re(expr.subs(S, sp.Float(x, 40)).evalf(30)))


def check_curves(expr, plot, breaks=()):
    """f is the function at every plotted point; f' is its central difference there (one-sided
    next to a break), and the central difference of the plotted f coordinates themselves."""
    h = 1e-7
    for piece in plot["f"]:
        for x, y in piece:
            near = [b for b in breaks if abs(x - b) < 1e-6]
            if not near:
                assert y == pytest.approx(f_at(expr, x), rel=1e-5, abs=1e-5)
    for fpiece, dpiece in zip(plot["f"], plot["d"], strict=True):
        assert [x for x, _ in fpiece] == [x for x, _ in dpiece]
        lo, hi = fpiece[0][0], fpiece[-1][0]
        for k, (x, y) in enumerate(dpiece):
            if x - h < lo and lo > -4:
                diff = (f_at(expr, x + 2 * h) - f_at(expr, x + h)) / h
            elif x + h > hi and hi < 4:
                diff = (f_at(expr, x - h) - f_at(expr, x - 2 * h)) / h
            else:
                diff = (f_at(expr, x + h) - f_at(expr, x - h)) / (2 * h)
            assert y == pytest.approx(diff, abs=1e-4), x
            if 0 < k < len(dpiece) - 1:
                (x0, y0), (x1, y1) = fpiece[k - 1], fpiece[k + 1]
                assert y == pytest.approx((y1 - y0) / (x1 - x0), abs=2e-2), x


def test_multitask_plots_sin_and_relu(derivations):
    plots = read_plots(render_tex(derivations["multitask.py"]))
    assert [p["legend"] for p in plots] == [
        [r"$\sin\left(s\right)$", r"$\sin'\left(s\right) = \cos\left(s\right)$"],
        [r"$\operatorname{ReLU}\left(s\right)$",
         r"$\operatorname{ReLU}'\left(s\right) = \mathbb{1}\left[s > 0\right]$"],
    ]  # fmt: skip
    sin, relu = plots
    check_curves(sp.sin(S), sin)
    check_curves(sp.Max(0, S), relu, breaks=(0.0,))
    # ReLU' is a step: two flat pieces meeting at 0 with open ends, no vertical line
    assert len(relu["d"]) == 2
    assert {y for _, y in relu["d"][0]} == {0.0} and {y for _, y in relu["d"][1]} == {1.0}
    assert relu["d"][0][-1][0] == relu["d"][1][0][0] == 0.0
    assert sorted(relu["jumps"]) == [(0.0, 0.0), (0.0, 1.0)]
    assert len(sin["d"]) == 1 and not sin["jumps"]


def test_sigmoid_is_labelled_as_the_report_names_it(derivations):
    tex = render_tex(derivations["hand321.py"])
    (plot,) = read_plots(tex)
    assert plot["legend"] == [
        r"$\sigma\left(s\right)$",
        r"$\sigma'\left(s\right) = \left[\sigma\left(s\right)\right] "
        r"\left[1 - \sigma\left(s\right)\right]$",
    ]
    check_curves(1 / (1 + sp.exp(-S)), plot)
    assert r"is the nonlinearity of $\mathbf{h}$ and $o$" in tex


def custom_network():
    """Custom activations, written by a user: GELU and swish; and a leaky ReLU, an ELU, abs."""
    gelu = derive.elementwise("GELU", lambda t: t / 2 * (1 + sp.erf(t / sp.sqrt(2))))
    swish = derive.elementwise("swish", lambda t: t / (1 + sp.exp(-t)))
    net = derive.Network("custom")
    d = net.dim("d", 2)
    x = net.input("x", d)
    W = net.param("W", (d, d))
    a = net.node("a", gelu(W * x), layer="1")
    b = net.node("b", swish(a), layer="2")
    c = net.node("c", derive.leaky_relu(b, 0.1), layer="3")
    e = net.node("e", derive.elu(c, 1), layer="4")
    f = net.node("f", derive.absolute(e), layer="5")
    net.loss("L", derive.mean(derive.sq_norm(f)))
    return net


def test_custom_and_piecewise_activations_are_plotted_from_their_sympy_form():
    net = custom_network()
    tex = render_tex(net.derive())
    plots = read_plots(tex)
    fns = [fn for fn, _ in activations.activations(net)]
    assert [fn.name for fn in fns] == ["GELU", "swish", "leaky_ReLU", "ELU", "abs"]
    assert len(plots) == 5
    for fn, plot in zip(fns, plots, strict=True):
        breaks = activations.breakpoints(fn)
        check_curves(fn.expr, plot, breaks)
    gelu, swish, leaky, elu, absolute = plots
    assert len(gelu["d"]) == len(swish["d"]) == 1
    # the leaky ReLU's derivative steps from 0.1 to 1; the ELU's (alpha = 1) does not jump
    assert len(leaky["d"]) == 2 and sorted(leaky["jumps"]) == [(0.0, 0.1), (0.0, 1.0)]
    assert len(elu["d"]) == 2 and not elu["jumps"]
    assert sorted(absolute["jumps"]) == [(0.0, -1.0), (0.0, 1.0)]
    # a derivative written in cases goes under its axis, not into the legend
    assert r"$\operatorname{LReLU}_{\frac{1}{10}}'\left(s\right) = \begin{cases}" in tex
    assert leaky["legend"][1] == r"$\operatorname{LReLU}_{\frac{1}{10}}'\left(s\right)$"
    # SymPy's pi in the GELU's derivative prints as pi
    assert r"\sqrt{\pi}" in tex and r"\text{\Pi}" not in tex


def test_functions_of_no_layer_are_not_plotted():
    """exp of a scaled node, a log inside the loss and a square are no activations."""
    net = derive.Network("none")
    d = net.dim("d", 2)
    x = net.input("x", d)
    W = net.param("W", (d, d))
    z = net.node("z", W * x, layer="1")
    s = net.node("s", derive.exp(0.5 * z), layer="1")
    q = net.node("q", derive.square(s), layer="1")
    net.loss("L", derive.mean(derive.sq_norm(derive.log(q + 1))))
    assert activations.activations(net) == []
    assert r"\begin{axis}" not in render_tex(net.derive())


# --- the PDF ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", EXAMPLE_FILES)
def test_every_example_report_with_its_figures_compiles(derivations, name, tmp_path):
    need_latex()
    paths = write_report(derivations[name], None, tmp_path, {"pdf"})
    assert paths[-1].suffix == ".pdf" and paths[-1].read_bytes().startswith(b"%PDF")
    tex = paths[0].read_text()
    assert r"\label{fig:graph}" in tex


def test_custom_activations_compile(tmp_path):
    need_latex()
    paths = write_report(custom_network().derive(), None, tmp_path, {"pdf"})
    assert paths[-1].read_bytes().startswith(b"%PDF")
