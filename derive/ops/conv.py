"""Convolution and pooling on feature maps, in the im2col form a lecture writes.

A *feature map* of C channels of h x w pixels is a C x hw matrix, one row per channel, each row
the image read row by row (PyTorch's (C, h, w) layout flattened). A convolution with C' kernels
of k x k is then one matrix product,

    S = W im2col(X) + b 1^T,     W: C' x C k^2,  im2col(X): C k^2 x h'w',

where column j of im2col(X) holds the k x k window of output pixel j of every channel (padding
zeros included). Its residuals are matrix products too: dL/dW = sum_i G^i im2col(X^i)^T,
dL/db = sum_i G^i 1, and dL/dX = col2im(W^T G), col2im being the adjoint of im2col (each window
entry added back to the pixel it came from: for stride 1, the correlation with the flipped
kernel). Pooling maps C x hw to C x h'w' window by window; a pooling's residual is its adjoint
(average) or the residual sent to each window's maximum (max).

Every op here is linear in its last argument except the window maximum, whose explicit form for
the proofs is an opaque function (:class:`WindowMax`) differentiated to an opaque indicator that
is itself constant almost everywhere, as backpropagation treats max.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.errors import ShapeError
from derive.expr import Expr, Op, shape_str, sym, test_leaf
from derive.ops import layout


# --- the geometry of a sliding window ----------------------------------------------------
@dataclass(frozen=True)
class Window:
    """k x k windows moved by s pixels over an h x w image padded by p zeros on every side."""

    h: sp.Expr
    w: sp.Expr
    k: int
    s: int = 1
    p: int = 0

    def __post_init__(self):
        for name in ("k", "s"):
            if int(getattr(self, name)) < 1:
                raise ShapeError(f"a window's {name} must be at least 1, got {getattr(self, name)}")
        if int(self.p) < 0 or int(self.p) >= int(self.k):
            raise ShapeError(f"padding must be 0 to k - 1 = {int(self.k) - 1}, got {self.p}")
        for n in (self.h, self.w):
            if sym(n).is_number and self.out(n) < 1:
                raise ShapeError(
                    f"a {self.k} x {self.k} window does not fit a {self.h} x {self.w} image"
                    + (f" padded by {self.p}" if self.p else "")
                )

    def out(self, n: sp.Expr) -> sp.Expr:
        """floor((n + 2p - k) / s) + 1 output pixels along a side of n."""
        return sp.floor((sym(n) + 2 * self.p - self.k) / sp.Integer(self.s)) + 1

    @property
    def ho(self) -> sp.Expr:
        return self.out(self.h)

    @property
    def wo(self) -> sp.Expr:
        return self.out(self.w)

    @property
    def pixels(self) -> sp.Expr:
        return sym(self.h) * sym(self.w)

    @property
    def positions(self) -> sp.Expr:
        return self.ho * self.wo

    def at(self, sizes: dict) -> tuple[int, int, int, int, int, int, int]:
        """(h, w, k, s, p, h', w') as integers at these sizes."""
        h, w = (int(sym(v).subs(sizes)) for v in (self.h, self.w))
        ho, wo = (int(self.out(n)) for n in (h, w))
        if ho < 1 or wo < 1:
            raise ShapeError(f"a {self.k} x {self.k} window does not fit a {h} x {w} image")
        return h, w, int(self.k), int(self.s), int(self.p), ho, wo

    def windows(self, sizes: dict) -> list[list[tuple[int, int] | None]]:
        """For each output pixel j (row by row), its k x k window row by row: the input pixel
        (row, column) of each entry, None where the entry is padding."""
        h, w, k, s, p, ho, wo = self.at(sizes)
        out = []
        for r in range(ho):
            for c in range(wo):
                entries = []
                for a in range(k):
                    for b in range(k):
                        y, x = r * s + a - p, c * s + b - p
                        entries.append((y, x) if 0 <= y < h and 0 <= x < w else None)
                out.append(entries)
        return out

    def cells(self, sizes: dict, channels: int):
        """(c, j, t, q) for every entry t of window j of channel c that lies in the image (not
        in the padding), q its pixel's index row by row: the walk of every explicit form."""
        w = self.at(sizes)[1]
        for j, entries in enumerate(self.windows(sizes)):
            for c in range(channels):
                for t, pixel in enumerate(entries):
                    if pixel is not None:
                        yield c, j, t, pixel[0] * w + pixel[1]

    def code(self) -> str:
        """The geometry as arguments of the NumPy kernels: h, w, k, s, p."""
        return ", ".join(
            [f"int({layout.coefficient(sym(self.h))})", f"int({layout.coefficient(sym(self.w))})"]
            + [str(int(v)) for v in (self.k, self.s, self.p)]
        )

    def latex(self) -> str:
        parts = [rf"k={self.k}"] + [f"{n}={v}" for n, v in (("s", self.s), ("p", self.p)) if
                                    (n == "s" and v != 1) or (n == "p" and v != 0)]  # fmt: skip
        return ",".join(parts)


def _map(name: str, e: Expr, rows=None, cols=None) -> None:
    """``e`` must be a feature map (a matrix; rows channels, cols pixels where given)."""
    r, c = e.shape
    if (cols is not None and sym(c) != sym(cols)) or (rows is not None and sym(r) != sym(rows)):
        want = f"{rows if rows is not None else 'C'} x {cols}"
        raise ShapeError(f"{name} needs a {want} feature map, got {e!r} ({shape_str(e.shape)})")


def _channels(rows: sp.Expr, k: int) -> sp.Expr:
    return sp.simplify(sym(rows) / (k * k))


# --- im2col and its adjoint --------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class Im2col(Op):
    """The windows of a feature map as columns: C x hw -> C k^2 x h'w'."""

    x: Expr
    win: Window

    @property
    def shape(self):
        return (self.x.shape[0] * self.win.k**2, self.win.positions)

    def rebuild(self, x):
        return im2col(x, self.win)

    def numpy(self, code):
        return f"_im2col({code(self.x)}, {self.win.code()})"

    def explicit(self, args, sizes):
        (X,) = args
        k = self.win.k
        out = sp.zeros(X.rows * k * k, len(self.win.windows(sizes)))
        for c, j, t, q in self.win.cells(sizes, X.rows):
            out[c * k * k + t, j] = X[c, q]
        return out

    def vjp(self, k, g):
        return col2im(g, self.win)

    latex_template = r"\operatorname{im2col}\left({0}\right)"

    @classmethod
    def examples(cls):
        x = test_leaf("X", 2, 9)
        return [Im2col(x, Window(3, 3, 2)), Im2col(test_leaf("Y", 1, 16), Window(4, 4, 3, 2, 1))]


def im2col(x: Expr, win: Window) -> Expr:
    _map("im2col", x, cols=win.pixels)
    return Im2col(x, win)


@dataclass(frozen=True, repr=False)
class Col2im(Op):
    """The adjoint of im2col: each window entry added back to its pixel, C k^2 x h'w' -> C x hw."""

    g: Expr
    win: Window

    @property
    def shape(self):
        return (_channels(self.g.shape[0], self.win.k), self.win.pixels)

    def rebuild(self, g):
        return col2im(g, self.win)

    def numpy(self, code):
        return f"_col2im({code(self.g)}, {self.win.code()})"

    def explicit(self, args, sizes):
        (G,) = args
        h, w, k = *self.win.at(sizes)[:2], self.win.k
        out = sp.zeros(G.rows // (k * k), h * w)
        for c, j, t, q in self.win.cells(sizes, out.rows):
            out[c, q] += G[c * k * k + t, j]
        return out

    def vjp(self, k, g):
        return im2col(g, self.win)

    latex_template = r"\operatorname{col2im}\left({0}\right)"

    @classmethod
    def examples(cls):
        return [Col2im(test_leaf("G", 8, 4), Window(3, 3, 2)),
                Col2im(test_leaf("G", 9, 4), Window(4, 4, 3, 2, 1))]  # fmt: skip


def col2im(g: Expr, win: Window) -> Expr:
    _map("col2im", g, cols=win.positions)
    if sp.simplify(sym(g.shape[0]) % (win.k**2)) != 0:
        raise ShapeError(f"col2im needs C k^2 rows, got {shape_str(g.shape)} for k = {win.k}")
    return Col2im(g, win)


# --- pooling -----------------------------------------------------------------------------
class WindowMax(sp.Function):
    """max of a window's entries for the proofs, opaque: its derivative by an entry is the
    indicator that the entry is the largest (:class:`IsMax`), as backpropagation takes it."""

    @classmethod
    def eval(cls, *args):
        if len(args) == 1:
            return args[0]

    def fdiff(self, argindex=1):
        i = argindex - 1
        return IsMax(self.args[i], *(a for j, a in enumerate(self.args) if j != i))


class IsMax(sp.Function):
    """1 where the first argument is larger than all the others, else 0; constant almost
    everywhere, so its derivative is 0 (the Dirac deltas dropped, as for ReLU's step)."""

    @classmethod
    def eval(cls, *args):
        if len(args) == 1:
            return sp.Integer(1)

    def fdiff(self, argindex=1):
        return sp.Integer(0)


def _padded(X, c, entries, w):
    """A window's entries (padding as 0, as PyTorch pads max pooling with -inf: with p = 0 no
    padding is ever read)."""
    return [X[c, e[0] * w + e[1]] if e is not None else sp.Integer(0) for e in entries]


def _routes(X: sp.Matrix, win: Window, sizes: dict):
    """(c, j, q, 1[pixel q is the largest of window j of channel c]) for every entry of every
    window in the image: max pooling's routing, which unpool and pick apply either way."""
    w = win.at(sizes)[1]
    windows = win.windows(sizes)
    values: dict = {}
    for c, j, t, q in win.cells(sizes, X.rows):
        if (c, j) not in values:
            values[(c, j)] = _padded(X, c, windows[j], w)
        v = values[(c, j)]
        yield c, j, q, IsMax(v[t], *v[:t], *v[t + 1 :])


@dataclass(frozen=True, repr=False)
class MaxPool(Op):
    """The largest entry of each window, channel by channel: C x hw -> C x h'w'."""

    x: Expr
    win: Window

    @property
    def shape(self):
        return (self.x.shape[0], self.win.positions)

    def rebuild(self, x):
        return maxpool(x, self.win)

    def numpy(self, code):
        return f"_maxpool({code(self.x)}, {self.win.code()})"

    def explicit(self, args, sizes):
        (X,) = args
        w = self.win.at(sizes)[1]
        windows = self.win.windows(sizes)
        return sp.Matrix(X.rows, len(windows),
                         lambda c, j: WindowMax(*_padded(X, c, windows[j], w)))  # fmt: skip

    def vjp(self, k, g):
        return max_unpool(self.x, g, self.win)

    latex_template = r"\operatorname{maxpool}\left({0}\right)"

    @classmethod
    def examples(cls):
        return [MaxPool(test_leaf("X", 2, 16), Window(4, 4, 2, 2)),
                MaxPool(test_leaf("X", 1, 9), Window(3, 3, 2, 1))]  # fmt: skip


def maxpool(x: Expr, win: Window) -> Expr:
    _map("maxpool", x, cols=win.pixels)
    if win.p:
        raise ShapeError("max pooling here takes no padding (p = 0)")
    return MaxPool(x, win)


@dataclass(frozen=True, repr=False)
class MaxUnpool(Op):
    """The residual of max pooling: each window's residual sent to the window's largest entry
    of X (added up where windows overlap), C x h'w' -> C x hw."""

    x: Expr
    g: Expr
    win: Window

    @property
    def shape(self):
        return self.x.shape

    def rebuild(self, x, g):
        return max_unpool(x, g, self.win)

    def numpy(self, code):
        return f"_max_unpool({code(self.x)}, {code(self.g)}, {self.win.code()})"

    def explicit(self, args, sizes):
        X, G = args
        out = sp.zeros(X.rows, X.cols)
        for c, j, q, first in _routes(X, self.win, sizes):
            out[c, q] += G[c, j] * first
        return out

    def vjp(self, k, g):
        from derive.expr import Zero

        if k == 0:  # the routing is constant almost everywhere
            return Zero(self.x.shape)
        return max_pick(self.x, g, self.win)

    latex_template = r"\operatorname{unpool}_{{0}}\left({1}\right)"

    @classmethod
    def examples(cls):
        return [MaxUnpool(test_leaf("X", 2, 16), test_leaf("G", 2, 4), Window(4, 4, 2, 2))]


def max_unpool(x: Expr, g: Expr, win: Window) -> Expr:
    _map("unpool", g, rows=x.shape[0], cols=win.positions)
    return MaxUnpool(x, g, win)


@dataclass(frozen=True, repr=False)
class MaxPick(Op):
    """The adjoint of :class:`MaxUnpool` in its residual: each window's entry of G at the
    window's largest entry of X, C x hw -> C x h'w'."""

    x: Expr
    g: Expr
    win: Window

    @property
    def shape(self):
        return (self.x.shape[0], self.win.positions)

    def rebuild(self, x, g):
        return max_pick(x, g, self.win)

    def numpy(self, code):
        return f"_max_pick({code(self.x)}, {code(self.g)}, {self.win.code()})"

    def explicit(self, args, sizes):
        X, G = args
        out = sp.zeros(X.rows, len(self.win.windows(sizes)))
        for c, j, q, first in _routes(X, self.win, sizes):
            out[c, j] += G[c, q] * first
        return out

    def vjp(self, k, g):
        from derive.expr import Zero

        return Zero(self.x.shape) if k == 0 else max_unpool(self.x, g, self.win)

    latex_template = r"\operatorname{pick}_{{0}}\left({1}\right)"

    @classmethod
    def examples(cls):
        return [MaxPick(test_leaf("X", 2, 16), test_leaf("G", 2, 16), Window(4, 4, 2, 2))]


def max_pick(x: Expr, g: Expr, win: Window) -> Expr:
    _map("pick", g, rows=x.shape[0], cols=win.pixels)
    return MaxPick(x, g, win)


@dataclass(frozen=True, repr=False)
class AvgPool(Op):
    """The mean of each window (padding counted as zeros), channel by channel."""

    x: Expr
    win: Window

    @property
    def shape(self):
        return (self.x.shape[0], self.win.positions)

    def rebuild(self, x):
        return avgpool(x, self.win)

    def numpy(self, code):
        return f"_avgpool({code(self.x)}, {self.win.code()})"

    def explicit(self, args, sizes):
        (X,) = args
        w, k = self.win.at(sizes)[1], self.win.k
        windows = self.win.windows(sizes)
        return sp.Matrix(X.rows, len(windows),
                         lambda c, j: sum(_padded(X, c, windows[j], w)) / (k * k))  # fmt: skip

    def vjp(self, k, g):
        return avgpool_adjoint(g, self.win)

    latex_template = r"\operatorname{avgpool}\left({0}\right)"

    @classmethod
    def examples(cls):
        return [AvgPool(test_leaf("X", 2, 16), Window(4, 4, 2, 2)),
                AvgPool(test_leaf("X", 1, 16), Window(4, 4, 3, 1, 1))]  # fmt: skip


def avgpool(x: Expr, win: Window) -> Expr:
    _map("avgpool", x, cols=win.pixels)
    return AvgPool(x, win)


@dataclass(frozen=True, repr=False)
class AvgPoolAdjoint(Op):
    """The residual of average pooling: each window's residual shared out over its k^2 entries."""

    g: Expr
    win: Window

    @property
    def shape(self):
        return (self.g.shape[0], self.win.pixels)

    def rebuild(self, g):
        return avgpool_adjoint(g, self.win)

    def numpy(self, code):
        return f"_avgpool_adjoint({code(self.g)}, {self.win.code()})"

    def explicit(self, args, sizes):
        (G,) = args
        h, w, k = *self.win.at(sizes)[:2], self.win.k
        out = sp.zeros(G.rows, h * w)
        for c, j, _, q in self.win.cells(sizes, G.rows):
            out[c, q] += G[c, j] / (k * k)
        return out

    def vjp(self, k, g):
        return avgpool(g, self.win)

    latex_template = r"\operatorname{avgpool}^{\top}\left({0}\right)"

    @classmethod
    def examples(cls):
        return [AvgPoolAdjoint(test_leaf("G", 2, 4), Window(4, 4, 2, 2))]


def avgpool_adjoint(g: Expr, win: Window) -> Expr:
    _map("avgpool^T", g, cols=win.positions)
    return AvgPoolAdjoint(g, win)


# --- between feature maps and vectors ----------------------------------------------------
@dataclass(frozen=True, repr=False)
class Flatten(Op):
    """A feature map's rows stacked into one column vector (channel by channel), C x n -> Cn."""

    x: Expr

    @property
    def shape(self):
        return (self.x.shape[0] * self.x.shape[1], sp.Integer(1))

    def rebuild(self, x):
        return flatten(x)

    def numpy(self, code):
        rows, cols = (layout.coefficient(sym(d)) for d in self.x.shape)
        return f"_flatten({code(self.x)}, int({rows}), int({cols}))"

    def explicit(self, args, sizes):
        (X,) = args
        return sp.Matrix(X.rows * X.cols, 1, list(X))  # SymPy lists a matrix row by row

    def vjp(self, k, g):
        return unflatten(g, self.x.shape[0])

    def _derive_latex(self, printer):
        from derive.ops.algebra import transpose

        # the braces tell the legend this vec from the Jacobian notation's (same output)
        return r"\operatorname{vec}{\left(" + printer._print(transpose(self.x)) + r"\right)}"

    @classmethod
    def examples(cls):
        return [Flatten(test_leaf("X", 2, 3))]


def flatten(x: Expr) -> Expr:
    if x.is_col:
        return x
    if isinstance(x, Unflatten):
        return x.v
    return Flatten(x)


@dataclass(frozen=True, repr=False)
class Unflatten(Op):
    """A column vector of C n entries as the C x n feature map it stacks (an image given as a
    vector of pixels is the 1 x hw map of one channel)."""

    v: Expr
    rows: sp.Expr

    @property
    def shape(self):
        return (sym(self.rows), sp.simplify(self.v.shape[0] / sym(self.rows)))

    def rebuild(self, v):
        return unflatten(v, self.rows)

    def numpy(self, code):
        rows, cols = (layout.coefficient(sym(d)) for d in self.shape)
        return f"_unflatten({code(self.v)}, int({rows}), int({cols}))"

    def explicit(self, args, sizes):
        (v,) = args
        rows = int(sym(self.rows).subs(sizes))
        return sp.Matrix(rows, v.rows // rows, list(v))

    def vjp(self, k, g):
        return flatten(g)

    latex_template = r"\operatorname{vec}^{-1}\left({0}\right)"

    @classmethod
    def examples(cls):
        return [Unflatten(test_leaf("v", 6), sp.Integer(2))]


def unflatten(v: Expr, rows) -> Expr:
    if not v.is_col:
        raise ShapeError(f"a feature map is made from a column vector, got {shape_str(v.shape)}")
    rows = sym(rows)
    if sp.simplify(sym(v.shape[0]) % rows) != 0:
        raise ShapeError(f"{shape_str(v.shape)} entries do not make {rows} rows")
    if isinstance(v, Flatten) and sym(v.x.shape[0]) == rows:
        return v.x
    return Unflatten(v, rows)


# --- what a network file writes ----------------------------------------------------------
def _window(x: Expr, k: int, s: int, p: int, size) -> Window:
    """The window over feature map ``x``, its image h x w given by ``size`` or, by default,
    square (h = w = the square root of its pixels)."""
    if x.is_col:
        raise ShapeError(
            f"{x!r} ({shape_str(x.shape)}) is a vector: make it a feature map first, "
            "image(x) for one channel of pixels"
        )
    if size is None:
        side = sp.sqrt(sym(x.shape[1]))
        if side.is_integer is not True:
            raise ShapeError(f"{x!r} has {x.shape[1]} pixels: not a square, give size=(h, w)")
        size = (side, side)
    h, w = (sym(v) for v in size)
    if sp.simplify(h * w - sym(x.shape[1])) != 0:
        raise ShapeError(f"an image of {h} x {w} has {h * w} pixels, {x!r} has {x.shape[1]}")
    return Window(h, w, int(k), int(s), int(p))


def image(x: Expr, channels=1) -> Expr:
    """The feature map of a vector of pixels: channels x (pixels / channels), one channel's
    image row by row in each row (an 8 x 8 digit as a vector of 64 is the 1 x 64 map)."""
    return unflatten(x, channels)


def conv2d(W: Expr, x: Expr, b: Expr | None = None, *, k: int, s: int = 1, p: int = 0,
           size=None) -> Expr:  # fmt: skip
    """W im2col(X) + b 1^T: C' kernels of k x k over the C channels of feature map ``x``,
    stride ``s``, ``p`` zeros of padding; W is C' x C k^2 (row c' holds kernel c', channel by
    channel, each row by row, as PyTorch's weight (C', C, k, k) flattened), b has C' entries."""
    from derive.expr import Ones
    from derive.ops.algebra import matmul, transpose

    win = _window(x, k, s, p, size)
    want = sym(x.shape[0]) * win.k**2
    if W.is_col or sp.simplify(sym(W.shape[1]) - want) != 0:
        raise ShapeError(
            f"conv2d: the kernels {W!r} are {shape_str(W.shape)}, but {x.shape[0]} channels of "
            f"{k} x {k} need {shape_str((W.shape[0], want))}"
        )
    out = matmul(W, im2col(x, win))
    if b is not None:
        if not b.is_col or sym(b.shape[0]) != sym(W.shape[0]):
            raise ShapeError(f"conv2d: the bias {b!r} needs {W.shape[0]} entries, one a kernel")
        out = out + matmul(b, transpose(Ones(win.positions)))
    return out


def max_pool(x: Expr, k: int, s: int | None = None, size=None) -> Expr:
    """The largest entry of each k x k window, moved by s (default k) pixels."""
    return maxpool(x, _window(x, k, k if s is None else s, 0, size))


def avg_pool(x: Expr, k: int, s: int | None = None, p: int = 0, size=None) -> Expr:
    """The mean of each k x k window, moved by s (default k) pixels."""
    return avgpool(x, _window(x, k, k if s is None else s, p, size))
