"""Shared test helpers: the real PyTorch as a reference, float64 tensor makers, ``close``, and the
chapter's control-flow example.

PyTorch is the reference many engine tests compare against. On a developer machine without it those
tests skip; in CI (``CI=true``) a missing PyTorch must fail the run, or the comparisons would quietly
stop happening. Test modules import the plain helpers by name: ``from conftest import close, f64``.
"""
import os

import numpy as np
import pytest

import autodiff_nb as ad
from autodiff_nb.viz.examples import control_flow_f


# ----------------------------------------------------------------------------------- dependencies
def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def skip_unless_ci(message):
    """Skip the test because something it needs is missing; in CI (``CI=true``) fail it instead."""
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing dependency is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def require_torch():
    """Import and return the real PyTorch; skip without it, except in CI where that is an error."""
    try:
        import torch
    except ImportError as error:
        skip_unless_ci(f"PyTorch is the reference here and is not installed ({error}); make test installs it")
    return torch


@pytest.fixture(scope="session")
def torch():
    """The real PyTorch (see ``require_torch``). Tests that use it should carry ``pytest.mark.torch``."""
    return require_torch()


# ----------------------------------------------------------------------------------- tensors
def f64(values, requires_grad=True):
    """A float64 tensor of ``values``, a leaf that requires grad unless told otherwise."""
    return ad.tensor(values, dtype=ad.float64, requires_grad=requires_grad)


def randn64(*shape, seed=0, requires_grad=False):
    """A float64 tensor of standard normal values, the same ones for the same ``seed``."""
    return f64(np.random.default_rng(seed).standard_normal(shape), requires_grad=requires_grad)


def values_of(t):
    """The values of a tensor (ours or PyTorch's), an array or a number, as a float64 array."""
    if hasattr(t, "detach"):
        t = t.detach().numpy()
    return np.asarray(t, dtype=np.float64)


def close(actual, expected, tol=None):
    """Assert that ``actual`` holds ``expected`` to ``tol`` (absolute and relative); returns True, so
    ``assert close(...)`` reads well too. The default tolerance suits the dtype: 1e-10 for float64
    tensors, 1e-6 otherwise."""
    if tol is None:
        tol = 1e-10 if str(getattr(actual, "dtype", "")).endswith("float64") else 1e-6
    np.testing.assert_allclose(values_of(actual), values_of(expected), rtol=tol, atol=tol)
    return True


def raises_as_pytorch(torch, case, *args):
    """``case(lib, *args)`` raises the same exception type, with PyTorch's first line, for both libraries
    (our line with the fix may follow). ``args`` are built per library: ``args[i](lib)``."""
    with pytest.raises(Exception) as theirs:
        case(torch, *(make(torch) for make in args))
    with pytest.raises(Exception) as ours:
        case(ad, *(make(ad) for make in args))
    assert type(ours.value) is type(theirs.value)
    assert str(ours.value).split("\n")[0] == str(theirs.value).split("\n")[0]


# ----------------------------------------------------------------------------------- the chapter's examples
# The chapter's example of a gradient through Python control flow (linear in ``a`` on each branch):
# one definition, shared with the notebooks' examples.
chapter_control_flow = control_flow_f
