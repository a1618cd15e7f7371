"""Tensor: a numpy array plus what autodiff needs (requires_grad, grad, grad_fn, a version counter).

Operators and methods are thin: they call the functions in ``functions.py``, which run the rules in
``ops.py``. Printing lives in ``printing.py``.
"""
from __future__ import annotations

import builtins
import warnings

import numpy as np

from . import dtypes, errors
from .printing import tensor_repr
from .tape import _mode, note_detach


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

    __slots__ = ("data", "requires_grad", "_grad", "grad_fn", "_counter", "_accumulator", "_hooks",
                 "_retains_grad", "__weakref__")
    __array_priority__ = 1000  # so ndarray * Tensor hands the work to Tensor.__rmul__

    def __new__(cls, data=(), requires_grad=False):
        # torch.Tensor(...) makes a float32 tensor from data
        t = Tensor._from_array(np.array(data.data if isinstance(data, Tensor) else data, dtype=np.float32))
        if requires_grad:
            t.requires_grad_(True)
        return t

    @staticmethod
    def _from_array(arr):
        """A Tensor around ``arr`` (no copy): every tensor is made here (one call, no __init__)."""
        t = object.__new__(Tensor)
        t.data = arr
        t.requires_grad = False
        t._grad = None
        t.grad_fn = None
        t._counter = None  # the version counter, made on first use: see _version
        t._accumulator = None
        t._hooks = None
        t._retains_grad = False
        return t

    @staticmethod
    def _wrap_output(node):
        """The saved output of ``node`` as a Tensor attached to it (for create_graph backward)."""
        t = Tensor._from_array(node.out_data)
        t._counter = [0]  # its own counter, made before grad_fn is set: not the node's output counter
        t.grad_fn = node
        t.requires_grad = True
        return t

    @property
    def _version(self):
        """The version counter: a one-item list, bumped by every in-place change and shared with
        ``detach()`` aliases, as PyTorch's. Made on first use -- most tensors are never changed in place,
        and that is one object fewer per op for the garbage collector (E's forward). The node that
        made this tensor checks the same list when it saved the output."""
        counter = self._counter
        if counter is None:
            counter = self._counter = [0]
            node = self.grad_fn
            if node is not None and node.out_counter is None:
                node.out_counter = counter
        return counter

    @_version.setter
    def _version(self, counter):
        self._counter = counter

    # ------------------------------------------------------------------ basic properties
    @property
    def dtype(self):
        return dtypes.from_numpy(self.data.dtype)

    @property
    def shape(self) -> Size:
        return Size(self.data.shape)

    def size(self, dim=None):
        return Size(self.data.shape) if dim is None else self.data.shape[dim]

    @property
    def ndim(self) -> int:
        return self.data.ndim

    def dim(self) -> int:
        return self.data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self.data.size

    nelement = numel

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def device(self):
        return "cpu"

    @property
    def T(self):
        return fn.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self):
        return fn.transpose(self, -2, -1)

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
        if requires_grad and not self.dtype.is_floating_point:
            raise errors.int_requires_grad(self.dtype, method=True)
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want to "
                               "use a computed variable in a subgraph that doesn't require differentiation "
                               "use var_no_grad = var.detach().\nThis tensor was made by "
                               f"{self.grad_fn.name()}; detach() gives a copy without history.")
        self.requires_grad = builtins.bool(requires_grad)
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Walk the recorded graph backwards from this tensor, adding into each leaf's ``.grad``."""
        _autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward (PyTorch frees it by default)."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self._retains_grad:
            return
        self._retains_grad = True
        import weakref

        ref = weakref.ref(self)

        def keep(g):
            t = ref()
            if t is not None:
                g_plain = g.detach() if isinstance(g, Tensor) else g
                t._grad = g_plain.clone() if t._grad is None else t._grad + g_plain
            return None

        self._add_pre_hook(keep)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when the gradient for this tensor is computed; it may return a new one."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            self._hooks = (self._hooks or []) + [hook]
        else:
            self._add_pre_hook(hook)
        return _HookHandle(self, hook)

    def _add_pre_hook(self, hook):
        node = self.grad_fn
        node.pre_hooks = (node.pre_hooks or []) + [hook]

    def detach(self):
        """The same values, cut from the graph: gradients do not flow through the result."""
        t = Tensor._from_array(self.data)
        t._version = self._version  # shares storage, so shares the version counter too
        if self.requires_grad:
            note_detach(t, self)
        return t

    def detach_(self):
        self._version  # made now, while grad_fn still names the node that checks it
        self.grad_fn = None
        self.requires_grad = False
        return self

    # ------------------------------------------------------------------ conversion
    def numpy(self, *, force=False):
        if self.requires_grad and not force:
            raise errors.numpy_requires_grad()
        return self.data

    def __array__(self, dtype=None, copy=None):
        if self.requires_grad:
            raise errors.numpy_requires_grad()
        return self.data if dtype is None else self.data.astype(dtype)

    def tolist(self):
        return self.data.tolist()

    def item(self):
        if self.data.size != 1:
            raise errors.not_one_element(self.data.shape, "item()")
        return self.data.reshape(()).item()

    def __float__(self):
        return builtins.float(self._scalar("float()"))

    def __int__(self):
        return builtins.int(self._scalar("int()"))

    def _scalar(self, what):
        if self.data.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars\n{what} needs a "
                             f"tensor with exactly one element; this one has shape {tuple(self.data.shape)}: "
                             "pick one element (t[0]) or reduce it (t.sum()).")
        return self.data.reshape(()).item()

    def __index__(self):
        if self.dtype.is_floating_point or self.dtype is dtypes.bool:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self._one("an index"))

    def __bool__(self):
        if self.data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous\nThis tensor has shape "
                f"{tuple(self.data.shape)}: use (t > 0).all() or .any() to ask about every element.")
        return builtins.bool(self.data.reshape(()).item())

    def _one(self, what):
        if self.data.size != 1:
            raise errors.not_one_element(self.data.shape, what)
        return self.data.reshape(()).item()

    def to(self, *args, dtype=None, **kwargs):
        target = dtype
        for a in args:
            if isinstance(a, dtypes.dtype):
                target = a
        if target is None or target is self.dtype:
            return self
        return fn._to(self, target)

    def type(self, dtype=None):
        if dtype is None:
            kind = {"float32": "Float", "float64": "Double", "int64": "Long", "int32": "Int", "bool": "Bool",
                    "float16": "Half", "uint8": "Byte", "int8": "Char", "int16": "Short"}[self.dtype.name]
            return f"torch.{kind}Tensor"
        return self.to(dtypes.as_dtype(dtype))

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def long(self):
        return self.to(dtypes.int64)

    def int(self):
        return self.to(dtypes.int32)

    def bool(self):
        return self.to(dtypes.bool)

    def half(self):
        return self.to(dtypes.float16)

    def cpu(self):
        return self

    def contiguous(self):
        return self

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        dt = self.dtype
        suffix = None if dt in (dtypes.float32, dtypes.int64, dtypes.bool) else repr(dt)
        grad_fn = self.grad_fn.name() if self.grad_fn is not None else None
        return tensor_repr(self.data, dtype_suffix=suffix, grad_fn=grad_fn, requires_grad=self.requires_grad)

    __str__ = __repr__

    def __format__(self, spec):
        if self.data.ndim == 0:
            return format(self.item(), spec)
        return format(repr(self), spec)

    # ------------------------------------------------------------------ containers
    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.data.shape[0]))

    def __setitem__(self, key, value):
        fn.setitem(self, key, value)

    def __hash__(self):
        return id(self)

    # ------------------------------------------------------------------ arithmetic
    # The commonest operators call ops.apply directly, as functions.add/mul/sub/div do for a
    # Tensor first operand: one Python frame less per op (~0.3 µs).
    def __add__(self, other):
        return apply(_ADD, (self, as_tensor_arg(other)))

    def __radd__(self, other):
        return apply(_ADD, (self, as_tensor_arg(other)))  # PyTorch records 2 + x as x + 2: x first

    def __sub__(self, other):
        return apply(_SUB, (self, as_tensor_arg(other)))

    def __rsub__(self, other):
        return fn.sub(other, self)

    def __mul__(self, other):
        # Tensors and Python numbers need no conversion: a set lookup instead of a call (~50 ns an op)
        return apply(_MUL, (self, other if type(other) in _OPERAND_TYPES else as_tensor_arg(other)))

    def __rmul__(self, other):
        # as PyTorch: x first, so next_functions read (x's node, None)
        return apply(_MUL, (self, other if type(other) in _OPERAND_TYPES else as_tensor_arg(other)))

    def __truediv__(self, other):
        return apply(_DIV, (self, as_tensor_arg(other)))

    def __rtruediv__(self, other):
        return fn.div(other, self)

    def __rfloordiv__(self, other):
        return fn.floor_divide(other, self)

    def __rpow__(self, other):
        return fn.pow(other, self)

    def __rmatmul__(self, other):
        return fn.matmul(other, self)

    def __neg__(self):
        return apply(_NEG, (self,))

    def __pos__(self):
        return self

    # comparisons give bool tensors and carry no gradient
    def _compare(self, other, ufunc):
        other = other.data if isinstance(other, Tensor) else other
        try:
            return Tensor._from_array(np.asarray(ufunc(self.data, other)))
        except ValueError:
            raise errors.broadcast_mismatch(ufunc.__name__, self.data.shape, np.shape(other)) from None

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    eq, ne, lt, le, gt, ge = __eq__, __ne__, __lt__, __le__, __gt__, __ge__

    def _logical(self, other, ufunc):
        return Tensor._from_array(np.asarray(ufunc(self.data, other.data if isinstance(other, Tensor) else other)))

    def __and__(self, other):
        return self._logical(other, np.logical_and if self.dtype is dtypes.bool else np.bitwise_and)

    def __or__(self, other):
        return self._logical(other, np.logical_or if self.dtype is dtypes.bool else np.bitwise_or)

    def __xor__(self, other):
        return self._logical(other, np.logical_xor if self.dtype is dtypes.bool else np.bitwise_xor)

    def __invert__(self):
        if self.dtype.is_floating_point:
            raise TypeError("~ (bitwise_not) is only supported for integer and boolean tensors")
        return Tensor._from_array(np.asarray(~self.data))

    def logical_not(self):
        return Tensor._from_array(np.asarray(np.logical_not(self.data)))

    def all(self, dim=None, keepdim=False):
        return Tensor._from_array(np.asarray(np.all(self.data, axis=dim, keepdims=keepdim)))

    def any(self, dim=None, keepdim=False):
        return Tensor._from_array(np.asarray(np.any(self.data, axis=dim, keepdims=keepdim)))

    def equal(self, other) -> builtins.bool:
        return self.shape == other.shape and builtins.bool(np.array_equal(self.data, other.data))

    def isclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor._from_array(np.asarray(np.isclose(self.data, other, rtol, atol, equal_nan)))

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> builtins.bool:
        return builtins.bool(self.isclose(other, rtol, atol, equal_nan).data.all())

    # ------------------------------------------------------------------ in-place
    def _inplace_binary(self, other, ufunc, op):
        other = as_tensor_arg(other)
        other_grad = isinstance(other, Tensor) and other.requires_grad
        if not _mode.enabled or not (self.requires_grad or other_grad):
            # Nothing to record (an SGD step under no_grad): straight into the array, without inplace()'s
            # closures (4.9 -> ~1.5 µs per parameter). The same as inplace()'s raw branch.
            _ufunc_into(ufunc, self.data, other)
            self._version[0] += 1
            return self
        return inplace(self, lambda old: op(old, other), lambda data: _ufunc_into(ufunc, data, other), other)

    def add_(self, other, *, alpha=1):
        return self._inplace_binary(other if alpha == 1 else other * alpha, np.add, fn.add)

    def sub_(self, other, *, alpha=1):
        return self._inplace_binary(other if alpha == 1 else other * alpha, np.subtract, fn.sub)

    def mul_(self, other):
        return self._inplace_binary(other, np.multiply, fn.mul)

    def div_(self, other):
        return self._inplace_binary(other, np.true_divide, fn.div)

    __iadd__ = add_
    __isub__ = sub_
    __imul__ = mul_
    __itruediv__ = div_

    def zero_(self):
        """Set every element to 0 in place: ``x.grad.zero_()`` before the next backward."""
        return inplace(self, lambda old: fn.apply(fn.RULES["fill"], (old,), ("ZeroBackward0", 0)),
                       lambda data: data.fill(0))

    def fill_(self, value):
        value = value.item() if isinstance(value, Tensor) else value
        return inplace(self, lambda old: fn.apply(fn.RULES["fill"], (old,), ("FillBackward2", value)),
                       lambda data: data.fill(value))

    def copy_(self, src):
        src = as_tensor_arg(src)
        return inplace(self, lambda old: fn.apply(fn.RULES["copy"], (old, src)),
                       lambda data: np.copyto(data, src.data if isinstance(src, Tensor) else src,
                                              casting="unsafe"), src)

    def clamp_(self, min=None, max=None):
        return inplace(self, lambda old: fn.clamp(old, min, max),
                       lambda data: np.clip(data, min, max, out=data), None)

    def normal_(self, mean=0.0, std=1.0):
        from .creation import _rng

        return inplace(self, None, lambda data: data.__setitem__(
            ..., _rng().normal(mean, std, data.shape)), None)

    def uniform_(self, a=0.0, b=1.0):
        from .creation import _rng

        return inplace(self, None, lambda data: data.__setitem__(..., _rng().uniform(a, b, data.shape)), None)

    # ------------------------------------------------------------------ methods that mirror functions
    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], dtypes.dtype):
            raise NotImplementedError("view(dtype) is not supported; use .to(dtype).")
        return fn.reshape(self, *shape)

    def view_as(self, other):
        return fn.reshape(self, other.shape)

    def reshape_as(self, other):
        return fn.reshape(self, other.shape)

    def expand_as(self, other):
        return fn.expand(self, other.shape)


class _HookHandle:
    def __init__(self, tensor, hook):
        self._tensor, self._hook = tensor, hook

    def remove(self):
        t = self._tensor
        if t.grad_fn is None:
            t._hooks = [h for h in (t._hooks or []) if h is not self._hook]
        elif t.grad_fn.pre_hooks:
            t.grad_fn.pre_hooks = [h for h in t.grad_fn.pre_hooks if h is not self._hook]


_OPERAND_TYPES = frozenset({Tensor, builtins.float, builtins.int, builtins.bool})  # as_tensor_arg passes these


def as_tensor_arg(x):
    """Operands of ops: Tensors and Python numbers pass through; arrays and lists become Tensors."""
    t = type(x)
    if t is Tensor or t is builtins.float or t is builtins.int or t is builtins.bool:
        return x
    if isinstance(x, np.generic):
        return x.item()  # PyTorch treats numpy scalars as Python numbers (np.float64 subclasses float)
    if isinstance(x, (Tensor, builtins.int, builtins.float)):
        return x
    from .creation import tensor

    return tensor(x)


def _ufunc_into(ufunc, data, other):
    other = other.data if isinstance(other, Tensor) else other
    try:
        ufunc(data, other, out=data, casting="same_kind")
    except np._core._exceptions._UFuncOutputCastingError if hasattr(np, "_core") else TypeError:
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type "
            f"{Tensor._from_array(data).type()[6:-6]}\nThis tensor holds integers: convert it first "
            "(x = x.float()) or use an out-of-place op.") from None
    except ValueError:
        raise RuntimeError(
            f"output with shape {list(data.shape)} doesn't match the broadcast shape "
            f"{list(np.broadcast_shapes(data.shape, np.shape(other)))}\nAn in-place op cannot change "
            "the tensor's shape; write x = x + y instead.") from None


def _refuse_view_of_recorded(t):
    """An in-place change through a view (a slice, reshape, transpose) would write into the base
    tensor's memory without changing the base's recorded history: its gradient would silently be
    wrong. PyTorch rebases the history (CopySlices); this engine refuses, and says what to write."""
    node = t.grad_fn
    if node is None or node.rule not in _VIEW_RULES or not node.inputs:
        return
    base = node.inputs[0]
    if isinstance(base, Tensor) and np.shares_memory(t.data, base.data):
        if base.grad_fn is None and base.requires_grad:
            raise errors.inplace_on_leaf(view=True)
        raise errors.inplace_on_view(node.name())


def inplace(t, recorded, raw, other=None, *, leaf_view=False):
    """Change ``t`` in place.

    ``raw(data)`` mutates the array (the fast path: no gradient involved, e.g. an SGD step under
    no_grad). ``recorded(old)`` computes the new value as an ordinary recorded op on an alias of the
    old value; ``t`` then takes the result's value and history, as PyTorch's in-place ops do.
    ``leaf_view`` says the change goes through a view (``x[0] = 1``), which PyTorch words differently.
    """
    other_grad = isinstance(other, Tensor) and other.requires_grad
    counter = t._version  # made now, while grad_fn still names the node that made t
    if _mode.enabled and (t.requires_grad or other_grad) and recorded is not None:
        if t.requires_grad and t.grad_fn is None:
            raise errors.inplace_on_leaf(view=leaf_view)
        _refuse_view_of_recorded(t)
        old = Tensor._from_array(t.data.copy())
        old.grad_fn, old.requires_grad = t.grad_fn, t.requires_grad
        result = recorded(old)
        if result.data.shape != t.data.shape:
            raise RuntimeError(
                f"output with shape {list(t.data.shape)} doesn't match the broadcast shape "
                f"{list(result.data.shape)}\nAn in-place op cannot change the tensor's shape; "
                "write x = x + y instead.")
        t.data[...] = result.data
        t.grad_fn, t.requires_grad = result.grad_fn, result.requires_grad
        if result.grad_fn is not None:
            result.grad_fn.out_counter, result.grad_fn.out_expected = counter, counter[0] + 1
    else:
        raw(t.data)
    counter[0] += 1
    return t


from . import functions as fn  # noqa: E402  (functions imports Tensor from here)
from .ops import RULES as _RULES  # noqa: E402

_VIEW_RULES = frozenset(_RULES[k] for k in ("index", "reshape", "permute", "expand"))
from . import autograd as _autograd  # noqa: E402  (bound here: an import inside backward() cost 0.7 µs)
from .ops import RULES as _RULES, apply  # noqa: E402

_ADD, _SUB, _MUL, _DIV, _NEG = (_RULES[name] for name in ("add", "sub", "mul", "div", "neg"))


# Methods that only forward to the function of the same name (x.exp() is torch.exp(x)): the functions
# take the tensor first, so they serve as methods as they are, and each op keeps one definition.
for _name in (
    ("clip", "clamp"), "clone", ("__getitem__", "index"), ("__floordiv__", "floor_divide"),
    ("__pow__", "pow"), ("__matmul__", "matmul"), ("__abs__", "abs"), "sum", "mean", "max", "min",
    "argmax", "argmin", "norm", "softmax", "log_softmax", "reshape", "flatten", "transpose", "t",
    "permute", "squeeze", "unsqueeze", "expand", "dot", "mv", "mm", "matmul", "add", "sub", "mul",
    "div", "pow", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "abs", "neg",
    "reciprocal", "sign", "clamp", "maximum", "minimum",
):
    _method, _function = (_name, _name) if isinstance(_name, str) else _name
    setattr(Tensor, _method, getattr(fn, _function))
del _name, _method, _function
