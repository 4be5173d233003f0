"""The MLP of the homework (seed 000, question 1): one ReLU hidden layer, softmax and cross-entropy.

s_1 = W_1 x + b_1, h = ReLU(s_1), s_2 = W_2 h + b_2, p = softmax(s_2), and the cross-entropy
J = 1/m sum_i -y_i^T log p_i of one-hot labels y. The homework trains it on MNIST: 784 inputs,
50 hidden units, 10 classes; learning rate 0.1, batch 16, 60 epochs, the learning rate times 0.1
every 20 epochs, reaching 95.18% test accuracy on full MNIST.

The dims have small defaults for the proofs (d = 4, h = 3, c = 3); training takes d and c from the
data and h = 50 from `size` (--set hidden=N to change it):

    derive train examples/mlp.py --data mnist5k --epochs 60 --batch-size 16 --lr 0.1 \\
        --schedule step:20:0.1 --metrics mlp.json
"""

from derive import Network, cross_entropy, mean, relu, softmax

net = Network("mlp", title="The homework's MLP: ReLU hidden layer, softmax and cross-entropy")

d = net.dim("d", 4, size=784)  # input pixels
h = net.dim("h", 3, size=net.setting("hidden", 50))  # hidden units
c = net.dim("c", 3, size=10)  # classes

x = net.input("x", d, description="the image, pixels scaled to [0, 1]")
y = net.input("y", c, onehot=True, description="the one-hot label of the digit")
W_1 = net.param("W_1", (h, d), description="the weights of the hidden layer")
b_1 = net.param("b_1", h, description="the biases of the hidden layer")
W_2 = net.param("W_2", (c, h), description="the weights of the output layer")
b_2 = net.param("b_2", c, description="the biases of the output layer")

s_1 = net.node("s_1", W_1 * x + b_1, layer="FC_1")
h_1 = net.node("h_1", relu(s_1), r"\mathbf{h}", layer="FC_1")
s_2 = net.node("s_2", W_2 * h_1 + b_2, layer="FC_2")
p = net.node("p", softmax(s_2), layer="softmax")
J = net.loss("J", mean(cross_entropy(p, y)), layer="cross-entropy")

network = net
