"""Checking students' claims (issue 5).

The parser is the safe entry point for claim text: ``parse_claim(text, functions)`` returns an
:class:`~derive.claims.ast.Equation` (or a lone expression's node) built only from the frozen
dataclasses of :mod:`derive.claims.ast`; :mod:`derive.claims.parse` documents the bounds on
untrusted input. Nothing in a claim is ever evaluated. The parser's modules: ``lexer`` (tokens),
``grammar`` (LALR grammar for lark), ``transform`` (rules to nodes), ``parse``.
"""

from derive.claims.ast import (
    Abs,
    BinOp,
    Call,
    Compare,
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
)
from derive.claims.errors import ParseError
from derive.claims.parse import parse_claim

__all__ = [
    "Abs",
    "BinOp",
    "Call",
    "Compare",
    "Derivative",
    "Equation",
    "Frac",
    "Indicator",
    "Name",
    "Neg",
    "Node",
    "Norm",
    "Number",
    "Ones",
    "ParseError",
    "Sum",
    "Sup",
    "Transpose",
    "parse_claim",
]
