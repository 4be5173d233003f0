"""Breaking long displayed formulas over several lines, so nothing runs off the page.

The printer marks every bracket pair it opens with OPEN/CLOSE; here those marks are still in the
string. A formula is cut at its top-level ``+``/``-`` signs first, then inside the shallowest
bracket that is still too long. A bracket pair that a cut runs through cannot be ``\\left``/
``\\right`` (TeX needs both halves on one line), so it gets a fixed size (``\\Bigl[`` ...
``\\Bigr]``); every other pair stays ``\\left``/``\\right``, its kind chosen by nesting depth as
in :func:`derive.render.printer.resolve_brackets`.

Widths are estimated from the LaTeX source in em (the width of an M at the body size): rough, but
a cut is made well before the measured width of a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sympy.printing.latex import LatexPrinter

from derive.render.printer import BRACKETS, CLOSE, OPEN, DerivePrinter

#: Width of the text block in em (A4, 2.5 cm margins, 11 pt: 453 pt / 10.95 pt = 41.4 em), less
#: a margin for the estimate's error.
LINE_WIDTH = 39.0
#: The estimates below, set against widths measured by TeX for every formula of the multi-task
#: report, come out 15-20 % short (wide bold letters, growing brackets): scale them up.
_SCALE = 1.2
#: Indent of a continuation line in an align* (\qquad after the alignment point).
INDENT = 2.0

_OP = 1.25  # a binary operator or relation with its spaces
_WIDTHS = {
    "quad": 1.0, "qquad": 2.0, ",": 0.17, ";": 0.28, ":": 0.22, "!": -0.17, " ": 0.33,
    "circ": _OP, "oslash": _OP, "cdot": _OP, "times": _OP, "in": _OP, "otimes": _OP,
    "leq": _OP, "geq": _OP, "neq": _OP, "approx": _OP, "to": _OP,
    "|": 0.3, "{": 0.5, "}": 0.5, "partial": 0.6, "infty": 1.0, "ldots": 1.2, "cdots": 1.2,
    "sum": 1.45, "prod": 1.45, "checkmark": 0.8, "oplus": 0.8, "ast": 0.5,
}  # fmt: skip
_ZERO = {"left", "right", "bigl", "bigr", "Bigl", "Bigr", "biggl", "biggr", "displaystyle",
         "limits", "nolimits", "textstyle"}  # fmt: skip
_SAME = {"mathbf", "boldsymbol", "bm", "mathrm", "mathit", "hat", "bar", "tilde", "vec",
         "widehat", "mathcal", "mathsf", "mathtt", "overline", "underline"}  # fmt: skip
_TEXT = {"operatorname", "text", "textrm", "textbf", "mathrm"}
_CMD = re.compile(r"\\([A-Za-z]+|.)")


def width(tex: str) -> float:
    """Estimated width in em of a piece of math-mode LaTeX (markers count as brackets)."""
    return _SCALE * _Measure(tex).run()


class _Measure:
    def __init__(self, s: str):
        self.s, self.i = s, 0

    def run(self, stop: str | None = None) -> float:
        total = 0.0
        while self.i < len(self.s):
            ch = self.s[self.i]
            if stop is not None and ch == stop:
                self.i += 1
                return total
            total += self.atom()
        return total

    def group(self) -> float:
        """The next argument: a {group} or one token."""
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1
        if self.i < len(self.s) and self.s[self.i] == "{":
            self.i += 1
            return self.run("}")
        return self.atom()

    def text_group(self) -> str:
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1
        if self.i < len(self.s) and self.s[self.i] == "{":
            depth, start = 0, self.i
            while self.i < len(self.s):
                depth += {"{": 1, "}": -1}.get(self.s[self.i], 0)
                self.i += 1
                if depth == 0:
                    break
            return self.s[start + 1 : self.i - 1]
        self.i += 1
        return self.s[self.i - 1 : self.i]

    def scripts(self) -> float:
        """Sub- and superscripts after an atom: 0.7 of their size, the wider of the two."""
        sub = sup = 0.0
        while self.i < len(self.s) and self.s[self.i] in "_^'":
            ch = self.s[self.i]
            self.i += 1
            if ch == "'":
                sup = max(sup, 0.3)
                continue
            w = 0.7 * self.group()
            if ch == "_":
                sub = max(sub, w)
            else:
                sup = max(sup, w)
        return max(sub, sup)

    def atom(self) -> float:
        s, ch = self.s, self.s[self.i]
        if ch == "\\":
            m = _CMD.match(s, self.i)
            name = m.group(1)
            self.i = m.end()
            if name in _ZERO:
                return 0.0
            if name == "begin" and _MATRIX.match(s, self.i):
                return self.matrix() + self.scripts()
            if name == "frac":
                return max(self.group(), self.group()) + 0.3 + self.scripts()
            if name in ("sum", "prod"):
                return max(_WIDTHS[name], self.scripts())
            if name in _TEXT:
                return 0.5 * len(re.sub(r"\\[A-Za-z]+|[{}]", "", self.text_group())) + 0.2
            if name == "mathbb":
                self.text_group()
                return 0.7 + self.scripts()
            if name in _SAME:
                return self.group() + self.scripts()
            return _WIDTHS.get(name, 0.6) + self.scripts()
        self.i += 1
        if ch == "{":
            return self.run("}") + self.scripts()
        if ch in (OPEN, CLOSE):
            return 0.45 + self.scripts()
        if ch.isalpha():
            w = 0.55
        elif ch.isdigit():
            w = 0.5
        elif ch in "+-=<>":
            w = _OP
        elif ch in "()[]|":
            w = 0.4
        elif ch in " &":
            return 0.0
        elif ch == ",":
            w = 0.45
        else:
            w = 0.5
        return w + self.scripts()

    def matrix(self) -> float:
        """A matrix environment (a bmatrix of numbers, cases): as wide as the widest entry of
        each column, plus the gaps between columns (2 arraycolsep) and its brackets."""
        self.text_group()  # the environment's name
        depth, brace, j, cell = 1, 0, self.i, self.i
        rows: list[list[str]] = [[]]
        while j < len(self.s):
            env = _ENV.match(self.s, j)
            if env:
                depth += 1 if env.group(1) == "begin" else -1
                if depth == 0:
                    rows[-1].append(self.s[cell : env.start()])
                    j = env.end()
                    break
                j = env.end()
                continue
            ch = self.s[j]
            brace += {"{": 1, "}": -1}.get(ch, 0)
            top = depth == 1 and brace == 0
            if top and ch == "&":
                rows[-1].append(self.s[cell:j])
                cell = j + 1
            elif top and self.s.startswith("\\\\", j):
                rows[-1].append(self.s[cell:j])
                rows.append([])
                cell = j + 2
                j += 1
            elif ch == "\\":
                j += 1  # an escaped character (\{) is no separator
            j += 1
        self.i = j
        widths: dict[int, float] = {}
        for row in rows:
            for k, text in enumerate(row):
                widths[k] = max(widths.get(k, 0.0), _cell(text))
        return sum(widths.values()) + (0.75 * max(len(widths) - 1, 0) + 0.9) / _SCALE


def _cell(text: str) -> float:
    """A matrix entry; a number (-0.0312) as wide as TeX sets it (digits 0.5 em, the point
    0.28, a leading minus 0.78), less the scaling that width() applies to all of it."""
    text = text.strip()
    if _NUMBER.fullmatch(text):
        digits = sum(ch.isdigit() for ch in text)
        return (0.5 * digits + 0.28 * text.count(".") + 0.78 * text.count("-")) / _SCALE
    return _Measure(text).run()


_ENV = re.compile(r"\\(begin|end)\{[A-Za-z*]+\}")
_MATRIX = re.compile(r"\s*\{([bBpvV]?matrix|cases)\}")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


@dataclass(frozen=True)
class _Cut:
    pos: int  # index of the space before the sign
    depth: int  # bracket markers around it
    lr: bool  # inside a literal \left ... \right (cannot be cut)


def marked(expr, index: str | None, loss: str) -> str:
    """The printer's LaTeX with the bracket markers still in."""
    return LatexPrinter.doprint(DerivePrinter(loss, index), expr)


def _cuts(s: str) -> list[_Cut]:
    out, brace, lr, depth, env, i = [], 0, 0, 0, 0, 0
    while i < len(s):
        ch = s[i]
        if ch == "\\":
            m = _CMD.match(s, i)
            name = m.group(1)
            lr += name == "left"
            lr -= name == "right"
            env += (name == "begin") - (name == "end")  # a cases or a matrix is one piece
            i = m.end()
            continue
        brace += {"{": 1, "}": -1}.get(ch, 0)
        depth += {OPEN: 1, CLOSE: -1}.get(ch, 0)
        if ch == " " and s[i + 1 : i + 3] in ("+ ", "- ") and brace == 0 and i > 0:
            out.append(_Cut(i, depth, lr > 0 or env > 0))
        i += 1
    return out


def _pairs(s: str) -> dict[int, tuple[int, int]]:
    """position of each marker -> (position of its partner, its bracket kind)."""
    stack: list[list[int]] = []
    out: dict[int, tuple[int, int]] = {}
    for pos, ch in enumerate(s):
        if ch == OPEN:
            stack.append([pos, 0])
        elif ch == CLOSE:
            start, inner = stack.pop()
            out[start] = (pos, inner)
            out[pos] = (start, inner)
            if stack:
                stack[-1][1] = max(stack[-1][1], inner + 1)
    return out


def _render(s: str, cuts: list[int]) -> list[str]:
    """Resolve the markers and split at the cuts; pairs a cut runs through get a fixed size."""
    pairs = _pairs(s)
    lines, current = [], []
    cut_set = set(cuts)
    for pos, ch in enumerate(s):
        if pos in cut_set:
            lines.append("".join(current).rstrip())
            current = []
            continue
        if ch in (OPEN, CLOSE):
            partner, kind = pairs[pos]
            lo, hi = min(pos, partner), max(pos, partner)
            left, right = BRACKETS[kind % 3]
            spans = any(lo < c < hi for c in cuts)
            if spans:
                inside = s[lo:hi]
                size = r"\bigg" if (r"\frac" in inside or r"\sum" in inside) else r"\Big"
                left = size + "l" + left[len(r"\left") :]
                right = size + "r" + right[len(r"\right") :]
            current.append(left if ch == OPEN else right)
        else:
            current.append(ch)
    lines.append("".join(current).strip())
    return lines


def _greedy(s: str, allowed: list[int], first: float, rest: float) -> list[int]:
    """Cut as late as possible on every line."""
    cuts, start, budget, last_ok = [], 0, first, None
    for c in allowed + [len(s)]:
        if width(s[start:c]) <= budget:
            last_ok = c
            continue
        if last_ok is not None and last_ok != len(s) and last_ok > start:
            cuts.append(last_ok)
            start, budget = last_ok, rest
            last_ok = c if width(s[start:c]) <= budget else None
            if last_ok is None and c != len(s):
                cuts.append(c)  # even alone it is too wide: cut right after it
                start, last_ok = c, None
        elif c != len(s):
            cuts.append(c)
            start, budget, last_ok = c, rest, None
    return cuts


def break_marked(s: str, first: float = LINE_WIDTH, rest: float | None = None) -> tuple[str, ...]:
    """Lines of a marked formula: the first fits in ``first`` em, the others in ``rest``."""
    rest = first if rest is None else rest
    if width(s) <= first:
        return tuple(_render(s, []))
    cuts = [c for c in _cuts(s) if not c.lr]
    best: list[int] = []
    for depth in sorted({c.depth for c in cuts}):
        allowed = [c.pos for c in cuts if c.depth <= depth]
        chosen = _greedy(s, allowed, first, rest)
        best = chosen
        bounds = [0] + chosen + [len(s)]
        widths = [width(s[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
        if all(w <= (first if k == 0 else rest) for k, w in enumerate(widths)):
            break
    return tuple(_render(s, best))


def lines(expr, index: str | None, loss: str, first: float = LINE_WIDTH,
          rest: float | None = None) -> tuple[str, ...]:  # fmt: skip
    """An expression printed and broken into lines."""
    return break_marked(marked(expr, index, loss), first, rest)
