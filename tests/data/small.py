"""A small one-layer regression network with a setting, for the command-line tests."""

from derive import Network, mean, sigmoid, squared_error

net = Network("small", title="A small network")
width = net.setting("width", 2)
d = net.dim("d", 3)
h = net.dim("h", width)
x = net.input("x", d)
y = net.input("y", h)
theta = net.param("theta", (h, d))
b = net.param("b", h)
z = net.node("z", theta * x + b, layer="FC")
yhat = net.node("yhat", sigmoid(z), r"\hat{\mathbf{y}}", layer="FC")
L = net.loss("L", mean(squared_error(yhat, y)))
