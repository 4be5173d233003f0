"""A variational autoencoder (Homework 1, Part One, 1.2): encoder, reparametrisation, decoder,
and the negative evidence lower bound.

h = tanh(W_e x + b_e); mu = W_mu h + b_mu; log sigma^2 = W_v h + b_v; sigma = exp(log sigma^2 / 2);
z = mu + sigma o eps with eps ~ N(0, I) an input (the reparametrisation trick, so the gradient
reaches mu and sigma); xhat = sigmoid(W_d z + b_d); loss = 1/m sum_i [1/2 ||xhat - x||^2 + KL],
KL = -1/2 1^T (1 + log sigma^2 - mu^2 - sigma^2).
"""

from derive import Network, exp, gaussian_kl, hadamard, mean, sigmoid, squared_error, tanh

net = Network("vae", title="A variational autoencoder")

d = net.dim("d", 3)  # data dimension
h = net.dim("h", 3)  # hidden units of the encoder
k = net.dim("k", 2)  # latent dimension

x = net.input("x", d, description="the data")
eps = net.input("eps", k, r"\boldsymbol{\epsilon}", noise=True, description="standard normal noise")

W_e = net.param("W_e", (h, d))
b_e = net.param("b_e", h)
W_mu = net.param("W_mu", (k, h), r"W_{\mu}")
b_mu = net.param("b_mu", k, r"\mathbf{b}_{\mu}")
W_v = net.param("W_v", (k, h), r"W_{v}")
b_v = net.param("b_v", k, r"\mathbf{b}_{v}")
W_d = net.param("W_d", (d, k))
b_d = net.param("b_d", d)

# the encoder
h_e = net.node("h_e", tanh(W_e * x + b_e), r"\mathbf{h}", layer="encoder")
mu = net.node("mu", W_mu * h_e + b_mu, r"\boldsymbol{\mu}", layer="encoder")
logvar = net.node("logvar", W_v * h_e + b_v, r"\log \boldsymbol{\sigma}^{2}", layer="encoder")
# the reparametrisation
sigma = net.node("sigma", exp(0.5 * logvar), r"\boldsymbol{\sigma}", layer="sampling")
z = net.node("z", mu + hadamard(sigma, eps), layer="sampling")
# the decoder
xhat = net.node("xhat", sigmoid(W_d * z + b_d), r"\hat{\mathbf{x}}", layer="decoder")
# the negative ELBO
rec = net.node("rec", squared_error(xhat, x), r"\ell_{rec}", layer="loss")
kl = net.node("kl", gaussian_kl(mu, logvar), r"\ell_{KL}", layer="loss")
L = net.loss("L", mean(rec) + mean(kl), layer="loss")

network = net
