"""Bad input: one line on stderr, exit code 2, no traceback, nothing left in the output folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import DATA, SMALL, small_values


def line_of(path: Path, text: str) -> int:
    """The line number of the first line of ``path`` containing ``text``."""
    lines = path.read_text().splitlines()
    return next(n for n, line in enumerate(lines, 1) if text in line)


def values_file(tmp_path: Path, drop: str | None = None, **replace) -> Path:
    values = {k: v for k, v in small_values().items() if k != drop}
    values.update(replace)
    path = tmp_path / "values.npz"
    np.savez(path, **values)
    return path


def check_one_line_error(result, out: Path, *expected: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("derive: error: ")
    assert "Traceback" not in result.output
    for text in expected:
        assert text in lines[0], (text, lines[0])
    assert not out.exists() or not any(out.iterdir()), sorted(out.iterdir())
    return lines[0]


# --- the network file ------------------------------------------------------------------------
def test_parts_of_a_network_are_named_once_and_not_nested():
    from derive import Network
    from derive.errors import DeriveError

    net = Network("n")
    with pytest.raises(DeriveError, match="use letters, digits"):
        with net.part("{Task}"):
            pass
    with pytest.raises(DeriveError, match="inside part 'A'"):
        with net.part("A"), net.part("B"):
            pass
    x = net.input("x", 2)
    with net.part("A"):
        a = net.node("a", x + x)
    b = net.node("b", a + x)
    assert (a.q.part, b.q.part, net.parts) == ("A", None, ["A"])


def test_missing_file(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("report", tmp_path / "nowhere.py", "--out", out)
    check_one_line_error(result, out, "nowhere.py", "no such file")


def test_a_folder_is_not_a_network_file(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("verify", tmp_path)
    check_one_line_error(result, out, str(tmp_path), "is a folder")


def test_file_with_no_network(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("report", DATA / "no_network.py", "--out", out)
    check_one_line_error(result, out, "no_network.py", "no Network")


def test_shape_mismatch_names_the_file_the_line_and_both_shapes(cli, tmp_path):
    out = tmp_path / "out"
    path = DATA / "shape_mismatch.py"
    result = cli("report", path, "--out", out)
    line = line_of(path, 'net.node("z", theta * x)')
    message = check_one_line_error(result, out, f"shape_mismatch.py:{line}:")
    assert "theta (h x d)" in message and "x (h)" in message


def test_syntax_error_names_the_line(cli, tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("from derive import Network\n\nnet = Network('broken'\nx = 1\n")
    out = tmp_path / "out"
    result = cli("report", path, "--out", out)
    check_one_line_error(result, out, "broken.py:3:", "syntax error")


@pytest.mark.parametrize(
    "name, text",
    [
        ("unknown_op.py", "derive.mish("),
        ("unknown_import.py", "import Network"),
    ],
)
def test_unknown_op_is_named(cli, tmp_path, name, text):
    out = tmp_path / "out"
    path = DATA / name
    result = cli("report", path, "--out", out)
    message = check_one_line_error(result, out, f"{name}:{line_of(path, text)}:")
    assert "derive has no operation 'mish'" in message
    assert "softmax" in message  # the ops it has


def test_unknown_function_is_named(cli, tmp_path):
    out = tmp_path / "out"
    path = DATA / "unknown_function.py"
    result = cli("report", path, "--out", out)
    check_one_line_error(result, out, f"unknown_function.py:{line_of(path, 'swish(')}:", "'swish'")


def test_no_machine_path_in_the_message(cli, tmp_path):
    """Messages name the user's file as given, not where derive is installed."""
    result = cli("verify", DATA / "unknown_import.py")
    assert str(Path(__file__).resolve().parent.parent / "derive") not in result.stderr
    assert "site-packages" not in result.stderr


# --- settings ----------------------------------------------------------------------------------
def test_unknown_setting(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("report", SMALL, "--out", out, "--set", "depth=3")
    check_one_line_error(result, out, "unknown setting 'depth'", "width")


@pytest.mark.parametrize("bad", ["width", "width=", "=3"])
def test_malformed_setting(cli, tmp_path, bad):
    out = tmp_path / "out"
    result = cli("report", SMALL, "--out", out, "--set", bad)
    check_one_line_error(result, out, "NAME=VALUE")


def test_setting_of_the_wrong_type(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("report", SMALL, "--out", out, "--set", "width=wide")
    check_one_line_error(result, out, "width=wide", "expected a whole number")


# --- the values file ---------------------------------------------------------------------------
def grad(cli, tmp_path, values: Path):
    out = tmp_path / "out"
    return cli("grad", SMALL, "--values", values, "--out", out / "grads.npz"), out


def test_values_lacking_a_name(cli, tmp_path):
    result, out = grad(cli, tmp_path, values_file(tmp_path, drop="b"))
    check_one_line_error(result, out, "values.npz", "'b'")


def test_values_with_a_wrong_shape(cli, tmp_path):
    path = values_file(tmp_path, theta=np.ones((3, 3)))
    result, out = grad(cli, tmp_path, path)
    message = check_one_line_error(result, out, "values.npz", "theta")
    assert "(3, 3)" in message and "(h, d)" in message


def test_values_with_a_wrong_number_of_axes(cli, tmp_path):
    result, out = grad(cli, tmp_path, values_file(tmp_path, b=np.ones((2, 1, 1))))
    check_one_line_error(result, out, "values.npz", "b has shape (2, 1, 1)")


def test_values_that_are_not_numbers(cli, tmp_path):
    result, out = grad(cli, tmp_path, values_file(tmp_path, x=np.array([["a", "b", "c"]] * 4)))
    check_one_line_error(result, out, "values.npz", "x", "not numbers")


def test_values_file_missing(cli, tmp_path):
    result, out = grad(cli, tmp_path, tmp_path / "absent.npz")
    check_one_line_error(result, out, "absent.npz", "no such")


@pytest.mark.parametrize("content", [b"not a zip file", b"PK\x03\x04 truncated", b""])
def test_values_file_unreadable(cli, tmp_path, content):
    path = tmp_path / "values.npz"
    path.write_bytes(content)
    result, out = grad(cli, tmp_path, path)
    check_one_line_error(result, out, "values.npz", "not an .npz archive")


def test_values_file_that_is_a_plain_npy(cli, tmp_path):
    path = tmp_path / "values.npy"
    np.save(path, np.zeros(3))
    result, out = grad(cli, tmp_path, path)
    check_one_line_error(result, out, "values.npy", "not an .npz archive")


def test_a_failed_grad_keeps_the_old_output(cli, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "grads.npz").write_bytes(b"previous")
    result = cli("grad", SMALL, "--values", values_file(tmp_path, drop="x"), "--out",
                 out / "grads.npz")  # fmt: skip
    assert result.exit_code == 2
    assert [p.name for p in out.iterdir()] == ["grads.npz"]
    assert (out / "grads.npz").read_bytes() == b"previous"


# --- the real console script --------------------------------------------------------------------
def console_script() -> str:
    """The `derive` script installed beside this Python (a venv), else the one on PATH."""
    beside = Path(sys.executable).parent / ("derive.exe" if os.name == "nt" else "derive")
    found = str(beside) if beside.is_file() else shutil.which("derive")
    if found is None:
        pytest.fail("the `derive` console script is not installed (pip install .)")
    return found


def test_console_script_shape_mismatch(tmp_path):
    out = tmp_path / "out"
    path = DATA / "shape_mismatch.py"
    proc = subprocess.run(
        [console_script(), "report", str(path), "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    line = line_of(path, 'net.node("z", theta * x)')
    assert lines[0].startswith(f"derive: error: {path}:{line}: ")
    assert "(h x d)" in lines[0] and "(h)" in lines[0]
    assert not out.exists()


def test_console_script_version():
    proc = subprocess.run([console_script(), "--version"], capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert proc.returncode == 0 and proc.stdout.startswith("derive ")
