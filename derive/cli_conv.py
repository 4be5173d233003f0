"""``derive conv``: the shapes and parameters of a convolutional stack, step by step, or the
(stride, kernel) pairs that give a wanted output size (:mod:`derive.conv`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from derive.cli import app, user_errors, write_atomically
from derive.errors import DeriveError


@app.command(short_help="Shapes and parameters of a convolutional stack, or the (stride, kernel) "
             "pairs for an output size.")  # fmt: skip
def conv(
    input: Annotated[
        str,
        typer.Option(
            "--input",
            metavar="CxHxW",
            help="The input: 1x32x32 (channels x height x "
            "width), 32x32, or with --solve one side, 64.",
            show_default=False,
        ),
    ],
    layer: Annotated[
        list[str] | None,
        typer.Option(
            "--layer",
            metavar="KIND:K=V,...",
            help="A layer, in order: conv:c=6,k=5 "
            "(c channels out, k kernel, s stride, p padding, d dilation) or pool:k=2,s=2."
            " May repeat.",
            show_default=False,
        ),
    ] = None,
    solve: Annotated[
        bool, typer.Option("--solve", help="List every (stride, kernel) giving --output.")
    ] = False,
    output: Annotated[
        int | None,
        typer.Option("--output", help="With --solve: the output size wanted.", show_default=False),
    ] = None,
    padding: Annotated[int, typer.Option("--padding", help="With --solve: the padding.")] = 0,
    dilation: Annotated[int, typer.Option("--dilation", help="With --solve: the dilation.")] = 1,
    floor: Annotated[
        bool,
        typer.Option(
            "--floor",
            help="With --solve: also the pairs whose last window "
            "leaves pixels over (the output is rounded down).",
        ),
    ] = False,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the result to this JSON file.", show_default=False),
    ] = None,
) -> None:
    """Shapes and parameters of a convolutional stack, each step with its formula; or, with
    --solve, every (stride, kernel) pair that gives an output size."""
    from derive import conv as c

    with user_errors():
        if solve:
            if layer:
                raise DeriveError("--solve takes --input N and --output M, not --layer")
            if output is None:
                raise DeriveError("--solve needs --output M, the output size wanted")
            n = c.parse_shape(input)[1]
            if padding < 0 or dilation < 1:
                raise DeriveError("--padding is 0 or more, --dilation 1 or more")
            pairs = c.solve(n, output, padding, dilation, exact=not floor)
            typer.echo(f"output {output} from {n} (padding {padding}, dilation {dilation}): "
                       f"o = floor((n + 2p - d (k - 1) - 1) / s) + 1")  # fmt: skip
            typer.echo("  s  k")
            for s, k in pairs:
                typer.echo(f"{s:3d}  {k}")
            if not pairs:
                typer.echo("  none")
            data = {"pairs": [{"s": s, "k": k} for s, k in pairs]}
        else:
            if not layer:
                raise DeriveError("give the layers with --layer conv:c=6,k=5 (or --solve)")
            if output is not None or floor:
                raise DeriveError("--output and --floor go with --solve")
            shape = c.parse_shape(input)
            steps = c.stack(shape, [c.parse_layer(x) for x in layer])
            typer.echo(f"input {'x'.join(map(str, shape))}")
            for n, step in enumerate(steps, 1):
                shown = "x".join(map(str, step.output_shape))
                typer.echo(f"{n}. {step.layer.text}: {shown}  ({step.formula})")
                if step.layer.kind == "conv":
                    typer.echo(f"   parameters {step.params:,} ({step.params_without_bias:,} "
                               "without the biases)")  # fmt: skip
            total = sum(s.params for s in steps)
            typer.echo(
                f"parameters in all: {total:,} "
                f"({sum(s.params_without_bias for s in steps):,} without the biases)"
            )
            data = {"layers": [s.to_json() for s in steps]}
        if json_out is not None:
            text = json.dumps(data, indent=2) + "\n"
            write_atomically(json_out, lambda f: f.write(text.encode()), "conv.json")
            typer.echo(str(json_out))
