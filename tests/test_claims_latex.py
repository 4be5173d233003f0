"""A parsed claim written back as LaTeX (derive/claims/latex.py) parses to the same tree: on
every claim of the test suite's files and on generated ones; and it holds nothing but the
printer's own commands, whatever the student wrote."""

from __future__ import annotations

import glob
import re

import pytest
import yaml
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from test_fuzz import NETWORK_ATOMS, SYMBOL_ATOMS, expressions
from test_verdicts import CASES, COOKBOOK

from derive.claims import ParseError, parse_claim
from derive.claims.latex import to_latex
from derive.render.feedback import safe_math

FUNCTIONS = frozenset({"S"})


def written() -> list[str]:
    texts = [c for _, c, _ in CASES] + [c for c, _ in COOKBOOK]
    for path in [*glob.glob(str(ROOT / "tests/data/claims/*.yaml")),
                 *glob.glob(str(ROOT / "examples/**/*.yaml"), recursive=True)]:  # fmt: skip
        data = yaml.safe_load(open(path)) or {}
        for c in data.get("claims") or []:
            if isinstance(c, dict) and isinstance(c.get("claim"), str):
                texts.append(c["claim"])
        texts += [v for v in (data.get("answers") or {}).values() if isinstance(v, str)]
    return texts


def round_trip(text: str) -> None:
    try:
        tree = parse_claim(text, FUNCTIONS)
    except ParseError:
        return
    latex = to_latex(tree)
    assert parse_claim(latex, FUNCTIONS) == tree, (text, latex)
    assert safe_math(latex) is not None, latex  # only known math commands


@pytest.mark.parametrize("text", written())
def test_written_claims_round_trip(text):
    round_trip(text)


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(expressions(SYMBOL_ATOMS + NETWORK_ATOMS), expressions(SYMBOL_ATOMS))
def test_generated_claims_round_trip(a, b):
    round_trip(f"{a} = {b}")


def test_nothing_of_the_text_survives_but_the_tree():
    tree = parse_claim(r"\mathrm{input} + x_{\mathrm{write18}} = 1")
    latex = to_latex(tree)
    assert r"\input" not in latex and r"\write" not in latex
    assert not re.search(r"\\(input|write|def|csname|catcode)\b", latex)
