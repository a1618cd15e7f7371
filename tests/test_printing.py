"""tensor_repr must print exactly what PyTorch's repr(tensor) prints.

The literal cases run everywhere; the property tests (marked ``torch``) compare
against PyTorch itself through conftest's ``torch`` fixture, which skips without
it, except in CI where a missing PyTorch is an error.
"""
import contextlib
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff_nb.printing import get_printoptions, set_printoptions, tensor_repr

# Raise for a deeper local run, e.g. PRINTING_EXAMPLES=5000.
EXAMPLES = int(os.environ.get("PRINTING_EXAMPLES", "400"))

NAN, INF = float("nan"), float("inf")
FLOATS = (np.float16, np.float32, np.float64)
INTS = (np.int8, np.int16, np.int32, np.int64, np.uint8)
DTYPES = FLOATS + INTS + (np.bool_,)


@contextlib.contextmanager
def printoptions(**options):
    saved = get_printoptions()
    set_printoptions(**options)
    try:
        yield
    finally:
        set_printoptions(**saved)


def f32(values):
    return np.array(values, dtype=np.float32)


LITERAL_CASES = [
    # The examples the chapters show.
    (np.arange(4, dtype=np.float32), {}, "tensor([0., 1., 2., 3.])"),
    (f32(28.0), {"grad_fn": "MulBackward0"}, "tensor(28., grad_fn=<MulBackward0>)"),
    (f32([0, 4, 8, 12]), {}, "tensor([ 0.,  4.,  8., 12.])"),
    (np.ones(4, dtype=bool), {}, "tensor([True, True, True, True])"),
    (np.array(True), {}, "tensor(True)"),
    (f32([0.1, 0.5]), {}, "tensor([0.1000, 0.5000])"),
    (f32([0.1408, -0.1493]), {}, "tensor([ 0.1408, -0.1493])"),
    (np.array([False, True]), {}, "tensor([False,  True])"),
    (f32(-6.5193e-09), {"grad_fn": "MeanBackward0"}, "tensor(-6.5193e-09, grad_fn=<MeanBackward0>)"),
    # Scientific notation, and nan/inf padded to the shared width.
    (f32([1e-5, 1.0, NAN, -INF]), {}, "tensor([1.0000e-05, 1.0000e+00,        nan,       -inf])"),
    (f32([0.5, 2e8]), {}, "tensor([5.0000e-01, 2.0000e+08])"),
    (f32([123456789.0, 1.0]), {}, "tensor([1.2346e+08, 1.0000e+00])"),
    # Zeros, nan and inf do not count toward the width.
    (f32([0.0, NAN, -INF]), {}, "tensor([0., nan, -inf])"),
    (np.array([1.5, NAN], dtype=np.float16), {"dtype_suffix": "torch.float16"},
     "tensor([1.5000,    nan], dtype=torch.float16)"),
    (f32([-0.0, 1.0]), {}, "tensor([-0., 1.])"),
    (f32([[-0.0, 2.5]]), {}, "tensor([[-0.0000, 2.5000]])"),
    (np.array([[1, -20], [300, 4]], dtype=np.int32), {"dtype_suffix": "torch.int32"},
     "tensor([[  1, -20],\n        [300,   4]], dtype=torch.int32)"),
    # Blank lines between blocks: one per dimension beyond the second.
    (np.arange(12, dtype=np.float32).reshape(2, 2, 1, 3), {},
     "tensor([[[[ 0.,  1.,  2.]],\n\n"
     "         [[ 3.,  4.,  5.]]],\n\n\n"
     "        [[[ 6.,  7.,  8.]],\n\n"
     "         [[ 9., 10., 11.]]]])"),
    # Summarized: the width comes from the shown corners only.
    (np.arange(2000), {}, "tensor([   0,    1,    2,  ..., 1997, 1998, 1999])"),
    (np.arange(1200).reshape(40, 30), {},
     "tensor([[   0,    1,    2,  ...,   27,   28,   29],\n"
     "        [  30,   31,   32,  ...,   57,   58,   59],\n"
     "        [  60,   61,   62,  ...,   87,   88,   89],\n"
     "        ...,\n"
     "        [1110, 1111, 1112,  ..., 1137, 1138, 1139],\n"
     "        [1140, 1141, 1142,  ..., 1167, 1168, 1169],\n"
     "        [1170, 1171, 1172,  ..., 1197, 1198, 1199]])"),
    # A wrapped row, and suffixes that no longer fit after it.
    (np.linspace(-1, 1, 18), {"dtype_suffix": "torch.float64", "requires_grad": True},
     "tensor([-1.0000, -0.8824, -0.7647, -0.6471, -0.5294, -0.4118, -0.2941, -0.1765,\n"
     "        -0.0588,  0.0588,  0.1765,  0.2941,  0.4118,  0.5294,  0.6471,  0.7647,\n"
     "         0.8824,  1.0000], dtype=torch.float64, requires_grad=True)"),
    (np.arange(8, dtype=np.float64) * 1e-3 + 1, {"dtype_suffix": "torch.float64", "grad_fn": "MulBackward0"},
     "tensor([1.0000, 1.0010, 1.0020, 1.0030, 1.0040, 1.0050, 1.0060, 1.0070],\n"
     "       dtype=torch.float64, grad_fn=<MulBackward0>)"),
    # Empty tensors name their shape unless 1-D, and any dtype but float32.
    (np.zeros(0, dtype=np.float32), {}, "tensor([])"),
    (np.zeros((0, 3), dtype=np.float32), {}, "tensor([], size=(0, 3))"),
    (np.zeros((2, 0, 3), dtype=bool), {}, "tensor([], size=(2, 0, 3), dtype=torch.bool)"),
    (np.zeros(0, dtype=np.int64), {}, "tensor([], dtype=torch.int64)"),
    (np.zeros(0, dtype=np.float64), {"dtype_suffix": "torch.float64"}, "tensor([], dtype=torch.float64)"),
    (np.zeros(0, dtype=np.float32), {"requires_grad": True}, "tensor([], requires_grad=True)"),
]


@pytest.mark.parametrize(("data", "kwargs", "expected"), LITERAL_CASES)
def test_literal(data, kwargs, expected):
    assert tensor_repr(data, **kwargs) == expected


def test_grad_fn_wins_over_requires_grad():
    assert tensor_repr(f32(1.0), grad_fn="AddBackward0", requires_grad=True) == "tensor(1., grad_fn=<AddBackward0>)"


def test_printoptions():
    with printoptions(precision=2):
        assert tensor_repr(f32([1.12345])) == "tensor([1.12])"
    with printoptions(threshold=5):
        assert tensor_repr(np.arange(10)) == "tensor([0, 1, 2,  ..., 7, 8, 9])"
    with printoptions(edgeitems=0):
        assert tensor_repr(np.arange(3.0, dtype=np.float32)) == "tensor([0., 1., 2.], size=(3,))"
        assert tensor_repr(np.zeros((40, 40), dtype=np.float32)) == "tensor([...], size=(40, 40))"
    with printoptions(sci_mode=False):
        assert tensor_repr(f32([1e-5, 1.0])) == "tensor([0.0000, 1.0000])"
    assert get_printoptions() == {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80,
                                  "sci_mode": None}


def test_sci_mode_resets_when_omitted():
    with printoptions():
        set_printoptions(sci_mode=True)
        set_printoptions(precision=4)
        assert get_printoptions()["sci_mode"] is None


# ---------------------------------------------------------------- against PyTorch itself


def _float_elements():
    """Value families whose mixtures reach every formatting mode."""
    return {
        "whole": st.integers(-2000, 2000).map(float),
        "big_whole": st.integers(-(10**10), 10**10).map(float),
        "unit": st.floats(-1, 1),
        "moderate": st.floats(-1e4, 1e4),
        "tiny": st.floats(-1e-3, 1e-3),
        "huge": st.floats(-1e12, 1e12),
        "any": st.floats(allow_nan=True, allow_infinity=True),
        "special": st.sampled_from([0.0, -0.0, NAN, INF, -INF, 1.0, -1.0, 0.5]),
        # Values that land on the edge of a rounding step, where widths change.
        "rounding": st.sampled_from([9.99995, 0.99995, 99999.5, 0.00010, 0.000099999, 1e8, 1.00001e8, 999.9999]),
    }


def _float_bulk(rng, family, n):
    """The same families drawn in bulk from a seed, for arrays too large to build element by element."""
    specials = [0.0, -0.0, NAN, INF, -INF, 1.0, -1.0, 0.5]
    sign = rng.choice([-1.0, 1.0], n)
    return {
        "whole": lambda: rng.integers(-2000, 2001, n).astype(float),
        "big_whole": lambda: rng.integers(-(10**10), 10**10, n).astype(float),
        "unit": lambda: rng.uniform(-1, 1, n),
        "moderate": lambda: rng.normal(0, 1, n) * 10.0 ** rng.integers(-2, 5),
        "tiny": lambda: rng.uniform(-1e-3, 1e-3, n),
        "huge": lambda: rng.uniform(-1e12, 1e12, n),
        "any": lambda: sign * 10.0 ** rng.uniform(-45, 45, n),
        "special": lambda: rng.choice(specials, n),
        "rounding": lambda: rng.choice([9.99995, 0.99995, 99999.5, 0.00010, 1e8, 999.9999], n),
    }[family]()


@st.composite
def shapes(draw):
    kind = draw(st.sampled_from(["small", "small", "row", "big"]))
    if kind == "small":  # includes 0-d and empty
        return tuple(draw(st.lists(st.integers(0, 6), max_size=4)))
    if kind == "row":  # long enough to wrap at 80 columns
        return tuple(draw(st.lists(st.integers(1, 3), max_size=2))) + (draw(st.integers(7, 120)),)
    dims = draw(st.lists(st.integers(1, 2000), min_size=1, max_size=4))
    while math.prod(dims) > 100_000:  # keep each example quick
        dims[dims.index(max(dims))] //= 2
    dims[0] = max(dims[0], 1000 // math.prod(dims[1:]) + 1)  # past the 1000-element threshold
    return tuple(dims)


@st.composite
def arrays(draw):
    dtype = np.dtype(draw(st.sampled_from(DTYPES)))
    shape = draw(shapes())
    n = math.prod(shape)
    small = n <= 64
    if dtype.kind == "f":
        families = draw(st.lists(st.sampled_from(sorted(_float_elements())), min_size=1, max_size=3, unique=True))
        if small:
            element = st.one_of(*[_float_elements()[f] for f in families])
            values = np.array(draw(st.lists(element, min_size=n, max_size=n)), dtype=np.float64)
        else:
            rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
            pool = np.stack([_float_bulk(rng, f, n) for f in families])
            values = pool[rng.integers(0, len(families), n), np.arange(n)]
        with np.errstate(over="ignore"):  # huge values become inf in float16, in both libraries alike
            return values.astype(dtype).reshape(shape)
    if dtype.kind == "b":
        if small:
            return np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool).reshape(shape)
        return np.random.default_rng(draw(st.integers(0, 2**32 - 1))).integers(0, 2, n).astype(bool).reshape(shape)
    info = np.iinfo(dtype)
    lo, hi = draw(st.sampled_from([(max(info.min, -9), 9), (max(info.min, -1000), min(info.max, 1000)),
                                   (info.min, info.max)]))
    if small:
        ints = draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n))
        return np.array(ints, dtype=dtype).reshape(shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return rng.integers(lo, hi, n, dtype=dtype, endpoint=True).reshape(shape)


def _torch_repr(torch, data, autograd):
    """PyTorch's repr, and the arguments our caller would pass for the same tensor."""
    t = torch.from_numpy(data.copy())
    kwargs = {}
    if t.dtype not in (torch.float32, torch.int64, torch.bool):
        kwargs["dtype_suffix"] = str(t.dtype)
    if autograd == "requires_grad":
        t.requires_grad_()
        kwargs["requires_grad"] = True
    elif autograd == "grad_fn":
        t = t.requires_grad_() * 1
        kwargs["grad_fn"] = "MulBackward0"
    return repr(t), kwargs


def _check(torch, data, autograd):
    if data.dtype.kind != "f":
        autograd = None  # only floating tensors can require grad
    expected, kwargs = _torch_repr(torch, data, autograd)
    got = tensor_repr(data, **kwargs)
    assert got == expected, f"\n{data.dtype} {data.shape} {kwargs}\nours:\n{got}\ntorch:\n{expected}"


@pytest.mark.torch
@settings(max_examples=EXAMPLES, deadline=None)
@given(data=arrays(), autograd=st.sampled_from([None, "requires_grad", "grad_fn"]))
def test_matches_torch(torch, data, autograd):
    _check(torch, data, autograd)


@pytest.mark.torch
@settings(max_examples=EXAMPLES, deadline=None)
@given(
    data=arrays(),
    autograd=st.sampled_from([None, "requires_grad", "grad_fn"]),
    options=st.fixed_dictionaries({
        "precision": st.integers(0, 8),
        "threshold": st.sampled_from([0, 5, 50, 1000, math.inf]),
        "edgeitems": st.integers(0, 4),
        "linewidth": st.integers(10, 160),
        "sci_mode": st.sampled_from([None, True, False]),
    }),
)
def test_matches_torch_under_printoptions(torch, data, autograd, options):
    torch.set_printoptions(**options)
    try:
        with printoptions(**options):
            _check(torch, data, autograd)
    finally:
        torch.set_printoptions(profile="default")
