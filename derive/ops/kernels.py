"""The NumPy kernels the compiled code of the convolution and pooling ops calls.

A feature map is (..., C, h*w): a leading batch axis or none. Windows are read as strided views
(no copy until im2col's reshape); the adjoints add each window back with k^2 slice additions.
"""

from __future__ import annotations

import numpy
from numpy.lib.stride_tricks import sliding_window_view


def _image(x, h, w, p):
    img = x.reshape(x.shape[:-1] + (h, w))
    if p:
        pad = [(0, 0)] * (img.ndim - 2) + [(p, p), (p, p)]
        img = numpy.pad(img, pad)
    return img


def _views(x, h, w, k, s, p):
    """(..., C, h', w', k, k): each output pixel's window, a view."""
    img = _image(x, h, w, p)
    return sliding_window_view(img, (k, k), axis=(-2, -1))[..., ::s, ::s, :, :]


def _im2col(x, h, w, k, s, p):
    v = _views(x, h, w, k, s, p)
    *lead, c, ho, wo, _, _ = v.shape
    # (..., C, k, k, h', w') -> (..., C k^2, h' w'): row c k^2 + a k + b, column r w' + q
    return numpy.moveaxis(v, (-2, -1), (-4, -3)).reshape(*lead, c * k * k, ho * wo)


def _out(n, k, s, p):
    return (n + 2 * p - k) // s + 1


def _col2im(g, h, w, k, s, p):
    ho, wo = _out(h, k, s, p), _out(w, k, s, p)
    *lead, rows, _ = g.shape
    c = rows // (k * k)
    cols = g.reshape(*lead, c, k, k, ho, wo)
    out = numpy.zeros((*lead, c, h + 2 * p, w + 2 * p))
    for a in range(k):
        for b in range(k):
            out[..., a : a + s * ho : s, b : b + s * wo : s] += cols[..., a, b, :, :]
    return out[..., p : p + h, p : p + w].reshape(*lead, c, h * w)


def _first_max(x, h, w, k, s, p):
    """The windows as (..., C, h'w', k^2) and the index of each one's first largest entry."""
    v = _views(x, h, w, k, s, p)
    *lead, c, ho, wo, _, _ = v.shape
    flat = v.reshape(*lead, c, ho * wo, k * k)
    return flat, flat.argmax(axis=-1)


def _maxpool(x, h, w, k, s, p):
    v = _views(x, h, w, k, s, p)
    *lead, c, ho, wo, _, _ = v.shape
    return v.max(axis=(-2, -1)).reshape(*lead, c, ho * wo)


def _tiles(x, h, w, k, s, p):
    """Whether the windows tile the image (k = s, no padding, no pixel left over): then they
    are a reshape of it, (..., C, h/k, k, w/k, k), and max pooling's residual needs no col2im."""
    return k == s and p == 0 and h % k == 0 and w % k == 0


def _max_unpool(x, g, h, w, k, s, p):
    if _tiles(x, h, w, k, s, p):
        lead, c, ho, wo = x.shape[:-2], x.shape[-2], h // k, w // k
        blocks = numpy.moveaxis(x.reshape(*lead, c, ho, k, wo, k), -3, -2)  # (.., ho, wo, k, k)
        first = blocks.reshape(*lead, c, ho, wo, k * k).argmax(axis=-1)
        routed = (numpy.arange(k * k) == first[..., None]) * g.reshape(*lead, c, ho, wo, 1)
        routed = numpy.moveaxis(routed.reshape(*lead, c, ho, wo, k, k), -2, -3)
        return routed.reshape(*lead, c, h * w)
    flat, first = _first_max(x, h, w, k, s, p)
    onehot = numpy.zeros(flat.shape)
    numpy.put_along_axis(onehot, first[..., None], 1.0, axis=-1)
    cols = onehot * g[..., None]  # (..., C, h'w', k^2)
    c = cols.shape[-3]
    cols = numpy.moveaxis(cols, -1, -2).reshape(*cols.shape[:-3], c * k * k, cols.shape[-2])
    return _col2im(cols, h, w, k, s, p)


def _max_pick(x, g, h, w, k, s, p):
    _, first = _first_max(x, h, w, k, s, p)
    windows = _im2col(g, h, w, k, s, p)  # (..., C k^2, h'w')
    c = x.shape[-2]
    windows = windows.reshape(*windows.shape[:-2], c, k * k, windows.shape[-1])
    return numpy.take_along_axis(windows, first[..., None, :], axis=-2)[..., 0, :]


def _avgpool(x, h, w, k, s, p):
    v = _views(x, h, w, k, s, p)
    *lead, c, ho, wo, _, _ = v.shape
    return v.mean(axis=(-2, -1)).reshape(*lead, c, ho * wo)


def _avgpool_adjoint(g, h, w, k, s, p):
    cols = numpy.repeat(g[..., None, :], k * k, axis=-2) / (k * k)  # (..., C, k^2, h'w')
    c = g.shape[-2]
    return _col2im(cols.reshape(*g.shape[:-2], c * k * k, g.shape[-1]), h, w, k, s, p)


def _flatten(x, rows, cols):
    return x.reshape(x.shape[:-2] + (rows * cols,))


def _unflatten(v, rows, cols):
    return v.reshape(v.shape[:-1] + (rows, cols))


#: Every kernel by the name the generated code calls it by.
KERNELS = {name: f for name, f in dict(globals()).items() if name.startswith("_") and callable(f)
           and getattr(f, "__module__", None) == __name__}  # fmt: skip
