"""Hostile input to the command line (issue 15): messages, never tracebacks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stabletail.cli import main, read_column


def _run(argv, capsys):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_decimal_commas_are_refused_or_read_on_request(tmp_path):
    p = tmp_path / "dc.txt"
    p.write_text("x;y\n3;0,123\n4;1,5\n")
    with pytest.raises(ValueError, match="decimal comma"):
        read_column(str(p), 1)
    np.testing.assert_array_equal(read_column(str(p), 1, decimal_comma=True), [0.123, 1.5])
    np.testing.assert_array_equal(read_column(str(p), 0), [3.0, 4.0])  # never split into integer parts


def test_byte_order_mark_keeps_the_first_value(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_bytes(b"\xef\xbb\xbf1.5\n2.5\n-3\n")
    np.testing.assert_array_equal(read_column(str(p)), [1.5, 2.5, -3.0])


def test_binary_file_and_negative_column_are_refused(tmp_path):
    p = tmp_path / "bin.dat"
    p.write_bytes(bytes(range(256)))
    with pytest.raises(ValueError, match="UTF-8"):
        read_column(str(p))
    with pytest.raises(ValueError, match="column"):
        read_column(str(p), -1)


@pytest.mark.parametrize("command", ["tail", "fit"])
def test_directory_is_a_message(command, tmp_path, capsys):
    code, _, err = _run([command, tmp_path], capsys)
    assert code == 2 and "is a directory" in err


def test_negative_column_is_a_usage_error(tmp_path, capsys):
    p = tmp_path / "x.txt"
    p.write_text("1\n2\n")
    with pytest.raises(SystemExit) as info:
        main(["tail", str(p), "--column", "-1"])
    assert info.value.code == 2 and "integer >= 0" in capsys.readouterr().err


@pytest.fixture
def returns(tmp_path):
    x = np.random.default_rng(0).standard_t(3, 3000)
    x[[5, 50, 500]] = 0.0
    p = tmp_path / "returns.txt"
    np.savetxt(p, x)
    return p


def test_a_few_exact_zeros_give_a_result_and_a_note(returns, capsys):
    code, out, err = _run(["tail", returns], capsys)
    assert code == 0 and "alpha" in out and "3 of 3000 values are exactly 0" in err
    code, _, err = _run(["tail", returns, "--zeros", "raise"], capsys)
    assert code == 2 and "--zeros omit" in err and "zeros='omit'" not in err


@pytest.mark.parametrize("param, words", [("foo=1", "not an option"), ("x=[1]", "not an option"),
                                          ("block_size=[1]", "--param"), ("=3", "KEY=VALUE")])
def test_bad_params_name_the_flag(returns, capsys, param, words):
    code, _, err = _run(["tail", returns, "--param", param], capsys)
    assert code == 2 and words in err


def test_fit_json_says_whether_it_converged(returns, capsys):
    code, out, _ = _run(["fit", returns, "--json"], capsys)
    d = json.loads(out)
    assert code == 0 and d["converged"] is True and d["message"] == "" and d["at_boundary"] == []


@pytest.mark.torch
@pytest.mark.parametrize(
    "argv, words",
    [
        (["--device", "bogus"], "--device"),
        (["--set", 'lr="abc"'], "lr"),
        (["--set", 'dtype="float8"'], "dtype"),
        (["--set", "checkpoints=[-1]"], "checkpoints"),
        (["--address", "auto"], "--engine ray"),
        (["--seeds", "a,b"], "--seeds"),
    ],
)
def test_study_options_are_checked_before_any_cell_runs(argv, words, tmp_path, capsys):
    code, _, err = _run(["study", "protocols", "--out", tmp_path / "out", "--quiet", *argv], capsys)
    assert code == 2 and words in err
    assert not (tmp_path / "out" / "cells").exists() or not any((tmp_path / "out" / "cells").iterdir())


@pytest.mark.torch
def test_study_out_that_is_a_file(tmp_path, capsys):
    f = tmp_path / "file.txt"
    f.write_text("x")
    code, _, err = _run(["study", "protocols", "--out", f, "--quiet"], capsys)
    assert code == 2 and "is a file" in err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    content=st.binary(max_size=300), column=st.integers(0, 3), method=st.sampled_from(["mohammadi", "hill"])
)
def test_garbage_files_never_raise_out_of_main(tmp_path_factory, capsys, content, column, method):
    p = tmp_path_factory.mktemp("garbage") / "g.txt"
    p.write_bytes(content)
    for argv in (["tail", p, "--column", column, "--method", method], ["fit", p, "--column", column]):
        code, _, _ = _run(argv, capsys)  # any exception escaping main fails the test
        assert code in (0, 1, 2)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.just(0.0)),
                       min_size=0, max_size=60))
def test_numeric_files_of_any_values_never_raise_out_of_main(tmp_path_factory, capsys, values):
    p = tmp_path_factory.mktemp("numbers") / "v.txt"
    p.write_text("\n".join(repr(v) for v in values))
    for argv in (["tail", p], ["tail", p, "--method", "hill"], ["fit", p]):
        code, _, _ = _run(argv, capsys)
        assert code in (0, 1, 2)
