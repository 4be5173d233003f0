"""From the grammar's rules to AST nodes, applied by lark while it parses (no tree, no
recursion: the LALR parser calls these callbacks bottom-up as it reduces).

The decisions that need more than one rule's worth of context are made here:

- derivatives: ``\\frac{d f}{d x}`` and ``\\frac{\\partial L}{\\partial W}`` (a fraction whose
  numerator starts with d or \\partial and whose denominator is d or \\partial times a name) are
  a :class:`Derivative`; ``\\frac{d}{dx}`` alone is an operator that takes the rest of its chain
  of factors; plain ``d/dx f`` and ``dL/dW`` likewise (see :func:`fold_chain`);
- indicators: ``\\mathbb{1}[s > 0]``, ``1[s > 0]``: a bracketed comparison right after a one;
- scripts: subscripts attach to the name inside (``\\hat{y}^i_B`` is ``\\hat{y}_B^i``), a
  subscript on a norm is its p, ``a^b^c`` is ``a^(b^c)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from lark import Token, Transformer

from derive.claims.ast import (
    Abs,
    BinOp,
    Call,
    Cases,
    Compare,
    Component,
    Derivative,
    Equation,
    Frac,
    Indicator,
    Name,
    Neg,
    Node,
    Norm,
    Number,
    Ones,
    Sum,
    Sup,
    Transpose,
    index_tuple,
)
from derive.claims.errors import ParseError
from derive.claims.lexer import FUNCTION_SPELLINGS

MAX_SCRIPTS = 8
MAX_ACCENTS = 4


# --- markers that exist only while parsing; any left over is an error (see parse.validate) -----
@dataclass(frozen=True)
class Partial(Node):
    """A ``\\partial`` that is not (yet) part of a derivative."""


@dataclass(frozen=True)
class DerivOp(Node):
    """The operator ``\\frac{d}{dx}``, waiting for the rest of its chain (``then``: the inner
    variable of a second derivative, ``\\frac{\\partial^2}{\\partial x \\partial y}``)."""

    var: Node
    partial: bool
    then: Node | None = None

    def apply(self, operand: Node) -> Node:
        if self.then is not None:
            operand = Derivative(operand, self.then, self.partial, start=self.start)
        return Derivative(operand, self.var, self.partial, start=self.start)


@dataclass(frozen=True)
class NablaOp(Node):
    """``\\nabla_x`` before a transposed factor (``\\nabla_x x^T A x``): it takes the run of
    factors juxtaposed after it, as the gradient of one factor ``x^T`` would not be of a
    number."""

    var: Node
    first: Node

    def apply(self, operand: Node) -> Node:
        return Derivative(operand, self.var, True, start=self.start)


def _error(message: str, position: int) -> ParseError:
    position = max(position, 0)
    return ParseError(f"{message} at {position}", position)


def _pos(item) -> int:
    return item.start_pos if isinstance(item, Token) else item.start


def _is_d(node: Node) -> bool:
    """d (also \\mathrm{d}) or \\partial: the mark of a derivative."""
    return isinstance(node, Partial) or node == Name("d")


def _is_var(node: Node) -> bool:
    """What a derivative can be taken with respect to: a name, or a name with a superscript
    (a sample index, ``\\partial \\mathbf{z}_{2B}^{i}``), or an entry of one
    (``\\partial (W_2)_{kj}``)."""
    return (isinstance(node, Name) or (isinstance(node, Sup) and isinstance(node.base, Name))
            or (isinstance(node, Component) and isinstance(node.base, Name)))  # fmt: skip


def _split_lead(node: Node) -> tuple[Node, Node | None]:
    """The leftmost factor of a product and the product of the others (None when alone).
    Iterative: a long chain is a deep left spine."""
    spine: list[BinOp] = []
    while isinstance(node, BinOp) and node.op == "*":
        spine.append(node)
        node = node.left
    lead, rest = node, None
    for outer in reversed(spine):
        rest = outer.right if rest is None else BinOp("*", rest, outer.right, start=rest.start)
    return lead, rest


def _factors(node: Node | None) -> list[Node]:
    out: list[Node] = []
    while isinstance(node, BinOp) and node.op == "*":
        out.append(node.right)
        node = node.left
    return [] if node is None else [node, *reversed(out)]


def _second_parts(num: Node, den: Node):
    """For d^2 f / d x d y (or d x^2, d x d x^T): (f or None, x, y, partial); None if the
    numerator is not d^2 or \\partial^2."""
    num_lead, f = _split_lead(num)
    if not (isinstance(num_lead, Sup) and _is_d(num_lead.base)
            and num_lead.exponent == Number("2")):  # fmt: skip
        return None
    den_lead, rest = _split_lead(den)
    parts = _factors(rest)
    if not _is_d(den_lead):
        return None
    if len(parts) == 1 and isinstance(parts[0], Sup) and parts[0].exponent == Number("2"):
        outer = inner = parts[0].base
    elif len(parts) == 3 and _is_d(parts[1]):
        outer, inner = parts[0], parts[2]
        inner = inner.operand if isinstance(inner, Transpose) else inner  # d x d x^T
    else:
        return None
    if not (_is_var(outer) and _is_var(inner)):
        return None
    partial = isinstance(num_lead.base, Partial) or isinstance(den_lead, Partial)
    return f, outer, inner, partial


def _derivative_parts(num: Node, den: Node) -> tuple[Node | None, Node, bool] | None:
    """For d f / d x: (f or None for the bare operator, x, partial); None if not a derivative."""
    num_lead, f = _split_lead(num)
    den_lead, var = _split_lead(den)
    if not (_is_d(num_lead) and _is_d(den_lead) and var is not None and _is_var(var)):
        return None
    partial = isinstance(num_lead, Partial) or isinstance(den_lead, Partial)
    return f, var, partial


def _fold(items: list[tuple[str | None, Node]]) -> Node:
    acc = items[0][1]
    for op, node in items[1:]:
        acc = BinOp("*" if op == "juxt" else op, acc, node, start=acc.start)
    return acc


def _is_one(node: Node) -> bool:
    return node == Ones() or node == Number("1")


def fold_chain(items: list[tuple[str | None, Node]]) -> Node:
    """A chain of factors ``[(None, f0), (op, f1), ...]`` (op "juxt", "*", "/", "hadamard") as a
    left-nested product, after recognising derivative operators and indicators in it."""
    out: list[tuple[str | None, Node]] = []
    i = 0
    while i < len(items):
        op, node = items[i]
        if isinstance(node, DerivOp):  # \frac{d}{dx} takes the rest of the chain
            rest = items[i + 1 :]
            if not rest:
                raise _error(
                    "expected an expression to differentiate after the operator", node.start
                )
            operand = _fold([(None, rest[0][1]), *rest[1:]])
            out.append((op, node.apply(operand)))
            break
        if isinstance(node, NablaOp):  # \nabla_x x^T A x: the juxtaposed run after it
            j = i + 1
            while j < len(items) and items[j][0] == "juxt":
                j += 1
            operand = _fold([(None, node.first), *items[i + 1 : j]])
            out.append((op, node.apply(operand)))
            i = j
            continue
        if _is_d(node) and op in (None, "juxt"):
            found = _plain_derivative(items, i)
            if found is not None:
                derivative, i = found
                out.append((op, derivative))
                continue
        if isinstance(node, Compare):
            if out and op == "juxt" and _is_one(out[-1][1]):
                prev_op, prev = out.pop()
                out.append((prev_op, Indicator(node, start=prev.start)))
                i += 1
                continue
            raise _error(
                "a comparison is only allowed in an indicator such as \\mathbb{1}[x > 0]",
                node.start,
            )
        out.append((op, node))
        i += 1
    return _fold(out)


def _plain_derivative(items, i) -> tuple[Node, int] | None:
    """``d/dx f`` (operator: takes the rest) or ``dy/dx`` / ``d f(x)/dx`` at items[i] (the d);
    returns the derivative and the index after it, or None."""
    n = len(items)
    mark = items[i][1]

    def var_at(j):  # "/ d x" at j, j + 1
        return (
            j + 1 < n
            and items[j][0] == "/"
            and _is_d(items[j][1])
            and items[j + 1][0] == "juxt"
            and _is_var(items[j + 1][1])
        )

    if var_at(i + 1):
        rest = items[i + 3 :]
        if not rest:
            raise _error("expected an expression to differentiate after d/dx", mark.start)
        var = items[i + 2][1]
        partial = isinstance(mark, Partial) or isinstance(items[i + 1][1], Partial)
        operand = _fold([(None, rest[0][1]), *rest[1:]])
        return Derivative(operand, var, partial, start=mark.start), n
    j = i + 1
    while j < n and items[j][0] == "juxt":
        j += 1
    if j > i + 1 and var_at(j):
        f = _fold([(None, items[i + 1][1]), *items[i + 2 : j]])
        var = items[j + 1][1]
        partial = isinstance(mark, Partial) or isinstance(items[j][1], Partial)
        return Derivative(f, var, partial, start=mark.start), j + 2
    return None


def _attach_sub(node: Node, text: str, start: int) -> Node:
    """Put a subscript on the name (or norm) at the bottom of a chain of scripts; on anything
    else (``S(x)_i``, ``(p - y)_k``) a subscript of indices is an entry of it."""
    whole = node
    path: list[Node] = []
    while isinstance(node, (Sup, Transpose)):
        path.append(node)
        node = node.base if isinstance(node, Sup) else node.operand
    if isinstance(node, Name):
        if node.sub is not None:
            indices = index_tuple(text)
            if indices is not None and not path:  # (W_2)_{kj}: an entry of W_2
                return Component(whole, indices, start=whole.start)
            raise _error(f"double subscript on {node.base}", start)
        node = replace(node, sub=text)
    elif isinstance(node, Norm) and node.p is None:
        node = replace(node, p=text)
    else:
        indices = index_tuple(text)
        if indices is None:
            raise _error("a subscript must follow a name, or be the indices of an entry", start)
        return Component(whole, indices, start=whole.start)
    for outer in reversed(path):
        if isinstance(outer, Sup):
            node = replace(outer, base=node)
        else:
            node = replace(outer, operand=node)
    return node


def apply_scripts(base: Node, scripts: list[tuple]) -> Node:
    """Apply postfix scripts left to right; consecutive powers nest to the right."""
    if len(scripts) > MAX_SCRIPTS:
        raise _error(f"more than {MAX_SCRIPTS} sub- and superscripts in a row", base.start)
    if isinstance(base, NablaOp) and scripts:
        base = base.apply(base.first)
    i = 0
    while i < len(scripts):
        kind = scripts[i][0]
        if kind == "pow":
            j = i
            while j < len(scripts) and scripts[j][0] == "pow":
                j += 1
            exponent = scripts[j - 1][1]
            for k in range(j - 2, i - 1, -1):
                exponent = Sup(scripts[k][1], exponent, start=scripts[k][1].start)
            if exponent == Neg(Name("T")):  # X^{-T}: the transpose of the inverse
                minus_one = Neg(Number("1", start=exponent.start), start=exponent.start)
                base = Transpose(Sup(base, minus_one, start=base.start), start=base.start)
            else:
                base = Sup(base, exponent, start=base.start)
            i = j
            continue
        if kind == "T":
            base = Transpose(base, start=base.start)
        elif kind == "hpow":
            base = Sup(base, Number(scripts[i][1], start=scripts[i][2]), True, start=base.start)
        elif kind == "label":
            text, start = scripts[i][1], scripts[i][2]
            if isinstance(base, Name) and base.label is None and base != Name("e"):
                base = replace(base, label=text)
            else:  # (a+b)^{(2)}, e^{(x)}: a power after all
                label = (
                    Number(text, start=start)
                    if text.isascii() and text.isdigit()
                    else Name(text, start=start)
                )
                base = Sup(base, label, start=base.start)
        else:  # "sub"
            start = scripts[i][2] if scripts[i][2] >= 0 else base.start
            base = _attach_sub(base, scripts[i][1], start)
        i += 1
    return base


@dataclass(frozen=True)
class _Limits:
    index: str | None
    lower: Node | None
    upper: Node | None
    exclude: str | None = None


class ClaimTransformer(Transformer):
    """The callbacks of the grammar's rules (see :mod:`derive.claims.grammar`)."""

    # --- top level and groups ---------------------------------------------------------------
    def start(self, sides):
        if len(sides) == 1:
            return sides[0]
        return Equation(tuple(sides), start=sides[0].start)

    def compare(self, children):
        left, op, right = children
        return Compare(op.value, left, right, start=left.start)

    def compare_eq(self, children):
        left, right = children
        return Compare("=", left, right, start=left.start)

    def expr(self, children):
        acc = children[0]
        for k in range(1, len(children), 2):
            acc = BinOp(children[k].value, acc, children[k + 1], start=acc.start)
        return acc

    def neg(self, children):
        sign, operand = children
        return Neg(operand, start=sign.start_pos)

    def pos(self, children):
        return children[1]

    # --- chains of factors --------------------------------------------------------------------
    def juxt(self, children):
        return ("juxt", children[0])

    def oplink(self, children):
        op, node = children
        return (op.value, node)

    def chain(self, children):
        items: list[tuple[str | None, Node]] = [(None, children[0])]
        k = 1
        while k < len(children):
            child = children[k]
            if isinstance(child, Token):  # an explicit operator before a \sum
                items.append((child.value, children[k + 1]))
                k += 2
            elif isinstance(child, tuple):
                items.append(child)
                k += 1
            else:  # a \sum juxtaposed
                items.append(("juxt", child))
                k += 1
        return fold_chain(items)

    def bigsum(self, children):
        token = children[0]
        limits = children[1] if len(children) == 3 else _Limits(None, None, None)
        body = children[-1]
        return Sum(limits.index, limits.lower, limits.upper, body, limits.exclude,
                   start=token.start_pos)  # fmt: skip

    def lim_lower_upper(self, children):
        (index, lower, exclude), upper = children[0], children[1] if len(children) > 1 else None
        return _Limits(index, lower, upper, exclude)

    def lim_upper_lower(self, children):
        upper = children[0]
        index, lower, exclude = children[1] if len(children) > 1 else (None, None, None)
        return _Limits(index, lower, upper, exclude)

    def lower_index(self, children):
        return (children[0].value, None, None)

    def lower_braced(self, children):
        return (children[0].value, children[1] if len(children) > 1 else None, None)

    def lower_except(self, children):
        index, op, other = children
        return (index.value, None, self._excluded(index, op, other))

    def lower_braced_except(self, children):
        index, lower, again, op, other = children
        if again.value != index.value:
            raise _error(f"the sum is over {index.value}, not {again.value}", again.start_pos)
        return (index.value, lower, self._excluded(index, op, other))

    @staticmethod
    def _excluded(index, op, other) -> str:
        if op.value != "!=":
            raise _error("a sum's condition is j \\neq i", op.start_pos)
        if other.value == index.value:
            raise _error("a sum cannot skip its own index", other.start_pos)
        return other.value

    # --- atoms ----------------------------------------------------------------------------------
    def number(self, children):
        (token,) = children
        return Number(token.value, start=token.start_pos)

    def letter(self, children):
        (token,) = children
        return Name(token.value, start=token.start_pos)

    greek = letter
    wordname = letter

    def partial(self, children):
        return Partial(start=children[0].start_pos)

    def frac(self, children):
        token, num, den = children
        second = _second_parts(num, den)
        if second is not None:
            f, outer, inner, partial = second
            op = DerivOp(outer, partial, inner, start=token.start_pos)
            return op if f is None else op.apply(f)
        parts = _derivative_parts(num, den)
        if parts is None:
            return Frac(num, den, start=token.start_pos)
        f, var, partial = parts
        if f is None:
            return DerivOp(var, partial, start=token.start_pos)
        return Derivative(f, var, partial, start=token.start_pos)

    def decor(self, children):
        token, node = children
        # \mathbf{x} is x; the name is said to start at the decoration
        return replace(node, start=token.start_pos) if isinstance(node, Name) else node

    def accent(self, children):
        token, node = children
        if not isinstance(node, Name):
            raise _error(f"\\{token.value} must be put on a name", token.start_pos)
        if len(node.accents) >= MAX_ACCENTS:
            raise _error("too many accents", token.start_pos)
        return replace(node, accents=(token.value, *node.accents), start=token.start_pos)

    def abs(self, children):
        return Abs(children[1], start=children[0].start_pos)

    def norm(self, children):
        return Norm(children[1], start=children[0].start_pos)

    def nabla(self, children):
        """\\nabla_x f: the gradient of f by x, the derivative df/dx."""
        token, var, f = children
        if not (isinstance(var, Name) or (isinstance(var, Sup) and isinstance(var.base, Name))):
            raise _error("\\nabla is taken by a name, like \\nabla_W L", token.start_pos)
        if isinstance(f, Transpose):
            return NablaOp(var, f, start=token.start_pos)
        return Derivative(f, var, True, start=token.start_pos)

    def cases(self, children):
        token, rows = children[0], children[1]
        values = tuple(v for v, _ in rows)
        conditions = tuple(c for _, c in rows)
        if any(c is None for c in conditions[:-1]):
            raise _error("only the last case may be \\text{otherwise}", token.start_pos)
        return Cases(values, conditions, start=token.start_pos)

    def caserows(self, children):
        return list(children)

    def case_if(self, children):
        value, *rest = children
        rest = [c for c in rest if not (isinstance(c, Token) and c.type == "IFWORD")]
        left, op, right = rest
        return (value, Compare(op.value, left, right, start=left.start))

    def case_if_eq(self, children):
        value, *rest = children
        left, right = [c for c in rest if not (isinstance(c, Token) and c.type == "IFWORD")]
        return (value, Compare("=", left, right, start=left.start))

    def case_else(self, children):
        return (children[0], None)

    def ones(self, children):
        token = children[0]
        start = token.start_pos
        if len(children) == 1:
            return Ones(start=start)
        sub = children[1]
        if isinstance(sub, Compare):
            return Indicator(sub, start=start)
        if isinstance(sub, Number) or (isinstance(sub, Name) and sub == Name(sub.base)):
            return Ones(sub.text if isinstance(sub, Number) else sub.base, start=start)
        raise _error("expected a size or a condition in the subscript of a one", sub.start)

    def onespost(self, children):
        return apply_scripts(children[0], list(children[1:]))

    # --- scripts --------------------------------------------------------------------------------
    def postfix(self, children):
        return apply_scripts(children[0], list(children[1:]))

    def s_transpose(self, children):
        return ("T", children[0].start_pos)

    def s_label(self, children):
        token = children[0]
        return ("label", token.value, token.start_pos)

    def s_sub(self, children):
        text, start = children[0]
        return ("sub", text, start)

    def s_pow(self, children):
        return ("pow", children[0])

    def s_hpow(self, children):
        token = children[0]
        return ("hpow", token.value, token.start_pos)

    def subarg(self, children):
        first = children[0]
        start = first.start_pos if isinstance(first, Token) else -1
        return ("".join(str(c) for c in children), start)

    def subitem(self, children):
        return children[0]  # a token (a str with a position), joined by subarg

    def sub_comma(self, children):
        return ","

    def sub_star(self, children):
        return "*"

    def sub_sub(self, children):
        return "_" + children[0][0]  # z_{h_1}: the subscript "h_1"

    def sub_decor(self, children):
        return "".join(str(c) for c in children[1:])

    def substar(self, children):
        return "*"

    # --- functions ------------------------------------------------------------------------------
    def funchead(self, children):
        return (children[0], list(children[1:]))

    def funcname(self, children):
        (token, scripts) = children[0]
        if token.type == "FUNC" and FUNCTION_SPELLINGS[token.value.lower()] == "sigma":
            # \sigma alone is the Greek letter (\sigma^2, \partial \sigma)
            return apply_scripts(Name("sigma", start=token.start_pos), scripts)
        raise _error(f"expected an argument after {token.value}", token.end_pos)

    def arglist(self, children):
        return tuple(children)

    def fargs_paren(self, children):
        return children[0]

    def fargs_bracket(self, children):
        return (children[0],)

    def fargs_one(self, children):
        return (children[0],)

    def fargs_simple(self, children):
        arg = apply_scripts(children[0], list(children[1:]))
        return (arg.apply(arg.first) if isinstance(arg, NablaOp) else arg,)

    def call(self, children):
        (token, scripts), args = children
        start = token.start_pos
        if token.type == "XFUNC":
            node: Node = Call(token.value, args, start=start)
        else:
            fn = FUNCTION_SPELLINGS[token.value.lower()]
            spelling = None if token.value == fn else token.value
            if fn == "abs":
                if len(args) != 1:
                    raise _error("abs takes one argument", start)
                node = Abs(args[0], start=start)
            else:
                node = Call(fn, args, spelling, start=start)
        for script in scripts:
            if script[0] in ("sub", "label"):
                raise _error(f"a subscript or label on the function {token.value}", start)
        return apply_scripts(node, scripts)
