"""The verification table of a report: one row per residual and gradient, from a Verification."""

from __future__ import annotations

import math
from dataclasses import dataclass

from derive.render.printer import with_superscript


@dataclass(frozen=True)
class CheckRow:
    quantity: str  # dL/dq as a slash fraction, for a table row
    gradient: bool  # of a parameter (rows of residuals come first)
    symbolic: str  # "yes" | "no" | "" (not run)
    mantissa: str  # numeric max relative error as mantissa and exponent; "" when not run
    exponent: str
    ok: bool


@dataclass(frozen=True)
class Proof:
    rows: tuple[CheckRow, ...]
    symbolic_sizes: str  # "d = h = 2, m = 2", LaTeX math
    numeric_sizes: str
    points: int
    tolerance: str
    failed: tuple[str, ...]  # the quantities that failed, LaTeX math
    symbolic_run: bool
    layer_by_layer: bool = False  # the symbolic proof went layer by layer only (a deep network)
    labels: str = ""  # the one-hot inputs, LaTeX math ("\\mathbf{y}"), "" when none


def sizes_tex(sizes: dict) -> str:
    """{"d": 2, "h": 2, "m": 2} -> "d = h = m = 2" (names with equal values share a sign)."""
    by_value: dict[int, list[str]] = {}
    for name, value in sizes.items():
        by_value.setdefault(int(value), []).append(name)
    return ", ".join(" = ".join(names) + f" = {v}" for v, names in by_value.items())


def error_parts(err: float) -> tuple[str, str]:
    if err is None or math.isnan(err):
        return "", ""
    if err == 0:
        return "0", ""
    mantissa, exponent = f"{err:.1e}".split("e")
    return mantissa, str(int(exponent))


def proof(verification, net) -> Proof:
    from derive.verify import TOLERANCE

    rows = []
    loss = net.loss_q.latex if net.loss_q is not None else "L"
    for c in verification.checks:
        q = net.quantities.get(c.name)
        name = slash(loss, q, "i") if q is not None else c.latex
        sym = "" if c.symbolic is None else ("yes" if c.symbolic else "no")
        is_param = q is not None and q.kind == "param"
        rows.append(CheckRow(name, is_param, sym, *error_parts(c.numeric_error), c.ok))
    tol_m, tol_e = error_parts(TOLERANCE)
    tolerance = (tol_m + r" \times " if tol_m != "1.0" else "") + "10^{" + tol_e + "}"
    return Proof(
        rows=tuple(rows),
        symbolic_sizes=sizes_tex(verification.symbolic_sizes),
        numeric_sizes=sizes_tex(verification.numeric_sizes),
        points=verification.numeric_points,
        tolerance=tolerance,
        failed=tuple(r.quantity for r in rows if not r.ok),
        symbolic_run=any(c.symbolic is not None for c in verification.checks),
        layer_by_layer=getattr(verification, "symbolic_scheme", "") == "layers",
        labels=", ".join(f"${with_index(q, 'i')}$" for q in net.inputs if q.content == "onehot"),
    )


def with_index(q, index: str | None) -> str:
    """A quantity's LaTeX, with the sample index when it has one value per sample."""
    return with_superscript(q.latex, index) if q.batched and index else q.latex


def slash(loss: str, q, index: str | None) -> str:
    """dL/dq with a slash, as inline math writes it (a table row, a sentence)."""
    return rf"\partial {loss} / \partial {with_index(q, index)}"
