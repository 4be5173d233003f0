"""Batch normalisation inside a small classifier, as lecture 4 derives it.

s = W1 x + b1 per sample; over the batch mu_b = 1/m sum_i s_i, v_b = 1/m sum_i (s_i - mu_b)^2;
s-hat_i = V_b^(-1/2) (s_i - mu_b) with V_b = diag(v_b + epsilon); then the scale and shift
s-tilde = gamma o s-hat + beta, ReLU, a linear layer, softmax and cross-entropy. The report
gives the lecture's dJ/ds-hat_i, dJ/dv_b, dJ/dmu_b and dJ/ds_i, and how the running averages
replace the batch statistics at test time.
"""

from derive import Network, batch_norm, log, mean, relu, softmax, transpose

net = Network("batchnorm", title="Batch normalisation in a small classifier")

d = net.dim("d", 3)  # input features
h = net.dim("h", 3)  # hidden units, normalised
C = net.dim("C", 3)  # classes

x = net.input("x", d, description="the input")
y = net.input("y", C, onehot=True, description="the one-hot label")

W1 = net.param("W1", (h, d), "W_{1}")
b1 = net.param("b1", h, r"\mathbf{b}_{1}")
gamma = net.param("gamma", h, r"\boldsymbol{\gamma}")
beta = net.param("beta", h, r"\boldsymbol{\beta}")
W2 = net.param("W2", (C, h), "W_{2}")
b2 = net.param("b2", C, r"\mathbf{b}_{2}")

s = net.node("s", W1 * x + b1, layer="linear 1")
s_tilde = batch_norm(net, "b", s, gamma, beta, eps=1e-5, momentum=0.9, layer="BN")
x1 = net.node("x1", relu(s_tilde), r"\mathbf{x}^{(1)}", layer="ReLU")
s2 = net.node("s2", W2 * x1 + b2, r"\mathbf{s}_{2}", layer="linear 2")
p = net.node("p", softmax(s2), layer="softmax")
l = net.node("l", -log(transpose(y) * p), "l", layer="cross-entropy")
J = net.loss("J", mean(l), layer="cost")

network = net
