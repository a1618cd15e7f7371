"""The public tensor functions (``torch.exp``, ``torch.sum``, ``torch.matmul`` ...).

Each one normalises PyTorch's calling conventions (dim/axis, keepdim/keepdims, varargs shapes)
and hands the numbers to a rule of ``ops.RULES``. Tensor methods call these, so there is one
entry point per op.
"""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from . import dtypes, errors
from .ops import RULES, apply
from .tensor import Tensor, as_tensor_arg

_R = RULES
values_indices = namedtuple("return_types", ["values", "indices"])


# ----------------------------------------------------------------------- elementwise
def add(a, b, *, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    return apply(_R["add"], (as_tensor_arg(a), as_tensor_arg(b)))


def sub(a, b, *, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    if not isinstance(a, Tensor) and isinstance(b, Tensor) and not isinstance(a, np.ndarray):
        return apply(_R["rsub"], (b, a))
    return apply(_R["sub"], (as_tensor_arg(a), as_tensor_arg(b)))


def mul(a, b):
    return apply(_R["mul"], (as_tensor_arg(a), as_tensor_arg(b)))


def div(a, b):
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    if not isinstance(a, Tensor):
        # PyTorch computes scalar / tensor as reciprocal(tensor) * scalar
        return mul(apply(_R["reciprocal"], (b,)), a)
    return apply(_R["div"], (a, b))


true_divide = divide = div
multiply = mul
subtract = sub


def pow(a, b):
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    if not isinstance(a, Tensor):
        name = "PowBackward2"
    elif isinstance(b, Tensor):
        name = "PowBackward1"
    else:
        name = "PowBackward0"
    return apply(_R["pow"], (a, b), name)


def reciprocal(x):
    return apply(_R["reciprocal"], (x,))


def neg(x):
    return apply(_R["neg"], (x,))


negative = neg


def _unary(name):
    rule = _R[name]

    def op(x):
        return apply(rule, (as_tensor_arg(x),))

    op.__name__ = name
    op.__doc__ = f"Elementwise {name}; ``torch.{name}(torch.tensor([1.]))``."
    return op


abs = _unary("abs")
exp = _unary("exp")
log = _unary("log")
sqrt = _unary("sqrt")
sin = _unary("sin")
cos = _unary("cos")
tanh = _unary("tanh")
sigmoid = _unary("sigmoid")
relu = _unary("relu")


def sign(x):
    return Tensor._from_array(np.sign(x.data))


def maximum(a, b):
    return apply(_R["maximum"], (as_tensor_arg(a), as_tensor_arg(b)))


def minimum(a, b):
    return apply(_R["minimum"], (as_tensor_arg(a), as_tensor_arg(b)))


def clamp(x, min=None, max=None):
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None\n"
                           "Pass a bound: x.clamp(min=0) or x.clamp(-1, 1).")
    return apply(_R["clamp"], (x,), (min, max))


clip = clamp


def where(condition, a, b):
    cond = as_tensor_arg(condition)
    cond = cond if isinstance(cond, Tensor) else Tensor(cond)
    if cond.dtype is not dtypes.bool:
        cond = Tensor._from_array(cond.data.astype(bool))
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    target = dtypes.result_type([v for v in (a, b)])
    return apply(_R["where"], (cond, _cast(a, target), _cast(b, target)))


def _cast(v, target):
    if isinstance(v, Tensor) and v.dtype is not target:
        return v.to(target)
    return v


# ----------------------------------------------------------------------- linear algebra
def _check_inner(op, a, b, n_a, n_b):
    if n_a != n_b:
        raise errors.matmul_mismatch(op, a.shape, b.shape)


def dot(a, b):
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors\n"
                           f"dot: shapes {tuple(a.shape)} and {tuple(b.shape)}; use matmul (@) for matrices.")
    _check_inner("dot", a, b, a.shape[0], b.shape[0])
    return apply(_R["dot"], (a, b))


inner = dot


def mv(m, v):
    if m.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {v.ndim}, {m.ndim}, {v.ndim}\n"
                           f"mv: shapes {tuple(m.shape)} and {tuple(v.shape)}; mv takes a matrix and a vector.")
    _check_inner("mv", m, v, m.shape[1], v.shape[0])
    return apply(_R["mv"], (m, v))


def mm(a, b):
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"self must be a matrix\nmm: shapes {tuple(a.shape)} and {tuple(b.shape)}; "
                           "mm takes two matrices (use matmul for other shapes).")
    _check_inner("mm", a, b, a.shape[1], b.shape[0])
    return apply(_R["mm"], (a, b))


def matmul(a, b):
    """``a @ b`` with NumPy/PyTorch's rules for 1-D and batched operands."""
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{a.ndim}D and {b.ndim}D\nUse * to multiply by a scalar.")
    if a.ndim == 1 and b.ndim == 1:
        return dot(a, b)
    if a.ndim == 2 and b.ndim == 1:
        return mv(a, b)
    if a.ndim == 2 and b.ndim == 2:
        return mm(a, b)
    _check_inner("matmul", a, b, a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0])
    squeeze_dims = []
    if a.ndim == 1:
        a = unsqueeze(a, 0)
        squeeze_dims.append(-2)
    if b.ndim == 1:
        b = unsqueeze(b, -1)
        squeeze_dims.append(-1)
    try:
        out = apply(_R["mm"], (a, b), "BmmBackward0")
    except ValueError:
        raise errors.matmul_mismatch("matmul", a.shape, b.shape) from None
    for d in squeeze_dims:
        out = squeeze(out, d)
    return out


def outer(a, b):
    return mul(reshape(a, (-1, 1)), reshape(b, (1, -1)))


# ----------------------------------------------------------------------- reductions
def _dims(x, dim, axis=None):
    """Normalise dim/axis (int, tuple, list or None) to a sorted tuple of non-negative ints, or None."""
    if dim is None:
        dim = axis
    if dim is None:
        return None
    if isinstance(dim, (builtins.int, np.integer)):
        dim = (dim,)
    nd = builtins.max(x.ndim, 1)
    out = []
    for d in dim:
        if not -nd <= d < nd:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], "
                             f"but got {d})\nThe tensor has shape {tuple(x.shape)}.")
        out.append(d % nd if x.ndim else 0)
    return tuple(sorted(set(out))) if x.ndim else ()


def _keep(keepdim, keepdims):
    return bool(keepdim or keepdims)


def sum(x, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
    """Sum of all elements, or over ``dim``: ``torch.sum(x, dim=0, keepdim=True)``."""
    x = as_tensor_arg(x)
    if not isinstance(x, Tensor):
        return builtins.sum(x) if not np.isscalar(x) else x
    if dtype is not None:
        x = x.to(dtype)
    elif not x.dtype.is_floating_point and x.dtype is not dtypes.int64:
        x = x.to(dtypes.int64)  # PyTorch sums bools and small ints as int64
    dims = _dims(x, dim, axis)
    return apply(_R["sum"], (x,), (dims, _keep(keepdim, keepdims), x.data.shape))


def mean(x, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
    """Mean of all elements, or over ``dim``."""
    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:
        kind = {"int64": "Long", "int32": "Int", "bool": "Bool"}.get(x.dtype.name, x.dtype.name)
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {kind}\nConvert first: x.float().mean()."
        )
    dims = _dims(x, dim, axis)
    return apply(_R["mean"], (x,), (dims, _keep(keepdim, keepdims), x.data.shape))


def _select_reduction(kind, x, dim, keepdim, other):
    if isinstance(dim, Tensor) or other is not None:
        return (maximum if kind == "max" else minimum)(x, dim if other is None else other)
    if x.numel() == 0:
        raise RuntimeError(f"{kind}(): Expected reduction dim to be specified for input.numel() == 0. "
                           f"Specify the reduction dim with the 'dim' argument.\nThe tensor has shape "
                           f"{tuple(x.shape)}.")
    data = x.data
    if dim is None:
        value = data.max() if kind == "max" else data.min()
        mask = data == value
        return apply(_R[kind], (x,), (None, False, data.shape, mask))
    (d,) = _dims(x, dim) or (0,)
    idx = np.argmax(data, axis=d) if kind == "max" else np.argmin(data, axis=d)
    idx_keep = np.expand_dims(idx, d)
    mask = np.zeros(data.shape, dtype=bool)
    if data.ndim:
        np.put_along_axis(mask, idx_keep, True, axis=d)
    else:
        mask = np.ones((), dtype=bool)
    values = apply(_R[kind], (x,), ((d,) if data.ndim else None, keepdim, data.shape, mask))
    indices = Tensor._from_array(idx_keep if keepdim else idx.astype(np.int64))
    return values_indices(values, indices)


def max(x, dim=None, keepdim=False, *, other=None):
    """Largest element; ``max(x, dim)`` gives (values, indices); ``max(x, y)`` is ``maximum``."""
    return _select_reduction("max", x, dim, keepdim, other)


def min(x, dim=None, keepdim=False, *, other=None):
    """Smallest element; ``min(x, dim)`` gives (values, indices); ``min(x, y)`` is ``minimum``."""
    return _select_reduction("min", x, dim, keepdim, other)


def _arg(fn, x, dim, keepdim):
    if dim is None:
        return Tensor._from_array(np.asarray(fn(x.data), dtype=np.int64))
    (d,) = _dims(x, dim)
    return Tensor._from_array(np.asarray(fn(x.data, axis=d, keepdims=keepdim), dtype=np.int64))


def argmax(x, dim=None, keepdim=False):
    return _arg(np.argmax, x, dim, keepdim)


def argmin(x, dim=None, keepdim=False):
    return _arg(np.argmin, x, dim, keepdim)


def norm(x, p="fro", dim=None, keepdim=False):
    """Vector 2-norm (or ``p=1``), of everything or along ``dim``."""
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {x.dtype.name.capitalize()}\nConvert first: x.float().norm().")
    ord_ = 2 if p in ("fro", 2, 2.0, None) else p
    if ord_ not in (1, 2):
        raise NotImplementedError(f"norm: p={p!r} is not supported here; use p=1 or p=2.")
    return apply(_R["norm"], (x,), (ord_, _dims(x, dim), keepdim, x.data.shape))


def softmax(x, dim=None, dtype=None):
    if dim is None:
        raise TypeError("softmax() missing required argument 'dim'\nSay which axis sums to 1, e.g. dim=-1.")
    (d,) = _dims(x, dim)
    return apply(_R["softmax"], (x if dtype is None else x.to(dtype),), d)


def log_softmax(x, dim=None, dtype=None):
    if dim is None:
        raise TypeError("log_softmax() missing required argument 'dim'\nSay which axis, e.g. dim=-1.")
    (d,) = _dims(x, dim)
    return apply(_R["log_softmax"], (x if dtype is None else x.to(dtype),), d)


# ----------------------------------------------------------------------- shapes
def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(builtins.int(s) for s in shape)


def _resolve(x, shape, op):
    """Fill in a -1 and check the element count, with PyTorch's message when it does not fit."""
    size = x.numel()
    known = 1
    for n in shape:
        if n != -1:
            known *= n
    if shape.count(-1) == 1 and known and size % known == 0:
        shape = tuple(size // known if n == -1 else n for n in shape)
    if -1 in shape or int(np.prod(shape)) != size:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}\n"
                           f"{op}: {tuple(x.shape)} has {size} elements; the new shape must hold "
                           "the same number.")
    return shape


def reshape(x, *shape, _name="ViewBackward0"):
    shape = _resolve(x, _shape_args(shape), "reshape")
    return apply(_R["reshape"], (x,), (shape, _name, x.data.shape))


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, 1)
    s = start_dim % x.ndim
    e = end_dim % x.ndim
    shape = x.shape[:s] + (-1,) + x.shape[e + 1:]
    return reshape(x, shape)


def squeeze(x, dim=None):
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
        return reshape(x, shape, _name="SqueezeBackward0")
    dims = _dims(x, dim)
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    return reshape(x, shape, _name="SqueezeBackward1")


def unsqueeze(x, dim):
    nd = x.ndim + 1
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got "
                         f"{dim})\nunsqueeze can add a dimension at positions {-nd}..{nd - 1}.")
    d = dim % nd
    shape = x.shape[:d] + (1,) + x.shape[d:]
    return reshape(x, shape, _name="UnsqueezeBackward0")


def permute(x, *dims, _name="PermuteBackward0"):
    dims = _shape_args(dims)
    if sorted(d % builtins.max(x.ndim, 1) for d in dims) != list(range(x.ndim)):
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match "
                           f"the length of the desired ordering of dimensions i.e. input.dim() = {x.ndim} "
                           f"is not equal to len(dims) = {len(dims)}\npermute needs each of the "
                           f"{x.ndim} dims once, e.g. {tuple(reversed(range(x.ndim)))}.")
    return apply(_R["permute"], (x,), (tuple(d % x.ndim for d in dims), _name))


def transpose(x, dim0, dim1):
    if x.ndim < 2 and x.ndim == 0:
        return x
    order = list(range(x.ndim))
    a, b = dim0 % x.ndim, dim1 % x.ndim
    order[a], order[b] = order[b], order[a]
    return permute(x, order, _name="TransposeBackward0")


swapaxes = transpose


def t(x):
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D\n"
                           "Use transpose(x, -1, -2) or permute for more dimensions.")
    if x.ndim < 2:
        return x
    return permute(x, (1, 0), _name="TBackward0")


def expand(x, *sizes):
    sizes = _shape_args(sizes)
    lead = len(sizes) - x.ndim
    shape = tuple(x.shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(sizes))
    try:
        np.broadcast_shapes(tuple(x.shape), shape)
    except ValueError:
        raise RuntimeError(f"The expanded size of the tensor must match the existing size at a "
                           f"non-singleton dimension. Target sizes: {list(sizes)}. Tensor sizes: "
                           f"{list(x.shape)}\nOnly dimensions of size 1 can be expanded.") from None
    return apply(_R["expand"], (x,), shape)


def broadcast_to(x, shape):
    return expand(x, shape)


def cat(tensors, dim=0):
    tensors = tuple(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    (d,) = _dims(tensors[0], dim)
    try:
        return apply(_R["cat"], tensors, (d, tuple(t_.shape[d] for t_ in tensors)))
    except ValueError:
        raise RuntimeError(f"Sizes of tensors must match except in dimension {d}\ncat: shapes "
                           f"{[tuple(t_.shape) for t_ in tensors]}.") from None


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = tuple(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shapes = {tuple(t_.shape) for t_ in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size\nstack: shapes "
                           f"{[tuple(t_.shape) for t_ in tensors]}.")
    nd = tensors[0].ndim + 1
    return apply(_R["stack"], tensors, (dim % nd, len(tensors)))


def clone(x):
    return apply(_R["clone"], (x,))


# ----------------------------------------------------------------------- indexing
def _normalize_key(key):
    if isinstance(key, tuple):
        return tuple(_normalize_key_part(k) for k in key)
    return _normalize_key_part(key)


def _normalize_key_part(k):
    if isinstance(k, Tensor):
        return k.data if k.ndim else k.data.item()
    if isinstance(k, list):
        return np.asarray([_normalize_key_part(v) for v in k])
    return k


def index(x, key):
    key = _normalize_key(key)
    return apply(_R["index"], (x,), (key, x.data.shape, x.data.dtype))


def setitem(x, key, value):
    """``x[key] = value``, recorded as PyTorch's CopySlices when a gradient is involved."""
    from .tensor import inplace

    key = _normalize_key(key)
    value = as_tensor_arg(value)
    inplace(x, lambda old: apply(_R["setitem"], (old, value), key), lambda data: _assign(data, key, value))


def _assign(data, key, value):
    data[key] = value.data if isinstance(value, Tensor) else value


def _to(x, target):
    return apply(_R["to"], (x,), target.numpy)
