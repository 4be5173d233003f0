"""The backward pass in the lectures' Jacobian notation, as LaTeX for the templates.

For one sample, the gradient of the loss J with respect to a node v is the row vector
g = dJ/dv; the backward pass updates it node by node from the loss, g <- g dw/dv, with the local
Jacobian dw/dv written out (W_2, diag(Ind(s_1 > 0)), diag(p) - p p^T). A weight matrix W goes
through vec(W): s = W x = (I_C (x) x^T) vec(W), which turns dJ/dvec(W) back into dJ/dW = g^T x^T.

Everything printed here comes from the Derivation: a node's update is its compact residual
transposed (dJ/dw replaced by the running g), and the written-out form its expanded residual
transposed; a parameter's gradient is its compact gradient with the same replacement. So the
formulas are the transposes of what derive/verify.py proves.
"""

from __future__ import annotations

from dataclasses import dataclass

from sympy.printing.latex import LatexPrinter

from derive.expr import SCALAR_ONE, Expr, Identity, Leaf, Quantity, Residual, leaves, substitute
from derive.ops.algebra import Add, MatMul, Scale, add, matmul, transpose
from derive.ops.batch import BatchSum, batch_sum
from derive.render import batchform, breaking
from derive.render.context import (
    MAP_NOTATION,
    Display,
    Row,
    constants_tex,
    consumer,
    display,
    distinct,
    layer_tex,
    loss_latex,
    merge,
    notation,
    unit_parts,
)
from derive.render.printer import CLOSE, OPEN, with_network_names, with_superscript
from derive.render.proof import with_index
from derive.render.rowform import JacobianPrinter, Kron, Paren, RowGrad, Vec, pushed, row

G = r"\mathbf{g}"


@dataclass(frozen=True)
class JStep:
    """The gradient of one node or parameter: prose, the local Jacobians, the update."""

    name: str  # the quantity, LaTeX math
    text: str  # the sentence before the displays (LaTeX text, math in $...$)
    local: Display | None  # local Jacobians, where they are not written inside the update
    chain: Display
    brief: Display | None = None  # its line in the summary: the update or the result


@dataclass(frozen=True)
class JGroup:
    layer: str  # LaTeX math, "" for a quantity outside any layer
    steps: tuple[JStep, ...]
    part: str = ""  # the part of the network (net.part: "Task A"), or ""


@dataclass(frozen=True)
class Backward:
    groups: tuple[JGroup, ...]
    summary: Display | None  # the lecture's "aggregated backward pass": updates and results
    notation: tuple[str, ...]  # the symbols the formulas use, explained
    batch: Display | None = None  # the same for the whole batch at once (notation "batch")
    constant: str = ""  # inline math: dL/dL_A = dL/dL_B = 1 for the loss parts, or ""


def marked(expr: Expr, index: str | None = None, loss: str = "J") -> str:
    """The Jacobian printer's LaTeX with the bracket markers still in (see breaking)."""
    return LatexPrinter.doprint(JacobianPrinter(loss, index), expr)


def frac(num: str, den: str) -> str:
    return rf"\frac{{\partial {num}}}{{\partial {den}}}"


def fits(lhs: str, step: str, note: str = "") -> bool:
    """A written-out form is shown only when it fits on one line: the update is the point."""
    room = breaking.LINE_WIDTH - breaking.width(lhs) - 2
    return breaking.width(step) <= room - (breaking.width(note) + 2 if note else 0)


def arrow(d: Display) -> Display:
    """``g <- ...`` on the first row instead of ``g = ...``."""
    first, *rest = d.rows
    body = r"\leftarrow " + first.body[2:] if first.body.startswith("= ") else first.body
    return Display((Row(first.lhs, body, first.note, first.end), *rest))


def known_values(derivation) -> dict[Expr, Expr]:
    """Residuals of scalars of the whole batch that are plain values (dJ/dr = lambda): the
    lecture writes the value, 2 lambda W, rather than 2 (dJ/dr) W."""
    out: dict[Expr, Expr] = {}
    for g in derivation.residuals:
        q = g.q
        plain = not leaves(g.expanded, Residual) and not any(e.batched for e in leaves(g.expanded))
        if not q.batched and q.shape == (1, 1) and plain:
            out[Residual(q)] = g.expanded
    return out


def rows_of(g: Expr, current: Quantity | None, known: dict[Expr, Expr]) -> dict[Expr, Expr]:
    """Residual(u) -> (row gradient of u)^T: \\mathbf{g} for the running one, else dJ/du."""
    out = dict(known)
    for r in leaves(g, Residual):
        if r not in out:
            out[r] = transpose(RowGrad(r.q, G if r.q == current else ""))
    return out


def operand(J: Expr, loss: str) -> str:
    """A local Jacobian as a factor of g J: bracketed when it is a sum or has a sign."""
    s = marked(J, loss=loss)
    return OPEN + s + CLOSE if isinstance(J, (Add, Scale)) else s


# --- nodes --------------------------------------------------------------------------------
def node_step(g, net, current, known, units=frozenset()) -> tuple[JStep, Quantity | None]:
    """``units``: the loss parts whose gradient is 1, a factor left out of the chain rule."""
    q, loss = g.q, loss_latex(net)
    lhs = frac(loss, q.latex)
    terms = g.terms
    expanded = marked(row(g.expanded) if q.shape[1] == 1 else g.expanded, loss=loss)
    if all(t.consumer == net.loss_q for t in terms):
        if q.batched:  # the start of the chain: g = dJ/dl
            chain = display([(G, [f"{lhs} = {expanded}"], "")])
            text = f"The backward pass starts at ${q.latex}$, which enters the loss directly"
            return JStep(q.latex, text, None, chain, chain), q
        chain = display([(lhs, [expanded], "")])
        return JStep(q.latex, f"${q.latex}$ enters the loss directly", None, chain), current
    compact = marked(row(substitute(g.compact, rows_of(g.compact, current, known))), loss=loss)
    t = terms[0]
    users = " and ".join(f"${with_index(t.consumer, 'i' if t.summed else None)}$" for t in terms)
    if len(terms) == 1 and t.consumer == current and t.jacobian is not None and not t.summed:
        # a chain: g <- g dw/dv, the local Jacobian written out as the lecture does
        J = operand(t.jacobian, loss)
        update = f"{G} {frac(t.consumer.latex, q.latex)} = {G} {J}"
        tail = [expanded] if fits(G, expanded, r"\leftarrow " + lhs) else []
        steps = distinct([update, compact] + tail)
        steps = [s for k, s in enumerate(steps) if k == 0 or s != f"{G} {J}"]
        chain = arrow(display([(G, steps, r"\leftarrow " + lhs)]))
        brief = arrow(display([(G, [f"{G} {J}"], r"\leftarrow " + lhs)]))
        return JStep(q.latex, f"${q.latex}$ is used by {users}", None, chain, brief), q
    # several consumers (or a batch statistic): the sum over the consumers of dJ/dw dw/dv
    pieces, local = [], []
    for t in terms:
        w = t.consumer
        wi = with_index(w, "i" if t.summed else None)
        if w == net.loss_q:
            pieces.append(frac(loss, q.latex))
            continue
        gw = with_superscript(G, "i") if t.summed else G
        gw = gw if w == current else frac(loss, wi)
        local_j = frac(wi, q.latex)
        piece = local_j if w in units else gw + " " + local_j
        pieces.append((r"\sum_{i=1}^{m} " if t.summed else "") + piece)
        if t.jacobian is not None:
            local.append((frac(w.latex, q.latex), [marked(t.jacobian, loss=loss)], ""))
    tail = [expanded] if fits(G, expanded, r"\leftarrow " + lhs) else []
    steps = distinct([" + ".join(pieces), compact] + tail)
    text = f"${q.latex}$ is used by {users}" + (", so its gradient sums over the batch" if any(
        t.summed for t in terms) else "")  # fmt: skip
    locals_ = display(local) if local else None
    if q.batched:
        chain = arrow(display([(G, steps, r"\leftarrow " + lhs)]))
        brief = arrow(display([(G, [compact], r"\leftarrow " + lhs)]))
        return JStep(q.latex, text, locals_, chain, brief), q
    return JStep(q.latex, text, locals_, display([(lhs, steps, "")])), current


# --- parameters ---------------------------------------------------------------------------
def outer_vector(product: Expr, w: Quantity) -> Expr | None:
    """v when the contribution is (sum_i) dJ/dw v^T, the outer-product rule of W v."""
    e = product.e if isinstance(product, BatchSum) else product
    if isinstance(e, MatMul) and len(e.factors) == 2 and e.factors[0] == Residual(w):
        v = transpose(e.factors[1])
        return v if v.is_col else None
    return None


def times_itself(product: Expr, w: Quantity, p: Quantity) -> Expr | None:
    """dw/dP when the contribution is a scalar residual times a multiple of P (2 W)."""
    if w.shape != (1, 1) or w.batched:
        return None
    local = substitute(product, {Residual(w): SCALAR_ONE})
    base = local.e if isinstance(local, Scale) else local
    if base == Leaf(p) or (
        isinstance(base, MatMul) and [f for f in base.factors if not f.is_scalar] == [Leaf(p)]
    ):
        return local
    return None


def per_sample_first(e: Expr) -> Expr:
    """The sum over the samples before the other terms (2 lambda W last)."""
    if not isinstance(e, Add):
        return e
    return Add(tuple(sorted(e.terms, key=lambda t: not any(x.batched for x in leaves(t)))))


def param_result(g, current, known) -> Expr:
    """The compact gradient with dJ/dw written as the row gradient (g^T for the running one),
    the per-sample terms first; for a vector parameter its row form."""
    subst = rows_of(g.compact, current, known)
    terms = sorted(g.terms, key=lambda t: not t.summed)
    result = add(*(pushed(substitute(t.product, subst)) for t in terms))
    return result if g.q.shape[1] != 1 else row(result)


def param_step(g, net, current, known, said: dict | None = None) -> JStep:
    """``said``: what earlier steps explained (the vec(W) convention is explained once)."""
    said = {} if said is None else said
    p, loss = g.q, loss_latex(net)
    matrix = p.shape[1] != 1
    vec = r"\operatorname{vec}" + "(" + p.latex + ")"
    subst = rows_of(g.compact, current, known)
    local, pieces, vec_terms = [], [], []
    # the per-sample terms first: g^T x^T + 2 lambda W, as the lecture writes it
    for t in sorted(g.terms, key=lambda t: not t.summed):
        w = t.consumer
        wi = with_index(w, "i" if t.summed else None)
        gw = with_superscript(G, "i") if t.summed else G
        gw = gw if w == current else frac(loss, wi)
        total = r"\sum_{i=1}^{m} " if t.summed else ""
        v = outer_vector(t.product, w) if matrix else None
        itself = times_itself(t.product, w, p) if matrix else None
        if v is not None:  # s = W x = (I (x) x^T) vec(W)
            K = Kron(Identity(w.shape[0]), transpose(v))
            local.append((frac(w.latex, vec), [marked(K, loss=loss)], ""))
            term = matmul(transpose(subst[Residual(w)]), Paren(K))
            vec_terms.append(batch_sum(term) if t.summed else term)
            pieces.append(total + gw + " " + frac(wi, vec))
        elif itself is not None:  # r = ||W||^2: dr/dW = 2 W
            local.append((frac(w.latex, p.latex), [marked(itself, loss=loss)], ""))
            term = substitute(t.product, {Residual(w): subst[Residual(w)]})
            vec_terms.append(substitute(term, {Leaf(p): transpose(Vec(Leaf(p)))}))
            pieces.append(frac(loss, w.latex) + " " + frac(w.latex, vec))
        else:
            vec_terms = None if matrix else vec_terms
            if t.jacobian is not None:
                local.append((frac(w.latex, p.latex), [marked(t.jacobian, loss=loss)], ""))
            pieces.append(total + gw + " " + frac(wi, p.latex))
    result = marked(param_result(g, current, known), loss=loss)
    lhs = frac(loss, p.latex)
    expanded = per_sample_first(pushed(g.expanded) if matrix else row(g.expanded))
    expanded = marked(expanded, loss=loss)
    tail = [expanded] if fits(lhs, expanded) else []
    if matrix and vec_terms and all(x is not None for x in vec_terms):
        vec_form = marked(add(*vec_terms), loss=loss)
        entries = [(frac(loss, vec), [" + ".join(pieces), vec_form], ""),
                   (lhs, distinct([result] + tail), "")]  # fmt: skip
        if "vec" in said:
            text = (f"As for ${said['vec']}$, the Jacobians are taken with respect to ${vec}$ "
                    f"and the result is reshaped to the shape of ${p.latex}$")  # fmt: skip
        else:
            said["vec"] = p.latex
            text = (f"${p.latex}$ is a matrix: as in the lecture, the Jacobians are taken with "
                    f"respect to ${vec}$, its rows stacked into one column, and the result is "
                    f"reshaped back to the shape of ${p.latex}$")  # fmt: skip
    else:
        steps = distinct(([] if matrix else [" + ".join(pieces)]) + [result] + tail)
        entries = [(lhs, steps, "")]
        text = f"The gradient of the parameter ${p.latex}$ sums over the samples"
    if not tail and expanded != result:
        text += ("; written out in the forward quantities it would not fit on a line, so it is "
                 r"left in terms of $\mathbf{g}$")  # fmt: skip
    brief = display([(lhs, [result], "")])
    return JStep(p.latex, text, display(local) if local else None, display(entries), brief)


# --- the whole backward pass ----------------------------------------------------------------
@with_network_names
def build(derivation, batch: bool = False) -> Backward:
    """The backward pass; with ``batch``, also its form for the whole batch at once."""
    net = derivation.network
    known = known_values(derivation)
    said: dict = {}  # what the write-up has explained already
    done: set[Quantity] = {net.loss_q}
    pending = list(reversed(derivation.gradients))  # biases before weights, as in the lecture
    items: list[tuple[str, JStep, str]] = []
    batched: list[tuple[Display, bool]] = []  # batch-form lines; True: G defined afresh
    current = None

    def flush(layer: str) -> None:
        for pg in list(pending):
            if all(t.consumer in done for t in pg.terms):
                part = consumer(pg).part or ""
                items.append((layer, param_step(pg, net, current, known, said), part))
                if batch:
                    per_sample = param_result(pg, current, known)
                    form = batchform.to_batch(per_sample, current)
                    loss = loss_latex(net)
                    lhs = frac(loss, pg.q.latex)
                    # no matrix form: the sum over the samples, as above
                    shown = (batchform.marked(form, loss) if form is not None
                             else marked(per_sample, loss=loss))  # fmt: skip
                    batched.append((display([(lhs, [shown], "")]), False))
                pending.remove(pg)

    flush("")
    units = unit_parts(derivation)
    for g in derivation.residuals:
        if g.q in units:
            done.add(g.q)
            continue
        before = current
        step, current = node_step(g, net, current, known, units)
        if batch:
            batch_node(g, before, current, batched, net)
        layer = layer_tex(g.q.layer)
        items.append((layer, step, g.q.part or ""))
        done.add(g.q)
        flush(layer)
    groups: list[JGroup] = []
    for layer, s, part in items:
        if groups and (groups[-1].layer, groups[-1].part) == (layer, part):
            groups[-1] = JGroup(layer, groups[-1].steps + (s,), part)
        else:
            groups.append(JGroup(layer, (s,), part))
    briefs = [s.brief for _, s, _ in items if s.brief is not None]
    texts = [r.body for _, s, _ in items for d in (s.local, s.chain) if d for r in d.rows]
    shown = [d for d, _ in batched]
    batch_display = merge(shown) if batch and shown else None
    summary = merge(briefs) if briefs else None
    return Backward(tuple(groups), summary, notation(texts, _NOTATION), batch_display,
                    constants_tex(derivation))  # fmt: skip


def batch_node(g, before, current, batched, net) -> None:
    """G <- G J where J is the same matrix product for all samples; else G defined afresh, as
    one matrix ((1/m)(P - Y)^T) where the residual allows it, else by its rows (a run of such
    definitions shows only its last)."""
    if current != g.q:
        return
    t, loss = g.terms[0], loss_latex(net)
    note = r"\leftarrow " + frac(loss, g.q.latex)
    chain = len(g.terms) == 1 and t.consumer == before and before is not None and t.jacobian
    upd = batchform.update(t.jacobian, before) if chain else None
    if upd is not None:
        batched.append((arrow(display([("G", [batchform.marked(upd, loss)], note)])), False))
        return
    if batched and batched[-1][1]:
        batched.pop()
    whole = batchform.as_rows(g.expanded)  # G = (1/m)(P - Y)^T, where the residual allows it
    if whole is not None:
        batched.append((display([("G", [batchform.marked(whole, loss)], note)]), True))
        return
    batched.append((display([("G", [batchform.ROWS], note)]), True))


_NOTATION = [
    (r"\circ", r"$\circ$ is the element-wise (Hadamard) product"),
    (r"\oslash", r"$\oslash$ element-wise division"),
    (r"\operatorname{Ind}",
     r"$\operatorname{Ind}(\cdot)$ is 1 where the condition holds and 0 elsewhere"),
    (r"\operatorname{diag}",
     r"$\operatorname{diag}(\mathbf{v})$ the diagonal matrix with $\mathbf{v}$ on its diagonal"),
    (r"\mathbf{1}", r"$\mathbf{1}$ the vector of ones"),
    (r"I_{", r"$I_n$ the identity matrix of size $n \times n$"),
    *MAP_NOTATION,
]  # fmt: skip
