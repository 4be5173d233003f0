"""The two-layer multiclass MLP of the homework's second question (Q2).

h^a = W^(1) x + b^(1), h^s = relu(h^a), o^a = W^(2) h^s + b^(2), o^s = softmax(o^a), and the
cross-entropy L = -y^T log o^s of a one-hot y, averaged over the batch into the homework's
empirical risk R-hat = 1/n sum_i L (no regulariser). The parameters
theta = {W^(1), b^(1), W^(2), b^(2)} number n_theta = d_h (d + 1) + m (d_h + 1).

Names: the homework writes m for the number of classes and n for the number of samples. In derive
m is the batch size, so the classes are c here (the homework's m), and the batch size m is its n.
The homework writes h^a = W^(1)T x + b^(1) with W^(1) in R^(d_h x d), a transpose that does not
fit that shape; derive writes every weight matrix (out x in), so h^a = W^(1) x + b^(1).

The homework's h^a, h^s, o^a, o^s are written with subscripts, h_a, h_s, o_a, o_s, because the
report puts the sample index in the superscript (h_a^i).

The sizes are settings: derive report examples/mlp2.py --set d_h=5.
"""

from derive import Network, cross_entropy, mean, relu, softmax

net = Network("mlp2", title="A two-layer multiclass MLP: ReLU, softmax and cross-entropy")

d = net.dim("d", net.setting("d", 3))  # input features
d_h = net.dim("d_h", net.setting("d_h", 4))  # hidden units
c = net.dim("c", net.setting("c", 3))  # classes (the homework's m)

x = net.input("x", d, description="the input")
y = net.input("y", c, onehot=True, description="the one-hot label of the class")
W_1 = net.param("W_1", (d_h, d), "W^{(1)}", description="the weights of the hidden layer")
b_1 = net.param("b_1", d_h, r"\mathbf{b}^{(1)}", description="the biases of the hidden layer")
W_2 = net.param("W_2", (c, d_h), "W^{(2)}", description="the weights of the output layer")
b_2 = net.param("b_2", c, r"\mathbf{b}^{(2)}", description="the biases of the output layer")

h_a = net.node("h_a", W_1 * x + b_1, r"\mathbf{h}_{a}", layer="hidden")
h_s = net.node("h_s", relu(h_a), r"\mathbf{h}_{s}", layer="hidden")
o_a = net.node("o_a", W_2 * h_s + b_2, r"\mathbf{o}_{a}", layer="output")
o_s = net.node("o_s", softmax(o_a), r"\mathbf{o}_{s}", layer="output")
L = net.node("L", cross_entropy(o_s, y), "L", layer="loss")  # per sample
R = net.loss("R", mean(L), r"\hat{R}", layer="loss")  # the empirical risk

net.notes["the homework's symbols"] = (
    r"The homework writes $m$ for the number of classes, $c$ here, and $n$ for the number of "
    r"samples, the batch size $m$ here. In its symbols, the parameters "
    r"$\theta = \{W^{(1)}, \mathbf{b}^{(1)}, W^{(2)}, \mathbf{b}^{(2)}\}$ number "
    r"$n_\theta = d_h (d + 1) + m (d_h + 1)$. It writes $\mathbf{h}^{a}$, $\mathbf{h}^{s}$, "
    r"$\mathbf{o}^{a}$ and $\mathbf{o}^{s}$ for $\mathbf{h}_{a}$, $\mathbf{h}_{s}$, "
    r"$\mathbf{o}_{a}$ and $\mathbf{o}_{s}$ (here the superscript is the sample), and the hidden "
    r"layer as $\mathbf{h}^{a} = W^{(1)T} \mathbf{x} + \mathbf{b}^{(1)}$ with "
    r"$W^{(1)} \in \mathbb{R}^{d_h \times d}$, a transpose that does not fit that shape: every "
    r"weight matrix here is (out $\times$ in), so $\mathbf{h}_{a} = W^{(1)} \mathbf{x} + "
    r"\mathbf{b}^{(1)}$."
)

network = net
