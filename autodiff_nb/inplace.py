"""In-place changes: ``x += 1``, ``x.mul_(2)``, ``x[0] = 5``, ``x.zero_()``, ``w.normal_(0, 0.01)``.

A recorded tensor changed in place takes the history of the change, as in PyTorch: ``y.mul_(2)``
records ``mul`` on an alias of the old ``y``, and ``y`` becomes that op's output. Every change bumps
the tensor's version counter (shared by its views), which backward checks so that it never reads
a value that changed since it was saved. A change through a view is recorded on its base (views.py).
"""
from __future__ import annotations

import numpy as np

from . import dtypes, errors, functions as fn, indexing, views
from .creation import as_tensor_arg, rng
from .forward import attach, tangent_of
from .grad_mode import dual, mode
from .ops import RULES, apply, replay
from .tensor import Tensor


def inplace(t, recorded, raw, other=None, *, overlap_ok=False):
    """Change ``t`` in place.

    ``raw(array)`` changes the values directly: nothing to record (an SGD step under no_grad).
    ``recorded(old)`` computes the new value as an ordinary recorded op on an alias of the old
    value; ``t`` then takes the result's values and history, and its tangent: forward mode runs
    under no_grad too, so a tensor with a tangent (or a tangent coming in) takes this way always.
    A change through a view is a change of its base, recorded on the base (views.through).
    ``overlap_ok``: the op may write into a view that repeats elements (PyTorch's fill_ and zero_ may).
    """
    if not overlap_ok:
        views.refuse_overlap(t)
    other_grad = isinstance(other, Tensor) and other.requires_grad
    counter = t._version_counter  # a view's is its base's: the change below bumps both
    records = mode.enabled and (t.requires_grad or other_grad) and recorded is not None
    carries = recorded is not None and dual.level is not None and (
        tangent_of(t) is not None or (isinstance(other, Tensor) and tangent_of(other) is not None))
    if records or carries:
        changed = t
        if t._view is not None:  # the new history is the base's; the view's is remade from it when read
            changed, recorded = t._view.base, views.through(t._view, recorded)
        if records and changed.requires_grad and changed.grad_fn is None:
            raise errors.inplace_on_leaf(view=changed is not t)
        base_had = changed is t or tangent_of(changed) is not None
        old = Tensor._from_array(changed.array.copy())
        old.grad_fn, old.requires_grad = changed.grad_fn, changed.requires_grad
        old._tangent = changed._tangent if base_had else _region_tangent(t)
        result = recorded(old)
        views.check_fits(changed.array.shape, result.array.shape)
        _check_storable(result.array.dtype, changed.array.dtype)
        changed.array[...] = result.array
        if records:
            changed.grad_fn, changed.requires_grad = result.grad_fn, result.requires_grad
            if result.grad_fn is not None:  # the node's output is now the changed tensor, one version on
                result.grad_fn.out_counter, result.grad_fn.out_version = counter, counter[0] + 1
        if changed is t:
            _take_tangent(t, tangent_of(result))
        else:
            _tangent_through_view(t, changed, tangent_of(result), base_had)
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


def _region_tangent(view):
    """A view's tangent seen from its base, which has none: zeros outside the view's region."""
    own = tangent_of(view)
    if own is None:
        return None
    whole = np.zeros(view._view.base.array.shape, own.array.dtype)
    replay(whole, view._view.steps)[...] = own.array
    return dual.level, Tensor._from_array(whole)


def _tangent_through_view(view, base, new, base_had):
    """After a change through a view, as PyTorch: the view's own tangent (make_dual's, or a view of
    its base's) changes in place. The base takes the new tangent when it had one, or when the view
    had none; the view's tangent is then a view of the base's."""
    if new is None:
        return
    own = tangent_of(view)
    if base_had or own is None:
        _take_tangent(base, new)
        new = tangent_of(base)
    region = Tensor._from_array(replay(new.array, view._view.steps))
    if own is None:
        attach(view, region)
    else:
        _take_tangent(view, region)


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
    if array.dtype.kind != "f":  # a float tensor holds any result; an integer or bool one may not
        result = dtypes.result_type([Tensor._from_array(array), other])  # PyTorch's, not numpy's
        if ufunc is np.true_divide and not result.is_floating_point:
            result = dtypes.float32  # a division is float, even of integers
        _check_storable(np.dtype(result.numpy), array.dtype)
    other = other.array if isinstance(other, Tensor) else other
    try:
        ufunc(array, other, out=array, casting="unsafe")
    except ValueError:
        raise RuntimeError(
            f"output with shape {list(array.shape)} doesn't match the broadcast shape "
            f"{list(np.broadcast_shapes(array.shape, np.shape(other)))}\nAn in-place op cannot change "
            "the tensor's shape; write x = x + y instead.") from None


_KIND_ORDER = {"b": 0, "u": 1, "i": 1, "f": 2}


def _check_storable(result, target):
    """PyTorch's rule for writing a result into an existing tensor: never float into an integer
    tensor, nor a number into a bool one (int x -= 0.5 is refused rather than rounded)."""
    if _KIND_ORDER[result.kind] > _KIND_ORDER[target.kind]:
        words = dtypes.type_word(dtypes.from_numpy(result)), dtypes.type_word(dtypes.from_numpy(target))
        raise RuntimeError(f"result type {words[0]} can't be cast to the desired output type {words[1]}\n"
                           "This tensor's dtype cannot hold the result: convert it first (x = x.float()) or "
                           "use an out-of-place op (x = x - y).")


def zero_(t):
    """Set every element to 0 in place: ``x.grad.zero_()`` before the next backward."""
    return inplace(t, lambda old: apply(RULES["fill"], old, value=0, name="ZeroBackward0"),
                   lambda array: array.fill(0), overlap_ok=True)


def fill_(t, value):
    value = value.item() if isinstance(value, Tensor) else value
    return inplace(t, lambda old: apply(RULES["fill"], old, value=value), lambda array: array.fill(value),
                   overlap_ok=True)


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
    """``x[key] = value`` as PyTorch runs it: the key's ints, slices and None take a view of ``x``
    (none when they keep all of it: ``x[:]``), then the value is written into that view: by an
    index_put when the key has lists or masks, else by a copy (a fill for a single number). Written
    through a view, the change is recorded on ``x`` as CopySlices (views.py)."""
    key = indexing.normalize_key(key)
    if key is False:  # PyTorch's x[False] = v writes nothing, checks nothing and records nothing
        return
    value = as_tensor_arg(value)
    try:
        plan = indexing.plan(x.array.shape, key)
    except (IndexError, RuntimeError):
        _refuse_leaf(x, key)  # PyTorch refuses a leaf before it reads the key's lists and masks
        raise
    target = x if _keeps_all(x.array, key, plan.basic) else fn.index(x, plan.basic)
    rest = Ellipsis if plan.advanced is None else plan.advanced
    value_shape = np.shape(value.array if isinstance(value, Tensor) else value)
    if plan.advanced is not None:
        name = "IndexPutBackward0"
    elif value_shape == () and target.array.shape != ():  # a single number fills
        name = "FillBackward3"
    else:
        name = "CopyBackwards"
    def put(old):
        _check_index_put(x, key, value, plan)
        return apply(RULES["setitem"], old, value, key=rest, name=name)

    def put_values(array):
        _check_index_put(x, key, value, plan)
        indexing.setitem(array, rest, value.array if isinstance(value, Tensor) else value)

    inplace(target, put, put_values, value, overlap_ok=False)


def _check_index_put(x, key, value, plan):
    """PyTorch's index_put does not convert the value's dtype; a mask with a one-element value is a
    masked_fill, which does (checked after the leaf check, as PyTorch orders them)."""
    if plan.advanced is None or not isinstance(value, Tensor) or value.dtype is x.dtype:
        return
    parts = key if isinstance(key, tuple) else (key,)
    by_position = any(isinstance(k, np.ndarray) and k.dtype.kind in "iu" for k in parts)
    if by_position or value.array.size != 1:
        raise RuntimeError(
            "Index put requires the source and destination dtypes match, got "
            f"{dtypes.type_word(x.dtype)} for the destination and {dtypes.type_word(value.dtype)} for the "
            "source.\nConvert the value first: x[key] = value.to(x.dtype).")


def _keeps_all(array, key, basic):
    """Whether the key's ints, slices and None keep all of ``array`` as it is, so that PyTorch writes
    into the tensor itself, not into a view of it: only Ellipsis, and slices that start at 0 (as
    written: ``x[-2:]`` of two rows is a view), step by 1 and stop at the end or beyond."""
    for k in key if isinstance(key, tuple) else (key,):
        if k is None or k is True or isinstance(k, (int, np.integer)):
            return False
        if isinstance(k, slice) and (k.start not in (None, 0) or k.step not in (None, 1)):
            return False
    view = array[basic]
    return view.shape == array.shape and view.__array_interface__ == array.__array_interface__


def _refuse_leaf(x, key):
    """A key that does not fit ``x`` when ``x`` (or its base) is a leaf that requires grad: PyTorch
    reads the key's ints and slices (a view), then refuses the leaf, then reads the lists and masks."""
    indexing.plan(x.array.shape, _lists_as_slices(key))
    base = x if x._view is None else x._view.base
    if mode.enabled and base.requires_grad and base.grad_fn is None:
        raise errors.inplace_on_leaf(view=base is not x or not _keeps_all(x.array, key, (Ellipsis,)))


def _lists_as_slices(key):
    """The key with each list or mask replaced by full slices over the dims it indexes."""
    parts = []
    for k in key if isinstance(key, tuple) else (key,):
        if isinstance(k, np.ndarray):
            parts += [slice(None)] * (k.ndim if k.dtype == np.bool_ else 1)
        else:
            parts.append(k)
    return tuple(parts)
