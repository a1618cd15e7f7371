"""Views: tensors that share their base's memory (``y[1:]``, ``y[0]``, ``y.view(-1)``, ``y.T``,
``y.expand(2, 3)``), with PyTorch's semantics.

A view remembers its base and the steps that made it from the base: each view op with its parameters
(``ViewOf``). The base is never itself a view: a view of a view has the first view's base, and both
steps. A view shares its base's version counter: one memory, one counter. Three things follow:

1. A value saved for backward and changed in place through any alias is noticed: after
   ``v = y[1:]; v += 1``, y is one version on too, so a node that saved y refuses to use it.
2. An in-place op on a view changes its base, so it is recorded as a change of the base (``through``):
   the op runs on the view's region of the old base (``AsStridedBackward0``), and the base's history
   becomes ``CopySlices``: the old base, with that region replaced by the op's result.
3. A view whose base changed in place since its ``grad_fn`` was made gets a new one when it is next
   read (``ViewOf.refresh``): ``AsStridedBackward0`` of the base's new history. So after ``z = y[0];
   y.zero_()``, a backward from z sees the zeros.

The derivatives of both (``as_strided``, ``copy_slices``) are in the one table, ``ops.RULES``.
"""
from __future__ import annotations

import numpy as np

from .ops import RULES, NumpyMath, apply, unreplay
from .tape import Node


class ViewOf:
    """What a view knows of its base: the ``base`` tensor, the ``steps`` from it (``(rule, params,
    input shape)`` per view op, replayable by ``ops.replay``) and the base's version when the view's
    grad_fn was made."""

    __slots__ = ("base", "steps", "made_at")

    def __init__(self, base, steps, made_at):
        self.base, self.steps, self.made_at = base, steps, made_at

    def refresh(self, view):
        """Run when ``view.grad_fn`` or ``view.requires_grad`` is read: if the base changed in place
        since, the view's history is the base's new history seen through the view (PyTorch remakes
        it the same way, whether or not grad mode is on)."""
        version = view._counter[0]
        if version == self.made_at:
            return
        self.made_at = version
        if self.base._requires_grad:
            view._grad_fn = Node(RULES["as_strided"], (self.base,), {"steps": self.steps}, view,
                                 "AsStridedBackward0")
            view._requires_grad = True


def view(rule, x, name=None, **params):
    """``rule`` (a view op: index, reshape, permute, expand) run on ``x`` and recorded as usual; the
    result is marked as a view of x's base. ``y[1:]`` is ``view(RULES["index"], y, key=...)``."""
    out = apply(rule, x, name=name, **params)
    record = x._view
    base, steps = (x, ()) if record is None else (record.base, record.steps)
    out._counter = base._version_counter  # made now if the base has none yet
    out._view = ViewOf(base, steps + ((rule, params, x.array.shape),), out._counter[0])
    return out


def through(record, recorded):
    """An in-place op on a view, ``recorded(old region) -> new region``, as the change of the view's
    base it is: ``old base -> new base``. The op reads the view's region of the old base; the new base
    is the old one with that region replaced by the op's result (CopySlices). Its gradient: the old
    base gets the gradient outside the region, and the op's result the gradient inside it."""

    def on_base(old_base):
        region = apply(RULES["as_strided"], old_base, steps=record.steps, name="AsStridedBackward0")
        result = recorded(region)
        check_fits(region.array.shape, result.array.shape)
        inside = unreplay(NumpyMath, np.ones(region.array.shape), record.steps) != 0
        return apply(RULES["copy_slices"], old_base, result, steps=record.steps, mask=inside,
                     repeats=repeats(region.array))

    return on_base


def check_fits(shape, result_shape):
    """An in-place op keeps the tensor's shape: ``x += y`` where ``x + y`` would be larger is refused."""
    if tuple(result_shape) != tuple(shape):
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"{list(result_shape)}\nAn in-place op cannot change the tensor's shape; "
                           "write x = x + y instead.")


def repeats(array):
    """Whether ``array`` shows some element of its memory more than once (an expand's stride 0)."""
    return array.size > 1 and any(s == 0 and n > 1 for n, s in zip(array.shape, array.strides))


def refuse_overlap(t):
    """A view that repeats elements (an expand) cannot be written: which copy would win?"""
    if t._view is not None and repeats(t.array):
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the "
                           f"operation.\nThis view repeats elements of its base (an expand to "
                           f"{tuple(t.array.shape)}): write to v = v.clone(), or to the base itself.")
