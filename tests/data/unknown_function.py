"""A network that calls a function defined nowhere."""

from derive import Network, mean, squared_error

net = Network("unknown_function")
d = net.dim("d", 2)
x = net.input("x", d)
y = net.input("y", d)
theta = net.param("theta", (d, d))
z = net.node("z", swish(theta * x))  # noqa: F821
L = net.loss("L", mean(squared_error(z, y)))
