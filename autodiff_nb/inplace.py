"""In-place changes: ``x += 1``, ``x.mul_(2)``, ``x[0] = 5``, ``x.zero_()``, ``w.normal_(0, 0.01)``.

A recorded tensor changed in place takes the history of the change, as in PyTorch: ``y.mul_(2)``
records ``mul`` on an alias of the old ``y``, and ``y`` becomes that op's output. Every change bumps
the tensor's version counter, which backward checks so that it never reads a value that changed
since it was saved.
"""
from __future__ import annotations

import numpy as np

from . import errors, functions as fn, indexing
from .creation import as_tensor_arg, rng
from .forward import attach, tangent_of
from .grad_mode import dual, mode
from .ops import RULES, apply
from .tensor import Tensor

_VIEW_RULES = frozenset(RULES[k] for k in ("index", "reshape", "permute", "expand"))


def inplace(t, recorded, raw, other=None, *, leaf_view=False):
    """Change ``t`` in place.

    ``raw(array)`` changes the values directly: nothing to record (an SGD step under no_grad).
    ``recorded(old)`` computes the new value as an ordinary recorded op on an alias of the old
    value; ``t`` then takes the result's values and history, and its tangent: forward mode runs
    under no_grad too, so a tensor with a tangent (or a tangent coming in) takes this way always.
    ``leaf_view`` says the change goes through a view (``x[0] = 1``), which PyTorch words differently.
    """
    other_grad = isinstance(other, Tensor) and other.requires_grad
    counter = t._version_counter
    records = mode.enabled and (t.requires_grad or other_grad) and recorded is not None
    carries = recorded is not None and dual.level is not None and (
        tangent_of(t) is not None or (isinstance(other, Tensor) and tangent_of(other) is not None))
    if records or carries:
        if records and t.requires_grad and t.grad_fn is None:
            raise errors.inplace_on_leaf(view=leaf_view)
        if records:
            _refuse_view_of_recorded(t)
        old = Tensor._from_array(t.array.copy())
        old.grad_fn, old.requires_grad, old._tangent = t.grad_fn, t.requires_grad, t._tangent
        result = recorded(old)
        if result.array.shape != t.array.shape:
            raise RuntimeError(
                f"output with shape {list(t.array.shape)} doesn't match the broadcast shape "
                f"{list(result.array.shape)}\nAn in-place op cannot change the tensor's shape; "
                "write x = x + y instead.")
        t.array[...] = result.array
        if records:
            t.grad_fn, t.requires_grad = result.grad_fn, result.requires_grad
            if result.grad_fn is not None:  # the node's output is now t, one version on
                result.grad_fn.out_counter, result.grad_fn.out_version = counter, counter[0] + 1
        _take_tangent(t, tangent_of(result))
    else:
        raw(t.array)
    counter[0] += 1
    return t


def _take_tangent(t, tangent):
    """``t``'s tangent becomes ``tangent``: written into the tangent it has when it can be, as PyTorch
    does, so a view's tangent (a view of its base's tangent, ``x[1:]``) changes its base's too."""
    if tangent is None:
        return
    own = tangent_of(t)
    if (own is not None and own.array.flags.writeable and own.array.shape == tangent.array.shape
            and own.array.dtype == tangent.array.dtype and not own.requires_grad and not tangent.requires_grad):
        own.array[...] = tangent.array
        own._version_counter[0] += 1
    else:
        attach(t, tangent)


def _refuse_view_of_recorded(t):
    """An in-place change through a view (a slice, reshape, transpose) would write into the base
    tensor's memory without changing the base's recorded history: its gradient would silently be
    wrong. PyTorch rebases the history (CopySlices); this engine refuses, and says what to write."""
    node = t.grad_fn
    if node is None or node.rule not in _VIEW_RULES or node.released:
        return
    base = node.inputs[0]
    if isinstance(base, Tensor) and np.shares_memory(t.array, base.array):
        if base.grad_fn is None and base.requires_grad:
            raise errors.inplace_on_leaf(view=True)
        raise errors.inplace_on_view(node.name())


def _binary(ufunc, op):
    """``x.add_(y)`` and friends: the recorded op, or under no_grad the ufunc straight into the array."""

    def method(t, other, *, alpha=1):
        other = as_tensor_arg(other if alpha == 1 else other * alpha)
        return inplace(t, lambda old: op(old, other), lambda array: _ufunc_into(ufunc, array, other), other)

    method.__name__ = op.__name__ + "_"
    return method


add_ = _binary(np.add, fn.add)
sub_ = _binary(np.subtract, fn.sub)
mul_ = _binary(np.multiply, fn.mul)
div_ = _binary(np.true_divide, fn.div)


def _ufunc_into(ufunc, array, other):
    other = other.array if isinstance(other, Tensor) else other
    try:
        ufunc(array, other, out=array, casting="same_kind")
    except np._core._exceptions._UFuncOutputCastingError:
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type "
            f"{Tensor._from_array(array).type()[6:-6]}\nThis tensor holds integers: convert it first "
            "(x = x.float()) or use an out-of-place op.") from None
    except ValueError:
        raise RuntimeError(
            f"output with shape {list(array.shape)} doesn't match the broadcast shape "
            f"{list(np.broadcast_shapes(array.shape, np.shape(other)))}\nAn in-place op cannot change "
            "the tensor's shape; write x = x + y instead.") from None


def zero_(t):
    """Set every element to 0 in place: ``x.grad.zero_()`` before the next backward."""
    return inplace(t, lambda old: apply(RULES["fill"], old, value=0, name="ZeroBackward0"),
                   lambda array: array.fill(0))


def fill_(t, value):
    value = value.item() if isinstance(value, Tensor) else value
    return inplace(t, lambda old: apply(RULES["fill"], old, value=value), lambda array: array.fill(value))


def copy_(t, src):
    src = as_tensor_arg(src)
    return inplace(t, lambda old: apply(RULES["copy"], old, src),
                   lambda array: np.copyto(array, src.array if isinstance(src, Tensor) else src, casting="unsafe"),
                   src)


def clamp_(t, min=None, max=None):
    return inplace(t, lambda old: fn.clamp(old, min, max), lambda array: np.clip(array, min, max, out=array))


def normal_(t, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples of N(mean, std²): ``w.data.normal_(0, 0.01)``. Not recorded."""
    return inplace(t, None, lambda array: array.__setitem__(..., rng(generator).normal(mean, std, array.shape)))


def uniform_(t, a=0.0, b=1.0, *, generator=None):
    """Fill with samples of U(a, b). Not recorded."""
    return inplace(t, None, lambda array: array.__setitem__(..., rng(generator).uniform(a, b, array.shape)))


def setitem(x, key, value):
    """``x[key] = value``, recorded as PyTorch's CopySlices when a gradient is involved."""
    key = indexing.normalize_key(key)
    if key is False:  # PyTorch's x[False] = v writes nothing, checks nothing and records nothing
        return
    value = as_tensor_arg(value)
    name = _setitem_name(key, value)
    inplace(x, lambda old: apply(RULES["setitem"], old, value, key=key, name=name),
            lambda array: indexing.setitem(array, key, value.array if isinstance(value, Tensor) else value),
            value, leaf_view=name == "CopySlices")


def _setitem_name(key, value):
    parts = key if isinstance(key, tuple) else (key,)
    if any(not (k is None or k is Ellipsis or isinstance(k, slice)
                or (isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)))) for k in parts):
        return "IndexPutBackward0"
    if all(k is Ellipsis for k in parts):
        return "CopyBackwards" if isinstance(value, Tensor) else "FillBackward3"
    return "CopySlices"
