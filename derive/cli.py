"""The command line: ``derive report|verify|grad FILE``.

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
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from derive.errors import DeriveError

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


class Format(str, Enum):
    pdf = "pdf"
    tex = "tex"
    md = "md"


#: What each --format writes: the .tex always, plus the PDF or the Markdown.
FORMATS = {Format.pdf: {"tex", "pdf"}, Format.tex: {"tex"}, Format.md: {"tex", "md"}}


# --- helpers -------------------------------------------------------------------------------
@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """A DeriveError is the user's to fix: one line on stderr, exit 2, no traceback."""
    try:
        yield
    except DeriveError as err:
        message = " ".join(str(err).split()) or type(err).__name__
        typer.echo(f"derive: error: {message}", err=True)
        raise typer.Exit(2) from None


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
    return arrays


def write_npz_atomically(path: Path, arrays: dict) -> None:
    """Write to a temporary file beside ``path``, then rename: never a half-written file."""
    import numpy as np

    if path.is_dir():
        raise DeriveError(f"{path}: is a folder; give the file to write, e.g. {path / 'grads.npz'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; give it the usual mode
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


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
    header = ("quantity", "symbolic check", "numeric max rel. error", "")
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
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"derive {version('derive')}")
        except PackageNotFoundError:  # running from a source tree that is not installed
            typer.echo("derive (not installed)")
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
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output folder (default: reports/<network name>/).",
            show_default=False,
            file_okay=False,
        ),
    ] = None,
    format: Annotated[
        Format,
        typer.Option(
            "--format",
            "-f",
            help="pdf: .tex and PDF (needs LaTeX); tex: the .tex "
            "only; md: .tex and Markdown with $$ math.",
        ),
    ] = Format.pdf,
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
    settings: Settings = None,
) -> None:
    """Derive every residual and gradient, prove them, and write the report."""
    with user_errors():
        from derive.render.report import check_notation, write_report

        check_notation(notation)  # before the proofs, which take a while
        net = load(file, settings)
        derivation = net.derive()
        from derive.verify import verify

        verification = verify(derivation)
        out_dir = out if out is not None else Path("reports") / net.name
        paths = write_report(derivation, verification, out_dir, FORMATS[format], notation)
    for path in paths:
        typer.echo(str(path))
    if not verification.ok:
        failed = ", ".join(
            check_label(n, net.loss_quantity.name) for n in failed_checks(verification)
        )
        typer.echo(f"derive: the proof failed for {failed} (see the report's table)", err=True)
        raise typer.Exit(1)


@app.command()
def verify(file: NetworkFile, settings: Settings = None) -> None:
    """Prove every residual and gradient, exactly and numerically, and print the table."""
    with user_errors():
        net = load(file, settings)
        derivation = net.derive()
        from derive.verify import verify as prove

        verification = prove(derivation)
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
            "Default: the example values the network file ships (net.example_values).",
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
    values of the network file), and print them or write them to an .npz file."""
    with user_errors():
        net = load(file, settings)
        if values is not None:
            arrays, where, label = read_values(values), str(values), f"the values of {values}"
        elif net.examples:
            arrays, where = net.examples, f"{file} (example values)"
            label = f"the example values of {file}"
        else:
            raise DeriveError(
                f"{file}: no --values given, and the network ships no example values "
                "(net.example_values({...}) in the file)"
            )
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


def main() -> None:
    app(prog_name="derive")


if __name__ == "__main__":
    main()
