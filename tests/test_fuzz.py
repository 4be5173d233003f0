"""Property-based fuzzing of what a student writes (issue 10): the claim parser, the checker, and
the readers of answers and claims files take any input and answer with a verdict or a one-line
error, never an internal failure, within their time limits. Bounded for CI (a few hundred
examples each); `HYPOTHESIS_PROFILE=long pytest tests/test_fuzz.py` runs many more.
"""

from __future__ import annotations

import os
import time

import pytest
from conftest import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from derive.claims import Node, ParseError, parse_claim
from derive.claims.answers import read_answers
from derive.claims.assignment import read_assignment
from derive.claims.check import Checker, Context
from derive.claims.claimfile import ClaimEntry, read_claims, symbols_of
from derive.claims.grade import loaded, prepare
from derive.claims.verdict import VERDICTS
from derive.errors import DeriveError

settings.register_profile("ci", max_examples=150, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
settings.register_profile("long", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

PIECES = [
    r"\frac{", "}", "{", "(", ")", "[", "]", r"\left(", r"\right)", "x", "u", "W", "y", "e",
    "m", "i", "j", "T", "^", "_", "+", "-", "=", r"\circ", r"\cdot", "*", "/", "**", ",",
    "|", r"\|", r"\sigma", r"\tanh", r"\log", r"\exp", r"\sum_{i=1}^{m}", r"\partial",
    r"\mathbf{", r"\hat{", r"\mathbb{1}", ">", "<", r"\geq", "0", "1", "2", "0.5", "1e-3",
    r"\input", r"\def", "__import__", "'", '"', "\\", " ", "\n", "²", "é", "\x00", "\x1b",
    "\ud800", "ｘ", "٣", r"\text{", r"\begin{cases}", "&", r"\\", "%", "#", "$", "~",
]  # fmt: skip
claim_text = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=30).map("".join),
    st.text(max_size=60),
)


@given(claim_text)
def test_the_parser_takes_anything(text):
    start = time.perf_counter()
    try:
        tree = parse_claim(text)
    except ParseError as err:
        assert isinstance(err.position, int) and "\n" not in str(err)
    else:
        assert isinstance(tree, Node)
    assert time.perf_counter() - start < 2.0


# --- the checker, on claims that parse ----------------------------------------------------
SYMBOL_ATOMS = ["x", "y", "u", "v", "W", "A", "1", "2", "0.5", "e", "m", r"\mathbf{1}", "u^T"]
NETWORK_ATOMS = [r"\mathbf{p}^i", r"\mathbf{y}^i", r"\mathbf{h}^i", r"\mathbf{s}_1^i", "W_1",
                 "W_2", r"\mathbf{b}_1", "m", "1", r"\mathbf{1}",
                 r"\frac{\partial J}{\partial \mathbf{s}_2^i}"]  # fmt: skip
FUNCTIONS = [r"\sigma(@)", r"\tanh(@)", r"\exp(@)", r"\log(@)", "sgn(@)", "softmax(@)",
             r"\operatorname{diag}(@)", r"\max(0, @)", r"\|@\|", "|@|", r"\mathbb{1}[@ > 0]",
             r"\frac{\partial}{\partial x} @", r"\frac{d}{dy} @"]  # fmt: skip


def expressions(atoms):
    def extend(inner):
        pair = st.tuples(inner, inner)
        return st.one_of(
            pair.map(lambda p: f"{p[0]} + {p[1]}"),
            pair.map(lambda p: f"{p[0]} - {p[1]}"),
            pair.map(lambda p: f"{p[0]} {p[1]}"),
            pair.map(lambda p: f"{p[0]} \\circ {p[1]}"),
            pair.map(lambda p: f"\\frac{{{p[0]}}}{{{p[1]}}}"),
            inner.map(lambda a: f"({a})^T"),
            st.tuples(inner, st.sampled_from(["2", "3", "-1", "i", "j"])).map(
                lambda p: f"({p[0]})^{p[1]}"
            ),
            st.tuples(st.sampled_from(FUNCTIONS), inner).map(lambda p: p[0].replace("@", p[1])),
            st.tuples(st.sampled_from("ij"), inner).map(
                lambda p: f"\\sum_{{{p[0]}=1}}^{{m}} {p[1]}"
            ),
            inner.map(lambda a: f"-{a}"),
        )

    return st.recursive(st.sampled_from(atoms), extend, max_leaves=8)


@pytest.fixture(scope="module")
def checkers():
    symbols = symbols_of({"x": "scalar", "y": "scalar", "u": {"vector": "n"},
                          "v": {"vector": "n"}, "W": {"matrix": ["n", "n"]},
                          "A": {"matrix": ["n", "k"]}}, "symbols")  # fmt: skip
    net, derivation = loaded(EXAMPLES / "mlp.py", {})
    return (Checker(Context(None, None, symbols, {"sgn": "step"})),
            Checker(Context(net, derivation, {}, {"sgn": "step"})))  # fmt: skip


def verdict_of(checker, text):
    start = time.perf_counter()
    result = checker.check(ClaimEntry("q", text), seconds=5.0)
    assert result.verdict in VERDICTS
    assert not result.message.startswith("derive could not check"), (text, result.message)
    assert "cannot be evaluated (" not in result.message, (text, result.message)
    assert time.perf_counter() - start < 10.0
    return result


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(expressions(SYMBOL_ATOMS), expressions(SYMBOL_ATOMS))
def test_the_checker_on_identities(checkers, a, b):
    verdict_of(checkers[0], f"{a} = {b}")


LHS = [
    r"\frac{\partial J}{\partial W_2}",
    r"\frac{\partial J}{\partial \mathbf{s}_1^i}",
    r"\frac{\partial J}{\partial \mathbf{b}_1}",
    r"\frac{\partial J}{\partial \mathbf{h}^i}",
]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.one_of(st.sampled_from(LHS), expressions(NETWORK_ATOMS)), expressions(NETWORK_ATOMS))
def test_the_checker_on_the_network(checkers, a, b):
    verdict_of(checkers[1], f"{a} = {b}")


# --- files ----------------------------------------------------------------------------------
yaml_text = st.one_of(
    st.text(max_size=300),
    st.lists(
        st.sampled_from(
            [
                "student: ",
                "answers:",
                "claims:",
                "\n",
                "  ",
                "- ",
                "{",
                "}",
                "[",
                "]",
                ":",
                ",",
                "&a ",
                "*a",
                "!!python/object ",
                "'",
                '"',
                "\\ud800",
                "q1",
                "id",
                "claim",
                "1",
                ".inf",
                "~",
                "#",
                "|",
            ]
        ),
        max_size=60,
    ).map("".join),  # fmt: skip
)


@given(yaml_text)
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_file_readers_take_anything(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("f") / "s.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    for read in (read_answers, read_claims):
        try:
            read(path)
        except DeriveError as err:
            assert "\n" not in str(err)


@pytest.fixture(scope="module")
def grader():
    return prepare(read_assignment(EXAMPLES / "homework.yaml"))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          max_examples=60)  # fmt: skip
@given(st.dictionaries(st.sampled_from(["sigmoid", "dW2", "ds1", "E", "w1", "zz", "1"]),
                       st.one_of(claim_text, st.floats(), st.integers(), st.none(),
                                 st.booleans(), st.lists(st.integers(), max_size=3)),
                       max_size=5))  # fmt: skip
def test_grading_takes_any_answers(grader, tmp_path_factory, given_answers):
    import yaml

    path = tmp_path_factory.mktemp("g") / "s.yaml"
    try:
        text = yaml.safe_dump({"student": "s", "answers": given_answers}, allow_unicode=True)
    except yaml.YAMLError:
        return
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        result = grader.grade(path)
    except DeriveError:
        return
    assert len(result.claims) == len(grader.assignment.questions)
    for c in result.claims:
        assert c.verdict in VERDICTS and not c.message.startswith("derive could not check")
        assert c.points in (0, c.max_points)
