"""A network that calls an operation derive does not have."""

import derive
from derive import Network, mean, squared_error

net = Network("unknown_op")
d = net.dim("d", 2)
x = net.input("x", d)
y = net.input("y", d)
theta = net.param("theta", (d, d))
z = net.node("z", derive.mish(theta * x))
L = net.loss("L", mean(squared_error(z, y)))
