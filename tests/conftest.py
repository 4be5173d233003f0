"""Shared fixtures: the example networks, values files, and the command line through CliRunner."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from derive.cli import app

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
EXAMPLES = ROOT / "examples"
SMALL = DATA / "small.py"
MULTITASK = EXAMPLES / "multitask.py"


def need_latex() -> None:
    """Skip without latexmk on a developer's machine; in CI (which installs it) fail instead."""
    if shutil.which("latexmk") is None:
        if os.environ.get("CI"):
            pytest.fail("latexmk is not installed, but CI must test the PDF")
        pytest.skip("latexmk is not installed")


@pytest.fixture
def cli():
    """cli("verify", path, ...) -> click Result, with stdout and stderr apart."""
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)

    return run


def small_values(m: int = 4, seed: int = 0) -> dict[str, np.ndarray]:
    """Values for tests/data/small.py (d = 3, h = 2): samples first, weights (out x in)."""
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(size=(m, 3)),
        "y": rng.uniform(size=(m, 2)),
        "theta": rng.normal(size=(2, 3)),
        "b": rng.normal(size=2),
    }


def multitask_values(m: int = 5, seed: int = 0) -> dict[str, np.ndarray]:
    """Values for examples/multitask.py in the layout `derive grad` reads (d=4, h=5, a=2, c=3)."""
    rng = np.random.default_rng(seed)
    d, h, a, c = 4, 5, 2, 3
    return {
        "x": rng.normal(size=(m, d)),
        "y_A": rng.normal(size=(m, a)),
        "y_B": np.eye(c)[rng.integers(0, c, size=m)],
        "M": rng.choice([0.0, 2.0], size=(m, h)),
        "theta_1A": rng.normal(size=(h, d)),
        "b_1A": rng.normal(size=h),
        "theta_2A": rng.normal(size=(a, h)),
        "b_2A": rng.normal(size=a),
        "theta_1B": rng.normal(size=(a, d)),
        "b_1B": rng.normal(size=a),
        "theta_2B": rng.normal(size=(c, a)),
        "b_2B": rng.normal(size=c),
    }


@pytest.fixture
def small_npz(tmp_path) -> Path:
    path = tmp_path / "small_values.npz"
    np.savez(path, **small_values())
    return path
