"""``parse_claim``: a student's claim, as text, to the tree of :mod:`derive.claims.ast`.

Safety: the text is untrusted. It is scanned by our own tokenizer and parsed by lark's LALR
parser into our own dataclasses; nothing is ever evaluated (no eval, exec, sympify or
parse_expr), and numbers stay text. Work and memory are bounded before and after parsing:

- length: at most :data:`MAX_LENGTH` characters, checked first;
- nesting: at most :data:`MAX_NESTING` open brackets at once, found by a linear scan before any
  parsing (the LALR parser and its callbacks are not recursive anyway, but the semantics that
  walks the tree is); the finished tree is at most :data:`MAX_TREE_DEPTH` nodes deep (a long
  chain ``- - - x`` or ``\\sqrt\\sqrt x`` nests without brackets);
- numbers: at most 50 characters, a decimal exponent (``1e-3``) at most 1000 in absolute value;
- exponents: a constant exponent (``x^{10^{10}}``, ``10**100**100``) at most
  :data:`MAX_EXPONENT` in absolute value, also multiplied through nested powers
  (``(x^{100})^{100}``), and constant sum limits at most :data:`MAX_SUM_LIMIT`;
- time: all of the above is linear in the input; a claim at the length bound parses in
  milliseconds (the tests assert it).
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction

from lark import Lark, Token
from lark.exceptions import UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import Lexer

from derive.claims.ast import (
    BinOp,
    Cases,
    Compare,
    Equation,
    Frac,
    Indicator,
    Neg,
    Node,
    Number,
    Sum,
    Sup,
)
from derive.claims.errors import ParseError
from derive.claims.grammar import grammar
from derive.claims.lexer import MAX_EXPONENT, tokenize
from derive.claims.transform import ClaimTransformer, DerivOp, NablaOp, Partial
from derive.errors import DeriveError

__all__ = ["ParseError", "parse_claim", "MAX_LENGTH", "MAX_NESTING", "MAX_TREE_DEPTH"]

MAX_LENGTH = 2000
MAX_NESTING = 50
MAX_TREE_DEPTH = 200
MAX_SUM_LIMIT = 10_000
MAX_FUNCTIONS = 100
# the size of an exact constant met while checking exponents, in bits (2^20000 ~ 10^6000)
_MAX_BITS = 20_000

_FUNCTION_NAME = re.compile(r"[A-Za-z]{1,30}")


def parse_claim(text: str, functions: frozenset[str] = frozenset()) -> Equation | Node:
    """Parse a claim: ``lhs = rhs`` (an :class:`Equation`) or a lone expression (its node).

    ``functions`` are extra function names the claim may apply (a student's own ``S`` or
    ``swish``), letters only, written plainly, as ``\\S``, or as ``\\operatorname{S}``; they take
    precedence over the built-in names. Raises :class:`ParseError` (with ``.position``) for
    anything that is not a claim in the supported notation, and for input beyond the bounds.
    """
    if not isinstance(text, str):
        raise ParseError("a claim must be text at 0", 0)
    if len(text) > MAX_LENGTH:
        raise ParseError(
            f"claim too long ({len(text)} characters, at most {MAX_LENGTH}) at {MAX_LENGTH}",
            MAX_LENGTH,
        )
    functions = _check_functions(functions)
    text = _blank_indicator_arguments(_blank_math_delimiters(text))
    _check_nesting(text)
    tokens = tokenize(text, functions)
    if not tokens:
        raise ParseError("empty claim at 0", 0)
    try:
        tree = _parser().parse(tokens)
    except UnexpectedToken as e:
        raise _unexpected(e, text, tokens) from None
    except UnexpectedInput as e:  # pragma: no cover - LALR reports UnexpectedToken
        raise ParseError(f"cannot parse at {e.pos_in_stream or 0}", e.pos_in_stream or 0) from None
    except VisitError as e:  # a callback's ParseError, if lark wraps it
        if isinstance(e.orig_exc, ParseError):
            raise e.orig_exc from None
        raise
    validate(tree)
    return tree


# --- before parsing ---------------------------------------------------------------------------
def _check_functions(functions) -> frozenset[str]:
    functions = frozenset(functions)
    if len(functions) > MAX_FUNCTIONS:
        raise DeriveError(f"too many function names ({len(functions)}, at most {MAX_FUNCTIONS})")
    for name in functions:
        if not isinstance(name, str) or not _FUNCTION_NAME.fullmatch(name.lstrip("\\")):
            raise DeriveError(f"a function name must be 1 to 30 letters, not {name!r}")
    return frozenset(name.lstrip("\\") for name in functions)


_DELIMITERS = [("$$", "$$"), ("$", "$"), ("\\[", "\\]"), ("\\(", "\\)")]


def _blank_math_delimiters(text: str) -> str:
    """``$...$``, ``$$...$$``, ``\\[...\\]``, ``\\(...\\)`` around the whole claim become
    spaces, so that offsets still point into the text as given."""
    stripped = text.strip()
    for left, right in _DELIMITERS:
        if len(stripped) > len(left) + len(right) and stripped.startswith(left):
            if stripped.endswith(right):
                a = text.index(left)
                b = text.rindex(right)
                return (
                    text[:a] + " " * len(left) + text[a + len(left) : b]
                    + " " * len(right) + text[b + len(right) :]
                )  # fmt: skip
    return text


# \mathbf{1}_{x > 0}(x): the indicator of a set applied to its variable (not a product with x)
_INDICATOR_APPLIED = re.compile(
    r"(?:\\mathbb|\\mathbf|\\mathds|\\mathrm|\\boldsymbol)?\s*\{?\s*1\s*\}?\s*_\s*\{([^{}]{1,80})\}"
    r"(\s*(?:\\left)?\(\s*([A-Za-z])\s*(?:\\right)?\))"
)


def _blank_indicator_arguments(text: str) -> str:
    """The ``(x)`` of ``\\mathbf{1}_{x > 0}(x)`` blanked (offsets kept) when ``x`` is a letter of
    the condition: the indicator function of the set, evaluated at its variable."""

    def blank(m: re.Match) -> str:
        if not re.search(rf"(?<![A-Za-z\\]){m.group(3)}(?![A-Za-z_])", m.group(1)):
            return m.group()
        start = m.start(2) - m.start()
        return m.group()[:start] + " " * len(m.group(2))

    return _INDICATOR_APPLIED.sub(blank, text) if "1" in text else text


def _check_nesting(text: str) -> None:
    """Reject deep bracket nesting with one linear scan, before any parser sees the text."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise ParseError(f"brackets nested deeper than {MAX_NESTING} at {i}", i)
        elif ch in ")]}":
            depth -= 1


# --- the parser ---------------------------------------------------------------------------------
class _TokenList(Lexer):
    """The "lexer" lark sees: the tokens come ready-made from :mod:`derive.claims.lexer`."""

    def __init__(self, lexer_conf):
        pass

    def lex(self, data):
        return iter(data)


@functools.cache
def _parser() -> Lark:
    return Lark(
        grammar(),
        parser="lalr",
        lexer=_TokenList,
        transformer=ClaimTransformer(),
    )


_CLOSERS = {
    "_RPAR": "')'",
    "_RBRACK": "']'",
    "_RBRACE": "'}'",
    "_RCURLY": "'\\}'",
    "_RABS": "'\\rvert'",
    "_RNORM": "'\\rVert'",
}
_OPERATORS = {"MUL", "HAD", "DIV", "_EQ", "CMP", "_POW", "_SUB"}
_STARTERS = {"NUMBER", "LETTER", "GREEK", "FUNC", "FRAC", "_LPAR"}
_NAMES = {
    "NUMBER": "a number",
    "LETTER": "a letter",
    "GREEK": "a Greek letter",
    "_LBRACE": "'{'",
    "_EQ": "'='",
    "_SUB": "'_'",
    "_POW": "'^'",
    "BAR": "'|'",
    "DBAR": "'\\|'",
    **_CLOSERS,
}


_OPENERS = {
    "_LPAR": "_RPAR",
    "_LBRACK": "_RBRACK",
    "_LBRACE": "_RBRACE",
    "_LCURLY": "_RCURLY",
    "LABS": "_RABS",
    "LNORM": "_RNORM",
}


def _innermost_closer(tokens: list[Token], stop: int) -> str | None:
    """The closing bracket owed by the innermost bracket still open before ``tokens[stop]``
    (LALR's merged states would otherwise suggest every kind of bracket)."""
    stack: list[str] = []
    for token in tokens[:stop]:
        if token.type in _OPENERS:
            stack.append(_OPENERS[token.type])
        elif stack and token.type == stack[-1]:
            stack.pop()
    return stack[-1] if stack else None


def _unexpected(e: UnexpectedToken, text: str, tokens: list[Token]) -> ParseError:
    token: Token = e.token
    if token.type == "$END":
        position, found, stop = len(text.rstrip()), "end of input", len(tokens)
    else:
        position = token.start_pos
        found = repr(text[token.start_pos : token.end_pos])
        stop = next((i for i, t in enumerate(tokens) if t is token), len(tokens))
    expected = set(e.expected)
    closer = _innermost_closer(tokens, stop)
    if closer in expected:
        hint = f", expected {_CLOSERS[closer]}"
    elif expected & _STARTERS and not expected & _OPERATORS:
        hint = ", expected an expression"
        if token.type in ("BAR", "DBAR"):
            hint += " (bars inside bars need brackets or \\left| \\right|)"
    elif token.type == "CMP":
        hint = " (a comparison belongs in an indicator such as \\mathbb{1}[x > 0])"
    elif 0 < len(expected) <= 3 and expected <= set(_NAMES):
        hint = ", expected " + " or ".join(sorted(_NAMES[t] for t in expected))
    else:
        hint = ""
    return ParseError(f"unexpected {found} at {position}{hint}", position)


# --- after parsing ------------------------------------------------------------------------------
def validate(tree: Node) -> None:
    """The checks that need the whole tree: depth, leftovers of derivative notation,
    comparisons outside indicators, exponent and sum-limit sizes."""
    _check_depth(tree)
    _check_nodes(tree)
    _check_powers(tree, 1)


def _check_depth(tree: Node) -> None:
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_TREE_DEPTH:
            raise ParseError(
                f"expression nested deeper than {MAX_TREE_DEPTH} levels (a chain of n operations "
                f"counts as n) at {node.start}",
                max(node.start, 0),
            )
        stack.extend((child, depth + 1) for child in node.children)


def _check_nodes(node: Node, parent: Node | None = None) -> None:
    if isinstance(node, Partial):
        if isinstance(parent, Sup):
            raise ParseError(
                f"higher derivatives (\\partial^2) are not supported at {node.start}", node.start
            )
        raise ParseError(
            f"\\partial outside a derivative \\frac{{\\partial f}}{{\\partial x}} at {node.start}",
            node.start,
        )
    if isinstance(node, NablaOp):
        raise ParseError(f"write \\nabla_x (...) with brackets at {node.start}", node.start)
    if isinstance(node, DerivOp):
        raise ParseError(
            f"expected an expression to differentiate after the operator at {node.start}",
            node.start,
        )
    if isinstance(node, Compare) and not isinstance(parent, Indicator | Cases):
        raise ParseError(
            f"a comparison is only allowed in an indicator such as \\mathbb{{1}}[x > 0] "
            f"at {node.start}",
            node.start,
        )
    if isinstance(node, Sum):
        for limit in (node.lower, node.upper):
            value = None if limit is None else _constant(limit)
            if value is not None and abs(value) > MAX_SUM_LIMIT:
                raise ParseError(f"sum limit too large at {limit.start}", limit.start)
    for child in node.children:
        _check_nodes(child, node)


def _check_powers(node: Node, factor: Fraction) -> None:
    """Every constant exponent, times the constant exponents of the powers around it, is at most
    MAX_EXPONENT: ``x^{2000}``, ``2^{10^{10}}``, ``((x^{100})^{100})`` are rejected."""
    if isinstance(node, Sup):
        value = _constant(node.exponent)
        if value is not None:
            factor = factor * max(Fraction(1), abs(value))
            if factor > MAX_EXPONENT:
                at = max(node.exponent.start, 0)
                raise ParseError(f"exponent too large at {at}", at)
        _check_powers(node.base, factor)
        _check_powers(node.exponent, Fraction(1))
        return
    for child in node.children:
        _check_powers(child, factor)


def _constant(node: Node) -> Fraction | None:
    """The exact value of a constant expression, None when it has a symbol in it; refuses
    (ParseError) to build a number larger than about 10^6000."""
    if isinstance(node, Number):
        return node.fraction()
    if isinstance(node, Neg):
        value = _constant(node.operand)
        return None if value is None else -value
    if isinstance(node, (BinOp, Frac)):
        if isinstance(node, Frac):
            op, left, right = "/", node.num, node.den
        else:
            op, left, right = node.op, node.left, node.right
        a, b = _constant(left), _constant(right)
        if a is None or b is None or op == "hadamard" or (op == "/" and b == 0):
            return None
        if _bits(a) + _bits(b) > _MAX_BITS:  # before computing: bounds a*b and a/b
            raise ParseError(f"number too large at {node.start}", max(node.start, 0))
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        return a * b if op == "*" else a / b
    if isinstance(node, Sup):
        base, exponent = _constant(node.base), _constant(node.exponent)
        if base is None or exponent is None:
            return None
        if abs(exponent) > MAX_EXPONENT or _bits(base) * abs(exponent) > _MAX_BITS:
            at = max(node.exponent.start, 0)
            raise ParseError(f"exponent too large at {at}", at)
        if exponent.denominator != 1 or (base == 0 and exponent < 0):
            return None  # a root or 1/0: not a rational constant; nothing to bound
        return base ** int(exponent)
    return None


def _bits(value: Fraction) -> int:
    return max(value.numerator.bit_length(), value.denominator.bit_length())
