"""A variational autoencoder (Homework 1, Part One, 1.2): encoder, reparametrisation, decoder,
and the negative evidence lower bound.

h = tanh(W_e x + b_e); mu = W_mu h + b_mu; log sigma^2 = W_v h + b_v; sigma = exp(log sigma^2 / 2);
z = mu + sigma o eps with eps ~ N(0, I) an input (the reparametrisation trick, so the gradient
reaches mu and sigma); h_d = tanh(W_h z + b_h); xhat = sigmoid(W_d h_d + b_d);
loss = 1/m sum_i [1/2 ||xhat - x||^2 + KL], KL = -1/2 1^T (1 + log sigma^2 - mu^2 - sigma^2):
the negative ELBO of a Gaussian decoder N(x; xhat, I) (up to the constant d/2 log 2 pi).

The dims have small defaults for the proofs (d = 3, h = 3, k = 2); training takes d from the
data and h = 200, k = 20 from `size` (--set hidden=N, --set latent=N). W_v starts at zero, so
training starts at sigma = 1; the tanh and sigmoid layers at N(0, 1/fan_in). Trained without
labels (the images are input and target), with decoder samples:

    derive train examples/vae.py --data mnist5k --epochs 20 --lr 0.002 --momentum 0.9 \
        --metrics vae.json --samples vae.png
"""

from derive import Network, exp, gaussian_kl, hadamard, mean, sigmoid, squared_error, tanh

net = Network("vae", title="A variational autoencoder")

d = net.dim("d", 3)  # data dimension
h = net.dim("h", 3, size=net.setting("hidden", 200))  # hidden units of the encoder
k = net.dim("k", 2, size=net.setting("latent", 20))  # latent dimension

x = net.input("x", d, description="the data")
eps = net.input("eps", k, r"\boldsymbol{\epsilon}", noise=True, description="standard normal noise")

W_e = net.param("W_e", (h, d), init="xavier")
b_e = net.param("b_e", h)
W_mu = net.param("W_mu", (k, h), r"W_{\mu}", init="xavier")
b_mu = net.param("b_mu", k, r"\mathbf{b}_{\mu}")
W_v = net.param("W_v", (k, h), r"W_{v}", init="zeros")
b_v = net.param("b_v", k, r"\mathbf{b}_{v}")
W_h = net.param("W_h", (h, k), init="xavier")
b_h = net.param("b_h", h)
W_d = net.param("W_d", (d, h), init="xavier")
b_d = net.param("b_d", d)

# the encoder
h_e = net.node("h_e", tanh(W_e * x + b_e), r"\mathbf{h}", layer="encoder")
mu = net.node("mu", W_mu * h_e + b_mu, r"\boldsymbol{\mu}", layer="encoder")
logvar = net.node("logvar", W_v * h_e + b_v, r"\log \boldsymbol{\sigma}^{2}", layer="encoder")
# the reparametrisation
sigma = net.node("sigma", exp(0.5 * logvar), r"\boldsymbol{\sigma}", layer="sampling")
z = net.node("z", mu + hadamard(sigma, eps), layer="sampling")
# the decoder
h_d = net.node("h_d", tanh(W_h * z + b_h), r"\mathbf{h}_{d}", layer="decoder")
xhat = net.node("xhat", sigmoid(W_d * h_d + b_d), r"\hat{\mathbf{x}}", layer="decoder")
# the negative ELBO
rec = net.node("rec", squared_error(xhat, x), r"\ell_{rec}", layer="loss")
kl = net.node("kl", gaussian_kl(mu, logvar), r"\ell_{KL}", layer="loss")
L = net.loss("L", mean(rec) + mean(kl), layer="loss", words="negative ELBO")

network = net
