"""Shared test helpers.

PyTorch is the reference many engine tests compare against. On a developer machine without it those
tests skip; in CI (``CI=true``) a missing PyTorch must fail the run, or the comparisons would quietly
stop happening.
"""
import os

import pytest


def require_torch():
    """Import and return the real PyTorch; skip without it, except in CI where that is an error."""
    if os.environ.get("CI") == "true":
        import torch  # an ImportError here fails the test, as CI wants

        return torch
    return pytest.importorskip("torch")


@pytest.fixture(scope="session")
def torch():
    """The real PyTorch (see ``require_torch``). Tests that use it should carry ``pytest.mark.torch``."""
    return require_torch()
