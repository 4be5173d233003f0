"""The perceptron of lecture 4 (seed 001): a linear score and Rosenblatt's loss, labels in {-1, 1}.

s = w^T x + b, and for a labelled example (x, y), y in {-1, 1}, the loss
l_p = max(0, -y (w^T x + b)): zero when the sign of the score is the label, and growing with the
score's size when it is not. SGD on it is the perceptron's update: a misclassified example moves
w by y x (times the learning rate, over the batch). The labels are declared with sign=True, so
the proofs draw them as -1 and +1; derive train reports the accuracy as the share of samples whose
score has the label's sign:

    derive train examples/perceptron.py --data blobs --epochs 5
"""

from derive import Network, mean, perceptron, transpose

net = Network("perceptron", title="The perceptron: a linear score and the loss max(0, -y s)")

d = net.dim("d", 3)  # input features (2 for the toy data in the plane)

x = net.input("x", d, description="the input")
y = net.input("y", 1, sign=True, description="the label, -1 or +1")
w = net.param("w", d, description="the weights", init="xavier")
b = net.param("b", 1, description="the bias")

s = net.node("s", transpose(w) * x + b, layer="linear")
l = net.node("l", perceptron(s, y), "l_p", layer="perceptron loss")
J = net.loss("J", mean(l), layer="cost")

network = net
