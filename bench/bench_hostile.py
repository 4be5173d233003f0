"""The grader under attack: hostile claims, hostile files, and kills (issue 10's figures).

1. **Claims**: N generated claim strings (random pieces of LaTeX and plain text, attacks such as
   ``__import__``, ``\\input``, towers of exponents, deep nesting, and well-formed claims built by
   a small grammar), each checked against the declared symbols and against the MLP, with the
   limits of a class run (10 s an answer). Reports the verdicts, the slowest claim, and how many
   came back as an internal failure of the checker (must be 0).
2. **Files**: a class of hostile answers files (every question answered by the slowest kinds of
   claim, YAML bombs, deep nesting, 250 kB files, a 3 GB sparse file, symbolic links, a FIFO,
   surrogates, control characters) graded by two workers with the limits on. Reports the slowest
   file and the largest memory of a worker.
3. **Kills**: a class of 300 students graded by `derive check --class` in a subprocess that is
   killed (SIGKILL) five times at random moments, and once more with a worker killed mid-run,
   then run to the end. Reports the rows lost (must be 0) and doubled (must be 0).

    python bench/bench_hostile.py [--claims 20000] [--skip-kills]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PIECES = [
    r"\frac{", "}", "{", "(", ")", "[", "]", "x", "u", "W", "y", "e", "m", "i", "j", "T", "^", "_",
    "+", "-", "=", r"\circ", "*", "/", "**", ",", "|", r"\|", r"\sigma", r"\tanh", r"\log",
    r"\exp", r"\sum_{i=1}^{m}", r"\partial", r"\mathbf{", r"\hat{", r"\mathbb{1}", ">", "0", "1",
    "2", "0.5", "9" * 40, "1e999", r"\input{/etc/passwd}", r"\def", "__import__('os')", "'", '"',
    "\\", " ", "²", "\x00", "\x1b[2J", "\ud800", r"\text{", r"\begin{cases}", "&", r"\\", "%",
    r"\mathbf{p}^i", r"\mathbf{h}^i", "W_2", r"\frac{\partial J}{\partial W_2}",
]  # fmt: skip
ATTACKS = [
    "__import__('os').system('touch HACKED') = 1", "x.__class__.__bases__ = 1",
    "10**100**100 = 1", "2^{10^{10}} = 1", r"\input{/etc/passwd} = 1", r"\def\x{1} \x = 1",
    r"\immediate\write18{touch HACKED} = 1", "(" * 5000 + "x" + ")" * 5000 + " = 1",
    "x+" * 900 + "x = 1", r"e^{e^{e^{e^{e^{x}}}}} = 1", r"x^{12}^{12}^{12} = 1",
    r"\sum_{i=1}^{m}" * 40 + r"\mathbf{p}^i = 1", r"\sigma(" * 45 + "x" + ")" * 45 + " = 1",
]  # fmt: skip
ATOMS = ["x", "u", "W", "1", "2", "e", r"\mathbf{p}^i", r"\mathbf{h}^i", "W_2", r"\mathbf{1}"]
FUNCS = [r"\sigma(@)", r"\tanh(@)", r"\exp(@)", r"\log(@)", r"\max(0, @)", r"\|@\|",
         r"\mathbb{1}[@ > 0]", "softmax(@)", r"\operatorname{diag}(@)"]  # fmt: skip


def grammar(rng: random.Random, depth: int = 0) -> str:
    if depth > 3 or rng.random() < 0.3:
        return rng.choice(ATOMS)
    a, b = grammar(rng, depth + 1), grammar(rng, depth + 1)
    return rng.choice([f"{a} + {b}", f"{a} {b}", f"{a} \\circ {b}", f"\\frac{{{a}}}{{{b}}}",
                       f"({a})^T", f"({a})^2", rng.choice(FUNCS).replace("@", a),
                       f"\\sum_{{i=1}}^{{m}} {a}", f"-{a}"])  # fmt: skip


def claims(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out = list(ATTACKS)
    while len(out) < n:
        kind = rng.random()
        if kind < 0.5:
            out.append("".join(rng.choice(PIECES) for _ in range(rng.randint(1, 25))))
        else:
            lhs = rng.choice([grammar(rng), r"\frac{\partial J}{\partial W_2}",
                              r"\frac{\partial J}{\partial \mathbf{s}_1^i}"])  # fmt: skip
            out.append(f"{lhs} = {grammar(rng)}")
    return out[:n]


def bench_claims(n: int) -> dict:
    from derive.claims.check import Checker, Context
    from derive.claims.claimfile import ClaimEntry, symbols_of
    from derive.claims.grade import loaded

    symbols = symbols_of({"x": "scalar", "u": {"vector": "n"}, "W": {"matrix": ["n", "n"]}}, "s")
    net, derivation = loaded(ROOT / "examples" / "mlp.py", {})
    checkers = [Checker(Context(None, None, symbols)), Checker(Context(net, derivation))]
    verdicts, internal, slowest, times = Counter(), [], (0.0, ""), []
    start = time.perf_counter()
    for text in claims(n):
        for checker in checkers:
            result = checker.check(ClaimEntry("q", text), seconds=10.0)
            verdicts[result.verdict] += 1
            if result.message.startswith("derive could not check"):
                internal.append((text, result.message))
            times.append((result.seconds, text, checker is checkers[1]))
            if result.seconds > slowest[0]:
                slowest = (result.seconds, text)
    return {"claims": n, "checks": 2 * n, "verdicts": dict(verdicts), "internal": internal,
            "slowest": slowest, "seconds": time.perf_counter() - start,
            "top": sorted(times, reverse=True)[:40]}  # fmt: skip


# --- files ------------------------------------------------------------------------------
def hostile_class(folder: Path, n: int, questions: list[str]) -> None:
    import yaml

    rng = random.Random(1)
    folder.mkdir(parents=True)
    d = r"\frac{d}{dx} \sigma(\tanh(\sigma(\tanh(x))))"
    slow = rf"\sigma(x)(1-\sigma(x)) + {d} - {d}"  # right, and about 2 s to prove exactly
    pool = [a for a in ATTACKS if len(a) > 200] + [c.replace("\ud800", "") for c in claims(50)]
    for k in range(n):
        texts = {q: slow if k % 4 == 0 else rng.choice(pool) for q in questions}
        (folder / f"s{k:03d}.yaml").write_text(
            yaml.safe_dump(
                {"student": f"s{k:03d}", "answers": texts}, allow_unicode=True, width=10**6
            )  # fmt: skip
        )
    (folder / "bomb.yaml").write_text("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
        for p, c in zip("abcdefgh", "bcdefghi")))  # fmt: skip
    (folder / "deep.yaml").write_text("answers: " + "[" * 240_000)
    (folder / "big.yaml").write_text("answers:\n" + "".join(f"  q{k}: 'x'\n" for k in range(20000)))
    with open(folder / "sparse.yaml", "wb") as f:
        f.truncate(3 * 2**30)
    (folder / "link.yaml").symlink_to("/etc/passwd")
    os.mkfifo(folder / "fifo.yaml")
    (folder / "surrogate.yaml").write_text('student: "\\ud800"\nanswers: {sig: "\\e]0;x\\a"}\n')
    (folder / "\udcff.yaml").write_text("answers: {}\n", errors="surrogateescape")


def bench_slow_file(top: list, claims_n: int = 200) -> dict:
    """A claims file of ``claims_n`` claims, the slowest kinds the claims above found, checked
    as a quick check of a class does (two workers' limits): the file stops at its budget."""
    import yaml

    from derive.claims.classrun import run_class
    from derive.claims.grade import check_file

    mlp = ROOT / "examples" / "mlp.py"
    with tempfile.TemporaryDirectory(prefix="derive-slow-") as tmp:
        tmp = Path(tmp)
        (tmp / "class").mkdir()
        files = {"symbols.yaml": [t for _, t, on_net in top if not on_net],
                 "network.yaml": [t for _, t, on_net in top if on_net]}  # fmt: skip
        for name, texts in files.items():
            claims_ = [{"id": f"c{k}", "claim": texts[k % len(texts)]} for k in range(claims_n)]
            data = {"symbols": {"x": "scalar", "u": {"vector": "n"},
                                "W": {"matrix": ["n", "n"]}}, "claims": claims_}  # fmt: skip
            if name == "network.yaml":
                del data["symbols"]
            (tmp / "class" / name).write_text(yaml.safe_dump(data, width=10**6))

        def check(path, student):
            return check_file(path, (mlp,) if path.name == "network.yaml" else ())

        start = time.perf_counter()
        run_class(tmp / "class", tmp / "out", check=check, workers=2, pdf=False,
                  fingerprint="slow")  # fmt: skip
        seconds = time.perf_counter() - start
        results = json.loads((tmp / "out" / "results.json").read_text())["students"]
    per_file = [sum(c.get("seconds", 0) for c in r["claims"]) for r in results]
    return {"claims": claims_n, "seconds": seconds, "slowest_file": max(per_file)}


def bench_files(n: int) -> dict:
    from derive.claims.assignment import read_assignment
    from derive.claims.classrun import run_class
    from derive.claims.grade import prepare

    with tempfile.TemporaryDirectory(prefix="derive-hostile-") as tmp:
        tmp = Path(tmp)
        grader = prepare(read_assignment(ROOT / "examples" / "homework.yaml"))
        hostile_class(tmp / "class", n, [q.id for q in grader.assignment.questions])
        start = time.perf_counter()
        summary = run_class(tmp / "class", tmp / "out", grader, workers=2, pdf=False)
        seconds = time.perf_counter() - start
        data = json.loads((tmp / "out" / "results.json").read_text())
        per_file = sorted(sum(c.get("seconds", 0) for c in s["claims"]) for s in data["students"])
        errors = [s.get("error", "") for s in data["students"] if s.get("error")]
    return {"files": summary.students, "seconds": seconds, "slowest_file": per_file[-1],
            "peak_mb": summary.peak_mb, "errors": len(errors), "error_kinds": Counter(
                e.split(":")[-1].strip()[:50] for e in errors).most_common(8)}  # fmt: skip


# --- kills ------------------------------------------------------------------------------
def bench_kills(students: int = 300, kills: int = 5, seed: int = 2) -> dict:
    import yaml

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="derive-kills-") as tmp:
        tmp = Path(tmp)
        folder = tmp / "class"
        folder.mkdir()
        answers = [{"sigmoid": r"\sigma(x)(1-\sigma(x))", "E": 1.7336}, {"tanh": "1 - x"},
                   {"w1": 0.0043, "dW2": r"\sum_{i=1}^{m} \mathbf{p}^i"}]  # fmt: skip
        for k in range(students):
            data = {"student": f"s{k:03d}", "answers": rng.choice(answers)}
            (folder / f"s{k:03d}.yaml").write_text(yaml.safe_dump(data))
        command = [sys.executable, "-m", "derive", "check", "-a",
                   str(ROOT / "examples" / "homework.yaml"), "--class", str(folder), "-o",
                   str(tmp / "out"), "--no-pdf"]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        gradebook = tmp / "out" / "gradebook.csv"
        killed = 0
        for _ in range(kills):  # killed each time a few more students are done
            before = _rows(gradebook)
            proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)  # fmt: skip
            want = before + rng.randint(10, 40)
            while proc.poll() is None and _rows(gradebook) < want:
                time.sleep(0.05)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            proc.wait()
        # a worker killed mid-run: that student is an error row, graded again by the next run
        proc = subprocess.Popen(command + ["--redo"], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)  # fmt: skip
        children: list[int] = []
        while proc.poll() is None and not children:
            time.sleep(0.05)
            children = _children(proc.pid) if _rows(gradebook) > 20 else []
        if children:
            os.kill(children[0], signal.SIGKILL)
        proc.wait()
        worker_rows = sum(1 for r in csv.DictReader(io.StringIO(gradebook.read_text()))
                          if "killed by SIGKILL" in r["error"])  # fmt: skip
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        rows = list(csv.DictReader(io.StringIO((tmp / "out" / "gradebook.csv").read_text())))
        ids = Counter(r["student"] for r in rows)
        lost = students - len(ids)
        doubled = sum(n - 1 for n in ids.values())
        ungraded = sum(1 for r in rows if r["error"])
    return {"students": students, "parent_kills": killed, "worker_killed": worker_rows,
            "lost": lost, "doubled": doubled, "error_rows_at_the_end": ungraded,
            "last_run": done.stdout.strip().splitlines()[-6:-5]}  # fmt: skip


def _rows(gradebook: Path) -> int:
    try:
        return max(0, len(gradebook.read_text().splitlines()) - 1)
    except OSError:
        return 0


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=20000)
    parser.add_argument("--files", type=int, default=40, help="hostile answers files")
    parser.add_argument("--skip-kills", action="store_true")
    args = parser.parse_args()
    c = bench_claims(args.claims)
    print(f"claims: {c['claims']:,} strings, {c['checks']:,} checks in {c['seconds']:.0f} s; "
          f"verdicts {c['verdicts']}; internal failures {len(c['internal'])}; the slowest claim "
          f"{c['slowest'][0]:.2f} s ({c['slowest'][1][:60]!r})")  # fmt: skip
    for text, message in c["internal"][:5]:
        print("   ", repr(text[:80]), message[:100])
    f = bench_files(args.files)
    print(f"files: {f['files']} hostile answers files in {f['seconds']:.1f} s; the slowest file "
          f"{f['slowest_file']:.1f} s of checking; the largest worker {f['peak_mb']:.0f} MB; "
          f"{f['errors']} error rows: {f['error_kinds']}")  # fmt: skip
    s = bench_slow_file(c["top"])
    print(
        f"slow files: {s['claims']} claims each, of the 40 slowest kinds above: the slowest "
        f"file {s['slowest_file']:.1f} s of checking ({s['seconds']:.1f} s for both)"
    )
    if not args.skip_kills:
        k = bench_kills()
        print(f"kills: {k['students']} students, the parent killed {k['parent_kills']} times and "
              f"a worker once ({k['worker_killed']} error row): rows lost {k['lost']}, doubled "
              f"{k['doubled']}, error rows at the end {k['error_rows_at_the_end']}; "
              f"{k['last_run']}")  # fmt: skip


if __name__ == "__main__":
    main()
