"""What a report says, as frozen dataclasses of LaTeX strings: built from a Derivation and a
Verification, rendered by the Jinja2 templates. All the math is printed here; the templates only
arrange it into prose, tables and displays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import sympy as sp

from derive.expr import Identity, Leaf, Quantity, Residual, leaves, substitute
from derive.ops.algebra import Add, MatMul
from derive.render import breaking
from derive.render.printer import CLOSE, OPEN, latex, with_network_names
from derive.render.proof import Proof, proof, slash, with_index

_REL = 1.4  # "= " after the alignment point, in em


# --- the pieces ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One row of an aligned display: ``lhs & body`` (body starts with its relation)."""

    lhs: str
    body: str
    note: str  # a further column (the dimension of a forward quantity), or ""
    end: str  # the row separator: " \\" or "" after the last row


@dataclass(frozen=True)
class Display:
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Symbol:
    """A row of the table of inputs and parameters."""

    latex: str
    space: str  # \mathbb{R}^{h \times d}
    kind: str
    meaning_tex: str
    meaning_md: str


@dataclass(frozen=True)
class Layer:
    """The forward equations of one layer."""

    name: str  # LaTeX (math mode), "" for nodes declared without a layer
    display: Display
    part: str = ""  # the part of the network (net.part: "Task A"), plain text, or ""


@dataclass(frozen=True)
class Step:
    """The residual (or gradient) of one quantity."""

    name: str  # the quantity, LaTeX math
    sources: str  # inline prose: the consumers it flows back from
    many: bool  # more than one consumer
    summed: bool  # a per-sample consumer of a quantity shared by the batch
    direct: bool  # used by the loss itself only
    local: Display | None  # the local derivatives
    chain: Display
    remark: str = ""  # inline prose with $...$ math after the chain: why a term is zero


@dataclass(frozen=True)
class Group:
    """The residuals or gradients that belong to one layer."""

    layer: str
    steps: tuple[Step, ...]
    part: str = ""  # the part of the network (net.part), plain text, or ""

    @property
    def display(self) -> Display:
        """The chains of all steps in one display, their equals signs aligned."""
        return merge([s.chain for s in self.steps])


@dataclass(frozen=True)
class Note:
    """A paragraph the network file adds to its report (``net.notes[title] = text``)."""

    title_tex: str
    title_md: str
    text_tex: str
    text_md: str


@dataclass(frozen=True)
class Report:
    name: str
    name_tex: str
    title_tex: str
    title_md: str
    source: str  # the network file's name, no directory
    source_tex: str
    loss: str  # L
    inputs: tuple[Symbol, ...]
    params: tuple[Symbol, ...]
    dims: str  # "d, h, a, c"
    layers: tuple[Layer, ...]
    loss_display: Display | None  # None: the network declares no loss yet
    loss_parts: str  # inline prose: "$L_{A}$ and $L_{B}$", "" when the loss has no parts
    written_out: Display | None  # the loss in forward quantities only
    constant: str  # inline math: residuals of loss parts that are constants, or ""
    residuals: tuple[Group, ...]
    gradients: tuple[Group, ...]
    notation: tuple[str, ...]  # the symbols the formulas use, explained
    proof: Proof | None
    param_count: str = ""  # inline math: the number of scalar parameters, symbolic in the dims
    param_count_at: str = ""  # text: that number at the dims' sizes, "" when it is a number
    notes: tuple[Note, ...] = ()
    settings_tex: str = ""  # the settings it was derived with (net.setting), prose
    settings_md: str = ""
    parts: tuple[str, ...] = ()  # the network's parts (Task A, Task B), or none
    unit_parts: bool = False  # some loss part has residual 1, left out of the chain rule


# --- displays -----------------------------------------------------------------------------
Entry = tuple[str, list[str], str]  # lhs, steps (marked LaTeX), note


def display(entries: list[Entry], width: float = breaking.LINE_WIDTH) -> Display:
    """Rows for ``lhs = step1 = step2 ...`` per entry; a step is a marked LaTeX string, broken
    into lines to fit. The note is a further column on the entry's last row."""
    rows: list[Row] = []
    for lhs, steps, note in entries:
        room = width - breaking.width(lhs) - _REL - (breaking.width(note) + 2 if note else 0)
        for k, step in enumerate(steps):
            for j, line in enumerate(breaking.break_marked(step, room, room - breaking.INDENT)):
                lead = lhs if k == 0 and j == 0 else ""
                body = ("= " if j == 0 else r"\qquad {} ") + line
                rows.append(Row(lead, body, "", r" \\"))
        rows[-1] = Row(rows[-1].lhs, rows[-1].body, note, r" \\")
    rows[-1] = Row(rows[-1].lhs, rows[-1].body, rows[-1].note, "")
    return Display(tuple(rows))


def merge(displays: list[Display]) -> Display:
    rows = [r for d in displays for r in d.rows]
    rows = [Row(r.lhs, r.body, r.note, r" \\") for r in rows[:-1]] + rows[-1:]
    return Display(tuple(rows))


def distinct(steps: list[str]) -> list[str]:
    """Drop a step equal to the one before it."""
    out: list[str] = []
    for s in steps:
        if not out or out[-1] != s:
            out.append(s)
    return out


def space(q: Quantity) -> str:
    r, c = q.shape
    if r == 1 and c == 1:
        return r"\mathbb{R}"
    dims = sp.latex(r) if c == 1 else sp.latex(r) + r" \times " + sp.latex(c)
    return r"\mathbb{R}^{" + dims + "}"


def layer_tex(layer: str | None) -> str:
    """A layer name in math: "cross-entropy" keeps its hyphen (not a minus), "linear 1" its
    space; names written in LaTeX (FC_{2B}, \\oplus) pass through."""
    if not layer:
        return ""
    return r"\mathrm{" + layer.replace("-", r"\text{-}").replace(" ", r"\ ") + "}"


# --- text ---------------------------------------------------------------------------------
_TEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip


def tex_text(text: str) -> str:
    """Plain text for LaTeX; $...$ stretches are math and pass through."""
    parts = text.split("$")
    for k in range(0, len(parts), 2):
        parts[k] = "".join(_TEX_SPECIAL.get(ch, ch) for ch in parts[k])
    return "$".join(parts)


def md_text(text: str) -> str:
    return text.replace("|", r"\|")


def and_list(items: list[str]) -> str:
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + ", and " + items[-1]


# --- the network --------------------------------------------------------------------------
def meaning(net, q: Quantity) -> str:
    """The description given in the network file, or what the network's equations tell."""
    if q.description:
        return q.description
    if q.kind == "input":
        return {"onehot": "a one-hot input", "sign": "a label, -1 or +1", "mask": "a mask"}.get(
            q.content, "an input"
        )
    for w in net.consumers(q):
        role = _role(w.definition, Leaf(q))
        if not role:
            return "a parameter" + (f" of layer ${layer_tex(w.layer)}$" if w.layer else "")
        # the layer names it, unless the layer has more than one (W_mu and W_v of the encoder)
        alike = [p for p in net.params if _first_use(net, p) == (role, w.layer)]
        if w.layer and len(alike) == 1:
            return f"the {role} of layer ${layer_tex(w.layer)}$"
        inside = f" (layer ${layer_tex(w.layer)}$)" if w.layer else ""
        return f"the {role} of ${with_index(w, 'i')}$" + inside
    return "a parameter"


def _first_use(net, q: Quantity) -> tuple[str | None, str | None]:
    for w in net.consumers(q):
        return _role(w.definition, Leaf(q)), w.layer
    return None, None


def _role(e, leaf: Leaf) -> str | None:
    """ "weights" when leaf multiplies from the left, "bias" when it is added, else None."""
    if isinstance(e, MatMul) and e.factors[0] == leaf and len(e.factors) > 1:
        return "weights"
    if isinstance(e, Add) and leaf in e.terms and leaf.shape[1] == 1:
        return "bias"
    for child in e.children:
        role = _role(child, leaf)
        if role:
            return role
    return None


def symbol(net, q: Quantity) -> Symbol:
    kind = "per sample" if q.batched else "shared"
    text = meaning(net, q)
    return Symbol(q.latex, space(q), kind, tex_text(text), md_text(text))


def loss_parts(net) -> list[Quantity]:
    """The scalar batch-level nodes the loss is built from (L_A and L_B of L = L_A + L_B)."""
    out: list[Quantity] = []
    if net.loss_q is None:
        return []
    stack = [net.loss_q]
    while stack:
        q = stack.pop()
        for leaf in sorted(_leaves(q.definition), key=lambda e: e.q.name):
            p = leaf.q
            if p.kind == "node" and not p.batched and p.shape == (1, 1) and p not in out:
                out.append(p)
                stack.append(p)
    order = {q: k for k, q in enumerate(net.nodes)}
    return sorted(out, key=order.__getitem__)


def _leaves(e) -> set:
    from derive.expr import leaves

    return leaves(e)


def forward(net, q: Quantity, note: bool = True) -> tuple[str, list[str], str]:
    """``q = aka = definition`` (per sample, no index), and the space q lives in."""
    from derive.backprop import powers_named

    definition = substitute(q.definition, powers_named(net, before=q))  # sigma^2, not exp(log ..)
    rhs = breaking.marked(definition, None, loss_latex(net))
    return q.latex, [" = ".join(list(q.aka) + [rhs])], r"\in " + space(q) if note else ""


def layers(net, skip: set[Quantity]) -> tuple[Layer, ...]:
    groups: list[tuple[str | None, str | None, list[Quantity]]] = []
    for q in net.nodes:
        if q in skip:
            continue
        if groups and groups[-1][:2] == (q.layer, q.part) and q.layer is not None:
            groups[-1][2].append(q)
        else:
            groups.append((q.layer, q.part, [q]))
    return tuple(
        Layer(layer_tex(n), display([forward(net, q) for q in qs]), part or "")
        for n, part, qs in groups
    )


def parameter_count(net) -> tuple[str, str]:
    """n_theta as the course writes it, a weight matrix and the biases after it grouped by their
    rows (h (d + 1) + c (h + 1)), and its value at the dims' sizes ("" when it is a number)."""
    groups: list[tuple[sp.Expr, list[sp.Expr]]] = []
    for q in net.params:
        r, c = q.shape
        if groups and groups[-1][0] == r and c == 1:  # a bias joins the weights before it
            groups[-1][1].append(c)
        else:
            groups.append((r, [c]))
    total = net.parameter_count()
    if not total.free_symbols:
        return sp.latex(total), ""
    terms = []
    for r, cols in groups:
        inner = sp.Add(*cols)
        if r == 1 or len(cols) == 1:
            terms.append(sp.latex(r * inner))
        else:
            terms.append(f"{sp.latex(r)} ({sp.latex(inner)})")
    used = [f"${sp.latex(s)} = {n}$" for s, n in net.dims.items() if s in total.free_symbols]
    return " + ".join(terms), f"${sp.latex(total.subs(net.dims))}$ at {and_list(used)}"


def notes(net) -> tuple[Note, ...]:
    """Text with $...$ math and `code` (a command, a file name) as in Markdown."""
    out = []
    for title, text in net.notes.items():
        title = title[:1].upper() + title[1:]
        parts = text.split("`")
        tex = "".join(
            tex_text(part) if k % 2 == 0 else r"\texttt{" + tex_text(part.replace("$", "")) + "}"
            for k, part in enumerate(parts)
        )
        out.append(Note(tex_text(title), md_text(title), tex, md_text(text)))
    return tuple(out)


# --- residuals and gradients --------------------------------------------------------------
def _with_index(q: Quantity, index: str | None) -> str:
    return with_index(q, index)


def step(g, net, units: frozenset = frozenset()) -> Step:
    """``units``: the loss parts whose residual is 1 (L_A of L = L_A + L_B), whose factor the
    chain rule leaves out, as the homework writes dL/dy_A = dL_A/dy_A."""
    q, loss = g.q, loss_latex(net)
    idx = "i" if q.batched else None
    lhs = latex(Residual(q), idx, loss)
    generic, locals_ = [], []
    for t in g.terms:
        w = t.consumer
        ti = "i" if t.summed else idx  # the sample index of the consumer
        if t.jacobian is None or w == net.loss_q:
            # no matrix Jacobian to show, or the loss itself (dL/dL = 1, and its local
            # derivative would read as the residual): the product is the step
            generic.append(breaking.marked(t.product, idx, loss))
            continue
        frac = rf"\frac{{\partial {_with_index(w, ti)}}}{{\partial {_with_index(q, idx)}}}"
        scalar = w.shape == (1, 1) and q.shape == (1, 1)
        factor = frac if scalar else OPEN + frac + CLOSE + "^{T}"
        piece = factor if w in units else factor + " " + breaking.marked(Residual(w), ti, loss)
        generic.append((r"\sum_{i=1}^{m} " if t.summed else "") + piece)
        locals_.append((frac, [breaking.marked(t.jacobian, ti, loss)], ""))
    steps = [" + ".join(generic)]
    remark = zero_remark(g, net)
    if len(g.terms) > 1 or g.terms[0].jacobian is not None:
        steps.append(breaking.marked(g.compact, idx, loss))
    expanded, long = expanded_step(g, lhs, idx, loss)
    steps = distinct(steps + [expanded] if expanded else steps)
    remark = " ".join(r for r in (remark, long) if r)
    names = [f"${_with_index(t.consumer, 'i' if t.summed else idx)}$" for t in g.terms]
    return Step(
        name=_with_index(q, idx),
        sources=and_list(names),
        many=len(g.terms) > 1,
        summed=any(t.summed for t in g.terms),
        direct=all(t.consumer == net.loss_q for t in g.terms),
        local=display(locals_) if locals_ else None,
        chain=display([(lhs, steps, "")]),
        remark=remark,
    )


def gradient(g, net) -> Step:
    q, loss = g.q, loss_latex(net)
    lhs = latex(Residual(q), None, loss)
    expanded, long = expanded_step(g, lhs, None, loss)
    steps = distinct([breaking.marked(g.compact, None, loss)] + ([expanded] if expanded else []))
    names = [f"${_with_index(t.consumer, 'i')}$" for t in g.terms]
    summed = any(t.summed for t in g.terms)
    chain = display([(lhs, steps, "")])
    remark = " ".join(r for r in (zero_remark(g, net), long) if r)
    return Step(_with_index(q, None), and_list(names), len(g.terms) > 1, summed, False, None, chain,
                remark)  # fmt: skip


#: An expanded form longer than this many lines is not written out: the result stays written
#: through the residuals it uses, each given in full where it is derived.
MAX_EXPANDED_LINES = 2


def expanded_step(g, lhs: str, idx: str | None, loss: str) -> tuple[str | None, str]:
    """The expanded form as a step of the chain, or None and the sentence that says why not."""
    marked = breaking.marked(g.expanded, idx, loss)
    room = breaking.LINE_WIDTH - breaking.width(lhs) - _REL
    rows = len(breaking.break_marked(marked, room, room - breaking.INDENT))
    used = leaves(g.compact, Residual)
    kept = [Residual(w) for w in dict.fromkeys(t.consumer for t in g.terms)]
    kept = [r for r in kept if r in used]
    if rows <= MAX_EXPANDED_LINES or not kept:
        return marked, ""

    names = and_list([f"${slash(loss, r.q, 'i' if r.q.batched else None)}$" for r in kept])
    given = "each given in full above" if len(kept) > 1 else "given in full above"
    this = slash(loss, g.q, idx)
    return None, (f"Written out in the forward quantities, ${this}$ takes {rows} lines: "
                  f"it is left in terms of {names}, {given}.")  # fmt: skip


def zero_remark(g, net) -> str:
    """Why a term of the chain rule, or the whole result, is zero, in words (lecture 4 shows
    that dv_b/dmu_b = 0, and a bias before a batch normalisation has gradient 0)."""
    from derive.expr import Zero
    from derive.ops.identities import centred_pair

    idx = "i" if g.q.batched else None
    if isinstance(g.expanded, Zero):
        for t in g.terms:
            pair = centred_pair_downstream(t.consumer, net)
            if pair:
                s, mu = pair
                return (f"It is zero whatever the data: ${_with_index(g.q, idx)}$ moves every "
                        f"${_with_index(s.q, 'i')}$ and their batch mean ${mu.q.latex}$ alike, and "
                        f"the batch normalisation subtracts the mean, so the loss does not depend "
                        f"on ${_with_index(g.q, idx)}$.")  # fmt: skip
        name = _with_index(g.q, idx)
        return f"It is zero whatever the data: the loss does not depend on ${name}$."
    zero = [t for t in g.terms if isinstance(t.product, Zero)]
    out = []
    for t in zero:
        pair = centred_pair(t.consumer.definition)
        w = _with_index(t.consumer, "i" if t.summed else idx)
        if pair:
            s, mu = pair
            out.append(f"The term through ${w}$ is zero: the deviations from the batch mean sum "
                       rf"to zero, $\sum_{{i=1}}^{{m}} ({_with_index(s.q, 'i')} - {mu.q.latex}) = "
                       rf"\mathbf{{0}}$.")  # fmt: skip
        else:
            out.append(f"The term through ${w}$ is zero.")
    return " ".join(out)


def centred_pair_downstream(q: Quantity, net):
    """(s, mu_b) where q is s, or s is computed from q alone, and a batch mean of s is taken."""
    from derive.ops.identities import centred_pair

    for w in net.consumers(q):
        pair = centred_pair(w.definition) if w.definition is not None else None
        if pair and pair[0].q == q:
            return pair
        if pair is None and w.batched:
            found = centred_pair_downstream(w, net)
            if found:
                return found
    return None


def grouped(items: list[tuple[str, Step, str]]) -> tuple[Group, ...]:
    """Steps of the same layer (and part) in a row make one group."""
    out: list[Group] = []
    for layer, s, part in items:
        if out and (out[-1].layer, out[-1].part) == (layer, part):
            out[-1] = Group(layer, out[-1].steps + (s,), part)
        else:
            out.append(Group(layer, (s,), part))
    return tuple(out)


def consumer(g) -> Quantity:
    """The node a parameter's gradient comes through (the first that has a layer)."""
    return next((t.consumer for t in g.terms if t.consumer.layer), g.terms[0].consumer)


def gradient_order(derivation) -> list:
    """The parameter gradients in forward order; in a network of parts (Task A, Task B) as the
    homework lists them: part by part, each from its output backwards."""
    net = derivation.network
    if not net.parts:
        return list(derivation.gradients)
    rank = {p: k for k, p in enumerate(net.parts)}
    position = {q: k for k, q in enumerate(net.nodes)}
    return sorted(
        derivation.gradients,
        key=lambda g: (rank.get(consumer(g).part, len(rank)), -position[consumer(g)]),
    )


def is_constant(g) -> bool:
    return not g.q.batched and g.q.shape == (1, 1) and not _leaves(g.expanded)


def unit_parts(derivation) -> frozenset:
    """The loss parts whose residual is 1 (L_A of L = L_A + L_B): the chain rule leaves their
    factor out."""
    return frozenset(g.q for g in derivation.residuals
                     if is_constant(g) and isinstance(g.expanded, Identity))  # fmt: skip


def constants_tex(derivation) -> str:
    """The residuals that are constants (the loss parts) as one equation per value, in forward
    order: "dL/dL_A = dL/dL_B = 1"; "" when there are none."""
    net, loss = derivation.network, loss_latex(derivation.network)
    values: dict[str, list[str]] = {}
    constant = [g for g in derivation.residuals if is_constant(g)]
    for g in sorted(constant, key=lambda g: net.nodes.index(g.q)):
        value = latex(g.expanded, None, loss)
        values.setdefault(value, []).append(latex(Residual(g.q), None, loss))
    return ", ".join(" = ".join(names + [v]) for v, names in values.items())


# --- the whole report ---------------------------------------------------------------------
#: The operators of feature maps (derive/ops/conv.py), in both notations' legends.
MAP_NOTATION = [
    (r"\operatorname{im2col}",
     r"$\operatorname{im2col}(X)$ the matrix whose column $j$ holds the window of output "
     r"pixel $j$ in every channel of $X$"),
    (r"\operatorname{col2im}",
     r"$\operatorname{col2im}(G)$ its adjoint: each entry of $G$ added back to the pixel it "
     r"was taken from"),
    (r"\operatorname{unpool}",
     r"$\operatorname{unpool}_{X}(G)$ each window's entry of $G$ sent to the largest entry of "
     r"that window of $X$ (the first, on a tie), 0 elsewhere"),
    (r"\operatorname{pick}",
     r"$\operatorname{pick}_{X}(G)$ the entry of $G$ at each window's largest entry of $X$"),
    (r"\operatorname{avgpool}^{\top}",
     r"$\operatorname{avgpool}^{\top}(G)$ each window's entry of $G$ shared out equally over "
     r"its pixels"),
    # vec(P^T) of a feature map, printed with a group of its own (derive/ops/conv.py) that
    # tells it from the Jacobian notation's vec(W) of a weight matrix
    (r"\operatorname{vec}{\left(",
     r"$\operatorname{vec}(X^{T})$ the rows of a feature map $X$ stacked into one column"),
    (r"\operatorname{vec}^{-1}",
     r"$\operatorname{vec}^{-1}$ the inverse: a column cut into the rows of a feature map"),
]  # fmt: skip

_NOTATION = [
    (r"\circ", r"$\circ$ is the element-wise (Hadamard) product"),
    (r"\oslash", r"$\oslash$ element-wise division"),
    (r"\mathbb{1}", r"$\mathbb{1}[\cdot]$ is 1 where the condition holds and 0 elsewhere"),
    (r"\operatorname{diag}",
     r"$\operatorname{diag}(\mathbf{v})$ the diagonal matrix with $\mathbf{v}$ on its diagonal"),
    (r"\mathbf{1}", r"$\mathbf{1}$ the vector of ones"),
    (re.compile(r"(?<![\\A-Za-z{])I(?![A-Za-z])"), r"$I$ the identity matrix"),
    *MAP_NOTATION,
]  # fmt: skip


def notation(texts: list[str], table=_NOTATION) -> tuple[str, ...]:
    """The legend: the entries of ``table`` whose token (a string, or a pattern) the texts use."""
    joined = "\n".join(texts)
    return tuple(
        words
        for token, words in table
        if (token.search(joined) if isinstance(token, re.Pattern) else token in joined)
    )


def all_text(*displays) -> list[str]:
    return [r.body for d in displays if d is not None for r in d.rows]


def loss_latex(net) -> str:
    return net.loss_q.latex if net.loss_q is not None else "L"


@with_network_names
def build(derivation, verification=None) -> Report:
    net = derivation.network
    loss_q, loss = net.loss_q, loss_latex(net)
    source = Path(net.source).name if net.source else ""
    parts = loss_parts(net)
    skip = set(parts) | {loss_q}

    loss_entries = [forward(net, q, note=False) for q in [loss_q] + parts] if loss_q else []
    written = None
    if parts:
        full = substitute(loss_q.definition, {Leaf(p): p.definition for p in parts})
        for _ in parts:  # parts built from parts
            full = substitute(full, {Leaf(p): p.definition for p in parts})
        written = display([(loss, [breaking.marked(full, None, loss)], "")])

    constant_tex = constants_tex(derivation)
    units = unit_parts(derivation)
    residuals = grouped(
        [(layer_tex(g.q.layer), step(g, net, units), g.q.part or "")
         for g in derivation.residuals if not is_constant(g)]
    )  # fmt: skip
    gradients = grouped(
        [(layer_tex(consumer(g).layer), gradient(g, net), consumer(g).part or "")
         for g in gradient_order(derivation)]
    )  # fmt: skip
    layer_list = layers(net, skip)
    loss_display = display(loss_entries) if loss_entries else None
    texts = all_text(*(s.chain for grp in residuals + gradients for s in grp.steps))
    texts += all_text(*(s.local for grp in residuals for s in grp.steps))
    texts += all_text(*(ly.display for ly in layer_list), loss_display)
    count, count_at = parameter_count(net)
    return Report(
        name=net.name,
        name_tex=tex_text(net.name),
        title_tex=tex_text(net.title),
        title_md=md_text(net.title),
        source=source,
        source_tex=tex_text(source),
        loss=loss,
        inputs=tuple(symbol(net, q) for q in net.inputs),
        params=tuple(symbol(net, q) for q in net.params),
        dims=", ".join(sp.latex(s) for s in net.dims),
        layers=layer_list,
        loss_display=loss_display,
        loss_parts=and_list([f"${p.latex}$" for p in parts]),
        written_out=written,
        constant=constant_tex,
        residuals=residuals,
        gradients=gradients,
        notation=notation(texts),
        proof=proof(verification, net) if verification is not None else None,
        param_count=count,
        param_count_at=count_at,
        notes=notes(net),
        settings_tex=settings_text(net, lambda t: r"\texttt{" + tex_text(t) + "}"),
        settings_md=settings_text(net, lambda t: f"`{t}`"),
        parts=tuple(net.parts),
        unit_parts=bool(units),
    )


@with_network_names
def worked_steps(derivation, q: Quantity) -> tuple[Display, ...]:
    """The chain rule from the loss down to ``q``, as the report writes it: the residual of every
    node that ``q`` reaches the loss through, in backward order, then ``q``'s own residual or
    gradient (for a worked solution)."""
    net = derivation.network
    below: set = set()
    stack = [w for w in net.consumers(q)]
    while stack:
        w = stack.pop()
        if w not in below:
            below.add(w)
            stack.extend(net.consumers(w))
    units = unit_parts(derivation)
    out = []
    for g in derivation.residuals:
        if (g.q in below or g.q == q) and not is_constant(g):
            s = step(g, net, units)
            out.append(merge([s.local, s.chain]) if s.local is not None else s.chain)
    for g in derivation.gradients:
        if g.q == q:
            out.append(gradient(g, net).chain)
    return tuple(out)


def settings_text(net, code) -> str:
    """The settings the network was derived with, each overridden one with the file's default:
    "the settings k = 4 (the file's default: 3) and hidden = 3"; "" without settings."""
    parts = []
    for name, value in net.settings.items():
        default = getattr(net, "setting_defaults", {}).get(name, value)
        note = f" (the file's default: {code(str(default))})" if default != value else ""
        parts.append(code(f"{name} = {value}") + note)
    if not parts:
        return ""
    return ("the setting " if len(parts) == 1 else "the settings ") + and_list(parts)
