"""Doctests see `mg` and `np`, as the examples in the docstrings assume."""

import numpy as np
import pytest

import minigrad as mg


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    doctest_namespace.update(np=np, mg=mg)
