"""A class graded in parts on several machines (Slurm array jobs, any job runner), and the parts
merged: ``derive check -a A --class DIR --shard K/N -o OUT_K`` on each machine, then
``derive check -a A --merge OUT_1 ... --merge OUT_N -o OUT``.

A submission belongs to part ``1 + int(sha256(its path in the folder)) mod N``: every machine
that sees the same folder splits it the same way, whatever it runs on. Each part records in
``shard.json`` which part it is, the assignment it was graded against, the whole class it saw and
its own submissions; the merge checks that the parts are 1..N of the same N, once each, graded
against this assignment, of the same class, that together they hold every submission exactly
once and that each is finished, and then writes one gradebook, results.json and the feedback.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from derive.claims import gradebook
from derive.errors import DeriveError
from derive.safeio import shown

NAME = "shard.json"


def parse_shard(text: str) -> tuple[int, int]:
    """ "K/N" -> (K, N), 1 <= K <= N."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)) <= 10_000:
        raise DeriveError(f"--shard {text}: expected K/N with 1 <= K <= N, like --shard 2/4")
    return int(m.group(1)), int(m.group(2))


def in_shard(relative: str, shard: tuple[int, int]) -> bool:
    k, n = shard
    digest = hashlib.sha256(os.fsencode(relative)).digest()
    return int.from_bytes(digest[:8], "big") % n == k - 1


def write_shard(out: Path, shard: tuple[int, int], fingerprint: str, everyone, mine) -> None:
    from derive.claims.classrun import write_text_atomically

    record = {"shard": list(shard), "assignment": fingerprint,
              "class": [s.label for s in everyone], "mine": [s.label for s in mine]}  # fmt: skip
    write_text_atomically(Path(out) / NAME, json.dumps(record, indent=1) + "\n")


@dataclass(frozen=True)
class _Row:
    relative: str  # the label: what class_rows keys the results by


def merge_shards(folders: list[Path], out: Path, assignment) -> tuple[int, int]:
    """Merge the parts into ``out``; (submissions, parts). A DeriveError names what does not
    fit: a part missing or given twice, another assignment, another class, a part unfinished."""
    from derive.claims.classrun import assignment_fingerprint, class_rows, write_text_atomically

    parts = []
    for folder in folders:
        path = Path(folder) / NAME
        try:
            record = json.loads(path.read_text("utf-8"))
            k, n = record["shard"]
            results = json.loads((Path(folder) / "results.json").read_text("utf-8"))
        except (OSError, ValueError, KeyError, TypeError):
            raise DeriveError(f"{shown(folder)}: not a part graded with --shard (no {NAME} "
                              "and results.json)") from None  # fmt: skip
        parts.append((Path(folder), int(k), int(n), record, results))
    sizes = {n for _, _, n, _, _ in parts}
    if len(sizes) != 1:
        raise DeriveError(f"the parts split the class differently (into {sorted(sizes)} parts)")
    n = sizes.pop()
    given = sorted(k for _, k, _, _, _ in parts)
    twice = sorted({k for k in given if given.count(k) > 1})
    if twice:
        raise DeriveError(f"part {twice[0]} of {n} is given twice")
    missing = sorted(set(range(1, n + 1)) - set(given))
    if missing:
        raise DeriveError(f"part {missing[0]} of {n} is missing ({len(parts)} of {n} given)")
    fingerprint = assignment_fingerprint(assignment)
    whole = parts[0][3]["class"]
    for folder, k, _, record, _ in parts:
        if record["assignment"] != fingerprint:
            raise DeriveError(f"{shown(folder)}: part {k} was graded against another assignment "
                              "(its files or derive's version differ): grade it again")  # fmt: skip
        if record["class"] != whole:
            seen = len(record["class"])
            raise DeriveError(f"{shown(folder)}: part {k} saw another class folder ({seen} "
                              f"submissions, not {len(whole)})")  # fmt: skip
    owner: dict[str, int] = {}
    results = {}
    for folder, k, _, record, data in parts:
        for label in record["mine"]:
            if label in owner:
                raise DeriveError(f"{shown(label)} is in part {owner[label]} and part {k}")
            owner[label] = k
        graded = {r.get("file", ""): r for r in data.get("students", []) if r.get("file")}
        unfinished = [label for label in record["mine"] if label not in graded]
        if unfinished:
            raise DeriveError(f"{shown(folder)}: part {k} is not finished: {len(unfinished)} "
                              f"submissions not graded (run it again)")  # fmt: skip
        for label in record["mine"]:
            results[label] = gradebook.result_from_json(graded[label], Path(label))
    left = [label for label in whole if label not in owner]
    if left:
        raise DeriveError(f"{shown(left[0])} is in no part ({len(left)} submissions)")
    rows = class_rows([_Row(label) for label in whole], results, assignment.roster)
    out = Path(out)
    write_text_atomically(out / "gradebook.csv", gradebook.gradebook_csv(rows, assignment))
    write_text_atomically(out / "results.json", gradebook.results_json(rows, assignment))
    for folder, *_ in parts:
        feedback = folder / "feedback"
        if feedback.is_dir():
            (out / "feedback").mkdir(parents=True, exist_ok=True)
            for path in feedback.iterdir():
                if path.is_file() and not path.name.startswith("."):
                    shutil.copyfile(path, out / "feedback" / path.name)
    return len(whole), n
