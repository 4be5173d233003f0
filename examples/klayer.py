"""The k-layer network of lecture 4: k linear layers with ReLU between them, a softmax classifier,
cross-entropy and L2 regularisation of every weight matrix.

s_l = W_l x^(l-1) + b_l, x^(l) = max(0, s_l) for l < k, p = softmax(s_k),
J = 1/m sum_i -log(y^T p) + lambda sum_l ||W_l||^2.  Set the depth with --set k=5.
"""

from derive import Network, log, mean, relu, softmax, sq_norm, transpose

net = Network("klayer", title="A k-layer network with ReLU, softmax and L2 regularisation")

k = net.setting("k", 3)  # the number of layers
d = net.dim("d", 3)  # input features
h = net.dim("h", 3)  # hidden units of every hidden layer
C = net.dim("C", 3)  # classes

x = net.input("x", d, description="the input")
y = net.input("y", C, onehot=True, description="the one-hot label")
lam = net.input("lam", 1, r"\lambda", per_sample=False, description="the regularisation weight")

weights = []
hidden = x
for l in range(1, k + 1):
    rows, cols = C if l == k else h, d if l == 1 else h
    W = net.param(f"W{l}", (rows, cols), f"W_{{{l}}}")
    b = net.param(f"b{l}", rows, rf"\mathbf{{b}}_{{{l}}}")
    s = net.node(f"s{l}", W * hidden + b, rf"\mathbf{{s}}_{{{l}}}", layer=f"linear {l}")
    if l < k:
        hidden = net.node(f"x{l}", relu(s), rf"\mathbf{{x}}^{{({l})}}", layer=f"ReLU {l}")
    weights.append(W)

p = net.node("p", softmax(s), layer="softmax")
l_ce = net.node("l", -log(transpose(y) * p), "l", layer="cross-entropy")
r = net.node("r", sum((sq_norm(W) for W in weights[1:]), sq_norm(weights[0])), "r",
             layer="regulariser")  # fmt: skip
J = net.loss("J", mean(l_ce) + lam * r, layer="cost")

network = net
