"""The losses of Homework 2 (Part B.2) on a linear model: pick one with --set loss=NAME.

A linear model yhat = W x + b scores each sample; the cost sums the loss over the n samples of the
batch, as the homework does (J = sum_i J_i). The losses, in the homework's order:

  cross_entropy  -y^T log softmax(yhat), y one-hot (fused: logsumexp(yhat) - y^T yhat)
  hinge          max(0, 1 - y yhat), binary, y in {-1, 1}, one score
  l1             ||y - yhat||_1
  huber          Huber_delta(y - yhat) entry by entry, delta = 1 (--set delta=0.5)
  l2             1/2 ||y - yhat||^2
  cosine         -y^T yhat / (||y|| ||yhat||), y one-hot (so ||y|| = 1, as the homework has it)
  svm            the multi-class SVM hinge of lecture 3: sum_{j != y} max(0, yhat_j - yhat_y + 1)
"""

from derive import (
    DeriveError,
    Network,
    batch_sum,
    cosine_loss,
    huber,
    l1_loss,
    multiclass_hinge,
    softmax_cross_entropy,
    squared_error,
)  # fmt: skip
from derive import hinge as binary_hinge

LOSSES = ("cross_entropy", "hinge", "l1", "huber", "l2", "cosine", "svm")

net = Network("losses", title="The losses of Homework 2 on a linear model")
loss = net.setting("loss", "cross_entropy")
delta = net.setting("delta", 1.0)
if loss not in LOSSES:
    raise DeriveError(f"--set loss={loss}: choose one of {', '.join(LOSSES)}")
net.title = f"The {loss.replace('_', ' ')} loss of Homework 2 on a linear model"

d = net.dim("d", 3)  # input features
C = 1 if loss == "hinge" else net.dim("C", 3)  # outputs (classes or targets)
onehot = loss in ("cross_entropy", "cosine", "svm")

x = net.input("x", d, description="the input")
y_text = "the target" + (" (one-hot)" if onehot else "")
y = net.input("y", C, onehot=onehot, target=True, description=y_text)
W = net.param("W", (C, d))
b = net.param("b", C)

yhat = net.node("yhat", W * x + b, r"\hat{\mathbf{y}}" if C != 1 else r"\hat{y}", layer="linear")
per_sample = {
    "cross_entropy": lambda: softmax_cross_entropy(yhat, y),
    "hinge": lambda: binary_hinge(yhat, y),
    "l1": lambda: l1_loss(yhat, y),
    "huber": lambda: huber(yhat, y, delta),
    "l2": lambda: squared_error(yhat, y),
    "cosine": lambda: cosine_loss(yhat, y),
    "svm": lambda: multiclass_hinge(yhat, y),
}[loss]()
J_i = net.node("J_i", per_sample, "J", layer=loss.replace("_", " "))
J = net.loss("J", batch_sum(J_i), layer="cost")

network = net
