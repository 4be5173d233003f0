"""A small convolutional network for the 8 x 8 digits: one convolution, ReLU, max pooling and
a softmax classifier.

X = vec^{-1}(x) is the digit as a 1 x 4n^2 feature map (one channel, its pixels row by row);
S_1 = W_1 im2col(X) + b_1 1^T convolves it with c_1 kernels of 3 x 3 (padding 1, so the map
stays 2n x 2n); H = ReLU(S_1); P = maxpool(H), 2 x 2 windows, stride 2; h = vec(P^T) its rows
stacked; s_2 = W_2 h + b_2;
p = softmax(s_2) and J = 1/m sum_i -y_i^T log p_i.

The proofs run at n = 2 (4 x 4 images), c_1 = 2 kernels and 3 classes; training takes the
8 x 8 digits and 10 classes from the data and c_1 = 8 kernels (--set kernels=N):

    derive train examples/cnn.py --data digits --epochs 20 --batch-size 32 --lr 0.1
"""

from derive import Network, conv2d, cross_entropy, flatten, image, max_pool, mean, relu, softmax

net = Network("cnn", title="A convolutional network for the 8 x 8 digits")

n = net.dim("n", 2, size=4)  # the image is 2n x 2n, the pooled map n x n
c_1 = net.dim("c_1", 2, size=net.setting("kernels", 8))  # kernels of the convolution
c = net.dim("c", 3, size=10)  # classes

x = net.input("x", 4 * n**2, description="the image, its pixels row by row, scaled to [0, 1]")
y = net.input("y", c, onehot=True, description="the one-hot label of the digit")
W_1 = net.param("W_1", (c_1, 9), description="the 3 x 3 kernels, one a row")
b_1 = net.param("b_1", c_1, description="the biases of the kernels")
W_2 = net.param("W_2", (c, c_1 * n**2), description="the weights of the classifier")
b_2 = net.param("b_2", c, description="the biases of the classifier")

X = net.node("X", image(x), "X", layer="image")
S_1 = net.node("S_1", conv2d(W_1, X, b_1, k=3, p=1), "S_1", layer="conv")
H = net.node("H", relu(S_1), "H", layer="conv")
P = net.node("P", max_pool(H, 2), "P", layer="pool")
h = net.node("h", flatten(P), r"\mathbf{h}", layer="pool")
s_2 = net.node("s_2", W_2 * h + b_2, layer="FC")
p = net.node("p", softmax(s_2), layer="softmax")
J = net.loss("J", mean(cross_entropy(p, y)), layer="cross-entropy")

network = net
