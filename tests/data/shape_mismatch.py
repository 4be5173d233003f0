"""A network whose first layer multiplies a (h x d) matrix by a vector of the wrong size."""

from derive import Network, mean, squared_error

net = Network("shape_mismatch")
d = net.dim("d", 3)
h = net.dim("h", 2)
x = net.input("x", h)  # should be d
y = net.input("y", h)
theta = net.param("theta", (h, d))
z = net.node("z", theta * x)
L = net.loss("L", mean(squared_error(z, y)))
