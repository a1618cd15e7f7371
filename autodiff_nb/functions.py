"""The public tensor functions (``torch.exp``, ``torch.sum``, ``torch.matmul`` ...).

Each one normalises PyTorch's calling conventions (dim/axis, keepdim/keepdims, varargs shapes)
and hands the numbers to a rule of ``ops.RULES``. Tensor methods call these, so there is one
entry point per op.
"""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from . import dtypes, errors, indexing, views
from .creation import as_tensor_arg
from .ops import RULES, apply, cast_operands
from .tensor import Tensor


def _return_type(kind):
    """PyTorch's ``torch.return_types.max``: a (values, indices) tuple that prints on three lines."""

    class ReturnType(namedtuple(kind, ["values", "indices"])):
        __slots__ = ()

        def __repr__(self):
            return f"torch.return_types.{kind}(\nvalues={self.values!r},\nindices={self.indices!r})"

    ReturnType.__name__ = ReturnType.__qualname__ = kind
    ReturnType.__module__ = "torch.return_types"
    return ReturnType


class return_types:  # noqa: N801  (a namespace, named as PyTorch's module)
    max = _return_type("max")
    min = _return_type("min")


# ----------------------------------------------------------------------- elementwise
def add(a, b, *, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    return apply(RULES["add"], as_tensor_arg(a), as_tensor_arg(b))


def sub(a, b, *, alpha=1):
    if alpha != 1:
        b = mul(b, alpha)
    if not isinstance(a, Tensor) and isinstance(b, Tensor) and not isinstance(a, np.ndarray):
        return apply(RULES["rsub"], b, as_tensor_arg(a))  # a number: np.int64(2) is a Python int here
    return apply(RULES["sub"], as_tensor_arg(a), as_tensor_arg(b))


def mul(a, b):
    return apply(RULES["mul"], as_tensor_arg(a), as_tensor_arg(b))


def div(a, b):
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    if not isinstance(a, Tensor):
        # PyTorch computes scalar / tensor as reciprocal(tensor) * scalar
        return mul(apply(RULES["reciprocal"], b), a)
    return apply(RULES["div"], a, b)


true_divide = divide = div
multiply = mul
subtract = sub


def pow(a, b):
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    target = dtypes.result_type((a, b)).numpy
    if target == np.bool_:  # PyTorch has no bool pow kernel, except a bool tensor ** a Python bool
        if isinstance(b, Tensor) or not isinstance(a, Tensor):
            raise NotImplementedError('"pow" not implemented for \'Bool\'\nConvert first: x.long() ** y.')
        return Tensor._from_array(a.array | (not b))  # x ** True is x; x ** False is all True
    if type(b) is builtins.int and target.kind in "iu" and b < 0:  # (a tensor exponent may be negative)
        raise RuntimeError(f"Integers to negative integer powers are not allowed.\nAn integer tensor ** {b} "
                           f"would not be an integer: write x.float() ** {b}.")
    if type(b) is builtins.int and target.kind in "iu" and b > np.iinfo(target).max:
        raise RuntimeError(f"value cannot be converted to type {target.name}_t without overflow\n"
                           f"The exponent {b} does not fit in the tensor's dtype ({dtypes.type_word(a.dtype)}).")
    if not isinstance(a, Tensor):
        name = "PowBackward2"
    elif isinstance(b, Tensor):
        name = "PowBackward1"
    else:
        name = "PowBackward0"
    return apply(RULES["pow"], a, b, name=name)


def floor_divide(a, b):
    """``a // b``: rounds toward -inf; like comparisons it carries no gradient."""
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    target = dtypes.result_type((a, b))
    if target is dtypes.bool:
        raise NotImplementedError('"div_floor_cpu" not implemented for \'Bool\'\nConvert first: x.long() // y.')
    a_array, b_array = (x.array if isinstance(x, Tensor) else x for x in (a, b))
    a_array, b_array = cast_operands([a_array, b_array], target)
    target = target.numpy
    _refuse_integer_zero(target, b_array, "//")
    with np.errstate(all="ignore"):  # a float // 0 is inf or nan, silently, as in PyTorch
        out = np.floor_divide(a_array, b_array)
    return Tensor._from_array(np.asarray(out).astype(target, copy=False))


def _refuse_integer_zero(target, divisor, op):
    if target.kind in "iub" and np.any(np.asarray(divisor) == 0):
        raise RuntimeError(f"ZeroDivisionError\nAn integer {op} 0 has no value; divide floats "
                           f"(x.float() {op} 0 gives inf or nan) or keep the divisor away from 0.")


def remainder(a, b):
    """``a % b``: the remainder with the sign of ``b`` (Python's %), as torch.remainder."""
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    target = dtypes.result_type((a, b)).numpy
    _refuse_integer_zero(target, b.array if isinstance(b, Tensor) else b, "%")
    return apply(RULES["remainder"], a, b,
                 name="RemainderBackward1" if isinstance(b, Tensor) else "RemainderBackward0")


def reciprocal(x):
    return apply(RULES["reciprocal"], x)


def neg(x):
    if x.array.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.\n"
                           "~mask flips every True and False.")
    return apply(RULES["neg"], x)


negative = neg


def _unary(name):
    rule = RULES[name]

    def op(x):
        return apply(rule, as_tensor_arg(x))

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
    return apply(RULES["sign"], x)  # recorded, with a zero gradient: abs's gradient can be differentiated again


def maximum(a, b):
    _tensors_only("maximum", ("input", "other"), a, b)
    return apply(RULES["maximum"], a, b)


def minimum(a, b):
    _tensors_only("minimum", ("input", "other"), a, b)
    return apply(RULES["minimum"], a, b)


def clamp(x, min=None, max=None):
    """Limit every element to [min, max]; a bound may be a number or a tensor (then it gets a gradient)."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None\n"
                           "Pass a bound: x.clamp(min=0) or x.clamp(-1, 1).")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        if min is None:
            return apply(RULES["clamp_tensor"], x, None, as_tensor_arg(max))
        if max is None:
            return apply(RULES["clamp_tensor"], x, as_tensor_arg(min), None)
        return apply(RULES["clamp_tensor"], x, as_tensor_arg(min), as_tensor_arg(max))
    if not x.dtype.is_floating_point and (type(min) is builtins.float or type(max) is builtins.float):
        x = x.to(dtypes.float32)  # an integer tensor clamped to a float bound becomes float, as in PyTorch
    return apply(RULES["clamp"], x, low=min, high=max)


clip = clamp


def where(condition, a, b):
    if not isinstance(condition, Tensor):
        got = ", ".join("Tensor" if isinstance(v, Tensor) else errors.python_type(v) for v in (condition, a, b))
        raise TypeError(f"where() received an invalid combination of arguments - got ({got}), but expected one "
                        "of:\nThe condition must be a bool tensor: torch.where(x > 0, a, b), or torch.tensor(cond).")
    cond = condition
    if cond.dtype is not dtypes.bool:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{dtypes.type_word(cond.dtype)}\nMake the condition a comparison, e.g. "
                           "torch.where(x > 0, a, b), or convert it: cond.bool().")
    a, b = as_tensor_arg(a), as_tensor_arg(b)
    target = dtypes.result_type((a, b))
    try:
        return apply(RULES["where"], cond, _cast(a, target), _cast(b, target), dtype=target.numpy)
    except ValueError:
        shapes = [tuple(np.shape(v.array if isinstance(v, Tensor) else v)) for v in (cond, a, b)]
        n = builtins.max(len(sh) for sh in shapes)
        padded = [(1,) * (n - len(sh)) + sh for sh in shapes]
        bad = next(i for i in reversed(range(n)) if len({p[i] for p in padded} - {1}) > 1)
        sizes = [p[bad] for p in padded if p[bad] != 1]
        raise RuntimeError(f"The size of tensor a ({sizes[0]}) must match the size of tensor b ({sizes[1]}) at "
                           f"non-singleton dimension {bad}\nwhere: condition, input and other have shapes "
                           f"{shapes[0]}, {shapes[1]} and {shapes[2]}, which do not broadcast.") from None


def _cast(v, target):
    if isinstance(v, Tensor) and v.dtype is not target:
        return v.to(target)
    return v


# ----------------------------------------------------------------------- linear algebra
# PyTorch's C++ names of the dtypes, which its matmul kernels print
_CPP_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
              "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool"}


def _mixed_dtypes(first, a, b):
    """PyTorch multiplies matrices of one dtype only, and says so in the words of the kernel it ran."""
    return RuntimeError(f"{first}\n{a.dtype} and {b.dtype} do not mix in a matrix product: convert one first, "
                        f"e.g. a.to(b.dtype) or b.double().")


def _check_same_dtype_mm(a, b):
    if a.array.dtype is not b.array.dtype and a.array.dtype != b.array.dtype:
        raise _mixed_dtypes("expected m1 and m2 to have the same dtype, but got: "
                            f"{_CPP_NAMES[a.dtype.name]} != {_CPP_NAMES[b.dtype.name]}", a, b)


def _check_same_dtype_mv(m, v):
    if m.array.dtype != v.array.dtype:
        words = dtypes.type_word(v.dtype), dtypes.type_word(m.dtype)
        raise _mixed_dtypes(f"addmv input tensors must have the same dtype, but got {words[0]}, {words[1]}, "
                            f"and {words[0]}", m, v)


def _tensors_only(op, names, a, b):
    """PyTorch's matrix products take tensors only: torch.matmul(x, 3) is a TypeError."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return
    position = 1 if not isinstance(a, Tensor) else 2
    raise errors.not_a_tensor(op, names[position - 1], position, (a, b)[position - 1])


def _check_inner(op, a, b, n_a, n_b):
    if n_a != n_b:
        raise errors.matmul_mismatch(op, a.shape, b.shape)


def dot(a, b):
    _tensors_only("dot", ("input", "tensor"), a, b)
    if a.array.ndim != 1 or b.array.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors\n"
                           f"dot: shapes {tuple(a.shape)} and {tuple(b.shape)}; use matmul (@) for matrices.")
    if a.array.dtype is not b.array.dtype and a.array.dtype != b.array.dtype:  # numpy's dtypes are singletons
        raise _mixed_dtypes("dot : expected both vectors to have same dtype, but found "
                            f"{dtypes.type_word(a.dtype)} and {dtypes.type_word(b.dtype)}", a, b)
    _check_inner("dot", a, b, a.array.shape[0], b.array.shape[0])  # .array: no Size objects per call
    return apply(RULES["dot"], a, b)


inner = dot


def mv(m, v):
    _tensors_only("mv", ("input", "vec"), m, v)
    if m.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {v.ndim}, {m.ndim}, {v.ndim}\n"
                           f"mv: shapes {tuple(m.shape)} and {tuple(v.shape)}; mv takes a matrix and a vector.")
    if m.shape[1] != v.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({m.shape[0]}), mat ({m.shape[0]}x{m.shape[1]}), vec "
                           f"({v.shape[0]})\nmv: shapes {tuple(m.shape)} and {tuple(v.shape)}: the matrix needs "
                           "as many columns as the vector has elements; transpose it (m.T) or reshape.")
    _check_same_dtype_mv(m, v)
    return apply(RULES["mv"], m, v)


def mm(a, b):
    _tensors_only("mm", ("input", "mat2"), a, b)
    if a.array.ndim != 2 or b.array.ndim != 2:
        raise RuntimeError(f"self must be a matrix\nmm: shapes {tuple(a.shape)} and {tuple(b.shape)}; "
                           "mm takes two matrices (use matmul for other shapes).")
    _check_inner("mm", a, b, a.array.shape[1], b.array.shape[0])  # PyTorch checks shapes before dtypes
    _check_same_dtype_mm(a, b)
    return apply(RULES["mm"], a, b)


def matmul(a, b):
    """``a @ b`` with NumPy/PyTorch's rules for 1-D and batched operands.

    >>> matmul(ones(2, 3), ones(3)).shape
    torch.Size([2])
    """
    _tensors_only("matmul", ("input", "other"), a, b)
    na, nb = a.array.ndim, b.array.ndim  # read once: each .ndim is a property call
    if na == 0 or nb == 0:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{na}D and {nb}D\nUse * to multiply by a scalar.")
    if na <= 2 and nb <= 2:
        if na == 1 and nb == 1:
            return dot(a, b)
        if nb == 1:
            return mv(a, b)
        if na == 2:
            return mm(a, b)
        if a.shape[0] != b.shape[0]:
            raise errors.matmul_mismatch("matmul", a.shape, b.shape)
        # PyTorch runs vector @ matrix as a one-row mm, then squeezes the row away in place
        # (squeeze_ changes the mm result in place, so the result is no view of it)
        return apply(RULES["reshape"], mm(unsqueeze(a, 0), b), new_shape=(b.shape[1],), name="SqueezeBackward4")
    _check_batched_matmul(a, b)
    _check_batched_dtypes(a, b)
    # PyTorch's batched matmul ends in a view of an mm/bmm result (UnsafeViewBackward0), except
    # matrix @ batch with a matrix that needs a gradient: that result is transposed back, and copied
    # unless the transpose is already in row order (one row or one column, or empty).
    name = "UnsafeViewBackward0"
    if na == 2 and a.requires_grad:
        in_row_order = a.array.shape[0] == 1 or b.array.shape[-1] == 1 or 0 in b.array.shape[:-2]
        name = "TransposeBackward0" if in_row_order or a.array.shape[0] == 0 else "CloneBackward0"
    return apply(RULES["matmul"], a, b, name=name)


def _check_batched_matmul(a, b):
    """PyTorch's errors for batched matmul, which depend on the route it takes (mm, mv or bmm)."""
    sa, sb = tuple(a.shape), tuple(b.shape)
    ka = sa[-1]
    kb = sb[0] if b.ndim == 1 else sb[-2]
    if a.ndim >= 3 and b.ndim <= 2:  # the batch folds into the rows of one mm/mv
        rows = _count(sa[:-1])
        if ka != kb:
            first = (f"size mismatch, got input ({rows}), mat ({rows}x{ka}), vec ({kb})" if b.ndim == 1 else
                     f"mat1 and mat2 shapes cannot be multiplied ({rows}x{ka} and {sb[0]}x{sb[1]})")
            raise RuntimeError(f"{first}\nmatmul: shapes {sa} and {sb}: the last size of the first "
                               "must equal the first size of the second; transpose one (x.mT) or reshape it.")
        return
    if b.ndim >= 3 and a.ndim <= 2 and a.requires_grad:  # folds the other way round
        rows = _count(sb[:-2]) * sb[-1]
        if ka != kb:
            first = (f"size mismatch, got input ({rows}), mat ({rows}x{kb}), vec ({ka})" if a.ndim == 1 else
                     f"mat1 and mat2 shapes cannot be multiplied ({rows}x{kb} and {sa[1]}x{sa[0]})")
            raise RuntimeError(f"{first}\nmatmul: shapes {sa} and {sb}: the last size of the first "
                               "must equal the size before last of the second; transpose one (x.mT) or "
                               "reshape it.")
        return
    batch_a, batch_b = sa[:-2], sb[:-2]
    try:
        batch = np.broadcast_shapes(batch_a, batch_b)
    except ValueError:
        err = errors.broadcast_mismatch("matmul", batch_a, batch_b)
        raise RuntimeError(f"{str(err).splitlines()[0]}\nmatmul: shapes {sa} and {sb}: the batch "
                           f"dimensions {batch_a} and {batch_b} must broadcast.") from None
    if ka != kb:
        n = _count(batch)
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{n}, {ka}] but "
                           f"got: [{n}, {kb}].\nmatmul: shapes {sa} and {sb}: the last size of the first "
                           "must equal the size before last of the second; transpose one (x.mT) or reshape it.")


def _check_batched_dtypes(a, b):
    """The dtype error of the route PyTorch takes: one mm or mv when a batch folds into rows, else bmm."""
    if a.array.dtype == b.array.dtype:
        return
    if a.ndim >= 3 and b.ndim <= 2:
        (_check_same_dtype_mv if b.ndim == 1 else _check_same_dtype_mm)(a, b)
    if b.ndim >= 3 and a.ndim == 2 and a.requires_grad:
        _check_same_dtype_mm(b, a)  # PyTorch runs it transposed: b's rows times a
    if b.ndim >= 3 and a.ndim == 1 and (a.requires_grad or b.array.size == 0 or b.array.shape[-2] == 1):
        _check_same_dtype_mv(b, a)  # and a vector as bᵀ times it, when bᵀ folds into a matrix without a copy
    raise _mixed_dtypes(f"expected scalar type {dtypes.type_word(a.dtype)} but found {dtypes.type_word(b.dtype)}",
                        a, b)


def _count(shape):
    n = 1
    for s in shape:
        n *= s
    return n


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
        nd = x.array.ndim
        if -nd <= dim < nd:
            return (dim % nd,)  # the common case, one valid int: no set, no sort (softmax(x, dim=1))
        dim = (dim,)
    elif len(dim) == 0:
        return tuple(range(x.ndim))  # PyTorch reads an empty dim list as "every dim"
    nd = builtins.max(x.ndim, 1)
    out = []
    for d in dim:
        if not -nd <= d < nd:
            raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], "
                             f"but got {d})\nThe tensor has shape {tuple(x.shape)}.")
        if (d % nd if x.ndim else 0) in out:
            raise RuntimeError(f"dim {d % nd} appears multiple times in the list of dims\nThe dims {tuple(dim)} "
                               "name the same dim twice; list each once.")
        out.append(d % nd if x.ndim else 0)
    return tuple(sorted(set(out))) if x.ndim else ()


def _keep(op, keepdim, keepdims=False):
    """keepdim (PyTorch) or keepdims (numpy's spelling, which PyTorch accepts too), each True or False."""
    for name, flag in (("keepdim", keepdim), ("keepdims", keepdims)):
        if type(flag) is not builtins.bool:
            raise errors.not_bool(op, name, flag)
    return keepdim or keepdims


def sum(x, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
    """Sum of all elements, or over ``dim``: ``torch.sum(x, dim=0, keepdim=True)``."""
    x = as_tensor_arg(x)
    if not isinstance(x, Tensor):
        return builtins.sum(x) if not np.isscalar(x) else x
    if dtype is not None:
        x = x.to(dtype)
    elif x.array.dtype.kind != "f" and x.array.dtype != np.int64:  # numpy's dtype: no dtype lookup per call
        x = x.to(dtypes.int64)  # PyTorch sums bools and small ints as int64
    dims = _dims(x, dim, axis)
    return apply(RULES["sum"], x, dims=dims, keepdim=_keep("sum", keepdim, keepdims),
                 name="SumBackward0" if dims is None else "SumBackward1")


def mean(x, dim=None, keepdim=False, *, dtype=None, axis=None, keepdims=False):
    """Mean of all elements, or over ``dim``."""
    if dtype is not None:
        x = x.to(dtype)
    if not x.dtype.is_floating_point:
        kind = dtypes.type_word(x.dtype)
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point or complex "
            f"dtype. Got: {kind}\nConvert first: x.float().mean()."
        )
    dims = _dims(x, dim, axis)
    return apply(RULES["mean"], x, dims=dims, keepdim=_keep("mean", keepdim, keepdims),
                 name="MeanBackward0" if dims is None else "MeanBackward1")


def _select_reduction(kind, x, dim, keepdim, other):
    if isinstance(dim, Tensor) or other is not None:
        return (maximum if kind == "max" else minimum)(x, dim if other is None else other)
    data = x.array
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(f"{kind}(): Expected reduction dim to be specified for input.numel() == 0. "
                               f"Specify the reduction dim with the 'dim' argument.\nThe tensor has shape "
                               f"{tuple(x.shape)}: reduce along a dim, or check why it is empty.")
        value = data.max() if kind == "max" else data.min()
        mask = np.isnan(data) if value != value else data == value  # a NaN is the max, as in PyTorch
        return apply(RULES[kind], x, dims=None, keepdim=False, mask=mask, name=f"{kind.title()}Backward1")
    (d,) = _dims(x, dim) or (0,)
    if data.ndim and data.shape[d] == 0:
        raise IndexError(f"{kind}(): Expected reduction dim {d} to have non-zero size.\nThe tensor has "
                         f"shape {tuple(x.shape)}: there is nothing along dim {d} to pick from.")
    idx = np.argmax(data, axis=d) if kind == "max" else np.argmin(data, axis=d)
    idx_keep = np.expand_dims(idx, d)
    mask = np.zeros(data.shape, dtype=bool)
    if data.ndim:
        np.put_along_axis(mask, idx_keep, True, axis=d)
    else:
        mask = np.ones((), dtype=bool)
    values = apply(RULES[kind], x, dims=(d,) if data.ndim else (), keepdim=keepdim, mask=mask)
    indices = Tensor._from_array(np.asarray(idx_keep if keepdim and data.ndim else idx, dtype=np.int64))
    return getattr(return_types, kind)(values, indices)


def max(x, dim=None, keepdim=False, *, other=None, axis=None, keepdims=False):
    """Largest element; ``max(x, dim)`` gives (values, indices); ``max(x, y)`` is ``maximum``."""
    return _select_reduction("max", x, dim if dim is not None else axis, _keep("max", keepdim, keepdims), other)


def min(x, dim=None, keepdim=False, *, other=None, axis=None, keepdims=False):
    """Smallest element; ``min(x, dim)`` gives (values, indices); ``min(x, y)`` is ``minimum``."""
    return _select_reduction("min", x, dim if dim is not None else axis, _keep("min", keepdim, keepdims), other)


def _arg(fn, x, dim, keepdim):
    name = fn.__name__
    if dim is None:
        if x.numel() == 0:
            raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.\n"
                             f"The tensor has shape {tuple(x.shape)}: pass a dim, or check why it is empty.")
        return Tensor._from_array(np.asarray(fn(x.array), dtype=np.int64))
    (d,) = _dims(x, dim) or (0,)
    if x.ndim and x.array.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.\nThe tensor has "
                         f"shape {tuple(x.shape)}: there is nothing along dim {d} to pick from.")
    if not x.ndim:
        return Tensor._from_array(np.zeros((), dtype=np.int64))
    return Tensor._from_array(np.asarray(fn(x.array, axis=d, keepdims=keepdim), dtype=np.int64))


def argmax(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    """Index of the largest element (of all, flattened, or along ``dim``/``axis``)."""
    return _arg(np.argmax, x, dim if dim is not None else axis, _keep("argmax", keepdim, keepdims))


def argmin(x, dim=None, keepdim=False, *, axis=None, keepdims=False):
    return _arg(np.argmin, x, dim if dim is not None else axis, _keep("argmin", keepdim, keepdims))


def norm(x, p="fro", dim=None, keepdim=False):
    """The vector p-norm (2 unless told: 1, 3.5, inf, -inf, 0 ...) of everything or along ``dim``."""
    if not x.dtype.is_floating_point:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. "
                           f"Got {dtypes.type_word(x.dtype)}\nConvert first: x.float().norm().")
    ord_ = 2 if p in ("fro", None) else p
    if isinstance(ord_, str) or not isinstance(ord_, (builtins.int, builtins.float)):
        raise NotImplementedError(f"norm: p={p!r} is not supported here; use a number (1, 2, 3.5, inf, 0 ...) "
                                  "or 'fro'.")
    return apply(RULES["norm"], x, ord=ord_, dims=_dims(x, dim), keepdim=_keep("norm", keepdim))


def softmax(x, dim=None, dtype=None):
    if dim is None:
        raise TypeError('softmax() missing 1 required positional arguments: "dim"\n'
                        "Say which axis sums to 1, e.g. dim=-1.")
    return apply(RULES["softmax"], x if dtype is None else x.to(dtype), dims=_dims(x, dim))


def log_softmax(x, dim=None, dtype=None):
    if dim is None:
        raise TypeError('log_softmax() missing 1 required positional arguments: "dim"\n'
                        "Say which axis, e.g. dim=-1.")
    return apply(RULES["log_softmax"], x if dtype is None else x.to(dtype), dims=_dims(x, dim))


# ----------------------------------------------------------------------- shapes
def _shape_args(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(builtins.int(s) for s in shape)


def _resolve(x, shape, op):
    """Fill in a -1 and check the element count, with PyTorch's message when it does not fit."""
    size = x.numel()
    if shape.count(-1) > 1:
        raise RuntimeError(f"only one dimension can be inferred\n{op}: {list(shape)} has more than one -1; "
                           "give every size but one.")
    for i, n in enumerate(shape):
        if n < -1:
            raise RuntimeError(f"invalid shape dimension {n} at index {i} of shape {list(shape)}\n"
                               f"{op}: sizes are 0 or more, or -1 for the one size to infer.")
    known = 1
    for n in shape:
        if n != -1:
            known *= n
    if shape.count(-1) == 1 and not known:
        raise RuntimeError(f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                           f"unspecified dimension size -1 can be any value and is ambiguous\n{op}: "
                           f"{tuple(x.shape)} is empty; give every size explicitly.")
    if shape.count(-1) == 1 and known and size % known == 0:
        shape = tuple(size // known if n == -1 else n for n in shape)
    if -1 in shape or int(np.prod(shape)) != size:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {size}\n"
                           f"{op}: {tuple(x.shape)} has {size} elements; the new shape must hold "
                           "the same number.")
    return shape


def reshape(x, *shape, _name=None):
    shape = _resolve(x, _shape_args(shape), "reshape")
    if _name is None:
        _name = "ViewBackward0" if x.array.flags.c_contiguous else _reshape_name(x.array, shape)
    if _name == "UnsafeViewBackward0":  # the values had to be copied: no view
        return apply(RULES["reshape"], x, new_shape=shape, name=_name)
    return views.view(RULES["reshape"], x, _name, new_shape=shape)


def view(x, *shape):
    """``x.view(shape)``: the same values in another shape, sharing memory; PyTorch refuses a shape
    that the tensor's strides cannot give without a copy (x.T.view(-1))."""
    shape = _resolve(x, _shape_args(shape), "view")
    if not x.array.flags.c_contiguous and not np.shares_memory(x.array.reshape(shape), x.array):
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) instead.\n"
                           f"view: {tuple(x.shape)} is not stored row after row (a transpose?), so {shape} "
                           "needs a copy: x.reshape(...) or x.contiguous().view(...).")
    return reshape(x, shape, _name="ViewBackward0")


def _reshape_name(array, shape):
    """PyTorch's name for reshaping a tensor whose values are not in row order (x.T): a view when its
    strides allow one, else a copy (UnsafeViewBackward0)."""
    return "ReshapeAliasBackward0" if np.shares_memory(array.reshape(shape), array) else "UnsafeViewBackward0"


def flatten(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return reshape(x, 1)
    s = start_dim % x.ndim
    e = end_dim % x.ndim
    if s > e:
        raise RuntimeError(f"flatten() has invalid args: start_dim cannot come after end_dim\nflatten({start_dim}, "
                           f"{end_dim}) on shape {tuple(x.shape)}: dims {s}..{e} run backwards; swap them.")
    if s == e:
        return x  # nothing to merge: PyTorch hands back the tensor itself
    shape = x.shape[:s] + (_count(x.shape[s:e + 1]),) + x.shape[e + 1:]  # not -1: ambiguous when empty
    return reshape(x, shape)


def squeeze(x, dim=None, *, _name=None):
    if dim is None:
        shape = tuple(n for n in x.shape if n != 1)
        return reshape(x, shape, _name=_name or "SqueezeBackward0")
    dims = _dims(x, dim)
    shape = tuple(n for i, n in enumerate(x.shape) if not (i in dims and n == 1))
    # PyTorch names the overloads: squeeze(), squeeze(int), squeeze(tuple of ints)
    name = _name or ("SqueezeBackward1" if isinstance(dim, (builtins.int, np.integer)) else "SqueezeBackward2")
    return reshape(x, shape, _name=name)


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
    return views.view(RULES["permute"], x, _name, dims=tuple(d % x.ndim for d in dims))


def transpose(x, dim0, dim1):
    (a,) = _dims(x, dim0) or (0,)
    (b,) = _dims(x, dim1) or (0,)
    order = list(range(x.ndim))
    if x.ndim:
        order[a], order[b] = order[b], order[a]
    return permute(x, order, _name="TransposeBackward0")


swapaxes = transpose


def t(x):
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D\n"
                           "Use transpose(x, -1, -2) or permute for more dimensions.")
    return permute(x, tuple(reversed(range(x.ndim))), _name="TBackward0")


def expand(x, *sizes):
    sizes = _shape_args(sizes)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise RuntimeError(f"expand(torch.{dtypes.type_word(x.dtype)}Tensor{{{list(x.shape)}}}, size={list(sizes)}): the "
                           f"number of sizes provided ({len(sizes)}) must be greater or equal to the number of "
                           f"dimensions in the tensor ({x.ndim})\nexpand can add leading dims, never remove them.")
    for i, n in enumerate(sizes[:lead]):
        if n < 0:
            raise RuntimeError(f"The expanded size of the tensor ({n}) isn't allowed in a leading, non-existing "
                               f"dimension {i}\nexpand: -1 keeps an existing size; the {lead} new leading dims "
                               f"of {list(sizes)} need sizes, e.g. expand(3, {', '.join(['-1'] * x.ndim)}).")
    shape = tuple(x.shape[i - lead] if (n == -1 and i >= lead) else n for i, n in enumerate(sizes))
    try:
        np.broadcast_shapes(tuple(x.shape), shape)
    except ValueError:
        own = tuple(x.shape)
        bad = next(i for i in reversed(range(len(own))) if own[i] != 1 and own[i] != shape[lead + i])
        raise RuntimeError(f"The expanded size of the tensor ({shape[lead + bad]}) must match the existing size "
                           f"({own[bad]}) at non-singleton dimension {lead + bad}.  Target sizes: {list(sizes)}.  "
                           f"Tensor sizes: {list(own)}\nOnly dimensions of size 1 can be expanded; "
                           f"{own} cannot become {shape}.") from None
    return views.view(RULES["expand"], x, new_shape=shape)


def broadcast_to(x, shape):
    return expand(x, shape)


def cat(tensors, dim=0):
    tensors = tuple(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors\n"
                         "cat joins tensors along a dim: pass at least one, e.g. torch.cat([a, b]).")
    (d,) = _dims(tensors[0], dim)
    first = tensors[0].shape
    for i, t_ in enumerate(tensors):
        if t_.ndim != len(first):
            raise RuntimeError(f"Tensors must have same number of dimensions: got {len(first)} and {t_.ndim}\n"
                               f"cat: shapes {[tuple(u.shape) for u in tensors]}; unsqueeze or reshape first.")
        for j, (n, m) in enumerate(zip(first, t_.shape)):
            if j != d and n != m:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {d}. Expected size {n} but got size {m} "
                    f"for tensor number {i} in the list.\ncat: shapes {[tuple(u.shape) for u in tensors]}; "
                    f"every size except dim {d} must agree.")
    return apply(RULES["cat"], *tensors, dim=d, sizes=tuple(t_.shape[d] for t_ in tensors))


concat = concatenate = cat


def stack(tensors, dim=0):
    tensors = tuple(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    nd = tensors[0].ndim + 1  # PyTorch checks the dim (against the first tensor) before the sizes
    if not -nd <= dim < nd:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-nd}, {nd - 1}], but got {dim})\n"
                         f"stack: the tensors have {nd - 1} dims, so the new dim goes at {-nd}..{nd - 1}.")
    for i, t_ in enumerate(tensors):
        if t_.shape != tensors[0].shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} at "
                               f"entry 0 and {list(t_.shape)} at entry {i}\nstack: shapes "
                               f"{[tuple(u.shape) for u in tensors]}; every tensor must have the same shape.")
    return apply(RULES["stack"], *tensors, dim=dim % nd)


def clone(x):
    return apply(RULES["clone"], x)


def contiguous(x):
    """The tensor itself when its values are stored row after row, else a copy that is (x.T.contiguous())."""
    return x if x.array.flags.c_contiguous else apply(RULES["contiguous"], x)


# ----------------------------------------------------------------------- indexing
def index(x, key):
    """``x[key]`` as PyTorch reads the key (see indexing.py: an int selects before any list applies)."""
    # planned once: the forward, the grad_fn's name and the backward's scatter all read the plan
    plan = indexing.plan(x.array.shape, indexing.normalize_key(key))
    if plan.advanced is not None:  # an advanced index (a list, a mask) copies: no view
        return apply(RULES["index"], x, key=plan.key, plan=plan, name=plan.name)
    return views.view(RULES["index"], x, plan.name, key=plan.key, plan=plan)


def to(x, *args, dtype=None, **kwargs):
    """``x.to(torch.float64)``: the values as another dtype (recorded: the gradient flows back)."""
    target = dtype
    for a in args:
        if isinstance(a, dtypes.dtype):
            target = a
    target = None if target is None else dtypes.as_dtype(target)
    if target is None or target is x.dtype:
        return x
    return apply(RULES["to"], x, dtype=target.numpy)


# ----------------------------------------------------------------------- comparisons and logic
# They give bool (or integer) tensors and carry no gradient.
def _elementwise(ufunc, name, promote=False):
    def op(a, b):
        a_array = a.array if isinstance(a, Tensor) else a
        b_array = b.array if isinstance(b, Tensor) else b
        if promote and _promotable(a) and _promotable(b):  # in PyTorch's common dtype: uint8 < -1 is < 255
            a_array, b_array = cast_operands([a_array, b_array], dtypes.result_type([a, b]))
        try:
            return Tensor._from_array(np.asarray(ufunc(a_array, b_array)))
        except ValueError:
            raise errors.broadcast_mismatch(ufunc.__name__, np.shape(a_array), np.shape(b_array)) from None

    op.__name__ = name
    return op


def _promotable(x):
    return isinstance(x, Tensor) or type(x) in (builtins.bool, builtins.int, builtins.float)


eq, ne, lt, le, gt, ge = (_elementwise(f, n, promote=True) for f, n in (
    (np.equal, "eq"), (np.not_equal, "ne"), (np.less, "lt"), (np.less_equal, "le"), (np.greater, "gt"),
    (np.greater_equal, "ge")))
logical_and = _elementwise(np.logical_and, "logical_and")
logical_or = _elementwise(np.logical_or, "logical_or")
logical_xor = _elementwise(np.logical_xor, "logical_xor")


def _bitwise(ufunc, name):
    """``& | ^``: PyTorch's promotion (a bool tensor with an int gives int64), and integers or bools only."""

    def op(a, b):
        a, b = as_tensor_arg(a), as_tensor_arg(b)
        target = dtypes.result_type((a, b))
        if target.is_floating_point:
            raise NotImplementedError(f'"{name}_cpu" not implemented for \'{dtypes.type_word(target)}\'\n'
                                      f"{name} works on integer and bool tensors; compare first (x > 0) "
                                      "or convert with .long().")
        arrays = [x.array.astype(target.numpy, copy=False) if isinstance(x, Tensor) else x for x in (a, b)]
        try:
            return Tensor._from_array(np.asarray(ufunc(*arrays)).astype(target.numpy, copy=False))
        except ValueError:
            raise errors.broadcast_mismatch(name, np.shape(arrays[0]), np.shape(arrays[1])) from None

    op.__name__ = name
    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")


def bitwise_not(x):
    if x.dtype.is_floating_point:
        raise TypeError("~ (bitwise_not) is only supported for integer and boolean tensors")
    return Tensor._from_array(np.asarray(~x.array))


def logical_not(x):
    return Tensor._from_array(np.asarray(np.logical_not(x.array)))


def all(x, dim=None, keepdim=False):  # noqa: A001
    return Tensor._from_array(np.asarray(np.all(x.array, axis=dim, keepdims=_keep("all", keepdim))))


def any(x, dim=None, keepdim=False):  # noqa: A001
    return Tensor._from_array(np.asarray(np.any(x.array, axis=dim, keepdims=_keep("any", keepdim))))


def equal(a, b) -> builtins.bool:
    """True when ``a`` and ``b`` have the same shape and elements."""
    return a.shape == b.shape and builtins.bool(np.array_equal(a.array, b.array))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    other = b.array if isinstance(b, Tensor) else b
    return Tensor._from_array(np.asarray(np.isclose(a.array, other, rtol, atol, equal_nan)))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> builtins.bool:
    """True when every element of ``a`` is within ``atol + rtol * |b|`` of ``b``."""
    return builtins.bool(isclose(a, b, rtol, atol, equal_nan).array.all())


# ----------------------------------------------------------------------- the VJPs' xp, recorded
class TensorMath:
    """The names of ``ops.NumpyMath``, answered by the engine's own functions: under
    ``create_graph`` a backward pass computed with these is itself recorded."""

    records = True
    exp, log, sin, cos, sign, matmul, reshape, permute, expand = (
        staticmethod(f) for f in (exp, log, sin, cos, sign, matmul, reshape, permute, expand))

    @staticmethod
    def where(mask, a, b):
        """A VJP's mask may be a plain array (saved with the op); the public where takes tensors only."""
        return where(mask if isinstance(mask, Tensor) else Tensor._from_array(np.asarray(mask)), a, b)

    @staticmethod
    def sum(x, dims, keepdim):
        return sum(x, dims, keepdim=keepdim)

    @staticmethod
    def swap_last(x):
        return transpose(x, -1, -2)

    @staticmethod
    def take(x, key):
        return index(x, key)

    @staticmethod
    def scatter(g, shape, key):
        return apply(RULES["scatter"], g, shape=shape, key=key)

    @staticmethod
    def replay(x, steps):
        for rule, params, _ in steps:
            x = apply(rule, x, **params)
        return x

    def put(value, shape, key):
        zeros = Tensor._from_array(np.zeros(shape, dtype=value.array.dtype))
        return apply(RULES["setitem"], zeros, value, key=key)

    @staticmethod
    def zeros_like(x):
        return mul(x, 0)  # recorded, so a gradient of this gradient is zero too

    @staticmethod
    def named(x, name):
        """``x``, its node named as PyTorch names what a backward computed (TanhBackwardBackward0)."""
        if x.grad_fn is not None:
            x.grad_fn._name = name
        return x

    @staticmethod
    def select(mask, g, source, name=None):
        """``g`` where ``mask``, else zeros made from ``source`` (None: plain 0). With a source the result
        stays on the graph with a zero derivative, as PyTorch's threshold_backward for relu, so a
        gradient of relu's gradient is zeros rather than an error. Zeros by fill: source * 0 is nan at inf."""
        zeros = 0.0 if source is None else apply(RULES["fill"], source, value=0)
        out = TensorMath.where(mask, g, zeros)
        return out if name is None else TensorMath.named(out, name)

    @staticmethod
    def cast(x, dtype):
        return to(x, dtypes.from_numpy(dtype))

    @staticmethod
    def copy(x):
        return clone(x)
