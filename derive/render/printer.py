"""LaTeX for matrix expressions, in the notation of the course: per-sample column vectors with a
superscript sample index, transposes, Hadamard products, 1/m sum_i.

A subclass of SymPy's LatexPrinter, so scalar parts (coefficients such as 1/m, the scalar forms of
element-wise derivatives) print as SymPy prints them; each matrix operation has its ``_print_``
method, and an op that brings its own ``latex_template`` needs none.
"""

from __future__ import annotations

import functools
import re
from contextvars import ContextVar

import sympy as sp
from sympy.printing.latex import LatexPrinter

from derive.expr import SCALAR_ONE, Expr, Leaf, Ones, Residual
from derive.ops.algebra import Add, MatMul, Scale, Transpose
from derive.ops.batch import BatchSum
from derive.ops.elementwise import Hadamard, S

OPEN, CLOSE = "\x01", "\x02"
BRACKETS = [(r"\left(", r"\right)"), (r"\left[", r"\right]"), (r"\left\{", r"\right\}")]
INDICES = ["i", "j", "k", "l", "n"]


class LatexAtom(sp.Symbol):
    """A symbol that prints as a given piece of LaTeX (a vector inside cos(.), say)."""

    def __new__(cls, latex: str):
        obj = super().__new__(cls, "ATOM" + latex, real=True)
        obj.latex_str = latex
        return obj

    def _derive_latex(self, printer):
        return self.latex_str


def with_superscript(latex: str, sup: str) -> str:
    """x^{sup}, never two superscripts stacked so that they read as one power (x^{(1)i},
    sigma^{2i}, h^{i o 2}): a sample index joins a layer label (x^{(1), i}) or goes under a power
    ((sigma^i)^2); any other superscript (a power, a transpose) brackets the base
    ((h^i)^{o 2}, (W^{(1)})^T)."""
    split = _last_superscript(latex)
    if split is None:
        return latex + "^{" + sup + "}"
    prefix, atom, existing = split
    if len(sup) == 1 and sup.islower() and atom:  # a sample index i, j
        power = existing.lstrip("-").isdigit() or existing.startswith("\\circ")
        if not power:  # a label: x^{(1)}, x^{*}
            return prefix + atom + "^{" + existing + ", " + sup + "}"
        return prefix + r"\left(" + atom + "^{" + sup + r"}\right)^{" + existing + "}"
    return r"\left(" + latex + r"\right)^{" + sup + "}"


def _last_superscript(latex: str) -> tuple[str, str, str] | None:
    """(prefix, atom, superscript) when ``latex`` ends in atom^{superscript} at the top level
    ("\\log " + "\\boldsymbol{\\sigma}" + "2"); atom is "" when it cannot be told apart. None
    without a top-level superscript."""
    depth, top = 0, None
    for k, ch in enumerate(latex):
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "^" and depth == 0:
            top = k
    if top is None:
        return None
    rest = latex[top + 1 :]
    if rest.startswith("{") and _closing(rest, 0) == len(rest) - 1:
        existing = rest[1:-1]
    elif len(rest) == 1:
        existing = rest
    else:
        return "", "", ""  # a superscript in the middle: bracket the whole
    j = top
    while j > 0:
        if latex[j - 1] == "}":
            j = _opening(latex, j - 1)
            while j > 0 and (latex[j - 1].isalpha() or latex[j - 1] == "\\"):
                j -= 1
                if latex[j] == "\\":
                    break
        elif latex[j - 1].isalnum():
            j -= 1
            while j > 0 and latex[j - 1].isalpha():
                j -= 1
            if j > 0 and latex[j - 1] == "\\":
                j -= 1
        else:
            break
        if j > 0 and latex[j - 1] == "_":  # the base of a subscript belongs to the atom
            j -= 1
            continue
        break
    return latex[:j], latex[j:top], existing


def _closing(s: str, start: int) -> int:
    depth = 0
    for k in range(start, len(s)):
        depth += s[k] == "{"
        depth -= s[k] == "}"
        if depth == 0:
            return k
    return -1


def _opening(s: str, end: int) -> int:
    depth = 0
    for k in range(end, -1, -1):
        depth += s[k] == "}"
        depth -= s[k] == "{"
        if depth == 0:
            return k
    return 0


#: Names of element-wise functions for the network being written up, where the usual one
#: clashes with one of its quantities (the sigmoid's sigma beside the VAE's sigma).
_FUNCTION_NAMES: ContextVar[dict[str, str] | None] = ContextVar("function_names", default=None)

#: function -> (the symbol that clashes, the name used instead)
CLASHES = {"sigmoid": (r"\sigma", r"\operatorname{sigmoid}")}


def with_network_names(build):
    """Decorate a write-up's build(derivation, ...): while it runs, a function whose symbol a
    quantity of the network also uses is written by its name."""

    @functools.wraps(build)
    def run(derivation, *args, **kwargs):
        net = derivation.network
        names = {}
        for fn, (symbol, name) in CLASHES.items():
            if any(symbol in q.latex for q in net.quantities.values()):
                names[fn] = name
        token = _FUNCTION_NAMES.set(names)
        try:
            return build(derivation, *args, **kwargs)
        finally:
            _FUNCTION_NAMES.reset(token)

    return run


class ScalarPrinter(LatexPrinter):
    """SymPy's LaTeX for the scalar parts (coefficients, element-wise derivatives)."""

    printmethod = "_derive_latex"

    def _print(self, expr, **kwargs):
        # SymPy's own LaTeX methods (pi's \pi, E's e) are named _latex, which the printmethod
        # above would otherwise bypass (sqrt(pi) in a GELU's derivative printed \text{\Pi})
        if not hasattr(expr, self.printmethod) and callable(getattr(expr, "_latex", None)):
            return expr._latex(self, **kwargs)
        return super()._print(expr, **kwargs)

    def _print_Heaviside(self, expr, exp=None):
        return r"\mathbb{1}" + BRACKETS[1][0] + self._print(expr.args[0]) + r" > 0" + BRACKETS[1][1]


class DerivePrinter(LatexPrinter):
    printmethod = "_derive_latex"

    def __init__(self, loss_latex: str = "L", index: str | None = None):
        super().__init__({"order": "none"})
        self.loss_latex = loss_latex
        self.index = index
        self.scalar = ScalarPrinter({"order": "none"})

    def _print(self, expr, **kwargs):
        # SymPy dispatches on class names, and SymPy's Add, Zero, Identity share theirs with the
        # matrix operations here: scalars go to a plain SymPy printer (1 - tanh^2 is a SymPy Add)
        if isinstance(expr, Expr):
            return super()._print(expr, **kwargs)
        return self.scalar._print(expr, **kwargs)

    def doprint(self, expr) -> str:
        return resolve_brackets(super().doprint(expr))

    # --- helpers -------------------------------------------------------------------------
    def wrap(self, s: str) -> str:
        return OPEN + s + CLOSE

    def _needs_parens(self, e: Expr) -> bool:
        return isinstance(e, (Add, Scale)) or (isinstance(e, MatMul) and e.is_scalar)

    def operand(self, e: Expr) -> str:
        s = self._print(e)
        return self.wrap(s) if self._needs_parens(e) else s

    def quantity(self, q) -> str:
        return with_superscript(q.latex, self.index) if q.batched and self.index else q.latex

    # --- leaves --------------------------------------------------------------------------
    def _print_Leaf(self, e):
        return self.quantity(e.q)

    def _print_Residual(self, e):
        return rf"\frac{{\partial {self.loss_latex}}}{{\partial {self.quantity(e.q)}}}"

    def _print_Identity(self, e):
        return "1" if e == SCALAR_ONE else "I"

    def _print_Ones(self, e):
        return "1" if e.n == 1 else r"\mathbf{1}"

    def _print_Zero(self, e):
        return r"\mathbf{0}"

    # --- algebra -------------------------------------------------------------------------
    def _print_Scale(self, e):
        c = e.c
        if c.could_extract_minus_sign():
            return "- " + self._print_Scale(Scale(-c, e.e)) if -c != 1 else "- " + self.operand(e.e)
        inner = e.e
        if inner == SCALAR_ONE:
            return self._print(c)
        body = (
            self.wrap(self._print(inner)) if isinstance(inner, (Add, Scale)) else self._print(inner)
        )
        return self._print(c) + " " + body

    def _print_Add(self, e):
        out = []
        for k, t in enumerate(e.terms):
            s = self._print(t)
            if k and not s.startswith("- "):
                out.append("+ " + s)
            else:
                out.append(s)
        return " ".join(out)

    def _print_MatMul(self, e):
        parts = []
        for k, f in enumerate(e.factors):
            s = self._print(f)
            # (a o b) c and (sum_i a) c: the product must not seem to bind tighter
            needs = isinstance(f, (Add, Scale)) or (isinstance(f, Hadamard) and not f.is_scalar)
            needs |= f.is_scalar and len(e.factors) > 1 and not isinstance(f, (Leaf, Hadamard))
            needs &= not getattr(f, "delimited", False)  # ||W||^2 brings its own bars
            needs |= isinstance(f, BatchSum) and k < len(e.factors) - 1
            parts.append(self.wrap(s) if needs else s)
        return " ".join(parts)

    def _print_Transpose(self, e):
        inner = e.e
        s = self._print(inner)
        if isinstance(inner, Ones) or (
            isinstance(inner, Leaf) and not (inner.batched and self.index)
        ):
            return with_superscript(s, "T")
        return self.wrap(s) + "^{T}"

    # --- element-wise --------------------------------------------------------------------
    def _print_Apply(self, e):
        arg = self._print(e.e)
        name = (_FUNCTION_NAMES.get() or {}).get(e.fn.name, e.fn.latex)
        if name:
            return name + self.wrap(arg)
        # (v + eps 1)^{3/2}: a sum raised to a power needs its brackets; under a root it does not
        powered = any(
            p.is_Pow and p.base == S and abs(p.exp) != sp.Rational(1, 2)
            for p in sp.preorder_traversal(e.fn.expr)
        )
        if powered and isinstance(e.e, (Add, Scale, MatMul)):
            arg = self.wrap(arg)
        scalar = e.fn.expr.subs(S, LatexAtom(arg))
        s = self._print(scalar)
        # 1 - tanh^2(z) is one factor: a o (1 - tanh^2 z), not a o 1 - tanh^2 z
        compound = isinstance(scalar, sp.Add) or scalar.could_extract_minus_sign()
        return self.wrap(s) if compound else s

    def _print_Hadamard(self, e):
        def factor(k, f, p):
            s = self._print(f)
            # [A x] o b, not A x o b: which product binds first must not be left to the reader
            needs = isinstance(f, (Add, Scale, MatMul))
            needs |= isinstance(f, BatchSum) and k < len(e.factors) - 1
            s = self.wrap(s) if needs else s
            return s if abs(p) == 1 else with_superscript(s, "\\circ " + str(abs(p)))

        rows = all(isinstance(f, Transpose) for f, _ in e.factors)
        if e.shape[0] == 1 and not e.is_scalar and rows:
            # a row of transposed columns: (sigma^{o 2})^T rather than ((sigma)^T)^{o 2}
            from derive.ops.elementwise import hadamard

            column = hadamard(*((f.e, p) for f, p in e.factors))
            return self.wrap(self._print(column)) + "^{T}"
        if e.is_scalar:  # a product and quotient of scalars: a fraction, as on paper
            num = [self.scalar_factor(f, p) for f, p in e.factors if p > 0]
            den = [self.scalar_factor(f, -p) for f, p in e.factors if p < 0]
            top = " ".join(num) or "1"
            return rf"\frac{{{top}}}{{{' '.join(den)}}}" if den else top
        num = [factor(k, f, p) for k, (f, p) in enumerate(e.factors) if p > 0] or [r"\mathbf{1}"]
        den = [factor(k, f, p) for k, (f, p) in enumerate(e.factors) if p < 0]
        return r" \circ ".join(num) + "".join(r" \oslash " + d for d in den)

    def scalar_factor(self, f: Expr, p: int) -> str:
        s = self._print(f)
        alone = isinstance(f, (Leaf, Residual)) or (isinstance(f, MatMul) and p == 1)
        alone |= p == 1 and bool(getattr(f, "delimited", False))  # lambda ||W||^2, no brackets
        s = s if alone else self.wrap(s)
        return s if p == 1 else with_superscript(s, str(p))

    def _print_Diag(self, e):
        if e.v.is_scalar:
            return self._print(e.v)
        return r"\operatorname{diag}" + self.wrap(self._print(e.v))

    # --- batch ---------------------------------------------------------------------------
    def _print_BatchSum(self, e):
        outer = self.index
        self.index = INDICES[INDICES.index(outer) + 1] if outer else INDICES[0]
        try:
            body = self._print(e.e)
            if isinstance(e.e, (Add, Scale)):
                body = self.wrap(body)
            return rf"\sum_{{{self.index}=1}}^{{m}} " + body
        finally:
            self.index = outer

    # --- every other op ------------------------------------------------------------------
    def emptyPrinter(self, expr):
        template = getattr(expr, "latex_template", None)
        if template is not None:
            # not str.format: templates are LaTeX, full of braces (\operatorname{softmax})
            args = [self._print(c) for c in expr.children]
            return re.sub(
                r"\{(\d+)\}",
                lambda mt: args[int(mt.group(1))] if int(mt.group(1)) < len(args) else mt.group(0),
                template,
            )
        return super().emptyPrinter(expr)


def resolve_brackets(s: str) -> str:
    """Turn bracket markers into (), [], \\{\\} by nesting depth, innermost round, as on paper."""
    if OPEN not in s:
        return s
    # depth of the deepest pair inside each pair decides its bracket
    stack: list[list[int]] = []
    kinds: dict[int, int] = {}
    for pos, ch in enumerate(s):
        if ch == OPEN:
            stack.append([pos, 0])
        elif ch == CLOSE:
            start, inner = stack.pop()
            kinds[start] = kinds[pos] = inner
            if stack:
                stack[-1][1] = max(stack[-1][1], inner + 1)
    out = []
    for pos, ch in enumerate(s):
        if ch == OPEN:
            out.append(BRACKETS[kinds[pos] % 3][0])
        elif ch == CLOSE:
            out.append(BRACKETS[kinds[pos] % 3][1])
        else:
            out.append(ch)
    return "".join(out)


def latex(expr, index: str | None = None, loss: str = "L") -> str:
    """LaTeX of an expression; ``index`` is the sample index of batched quantities."""
    return DerivePrinter(loss, index).doprint(expr)


def plain(expr) -> str:
    """A short text form for error messages: quantity names, *, ', o."""
    from derive.expr import Leaf, Residual

    if isinstance(expr, Leaf):
        return expr.q.name
    if isinstance(expr, Residual):
        return f"dL/d{expr.q.name}"
    name = type(expr).__name__
    kids = getattr(expr, "children", ())
    if name == "MatMul":
        return "*".join(_plain_operand(c) for c in kids)
    if name == "Add":
        return " + ".join(plain(c) for c in kids)
    if name == "Scale":
        return f"{expr.c}*{_plain_operand(expr.e)}"
    if name == "Transpose":
        return _plain_operand(expr.e) + ".T"
    if name == "Apply":
        return f"{expr.fn.name or 'f'}({plain(expr.e)})"
    if kids:
        return f"{name.lower()}(" + ", ".join(plain(c) for c in kids) + ")"
    return re.sub(r"\W+", "", name)


def _plain_operand(e) -> str:
    s = plain(e)
    return f"({s})" if type(e).__name__ in ("Add", "Scale") else s
