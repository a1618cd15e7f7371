"""Tensor: a numpy array plus what autodiff needs (requires_grad, grad, grad_fn, a version counter).

This module holds the tensor's own state: its values, its properties, converting it, printing it.
The ops (``x * y``, ``x.exp()``, ``x.backward()``) are functions of the layers above, bound onto
``Tensor`` in one place, ``methods.py``, once everything they need exists.
"""
from __future__ import annotations

import builtins
import warnings
import weakref

import numpy as np

from . import dtypes, errors
from .grad_mode import dual as dual_state
from .printing import tensor_repr


class Size(tuple):
    """A tensor's shape: a tuple that prints as ``torch.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"torch.Size([{', '.join(map(str, self))}])"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n


class Tensor:
    """An n-dimensional array that records the operations applied to it.

    >>> x = tensor([1., 2.], requires_grad=True)
    >>> (x * x).sum().backward(); x.grad
    tensor([2., 4.])
    """

    __slots__ = ("array", "_requires_grad", "_grad", "_grad_fn", "_counter", "_view", "_accumulator", "_hooks",
                 "_retains_grad", "_tangent", "__weakref__")
    __array_priority__ = 1000  # so ndarray * Tensor hands the work to Tensor.__rmul__

    def __new__(cls, data=(), requires_grad=False):
        # torch.Tensor(...) makes a float32 tensor from data
        t = Tensor._from_array(np.array(data.array if isinstance(data, Tensor) else data, dtype=np.float32))
        if requires_grad:
            t.requires_grad_(True)
        return t

    @staticmethod
    def _from_array(array, version_counter=None):
        """A Tensor around ``array`` (no copy). Every tensor is made here."""
        t = object.__new__(Tensor)
        t.array = array  # the values: a numpy array this tensor owns or shares (detach, .data)
        t._requires_grad = False
        t._grad = None
        t._grad_fn = None  # the tape.Node that made it; None for a leaf
        t._counter = version_counter  # see _version_counter: made on first use
        t._view = None  # for a view (x[1:], x.T ...): its base and how it was made (views.ViewOf)
        t._accumulator = None  # the AccumulateGrad node of a leaf, made when first needed
        t._hooks = None
        t._retains_grad = False
        t._tangent = None  # forward mode: (dual level, tangent), read through forward.tangent_of
        return t

    @property
    def _version(self) -> int:
        """How many times this tensor's values were changed in place."""
        return 0 if self._counter is None else self._counter[0]

    @property
    def _version_counter(self):
        """The version counter: a one-item list, bumped by every in-place change and shared with
        views and ``detach()`` aliases (one memory, one counter), as PyTorch's. Made on first use:
        most tensors are never changed in place, and a list per op was a third of workload E's
        garbage-collector time
        (benchmarks/PROFILE.md). The node that made this tensor checks the same list when its
        backward reads this output."""
        if self._counter is None:
            self._counter = [0]
            if self._grad_fn is not None and self._grad_fn.out_counter is None:
                self._grad_fn.out_counter = self._counter
        return self._counter

    # ------------------------------------------------------------------ history
    @property
    def grad_fn(self):
        """The node that made this tensor (``tape.Node``); None for a leaf. A view whose base was
        changed in place since its grad_fn was made gets a new one, made from the base's history
        (views.py), so a backward through the view sees the change."""
        if self._view is not None:
            self._view.refresh(self)
        return self._grad_fn

    @grad_fn.setter
    def grad_fn(self, node):
        self._grad_fn = node

    @property
    def requires_grad(self) -> bool:
        if self._view is not None:
            self._view.refresh(self)  # a view of a tensor that gained a history in place gains it too
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self._requires_grad = value

    @property
    def _base(self):
        """PyTorch's ``x._base``: the tensor a view shares its memory with; None for a tensor that is no view."""
        return None if self._view is None else self._view.base

    def _is_view(self) -> bool:
        return self._view is not None

    # ------------------------------------------------------------------ properties
    @property
    def data(self):
        """The same values as a tensor outside the graph, sharing memory (PyTorch's ``.data``).

        Changes made through it are not seen by autograd: ``w.data -= lr * w.grad``.
        """
        return Tensor._from_array(self.array)

    @data.setter
    def data(self, value):
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(value).__name__}\n"
                            "Assign a tensor: w.data = torch.zeros(3).")
        self.array = value.array  # share its memory, as PyTorch's set_data does

    @property
    def dtype(self):
        return dtypes.from_numpy(self.array.dtype)

    @property
    def shape(self) -> Size:
        return Size(self.array.shape)

    def size(self, dim=None):
        return Size(self.array.shape) if dim is None else self.array.shape[dim]

    @property
    def ndim(self) -> int:
        return self.array.ndim

    def dim(self) -> int:
        return self.array.ndim

    ndimension = dim

    def numel(self) -> int:
        return self.array.size

    nelement = numel

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def device(self):
        return CPU

    def is_contiguous(self) -> bool:
        """Whether the values lie in memory row after row (a transpose is a view that does not)."""
        return self.array.flags.c_contiguous

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    # ------------------------------------------------------------------ gradients
    @property
    def grad(self):
        if self.grad_fn is not None and not self._retains_grad and self._grad is None:
            warnings.warn(errors.nonleaf_grad_warning(self), UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value):
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of type "
                                f"{type(value).__name__}")
            if value.shape != self.shape:
                raise RuntimeError(f"attempting to assign a gradient of size '{list(value.shape)}' to a tensor of "
                                   f"size '{list(self.shape)}'. Please ensure that the gradient and the tensor "
                                   f"are the same size\n.grad must have the tensor's shape {tuple(self.shape)}, "
                                   f"got {tuple(value.shape)}.")
        self._grad = value

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.array.dtype.kind != "f":
            raise errors.int_requires_grad(self.dtype, method=True)
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to "
                               "use a computed variable in a subgraph that doesn't require differentiation "
                               "use var_no_grad = var.detach().\nThis tensor was made by "
                               f"{self.grad_fn.name()}; detach() gives a copy without history.")
        self.requires_grad = builtins.bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward (PyTorch frees it by default)."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        self._retains_grad = True
        ref = weakref.ref(self)

        def keep(g):
            t = ref()
            if t is not None:
                plain = g.detach()
                t._grad = plain.clone() if t._grad is None else t._grad + plain

        self._retains_grad = keep  # truthy; register_hook puts later hooks before it
        self.grad_fn.pre_hooks += (keep,)

    @property
    def retains_grad(self) -> bool:
        return builtins.bool(self._retains_grad)

    def register_hook(self, hook):
        """Call ``hook(grad)`` when the gradient for this tensor is computed; it may return a new one."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            self._hooks = (self._hooks or []) + [hook]
        elif self._retains_grad:  # .grad is the gradient after every hook, as in PyTorch: keep runs last
            hooks = tuple(h for h in self.grad_fn.pre_hooks if h is not self._retains_grad)
            self.grad_fn.pre_hooks = hooks + (hook, self._retains_grad)
        else:
            self.grad_fn.pre_hooks += (hook,)
        return _HookHandle(self, hook)

    def detach(self):
        """The same values, cut from the graph: gradients do not flow through the result."""
        # shares the memory, so shares the version counter too
        t = Tensor._from_array(self.array, self._version_counter)
        if self.requires_grad:
            _note_detach(t, self)
        return t

    def detach_(self):
        if self._view is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.\nThis tensor is a view of "
                               "another (it shares its memory): v = v.detach() gives the values without history.")
        self._version_counter  # made now, while grad_fn still names the node that must check it
        self.grad_fn = None
        self.requires_grad = False
        return self

    # ------------------------------------------------------------------ conversion
    def numpy(self, *args, force=False, **unexpected):
        # PyTorch's argument parser: force's type is checked before any other mistake
        if type(force) is not bool:
            raise errors.not_bool("numpy", "force", force)
        if args or unexpected:
            raise TypeError(f"numpy() takes 0 positional arguments but {len(args)} was given" if args else
                            f"numpy() got an unexpected keyword argument '{next(iter(unexpected))}'")
        if self.requires_grad and not force:
            raise errors.numpy_requires_grad()
        return self.array

    def __array__(self, dtype=None, copy=None):
        if self.requires_grad:
            raise errors.numpy_requires_grad()
        return self.array if dtype is None else self.array.astype(dtype)

    def tolist(self):
        return self.array.tolist()

    def item(self):
        if self.array.size != 1:
            raise errors.not_one_element(self.array.shape, "item()")
        return self.array.reshape(()).item()

    def __float__(self):
        return builtins.float(self._scalar("float()"))

    def __int__(self):
        return builtins.int(self._scalar("int()"))

    def _scalar(self, what):
        if self.array.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars\n{what} needs a "
                             f"tensor with exactly one element; this one has shape {tuple(self.array.shape)}: "
                             "pick one element (t[0]) or reduce it (t.sum()).")
        return self.array.reshape(()).item()

    def __index__(self):
        if self.dtype.is_floating_point or self.dtype is dtypes.bool:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        if self.array.size != 1:
            raise errors.not_one_element(self.array.shape, "an index")
        return builtins.int(self.array.reshape(()).item())

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous\nThis tensor has shape "
                f"{tuple(self.array.shape)}: use (t > 0).all() or .any() to ask about every element.")
        return builtins.bool(self.array.reshape(()).item())

    def type(self, dtype=None):
        if dtype is None:
            return f"torch.{dtypes.type_word(self.dtype)}Tensor"
        return self.to(dtypes.as_dtype(dtype))

    def cpu(self):
        return self

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        dt = self.dtype
        suffix = None if dt in (dtypes.float32, dtypes.int64, dtypes.bool) else repr(dt)
        grad_fn = self.grad_fn.name() if self.grad_fn is not None else None
        tangent = self._tangent[1] if self._tangent is not None and self._tangent[0] == dual_state.level else None
        if tangent is not None and type(tangent) is not Tensor:  # forward mode keeps plain tangents as arrays
            tangent = Tensor._from_array(tangent)
        return tensor_repr(self.array, dtype_suffix=suffix, grad_fn=grad_fn, requires_grad=self.requires_grad,
                           tangent=None if tangent is None else f"{tangent}")

    __str__ = __repr__

    def __format__(self, spec):
        if self.array.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"unsupported format string passed to Tensor.__format__\nA format spec ({spec!r}) "
                            f"formats one number; this tensor has shape {tuple(self.array.shape)}: format "
                            "its elements, e.g. [f'{v:.2f}' for v in t.tolist()].")
        return repr(self)

    # ------------------------------------------------------------------ containers
    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.array.shape[0]))

    def __hash__(self):
        return id(self)


class device:  # noqa: N801  (PyTorch's name)
    """Where a tensor's values live: always the CPU here. Prints ``cpu``; its repr is PyTorch's."""

    def __init__(self, type="cpu"):  # noqa: A002  (PyTorch's parameter name)
        self.type = str(type).split(":")[0]

    def __str__(self):
        return self.type

    def __repr__(self):
        return f"device(type='{self.type}')"

    def __eq__(self, other):
        return isinstance(other, device) and other.type == self.type

    def __hash__(self):
        return hash(self.type)


CPU = device("cpu")


class _HookHandle:
    def __init__(self, tensor, hook):
        self._tensor, self._hook = tensor, hook

    def remove(self):
        t = self._tensor
        if t.grad_fn is None:
            t._hooks = [h for h in (t._hooks or []) if h is not self._hook]
        else:
            t.grad_fn.pre_hooks = tuple(h for h in t.grad_fn.pre_hooks if h is not self._hook)


# ----------------------------------------------------------------------------------- detach
# Where each detached tensor came from, so a drawing can show the cut that detach() makes.
# Keyed by id with weak references both ways: the record must never keep tensors alive.
_detached = {}


def _note_detach(alias, source):
    key = id(alias)
    origin = source.grad_fn if source.grad_fn is not None else source
    _detached[key] = (weakref.ref(alias, lambda _ref: _detached.pop(key, None)), weakref.ref(origin))


def detached_origin(tensor):
    """The node (or leaf tensor) ``tensor`` was detached from, or None."""
    entry = _detached.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return None
    return entry[1]()
