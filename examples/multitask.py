"""The multi-task network of Homework 1, Part Two, Block Two.

Task A: a sine layer, dropout and a linear layer regress y_A. Task B: a linear layer, mean-only
batch normalisation with a bias and ReLU, added to Task A's output, then a softmax classifier.
The loss is the batch mean of the squared error of Task A plus the cross-entropy of Task B.
"""

from derive import Network, cross_entropy, dropout, mean, relu, sin, softmax, squared_error

net = Network("multitask", title="The multi-task network")

d = net.dim("d", 3)  # input features
h = net.dim("h", 3)  # hidden units of Task A
a = net.dim("a", 2)  # outputs of Task A (and width of Task B's hidden layer)
c = net.dim("c", 3)  # classes of Task B

x = net.input("x", d, description="the input")
y_A = net.input(
    "y_A", a, r"\mathbf{y}_{A}", target=True, description="the regression target of Task A"
)
y_B = net.input("y_B", c, r"\mathbf{y}_{B}", onehot=True, description="the one-hot label of Task B")
M = net.input(
    "M", h, r"\mathbf{M}", mask=0.5,
    description="the dropout mask, M = sgn(r - p 1)/(1 - p) with r drawn from U(0, 1) and the drop "
    "probability p = 0.5: entries 0 or 2",
)  # fmt: skip

theta_1A = net.param("theta_1A", (h, d))
b_1A = net.param("b_1A", h)
theta_2A = net.param("theta_2A", (a, h))
b_2A = net.param("b_2A", a)
theta_1B = net.param("theta_1B", (a, d))
b_1B = net.param("b_1B", a)
theta_2B = net.param("theta_2B", (c, a))
b_2B = net.param("b_2B", c)

with net.part("Task A"):
    z_1A = net.node("z_1A", theta_1A * x + b_1A, layer="FC_{1A}")
    x_1A = net.node("x_1A", sin(z_1A), layer="FC_{1A}")
    x_DP = net.node("x_DP", dropout(x_1A, M), layer="DP")
    x_2A = net.node(
        "x_2A", theta_2A * x_DP + b_2A, r"\hat{\mathbf{y}}_{A}", layer="FC_{2A}",
        aka=r"\mathbf{x}_{2A}",
    )  # fmt: skip
with net.part("Task B"):
    x_1B = net.node("x_1B", theta_1B * x, layer="FC_{1B}")
    mu = net.node("mu", mean(x_1B), r"\boldsymbol{\mu}", layer="BN^*")
    x_BN = net.node("x_BN", x_1B - mu + b_1B, layer="BN^*")
    x_BNstar = net.node("x_BNstar", relu(x_BN), r"\mathbf{x}_{BN^*}", layer="BN^*")
    x_oplus = net.node("x_oplus", x_2A + x_BNstar, r"\mathbf{x}_{\oplus}", layer=r"\oplus")
    z_2B = net.node("z_2B", theta_2B * x_oplus + b_2B, layer="FC_{2B}")
    yhat_B = net.node(
        "yhat_B", softmax(z_2B), r"\hat{\mathbf{y}}_{B}", layer="FC_{2B}",
        aka=r"\mathbf{x}_{2B}",
    )  # fmt: skip
# the loss
L_A = net.node("L_A", mean(squared_error(x_2A, y_A)), "L_{A}", layer="loss")
L_B = net.node("L_B", mean(cross_entropy(yhat_B, y_B)), "L_{B}", layer="loss")
L = net.loss("L", L_A + L_B, layer="loss")

network = net
