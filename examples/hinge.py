"""The binary hinge loss of the SVM on a linear score, labels in {-1, 1} (lecture 4, seed 001).

s = w^T x + b and l = max(0, 1 - y (w^T x + b)): the perceptron's loss moved by a margin of one,
so a sample counts until its score has the label's sign by at least 1. With lambda ||w||^2 it is
the soft-margin SVM. The labels are declared with sign=True (the proofs draw -1 and +1), and
derive train reports the accuracy as sign agreement:

    derive train examples/hinge.py --data blobs --epochs 5 --value lam=0.01
"""

from derive import Network, hinge, mean, sq_norm, transpose

net = Network("hinge", title="The binary hinge loss max(0, 1 - y s) with L2 regularisation")

d = net.dim("d", 3)  # input features (2 for the toy data in the plane)

x = net.input("x", d, description="the input")
y = net.input("y", 1, sign=True, description="the label, -1 or +1")
lam = net.input("lam", 1, r"\lambda", per_sample=False, description="the regularisation weight")
w = net.param("w", d, description="the weights", init="xavier")
b = net.param("b", 1, description="the bias")

s = net.node("s", transpose(w) * x + b, layer="linear")
l = net.node("l", hinge(s, y), "l", layer="hinge loss")
r = net.node("r", sq_norm(w), "r", layer="regulariser")
J = net.loss("J", mean(l) + lam * r, layer="cost")

network = net
