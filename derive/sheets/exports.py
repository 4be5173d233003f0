"""What a course takes to an existing platform: a Gradescope autograder (a zip that runs derive
on each submission), and Moodle XML for the number questions (one question per variant).

The Gradescope zip holds ``setup.sh`` (installs Python and derive's dependencies, pinned to the
versions that made the sheets), ``run_autograder`` (grades ``/autograder/submission`` and writes
``/autograder/results/results.json``), derive's own package, and the key with the assignment and
its network files. Gradescope runs it on its own machines: the course that outgrows one machine
grades on that platform's infrastructure, with the same verdicts as ``derive check``.
"""

from __future__ import annotations

import html
import importlib.metadata
import io
import json
import re
import zipfile
from pathlib import Path

from derive.errors import DeriveError
from derive.safeio import shown

DEPENDENCIES = ("sympy", "numpy", "jinja2", "typer", "pyyaml", "lark")

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when the autograder image is built.
set -euo pipefail
apt-get update -qq
apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q {pins}
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for each submission: derive grades it against the key.
set -uo pipefail
cd /autograder/source
PYTHONPATH=/autograder/source /autograder/venv/bin/python -m derive.sheets.gradescope \\
    /autograder/source/assignment/key.json /autograder/submission \\
    /autograder/results/results.json
"""


def _pins() -> str:
    pins = []
    for name in DEPENDENCIES:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pins.append(name)
    return " ".join(pins)


def _package_files() -> list[tuple[Path, str]]:
    """derive's own files (its Python modules and templates) and their names in the zip."""
    import derive

    root = Path(derive.__file__).resolve().parent
    files = [(p, "derive/" + p.relative_to(root).as_posix()) for p in sorted(root.rglob("*.py"))
             if "__pycache__" not in p.parts]  # fmt: skip
    try:
        import importlib.resources

        templates = Path(str(importlib.resources.files("derive.templates")))
    except ModuleNotFoundError:
        templates = root.parent / "templates"
    files += [(p, "derive/templates/" + p.name) for p in sorted(templates.glob("*.j2"))]
    if not any(name == "derive/templates/__init__.py" for _, name in files):
        files.append((templates / "__init__.py", "derive/templates/__init__.py"))
    return files


def gradescope_zip(key_path: Path, key: dict, assignment) -> bytes:
    """The autograder zip, in memory: the key and the assignment's files keep their places
    relative to one another (a file outside the assignment's folder cannot be carried)."""
    folder = assignment.path.parent.resolve()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in (("setup.sh", SETUP.format(pins=_pins())), ("run_autograder", RUN)):
            info = zipfile.ZipInfo(name)
            info.external_attr = 0o755 << 16  # executable, as Gradescope runs them
            z.writestr(info, text)
        for path, name in _package_files():
            z.write(path, "source/" + name)
        for source in assignment.sources:
            source = Path(source).resolve()
            if source == Path(key_path).resolve():
                continue
            if not source.is_relative_to(folder):
                raise DeriveError(f"{shown(source)} is outside the assignment's folder: keep the "
                                  "network files beside the assignment to export it")  # fmt: skip
            z.write(source, "source/assignment/" + source.relative_to(folder).as_posix())
        moved = {**key, "assignment_file": assignment.path.name}
        z.writestr("source/assignment/key.json", json.dumps(moved, indent=1) + "\n")
    return buffer.getvalue()


def _html(statement: str) -> str:
    """A statement's LaTeX text for Moodle: text escaped, $...$ as \\( ... \\) for MathJax."""
    parts = statement.split("$")
    out = []
    for k, part in enumerate(parts):
        out.append(html.escape(part) if k % 2 == 0 else r"\(" + html.escape(part) + r"\)")
    return "<p>" + "".join(out) + "</p>"


def moodle_xml(key: dict) -> str:
    """Moodle XML: for each number question a category, and in it one ``numerical`` question
    per variant, its tolerance absolute as Moodle's is (the relative one times the answer)."""
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    per_question: dict[str, dict[str, dict]] = {}
    for entry in key["students"].values():
        for qid, q in entry["questions"].items():
            if q["kind"] == "number" and q.get("variant"):
                per_question.setdefault(qid, {})[q["variant"]] = q
    base = re.sub(r"[^A-Za-z0-9 _-]", "", key.get("course") or "") or "derive"
    for qid, variants in per_question.items():
        lines += [
            '  <question type="category">',
            f"    <category><text>$course$/{html.escape(base)}/{html.escape(key['assignment'])}/"
            f"{html.escape(qid)}</text></category>",
            "  </question>",
        ]
        for variant, q in sorted(variants.items()):
            value = float(q["answer"])
            tolerance = max(q["tolerance"] * abs(value), q["abs_tolerance"])
            lines += [
                '  <question type="numerical">',
                f"    <name><text>{html.escape(qid)} {variant}</text></name>",
                '    <questiontext format="html">',
                f"      <text><![CDATA[{_html(q['statement'])}]]></text>",
                "    </questiontext>",
                f"    <defaultgrade>{q['points']:g}</defaultgrade>",
                '    <answer fraction="100">',
                f"      <text>{q['answer']}</text>",
                f"      <tolerance>{tolerance:.12g}</tolerance>",
                "    </answer>",
                "  </question>",
            ]
    lines.append("</quiz>")
    return "\n".join(lines) + "\n"
