"""A network that imports an operation derive does not have."""

from derive import Network, mean, mish, squared_error

net = Network("unknown_import")
d = net.dim("d", 2)
x = net.input("x", d)
y = net.input("y", d)
theta = net.param("theta", (d, d))
z = net.node("z", mish(theta * x))
L = net.loss("L", mean(squared_error(z, y)))
