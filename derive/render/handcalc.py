"""LaTeX of a hand calculation: numbers as a student writes them, a formula with every quantity
replaced by its numbers, and the write-up that arranges the steps (templates/handcalc.*.j2).

The numbers go in through the printer, not by editing LaTeX: :class:`NumberPrinter` is the
report's :class:`DerivePrinter` with the leaves (quantities and residuals) printed as their values
and each batch sum written out over the samples, so every operation keeps the form the report
gives it (``\\sigma(...)``, ``\\circ``, ``\\operatorname{softmax}(...)``) with numbers inside.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp
from sympy.printing.latex import LatexPrinter

from derive.expr import Expr, Leaf, Quantity, Residual, m, sym
from derive.ops.algebra import Add, MatMul, Scale, Transpose
from derive.ops.batch import BatchSum
from derive.ops.elementwise import Apply, Hadamard
from derive.render import breaking, context
from derive.render.printer import INDICES, DerivePrinter, resolve_brackets

#: A matrix side longer than this is elided (its first rows, a row of dots, its last row): a
#: hand calculation is for small sizes, and a wider matrix would not fit the page anyway.
MAX_SIDE = 6
SHOWN_SIDE = 4  # the leading rows (columns) kept of an elided side
#: Up to this many samples every sample is written out; beyond, the first SHOWN_SAMPLES
#: and the last, with dots between.
MAX_SAMPLES = 4
SHOWN_SAMPLES = 2
#: A line still wider than the page after breaking at its + and - signs (a product of two wide
#: matrices has none) is set in smaller type, down to this factor.
MIN_SCALE = 0.7
RELATION = 1.4  # "= " after the alignment point, in em (as the report's displays)


# --- numbers ------------------------------------------------------------------------------
def number(x: float, digits: int = 4, given: bool = True) -> str:
    """A number as LaTeX, rounded for reading: ``digits`` decimals, or ``digits`` significant
    digits where that takes more (0.004488 rather than 0.0045); scientific notation below 1e-4
    and from 1e6 on. A ``given`` number (an input, a parameter) drops its trailing zeros (the
    homework's 0.18); a computed one keeps them (0.3100 beside 0.5721)."""
    trim = _trim if given else (lambda text: text)
    x = float(x)
    if math.isnan(x):
        return r"\mathrm{NaN}"
    if math.isinf(x):
        return r"\infty" if x > 0 else r"-\infty"
    if x == 0:
        return "0"
    exponent = math.floor(math.log10(abs(x)))
    if exponent < -4 or exponent >= 6:
        mantissa = f"{x / 10.0**exponent:.{digits - 1}f}"
        if abs(float(mantissa)) >= 10:  # 9.9996 rounded up to 10.000
            exponent += 1
            mantissa = f"{x / 10.0**exponent:.{digits - 1}f}"
        return trim(mantissa) + r" \cdot 10^{" + str(exponent) + "}"
    text = trim(f"{x:.{max(digits, digits - 1 - exponent)}f}")
    return "0" if text == "-0" else text


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


def shown(n: int, limit: int, keep: int) -> list[int | None]:
    """The indices shown of n, None standing for the elided ones."""
    if n <= limit:
        return list(range(n))
    return list(range(keep)) + [None, n - 1]


def matrix(a: np.ndarray, digits: int = 4, given: bool = True) -> str:
    """A 2-D array as a bmatrix (a 1 x 1 array as its number); long sides elided with dots."""
    a = np.asarray(a, dtype=float)
    if a.shape == (1, 1):
        return number(a[0, 0], digits, given)
    rows = shown(a.shape[0], MAX_SIDE, SHOWN_SIDE)
    cols = shown(a.shape[1], MAX_SIDE, SHOWN_SIDE)

    def cell(r: int | None, c: int | None) -> str:
        if r is None:
            return r"\vdots" if c is not None else r"\ddots"
        return r"\cdots" if c is None else number(a[r, c], digits, given)

    lines = [" & ".join(cell(r, c) for c in cols) for r in rows]
    return r"\begin{bmatrix} " + r" \\ ".join(lines) + r" \end{bmatrix}"


# --- printers -----------------------------------------------------------------------------
class SamplePrinter(DerivePrinter):
    """The report's printer, whose sample index may be a sample's number (x^{2}): a batch sum
    inside a formula for sample 2 then runs over i."""

    def _print_BatchSum(self, e):
        if self.index is None or self.index in INDICES:
            return super()._print_BatchSum(e)
        outer, self.index = self.index, None
        try:
            return super()._print_BatchSum(e)
        finally:
            self.index = outer


class NumberPrinter(SamplePrinter):
    """Prints an expression with every quantity and residual replaced by its value.

    ``values``: quantity name -> array and ``residuals``: quantity name -> array, in the layout of
    the compiled code (samples first); ``sizes``: every dim and m by its symbol, put into the
    coefficients (1/m -> 1/2); a constant (epsilon) keeps its symbol. A batched quantity takes
    its value at the
    sample bound to the index it is printed with: ``sample`` for the formula's own index i, and
    each sample in turn inside a batch sum, which is written out as the sum of its terms."""

    def __init__(self, loss_latex: str, values: dict, residuals: dict, sizes: dict,
                 digits: int, sample: int | None = None):  # fmt: skip
        super().__init__(loss_latex, INDICES[0])
        self.values, self.residuals = values, residuals
        self.sizes = sizes
        self.digits = digits
        self.m = int(sizes.get(m, 1))
        self.bound: dict[str, int | None] = {INDICES[0]: sample}
        self.stack: list = []  # the expressions being printed, outermost first

    def _print(self, expr, **kwargs):
        if not isinstance(expr, Expr):
            expr = sym(expr).subs(self.sizes)
            if isinstance(expr, sp.Float):
                return number(float(expr), self.digits)
            return super()._print(expr, **kwargs)
        self.stack.append(expr)
        try:
            return super()._print(expr, **kwargs)
        finally:
            self.stack.pop()

    # --- leaves --------------------------------------------------------------------------
    def array(self, q: Quantity, table: dict, transpose: bool = False) -> np.ndarray:
        value = np.asarray(table[q.name], dtype=float)
        if q.batched:
            value = value[self.bound[self.index]]
        r, c = (int(sym(s).subs(self.sizes)) for s in q.shape)
        value = value.reshape(r, c)
        return value.T if transpose else value

    def _print_Leaf(self, e):
        return self.operand_number(self.array(e.q, self.values), e.q.kind != "node")

    def _print_Residual(self, e):
        return self.operand_number(self.array(e.q, self.residuals), False)

    def _print_Apply(self, e):
        # sigma[0.74; -0.88]: a matrix brings its own brackets, round ones around it are clutter
        if e.fn.latex and isinstance(e.e, (Leaf, Residual)) and not e.e.is_scalar:
            return e.fn.latex + " " + self._print(e.e)
        return super()._print_Apply(e)

    def _print_Transpose(self, e):
        # the numbers of x^T are a row: written as the row they are, the product reads as it is
        # computed (column times row), which x with a T on it hides
        if isinstance(e.e, Leaf):
            values = self.array(e.e.q, self.values, transpose=True)
            return self.operand_number(values, e.e.q.kind != "node")
        if isinstance(e.e, Residual):
            return self.operand_number(self.array(e.e.q, self.residuals, transpose=True), False)
        return super()._print_Transpose(e)

    def operand_number(self, a: np.ndarray, given: bool = True) -> str:
        """A matrix as a bmatrix; a number bracketed where it is a factor, as the homework
        writes (1.86)(0.57), or where its minus sign would run into an operator: a + (-0.25)."""
        text = matrix(a, self.digits, given)
        if a.shape != (1, 1):
            return text
        return self.wrap(text) if self.bracket_number(float(a[0, 0]) < 0) else text

    def bracket_number(self, negative: bool) -> bool:
        node, parent = self.stack[-1], None
        for outer in reversed(self.stack[:-1]):
            if isinstance(outer, Transpose):
                node = outer
                continue
            parent = outer
            break
        if parent is None:
            return False
        if isinstance(parent, MatMul):
            # the product brackets every scalar factor but a quantity (W_2 h) itself
            return isinstance(node, Leaf) and (len(parent.factors) > 1 or negative)
        if isinstance(parent, Hadamard):  # (1.86)(0.57) on either side of a fraction bar
            power = next((p for f, p in parent.factors if f is node), 1)
            side = sum(1 for _, p in parent.factors if (p > 0) == (power > 0))
            return (parent.is_scalar and side > 1) or negative
        if isinstance(parent, Add):
            return negative and node is not parent.terms[0]
        if isinstance(parent, Apply):
            return negative and not parent.fn.latex  # 1 - (-0.5)^2; sigma(-0.5) has its own
        if isinstance(parent, Scale):  # 1/2 (0.83), not 1/2 0.83; but 1 - 0.57
            return negative or abs(sym(parent.c).subs(self.sizes)) != 1
        if isinstance(parent, BatchSum):
            return negative
        return False  # an operation with its own brackets: softmax(...), ||...||

    # --- coefficients and sums -----------------------------------------------------------
    def _print_Scale(self, e):
        c = sym(e.c).subs(self.sizes)
        if c == 1:  # 1/m at m = 1
            return self._print(e.e)
        return super()._print_Scale(Scale(c, e.e))

    def _print_BatchSum(self, e):
        outer = self.index
        letter = INDICES[INDICES.index(outer) + 1] if outer in INDICES else INDICES[0]
        terms = []
        for sample in shown(self.m, MAX_SAMPLES, SHOWN_SAMPLES):
            if sample is None:
                terms.append(r"\cdots")
                continue
            self.index, self.bound[letter] = letter, sample
            try:
                body = self._print(e.e)
            finally:
                self.index = outer
            terms.append(self.wrap(body) if isinstance(e.e, (Add, Scale)) and self.m > 1 else body)
        text = terms[0] + "".join((" " if t.startswith("- ") else " + ") + t for t in terms[1:])
        return self.wrap(text) if len(terms) > 1 and self.bracket_sum(e) else text

    def bracket_sum(self, e: BatchSum) -> bool:
        """Whether a sum written out needs brackets the sum sign did not: c (a + b), not
        c a + b; but not where the operation around it brackets it anyway."""
        parent = self.stack[-2] if len(self.stack) > 1 else None
        if parent is None or isinstance(parent, (Add, BatchSum)):
            return False
        if isinstance(parent, MatMul):  # brackets every factor but the last
            return parent.factors[-1] is e
        if isinstance(parent, Hadamard):
            return not parent.is_scalar and parent.factors[-1][0] is e
        if isinstance(parent, Apply):
            return not parent.fn.latex
        return not (getattr(parent, "latex_template", None) or getattr(parent, "delimited", 0))


def formula(expr: Expr, loss: str, index: str | None) -> str:
    """The formula (marked LaTeX, for breaking), its batched quantities at ``index``."""
    return LatexPrinter.doprint(SamplePrinter(loss, index), expr)


def quantity(q: Quantity, loss: str, index: str | None, residual: bool = False) -> str:
    """q, or dL/dq, at ``index``."""
    return formula(Residual(q) if residual else Leaf(q), loss, index)


def substituted(expr: Expr, printer: NumberPrinter) -> str:
    """The formula with the numbers in (marked LaTeX)."""
    return LatexPrinter.doprint(printer, expr)


# --- the write-up -------------------------------------------------------------------------
@dataclass(frozen=True)
class Row:
    """One row of an aligned display; ``scale`` < 1: set smaller, as it is too wide to break."""

    lhs: str
    rel: str  # "= ", or the indent of a continuation line
    line: str
    end: str
    scale: float = 1.0


def rows(entries: list[tuple[str, list[str]]], width: float = breaking.LINE_WIDTH) -> list[Row]:
    """``lhs = step = step ...`` per entry, each step on its own row and broken at its + and -
    signs to fit the room the widest lhs of the display leaves (align* aligns them all); a line
    that still overflows (a product of wide matrices has no sign to break at) is scaled down."""
    if not entries:
        return []
    room = width - max(breaking.width(lhs) for lhs, _ in entries) - RELATION
    out: list[Row] = []
    for lhs, steps in entries:
        if out:  # a page may break between two steps, not inside one (\\* forbids it)
            last = out[-1]
            out[-1] = Row(last.lhs, last.rel, last.line, r" \\", last.scale)
        for k, step in enumerate(context.distinct([s for s in steps if s])):
            lines = breaking.break_marked(step, room, room - breaking.INDENT)
            for j, line in enumerate(lines):
                fits = room if j == 0 else room - breaking.INDENT
                wide = breaking.width(line)
                scale = 1.0 if wide <= fits else max(MIN_SCALE, math.floor(100 * fits / wide) / 100)
                lead = lhs if k == 0 and j == 0 else ""
                rel = "= " if j == 0 else r"\qquad {} "
                out.append(Row(lead, rel, line, r" \\*", scale))
    last = out[-1]
    out[-1] = Row(last.lhs, last.rel, last.line, "", last.scale)
    return out


def write(calc, out_dir: Path, formats: set[str]) -> list[Path]:
    """Write <name>_handcalc.tex, and .md and .pdf as ``formats`` asks; return the paths."""
    from derive.render.report import render, write_documents

    doc = document(calc)
    tex = render("handcalc.tex.j2", h=doc)
    md = render("handcalc.md.j2", h=doc) if "md" in formats else None
    return write_documents(f"{calc.network.name}_handcalc", tex, Path(out_dir), formats, md)


@dataclass(frozen=True)
class Block:
    """A heading and one aligned display of the steps under it."""

    title_tex: str  # "Layer $FC_{1}$", "The loss", or ""
    title_md: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Document:
    """What the templates print: text, and displays as rows of finished LaTeX."""

    title_tex: str
    title_md: str
    source_tex: str
    source: str
    origin_tex: str  # where the numbers come from
    origin_md: str
    digits: int
    m: int
    per_sample: bool  # m > 1: superscripts name the samples
    elided: bool  # some samples are not written out
    shown_samples: str  # "1, 2 and 9"
    loss: str
    inputs: tuple[Row, ...]
    params: tuple[Row, ...]
    constants: tuple[Row, ...]
    forward: tuple[Block, ...]
    backward: tuple[Block, ...]
    gradients: tuple[Block, ...]
    constant: str  # inline math: residuals that are constants
    summary: tuple[Row, ...]
    notation: tuple[str, ...]
    notes: tuple = ()  # the network file's notes (net.notes), as in its report


def _blocks(groups, loss: str) -> tuple[Block, ...]:
    out = []
    for g in groups:
        title = f"Layer ${g.heading}$" if g.heading else ""
        if not title and any(s.name == loss for s in g.steps):
            title = "The loss"
        entries = [(s.lhs, [s.formula, s.substituted, s.result]) for s in g.steps]
        out.append(Block(title, title, tuple(rows(entries))))
    return tuple(out)


def _given(steps) -> tuple[Row, ...]:
    """Given values, the samples of a quantity side by side as far as the line allows
    (x^1 = ..., x^2 = ...): a column of small vectors would run over pages."""
    entries: list[tuple[str, list[str]]] = []
    room = breaking.LINE_WIDTH - 8  # less a typical lhs and the relation
    for k, s in enumerate(steps):
        if k and s.name == steps[k - 1].name:
            joined = entries[-1][1][0] + r", \qquad " + s.lhs + " = " + s.result
            if breaking.width(joined) <= room:
                entries[-1] = (entries[-1][0], [joined])
                continue
        entries.append((s.lhs, [s.result]))
    return tuple(rows(entries))


def document(calc) -> Document:
    net = calc.network
    source = Path(net.source).name if net.source else ""
    steps = [s for g in calc.forward + calc.backward + calc.gradients for s in g.steps]
    samples = [str(k + 1) for k in shown(calc.m, MAX_SAMPLES, SHOWN_SAMPLES) if k is not None]
    inputs, params, constants = calc.given
    loss = net.loss_quantity.name
    return Document(
        title_tex=context.tex_text(net.title),
        title_md=context.md_text(net.title),
        source_tex=context.tex_text(source),
        source=source,
        origin_tex=context.tex_text(calc.origin),
        origin_md=context.md_text(calc.origin),
        digits=calc.digits,
        m=calc.m,
        per_sample=calc.m > 1,
        elided=calc.m > MAX_SAMPLES,
        shown_samples=context.and_list(samples),
        loss=context.loss_latex(net),
        inputs=_given(inputs.steps),
        params=_given(params.steps),
        constants=_given(constants.steps),
        forward=_blocks(calc.forward, loss),
        backward=_blocks(calc.backward, loss),
        gradients=_blocks(calc.gradients, loss),
        constant=calc.constant,
        summary=_given(calc.summary),
        notation=context.notation(
            [resolve_brackets(t) for s in steps for t in (s.formula, s.substituted)]
        ),
        notes=context.notes(net),
    )
