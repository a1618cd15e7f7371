"""The dtypes a Tensor can hold, and PyTorch's type-promotion rules.

PyTorch differs from numpy in two ways that learners see in printed output:
Python scalars never widen a tensor (``float32_tensor * 2.5`` stays float32),
and mixing an integer tensor with a float promotes to the *default* float
(float32), not float64. ``result_type`` is the one place that knows this.
"""
from __future__ import annotations

import builtins

import numpy as np


class dtype:
    """A tensor element type, printed the way PyTorch prints it (``torch.float32``)."""

    __slots__ = ("name", "numpy", "is_floating_point", "is_signed", "itemsize", "_kind")

    def __init__(self, name: str, numpy_dtype, kind: int):
        self.name = name
        self.numpy = np.dtype(numpy_dtype)
        self._kind = kind  # 0 bool, 1 integer, 2 floating: the promotion category
        self.is_floating_point = kind == 2
        self.is_signed = self.numpy.kind in "if"
        self.itemsize = self.numpy.itemsize

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float16 = half = dtype("float16", np.float16, 2)
float32 = float = dtype("float32", np.float32, 2)
float64 = double = dtype("float64", np.float64, 2)
uint8 = dtype("uint8", np.uint8, 1)
int8 = dtype("int8", np.int8, 1)
int16 = short = dtype("int16", np.int16, 1)
int32 = int = dtype("int32", np.int32, 1)
int64 = long = dtype("int64", np.int64, 1)
bool = dtype("bool", np.bool_, 0)

ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
_FROM_NUMPY = {d.numpy: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}

# The dtype a category takes when only a Python scalar or a 0-d tensor brings it in.
DEFAULT_FOR_KIND = {0: bool, 1: int64, 2: float32}


def _by_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_numpy(np_dtype) -> dtype:
    """The dtype for a numpy dtype; float64 arrays stay float64 (as torch.from_numpy)."""
    try:
        return _FROM_NUMPY[np_dtype]  # a numpy dtype object already: the common case, no conversion
    except (KeyError, TypeError):
        pass
    try:
        return _FROM_NUMPY[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type {np.dtype(np_dtype)}. The only supported types are: "
            "float64, float32, float16, int64, int32, int16, int8, uint8, and bool."
        ) from None


def as_dtype(value) -> dtype:
    """Accept our dtype, a numpy dtype, or Python's ``float``/``int``/``bool`` builtins."""
    if isinstance(value, dtype):
        return value
    builtin = {builtins.float: float32, builtins.int: int64, builtins.bool: bool}.get(value)
    if builtin is not None:
        return builtin
    return from_numpy(value)


def scalar_kind(value) -> int:
    if isinstance(value, builtins.bool):
        return 0
    if isinstance(value, builtins.int):
        return 1
    return 2


def result_type(operands) -> dtype:
    """PyTorch's promotion over tensors (dimensioned first, then 0-d) and Python scalars.

    ``operands`` holds Tensors and Python numbers. The highest category (bool < int < float)
    wins; inside it, dimensioned tensors decide, then 0-d tensors, then the default dtype.
    """
    best_kind = -1
    tiers = ([], [])  # dtypes of dimensioned tensors, of 0-d tensors
    for op in operands:
        dt = getattr(op, "dtype", None)
        if dt is None:
            kind = scalar_kind(op)
        else:
            kind = dt._kind
            tiers[op.array.ndim == 0].append(dt)
        if kind > best_kind:
            best_kind = kind
    for tier in tiers:
        members = [d for d in tier if d._kind == best_kind]
        if members:
            return from_numpy(np.result_type(*(d.numpy for d in members)))
    return DEFAULT_FOR_KIND[best_kind]


_TYPE_WORDS = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool",
               "float16": "Half", "float32": "Float", "float64": "Double"}


def type_word(dt: dtype) -> str:
    """PyTorch's word for a dtype in messages and type names: Long, Int, Bool, Float ..."""
    return _TYPE_WORDS[dt.name]
