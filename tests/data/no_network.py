"""A Python file that declares no Network."""

WIDTH = 3


def layer(x):
    return 2 * x
