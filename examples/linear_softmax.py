"""The linear classifier of lecture 3: scores, softmax, cross-entropy and L2 regularisation.

z = W x, s = z + b, p = softmax(s), J = 1/m sum_i -log(y^T p) + lambda ||W||^2, the lecture's
running example of back-propagation on a computational graph.
"""

from derive import Network, log, mean, softmax, sq_norm, transpose

net = Network("linear_softmax", title="A linear classifier with softmax and L2 regularisation")

d = net.dim("d", 3)  # input features
C = net.dim("C", 3)  # classes

x = net.input("x", d, description="the input")
y = net.input("y", C, onehot=True, description="the one-hot label")
lam = net.input("lam", 1, r"\lambda", per_sample=False, description="the regularisation weight")

W = net.param("W", (C, d))
b = net.param("b", C)

z = net.node("z", W * x, layer="linear")  # as lecture 3: z = W x, then s = z + b
s = net.node("s", z + b, layer="linear")
p = net.node("p", softmax(s), layer="softmax")
l = net.node("l", -log(transpose(y) * p), "l", layer="cross-entropy")
r = net.node("r", sq_norm(W), "r", layer="regulariser")
J = net.loss("J", mean(l) + lam * r, layer="cost")

network = net
