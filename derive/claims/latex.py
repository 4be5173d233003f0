"""A parsed claim written back as LaTeX: how a student's claim is shown as mathematics (in the
feedback), re-emitted from its tree, never from the text the student wrote.

Safe by construction: the output holds only the commands below and the letters, digits and
punctuation of names the parser accepted, so nothing of a student's text reaches TeX as TeX
(``\\input`` cannot be in a tree). And faithful: :func:`to_latex` of a tree parses back to the
same tree (the test suite checks this on generated claims), brackets put in wherever the
grammar's precedence needs them.
"""

from __future__ import annotations

from derive.claims import ast
from derive.claims.lexer import GREEK_LOWER, GREEK_UPPER

_GREEK = set(GREEK_LOWER) | set(GREEK_UPPER)
_FUNCTIONS = {
    "sigma": r"\sigma", "tanh": r"\tanh", "exp": r"\exp", "log": r"\log", "max": r"\max",
    "min": r"\min", "sin": r"\sin", "cos": r"\cos", "softplus": r"\operatorname{softplus}",
    "sign": r"\operatorname{sgn}", "relu": r"\operatorname{ReLU}", "diag": r"\operatorname{diag}",
    "softmax": r"\operatorname{softmax}", "tr": r"\operatorname{tr}",
    "det": r"\det",    "logsumexp": r"\operatorname{logsumexp}",
}  # fmt: skip
_COMPARE = {">": ">", "<": "<", ">=": r"\geq", "<=": r"\leq", "!=": r"\neq", "=": "="}
_SUB_SYMBOLS = {"oplus": r"\oplus", "otimes": r"\otimes"}


def to_latex(node: ast.Node, names=None) -> str:
    """LaTeX of a claim's tree (an Equation, or one side). ``names(name) -> LaTeX | None``:
    how the network writes a name the claim resolves to (``\\mathbf{p}`` for p), so a claim
    reads in the course's notation; the result then parses to the same meaning, not always to
    the same tree."""
    return _Printer(names).node(node)


class _Printer:
    def __init__(self, names=None):
        self.names = names

    def node(self, n: ast.Node) -> str:
        return getattr(self, "_" + type(n).__name__.lower())(n)

    # --- leaves ---------------------------------------------------------------------------
    def _equation(self, n: ast.Equation) -> str:
        return " = ".join(self.node(s) for s in n.sides)

    def _number(self, n: ast.Number) -> str:
        return n.text

    def _name(self, n: ast.Name) -> str:
        own = self.names(n) if self.names is not None else None
        if own:
            return own
        if n.base in _GREEK:
            text = "\\" + n.base
        elif len(n.base) == 1:
            text = n.base
        else:
            text = r"\mathrm{" + n.base + "}"
        for accent in reversed(n.accents):
            text = "\\" + accent + "{" + text + "}"
        if n.sub is not None:
            text += "_{" + _sub(n.sub) + "}"
        if n.label is not None:
            text += "^{(" + n.label + ")}"
        return text

    def _ones(self, n: ast.Ones) -> str:
        return r"\mathbf{1}" + ("_{" + _sub(n.sub) + "}" if n.sub else "")

    # --- scripts --------------------------------------------------------------------------
    def _sup(self, n: ast.Sup) -> str:
        if n.hadamard:
            return self.atom(n.base) + r"^{\circ " + self.node(n.exponent) + "}"
        return self.atom(n.base, sup=True) + "^{" + self.node(n.exponent) + "}"

    def _transpose(self, n: ast.Transpose) -> str:
        return self.atom(n.operand, sup=True) + "^{T}"

    def _component(self, n: ast.Component) -> str:
        indices = "".join(str(i) for i in n.indices)
        if len(n.indices) == 2 and any(isinstance(i, int) for i in n.indices):
            indices = ",".join(str(i) for i in n.indices)
        return r"\left(" + self.node(n.base) + r"\right)_{" + indices + "}"

    def atom(self, n: ast.Node, sup: bool = False) -> str:
        """``n`` as the base of a script: bracketed unless it is one name, number or group."""
        if isinstance(n, ast.Name) and not (sup and n.label is not None):
            return self.node(n)
        if isinstance(n, ast.Number | ast.Ones | ast.Call | ast.Abs | ast.Norm | ast.Component):
            return self.node(n)
        return r"\left(" + self.node(n) + r"\right)"

    # --- operators --------------------------------------------------------------------------
    def _neg(self, n: ast.Neg) -> str:
        inner = n.operand
        text = self.node(inner)
        if isinstance(inner, ast.BinOp | ast.Neg | ast.Sum | ast.Derivative):
            text = r"\left(" + text + r"\right)"
        return "-" + text

    def _binop(self, n: ast.BinOp) -> str:
        if n.op in ("+", "-"):
            right = self.node(n.right)
            if (
                isinstance(n.right, ast.BinOp)
                and n.right.op in ("+", "-")
                or isinstance(n.right, ast.Neg)
            ):
                right = r"\left(" + right + r"\right)"
            return f"{self.node(n.left)} {n.op} {right}"
        op = {"*": " ", "hadamard": r" \circ ", "/": " / "}[n.op]
        return self.factor(n.left, left=True) + op + self.factor(n.right, left=False)

    def factor(self, n: ast.Node, left: bool) -> str:
        """An operand of a product: a sum bracketed; on the left, whatever takes the rest of
        the chain (a sum, a derivative operator) bracketed; on the right, any product too (the
        chain associates to the left)."""
        text = self.node(n)
        if isinstance(n, ast.BinOp) and n.op in ("+", "-"):
            return r"\left(" + text + r"\right)"
        if isinstance(n, ast.Neg):
            return r"\left(" + text + r"\right)"
        if not left and isinstance(n, ast.BinOp):
            return r"\left(" + text + r"\right)"
        if left and _takes_the_rest(n):
            return r"\left(" + text + r"\right)"
        return text

    def _frac(self, n: ast.Frac) -> str:
        return r"\frac{" + self.node(n.num) + "}{" + self.node(n.den) + "}"

    def _derivative(self, n: ast.Derivative) -> str:
        d = r"\partial" if n.partial else "d"
        var = self.node(n.var)
        if isinstance(n.f, ast.Name) or (isinstance(n.f, ast.Component) and n.partial):
            return r"\frac{" + d + " " + self.node(n.f) + "}{" + d + " " + var + "}"
        return r"\frac{" + d + "}{" + d + " " + var + r"}\left(" + self.node(n.f) + r"\right)"

    def _sum(self, n: ast.Sum) -> str:
        text = r"\sum"
        if n.index is not None:
            lower = n.index
            if n.lower is not None:
                lower += "=" + self.node(n.lower)
            if n.exclude is not None:
                lower += (", " + n.index if n.lower is not None else "") + r" \neq " + n.exclude
            text += "_{" + lower + "}"
        if n.upper is not None:
            text += "^{" + self.node(n.upper) + "}"
        body = self.node(n.body)
        if isinstance(n.body, ast.BinOp) and n.body.op in ("+", "-") or isinstance(n.body, ast.Neg):
            body = r"\left(" + body + r"\right)"
        return text + " " + body

    # --- functions --------------------------------------------------------------------------
    def _call(self, n: ast.Call) -> str:
        head = _FUNCTIONS.get(n.fn) or r"\operatorname{" + n.fn + "}"
        args = ", ".join(self.node(a) for a in n.args)
        if n.fn == "sqrt":
            return r"\sqrt{" + args + "}"
        return head + r"\left(" + args + r"\right)"

    def _abs(self, n: ast.Abs) -> str:
        return r"\left|" + self.node(n.operand) + r"\right|"

    def _norm(self, n: ast.Norm) -> str:
        p = "_{" + ("\\infty" if n.p in ("infty", "inf") else n.p) + "}" if n.p else ""
        return r"\left\|" + self.node(n.operand) + r"\right\|" + p

    def _compare(self, n: ast.Compare) -> str:
        return f"{self.node(n.left)} {_COMPARE[n.op]} {self.node(n.right)}"

    def _indicator(self, n: ast.Indicator) -> str:
        return r"\mathbb{1}\left[" + self._compare(n.condition) + r"\right]"

    def _cases(self, n: ast.Cases) -> str:
        rows = []
        for value, condition in zip(n.values, n.conditions):
            cond = r"\text{otherwise}" if condition is None else (
                r"\text{if } " + self._compare(condition))  # fmt: skip
            rows.append(self.node(value) + " & " + cond)
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"


def _takes_the_rest(n: ast.Node) -> bool:
    """Does ``n`` end with something that takes the rest of a chain of factors (a sum, a
    derivative operator), so that a factor after it would fall inside?"""
    while isinstance(n, ast.BinOp) and n.op in ("*", "hadamard", "/"):
        n = n.right
    return isinstance(n, ast.Sum | ast.Derivative)


def _sub(text: str) -> str:
    """A subscript as the parser normalised it (2B, B,k, oplus, BN*), written back."""
    if text in _SUB_SYMBOLS:
        return _SUB_SYMBOLS[text]
    if text.endswith("*") and text[:-1].isalnum():
        return r"\mathrm{" + text[:-1] + "}^*"
    if text.replace(",", "").isalnum() and text.isascii():
        return r"\mathrm{" + text + "}" if len(text) > 1 and not text.isdigit() else text
    return r"\mathrm{" + "".join(ch for ch in text if ch.isalnum() or ch == ",") + "}"
