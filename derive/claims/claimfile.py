"""A claims file (YAML) for a quick check: claims with ids, about declared symbols or a network.

``derive check FILE --network NET.py``. The file is a student's, so it is data: read by
:func:`derive.safeio.read_yaml` (bounded, no aliases, no deep nesting), its claim texts strings
until the grammar of :mod:`derive.claims.parse` reads them. It may not choose what derive runs
or how it judges: a ``network:`` key only says which of the networks given on the command line
the claims are about (it is never run on its own), and ``set``, ``values`` and ``tolerance`` are
refused (those come from the command line, or from an instructor's assignment). A problem with
the file as a whole is a :class:`DeriveError` naming the file and the line; a problem with one
claim entry is kept with that claim, which is then reported as invalid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from derive.errors import DeriveError
from derive.safeio import read_yaml, shown

MAX_FILE_BYTES = 256_000
MAX_CLAIMS = 200
MAX_SIZE = 100  # of a declared symbol
DEFAULT_TOLERANCE = 0.05
#: what a student's own function name may mean (functions: {sgn: step})
MEANINGS = (
    "step", "sign", "relu", "sigmoid", "softmax", "softplus", "tanh", "exp", "log", "identity",
    "abs", "square", "sqrt",
)  # fmt: skip
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
#: keys of a claims file that would let the file choose how it is judged
REFUSED = {
    "set": "settings come from the command line (--set) or the assignment",
    "values": "the numbers come from the network, the command line (--values) or the assignment",
    "tolerance": "the tolerance comes from the command line (--tolerance) or the assignment",
}


@dataclass(frozen=True)
class Symbol:
    """A free symbol of identity claims: a scalar, a vector (rows) or a matrix (rows, cols);
    sizes are numbers or names of other sizes (n, m)."""

    name: str
    rows: int | str = 1
    cols: int | str = 1
    onehot: bool = False

    @property
    def kind(self) -> str:
        return (
            "scalar"
            if (self.rows, self.cols) == (1, 1)
            else "matrix"
            if self.cols != 1
            else "vector"
        )


@dataclass(frozen=True)
class ClaimEntry:
    """One claim to check: ``text``, the student's. With ``ask`` (an assignment's question, the
    instructor's LaTeX), ``text`` is the student's answer to it: the claim is ask = answer."""

    id: str
    text: str
    tolerance: float = DEFAULT_TOLERANCE  # relative, for a number
    problem: str = ""  # set when the entry itself is malformed: the claim is then invalid
    ask: str | None = None
    kind: str = "claim"  # "claim"; for an answer: "formula" or "number"
    number: Fraction | None = None  # a number answer given as a YAML number
    abs_tolerance: float = 0.0
    value: float | None = None  # a number question whose right number is given (a variant's)
    numbers: tuple[int, ...] = ()  # a homework chain: its sides' numbers as written (some left
    # out, unreadable); () : every side, 1, 2, 3, ...
    where: tuple[str, str, str] | None = None  # the condition the prose states it under
    numbered: bool = False  # a chain answering a number question: a calculation


@dataclass(frozen=True)
class ClaimsFile:
    path: Path
    student: str
    network: str | None  # as written: which of the trusted networks the claims are about
    symbols: dict[str, Symbol]
    functions: dict[str, str]
    aliases: dict[str, str]
    claims: tuple[ClaimEntry, ...] = field(default=())
    definitions: dict[str, str] = field(default_factory=dict)  # name -> LaTeX
    notation: str = "residual"


KEYS = ("student", "network", "notation", "symbols", "functions", "aliases", "definitions",
        "claims")  # fmt: skip
NOTATIONS = ("residual", "jacobian")


def read_claims(path: Path, follow_symlinks: bool = True) -> ClaimsFile:
    """The claims file at ``path``, checked; a DeriveError names what is wrong with it."""
    path = Path(path)
    data = read_yaml(path, MAX_FILE_BYTES, follow_symlinks=follow_symlinks, what="claims file")
    where = shown(path)
    if not isinstance(data, dict):
        raise DeriveError(f"{where}: expected a mapping with a 'claims' list at the top")
    for key in data:
        at = f"{where}:{data.line_of(key)}" if hasattr(data, "line_of") else where
        if key in REFUSED:
            raise DeriveError(f"{at}: {key}: not in a claims file: {REFUSED[key]}")
        if key not in KEYS:
            raise DeriveError(f"{at}: unknown key {shown(key, 40)!r} (known: {', '.join(KEYS)})")
    claims = data.get("claims")
    if not isinstance(claims, list) or not claims:
        raise DeriveError(f"{where}: no 'claims' list (each item: id and claim)")
    if len(claims) > MAX_CLAIMS:
        raise DeriveError(f"{where}: {len(claims)} claims; at most {MAX_CLAIMS} per file")
    network = data.get("network")
    if network is not None and not isinstance(network, str):
        raise DeriveError(f"{where}: network: expected the name of a network file")
    return ClaimsFile(
        path=path,
        student=student_of(data.get("student", path.stem), f"{where}: student"),
        network=network,
        symbols=symbols_of(data.get("symbols"), f"{where}: symbols"),
        functions=functions_of(data.get("functions"), f"{where}: functions"),
        aliases=aliases_of(data.get("aliases"), f"{where}: aliases"),
        claims=tuple(_claim(item, k) for k, item in enumerate(claims, 1)),
        definitions=definitions_of(data.get("definitions"), f"{where}: definitions"),
        notation=notation_of(data.get("notation", "residual"), f"{where}: notation"),
    )


def student_of(value, where: str) -> str:
    """A student's id or name, as text: at most 100 characters, on one line."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise DeriveError(f"{where}: expected text")
    text = " ".join(str(value).split())
    if not text:
        raise DeriveError(f"{where}: empty")
    if len(text) > 100:
        raise DeriveError(f"{where}: longer than 100 characters")
    return text


def _mapping(value, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DeriveError(f"{where}: expected a mapping (name: value)")
    for key in value:
        if not isinstance(key, str) or not NAME.fullmatch(key):
            raise DeriveError(f"{where}: {shown(repr(key), 40)} is not a name (letters, digits, _)")
    return value


def _size(value, where: str) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DeriveError(
            f"{where}: a size is a positive integer or a name, got {shown(repr(value), 40)}"
        )
    if isinstance(value, int) and not 1 <= value <= MAX_SIZE:
        raise DeriveError(f"{where}: size {value} is out of range (1 to {MAX_SIZE})")
    if isinstance(value, str) and not NAME.fullmatch(value):
        raise DeriveError(f"{where}: size {shown(repr(value), 40)} is not a name")
    return value


def symbols_of(value, where: str) -> dict[str, Symbol]:
    out = {}
    for name, spec in _mapping(value, where).items():
        at = f"{where}: {name}"
        if spec == "scalar":
            out[name] = Symbol(name)
        elif isinstance(spec, dict) and ("vector" in spec) != ("matrix" in spec):
            extra = [k for k in spec if k not in ("vector", "matrix", "onehot")]
            if extra:
                raise DeriveError(f"{at}: unknown key {shown(repr(extra[0]), 40)}")
            onehot = spec.get("onehot", False)
            if not isinstance(onehot, bool):
                raise DeriveError(f"{at}: onehot must be true or false")
            if "vector" in spec:
                out[name] = Symbol(name, _size(spec["vector"], at), 1, onehot)
            else:
                shape = spec["matrix"]
                if not isinstance(shape, list) or len(shape) != 2:
                    raise DeriveError(f"{at}: matrix: expected [rows, cols]")
                out[name] = Symbol(name, _size(shape[0], at), _size(shape[1], at), onehot)
        else:
            raise DeriveError(
                f"{at}: expected scalar, {{vector: n}} or {{matrix: [rows, cols]}}, "
                f"got {shown(repr(spec), 40)}"
            )
    return out


#: the other meanings a built-in function name may be given: seed 000 writes sgn(x) for ReLU's
#: derivative, the step 1[x > 0]
REMEANINGS = {"sgn": ("step", "sign"), "sign": ("step", "sign")}


def functions_of(value, where: str) -> dict[str, str]:
    """Function names and what they mean; a built-in name (sigma, tanh, ...) keeps its own
    meaning (but sgn may be the step, as seed 000 writes it)."""
    from derive.claims.lexer import FUNCTION_COMMANDS, FUNCTION_SPELLINGS

    out = {}
    for name, meaning in _mapping(value, where).items():
        builtin = name.lower() in FUNCTION_SPELLINGS or name in FUNCTION_COMMANDS
        if builtin and meaning not in REMEANINGS.get(name.lower(), ()):
            raise DeriveError(f"{where}: {name} is a built-in function and keeps its meaning")
        if meaning not in MEANINGS:
            raise DeriveError(
                f"{where}: {name}: {shown(meaning, 40)!r} is not one of {', '.join(MEANINGS)}"
            )
        out[name] = meaning
    return out


def aliases_of(value, where: str) -> dict[str, str]:
    out = {}
    for name, target in _mapping(value, where).items():
        if not isinstance(target, str) or not re.fullmatch(
            r"[A-Za-z]\w*(\[\s*\d+\s*(,\s*\d+\s*)?\])?", target
        ):
            raise DeriveError(
                f"{where}: {name}: expected a quantity or one entry, "
                f"like W1 or 'W1[1,2]' (1-based), got {shown(repr(target), 40)}"
            )
        out[name] = target.replace(" ", "")
    return out


def notation_of(value, where: str) -> str:
    """residual (the homework's column residuals) or jacobian (the lectures' row gradients)."""
    if value not in NOTATIONS:
        raise DeriveError(f"{where}: {shown(repr(value), 40)} is not one of {', '.join(NOTATIONS)}")
    return value


def definitions_of(value, where: str) -> dict[str, str]:
    """Abbreviations, name -> an expression in the claims language (read by the same safe
    grammar when used): ``V_b: '\\operatorname{diag}(\\mathbf{v}_b + \\epsilon \\mathbf{1})'``."""
    out = {}
    for name, text in _mapping(value, where).items():
        if not isinstance(text, str) or not text.strip() or len(text) > 2000:
            raise DeriveError(f"{where}: {name}: expected an expression (at most 2,000 characters)")
        out[name] = text
    if len(out) > 50:
        raise DeriveError(f"{where}: at most 50 definitions")
    return out


def _claim(item, k: int) -> ClaimEntry:
    """One entry; a malformed one is kept with its problem, to be reported as invalid."""
    if not isinstance(item, dict):
        return ClaimEntry(f"#{k}", shown(item, 200), problem="a claim is a mapping: id, claim")
    ident = " ".join(str(item.get("id", f"#{k}")).split())[:100] or f"#{k}"
    text = item.get("claim")
    if not isinstance(text, str) or not text.strip():
        return ClaimEntry(ident, "", problem="no claim text (claim: 'lhs = rhs')")
    for key in map(str, item):
        if key in REFUSED:
            return ClaimEntry(ident, text, problem=f"{key}: not in a claims file: {REFUSED[key]}")
        if key not in ("id", "claim"):
            return ClaimEntry(ident, text, problem=f"unknown key {shown(key, 40)!r} in this claim")
    return ClaimEntry(ident, text)
