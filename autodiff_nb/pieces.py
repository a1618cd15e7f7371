"""Ops that cut a tensor into pieces, repeat it or mask it, and the batched and fused matrix products:
``chunk``, ``split``, ``repeat``, ``tile``, ``masked_fill``, ``bmm``, ``addmm``.

``chunk`` and ``split`` are slices (the ``index`` rule, named as PyTorch names them); the others run
their own rules of ``ops.RULES``.
"""
from __future__ import annotations

import numpy as np

from . import dtypes, errors, indexing
from .creation import as_tensor_arg
from .functions import _CPP_NAMES, _dims, _mixed_dtypes, _shape_args
from .ops import RULES, apply
from .tensor import Tensor


def _slices(x, d, sizes, name):
    pieces, start = [], 0
    for n in sizes:
        key = (slice(None),) * d + (slice(start, start + n),)
        pieces.append(apply(RULES["index"], x, key=key, plan=indexing.plan(x.array.shape, key), name=name))
        start += n
    return tuple(pieces)


def _only_dim(x, dim):
    (d,) = _dims(x, dim) or (0,)
    if x.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor\nA 0-d tensor has nothing to cut; "
                           "reshape it first: x.reshape(1).")
    return d


def split(x, split_size_or_sections, dim=0):
    """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed sizes:
    ``torch.arange(5).split([2, 3])``."""
    d = _only_dim(x, dim)
    length = x.array.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = [int(n) for n in split_size_or_sections]
        if sum(sizes) != length:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {length} (input tensor's "
                               f"size at dimension {d}), but got split_sizes={sizes}\nsplit: shape "
                               f"{tuple(x.shape)} has {length} along dim {d}; the sizes must add up to it.")
        return _slices(x, d, sizes, "SplitWithSizesBackward0")
    size = int(split_size_or_sections)
    if size <= 0 and length:
        raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {length}"
                           f"\nsplit: give a positive piece size, e.g. x.split(2, dim={d}).")
    sizes = [min(size, length - start) for start in range(0, length, size)] if length else [0]
    return _slices(x, d, sizes, "SplitBackward0")


def chunk(x, chunks, dim=0):
    """``chunks`` pieces of equal size along ``dim`` (the last may be smaller), as ``torch.chunk``."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}\n"
                           "Say into how many pieces to cut, e.g. x.chunk(2).")
    d = _only_dim(x, dim)
    length = x.array.shape[d]
    size = -(-length // chunks)  # PyTorch's pieces: ceil(length / chunks) each
    return split(x, size, d) if length else split(x, [0] * 1, d)


def repeat(x, *repeats):
    """The tensor copied ``repeats[i]`` times along dim ``i`` (more repeats than dims add leading dims):
    ``torch.tensor([1, 2]).repeat(2)`` is ``tensor([1, 2, 1, 2])``."""
    repeats = _shape_args(repeats)
    if len(repeats) < x.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions of "
                           f"tensor\nrepeat: shape {tuple(x.shape)} needs {x.ndim} repeat counts, got "
                           f"{list(repeats)}; use 1 for a dim to keep, or tile() which fills them in.")
    return apply(RULES["repeat"], x, repeats=repeats)


def tile(x, dims):
    """``repeat`` with missing leading counts taken as 1: ``x.tile((2,))`` on a matrix repeats its columns."""
    dims = _shape_args((dims,)) if not isinstance(dims, int) else (dims,)
    return repeat(x, (1,) * (x.ndim - len(dims)) + tuple(dims))


def masked_fill(x, mask, value):
    """``value`` where ``mask`` is True, ``x`` elsewhere; the mask broadcasts against ``x``."""
    if not isinstance(mask, Tensor) or mask.dtype is not dtypes.bool:
        kind = _CPP_NAMES[mask.dtype.name] if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype {kind}\n"
                           "Make the mask a comparison, e.g. x.masked_fill(x < 0, 0.0), or convert it: mask.bool().")
    value = value.item() if isinstance(value, Tensor) else value
    try:
        shape = np.broadcast_shapes(x.array.shape, mask.array.shape)
    except ValueError:
        raise errors.broadcast_mismatch("masked_fill", mask.array.shape, x.array.shape) from None
    if shape != x.array.shape:
        raise RuntimeError(f"masked_fill: the mask's shape {tuple(mask.shape)} broadcasts to {shape}, not to "
                           f"the tensor's {tuple(x.shape)}\nThe mask may only have dims of size 1 where x does not.")
    return apply(RULES["masked_fill"], x, mask=mask.array, value=value)


def bmm(a, b):
    """Batches of matrix products: (B, n, m) @ (B, m, p) -> (B, n, p), no broadcasting."""
    for name, t in (("batch1", a), ("batch2", b)):
        if t.ndim != 3:
            raise RuntimeError(f"{name} must be a 3D tensor\nbmm: shapes {tuple(a.shape)} and {tuple(b.shape)}; "
                               "bmm takes two (batch, rows, cols) tensors (matmul broadcasts other shapes).")
    if b.shape[0] != a.shape[0] or b.shape[1] != a.shape[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{a.shape[0]}, "
                           f"{a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}].\nbmm: shapes {tuple(a.shape)} "
                           f"and {tuple(b.shape)}: the batch sizes must agree and a's columns match b's rows.")
    if a.dtype is not b.dtype:
        raise RuntimeError(f"expected scalar type {dtypes.type_word(a.dtype)} but found "
                           f"{dtypes.type_word(b.dtype)}\nbmm: convert one first, e.g. b.to(a.dtype).")
    return apply(RULES["bmm"], a, b)


def addmm(bias, mat1, mat2):
    """``bias + mat1 @ mat2`` as one op (``AddmmBackward0``), the way ``nn.Linear`` runs on a batch."""
    bias = as_tensor_arg(bias)
    for name, t in (("self", bias), ("mat1", mat1)):  # PyTorch's order: the bias, then mat1, against mat2
        if t.dtype != mat2.dtype:
            raise _mixed_dtypes(f"{name} and mat2 must have the same dtype, but got "
                                f"{dtypes.type_word(t.dtype)} and {dtypes.type_word(mat2.dtype)}", t, mat2)
    if mat1.shape[-1] != mat2.shape[0]:
        raise errors.matmul_mismatch("addmm", mat1.shape, mat2.shape)
    return apply(RULES["addmm"], bias, mat1, mat2)
