"""Every op's gradient against central differences, in float64, over random shapes.

The differencer lives here, apart from ``autodiff_nb.check``: for a random upstream gradient ``u`` the
engine's ``x.grad`` after ``out.backward(u)`` must equal d/dx sum(f(x) * u), measured by nudging each
element of x by +-eps. Hypothesis picks the shapes (0-d, empty dims and broadcasting included) and the
index expressions; the values come from a drawn seed, shaped to stay away from the points where an op
has no derivative (relu and abs at 0, ties of max, log of negatives).
"""
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff_nb as ad

# Raise for a deeper local run, e.g. ENGINE_GRAD_EXAMPLES=500.
FEW = settings(max_examples=int(os.environ.get("ENGINE_GRAD_EXAMPLES", "25")), deadline=None)

EPS = 1e-6


# ----------------------------------------------------------------------------------- the differencer
def numeric_vjp(f, arrays, upstream, which, record=False):
    """d/d arrays[which] of sum(f(*arrays) * upstream), by central differences (float64).

    ``record`` runs f with grad mode on, for an f that itself takes a gradient."""
    base = [np.array(a, dtype=np.float64) for a in arrays]
    target = base[which]
    grad = np.zeros_like(target)

    def loss():
        with ad.set_grad_enabled(record):
            out = f(*[ad.tensor(a) for a in base])
        return float(np.sum(np.asarray(out.detach().numpy(), dtype=np.float64) * upstream))

    for idx in np.ndindex(target.shape):
        keep = target[idx]
        target[idx] = keep + EPS
        plus = loss()
        target[idx] = keep - EPS
        minus = loss()
        target[idx] = keep
        grad[idx] = (plus - minus) / (2 * EPS)
    return grad


def check_gradients(f, *arrays, seed=0, rtol=1e-5, atol=1e-6, record=False):
    """Backward through ``f`` and compare every input's .grad with the numeric one."""
    leaves = [ad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = f(*leaves)
    assert out.dtype is ad.float64
    upstream = np.random.default_rng(seed).standard_normal(tuple(out.shape))
    out.backward(ad.tensor(upstream))
    for i, leaf in enumerate(leaves):
        expected = numeric_vjp(f, arrays, upstream, i, record)
        got = np.zeros(expected.shape) if leaf.grad is None else leaf.grad.numpy()
        assert leaf.grad is None or leaf.grad.dtype is ad.float64
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, err_msg=f"input {i}")


# ----------------------------------------------------------------------------------- values and shapes
def values(shape, kind, seed):
    """Random float64 values of ``shape``. Kinds:
    any: normal; pos: [0.5, 2]; away: |x| in [0.3, 2], never near 0;
    grid_a / grid_b / grid_c: k + 0.25 / 0.6 / 0.9 (+-0.05): any two kinds differ by >= 0.2, for ties;
    distinct: all elements at least 0.2 apart (no ties inside one array), for max/min reductions."""
    rng = np.random.default_rng(seed)
    if kind == "any":
        return rng.standard_normal(shape)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "away":
        return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if kind.startswith("grid"):
        offset = {"grid_a": 0.25, "grid_b": 0.6, "grid_c": 0.9}[kind]
        return rng.integers(-3, 3, shape) + offset + rng.uniform(-0.05, 0.05, shape)
    if kind == "distinct":
        n = int(np.prod(shape))
        return (rng.permutation(n) * 0.3 - n * 0.15 + rng.uniform(-0.05, 0.05, n)).reshape(shape)
    raise ValueError(kind)


SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
NONEMPTY = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
AT_LEAST_1D = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
PAIRS = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3)
TRIPLES = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=0, max_side=3)
SEEDS = st.integers(0, 2**32 - 1)


@st.composite
def dims_of(draw, ndim):
    """How a reduction names its dims: None, an int (maybe negative), a tuple, or an empty list."""
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1]))
    choice = draw(st.sampled_from(["none", "int", "tuple", "empty"]))
    if choice == "none":
        return None
    if choice == "int":
        return draw(st.integers(-ndim, ndim - 1))
    if choice == "empty":
        return []
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return tuple(d - ndim if draw(st.booleans()) else d for d in picked)


# ----------------------------------------------------------------------------------- elementwise
BINARY = {
    "add": (lambda a, b: a + b, "any", "any"),
    "sub": (lambda a, b: a - b, "any", "any"),
    "mul": (lambda a, b: a * b, "any", "any"),
    "div": (lambda a, b: a / b, "any", "away"),
    "pow": (lambda a, b: a ** b, "pos", "any"),
    "maximum": (lambda a, b: ad.maximum(a, b), "grid_a", "grid_b"),
    "minimum": (lambda a, b: ad.minimum(a, b), "grid_a", "grid_b"),
    "max_two_tensors": (lambda a, b: ad.max(a, b), "grid_a", "grid_b"),
    "min_two_tensors": (lambda a, b: ad.min(a, b), "grid_b", "grid_a"),
    "add_method_alpha": (lambda a, b: a.add(b, alpha=2.5), "any", "any"),
    "sub_function_alpha": (lambda a, b: ad.sub(a, b, alpha=0.5), "any", "any"),
    "where": (lambda a, b: ad.where(a > b, a, b), "grid_a", "grid_b"),
}


@pytest.mark.parametrize("name", BINARY)
@FEW
@given(shapes=PAIRS, seed=SEEDS)
def test_binary_op_gradient_with_broadcasting(name, shapes, seed):
    f, kind_a, kind_b = BINARY[name]
    a_shape, b_shape = shapes.input_shapes
    check_gradients(f, values(a_shape, kind_a, seed), values(b_shape, kind_b, seed + 1), seed=seed)


SCALAR_OPS = {
    "tensor + scalar": (lambda x: x + 1.5, "any"),
    "scalar + tensor": (lambda x: 1.5 + x, "any"),
    "tensor - scalar": (lambda x: x - 2, "any"),
    "scalar - tensor": (lambda x: 2 - x, "any"),
    "tensor * scalar": (lambda x: x * -3, "any"),
    "scalar * tensor": (lambda x: 0.5 * x, "any"),
    "tensor / scalar": (lambda x: x / 4, "any"),
    "scalar / tensor": (lambda x: 3 / x, "away"),
    "tensor ** int": (lambda x: x ** 3, "any"),
    "tensor ** negative int": (lambda x: x ** -2, "away"),
    "tensor ** 0": (lambda x: x ** 0, "any"),
    "tensor ** float": (lambda x: x ** 2.5, "pos"),
    "scalar ** tensor": (lambda x: 2 ** x, "any"),
    "float scalar ** tensor": (lambda x: 0.7 ** x, "any"),
    "unary minus": (lambda x: -x, "any"),
}


@pytest.mark.parametrize("name", SCALAR_OPS)
@FEW
@given(shape=SHAPES, seed=SEEDS)
def test_tensor_and_python_scalar_on_either_side(name, shape, seed):
    f, kind = SCALAR_OPS[name]
    check_gradients(f, values(shape, kind, seed), seed=seed)


UNARY = {
    "abs": (lambda x: x.abs(), "away"),
    "exp": (lambda x: ad.exp(x), "any"),
    "log": (lambda x: ad.log(x), "pos"),
    "sqrt": (lambda x: x.sqrt(), "pos"),
    "sin": (lambda x: ad.sin(x), "any"),
    "cos": (lambda x: x.cos(), "any"),
    "tanh": (lambda x: ad.tanh(x), "any"),
    "sigmoid": (lambda x: x.sigmoid(), "any"),
    "relu": (lambda x: ad.relu(x), "away"),
    "reciprocal": (lambda x: x.reciprocal(), "away"),
    "clamp": (lambda x: x.clamp(-0.5, 0.5), "grid_a"),  # grid_a never comes near +-0.5
    "clamp_min": (lambda x: ad.clamp(x, min=0.5), "grid_a"),
    "clamp_max": (lambda x: x.clamp(max=-0.5), "grid_a"),
    "where_with_scalar": (lambda x: ad.where(x > 0, x * x, 0.0), "away"),
    "clone": (lambda x: x.clone(), "any"),
    "to_same_dtype": (lambda x: x.to(ad.float64) * 1, "any"),
}


@pytest.mark.parametrize("name", UNARY)
@FEW
@given(shape=SHAPES, seed=SEEDS)
def test_unary_op_gradient(name, shape, seed):
    f, kind = UNARY[name]
    check_gradients(f, values(shape, kind, seed), seed=seed)


@FEW
@given(shapes=TRIPLES, seed=SEEDS)
def test_clamp_with_tensor_bounds(shapes, seed):
    x_shape, lo_shape, hi_shape = shapes.input_shapes
    check_gradients(lambda x, lo, hi: ad.clamp(x, lo, hi), values(x_shape, "grid_a", seed),
                    values(lo_shape, "grid_b", seed + 1), values(hi_shape, "grid_c", seed + 2), seed=seed)
    check_gradients(lambda x, lo: x.clamp(min=lo), values(x_shape, "grid_a", seed),
                    values(lo_shape, "grid_b", seed + 1), seed=seed)
    check_gradients(lambda x, hi: x.clamp(max=hi), values(x_shape, "grid_a", seed),
                    values(hi_shape, "grid_c", seed + 2), seed=seed)


@FEW
@given(shapes=TRIPLES, seed=SEEDS)
def test_where_broadcasts_condition_and_both_branches(shapes, seed):
    c_shape, a_shape, b_shape = shapes.input_shapes
    condition = ad.tensor(np.random.default_rng(seed).random(c_shape) > 0.5)
    check_gradients(lambda a, b: ad.where(condition, a, b), values(a_shape, "any", seed),
                    values(b_shape, "any", seed + 1), seed=seed)


# ----------------------------------------------------------------------------------- linear algebra
@st.composite
def matmul_shapes(draw):
    """Operand shapes for matmul: vectors, matrices, and batches whose batch dims broadcast."""
    n, k, m = (draw(st.integers(0, 3)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, min_side=1,
                                                   max_side=3))
    a_batch, b_batch = batch.input_shapes
    a = (k,) if draw(st.booleans()) else a_batch + (n, k)
    b = (k,) if draw(st.booleans()) else b_batch + (k, m)
    return a, b


@FEW
@given(shapes=matmul_shapes(), seed=SEEDS)
def test_matmul_gradient_for_vectors_matrices_and_batches(shapes, seed):
    a_shape, b_shape = shapes
    check_gradients(lambda a, b: a @ b, values(a_shape, "any", seed), values(b_shape, "any", seed + 1),
                    seed=seed)


@FEW
@given(n=st.integers(0, 4), k=st.integers(0, 4), m=st.integers(0, 4), seed=SEEDS)
def test_dot_mv_mm_gradients(n, k, m, seed):
    check_gradients(ad.dot, values((k,), "any", seed), values((k,), "any", seed + 1), seed=seed)
    check_gradients(ad.mv, values((n, k), "any", seed), values((k,), "any", seed + 1), seed=seed)
    check_gradients(ad.mm, values((n, k), "any", seed), values((k, m), "any", seed + 1), seed=seed)
    check_gradients(lambda a, b: ad.outer(a, b), values((n,), "any", seed), values((m,), "any", seed + 1),
                    seed=seed)


# ----------------------------------------------------------------------------------- reductions
@pytest.mark.parametrize("op", ["sum", "mean"])
@FEW
@given(data=st.data(), shape=SHAPES, seed=SEEDS)
def test_sum_and_mean_over_all_dims_tuples_and_keepdim(op, data, shape, seed):
    dims = data.draw(dims_of(len(shape)))
    keepdim = data.draw(st.booleans())
    style = data.draw(st.sampled_from(["method", "function", "positional", "axis"]))
    if op == "mean" and 0 in shape:
        return  # the mean of nothing is nan; there is no input element to differentiate anyway

    def f(x):
        method = getattr(x, op)
        if dims is None:
            return method()
        if style == "method":
            return method(dim=dims, keepdim=keepdim)
        if style == "function":
            return getattr(ad, op)(x, dims, keepdim=keepdim)
        if style == "positional":
            return method(dims, keepdim)
        return method(axis=dims, keepdims=keepdim)

    check_gradients(f, values(shape, "any", seed), seed=seed)


@pytest.mark.parametrize("kind", ["max", "min"])
@FEW
@given(data=st.data(), shape=NONEMPTY, seed=SEEDS)
def test_max_and_min_reductions_full_and_along_a_dim(kind, data, shape, seed):
    x = values(shape, "distinct", seed)
    check_gradients(lambda t: getattr(t, kind)(), x, seed=seed)
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    keepdim = data.draw(st.booleans())
    check_gradients(lambda t: getattr(ad, kind)(t, dim, keepdim=keepdim).values, x, seed=seed)


def test_full_max_splits_the_gradient_between_ties():
    x = ad.tensor([1., 3., 3.], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0., 0.5, 0.5]


@FEW
@given(data=st.data(), shape=NONEMPTY, seed=SEEDS)
def test_norm_gradient(data, shape, seed):
    x = values(shape, "away", seed)
    check_gradients(lambda t: t.norm(), x, seed=seed)
    check_gradients(lambda t: ad.norm(t, p=1), x, seed=seed)
    if len(shape):
        dim = data.draw(st.integers(-len(shape), len(shape) - 1))
        keepdim = data.draw(st.booleans())
        check_gradients(lambda t: t.norm(dim=dim, keepdim=keepdim), x, seed=seed)


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@FEW
@given(data=st.data(), shape=SHAPES, seed=SEEDS)
def test_softmax_and_log_softmax_gradients(op, data, shape, seed):
    dim = data.draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
    check_gradients(lambda t: getattr(t, op)(dim), values(shape, "any", seed), seed=seed)
    check_gradients(lambda t: getattr(ad, op)(t, dim=dim), values(shape, "any", seed), seed=seed)


# ----------------------------------------------------------------------------------- shapes
@FEW
@given(data=st.data(), shape=SHAPES, seed=SEEDS)
def test_reshape_view_and_flatten(data, shape, seed):
    x = values(shape, "any", seed)
    size = int(np.prod(shape))
    target = data.draw(st.sampled_from([(size,), (1, size), (size, 1), (-1,), ()] if size == 1 else
                                       [(size,), (1, size), (size, 1), (-1,), (1, -1)]))
    check_gradients(lambda t: t.reshape(target), x, seed=seed)
    check_gradients(lambda t: t.view(*target), x, seed=seed)
    check_gradients(lambda t: t.flatten() * 1, x, seed=seed)
    if len(shape) >= 2:
        start = data.draw(st.integers(0, len(shape) - 1))
        end = data.draw(st.integers(start, len(shape) - 1))
        check_gradients(lambda t: ad.flatten(t, start, end) * 1, x, seed=seed)


@FEW
@given(data=st.data(), shape=SHAPES, seed=SEEDS)
def test_transpose_T_and_permute(data, shape, seed):
    x = values(shape, "any", seed)
    nd = len(shape)
    check_gradients(lambda t: t.T * 1, x, seed=seed)
    if nd <= 2:
        check_gradients(lambda t: t.t() * 1, x, seed=seed)
    if nd:
        d0, d1 = data.draw(st.integers(-nd, nd - 1)), data.draw(st.integers(-nd, nd - 1))
        check_gradients(lambda t: t.transpose(d0, d1) * 1, x, seed=seed)
        order = data.draw(st.permutations(range(nd)))
        check_gradients(lambda t: t.permute(*order) * 1, x, seed=seed)
    if nd >= 2:
        check_gradients(lambda t: t.mT * 1, x, seed=seed)


@FEW
@given(data=st.data(), shape=SHAPES, seed=SEEDS)
def test_squeeze_unsqueeze_expand(data, shape, seed):
    x = values(shape, "any", seed)
    nd = len(shape)
    check_gradients(lambda t: t.squeeze() * 1, x, seed=seed)
    if nd:
        d = data.draw(st.integers(-nd, nd - 1))
        check_gradients(lambda t: t.squeeze(d) * 1, x, seed=seed)
        ds = tuple(data.draw(st.lists(st.integers(0, nd - 1), min_size=1, unique=True)))
        check_gradients(lambda t: t.squeeze(ds) * 1, x, seed=seed)
    u = data.draw(st.integers(-nd - 1, nd))
    check_gradients(lambda t: t.unsqueeze(u) * 1, x, seed=seed)
    # expand: new leading dims, and every size-1 dim stretched (or kept with -1)
    lead = tuple(data.draw(st.lists(st.integers(0, 3), max_size=2)))
    target = lead + tuple(data.draw(st.integers(0, 3)) if n == 1 else data.draw(st.sampled_from([n, -1]))
                          for n in shape)
    check_gradients(lambda t: t.expand(*target) * 1, x, seed=seed)


@FEW
@given(data=st.data(), shape=AT_LEAST_1D, count=st.integers(1, 3), seed=SEEDS)
def test_cat_and_stack(data, shape, count, seed):
    nd = len(shape)
    dim = data.draw(st.integers(-nd, nd - 1))
    shapes = [tuple(data.draw(st.integers(0, 3)) if i == dim % nd else n for i, n in enumerate(shape))
              for _ in range(count)]
    arrays = [values(s, "any", seed + i) for i, s in enumerate(shapes)]
    check_gradients(lambda *ts: ad.cat(ts, dim=dim), *arrays, seed=seed)
    same = [values(shape, "any", seed + i) for i in range(count)]
    stack_dim = data.draw(st.integers(-nd - 1, nd))
    check_gradients(lambda *ts: ad.stack(list(ts), stack_dim), *same, seed=seed)


# ----------------------------------------------------------------------------------- indexing
@st.composite
def advanced_keys(draw, shape):
    """A key with lists or int tensors (repeats allowed) on leading dims, maybe mixed with a slice."""
    n_indexed = draw(st.integers(1, len(shape)))
    length = draw(st.integers(0, 4))
    parts = []
    for n in shape[:n_indexed]:
        picks = draw(st.lists(st.integers(-n, n - 1), min_size=length, max_size=length))
        parts.append(picks)
    as_tensor = draw(st.booleans())
    parts = [ad.tensor(p, dtype=ad.int64) if as_tensor else p for p in parts]
    if draw(st.booleans()) and n_indexed < len(shape):
        parts = parts + [slice(None)]
    return parts[0] if len(parts) == 1 else tuple(parts)


def forward_steps(key):
    """The key with each slice's step made positive: PyTorch refuses x[::-1] (test_indexing checks it)."""
    def forward(k):
        return slice(k.start, k.stop, -k.step) if isinstance(k, slice) and k.step and k.step < 0 else k
    return tuple(map(forward, key)) if isinstance(key, tuple) else forward(key)


@FEW
@given(data=st.data(), shape=hnp.array_shapes(min_dims=2, max_dims=3, min_side=0, max_side=3), seed=SEEDS)
def test_basic_indexing_ints_slices_none_ellipsis(data, shape, seed):
    key = forward_steps(data.draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True)))
    check_gradients(lambda t: t[key] * 1, values(shape, "any", seed), seed=seed)


@FEW
@given(data=st.data(), n=st.integers(0, 4), seed=SEEDS)
def test_indexing_a_vector_and_a_0d_tensor(data, n, seed):
    key = forward_steps(data.draw(st.slices(n) | st.sampled_from([None, Ellipsis, (None, Ellipsis)])))
    check_gradients(lambda t: t[key] * 1, values((n,), "any", seed), seed=seed)
    if n:
        i = data.draw(st.integers(-n, n - 1))
        check_gradients(lambda t: t[i] * 1, values((n,), "any", seed), seed=seed)
    zero_d_key = data.draw(st.sampled_from([(), None, Ellipsis, (None, None), (Ellipsis, None)]))
    check_gradients(lambda t: t[zero_d_key] * 1, values((), "any", seed), seed=seed)


@FEW
@given(data=st.data(), shape=AT_LEAST_1D, seed=SEEDS)
def test_fancy_indexing_adds_repeated_indices(data, shape, seed):
    key = data.draw(advanced_keys(shape))
    check_gradients(lambda t: t[key] * 1, values(shape, "any", seed), seed=seed)


def test_repeated_index_gradient_adds_up():
    x = ad.tensor([1., 2., 3.], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3., 0., 1.]
    y = ad.tensor([1., 2., 3.], requires_grad=True)
    y[ad.tensor([1, 1])].sum().backward()
    assert y.grad.tolist() == [0., 2., 0.]


@FEW
@given(data=st.data(), shape=SHAPES, seed=SEEDS)
def test_bool_mask_indexing(data, shape, seed):
    prefix = data.draw(st.integers(0, len(shape))) if shape else 0
    mask = ad.tensor(np.random.default_rng(seed).random(shape[:prefix]) > 0.4)
    check_gradients(lambda t: t[mask] * 1, values(shape, "any", seed), seed=seed)
    check_gradients(lambda t: t[t > 0] * 1, values(shape, "away", seed), seed=seed)


# ----------------------------------------------------------------------------------- item assignment
@FEW
@given(data=st.data(), shape=hnp.array_shapes(min_dims=2, max_dims=3, min_side=0, max_side=3), seed=SEEDS)
def test_item_assignment_sends_gradient_to_the_value_and_the_rest(data, shape, seed):
    key = forward_steps(data.draw(hnp.basic_indices(shape, allow_newaxis=False, allow_ellipsis=True)))
    selected = np.zeros(shape)[key].shape
    # the value may itself broadcast into the selected region
    value_shape = data.draw(st.sampled_from([selected, selected[1:], ()]))

    def f(x, v):
        y = x * 1
        y[key] = v * 2
        return y

    check_gradients(f, values(shape, "any", seed), values(value_shape, "any", seed + 1), seed=seed)


@FEW
@given(shape=AT_LEAST_1D, seed=SEEDS)
def test_item_assignment_with_a_mask_and_unique_indices(shape, seed):
    rng = np.random.default_rng(seed)
    mask = ad.tensor(rng.random(shape) > 0.5)
    rows = rng.permutation(shape[0])[: rng.integers(0, shape[0] + 1)].tolist()

    def masked(x):
        y = x * 1
        y[mask] = 0.0
        return y

    def listed(x, v):
        y = x * 1
        y[rows] = v
        return y

    check_gradients(masked, values(shape, "any", seed), seed=seed)
    check_gradients(listed, values(shape, "any", seed), values(shape[1:], "any", seed + 1), seed=seed)


# ----------------------------------------------------------------------------------- in-place on non-leaves
IN_PLACE = {
    "add_": lambda y, v: y.add_(v),
    "sub_": lambda y, v: y.sub_(v),
    "mul_": lambda y, v: y.mul_(v),
    "div_": lambda y, v: y.div_(v),
    "iadd": lambda y, v: y.__iadd__(v),
    "imul": lambda y, v: y.__imul__(v),
    "copy_": lambda y, v: y.copy_(v),
    "add_ alpha": lambda y, v: y.add_(v, alpha=3),
}


@pytest.mark.parametrize("name", IN_PLACE)
@FEW
@given(shapes=PAIRS, seed=SEEDS)
def test_in_place_op_on_a_non_leaf_records_its_gradient(name, shapes, seed):
    x_shape, v_shape = shapes.input_shapes
    if np.broadcast_shapes(x_shape, v_shape) != x_shape:
        x_shape = np.broadcast_shapes(x_shape, v_shape)  # an in-place op cannot grow its target

    def f(x, v):
        y = x.exp()  # a non-leaf that requires grad; exp saves its output, so work on a clone
        y = y.clone()
        IN_PLACE[name](y, v)
        return y * 1

    check_gradients(f, values(x_shape, "any", seed), values(v_shape, "away", seed + 1), seed=seed)


@FEW
@given(shape=SHAPES, seed=SEEDS)
def test_zero_and_fill_cut_the_gradient_of_what_they_overwrite(shape, seed):
    def zeroed(x):
        y = x * 2
        y.zero_()
        return y + x

    def filled(x):
        y = x * 2
        y.fill_(3.0)
        return y * x

    check_gradients(zeroed, values(shape, "any", seed), seed=seed)
    check_gradients(filled, values(shape, "any", seed), seed=seed)


# ----------------------------------------------------------------------------------- compositions
@FEW
@given(shape=NONEMPTY, seed=SEEDS)
def test_a_small_network_loss(shape, seed):
    """A composition the training tests rely on: matmul, broadcasting add, relu, log_softmax, indexing."""
    n = int(np.prod(shape))
    labels = np.random.default_rng(seed).integers(0, 3, n).tolist()

    def loss(x, w1, b1, w2):
        h = (x.reshape(n, 1) @ w1 + b1).relu()
        logp = (h @ w2).log_softmax(dim=1)
        return -logp[list(range(n)), labels].mean()

    check_gradients(loss, values(shape, "any", seed), values((1, 4), "any", seed + 1),
                    values((4,), "away", seed + 2), values((4, 3), "any", seed + 3), seed=seed, rtol=1e-4,
                    atol=1e-5)


def test_chapter_function_of_exercise_log_x2_sin_x_plus_1_over_x():
    # the chapter's exercise: f(x) = log(x^2) sin(x) + 1/x
    f = lambda x: ad.log(x ** 2) * ad.sin(x) + 1 / x  # noqa: E731
    check_gradients(f, np.array([0.5, 1.0, 2.0, -3.0]))
    x = ad.tensor([0.5, 1.0, 2.0, -3.0], dtype=ad.float64, requires_grad=True)
    f(x).sum().backward()
    xs = x.detach().numpy()
    closed_form = 2 / xs * np.sin(xs) + np.log(xs ** 2) * np.cos(xs) - 1 / xs ** 2
    np.testing.assert_allclose(x.grad.numpy(), closed_form, rtol=1e-12)


# ----------------------------------------------------------------------------------- second order
def first_gradient(f, seed):
    """x -> d/dx sum(f(x) * u), computed with create_graph=True so it can be differentiated again.

    All inputs' gradients are flattened into one vector, so one check covers every input."""
    def gradient(*xs):
        xs = [x if x.requires_grad else x.detach().requires_grad_() for x in xs]
        out = f(*xs)
        u = ad.tensor(np.random.default_rng(seed).standard_normal(tuple(out.shape)))
        grads = ad.autograd.grad((out * u).sum(), xs, create_graph=True, allow_unused=True)
        return ad.cat([(g if g is not None else x * 0).reshape(-1) for g, x in zip(grads, xs)])
    return gradient


SECOND_ORDER = {
    "mul": (lambda a, b: a * b * a, [((2, 3), "any"), ((3,), "any")]),
    "div": (lambda a, b: a / b, [((2, 3), "any"), ((3,), "away")]),
    "pow tensor tensor": (lambda a, b: a ** b, [((3,), "pos"), ((3,), "any")]),
    "pow scalar exponent": (lambda a: a ** 3 + a ** 0.5, [((3,), "pos")]),
    "pow scalar base": (lambda a: 2.5 ** a, [((3,), "any")]),
    "scalar minus and over": (lambda a: (2 - a) * (3 / a), [((3,), "away")]),
    "exp log sqrt": (lambda a: ad.exp(a) * ad.log(a) + ad.sqrt(a) * a, [((3,), "pos")]),
    "sin cos": (lambda a: ad.sin(a) * ad.cos(a * 2), [((3,), "any")]),
    "tanh sigmoid": (lambda a: ad.tanh(a) * ad.sigmoid(a), [((2, 2), "any")]),
    "relu abs": (lambda a: ad.relu(a) * a + a.abs() * a, [((4,), "away")]),
    "reciprocal and neg": (lambda a: -a.reciprocal() * a * a, [((3,), "away")]),
    "maximum minimum": (lambda a, b: ad.maximum(a, b) * ad.minimum(a, b) * a,
                        [((3,), "grid_a"), ((3,), "grid_b")]),
    "clamp": (lambda a: a.clamp(-0.5, 0.5) * a, [((4,), "grid_a")]),
    "clamp tensor bounds": (lambda a, lo, hi: ad.clamp(a, lo, hi) * a * lo * hi,
                            [((4,), "grid_a"), ((4,), "grid_b"), ((4,), "grid_c")]),
    "where": (lambda a, b: ad.where(a > b, a * a, b * a), [((3,), "grid_a"), ((3,), "grid_b")]),
    "matmul batched": (lambda a, b: (a @ b) * (a @ b), [((2, 2, 3), "any"), ((3,), "any")]),
    "matmul vector first": (lambda a, b: (a @ b) ** 2, [((3,), "any"), ((2, 3, 2), "any")]),
    "dot mv mm": (lambda a, m: ad.dot(ad.mv(m, a), ad.mv(m, a)) * ad.mm(m, m.T).sum(),
                  [((3,), "any"), ((2, 3), "any")]),
    "sum mean": (lambda a: a.sum(0) * a.mean(1, keepdim=True), [((2, 3), "any")]),
    "max min": (lambda a: a.max() * a.min(1, keepdim=True).values * a, [((2, 3), "distinct")]),
    "norm": (lambda a: a.norm() * a.norm(dim=1, keepdim=True) * a.norm(p=1), [((2, 3), "away")]),
    "softmax": (lambda a: a.softmax(1) * a, [((2, 3), "any")]),
    "log_softmax": (lambda a: a.log_softmax(0) * a, [((2, 3), "any")]),
    "shapes": (lambda a: a.reshape(3, 2).T.unsqueeze(0).expand(2, 2, 3).squeeze().permute(2, 0, 1) * a.T[:, None],
               [((2, 3), "any")]),
    "cat stack": (lambda a, b: ad.cat([a * b, b]) * ad.stack([a, b * b]).sum(), [((3,), "any"), ((3,), "any")]),
    "indexing": (lambda a: a[[0, 0, 1]] * a[a > 0].sum() * a[1:, None, 0].sum(), [((3, 2), "away")]),
    "item assignment": (lambda a, v: _assigned(a, v) * a, [((3, 2), "any"), ((2,), "any")]),
    "in-place on a non-leaf": (lambda a: _in_place(a) * a, [((3,), "any")]),
}


def _assigned(a, v):
    y = a * a
    y[1] = v * v
    y[[0, 2]] = v * a[0]
    return y


def _in_place(a):
    y = a * 1
    y.mul_(a)
    y += a.exp()
    y /= 2
    return y


@pytest.mark.parametrize("name", SECOND_ORDER)
@FEW
@given(seed=SEEDS)
def test_gradient_of_the_gradient_of_every_rule(name, seed):
    """create_graph=True records each rule's vector-Jacobian product; its own gradient must be right too."""
    f, specs = SECOND_ORDER[name]
    arrays = [values(shape, kind, seed + i) for i, (shape, kind) in enumerate(specs)]
    check_gradients(first_gradient(f, seed), *arrays, seed=seed, record=True, rtol=1e-5, atol=1e-5)
