"""A student's write-up (LaTeX source, or Markdown as the course documents are written) read
into the chains of equalities of its display formulas, each side with its line.

What counts as a display formula: ``$$ ... $$`` and ``\\[ ... \\]`` anywhere, and the display
environments (``equation``, ``align``, ``gather``, ``multline``, ``eqnarray``, starred or not)
outside them. Inline ``$ ... $`` is prose, and prose is ignored. In Markdown (``.md``, ``.txt``)
a ``$$`` block ends at a blank line, so one unclosed ``$$`` loses one formula, not the file.

A formula becomes chains: its rows (``\\\\`` outside braces and inner environments such as
``cases`` or ``bmatrix``), and in each row its segments, split where a lecturer separates one
statement from the next (``\\quad``, ``;``, ``\\Rightarrow``, a remark ``\\text{by the chain
rule}``, an arrow to a circled number). Alignment marks ``&``, ``\\tag``, ``\\label``,
``\\nonumber``, ``\\boxed`` and ``\\underline`` around a result and a full stop at the end are
dropped. A segment with ``=`` at its top level starts a chain; one that starts with ``=``
continues the chain before it (also in the next formula, when only blank lines come between, as
``$$a = b$$ $$= c$$``); one that starts with ``+`` or ``-`` continues its last side. Everything
else is listed with the reason it was not read, never an error of the whole file.

Nothing here evaluates anything: this is text cut into pieces, in time linear in the file; the
pieces go to :func:`derive.claims.parse.parse_claim` with every other student input.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from pathlib import Path

from derive.errors import DeriveError
from derive.safeio import read_text, shown

MAX_WRITEUP_BYTES = 1_000_000
MAX_FORMULAS = 400  # display formulas read; the rest are listed as not read
MAX_FORMULA_CHARS = 12_000
MAX_SIDES = 24  # of one chain
SUFFIXES = {".tex": "tex", ".ltx": "tex", ".md": "md", ".markdown": "md", ".txt": "md"}

#: environments that are a display formula by themselves (outside $$)
DISPLAY = (
    "equation",
    "align",
    "gather",
    "multline",
    "eqnarray",
    "flalign",
    "alignat",
    "math",
    "displaymath",
)
#: environments whose rows are rows of the formula (their begin and end are dropped)
ROWS = {*DISPLAY, "aligned", "split", "gathered", "alignedat", "multlined"}
#: commands dropped with their braced argument
DROPPED_WITH_ARGUMENT = {
    "tag",
    "label",
    "eqref",
    "ref",
    "hspace",
    "vspace",
    "phantom",
    "color",
    "textcolor",
}
#: commands dropped alone
DROPPED = {
    "nonumber",
    "notag",
    "displaystyle",
    "textstyle",
    "allowbreak",
    "medskip",
    "smallskip",
    "bigskip",
    "noindent",
    "newline",
}
#: wrappers whose braced argument stays (a boxed result is the result)
UNWRAPPED = {"boxed", "underline", "underbrace", "overbrace", "cancel", "bbox", "fbox"}
#: where one statement ends and the next begins
SEPARATORS = {
    "quad",
    "qquad",
    "Rightarrow",
    "Longrightarrow",
    "implies",
    "iff",
    "therefore",
    "because",
    "Leftrightarrow",
    "Longleftrightarrow",
    "rightarrow",
    "longrightarrow",
    "hence",
    "text",
    "textrm",
    "textit",
    "mbox",
    "xrightarrow",
    "textcircled",
    "Leftarrow",
    "impliedby",
    "mapsto",
}
REMARKS = {"text", "textrm", "textit", "mbox"}
#: what a row starting with it does: go on with the last side (&\quad + c, &/ 2, &^{2})
GOES_ON = {"+", "-", "*", "/", "^", "_", "\\cdot", "\\times", "\\circ", "\\odot", "\\div",
           "\\otimes", "\\oslash", "\\ast"}  # fmt: skip
TAG = re.compile(r"\(\s*[\w.*']{1,6}\s*\)|\[\s*[\w.*']{1,6}\s*\]")  # an equation's number, (3)
CIRCLED = re.compile("[\u2460-\u2473\u24ea-\u24ff\u2776-\u2793]")  # 1 to 20, circled
_TOKEN = re.compile(
    r"\\begin\s*\{\s*([A-Za-z]+\*?)\s*\}|\\end\s*\{\s*([A-Za-z]+\*?)\s*\}"
    r"|\\(?:left|right)(?![A-Za-z])\s*(?:\\[A-Za-z]+|\\.|.)"  # \left( \right.: one token each
    r"|\\\\(?:\s*\[\s*-?[\d.]+\s*(?:pt|em|ex|mm|cm)\s*\])?|\\([A-Za-z]+)\*?|\\.|\s+|.",
    re.DOTALL,
)
_TEXT_WORD = re.compile(r"[A-Za-z]{1,30}")
OPENERS, CLOSERS = "([{", ")]}"


@dataclass(frozen=True)
class Side:
    text: str  # as written, alignment marks and wrappers dropped
    line: int  # 1-based, in the student's file


@dataclass(frozen=True)
class Chain:
    sides: tuple[Side, ...]
    where: tuple[str, str, str] | None = None  # "When i = j:" before it: ("i", "=", "j")
    trailing: str = ""  # what follows its last side in the formula, unplaced (= a \quad 2)

    @property
    def line(self) -> int:
        return self.sides[0].line

    @property
    def text(self) -> str:
        return " = ".join(s.text for s in self.sides)


@dataclass(frozen=True)
class Unread:
    line: int
    text: str  # a short excerpt
    reason: str


@dataclass(frozen=True)
class Writeup:
    path: Path
    chains: tuple[Chain, ...] = field(default=())
    unread: tuple[Unread, ...] = field(default=())
    formulas: int = 0  # display formulas found


# --- the file ------------------------------------------------------------------------------
def read_writeup(path: Path, *, follow_symlinks: bool = True) -> Writeup:
    """The write-up at ``path``: a DeriveError only when the file itself cannot be read (too
    large, not text, a kind derive does not read)."""
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DeriveError(f"{shown(path)}: a homework file is LaTeX (.tex) or Markdown (.md, .txt)")
    text = read_text(path, MAX_WRITEUP_BYTES, follow_symlinks=follow_symlinks, what="homework")
    return parse_writeup(text, kind, path)


def parse_writeup(text: str, kind: str = "md", path: Path = Path("homework.md")) -> Writeup:
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # old Macs' line ends too
    lines = _LineIndex(text)
    text = _hidden_blanked(text, kind)
    blocks, unread = _display_blocks(text, kind, lines)
    chains: list[Chain] = []
    reader = _Chains(lines, chains, unread)
    previous_end = None
    where = None
    for n, (start, end) in enumerate(blocks):
        if n >= MAX_FORMULAS:
            unread.append(
                Unread(
                    lines.line(start),
                    _excerpt(text[start:end]),
                    f"not read: a homework file is read up to {MAX_FORMULAS} display formulas",
                )
            )
            break
        joined = previous_end is not None and not text[previous_end:start].strip(" \t\r\n$")
        if not joined:
            reader.close()
            where = condition(text[previous_end or 0 : start], where)
            reader.where = where
        if end - start > MAX_FORMULA_CHARS:
            unread.append(
                Unread(
                    lines.line(start),
                    _excerpt(text[start:end]),
                    f"not read: longer than {MAX_FORMULA_CHARS} characters",
                )
            )
            reader.close()
        else:
            reader.formula(text, start, end)
        previous_end = end
    reader.close()
    unread.sort(key=lambda u: u.line)
    return Writeup(path, tuple(chains), tuple(unread), len(blocks))


class _LineIndex:
    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self.starts, offset)


def _without_comments(text: str) -> str:
    """LaTeX comments blanked (same length, so offsets and lines stay)."""
    return re.sub(r"(?<!\\)%[^\n]*", lambda m: " " * len(m.group()), text)


def _excerpt(text: str, n: int = 60) -> str:
    one = " ".join(text.split())
    return one if len(one) <= n else one[: n - 3] + "..."


def _display_blocks(text: str, kind: str, lines: _LineIndex):
    """The (start, end) offsets of every display formula's content, in order, and what could
    not be read (an unclosed block). Every closer and blank line is found once, so a file of
    many unclosed blocks is read in linear time."""
    envs = "|".join(DISPLAY)
    opener = re.compile(rf"\$\$|\\\[|\\begin\s*\{{\s*({envs})(\*?)\s*\}}")
    dollars = [m.start() for m in re.finditer(r"\$\$", text)]
    brackets = [m.start() for m in re.finditer(r"\\\]", text)]
    ends: dict[str, list[tuple[int, int]]] = {}
    for m in re.finditer(r"\\end\s*\{\s*([A-Za-z]+\*?)\s*\}", text):
        ends.setdefault(m.group(1), []).append((m.start(), m.end()))
    blanks = [m.start() for m in re.finditer(r"\n[ \t\r]*\n", text)] if kind == "md" else []
    blocks, unread = [], []
    pos = 0
    while True:
        m = opener.search(text, pos)
        if m is None:
            break
        start = m.end()
        if m.group() == "$$":
            close = _next(dollars, start, lambda p: (p, p + 2))
        elif m.group() == "\\[":
            close = _next(brackets, start, lambda p: (p, p + 2))
        else:
            found = ends.get(m.group(1) + m.group(2), [])
            k = bisect.bisect_left(found, (start, start))
            close = found[k] if k < len(found) else None
        blank = _next(blanks, start, lambda p: (p, p))
        if close is None or (blank is not None and blank[0] < close[0]):
            stop = blank[0] if blank is not None else m.end()
            unread.append(
                Unread(
                    lines.line(m.start()),
                    _excerpt(text[m.start() : max(stop, m.end() + 60)]),
                    f"not read: {shown(m.group(), 20)} is never closed",
                )
            )
            pos = max(stop, m.end())
            continue
        if m.group(1):  # \begin{align} ... : its own rows
            blocks.append((m.start(), close[1]))
        else:
            blocks.append((start, close[0]))
        pos = close[1]
    return blocks, unread


def _next(positions: list[int], start: int, span):
    k = bisect.bisect_left(positions, start)
    return span(positions[k]) if k < len(positions) else None


def _hidden_blanked(text: str, kind: str) -> str:
    """What a reader never sees blanked (its newlines kept, so lines stay): Markdown's
    <!-- comments -->, and \\iffalse ... \\fi and the comment environment; LaTeX's % comments.
    A student's answer hidden there is not an answer."""
    spans = [(r"\\iffalse(?![A-Za-z])", r"\\fi(?![A-Za-z])"),
             (r"\\begin\s*\{comment\}", r"\\end\s*\{comment\}")]  # fmt: skip
    if kind == "md":
        spans.append(("<!--", "-->"))
    out = text
    for left, right in spans:
        opening, closing = re.compile(left), re.compile(right)
        pieces, pos = [], 0
        while True:
            a = opening.search(out, pos)
            if a is None:
                pieces.append(out[pos:])
                break
            b = closing.search(out, a.end())
            stop = len(out) if b is None else b.end()
            pieces.append(out[pos : a.start()])
            pieces.append(re.sub(r"[^\n]", " ", out[a.start() : stop]))
            pos = stop
            if b is None:
                break
        out = "".join(pieces)
    if kind == "tex":
        out = _without_comments(out)
    return out


# --- a formula into chains ------------------------------------------------------------------
class _Chains:
    """Reads formulas' segments into chains, keeping the chain open across formulas that
    follow one another with nothing between them."""

    def __init__(self, lines: _LineIndex, chains: list[Chain], unread: list[Unread]):
        self.lines, self.chains, self.unread = lines, chains, unread
        self.sides: list[list] = []  # the open chain: [text pieces, start offset] per side
        self.too_long = False
        self.where = None  # the condition of the prose before the formula
        self.trailing = ""  # text after the open chain's last side, not a remark

    def close(self) -> None:
        if len(self.sides) >= 2 and not self.too_long:
            sides = tuple(Side(_clean("".join(t)), self.lines.line(s)) for t, s in self.sides)
            if all(s.text for s in sides):
                self.chains.append(Chain(sides, self.where, self.trailing))
            else:
                self.unread.append(
                    Unread(
                        sides[0].line,
                        _excerpt(" = ".join(s.text for s in sides)),
                        "not read: a side of the chain is empty",
                    )
                )
        elif self.too_long:
            line = self.lines.line(self.sides[0][1])
            self.unread.append(
                Unread(
                    line,
                    _excerpt(" = ".join("".join(t) for t, _ in self.sides[:3])),
                    f"not read: a chain of more than {MAX_SIDES} sides",
                )
            )
        self.sides, self.too_long, self.trailing = [], False, ""

    def formula(self, text: str, start: int, end: int) -> None:
        for segment in _segments(text, start, end):
            self.segment(segment)

    def segment(self, segment: list[tuple[str, int, int]]) -> None:
        """``segment``: (token, start, depth) triples, depth 0 at the row's top level."""
        while segment and not segment[0][0].strip():
            segment = segment[1:]
        if not segment:
            return
        sides = _split_at_equals(segment)
        first = sides[0]
        if len(sides) == 1:  # no '=' at the top level
            if self.sides and first[0][0] in GOES_ON:
                self.sides[-1][0].extend(t for t, _, _ in first)  # the last side goes on
                return
            line = self.lines.line(first[0][1])
            text = "".join(t for t, _, _ in first)
            remark = any(t[1:] in REMARKS for t, _, _ in first)
            aside = _bracketed(text.strip())  # [M^i = ...]: an aside, not the answer's
            if text.strip(" .,;:()") and not TAG.fullmatch(text.strip()) and not remark:
                if self.sides and not self.trailing and not aside:  # = RW \quad 2: unclear
                    self.trailing = _excerpt(text, 30)
                else:
                    self.unread.append(Unread(line, _excerpt(text), "not an equation"))
            return
        if not "".join(t for t, _, _ in first).strip():  # '= ...' goes on with the chain
            if not self.sides:
                line = self.lines.line(segment[0][1])
                self.unread.append(
                    Unread(
                        line,
                        _excerpt("= " + "".join(t for t, _, _ in sides[1])),
                        "not read: it goes on from no formula",
                    )
                )
                return
            sides = sides[1:]
        else:
            self.close()
        for side in sides:
            if len(self.sides) >= MAX_SIDES:
                self.too_long = True
                return
            start = next((s for t, s, _ in side if t.strip()), side[0][1] if side else 0)
            self.sides.append([[t for t, _, _ in side], start])


_CONDITION = re.compile(
    r"(?:when|for|if|where|case)\s*:?\s*\$?\s*([ijkl])\s*(=|\\neq|\\ne(?![a-z])|\u2260|!=)\s*"
    r"([ijkl])\s*\$?",
    re.IGNORECASE,
)
_OTHERWISE = re.compile(r"(?:otherwise|else|and otherwise|in the other case)", re.IGNORECASE)


def condition(prose: str, before: tuple | None) -> tuple[str, str, str] | None:
    """The condition on two indices that the prose just before a formula states, as its whole
    lead-in (``When $i \\neq k$:``, ``So when i = j:``, ``and (for $i \\neq j$)``, ``For $i =
    j$ the diagonal entries:``), ``Otherwise:`` the opposite of the one before; None when the
    lead-in states none (a condition inside a sentence about something else, ``1 if i = j and 0
    otherwise``, ``except for i = j``, is not a condition of the formula)."""
    prose = re.sub(r"(\$\$|\\\[)\s*$", "", prose.strip())  # the formula's own opener
    lines = [line.strip() for line in prose.strip().splitlines() if line.strip()]
    if not lines:
        return before
    lead = lines[-1]
    if len(lead) > 80:
        return None
    m = _CONDITION.search(lead)
    if m is not None:
        said = lead[: m.start()].lower()
        after = lead[m.end() :]
        if len(said.split()) > 2 or re.search(r"except|unless|not|[.;]", said + after):
            return None
        if re.search(r"\b(?:otherwise|else|and|or)\b", after, re.IGNORECASE):
            return None
        a, op, b = m.groups()
        return (a, "=" if op == "=" else "!=", b)
    if _OTHERWISE.fullmatch(lead.strip(" ():,")) and before is not None:
        a, op, b = before
        return (a, "!=" if op == "=" else "=", b)
    return None


def _bracketed(text: str) -> bool:
    """Whether the whole text is one bracketed group: [ ... ], \\bigg[ ... \\Big], ( ... )."""
    text = re.sub(r"\\(?:left|right|[bB]ig+[lr]?)(?![A-Za-z])", "", text).strip()
    if len(text) < 2 or text[0] not in "([" or text[-1] not in ")]":
        return False
    depth = 0
    for k, ch in enumerate(text):
        depth += (ch in "([") - (ch in ")]")
        if depth == 0 and k < len(text) - 1:
            return False
    return depth == 0


def _clean(text: str) -> str:
    text = " ".join(text.split())
    return re.sub(r"(\s*[.,;:])+$", "", text).strip()


def _tokens(text: str, start: int, end: int):
    """(token, offset) over text[start:end], \\begin/\\end and \\left( as one token each."""
    pos = start
    while pos < end:
        m = _TOKEN.match(text, pos, end)
        yield m.group(), m.start()
        pos = m.end()


def _segments(text: str, start: int, end: int):
    """The formula's segments, each a list of (token, offset, depth): rows split at \\\\ at
    the top level, rows split at separators; dropped and unwrapped commands gone."""
    tokens = list(_tokens(text, start, end))
    segment: list[tuple[str, int, int]] = []
    envs: list[str] = []  # inner environments open (cases, bmatrix, ...)
    stack: list[str] = []  # braces open: "b" a group, "u" an unwrapped command's argument
    groups = 0  # the "b" in stack
    parens = 0  # ( [ \left at the top level, within the row
    i = 0
    while i < len(tokens):
        tok, at = tokens[i]
        i += 1
        top = not envs and not groups
        begin = re.match(r"\\begin\s*\{\s*([A-Za-z]+\*?)", tok)
        endm = re.match(r"\\end\s*\{\s*([A-Za-z]+\*?)", tok)
        name = tok[1:].rstrip("*") if re.fullmatch(r"\\[A-Za-z]+\*?", tok) else None
        if begin:
            if begin.group(1).rstrip("*") in ROWS and not envs:
                continue
            envs.append(begin.group(1))
        elif endm:
            if endm.group(1).rstrip("*") in ROWS and not envs:
                continue
            if envs:
                envs.pop()
        elif tok.startswith("\\\\") and top:  # a new row
            yield segment
            segment, parens = [], 0
            continue
        elif tok == "&" and top:
            continue
        elif name in DROPPED or tok in ("\\left.", "\\right."):
            continue
        elif name in DROPPED_WITH_ARGUMENT:
            i = _skip_argument(tokens, i)
            continue
        elif name in UNWRAPPED and _next_brace(tokens, i) is not None:
            i = _next_brace(tokens, i) + 1
            stack.append("u")
            continue
        elif top and parens == 0 and (name in SEPARATORS or tok == ";" or CIRCLED.match(tok)):
            if name in REMARKS and _is_function_word(tokens, i):
                segment.append((tok, at, 0))
                continue
            if name in REMARKS or name in ("xrightarrow", "textcircled"):
                i = _skip_argument(tokens, i)
            yield segment
            segment = []
            continue
        elif tok == "{":
            stack.append("b")
            groups += 1
        elif tok == "}":
            if stack and stack.pop() == "u":
                continue
            groups = max(0, groups - 1)
        elif top and (tok in OPENERS or tok.startswith("\\left") or tok in ("\\{", "\\lbrace")):
            parens += 1
            segment.append((tok, at, 0))
            continue
        elif top and (tok in CLOSERS or tok.startswith("\\right") or tok in ("\\}", "\\rbrace")):
            parens = max(0, parens - 1)
        depth = 0 if (not envs and not groups and parens == 0) else 1
        segment.append((tok, at, depth))
    yield segment


def _next_brace(tokens, i: int) -> int | None:
    while i < len(tokens) and not tokens[i][0].strip():
        i += 1
    return i if i < len(tokens) and tokens[i][0] == "{" else None


def _skip_argument(tokens, i: int) -> int:
    """The index after a command's optional star/[...] and its braced argument (if any)."""
    j = _next_brace(tokens, i)
    if j is None:
        return i
    depth = 0
    while j < len(tokens):
        if tokens[j][0] == "{":
            depth += 1
        elif tokens[j][0] == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return j


def _is_function_word(tokens, i: int) -> bool:
    """\\text{softplus}(x), \\text{ReLU}(x), \\text{BN}_i: a name in the formula, not a remark."""
    j = _next_brace(tokens, i)
    if j is None:
        return False
    k = _skip_argument(tokens, i)
    word = "".join(t for t, _ in tokens[j + 1 : k - 1])
    if not _TEXT_WORD.fullmatch(word.strip().replace(" ", "")):
        return False
    if k < len(tokens) and tokens[k][0][:1].isalnum():  # \text{inp}1: one name
        return True
    while k < len(tokens) and (not tokens[k][0].strip() or tokens[k][0] == "&"):
        k += 1
    return k < len(tokens) and (
        tokens[k][0] in ("(", "_", "^", "=")
        or tokens[k][0].startswith("\\left")
        or tokens[k][0] in ("\\big(", "\\Big(")
    )


def _split_at_equals(segment):
    """The sides of a segment: split at '=' (':=' too) at the top level."""
    sides: list[list] = [[]]
    for tok, at, depth in segment:
        if tok == "=" and depth == 0:
            if sides[-1] and sides[-1][-1][0] == ":":
                sides[-1].pop()
            sides.append([])
            continue
        sides[-1].append((tok, at, depth))
    return sides
