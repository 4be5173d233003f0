"""The VAE (examples/vae.py, 784-200-20-200-784) trained on the 5,000 real mnist5k digits: the
negative ELBO per epoch (train and test), the seconds per epoch, and the decoder samples.

Runs what a user runs, through the Python API that ``derive train`` calls: 20 epochs of SGD,
batch 16, learning rate 0.002, momentum 0.9, seed 0. Prints the curve at a few epochs, the median
seconds per epoch, how many BLAS threads ran, and two checks that the samples are digits rather
than noise: the decoder's means are dark at the border of the image and bright in its middle.

    python bench/bench_vae.py                 # about half a minute; writes vae-samples.png
    python bench/bench_vae.py --epochs 5 --samples /tmp/grid.png
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np

import derive
from derive.png import png_bytes
from derive.samples import draw_samples, find_decoder, grid_image
from derive.train import Settings, Trainer, load_data

ROOT = Path(__file__).resolve().parent.parent
SHOWN = (1, 2, 3, 5, 10, 15, 20, 30, 40, 50)


def blas_threads() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    return ", ".join(f"{p['internal_api']} {p['num_threads']}" for p in pools) or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--samples", type=Path, default=Path("vae-samples.png"))
    args = parser.parse_args()

    net = derive.load(ROOT / "examples" / "vae.py")
    data = load_data(net, "mnist5k")
    settings = Settings(epochs=args.epochs, batch_size=16, lr=0.002, momentum=0.9, seed=0)
    trainer = Trainer(net, data, settings)
    sizes = ", ".join(f"{k} = {v}" for k, v in data.sizes.items())
    print(f"vae: {trainer.parameters:,} parameters, {sizes}, BLAS threads: {blas_threads()}")
    result = trainer.run()
    print("| epoch | train negative ELBO | test negative ELBO | seconds |")
    print("| ---: | ---: | ---: | ---: |")
    for e in result.epochs:
        if e.epoch in SHOWN or e.epoch == args.epochs:
            print(f"| {e.epoch} | {e.train_loss:.2f} | {e.test_loss:.2f} | {e.seconds:.2f} |")
    seconds = [e.seconds for e in result.epochs]
    print(f"median {statistics.median(seconds):.2f} s per epoch ({trainer.steps_per_epoch()} "
          f"steps of 16), {sum(seconds):.1f} s in all")  # fmt: skip

    decoder = find_decoder(net)
    samples = draw_samples(net, decoder, trainer.params, data.sizes, seed=0)
    args.samples.write_bytes(png_bytes(grid_image(samples)))
    means = samples.means.reshape(-1, samples.side, samples.side)
    border = np.concatenate([means[:, :3].ravel(), means[:, -3:].ravel()]).mean()
    middle = means[:, 8:20, 8:20].max(axis=(1, 2))
    print(f"samples: {args.samples}; the means' top and bottom 3 rows average {border:.3f}; "
          f"the dimmest sample's brightest middle pixel is {middle.min():.3f}")  # fmt: skip
    looks = border < 0.1 and middle.min() > 0.3
    print("the means look like digits (dark border, bright strokes)" if looks else
          "WARNING: the means do not look like digits")  # fmt: skip


if __name__ == "__main__":
    main()
