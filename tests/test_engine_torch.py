"""The engine against real PyTorch: same inputs, same values, dtypes, printed text, grad_fn names and
gradients.

Every op is run twice, once as ``m = autodiff_nb`` and once as ``m = torch``, from the same numpy
inputs. Where the two differ the engine is wrong (not the test).
"""
import re
import warnings

import numpy as np
import pytest

import autodiff_nb as ad

pytestmark = pytest.mark.torch


# ------------------------------------------------------------------------------------------- helpers
def make_input(spec, rng):
    """``spec`` = (shape, kind): 'any' normal values, 'pos' in [0.5, 2], 'away' |x| in [0.3, 2] (no kinks
    at 0), 'int' small integers, 'bool'."""
    shape, kind = spec
    if kind == "int":
        return rng.integers(-3, 4, size=shape).astype(np.int64)
    if kind == "bool":
        return rng.random(shape) > 0.5
    if kind == "pos":
        return rng.uniform(0.5, 2.0, size=shape).astype(np.float32)
    if kind == "away":
        return (rng.uniform(0.3, 2.0, size=shape) * rng.choice([-1, 1], size=shape)).astype(np.float32)
    return rng.standard_normal(shape).astype(np.float32)


def leaves(m, arrays):
    """The same arrays as tensors of module ``m``; float ones require grad."""
    out = []
    for a in arrays:
        t = m.tensor(a)
        if a.dtype.kind == "f":
            t.requires_grad_(True)
        out.append(t)
    return out


def fn_name(grad_fn):
    """What the printed ``grad_fn=<...>`` shows: for PyTorch the node's class name."""
    if grad_fn is None:
        return None
    return grad_fn.name() if isinstance(grad_fn, ad.tape.Node) else type(grad_fn).__name__


def same_repr(ours, theirs):
    assert repr(ours).replace("autodiff_nb.", "torch.") == repr(theirs)


def first(result):
    return result[0] if isinstance(result, tuple) else result


# ------------------------------------------------------------------------------------------- op table
# (id, f(m, *inputs), input specs). Float inputs require grad.
A, P, W = "any", "pos", "away"
OPS = [
    ("add", lambda m, a, b: a + b, [((2, 3), A), ((2, 3), A)]),
    ("add_broadcast", lambda m, a, b: a + b, [((2, 1, 3), A), ((4, 1), A)]),
    ("add_scalar", lambda m, a: a + 2.5, [((3,), A)]),
    ("radd_scalar", lambda m, a: 2 + a, [((3,), A)]),
    ("add_alpha", lambda m, a, b: m.add(a, b, alpha=2), [((3,), A), ((3,), A)]),
    ("sub", lambda m, a, b: a - b, [((2, 3), A), ((3,), A)]),
    ("rsub_scalar", lambda m, a: 1.5 - a, [((3,), A)]),
    ("sub_scalar", lambda m, a: a - 1, [((3,), A)]),
    ("mul", lambda m, a, b: a * b, [((2, 3), A), ((2, 1), A)]),
    ("mul_scalar", lambda m, a: 3 * a, [((2, 2), A)]),
    ("mul_0d", lambda m, a, b: a * b, [((), A), ((3,), A)]),
    ("div", lambda m, a, b: a / b, [((2, 3), A), ((3,), W)]),
    ("div_scalar", lambda m, a: a / 4, [((3,), A)]),
    ("rdiv_scalar", lambda m, a: 2 / a, [((3,), W)]),
    ("pow_scalar_exponent", lambda m, a: a ** 3, [((3,), A)]),
    ("pow_float_exponent", lambda m, a: a ** 2.5, [((3,), P)]),
    ("pow_tensor_tensor", lambda m, a, b: a ** b, [((2, 3), P), ((3,), A)]),
    ("pow_scalar_base", lambda m, a: 2 ** a, [((3,), A)]),
    ("pow_method", lambda m, a: a.pow(2), [((3,), A)]),
    ("neg", lambda m, a: -a, [((3,), A)]),
    ("abs", lambda m, a: a.abs(), [((2, 3), W)]),
    ("abs_builtin", lambda m, a: abs(a), [((3,), W)]),
    ("exp", lambda m, a: m.exp(a), [((2, 3), A)]),
    ("log", lambda m, a: a.log(), [((2, 3), P)]),
    ("sqrt", lambda m, a: m.sqrt(a), [((3,), P)]),
    ("sin", lambda m, a: a.sin(), [((3,), A)]),
    ("cos", lambda m, a: m.cos(a), [((3,), A)]),
    ("tanh", lambda m, a: a.tanh(), [((3,), A)]),
    ("sigmoid", lambda m, a: m.sigmoid(a), [((3,), A)]),
    ("relu", lambda m, a: m.relu(a), [((2, 3), W)]),
    ("reciprocal", lambda m, a: a.reciprocal(), [((3,), W)]),
    ("maximum", lambda m, a, b: m.maximum(a, b), [((2, 3), A), ((3,), A)]),
    ("minimum", lambda m, a, b: m.minimum(a, b), [((2, 3), A), ((2, 3), A)]),
    ("max_two_tensors", lambda m, a, b: m.max(a, b), [((3,), A), ((3,), A)]),
    ("min_two_tensors", lambda m, a, b: m.min(a, b), [((3,), A), ((3,), A)]),
    ("clamp", lambda m, a: a.clamp(-0.5, 0.5), [((2, 3), A)]),
    ("clamp_min", lambda m, a: m.clamp(a, min=0.1), [((2, 3), A)]),
    ("clamp_max", lambda m, a: a.clamp(max=0.1), [((2, 3), A)]),
    ("clamp_tensor_bounds", lambda m, a, lo, hi: m.clamp(a, lo, hi), [((2, 3), A), ((3,), A), ((2, 3), A)]),
    ("clamp_tensor_min", lambda m, a, lo: a.clamp(min=lo), [((2, 3), A), ((3,), A)]),
    ("where", lambda m, a, b: m.where(a > 0, a, b), [((2, 3), A), ((3,), A)]),
    ("where_scalar", lambda m, a: m.where(a > 0, a, 0.0), [((2, 3), A)]),
    ("dot", lambda m, a, b: m.dot(a, b), [((4,), A), ((4,), A)]),
    ("mv", lambda m, a, b: m.mv(a, b), [((3, 4), A), ((4,), A)]),
    ("mm", lambda m, a, b: m.mm(a, b), [((3, 4), A), ((4, 2), A)]),
    ("matmul_1d_1d", lambda m, a, b: a @ b, [((4,), A), ((4,), A)]),
    ("matmul_2d_1d", lambda m, a, b: a @ b, [((3, 4), A), ((4,), A)]),
    ("matmul_1d_2d", lambda m, a, b: a @ b, [((4,), A), ((4, 2), A)]),
    ("matmul_2d_2d", lambda m, a, b: m.matmul(a, b), [((3, 4), A), ((4, 2), A)]),
    ("matmul_3d_2d", lambda m, a, b: a @ b, [((2, 3, 4), A), ((4, 2), A)]),
    ("matmul_2d_3d", lambda m, a, b: a @ b, [((3, 4), A), ((2, 4, 2), A)]),
    ("matmul_3d_1d", lambda m, a, b: a @ b, [((2, 3, 4), A), ((4,), A)]),
    ("matmul_1d_3d", lambda m, a, b: a @ b, [((4,), A), ((2, 4, 3), A)]),
    ("matmul_3d_3d", lambda m, a, b: a @ b, [((2, 3, 4), A), ((2, 4, 2), A)]),
    ("matmul_broadcast_batch", lambda m, a, b: a @ b, [((2, 1, 3, 4), A), ((3, 4, 2), A)]),
    ("outer", lambda m, a, b: m.outer(a, b), [((3,), A), ((2,), A)]),
    ("sum_all", lambda m, a: a.sum(), [((2, 3), A)]),
    ("sum_dim", lambda m, a: a.sum(0), [((2, 3), A)]),
    ("sum_dim_kw", lambda m, a: m.sum(a, dim=-1), [((2, 3), A)]),
    ("sum_tuple_keepdim", lambda m, a: a.sum((0, 2), keepdim=True), [((2, 3, 4), A)]),
    ("sum_axis_keepdims", lambda m, a: a.sum(axis=1, keepdims=True), [((2, 3), A)]),
    ("sum_empty_dims_list", lambda m, a: a.sum([]), [((2, 3), A)]),
    ("sum_of_empty", lambda m, a: a.sum(), [((0, 3), A)]),
    ("sum_0d", lambda m, a: a.sum(0), [((), A)]),
    ("mean_all", lambda m, a: a.mean(), [((2, 3), A)]),
    ("mean_dim", lambda m, a: a.mean(1), [((2, 3), A)]),
    ("mean_tuple", lambda m, a: m.mean(a, (0, 1), keepdim=True), [((2, 3, 2), A)]),
    ("max_all", lambda m, a: a.max(), [((2, 3), A)]),
    ("min_all", lambda m, a: m.min(a), [((2, 3), A)]),
    ("max_dim", lambda m, a: a.max(1), [((2, 3), A)]),
    ("max_dim_keepdim", lambda m, a: m.max(a, dim=0, keepdim=True), [((2, 3), A)]),
    ("min_dim", lambda m, a: a.min(dim=-1), [((2, 3), A)]),
    ("max_0d_dim", lambda m, a: a.max(0), [((), A)]),
    ("norm", lambda m, a: a.norm(), [((2, 3), A)]),
    ("norm_dim", lambda m, a: a.norm(dim=1), [((2, 3), A)]),
    ("norm_p1", lambda m, a: a.norm(p=1), [((4,), W)]),
    ("softmax", lambda m, a: a.softmax(dim=1), [((2, 3), A)]),
    ("softmax_fn_dim0", lambda m, a: m.softmax(a, 0), [((2, 3), A)]),
    ("softmax_0d", lambda m, a: a.softmax(0), [((), A)]),
    ("log_softmax", lambda m, a: m.log_softmax(a, dim=-1), [((2, 3), A)]),
    ("reshape", lambda m, a: a.reshape(3, 2), [((2, 3), A)]),
    ("reshape_minus_one", lambda m, a: a.reshape(-1), [((2, 3), A)]),
    ("view", lambda m, a: a.view(6, 1), [((2, 3), A)]),
    ("view_0d", lambda m, a: a.view(1), [((), A)]),
    ("flatten", lambda m, a: a.flatten(), [((2, 3, 2), A)]),
    ("flatten_range", lambda m, a: m.flatten(a, 1), [((2, 3, 2), A)]),
    ("flatten_0d", lambda m, a: a.flatten(), [((), A)]),
    ("transpose", lambda m, a: a.transpose(0, 1), [((2, 3), A)]),
    ("transpose_1d", lambda m, a: a.transpose(0, -1), [((3,), A)]),
    ("T_2d", lambda m, a: a.T, [((2, 3), A)]),
    ("t_1d", lambda m, a: a.t(), [((3,), A)]),
    ("t_0d", lambda m, a: m.t(a), [((), A)]),
    ("mT", lambda m, a: a.mT, [((2, 3, 4), A)]),
    ("permute", lambda m, a: a.permute(2, 0, 1), [((2, 3, 4), A)]),
    ("squeeze", lambda m, a: a.squeeze(), [((1, 3, 1), A)]),
    ("squeeze_dim", lambda m, a: a.squeeze(0), [((1, 3, 1), A)]),
    ("squeeze_dims", lambda m, a: a.squeeze((0, 2)), [((1, 3, 1), A)]),
    ("unsqueeze", lambda m, a: a.unsqueeze(-1), [((2, 3), A)]),
    ("expand", lambda m, a: a.expand(4, 2, 3), [((2, 1), A)]),
    ("expand_minus_one", lambda m, a: a.expand(2, -1), [((1, 3), A)]),
    ("cat", lambda m, a, b: m.cat([a, b]), [((2, 3), A), ((1, 3), A)]),
    ("cat_dim1", lambda m, a, b: m.cat((a, b), dim=1), [((2, 3), A), ((2, 1), A)]),
    ("stack", lambda m, a, b: m.stack([a, b]), [((2, 3), A), ((2, 3), A)]),
    ("stack_last", lambda m, a, b: m.stack([a, b], -1), [((2, 3), A), ((2, 3), A)]),
    ("index_int", lambda m, a: a[1], [((3, 2), A)]),
    ("index_negative_int", lambda m, a: a[-1, 0], [((3, 2), A)]),
    ("index_slice", lambda m, a: a[1:], [((3, 2), A)]),
    ("index_step_slice", lambda m, a: a[::2, 1:], [((5, 3), A)]),
    ("index_full_slices", lambda m, a: a[:, :], [((3, 2), A)]),
    ("index_none", lambda m, a: a[None], [((3, 2), A)]),
    ("index_slice_none", lambda m, a: a[1:, None], [((3, 2), A)]),
    ("index_ellipsis", lambda m, a: a[..., 0], [((2, 3, 2), A)]),
    ("index_ellipsis_none", lambda m, a: a[0, ..., None], [((2, 3, 2), A)]),
    ("index_list_repeats", lambda m, a: a[[0, 2, 0]], [((3, 2), A)]),
    ("index_two_lists", lambda m, a: a[[0, 1, 0], [1, 1, 1]], [((3, 2), A)]),
    ("index_mask", lambda m, a: a[a > 0], [((3, 4), A)]),
    ("index_0d", lambda m, a: a[()], [((), A)]),
    ("index_0d_none", lambda m, a: a[None], [((), A)]),
    ("index_0d_ellipsis", lambda m, a: a[...], [((), A)]),
    ("index_int_tensor", lambda m, a, i: a[i], [((3, 2), A), ((4,), "idx")]),
    ("clone", lambda m, a: a.clone(), [((3,), A)]),
    ("to_float64", lambda m, a: a.double(), [((3,), A)]),
    ("mixed_dtype_mul", lambda m, a, b: a * b.double(), [((3,), A), ((3,), A)]),
]


def _arrays(specs, seed):
    rng = np.random.default_rng(seed)
    out = []
    for shape, kind in specs:
        if kind == "idx":  # an int64 index tensor (no gradient), with a repeat
            out.append(np.array([0, 2, 2, 1], dtype=np.int64))
        else:
            out.append(make_input((shape, kind), rng))
    return out


def _run(m, f, arrays):
    inputs = leaves(m, arrays)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PyTorch's x.T-on-1-D deprecation warning
        result = f(m, *inputs)
    return inputs, result


@pytest.mark.parametrize("name,f,specs", OPS, ids=[c[0] for c in OPS])
def test_op_matches_pytorch(torch, name, f, specs):
    arrays = _arrays(specs, seed=len(name))
    ours_in, ours = _run(ad, f, arrays)
    theirs_in, theirs = _run(torch, f, arrays)
    # the whole printed result: values, dtype, grad_fn name (and return_types layout for max/min)
    same_repr(ours, theirs)
    out, ref = first(ours), first(theirs)
    assert str(out.dtype).replace("autodiff_nb.", "torch.") == str(ref.dtype)
    assert tuple(out.shape) == tuple(ref.shape)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-6)
    assert fn_name(out.grad_fn) == fn_name(ref.grad_fn)
    assert out.requires_grad == ref.requires_grad and out.is_leaf == ref.is_leaf
    # gradients, from the same upstream gradient
    upstream = np.random.default_rng(1).standard_normal(tuple(ref.shape)).astype(np.float32)
    out.backward(ad.tensor(upstream).to(out.dtype))
    ref.backward(torch.tensor(upstream).to(ref.dtype))
    for x, y in zip(ours_in, theirs_in):
        if not y.requires_grad:
            assert x.grad is None
            continue
        assert x.grad is not None, name
        assert str(x.grad.dtype).replace("autodiff_nb.", "torch.") == str(y.grad.dtype)
        np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------------- ties and kinks
@pytest.mark.parametrize("expr", [
    "m.maximum(a, b)", "m.minimum(a, b)", "m.max(a, b)", "a.max()", "a.min()", "a.max(1).values",
    "a.min(0).values", "a.clamp(1., 2.)", "a.clamp(min=b)", "m.clamp(a, b, b + 1)", "a.relu()", "a.abs()",
    "a.norm()", "(a * 0).norm()", "a ** 0", "a ** b", "0 ** a", "a.sqrt()", "m.where(a > 1, a, b)",
])
def test_gradient_at_ties_and_kinks_matches_pytorch(torch, expr):
    """Where the derivative is a convention (ties, 0 of relu/abs/norm, 0 ** 0), use PyTorch's."""
    a_np = np.array([[0., 1., 2.], [2., 2., -1.]], dtype=np.float32)
    b_np = np.array([[0., 2., 1.], [2., 1., -1.]], dtype=np.float32)
    grads = []
    for m in (ad, torch):
        a, b = m.tensor(a_np, requires_grad=True), m.tensor(b_np, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = eval(expr, {"m": m, "a": a, "b": b})
            out.sum().backward()
        grads.append([None if t.grad is None else t.grad.detach().numpy() for t in (a, b)])
    for ours, theirs in zip(*grads):
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_array_equal(ours, theirs)


# ----------------------------------------------------------------------------------- dtype promotion
PROMOTION = [
    "m.tensor([1, 2, 3]) * 2.5",
    "m.tensor([1, 2, 3]) * 2",
    "m.tensor([1., 2.]) * 2",
    "m.tensor([1., 2.]) + m.tensor(1., dtype=m.float64)",
    "m.tensor(1., dtype=m.float64) + m.tensor(1.)",
    "m.tensor([1., 2.], dtype=m.float64) + m.tensor([1., 2.])",
    "m.tensor([True, False]) + 1",
    "m.tensor([True, False]) + m.tensor([True, True])",
    "m.tensor([True, False]) * 2.5",
    "m.tensor([1, 2]) / m.tensor([2, 2])",
    "m.tensor([1, 2]) / 2",
    "m.tensor(5) / m.tensor(2)",
    "m.tensor([1, 2], dtype=m.int32) + m.tensor(1)",
    "m.tensor(1, dtype=m.int32) + m.tensor([1, 2])",
    "m.tensor([1, 2], dtype=m.int32) + 1.5",
    "m.tensor([1, 2], dtype=m.int32) + m.tensor(1.5, dtype=m.float64)",
    "m.tensor(3.5) * m.tensor([1, 2])",
    "m.tensor(3, dtype=m.float64) * m.tensor([1, 2])",
    "m.tensor([1., 2.]) * m.tensor(2, dtype=m.int32)",
    "m.tensor([1, 2]) ** 2",
    "m.tensor([1, 2]) ** 0.5",
    "2 ** m.tensor([1, 2])",
    "2.0 ** m.tensor([1, 2])",
    "1.5 - m.tensor([1, 2])",
    "1 / m.tensor([1, 2])",
    "m.tensor([1, 2, 3]) // 2",
    "m.tensor([1., 2.]) * np.float64(2.)",
    "np.float64(2.) * m.tensor([1., 2.])",
    "m.tensor(np.float64(2.5))",
    "m.tensor(np.array([1., 2.]))",
    "m.tensor([1, -2]).clamp(0.5)",
    "m.tensor([1, -2]).clamp(0, 1)",
    "m.where(m.tensor([True, False]), 1., 0.)",
    "m.where(m.tensor([True, False]), m.tensor([1, 2]), 0.5)",
    "m.where(m.tensor([True, False]), m.tensor([1., 2.], dtype=m.float64), m.tensor([1., 2.]))",
    "m.maximum(m.tensor([1, 2]), m.tensor([1.5, 0.]))",
    "m.cat([m.tensor([1, 2]), m.tensor([1.5])])",
    "m.cat([m.tensor([1., 2.]), m.tensor([1.5], dtype=m.float64)])",
    "m.tensor([1, 2]).sum()",
    "m.tensor([True, True]).sum()",
    "m.tensor([1, 2], dtype=m.int32).sum()",
    "m.tensor([1., 2.]).sum(dtype=m.float64)",
    "m.tensor([1, 2]).exp()",
    "m.tensor([1, 2]).sqrt()",
    "m.tensor([1, -2]).abs()",
    "m.tensor([1, -2]).relu()",
    "-m.tensor([1, 2])",
    "m.tensor([1, 2]) @ m.tensor([3, 4])",
    "m.tensor([1., 2.]) == 1",
    "m.tensor([1., 2.]) > m.tensor([1, 1])",
    "m.tensor([1.7, -2.7]).long()",
    "m.tensor([0., 2.]).bool()",
    "m.tensor([1, 2]).float()",
    "m.arange(3)",
    "m.arange(0, 1, 0.25)",
    "m.full((2,), 3)",
    "m.full((2,), True)",
    "m.zeros_like(m.tensor([1, 2]))",
    "m.ones_like(m.tensor([1., 2.]), dtype=m.float64)",
    "m.linspace(0, 1, 5)",
    "m.eye(2)",
]


@pytest.mark.parametrize("expr", PROMOTION)
def test_dtype_promotion_matches_pytorch(torch, expr):
    ours = eval(expr, {"m": ad, "np": np})
    theirs = eval(expr, {"m": torch, "np": np})
    same_repr(ours, theirs)
    assert str(ours.dtype).replace("autodiff_nb.", "torch.") == str(theirs.dtype)


def test_float32_leaf_gets_float32_grad_through_float64_ops(torch):
    for create_graph in (False, True):
        x = ad.tensor([1., 2.], requires_grad=True)
        y = (x * ad.tensor([3., 4.], dtype=ad.float64)).sum()
        (g,) = ad.autograd.grad(y, x, create_graph=create_graph)
        assert g.dtype is ad.float32
        y = (x.double() ** 2).sum()
        y.backward(create_graph=create_graph)
        assert x.grad.dtype is ad.float32
    xt = torch.tensor([1., 2.], requires_grad=True)
    (xt.double() ** 2).sum().backward()
    assert str(xt.grad.dtype) == "torch.float32"


# ----------------------------------------------------------------------------------- printing of results
@pytest.mark.parametrize("expr", [
    "m.tensor([[1., 5., 3.], [2., 0., 5.]]).max(1)",
    "m.tensor([[1., 5., 3.], [2., 0., 5.]], requires_grad=True).max(dim=1, keepdim=True)",
    "m.tensor([[1, 2], [3, 0]]).min(0)",
    "m.max(m.tensor([1., 2.]), 0)",
    "m.zeros(0, 3).max(1)",
    "m.tensor([2.]).shape",
    "m.zeros(2, 3).shape",
    "m.tensor(2.).shape",
    "m.zeros(2, 3).size()",
    "m.zeros(size=(2, 3)).size(1)",
    "m.zeros(2, 0).shape",
    "m.tensor([1., 2.], requires_grad=True)",
    "m.tensor([1., 2.], requires_grad=True, dtype=m.float64) * 2",
    "m.tensor([1., 2.]).dtype",
    "m.float32",
    "m.tensor([1., 2.]).type()",
    "m.tensor([1, 2]).type()",
    "m.zeros(0, 3).sum(0)",
    "m.zeros(2, 0).mean(1)",
    "m.tensor([]).sum()",
    "m.tensor([]).mean()",
    "m.tensor([1e-5, 1.])",
])
def test_printed_text_matches_pytorch(torch, expr):
    ours = eval(expr, {"m": ad})
    theirs = eval(expr, {"m": torch})
    same_repr(ours, theirs)


def test_max_with_dim_is_a_named_tuple_like_pytorchs(torch):
    result = ad.tensor([[1., 5.], [7., 2.]]).max(dim=1)
    values, indices = result
    assert result.values is values and result.indices is indices
    assert repr(indices) == "tensor([1, 0])"
    assert type(result).__name__ == type(torch.tensor([1.]).max(0)).__name__ == "max"
    assert isinstance(result, tuple) and len(result) == 2


def test_size_is_a_tuple(torch):
    s = ad.zeros(2, 3).shape
    assert s == (2, 3) and s[0] == 2 and s.numel() == 6 and isinstance(s, tuple)
    assert repr(s) == repr(torch.zeros(2, 3).shape) == "torch.Size([2, 3])"


# ----------------------------------------------------------------------------------- the graph's form
def _describe(node, torch_side, depth=4):
    """A node's name and, recursively, its next_functions, as nested tuples (None for constants)."""
    if node is None:
        return None
    name = type(node).__name__ if torch_side else node.name()
    if depth == 0:
        return name
    return (name, tuple((_describe(n, torch_side, depth - 1), i) for n, i in node.next_functions))


@pytest.mark.parametrize("expr", [
    "(x * y).sum()",
    "2 * m.dot(x, x)",
    "(x * 2 + y).exp().mean()",
    "(x @ w).relu().sum(0)",
    "x[0] * x[1]",
    "m.cat([x, y]).norm()",
    "(x - y.detach()) ** 2",
    "m.where(x > 0, x, y).sum()",
    "x.T",
    "x.ones_like_placeholder" if False else "m.stack([x, y]).max()",
])
def test_next_functions_match_pytorch(torch, expr):
    described = []
    for m in (ad, torch):
        x = m.tensor([1., -2., 3.], requires_grad=True)
        y = m.tensor([0.5, 1., -1.], requires_grad=True)
        w = m.tensor([[1., 0.], [0., 1.], [1., 1.]], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = eval(expr, {"m": m, "x": x, "y": y, "w": w})
        described.append(_describe(out.grad_fn, m is torch))
    assert described[0] == described[1]


def test_leaves_and_accumulate_grad(torch):
    for m in (ad, torch):
        x = m.tensor([1., 2.], requires_grad=True)
        c = m.tensor([3., 4.])
        y = x * c
        assert x.is_leaf and c.is_leaf and not y.is_leaf
        assert x.grad_fn is None and c.grad_fn is None
        acc, _ = y.grad_fn.next_functions[0]
        assert type(acc).__name__ == "AccumulateGrad"
        assert acc.variable is x
        assert acc.next_functions == ()
        assert y.grad_fn.next_functions[1] == (None, 0)
        # the same leaf always flows into the same AccumulateGrad
        assert (x * 2).grad_fn.next_functions[0][0] is acc
        d = y.detach()
        assert d.is_leaf and not d.requires_grad and d.grad_fn is None
        with m.no_grad():
            z = x * 2
        assert z.is_leaf and not z.requires_grad


# ----------------------------------------------------------------------------------- names of special cases
@pytest.mark.parametrize("a_shape,b_shape", [
    ((2, 3), (4, 3, 2)), ((4, 2, 3), (3, 2)), ((3,), (4, 3, 2)), ((4, 2, 3), (3,)), ((4, 2, 3), (4, 3, 2)),
    ((3,), (3, 2)), ((2, 3), (3,)), ((2, 1, 2, 3), (4, 3, 2)),
])
@pytest.mark.parametrize("a_grad,b_grad", [(True, True), (True, False), (False, True)])
def test_matmul_grad_fn_names_follow_pytorchs_route(torch, a_shape, b_shape, a_grad, b_grad):
    names = []
    for m in (ad, torch):
        a = m.ones(a_shape, requires_grad=a_grad)
        b = m.ones(b_shape, requires_grad=b_grad)
        names.append(fn_name((a @ b).grad_fn))
    assert names[0] == names[1]


@pytest.mark.parametrize("key", [
    "[...]", "[:]", "[0]", "[None]", "[:, 0]", "[0, :]", "[0, None]", "[None, 0]", "[1:, None]",
    "[..., None]", "[..., 0]", "[[0, 1]]", "[:, [0, 1]]", "[[0, 1], 0]", "[0, [0, 1]]", "[1:2]", "[0, 1:2]",
    "[1:2, 0]", "[x > 0]", "[m.tensor(1)]", "[m.tensor([1, 1])]", "[:, :, :]", "[0, 0, 0]", "[..., 1:]",
    "[::2]", "[0:3]", "[-1]", "[(0, 1)]", "[:, None, 0]", "[m.tensor([True, False, True])]",
])
def test_indexing_grad_fn_names_match_pytorch(torch, key):
    names, shapes = [], []
    for m in (ad, torch):
        x = m.ones(3, 4, 5, requires_grad=True)
        r = eval("x" + key, {"m": m, "x": x})
        names.append(fn_name(r.grad_fn))
        shapes.append(tuple(r.shape))
    assert names[0] == names[1] and shapes[0] == shapes[1]


@pytest.mark.parametrize("stmt", [
    "y.zero_()", "y.fill_(3)", "y.copy_(m.tensor([5., 6.]))", "y.add_(1)", "y.sub_(1)", "y.mul_(2)", "y.div_(2)",
    "y += 1", "y -= 1", "y *= 2", "y /= 2", "y[0] = 5.", "y[[0]] = 5.", "y[y > 0] = 0.", "y[...] = 1.",
    "y.clamp_(0, 1)", "y.add_(1, alpha=2)", "y.copy_(s)", "y[1] = s[0] * 2",
])
def test_in_place_ops_names_values_and_gradients_match_pytorch(torch, stmt):
    results = []
    for m in (ad, torch):
        x = m.tensor([1., 2.], requires_grad=True)
        s = m.tensor([5., -6.], requires_grad=True)
        y = x * 2
        exec(stmt, {"m": m, "x": x, "y": y, "s": s})
        repr_text = re.sub(r"torch::autograd::", "", repr(y))
        (y * m.tensor([1., 3.])).sum().backward()
        results.append((repr_text.replace("autodiff_nb.", "torch."), x.grad.tolist(),
                        None if s.grad is None else s.grad.tolist()))
    assert results[0] == results[1]


def test_sgd_step_under_no_grad_matches_pytorch(torch):
    results = []
    for m in (ad, torch):
        w = m.tensor([1., 2.], requires_grad=True)
        (w * w).sum().backward()
        with m.no_grad():
            w -= 0.1 * w.grad
            w[0] = w[0] * 2
        results.append((repr(w), repr(w.grad), w.is_leaf))
    assert results[0] == results[1]


# ----------------------------------------------------------------------------------- errors: first sentences
MISUSES = {
    "backward_on_non_scalar": "x = m.tensor([1., 2.], requires_grad=True)\n(x * 2).backward()",
    "gradient_of_wrong_shape": "x = m.tensor([1., 2.], requires_grad=True)\n(x * 2).backward(m.ones(3))",
    "backward_twice": "x = m.tensor([1., 2.], requires_grad=True)\ny = (x * x).sum()\ny.backward()\ny.backward()",
    "backward_without_grad": "x = m.tensor([1., 2.])\n(x * 2).sum().backward()",
    "int_tensor_requires_grad": "m.tensor([1, 2], requires_grad=True)",
    "int_tensor_requires_grad_method": "m.tensor([1, 2]).requires_grad_()",
    "in_place_on_leaf": "x = m.tensor([1., 2.], requires_grad=True)\nx += 1",
    "item_assignment_on_leaf": "x = m.tensor([1., 2.], requires_grad=True)\nx[0] = 1.",
    "in_place_on_saved_value": "x = m.tensor([1., 2.], requires_grad=True)\nz = x * 2\ny = (z * z).sum()\n"
                               "z.add_(1)\ny.backward()",
    "in_place_on_saved_output": "x = m.tensor([1., 2.], requires_grad=True)\nz = x.exp()\nz.add_(1)\n"
                                "z.sum().backward()",
    "in_place_on_saved_leaf": "x = m.tensor([1., 2.], requires_grad=True)\ny = (x * x).sum()\n"
                              "with m.no_grad():\n    x.add_(1)\ny.backward()",
    "numpy_of_grad_tensor": "x = m.tensor([1., 2.], requires_grad=True)\nx.numpy()",
    "np_asarray_of_grad_tensor": "x = m.tensor([1., 2.], requires_grad=True)\nnp.asarray(x)",
    "mm_shapes": "m.ones(2, 3) @ m.ones(2, 3)",
    "mv_shapes": "m.mv(m.ones(2, 3), m.ones(2))",
    "dot_shapes": "m.dot(m.ones(3), m.ones(2))",
    "vector_matrix_shapes": "m.ones(3) @ m.ones(2, 3)",
    "batched_matmul_shapes": "m.ones(4, 2, 3) @ m.ones(4, 2, 3)",
    "batched_matmul_batch": "m.ones(4, 2, 3) @ m.ones(5, 3, 3)",
    "folded_matmul_shapes": "m.ones(4, 2, 3) @ m.ones(2, 3)",
    "broadcast_shapes": "m.ones(2, 3) + m.ones(4)",
    "broadcast_3d": "m.ones(5, 2, 3) - m.ones(4, 3)",
    "item_of_many": "m.ones(2).item()",
    "float_of_many": "float(m.ones(2))",
    "bool_of_many": "bool(m.ones(2))",
    "view_size": "m.ones(2, 3).view(4)",
    "cat_sizes": "m.cat([m.ones(2, 3), m.ones(3, 2)])",
    "stack_sizes": "m.stack([m.ones(2, 3), m.ones(3, 2)])",
    "assign_grad_of_wrong_size": "x = m.ones(2, requires_grad=True)\nx.grad = m.ones(3)",
    "requires_grad_false_on_non_leaf": "x = m.ones(2, requires_grad=True)\n(x * 2).requires_grad_(False)",
    "grad_of_unused_input": "x = m.ones(2, requires_grad=True)\ny = m.ones(2, requires_grad=True)\n"
                            "m.autograd.grad((x * 2).sum(), [x, y])",
    "in_place_float_into_int": "x = m.tensor([1, 2])\nx += 1.5",
    "in_place_broadcast_shape": "x = m.ones(2)\nx += m.ones(2, 2)",
    "expand_size": "m.ones(2).expand(3, 3)",
    "dim_out_of_range": "m.ones(2).sum(1)",
    "mean_of_int": "m.tensor([1, 2]).mean()",
    "index_out_of_range": "m.ones(2)[5]",
    "max_of_empty": "m.ones(0).max()",
    "max_of_empty_dim": "m.ones(3, 0).max(1)",
    "norm_of_int": "m.tensor([1, 2]).norm()",
    "where_shapes": "m.where(m.ones(2) > 0, m.ones(3), m.ones(2))",
    "t_of_3d": "m.ones(2, 3, 4).t()",
    "softmax_without_dim": "m.ones(2).softmax()",
}


def _first_line(m, src):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(src, {"m": m, "np": np})
    except Exception as e:  # noqa: BLE001 - comparing whichever error each library raises
        text = str(e).split("\n")[0]
        # PyTorch appends an anomaly-detection hint to the version error; we have no anomaly mode
        return type(e).__name__, text.split(" Hint: enable anomaly detection")[0]
    return None


@pytest.mark.parametrize("name", MISUSES)
def test_error_type_and_first_line_match_pytorch(torch, name):
    ours = _first_line(ad, MISUSES[name])
    theirs = _first_line(torch, MISUSES[name])
    assert theirs is not None
    assert ours == theirs


def test_nonleaf_grad_warning_starts_like_pytorchs(torch):
    texts = []
    for m in (ad, torch):
        y = m.ones(2, requires_grad=True) * 2
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert y.grad is None
        texts.append(str(caught[0].message))
    assert texts[0].split("\n")[0] == texts[1].split(" See github.com")[0]


@pytest.mark.parametrize("expr", [
    "m.tensor(0.3, dtype=m.float64)", "m.tensor([0.1, 0.7], dtype=m.float64)",
    "m.as_tensor([0.1], dtype=m.float64)",
    "m.tensor(0.1)", "m.full((2,), 0.1, dtype=m.float64)", "m.arange(0, 1, 0.1, dtype=m.float64)",
    "m.tensor([1, 2], dtype=m.float32)", "m.tensor([0.5, 1.5], dtype=m.int64)",
])
def test_creation_converts_straight_to_the_requested_dtype(torch, expr):
    ours = eval(expr, {"m": ad})
    theirs = eval(expr, {"m": torch})
    assert ours.tolist() == theirs.tolist()
    assert str(ours.dtype).replace("autodiff_nb.", "torch.") == str(theirs.dtype)


# ----------------------------------------------------------------------------------- the tensor surface
SURFACE = """
m.zeros(2, 3)
m.zeros((2, 3))
m.zeros([2, 3])
m.zeros(size=(2, 3))
m.ones(2, dtype=m.float64)
m.ones(size=(1,), requires_grad=True)
m.zeros(2, requires_grad=True)
m.full((2, 2), 1.5, requires_grad=True)
m.eye(2, 3)
m.eye(2, requires_grad=True)
m.arange(4.0, requires_grad=True)
m.arange(1, 4)
m.arange(1, 4, 2)
m.arange(1., 2., 0.5)
m.linspace(0, 1, 3, requires_grad=True)
m.zeros_like(m.ones(2), requires_grad=True)
m.ones_like(m.ones(2, 2))
m.tensor([[1, 2], [3, 4]]).ndim
m.tensor([[1, 2], [3, 4]]).dim()
m.tensor([[1, 2], [3, 4]]).numel()
len(m.tensor([[1, 2], [3, 4]]))
list(m.tensor([[1, 2], [3, 4]]))
[float(v) for v in m.tensor([1.5, 2.5])]
m.tensor([2.5]).item()
int(m.tensor([2.7]))
int(m.tensor(-2.7))
bool(m.tensor([1.]))
bool(m.tensor(0))
float(m.tensor(3))
m.tensor([1., 2.]).to(m.float64)
m.tensor([1., 2.]).type(m.int64)
m.tensor([1.5, 2.]).long()
m.tensor([1, 2]).double()
m.tensor([1., 2.]).numpy()
np.asarray(m.tensor([1., 2.]))
m.tensor([1., 2.], requires_grad=True).detach().numpy()
m.tensor([[1., 2.]]).size(-1)
m.tensor(5.).dim()
m.from_numpy(np.arange(3))
m.as_tensor(np.array([1., 2.]))
m.as_tensor([1, 2], dtype=m.float32)
m.tensor([[1., 2.], [3., 4.]]).tolist()
m.tensor(True)
m.tensor([]).shape
m.tensor([[]]).shape
m.tensor([1.5], dtype=m.float16)
m.is_tensor(m.tensor(1.))
m.numel(m.ones(2, 3))
m.randn(3, requires_grad=True).requires_grad
m.rand(2, 2).shape
m.randn(size=(2,)).shape
m.randn((2, 3)).shape
m.normal(2., 3., size=(4,)).shape
m.normal(m.zeros(2), m.ones(2)).shape
m.tensor([[1., 2.], [3., 4.]])[0][1]
m.Size([1, 2])
m.ones(2, 3).shape == m.Size([2, 3])
"""


@pytest.mark.parametrize("expr", SURFACE.strip().splitlines())
def test_tensor_surface_matches_pytorch(torch, expr):
    ours = eval(expr, {"m": ad, "np": np})
    theirs = eval(expr, {"m": torch, "np": np})
    assert repr(ours).replace("autodiff_nb.", "torch.") == repr(theirs)


def test_from_numpy_shares_memory_and_manual_seed_repeats():
    a = np.arange(3.)
    t = ad.from_numpy(a)
    a[0] = 7.
    assert t.tolist() == [7., 1., 2.] and t.dtype is ad.float64
    ad.manual_seed(42)
    first = (ad.randn(3).tolist(), ad.rand(2).tolist(), ad.normal(0., 1., size=(2,)).tolist())
    ad.manual_seed(42)
    assert (ad.randn(3).tolist(), ad.rand(2).tolist(), ad.normal(0., 1., size=(2,)).tolist()) == first


@pytest.mark.parametrize("expr", [
    "m.tensor([[1, 5], [3, 4]]).argmax()", "m.tensor([[1, 5], [3, 4]]).argmax(0)",
    "m.argmin(m.tensor([[1., 5.], [3., 0.]]), dim=1, keepdim=True)", "m.tensor([2., 2., 1.]).argmax()",
    "m.tensor(3.).argmax()", "m.tensor([[1., 5.]], requires_grad=True).argmin(1)",
])
def test_argmax_and_argmin_match_pytorch(torch, expr):
    same_repr(eval(expr, {"m": ad}), eval(expr, {"m": torch}))


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_comparisons_give_bool_tensors_without_gradient(torch, op):
    results = []
    for m in (ad, torch):
        x = m.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        out = eval(f"x {op} m.tensor([2., 3.])", {"m": m, "x": x})
        scalar = eval(f"x {op} 2", {"x": x})
        results.append((repr(out), repr(scalar), out.requires_grad, out.grad_fn))
    assert results[0] == results[1]


@pytest.mark.parametrize("method", ["argmax", "argmin", "max", "min"])
def test_select_reductions_take_numpy_style_axis_and_keepdims(torch, method):
    # d2l's accuracy() writes y_hat.argmax(axis=1)
    data = [[0.1, 0.3, 0.6], [0.3, 0.2, 0.5]]
    ours = getattr(ad.tensor(data), method)(axis=1, keepdims=True)
    theirs = getattr(torch.tensor(data), method)(axis=1, keepdims=True)
    if method in ("max", "min"):
        ours, theirs = ours.values, theirs.values
    assert repr(ours) == repr(theirs)
    assert repr(getattr(ad, method)(ad.tensor(data), axis=0)) == repr(getattr(torch, method)(torch.tensor(data), axis=0))
