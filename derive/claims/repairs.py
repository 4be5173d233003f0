"""Repairs of a claim: the student's side changed in one place the way a slip would have
changed it (a transpose dropped or added, the other product, another sample index). When a
repaired side is right, the repair names the slip, and where it is (see
:meth:`derive.claims.check.Checker.repaired`). Each repair is one function from a node to its
replacements; :func:`ast_repairs` applies them everywhere in a tree, outermost first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, replace

from derive.claims import ast


def _indices(tree: ast.Node) -> set[str]:
    """The sample-index letters written as superscripts in ``tree``."""
    found = set()
    if isinstance(tree, ast.Sup) and isinstance(tree.exponent, ast.Name):
        if tree.exponent.base in ("i", "j", "k", "n") and tree.exponent.sub is None:
            found.add(tree.exponent.base)
    for child in tree.children:
        found |= _indices(child)
    return found


MAX_REPAIRS = 40


def _rebuilt(tree: ast.Node, change) -> Iterator[tuple[ast.Node, ast.Node]]:
    """(the node changed, ``tree`` with it replaced by one of ``change(node)``'s replacements),
    node by node, outermost first."""
    for replacement in change(tree):
        yield tree, replacement
    for f in fields(tree):
        value = getattr(tree, f.name)
        if isinstance(value, ast.Node):
            for node, new in _rebuilt(value, change):
                yield node, replace(tree, **{f.name: new})
        elif isinstance(value, tuple):
            for k, item in enumerate(value):
                if isinstance(item, ast.Node):
                    for node, new in _rebuilt(item, change):
                        yield node, replace(tree, **{f.name: (*value[:k], new, *value[k + 1 :])})


def _swap_products(node: ast.Node) -> list[ast.Node]:
    if isinstance(node, ast.BinOp) and node.op in ("*", "hadamard"):
        return [replace(node, op="hadamard" if node.op == "*" else "*")]
    return []


def _drop_transpose(node: ast.Node) -> list[ast.Node]:
    return [node.operand] if isinstance(node, ast.Transpose) else []


def _add_transpose(node: ast.Node) -> list[ast.Node]:
    if isinstance(node, ast.Name | ast.Sup | ast.Call | ast.Derivative):
        return [ast.Transpose(node, start=node.start)]
    if isinstance(node, ast.BinOp) and node.op == "*":  # (v u^T)^T
        return [ast.Transpose(node, start=node.start)]
    return []


def _reindex(tree: ast.Node, old: str, new: str) -> ast.Node:
    """``tree`` with the superscript index ``old`` written as ``new``."""
    if isinstance(tree, ast.Sup) and isinstance(tree.exponent, ast.Name):
        if tree.exponent.base == old and tree.exponent.sub is None:
            return replace(tree, exponent=replace(tree.exponent, base=new))
    return ast.map_children(tree, lambda child: _reindex(child, old, new))


def ast_repairs(tree: ast.Node, sample: str, text: str) -> Iterator[tuple[str, str, ast.Node]]:
    """(slip, where, the claim's side with that slip undone), for every place it may be."""

    def at(node: ast.Node) -> str:
        snippet = " ".join(text[node.start : node.start + 24].split()) if node.start >= 0 else ""
        return f"near '{snippet}'" if snippet else "one place"

    letters = sorted(_indices(tree))
    for old in letters:
        for new in sorted({*letters, sample} - {old}):
            yield ("a wrong sample index inside a sum", f"{old} where {new} belongs",
                   _reindex(tree, old, new))  # fmt: skip
    for node, fixed in _rebuilt(tree, _swap_products):
        kind = "a matrix product" if node.op == "*" else "a Hadamard product"
        yield f"{kind} where the other product belongs", at(node), fixed
    for node, fixed in _rebuilt(tree, _drop_transpose):
        yield "an extra transpose", at(node), fixed
    for node, fixed in _rebuilt(tree, _add_transpose):
        yield "a missing transpose", at(node), fixed
