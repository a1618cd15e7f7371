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
            # PyTorch's own: its tensor + ndarray goes through numpy, which warns about its __array_wrap__
            warnings.filterwarnings("ignore", message="__array_wrap__", category=DeprecationWarning)
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
    return (repr(out.detach()), _Values(out.detach().numpy(force=True)), str(out.dtype), grad_fn)


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


# ----------------------------------------------------------------------------- 3. gradients that select
NAN = float("nan")


@pytest.mark.parametrize("code", [
    "x = t.tensor([1., 3., 3., -2.], requires_grad=True); x.max().backward(t.tensor(-1.)); out = x.grad",
    "x = t.tensor([1., 3., 3., -2.], requires_grad=True); x.min().backward(t.tensor(-1.)); out = x.grad",
    "x = t.tensor([1., nan, 3., nan], requires_grad=True); x.max().backward(); out = x.grad",
    "x = t.tensor([1., nan, 3.], requires_grad=True); x.min().backward(); out = x.grad",
    "x = t.tensor([[1., 3.], [3., 1.], [nan, 0.]], requires_grad=True); v, i = x.max(1); v.backward(-t.ones(3)); "
    "out = (x.grad, i)",
    "x = t.tensor([[1., 3.], [3., 1.]], requires_grad=True); v, i = x.min(0, keepdim=True); "
    "v.backward(-t.ones(1, 2)); out = (x.grad, i)",
    "a = t.tensor([1., 2., 3., nan, 1.], requires_grad=True); b = t.tensor([2., 2., 1., 0., nan], requires_grad=True); "
    "t.maximum(a, b).backward(-t.ones(5)); out = (a.grad, b.grad)",
    "a = t.tensor([1., 2., 3., nan, 1.], requires_grad=True); b = t.tensor([2., 2., 1., 0., nan], requires_grad=True); "
    "t.minimum(a, b).backward(-t.ones(5)); out = (a.grad, b.grad)",
    "a = t.tensor([[1.], [2.]], requires_grad=True); b = t.tensor([2., 0.], requires_grad=True); "
    "t.maximum(a, b).sum().backward(); out = (a.grad, b.grad)",
    "x = t.tensor([-2., 0., 0.5, 1., 3., nan], requires_grad=True); x.clamp(0, 1).backward(-t.ones(6)); out = x.grad",
    "x = t.tensor([-2., 0.5, 3.], requires_grad=True); x.clamp(min=0.).backward(-t.ones(3)); out = x.grad",
    "x = t.tensor([-2., 0.5, 3.], requires_grad=True); lo = t.tensor([0., 0., 0.], requires_grad=True); "
    "hi = t.tensor([1., 1., 1.], requires_grad=True); x.clamp(lo, hi).backward(-t.ones(3)); out = (x.grad, lo.grad, hi.grad)",
    "x = t.tensor([-2., 0.5, 3.], requires_grad=True); m = t.tensor([0.5, 0.5, 0.5], requires_grad=True); "
    "x.clamp(min=m, max=m).backward(-t.ones(3)); out = (x.grad, m.grad)",
    "x = t.tensor([-2., 0.5, 3.], requires_grad=True); lo = t.tensor([2., 2., 2.], requires_grad=True); "
    "hi = t.tensor([1., 1., 1.], requires_grad=True); x.clamp(lo, hi).backward(-t.ones(3)); out = (x.grad, lo.grad, hi.grad)",
    "x = t.tensor([-2., 0.5, 3.], requires_grad=True); hi = t.tensor([1., 1., 1.], requires_grad=True); "
    "x.clamp(max=hi).backward(-t.ones(3)); out = (x.grad, hi.grad)",
    "a = t.tensor([1., 2.], requires_grad=True); b = t.tensor([3., 4.], requires_grad=True); "
    "t.where(t.tensor([True, False]), a, b).backward(-t.ones(2)); out = (a.grad, b.grad)",
    "x = t.tensor([1., 2., 3.], requires_grad=True); y = x * 1; v = t.tensor([5.], requires_grad=True); "
    "y[1:2] = v; y.backward(-t.ones(3)); out = (x.grad, v.grad)",
    "x = t.tensor([-1., 2.], requires_grad=True); x.relu().backward(-t.ones(2)); out = x.grad",
    "x = t.tensor([-1., nan, 0.], requires_grad=True); x.relu().backward(-t.ones(3)); out = x.grad",
])
def test_selecting_gradients_route_as_in_pytorch(torch, code):
    same(torch, code, nan=NAN)


# ----------------------------------------------------------------------------- 4. integer powers
@pytest.mark.parametrize("expression", [
    "t.tensor([1, 2]) ** t.tensor([-1, 2])", "t.tensor([1, -1, -1, 0, 2, 3]) ** t.tensor([-1, -1, -2, 2, -2, 3])",
    "t.tensor([1, 2]) ** -1", "t.tensor(2) ** -1", "t.tensor([1, 2]).pow(-2)", "2 ** t.tensor([-1, 2])",
    "t.tensor([1, 2]) ** t.tensor(-1)", "t.tensor([1, 2], dtype=t.int32) ** t.tensor([-1, 1], dtype=t.int32)",
    "t.tensor([1, 2]) ** 2", "t.tensor([1, 2]) ** t.tensor([2, 3])", "t.tensor([1, 2]) ** 2.0",
    "t.tensor([1, 2]) ** t.tensor([1, 2, 3])",
])
def test_integer_powers_as_in_pytorch(torch, expression):
    same(torch, f"out = {expression}")


# ----------------------------------------------------------------------------- 5. numpy scalars and arrays
@pytest.mark.parametrize("expression", [
    "t.ones(2) + np.array(2.0)", "t.ones(2) + np.array(2.0, dtype=np.float32)", "t.ones(2) + np.array(2)",
    "t.ones(2, dtype=t.float16) + np.array(2.0, dtype=np.float32)", "t.ones(2) - np.array([1., 2.])",
    "t.ones(2) * np.array([1., 2.])", "t.ones(2) / np.array(2.0)", "t.ones(2) ** np.array(2.0)",
    "t.ones(2) @ np.array([1., 2.])", "t.ones(2) // np.array(2.0)", "t.ones(2, requires_grad=True) + np.array(2.0)",
    "t.ones(2, requires_grad=True) * np.array([1., 2.])",
    "np.array([1., 2.]) - t.ones(2)", "np.array(2.0) * t.ones(2)", "np.array([1., 2.]) @ t.ones(2)",
    "t.ones(2) + np.float64(2.0)", "t.ones(2, dtype=t.float16) + np.float64(2.0)", "t.ones(2) + np.int64(2)",
    "np.float64(2.0) * t.ones(2)", "np.float32(2.0) + t.ones(2)", "np.int64(2) - t.ones(2)",
    "t.tensor([np.float32(1.5), 2.0])", "t.tensor([np.float64(1.5), 2.0])", "t.tensor([1.5, np.float32(2.0)])",
    "t.tensor([np.float32(1.5), np.float64(2.0)])", "t.tensor([1, np.float32(2.0)])", "t.tensor([np.int32(1), 2])",
    "t.tensor([np.int32(1), 2.5])", "t.tensor([[np.float64(1.5)], [2.0]])", "t.tensor([np.float16(1.5), 2.0])",
    "t.tensor([np.float16(1.5), np.float16(2)])", "t.tensor([True, np.float32(1)])", "t.tensor(np.float32(1.5))",
    "t.tensor(np.float16(1.5))",
])
def test_numpy_scalars_and_arrays_promote_as_in_pytorch(torch, expression):
    same(torch, f"out = {expression}")


# ----------------------------------------------------------------------------- 6. refused and accepted as PyTorch
@pytest.mark.parametrize("code", [
    "x = t.tensor([1., 2.], requires_grad=True); y = x * 2; y.retain_grad(); y.register_hook(lambda g: g * 10); "
    "y.sum().backward(); out = (y.grad, x.grad)",
    "x = t.tensor([1., 2.], requires_grad=True); y = x * 2; y.register_hook(lambda g: g * 10); y.retain_grad(); "
    "y.sum().backward(); out = (y.grad, x.grad)",
    "out = t.stack([t.ones(2), t.ones(2)], dim=2)", "out = t.stack([t.ones(2), t.ones(2)], dim=-1)",
    "out = t.stack([t.ones(2), t.ones(2)], dim=-3)",
    "out = t.ones(2, 3).flatten(1, 0)", "out = t.ones(2, 3, 4).flatten(-1, 1)", "out = t.ones(2, 3).sum(dim=(0, 0))",
    "out = t.ones(2, 3).sum(dim=(1, -1))", "out = t.ones(2, 3).mean(dim=(0, 1))",
    "out = t.where(t.tensor([1., 0.]), t.ones(2), t.zeros(2))", "out = t.where(t.tensor([1, 0]), t.ones(2), t.zeros(2))",
    "out = t.where(t.tensor([True, False]), t.ones(2), t.zeros(2))",
    "out = t.tensor([1, 2]) // 0", "out = t.tensor([1, 2]) // t.tensor([1, 0])", "out = t.tensor([1., -2., 0.]) // 0",
    "out = 1 - t.tensor([True, False])", "out = t.tensor([True, False]) - 1", "out = -t.tensor([True, False])",
    "out = t.tensor([True]) - t.tensor([True])", "out = t.ones(2) - t.tensor([True, False])",
    "out = t.tensor([True, False]) + 1",
    "out = f'{t.ones(2):.2f}'", "out = f'{t.ones(2)}'", "out = f'{t.tensor(2.5):.2f}'", "out = t.cat([])",
    "out = t.tensor([1., 2.]) & t.tensor([1., 2.])", "out = t.ones(2).expand(-1, -1)", "out = t.ones(2).expand(3, -1)",
])
def test_refused_and_accepted_as_in_pytorch(torch, code):
    same(torch, code)


# ----------------------------------------------------------------------------- 7. smaller
@pytest.mark.parametrize("code", [
    "out = t.tensor([5., -5.]) % 3", "out = t.tensor([5, -5]) % 3", "out = t.tensor([5, -5]).remainder(3)",
    "out = t.tensor([1., -2.]) % 0", "out = t.tensor([1, 2]) % 0",
    "x = t.tensor([5., -5.], requires_grad=True); y = x % 3; y.sum().backward(); out = (y, x.grad)",
    "x = t.tensor([5., -5.], requires_grad=True); d = t.tensor([3., 2.], requires_grad=True); y = x % d; "
    "y.sum().backward(); out = (y, x.grad, d.grad)",
    "out = t.ones(2, 3).swapaxes(0, 1)", "out = t.ones(2, 3).T.is_contiguous()", "out = t.ones(2, 3).is_contiguous()",
    "out = t.ones(2, 3)[:, ::2].is_contiguous()",
    "out = str(t.ones(2).device)", "out = repr(t.ones(2).device)", "out = f'{t.ones(2).device}'",
    "out = t.ones(2).device == t.zeros(1).device",
    "out = t.tensor(3.).max(0, keepdim=True)", "out = t.tensor(3.).max(0)", "out = t.tensor(3.).min(-1, keepdim=True)",
])
def test_smaller_differences_as_in_pytorch(torch, code):
    same(torch, code)


# ----------------------------------------------------------------------------- 6. higher derivatives through selects
@pytest.mark.parametrize("f", ["t.relu(x)", "x.abs()", "x.clamp(-1.5, 1.)", "t.maximum(x, t.tensor(0.))",
                               "t.minimum(x, t.zeros(2))", "x.clamp(min=t.zeros(2), max=t.ones(2))"])
@pytest.mark.parametrize("code", [
    "x = t.tensor([-1., 2.], requires_grad=True); y = F * x * x; "
    "g, = t.autograd.grad(y.sum(), x, create_graph=True); h, = t.autograd.grad(g.sum(), x, create_graph=True); "
    "k, = t.autograd.grad(h.sum(), x); out = (g, h, k)",
    "x = t.tensor([-1., 2.], requires_grad=True); g, = t.autograd.grad(F.sum(), x, create_graph=True); "
    "out = (g, g.requires_grad)",
    "x = t.tensor([-1., 2.], requires_grad=True); g, = t.autograd.grad(F.sum(), x, create_graph=True); "
    "h, = t.autograd.grad(g.sum(), x, allow_unused=True); out = h",
])
def test_gradients_of_selecting_gradients_as_in_pytorch(torch, f, code):
    same(torch, code.replace("F", f))


# ----------------------------------------------------------------------------- 8. grad_fn names
@pytest.mark.parametrize("code", [
    "x = t.ones(2, 3, requires_grad=True); out = x.T.reshape(-1)",
    "x = t.ones(2, 3, requires_grad=True); out = x.T.reshape(3, 2)",
    "x = t.ones(2, 3, requires_grad=True); out = x.T.flatten()",
    "x = t.ones(2, 3, requires_grad=True); out = x.reshape(-1)",
    "x = t.ones(2, requires_grad=True); g, = t.autograd.grad(t.tanh(x).sum(), x, create_graph=True); out = g",
    "x = t.ones(2, requires_grad=True); g, = t.autograd.grad(t.sigmoid(x).sum(), x, create_graph=True); out = g",
    "x = t.tensor([-1., 2.], requires_grad=True); g, = t.autograd.grad(t.relu(x).sum(), x, create_graph=True); out = g",
    "x = t.ones(2, requires_grad=True); g, = t.autograd.grad((x * x).sum(), x, create_graph=True); out = g",
    "x = t.ones(2, requires_grad=True); g, = t.autograd.grad(t.exp(x).sum(), x, create_graph=True); out = g",
])
def test_grad_fn_names_as_in_pytorch(torch, code):
    same(torch, code)


@pytest.mark.parametrize("code", [
    "x = t.ones(2, 3, requires_grad=True); out = x.T.view(3, 2)", "x = t.ones(2, 3, requires_grad=True); out = x.T.view(-1)",
    "x = t.ones(2, 3, requires_grad=True); out = x.view(-1)", "x = t.ones(2, 3, requires_grad=True); out = x.T.contiguous()",
    "x = t.ones(2, 3, requires_grad=True); out = x.T.contiguous().view(-1)",
    "x = t.ones(2, 3, requires_grad=True); out = (x.contiguous() is x, x.T.contiguous().is_contiguous())",
    "x = t.arange(6.).reshape(2, 3).requires_grad_(); y = x.T.contiguous().view(-1); y.backward(t.arange(6.)); out = x.grad",
])
def test_view_and_contiguous_as_in_pytorch(torch, code):
    same(torch, code)


@pytest.mark.parametrize("code", [
    "out = t.remainder(t.tensor([5., -5., 2.5]), 3)", "out = t.remainder(t.tensor([5, -5]), t.tensor([3, -3]))",
    "out = (repr(t.device('cpu')), t.tensor(1.).device == t.device('cpu'), str(t.device('cpu')))",
])
def test_top_level_remainder_and_device_as_in_pytorch(torch, code):
    same(torch, code)


@pytest.mark.parametrize("code", [
    "x = t.ones(2); out = t.matmul(x, 3)", "x = t.ones(2); out = t.matmul(3, x)", "x = t.ones(2); out = x @ 3",
    "x = t.ones(2); out = 3 @ x", "m = t.ones(2, 2); out = t.mm(m, 3)", "x = t.ones(2); out = t.dot(x, [1., 2.])",
    "m = t.ones(2, 2); out = t.mv(m, 2.)", "import numpy as np; x = t.ones(2); out = t.matmul(x, np.ones(2))",
    "x = t.ones(2); out = x.view(-1, -1)", "x = t.ones(2); out = x.view(-2)", "x = t.ones(2); out = x.reshape(-1, -1)",
    "x = t.ones(4); out = x.view(2, -3)",
    "out = t.tensor([[1., 2.], [3.]])", "out = t.tensor([[1., 2.], 3.])", "out = t.tensor([1., [2., 3.]])",
    "out = t.tensor([[[1.], [2.]], [[1.]]])", "out = t.tensor([[1, 2], [3]], dtype=t.float64)",
    "x = t.ones(2); out = x.max(dim=0, keepdim=1.5)", "x = t.ones(2); out = x.sum(0, keepdim=1)",
    "x = t.ones(2); out = x.sum(0, keepdim=None)", "x = t.ones(2); out = x.mean(0, keepdim='a')",
    "x = t.ones(2); out = x.argmax(0, keepdim=1)", "x = t.ones(2); out = x.sum(0, keepdims=True)",
    "x = t.ones(2); out = x.numpy(force=1, extra=2)", "x = t.ones(2); out = x.numpy(extra=2)",
    "x = t.ones(2); out = x.numpy(1)", "x = t.ones(2); out = x.numpy(force=True)",
])
def test_argument_errors_as_in_pytorch(torch, code):
    """Misuse the fuzz found: PyTorch's argument parser's TypeErrors, its shape and nested-list errors."""
    same(torch, code)


@pytest.mark.parametrize("code", [
    "out = t.maximum(t.tensor([3.0, -1.0]), True)", "out = t.maximum(t.tensor([3.0, -1.0]), 2.)",
    "out = t.minimum(2, t.tensor([3.0, -1.0]))",
    "out = t.tensor([True]) - True", "out = True - t.tensor([True])", "out = t.tensor([1]) - True",
    "out = t.tensor([1.]) - True", "out = 1 - t.tensor([True])",
    "out = t.tensor([[False, True]]) // t.tensor(True)", "out = t.tensor([True]) // True", "out = t.tensor([True]) // 2",
    "out = t.tensor([True]) ** True", "out = t.tensor([True]) ** False", "out = True ** t.tensor([True])",
    "out = t.tensor([True]) ** t.tensor([True])", "out = t.tensor([2], dtype=t.int8) ** 200",
    "out = (-3) ** t.tensor([-3, 2], dtype=t.int32)", "import numpy as np; out = np.int32(3) ** t.tensor([-2, 0], dtype=t.int32)",
    "out = -3 + t.tensor([[0, 2], [2, 2]], dtype=t.uint8)", "out = t.tensor([[0, 2]], dtype=t.uint8) - 300",
    "out = t.tensor([2], dtype=t.int8) * 200", "out = t.tensor([2], dtype=t.uint8) * -1",
    "out = t.tensor(-1, dtype=t.int32) < t.tensor([2, 0], dtype=t.uint8)", "out = t.tensor([2], dtype=t.uint8) < -1",
    "out = t.tensor([2], dtype=t.uint8) == 258", "out = t.tensor([2], dtype=t.int8) < t.tensor(200)",
    "out = t.tensor([2], dtype=t.int32) < t.tensor(3.5)", "out = t.tensor([2, 0], dtype=t.uint8) // -3",
    "out = t.tensor([1, 2]) ** t.tensor(-1)", "out = t.tensor([1, 2]) ** -1",
])
def test_promotion_of_bools_small_ints_and_python_numbers_as_in_pytorch(torch, code):
    """uint8 and int8 wrap Python ints around, comparisons promote first, bools refuse - // and ** as PyTorch."""
    same(torch, code)


@pytest.mark.parametrize("code", [
    "out = t.relu(t.tensor([-0., 0., float('nan'), -1.]))", "out = t.sign(t.tensor([float('nan'), -0., 2.]))",
    "x = t.tensor([float('nan'), -0., 0., -2.], requires_grad=True); x.abs().sum().backward(); out = x.grad",
    "out = t.clamp(t.tensor([-0., 0., 1.]), min=0.)", "out = t.clamp(t.tensor([-0., 0., 1.]), min=-0.)",
    "out = t.clamp(t.tensor([-0., 0., 1.]), max=0.)", "out = t.clamp(t.tensor([-0., 0., 1.]), -0., -0.)",
    "out = t.clamp(t.tensor([-0., 0., 1.]), min=t.tensor(0.))", "out = t.clamp(t.tensor([1., 5.]), 3., 2.)",
    "out = t.tensor([0., -0.]).max(dim=0).values", "out = t.tensor([-0., 0.]).max(dim=0).values",
    "out = t.tensor([[0., -0.], [-0., 0.]]).min(dim=1, keepdim=True).values", "out = t.tensor([0., -0.]).max()",
    "out = t.tensor([-0., 0.]).min()", "out = t.tensor([float('nan'), 1.]).max(dim=0)[0]",
    "out = t.maximum(t.tensor([0., -0.]), t.tensor([-0., 0.]))", "out = t.minimum(t.tensor([0., -0.]), t.tensor([-0., 0.]))",
])
def test_signed_zeros_and_nan_where_ops_select_as_in_pytorch(torch, code):
    """Ops that select an input keep its zero's sign, as PyTorch's do (maximum on short tensors: its
    scalar loop; see the README's deliberate exceptions)."""
    same(torch, code)


@pytest.mark.parametrize("p", [0, 0.5, 1, 1.5, 2, 3, 4.5, "inf", "-inf", "'fro'"])
@pytest.mark.parametrize("dims", ["", ", dim=0", ", dim=1, keepdim=True", ", dim=(0, 1)"])
def test_vector_norms_and_their_gradients_as_in_pytorch(torch, p, dims):
    """Every p: values, the gradient (shared among ties for inf; none at all for p=0) and grad_fn."""
    p = str(p).replace("inf", "float('inf')")
    code = ("x = t.tensor([[0.3, 0., -1.2, 0.7], [-0.4, 1.1, 2.5, -2.5], [0.9, -0.2, 2.5, 2.5]], dtype=t.float64, "
            f"requires_grad=True); y = x.norm(p={p}{dims}); "
            "(y * t.arange(1., y.numel() + 1, dtype=y.dtype).reshape(y.shape)).sum().backward(); "
            "out = (y, x.grad)")
    same(torch, code)


@pytest.mark.parametrize("p", [0.5, 1.5, 3, float("inf"), -float("inf")])
def test_vector_norm_gradients_against_central_differences(p):
    x = ad.tensor(np.random.default_rng(3).normal(size=(2, 3)), dtype=ad.float64, requires_grad=True)
    assert ad.autograd.gradcheck(lambda t: t.norm(p=p, dim=1), (x,))


@pytest.mark.parametrize("shapes", ["(1, 3), (4, 3, 3)", "(2, 3), (4, 3, 1)", "(1, 3), (1, 3, 3)", "(2, 3), (1, 3, 3)",
                                    "(2, 3), (5, 4, 3, 2)", "(1, 3), (5, 4, 3, 2)", "(2, 3), (4, 3, 0)", "(0, 3), (4, 3, 2)"])
def test_matrix_at_batch_grad_fn_as_in_pytorch(torch, shapes):
    """matrix @ batch is (bᵀ aᵀ)ᵀ in PyTorch: TransposeBackward0, or CloneBackward0 when the transpose needs a copy."""
    a, b = shapes.split("), ")
    same(torch, f"a = t.ones{a}), requires_grad=True); y = a @ t.ones{b}; y.sum().backward(); out = (y, a.grad)")


@pytest.mark.parametrize("code", [
    "out = t.ones(3, requires_grad=True) @ t.ones(2, 3, 2, dtype=t.float64)",
    "out = t.ones(1, 2) @ t.ones(3, 2, dtype=t.float64)", "out = t.mm(t.ones(1, 2), t.ones(3, 2, dtype=t.float64))",
    "out = t.ones(2, 2, requires_grad=True) @ t.ones(4, 3, 2, dtype=t.float64)",
    "out = t.ones(3, dtype=t.float64) @ t.ones(2, 3, 2, requires_grad=True)",
    "out = t.tensor([3]) @ t.ones(2, 1, 3, requires_grad=True)", "out = t.tensor([3, 1]) @ t.ones(2, 2, 3)",
    "out = t.tensor([3, 1]) @ t.ones(0, 2, 3)", "out = t.tensor([3]) @ t.ones(4, 2, 1, 3)",
])
def test_matmul_checks_in_pytorchs_order(torch, code):
    """Shapes before dtypes in mm; a vector or matrix @ batch that needs a gradient runs transposed (addmv, mm)."""
    same(torch, code)


@pytest.mark.parametrize("code", [
    "import numpy as np; out = np.array([[-1, -1, 5], [-2, -2, 3]], dtype=np.int32) / t.tensor([[2., 2., -.5], [1., 3., -2.]])",
    "import numpy as np; out = np.array([1., 2.]) / t.tensor([2., 3.], requires_grad=True)",
    "import numpy as np; out = np.array([1., 2.]) / t.tensor([2, 3])",
    "import numpy as np; out = np.array([1., 2.]) ** t.tensor([2., 3.])",
    "import numpy as np; out = np.array([1., 2.]) // t.tensor([2., 3.])", "out = 2 ** t.tensor([2., 3.])",
    "out = 7 // t.tensor([2., 3.])", "out = 1 / t.tensor([2., 3.])",
])
def test_ndarray_on_the_left_as_in_pytorch(torch, code):
    """ndarray / tensor is tensor.reciprocal() * ndarray through numpy; ** and // have no ndarray form."""
    same(torch, code)


@pytest.mark.parametrize("code", [
    "import numpy as np; out = t.where(np.bool_(True), np.bool_(True), t.tensor([True, False]))",
    "out = t.where(True, t.tensor([1., 2.]), 0.)", "out = t.where([True, False], t.tensor([1., 2.]), t.tensor(0.))",
    "import numpy as np; out = t.where(np.array([True, False]), t.tensor([1., 2.]), t.tensor(0.))",
    "import numpy as np; out = t.sub(t.tensor(-3), np.bool_(True))", "import numpy as np; out = t.tensor([1]) + np.bool_(True)",
    "import numpy as np; out = t.tensor([2], dtype=t.int32) ** np.bool_(True)",
    "import numpy as np; out = np.bool_(True) - t.tensor([2, 0])", "import numpy as np; out = t.tensor([True]) * np.bool_(True)",
    "x = t.tensor([-1., 2.], requires_grad=True); g, = t.autograd.grad(t.relu(x).sum(), x, create_graph=True); out = g",
])
def test_where_conditions_and_numpy_bools_as_in_pytorch(torch, code):
    """torch.where's condition is a tensor; a numpy bool operand counts as a float number."""
    same(torch, code)


@pytest.mark.parametrize("code", [
    "x = t.tensor([[2]]) * 1; x.sub_(t.tensor([0.0], requires_grad=True)); out = x", "x = t.tensor([2]); x -= 0.5; out = x",
    "x = t.tensor([True]); x += 1; out = x", "x = t.tensor([2]); x += t.tensor([1], dtype=t.int8); out = x",
    "x = t.tensor([2.]); x += t.tensor([1.], dtype=t.float64); out = x", "x = t.tensor([2], dtype=t.int32); x *= t.tensor(2.); out = x",
    "x = t.tensor([2], dtype=t.uint8); x -= 3; out = x", "x = t.tensor([2]); x /= 2; out = x",
    "w = t.tensor([1.], requires_grad=True); x = (w * 1).long(); x += w; out = x",
])
def test_in_place_results_must_fit_the_tensor_as_in_pytorch(torch, code):
    """An in-place op never stores a float in an integer tensor, nor a number in a bool one."""
    same(torch, code)


@pytest.mark.parametrize("code", [
    "h = t.zeros(3, dtype=t.float64); h[[0, 1]] = t.tensor([1., 2.]); out = h",
    "h = t.zeros(3); h[[0, 1]] = t.tensor([1, 2]); out = h", "h = t.zeros(3); h[0:2] = t.tensor([1., 2.], dtype=t.float64); out = h",
    "h = t.zeros(3); h[[0, 1]] = 2.5; out = h",
    "h = t.zeros(3); h[t.tensor([True, False, True])] = t.tensor([1., 2.], dtype=t.float64); out = h",
    "h = t.zeros(3); h[[0, 1]] = t.tensor(2., dtype=t.float64); out = h",
])
def test_index_put_needs_matching_dtypes_as_in_pytorch(torch, code):
    same(torch, code)


@pytest.mark.parametrize("code", [
    "h = t.zeros(3, dtype=t.float64); h[t.tensor([True, False, True])] = t.tensor(1.); out = h",
    "h = t.zeros(2, 3, dtype=t.float64); h[0, t.tensor([True, False, True])] = t.tensor(1.); out = h",
    "h = t.zeros(3, dtype=t.float64); h[[True, False, True]] = t.tensor(1.); out = h",
    "h = t.zeros(3, dtype=t.float64); h[t.tensor([True, False, True])] = t.tensor([1.]); out = h",
])
def test_mask_assignment_converts_the_value_as_in_pytorch(torch, code):
    same(torch, code)


@pytest.mark.parametrize("code", [
    "out = t.tensor([[2, 0], [1, 2]], dtype=t.uint8) ** -3", "out = t.tensor([2], dtype=t.int8) ** -200",
    "out = t.tensor([2], dtype=t.int8) ** 200", "out = t.stack((t.ones(1, 2), t.ones(1, 2, 1)), 3)",
])
def test_pow_and_stack_check_in_pytorchs_order(torch, code):
    same(torch, code)
