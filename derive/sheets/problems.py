"""The entries of the problem bank (see :mod:`derive.sheets.bank`): one per problem type.

Formulas are written in the claims language that students answer in, so the same text is the
key's answer, the sheet's LaTeX and what the checker reads. Each generator uses only the
parameters its variant needs and names every slip the way feedback and the class histogram
show it, the same in every variant.
"""

from __future__ import annotations

from derive.sheets.bank import (
    Choice,
    Degenerate,
    Ints,
    Names,
    Variant,
    distinct_slips,
    number,
    problem,
)

SCALAR = {"x": "scalar"}


def _times(c, what: str) -> str:
    """c x as LaTeX: x for 1, -x for -1, 2 x otherwise."""
    if c == 1:
        return what
    if c == -1:
        return "-" + what
    return f"{number(c)} {what}"


# --- activations ---------------------------------------------------------------------------
def _activation(p: dict) -> tuple[str, str, str, list, list[str]]:
    """(the function, what is asked, the answer, slips, solution) for p["function"]."""
    f, a, b = p["function"], number(p["alpha"]), p["beta"]
    bx = _times(b, "x")
    if f == "sigmoid":
        return (r"\sigma(x) = \frac{1}{1 + e^{-x}}", r"\frac{d\sigma(x)}{dx}",
                r"\sigma(x) (1 - \sigma(x))",
                [("a sign error", r"\sigma(x) (1 + \sigma(x))"),
                 ("the function for its derivative", r"\sigma(x)"),
                 ("the square of the function", r"\sigma(x)^2")],
                [r"By the chain rule, $\sigma'(x) = \frac{e^{-x}}{(1 + e^{-x})^2} = "
                 r"\frac{1}{1 + e^{-x}} \cdot \frac{e^{-x}}{1 + e^{-x}}$.",
                 r"The second factor is $1 - \frac{1}{1 + e^{-x}} = 1 - \sigma(x)$, so "
                 r"$\sigma'(x) = \sigma(x) (1 - \sigma(x))$."])  # fmt: skip
    if f == "tanh":
        return (r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}", r"\frac{d\tanh(x)}{dx}",
                r"1 - \tanh^2(x)",
                [("a sign error", r"1 + \tanh^2(x)"), ("the square dropped", r"1 - \tanh(x)"),
                 ("the sigmoid's formula", r"\tanh(x) (1 - \tanh(x))")],
                [r"By the quotient rule, $\tanh'(x) = \frac{(e^{x} + e^{-x})^2 - (e^{x} - "
                 r"e^{-x})^2}{(e^{x} + e^{-x})^2} = 1 - \left(\frac{e^{x} - e^{-x}}{e^{x} + "
                 r"e^{-x}}\right)^2 = 1 - \tanh^2(x)$."])  # fmt: skip
    if f == "relu":
        return (r"\mathrm{ReLU}(x) = \max\{0, x\}", r"\frac{d\, \mathrm{ReLU}(x)}{dx}",
                r"\mathbb{1}[x > 0]",
                [("the sign function for the step", r"\operatorname{sign}(x)"),
                 ("the function for its derivative", r"\max\{0, x\}"),
                 ("the step the wrong way round", r"\mathbb{1}[x < 0]")],
                [r"For $x > 0$, $\mathrm{ReLU}(x) = x$ has slope 1; for $x < 0$ it is 0, with "
                 r"slope 0. So $\mathrm{ReLU}'(x) = \mathbb{1}[x > 0]$ (at $x = 0$ there is no "
                 r"derivative; backpropagation takes 0 there)."])  # fmt: skip
    if f == "leaky_relu":
        return (rf"f(x) = \max\{{{a} x, x\}}", rf"\frac{{d \max\{{{a} x, x\}}}}{{dx}}",
                rf"\begin{{cases}} 1 & x > 0 \\ {a} & x < 0 \end{{cases}}",
                [("zero slope below zero", r"\mathbb{1}[x > 0]"),
                 ("the slopes swapped", rf"\begin{{cases}} {a} & x > 0 \\ 1 & x < 0 \end{{cases}}"),
                 ("the function for its derivative", rf"\max\{{{a} x, x\}}")],
                [rf"Since $0 < {a} < 1$, $f(x) = x$ for $x > 0$ (slope 1) and $f(x) = {a} x$ for "
                 rf"$x < 0$ (slope ${a}$)."])  # fmt: skip
    if f == "elu":
        fn = rf"\begin{{cases}} x & x > 0 \\ {a} (e^{{x}} - 1) & x \le 0 \end{{cases}}"
        return (rf"f(x) = {fn}", rf"\frac{{d}}{{dx}} {fn}",
                rf"\begin{{cases}} 1 & x > 0 \\ {a} e^{{x}} & x < 0 \end{{cases}}",
                [("the function below zero for its derivative",
                  rf"\begin{{cases}} 1 & x > 0 \\ {a} (e^{{x}} - 1) & x < 0 \end{{cases}}"),
                 ("zero slope below zero", r"\mathbb{1}[x > 0]"),
                 ("alpha dropped", r"\begin{cases} 1 & x > 0 \\ e^{x} & x < 0 \end{cases}")],
                [rf"For $x > 0$ the slope is 1; for $x < 0$, $\frac{{d}}{{dx}} {a} (e^{{x}} - 1) "
                 rf"= {a} e^{{x}}$."])  # fmt: skip
    if f == "softplus":
        return (r"\mathrm{softplus}(x) = \log(1 + e^{x})", r"\frac{d \log(1 + e^{x})}{dx}",
                r"\sigma(x)",
                [("a sign error", r"\sigma(-x)"), ("the inner derivative only", r"e^{x}"),
                 ("the function for its derivative", r"\log(1 + e^{x})")],
                [r"By the chain rule, $\frac{d}{dx} \log(1 + e^{x}) = \frac{e^{x}}{1 + e^{x}} = "
                 r"\frac{1}{1 + e^{-x}} = \sigma(x)$."])  # fmt: skip
    if f == "swish":
        s = rf"\sigma({bx})"
        return (rf"f(x) = x\, {s}", rf"\frac{{d (x {s})}}{{dx}}",
                rf"{s} + {_times(b, 'x')} {s} (1 - {s})",
                [("the product rule's second term dropped", s),
                 ("the product rule's first term dropped", rf"{_times(b, 'x')} {s} (1 - {s})"),
                 ("a sign error", rf"{s} - {_times(b, 'x')} {s} (1 - {s})")],
                [rf"By the product rule, $f'(x) = {s} + x \frac{{d}}{{dx}} {s}$, and by the "
                 rf"chain rule $\frac{{d}}{{dx}} {s} = {number(b)}\, {s} (1 - {s})$."])  # fmt: skip
    raise ValueError(f)


@problem(
    "activation_derivative",
    "The derivative of an activation function",
    params={
        "function": Choice("sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "swish"),
        "alpha": Choice(0.01, 0.05, 0.1, 0.2, 0.3),
        "beta": Choice(1, 2, 3),
    },
)
def activation_derivative(p: dict) -> Variant:
    defined, ask, answer, slips, solution = _activation(p)
    return Variant(
        statement=rf"Let ${defined}$. Give its derivative with respect to $x$, as a formula in $x$"
        + (r" (you may write it with $\sigma$)." if p["function"] in ("sigmoid", "swish",
                                                                      "softplus") else "."),
        ask=ask,
        kind="formula",
        answer=answer,
        solution=tuple(solution),
        slips=distinct_slips(answer, slips),
        symbols=SCALAR,
    )  # fmt: skip


# --- loss gradients ------------------------------------------------------------------------
def _loss(p: dict) -> tuple[str, str, str, str, list, list[str], dict, dict]:
    """(the loss, by what, what is asked, the answer, slips, solution, symbols, functions)."""
    loss, n, d = p["loss"], p["n"], number(p["delta"])
    vectors = {"p": {"vector": n}, "t": {"vector": n}}
    if loss == "cross_entropy":
        return (r"L = -\mathbf{y}^{T} \log S(\mathbf{z})", r"\mathbf{z}",
                r"\frac{\partial (-\mathbf{y}^{T} \log S(\mathbf{z}))}{\partial \mathbf{z}}",
                r"S(\mathbf{z}) - \mathbf{y}",
                [("a sign error", r"\mathbf{y} - S(\mathbf{z})"),
                 ("the label dropped", r"S(\mathbf{z})"),
                 ("the gradient by the probabilities", r"-\frac{\mathbf{y}}{S(\mathbf{z})}")],
                [r"With $\mathbf{p} = S(\mathbf{z})$, $\frac{\partial L}{\partial \mathbf{p}} = "
                 r"-\mathbf{y} \oslash \mathbf{p}$, and the softmax's Jacobian is "
                 r"$\operatorname{diag}(\mathbf{p}) - \mathbf{p} \mathbf{p}^{T}$.",
                 r"So $\frac{\partial L}{\partial \mathbf{z}} = (\operatorname{diag}(\mathbf{p}) - "
                 r"\mathbf{p} \mathbf{p}^{T}) (-\mathbf{y} \oslash \mathbf{p}) = -\mathbf{y} + "
                 r"\mathbf{p} (\mathbf{1}^{T} \mathbf{y}) = \mathbf{p} - \mathbf{y}$, since the "
                 r"entries of a one-hot $\mathbf{y}$ sum to 1."],
                {"z": {"vector": n}, "y": {"vector": n, "onehot": True}},
                {"S": "softmax"})  # fmt: skip
    if loss == "squared_error":
        return (r"L = \frac{1}{2} \|\mathbf{p} - \mathbf{t}\|^2", r"\mathbf{p}",
                r"\frac{\partial \frac{1}{2} \|\mathbf{p} - \mathbf{t}\|^2}{\partial \mathbf{p}}",
                r"\mathbf{p} - \mathbf{t}",
                [("a sign error", r"\mathbf{t} - \mathbf{p}"),
                 ("the factor 2 kept", r"2 (\mathbf{p} - \mathbf{t})")],
                [r"$L = \frac{1}{2} \sum_k (p_k - t_k)^2$, so $\frac{\partial L}{\partial p_k} = "
                 r"p_k - t_k$: $\frac{\partial L}{\partial \mathbf{p}} = \mathbf{p} - "
                 r"\mathbf{t}$."],
                vectors, {})  # fmt: skip
    if loss == "mse":
        return (rf"L = \frac{{1}}{{{n}}} \|\mathbf{{p}} - \mathbf{{t}}\|^2", r"\mathbf{p}",
                rf"\frac{{\partial \frac{{1}}{{{n}}} \|\mathbf{{p}} - \mathbf{{t}}\|^2}}"
                r"{\partial \mathbf{p}}",
                rf"\frac{{2}}{{{n}}} (\mathbf{{p}} - \mathbf{{t}})",
                [("the factor 2 dropped", rf"\frac{{1}}{{{n}}} (\mathbf{{p}} - \mathbf{{t}})"),
                 ("a sign error", rf"\frac{{2}}{{{n}}} (\mathbf{{t}} - \mathbf{{p}})"),
                 ("the mean's 1/n dropped", r"2 (\mathbf{p} - \mathbf{t})")],
                [rf"$L = \frac{{1}}{{{n}}} \sum_k (p_k - t_k)^2$, so $\frac{{\partial L}}"
                 rf"{{\partial p_k}} = \frac{{2}}{{{n}}} (p_k - t_k)$."],
                vectors, {})  # fmt: skip
    if loss == "l1":
        return (r"L = \|\mathbf{p} - \mathbf{t}\|_1", r"\mathbf{p}",
                r"\frac{\partial \|\mathbf{p} - \mathbf{t}\|_1}{\partial \mathbf{p}}",
                r"\operatorname{sign}(\mathbf{p} - \mathbf{t})",
                [("a sign error", r"\operatorname{sign}(\mathbf{t} - \mathbf{p})"),
                 ("the difference for its sign", r"\mathbf{p} - \mathbf{t}")],
                [r"$L = \sum_k |p_k - t_k|$ and $\frac{d}{du} |u| = \operatorname{sign}(u)$ for "
                 r"$u \neq 0$, so $\frac{\partial L}{\partial \mathbf{p}} = "
                 r"\operatorname{sign}(\mathbf{p} - \mathbf{t})$."],
                vectors, {})  # fmt: skip
    if loss == "huber":
        dd = "" if p["delta"] == 1 else d + " "
        linear = (r"|p - t| - \frac{1}{2}" if not dd else
                  rf"{dd}(|p - t| - \frac{{{d}}}{{2}})")  # fmt: skip
        fn = (rf"\begin{{cases}} \frac{{1}}{{2}} (p - t)^2 & |p - t| \le {d} \\ {linear} & "
              rf"|p - t| > {d} \end{{cases}}")  # fmt: skip
        return (rf"L = {fn}", "p", rf"\frac{{d}}{{dp}} {fn}",
                rf"\begin{{cases}} p - t & |p - t| < {d} \\ {dd}\operatorname{{sign}}(p - t) & "
                rf"|p - t| > {d} \end{{cases}}",
                [("the sign dropped in the linear part",
                  rf"\begin{{cases}} p - t & |p - t| < {d} \\ {d} & |p - t| > {d} \end{{cases}}"),
                 ("the quadratic part everywhere", "p - t")],
                [rf"Inside $|p - t| \le {d}$ the loss is $\frac{{1}}{{2}} (p - t)^2$, with "
                 rf"derivative $p - t$; outside it is ${dd}|p - t|$ less a constant, with "
                 rf"derivative ${dd}\operatorname{{sign}}(p - t)$."],
                {"p": "scalar", "t": "scalar"}, {})  # fmt: skip
    if loss == "svm":
        margin = r"\mathbf{s} - (\mathbf{y}^{T} \mathbf{s}) \mathbf{1} + \mathbf{1}"
        hit = rf"\mathbb{{1}}[{margin} > 0]"
        bare = r"\mathbb{1}[\mathbf{s} - (\mathbf{y}^{T} \mathbf{s}) \mathbf{1} > 0]"
        return (r"L = \sum_{j \neq y} \max\{0, s_j - s_y + 1\}", r"\mathbf{s}",
                rf"\frac{{\partial (\mathbf{{1}}^{{T}} \max\{{\mathbf{{0}}, {margin}\}} - 1)}}"
                r"{\partial \mathbf{s}}",
                rf"{hit} - (\mathbf{{1}}^{{T}} {hit}) \mathbf{{y}}",
                [("the correct class's share dropped", hit),
                 ("a sign error", rf"(\mathbf{{1}}^{{T}} {hit}) \mathbf{{y}} - {hit}"),
                 ("the margin forgotten", rf"{bare} - (\mathbf{{1}}^{{T}} {bare}) \mathbf{{y}}")],
                [r"Each wrong class $j$ with $s_j - s_y + 1 > 0$ adds 1 to $\partial L / \partial "
                 r"s_j$ and $-1$ to $\partial L / \partial s_y$. With $\mathbf{v} = "
                 rf"{hit}$ (whose entry $y$ is always 1, adding nothing, as $s_y - s_y + 1 > 0$): "
                 r"$\frac{\partial L}{\partial \mathbf{s}} = \mathbf{v} - (\mathbf{1}^{T} "
                 r"\mathbf{v}) \mathbf{y}$."],
                {"s": {"vector": n}, "y": {"vector": n, "onehot": True}}, {})  # fmt: skip
    if loss == "cosine":
        norms = r"\|\mathbf{p}\| \|\mathbf{t}\|"
        return (rf"L = 1 - \frac{{\mathbf{{p}}^{{T}} \mathbf{{t}}}}{{{norms}}}", r"\mathbf{p}",
                rf"\frac{{\partial}}{{\partial \mathbf{{p}}}} \left(1 - \frac{{\mathbf{{p}}^{{T}} "
                rf"\mathbf{{t}}}}{{{norms}}}\right)",
                rf"-\frac{{\mathbf{{t}}}}{{{norms}}} + \frac{{\mathbf{{p}}^{{T}} \mathbf{{t}}}}"
                r"{\|\mathbf{p}\|^{3} \|\mathbf{t}\|} \mathbf{p}",
                [("the norm's derivative dropped", rf"-\frac{{\mathbf{{t}}}}{{{norms}}}"),
                 ("a sign error", rf"\frac{{\mathbf{{t}}}}{{{norms}}} - \frac{{\mathbf{{p}}^{{T}} "
                  r"\mathbf{t}}{\|\mathbf{p}\|^{3} \|\mathbf{t}\|} \mathbf{p}"),
                 ("the wrong power of the norm", rf"-\frac{{\mathbf{{t}}}}{{{norms}}} + "
                  r"\frac{\mathbf{p}^{T} \mathbf{t}}{\|\mathbf{p}\|^{2} \|\mathbf{t}\|} "
                  r"\mathbf{p}")],
                [r"By the quotient rule, with $\partial \|\mathbf{p}\| / \partial \mathbf{p} = "
                 r"\mathbf{p} / \|\mathbf{p}\|$: $\frac{\partial L}{\partial \mathbf{p}} = "
                 rf"-\frac{{\mathbf{{t}}}}{{{norms}}} + \frac{{\mathbf{{p}}^{{T}} \mathbf{{t}}}}"
                 r"{\|\mathbf{p}\|^{3} \|\mathbf{t}\|} \mathbf{p}$."],
                vectors, {})  # fmt: skip
    if loss == "hinge":
        return (r"L = \max\{0, 1 - y s\}", "s", r"\frac{d \max\{0, 1 - y s\}}{ds}",
                r"-y \mathbb{1}[y s < 1]",
                [("a sign error", r"y \mathbb{1}[y s < 1]"), ("the indicator dropped", "-y")],
                [r"Where $y s < 1$ the loss is $1 - y s$, with derivative $-y$; where "
                 r"$y s > 1$ it is 0. So $\frac{dL}{ds} = -y\, \mathbb{1}[y s < 1]$."],
                {"y": "scalar", "s": "scalar"}, {})  # fmt: skip
    raise ValueError(loss)


@problem(
    "loss_gradient",
    "The gradient of a loss",
    params={
        "loss": Choice(
            "cross_entropy", "squared_error", "mse", "l1", "huber", "hinge", "svm", "cosine"
        ),
        "n": Choice(3, 4, 5, 10),
        "delta": Choice(0.5, 1, 2),
    },
)
def loss_gradient(p: dict) -> Variant:
    loss, by, ask, answer, slips, solution, symbols, functions = _loss(p)
    where = {
        "cross_entropy": rf"where $S$ is the softmax and $\mathbf{{y}} \in \{{0, 1\}}^{{{p['n']}}}$"
        r" is a one-hot label",
        "hinge": r"where $y \in \{-1, 1\}$ is the label and $s$ the score",
        "svm": rf"the multi-class SVM loss of scores $\mathbf{{s}} \in \mathbb{{R}}^{{{p['n']}}}$ "
        r"whose right class is $y$ ($\mathbf{y}$ its one-hot vector, $\mathbf{1}$ the vector "
        "of ones)",
        "cosine": rf"the cosine loss of $\mathbf{{p}}, \mathbf{{t}} \in \mathbb{{R}}^{{{p['n']}}}$",
        "huber": "the Huber loss of a prediction $p$ and its target $t$",
    }.get(p["loss"], rf"for $\mathbf{{p}}, \mathbf{{t}} \in \mathbb{{R}}^{{{p['n']}}}$")
    return Variant(
        statement=rf"Let ${loss}$, {where}. Give the "
        + ("derivative" if p["loss"] in ("huber", "hinge") else "gradient")
        + rf" of $L$ with respect to ${by}$.",
        ask=ask,
        kind="formula",
        answer=answer,
        solution=tuple(solution),
        slips=distinct_slips(answer, slips),
        symbols=symbols,
        functions=functions,
    )


# --- Jacobians -----------------------------------------------------------------------------
@problem(
    "jacobian",
    "The Jacobian of a vector function",
    params={"function": Choice("softmax", "sigmoid", "tanh", "relu"), "n": Choice(3, 4, 5)},
)
def jacobian(p: dict) -> Variant:
    f, n = p["function"], p["n"]
    z = r"\mathbf{z}"
    rows = {
        "softmax": (rf"S({z})", rf"\operatorname{{diag}}(S({z})) - S({z}) S({z})^{{T}}",
                    [("a sign error", rf"\operatorname{{diag}}(S({z})) + S({z}) S({z})^{{T}}"),
                     ("the diagonal only", rf"\operatorname{{diag}}(S({z}) \circ (1 - S({z})))"),
                     ("the outer product only", rf"-S({z}) S({z})^{{T}}")],
                    [rf"With $\mathbf{{s}} = S({z})$, $\frac{{\partial s_k}}{{\partial z_l}} = "
                     r"s_k (\delta_{kl} - s_l)$: the diagonal holds $s_k (1 - s_k)$ and the rest "
                     r"$-s_k s_l$, which is $\operatorname{diag}(\mathbf{s}) - \mathbf{s} "
                     r"\mathbf{s}^{T}$."]),
        "sigmoid": (rf"\sigma({z})", rf"\operatorname{{diag}}(\sigma({z}) \circ (1 - \sigma({z})))",
                    [("a full matrix for an element-wise function",
                      rf"\sigma({z}) (1 - \sigma({z}))^{{T}}"),
                     ("a sign error",
                      rf"\operatorname{{diag}}(\sigma({z}) \circ (1 + \sigma({z})))")],
                    [r"Entry $k$ of $\sigma(\mathbf{z})$ depends on $z_k$ alone, so the Jacobian "
                     r"is diagonal, with $\sigma'(z_k) = \sigma(z_k) (1 - \sigma(z_k))$ on the "
                     r"diagonal."]),
        "tanh": (rf"\tanh({z})", rf"\operatorname{{diag}}(1 - \tanh^2({z}))",
                 [("the square dropped", rf"\operatorname{{diag}}(1 - \tanh({z}))"),
                  ("a full matrix for an element-wise function",
                   rf"I - \tanh({z}) \tanh({z})^{{T}}")],
                 [r"Entry $k$ of $\tanh(\mathbf{z})$ depends on $z_k$ alone, so the Jacobian is "
                  r"diagonal, with $1 - \tanh^2(z_k)$ on the diagonal."]),
        "relu": (rf"\mathrm{{ReLU}}({z})", rf"\operatorname{{diag}}(\mathbb{{1}}[{z} > 0])",
                 [("the sign function for the step",
                   rf"\operatorname{{diag}}(\operatorname{{sign}}({z}))"),
                  ("the function for its derivative",
                   rf"\operatorname{{diag}}(\mathrm{{ReLU}}({z}))")],
                 [r"Entry $k$ of $\mathrm{ReLU}(\mathbf{z})$ depends on $z_k$ alone, with slope "
                  r"$\mathbb{1}[z_k > 0]$: the Jacobian is the diagonal matrix of these steps."]),
    }  # fmt: skip
    fz, answer, slips, solution = rows[f]
    name = {
        "softmax": "the softmax",
        "sigmoid": r"the logistic sigmoid",
        "tanh": r"$\tanh$",
        "relu": "ReLU",
    }[f]
    return Variant(
        statement=rf"Let $\mathbf{{z}} \in \mathbb{{R}}^{{{n}}}$ and apply {name} to it"
        + ("" if f == "softmax" else ", entry by entry")
        + rf": ${fz}$. Give the "
        rf"Jacobian matrix $\frac{{\partial {fz}}}{{\partial \mathbf{{z}}}}$.",
        ask=rf"\frac{{\partial {fz}}}{{\partial \mathbf{{z}}}}",
        kind="formula",
        answer=answer,
        solution=tuple(solution),
        slips=distinct_slips(answer, slips),
        symbols={"z": {"vector": n}},
        functions={"S": "softmax"} if f == "softmax" else {},
    )


# --- identities: prove or disprove (seed 003, Q1) ------------------------------------------
def _identities(c) -> dict[str, tuple[str, bool, str]]:
    """name -> (the identity, whether it holds, why), for the drawn constant c."""
    cx, cvec = _times(c, "x"), _times(c, r"\mathbf{x}")
    shift = ("+ " if c > 0 else "- ") + (r"\mathbf{1}" if abs(c) == 1 else
                                         rf"{number(abs(c))} \cdot \mathbf{{1}}")  # fmt: skip
    return {
        "softmax_shift": (rf"S(\mathbf{{x}} {shift}) = S(\mathbf{{x}})", True,
                          rf"$e^{{x_k + {number(c)}}} / \sum_j e^{{x_j + {number(c)}}}$: the "
                          rf"factor $e^{{{number(c)}}}$ of every term cancels."),
        "softmax_scale": (rf"S({cvec}) = S(\mathbf{{x}})", c == 1,
                          rf"Scaling changes the ratios $e^{{{cx}_k}} / e^{{{cx}_l}}$ of the "
                          r"entries: at $\mathbf{x} = (1, 0, \dots, 0)$ the two sides differ."),
        "sigmoid_symmetry": (r"\sigma(-x) = 1 - \sigma(x)", True,
                             r"$1 - \frac{1}{1 + e^{-x}} = \frac{e^{-x}}{1 + e^{-x}} = "
                             r"\frac{1}{e^{x} + 1} = \sigma(-x)$."),
        "tanh_sigmoid": (r"\tanh(x) = 2 \sigma(2 x) - 1", True,
                         r"$2 \sigma(2x) - 1 = \frac{2 - (1 + e^{-2x})}{1 + e^{-2x}} = "
                         r"\frac{1 - e^{-2x}}{1 + e^{-2x}} = \tanh(x)$."),
        "tanh_sigmoid_slip": (r"\tanh(x) = 2 \sigma(x) - 1", False,
                              r"At $x = 1$: $\tanh(1) \approx 0.7616$, but $2 \sigma(1) - 1 "
                              r"\approx 0.4621$ (the identity is $\tanh(x) = 2 \sigma(2x) - 1$)."),
        "softplus_difference": (r"\log(1 + e^{x}) - \log(1 + e^{-x}) = x", True,
                                r"$\log \frac{1 + e^{x}}{1 + e^{-x}} = \log \frac{e^{x} (e^{-x} + "
                                r"1)}{1 + e^{-x}} = \log e^{x} = x$."),
        "softplus_quotient": (r"\frac{\log(1 + e^{x})}{\log(1 + e^{-x})} = e^{x}", False,
                              r"At $x = 1$ the left side is $\log(1 + e) / \log(1 + e^{-1}) "
                              r"\approx 1.3133 / 0.3133 \approx 4.1922$, the right side "
                              r"$e \approx 2.7183$. (The difference of the two logarithms is "
                              r"$x$: $\log(1 + e^{x}) - \log(1 + e^{-x}) = \log e^{x}$.)"),
        "sigmoid_sum": (rf"\sigma({cx}) + \sigma({_times(-c, 'x')}) = 1", True,
                        rf"By $\sigma(-u) = 1 - \sigma(u)$ with $u = {cx}$."),
    }  # fmt: skip


@problem(
    "identity_truth",
    "Prove or disprove an identity",
    params={"identity": Choice(*_identities(2)), "c": Choice(2, 3, 5, -1, -2), "n": Choice(3, 4)},
)
def identity_truth(p: dict) -> Variant:
    claim, truth, why = _identities(p["c"])[p["identity"]]
    softmax = claim.startswith("S(")
    where = " for every real $x$"
    if softmax:
        where = (rf" for every $\mathbf{{x}} \in \mathbb{{R}}^{{{p['n']}}}$, where $S$ is the "
                 r"softmax and $\mathbf{1}$ the vector of ones")  # fmt: skip
    answer = "true" if truth else "false"
    return Variant(
        statement=rf"Prove or disprove: ${claim}${where}. Answer true or false (and give your "
        "reason on paper).",
        ask="",
        kind="truth",
        answer=answer,
        solution=(why,),
        slips=(("the opposite", "false" if truth else "true"),),
        symbols={"x": {"vector": p["n"]}} if softmax else SCALAR,
        functions={"S": "softmax"} if softmax else {},
        claim=claim,
    )


# --- convolutions (seed 003, Q3) ----------------------------------------------------------
def conv_size(n: int, k: int, s: int, pad: int, d: int) -> int:
    from derive.conv import output_size

    return output_size(n, k, s, pad, d)


@problem(
    "cnn_output",
    "The output size of a convolution",
    params={"n": Ints(8, 64), "k": Choice(1, 2, 3, 5, 7), "s": Choice(1, 2, 3),
            "p": Choice(0, 1, 2, 3), "d": Choice(1, 2)},
)  # fmt: skip
def cnn_output(p: dict) -> Variant:
    n, k, s, pad, d = p["n"], p["k"], p["s"], p["p"], p["d"]
    out = conv_size(n, k, s, pad, d)
    if out < 2 or (k == 1 and d > 1):
        raise Degenerate("too small an output, or a dilated 1 x 1 kernel")
    span = d * (k - 1) + 1
    slips = [
        ("the dilation ignored", number(conv_size(n, k, s, pad, 1))),
        ("padding on one side only", number((n + pad - span) // s + 1)),
        ("the +1 forgotten", number(out - 1)),
        ("rounded up", number(-(-(n + 2 * pad - span) // s) + 1)),
    ]
    return Variant(
        statement=rf"An input of ${n} \times {n}$ pixels goes through a convolution with a "
        rf"${k} \times {k}$ kernel, stride ${s}$, padding ${pad}$ and dilation ${d}$. How many "
        "pixels wide is its output?",
        ask="o",
        kind="number",
        answer=number(out),
        solution=(
            (
                rf"A kernel dilated by ${d}$ spans $d (k - 1) + 1 = {span}$ pixels. "
                if d > 1
                else rf"The kernel spans ${k}$ pixels. "
            )
            + (
                rf"So $o = \left\lfloor \frac{{n + 2p - d (k - 1) - 1}}{{s}} \right\rfloor + 1 = "
                rf"\left\lfloor \frac{{{n + 2 * pad - span}}}{{{s}}} \right\rfloor + 1 = {out}$."
                if s > 1
                else rf"So $o = \left\lfloor \frac{{n + 2p - d (k - 1) - 1}}{{s}} \right\rfloor "
                rf"+ 1 = {n} + {2 * pad} - {span} + 1 = {out}$ (with $s = 1$, nothing to round)."
            ),
        ),  # fmt: skip
        slips=distinct_slips(number(out), slips),
        abs_tolerance=0.0,
        tolerance=1e-9,
    )


@problem(
    "cnn_solve",
    "A kernel size for a wanted output size",
    params={"n": Ints(16, 64), "k": Choice(2, 3, 4, 5, 6, 7), "s": Choice(2, 3),
            "p": Choice(0, 1, 2), "d": Choice(1, 2)},
)  # fmt: skip
def cnn_solve(p: dict) -> Variant:
    """Seed 003, Q3 c) to e): which kernel sizes give a wanted output size. With stride s, s
    kernel sizes give the same output (the floor); the largest is asked."""
    n, k, s, pad, d = p["n"], p["k"], p["s"], p["p"], p["d"]
    out = conv_size(n, k, s, pad, d)
    fits = [j for j in range(1, n + 2 * pad + 1) if conv_size(n, j, s, pad, d) == out]
    if out < 2 or not fits:
        raise Degenerate("too small an output")
    largest, smallest = max(fits), min(fits)
    room = n + 2 * pad - 1 - s * (out - 1)  # d (k - 1) <= room
    dk = "k - 1" if d == 1 else f"{d} (k - 1)"
    one_side = [j for j in range(1, n + pad + 1) if conv_size(n - pad, j, s, pad, d) == out]
    undilated = [j for j in range(1, n + 2 * pad + 1) if conv_size(n, j, s, pad, 1) == out]
    slips = [("the smallest such kernel", number(smallest))]
    if one_side:
        slips.append(("padding on one side only", number(max(one_side))))
    if d > 1 and undilated:
        slips.append(("the dilation ignored", number(max(undilated))))
    return Variant(
        statement=rf"A convolution with stride ${s}$, padding ${pad}$ and dilation ${d}$ maps an "
        rf"input of ${n} \times {n}$ pixels to an output of ${out} \times {out}$. What is the "
        r"largest square kernel size $k$ that does this?",
        ask="k",
        kind="number",
        answer=number(largest),
        solution=(
            rf"$o = \left\lfloor \frac{{n + 2p - d (k - 1) - 1}}{{s}} \right\rfloor + 1 = "
            rf"{out}$ holds while ${s} ({out} - 1) \le {n} + {2 * pad} - {dk} - 1 < "
            rf"{s} \cdot {out}$, that is while ${room - s} < {dk} \le {room}$: "
            rf"$k = {', '.join(map(str, fits))}$ all give ${out}$, the largest ${largest}$.",
        ),
        slips=distinct_slips(number(largest), slips),
        abs_tolerance=0.0,
        tolerance=1e-9,
    )


@problem(
    "cnn_kernel",
    "The kernel size for a stride and a wanted output size",
    params={"n": Ints(16, 64), "o": Ints(2, 8), "s": Choice(1, 2, 3, 4, 5),
            "p": Choice(0, 1, 2), "d": Choice(1, 2)},
)  # fmt: skip
def cnn_kernel(p: dict) -> Variant:
    """Seed 003, Q3 c) to e), as the homework tabulates it: the output size o is given, the
    stride s chosen, and the kernel size k that makes (n + 2p - d (k - 1) - 1) / s + 1 = o
    exactly (no pixel left over) is asked. The homework's slips are the class: dividing by
    o - 1 where s is meant (its d) and e) write 5 for every stride), padding on one side."""
    n, o, s, pad, d = p["n"], p["o"], p["s"], p["p"], p["d"]
    span = n + 2 * pad - 1 - s * (o - 1)  # = d (k - 1)
    if span < 0 or span % d:
        raise Degenerate("no kernel fits exactly")
    k = span // d + 1
    if conv_size(n, k, s, pad, d) != o:  # the arithmetic, checked by the convolution's own
        raise Degenerate("no kernel fits exactly")
    slips = []
    for name, stride, padding, steps in (
        ("the output minus one taken for the stride", o - 1, pad, o - 1),
        ("padding on one side only", s, pad / 2, o - 1),
        ("the + 1 of the formula forgotten", s, pad, o),
        ("the stride taken as 1", 1, pad, o - 1),
    ):
        wrong = n + 2 * padding - 1 - stride * steps
        if wrong >= 0 and wrong % d == 0:
            slips.append((name, number(int(wrong // d + 1))))
    if not distinct_slips(number(k), slips):
        raise Degenerate("no slip gives another kernel size")
    dk = "k - 1" if d == 1 else f"{d} (k - 1)"
    return Variant(
        statement=rf"A convolution with stride ${s}$, padding ${pad}$ and dilation ${d}$ maps an "
        rf"input of ${n} \times {n}$ pixels to an output of ${o} \times {o}$, every pixel of the "
        r"input covered (no remainder in the division by the stride). What is the kernel size "
        r"$k$?",
        ask="k",
        kind="number",
        answer=number(k),
        solution=(
            rf"$o = \frac{{n + 2p - d (k - 1) - 1}}{{s}} + 1$, so ${dk} = n + 2p - 1 - s (o - 1) "
            rf"= {n} + {2 * pad} - 1 - {s} \cdot {o - 1} = {span}$ and $k = {k}$.",
        ),
        slips=distinct_slips(number(k), slips),
        abs_tolerance=0.0,
        tolerance=1e-9,
    )


@problem(
    "cnn_params",
    "The parameters of a convolution layer",
    params={"c_in": Choice(1, 3, 6, 16, 32), "c_out": Choice(4, 6, 8, 16, 32, 64),
            "k": Choice(1, 3, 5, 7), "bias": Choice("with", "without")},
)  # fmt: skip
def cnn_params(p: dict) -> Variant:
    c_in, c_out, k, bias = p["c_in"], p["c_out"], p["k"], p["bias"] == "with"
    weights = k * k * c_in * c_out
    total = weights + (c_out if bias else 0)
    b = c_out if bias else 0
    slips = [
        ("the biases " + ("forgotten" if bias else "counted"), number(weights + c_out - b)),
        ("k for k squared", number(k * c_in * c_out + b)),
        ("the input channels forgotten", number(k * k * c_out + b)),
        ("a bias per weight", number(2 * weights) if bias else number(weights)),
    ]  # fmt: skip
    return Variant(
        statement=rf"A convolution layer maps ${c_in}$ input channels to ${c_out}$ output "
        rf"channels with ${k} \times {k}$ kernels, {'with' if bias else 'without'} biases. How "
        "many parameters does it have?",
        ask="n",
        kind="number",
        answer=number(total),
        solution=(
            rf"Each of the ${c_out}$ filters has ${k} \cdot {k} \cdot {c_in} = {k * k * c_in}$ "
            rf"weights" + (rf" and one bias: ${c_out} \cdot ({k * k * c_in} + 1) = {total}$."
                           if bias else rf": ${c_out} \cdot {k * k * c_in} = {total}$."),
        ),
        slips=distinct_slips(number(total), slips),
        abs_tolerance=0.0,
        tolerance=1e-9,
    )  # fmt: skip


# --- the parameter count of an MLP ---------------------------------------------------------
@problem(
    "param_count",
    "The number of parameters of an MLP",
    params={"d": Choice(2, 4, 8, 64, 784), "hidden": Ints(1, 3),
            "width": Choice(8, 16, 32, 64, 100, 128), "c": Choice(2, 3, 10)},
)  # fmt: skip
def param_count(p: dict) -> Variant:
    widths = [p["d"]] + [p["width"]] * p["hidden"] + [p["c"]]
    pairs = list(zip(widths, widths[1:]))
    total = sum(o * (i + 1) for i, o in pairs)
    layers = ", ".join(map(str, widths))
    terms = " + ".join(rf"{o} ({i} + 1)" for i, o in pairs)
    slips = [
        ("the biases forgotten", number(sum(o * i for i, o in pairs))),
        ("one bias per layer", number(sum(o * i for i, o in pairs) + len(pairs))),
        ("the output layer forgotten", number(sum(o * (i + 1) for i, o in pairs[:-1]))),
        ("biases sized by the inputs", number(sum(o * i + i for i, o in pairs))),
    ]
    return Variant(
        statement=rf"A fully connected network has layers of widths ${layers}$ (input first, "
        r"output last), each layer with weights and biases. How many parameters "
        r"$n_\theta$ does it have?",
        ask=r"n_\theta",
        kind="number",
        answer=number(total),
        solution=(
            r"A layer from $n_{\mathrm{in}}$ to $n_{\mathrm{out}}$ units has an "
            r"$n_{\mathrm{out}} \times n_{\mathrm{in}}$ weight matrix and $n_{\mathrm{out}}$ "
            rf"biases: $n_\theta = {terms} = {total}$.",
        ),
        slips=distinct_slips(number(total), slips),
        abs_tolerance=0.0,
        tolerance=1e-9,
    )


__all__ = ["conv_size"]


# --- a hand calculation (seed 002, B.3) ----------------------------------------------------
def _draw_values(net, rng, decimals: int, scale: float) -> dict:
    """One sample's numbers for every input and parameter, in the layout of derive grad,
    rounded to ``decimals`` before anything is computed from them (as a sheet prints them)."""
    import numpy as np

    from derive.compile import external_shape

    sizes = net.sizes(m=1)
    out = {}
    for q in net.inputs + net.params:
        shape = external_shape(q, sizes)
        if q.content == "onehot":
            n = shape[-1]
            value = np.eye(n)[rng.integers(0, n, size=shape[:-1])]
        elif q.content == "sign":
            value = rng.choice([-1.0, 1.0], size=shape)
        elif q.content == "mask":
            value = (rng.random(shape) < q.keep) / q.keep
        elif q.target:  # a target in (0, 1), where a sigmoid output can reach it
            value = np.round(rng.uniform(0.05, 0.95, size=shape), decimals)
        else:
            value = np.round(rng.uniform(-scale, scale, size=shape), decimals)
            value[value == 0] = 10.0**-decimals  # no zero weights: every path carries
        out[q.name] = value
    return out


def _hand_steps(net, values: dict, q) -> tuple[str, ...]:
    """The hand calculation's steps at these numbers, as derive handcalc writes them: the
    forward pass, the residuals, and the gradient of ``q`` (or the loss alone)."""
    from derive.handcalc import calculate
    from derive.render.handcalc import document

    doc = document(calculate(net, values, digits=4))

    def display(rows) -> str:
        body = "\n".join(f"{r.lhs} &{r.rel}{r.line}{r.end}" for r in rows)
        return "\\begin{align*}\n" + body.rstrip("\\*").rstrip() + "\n\\end{align*}"

    forward = [r for b in doc.forward for r in b.rows]
    out = ["Forward, at these numbers:" + display(_ends(forward))]
    if q is net.loss_q:
        return tuple(out)
    backward = [r for b in doc.backward for r in b.rows]
    mine, keep = [], False
    for r in (r for b in doc.gradients for r in b.rows):
        if r.lhs:
            keep = q.latex in r.lhs
        if keep:
            mine.append(r)
    out.append("Backward, by the chain rule:" + display(_ends(backward)))
    if mine:
        out.append(f"The gradient of ${q.latex}$:" + display(_ends(mine)))
    return tuple(out)


def _ends(rows) -> list:
    """Rows of several displays as one: every row but the last ends its line."""
    from dataclasses import replace

    return [replace(r, end=r" \\" if k < len(rows) - 1 else "") for k, r in enumerate(rows)]


def equations_display(net) -> str:
    """The network's forward equations, one per line, as a display inside a statement."""
    from derive.render import breaking
    from derive.render.context import forward

    rows = []
    for node in net.nodes:
        lhs, steps, _ = forward(net, node, note=False)
        rows.append(f"{lhs} &= {' '.join(breaking.break_marked(steps[0], 1e9))}")
    return r" \[ \begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned} \] "


def _entry(net, name: str):
    """(quantity, 0-based index or None) of 'W1[1,2]', 'W1' or the loss."""
    import re

    m = re.fullmatch(r"(\w+)(?:\[(\d+)(?:,(\d+))?\])?", name)
    q = net.quantities.get(m.group(1)) if m else None
    if q is None or (q.kind != "param" and q is not net.loss_q):
        known = ", ".join([net.loss_q.name, *(p.name for p in net.params)])
        raise ValueError(f"{name} is not the loss or a parameter of {net.name} ({known})")
    index = tuple(int(g) - 1 for g in m.groups()[1:] if g is not None) or None
    return q, index


def numbers_tex(value, q, decimals: int) -> str:
    """A quantity's numbers as LaTeX: a number, a column vector written as a transposed row
    (one sample's input, a bias), or a matrix; every number with the sheet's decimals."""
    import numpy as np

    a = np.asarray(value, dtype=float)
    if q.content in ("onehot", "sign", "mask"):
        decimals = 0 if np.all(a == np.round(a)) else decimals

    def num(x: float) -> str:
        return f"{x:.{decimals}f}"

    if a.size == 1:
        return num(float(a.reshape(-1)[0]))
    if q.shape[1] == 1:  # a column: per sample (1 x n as given) or a bias (n)
        row = " & ".join(num(x) for x in a.reshape(-1))
        return r"\begin{pmatrix} " + row + r" \end{pmatrix}^{T}"
    body = r" \\ ".join(" & ".join(num(x) for x in row) for row in np.atleast_2d(a))
    return r"\begin{pmatrix} " + body + r" \end{pmatrix}"


@problem(
    "hand_calculation",
    "A gradient by hand",
    params={"quantity": Names(default=("loss",)), "decimals": Choice(1, 2),
            "seed": Ints(0, 10**9)},
    network=True,
)  # fmt: skip
def hand_calculation(p: dict, net) -> Variant:
    import numpy as np

    name = net.loss_q.name if p["quantity"] == "loss" else p["quantity"]
    q, index = _entry(net, name)
    values = _draw_values(net, np.random.default_rng(p["seed"]), p["decimals"], 1.0)
    compiled = net.compile()
    result = compiled.loss_and_grads(values)
    loss = net.loss_q
    if q is loss:
        value = float(result[loss.name])
        ask = loss.latex
    else:
        grad = np.asarray(result[f"grad_{q.name}"])
        at = index if index is not None else (0,) * grad.ndim
        if len(at) != grad.ndim and not (grad.ndim == 1 and len(at) == 2 and at[1] == 0):
            raise ValueError(f"{name}: {q.name} has {grad.ndim} axes")
        at = at[: grad.ndim]
        value = float(grad[at])
        sub = ",".join(str(k + 1) for k in at)
        ask = rf"\frac{{\partial {loss.latex}}}{{\partial ({q.latex})_{{{sub}}}}}"
        # the second proof: central differences of the compiled loss, in float64
        h = 1e-6
        shifted = [{**values, q.name: values[q.name].copy()} for _ in (0, 1)]
        shifted[0][q.name][at] += h
        shifted[1][q.name][at] -= h
        plus, minus = (float(compiled.loss_and_grads(v)[loss.name]) for v in shifted)
        numeric = (plus - minus) / (2 * h)
        if abs(numeric - value) > 1e-6 * max(1.0, abs(value)):
            raise ValueError(f"{name}: derived {value}, central differences {numeric}")
    if abs(value) < 5e-5:
        raise Degenerate("an answer that rounds to 0")
    given = ", ".join(f"${x.latex} = {numbers_tex(values[x.name], x, p['decimals'])}$"
                      for x in net.inputs + net.params)  # fmt: skip
    answer = f"{value:.12g}"
    return Variant(
        statement=(rf"The network{equations_display(net)}is given one sample ($m = 1$) and the "
                   rf"numbers {given}. Compute ${ask}$ to 4 significant digits."),
        ask=ask,
        kind="number",
        answer=answer,
        solution=_hand_steps(net, values, q)
        + (rf"So ${ask} = {value:.6g}$; central differences of the loss in float64 give the "
           "same.",),
        tolerance=1e-3,
        slips=distinct_slips(answer, [("a sign error", f"{-value:.12g}")]),
        values={k: np.asarray(v).tolist() for k, v in values.items()},
    )  # fmt: skip


# --- a network drawn from a family: a residual or a gradient ------------------------------
#: what a key made before a parameter of the family existed meant by leaving it out
FAMILY_DEFAULTS = {"batchnorm": "no", "dropout": "no", "skip": "no"}


def family_network(params: dict):
    """The network of a variant of ``network_gradient``, built from its parameters alone (so a
    key rebuilds it): ``hidden`` layers of ``width`` units with ``activation``, then a linear
    output layer and ``output`` (softmax and cross-entropy, or a squared error); the first
    layer optionally batch-normalised (its mean subtracted, so its bias has gradient 0) and
    followed by dropout, and the input optionally fed to the output too (fan-out)."""
    return _family(tuple(sorted({**FAMILY_DEFAULTS, **params}.items())))


_FAMILIES: dict = {}


def _family(key: tuple):
    if key not in _FAMILIES:
        import derive

        p = dict(key)
        act = {"relu": derive.relu, "sigmoid": derive.sigmoid, "tanh": derive.tanh}[p["activation"]]
        net = derive.Network("family", title="A network of the family")
        d = net.dim("d", 3)
        widths = [d] + [net.dim(f"n_{k}", p["width"]) for k in range(1, p["hidden"] + 1)]
        c = net.dim("c", 3)
        x = net.input("x", d)
        softmax = p["output"] == "softmax_cross_entropy"
        y = net.input("y", c, onehot=softmax, target=True)
        mask = None
        if p["dropout"] == "yes":
            mask = net.input("M", widths[1], r"\mathbf{M}", mask=0.5, description="a mask")
        h, layers = x, p["hidden"] + 1
        for k in range(1, layers + 1):
            rows = widths[k] if k < layers else c
            W = net.param(f"W_{k}", (rows, widths[k - 1]))
            b = net.param(f"b_{k}", rows)
            s = net.node(f"s_{k}", W * h + b, layer=f"FC_{k}")
            if k == layers:
                if p["skip"] == "yes":  # x feeds the first layer and, through U, the output
                    U = net.param("U", (c, d))
                    s = net.node("o", s + U * x, layer="skip")
                h = s
                continue
            if k == 1 and p["batchnorm"] == "yes":  # mean-only batch normalisation
                mu = net.node("mu", derive.mean(s), r"\boldsymbol{\mu}", layer="BN")
                s = net.node("c_1", s - mu, layer="BN")
            h = net.node(f"h_{k}", act(s), layer=f"FC_{k}")
            if k == 1 and mask is not None:
                h = net.node("h_DP", derive.dropout(h, mask), r"\mathbf{h}_{DP}", layer="DP")
        if softmax:
            q = net.node("p", derive.softmax(h), layer="softmax")
            net.loss("J", derive.mean(derive.cross_entropy(q, y)), layer="loss")
        else:
            net.loss("J", derive.mean(derive.squared_error(h, y)), layer="loss")
        _FAMILIES[key] = (net, net.derive())
    return _FAMILIES[key]


def _family_slips(net, derivation, q, index) -> list[tuple[str, str]]:
    """The right formula broken the common ways (derive.claims.slips), one per slip, printed
    as the course writes it."""
    from derive.claims.slips import RULES, broken
    from derive.expr import Zero
    from derive.ops.algebra import scale
    from derive.ops.batch import batch_sum
    from derive.render.printer import latex

    right = next(g for g in derivation.residuals + derivation.gradients if g.q == q).expanded
    if isinstance(right, Zero):  # a bias before the mean subtraction: as if it were not there
        centred = next(g for g in derivation.residuals if g.q.name == "c_1").expanded
        return [("the mean subtraction ignored", latex(batch_sum(centred), index=None, loss="J"))]
    out = [("a sign flip", latex(scale(-1, right), index=index, loss="J"))]
    for name, rule in RULES.items():
        candidate = next(iter(broken(right, rule)), None)
        if candidate is not None and candidate != right and len(out) < 4:
            out.append((name, latex(candidate, index=index, loss="J")))
    return out


@problem(
    "network_gradient",
    "A gradient of a network",
    params={"hidden": Ints(1, 2), "width": Choice(2, 3, 4),
            "activation": Choice("relu", "sigmoid", "tanh"),
            "output": Choice("softmax_cross_entropy", "squared_error"),
            "batchnorm": Choice("no", "yes"), "dropout": Choice("no", "yes"),
            "skip": Choice("no", "yes"),
            "asked": Choice("output_weights", "first_weights", "first_bias", "first_residual")},
    build=family_network,
)  # fmt: skip
def network_gradient(p: dict) -> Variant:
    p = {**FAMILY_DEFAULTS, **p}
    net, derivation = family_network(p)
    last = p["hidden"] + 1
    name, index = {"output_weights": (f"W_{last}", None), "first_weights": ("W_1", None),
                   "first_bias": ("b_1", None),
                   "first_residual": ("s_1", "i")}[p["asked"]]  # fmt: skip
    q = net.quantities[name]
    ask = (rf"\frac{{\partial J}}{{\partial {q.latex}^{{i}}}}" if index
           else rf"\frac{{\partial J}}{{\partial {q.latex}}}")  # fmt: skip
    from derive.render.printer import latex

    g = next(g for g in derivation.residuals + derivation.gradients if g.q == q)
    answer = latex(g.expanded, index=index, loss="J")
    what = ("the residual of sample $i$" if index else "the gradient of the batch's mean loss "
            "$J$ (a sum over the $m$ samples)")  # fmt: skip
    label = ("$\\mathbf{y}$ is a one-hot label" if p["output"] == "softmax_cross_entropy"
             else "$\\mathbf{y}$ is the target")  # fmt: skip
    if p["dropout"] == "yes":
        label += r", $\mathbf{M}$ a given dropout mask (entries 0 or 2)"
    return Variant(
        statement=(
            "A network computes, for each sample $i$ of a mini-batch of $m$ (the superscript $i$ "
            "is left out where every quantity is sample $i$'s):"
            f"{equations_display(net)}where $\\mathbf{{x}}$ is the input and {label}. Give "
            f"${ask}$, {what}, as a formula in the network's quantities."
        ),
        ask=ask,
        kind="formula",
        answer=answer,
        solution=(
            rf"By the chain rule from the loss backwards: ${ask} = {answer}$. "
            r"\texttt{derive report} writes each step of such a network.",
        ),
        slips=distinct_slips(answer, _family_slips(net, derivation, q, index)),
    )
