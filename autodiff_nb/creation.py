"""Ways to make tensors: ``tensor``, ``arange``, ``zeros``, ``randn`` ... (PyTorch's names and defaults).

Floats default to float32, integers to int64, as in PyTorch, so printed values match the book.
"""
from __future__ import annotations

import builtins
import math

import numpy as np

from . import dtypes, errors
from .tensor import Tensor

class Generator:
    """A source of random numbers (numpy's PCG64), as ``torch.Generator``.

    ``rand``, ``randn``, ``randint``, ``normal``, ``normal_`` and ``uniform_`` draw from the one
    passed as ``generator=``, else from ``default_generator``, which ``manual_seed`` seeds:

    >>> g = Generator().manual_seed(0)
    >>> randn(2, generator=g).equal(randn(2, generator=Generator().manual_seed(0)))
    True
    """

    def __init__(self, device="cpu"):
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))

    def manual_seed(self, seed):
        """Start the sequence again from ``seed``; returns the generator, as PyTorch's does."""
        self._seed = builtins.int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self):
        """Seed from the operating system's entropy; returns the new seed."""
        new = int(np.random.SeedSequence().entropy % 2**63)
        self.manual_seed(new)
        return new

    def initial_seed(self):
        return self._seed

    def __repr__(self) -> str:
        # PyTorch's shows a memory address, which would make notebook outputs differ from run to run
        return f"<autodiff_nb.Generator seed={self._seed}>"


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator so notebooks print the same numbers every run.

    >>> manual_seed(0)
    <autodiff_nb.Generator seed=0>
    """
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from the operating system's entropy; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def rng(generator=None):
    """The numpy random generator behind ``generator`` (the default one when None)."""
    if generator is not None and not isinstance(generator, Generator):
        kind = f"{type(generator).__module__}.{type(generator).__qualname__}"
        raise TypeError(f"generator must be an autodiff_nb.Generator, not {kind}\n"
                        "Make one with autodiff_nb.Generator().manual_seed(0).")
    return (generator or default_generator).rng


def as_tensor_arg(x):
    """Operands of ops: Tensors and Python numbers pass through; arrays and lists become Tensors."""
    t = type(x)
    if t is Tensor or t is builtins.float or t is builtins.int or t is builtins.bool:
        return x
    if isinstance(x, np.bool_):
        return float(x)  # PyTorch reads a numpy bool as a float number: int tensor + np.True_ is float32
    if isinstance(x, np.generic):
        return x.item()  # PyTorch treats numpy scalars as Python numbers (np.float64 subclasses float)
    if isinstance(x, (Tensor, builtins.int, builtins.float)):
        return x
    return tensor(x)


def _finish(arr, dtype, requires_grad):
    if dtype is not None:
        arr = arr.astype(dtypes.as_dtype(dtype).numpy, copy=False)
    t = Tensor._from_array(np.asarray(arr))
    if requires_grad:
        if not t.dtype.is_floating_point:
            raise errors.int_requires_grad(t.dtype)
        t.requires_grad = True
    return t


def _infer_numpy(data, dtype=None):
    """Python data -> numpy array with PyTorch's default dtypes (float32 / int64 / bool).

    With ``dtype`` given the data converts straight to it: ``tensor(0.3, dtype=float64)`` must not
    pass through float32 on the way.
    """
    if dtype is not None and not isinstance(data, Tensor):
        if isinstance(data, (list, tuple)) and any(isinstance(v, Tensor) for v in _flat(data)):
            data = _unwrap(data)
        return _nested_array(data, dtypes.as_dtype(dtype).numpy)
    if isinstance(data, Tensor):
        return data.array.copy()
    if isinstance(data, (np.ndarray, np.generic)):
        return np.array(data)  # numpy data keeps its dtype (np.float64 stays float64), as in PyTorch
    if isinstance(data, (list, tuple)):
        flat = list(_flat(data))
        if any(isinstance(v, Tensor) for v in flat):
            data = _unwrap(data)
        elif any(isinstance(v, np.generic) for v in flat):
            return np.array(data, dtype=_dtype_of_numpy_scalars(flat))
    arr = _nested_array(data)
    if arr.dtype.kind == "f":
        return arr.astype(np.float32)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    if arr.dtype.kind == "b":
        return arr
    raise TypeError(f"Could not infer dtype of {type(data).__name__}\ntensor() takes numbers, nested "
                    "lists of numbers, numpy arrays or tensors.")


def _nested_array(data, dtype=None):
    try:
        return np.array(data, dtype=dtype)
    except ValueError:
        _check_rectangular(data, _first_sizes(data), 0)  # raises PyTorch's error where numpy's is vaguer
        raise


def _first_sizes(data):
    """The shape PyTorch reads from nested lists: the lengths along the first element at each depth."""
    sizes = []
    while isinstance(data, (list, tuple)):
        sizes.append(len(data))
        if not data:
            break
        data = data[0]
    return sizes


def _check_rectangular(data, sizes, dim):
    """PyTorch's checks as it copies nested lists in, with its messages (torch.tensor([[1., 2.], [3.]]))."""
    is_sequence = isinstance(data, (list, tuple))
    if dim == len(sizes):
        if is_sequence:
            raise TypeError(f"must be real number, not {type(data).__name__}\n"
                            "tensor(): every row must hold the same number of values.")
        return
    if not is_sequence:
        raise TypeError("not a sequence\ntensor(): every row must hold the same number of values.")
    if len(data) != sizes[dim]:
        raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(data)})\n"
                         f"tensor(): the first row at dim {dim} has {sizes[dim]} values and this one "
                         f"{len(data)}; a tensor is rectangular, so pad the rows to one length.")
    for item in data:
        _check_rectangular(item, sizes, dim + 1)


def _dtype_of_numpy_scalars(flat):
    """PyTorch's dtype for a list holding numpy scalars: the highest kind wins (bool < int < float),
    and inside it numpy's promotion of its members, a Python float counting as float32 and a Python
    int as int64: [np.float32(1.5), 2.0] is float32, [np.float64(1.5), 2.0] float64."""
    best, members = -1, []
    for v in flat:
        dt = dtypes.from_numpy(v.dtype) if isinstance(v, np.generic) else \
            dtypes.DEFAULT_FOR_KIND[dtypes.scalar_kind(v)]
        if dt._kind > best:
            best, members = dt._kind, []
        if dt._kind == best:
            members.append(dt.numpy)
    return np.result_type(*members)


def _flat(data):
    for v in data:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def _unwrap(data):
    if isinstance(data, (list, tuple)):
        return [_unwrap(v) for v in data]
    return data.item() if isinstance(data, Tensor) else data


def tensor(data, *, dtype=None, requires_grad=False, device=None):
    """A new tensor holding a copy of ``data``: ``torch.tensor([1., 2.])``."""
    return _finish(_infer_numpy(data, dtype), dtype, requires_grad)


def as_tensor(data, dtype=None, device=None):
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtypes.as_dtype(dtype))
    if isinstance(data, np.ndarray):
        return _finish(data, dtype, False)
    return tensor(data, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (changes to one show in the other)."""
    dtypes.from_numpy(array.dtype)  # refuses unsupported dtypes with PyTorch's message
    return Tensor._from_array(array)


def _size(size, kw_size=None):
    if kw_size is not None:
        size = (kw_size,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(builtins.int(s) for s in size)


def _np_dtype(dtype, default=np.float32):
    return default if dtype is None else dtypes.as_dtype(dtype).numpy


def zeros(*size, dtype=None, requires_grad=False, device=None, **kw):
    """``zeros(2, 3)`` or ``zeros((2, 3))`` or ``zeros(size=(2, 3))``."""
    return _finish(np.zeros(_size(size, kw.get("size")), _np_dtype(dtype)), None, requires_grad)


def ones(*size, dtype=None, requires_grad=False, device=None, **kw):
    return _finish(np.ones(_size(size, kw.get("size")), _np_dtype(dtype)), None, requires_grad)


def empty(*size, dtype=None, requires_grad=False, device=None, **kw):
    return zeros(*size, dtype=dtype, requires_grad=requires_grad, **kw)


def full(size, fill_value, *, dtype=None, requires_grad=False, device=None):
    if dtype is None:
        dtype = dtypes.DEFAULT_FOR_KIND[dtypes.scalar_kind(fill_value)]
    arr = np.full(_size((size,)), fill_value, dtypes.as_dtype(dtype).numpy)
    return _finish(arr, None, requires_grad)


def _like(t, dtype):
    return t.array.dtype if dtype is None else dtypes.as_dtype(dtype).numpy


def zeros_like(t, *, dtype=None, requires_grad=False):
    return _finish(np.zeros(t.array.shape, _like(t, dtype)), None, requires_grad)


def ones_like(t, *, dtype=None, requires_grad=False):
    return _finish(np.ones(t.array.shape, _like(t, dtype)), None, requires_grad)


def full_like(t, fill_value, *, dtype=None, requires_grad=False):
    return _finish(np.full(t.array.shape, fill_value, _like(t, dtype)), None, requires_grad)


def rand_like(t, *, dtype=None, requires_grad=False, generator=None):
    return rand(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, generator=generator)


def randn_like(t, *, dtype=None, requires_grad=False, generator=None):
    return randn(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, generator=generator)


def _number(v):
    return v.item() if isinstance(v, Tensor) else v


def arange(start, end=None, step=1, *, dtype=None, requires_grad=False, device=None):
    """``arange(4.0)`` -> tensor([0., 1., 2., 3.]); integer arguments give int64."""
    if end is None:
        start, end = 0, start
    start, end, step = _number(start), _number(end), _number(step)
    if dtype is None:
        floats = isinstance(start, builtins.float) or isinstance(end, builtins.float) or isinstance(step, builtins.float)
        dtype = dtypes.float32 if floats else dtypes.int64
    if step == 0:
        raise RuntimeError("step must be nonzero")
    want = np.dtype(dtypes.as_dtype(dtype).numpy)
    if want.kind != "f":
        return _finish(np.arange(start, end, step, dtype=np.float64).astype(want), None, requires_grad)
    return _finish(_float_range(start, end, step, want), None, requires_grad)


# PyTorch's CPU kernels fill contiguous float tensors a SIMD vector at a time: 32 bytes on this machine's
# AVX2 (torch.backends.cpu.get_cpu_capability()), so 8 float32 or 4 float64 per vector.
_VECTOR_BYTES = 32
# a*b + c rounded once, as the fused multiply-add PyTorch's compiled kernels use: long double holds
# a double times a small integer exactly (64-bit mantissa on x86), then one rounding to double
_WIDE = np.longdouble


_EXACT = {2: 2 ** 11, 4: 2 ** 24, 8: 2 ** 53}  # by itemsize: the whole numbers a float holds exactly


def _whole(x):
    return builtins.float(x).is_integer()


def _fma(a, b, c):
    return (_WIDE(a) * np.asarray(b, _WIDE) + np.asarray(c, _WIDE)).astype(np.float64)


def _float_range(start, end, step, want):
    """PyTorch's arange element for element (RangeFactoriesKernel.cpp): ``start + step * i`` in double,
    except inside each SIMD vector, where element k is the vector's first element, already rounded
    to ``want``, plus ``k * step``; the elements past the last pair of vectors take the plain formula.
    numpy's arange adds a rounded ``step`` instead, so arange(-8., 8., 0.1)[80] was -2.8e-14, not 4.4e-16."""
    if _whole(start) and _whole(step) and abs(start) + abs(end) + abs(step) < _EXACT[want.itemsize]:
        # whole numbers the dtype holds exactly (arange(4.0)): every formula gives the same bits, so
        # numpy's own, at a fifth of the cost of the kernel's emulation below
        return np.arange(start, end, step, dtype=want)
    n = builtins.max(0, math.ceil((end - start) / step))
    lanes = _VECTOR_BYTES // want.itemsize
    i = np.arange(n)
    vectorized = n - n % (2 * lanes)  # the kernel loop takes two vectors at a time
    out = _fma(step, i, start).astype(want)
    first = out[:vectorized:lanes].astype(np.float64)  # each vector's first element, in want's precision
    out[:vectorized] = _fma(step, i[:vectorized] % lanes, np.repeat(first, lanes)).astype(want)
    return out


def linspace(start, end, steps, *, dtype=None, requires_grad=False, device=None):
    """``steps`` evenly spaced values from ``start`` to ``end``, both included, rounded as PyTorch's:
    in the tensor's dtype, the first half counted up from ``start``, the second half down from ``end``
    (so the last element is exactly ``end``)."""
    want, steps = np.dtype(_np_dtype(dtype)), builtins.int(steps)
    if want.kind != "f":
        return _finish(np.linspace(start, end, steps, dtype=np.float64).astype(want), None, requires_grad)
    first, last = want.type(start), want.type(end)
    if steps == 1:
        return _finish(np.array([first]), None, requires_grad)
    step = (last - first) / want.type(builtins.max(steps - 1, 1))
    i = np.arange(steps)
    up = _fma(step, i.astype(want), first)
    down = _fma(-step, (steps - 1 - i).astype(want), last)
    return _finish(np.where(i < steps // 2, up, down).astype(want), None, requires_grad)


def eye(n, m=None, *, dtype=None, requires_grad=False, device=None):
    return _finish(np.eye(n, m, dtype=_np_dtype(dtype)), None, requires_grad)


def rand(*size, dtype=None, requires_grad=False, generator=None, device=None, **kw):
    """Uniform on [0, 1); seed with ``manual_seed`` for repeatable output."""
    arr = rng(generator).random(_size(size, kw.get("size")))
    return _finish(np.asarray(arr).astype(_np_dtype(dtype)), None, requires_grad)


def randn(*size, dtype=None, requires_grad=False, generator=None, device=None, **kw):
    """Standard normal samples: ``randn(size=(), requires_grad=True)`` is a random scalar."""
    arr = rng(generator).standard_normal(_size(size, kw.get("size")))
    return _finish(np.asarray(arr).astype(_np_dtype(dtype)), None, requires_grad)


def randint(low, high=None, size=(), *, dtype=None, requires_grad=False, generator=None, device=None):
    if high is None:
        low, high = 0, low
    arr = rng(generator).integers(low, high, size=_size((size,)))
    return _finish(np.asarray(arr).astype(_np_dtype(dtype, np.int64)), None, requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, dtype=None, requires_grad=False, generator=None, device=None):
    """Samples from N(mean, std²); mean/std may be tensors (then the shape comes from them)."""
    m = mean.array if isinstance(mean, Tensor) else mean
    s = std.array if isinstance(std, Tensor) else std
    shape = _size((size,)) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    arr = rng(generator).normal(m, s, shape)
    return _finish(np.asarray(arr).astype(_np_dtype(dtype)), None, requires_grad)


# ------------------------------------------------------------------ x.new_zeros(...) and friends
# New tensors with x's dtype (PyTorch's Tensor.new_* methods), e.g. zeros for a buffer shaped like a batch.
def new_zeros(x, *size, dtype=None, requires_grad=False, device=None):
    return zeros(*size, dtype=dtype or x.dtype, requires_grad=requires_grad)


def new_ones(x, *size, dtype=None, requires_grad=False, device=None):
    return ones(*size, dtype=dtype or x.dtype, requires_grad=requires_grad)


def new_empty(x, *size, dtype=None, requires_grad=False, device=None):
    return zeros(*size, dtype=dtype or x.dtype, requires_grad=requires_grad)


def new_full(x, size, fill_value, *, dtype=None, requires_grad=False, device=None):
    return full(size, fill_value, dtype=dtype or x.dtype, requires_grad=requires_grad)


def new_tensor(x, data, *, dtype=None, requires_grad=False, device=None):
    """``x.new_tensor([1, 2])``: a copy of ``data`` with ``x``'s dtype (PyTorch ignores data's own dtype)."""
    return tensor(data, dtype=dtype or x.dtype, requires_grad=requires_grad)
