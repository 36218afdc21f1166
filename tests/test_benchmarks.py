"""The benchmark's hand-written NumPy computes the same numbers as minigrad, so the
comparison is of equal work. (Speed itself is measured by `make bench`, not here.)"""

from dataclasses import replace

import numpy as np
import pytest

from benchmarks import memory
from benchmarks import workloads as w
from benchmarks.run import render


@pytest.mark.parametrize("one_gemm", [False, True])
@pytest.mark.parametrize("ours", [w.w2_minigrad, w.w2_minigrad_layer,
                                  lambda size: w.w2_minigrad(size, compile=True)],
                         ids=["eager", "layer", "compiled"])
def test_numpy_lstm_bptt_matches_minigrad(ours, one_gemm):
    size = replace(w.SIZES["M"], B=4, p=6, q=8, T=12)
    step = ours(size)
    step()  # a compiled step traces on its first call and replays from the second
    ours = step()
    reference = w.w2_numpy(size, one_gemm=one_gemm)()
    assert len(ours) == len(reference) == 5
    for got, expected in zip(ours, reference):
        np.testing.assert_allclose(got, expected, rtol=2e-4, atol=1e-6)
        assert np.asarray(got).dtype == np.asarray(expected).dtype or np.isscalar(got)


@pytest.mark.parametrize("compile", [False, True])
def test_numpy_chain_matches_minigrad(compile):
    step = w.w1_minigrad(compile=compile)
    step()
    np.testing.assert_allclose(step(), w.w1_numpy()(), rtol=1e-5)


def test_minimal_engine_chain_matches_numpy():
    np.testing.assert_allclose(w.w1_minimal()(), w.w1_numpy()(), rtol=1e-5)


def test_report_states_ratios_and_goals_of_each_row():
    row = {"W1": {"min": 3.0}, "S": {"min": 5.0}, "MEM": {"min": 100.0}}
    compiled = {"W1": {"min": 2.4}, "S": {"min": 1.1}, "MEM": {"min": 90.0}}
    floor = {"W1": {"min": 2.0}, "S": {"min": 1.0}, "MEM": {"min": 100.0}}
    text = render({"minigrad": row, "minigrad, compiled": compiled,
                   "numpy (hand-written BPTT)": floor}, ["S"])
    assert "W1 us/op   minigrad / hand-written NumPy =  1.50x (goal 3.3x: holds)" in text
    assert "W2-S ms    minigrad / hand-written NumPy =  5.00x (goal 2.5x: misses)" in text
    assert "MEM MiB    minigrad / hand-written NumPy =  1.00x (goal 1.1x: holds)" in text
    assert ("W1 us/op   minigrad, compiled / hand-written NumPy =  1.20x (goal 1.3x: holds)"
            in text)
    assert ("W2-S ms    minigrad, compiled / hand-written NumPy =  1.10x (goal 1.2x: holds)"
            in text)
    assert ("MEM MiB    minigrad, compiled / hand-written NumPy =  0.90x (goal 1.1x: holds)"
            in text)


def test_memory_peak_can_be_reset():
    memory.reset_peak()  # what earlier tests used is not this test's peak
    before = memory.peak_mib()
    assert before < memory.resident_mib() + 8
    big = np.ones(64 * 2**20 // 8)  # 64 MiB, touched
    assert memory.peak_mib() >= before + 60
    del big
    memory.reset_peak()
    assert memory.peak_mib() < memory.resident_mib() + 8


def test_report_shows_rows_that_measure_only_some_workloads():
    full = {"W1": {"min": 2.0}, "L": {"min": 100.0}}
    text = render({"minigrad": full, "numpy (hand-written BPTT)": full,
                   "minimal Python autograd": {"W1": {"min": 1.0}}}, ["L"])
    row = next(line for line in text.splitlines() if line.startswith("minimal"))
    assert row.split()[-3:] == ["1.0", "n/a", "n/a"]


def test_report_gives_each_w2_row_in_gflops_and_as_a_fraction_of_sgemm():
    """flops of the M step / time = GFLOP/s; over the run's own sgemm, a fraction."""
    floor = {"W1": {"min": 2.0}, "M": {"min": 20.0}}
    text = render({"numpy (hand-written BPTT)": floor, "minimal Python autograd":
                   {"W1": {"min": 1.0}}}, ["M"], sgemm=400.0)
    gflops = w.SIZES["M"].flops() / 20.0 / 1e6
    assert "(400 GFLOP/s in this run)" in text
    row = next(line for line in text.splitlines()
               if line.startswith("numpy") and "%" in line)
    assert f"{gflops:.1f} ({gflops / 400:4.0%})" in row
    assert next(line for line in text.splitlines() if line.startswith("minimal") and
                line.rstrip().endswith("n/a"))


def test_report_gives_a_jit_row_s_first_call_apart_from_its_timings():
    """JAX's row (when JAX is importable) times steps after its trace and XLA compile;
    the report says how long that first call took."""
    floor = {"W1": {"min": 2.0}, "M": {"min": 20.0}}
    text = render({"numpy (hand-written BPTT)": floor,
                   "JAX 0.10.2 jit + lax.scan": {"M": {"min": 30.0, "compile_s": 0.47}}},
                  ["M"])
    assert ("JAX 0.10.2 jit + lax.scan: its first call (trace and XLA compile), apart from "
            "the timings: M 0.47 s") in text
