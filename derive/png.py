"""A grey-scale PNG from an array, with nothing but zlib and struct (no imaging library).

The format (ISO/IEC 15948): the eight signature bytes, then chunks of (length, type, data,
CRC-32 of type and data): IHDR (width, height, bit depth 8, colour type 0: grey, no
interlace), one IDAT (the zlib-compressed rows, each led by filter byte 0: none), IEND.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(image: np.ndarray) -> bytes:
    """The PNG of ``image``: a (height, width) array of grey levels in [0, 1] (0 black, 1
    white), rounded to 8 bits; values outside [0, 1] are clipped."""
    image = np.asarray(image, dtype=float)
    if image.ndim != 2 or 0 in image.shape:
        raise ValueError(f"a grey-scale image is a non-empty 2-D array, got shape {image.shape}")
    height, width = image.shape
    levels = np.rint(np.clip(np.nan_to_num(image), 0.0, 1.0) * 255).astype(np.uint8)
    rows = np.concatenate([np.zeros((height, 1), np.uint8), levels], axis=1)  # filter 0
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"".join(
        (
            SIGNATURE,
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(rows.tobytes(), 9)),
            _chunk(b"IEND", b""),
        )
    )


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG's header, or None if ``data`` does not start as a PNG does."""
    if len(data) < 24 or data[:8] != SIGNATURE or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height
