"""Tokens of a claim: LaTeX (the subset students write) or plain-text math.

A hand-written scanner rather than lark's regex lexer, because LaTeX tokenising depends on a
little context that regular expressions express badly: ``\\left`` takes the next delimiter,
``\\mathrm{BN}`` is one word while ``xy`` is two letters, ``\\frac12`` is two digits, ``^T`` is a
transpose, ``\\sigma_B`` is a variable but ``\\sigma(x)`` a function, and the function names a
caller declares (a student's own ``S``) change per claims file without rebuilding the grammar.
The scanner is a single left-to-right pass with anchored, bounded regular expressions: linear in
the input. It builds lark ``Token`` objects for the LALR parser in :mod:`derive.claims.parse`.

Rules worth knowing (they are the documented behaviour):

- letters juxtapose, as in LaTeX: ``xy`` is ``x y``; a run of letters that *ends* in a known word
  reads that word: ``sigma``, ``exp``, ``theta``, ``dtheta`` (d, theta), ``lambda`` (a Greek name,
  not Python); a word inside a run does not (``sigmax`` is s, i, g, max);
- known plain words: the function names (case-insensitive: ``ReLU``, ``Softmax``, ``sgn``,
  ``sigmoid``, ``ln``, ...), the Greek letters by name, and the caller's function names (exact);
- a bare subscript or superscript takes one letter or one run of digits: ``W_1x`` is
  ``W_1 x``, ``x_12`` is ``x_{12}``, ``x^10`` is ``x^{10}``;
- ``\\sigma`` (or ``sigma``) directly followed by ``_`` is the Greek variable (``\\sigma_B^2``);
- a bare ``^T`` is a transpose; ``^{(1)}`` and ``^{(i)}`` are labels (see ``Name.label``);
- spacing (``\\, \\; \\: \\! \\quad \\qquad ~ \\hspace{..}``), ``\\left.``, ``\\right.``,
  ``\\limits``, ``\\displaystyle``, ``&`` (alignment) are ignored;
- anything else that is not listed here is an error naming the command or character.
"""

from __future__ import annotations

import re

from lark import Token

from derive.claims.errors import ParseError

MAX_NUMBER_LENGTH = 50
MAX_EXPONENT = 1000

GREEK_LOWER = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
    "upsilon phi chi psi omega"
).split()
GREEK_UPPER = "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()
# the variant letters are the same letter to a student: \varepsilon is epsilon
GREEK_VARIANTS = {
    "varepsilon": "epsilon",
    "vartheta": "theta",
    "varphi": "phi",
    "varsigma": "sigma",
    "varrho": "rho",
    "varpi": "pi",
    "varkappa": "kappa",
}
# named symbols that are names, not letters
SYMBOL_NAMES = {"ell": "ell", "infty": "infty"}

#: spelling (lower case) -> canonical function name
FUNCTION_SPELLINGS = {
    "sigma": "sigma",
    "sigmoid": "sigma",
    "tanh": "tanh",
    "exp": "exp",
    "log": "log",
    "ln": "log",
    "softplus": "softplus",
    "max": "max",
    "min": "min",
    "sign": "sign",
    "sgn": "sign",
    "relu": "relu",
    "diag": "diag",
    "sqrt": "sqrt",
    "softmax": "softmax",
    "sin": "sin",
    "cos": "cos",
    "abs": "abs",
    "tr": "tr",
    "trace": "tr",
    "det": "det",
    "logsumexp": "logsumexp",
}
# control words that are functions (the standard ones and the macros students define)
FUNCTION_COMMANDS = {
    "sigma": "sigma",
    "tanh": "tanh",
    "exp": "exp",
    "log": "log",
    "ln": "log",
    "max": "max",
    "min": "min",
    "sin": "sin",
    "cos": "cos",
    "sqrt": "sqrt",
    "sgn": "sign",
    "sign": "sign",
    "relu": "relu",
    "ReLU": "relu",
    "softmax": "softmax",
    "softplus": "softplus",
    "diag": "diag",
    "sigmoid": "sigma",
    "tr": "tr",
    "det": "det",
    "logsumexp": "logsumexp",
}
#: the words of a case's condition, inside \begin{cases}: "if", and "otherwise" for the last row
CASE_WORDS = {
    **dict.fromkeys(("if", "for", "when", "where"), ("IFWORD", "if")),
    **dict.fromkeys(("otherwise", "else", "elsewhere"), ("OTHERWISE", "otherwise")),
}

SPACING = {"quad", "qquad", "limits", "nolimits", "displaystyle", "textstyle", "nonumber"}
DECORATIONS = {"mathbf", "bm", "boldsymbol", "pmb", "vec", "mathcal", "mathnormal", "symbf"}
# text-like wrappers: their braced content is one word (\mathrm{BN}, \text{ReLU})
TEXT_WRAPPERS = {
    "operatorname",
    "mathrm",
    "mathit",
    "mathsf",
    "mathtt",
    "text",
    "textrm",
    "textit",
    "textsf",
    "texttt",
    "textbf",
    "textnormal",
}
ONES_WRAPPERS = {"mathbf", "bm", "boldsymbol", "pmb", "symbf", "mathbb"}
ACCENTS = {
    "hat": "hat",
    "widehat": "hat",
    "tilde": "tilde",
    "widetilde": "tilde",
    "bar": "bar",
    "overline": "bar",
}
OPERATORS = {
    "cdot": ("MUL", "*"),
    "times": ("MUL", "*"),
    "circ": ("HAD", "hadamard"),
    "odot": ("HAD", "hadamard"),
    "div": ("DIV", "/"),
    "geq": ("CMP", ">="),
    "ge": ("CMP", ">="),
    "leq": ("CMP", "<="),
    "le": ("CMP", "<="),
    "neq": ("CMP", "!="),
    "ne": ("CMP", "!="),
    "gt": ("CMP", ">"),
    "lt": ("CMP", "<"),
    "approx": ("_EQ", "="),
    "frac": ("FRAC", "frac"),
    "dfrac": ("FRAC", "frac"),
    "tfrac": ("FRAC", "frac"),
    "cfrac": ("FRAC", "frac"),
    "sum": ("SUM", "sum"),
    "partial": ("PARTIAL", "partial"),
    "oplus": ("SYMBOL", "oplus"),
    "otimes": ("SYMBOL", "otimes"),
    "ast": ("SYMBOL", "*"),
    "star": ("SYMBOL", "*"),
}
SIZES_OPEN = {"left", "bigl", "Bigl", "biggl", "Biggl"}
SIZES_CLOSE = {"right", "bigr", "Bigr", "biggr", "Biggr"}
SIZES_PLAIN = {"big", "Big", "bigg", "Bigg", "middle"}

# delimiter -> (as an opener, as a closer, plain)
_DELIMS = {
    "(": ("_LPAR", "_LPAR", "_LPAR"),
    ")": ("_RPAR", "_RPAR", "_RPAR"),
    "[": ("_LBRACK", "_LBRACK", "_LBRACK"),
    "]": ("_RBRACK", "_RBRACK", "_RBRACK"),
    "\\{": ("_LCURLY", "_LCURLY", "_LCURLY"),
    "\\}": ("_RCURLY", "_RCURLY", "_RCURLY"),
    "\\lbrace": ("_LCURLY", "_LCURLY", "_LCURLY"),
    "\\rbrace": ("_RCURLY", "_RCURLY", "_RCURLY"),
    "|": ("LABS", "_RABS", "BAR"),
    "\\vert": ("LABS", "_RABS", "BAR"),
    "\\lvert": ("LABS", "LABS", "LABS"),
    "\\rvert": ("_RABS", "_RABS", "_RABS"),
    "\\|": ("LNORM", "_RNORM", "DBAR"),
    "\\Vert": ("LNORM", "_RNORM", "DBAR"),
    "\\lVert": ("LNORM", "LNORM", "LNORM"),
    "\\rVert": ("_RNORM", "_RNORM", "_RNORM"),
}

UNICODE = {
    "∂": ("PARTIAL", "partial"),
    "∘": ("HAD", "hadamard"),
    "⊙": ("HAD", "hadamard"),
    "·": ("MUL", "*"),
    "⋅": ("MUL", "*"),
    "×": ("MUL", "*"),
    "−": ("MINUS", "-"),
    "≥": ("CMP", ">="),
    "≤": ("CMP", "<="),
    "≠": ("CMP", "!="),
    "≈": ("_EQ", "="),
    "⊕": ("SYMBOL", "oplus"),
    "ᵀ": ("TRANSPOSE", "T"),
    "∑": ("SUM", "sum"),
    "‖": ("DBAR", "||"),
    "√": ("FUNC", "sqrt"),
    "∞": ("GREEK", "infty"),
    "σ": ("FUNC", "sigma"),
}
_GREEK_UNICODE = dict(
    zip(
        "αβγδεζηθικλμνξπρτυφχψωϵϑφϕΓΔΘΛΞΠΣΥΦΨΩ",
        GREEK_LOWER[:13]
        + ["xi", "pi", "rho", "tau", "upsilon", "phi", "chi", "psi", "omega"]
        + ["epsilon", "theta", "phi", "phi"]
        + GREEK_UPPER,
        strict=True,
    )
)

_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\.\d+")
_DIGITS = re.compile(r"\d+")
_LETTERS = re.compile(r"[A-Za-z]+")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)
_SPACE = re.compile(r"\s+")
# ^T, ^{T}, ^\top, ^{\top}, ^\intercal, ^{\mathsf T}, ^{\mathsf{T}}, ^{\mathrm{T}}, ^\mathsf{T}
_TRANSPOSE = re.compile(
    r"\^\s*(?:T|\\top(?![A-Za-z])|\\intercal(?![A-Za-z])"
    r"|\\(?:mathsf|mathrm|mathbf|text|textsf)\s*(?:T|\{\s*T\s*\})"
    r"|\{\s*(?:T|\\top|\\intercal|\\(?:mathsf|mathrm|mathbf|text|textsf)\s*(?:T|\{\s*T\s*\}))"
    r"\s*\})"
)
_LABEL = re.compile(r"\^\s*\{\s*\(\s*(\d+|[A-Za-z])\s*\)\s*\}")
# W^{(2)T}, W^{(2)\top}: a label, then a transpose
_LABEL_T = re.compile(
    r"\^\s*\{\s*\(\s*(\d+|[A-Za-z])\s*\)\s*(?:T|\\top(?![A-Za-z])|\\intercal(?![A-Za-z]))"
    r"\s*\}"
)
# x^{(1)i}, x^{(1), i} (as derive prints it): a label, then a sample index
_LABEL_I = re.compile(r"\^\s*\{\s*\(\s*(\d+|[A-Za-z])\s*\)\s*,?\s*(?:\\[,;: ]\s*)?([ijkln])\s*\}")
# x^{\circ 2}, x^{\odot 2}, x^{\circ2}: the power entry by entry
_HPOW = re.compile(r"\^\s*\{\s*\\(?:circ|odot)\s*(\d{1,2})\s*\}")
_CASES = re.compile(r"\\(begin|end)\s*\{\s*(cases|dcases)\s*\}")
# a wrapper's braced word: letters, digits, and the punctuation of subscripts (B,k  BN*  l+1)
_WRAPPED = re.compile(r"\{([A-Za-z0-9,*+\-\s]{0,40})\}")
_HSPACE = re.compile(r"\\hspace\*?\s*\{[^{}\\]{0,20}\}")
_ONES = re.compile(r"\s*(?:\{\s*1\s*\}|1(?!\d))")
_DELIM_AFTER_SIZE = re.compile(r"\s*(\\[A-Za-z]+|\\.|[()\[\]|.])")


def _tok(type_: str, value: str, start: int, end: int) -> Token:
    return Token(
        type_, value, start_pos=start, line=1, column=start + 1, end_line=1,
        end_column=end + 1, end_pos=end,
    )  # fmt: skip


def check_number(text: str, start: int) -> None:
    """Reject literals too long or with a decimal exponent too large to make exact cheaply."""
    if len(text) > MAX_NUMBER_LENGTH:
        raise ParseError(f"number too long ({len(text)} characters) at {start}", start)
    if "e" in text or "E" in text:
        exponent = int(re.split("[eE]", text)[1])
        if abs(exponent) > MAX_EXPONENT:
            raise ParseError(f"exponent too large in {text[:20]} at {start}", start)


class Lexer:
    """Turns claim text into tokens; ``functions`` are the caller's extra function names."""

    def __init__(self, text: str, functions: frozenset[str] = frozenset()):
        self.text = text
        self.functions = functions
        self.max_function = max((len(f) for f in functions), default=0)
        self.tokens: list[Token] = []
        self.pos = 0
        self.bars = 0  # bare | seen so far: odd inside an absolute value
        self.cases = 0  # \begin{cases} open: & and \\ separate cells and rows

    # ------------------------------------------------------------------------------------------
    def error(self, message: str, pos: int) -> ParseError:
        return ParseError(f"{message} at {pos}", pos)

    def emit(self, type_: str, value: str, start: int, end: int) -> None:
        self.tokens.append(_tok(type_, value, start, end))
        self.pos = end
        if type_ == "BAR":
            self.bars += 1

    def tokenize(self) -> list[Token]:
        text = self.text
        n = len(text)
        while self.pos < n:
            ch = text[self.pos]
            start = self.pos
            if ch == "&" and self.cases:
                self.emit("_AMP", "&", start, start + 1)
            elif ch.isspace() or ch in "~&":
                self.pos = _SPACE.match(text, start).end() if ch.isspace() else start + 1
            elif "0" <= ch <= "9" or (
                ch == "." and start + 1 < n and "0" <= text[start + 1] <= "9"
            ):
                self.number(start)
            elif ("a" <= ch <= "z") or ("A" <= ch <= "Z"):
                self.word(start)
            elif ch == "\\":
                self.command(start)
            elif ch == "^":
                self.caret(start)
            elif ch == "*":
                if text.startswith("**", start):
                    self.emit("_POW", "^", start, start + 2)
                else:
                    self.emit("MUL", "*", start, start + 1)
            elif ch in "<>":
                if text.startswith("=", start + 1):
                    self.emit("CMP", ch + "=", start, start + 2)
                else:
                    self.emit("CMP", ch, start, start + 1)
            elif ch == "!" and text.startswith("=", start + 1):
                self.emit("CMP", "!=", start, start + 2)
            elif ch == "|":
                # || is a norm bar unless an absolute value is open: |x||y| is |x| |y|
                if text.startswith("||", start) and self.bars % 2 == 0:
                    self.emit("DBAR", "||", start, start + 2)
                else:
                    self.emit("BAR", "|", start, start + 1)
            elif ch in _SINGLE:
                self.emit(*_SINGLE[ch], start, start + 1)
            elif ch == "σ" and self._followed_by_sub(start + 1):
                self.emit("GREEK", "sigma", start, start + 1)  # σ_B is a variable
            elif ch in UNICODE:
                self.emit(*UNICODE[ch], start, start + 1)
            elif ch in _GREEK_UNICODE:
                self.emit("GREEK", _GREEK_UNICODE[ch], start, start + 1)
            elif ch == "'":
                raise self.error('unexpected "\'" (primes and quotes are not supported)', start)
            else:
                raise self.error(f"unexpected {ch!r}", start)
        return self.tokens

    # ------------------------------------------------------------------------------------------
    def number(self, start: int) -> None:
        prev = self.tokens[-1].type if self.tokens else None
        prev2 = self.tokens[-2].type if len(self.tokens) > 1 else None
        # \frac12 and \frac1m: the arguments of an unbraced \frac are single digits
        if prev == "FRAC" or (prev2 == "FRAC" and self._single_token_arg(self.tokens[-1])):
            self.emit("NUMBER", self.text[start], start, start + 1)
            return
        if prev == "_SUB":  # x_12: a subscript takes the digits only, never 1.5 or 1e3
            m = _DIGITS.match(self.text, start)
            if m is None:
                raise self.error(f"unexpected {self.text[start]!r}", start)
        else:
            m = _NUMBER.match(self.text, start)
        check_number(m.group(), start)
        self.emit("NUMBER", m.group(), start, m.end())

    @staticmethod
    def _single_token_arg(tok: Token) -> bool:
        return tok.type in ("LETTER", "GREEK") or (tok.type == "NUMBER" and len(tok) == 1)

    def word(self, start: int) -> None:
        """A run of letters: single letters, except a known word that ends the run."""
        m = _LETTERS.match(self.text, start)
        run = m.group()
        longest = max(self.max_function, _LONGEST_WORD)
        i = 0
        while i < len(run):
            rest = run[i:]
            if len(rest) <= longest:
                kind = self.classify_word(rest)
                if kind is not None:
                    type_, value = kind
                    if type_ == "FUNC" and value == "sigma" and self._followed_by_sub(m.end()):
                        type_ = "GREEK"  # sigma_B is a variable
                    self.emit(type_, value, start + i, m.end())
                    return
            self.emit("LETTER", run[i], start + i, start + i + 1)
            i += 1

    def classify_word(self, word: str) -> tuple[str, str] | None:
        if self.cases and word.lower() in CASE_WORDS:
            return CASE_WORDS[word.lower()]
        if word in self.functions:
            return ("XFUNC", word)
        if word in GREEK_UPPER:
            return ("GREEK", word)
        if word.lower() in FUNCTION_SPELLINGS and len(word) > 1:
            return ("FUNC", word)
        if word in GREEK_LOWER or word in GREEK_VARIANTS:
            return ("GREEK", GREEK_VARIANTS.get(word, word))
        return None

    def _skip_space(self, pos: int) -> int:
        m = _SPACE.match(self.text, pos)
        return m.end() if m else pos

    def _followed_by_sub(self, pos: int) -> bool:
        return self.text.startswith("_", self._skip_space(pos))

    def caret(self, start: int) -> None:
        m = _TRANSPOSE.match(self.text, start)
        if m:
            self.emit("TRANSPOSE", "T", start, m.end())
            return
        m = _LABEL_T.match(self.text, start)
        if m:
            self.emit("LABEL", m.group(1), start, m.end())
            self.tokens.append(_tok("TRANSPOSE", "T", m.end() - 1, m.end()))
            return
        m = _LABEL_I.match(self.text, start)
        if m:
            self.emit("LABEL", m.group(1), start, m.start(2))
            self.tokens.append(_tok("_POW", "^", m.start(2), m.start(2)))
            self.tokens.append(_tok("LETTER", m.group(2), m.start(2), m.end(2)))
            self.pos = m.end()
            return
        m = _HPOW.match(self.text, start)
        if m:
            self.emit("HPOW", m.group(1), start, m.end())
            return
        m = _LABEL.match(self.text, start)
        if m:
            self.emit("LABEL", m.group(1), start, m.end())
            return
        self.emit("_POW", "^", start, start + 1)

    # ------------------------------------------------------------------------------------------
    def command(self, start: int) -> None:
        text = self.text
        m = _COMMAND.match(text, start)
        if m is None:
            raise self.error("unexpected '\\' at the end", start)
        name = m.group(1)
        end = m.end()
        if name in ("begin", "end"):
            self.environment(start)
        elif name == "\\" and self.cases:
            self.emit("_ROWSEP", "\\\\", start, end)
        elif not name[0].isalpha():
            self.control_symbol(name, start, end)
        elif name in self.functions:
            self.emit("XFUNC", name, start, end)
        elif name in SPACING:
            self.pos = end
        elif name == "hspace":
            h = _HSPACE.match(text, start)
            if h is None:
                raise self.error("expected \\hspace{length}", start)
            self.pos = h.end()
        elif name in SIZES_OPEN or name in SIZES_CLOSE or name in SIZES_PLAIN:
            self.sized_delimiter(name, start, end)
        elif name in ("lvert", "rvert", "lVert", "rVert", "vert", "Vert", "lbrace", "rbrace"):
            self.emit(_DELIMS["\\" + name][2], name, start, end)
        elif name == "sigma" and self._followed_by_sub(end):
            self.emit("GREEK", "sigma", start, end)
        elif name in FUNCTION_COMMANDS:
            if name == "sqrt" and text.startswith("[", self._skip_space(end)):
                raise self.error("\\sqrt[n]{...} (an n-th root) is not supported", start)
            self.emit("FUNC", name, start, end)
        elif name in GREEK_LOWER or name in GREEK_UPPER:
            self.emit("GREEK", name, start, end)
        elif name in GREEK_VARIANTS:
            self.emit("GREEK", GREEK_VARIANTS[name], start, end)
        elif name in SYMBOL_NAMES:
            self.emit("GREEK", SYMBOL_NAMES[name], start, end)
        elif name == "nabla":
            self.emit("NABLA", "nabla", start, end)
        elif name in OPERATORS:
            self.emit(*OPERATORS[name], start, end)
        elif name in ACCENTS:
            self.emit("ACCENT", ACCENTS[name], start, end)
        elif name in ONES_WRAPPERS and _ONES.match(text, end):
            self.emit("ONES", name, start, _ONES.match(text, end).end())
        elif name == "mathbb":
            raise self.error("\\mathbb is only supported as \\mathbb{1}", start)
        elif name in DECORATIONS:
            self.emit("DECOR", name, start, end)
        elif name in TEXT_WRAPPERS:
            self.text_wrapper(name, start, end)
        elif name in ("top", "intercal"):
            raise self.error(f"\\{name} outside a superscript", start)
        else:
            raise self.error(f"unknown command \\{name}", start)

    def environment(self, start: int) -> None:
        m = _CASES.match(self.text, start)
        if m is None:
            raise self.error("only the cases environment is supported", start)
        if m.group(1) == "begin":
            if self.cases:
                raise self.error("cases inside cases are not supported", start)
            self.cases += 1
            self.emit("LCASES", "cases", start, m.end())
        else:
            if not self.cases:
                raise self.error("\\end{cases} without \\begin{cases}", start)
            self.cases -= 1
            self.emit("RCASES", "cases", start, m.end())

    def control_symbol(self, sym: str, start: int, end: int) -> None:
        if sym in ",;:! \t\n":
            self.pos = end  # thin, medium, thick, negative and normal spaces
        elif sym in "{}|":
            self.emit(_DELIMS["\\" + sym][2], sym, start, end)
        else:
            raise self.error(f"unknown command \\{sym}", start)

    def sized_delimiter(self, size: str, start: int, end: int) -> None:
        m = _DELIM_AFTER_SIZE.match(self.text, end)
        delim = m.group(1) if m else None
        if delim == ".":
            if size in SIZES_OPEN or size in SIZES_CLOSE:
                self.pos = m.end()  # \left. and \right. are invisible
                return
        if delim not in _DELIMS:
            raise self.error(f"\\{size} must be followed by a delimiter", start)
        as_open, as_close, plain = _DELIMS[delim]
        kind = as_open if size in SIZES_OPEN else as_close if size in SIZES_CLOSE else plain
        self.emit(kind, delim, start, m.end())

    def text_wrapper(self, name: str, start: int, end: int) -> None:
        """\\mathrm{BN}, \\text{ReLU}, \\operatorname{sign}, \\mathrm{d}, \\mathrm{2A}."""
        text = self.text
        at = self._skip_space(end)
        m = _WRAPPED.match(text, at)
        if m is not None:
            content = re.sub(r"\s+", "", m.group(1))
            if not content:
                raise self.error(f"empty \\{name}{{}}", start)
            self.emit(*self.classify_wrapped(content), start, m.end())
        elif at < len(text) and text[at].isalnum() and text[at].isascii():
            # \mathrm d: one character, as TeX reads an unbraced argument
            self.emit(*self.classify_wrapped(text[at]), start, at + 1)
        elif name == "operatorname":
            raise self.error("\\operatorname needs a plain name in braces", start)
        else:
            # \mathrm{\theta}, \mathit{x_1}: a transparent decoration around an expression
            self.emit("DECOR", name, start, end)

    def classify_wrapped(self, content: str) -> tuple[str, str]:
        if self.cases and content.lower().strip(",") in CASE_WORDS:
            return CASE_WORDS[content.lower().strip(",")]
        if content in self.functions:
            return ("XFUNC", content)
        if content.isascii() and content.isalpha():
            if len(content) == 1:
                return ("LETTER", content)
            if content.lower() in FUNCTION_SPELLINGS:
                return ("FUNC", content)
            return ("WORDNAME", content)
        if content.isascii() and content.isdigit():
            check_number(content, self.pos)
            return ("NUMBER", content)
        return ("SUBTEXT", content)


_SINGLE = {
    "+": ("PLUS", "+"),
    "-": ("MINUS", "-"),
    "/": ("DIV", "/"),
    "=": ("_EQ", "="),
    "_": ("_SUB", "_"),
    "(": ("_LPAR", "("),
    ")": ("_RPAR", ")"),
    "[": ("_LBRACK", "["),
    "]": ("_RBRACK", "]"),
    "{": ("_LBRACE", "{"),
    "}": ("_RBRACE", "}"),
    ",": ("_COMMA", ","),
}
_LONGEST_WORD = max(len(w) for w in [*FUNCTION_SPELLINGS, *GREEK_LOWER, *GREEK_VARIANTS])


def tokenize(text: str, functions: frozenset[str] = frozenset()) -> list[Token]:
    """The tokens of ``text``; a :class:`ParseError` names an unknown command or character."""
    return Lexer(text, functions).tokenize()
