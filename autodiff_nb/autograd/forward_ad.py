"""``autodiff_nb.autograd.forward_ad``: PyTorch's dual numbers, for forward mode.

A dual tensor is a value with a tangent: the direction in which it moves. Inside a dual level every
op moves the tangents of its inputs on to its output (the JVPs of ``ops.RULES``, see
``forward.push``), so one pass computes f(x) and its directional derivative J·v together::

    >>> import autodiff_nb as torch
    >>> import autodiff_nb.autograd.forward_ad as fwAD
    >>> with fwAD.dual_level():
    ...     x = fwAD.make_dual(torch.tensor([0., 1.]), torch.tensor([1., 0.]))
    ...     fwAD.unpack_dual(x.sin() * 2).tangent      # 2 cos(x) times the direction
    tensor([2., 0.])

When the level closes, every tangent made in it is gone.
"""
from __future__ import annotations

import functools
import itertools
from collections import namedtuple

from .. import errors
from ..forward import attach, tangent_of
from ..functions import TensorMath, reshape
from ..grad_mode import dual, mode
from ..tensor import Tensor

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]

UnpackedDualTensor = namedtuple("UnpackedDualTensor", ["primal", "tangent"])
UnpackedDualTensor.__doc__ = "What ``unpack_dual`` returns: ``(primal, tangent)``; the tangent is None for a plain tensor."

# Every level gets a new number, so a tangent left on a tensor by a closed level is never read again
# (forward.tangent_of compares levels); the number PyTorch shows for its only level is 0.
_level_ids = itertools.count(1)


def enter_dual_level():
    """Open a dual level (prefer ``with dual_level():``). Returns its number, 0 as PyTorch's."""
    if dual.level is not None:
        raise errors.nested_dual_level()
    dual.level = next(_level_ids)
    dual.recorded_math = TensorMath
    return 0


def exit_dual_level(*, level=None):
    """Close the dual level: the tangents made in it are dropped."""
    if dual.level is None:
        raise RuntimeError("Dual level must be a positive number.\nNo dual level is open: call "
                           "exit_dual_level() once for each enter_dual_level(), or use with dual_level():.")
    dual.level = None


class dual_level:  # noqa: N801  (PyTorch's name)
    """``with dual_level():`` opens a level for dual tensors and closes it on the way out, also when
    an error leaves the block. Works as a decorator too."""

    def __enter__(self):
        return enter_dual_level()

    def __exit__(self, *exc):
        exit_dual_level()
        return False

    def __call__(self, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with dual_level():
                return function(*args, **kwargs)

        return wrapper


def make_dual(tensor, tangent, *, level=None):
    """A view of ``tensor`` that carries ``tangent`` (kept as given, not copied, as in PyTorch)."""
    if dual.level is None:
        raise errors.no_dual_level()
    for value in (tensor, tangent):
        if not isinstance(value, Tensor):
            raise AttributeError(f"'{type(value).__name__}' object has no attribute 'is_floating_point'\n"
                                 "make_dual takes two tensors: make_dual(torch.tensor(x), torch.tensor(v)).")
    if tensor.array.dtype.kind != "f":
        raise errors.dual_not_float("primal", tensor.dtype)
    if tangent.array.dtype.kind != "f":
        raise errors.dual_not_float("tangent", tangent.dtype)
    if tangent.array.shape != tensor.array.shape:
        raise errors.tangent_size(tensor.array.shape, tangent.array.shape)
    if tangent_of(tensor) is not None:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward gradient at the "
                           "same level 0 is not supported.\nUnpack it first: make_dual(unpack_dual(x).primal, "
                           "tangent).")
    out = _view(tensor, "ViewBackward0")
    attach(out, tangent)
    return out


def _view(tensor, name):
    """The same values (a view, sharing the version counter); recorded as ``name`` when it must be."""
    if tensor.requires_grad and mode.enabled:
        return reshape(tensor, tensor.array.shape, _name=name)
    return Tensor._from_array(tensor.array, tensor._version_counter)


def unpack_dual(tensor, *, level=None):
    """``(primal, tangent)``: the value as a view without its tangent, and the tangent (None if it has none)."""
    if dual.level is None:
        return UnpackedDualTensor(tensor, None)  # as PyTorch: no level, nothing to unpack, whatever it is
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, not "
                        f"{type(tensor).__name__}\nunpack_dual takes a tensor, such as one made by make_dual.")
    tangent = tangent_of(tensor)
    level, dual.level = dual.level, None  # the primal: the same values, without the tangent (a view, as PyTorch's)
    try:
        primal = _view(tensor, "Identity")  # the name PyTorch prints: grad_fn=<Identity>
    finally:
        dual.level = level
    return UnpackedDualTensor(primal, tangent)
