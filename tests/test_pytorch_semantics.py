"""The engine against PyTorch on the corners a learner runs into (issue 10): the same code runs on
both, and values, dtypes, grad_fn names and the first line of errors must agree."""
import warnings

import numpy as np
import pytest

import autodiff_nb as ad

pytestmark = pytest.mark.torch


def outcome(lib, code, **names):
    """What ``code`` gives on ``lib`` (``t`` in the code): ("ok", values, dtype, grad_fn) or
    ("error", type name, first line)."""
    scope = {"t": lib, "np": np, **names}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            exec(code, scope)
    except Exception as error:  # noqa: BLE001  (the type is what we compare)
        return ("error", type(error).__name__, str(error).splitlines()[0] if str(error) else "")
    out = scope["out"]
    if isinstance(out, tuple):
        return tuple(_described(o) for o in out)
    return _described(out)


def _described(out):
    if out is None or isinstance(out, (bool, int, float, str)):
        return out
    if isinstance(out, np.ndarray):
        return ("ndarray", out.tolist(), str(out.dtype))
    grad_fn = out.grad_fn.name() if out.grad_fn is not None else None
    # the printed text shows -0. and nan as a learner sees them; the values are compared to 1e-6
    return (repr(out.detach()), _Values(out.detach().numpy()), str(out.dtype), grad_fn)


class _Values:
    def __init__(self, array):
        self.array = np.asarray(array, dtype=np.float64)

    def __eq__(self, other):
        return self.array.shape == other.array.shape and np.allclose(self.array, other.array, rtol=1e-6,
                                                                     atol=1e-7, equal_nan=True)

    def __repr__(self):
        return repr(self.array.tolist())


def same(torch, code, **names):
    expected = outcome(torch, code, **names)
    actual = outcome(ad, code, **names)
    assert actual == expected, f"{code}\nautodiff_nb: {actual}\nPyTorch:     {expected}"
    return actual


# ----------------------------------------------------------------------------- 1. no numpy warnings
@pytest.mark.parametrize("code", [
    "out = t.log(t.tensor([0., -1.]))",
    "out = t.tensor([1., -1., 0.]) / 0",
    "out = 1 / t.tensor([0., 1.])",
    "out = t.exp(t.tensor([100., 1000.]))",
    "out = t.tensor([0., 2.]) ** -1",
    "out = t.sqrt(t.tensor([-1., 4.]))",
    "out = t.sigmoid(t.tensor([-1000., 0.]))",
    "out = t.tensor([1, 2]) / 0",
])
def test_forward_gives_inf_and_nan_silently(torch, code):
    same(torch, code)


@pytest.mark.parametrize("code", [
    "x = t.tensor([0., 4.], requires_grad=True); t.sqrt(x).sum().backward(); out = x.grad",
    "x = t.tensor([0., 1.], requires_grad=True); t.log(x).sum().backward(); out = x.grad",
    "x = t.tensor([0., 2.], requires_grad=True); (1 / x).sum().backward(); out = x.grad",
    "x = t.tensor([100., 1.], requires_grad=True); t.exp(x).sum().backward(); out = x.grad",
    "x = t.tensor([0., 4.], requires_grad=True); (g,) = t.autograd.grad(t.sqrt(x).sum(), x, create_graph=True); "
    "g.sum().backward(); out = x.grad",
])
def test_backward_gives_inf_and_nan_silently(torch, code):
    same(torch, code)


# ----------------------------------------------------------------------------- 2. dtypes in products and logic
MATRICES = "a32 = t.ones(2, 2); a64 = t.ones(2, 2, dtype=t.float64); v32 = t.ones(2); v64 = v32.double(); " \
           "b32 = t.ones(2, 2, 2); b64 = b32.double(); "


@pytest.mark.parametrize("product", [
    "a32 @ a64", "t.matmul(a32, a64)", "t.mm(a32, a64)", "t.mm(a32.long(), a32)", "a32.mm(a64)",
    "t.mv(a32, v64)", "t.mv(a64, v32)", "a64 @ v32", "t.dot(v32, v64)", "v32 @ v64", "t.dot(v32.long(), v32)",
    "v64 @ a32", "b32 @ b64", "b64 @ b32", "a32 @ b64", "a32.requires_grad_() @ b64", "b32 @ v64", "v32 @ b64",
    "b32 @ a64.long()", "a32 @ a32", "v64 @ a64", "b64 @ a64",
])
def test_products_of_mixed_dtypes_are_refused_as_in_pytorch(torch, product):
    same(torch, MATRICES + f"out = {product}")


@pytest.mark.parametrize("expression", [
    "t.tensor([True, False]) & t.tensor([1, 3])", "t.tensor([True, False]) | 2", "t.tensor([True, False]) ^ t.tensor([1, 3])",
    "t.tensor([1, 3]) & t.tensor([True, False])", "t.tensor([True, False]) & True", "True | t.tensor([False, False])",
    "3 & t.tensor([1, 2])", "t.tensor([True, False]) & t.tensor([True, True])", "t.tensor([1, 6], dtype=t.int32) ^ 3",
    "t.tensor([1., 2.]) & t.tensor([1., 2.])", "t.tensor([1., 2.]) | 1", "t.tensor([True]) & t.tensor([1.5])",
])
def test_bitwise_ops_promote_as_in_pytorch(torch, expression):
    same(torch, f"out = {expression}")
