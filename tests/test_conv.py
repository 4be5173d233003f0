"""derive conv (issue 15's start): a convolutional stack's shapes and parameters, and the
(stride, kernel) pairs of an output size. Known answers worked by hand: LeNet's first layers
(seed 003 Q3 a and b), and seed 003 c) to e), whose tables have slips (k = 52 for s = 1)."""

from __future__ import annotations

import json

import pytest

from derive.conv import parse_layer, parse_shape, solve, stack

LENET = ["conv:c=6,k=5", "pool:k=2,s=2", "conv:c=16,k=5"]


def test_lenet_shapes_and_parameters_as_worked_by_hand():
    steps = stack(parse_shape("1x32x32"), [parse_layer(x) for x in LENET])
    assert [s.output_shape for s in steps] == [(6, 28, 28), (6, 14, 14), (16, 10, 10)]
    # 6 kernels of 5 x 5 x 1 (+ 6 biases); 16 of 5 x 5 x 6 (+ 16)
    assert [(s.params_without_bias, s.params) for s in steps] == [(150, 156), (0, 0), (2400, 2416)]


def test_stride_padding_and_dilation_as_pytorch_computes_them():
    cases = {  # (n, layer): the side out, floor((n + 2p - d (k - 1) - 1) / s) + 1 by hand
        (32, "conv:c=1,k=3,s=2,p=1"): 16,  # (32 + 2 - 2 - 1) / 2 = 15.5 -> 15, + 1
        (28, "conv:c=1,k=3,d=2"): 24,  # (28 - 4 - 1) + 1
        (7, "pool:k=3"): 2,  # stride 3: (7 - 3) / 3 = 1.33 -> 1, + 1
        (5, "conv:c=1,k=1,s=2"): 3,
    }
    for (n, text), side in cases.items():
        (step,) = stack((1, n, n), [parse_layer(text)])
        assert step.output_shape[1:] == (side, side), text


def test_every_stride_and_kernel_for_an_output_size():
    # seed 003 c): 6 = (64 - k) / s + 1, so k = 64 - 5 s for s = 1 .. 12 (the seed's k = 52 for
    # s = 1 is a slip: 59)
    assert solve(64, 6) == [(s, 64 - 5 * s) for s in range(1, 13)]
    assert (1, 52) not in solve(64, 6)
    # d): p = 1, d = 2: (66 - 2 (k - 1) - 1) / s = 5, so 2k = 67 - 5s: s odd (the seed divides
    # by 5 where it means s, but its table 31, 26, 21 is right)
    assert solve(64, 6, p=1, d=2) == [(s, (67 - 5 * s) // 2) for s in range(1, 14, 2)]
    # e): p = 1, d = 1: k = 66 - 5 s
    assert solve(64, 6, p=1) == [(s, 66 - 5 * s) for s in range(1, 14)]
    # with the floor, a kernel that leaves pixels over counts too
    assert set(solve(64, 6)) < set(solve(64, 6, exact=False))
    assert (2, 53) in solve(64, 6, exact=False)  # (64 - 53) / 2 = 5.5 -> 5


def test_the_command_prints_each_step_and_writes_the_json(cli, tmp_path):
    out = tmp_path / "lenet.json"
    args = [
        "conv",
        "--input",
        "1x32x32",
        *[a for x in LENET for a in ("--layer", x)],
        "--json",
        out,
    ]
    got = cli(*args)
    assert got.exit_code == 0, got.output
    assert "6x28x28" in got.stdout and "(32 + 2*0 - 1*(5 - 1) - 1)/1 + 1 = 28" in got.stdout
    assert "parameters 2,416 (2,400 without the biases)" in got.stdout
    data = json.loads(out.read_text())
    assert data["layers"][2] == {"kind": "conv", "layer": "conv:c=16,k=5,s=1,p=0,d=1",
                                 "output_shape": [16, 10, 10], "params": 2416,
                                 "params_without_bias": 2400}  # fmt: skip
    solved = tmp_path / "pairs.json"
    got = cli("conv", "--solve", "--input", "64", "--output", "6", "--json", solved)
    assert got.exit_code == 0 and "  1  59" in got.stdout
    assert json.loads(solved.read_text())["pairs"][0] == {"s": 1, "k": 59}


@pytest.mark.parametrize(
    "args,said",
    [
        (["--input", "1x3x3", "--layer", "conv:c=2,k=5"], "does not fit the 3 x 3 input"),
        (["--input", "1x32x32", "--layer", "conv:k=5"], "conv needs c and k"),
        (["--input", "1x32x32", "--layer", "conv:c=6,k=5,q=1"], "'q=1' is not one of"),
        (["--input", "1x32x32", "--layer", "dense:c=3"], "expected conv:c=..,k=.."),
        (["--input", "1x-32x32", "--layer", "conv:c=6,k=5"], "is not a whole number"),
        (["--input", "1x32x32", "--layer", "conv:c=6,k=9999999"], "is not a whole number"),
        (["--solve", "--input", "64"], "--solve needs --output"),
        (["--input", "64"], "give the layers"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(cli, args, said):
    got = cli("conv", *args)
    assert got.exit_code == 2 and said in got.stderr
    assert len(got.stderr.strip().splitlines()) == 1
