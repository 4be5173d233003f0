"""Verdicts that cannot be fooled, in every notation of the course (issue 11): claims whose
answer is known by construction, each worked out by hand, wrong ones above all.

Each case is (network or symbols, claim, verdict). The networks are the shipped examples; the
symbols are declared per case. A "correct" here is a theorem (checked by hand); an "incorrect"
is a planted slip whose failure is shown in the comment.
"""

from __future__ import annotations

import pytest
from conftest import EXAMPLES

from derive.claims.check import Checker, Context
from derive.claims.claimfile import ClaimEntry, symbols_of
from derive.claims.grade import loaded

SYMBOLS = {
    "x": "scalar", "y": "scalar",
    "u": {"vector": "n"}, "v": {"vector": "n"}, "t": {"vector": "n"}, "z": {"vector": "n"},
    "a": {"vector": "n"}, "X": {"matrix": ["n", "k"]}, "Y": {"matrix": ["n", "n"]},
    "A": {"matrix": ["n", "k"]}, "B": {"matrix": ["k", "n"]},
}  # fmt: skip


def checker(net: str | None, **context) -> Checker:
    if net is None:
        symbols = symbols_of(context.pop("symbols", SYMBOLS), "symbols")
        return Checker(Context(None, None, symbols, context.pop("functions", {"S": "softmax"}),
                               **context))  # fmt: skip
    network, derivation = loaded(EXAMPLES / f"{net}.py", {})
    return Checker(Context(network, derivation, functions={"sgn": "step"}, **context))


_CHECKERS: dict = {}


def verdict(net: str | None, claim: str, **context) -> tuple[str, str]:
    key = (net, repr(sorted(context.items())))
    if key not in _CHECKERS:
        _CHECKERS[key] = checker(net, **context)
    result = _CHECKERS[key].check(ClaimEntry("q", claim))
    return result.verdict, result.message


# seed 000's multi-task network: its names as the homework writes them
THETA_1B = (
    r"\frac{\partial L}{\partial \theta_{\mathrm{1B}}} = \frac{1}{m} \sum_{i=1}^{m} \left\{ "
    r"\left\{ \theta_{2\mathrm{B}}^{T} \left(\hat{\mathbf{y}}_{\mathrm{B}}^{i} - "
    r"\mathbf{y}_{\mathrm{B}}^{i} \right) \circ \mathrm{sgn} \left(\mathbf{x}_{\mathrm{BN}}^{i} "
    r"\right) - \frac{1}{m} \sum_{j=1}^{m} \left[\theta_{2\mathrm{B}}^{T} \left(\hat{\mathbf{y}}_"
    r"{\mathrm{B}}^{j} - \mathbf{y}_{\mathrm{B}}^{j} \right) \circ \mathrm{sgn} \left(\mathbf{x}_"
    r"{\mathrm{BN}}^{@} \right) \right] \right\} \left(\mathbf{x}^{i} \right)^{T} \right\}"
)
PY = r"(\mathbf{p}^i - \mathbf{y}^i)"

CASES = [
    # 1. indices across nested sums: each sum binds its own, each index names its sample
    ("multitask", THETA_1B.replace("@", "i"), "incorrect"),  # seed 000's slip: x_BN^i in sum_j
    ("multitask", THETA_1B.replace("@", "j"), "correct"),
    ("multitask", r"\frac{\partial L}{\partial \mathbf{x}_{1B}^{i}} = \frac{\partial L}{\partial "
     r"\mathbf{x}_{BN}^{i}} - \frac{1}{m}\sum_{j=1}^{m}\frac{\partial L}{\partial "
     r"\mathbf{x}_{BN}^{i}}", "incorrect"),  # the mean of a constant is the constant: 0
    ("multitask", r"\frac{\partial L}{\partial \mathbf{x}_{1B}^{i}} = \frac{\partial L}{\partial "
     r"\mathbf{x}_{BN}^{i}} - \frac{1}{m}\sum_{j=1}^{m}\frac{\partial L}{\partial "
     r"\mathbf{x}_{BN}^{j}}", "correct"),
    ("mlp", r"\frac{\partial J}{\partial W_2} = \frac{1}{m}\sum_{i=1}^{m}\sum_{j=1}^{m}"
     + PY + r"(\mathbf{h}^j)^T", "incorrect"),  # a double sum is not sum_i a^i (b^i)^T
    ("mlp", r"\frac{1}{m^2}\sum_{i=1}^{m}\sum_{j=1}^{m} \mathbf{p}^j (\mathbf{x}^i)^T = "
     r"\left(\frac{1}{m}\sum_{j=1}^{m}\mathbf{p}^j\right)\left(\frac{1}{m}\sum_{i=1}^{m}"
     r"\mathbf{x}^i\right)^T", "correct"),
    ("mlp", r"\sum_{i=1}^{m}\sum_{j=1}^{m} \mathbf{p}^i (\mathbf{x}^j)^T = \sum_{i=1}^{m} "
     r"\mathbf{p}^i (\mathbf{x}^i)^T", "incorrect"),
    ("mlp", r"J = -\frac{1}{m}\sum_{i=1}^{m}\sum_{k=1}^{C} y_k^i \log p_k^i", "correct"),
    ("mlp", r"J = -\frac{1}{m}\sum_{i=1}^{m}\sum_{k=1}^{c} y_k^i \log p_k^i", "correct"),
    ("mlp", r"J = -\sum_{i=1}^{m}\sum_{k=1}^{C} y_k^i \log p_k^i", "incorrect"),  # no 1/m
    # j is bound by nothing: meaningless as written, and j for i makes it right (the slip named)
    ("mlp", r"J = -\frac{1}{m}\sum_{i=1}^{m}\sum_{k=1}^{C} y_k^i \log p_k^j", "incorrect"),
    ("mlp", r"\frac{\partial J}{\partial \mathbf{s}_2^i} + \frac{1}{m}\sum_{j \neq i} "
     r"(\mathbf{p}^j - \mathbf{y}^j) = \frac{1}{m}\sum_{j=1}^{m}(\mathbf{p}^j - \mathbf{y}^j)",
     "correct"),
    ("mlp", r"\frac{\partial J}{\partial \mathbf{s}_2^i} + \frac{1}{m}\sum_{j=1, j \neq i}^{m} "
     r"(\mathbf{p}^j - \mathbf{y}^j) = \frac{1}{m}\sum_{j=1}^{m}(\mathbf{p}^j - \mathbf{y}^j)",
     "correct"),
    ("mlp", r"\frac{\partial J}{\partial \mathbf{s}_2^i} + \frac{1}{m}\sum_{j \neq i} "
     r"(\mathbf{p}^j - \mathbf{y}^j) = \frac{1}{m}\sum_{j=1}^{m}(\mathbf{p}^i - \mathbf{y}^i)",
     "incorrect"),
    # 2. a bare vector of ones, sized by the product it is in
    (None, r"u^T \mathbf{1} = \mathbf{1}^T u", "correct"),
    (None, r"u^T \mathbf{1} = u^T", "invalid"),  # a number is not a row
    (None, r"(X \mathbf{1})_i = \sum_{j=1}^{k} X_{ij}", "correct"),
    (None, r"\mathbf{1}^T X \mathbf{1} = \sum_{i=1}^{n}\sum_{j=1}^{k} X_{ij}", "correct"),
    # 3. powers of square matrices
    (None, r"Y^2 = Y Y", "correct"),
    (None, r"Y^2 = Y \circ Y", "incorrect"),
    (None, r"Y^{\circ 2} = Y \circ Y", "correct"),
    (None, r"Y^{-1} Y = \operatorname{diag}(\mathbf{1}_n)", "correct"),
    # 4. restating the question; derivatives by later quantities only
    ("mlp", r"\frac{\partial J}{\partial W_2} = \frac{\partial J}{\partial W_2}", "invalid"),
    (None, r"\frac{d\sigma(x)}{dx} = \frac{d\sigma(x)}{dx}", "invalid"),
    (None, r"\frac{d\sigma(x)}{dx} = \frac{d}{dx}\frac{1}{1 + e^{-x}}", "invalid"),
    ("mlp", r"\frac{\partial J}{\partial W_2} = \sum_{i=1}^{m} \frac{\partial J}{\partial "
     r"\mathbf{s}_2^i}(\mathbf{h}^i)^T", "correct"),
    ("mlp", r"\frac{\partial J}{\partial \mathbf{s}_2^i} = (W_2^T)^{-1} \frac{\partial J}{\partial "
     r"\mathbf{h}^i}", "invalid"),  # h comes before s_2: assumes what is to be shown
    # 5. a term that vanishes where random points fall
    (None, r"\frac{d\sigma(x)}{dx} = \sigma(x)(1-\sigma(x)) + 1000 \mathbb{1}[x>10]", "incorrect"),
    (None, r"\frac{d\sigma(x)}{dx} = \sigma(x)(1-\sigma(x)) + \mathbb{1}[x^2 < 10^{-6}]",
     "incorrect"),
    (None, r"\frac{d\sigma(x)}{dx} = \sigma(x)(1-\sigma(x)) + \mathbb{1}[x > 10^{4}]",
     "incorrect"),
    ("mlp", r"\frac{\partial J}{\partial \mathbf{s}_2^i} = \frac{1}{m}" + PY
     + r" + \mathbb{1}[\mathbf{s}_2^i > 50]", "incorrect"),
    ("mlp", r"\frac{\partial J}{\partial \mathbf{s}_2^i} = \frac{1}{m}" + PY
     + r" \circ \mathbb{1}[\mathbf{s}_2^i < 30]", "incorrect"),
    (None, r"\frac{d}{dx}\max(0, x) = \mathbb{1}[x > 0]", "correct"),
    (None, r"\frac{d}{dx}\max(0, x) = \mathbb{1}[x \geq 0]", "almost-everywhere"),
    (None, r"|x| = \max(x, -x)", "correct"),
    (None, r"|x| = \max(x, 0)", "incorrect"),
    # 6. scalar identities decided exactly or in high precision, never by float64 alone
    (None, r"e^{e^{x^2+3}} + 1 = e^{e^{x^2+3}}", "incorrect"),
    (None, r"e^{e^{x^2+3}} = e^{e^{x^2+3}}", "correct"),
    (None, r"x + 10^{-30} = x", "incorrect"),
    (None, r"\log(e^{x}) = x", "correct"),
    (None, r"1 - \sigma(x) = \sigma(-x)", "correct"),
    (None, r"\tanh(x) = 2\sigma(2x) - 1", "correct"),
    # 7. the right answer written as derive writes it
    (None, r"\frac{\partial}{\partial z}\left(-t^T \log(\operatorname{softmax}(z))\right) = "
     r"(t^T \mathbf{1})\operatorname{softmax}(z) - t", "correct"),
    # 8. Jacobians of vector functions [dy_i/dx_j]
    (None, r"\frac{\partial S(u)}{\partial u} = \operatorname{diag}(S(u)) - S(u)S(u)^T", "correct"),
    (None, r"\frac{\partial S(u)}{\partial u} = S(u)S(u)^T - \operatorname{diag}(S(u))",
     "incorrect"),
    (None, r"\frac{\partial \sigma(u)}{\partial u} = \operatorname{diag}(\sigma(u) \circ "
     r"(1 - \sigma(u)))", "correct"),
    (None, r"\frac{\partial (X^T u)}{\partial u} = X^T", "correct"),
    (None, r"\frac{\partial (X^T u)}{\partial u} = X", "incorrect"),  # the shapes: a transpose
    # 9. diag, also inside a derivative
    (None, r"\frac{\partial}{\partial u} \mathbf{1}^T \operatorname{diag}(u) u = 2u", "correct"),
    (None, r"\operatorname{diag}(u) v = u \circ v", "correct"),
    # 10. components, Kronecker deltas, indicators of indices, nabla
    (None, r"\frac{\partial S(u)_i}{\partial u_j} = S(u)_i(\delta_{ij} - S(u)_j)", "correct"),
    (None, r"\frac{\partial S(u)_i}{\partial u_j} = S(u)_i(\mathbb{1}_{i=j} - S(u)_j)", "correct"),
    (None, r"\frac{\partial S(u)_i}{\partial u_j} = S(u)_i(1 - S(u)_j)", "incorrect"),
    (None, r"\sum_{k=1}^{n} u_k v_k = u^T v", "correct"),
    (None, r"(\nabla_u (u^T v))_1 = v_1", "correct"),
    (None, r"(\nabla_u (u^T v))_2 = v_1", "incorrect"),
    ("mlp", r"\frac{\partial J}{\partial (W_2)_{kj}} = \frac{1}{m}\sum_{i=1}^{m}"
     r"(p_k^i - y_k^i) h_j^i", "correct"),
    ("mlp", r"\frac{\partial J}{\partial (W_2)_{kj}} = \frac{1}{m}\sum_{i=1}^{m}"
     r"(p_j^i - y_j^i) h_k^i", "incorrect"),  # k and j swapped
    # 13. common LaTeX
    (None, r"\frac{d}{dx}\max\{0, x\} = \mathbb{1}[x > 0]", "correct"),
    (None, r"\frac{d}{dx}\max(0.01x, x) = \begin{cases} 1 & \text{if } x > 0 \\ 0.01 & "
     r"\text{otherwise} \end{cases}", "correct"),
    (None, r"\frac{d}{dx}\max(0.01x, x) = \begin{cases} 1 & \text{if } x > 0 \\ 0 & "
     r"\text{otherwise} \end{cases}", "incorrect"),
    (None, r"\operatorname{tr}(A B) = \operatorname{tr}(B A)", "correct"),
    (None, r"\operatorname{logsumexp}(u) = \log(\mathbf{1}^T e^{u})", "correct"),
    (None, r"\mathbf{1}^T S(u) = 1", "correct"),
    (None, r"\mathbf{1}^T S(u) = 2", "incorrect"),
    (None, r"1 - \sigma(u) = \sigma(-u)", "correct"),
    ("batchnorm", r"\hat{\mathbf{s}}^i = \frac{\mathbf{s}^i - \boldsymbol{\mu}_b}{\sqrt{"
     r"\mathbf{v}_b + \epsilon}}", "correct"),
    ("batchnorm", r"\hat{\mathbf{s}}^i = \frac{\mathbf{s}^i - \boldsymbol{\mu}_b}{\sqrt{"
     r"\mathbf{v}_b}}", "incorrect"),  # the epsilon matters (it is 1e-5 here: exactly)
    ("klayer", r"\mathbf{s}_2^i = W_{2} \mathbf{x}^{(1)i} + \mathbf{b}_{2}", "correct"),
    # the derivative by an input (seed 003, 2.p): the input gradient
    ("mlp", r"\frac{\partial J}{\partial \mathbf{x}^i} = W_1^T \frac{\partial J}{\partial "
     r"\mathbf{s}_1^i}", "correct"),
    ("mlp", r"\frac{\partial J}{\partial \mathbf{x}^i} = W_1^T \frac{\partial J}{\partial "
     r"\mathbf{h}^i}", "incorrect"),  # the ReLU's indicator forgotten
    # as the reports print it: the layer label and the sample index side by side
    ("klayer", r"\mathbf{s}_2^i = W_{2} \mathbf{x}^{(1), i} + \mathbf{b}_{2}", "correct"),
    ("klayer", r"\mathbf{s}_2^i = W_{2} \mathbf{x}^{(1), j} + \mathbf{b}_{2}", "incorrect"),
    ("mlp", r"\frac{\partial J}{\partial W_2} = \frac{1}{m}\sum_{i=1}^{m}" + PY
     + r"(\mathbf{h}^i)^T", "correct"),
    ("linear_softmax", r"\frac{\partial J}{\partial W} = \frac{1}{m}\sum_{i=1}^{m}" + PY
     + r"(\mathbf{x}^i)^T + 2 \lambda W", "correct"),
]  # fmt: skip


@pytest.mark.parametrize("net, claim, expected", CASES, ids=[f"{k}" for k in range(len(CASES))])
def test_known_verdict(net, claim, expected):
    got, message = verdict(net, claim)
    assert got == expected, f"{claim}\n{got}: {message}"


def test_the_jacobian_notation():
    """notation: jacobian (the lectures'): the gradient by a column vector is a row."""
    row = r"\frac{\partial J}{\partial \mathbf{s}_2^i} = \frac{1}{m}(\mathbf{p}^i - \mathbf{y}^i)^T"
    col = r"\frac{\partial J}{\partial \mathbf{s}_2^i} = \frac{1}{m}(\mathbf{p}^i - \mathbf{y}^i)"
    assert verdict("mlp", row, notation="jacobian")[0] == "correct"
    assert verdict("mlp", col)[0] == "correct"
    for claim, notation in ((col, "jacobian"), (row, "residual")):  # the other orientation
        got, message = verdict("mlp", claim, notation=notation)
        assert got == "incorrect" and "transpose" in message, message
    grad = r"\frac{\partial J}{\partial W_2} = \sum_{i=1}^{m} \mathbf{g}^T (\mathbf{h}^i)^T"
    defs = {"g": r"\frac{\partial J}{\partial \mathbf{s}_2^i}"}
    assert verdict("mlp", grad, notation="jacobian", definitions=defs)[0] == "correct"
    assert verdict(None, r"\frac{\partial (u^T v)}{\partial u} = v^T", notation="jacobian")[0] == (
        "correct")  # fmt: skip


def test_definitions_abbreviate():
    """Lecture 4 writes V_b = diag(v_b + epsilon 1) and uses it."""
    defs = {"V_b": r"\operatorname{diag}(\mathbf{v}_b + \epsilon \mathbf{1})"}
    right = (
        r"\hat{\mathbf{s}}^i = V_b^{-1/2}"
        if False
        else r"\hat{\mathbf{s}}^i \circ \sqrt{V_b \mathbf{1}} = \mathbf{s}^i - \boldsymbol{\mu}_b"
    )
    assert verdict("batchnorm", right, definitions=defs)[0] == "correct"
    wrong = r"\hat{\mathbf{s}}^i \circ (V_b \mathbf{1}) = \mathbf{s}^i - \boldsymbol{\mu}_b"
    assert verdict("batchnorm", wrong, definitions=defs)[0] == "incorrect"


def test_a_wrong_constant_factor_is_named():
    regularised = (r"\frac{\partial J}{\partial W} = \frac{1}{m}\sum_{i=1}^{m}(\mathbf{p}^i - "
                   r"\mathbf{y}^i)(\mathbf{x}^i)^T + \lambda W")  # fmt: skip
    result = _CHECKERS.setdefault(("linear_softmax", "[]"), checker("linear_softmax")).check(
        ClaimEntry("q", regularised)
    )
    assert result.verdict == "incorrect" and result.slip == "a wrong constant factor", result
    half = r"\frac{\partial E}{\partial o} = \frac{2}{m}(o - t)"
    result = checker("hand321").check(ClaimEntry("q", half))
    assert result.verdict == "incorrect" and result.slip == "a wrong constant factor", result


# The Matrix Cookbook (Petersen & Pedersen, 2012), sections 2.4 to 2.7 (scalar forms, traces,
# vector and Frobenius norms), in its layout (the derivative by X has X's shape) and its words:
# x, a, b vectors; X, A, B, C, D square. "incorrect" cases are the identity with one slip.
COOKBOOK_SYMBOLS = {
    "x": {"vector": "n"}, "a": {"vector": "n"}, "b": {"vector": "n"}, "c": {"vector": "n"},
    "X": {"matrix": ["n", "n"]}, "A": {"matrix": ["n", "n"]}, "B": {"matrix": ["n", "n"]},
    "C": {"matrix": ["n", "n"]}, "D": {"matrix": ["n", "n"]}, "s": "scalar", "u": "scalar",
}  # fmt: skip
COOKBOOK = [
    # 2.4.1 first order
    (r"\frac{\partial x^T a}{\partial x} = a", "correct"),
    (r"\frac{\partial a^T X b}{\partial X} = a b^T", "correct"),
    (r"\frac{\partial a^T X b}{\partial X} = b a^T", "incorrect"),
    (r"\frac{\partial a^T X^T b}{\partial X} = b a^T", "correct"),
    (r"\frac{\partial a^T X a}{\partial X} = a a^T", "correct"),
    (r"\frac{\partial X_{kl}}{\partial X_{ij}} = \delta_{ik}\delta_{lj}", "correct"),
    (r"\frac{\partial (X A)_{ij}}{\partial X_{mn}} = \delta_{im} A_{nj}", "correct"),
    (r"\frac{\partial (X A)_{ij}}{\partial X_{mn}} = \delta_{jm} A_{ni}", "incorrect"),
    (r"\frac{\partial (X^T A)_{ij}}{\partial X_{mn}} = \delta_{in} A_{mj}", "correct"),
    (r"\frac{\partial (X^T A)_{ij}}{\partial X_{mn}} = \delta_{im} A_{nj}", "incorrect"),
    # 2.4.2 second order
    (r"\frac{\partial}{\partial X} b^T X^T X c = X (b c^T + c b^T)", "correct"),
    (r"\frac{\partial}{\partial X} b^T X^T X c = 2 X b c^T", "incorrect"),  # only if b = c
    (r"\frac{\partial}{\partial x} (A x + b)^T C (D x + c) = A^T C (D x + c) + D^T C^T (A x + b)",
     "correct"),
    (r"\frac{\partial}{\partial X} b^T X^T D X c = D^T X b c^T + D X c b^T", "correct"),
    (r"\frac{\partial}{\partial X} (X b + c)^T D (X b + c) = (D + D^T)(X b + c) b^T", "correct"),
    (r"\frac{\partial x^T B x}{\partial x} = (B + B^T) x", "correct"),
    (r"\frac{\partial x^T B x}{\partial x} = 2 B x", "incorrect"),  # only for symmetric B
    (r"\nabla_x x^T B x = (B + B^T) x", "correct"),
    (r"\frac{\partial^2 x^T B x}{\partial x \partial x^T} = B + B^T", "correct"),
    (r"\frac{\partial^2 x^T B x}{\partial x \partial x^T} = 2 B", "incorrect"),
    # 2.4.3 higher order: a sum whose index is an exponent
    (r"\frac{\partial}{\partial X} a^T X^3 b = \sum_{r=0}^{2} (X^r)^T a b^T (X^{2-r})^T",
     "correct"),
    (r"\frac{\partial}{\partial X} a^T X^3 b = \sum_{r=0}^{2} (X^r)^T a b^T (X^{3-r})^T",
     "incorrect"),
    (r"\frac{\partial}{\partial X} a^T X^3 b = \sum_{r=1}^{2} (X^r)^T a b^T (X^{2-r})^T",
     "incorrect"),
    # 2.5 traces
    (r"\frac{\partial \operatorname{tr}(X)}{\partial X} = I", "correct"),
    (r"\frac{\partial \operatorname{tr}(X)}{\partial X} = 2 I", "incorrect"),
    (r"\frac{\partial \operatorname{tr}(X A)}{\partial X} = A^T", "correct"),
    (r"\frac{\partial \operatorname{tr}(A X B)}{\partial X} = A^T B^T", "correct"),
    (r"\frac{\partial \operatorname{tr}(A X B)}{\partial X} = B A", "incorrect"),
    (r"\frac{\partial \operatorname{tr}(A X^T B)}{\partial X} = B A", "correct"),
    (r"\frac{\partial \operatorname{tr}(X^2)}{\partial X} = 2 X^T", "correct"),
    (r"\frac{\partial \operatorname{tr}(X^2)}{\partial X} = 2 X", "incorrect"),  # a square power
    (r"\frac{\partial \operatorname{tr}(X^T B X)}{\partial X} = B X + B^T X", "correct"),
    (r"\frac{\partial \operatorname{tr}(X B X^T)}{\partial X} = X B^T + X B", "correct"),
    (r"\frac{\partial \operatorname{tr}(A X B X)}{\partial X} = A^T X^T B^T + B^T X^T A^T",
     "correct"),
    (r"\frac{\partial \operatorname{tr}(X^T X)}{\partial X} = 2 X", "correct"),
    (r"\frac{\partial \operatorname{tr}(X^T B X C)}{\partial X} = B X C + B^T X C^T", "correct"),
    (r"\frac{\partial \operatorname{tr}(X^T B X C)}{\partial X} = B X C + B X C^T", "incorrect"),
    (r"\frac{\partial \operatorname{tr}(A X B X^T C)}{\partial X} = A^T C^T X B^T + C A X B",
     "correct"),
    (r"\frac{\partial}{\partial X} \operatorname{tr}[(A X B + C)(A X B + C)^T] = "
     r"2 A^T (A X B + C) B^T", "correct"),
    (r"\frac{\partial \operatorname{tr}(X^3)}{\partial X} = 3 (X^2)^T", "correct"),
    (r"\frac{\partial}{\partial X} \operatorname{tr}(A X^3) = \sum_{r=0}^{2} (X^r A X^{2-r})^T",
     "correct"),
    (r"\frac{\partial \operatorname{tr}(A X^{-1} B)}{\partial X} = -(X^{-1} B A X^{-1})^T",
     "correct"),
    (r"\frac{\partial a^T X^{-1} b}{\partial X} = - X^{-T} a b^T X^{-T}", "correct"),
    (r"\frac{\partial a^T X^{-1} b}{\partial X} = - X^{-1} a b^T X^{-1}", "incorrect"),
    (r"\frac{\partial \det(X)}{\partial X} = \det(X) X^{-T}", "correct"),
    (r"\frac{\partial \det(X)}{\partial X} = \det(X) X^{-1}", "incorrect"),
    (r"\frac{\partial \log |\det(X)|}{\partial X} = (X^{-1})^T", "correct"),
    # the matrix exponential is not entry by entry: refused, never judged
    (r"\frac{\partial \operatorname{tr}(e^X)}{\partial X} = (e^X)^T", "invalid"),
    # 2.6 vector norms
    (r"\frac{\partial \|x - a\|_2}{\partial x} = \frac{x - a}{\|x - a\|_2}", "correct"),
    (r"\frac{\partial \|x - a\|_2}{\partial x} = \frac{x - a}{\|x - a\|_2^2}", "incorrect"),
    (r"\frac{\partial}{\partial x} \frac{x - a}{\|x - a\|_2} = \frac{I}{\|x - a\|_2} - "
     r"\frac{(x - a)(x - a)^T}{\|x - a\|_2^3}", "correct"),
    (r"\frac{\partial}{\partial x} \frac{x - a}{\|x - a\|_2} = \frac{I}{\|x - a\|_2}", "incorrect"),
    (r"\frac{\partial \|x\|_2^2}{\partial x} = 2 x", "correct"),
    (r"\frac{\partial \lVert x \rVert_2}{\partial x} = \frac{x}{\lVert x \rVert_2}", "correct"),
    # 2.7 the Frobenius norm
    (r"\frac{\partial \|X\|_F^2}{\partial X} = 2 X", "correct"),
    (r"\frac{\partial \|X\|_{\mathrm{F}}^2}{\partial X} = X", "incorrect"),
    # second derivatives of numbers
    (r"\frac{d^2 \sigma(s)}{ds^2} = \sigma(s)(1-\sigma(s))(1-2\sigma(s))", "correct"),
    (r"\frac{d^2 \sigma(s)}{ds^2} = \sigma(s)(1-\sigma(s))", "incorrect"),
    (r"\frac{\partial^2 (s^2 u^3)}{\partial s \partial u} = 6 s u^2", "correct"),
    (r"\sum_{k=0}^{3} k^2 = 14", "correct"),
    (r"\sum_{k=0}^{3} k^2 = 15", "incorrect"),
]  # fmt: skip


@pytest.mark.parametrize("claim, expected", COOKBOOK, ids=[f"{k}" for k in range(len(COOKBOOK))])
def test_matrix_cookbook(claim, expected):
    got, message = verdict(None, claim, symbols=COOKBOOK_SYMBOLS, functions={})
    assert got == expected, f"{claim}\n{got}: {message}"
