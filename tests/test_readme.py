"""Every example of the README runs as written: each `derive` command of its sh blocks (in a
scratch folder holding the examples, through the installed console script), its YAML blocks
(an assignment, answers, claims, values: each read and used), and the output it shows for
`derive check`."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, ROOT, need_latex

README = (ROOT / "README.md").read_text()


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def command_blocks() -> list[list[str]]:
    """The derive commands of each sh block, continuation lines joined, comments dropped."""
    out = []
    for block in blocks("sh"):
        lines = [line.split("  #")[0].strip() for line in block.replace("\\\n", " ").splitlines()]
        found = [line for line in lines if line.startswith("derive ")]
        if found:
            out.append(found)
    return out


def commands() -> list[str]:
    return [c for block in command_blocks() for c in block]


def console_script() -> str:
    beside = Path(sys.executable).parent / "derive"
    return str(beside) if beside.is_file() else shutil.which("derive")


def test_the_readme_has_its_commands():
    found = commands()
    assert len(found) >= 12
    assert any(c.startswith("derive check --assignment") for c in found)


def run_block(folder: Path, block: list[str]) -> list[str]:
    """Run one sh block's commands in order in ``folder``; the problems, if any."""
    shutil.copytree(EXAMPLES, folder / "examples")
    env = {**os.environ, "COLUMNS": "100"}
    problems = []
    for command in block:
        done = subprocess.run([console_script(), *shlex.split(command)[1:]], cwd=folder,
                              env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
        if done.returncode != 0 or "Traceback" in done.stderr:
            problems.append(f"{command}: exit {done.returncode}\n{done.stderr[-2000:]}")
    return problems


def test_every_readme_command_runs(tmp_path):
    """Each block in a scratch folder of its own (a block's commands may use each other's
    output), two blocks at a time."""
    from concurrent.futures import ThreadPoolExecutor

    need_latex()
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(run_block, tmp_path / f"b{k}", block)
                for k, block in enumerate(command_blocks())]  # fmt: skip
        problems = [p for run in runs for p in run.result()]
    assert not problems, "\n".join(problems)


def test_the_check_output_shown(cli, monkeypatch):
    (block,) = [b for b in blocks("console") if b.startswith("$ derive check")]
    command, printed = block.split("\n", 1)
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "100")
    result = cli(*shlex.split(command)[2:])
    assert result.exit_code == 0, result.output
    assert result.stdout == printed


# --- the YAML blocks --------------------------------------------------------------------
def yaml_block(first_key: str) -> str:
    (block,) = [b for b in blocks("yaml") if b.lstrip().startswith(f"{first_key}:")]
    return block


def test_the_values_block_is_the_shipped_values_file():
    assert yaml.safe_load(yaml_block("x")) == yaml.safe_load(
        (EXAMPLES / "hand321_values.yaml").read_text()
    )


def test_the_assignment_answers_and_claims_blocks(tmp_path):
    from derive.claims.assignment import read_assignment
    from derive.claims.grade import check_file, prepare

    shutil.copytree(EXAMPLES, tmp_path / "examples")
    (tmp_path / "examples" / "readme.yaml").write_text(yaml_block("assignment"))
    grader = prepare(read_assignment(tmp_path / "examples" / "readme.yaml"))
    (tmp_path / "bob.yaml").write_text(yaml_block("student"))
    result = grader.grade(tmp_path / "bob.yaml")
    got = {c.id: (c.verdict, c.slip) for c in result.claims}
    assert got == {"sigmoid": ("incorrect", None), "dW2": ("incorrect", "a missing 1/m"),
                   "w1": ("incorrect", "a sign error")}  # fmt: skip
    (tmp_path / "examples" / "claims2.yaml").write_text(yaml_block("network"))
    claims = check_file(tmp_path / "examples" / "claims2.yaml", (tmp_path / "examples" / "mlp.py",))
    assert [c.verdict for c in claims.claims] == ["correct", "incorrect"]


@pytest.mark.parametrize(
    "name", ["assignment.yaml", "homework.yaml", "claims.yaml", "hand321_values.yaml"]
)
def test_the_shipped_example_files_parse(name):
    assert isinstance(yaml.safe_load((EXAMPLES / name).read_text()), dict)
