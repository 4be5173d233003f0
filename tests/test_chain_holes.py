"""Wrong chains and claims that a hunt found judged right while chains, hand calculations,
conditions and write-ups were being added (issue 14), each wrong by construction, and the right
ones next to them that must stay right. A wrong answer judged right is the worst bug there is:
each case here failed once."""

from __future__ import annotations

import pytest
from conftest import EXAMPLES

import derive
from derive.claims.check import Checker, Context
from derive.claims.claimfile import ClaimEntry, Symbol
from derive.claims.homework import Reader, check_writeup, reader_for_assignment
from derive.claims.verdict import PASSING
from derive.claims.writeup import parse_writeup

R = r"\frac{1}{m}\sum_{i=1}^{m}(\mathbf{p}^i - \mathbf{y}^i)"  # dJ/db_2 of the MLP, right
L = r"\frac{\partial J}{\partial \mathbf{b}_2}"
CR = r"\frac{\partial J}{\partial \mathbf{s}_2}\frac{\partial \mathbf{s}_2}{\partial \mathbf{b}_2}"
SYMBOLS = {"x": Symbol("x"), "c": Symbol("c"), "v": Symbol("v", rows="n")}


@pytest.fixture(scope="module")
def checkers():
    mlp = derive.load(EXAMPLES / "mlp.py")
    hand = derive.load(EXAMPLES / "hand321.py")
    aliases = {"w_1": "W1[1,1]", "h_1": "h[1]", "theta": "o"}
    return {
        "symbols": Checker(Context(symbols=SYMBOLS, functions={"S": "softmax"}, secret=b"h1")),
        "mlp": Checker(Context(mlp, mlp.derive(), secret=b"h2")),
        "hand": Checker(Context(hand, hand.derive(), aliases=aliases, secret=b"h3")),
    }


def rising(start: float, factor: float, n: int) -> str:
    xs = [start]
    for _ in range(n):
        xs.append(round(xs[-1] * factor, 3))
    return " = ".join(map(str, xs))


WRONG = {
    # a side overflowing in float64 hides a difference only 50 digits see, at any of the points
    "overflow at one index": ("symbols", r"v_j = v_j \frac{e^{7000 v_1}}{e^{7000 v_1}} + "
                              r"\delta_{j1} e^{-1/v_1^2}", None),
    "overflow where the difference shows": ("symbols", r"v_j = v_j \frac{e^{1000 v_1}}"
                                            r"{e^{1000 v_1}} + e^{-(100/v_1)^2}", None),
    "overflow on the left": ("symbols", r"v_j \frac{e^{1000 v_1}}{e^{1000 v_1}} + "
                             r"e^{-(100/v_1)^2} = v_j", None),
    "overflow in a network claim": ("mlp", L + " = " + R + r" \frac{e^{1000 b_{2,1}}}"
                                    r"{e^{1000 b_{2,1}}} + e^{-(100/b_{2,1})^2}", None),
    "overflow in the middle of a chain": ("mlp", f"{L} = {R}" r"\frac{e^{100 b_{2,1}}}"
                                          r"{e^{100 b_{2,1}}} = " f"{R} + e^{{-(100/b_{{2,1}})^2}}",
                                          None),
    # a condition i != j leaves the sizes of one entry out, not the probing
    "a narrow band under a condition": ("symbols", r"v_i v_j = v_i v_j + \mathbf{1}[(v_i - 0.5)^2"
                                        r" < 0.001 \cdot 0.001]", ("i", "!=", "j")),
    # a step that cannot be evaluated is not a right step
    "a number for a vector in the middle": ("mlp", f"{L} = {R} = 5 = {R}", None),
    "a matrix added in the middle": ("mlp", f"{L} = {R} = {R} + \\mathbf{{W}}_2 = {R}", None),
    "a vector added to a number": ("symbols", r"\sigma(-x) = 1 - \sigma(x) = 1 - \sigma(x) + "
                                   r"\mathbf{v} = 1 - \sigma(x)", None),
    # only the chain rule written out, and nothing else, is bridged
    "a factor before the chain rule": ("mlp", f"{L} = 5 \\frac{{\\partial J}}{{\\partial "
                                       r"\mathbf{s}_2}} \frac{\partial \mathbf{s}_2}{\partial "
                                       r"\mathbf{b}_2} = " + R, None),
    "a term beside a Jacobian": ("mlp", f"{L} = \\frac{{\\partial \\mathbf{{h}}}}{{\\partial "
                                 f"\\mathbf{{x}}}} + 1000 = {R}", None),
    # a hand calculation: roundings do not add up, formulas are identities
    "roundings that drift": ("hand", "E = " + rising(1.73, 1.045, 12), None),
    "a formula right at the numbers only": ("hand", r"E = \frac{1}{2}(\theta - t)^2 = "
                                            r"\frac{1}{2}(\theta - t)^2 + x_1 - 0.18 = 1.73", None),
    # an entry (an alias) is probed at the network's own sizes, in 50 digits too
    "an entry times 1 + 1e-9": ("hand", r"h_1 = h_1 (1 + 10^{-9})", None),
    "an entry plus a narrow band": ("hand", r"h_1 = h_1 + \mathbf{1}[(w_1 - 0.5)^2 < 0.01 \cdot "
                                    r"0.01]", None),
    # \mathbf{1}_{v_1 > 0}(v) is a product: the condition is on v_1, not on v
    "an indicator times another letter": ("symbols", r"\frac{\partial}{\partial v_1}\max(0, v_1)"
                                          r" = \mathbf{1}_{v_1 > 0}(v)", None),
    # a side undefined everywhere, with a condition that is 0 somewhere
    "0 log 0 beside a label's condition": ("mlp", r"\frac{\partial J}{\partial \mathbf{s}_2^i} = "
                                           r"\frac{1}{m}(2\mathbf{p}^i - \mathbf{1}[\mathbf{y}^i "
                                           r"= 1]) + \mathbf{y}^i \circ \log \mathbf{y}^i", None),
    "undefined everywhere beside |0|": ("mlp", L + r" = 42\mathbf{b}_2 + \sqrt{-1 - J^2} + |0|",
                                        None),
    # the chain rule written out is bridged only when it is the chain rule of the first side
    "the chain rule with a minus sign": ("mlp", f"{L} = -{CR} = {R}", None),
    "the chain rule twice": ("mlp", f"{L} = {CR} + {CR} = {R}", None),
    "the chain rule through a quantity b_2 does not feed": ("mlp", f"{L} = \\frac{{\\partial J}}"
        r"{\partial \mathbf{h}}\frac{\partial \mathbf{h}}{\partial \mathbf{b}_2} = " + R, None),
    "the chain rule summed over two samples": ("mlp", f"{L} = \\sum_{{i=1}}^{{2}} \\frac{{"
        r"\partial J}{\partial \mathbf{s}_2^i}\frac{\partial \mathbf{s}_2^i}{\partial "
        r"\mathbf{b}_2} = " + R, None),
    "a derivative of 2J": ("mlp", f"{L} = \\frac{{\\partial (2J)}}{{\\partial "
                           f"\\mathbf{{b}}_2}} = {R}", None),
    # a hand calculation: every side at the numbers, formulas exactly
    "a formula between numbers": ("hand", r"E = 1.73 = \frac{1}{2}(\theta + t)^2 = 1.73", None),
    "E + 1 between numbers": ("hand", r"E = 1.7336 = E + 1 = 1.7336", None),
    "a number first": ("hand", r"5 = E = 5", None),
    "a formula off by 2%": ("hand", r"E = 1.02 \cdot \frac{1}{2}(\theta - t)^2 = 1.73", None),
    # a size the two sets of random sizes both had
    "the softmax of two entries as a sigmoid": ("symbols", r"S(\mathbf{v})_1 = \sigma(v_1 - v_2)",
                                                None),
    "a sum of three written out": ("mlp", r"\mathbf{1}^T \mathbf{b}_1 = b_{1,1} + b_{1,2} + "
                                   r"b_{1,3}", None),
}  # fmt: skip

RIGHT = {
    "softmax written out, overflowing": ("symbols", r"S(c\mathbf{v})_i = \frac{e^{c v_i}}"
                                         r"{\sum_j e^{c v_j}}", None),
    "a chain with the chain rule written out": ("mlp", f"{L} = \\sum_{{i=1}}^{{m}} \\frac{{"
                                                r"\partial J}{\partial \mathbf{s}_2^i} "
                                                r"\frac{\partial \mathbf{s}_2^i}{\partial "
                                                r"\mathbf{b}_2} = " + R, None),
    "a rounding": ("hand", r"h_1 = \sigma(0.7384) = 0.6767 = 0.68", None),
    "the loss of one sample": ("hand", r"E = \frac{1}{2}(\theta - t)^2 = 1.73", None),
    "a claim for i != j": ("symbols", r"\frac{\partial S(\mathbf{v})_i}{\partial v_j} = "
                           r"-S(\mathbf{v})_i S(\mathbf{v})_j", ("i", "!=", "j")),
}  # fmt: skip


@pytest.mark.parametrize("case", WRONG)
def test_a_wrong_claim_is_not_judged_right(checkers, case):
    where, text, condition = WRONG[case]
    got = checkers[where].check(ClaimEntry("c", text, where=condition))
    assert got.verdict not in PASSING, got.message


@pytest.mark.parametrize("case", RIGHT)
def test_a_right_claim_beside_them_stays_right(checkers, case):
    where, text, condition = RIGHT[case]
    got = checkers[where].check(ClaimEntry("c", text, where=condition))
    assert got.verdict in PASSING, got.message


def test_a_condition_inside_a_sentence_about_something_else_is_not_the_formula_s(checkers):
    context = checkers["symbols"].context
    text = (
        r"Recall that $\delta_{ij}$ is 1 if $i = j$ and 0 otherwise. In general the Jacobian is"
        "\n\n$$\\frac{\\partial S(\\mathbf{v})_i}{\\partial v_j} = S(\\mathbf{v})_i(1 - "
        "S(\\mathbf{v})_i)$$\n"
    )
    (got,) = check_writeup(parse_writeup(text), Reader((context,))).claims
    assert got.verdict == "incorrect", got.message


def test_hedging_and_conditions_earn_nothing(tmp_path):
    """An unreadable wrong answer beside a right one; a condition that narrows a question;
    the sample letter of the question's left side changed."""
    from derive.claims.assignment import read_assignment

    reader = reader_for_assignment(read_assignment(EXAMPLES / "homework.yaml"))
    rw = r"\frac{1}{m}\sum_{i=1}^{m}(\mathbf{p}^i - \mathbf{y}^i)(\mathbf{h}^i)^T"
    lw = r"\frac{\partial J}{\partial W_2}"
    ds = r"\frac{1}{m}W_2^T(\mathbf{p}^i - \mathbf{y}^i) \circ \mathbf{1}[\mathbf{s}_1^i > 0]"
    texts = [
        f"$${lw} = 2{rw} \\oslash 3$$\n\nor\n\n$${lw} = {rw}$$\n",
        f"$$\\frac{{\\partial J}}{{\\partial \\mathbf{{s}}_1^j}} = {ds}$$\n",
    ]
    for text in texts:
        got = check_writeup(parse_writeup(text), reader)
        assert got.points == 0, [(c.id, c.verdict, c.points) for c in got.claims]
    task = tmp_path / "a.yaml"
    task.write_text(
        "assignment: j\nsymbols: {v: {vector: n}}\nfunctions: {S: softmax}\nquestions:\n"
        "  - {id: J, points: 2, network: null,\n"
        "     ask: '\\frac{\\partial S(\\mathbf{v})_i}{\\partial v_j}'}\n"
    )
    reader = reader_for_assignment(read_assignment(task))
    text = ("When $i = j$:\n\n$$\\frac{\\partial S(\\mathbf{v})_i}{\\partial v_j} = "
            "S(\\mathbf{v})_i(1 - S(\\mathbf{v})_i)$$\n")  # fmt: skip
    assert check_writeup(parse_writeup(text), reader).points == 0


def test_an_unreadable_final_side_is_not_a_right_answer(checkers):
    text = f"$${L} = {R} = 2 \\cdot {R} \\big|$$\n"
    (got,) = check_writeup(parse_writeup(text), Reader((checkers["mlp"].context,))).claims
    assert got.verdict == "invalid" and "the final side could not be read" in got.message


@pytest.mark.parametrize(
    "answer",
    [
        "{RW} = 5 = {RW}",  # a step that means nothing
        r"1000\frac{{\partial J}}{{\partial \mathbf{{s}}_2}}\frac{{\partial \mathbf{{s}}_2}}"
        r"{{\partial W_2}} = {RW}",  # a factor before the chain rule
        r"{RW} = 2{RW} \oslash 3",  # an unreadable final side
        "{RW} = 2{RW} = {RW}",  # a wrong step (the final result right)
        "-\\frac{{\\partial J}}{{\\partial \\mathbf{{s}}_2}}\\frac{{\\partial \\mathbf{{s}}_2}}"
        "{{\\partial W_2}} = {RW}",  # the chain rule with a minus sign
        "{RW} \\quad 2",  # a factor after the answer, apart
    ],
)
def test_a_chain_answer_with_a_wrong_or_unchecked_step_earns_no_points(answer):
    from derive.claims.assignment import read_assignment

    reader = reader_for_assignment(read_assignment(EXAMPLES / "assignment.yaml"))
    right = r"\frac{1}{m}\sum_{i=1}^{m}(\mathbf{p}^i - \mathbf{y}^i)(\mathbf{h}^i)^T"
    body = answer.format(RW=right)
    text = f"$$\\frac{{\\partial J}}{{\\partial W_2}} = {body}$$\n"
    got = {r.id: r for r in check_writeup(parse_writeup(text), reader).claims}["dW2"]
    assert got.verdict not in PASSING and got.points == 0, got.message
