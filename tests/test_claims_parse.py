"""The safe parser of student claims (derive.claims): every construct of the LaTeX subset and of
plain-text math against a tree written out by hand, the course's own formulas, error positions,
and hostile input (nothing runs, everything is bounded and fast)."""

from __future__ import annotations

import builtins
import contextlib
import io
import logging
import os
import subprocess
import time

import pytest

from derive.claims import (
    Abs,
    BinOp,
    Call,
    Compare,
    Derivative,
    Equation,
    Frac,
    Indicator,
    Name,
    Neg,
    Node,
    Norm,
    Number,
    Ones,
    ParseError,
    Sum,
    Sup,
    Transpose,
    parse_claim,
)
from derive.errors import DeriveError


# --- shorthands for writing trees by hand --------------------------------------------------------
def N(base, sub=None, *accents, label=None):  # noqa: N802 - reads like the node
    return Name(base, sub, tuple(accents), label)


def num(text):
    return Number(text)


def mul(a, b):
    return BinOp("*", a, b)


def add(a, b):
    return BinOp("+", a, b)


def sub(a, b):
    return BinOp("-", a, b)


def had(a, b):
    return BinOp("hadamard", a, b)


def call(fn, *args, spelling=None):
    return Call(fn, tuple(args), spelling)


def eq(*sides):
    return Equation(tuple(sides))


x, y, z, W, L, m, i = N("x"), N("y"), N("z"), N("W"), N("L"), N("m"), N("i")
sig_x = call("sigma", x)

CASES = [
    # numbers stay text
    ("0.0043", num("0.0043")),
    ("1e-3", num("1e-3")),
    ("2.5E4", num("2.5E4")),
    (".5", num(".5")),
    ("2x", mul(num("2"), x)),
    ("2e^{x}", mul(num("2"), Sup(N("e"), x))),
    # names: decorations dropped, accents kept, Greek spelt out, subscripts as text
    ("x_1", N("x", "1")),
    ("x_{1A}", N("x", "1A")),
    ("\\theta_{2B}", N("theta", "2B")),
    ("\\mathbf{x}", x),
    ("\\mathbf x", x),
    ("\\bm{x}", x),
    ("\\boldsymbol{\\theta}_{2\\mathrm{B}}", N("theta", "2B")),
    ("\\mathit{x} + \\mathsf{y} + \\vec{z}", add(add(x, y), z)),
    ("\\mathrm{BN}", N("BN")),
    ("\\hat{y}", N("y", None, "hat")),
    ("\\hat y_B", N("y", "B", "hat")),
    ("\\hat{y_B}", N("y", "B", "hat")),
    ("\\hat{\\mathbf{y}}_B", N("y", "B", "hat")),
    ("\\mathbf{\\hat{y}}_{B}", N("y", "B", "hat")),
    ("\\vec{\\hat{y}}", N("y", None, "hat")),
    ("\\tilde{x} - \\bar{x}", sub(N("x", None, "tilde"), N("x", None, "bar"))),
    ("\\widehat{y} + \\overline{x}", add(N("y", None, "hat"), N("x", None, "bar"))),
    ("\\hat{\\bar{x}}", N("x", None, "hat", "bar")),
    ("W^{(1)}", N("W", label="1")),
    ("x^{(i)}_k", N("x", "k", label="i")),
    ("W^{(2)} x^{(1)}", mul(N("W", label="2"), N("x", label="1"))),
    ("e^{(x)}", Sup(N("e"), x)),  # on e a parenthesised superscript is a power
    ("(a+b)^{(2)}", Sup(add(N("a"), N("b")), num("2"))),
    ("\\varepsilon + \\epsilon", add(N("epsilon"), N("epsilon"))),
    ("\\Sigma \\Delta", mul(N("Sigma"), N("Delta"))),
    ("\\ell", N("ell")),
    ("theta + lambda", add(N("theta"), N("lambda"))),
    ("xy", mul(x, y)),
    ("dtheta", mul(N("d"), N("theta"))),
    ("x_12", N("x", "12")),
    ("W_1x + b_1", add(mul(N("W", "1"), x), N("b", "1"))),
    ("theta_1A", mul(N("theta", "1"), N("A"))),  # LaTeX rule: braces for two characters
    ("\\mathbf{x}_\\oplus", N("x", "oplus")),
    ("\\mathbf{x}_{\\oplus}", N("x", "oplus")),
    ("\\mathbf{x}_{\\mathrm{BN}^*}", N("x", "BN*")),
    ("\\mathbf{x}_{BN^{*}}", N("x", "BN*")),
    ("\\mathbf{x}_{\\mathtt{BN*}}", N("x", "BN*")),
    ("\\mathbf{x}_{\\text{BN}^{*}}", N("x", "BN*")),
    ("y_{\\mathrm{B,k}}", N("y", "B,k")),
    ("y_{B, k}", N("y", "B,k")),
    ("x_{soft,i}", N("x", "soft,i")),
    ("x_{i+1}", N("x", "i+1")),
    ("z_{h_1}", N("z", "h_1")),
    ("\\mathbf{z}_{1\\mathrm{A}}", N("z", "1A")),
    ("\\sigma_B", N("sigma", "B")),
    ("\\sigma_B^2", Sup(N("sigma", "B"), num("2"))),
    ("sigma_B", N("sigma", "B")),
    ("σ_B + θ", add(N("sigma", "B"), N("theta"))),
    ("\\sigma^2 + 1", add(Sup(N("sigma"), num("2")), num("1"))),
    # superscripts that are not transposes
    ("x^2", Sup(x, num("2"))),
    ("x^{-1}", Sup(x, Neg(num("1")))),
    ("x^-1", Sup(x, Neg(num("1")))),
    ("x**2", Sup(x, num("2"))),
    ("x**-1", Sup(x, Neg(num("1")))),
    ("x^(n+1)", Sup(x, add(N("n"), num("1")))),
    ("x^10", Sup(x, num("10"))),
    ("x^i", Sup(x, i)),
    ("e^{-x}", Sup(N("e"), Neg(x))),
    ("e^x", Sup(N("e"), x)),
    ("2^3^2", Sup(num("2"), Sup(num("3"), num("2")))),
    ("2**3**2", Sup(num("2"), Sup(num("3"), num("2")))),
    ("x_1^2", Sup(N("x", "1"), num("2"))),
    ("x^2_1", Sup(N("x", "1"), num("2"))),
    ("\\hat{y}^i_B", Sup(N("y", "B", "hat"), i)),
    # transposes
    ("x^T", Transpose(x)),
    ("x^{T}", Transpose(x)),
    ("x^\\top", Transpose(x)),
    ("x^{\\top}", Transpose(x)),
    ("x^{\\mathsf T}", Transpose(x)),
    ("x^{\\mathsf{T}}", Transpose(x)),
    ("x^\\intercal", Transpose(x)),
    ("x^{\\intercal}", Transpose(x)),
    ("x^Ty", mul(Transpose(x), y)),
    ("(x^i)^T", Transpose(Sup(x, i))),
    ("x^{i}^{T}", Transpose(Sup(x, i))),
    ("\\theta_{2\\mathrm{B}}^{T}", Transpose(N("theta", "2B"))),
    ("xᵀ", Transpose(x)),
    # signs and binary operators: all products bind equally, left to right
    ("-x", Neg(x)),
    ("+x", x),
    ("a - -b", sub(N("a"), Neg(N("b")))),
    ("a \\cdot -b", mul(N("a"), Neg(N("b")))),
    ("-a b", Neg(mul(N("a"), N("b")))),
    ("a + b - c", sub(add(N("a"), N("b")), N("c"))),
    ("a b", mul(N("a"), N("b"))),
    ("a \\cdot b", mul(N("a"), N("b"))),
    ("a \\times b", mul(N("a"), N("b"))),
    ("a * b", mul(N("a"), N("b"))),
    ("a / b", BinOp("/", N("a"), N("b"))),
    ("a \\circ b", had(N("a"), N("b"))),
    ("a \\odot b", had(N("a"), N("b"))),
    ("a ∘ b", had(N("a"), N("b"))),
    ("a b \\circ c d", mul(had(mul(N("a"), N("b")), N("c")), N("d"))),
    ("W x", mul(W, x)),
    ("(y - p)x^T", mul(sub(y, N("p")), Transpose(x))),
    ("a - b x", sub(N("a"), mul(N("b"), x))),
    # fractions
    ("\\frac{a}{b}", Frac(N("a"), N("b"))),
    ("\\dfrac{a}{b} + \\tfrac{a}{b}", add(Frac(N("a"), N("b")), Frac(N("a"), N("b")))),
    ("\\frac12", Frac(num("1"), num("2"))),
    ("\\frac1m", Frac(num("1"), m)),
    ("\\frac{1}{1 + e^{-x}}", Frac(num("1"), add(num("1"), Sup(N("e"), Neg(x))))),
    ("-\\frac{1}{m}", Neg(Frac(num("1"), m))),
    # functions: an argument in brackets or braces, or one atom with its scripts
    ("\\sigma(x)", sig_x),
    ("σ(x)", sig_x),
    ("sigma(x)", sig_x),
    ("sigmoid(x)", call("sigma", x, spelling="sigmoid")),
    ("\\tanh x", call("tanh", x)),
    ("\\tanh x^2", call("tanh", Sup(x, num("2")))),
    ("\\tanh(x)^2", Sup(call("tanh", x), num("2"))),
    ("\\tanh^2(x)", Sup(call("tanh", x), num("2"))),
    ("\\exp(-x)", call("exp", Neg(x))),
    ("\\exp{(x)}", call("exp", x)),
    ("exp(-x)", call("exp", Neg(x))),
    ("\\log p_i", call("log", N("p", "i"))),
    ("\\log p_i q_i", mul(call("log", N("p", "i")), N("q", "i"))),
    ("\\log \\hat{y}_{B,k}^{i}", call("log", Sup(N("y", "B,k", "hat"), i))),
    ("\\log \\sigma(z)", call("log", call("sigma", z))),
    ("\\log |x|", call("log", Abs(x))),
    ("\\ln x", call("log", x, spelling="ln")),
    ("\\ln(1 + e^x)", call("log", add(num("1"), Sup(N("e"), x)), spelling="ln")),
    ("softplus(x)", call("softplus", x)),
    ("\\operatorname{softplus}(x)", call("softplus", x)),
    ("\\max(0, x)", call("max", num("0"), x)),
    ("max(0, 1 - y\\hat{y})", call("max", num("0"), sub(num("1"), mul(y, N("y", None, "hat"))))),
    ("\\min(a, b)", call("min", N("a"), N("b"))),
    ("\\operatorname{sign}(x)", call("sign", x)),
    ("\\operatorname{sgn}(x)", call("sign", x, spelling="sgn")),
    ("sgn(x)", call("sign", x, spelling="sgn")),
    ("\\text{sgn}(x)", call("sign", x, spelling="sgn")),
    ("\\mathrm{sgn} \\left( x \\right)", call("sign", x, spelling="sgn")),
    ("relu(x)", call("relu", x)),
    ("ReLU(x)", call("relu", x, spelling="ReLU")),
    ("\\text{ReLU}(x)", call("relu", x, spelling="ReLU")),
    ("\\operatorname{diag}(x)", call("diag", x)),
    ("\\mathrm{diag}(\\mathbf{x})", call("diag", x)),
    ("\\sqrt{x}", call("sqrt", x)),
    ("\\sqrt x", call("sqrt", x)),
    ("sqrt(x)", call("sqrt", x)),
    ("softmax(z)", call("softmax", z)),
    ("\\text{Softmax}(\\mathbf{z})", call("softmax", z, spelling="Softmax")),
    ("\\sin(z) + \\cos z", add(call("sin", z), call("cos", z))),
    ("abs(x)", Abs(x)),
    ("\\sigma(x)(1-\\sigma(x))", mul(sig_x, sub(num("1"), sig_x))),
    ("\\sigma(W x + b)", call("sigma", add(mul(W, x), N("b")))),
    ("g(w)", mul(N("g"), N("w"))),  # g is not a function unless the caller says so
    # absolute values and norms
    ("|x|", Abs(x)),
    ("\\left| x \\right|", Abs(x)),
    ("\\lvert x \\rvert", Abs(x)),
    ("\\left\\lvert x \\right\\rvert", Abs(x)),
    ("|x| |y|", mul(Abs(x), Abs(y))),
    ("|x||y|", mul(Abs(x), Abs(y))),
    ("|x - y|^2", Sup(Abs(sub(x, y)), num("2"))),
    ("\\left| x - |y| \\right|", Abs(sub(x, Abs(y)))),
    ("\\|x\\|", Norm(x)),
    ("\\|x\\|_1", Norm(x, "1")),
    ("\\|x\\|_2^2", Sup(Norm(x, "2"), num("2"))),
    ("\\|x\\|^2_2", Sup(Norm(x, "2"), num("2"))),
    ("\\left\\| x \\right\\|_{2}^{2}", Sup(Norm(x, "2"), num("2"))),
    ("\\lVert W \\rVert_F", Norm(W, "F")),
    ("\\Vert x \\Vert", Norm(x)),
    ("||x||", Norm(x)),
    # derivatives
    ("\\frac{d}{dx} f", Derivative(N("f"), x, False)),
    ("\\frac{d}{dx} a b", Derivative(mul(N("a"), N("b")), x, False)),
    ("2 \\frac{d}{dx} a b", mul(num("2"), Derivative(mul(N("a"), N("b")), x, False))),
    ("\\frac{df}{dx}", Derivative(N("f"), x, False)),
    ("\\frac{dy}{dx}", Derivative(y, x, False)),
    ("\\frac{\\mathrm{d} y}{\\mathrm{d} x}", Derivative(y, x, False)),
    ("\\frac{\\partial L}{\\partial W}", Derivative(L, W, True)),
    ("\\frac{\\partial}{\\partial x}(x^2)", Derivative(Sup(x, num("2")), x, True)),
    ("\\frac{\\partial}{\\partial x} \\left( x y \\right)", Derivative(mul(x, y), x, True)),
    ("\\frac{\\partial (\\sigma(x))}{\\partial x}", Derivative(sig_x, x, True)),
    ("\\frac{\\partial y_i}{\\partial \\gamma}", Derivative(N("y", "i"), N("gamma"), True)),
    ("\\frac{\\partial L}{\\partial \\sigma}", Derivative(L, N("sigma"), True)),
    (
        "\\frac{\\partial L}{\\partial \\mathbf{z}_{2B}^{i}}",
        Derivative(L, Sup(N("z", "2B"), i), True),
    ),
    (
        "\\frac{\\partial \\sum_j e^{x_j}}{\\partial x_i}",
        Derivative(Sum("j", None, None, Sup(N("e"), N("x", "j"))), N("x", "i"), True),
    ),
    ("d/dx sigma(x)", Derivative(sig_x, x, False)),
    ("d/dx x^2", Derivative(Sup(x, num("2")), x, False)),
    ("dL/dW", Derivative(L, W, False)),
    ("dL/dW x", mul(Derivative(L, W, False), x)),
    ("d sigma(x)/dx", Derivative(sig_x, x, False)),
    ("∂L/∂W", Derivative(L, W, True)),
    ("\\partial L / \\partial W", Derivative(L, W, True)),
    ("d / 2", BinOp("/", N("d"), num("2"))),  # not a derivative: d is just a name
    # sums: the body is the rest of the product
    ("\\sum_{i=1}^{m} x_i", Sum("i", num("1"), m, N("x", "i"))),
    ("\\sum_{i=1}^m x_i", Sum("i", num("1"), m, N("x", "i"))),
    ("\\sum_i x_i", Sum("i", None, None, N("x", "i"))),
    ("\\sum_{i} x_i", Sum("i", None, None, N("x", "i"))),
    ("\\sum\\limits_{i=1}^{n} x_i", Sum("i", num("1"), N("n"), N("x", "i"))),
    ("\\sum^{m}_{i=1} x_i", Sum("i", num("1"), m, N("x", "i"))),
    ("\\sum x_i", Sum(None, None, None, N("x", "i"))),
    (
        "\\sum_{k=1}^{c} y_k \\log \\hat{y}_k",
        Sum("k", num("1"), N("c"), mul(N("y", "k"), call("log", N("y", "k", "hat")))),
    ),
    ("\\sum_i a_i b_i + c", add(Sum("i", None, None, mul(N("a", "i"), N("b", "i"))), N("c"))),
    ("\\frac{1}{m}\\sum_i x^i", mul(Frac(num("1"), m), Sum("i", None, None, Sup(x, i)))),
    ("a \\cdot \\sum_i x_i", mul(N("a"), Sum("i", None, None, N("x", "i")))),
    ("-\\sum_i x_i", Neg(Sum("i", None, None, N("x", "i")))),
    ("\\sum_i \\sum_j w_{ij}", Sum("i", None, None, Sum("j", None, None, N("w", "ij")))),
    ("∑_i x_i", Sum("i", None, None, N("x", "i"))),
    # ones and indicators
    ("\\mathbf{1}", Ones()),
    ("\\mathbf 1", Ones()),
    ("\\boldsymbol{1}", Ones()),
    ("\\mathbb{1}", Ones()),
    ("\\mathbf{1}_m", Ones("m")),
    ("\\mathbf{1}^T x", mul(Transpose(Ones()), x)),
    ("p \\cdot \\mathbf{1}", mul(N("p"), Ones())),
    ("\\mathbb{1}_{s > 0}", Indicator(Compare(">", N("s"), num("0")))),
    ("\\mathbb{1}[s > 0]", Indicator(Compare(">", N("s"), num("0")))),
    ("\\mathbf{1}_{s>0}", Indicator(Compare(">", N("s"), num("0")))),
    ("1[s>0]", Indicator(Compare(">", N("s"), num("0")))),
    ("\\mathbb{1}\\{x \\geq 0\\}", Indicator(Compare(">=", x, num("0")))),
    ("\\mathbb{1}(x \\ge 0)", Indicator(Compare(">=", x, num("0")))),
    ("\\mathbb{1}[x \\leq 0]", Indicator(Compare("<=", x, num("0")))),
    ("\\mathbb{1}[x \\le 0]", Indicator(Compare("<=", x, num("0")))),
    ("\\mathbb{1}[x < 0]", Indicator(Compare("<", x, num("0")))),
    ("\\mathbb{1}[x \\neq 0]", Indicator(Compare("!=", x, num("0")))),
    ("\\mathbb{1}_{i=j}", Indicator(Compare("=", i, N("j")))),
    ("1[x >= 0]", Indicator(Compare(">=", x, num("0")))),
    ("1[x ≥ 0]", Indicator(Compare(">=", x, num("0")))),
    ("2 \\mathbb{1}[x > 0] x", mul(mul(num("2"), Indicator(Compare(">", x, num("0")))), x)),
    ("\\mathbf{1} (a + b)", mul(Ones(), add(N("a"), N("b")))),
    # grouping and spacing
    ("(x)", x),
    ("[x + y] z", mul(add(x, y), z)),
    ("\\{x + y\\} z", mul(add(x, y), z)),
    ("{x + y} z", mul(add(x, y), z)),
    ("\\left( x \\right)", x),
    ("\\left[ x \\right]", x),
    ("\\left\\{ x \\right\\}", x),
    ("\\bigl( x \\bigr)", x),
    ("\\Bigl[ x \\Bigr]", x),
    ("\\big( x \\big)", x),
    ("\\Big[ x \\Big]", x),
    ("\\biggl( x \\biggr) \\Biggl( y \\Biggr)", mul(x, y)),
    ("\\left. x \\right.", x),
    (
        "x\\,y\\;z\\!w\\:q\\quad r\\qquad s~t",
        mul(mul(mul(mul(mul(mul(mul(x, y), z), N("w")), N("q")), N("r")), N("s")), N("t")),
    ),
    ("\\displaystyle x \\hspace{0.5mm}", x),
    ("x &= y", eq(x, y)),
    # equations
    ("a = b", eq(N("a"), N("b"))),
    ("a = b = c", eq(N("a"), N("b"), N("c"))),
    ("a \\approx 0.31", eq(N("a"), num("0.31"))),
    ("$x = 1$", eq(x, num("1"))),
    ("$$ x = 1 $$", eq(x, num("1"))),
    ("\\[ x = 1 \\]", eq(x, num("1"))),
    # plain-text math
    ("sigma(x)*(1-sigma(x))", mul(sig_x, sub(num("1"), sig_x))),
    ("x^2 + 2*x", add(Sup(x, num("2")), mul(num("2"), x))),
    (
        "exp(-x)/(1+exp(-x))**2",
        BinOp("/", call("exp", Neg(x)), Sup(add(num("1"), call("exp", Neg(x))), num("2"))),
    ),
    ("1 - tanh(x)^2", sub(num("1"), Sup(call("tanh", x), num("2")))),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_parses_to(text, expected):
    assert parse_claim(text) == expected


# --- the course's formulas --------------------------------------------------------------------
yhat_B_i = Sup(N("y", "B", "hat"), i)
y_B_i = Sup(N("y", "B"), i)

SEEDS = [
    (  # issue 5, q2 (seed 000: the gradient of theta_2B)
        "\\frac{\\partial L}{\\partial \\theta_{2B}} = \\frac{1}{m}\\sum_{i=1}^{m}"
        "(\\hat{\\mathbf{y}}_B^i - \\mathbf{y}_B^i)(\\mathbf{x}_\\oplus^i)^T",
        eq(
            Derivative(L, N("theta", "2B"), True),
            mul(
                Frac(num("1"), m),
                Sum(
                    "i",
                    num("1"),
                    m,
                    mul(sub(yhat_B_i, y_B_i), Transpose(Sup(N("x", "oplus"), i))),
                ),
            ),
        ),
    ),
    (  # issue 5, q1 (seed 002)
        "\\frac{d\\sigma(x)}{dx} = \\sigma(x)(1-\\sigma(x))",
        eq(Derivative(sig_x, x, False), mul(sig_x, sub(num("1"), sig_x))),
    ),
    (  # issue 5, q3 (seed 002, the hand calculation)
        "\\frac{\\partial E}{\\partial w_1} = 0.0043",
        eq(Derivative(N("E"), N("w", "1"), True), num("0.0043")),
    ),
    (  # seed 004: softmax regression with L2
        "\\frac{\\partial J}{\\partial W} = \\frac{1}{m}\\sum_i (p^i - y^i)(x^i)^T + 2\\lambda W",
        eq(
            Derivative(N("J"), W, True),
            add(
                mul(
                    Frac(num("1"), m),
                    Sum(
                        "i",
                        None,
                        None,
                        mul(sub(Sup(N("p"), i), Sup(y, i)), Transpose(Sup(x, i))),
                    ),
                ),
                mul(mul(num("2"), N("lambda")), W),
            ),
        ),
    ),
    (  # seed 000: the residual of z_2B
        "\\frac{\\partial L}{\\partial \\mathbf{z}_{2B}^{i}} = "
        "\\frac{1}{m}\\left(\\hat{\\mathbf{y}}_{B}^{i} - \\mathbf{y}_{B}^{i}\\right)",
        eq(Derivative(L, Sup(N("z", "2B"), i), True), mul(Frac(num("1"), m), sub(yhat_B_i, y_B_i))),
    ),
    (  # seed 000: the residual of x_oplus, with \mathrm in subscripts
        "\\frac{\\partial L}{\\partial \\mathbf{x}_{\\oplus}^{i}} = "
        "\\frac{1}{m} \\theta_{2\\mathrm{B}}^{T} "
        "\\left(\\hat{\\mathbf{y}}_{\\mathrm{B}}^{i} - \\mathbf{y}_{\\mathrm{B}}^{i} \\right)",
        eq(
            Derivative(L, Sup(N("x", "oplus"), i), True),
            mul(mul(Frac(num("1"), m), Transpose(N("theta", "2B"))), sub(yhat_B_i, y_B_i)),
        ),
    ),
    (  # seed 000: a Hadamard product with sgn, read left to right
        "\\frac{\\partial L}{\\partial \\mathbf{x}_{\\text{BN}}^{i}} = \\frac{1}{m} "
        "\\theta_{2\\text{B}}^{T} \\left(\\hat{\\mathbf{y}}_{\\text{B}}^{i} - "
        "\\mathbf{y}_{\\text{B}}^{i} \\right) \\circ "
        "\\text{sgn} \\left(\\mathbf{x}_{\\text{BN}}^{i} \\right)",
        eq(
            Derivative(L, Sup(N("x", "BN"), i), True),
            had(
                mul(mul(Frac(num("1"), m), Transpose(N("theta", "2B"))), sub(yhat_B_i, y_B_i)),
                call("sign", Sup(N("x", "BN"), i), spelling="sgn"),
            ),
        ),
    ),
    (  # seed 000: the loss of Task A
        "L_{A} = \\frac{1}{m} \\sum_{i=1}^{m} \\frac{1}{2} \\|\\hat{\\mathbf{y}}_{A}^{i} - "
        "\\mathbf{y}_{A}^{i}\\|_{2}^{2}",
        eq(
            N("L", "A"),
            mul(
                Frac(num("1"), m),
                Sum(
                    "i",
                    num("1"),
                    m,
                    mul(
                        Frac(num("1"), num("2")),
                        Sup(
                            Norm(sub(Sup(N("y", "A", "hat"), i), Sup(N("y", "A"), i)), "2"),
                            num("2"),
                        ),
                    ),
                ),
            ),
        ),
    ),
    (  # seed 000: batch normalisation
        "\\frac{\\partial y_i}{\\partial \\gamma} = \\hat{x}_i = \\frac{x_i - \\mu_B}"
        "{\\sqrt{\\sigma_B^2 + \\varepsilon}}",
        eq(
            Derivative(N("y", "i"), N("gamma"), True),
            N("x", "i", "hat"),
            Frac(
                sub(N("x", "i"), N("mu", "B")),
                call("sqrt", add(Sup(N("sigma", "B"), num("2")), N("epsilon"))),
            ),
        ),
    ),
    (  # seed 002: tanh
        "\\frac{d \\tanh(x)}{dx} = 1 - \\tanh^2(x)",
        eq(Derivative(call("tanh", x), x, False), sub(num("1"), Sup(call("tanh", x), num("2")))),
    ),
    (  # seed 002: the hand calculation, nested subscripts
        "\\frac{\\partial E}{\\partial w_1} = \\frac{\\partial E}{\\partial h_1} "
        "\\frac{\\partial h_1}{\\partial z_{h_1}} \\frac{\\partial z_{h_1}}{\\partial w_1}",
        eq(
            Derivative(N("E"), N("w", "1"), True),
            mul(
                mul(
                    Derivative(N("E"), N("h", "1"), True),
                    Derivative(N("h", "1"), N("z", "h_1"), True),
                ),
                Derivative(N("z", "h_1"), N("w", "1"), True),
            ),
        ),
    ),
    (  # seed 002: hinge loss
        "J_{\\xi} = \\sum_{i=1}^n \\max(0, 1 - y_i \\hat{y}_i)",
        eq(
            N("J", "xi"),
            Sum(
                "i",
                num("1"),
                N("n"),
                call("max", num("0"), sub(num("1"), mul(N("y", "i"), N("y", "i", "hat")))),
            ),
        ),
    ),
    (  # seed 002: the student's own softmax S
        "\\frac{\\partial s_i}{\\partial a_j} = s_i (\\delta_{ij} - s_j)",
        eq(
            Derivative(N("s", "i"), N("a", "j"), True),
            mul(N("s", "i"), sub(N("delta", "ij"), N("s", "j"))),
        ),
    ),
    (  # ReLU' as an indicator
        "\\frac{d \\,\\text{ReLU}(x)}{dx} = \\mathbb{1}[x > 0]",
        eq(
            Derivative(call("relu", x, spelling="ReLU"), x, False),
            Indicator(Compare(">", x, num("0"))),
        ),
    ),
]


@pytest.mark.parametrize(("text", "expected"), SEEDS, ids=[s[0][:40] for s in SEEDS])
def test_course_formulas(text, expected):
    assert parse_claim(text) == expected


def test_caller_functions():
    fs = frozenset({"S", "swish", "phi"})
    assert parse_claim("S(\\hat{y})", fs) == Call("S", (N("y", None, "hat"),))
    assert parse_claim("\\operatorname{S}(a)", fs) == Call("S", (N("a"),))
    assert parse_claim("swish(x) + 1", fs) == add(Call("swish", (x,)), num("1"))
    assert parse_claim("\\phi(x)", fs) == Call("phi", (x,))
    assert parse_claim("\\phi(x)") == mul(N("phi"), x)  # without it, a name times x
    # declared names win over built-in ones, so a student's own sgn keeps its spelling
    assert parse_claim("sgn(x)", frozenset({"sgn"})) == Call("sgn", (x,))
    assert parse_claim("Sx", fs) == mul(N("S"), x)  # a function name must end its word
    with pytest.raises(DeriveError, match="letters"):
        parse_claim("x", frozenset({"os.system"}))


def test_equation_sides():
    claim = parse_claim("a = b = c")
    assert (claim.lhs, claim.rhs, claim.sides[1]) == (N("a"), N("c"), N("b"))
    assert parse_claim("x + 1") == add(x, num("1"))  # a lone expression is its node


def test_positions():
    claim = parse_claim("\\frac{\\partial L}{\\partial W} = x + \\hat{\\mathbf{y}}_B")
    assert claim.start == 0
    deriv, rhs = claim.sides
    assert (deriv.start, deriv.f.start, deriv.var.start) == (0, 15, 27)
    assert (rhs.start, rhs.left.start, rhs.right.start) == (32, 32, 36)
    s = parse_claim("\\sum_i 2 \\sigma(x)")
    assert (s.start, s.body.right.start, s.body.right.args[0].start) == (0, 9, 16)
    # start takes no part in equality
    assert Name("x", start=3) == Name("x", start=7)
    assert hash(Name("x", start=3)) == hash(Name("x"))


def test_number_fraction():
    from fractions import Fraction

    assert num("0.0043").fraction() == Fraction(43, 10000)
    assert num("1e-3").fraction() == Fraction(1, 1000)


# --- errors name what they expected, and where ------------------------------------------------
@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("\\frac{1}{", 9, "unexpected end of input at 9, expected an expression"),
        ("(x + 1", 6, "unexpected end of input at 6, expected ')'"),
        ("x +* y", 3, "unexpected '*' at 3, expected an expression"),
        ("[a + (b]", 7, "unexpected ']' at 7, expected ')'"),
        ("\\frac{a}{b}}", 11, "unexpected '}' at 11"),
        ("x )", 2, "unexpected ')' at 2"),
        ("x > 0", 2, "a comparison belongs in an indicator"),
        ("\\sigma(x > 0)", 9, "unexpected '>' at 9"),
        ("(x > 0)", 1, "a comparison is only allowed in an indicator"),
        ("= x", 0, "unexpected '=' at 0, expected an expression"),
        ("", 0, "empty claim"),
        ("   ", 0, "empty claim"),
        ("x_.2", 2, "unexpected '.' at 2"),
        ("\\sigma'(x)", 6, "primes and quotes are not supported"),
        ("x^*", 2, "unexpected '*' at 2"),
        ("|x + |y||", 5, "bars inside bars"),
        ("\\log", 4, "expected an argument after log"),
        ("\\log_2 x", 0, "subscript or label on the function log"),
        ("\\frac{d}{dx}", 0, "expected an expression to differentiate"),
        ("d/dx", 0, "expected an expression to differentiate"),
        ("\\frac{\\partial^3 L}{\\partial x^3}", 6, "higher derivatives"),
        ("\\partial L", 0, "\\partial outside a derivative"),
        ("\\hat{x + y}", 0, "\\hat must be put on a name"),
        ("(a + b)_{B}", 9, "a subscript must follow a name, or be the indices of an entry"),
        ("(a + b)_{ijk}", 9, "a subscript must follow a name, or be the indices of an entry"),
        ("(a + b)_{,}", 1, "a subscript must follow a name"),
        ("x_{1B}_{2B}", 8, "double subscript"),  # x_1_2 is entry 2 of x_1
        ("\\sum_{j=1, k \\neq i}^{n} x_j", 11, "the sum is over j, not k"),
        ("\\sum_{j > i} x_j", 8, "a sum's condition is j \\neq i"),
        ("\\sqrt[3]{x}", 0, "n-th root"),
        ("\\mathbb{R}", 0, "\\mathbb is only supported as \\mathbb{1}"),
        ("\\nabla L", 7, "unexpected 'L' at 7, expected '_'"),
        ("x \\\\ y", 2, "unknown command \\\\"),
        ("\\left x", 0, "\\left must be followed by a delimiter"),
        ("x^\\top_\\top", 7, "\\top outside a superscript"),
    ],
)
def test_errors(text, position, message):
    with pytest.raises(ParseError) as caught:
        parse_claim(text)
    assert caught.value.position == position
    assert message in str(caught.value)
    assert isinstance(caught.value, DeriveError)


# --- hostile input ------------------------------------------------------------------------------
HOSTILE = [
    "__import__('os').system('echo hacked')",
    '__import__("os").system("echo hacked")',
    "__import__",
    "x.__class__",
    "x.__class__.__bases__",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 0",
    "(lambda x: x)(1)",
    "'a'",
    '"a"',
    "x; y",
    "exec('1')",
    "open('/etc/passwd').read()",
    "10**100**100",
    "2^{10^{10}}",
    "x^{1001}",
    "(x^{100})^{100}",
    "((2^{10})^{10})^{11}",
    "2^{2^{2^{2^{2}}}}",
    "9" * 51,
    "1e100000",
    "x \\cdot 1e-1001",
    "\\sum_{i=1}^{100000} x_i",
    "(" * 5000 + "x" + ")" * 5000,
    "(" * 999 + "x" + ")" * 999,
    "{" * 51 + "x" + "}" * 51,
    "x^{" * 60 + "2" + "}" * 60,
    "-" * 1999 + "x",
    "\\sqrt" * 399 + " x",
    "x" * 2000,
    "+".join(["x"] * 1000),
    "2" + "^2" * 999,
    "\\hat" * 5 + "{x}",
    "\\input{/etc/passwd}",
    "\\include{/etc/passwd}",
    "\\def\\x{1}",
    "\\newcommand{\\x}{1}",
    "\\write18{rm -rf /}",
    "\\immediate\\write18{ls}",
    "\\catcode`\\^=7",
    "\\csname",
    "\\csname x\\endcsname",
    "\\openin1=/etc/passwd",
    "\\read",
    "x" * 1_000_000,
    "\\frac{" * 1_000_000,
]


@contextlib.contextmanager
def nothing_runs():
    """Make any attempt to evaluate, import, open a file or start a process fail loudly while
    the parser runs (armed only around the parse, so that pytest itself is not affected)."""

    def forbidden(*args, **kwargs):
        raise AssertionError("the parser tried to run something")

    parse_claim("x")  # the parser is built (and lark imported) before the trap is set
    targets = [(builtins, n) for n in ("eval", "exec", "compile", "__import__", "open")]
    targets += [(os, "system"), (os, "popen"), (subprocess, "Popen")]
    saved = [(obj, name, getattr(obj, name)) for obj, name in targets]
    for obj, name in targets:
        setattr(obj, name, forbidden)
    try:
        yield
    finally:
        for obj, name, value in saved:
            setattr(obj, name, value)


@pytest.mark.parametrize("text", HOSTILE, ids=[h[:40] for h in HOSTILE])
def test_hostile_input_is_rejected_fast(text):
    t0 = time.perf_counter()
    with pytest.raises(ParseError), nothing_runs():
        parse_claim(text)
    assert time.perf_counter() - t0 < 0.5


def test_hostile_messages():
    with pytest.raises(ParseError, match=r"unknown command \\input at 0"):
        parse_claim("\\input{/etc/passwd}")
    with pytest.raises(ParseError, match=r"unknown command \\def at 0"):
        parse_claim("\\def\\x{1}")
    with pytest.raises(ParseError, match="exponent too large at 4"):
        parse_claim("10**100**100")
    with pytest.raises(ParseError, match="exponent too large at 3"):
        parse_claim("2^{10^{10}}")
    with pytest.raises(ParseError, match="claim too long"):
        parse_claim("x" * 1_000_000)
    with pytest.raises(ParseError, match="brackets nested deeper than 50 at 50"):
        parse_claim("(" * 999 + "x" + ")" * 999)
    with pytest.raises(ParseError, match="nested deeper than 200 levels"):
        parse_claim("-" * 1999 + "x")
    with pytest.raises(ParseError, match="number too long"):
        parse_claim("9" * 51)
    with pytest.raises(ParseError, match="exponent too large"):
        parse_claim("1e100000")
    with pytest.raises(ParseError, match="a claim must be text"):
        parse_claim(b"x = 1")


def test_no_command_runs(tmp_path):
    marker = tmp_path / "hacked"
    for text in (
        f"__import__('os').system('touch {marker}')",
        f"\\immediate\\write18{{touch {marker}}}",
        f"\\input{{{marker}}}",
    ):
        with pytest.raises(ParseError), nothing_runs():
            parse_claim(text)
    assert not marker.exists()


def test_harmless_lookalikes_are_only_trees():
    """Python-looking text that is also valid math is parsed as math, never run."""
    with nothing_runs():
        tree = parse_claim("eval(1)")  # the names e v a l times 1
    assert tree == mul(mul(mul(mul(N("e"), N("v")), N("a")), N("l")), num("1"))
    stack = [tree]
    while stack:
        node = stack.pop()
        assert isinstance(node, Node) and type(node).__module__ == "derive.claims.ast"
        stack.extend(node.children)


def test_limits_are_inclusive():
    assert parse_claim("(" * 50 + "x" + ")" * 50) == x
    assert parse_claim("x^{1000}") == Sup(x, num("1000"))
    assert parse_claim("(x^{10})^{100}") == Sup(Sup(x, num("10")), num("100"))
    assert parse_claim("9" * 50) == num("9" * 50)
    assert parse_claim("1e-1000") == num("1e-1000")
    long_sum = " + ".join(f"a_{{{k}}}" for k in range(190))
    assert len(long_sum) < 2000
    assert isinstance(parse_claim(long_sum), BinOp)


def test_time_at_the_length_bound():
    """The slowest inputs at 2,000 characters still parse (or fail) in milliseconds."""
    parse_claim("x")
    worst = [
        "x" * 2000,
        "+".join(["x"] * 1000),
        "1[x>0]" * 333,
        " + ".join(f"\\frac{{\\partial L}}{{\\partial w_{{{k}}}}}" for k in range(60))[:2000],
        ("d/dx " * 400)[:1999] + "x",
    ]
    for text in worst:
        assert len(text) <= 2000
        t0 = time.perf_counter()
        try:
            parse_claim(text)
        except ParseError:
            pass
        assert time.perf_counter() - t0 < 2.0, text[:30]  # a blow-up takes far longer


def test_grammar_conflicts_are_the_documented_ones():
    """lark resolves shift/reduce conflicts by shifting; only the two intended decisions may
    exist: a function name followed by an atom applies to it (``funcname``), and a simple
    argument keeps its own scripts (``\\log x^2`` is log(x^2)); and the scripts after
    ``\\nabla_x f`` are f's."""
    from lark import Lark, logger

    from derive.claims.grammar import grammar
    from derive.claims.parse import _TokenList

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        Lark(grammar(), parser="lalr", lexer=_TokenList, debug=True)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    lines = stream.getvalue().splitlines()
    assert not [line for line in lines if "Reduce/Reduce" in line]
    rules = {line.strip(" *") for line in lines if line.startswith(" * ")}
    assert rules == {
        "<funcname : funchead>",
        "<fargs : atom>",
        "<fargs_nb : atom_nb>",
        "<fargs : atom __funchead_star_1>",
        "<fargs_nb : atom_nb __funchead_star_1>",
        # a script after \nabla_x f belongs to f: \nabla_W L_A is the gradient of L_A
        "<postfix : primary>",
        "<postfix_nb : primary_nb>",
        "<postfix : primary __funchead_star_1>",
        "<postfix_nb : primary_nb __funchead_star_1>",
    }
