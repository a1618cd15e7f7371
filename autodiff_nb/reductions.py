"""Reductions and scans added for the course: ``cumsum``, ``cumprod``, ``prod``, ``var``, ``std``,
``logsumexp``.

Each normalises PyTorch's arguments (``dim``, ``keepdim``, ``correction`` / ``unbiased``), then runs
its rule of ``ops.RULES``, where its forward sits beside its VJP.
"""
from __future__ import annotations

from . import dtypes
from .functions import _dims
from .ops import RULES, apply


def cumsum(x, dim=None, *, dtype=None, axis=None):
    """Running sums along ``dim``: ``torch.cumsum(torch.tensor([1, 2, 3]), 0)`` is ``tensor([1, 3, 6])``.

    ``x.cumsum(axis=0)`` works too (the textbook's spelling)."""
    dim = dim if dim is not None else axis
    if dim is None:
        raise TypeError("cumsum() missing 1 required positional arguments: \"dim\"\n"
                        "Say along which dim to add up, e.g. x.cumsum(0) or x.cumsum(axis=0).")
    if dtype is not None:
        x = x.to(dtypes.as_dtype(dtype))
    (d,) = _dims(x, dim) or (0,)  # a 0-d tensor: dim 0 or -1, and its running sum is itself
    return apply(RULES["cumsum"], x, dim=d)


def cumprod(x, dim=None, *, dtype=None):
    """Running products along ``dim``: ``torch.cumprod(torch.tensor([1, 2, 3]), 0)`` is ``tensor([1, 2, 6])``."""
    if dim is None:
        raise TypeError("cumprod() missing 1 required positional arguments: \"dim\"\n"
                        "Say along which dim to multiply up, e.g. x.cumprod(0).")
    if dtype is not None:
        x = x.to(dtypes.as_dtype(dtype))
    (d,) = _dims(x, dim) or (0,)
    return apply(RULES["cumprod"], x, dim=d)


def prod(x, dim=None, keepdim=False, *, dtype=None):
    """Product of all elements (``ProdBackward0``), or along one ``dim`` (``ProdBackward1``):
    ``torch.prod(torch.tensor([[1., 2.], [3., 4.]]), 1)`` is ``tensor([ 2., 12.])``."""
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"prod() received an invalid combination of arguments - got ({type(dim).__name__}), but "
                        "expected one of:\n * (*, torch.dtype dtype = None)\n"
                        " * (int dim, bool keepdim = False, *, torch.dtype dtype = None)\n"
                        f"prod takes one dim at a time: for dims {dim}, call prod once per dim.")
    if dtype is not None:
        x = x.to(dtypes.as_dtype(dtype))
    if dim is None:
        return apply(RULES["prod"], x, dims=None, keepdim=False, name="ProdBackward0")
    dims = _dims(x, dim)
    return apply(RULES["prod"], x, dims=dims or None, keepdim=bool(keepdim) and x.ndim > 0, name="ProdBackward1")


def _correction(correction, unbiased):
    if correction is not None:
        return correction
    return 1 if unbiased is None or unbiased else 0


def _spread(rule, x, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # x.var(False): the old positional unbiased argument
        dim, unbiased = None, dim
    if not x.dtype.is_floating_point:
        raise RuntimeError("std and var only support floating point and complex dtypes\n"
                           f"This tensor is {dtypes.type_word(x.dtype)}: convert it first, x.float().{rule}().")
    return apply(RULES[rule], x, dims=_dims(x, dim), correction=_correction(correction, unbiased),
                 keepdim=bool(keepdim))


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Variance: the mean squared distance from the mean, divided by ``n - correction`` (1 by default,
    Bessel's correction; ``unbiased=False`` or ``correction=0`` divides by ``n``)."""
    return _spread("var", x, dim, unbiased, keepdim, correction)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Standard deviation: ``sqrt(var(...))`` with the same arguments."""
    return _spread("std", x, dim, unbiased, keepdim, correction)


def logsumexp(x, dim, keepdim=False):
    """``log(sum(exp(x)))`` along ``dim``, computed without overflow (the largest value taken out first)."""
    if not x.dtype.is_floating_point:
        x = x.to(dtypes.float32)  # PyTorch gives float32 for integer input
    return apply(RULES["logsumexp"], x, dims=_dims(x, dim), keepdim=bool(keepdim))

