"""PyTorch's indexing on numpy arrays: ``x[key]``, ``x[key] = value`` and the gradient of ``x[key]``.

numpy and PyTorch agree on every key except where they place the dimensions of advanced indices
(lists, integer arrays, masks). PyTorch reads a key from left to right as a chain of views (an integer
selects, a slice slices, None unsqueezes, Ellipsis skips dims) and then runs one advanced indexing on
the view with the index tensors it collected. An integer is a select, never an advanced index, so
``x[0, :, [0, 1]]`` is ``x[0][:, [0, 1]]``, of shape (3, 2); numpy counts the 0 as an advanced index
separated from [0, 1] by the slice and puts the broadcast dims first: (2, 3).

This module follows PyTorch's order: ``plan(shape, key)`` splits a key into a numpy key of basic
parts only (ints, slices, None: a view) and an advanced key of index arrays and full slices, on which
numpy's placement is PyTorch's. Then::

    index(a, key)             is  a[plan.basic][plan.advanced]
    setitem(a, key, value)    writes  a[plan.basic][plan.advanced] = value
    scatter_add(g, shape, key)  adds g into zeros(shape) at the same places (np.add.at)

Errors are PyTorch's (first sentence and exception type), plus one line naming the shapes and the fix.
Only numpy is imported, so the engine's modules can all call this one.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

__all__ = ["normalize_key", "plan", "index", "setitem", "scatter_add", "result_shape", "grad_fn_name"]

_ALL = slice(None)


# ----------------------------------------------------------------------------------- the key
def normalize_key(key):
    """The key with Tensors as numpy arrays (0-d integer ones as ints) and lists as arrays.

    A list that holds a sequence, a Tensor, a slice, None or Ellipsis (and has fewer than 32 items) is
    read as a tuple, as PyTorch still does (with a deprecation warning): ``x[[[0, 1], [1, 0]]]`` is
    ``x[[0, 1], [1, 0]]``. A tuple stays a tuple and a single part stays single, since PyTorch names
    ``x[:]`` (SliceBackward0) and ``x[:,]`` (AliasBackward0) differently.

    >>> normalize_key((0, [0, 1]))
    (0, array([0, 1]))
    """
    if isinstance(key, Plan):  # planned already: its key is normalized
        return key
    if isinstance(key, list) and _list_is_tuple(key):
        warnings.warn("Using a non-tuple sequence for multidimensional indexing is deprecated; "
                      "use x[tuple(seq)] instead of x[seq].", UserWarning, stacklevel=3)
        key = tuple(key)
    if isinstance(key, tuple):
        return tuple(_normalize_part(k) for k in key)
    return _normalize_part(key)


def _list_is_tuple(items):
    # PyTorch's treatSequenceAsTuple (numpy's old heuristic)
    if len(items) >= 32:
        return False
    return any(_tensor_array(k) is not None or isinstance(k, (list, tuple, slice, np.ndarray))
               or k is None or k is Ellipsis for k in items)


def _tensor_array(k):
    """The numpy array of an autodiff_nb Tensor (duck-typed: this module imports no Tensor), else None."""
    array = getattr(k, "array", None) if not isinstance(k, np.ndarray) else None
    return array if isinstance(array, np.ndarray) else None


def _normalize_part(k):
    array = _tensor_array(k)
    if array is not None:
        k = array
    if isinstance(k, np.ndarray) and k.ndim == 0 and k.dtype.kind in "iu" and k.dtype != np.uint8:
        return k.dtype.type(k)  # a 0-d integer tensor selects, as an int does (a numpy int, not a
        # Python int, so that on a 0-d tensor it is "too many indices", as in PyTorch)
    if isinstance(k, range):  # the textbook's y_hat[range(len(y_hat)), y]: PyTorch reads a range as its list
        return np.arange(k.start, k.stop, k.step, dtype=np.int64)
    if isinstance(k, list):
        parts = [_normalize_part(v) for v in k]
        array = np.asarray(parts)
        if array.dtype.kind == "f":
            array = array.astype(np.int64)  # PyTorch reads x[[1.7]] as x[[1]]
        return array if array.size else array.astype(np.int64)  # x[[]] picks nothing, as an int index
    return k


# ----------------------------------------------------------------------------------- the plan
class Plan(NamedTuple):
    """``a[key]`` in PyTorch is ``a[basic][advanced]``: ``basic`` is a numpy key of ints, slices and
    None (a view, ending in Ellipsis so that picking one element is a 0-d view, not a scalar);
    ``advanced`` holds the index arrays and full slices, or is None when the key has none.

    A plan stands in for its key wherever an array of ``of_shape`` is indexed: the engine plans
    ``x[key]`` once, for the forward, the grad_fn's name and the backward's scatter."""
    key: object  # the key, normalized (normalize_key)
    of_shape: tuple  # the shape of the array it indexes
    basic: tuple
    advanced: tuple | None
    view_shape: tuple  # shape of a[basic]
    shape: tuple  # shape of a[key]
    name: str  # PyTorch's grad_fn name for a[key]


def plan(shape, key) -> Plan:
    """Check ``key`` against an array of ``shape`` as PyTorch does, and split it into numpy keys.
    ``key`` may be raw (Tensors, lists), already normalized (``normalize_key``) or a plan (returned
    as it is when it was made for ``shape``).

    >>> p = plan((2, 3, 4), (0, slice(None), [0, 1]))
    >>> p.basic, p.advanced
    ((0, Ellipsis), (slice(None, None, None), array([0, 1])))
    """
    shape = tuple(shape)
    if isinstance(key, Plan):
        if key.of_shape == shape:
            return key
        key = key.key
    key = normalize_key(key)
    single = not isinstance(key, tuple)
    parts = (key,) if single else key
    ndim = len(shape)
    if ndim == 0 and single:
        if isinstance(key, slice):
            _check_step(key)
        _refuse_on_0d(key)
    specified = sum(_dims_taken(k) for k in parts)
    if specified > ndim:
        raise _too_many(ndim, specified, shape)

    basic, view_shape = [], []
    advanced = []  # (position in view_shape, array)
    dim = 0  # the dim of `shape` the next part reads
    name = "SliceBackward0" if single and isinstance(key, slice) else "AliasBackward0"
    for key_dim, k in enumerate(parts):  # PyTorch names a bad select's dim by its place in the key
        if k is None:
            basic.append(None)
            view_shape.append(1)
            name = "UnsqueezeBackward0"
        elif k is Ellipsis:
            skip = ndim - specified
            basic.extend([_ALL] * skip)
            view_shape.extend(shape[dim:dim + skip])
            dim += skip
        elif _is_bool_scalar(k):
            basic.append(None)  # PyTorch: unsqueeze, then index with [0] (True) or [] (False)
            advanced.append((len(view_shape), np.zeros(1 if k else 0, dtype=np.int64)))
            view_shape.append(1)
        elif isinstance(k, (int, np.integer)):
            if dim >= ndim:  # only after a second Ellipsis
                raise _too_many(ndim, specified + 1, shape)
            size = shape[dim]
            if not -size <= k < size:
                raise _out_of_bounds(int(k), key_dim, size, shape)
            basic.append(int(k))
            dim += 1
            name = "SelectBackward0"
        elif isinstance(k, slice):
            _check_step(k)
            if dim >= ndim:
                raise _too_many(ndim, specified + 1, shape)
            basic.append(k)
            size = shape[dim]
            start, stop, step = k.indices(size)
            view_shape.append(len(range(start, stop, step)))
            if not _skipped(k, size):
                name = "SliceBackward0"
            dim += 1
        elif isinstance(k, np.ndarray):
            array = k.astype(bool) if k.dtype == np.uint8 else k  # checked once the views are taken
            if k.dtype == np.uint8:
                warnings.warn("indexing with dtype torch.uint8 is now deprecated, please use a dtype "
                              "torch.bool instead.", UserWarning, stacklevel=3)
            taken = array.ndim if array.dtype == bool else 1
            basic.extend([_ALL] * taken)
            advanced.append((len(view_shape), array))
            view_shape.extend(shape[dim:dim + taken])
            dim += taken
        else:
            raise _bad_part(k)
    of_shape = shape
    view_shape.extend(shape[dim:])
    while basic and basic[-1] == _ALL:  # the Ellipsis covers trailing full slices
        basic.pop()
    basic.append(Ellipsis)
    if not advanced:
        return Plan(key, of_shape, tuple(basic), None, tuple(view_shape), tuple(view_shape), name)
    advanced_key, shape = _advanced_key(advanced, tuple(view_shape))
    return Plan(key, of_shape, tuple(basic), advanced_key, tuple(view_shape), shape, "IndexBackward0")


def _skipped(k, size):
    # PyTorch does not run a slice that starts at 0 (as written, -n is not 0), steps 1 and stops at or
    # past the end
    start = 0 if k.start is None else k.start
    return start == 0 and (k.stop is None or k.stop >= size) and k.step in (None, 1)


def _dims_taken(k):
    # PyTorch's count_specified_dimensions: None, Ellipsis and True/False take no dim of the tensor
    if k is None or k is Ellipsis or _is_bool_scalar(k):
        return 0
    if isinstance(k, np.ndarray) and k.dtype in (np.bool_, np.uint8):
        return k.ndim
    return 1


def _is_bool_scalar(k):
    return isinstance(k, bool) or (isinstance(k, np.ndarray) and k.ndim == 0 and k.dtype in (np.bool_, np.uint8))


def _check_index_dtype(array):
    kind = array.dtype.kind  # PyTorch's long and int (and numpy's unsigned of 32 and 64 bits)
    if not (kind == "b" or (kind in "iu" and array.dtype.itemsize >= 4)):
        raise IndexError(
            "tensors used as indices must be long, int, byte or bool tensors\n"
            f"This index has dtype {array.dtype}: pass integer positions (idx.long()) or a bool mask (idx > 0).")


def _advanced_key(advanced, view_shape):
    """The key of full slices and index arrays for a[basic], and the result's shape; checks masks,
    broadcasting and (when the result has elements: PyTorch reads no index otherwise) bounds."""
    key, next_dim, broadcast, spans = [], 0, [], []
    for _, array in advanced:
        _check_index_dtype(array)
    for position, array in advanced:
        key.extend([_ALL] * (position - next_dim))
        if array.dtype == bool:
            for j, n in enumerate(array.shape):
                if n != view_shape[position + j]:
                    raise _mask_mismatch(array.shape, j, view_shape, position + j)
            broadcast.extend([(int(array.sum()),)] * array.ndim)
            next_dim = position + array.ndim
        else:
            broadcast.append(array.shape)
            next_dim = position + 1
        spans.append((position, next_dim))
        key.append(array)
    try:
        index_shape = np.broadcast_shapes(*broadcast)
    except ValueError:
        raise IndexError(
            "shape mismatch: indexing tensors could not be broadcast together with shapes "
            f"{', '.join(_shown(s) for s in broadcast)}\n"
            "Index tensors are paired element by element: give them the same shape (or shapes that "
            "broadcast), or index one dim at a time: x[i][:, j].") from None
    # numpy's placement, which is PyTorch's on a key of index arrays and full slices: the index dims
    # replace the indexed ones when those are adjacent, else they come first
    indexed = {d for start, stop in spans for d in range(start, stop)}
    rest = [n for d, n in enumerate(view_shape) if d not in indexed]
    adjacent = all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))
    first = spans[0][0] if adjacent else 0
    shape = tuple(rest[:first]) + tuple(index_shape) + tuple(rest[first:])
    if 0 not in shape:
        _check_bounds(advanced, view_shape, index_shape)
    return tuple(key), shape


def _check_bounds(advanced, view_shape, index_shape):
    # PyTorch reads the index tensors element by element (in broadcast order), each element through all
    # of them, and reports the first bad one: by its index tensor's place among them (a mask counts its
    # dims, and is always in bounds)
    if all(array.dtype == bool or not array.size
           or (array.min() >= -view_shape[position] and array.max() < view_shape[position])
           for position, array in advanced):
        return  # all in bounds: the common case, without the element-by-element search below
    columns, sizes = [], []
    for position, array in advanced:
        if array.dtype == bool:
            columns.extend(np.zeros(index_shape, dtype=np.int64) for _ in range(array.ndim))
            sizes.extend([1] * array.ndim)
        else:
            columns.append(np.broadcast_to(array, index_shape))
            sizes.append(view_shape[position])
    bad = [(c < -n) | (c >= n) for c, n in zip(columns, sizes)]
    any_bad = np.logical_or.reduce(bad) if bad else np.zeros(index_shape, bool)
    if any_bad.any():
        element = np.flatnonzero(any_bad.ravel())[0]
        ordinal = next(i for i, b in enumerate(bad) if b.ravel()[element])
        raise _out_of_bounds(int(columns[ordinal].ravel()[element]), ordinal, sizes[ordinal], view_shape,
                             advanced=True)


# ----------------------------------------------------------------------------------- the operations
def index(a, key):
    """PyTorch's ``a[key]`` on a numpy array (a view when the key has no advanced part). ``key`` may
    be its plan.

    >>> a = np.arange(24.).reshape(2, 3, 4)
    >>> index(a, (0, slice(None), [0, 1])).shape  # numpy's a[0, :, [0, 1]] has shape (2, 3)
    (3, 2)
    """
    p = plan(a.shape, key)
    view = a[p.basic]
    if p.advanced is None:
        return view
    return view[p.advanced] if 0 not in p.shape else np.zeros(p.shape, dtype=a.dtype)


def result_shape(shape, key) -> tuple:
    """The shape of PyTorch's ``x[key]`` for ``x`` of ``shape``, without any data."""
    return plan(shape, key).shape


def setitem(a, key, value):
    """PyTorch's ``a[key] = value``: writes into ``a`` in place the elements PyTorch writes.

    ``value`` (a number or an array) broadcasts to the indexed shape after dropping its leading
    size-1 dims, as in PyTorch.

    >>> a = np.zeros((2, 3, 4)); setitem(a, (0, slice(None), [0, 1]), np.array([1., 2.]))
    >>> a[0, :, :2].tolist()
    [[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]]
    """
    key = normalize_key(key)
    if key is False:  # PyTorch's x[False] = v writes nothing and checks nothing
        return
    p = plan(a.shape, key)
    view = a[p.basic]
    tensor_value = _tensor_array(value)
    value = _strip_leading_ones(value if tensor_value is None else tensor_value)
    if key is True:  # a copy into x.unsqueeze(0), as x[None] = v
        _check_expand(np.shape(value), p.view_shape, value)
        view[...] = value
    elif p.advanced is None:
        _check_expand(np.shape(value), p.view_shape, value)
        view[...] = value
    else:
        target = p.shape
        if not _broadcasts_to(np.shape(value), target):
            raise RuntimeError(
                f"shape mismatch: value tensor of shape {_shown(np.shape(value))} cannot be broadcast to "
                f"indexing result of shape {_shown(target)}\n"
                f"x[key] here has shape {tuple(target)}: give the value that shape, or one that broadcasts "
                "to it (sizes equal or 1, matched from the right).")
        if 0 not in target:
            view[p.advanced] = value


def scatter_add(grad, shape, key):
    """Zeros of ``shape`` with ``grad`` added at the places ``index(x, key)`` read (repeated indices add
    up): the vector-Jacobian product of indexing, so <index(x, key), g> == <x, scatter_add(g, ...)>.
    ``key`` may be its plan.

    >>> scatter_add(np.ones(3), (3,), ([0, 0, 2],)).tolist()
    [2.0, 0.0, 1.0]
    """
    out = np.zeros(shape, dtype=np.asarray(grad).dtype)
    p = plan(shape, key)
    view = out[p.basic]
    if p.advanced is None:
        view += grad
    elif 0 not in p.shape:
        np.add.at(view, p.advanced, grad)
    return out


def grad_fn_name(key, shape) -> str:
    """PyTorch's grad_fn name for ``x[key]``: the last view op its indexing ran (SelectBackward0,
    SliceBackward0, UnsqueezeBackward0, AliasBackward0 when none ran), or IndexBackward0 when the key
    has an advanced part. A full slice is skipped, except a lone one (``x[:]``)."""
    return plan(shape, key).name


# ----------------------------------------------------------------------------------- checks and errors
def _shown(shape):
    return f"[{', '.join(str(int(n)) for n in shape)}]"


def _strip_leading_ones(value):
    shape = np.shape(value)
    lead = 0
    while lead < len(shape) and shape[lead] == 1:
        lead += 1
    return np.reshape(value, shape[lead:]) if lead else value


def _broadcasts_to(value_shape, target):
    if len(value_shape) > len(target):
        return False
    return all(v in (1, t) for v, t in zip(value_shape[::-1], tuple(target)[::-1]))


_TYPE_NAMES = {"float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
               "int64": "LongTensor", "int32": "IntTensor", "bool": "BoolTensor"}


def _check_expand(value_shape, target, value):
    """PyTorch's copy into a view: the value expands to the view's shape (x[0] = v, x[:] = v)."""
    fix = (f"x[key] here has shape {tuple(target)} and the value {tuple(value_shape)}: give the value that "
           "shape, or one that broadcasts to it (sizes equal or 1, matched from the right).")
    if len(value_shape) > len(target):
        kind = _TYPE_NAMES.get(str(np.asarray(value).dtype), "Tensor")
        raise RuntimeError(
            f"expand(torch.{kind}{{{_shown(value_shape)}}}, size={_shown(target)}): the number of sizes "
            f"provided ({len(target)}) must be greater or equal to the number of dimensions in the tensor "
            f"({len(value_shape)})\n{fix}")
    offset = len(target) - len(value_shape)
    for i in reversed(range(len(value_shape))):
        if value_shape[i] not in (1, target[offset + i]):
            raise RuntimeError(
                f"The expanded size of the tensor ({target[offset + i]}) must match the existing size "
                f"({value_shape[i]}) at non-singleton dimension {offset + i}.  Target sizes: {_shown(target)}."
                f"  Tensor sizes: {_shown(value_shape)}\n{fix}")


def _check_step(k):
    if k.step is not None and k.step == 0:
        raise ValueError("slice step cannot be zero\nA slice a:b:s needs s >= 1.")
    if k.step is not None and k.step < 0:
        raise ValueError(
            "step must be greater than zero\n"
            f"Slices go forward only ({k.start}:{k.stop}:{k.step} has a negative step): take the forward "
            "slice and reverse it with x.flip(dim).")


def _refuse_on_0d(key):
    if type(key) is int and key != 0:
        raise _out_of_bounds(key, 0, 0, ())
    if type(key) is int:
        raise IndexError(
            "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or `tensor.item<T>()` in C++ "
            "to convert a 0-dim tensor to a number\n"
            "This tensor is a single number with no dims to index: use x.item(), or x itself.")
    if isinstance(key, slice):
        raise IndexError("slice() cannot be applied to a 0-dim tensor.\n"
                         "This tensor is a single number with no dims to slice: use x itself.")


def _too_many(ndim, specified, shape):
    return IndexError(
        f"too many indices for tensor of dimension {ndim}\n"
        f"The key indexes {specified} dims, but the tensor has shape {tuple(shape)}: use at most {ndim} "
        "indices (None and ... add none).")


def _out_of_bounds(value, dim, size, shape, advanced=False):
    where = "the indexed view" if advanced else "the tensor"
    return IndexError(
        f"index {value} is out of bounds for dimension {dim} with size {size}\n"
        f"{where.capitalize()} has shape {tuple(shape)}; valid indices along a dim of size n are -n..n-1.")


def _mask_mismatch(mask_shape, mask_dim, view_shape, dim):
    return IndexError(
        f"The shape of the mask {_shown(mask_shape)} at index {mask_dim} does not match the shape of the "
        f"indexed tensor {_shown(view_shape)} at index {dim}\n"
        f"A mask covers as many dims as it has, from where it stands: here dims {dim - mask_dim}.."
        f"{dim - mask_dim + len(mask_shape) - 1} of shape {tuple(view_shape)}; make the mask that shape "
        "(e.g. from a comparison on x itself).")


def _bad_part(k):
    kind = "numpy.bool" if isinstance(k, np.bool_) else type(k).__name__
    if isinstance(k, str) or not isinstance(k, (float, complex, np.generic)):
        return TypeError(f"new(): invalid data type '{kind}'\n"
                         "An index is an int, a slice, None, ..., a list or an integer or bool tensor.")
    return IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are valid indices "
        f"(got {kind})\nUse int(i) for a number, or a long tensor of positions.")
