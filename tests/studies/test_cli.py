"""Tests of the stabletail command line, called through main([...])."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from stabletail.cli import main, read_column


def test_read_column(tmp_path, monkeypatch):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n# comment\n1,10\n\n2.5 ; 20\n-3e-1\t30\n")
    np.testing.assert_array_equal(read_column(str(p)), [1.0, 2.5, -0.3])
    np.testing.assert_array_equal(read_column(str(p), 1), [10.0, 20.0, 30.0])
    p.write_text("1\n2\noops\n")
    with pytest.raises(ValueError, match="line 3"):
        read_column(str(p))
    p.write_text("header only\n")
    with pytest.raises(ValueError, match="no numbers"):
        read_column(str(p))
    monkeypatch.setattr("sys.stdin", io.StringIO("4\n5\n"))
    np.testing.assert_array_equal(read_column("-"), [4.0, 5.0])


@pytest.mark.parametrize("argv", [[], ["study"], ["tail"], ["fit"]])
def test_help_everywhere(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main([*argv, "--help"])
    assert info.value.code == 0
    assert "usage: stabletail" in capsys.readouterr().out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "study" in capsys.readouterr().out


def test_study_list(capsys):
    assert main(["study", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ("activation", "learning-rate", "architecture", "gaussianity", "direction", "protocols"):
        assert name in out


def test_study_bad_option_is_a_clear_error(tmp_path, capsys):
    pytest.importorskip("torch")
    assert main(["study", "activation", "--out", str(tmp_path), "--set", "bogus=1"]) == 2
    assert "unknown option 'bogus'" in capsys.readouterr().err


@pytest.mark.torch
def test_study_runs_and_says_where_outputs_are(tmp_path, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    out = tmp_path / "act"
    argv = [
        "study",
        "activation",
        "--out",
        str(out),
        "--seeds",
        "1",
        "--quiet",
        "--set",
        "checkpoints=[0]",
        "--set",
        "n_train=300",
        "--set",
        "n_test=100",
        "--set",
        "batch_size=100",
        "--set",
        "activation=[\"relu\"]",
        "--set",
        "splits=[\"train\"]",
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    table = Path(text.split("table:")[1].split()[0])
    figures = [
        Path(line.split("figure:")[1].strip()) for line in text.splitlines() if line.startswith("figure:")
    ]
    assert table.is_file() and table.parent == out
    assert figures and all(f.is_file() for f in figures)
    assert main(argv) == 0
    assert "1 already done" in capsys.readouterr().out


def _cauchy_file(tmp_path: Path, n: int, seed: int) -> Path:
    x = np.random.default_rng(seed).standard_cauchy(n)  # symmetric stable, alpha = 1
    p = tmp_path / "cauchy.txt"
    p.write_text("value\n" + "\n".join(repr(float(v)) for v in x) + "\n")
    return p


def test_tail_json_and_summary(tmp_path, capsys):
    est = pytest.importorskip("stabletail.estimators")
    if not hasattr(est, "mohammadi"):
        pytest.skip("estimators not available")
    p = _cauchy_file(tmp_path, 20000, 11)
    assert main(["tail", str(p), "--json", "--level", "0.9"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["method"] == "mohammadi" and d["level"] == 0.9 and d["n"] <= 20000
    # true alpha = 1: within 4 of the estimator's own standard errors
    assert abs(d["alpha"] - 1.0) < 4 * d["stderr"]
    assert d["ci"][0] < d["alpha"] < d["ci"][1]
    assert d["stderr_method"] == "asymptotic"
    assert main(["tail", str(p), "--method", "log_moment"]) == 0
    assert "alpha" in capsys.readouterr().out
    argv = ["tail", str(p), "--json", "--method", "mohammadi_quantile", "--param", 'stderr="bootstrap"',
            "--param", "n_boot=200", "--param", "random_state=3"]
    assert main(argv) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["method"] == "mohammadi_quantile" and d["stderr_method"] == "bootstrap"
    assert abs(d["alpha"] - 1.0) < 4 * d["stderr"]
    assert main(["tail", str(p), "--method", "TailIndex"]) == 2
    assert "--method must be one of" in capsys.readouterr().err
    assert main(["tail", str(tmp_path / "missing.txt")]) == 2


def test_fit_json(tmp_path, capsys):
    fitmod = pytest.importorskip("stabletail.fit")
    if not hasattr(fitmod, "fit"):
        pytest.skip("stabletail.fit.fit not available")
    p = _cauchy_file(tmp_path, 2000, 12)
    assert main(["fit", str(p), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["n"] == 2000
    alpha, se = d["alpha"], d["stderr"]
    se_alpha = se["alpha"] if isinstance(se, dict) else se[0]
    # true (alpha, beta, scale, loc) = (1, 0, 1, 0): alpha within 4 standard errors
    assert math.isfinite(se_alpha) and abs(alpha - 1.0) < 4 * se_alpha
    assert main(["fit", str(p)]) == 0
    assert "alpha" in capsys.readouterr().out
