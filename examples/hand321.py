"""The 3-2-1 sigmoid network of the homework's hand calculation of gradients (Part B.3).

Three inputs feed two sigmoid hidden units, which feed one sigmoid output:
z_h = W_1 x + b_1, h = sigma(z_h), z_o = W_2 h + b_2, o = sigma(z_o),
E = 1/m sum_i 1/2 (o - t)^2.  The homework's numbers ship with the network, so

    derive grad examples/hand321.py

prints E and every gradient at them. The homework writes its W_1 as 3 x 2, column j feeding
hidden unit j (z_h1 = b_1 + w_1 x_1 + w_3 x_2 + w_5 x_3); derive's W_1 is (out x in), 2 x 3, its
transpose. The homework rounds its intermediate values and has sign slips in some of its hand
results (its dE/dw_1 = +0.0043, where the product of its own factors is negative); the
gradients derived here are exact.
"""

from derive import Network, mean, sigmoid, squared_error

net = Network("hand321", title="A 3-2-1 sigmoid network, by hand and by derive")

d = net.dim("d", 3)  # inputs
d_h = net.dim("d_h", 2)  # hidden units

x = net.input("x", d, description="the input")
t = net.input("t", 1, "t", target=True, description="the target")
W1 = net.param("W1", (d_h, d), "W_{1}", description="the weights of the hidden layer")
b1 = net.param("b1", d_h, r"\mathbf{b}_{1}", description="the biases of the hidden layer")
W2 = net.param("W2", (1, d_h), "W_{2}", description="the weights of the output unit")
b2 = net.param("b2", 1, "b_{2}", description="the bias of the output unit")

z_h = net.node("z_h", W1 * x + b1, r"\mathbf{z}_{h}", layer="hidden")
h = net.node("h", sigmoid(z_h), r"\mathbf{h}", layer="hidden")
z_o = net.node("z_o", W2 * h + b2, "z_{o}", layer="output")
o = net.node("o", sigmoid(z_o), "o", layer="output")
E = net.loss("E", mean(squared_error(o, t)))

net.notes["the homework's numbers"] = (
    r"The homework's values ship with this network, and `derive grad hand321.py` "
    r"evaluates $E$ and every gradient at them "
    r"($E = 1.7336$ for its one sample). The homework writes $W_{1}$ as $3 \times 2$, column $j$ "
    r"feeding hidden unit $j$; here $W_{1}$ is (out $\times$ in), $2 \times 3$, its transpose."
)
net.example_values(
    {
        "x": [[0.18, 2.42, 1.34]],  # one sample (m = 1)
        "t": [[-1.29]],
        "W1": [
            [-0.10, 0.19, 0.49],  # row j: the weights into hidden unit j
            [-0.15, -0.07, -0.48],
        ],
        "b1": [-0.36, -0.04],
        "W2": [[-0.25, 0.68]],
        "b2": [0.26],
    }
)

network = net
