"""Networks: named inputs, parameters and nodes with shapes, and loading them from a file.

A network file is plain Python. ``derive`` runs it and takes the module-level ``Network`` object:
the variable named ``network`` if there is one, otherwise the only ``Network`` in the module.
Only Python source is run: a regular file named ``*.py`` holding text (``runpy`` would also run a
zip archive, whatever its name), never a file derive wrote (it writes no ``.py`` files).
Settings (``net.setting("k", 3)``) read ``--set k=5`` from the command line, or
``derive.load(path, k=5)`` from Python.
"""

from __future__ import annotations

import contextlib
import contextvars
import keyword
import re
import sys
import traceback
from pathlib import Path

import sympy as sp

from derive.errors import DeriveError
from derive.expr import ONE, Expr, Leaf, Quantity, leaves, shape_str, sym

#: names the generated NumPy code uses itself (its helpers and dims start with _)
RESERVED_NAMES = frozenset({"numpy", "m"})
_overrides: contextvars.ContextVar[dict | None] = contextvars.ContextVar("settings", default=None)

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega",
}  # fmt: skip


def default_latex(name: str, shape) -> str:
    """theta_1A -> \\theta_{1A}; vectors bold (x_DP -> \\mathbf{x}_{DP}), as the course writes."""
    base, _, sub = name.partition("_")
    if base in GREEK:
        body = "\\" + base
        bold = False
    else:
        body = base
        bold = shape[1] == 1 and shape[0] != 1
    if bold:
        body = rf"\boldsymbol{{{body}}}" if body.startswith("\\") else rf"\mathbf{{{body}}}"
    return body + (f"_{{{sub}}}" if sub else "")


#: How training may start a parameter (``net.param(..., init=...)``).
INITS = {
    "he": "N(0, 2/fan_in), for layers followed by ReLU (the default for matrices)",
    "xavier": "N(0, 1/fan_in), for tanh and sigmoid layers",
    "zeros": "all zero (the default for vectors: biases)",
    "ones": "all one (the scale gamma of batch normalisation)",
}


class Network:
    """A network: declare dims, inputs, parameters and nodes in order; mark the loss."""

    def __init__(self, name: str, title: str = "", source: str = ""):
        if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            raise DeriveError(f"network name {name!r}: use letters, digits, '-' and '_'")
        self.name = name
        self.title = title or name
        self.source = source
        self.dims: dict[sp.Symbol, int] = {}  # small sizes, for the proofs
        self.train_sizes: dict[sp.Symbol, int] = {}  # real sizes, for training (where different)
        self.constants: dict[sp.Symbol, float] = {}
        self.settings: dict[str, object] = {}
        self.setting_defaults: dict[str, object] = {}  # name -> the file's default
        self.quantities: dict[str, Quantity] = {}
        self.loss_q: Quantity | None = None
        self.loss_words = "loss"  # what training calls the loss: "negative ELBO"
        self.notes: dict[str, str] = {}
        self.examples: dict = {}  # name -> array, in the layout of `derive grad` (example_values)
        self.running_averages: dict[str, float] = {}  # batch statistics -> momentum rho
        self.inits: dict[str, str] = {}  # parameter -> how training starts it (see INITS)
        self.parts: list[str] = []  # the named parts (Task A, Task B), in declaration order
        self._part: str | None = None

    # --- declarations --------------------------------------------------------------------
    def setting(self, name: str, default):
        """A value the user may override with --set NAME=VALUE."""
        given = (_overrides.get() or {}).get(name)
        value = default if given is None else _convert(name, given, default)
        self.settings[name] = value
        self.setting_defaults[name] = default
        return value

    @contextlib.contextmanager
    def part(self, name: str):
        """The nodes declared inside ``with net.part("Task A"):`` belong to that part of the
        network: the report groups its forward pass, residuals and gradients by part."""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ,.'()-]*", name):
            raise DeriveError(f"part {name!r}: use letters, digits, spaces and , . ' ( ) -")
        if self._part is not None:
            raise DeriveError(f"part {name!r} is declared inside part {self._part!r}")
        if name not in self.parts:
            self.parts.append(name)
        self._part = name
        try:
            yield
        finally:
            self._part = None

    def dim(self, name: str, default: int, size: int | None = None) -> sp.Symbol:
        """A symbolic dimension with a small concrete default (used by the proofs) and, if the
        network is trained at another size that the data does not fix (hidden units), that
        ``size``."""
        sym = sp.Symbol(name, positive=True, integer=True)
        self.dims[sym] = int(default)
        if size is not None:
            if int(size) < 1:
                raise DeriveError(f"dim {name}: size must be a positive integer, got {size}")
            self.train_sizes[sym] = int(size)
        return sym

    def constant(self, name: str, value: float) -> sp.Symbol:
        """A fixed positive number written by its symbol (epsilon of batch normalisation): the
        proofs keep it symbolic, the compiled code uses its value."""
        if not value > 0:
            raise DeriveError(f"constant {name} must be positive, got {value}")
        sym = sp.Symbol(name, positive=True)
        self.constants[sym] = float(value)
        return sym

    def input(self, name: str, size=1, latex: str | None = None, *, onehot: bool = False,
              mask: float | None = None, noise: bool = False, target: bool = False,
              sign: bool = False, per_sample: bool = True,
              description: str = "") -> Leaf:  # fmt: skip
        """A per-sample input (a column vector, one per sample). ``onehot``: a one-hot (or
        probability) vector, so its entries sum to one (a label: a target); ``sign``: a label
        whose entries are -1 or +1 (the perceptron's and the binary hinge loss's); ``mask``: a
        dropout mask whose entries are 0 or 1/keep, ``mask`` being the keep probability; ``noise``:
        standard normal noise (a VAE's epsilon); ``target``: what the loss compares a prediction
        with (a regression target), so training takes it from the data's targets;
        ``per_sample=False``: one value for the whole batch, such as the weight lambda of a
        regulariser. Training draws masks and noise afresh at every step."""
        if sum((onehot, sign, mask is not None, noise)) > 1:
            raise DeriveError(f"input {name}: onehot, sign, mask and noise exclude one another")
        if mask is not None and not 0 < mask <= 1:
            raise DeriveError(f"input {name}: the keep probability mask={mask} is not in (0, 1]")
        content = "real"
        if onehot or sign or mask is not None or noise:
            content = (
                "onehot" if onehot else "sign" if sign else "mask" if mask is not None else "noise"
            )
        return self._add(
            name,
            (size, 1),
            "input",
            per_sample,
            latex,
            content=content,
            target=target or onehot or sign,
            keep=mask if mask is not None else 0.5,
            description=description,
        )

    def param(self, name: str, shape, latex: str | None = None, description: str = "",
              init: str | None = None) -> Leaf:  # fmt: skip
        """A parameter: a matrix (rows, cols) or a column vector of the given size. ``init``:
        how training starts it, one of INITS; by default a matrix is drawn from He's
        N(0, 2/fan_in) and a vector (a bias) starts at zero."""
        shape = shape if isinstance(shape, tuple) else (shape, 1)
        if init is not None:
            if init not in INITS:
                raise DeriveError(f"param {name}: init {init!r} is not one of {', '.join(INITS)}")
            self.inits[name] = init
        return self._add(name, shape, "param", False, latex, description=description)

    def node(self, name: str, definition: Expr, latex: str | None = None, *,
             layer: str | None = None, aka: tuple[str, ...] | str = (),
             description: str = "") -> Leaf:  # fmt: skip
        """A named intermediate quantity, defined by an expression of earlier quantities."""
        if not isinstance(definition, Expr):
            raise DeriveError(f"node {name}: its definition must be a matrix expression")
        aka = (aka,) if isinstance(aka, str) else tuple(aka)
        return self._add(
            name,
            definition.shape,
            "node",
            definition.batched,
            latex,
            definition=definition,
            layer=layer,
            aka=aka,
            description=description,
            part=self._part,
        )

    def loss(self, name: str, definition: Expr, latex: str | None = None, *,
             words: str = "loss", **kw) -> Leaf:  # fmt: skip
        """The scalar loss (usually a batch mean); the node everything is differentiated by.
        ``words``: what training prints and the report writes for it ("negative ELBO")."""
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9 '-]*", words):
            raise DeriveError(f"loss {name}: words {words!r}: use letters, digits, spaces, ' and -")
        if definition.shape != (ONE, ONE) or definition.batched:
            raise DeriveError(
                f"loss {name} must be one scalar for the batch (use mean(...)), "
                f"got {shape_str(definition.shape)}{' per sample' if definition.batched else ''}"
            )
        leaf = self.node(name, definition, latex or name, **kw)
        self.loss_q = leaf.q
        self.loss_words = words
        return leaf

    def example_values(self, values: dict) -> None:
        """Numbers that ship with the network: every input and parameter by name, in the layout
        of ``derive grad`` (samples first, weights (out x in), biases 1-D), fitting the declared
        sizes; ``derive grad FILE`` without ``--values`` evaluates at them."""
        import numpy as np

        from derive.compile import external_dims

        sizes = dict(self.dims)
        declared = self.inputs + self.params
        unknown = [k for k in values if k not in {q.name for q in declared}]
        if unknown:
            known = ", ".join(q.name for q in declared)
            raise DeriveError(f"example values: {unknown[0]} is no input or parameter ({known})")
        out, m_from, m_origin = {}, "", None
        for q in declared:
            if q.name not in values:
                raise DeriveError(f"example values: no value for {q.kind} {q.name}")
            try:
                array = np.asarray(values[q.name], dtype=float)
            except (TypeError, ValueError):
                raise DeriveError(f"example values: {q.name} is not an array of numbers") from None
            dims = external_dims(q)
            fits = array.ndim in (len(dims), len(dims) - (dims[-1] == 1))
            if q.batched and fits and dims[0] not in sizes:
                sizes[dims[0]] = array.shape[0]  # m, from the first per-sample input
                m_from, m_origin = f" (m = {array.shape[0]} from {q.name})", q.name
            want = tuple(_size(s, sizes) for s in dims)
            got = array.shape
            if len(got) == len(want) - 1 and want[-1] == 1:
                got = (*got, 1)  # a per-sample scalar given as (m,)
            if got != want:
                declared_as = "(" + ", ".join(str(s) for s in dims) + ")"
                raise DeriveError(
                    f"example value {q.name} has shape {tuple(array.shape)}, but {q.kind} "
                    f"{q.name} is {declared_as} = {want}"
                    + (m_from if q.batched and q.name != m_origin else "")
                )
            out[q.name] = array.reshape(want) if array.shape != want else array
        self.examples = out

    def _add(self, name, shape, kind, batched, latex, **kw) -> Leaf:
        if not name.isidentifier() or keyword.iskeyword(name) or not name.isascii():
            raise DeriveError(f"quantity name {name!r} must be a Python identifier")
        if name.startswith("_") or name in RESERVED_NAMES:
            raise DeriveError(f"quantity name {name!r} is reserved (it names derive's own code)")
        if name in self.quantities:
            raise DeriveError(f"{name} is declared twice")
        shape = tuple(sym(s) for s in shape)
        for s in shape:
            if not (s.is_Integer or (s.free_symbols and s.free_symbols <= set(self.dims))):
                raise DeriveError(f"{name}: dimension {s} is neither a number nor a declared dim")
        definition = kw.get("definition")
        if definition is not None:
            for leaf in leaves(definition):
                if self.quantities.get(leaf.q.name) != leaf.q:
                    raise DeriveError(f"{name} uses {leaf.q.name}, which is not declared before it")
        q = Quantity(name, latex or default_latex(name, shape), shape, kind, batched,
                     line=_caller_line(), **kw)  # fmt: skip
        self.quantities[name] = q
        return Leaf(q)

    # --- reading -------------------------------------------------------------------------
    def of_kind(self, kind: str) -> list[Quantity]:
        return [q for q in self.quantities.values() if q.kind == kind]

    @property
    def inputs(self) -> list[Quantity]:
        return self.of_kind("input")

    @property
    def params(self) -> list[Quantity]:
        return self.of_kind("param")

    @property
    def nodes(self) -> list[Quantity]:
        """Nodes in declaration order, which is a topological order."""
        return self.of_kind("node")

    @property
    def loss_quantity(self) -> Quantity:
        if self.loss_q is None:
            raise DeriveError(f"network {self.name} declares no loss (use net.loss(...))")
        return self.loss_q

    def parameter_count(self) -> sp.Expr:
        """The number of scalar parameters, symbolic in the dims: the sum of rows x cols."""
        return sp.Add(*(r * c for r, c in (q.shape for q in self.params)))

    def consumers(self, q: Quantity) -> list[Quantity]:
        """The nodes whose definitions read q, in declaration order."""
        cached = getattr(self, "_consumers", None)
        if cached is None or cached[0] != len(self.quantities):  # index once per declaration
            index: dict[Quantity, list[Quantity]] = {}
            for n in self.nodes:
                for read in dict.fromkeys(leaf.q for leaf in leaves(n.definition)):
                    index.setdefault(read, []).append(n)
            cached = self._consumers = (len(self.quantities), index)
        return list(cached[1].get(q, []))

    def sizes(self, m: int | None = None, **given: int) -> dict[sp.Symbol, int]:
        from derive.expr import m as m_sym

        out = {s: given.get(s.name, v) for s, v in self.dims.items()}
        if m is not None:
            out[m_sym] = m
        return out

    def derive(self):
        from derive.backprop import derive

        return derive(self)

    def compile(self):
        from derive.compile import compile_network

        return compile_network(self)

    def _repr_markdown_(self) -> str:
        from derive.render.report import network_markdown

        return network_markdown(self)

    def _repr_latex_(self) -> str:
        from derive.render.report import network_latex

        return network_latex(self)


def _convert(name: str, text, default):
    if not isinstance(text, str):
        return text
    if isinstance(default, bool):
        if text.lower() in ("1", "true", "yes", "0", "false", "no"):
            return text.lower() in ("1", "true", "yes")
        raise DeriveError(f"--set {name}={text}: expected true or false (the default is {default})")
    try:
        return type(default)(text)
    except ValueError:
        kind = {int: "a whole number", float: "a number"}.get(type(default), type(default).__name__)
        raise DeriveError(
            f"--set {name}={text}: expected {kind} (the default is {default})"
        ) from None


def _size(dim, sizes: dict):
    """A dimension at the given sizes: an int, or the symbol itself when it has no size."""
    n = sym(dim).subs(sizes)
    return int(n) if n.is_Integer else n


def _caller_line() -> int | None:
    """The line of the network file that declared a quantity (for messages)."""
    here = Path(__file__).resolve().parent
    for frame in reversed(traceback.extract_stack()):
        if Path(frame.filename).resolve().parent != here:
            return frame.lineno
    return None


MAX_SOURCE = 1_000_000  # bytes of a network file


def run_source(path: Path) -> dict:
    """Run the Python source file ``path`` as a module of its own; its namespace."""
    from derive.safeio import read_text

    if path.suffix != ".py":
        raise DeriveError(f"{path}: a network file is Python source named *.py")
    source = read_text(path, MAX_SOURCE, what="network file")
    code = compile(source, str(path), "exec", dont_inherit=True)
    namespace = {"__name__": f"derive_network_{path.stem}", "__file__": str(path),
                 "__builtins__": __builtins__}  # fmt: skip
    exec(code, namespace)  # noqa: S102 - the network file is the instructor's (trusted) code
    return namespace


def load(path: str | Path, **settings) -> Network:
    """Run a network file and return its Network. Errors become DeriveError naming file:line."""
    path = Path(path)
    if path.is_dir():
        raise DeriveError(f"{path}: is a folder, not a network file")
    if not path.is_file():
        raise DeriveError(f"{path}: no such file")
    token = _overrides.set({k: v for k, v in settings.items()})
    try:
        namespace = run_source(path)
    except DeriveError as err:
        line = _error_line(err, path)
        raise DeriveError(str(err) if line == "?" else f"{path}:{line}: {err}") from None
    except SyntaxError as err:
        raise DeriveError(f"{path}:{err.lineno}: syntax error: {err.msg}") from None
    except ValueError as err:  # compile(): source with null bytes
        raise DeriveError(f"{path}: not Python source ({err})") from None
    except Exception as err:  # a bug in the user's file: say where, without a traceback
        raise DeriveError(f"{path}:{_error_line(err, path)}: {_describe(err)}") from None
    finally:
        _overrides.reset(token)
    net = namespace.get("network")
    if not isinstance(net, Network):
        found = [v for v in namespace.values() if isinstance(v, Network)]
        if len(found) != 1:
            what = "no Network object" if not found else f"{len(found)} Network objects"
            raise DeriveError(f"{path}: {what} at module level (name the one to use 'network')")
        net = found[0]
    if net.loss_q is None:
        raise DeriveError(f"{path}: network {net.name} declares no loss (use net.loss(...))")
    net.source = net.source or str(path)
    for k in settings:
        if k not in net.settings:
            known = ", ".join(net.settings) or "none"
            raise DeriveError(f"{path}: unknown setting {k!r} (settings: {known})")
    return net


def _describe(err: Exception) -> str:
    """An exception raised by a network file, in words: an unknown op is named as one."""
    import derive

    missing = None
    if isinstance(err, ImportError) and err.name == "derive":
        found = re.search(r"cannot import name '(\w+)'", str(err))
        missing = found and found.group(1)
    elif isinstance(err, AttributeError) and getattr(err, "obj", None) is derive:
        missing = err.name
    elif isinstance(err, NameError) and err.name:
        missing = err.name
    if not missing:
        return f"{type(err).__name__}: {err}"
    ops = sorted(
        n for n in derive.__all__ if n.islower() and callable(getattr(derive, n)) and n != "load"
    )
    known = f"it has: {', '.join(ops)}"
    if isinstance(err, NameError):
        return f"name {missing!r} is not defined, nor is it an operation of derive ({known})"
    return (
        f"derive has no operation {missing!r} ({known}; an element-wise function is defined "
        f"by {missing} = derive.elementwise({missing!r}, lambda t: ...))"
    )


def _error_line(err: BaseException, path: Path) -> str:
    target = path.resolve()
    line = "?"
    for frame in traceback.extract_tb(err.__traceback__):
        if Path(frame.filename).resolve() == target:
            line = str(frame.lineno)
    return line


sys.setrecursionlimit(max(sys.getrecursionlimit(), 10000))
