"""Two more front ends on our one tape: TensorFlow's ``GradientTape`` and MXNet's ``attach_grad``.

The chapter says every framework does the same three things: mark the inputs, record the forward
pass, walk the record backwards. Only the words differ, and one detail: where the gradient lands.

=================  ===============================  ==============================  =======================
                   PyTorch style (the engine)       TensorFlow style                MXNet style
=================  ===============================  ==============================  =======================
mark an input      ``x.requires_grad_(True)``       ``tape.watch(x)``               ``attach_grad(x)``
record             whenever an input requires grad  inside ``with GradientTape()``  inside ``with record()``
walk back          ``y.backward()``                 ``tape.gradient(y, x)``         ``y.backward()``
the gradient       ADDED into ``x.grad``            RETURNED; ``x.grad`` untouched  WRITTEN over ``x.grad``
=================  ===============================  ==============================  =======================

Both front ends here only decide *which* tensors are tracked *when*, and where the result goes; the
recording and the backward walk are the engine's (``autograd.grad``, ``Tensor.backward``).

>>> x = arange(4.0)
>>> with GradientTape() as tape:
...     tape.watch(x)
...     y = 2 * dot(x, x)
>>> tape.gradient(y, x)
tensor([ 0.,  4.,  8., 12.])
"""
from __future__ import annotations

import threading
import warnings
import weakref

from . import autograd
from .creation import ones_like, zeros_like
from .grad_mode import enable_grad, no_grad
from .tensor import Tensor

__all__ = ["GradientTape", "attach_grad", "record", "pause", "is_recording", "backward", "mx"]


class _Scopes(threading.local):
    """What is open right now, per thread (grad mode in the engine is per thread too)."""

    def __init__(self):
        self.tapes = []          # open GradientTapes, innermost last
        self.record_depth = 0    # nesting depth of record()
        self.record_flipped = []  # attached tensors record() switched on, to switch off at the end


_open = _Scopes()


def _track(tensors):
    """Switch on requires_grad for the leaves among ``tensors`` that lack it; return those switched."""
    switched = []
    for t in tensors:
        if t is not None and not t.requires_grad and t.grad_fn is None:
            t.requires_grad_(True)
            switched.append(t)
    return switched


def _untrack(switched):
    for t in switched:
        if t.grad_fn is None:
            t.requires_grad_(False)


# ============================================================================ TensorFlow style
class GradientTape:
    """TensorFlow's ``tf.GradientTape``: record inside a ``with`` block, then ask for gradients.

    ``watch(x)`` marks a tensor to track while the tape is open (a tensor created with
    ``requires_grad=True`` is tracked already, as TensorFlow watches its variables).
    ``gradient(target, sources)`` returns d(target)/d(sources) and leaves ``.grad`` alone. A tape
    answers once and then lets go of its record; ``GradientTape(persistent=True)`` answers many times.

    >>> x = tensor(3.0)
    >>> with GradientTape(persistent=True) as tape:
    ...     tape.watch(x)
    ...     y = x * x
    ...     z = y * y
    >>> tape.gradient(z, x), tape.gradient(y, x)
    (tensor(108.), tensor(6.))

    Opened inside another tape, the outer tape records the inner tape's gradient computation, so
    second derivatives work as in TensorFlow (``tape2.gradient(tape1.gradient(y, x), x)``).

    One difference from TensorFlow: our engine records whenever an input requires grad, so a tensor
    created with ``requires_grad=True`` is recorded outside the ``with`` block too. Watched tensors
    are tracked only while the block is open.
    """

    def __init__(self, persistent=False):
        self.persistent = bool(persistent)
        self._watched = []       # every tensor watch() was given
        self._switched = []      # those the tape itself switched on, switched off again on exit
        self._recording = False
        self._used = False

    def __enter__(self):
        if self._recording:
            raise RuntimeError("Tape is still recording, This can happen if you try to re-enter an already-"
                               "active tape.\nOpen a new GradientTape() for a new recording.")
        self._recording = True
        self._grad_mode = enable_grad()
        self._grad_mode.__enter__()
        _open.tapes.append(self)
        return self

    def __exit__(self, *exc):
        _open.tapes.remove(self)
        self._grad_mode.__exit__(*exc)
        self._recording = False
        _untrack(self._switched)
        self._switched = []
        return False

    def watch(self, tensor):
        """Track ``tensor`` (or each tensor in a list/tuple) on this tape from now on."""
        for t in _flatten(tensor):
            if not isinstance(t, Tensor):
                raise TypeError(f"Passed in object of type {type(t).__name__}, not a Tensor\n"
                                "watch() takes tensors: wrap the value first, e.g. x = autodiff_nb.tensor(3.0).")
            self._watched.append(t)
            if self._recording:
                self._switched += _track([t])

    def watched_variables(self):
        """The tensors given to ``watch()``, in order."""
        return tuple(self._watched)

    def stop_recording(self):
        """A ``with`` block whose operations are not recorded (the engine's ``no_grad()``)."""
        return no_grad()

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """d(target)/d(sources), shaped like ``sources`` (a tensor, a list/tuple or a dict of them).

        A non-scalar target (or a list of targets) is summed first, as in TensorFlow. A source that
        the target does not depend on gets None, or zeros with ``unconnected_gradients="zero"``.
        """
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"Unknown value for unconnected_gradients: {unconnected_gradients!r}\n"
                             "Use 'none' (the default) or 'zero'.")
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients (or jacobians)\n"
                "This tape already gave its gradients and let go of its record: create it with "
                "GradientTape(persistent=True) to ask several times, or record the forward pass again.")
        targets = list(_flatten(target))
        flat_sources = list(_flatten(sources))
        seeds = _flatten(output_gradients) if output_gradients is not None else [None] * len(targets)
        seeds = [ones_like(t) if g is None else g for t, g in zip(targets, seeds)]
        # Record the walk itself when a tape is still listening: the outer tape of a nested pair,
        # or this persistent tape asked from inside its own block (TensorFlow does the same).
        create_graph = any(t is not self or t.persistent for t in _open.tapes)
        self._used = True

        # Watched tensors are tracked only while the block is open: track them again for the walk.
        watched_ids = {id(t) for t in self._watched}
        switched = [] if self._recording else _track([s for s in flat_sources if id(s) in watched_ids])
        try:
            live_targets = [(t, g) for t, g in zip(targets, seeds) if t.requires_grad]
            wanted = [s for s in flat_sources if s.requires_grad]
            found = {}
            if live_targets and wanted:
                grads = autograd.grad([t for t, _ in live_targets], wanted, [g for _, g in live_targets],
                                      retain_graph=self.persistent or create_graph,
                                      create_graph=create_graph, allow_unused=True)
                found = {id(s): g for s, g in zip(wanted, grads)}
        finally:
            _untrack(switched)

        unwatched = [s for s in flat_sources if not s.requires_grad and id(s) not in watched_ids]
        if unwatched:
            many = len(unwatched) > 1
            warnings.warn(f"{len(unwatched)} of the sources {'were' if many else 'was'} never watched, so "
                          f"{'their gradients are' if many else 'its gradient is'} None.\n"
                          "Call tape.watch(x) inside the with block (or create x with requires_grad=True).",
                          UserWarning, stacklevel=2)
        results = []
        for s in flat_sources:
            g = found.get(id(s))
            if g is None and unconnected_gradients == "zero":
                g = zeros_like(s)
            results.append(g)
        return _unflatten(sources, results)

    def __repr__(self) -> str:
        state = "recording" if self._recording else ("used" if self._used and not self.persistent else "ready")
        n = len(self._watched)
        return f"<GradientTape persistent={self.persistent}, {state}, watching {n} tensor{'s' * (n != 1)}>"


def _flatten(obj):
    if isinstance(obj, dict):
        return list(obj.values())
    if isinstance(obj, (list, tuple)):
        return list(obj)
    return [obj]


def _unflatten(like, values):
    if isinstance(like, dict):
        return dict(zip(like.keys(), values))
    if isinstance(like, (list, tuple)):
        return type(like)(values)
    return values[0]


# ============================================================================ MXNet style
# Tensors given to attach_grad(): id -> (weak reference, grad_req). Weak, so the table never keeps a
# tensor alive; keyed by id because Tensor's == is elementwise.
_attached = {}


def _forget(key):
    _attached.pop(key, None)


def attach_grad(x, grad_req="write"):
    """MXNet's ``x.attach_grad()``: give ``x`` a zero gradient and track it inside ``record()``.

    With ``grad_req="write"`` (MXNet's default) every ``backward()`` OVERWRITES ``x.grad``; PyTorch
    style ADDS into it, which is why PyTorch code calls ``x.grad.zero_()``. ``grad_req="add"``
    accumulates as PyTorch does. Returns ``x``.

    >>> x = attach_grad(arange(4.0))
    >>> for _ in range(2):
    ...     with record():
    ...         y = 2 * dot(x, x)
    ...     y.backward()
    >>> x.grad                      # written twice, not added up: PyTorch style would give 2 * 4x
    tensor([ 0.,  4.,  8., 12.])
    """
    if grad_req not in ("write", "add"):
        raise ValueError(f"grad_req must be 'write' or 'add', got {grad_req!r}\n"
                         "'write' replaces x.grad at every backward (MXNet's default); 'add' accumulates.")
    if not isinstance(x, Tensor):
        raise TypeError(f"attach_grad() takes a Tensor, got {type(x).__name__}\n"
                        "Wrap the value first, e.g. x = autodiff_nb.tensor([1., 2.]).")
    if x.grad_fn is not None:
        raise RuntimeError(f"attach_grad() needs an input, but this tensor was made by {x.grad_fn.name()}\n"
                           "Attach gradients to the values you start from, before the forward pass.")
    key = id(x)
    first_time = key not in _attached or _attached[key][0]() is not x
    was_tracked = x.requires_grad
    if first_time:
        x.requires_grad_(True)  # a hook can only be registered on a tensor that requires grad
        x.register_hook(_make_grad_req_hook(key))
        x.requires_grad_(was_tracked)
    _attached[key] = (weakref.ref(x, lambda _ref: _forget(key)), grad_req)
    if is_recording():
        _open.record_flipped += _track([x])
    with no_grad():
        x.grad = zeros_like(x)  # MXNet allocates the gradient buffer at attach time
    return x


def _make_grad_req_hook(key):
    def apply_grad_req(grad):
        # Runs just before the engine adds ``grad`` into the leaf's .grad. For grad_req="write",
        # empty the buffer first (in place, as MXNet writes into the buffer attach_grad made).
        entry = _attached.get(key)
        if entry is not None and entry[1] == "write":
            leaf = entry[0]()
            if leaf is not None and leaf.grad is not None:
                with no_grad():
                    leaf.grad.zero_()
        return None

    return apply_grad_req


class record:
    """MXNet's ``autograd.record()``: attached tensors are recorded only inside this block.

    >>> x = attach_grad(tensor(2.0))
    >>> with record():
    ...     y = x ** 3
    >>> z = x ** 3          # outside: not recorded
    >>> y.grad_fn is None, z.grad_fn is None
    (False, True)
    """

    def __enter__(self):
        self._grad_mode = enable_grad()
        self._grad_mode.__enter__()
        if _open.record_depth == 0:
            alive = [entry[0]() for entry in list(_attached.values())]
            _open.record_flipped = _track([t for t in alive if t is not None])
        _open.record_depth += 1
        return self

    def __exit__(self, *exc):
        _open.record_depth -= 1
        if _open.record_depth == 0:
            _untrack(_open.record_flipped)
            _open.record_flipped = []
        self._grad_mode.__exit__(*exc)
        return False


def pause():
    """MXNet's ``autograd.pause()``: a block inside ``record()`` that is not recorded (``no_grad()``)."""
    return no_grad()


def is_recording() -> bool:
    """True inside ``record()`` (MXNet's ``autograd.is_recording()``)."""
    return _open.record_depth > 0


def backward(heads, head_grads=None, retain_graph=False):
    """MXNet's ``autograd.backward(y)``: like ``y.backward()``, but a non-scalar ``y`` is summed.

    Gradients land in the attached tensors' ``.grad`` following their ``grad_req`` (write by default).
    """
    heads = _flatten(heads)
    seeds = _flatten(head_grads) if head_grads is not None else [None] * len(heads)
    for y in heads:
        if not y.requires_grad:
            raise RuntimeError(
                "Cannot differentiate node because it is not in a computational graph. You need to set "
                "is_recording to true or use autograd.record() to save computational graphs for backward.\n"
                "Compute y inside `with record():` from tensors given to attach_grad().")
    seeds = [ones_like(y) if g is None else g for y, g in zip(heads, seeds)]
    autograd.backward(heads, seeds, retain_graph=retain_graph)


class _MXNetStyle:
    """The MXNet-style calls in one place: ``mx.attach_grad``, ``mx.record``, ``mx.backward`` ..."""

    attach_grad = staticmethod(attach_grad)
    record = record
    pause = staticmethod(pause)
    is_recording = staticmethod(is_recording)
    backward = staticmethod(backward)

    def __repr__(self) -> str:
        return "<MXNet-style front end: attach_grad, record, pause, is_recording, backward>"


mx = _MXNetStyle()
