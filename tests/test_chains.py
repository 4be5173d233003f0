"""A chain of equalities a = b = c = d: each step judged, the first wrong one named, and whether
the final result survived it (issue 14's start). Known answers by construction: a chain of
right steps, one wrong step in the middle with the ends right (seed 003 Q1 e: a difference of
logarithms taken for a quotient of logarithms), the last step wrong."""

from __future__ import annotations

import pytest

from derive.claims.check import Checker, Context
from derive.claims.claimfile import ClaimEntry, Symbol

SOFTPLUS = [r"\log(1+e^x) - \log(1+e^{-x})", r"\log\frac{1+e^x}{1+e^{-x}}", r"\log e^x", "x"]
WRONG_STEP = r"\frac{\log(1+e^x)}{\log(1+e^{-x})}"  # a quotient of logarithms


@pytest.fixture(scope="module")
def checker():
    return Checker(Context(symbols={"x": Symbol("x")}, secret=b"chains"))


def check(checker, *sides):
    return checker.check(ClaimEntry("c", " = ".join(sides)))


def test_every_step_right(checker):
    got = check(checker, *SOFTPLUS)
    assert got.verdict == "correct" and got.step is None


def test_a_wrong_step_in_the_middle_with_the_ends_right(checker):
    got = check(checker, SOFTPLUS[0], SOFTPLUS[1], WRONG_STEP, SOFTPLUS[2], SOFTPLUS[3])
    assert (got.verdict, got.step, got.ends_right) == ("incorrect", 2, True)
    assert got.message.startswith("step 2 of 4 is wrong")
    assert "the final result is right although this step is wrong" in got.message


def test_the_last_step_wrong(checker):
    got = check(checker, r"\sigma(-x)", r"1 - \sigma(x)", r"\sigma(x)")
    assert (got.verdict, got.step, got.ends_right) == ("incorrect", 2, False)
    assert "the final result is wrong too" in got.message


def test_the_first_step_wrong_and_the_ends_wrong(checker):
    got = check(checker, r"\tanh(x)", r"2 \sigma(x) - 1", r"\frac{1 - e^{-x}}{1 + e^{-x}}")
    assert (got.verdict, got.step, got.ends_right) == ("incorrect", 1, False)


def test_a_two_sided_claim_names_no_step(checker):
    got = check(checker, r"\sigma(-x)", r"\sigma(x)")
    assert got.verdict == "incorrect" and got.step is None


def test_a_chain_with_a_remark_and_a_tag(checker):
    """An aligned block as a write-up has it: the remark and the tag are not sides."""
    from derive.claims.homework import Reader, check_writeup
    from derive.claims.writeup import parse_writeup

    rows = [r"\text{softplus}(x) - \text{softplus}(-x) &= \log(1+e^x) - \log(1+e^{-x}) "
            r"\quad \text{(the definition)} \\",
            r"&= \log\frac{1+e^x}{1+e^{-x}} \tag{5} \\",
            r"&= \log e^x \qquad (\text{since } 1 + e^x = e^x (1 + e^{-x})) \\",
            r"&= x."]  # fmt: skip
    text = "$$\\begin{aligned}\n" + "\n".join(rows) + "\n\\end{aligned}$$\n"
    reader = Reader((checker.context,))
    (right,) = check_writeup(parse_writeup(text), reader).claims
    assert (right.verdict, right.line, len(right.steps)) == ("correct", 2, 4), right.message
    wrong = text.replace(r"\log\frac{1+e^x}{1+e^{-x}}", r"\frac{\log(1+e^x)}{\log(1+e^{-x})}")
    (got,) = check_writeup(parse_writeup(wrong), reader).claims
    assert (got.verdict, got.step, got.ends_right) == ("incorrect", 2, True), got.message
    assert [s.verdict for s in got.steps] == ["correct", "incorrect", "incorrect", "correct"]
