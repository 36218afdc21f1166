import os

import pytest
from hypothesis import HealthCheck, settings
from pages import launched

# needs torch, which is not a test dependency: it only regenerates the fixtures
collect_ignore = ["fixtures/make_torch_reference.py", "fixtures/make_torch_ops_reference.py"]

# CI is deterministic (derandomize); locally the same examples count, fresh seeds;
# HYPOTHESIS_PROFILE=stress draws ten times as many, to hunt for a rare failure.
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=30,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=30,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("stress", deadline=None, max_examples=300,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the page tests (see ``pages.py``)."""
    with launched() as chromium:
        yield chromium


@pytest.fixture(params=[True, False], ids=["fused", "unfused"])
def fusion(request, monkeypatch, small_arrays):
    """Runs a compile test twice: with every one of mg.compile's passes on (those of
    ``fuse=True`` and ``inputs``) and with all of them off."""
    import importlib

    from minigrad.compiler.passes import PASSES

    monkeypatch.setattr(importlib.import_module("minigrad.compiler.function"), "FUSE_BY_DEFAULT",
                        set(PASSES) if request.param else False)
    return request.param


@pytest.fixture
def small_arrays(monkeypatch):
    """mg.compile's buffers pass takes a test's small arrays too: every result that can
    be is written into a pooled array."""
    import importlib

    monkeypatch.setattr(importlib.import_module("minigrad.compiler.buffers"), "POOLED_BYTES", 1)
