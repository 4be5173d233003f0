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


def _signs_as_steps(tree: ast.Node) -> ast.Node:
    """``tree`` with every sign function sgn(x) read as the step 1[x > 0]."""
    if isinstance(tree, ast.Call) and tree.fn == "sign" and len(tree.args) == 1:
        arg = _signs_as_steps(tree.args[0])
        return ast.Indicator(ast.Compare(">", arg, ast.Number("0")), start=tree.start)
    return ast.map_children(tree, _signs_as_steps)


def _has_sign(tree: ast.Node) -> bool:
    return (isinstance(tree, ast.Call) and tree.fn == "sign") or any(
        _has_sign(c) for c in tree.children)  # fmt: skip


def _reindex(tree: ast.Node, old: str, new: str) -> ast.Node:
    """``tree`` with the superscript index ``old`` written as ``new``."""
    if isinstance(tree, ast.Sup) and isinstance(tree.exponent, ast.Name):
        if tree.exponent.base == old and tree.exponent.sub is None:
            return replace(tree, exponent=replace(tree.exponent, base=new))
    return ast.map_children(tree, lambda child: _reindex(child, old, new))


def _sum_reindexings(node: ast.Node) -> list:
    if not (isinstance(node, ast.Sum) and node.index):
        return []
    return [
        replace(node, body=body)
        for _, body in _rebuilt(node.body, lambda n: _other_index(n, node.index))
    ]


def _other_index(node: ast.Node, letter: str) -> list[ast.Node]:
    if isinstance(node, ast.Sup) and isinstance(node.exponent, ast.Name):
        e = node.exponent
        if e.sub is None and e.base in ("i", "j", "k", "n") and e.base != letter:
            return [replace(node, exponent=replace(e, base=letter))]
    return []


SIGN_FOR_STEP = "the sign function where ReLU's derivative, the step 1[x > 0], belongs"


def _reindexings(tree: ast.Node, sample: str) -> Iterator[tuple[str, str, ast.Node]]:
    """Another sample index everywhere, or in one place inside a sum over another letter."""
    letters = sorted(_indices(tree))
    for old in letters:
        for new in sorted({*letters, sample} - {old}):
            yield ("a wrong sample index inside a sum", f"{old} where {new} belongs",
                   _reindex(tree, old, new))  # fmt: skip
    for node, fixed in _rebuilt(tree, _sum_reindexings):  # one place only: seed 000's
        old = sorted(_indices(node.body) - {node.index})  # sum_j ... sgn(x_BN^i)
        where = f"{old[0]} where {node.index} belongs" if len(old) == 1 else "one place"
        where += f", inside the sum over {node.index}"
        yield "a wrong sample index inside a sum", where, fixed


def ast_repairs(tree: ast.Node, sample: str, text: str) -> Iterator[tuple[str, str, ast.Node]]:
    """(slip, where, the claim's side with that slip undone), for every place it may be."""

    def at(node: ast.Node) -> str:
        snippet = " ".join(text[node.start : node.start + 24].split()) if node.start >= 0 else ""
        return f"near '{snippet}'" if snippet else "one place"

    if _has_sign(tree):  # seed 000: sgn(x) for ReLU's derivative, a step; and a second slip
        steps = _signs_as_steps(tree)
        yield SIGN_FOR_STEP, "sgn read as the step", steps
        for slip, where, fixed in _reindexings(steps, sample):
            yield f"{SIGN_FOR_STEP}, and {slip}", where, fixed
    yield from _reindexings(tree, sample)
    for node, fixed in _rebuilt(tree, _swap_products):
        kind = "a matrix product" if node.op == "*" else "a Hadamard product"
        yield f"{kind} where the other product belongs", at(node), fixed
    for node, fixed in _rebuilt(tree, _drop_transpose):
        yield "an extra transpose", at(node), fixed
    for node, fixed in _rebuilt(tree, _add_transpose):
        yield "a missing transpose", at(node), fixed
