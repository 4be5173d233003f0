"""A student's claims file (YAML): reading it safely and checking its shape.

Everything here is data: ``yaml.safe_load`` builds plain dicts, lists and scalars; claim texts
stay strings until the grammar of ``derive.claims.parse`` reads them. The file is bounded in size,
and YAML aliases are refused (a few lines of nested aliases expand to billions of nodes). A
problem with the file as a whole is a :class:`DeriveError` naming the file and the key; a problem
with one claim entry is kept with that claim, which is then reported as invalid, so the rest of
the file is still checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from derive.errors import DeriveError

MAX_FILE_BYTES = 256_000
MAX_CLAIMS = 200
DEFAULT_TOLERANCE = 0.05
#: what a student's own function name may mean (functions: {sgn: step})
MEANINGS = (
    "step", "sign", "relu", "sigmoid", "softmax", "softplus", "tanh", "exp", "log", "identity",
    "abs", "square", "sqrt",
)  # fmt: skip
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


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
    id: str
    text: str
    tolerance: float = DEFAULT_TOLERANCE
    problem: str = ""  # set when the entry itself is malformed: the claim is then invalid


@dataclass(frozen=True)
class ClaimsFile:
    path: Path
    student: str
    network: Path | None
    settings: dict[str, object]
    symbols: dict[str, Symbol]
    functions: dict[str, str]
    aliases: dict[str, str]
    values: dict[str, object]
    claims: tuple[ClaimEntry, ...] = field(default=())


def read_claims(path: Path) -> ClaimsFile:
    """The claims file at ``path``, checked; a DeriveError names what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise DeriveError(f"{path}: no such claims file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise DeriveError(f"{path}: larger than {MAX_FILE_BYTES // 1000} kB; not a claims file")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise DeriveError(f"{path}: cannot read it as UTF-8 text ({err})") from None
    data = _load_yaml(text, path)
    if not isinstance(data, dict):
        raise DeriveError(f"{path}: expected a mapping with a 'claims' list at the top")
    unknown = sorted(set(map(str, data)) - set(KEYS))
    if unknown:
        raise DeriveError(f"{path}: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    where = str(path)
    claims = data.get("claims")
    if not isinstance(claims, list) or not claims:
        raise DeriveError(f"{path}: no 'claims' list (each item: id and claim)")
    if len(claims) > MAX_CLAIMS:
        raise DeriveError(f"{path}: {len(claims)} claims; at most {MAX_CLAIMS} per file")
    return ClaimsFile(
        path=path,
        student=_text(data.get("student", path.stem), f"{where}: student"),
        network=_network(data.get("network"), path),
        settings=_settings(data.get("set"), where),
        symbols=_symbols(data.get("symbols"), where),
        functions=_functions(data.get("functions"), where),
        aliases=_aliases(data.get("aliases"), where),
        values=_mapping(data.get("values"), f"{where}: values"),
        claims=tuple(_claim(item, k) for k, item in enumerate(claims, 1)),
    )


KEYS = ("student", "network", "set", "symbols", "functions", "aliases", "values", "claims")


def _load_yaml(text: str, path: Path):
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise DeriveError(f"{path}: YAML aliases (*name) are not allowed in a claims file")
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "not valid YAML"
        raise DeriveError(f"{path}: not valid YAML{line}: {problem}") from None


def _text(value, where: str) -> str:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise DeriveError(f"{where}: expected text")
    return str(value)


def _mapping(value, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise DeriveError(f"{where}: expected a mapping (name: value)")
    for key in value:
        if not isinstance(key, str) or not NAME.fullmatch(key):
            raise DeriveError(f"{where}: {key!r} is not a name (letters, digits, _)")
    return value


def _network(value, path: Path) -> Path | None:
    """Relative paths: first the claims file's folder, then the working directory."""
    if value is None:
        return None
    name = _text(value, f"{path}: network")
    given = Path(name)
    for candidate in [given] if given.is_absolute() else [path.parent / given, given]:
        if candidate.is_file():
            return candidate
    raise DeriveError(f"{path}: network {name}: no such file (next to the claims file or here)")


def _settings(value, where: str) -> dict[str, object]:
    settings = _mapping(value, f"{where}: set")
    for key, v in settings.items():
        if not isinstance(v, str | int | float | bool):
            raise DeriveError(f"{where}: set: {key} must be a number, text or true/false")
    return dict(settings)


def _size(value, where: str) -> int | str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise DeriveError(f"{where}: a size is a positive integer or a name, got {value!r}")
    if isinstance(value, int) and not 1 <= value <= 1000:
        raise DeriveError(f"{where}: size {value} is out of range (1 to 1000)")
    if isinstance(value, str) and not NAME.fullmatch(value):
        raise DeriveError(f"{where}: size {value!r} is not a name")
    return value


def _symbols(value, where: str) -> dict[str, Symbol]:
    out = {}
    for name, spec in _mapping(value, f"{where}: symbols").items():
        at = f"{where}: symbols: {name}"
        if spec == "scalar":
            out[name] = Symbol(name)
        elif isinstance(spec, dict) and ("vector" in spec) != ("matrix" in spec):
            extra = sorted(set(spec) - {"vector", "matrix", "onehot"})
            if extra:
                raise DeriveError(f"{at}: unknown key {extra[0]!r}")
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
                f"{at}: expected scalar, {{vector: n}} or {{matrix: [rows, cols]}}, got {spec!r}"
            )
    return out


def _functions(value, where: str) -> dict[str, str]:
    out = {}
    for name, meaning in _mapping(value, f"{where}: functions").items():
        if meaning not in MEANINGS:
            raise DeriveError(
                f"{where}: functions: {name}: {meaning!r} is not one of {', '.join(MEANINGS)}"
            )
        out[name] = meaning
    return out


def _aliases(value, where: str) -> dict[str, str]:
    out = {}
    for name, target in _mapping(value, f"{where}: aliases").items():
        if not isinstance(target, str) or not re.fullmatch(
            r"[A-Za-z]\w*(\[\s*\d+\s*(,\s*\d+\s*)?\])?", target
        ):
            raise DeriveError(
                f"{where}: aliases: {name}: expected a quantity or one entry, "
                f"like W1 or 'W1[1,2]' (1-based), got {target!r}"
            )
        out[name] = target.replace(" ", "")
    return out


def _claim(item, k: int) -> ClaimEntry:
    """One entry; a malformed one is kept with its problem, to be reported as invalid."""
    if not isinstance(item, dict):
        return ClaimEntry(f"#{k}", str(item)[:200], problem="a claim is a mapping: id, claim")
    ident = str(item.get("id", f"#{k}"))[:100]
    text = item.get("claim")
    if not isinstance(text, str) or not text.strip():
        return ClaimEntry(ident, "", problem="no claim text (claim: 'lhs = rhs')")
    unknown = sorted(set(map(str, item)) - {"id", "claim", "tolerance"})
    if unknown:
        return ClaimEntry(ident, text, problem=f"unknown key {unknown[0]!r} in this claim")
    tolerance = item.get("tolerance", DEFAULT_TOLERANCE)
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, int | float)
        or not (0 < tolerance < 1)
    ):
        return ClaimEntry(ident, text, problem=f"tolerance {tolerance!r} is not in (0, 1)")
    return ClaimEntry(ident, text, float(tolerance))
