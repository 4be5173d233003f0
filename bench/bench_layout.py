"""What a reader sees in every example's report: the tallest displayed formula (its rows, one
formula being an ``lhs = ... = ...`` chain) and the page count of the PDF, here and, with
``--against REV``, at another revision (checked out in a temporary git worktree), side by side.

    python bench/bench_layout.py [--against REV] [--examples mlp,batchnorm]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ["mlp", "mlp2", "multitask", "linear_softmax", "klayer", "batchnorm", "vae", "losses"]

#: Runs in the revision's own tree: writes each report's .tex and PDF, prints one JSON line.
MEASURE = r"""
import json, re, subprocess, sys
from pathlib import Path
from derive.graph import load
from derive.render.report import write_report
from derive.verify import verify
import derive.render.report as R

# the templates of this tree, not those of the installed derive
R._template_source = lambda name: (Path(sys.argv[1]) / "templates" / name).read_text("utf-8")

def formulas(tex):
    rows_of = []
    for block in re.findall(r"\\begin\{align\*\}(.*?)\\end\{align\*\}", tex, re.S):
        current = 0
        for row in re.split(r"\\\\\s*\n", block):
            for part in re.split(r"\\intertext\{[^}]*\}", row):
                text = part.strip()
                if not text:
                    continue
                if text.startswith("&") and current:
                    current += 1
                else:
                    if current:
                        rows_of.append(current)
                    current = 1
        if current:
            rows_of.append(current)
    return rows_of

out = {}
for name in sys.argv[2].split(","):
    net = load(Path(sys.argv[1]) / "examples" / f"{name}.py")
    d = net.derive()
    target = Path(sys.argv[3]) / name
    write_report(d, verify(d), target, {"tex", "pdf"})
    tex = (target / f"{net.name}.tex").read_text()
    pdf = target / f"{net.name}.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    rows = formulas(tex)
    out[name] = {"tallest": max(rows), "formulas": len(rows),
                 "over_4_rows": sum(r > 4 for r in rows), "pages": pages}
print(json.dumps(out))
"""


def measure(tree: Path, names: list[str], python: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([python, "-c", MEASURE, str(tree), ",".join(names), tmp],
                              capture_output=True, text=True, cwd=tree,
                              env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})  # fmt: skip
    if done.returncode != 0:
        sys.exit(f"measuring {tree} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", metavar="REV", help="also measure this revision")
    parser.add_argument("--examples", default=",".join(EXAMPLES))
    args = parser.parse_args()
    names = args.examples.split(",")
    here = measure(ROOT, names, sys.executable)
    there = None
    if args.against:
        tmp = Path(tempfile.mkdtemp())
        tree = tmp / "tree"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(tree), args.against],
                       cwd=ROOT, check=True)  # fmt: skip
        try:
            there = measure(tree, names, sys.executable)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT)
            shutil.rmtree(tmp, ignore_errors=True)
    head = "example          tallest formula (rows)   formulas over 4 rows   pages"
    print(head + (f"   (before: {args.against} -> now)" if there else ""))
    for name in names:
        now = here[name]
        if there:
            was = there[name]
            print(f"  {name:<16} {was['tallest']:>6} -> {now['tallest']:<12} "
                  f"{was['over_4_rows']:>6} -> {now['over_4_rows']:<12} "
                  f"{was['pages']:>3} -> {now['pages']}")  # fmt: skip
        else:
            print(f"  {name:<16} {now['tallest']:>6} {now['over_4_rows']:>22} {now['pages']:>14}")


if __name__ == "__main__":
    main()
