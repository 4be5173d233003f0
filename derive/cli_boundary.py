"""``derive boundary``: lecture 4's decision-boundary figures, a 2-layer network trained on toy
data in the plane for a series of widths, seeds and L2 weights (:mod:`derive.boundary`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from derive.cli import app, user_errors
from derive.errors import DeriveError


@app.command(short_help="Decision boundaries of a 2-layer network on toy data, for a series of "
             "widths, seeds and L2 weights.")  # fmt: skip
def boundary(
    data: Annotated[
        str,
        typer.Option(
            "--data",
            "-d",
            metavar="moons|circles|spirals|blobs",
            help="The toy data in the plane: two interleaving half circles, a disc inside a "
            "ring, two spirals, or two clusters separable by a line.",
        ),
    ] = "moons",
    width: Annotated[
        str, typer.Option("--width", metavar="H,H,...", help="Hidden widths (the lecture's m).")
    ] = "1,2,3,10",
    seeds: Annotated[
        str,
        typer.Option(
            "--seeds", metavar="S,S,...", help="Initialisations: seeds of the weights and order."
        ),
    ] = "0,1",
    lam: Annotated[
        str, typer.Option("--lam", metavar="L,L,...", help="L2 weights lambda, 0 or more.")
    ] = "0",
    samples: Annotated[int, typer.Option(help="Points of the data.")] = 200,
    noise: Annotated[
        float | None,
        typer.Option(help="Noise of the data (default: the data set's own).", show_default=False),
    ] = None,
    data_seed: Annotated[int, typer.Option("--data-seed", help="Seed of the data.")] = 0,
    epochs: Annotated[int, typer.Option(help="Passes over the points.")] = 300,
    lr: Annotated[float, typer.Option("--lr", help="The learning rate.")] = 0.1,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", help="Points per step.")] = 20,
    network: Annotated[
        Path | None,
        typer.Option(
            "--network",
            metavar="FILE",
            help="Train this network file instead (loaded with --set hidden=WIDTH): one input "
            "of 2 entries, a one-hot label of 2 classes or a -1/+1 one (sign=True), and a "
            "per-batch input for lambda if --lam is not 0.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output folder (default: reports/boundary/).",
            show_default=False,
            file_okay=False,
        ),
    ] = None,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="pdf|tex",
            help="pdf: .tex, the panels' PNGs and the PDF (needs LaTeX); tex: without the PDF.",
        ),
    ] = "pdf",
) -> None:
    """Train a 2-layer ReLU network (softmax, cross-entropy, lambda times the squared norms of
    the weights) on toy data for every width, seed and lambda given, and write the panels: the
    regions and the boundary over the points, the training accuracy, and what changed."""
    with user_errors():
        from derive import boundary as b
        from derive.cli import formats
        from derive.render import boundary as writeup

        if format not in ("pdf", "tex"):
            raise DeriveError(f"--format {format}: use pdf or tex")
        options = b.Options(
            data=data,
            widths=b.parse_list("--width", width),
            seeds=b.parse_list("--seeds", seeds),
            lams=b.parse_list("--lam", lam, float),
            samples=samples,
            noise=noise,
            data_seed=data_seed,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            network=network,
        )  # every option checked here, before anything is trained or written
        from_file = network is not None
        study = b.run(options, on_panel=lambda p: typer.echo(writeup.panel_line(p, from_file)))
        for line in writeup.terminal_lines(study):
            typer.echo(line)
        out_dir = out if out is not None else Path("reports") / "boundary"
        paths = writeup.write_boundary(study, out_dir, f"boundary-{data}", formats(format))
    for path in paths:
        typer.echo(str(path))
