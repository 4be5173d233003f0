"""The parsed form of a student's claim: a small tree of frozen dataclasses.

The parser (:mod:`derive.claims.parse`) builds only these nodes; nothing in a claim is ever
evaluated. The tree says what was *written*, not what it means: whether ``x^i`` is a sample index
or a power, which network quantity ``\\theta_{2B}`` is, what ``e`` or ``sgn`` stands for, is for
the semantics to decide.

Every node carries ``start``, the 0-based character offset in the claim text of its first
character (for messages). ``start`` is keyword-only and takes no part in ``==`` or ``hash``: two
trees are equal when they have the same structure, wherever they were written. Brackets are not
nodes: ``(a + b)`` is the ``BinOp`` itself, whose ``start`` is that of ``a``.

Conventions:

- names are normalised (:class:`Name`): decorations that do not change meaning are dropped
  (``\\mathbf``, ``\\bm``, ``\\boldsymbol``, ``\\vec``, ``\\mathrm``, ...), accents that do are
  kept (``\\hat{y}`` is not ``y``); Greek letters are spelt out (``\\theta`` -> ``"theta"``,
  ``\\varepsilon`` -> ``"epsilon"``); subscripts become plain text (``_{2\\mathrm{B}}`` -> ``"2B"``,
  ``_{\\oplus}`` -> ``"oplus"``, ``_{\\mathrm{BN}^*}`` -> ``"BN*"``, ``_{B,k}`` -> ``"B,k"``);
- every product is a :class:`BinOp`: ``"*"`` for juxtaposition, ``\\cdot``, ``\\times`` and
  ``*``, ``"/"`` for a slash, ``"hadamard"`` for ``\\circ`` and ``\\odot``; all of them bind
  equally and associate to the left, as people read ``a b \\circ c d`` = ``((a b) \\circ c) d``;
- numbers stay text (:class:`Number`); the semantics makes them exact rationals.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from fractions import Fraction


@dataclass(frozen=True)
class Node:
    """Base class of every node of a parsed claim."""

    start: int = field(default=-1, compare=False, repr=False, kw_only=True)

    @property
    def children(self) -> tuple[Node, ...]:
        """The sub-nodes, in field order (for walking the tree)."""
        out: list[Node] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Node):
                out.append(value)
            elif isinstance(value, tuple):
                out.extend(v for v in value if isinstance(v, Node))
        return tuple(out)


def map_children(node: Node, fn) -> Node:
    """``node`` with ``fn`` applied to each of its sub-nodes (fields and tuples of them), for
    rewriting a tree bottom-up; ``node`` itself when no sub-node changes."""
    changes = {}
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Node):
            new = fn(value)
            if new != value:
                changes[f.name] = new
        elif isinstance(value, tuple) and any(isinstance(v, Node) for v in value):
            new = tuple(fn(v) if isinstance(v, Node) else v for v in value)
            if new != value:
                changes[f.name] = new
    return replace(node, **changes) if changes else node


@dataclass(frozen=True)
class Number(Node):
    """A numeric literal, kept exactly as written: ``"2"``, ``"0.0043"``, ``"1e-3"``, ``".5"``.

    Always non-negative (a minus sign is a :class:`Neg`). Its decimal exponent, if any, is at most
    1000 in absolute value and the literal at most 50 characters long, so :meth:`fraction` is
    cheap."""

    text: str

    def fraction(self) -> Fraction:
        """The exact value (``Fraction("0.0043")`` is 43/10000)."""
        return Fraction(self.text)


@dataclass(frozen=True)
class Name(Node):
    """A symbol: ``x``, ``\\mathbf{x}_{1A}``, ``\\hat{\\mathbf{y}}_B``, ``\\theta_{2B}``,
    ``W^{(1)}``.

    - ``base``: the letter or word, Greek letters spelt out (``"x"``, ``"theta"``, ``"Sigma"``),
      a multi-letter ``\\mathrm{BN}`` as ``"BN"``;
    - ``sub``: the subscript as normalised text (``"1A"``, ``"i"``, ``"B,k"``, ``"oplus"``) or
      None;
    - ``accents``: the meaning-changing accents, outermost first, each ``"hat"``, ``"tilde"`` or
      ``"bar"`` (``\\widehat``, ``\\widetilde``, ``\\overline`` are the same accents);
    - ``label``: the text of a parenthesised braced superscript, ``W^{(1)}`` -> ``"1"``,
      ``x^{(i)}`` -> ``"i"``: a layer or sample label, part of the name, not a power (the
      semantics decides which). Only ``^{(digits)}`` and ``^{(letter)}`` are labels, and not on
      ``e`` (``e^{(x)}`` is a power).
    """

    base: str
    sub: str | None = None
    accents: tuple[str, ...] = ()
    label: str | None = None


@dataclass(frozen=True)
class Sup(Node):
    """A superscript that is not a transpose: ``x^2``, ``x^i``, ``e^{-x}``, ``x**2``,
    ``\\tanh^2(x)`` (= ``Sup(Call(tanh, x), 2)``), ``\\|v\\|_2^2``. Whether ``^i`` is a sample
    index or a power is for the semantics. ``a^b^c`` (plain text) is ``a^(b^c)``."""

    base: Node
    exponent: Node
    hadamard: bool = False  # x^{\circ 2}: the power entry by entry, whatever the shape


@dataclass(frozen=True)
class Transpose(Node):
    """``^T``, ``^{T}``, ``^\\top``, ``^{\\mathsf T}``, ``^\\intercal``, ``ᵀ``. A bare ``^T`` is
    always a transpose, never a power T."""

    operand: Node


@dataclass(frozen=True)
class Neg(Node):
    """A unary minus: ``-x``, ``-\\frac{1}{m}\\sum_i ...`` (a unary plus is dropped)."""

    operand: Node


#: The binary operators of :class:`BinOp`.
BINARY_OPS = ("+", "-", "*", "/", "hadamard")


@dataclass(frozen=True)
class BinOp(Node):
    """``left op right`` with ``op`` one of :data:`BINARY_OPS`: ``"*"`` is juxtaposition,
    ``\\cdot``, ``\\times`` or ``*``; ``"/"`` a slash; ``"hadamard"`` ``\\circ`` or ``\\odot``.
    Sums and products are left-nested: ``a - b + c`` is ``(a - b) + c``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Frac(Node):
    """``\\frac{num}{den}`` (also ``\\dfrac``, ``\\tfrac``, ``\\frac12``)."""

    num: Node
    den: Node


#: The functions every claim knows, by their canonical names. The semantics gives them meaning.
BUILTIN_FUNCTIONS = frozenset(
    {
        "sigma",  # \sigma(x), sigma(x), sigmoid(x)
        "tanh",
        "exp",
        "log",  # \log and \ln
        "softplus",
        "max",
        "min",
        "sign",  # \operatorname{sign}, sgn, \text{sgn}
        "relu",  # ReLU, \text{ReLU}, relu
        "diag",
        "sqrt",  # \sqrt{x}, sqrt(x)
        "softmax",
        "sin",
        "cos",
        "tr",  # \operatorname{tr}, trace
        "det",
        "logsumexp",
    }
)


@dataclass(frozen=True)
class Call(Node):
    """A function applied to arguments: ``\\sigma(x)``, ``\\tanh x``, ``\\max(0, x)``,
    ``\\sqrt{x}``, ``S(\\hat{y})`` for a function name the caller declared.

    ``fn`` is canonical (one of :data:`BUILTIN_FUNCTIONS`, or a caller-declared name exactly as
    declared); ``spelling`` is the name as written when it differs from ``fn`` (``"sgn"``,
    ``"ln"``, ``"ReLU"``, ``"sigmoid"``, ``"Softmax"``), else None, so that a student's own
    meaning of ``sgn`` can be honoured. ``\\tanh^2(x)`` is ``Sup(Call("tanh", (x,)), 2)``."""

    fn: str
    args: tuple[Node, ...]
    spelling: str | None = None


@dataclass(frozen=True)
class Abs(Node):
    """``|x|``, ``\\left| x \\right|``, ``\\lvert x \\rvert``, ``abs(x)``."""

    operand: Node


@dataclass(frozen=True)
class Norm(Node):
    """``\\|x\\|``, ``\\|x\\|_2``, ``\\lVert x \\rVert_1``, ``||x||``. ``p`` is the subscript text
    (``"1"``, ``"2"``, ``"F"``, ``"infty"``) or None when there is none. ``\\|x\\|_2^2`` is
    ``Sup(Norm(x, "2"), 2)``."""

    operand: Node
    p: str | None = None


@dataclass(frozen=True)
class Derivative(Node):
    """The derivative of ``f`` with respect to ``var``; ``partial`` when written with
    ``\\partial``.

    Written as ``\\frac{d f}{d x}``, ``\\frac{\\partial L}{\\partial W}``, ``\\frac{d}{dx} f``
    (the operator applies to the rest of the product: ``\\frac{d}{dx} a b`` is d(ab)/dx),
    ``\\frac{\\partial}{\\partial x}(...)``, and in plain text ``d/dx f``, ``dL/dW``.
    ``\\mathrm{d}`` is the d of a derivative too. ``var`` is a :class:`Name` or a :class:`Sup` of
    one (``\\partial \\mathbf{z}_{2B}^{i}``). Higher derivatives are not supported."""

    f: Node
    var: Node
    partial: bool


@dataclass(frozen=True)
class Sum(Node):
    """``\\sum_{i=1}^{m} body``, ``\\sum_i body``, ``\\sum body``: ``index`` the summation letter
    (normalised like a name base) or None, ``lower``/``upper`` the limits or None. The body is
    the rest of the product: ``\\sum_i a_i b_i + c`` is ``(\\sum_i a_i b_i) + c``.
    ``\\sum_{j \\neq i}`` and ``\\sum_{j=1, j \\neq i}^{m}`` skip ``exclude``."""

    index: str | None
    lower: Node | None
    upper: Node | None
    body: Node
    exclude: str | None = None  # \sum_{j \neq i}: the index the sum skips


@dataclass(frozen=True)
class Ones(Node):
    """A vector of ones: ``\\mathbf{1}``, ``\\mathbf 1``, ``\\boldsymbol{1}``, ``\\mathbb{1}``;
    ``sub`` the subscript text (``\\mathbf{1}_m`` -> ``"m"``) or None."""

    sub: str | None = None


#: The comparison operators of :class:`Compare`.
COMPARE_OPS = (">", "<", ">=", "<=", "!=", "=")


@dataclass(frozen=True)
class Compare(Node):
    """``left op right`` with ``op`` one of :data:`COMPARE_OPS` (``\\geq``/``\\ge``/``>=`` are
    ``">="``, ``\\neq``/``\\ne``/``!=`` are ``"!="``). Only ever the condition of an
    :class:`Indicator`."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Indicator(Node):
    """1 where ``condition`` holds, else 0: ``\\mathbb{1}_{s > 0}``, ``\\mathbb{1}[s > 0]``,
    ``\\mathbf{1}_{s>0}``, ``\\mathbb{1}\\{s > 0\\}``, ``1[s > 0]``."""

    condition: Compare


@dataclass(frozen=True)
class Equation(Node):
    """A claim ``lhs = rhs`` (``\\approx`` counts as ``=``).

    A chain ``a = b = c`` is kept whole in ``sides`` (here three): every ``=`` of a chain is a
    claimed equality, so the semantics should check each adjacent pair (a derivation step by
    step) or at least the first against the last; ``lhs`` and ``rhs`` are the first and last
    sides."""

    sides: tuple[Node, ...]

    @property
    def lhs(self) -> Node:
        return self.sides[0]

    @property
    def rhs(self) -> Node:
        return self.sides[-1]


def index_tuple(text: str) -> tuple | None:
    """A subscript read as indices: ``"j"`` -> ("j",), ``"kj"`` or ``"k,j"`` -> ("k", "j"),
    ``"1"`` -> (1,), ``"12"`` -> (1, 2), ``"1,j"`` -> (1, "j"); None when it is not indices (a
    label such as ``2B``). Index letters: i j k l n."""
    parts = text.split(",") if "," in text else list(text)
    if not 1 <= len(parts) <= 2:
        return None
    out: list = []
    for p in parts:
        p = p.strip()
        if p in ("i", "j", "k", "l", "n"):
            out.append(p)
        elif p.isascii() and p.isdigit() and len(p) <= 3 and int(p) >= 1:
            out.append(int(p))
        else:
            return None
    return tuple(out)


@dataclass(frozen=True)
class Component(Node):
    """An entry of what is not a name: ``S(\\mathbf{x})_i``, ``(\\nabla_y L)_1``,
    ``(\\mathbf{p} - \\mathbf{y})_k``; ``indices`` as :func:`index_tuple` reads them."""

    base: Node
    indices: tuple


@dataclass(frozen=True)
class Cases(Node):
    """``\\begin{cases} v_1 & \\text{if } c_1 \\\\ v_2 & \\text{otherwise} \\end{cases}``: the
    first row whose condition holds, entry by entry; a condition None is "otherwise"."""

    values: tuple[Node, ...]
    conditions: tuple[Node | None, ...]
