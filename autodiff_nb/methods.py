"""Tensor's operators and methods, bound in one place once every layer they call exists.

``x.exp()`` is ``functions.exp(x)``, ``x * y`` is ``functions.mul(x, y)``, ``x.backward()`` is
``autograd.backward(x)``: each op has one definition, and ``tensor.py`` needs none of the layers
above it.
"""
from __future__ import annotations

import numpy as np

from . import autograd, creation, dtypes, functions as fn, inplace, pieces, reductions, sampling
from .creation import as_tensor_arg
from .ops import RULES, apply
from .tensor import Tensor

_ADD, _SUB, _MUL, _DIV = (RULES[name] for name in ("add", "sub", "mul", "div"))


def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """Walk the recorded graph backwards from this tensor, adding into each leaf's ``.grad``."""
    autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)


# The commonest operators run the rule directly (no second call through functions.add), and as in
# PyTorch ``2 * x`` is recorded as ``x * 2``: the tensor comes first.
def __add__(self, other):
    if type(other) is np.ndarray:
        return _through_numpy(np.add, self, other)
    return apply(_ADD, self, as_tensor_arg(other))


def __radd__(self, other):
    if type(other) is np.ndarray:
        return NotImplemented
    return apply(_ADD, self, as_tensor_arg(other))


def __sub__(self, other):
    if type(other) is np.ndarray:
        return _through_numpy(np.subtract, self, other)
    return apply(_SUB, self, as_tensor_arg(other))


def __mul__(self, other):
    if type(other) is np.ndarray:
        return _through_numpy(np.multiply, self, other)
    return apply(_MUL, self, as_tensor_arg(other))


def __rmul__(self, other):
    if type(other) is np.ndarray:
        return NotImplemented
    return apply(_MUL, self, as_tensor_arg(other))


def __truediv__(self, other):
    if type(other) is np.ndarray:
        return _through_numpy(np.true_divide, self, other)
    return apply(_DIV, self, as_tensor_arg(other))


def _through_numpy(ufunc, self, other):
    """``tensor + ndarray``: PyTorch hands the work to numpy, so numpy's promotion decides (float32
    plus a 0-d float64 array is float64), and a tensor that requires grad is refused, as it cannot
    become an array. ``ndarray + tensor`` is refused (the reflected operators return NotImplemented)."""
    return Tensor._from_array(np.asarray(ufunc(self.__array__(), other)))


def _with_numpy(function, ufunc):
    def method(self, other):
        if type(other) is np.ndarray:
            return _through_numpy(ufunc, self, other)
        return function(self, other)

    return method


def _refusing_numpy(function):
    def method(self, other):
        if type(other) is np.ndarray:
            return NotImplemented
        return function(other, self)

    return method


def __rtruediv__(self, other):
    """``ndarray / tensor`` is PyTorch's ``tensor.reciprocal() * ndarray``: the reciprocal in the
    tensor's dtype, then numpy multiplies (refused when the tensor requires grad)."""
    if type(other) is np.ndarray:
        return fn.reciprocal(self) * other
    return fn.div(other, self)


def _reflected(function):
    def method(self, other):
        return function(other, self)

    return method


def _tensor_operand(method):
    """``x @ 3`` is Python's "unsupported operand" TypeError, as in PyTorch: @ has no number form."""
    def checked(self, other):
        if not isinstance(other, (Tensor, np.ndarray)):
            return NotImplemented
        return method(self, other)

    return checked


def view(self, *shape):
    if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
        raise NotImplementedError("view(dtype) is not supported; use .to(dtype).")
    return fn.view(self, *shape)


def _to(target):
    def convert(self):
        return fn.to(self, target)

    return convert


METHODS = {
    "backward": backward, "__add__": __add__, "__radd__": __radd__, "__sub__": __sub__, "__mul__": __mul__,
    "__rmul__": __rmul__, "__truediv__": __truediv__,
    "__rsub__": _refusing_numpy(fn.sub), "__rtruediv__": __rtruediv__,
    "__rfloordiv__": _refusing_numpy(fn.floor_divide),
    "__rpow__": _refusing_numpy(fn.pow), "__rmatmul__": _tensor_operand(_refusing_numpy(fn.matmul)),
    "__neg__": fn.neg, "__pos__": lambda self: self, "__getitem__": fn.index, "__setitem__": inplace.setitem,
    "__floordiv__": _with_numpy(fn.floor_divide, np.floor_divide), "__pow__": _with_numpy(fn.pow, np.power),
    "__matmul__": _tensor_operand(_with_numpy(fn.matmul, np.matmul)), "__abs__": fn.abs,
    "__eq__": fn.eq, "__ne__": fn.ne, "__lt__": fn.lt, "__le__": fn.le, "__gt__": fn.gt, "__ge__": fn.ge,
    "__and__": fn.bitwise_and, "__or__": fn.bitwise_or, "__xor__": fn.bitwise_xor, "__invert__": fn.bitwise_not,
    "__rand__": _reflected(fn.bitwise_and), "__ror__": _reflected(fn.bitwise_or), "__rxor__": _reflected(fn.bitwise_xor),
    "__iadd__": inplace.add_, "__isub__": inplace.sub_, "__imul__": inplace.mul_, "__itruediv__": inplace.div_,
    "clip": fn.clamp, "view": view, "swapaxes": fn.swapaxes, "swapdims": fn.swapaxes,
    "__mod__": _with_numpy(fn.remainder, np.remainder), "__rmod__": _reflected(fn.remainder),
    "view_as": lambda self, other: fn.view(self, other.shape),
    "reshape_as": lambda self, other: fn.reshape(self, other.shape),
    "expand_as": lambda self, other: fn.expand(self, other.shape),
    "T": property(lambda self: fn.permute(self, tuple(reversed(range(self.ndim))))),
    "mT": property(lambda self: fn.transpose(self, -2, -1)),
    "float": _to(dtypes.float32), "double": _to(dtypes.float64), "half": _to(dtypes.float16),
    "long": _to(dtypes.int64), "int": _to(dtypes.int32), "bool": _to(dtypes.bool),
}
# Methods that are the function of the same name (x.exp() is torch.exp(x)): the tensor comes first.
for _name in (
    "clone", "contiguous", "sum", "mean", "max", "min", "argmax", "argmin", "norm", "softmax", "log_softmax", "reshape",
    "flatten", "transpose", "t", "permute", "squeeze", "unsqueeze", "expand", "dot", "mv", "mm", "matmul", "add",
    "sub", "mul", "div", "pow", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "neg",
    "reciprocal", "remainder", "sign", "clamp", "maximum", "minimum", "to", "eq", "ne", "lt", "le", "gt", "ge", "logical_not",
    "all", "any", "equal", "isclose", "allclose",
):
    METHODS[_name] = getattr(fn, _name)
# The course's ops (issue 12), each the function of the same name in its module
for _module, _names in ((reductions, ("cumsum", "cumprod", "prod", "var", "std", "logsumexp")),
                        (pieces, ("chunk", "split", "repeat", "tile", "masked_fill", "bmm")),
                        (sampling, ("bernoulli",)),
                        (creation, ("new_zeros", "new_ones", "new_empty", "new_full", "new_tensor"))):
    for _name in _names:
        METHODS[_name] = getattr(_module, _name)
for _name in ("add_", "sub_", "mul_", "div_", "zero_", "fill_", "copy_", "clamp_", "normal_", "uniform_"):
    METHODS[_name] = getattr(inplace, _name)

for _name, _method in METHODS.items():
    setattr(Tensor, _name, _method)
del _name, _method, _module, _names
