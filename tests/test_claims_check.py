"""derive check on claims with known answers: correct claims (seed 000's own residuals and
gradients of the multi-task network among them), a slip of each kind planted by hand in LaTeX,
numbers (seed 002's hand calculation, with its sign error), identities in declared symbols, and
hostile input, which comes back unparseable or invalid, fast, with nothing run."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from derive.claims.grade import check_file
from derive.errors import DeriveError

CLAIMS = Path(__file__).resolve().parent / "data" / "claims"
EXAMPLES = CLAIMS.parents[2] / "examples"
#: the networks the tests trust, as --network would name them
TRUSTED = tuple(EXAMPLES / f"{n}.py" for n in ("mlp", "hand321", "multitask"))


@pytest.fixture(scope="module")
def results():
    """Every claims file of tests/data/claims, checked once: {file: {id: ClaimResult}}."""
    return {
        path.stem: {c.id: c for c in check_file(path, TRUSTED).claims}
        for path in sorted(CLAIMS.glob("*.yaml"))
        if path.stem != "hostile"
    }


# (file, id, verdict, slip): the truth, worked out by hand
KNOWN = [
    # identities in declared symbols
    ("alice", "q1", "correct", None),  # sigma' = sigma (1 - sigma)
    ("alice", "q2", "incorrect", None),  # tanh' = 1 - tanh, not 1 - tanh^2
    ("alice", "q3", "correct", None),  # d/dx max(0, x) = sgn(x), the student's sgn a step
    ("alice", "q4", "correct", None),  # d(u^T W v)/dW = u v^T
    ("alice", "q5", "incorrect", "a missing transpose"),  # v u^T
    # the mlp's gradients and residuals
    ("alice", "g1", "correct", None),
    ("alice", "g2", "incorrect", "a missing 1/m"),
    ("alice", "g3", "correct", None),  # with 1[s > 0]
    ("alice", "g4", "incorrect", "a missing derivative factor of an activation"),
    ("alice", "h2", "incorrect", "a missing transpose"),  # h^i where (h^i)^T belongs
    ("alice", "idx", "incorrect", "a wrong sample index inside a sum"),
    ("alice", "h1", "unparseable", None),
    ("alice", "had", "incorrect", "a matrix product where the other product belongs"),
    ("alice", "extraT", "incorrect", "an extra transpose"),
    ("alice", "ae", "almost-everywhere", None),  # 1[s >= 0]: differs from 1[s > 0] at 0 only
    ("alice", "sign", "incorrect", "a sign flip"),  # (y - p)/m
    # seed 000, the multi-task network, as the homework wrote it
    *[
        ("seed000", k, "correct", None)
        for k in ("z2B", "oplus", "BN", "yA", "theta2A", "theta1A", "theta2B", "x1B")
    ],  # fmt: skip
    ("seed000", "dropA", "incorrect", "a dropped branch where the graph fans out"),
    # seed 002's hand calculation
    ("hand321_numbers", "E", "correct", None),
    ("hand321_numbers", "w1", "incorrect", "a sign error"),  # the seed's +0.0043
    ("hand321_numbers", "w7", "correct", None),
    ("hand321_numbers", "b2", "correct", None),  # 0.46, rounded, within 5%
    ("hand321_numbers", "o", "incorrect", None),
    ("hand321_numbers", "W1", "invalid", None),  # six numbers, not one
]


@pytest.mark.parametrize("file,claim,verdict,slip", KNOWN, ids=[f"{f}:{c}" for f, c, *_ in KNOWN])
def test_known_verdicts(results, file, claim, verdict, slip):
    result = results[file][claim]
    assert result.verdict == verdict, result.message
    assert result.slip == slip, result.message


def test_an_incorrect_gradient_shows_a_point_both_values_and_the_right_formula(results):
    wrong = results["alice"]["g2"]  # sum (p - y) h^T without the 1/m
    assert wrong.point and set(wrong.point) <= {"x", "y", "W_1", "b_1", "W_2", "b_2"}
    assert wrong.claimed_value != wrong.correct_value
    assert r"\frac{1}{m}" in wrong.expected and r"\mathbf{h}^{i}" in wrong.expected


def test_a_shape_mismatch_names_both_shapes(results):
    q5 = results["alice"]["q5"]
    assert "near 'v u^T'" in q5.message


def test_the_unparseable_claim_says_where(results):
    h1 = results["alice"]["h1"]
    assert h1.position == 11


def test_number_claims_report_both_values(results):
    w1 = results["hand321_numbers"]["w1"]
    assert w1.correct_value == pytest.approx(-0.004488, abs=1e-6)
    assert w1.claimed_value == 0.0043
    assert "sign" in w1.message


def test_hostile_input_is_unparseable_fast_and_runs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hostile = check_file(CLAIMS / "hostile.yaml", TRUSTED)
    for claim in hostile.claims:
        assert claim.verdict in ("unparseable", "invalid"), (claim.id, claim.message)
        assert claim.seconds < 1.0, (claim.id, claim.seconds)
    assert not os.path.exists("HACKED")


def test_deep_nesting_and_a_huge_claim_are_refused_fast(tmp_path):
    path = tmp_path / "deep.yaml"
    deep = "(" * 5000 + "x" + ")" * 5000
    path.write_text(f"claims:\n  - {{id: deep, claim: '{deep} = 1'}}\n"
                    f"  - {{id: long, claim: '{'x+' * 50_000}x = 1'}}\n")  # fmt: skip
    start = time.perf_counter()
    for claim in check_file(path).claims:
        assert claim.verdict == "unparseable"
    assert time.perf_counter() - start < 1.0


# --- a network file is code: only those given on the command line run ------------------------
def test_a_network_a_claims_file_names_is_never_run(tmp_path, monkeypatch):
    folder = tmp_path / "homework"
    folder.mkdir()
    (folder / "evil.py").write_text("open('HACKED', 'w').close()\n")
    (folder / "bob.yaml").write_text("network: evil.py\nclaims: [{id: a, claim: 'x = 1'}]\n")
    for cwd in (tmp_path, folder):  # from the course folder, and from inside the students'
        monkeypatch.chdir(cwd)
        with pytest.raises(DeriveError, match="does not run because a claims file names it"):
            check_file(folder / "bob.yaml")
        with pytest.raises(DeriveError, match="not one given with --network"):
            check_file(folder / "bob.yaml", TRUSTED)
    assert not (tmp_path / "HACKED").exists() and not (folder / "HACKED").exists()


def test_another_students_upload_is_not_run(tmp_path, monkeypatch):
    """Issue 10, 2: from the course folder, alice's network: ../bob/net.py."""
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    (subs / "bob").mkdir()
    (subs / "bob" / "net.py").write_text("open('HACKED', 'w').close()\n")
    (subs / "alice" / "claims.yaml").write_text(
        "network: ../bob/net.py\nclaims: [{id: a, claim: 'x = 1'}]\n"
    )
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DeriveError, match="--network"):
        check_file(subs / "alice" / "claims.yaml")
    assert not (tmp_path / "HACKED").exists()


def test_a_claims_file_picks_one_of_the_given_networks(tmp_path, monkeypatch):
    mlp = EXAMPLES / "mlp.py"
    (tmp_path / "ann.yaml").write_text(f"network: {mlp}\nclaims: [{{id: a, claim: 'J = 1'}}]\n")
    (tmp_path / "bea.yaml").write_text("claims: [{id: a, claim: 'J = 1'}]\n")
    monkeypatch.chdir(tmp_path)
    assert check_file(tmp_path / "ann.yaml", TRUSTED).claims[0].verdict == "invalid"
    assert check_file(tmp_path / "bea.yaml", (mlp,)).claims[0].verdict == "invalid"
    with pytest.raises(DeriveError, match="several --network"):
        check_file(tmp_path / "bea.yaml", TRUSTED)


def test_check_command_trusts_only_the_networks_it_is_given(cli, tmp_path, monkeypatch):
    mlp = EXAMPLES / "mlp.py"
    claims = tmp_path / "ann.yaml"
    claims.write_text(
        f"network: {mlp}\nclaims:\n  - id: a\n    claim: '\\frac{{\\partial J}}{{\\partial "
        "\\mathbf{b}_2} = \\frac{1}{m}\\sum_{i=1}^{m}(\\mathbf{p}^i - \\mathbf{y}^i)'\n"
    )
    monkeypatch.chdir(tmp_path)
    refused = cli("check", claims)
    assert refused.exit_code == 2 and "--network" in refused.stderr
    trusted = cli("check", claims, "--network", mlp)
    assert trusted.exit_code == 0, trusted.stderr
    assert "correct" in trusted.stdout


def test_scalar_identities_are_proved_exactly_and_the_rest_at_random_points(results):
    assert "proved exactly" in results["alice"]["q1"].message  # sigma' = sigma (1 - sigma)
    assert "random points" in results["alice"]["g1"].message  # a gradient of the network
