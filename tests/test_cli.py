"""The command line through CliRunner: report, verify, grad, --set, --version."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import EXAMPLES, MULTITASK, SMALL, multitask_values, need_latex, small_values

import derive
import derive.verify
from derive.cli import parse_settings
from derive.errors import DeriveError
from derive.verify import Check, Verification


def test_version(cli):
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout.startswith("derive ")


def test_help_lists_the_commands(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("report", "verify", "grad"):
        assert command in result.stdout


# --- --set ---------------------------------------------------------------------------------
def test_parse_settings():
    assert parse_settings(None) == {}
    assert parse_settings(["k=3", " name = a b ", "k=4"]) == {"k": "4", "name": "a b"}
    assert parse_settings(["expr=a=b"]) == {"expr": "a=b"}


@pytest.mark.parametrize("bad", ["k", "=3", "k=", "3k=1", "k-1=2", ""])
def test_parse_settings_rejects_malformed(bad):
    with pytest.raises(DeriveError, match="NAME=VALUE"):
        parse_settings([bad])


def test_set_changes_the_network(cli):
    default = cli("verify", SMALL)
    wider = cli("verify", SMALL, "--set", "width=3")
    assert default.exit_code == 0 and wider.exit_code == 0, default.output + wider.output
    assert "h=2" in default.stdout and "h=3" not in default.stdout
    assert "h=3" in wider.stdout


# --- verify --------------------------------------------------------------------------------
def test_verify_prints_the_table(cli):
    result = cli("verify", SMALL)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = ["quantity", "symbolic", "check", "numeric", "max", "rel.", "error", "verdict"]
    assert lines[0].split() == header
    rows = {line.split()[0]: line.split() for line in lines[2:] if line.startswith("dL/d")}
    assert set(rows) == {"dL/dyhat", "dL/dz", "dL/dtheta", "dL/db"}
    for row in rows.values():
        assert row[1] == "exact" and row[-1] == "ok"
        assert float(row[2]) <= derive.verify.TOLERANCE
    assert lines[-1] == "all 4 checks passed"
    assert result.stderr == ""


def failing(derivation, *args, **kwargs) -> Verification:
    """A verification in which the proof of theta's gradient failed."""
    checks = tuple(
        Check(g.q.name, g.q.name, g.q.name != "theta", 0.5 if g.q.name == "theta" else 1e-12)
        for g in derivation.residuals + derivation.gradients
    )
    return Verification(checks, {"m": 2}, {"m": 4}, 3, 0.0)


def test_verify_exits_1_when_a_check_fails(cli, monkeypatch):
    monkeypatch.setattr(derive.verify, "verify", failing)
    result = cli("verify", SMALL)
    assert result.exit_code == 1
    row = next(line for line in result.stdout.splitlines() if line.startswith("dL/dtheta "))
    assert row.split()[1:] == ["WRONG", "5.0e-01", "FAIL"]
    assert "FAILED: 1 of 4 checks" in result.stderr


# --- grad ----------------------------------------------------------------------------------
def small_by_hand(v: dict) -> dict:
    """tests/data/small.py in plain NumPy: L = 1/m sum_i 1/2 ||sigmoid(theta x^i + b) - y^i||^2."""
    m = len(v["x"])
    yhat = 1 / (1 + np.exp(-(v["x"] @ v["theta"].T + v["b"])))
    loss = 0.5 * np.sum((yhat - v["y"]) ** 2) / m
    dz = (yhat - v["y"]) * yhat * (1 - yhat) / m
    return {"L": loss, "grad_theta": dz.T @ v["x"], "grad_b": dz.sum(axis=0)}


def test_grad_writes_the_loss_and_every_gradient(cli, small_npz, tmp_path):
    out = tmp_path / "result" / "grads.npz"
    result = cli("grad", SMALL, "--values", small_npz, "--out", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == str(out)
    with np.load(out) as got:
        got = dict(got)
    want = small_by_hand(small_values())
    assert set(got) == set(want)
    for key in want:
        assert got[key].shape == np.shape(want[key])
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-14)
    assert [p.name for p in out.parent.iterdir()] == ["grads.npz"]  # no temporary file left


def test_grad_overwrites_and_takes_a_setting(cli, tmp_path):
    values = small_values()
    values["y"] = np.random.default_rng(1).uniform(size=(4, 3))  # width 3
    values["theta"] = np.ones((3, 3))
    values["b"] = np.zeros(3)
    np.savez(tmp_path / "v.npz", **values)
    out = tmp_path / "g.npz"
    out.write_bytes(b"old")
    result = cli("grad", SMALL, "--values", tmp_path / "v.npz", "--out", out, "--set", "width=3")
    assert result.exit_code == 0, result.output
    with np.load(out) as got:
        np.testing.assert_allclose(got["grad_theta"], small_by_hand(values)["grad_theta"])


def test_python_api_matches_the_command(cli, small_npz, tmp_path):
    out = tmp_path / "g.npz"
    assert cli("grad", SMALL, "--values", small_npz, "--out", out).exit_code == 0
    api = derive.load(SMALL).compile().loss_and_grads(small_values())
    with np.load(out) as got:
        assert set(got.files) == set(api)
        for key in api:
            np.testing.assert_array_equal(got[key], api[key])


def multitask_loss(v: dict) -> float:
    """The multi-task network's loss, written out in NumPy independently of derive."""
    z_1A = v["x"] @ v["theta_1A"].T + v["b_1A"]
    x_2A = (np.sin(z_1A) * v["M"]) @ v["theta_2A"].T + v["b_2A"]
    x_1B = v["x"] @ v["theta_1B"].T
    x_bn = np.maximum(x_1B - x_1B.mean(axis=0) + v["b_1B"], 0)
    z_2B = (x_2A + x_bn) @ v["theta_2B"].T + v["b_2B"]
    log_p = z_2B - z_2B.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    m = len(v["x"])
    return 0.5 * np.sum((x_2A - v["y_A"]) ** 2) / m - np.sum(v["y_B"] * log_p) / m


def test_grad_of_the_multitask_network_against_finite_differences(cli, tmp_path):
    values = multitask_values()
    np.savez(tmp_path / "in.npz", **values)
    result = cli("grad", MULTITASK, "--values", tmp_path / "in.npz", "--out", tmp_path / "o.npz")
    assert result.exit_code == 0, result.output
    with np.load(tmp_path / "o.npz") as f:
        got = dict(f)
    params = ["theta_1A", "b_1A", "theta_2A", "b_2A", "theta_1B", "b_1B", "theta_2B", "b_2B"]
    assert set(got) == {"L"} | {f"grad_{p}" for p in params}
    np.testing.assert_allclose(got["L"], multitask_loss(values), rtol=1e-12)
    eps = 1e-6
    for p in params:
        numeric = np.zeros_like(values[p])
        for idx in np.ndindex(values[p].shape):
            plus = {**values, p: values[p].copy()}
            minus = {**values, p: values[p].copy()}
            plus[p][idx] += eps
            minus[p][idx] -= eps
            numeric[idx] = (multitask_loss(plus) - multitask_loss(minus)) / (2 * eps)
        assert got[f"grad_{p}"].shape == values[p].shape
        error = np.max(np.abs(got[f"grad_{p}"] - numeric)) / max(np.max(np.abs(numeric)), 1e-8)
        assert error < 1e-6, (p, error)


# --- report --------------------------------------------------------------------------------
def test_report_tex_into_the_given_folder(cli, tmp_path):
    out = tmp_path / "out"
    result = cli("report", SMALL, "--out", out, "--format", "tex")
    assert result.exit_code == 0, result.output
    assert (out / "small.tex").is_file()
    assert str(out / "small.tex") in result.stdout.splitlines()
    assert not (out / "small.pdf").exists()


def test_report_default_folder_and_markdown(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = cli("report", SMALL, "--format", "md")
    assert result.exit_code == 0, result.output
    folder = tmp_path / "reports" / "small"
    assert (folder / "small.tex").is_file()
    assert (folder / "small.md").is_file()
    assert "$$" in (folder / "small.md").read_text()


def test_report_is_written_but_exits_1_when_a_check_fails(cli, tmp_path, monkeypatch):
    monkeypatch.setattr(derive.verify, "verify", failing)
    result = cli("report", SMALL, "--out", tmp_path, "--format", "tex")
    assert result.exit_code == 1
    assert (tmp_path / "small.tex").is_file()
    assert "dL/dtheta" in result.stderr and "dL/db" not in result.stderr


def test_report_pdf_of_the_small_network(cli, tmp_path):
    need_latex()
    result = cli("report", SMALL, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "small.pdf"
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    assert str(pdf) in result.stdout.splitlines()


def test_report_pdf_of_a_file_whose_name_has_underscores(cli, tmp_path):
    """Users name files my_net.py: the name must not break the LaTeX."""
    need_latex()
    path = tmp_path / "my_small_net.py"
    path.write_text(SMALL.read_text())
    result = cli("report", path, "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "small.pdf").is_file()


def test_the_main_job_multitask_pdf(cli, tmp_path, monkeypatch):
    """The README's first command: `derive report examples/multitask.py`."""
    need_latex()
    monkeypatch.chdir(tmp_path)
    result = cli("report", MULTITASK)
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "reports" / "multitask" / "multitask.pdf"
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    assert (tmp_path / "reports" / "multitask" / "multitask.tex").is_file()


# --- the README's examples work as written ------------------------------------------------
def readme_blocks(language: str) -> list[str]:
    text = (MULTITASK.parent.parent / "README.md").read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def test_readme_network_and_python_api(tmp_path, monkeypatch):
    network, api = readme_blocks("python")
    (tmp_path / "mlp.py").write_text(network)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(api, "README.md", "exec"), namespace)
    out = namespace["out"]
    assert {k: v.shape for k, v in out.items()} == {
        "L": (), "grad_W_1": (5, 4), "grad_b_1": (5,), "grad_W_2": (3, 5), "grad_b_2": (3,)
    }  # fmt: skip
    assert np.isfinite(out["L"])


def test_readme_error_example(cli, monkeypatch):
    (example,) = readme_blocks("text")
    monkeypatch.chdir(MULTITASK.parent.parent)
    result = cli("verify", "tests/data/shape_mismatch.py")
    assert result.exit_code == 2
    assert result.stderr == example


# --- the CLI as a new user meets it ---------------------------------------------------------
def test_help_shows_no_type_for_flags_and_whole_sentences(cli):
    top = cli("--help").stdout
    assert "<bool>" not in top and "<bool>" not in cli("check", "--help").stdout
    flat = " ".join(line.strip(" │") for line in top.splitlines())
    assert "or grade a student's answers (or a whole class) against" in " ".join(flat.split())
    assert "(or,\n" not in top


def test_bad_option_values_are_one_line(cli, tmp_path):
    fmt = cli("report", SMALL, "--format", "docx")
    assert fmt.exit_code == 2 and fmt.stderr == "derive: error: --format docx: use pdf, tex or md\n"
    k = cli("verify", EXAMPLES / "klayer.py", "--set", "k=abc")
    assert k.exit_code == 2
    assert k.stderr.strip().endswith("--set k=abc: expected a whole number (the default is 3)")
    path = tmp_path / "noloss.py"
    path.write_text("from derive import Network\nnet = Network('n')\n")
    none = cli("verify", path)
    assert none.stderr == f"derive: error: {path}: network n declares no loss (use net.loss(...))\n"


def test_verify_labels_every_column_and_report_says_what_was_proved(cli, tmp_path):
    header = cli("verify", SMALL).stdout.splitlines()[0]
    assert header.split()[-1] == "verdict"
    done = cli("report", SMALL, "--format", "tex", "-o", tmp_path)
    assert done.stdout.splitlines() == [str(tmp_path / "small.tex")]
    assert "of" in done.stderr and "residuals and gradients proved" in done.stderr


def test_a_report_records_the_settings_it_was_derived_with(cli, tmp_path):
    cli("report", EXAMPLES / "klayer.py", "--set", "k=2", "--format", "tex", "-o", tmp_path)
    tex = (tmp_path / "klayer.tex").read_text()
    assert r"with the setting \texttt{k = 2} (the file's default: \texttt{3})" in tex


def test_verify_end_to_end_on_request(cli):
    """Depth 9: layer by layer by default, both with --end-to-end."""
    default = cli("verify", MULTITASK)
    assert "symbolic: layer by layer" in default.stdout
    both = cli("verify", MULTITASK, "--end-to-end")
    assert both.exit_code == 0 and "symbolic: end to end, and layer by layer" in both.stdout
