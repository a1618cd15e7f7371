"""Every rule's JVP against float64 central differences, over random shapes.

One test per entry of ``ops.RULES``: the rule table is iterated, so a new rule without a case here,
or a differentiable input without a JVP, fails. For a random direction ``v`` the tangent that
``func.jvp`` gives must equal (f(x + eps·v) - f(x - eps·v)) / 2eps, measured without forward mode.
Each case also checks that its program really records the rule it is filed under. Hypothesis picks
the shapes (0-d, empty dims and broadcasting included); values come from test_engine_grad's makers,
kept away from the points where an op has no derivative.
"""
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autodiff_nb as ad
from autodiff_nb import func, ops, tape
from autodiff_nb.nn import functional as F
from autodiff_nb.functions import TensorMath
from test_engine_grad import (AT_LEAST_1D, NONEMPTY, PAIRS, SEEDS, SHAPES, TRIPLES, advanced_keys, dims_of,
                              forward_steps, matmul_shapes, values)

FEW = settings(max_examples=int(os.environ.get("ENGINE_GRAD_EXAMPLES", "25")), deadline=None)
EPS = 1e-6


def numeric_jvp(f, arrays, directions, eps=EPS):
    """(f(x + eps v) - f(x - eps v)) / 2 eps, in float64, with no dual level open."""
    def at(sign):
        with ad.no_grad():
            out = f(*[ad.tensor(a + sign * eps * v) for a, v in zip(arrays, directions)])
        return np.asarray(out.numpy(), dtype=np.float64)
    return (at(1) - at(-1)) / (2 * eps)


def check_jvp(f, *arrays, seed=0, rtol=1e-5, atol=1e-6, eps=EPS):
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    rng = np.random.default_rng(seed)
    directions = [rng.standard_normal(a.shape) for a in arrays]
    out, tangent = func.jvp(f, tuple(ad.tensor(a) for a in arrays), tuple(ad.tensor(v) for v in directions))
    assert tangent.shape == out.shape and tangent.dtype == out.dtype
    np.testing.assert_allclose(tangent.numpy(), numeric_jvp(f, arrays, directions, eps), rtol=rtol, atol=atol)


def rules_recorded(f, *arrays):
    leaves = [ad.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = f(*leaves)
    return {node.rule for node in tape.backward_order([out.grad_fn]) if hasattr(node, "rule")} if out.grad_fn else set()


# ----------------------------------------------------------------------------------- the cases
# key of ops.RULES -> case(draw, seed) -> (f, arrays, check_jvp options)
def elementwise(f, *kinds):
    def case(draw, seed):
        shapes = draw(TRIPLES if len(kinds) == 3 else PAIRS).input_shapes if len(kinds) > 1 else [draw(SHAPES)]
        return f, [values(s, k, seed + i) for i, (s, k) in enumerate(zip(shapes, kinds))], {}
    return case


def reduction(op):
    def case(draw, seed):
        shape = draw(SHAPES)
        dims, keepdim = draw(dims_of(len(shape))), draw(st.booleans())
        if op == "mean" and 0 in shape:
            shape = tuple(n or 1 for n in shape)
        return (lambda x: getattr(x, op)(dims, keepdim) if dims is not None else getattr(x, op)()), \
            [values(shape, "any", seed)], {}
    return case


def select_reduction(op):
    def case(draw, seed):
        shape = draw(NONEMPTY)
        if draw(st.booleans()):
            return (lambda x: getattr(x, op)()), [values(shape, "distinct", seed)], {}
        dim = draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
        keepdim = draw(st.booleans())
        return (lambda x: getattr(ad, op)(x, dim, keepdim=keepdim).values), [values(shape, "distinct", seed)], {}
    return case


def norm_case(draw, seed):
    shape = draw(NONEMPTY)
    p = draw(st.sampled_from([1, 2]))
    dim = draw(st.sampled_from([None] + list(range(len(shape)))))
    keepdim = draw(st.booleans())
    return (lambda x: ad.norm(x, p=p, dim=dim, keepdim=keepdim)), [values(shape, "away", seed)], {}


def softmax_case(op):
    def case(draw, seed):
        shape = draw(SHAPES)
        dim = draw(st.integers(-max(len(shape), 1), max(len(shape), 1) - 1))
        return (lambda x: getattr(x, op)(dim)), [values(shape, "any", seed)], {}
    return case


def matmul_case(draw, seed):
    a, b = draw(matmul_shapes())
    if len(a) < 3 and len(b) < 3:  # 1-D and 2-D operands run dot, mv or mm: give one a batch
        a = (2,) + (a if len(a) == 2 else (1,) + a)
    return (lambda x, y: x @ y), [values(a, "any", seed), values(b, "any", seed + 1)], {}


def linalg_case(op):
    def case(draw, seed):
        n, k, m = (draw(st.integers(0, 3)) for _ in range(3))
        shapes = {"dot": ((k,), (k,)), "mv": ((n, k), (k,)), "mm": ((n, k), (k, m))}[op]
        return getattr(ad, op), [values(s, "any", seed + i) for i, s in enumerate(shapes)], {}
    return case


def reshape_case(draw, seed):
    shape = draw(SHAPES)
    size = int(np.prod(shape))
    target = draw(st.sampled_from([(size,), (1, size), (size, 1), (-1,)]))
    return (lambda x: x.reshape(target)), [values(shape, "any", seed)], {}


def permute_case(draw, seed):
    shape = draw(SHAPES)
    order = draw(st.permutations(range(len(shape))))
    return (lambda x: x.permute(*order) if order else x.T), [values(shape, "any", seed)], {}


def expand_case(draw, seed):
    shape = draw(SHAPES)
    lead = tuple(draw(st.lists(st.integers(0, 3), max_size=2)))
    target = lead + tuple(draw(st.integers(0, 3)) if n == 1 else n for n in shape)
    return (lambda x: x.expand(*target)), [values(shape, "any", seed)], {}


def cat_case(draw, seed):
    shape = draw(AT_LEAST_1D)
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    count = draw(st.integers(1, 3))
    shapes = [tuple(draw(st.integers(0, 3)) if i == dim % len(shape) else n for i, n in enumerate(shape))
              for _ in range(count)]
    return (lambda *ts: ad.cat(ts, dim=dim)), [values(s, "any", seed + i) for i, s in enumerate(shapes)], {}


def stack_case(draw, seed):
    shape = draw(SHAPES)
    dim = draw(st.integers(-len(shape) - 1, len(shape)))
    count = draw(st.integers(1, 3))
    return (lambda *ts: ad.stack(ts, dim)), [values(shape, "any", seed + i) for i in range(count)], {}


def index_case(draw, seed):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    if draw(st.booleans()) and 0 not in shape:
        key = draw(advanced_keys(shape))
    else:
        key = forward_steps(draw(hnp.basic_indices(shape, allow_newaxis=True, allow_ellipsis=True)))
    return (lambda x: x[key]), [values(shape, "any", seed)], {}


def scatter_case(draw, seed):
    n = draw(st.integers(1, 4))
    key = (draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=4)),)
    return (lambda g: TensorMath.scatter(g, (n,), key)), [values((len(key[0]),), "any", seed)], {}


def setitem_case(draw, seed):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    key = forward_steps(draw(hnp.basic_indices(shape, allow_newaxis=False, allow_ellipsis=True)))
    selected = np.zeros(shape)[key].shape
    value_shape = draw(st.sampled_from([selected, selected[1:], ()]))

    def f(x, v):
        y = x * 1
        y[key] = v * 2
        return y
    return f, [values(shape, "any", seed), values(value_shape, "any", seed + 1)], {}


def in_place(kind):
    def case(draw, seed):
        shape = draw(SHAPES)

        def f(x, v):
            y = x * 2
            if kind == "fill":
                y.fill_(3.0)
            else:
                y.copy_(v)
            return y * x
        return f, [values(shape, "any", seed), values(shape, "any", seed + 1)], {}
    return case


def unary(f, kind="any"):
    def case(draw, seed):
        return f, [values(draw(SHAPES), kind, seed)], {}
    return case


def view_changed_in_place(draw, seed):
    """``y[key] *= v``: an in-place op through a view runs as_strided on the base and copy_slices."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
    key = forward_steps(draw(hnp.basic_indices(shape, allow_newaxis=False, allow_ellipsis=True)))
    region = np.zeros(shape)[key].shape

    def f(x, v):
        y = x * 1
        z = y[key]
        z.mul_(v)
        return y * 1
    return f, [values(shape, "any", seed), values(region, "any", seed + 1)], {}


def along_a_dim(f, shapes=AT_LEAST_1D, kind="any"):
    """``f(x, dim)`` for a random dim of a random shape."""
    def case(draw, seed):
        shape = draw(shapes)
        dim = draw(st.integers(-len(shape), len(shape) - 1))
        return (lambda x: f(x, dim)), [values(shape, kind, seed)], {}
    return case


def with_zeros(f, shapes=AT_LEAST_1D):
    """``f(x, dim)`` (dim None: a full reduction) on values where some entries are exactly 0, half the
    time: one zero, or several, is where a product's derivative needs its exact formula."""
    def case(draw, seed):
        shape = draw(shapes)
        dim = draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
        x = values(shape, "any", seed)
        if draw(st.booleans()):
            x[np.random.default_rng(seed).random(shape) < 0.4] = 0.0
        return (lambda v: f(v, dim)), [x], {}
    return case


def spread_case(op):
    def case(draw, seed):
        shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=4))
        dims, keepdim, correction = draw(dims_of(len(shape))), draw(st.booleans()), draw(st.sampled_from([0, 1]))
        if dims == []:
            dims = None
        return (lambda x: getattr(x, op)(dims, correction=correction, keepdim=keepdim)), [values(shape, "any", seed)], {}
    return case


def logsumexp_case(draw, seed):
    shape = draw(AT_LEAST_1D)
    dim, keepdim = draw(st.integers(-len(shape), len(shape) - 1)), draw(st.booleans())
    return (lambda x: ad.logsumexp(x, dim, keepdim=keepdim)), [values(shape, "any", seed)], {}


def masked_fill_case(draw, seed):
    shape = draw(SHAPES)
    mask = ad.tensor(np.random.default_rng(seed).random(shape) > 0.5)
    return (lambda x: x.masked_fill(mask, -1.5)), [values(shape, "any", seed)], {}


def bmm_case(draw, seed):
    b, n, k, m = (draw(st.integers(0, 3)) for _ in range(4))
    return ad.bmm, [values((b, n, k), "any", seed), values((b, k, m), "any", seed + 1)], {}


def repeat_case(draw, seed):
    shape = draw(SHAPES)
    repeats = tuple(draw(st.lists(st.integers(0, 3), min_size=len(shape), max_size=len(shape) + 2)))
    return (lambda x: x.repeat(*repeats) if repeats else x.repeat(())), [values(shape, "any", seed)], {}


def addmm_case(draw, seed):
    n, k, m = (draw(st.integers(0, 3)) for _ in range(3))
    bias = draw(st.sampled_from([(n, m), (m,), (1, m), ()]))
    return ad.addmm, [values(bias, "any", seed), values((n, k), "any", seed + 1), values((k, m), "any", seed + 2)], {}


def loss_case(name):
    def case(draw, seed):
        reduction = draw(st.sampled_from(["none", "sum", "mean"]))
        n, c = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        if name == "mse_loss":
            return (lambda a, b: F.mse_loss(a, b, reduction=reduction)), \
                [values((n, c), "any", seed), values((n, c), "any", seed + 1)], {}
        # one sample (C,), a batch (N, C), or classes on dim 1 of (N, C, d1) / (N, C, d1, d2); some targets
        # ignored, and per-class weights or none
        shape = draw(st.sampled_from([(c,), (n, c), (n, c, 3), (n, c, 2, 3)]))
        rng = np.random.default_rng(seed)
        labels = rng.integers(0, c, shape[:1] + shape[2:] if len(shape) > 1 else ())
        labels = np.where(rng.random(labels.shape) < 0.2, -100, labels)
        weight = draw(st.sampled_from([None, ad.tensor(rng.uniform(0.5, 2.0, c))]))
        target = ad.tensor(labels)
        return (lambda x: F.nll_loss(x, target, weight=weight, reduction=reduction)), [values(shape, "any", seed)], {}
    return case


CASES = {
    "add": elementwise(lambda a, b: a + b, "any", "any"),
    "sub": elementwise(lambda a, b: a - b, "any", "any"),
    "rsub": unary(lambda x: 2 - x),
    "mul": elementwise(lambda a, b: a * b, "any", "any"),
    "div": elementwise(lambda a, b: a / b, "any", "away"),
    "remainder": elementwise(lambda a, b: a % b, "grid_a", "away"),
    "reciprocal": unary(lambda x: 3 / x, "away"),
    "pow": elementwise(lambda a, b: a ** b + a ** 3 + 2.5 ** b, "pos", "any"),
    "neg": unary(lambda x: -x),
    "sign": unary(lambda x: x.sign() * x, "away"),
    "abs": unary(lambda x: x.abs(), "away"),
    "exp": unary(lambda x: x.exp()),
    "log": unary(lambda x: x.log(), "pos"),
    "sqrt": unary(lambda x: x.sqrt(), "pos"),
    "sin": unary(lambda x: x.sin()),
    "cos": unary(lambda x: x.cos()),
    "tanh": unary(lambda x: x.tanh()),
    "sigmoid": unary(lambda x: x.sigmoid()),
    "relu": unary(lambda x: x.relu(), "away"),
    "maximum": elementwise(ad.maximum, "grid_a", "grid_b"),
    "minimum": elementwise(ad.minimum, "grid_a", "grid_b"),
    "clamp": unary(lambda x: x.clamp(-0.5, 0.5), "grid_a"),
    "clamp_tensor": elementwise(lambda x, lo, hi: ad.clamp(x, lo, hi), "grid_a", "grid_b", "grid_c"),
    "where": elementwise(lambda a, b: ad.where(a > b, a, b), "grid_a", "grid_b"),
    "dot": linalg_case("dot"),
    "mv": linalg_case("mv"),
    "mm": linalg_case("mm"),
    "matmul": matmul_case,
    "sum": reduction("sum"),
    "mean": reduction("mean"),
    "max": select_reduction("max"),
    "min": select_reduction("min"),
    "norm": norm_case,
    "softmax": softmax_case("softmax"),
    "log_softmax": softmax_case("log_softmax"),
    "reshape": reshape_case,
    "permute": permute_case,
    "expand": expand_case,
    "cat": cat_case,
    "stack": stack_case,
    "index": index_case,
    "scatter": scatter_case,
    "setitem": setitem_case,
    "fill": in_place("fill"),
    "copy": in_place("copy"),
    "clone": unary(lambda x: x.clone()),
    "contiguous": lambda draw, seed: (lambda x: x.T.contiguous(),  # a transpose is not stored row by row
                                      [values(draw(hnp.array_shapes(min_dims=2, max_dims=3, min_side=2, max_side=3)),
                                              "any", seed)], {}),
    "to": unary(lambda x: x.to(ad.float32)),
    "as_strided": view_changed_in_place,
    "copy_slices": view_changed_in_place,
    "cumsum": along_a_dim(ad.cumsum),
    "reverse_cumsum": along_a_dim(lambda x, dim: ops.apply(ops.RULES["reverse_cumsum"], x, dim=dim)),
    "cumprod": with_zeros(lambda x, dim: ad.cumprod(x, 0 if dim is None else dim)),
    "prod": with_zeros(lambda x, dim: x.prod() if dim is None else x.prod(dim, keepdim=dim % 2 == 0)),
    "var": spread_case("var"),
    "std": spread_case("std"),
    "logsumexp": logsumexp_case,
    "masked_fill": masked_fill_case,
    "bmm": bmm_case,
    "repeat": repeat_case,
    "addmm": addmm_case,
    "nll_loss": loss_case("nll_loss"),
    "mse_loss": loss_case("mse_loss"),
}
LOOSE = {"to": dict(rtol=1e-4, atol=1e-5, eps=1e-2)}  # a float32 output: a float64 difference of 1e-6 is noise


@pytest.mark.parametrize("key", list(ops.RULES))
def test_every_rule_has_a_jvp_for_each_input_with_a_vjp(key):
    rule = ops.RULES[key]
    for name, vjp, jvp in zip(rule.input_names, rule.vjps, rule.jvps):
        assert (vjp is None) == (jvp is None), f"{key}.{name}: a VJP without a JVP, or the reverse"
        if jvp is not None:
            assert rule.jvp_words[rule.input_names.index(name)], f"{key}.{name}: a JVP without words"


@pytest.mark.parametrize("key", list(ops.RULES))
@FEW
@given(data=st.data(), seed=SEEDS)
def test_every_rules_jvp_matches_central_differences(key, data, seed):
    assert key in CASES, f"rule {key!r} has no JVP case here: add one to CASES"
    f, arrays, options = CASES[key](data.draw, seed)
    assert ops.RULES[key] in rules_recorded(f, *arrays), f"the case for {key!r} does not run that rule"
    check_jvp(f, *arrays, seed=seed, **{**options, **LOOSE.get(key, {})})
