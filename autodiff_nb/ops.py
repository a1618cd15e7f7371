"""The rule table: every primitive's forward (numpy) beside, per input, its vector-Jacobian product
(reverse mode) and its Jacobian-vector product (forward mode).

Read a rule the way PyTorch's ``derivatives.yaml`` reads::

    "mul": R("MulBackward0", np.multiply, promote=SAME,
             a=(lambda xp, g, b: g * b, "{b} · {g}", lambda xp, t, b: t * b, "{t} · {b}"),
             b=(lambda xp, g, a: g * a, "{a} · {g}", lambda xp, t, a: t * a, "{a} · {t}")),

``y = a * b`` runs ``np.multiply``; in backward, the gradient ``g`` reaching ``y`` becomes ``g * b``
for ``a`` and ``g * a`` for ``b``; in forward mode, the tangents ``t`` of ``a`` and of ``b`` make
``t * b + a * t`` the tangent of ``y``; the strings are the words ``explain`` prints. ``apply`` runs
a rule, records a ``tape.Node`` and pushes tangents (``forward.push``); ``tape.walk`` calls the
VJPs. Broadcasting is undone in one place for every rule (``tape.sum_to``), and done in one place
for every tangent (``forward.tangent_out``), so no VJP or JVP repeats it.
"""
from __future__ import annotations

import inspect
import math

import numpy as np

from . import dtypes, errors, indexing
from .forward import push
from .grad_mode import dual, mode
from .tape import Node, ignore_float_errors, restore_float_errors, sum_to
from .tensor import Tensor

SAME, FLOAT = "same", "float"  # promotion: PyTorch's result dtype; the same but integers become float32


class Rule:
    """One primitive: its forward, and per input ``(vjp, words, jvp, words)``: the VJP that sends the
    output's gradient back to the input, and the JVP that sends the input's tangent on to the output.

    Every VJP is ``vjp(xp, g, ...)``: ``g`` is the gradient that reached the output, and ``xp`` is
    numpy, or under ``create_graph`` the engine's own ops under the same names, so the very same line
    of math is recorded and can be differentiated again. Every JVP is ``jvp(xp, t, ...)``: ``t`` is
    the input's tangent, and the output's tangent is the sum of the JVPs of the inputs that have one.
    The names of their other parameters say what they read: an input by its name here (``a``, ``b``,
    ``x``); ``out``, the output; a parameter of the op by its name (``dims``, ``keepdim``);
    ``a_shape``, the shape of input ``a``; ``i``, the input's position (ops with any number of
    inputs); ``inputs``, all of them. The walk runs an input's VJP only when that input needs a
    gradient, and checks that every value it reads is still the value recorded (not changed in
    place since); ``forward.push`` runs an input's JVP only when that input has a tangent.
    """

    def __init__(self, name, forward, *, promote=None, shown_edges=None, variadic=False, refuses_bool=None,
                 **inputs):
        self.name = name  # PyTorch's grad_fn name; functions pass another where PyTorch has overloads
        self.forward = forward  # forward(*arrays, **params) -> array
        self.promote = promote
        self.refuses_bool = refuses_bool  # PyTorch's errors for one and for two bool operands (subtraction)
        # where PyTorch's next_functions differ from our inputs (a Python-number exponent is no input of
        # PowBackward0; where's condition never is): shown_edges(edges, input_meta) -> edges
        self.shown_edges = shown_edges
        self.variadic = variadic  # cat, stack: one VJP for every input, told its position by ``i``
        self.input_names = tuple(inputs)
        specs = [tuple(spec) + (None, None) * (len(spec) == 2) for spec in inputs.values()]
        self.vjps, self.words, self.jvps, self.jvp_words = (tuple(column) for column in zip(*specs))
        # per input: what its VJP (and its JVP) reads, as (name, kind, key), worked out once here
        self._reads = tuple(self._reads_of(f) for f in self.vjps)
        self._jvp_reads = tuple(self._reads_of(f) for f in self.jvps)

    def _reads_of(self, f):
        return () if f is None else tuple(self._source(name) for name in tuple(inspect.signature(f).parameters)[2:])

    def _source(self, name):
        """Where the value a VJP or JVP names lives: ("input", k), ("shape", k), ("out",), ("i",),
        ("inputs",) or ("param", name)."""
        if name in self.input_names:
            return name, "input", self.input_names.index(name)
        if name.endswith("_shape") and name[:-len("_shape")] in self.input_names:
            return name, "shape", self.input_names.index(name[:-len("_shape")])
        if name in ("out", "i", "inputs"):
            return name, name, None
        return name, "param", name

    def vjp(self, slot):
        return self.vjps[0 if self.variadic else slot]

    def reads(self, slot):
        """``(name, kind, key)`` for each value the VJP of input ``slot`` reads."""
        return self._reads[0 if self.variadic else slot]

    def words_for(self, slot):
        return self.words[0 if self.variadic else slot]

    def jvp(self, slot):
        return self.jvps[0 if self.variadic else slot]

    def jvp_reads(self, slot):
        """``(name, kind, key)`` for each value the JVP of input ``slot`` reads."""
        return self._jvp_reads[0 if self.variadic else slot]

    def jvp_words_for(self, slot):
        return self.jvp_words[0 if self.variadic else slot]


def apply(rule, *inputs, name=None, **params):
    """Run ``rule`` on tensors (and Python numbers), recording a Node when a gradient is wanted."""
    # One pass over the inputs: their arrays, whether any wants a gradient, and whether PyTorch's
    # promotion has nothing to do (one float dtype, the rest Python numbers: float32 * 2 stays float32)
    arrays, wants_grad, dtype, promotes = [], False, None, False
    for x in inputs:
        if isinstance(x, Tensor):
            arrays.append(x.array)
            wants_grad = wants_grad or x._requires_grad or (x._view is not None and x.requires_grad)
            promotes = promotes or (dtype is not None and x.array.dtype != dtype)
            dtype = x.array.dtype
        else:
            arrays.append(x)
            promotes = promotes or (type(x) is not float and type(x) is not int)
    if rule.promote is not None and (promotes or dtype is None or dtype.kind != "f"):
        arrays = _promoted(rule, inputs, arrays)
    try:
        out = rule.forward(*arrays, **params)
    except ValueError:
        if rule.promote is None or len(arrays) != 2:
            raise
        raise errors.broadcast_mismatch(errors.forward_name(name or rule.name).lower(),
                                        np.shape(arrays[0]), np.shape(arrays[1])) from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)  # numpy gives scalars for 0-d input: keep arrays
    result = Tensor._from_array(out)
    if wants_grad and mode.enabled and out.dtype.kind == "f":  # integer results carry no gradient
        result._grad_fn = Node(rule, inputs, params, result, name or rule.name)
        result._requires_grad = True
    if dual.level is not None:  # forward mode: tangents go along, whether or not grad mode records
        push(rule, inputs, params, result, wants_grad, NumpyMath)
    return result


def _promoted(rule, inputs, arrays):
    """Cast the operand arrays to PyTorch's result dtype (``dtypes.result_type``)."""
    if rule.refuses_bool is not None:
        bools = sum(type(a) is bool or (type(a) is np.ndarray and a.dtype == np.bool_) for a in arrays)
        if bools:
            raise RuntimeError(rule.refuses_bool[bools - 1])
    target = dtypes.result_type([x for x in inputs if x is not None])
    if rule.promote == FLOAT and not target.is_floating_point:
        target = dtypes.float32
    return cast_operands(arrays, target)


def cast_operands(arrays, target):
    """Arrays (and Python numbers) in ``target``'s numpy dtype. A Python int wraps around into an
    integer dtype as in PyTorch (uint8 tensor + -3 adds 253), where numpy would raise OverflowError."""
    want = np.dtype(target.numpy)
    limits = np.iinfo(want) if want.kind in "iu" else None
    return [a.astype(want) if isinstance(a, np.ndarray) and a.dtype != want
            else np.array(a).astype(want) if limits and type(a) is int and not limits.min <= a <= limits.max
            else a for a in arrays]


def sign(x):
    """PyTorch's sign: 0 at NaN, where numpy's is NaN (so abs's gradient at NaN is 0, as in PyTorch)."""
    s = np.asarray(np.sign(x))  # an array even for 0-d input, so that it can be changed in place
    return np.nan_to_num(s, copy=False) if s.dtype.kind == "f" else s


# ----------------------------------------------------------------------------- float32 as PyTorch rounds it
def rounded_once(f):
    """``f`` correctly rounded on float32: computed in float64, rounded to float32 once. numpy's float32
    exp, log, sin ... are SIMD approximations an ulp or more off, and an ulp shows in printed numbers
    (exp(12.) printed 162754.7812 where PyTorch prints 162754.7969). Other dtypes go straight to ``f``:
    float64 is as exact as numpy gets, and pays one dtype check."""
    def rounded(x, *args, **params):
        if getattr(x, "dtype", None) != np.float32:
            return f(x, *args, **params)
        return np.asarray(f(x.astype(np.float64), *args, **params)).astype(np.float32)
    rounded.__name__ = getattr(f, "__name__", "rounded")
    return rounded


exp32, log32, sin32, cos32, tanh32 = (rounded_once(f) for f in (np.exp, np.log, np.sin, np.cos, np.tanh))


# ----------------------------------------------------------------------------- numpy for the VJPs
class NumpyMath:
    """The array functions the VJPs call, answered by numpy: an ordinary backward.

    ``functions.TensorMath`` answers the same names with recorded ops, for ``create_graph``.
    """

    records = False  # whether what the VJPs compute is itself recorded
    exp, log, sin, cos, sign, where, matmul = (staticmethod(f) for f in (exp32, log32, sin32, cos32, sign,
                                                                          np.where, np.matmul))

    @staticmethod
    def sum(a, dims, keepdim):
        return a.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def reshape(a, shape):
        return a.reshape(shape)

    @staticmethod
    def permute(a, dims):
        return a.transpose(dims)

    @staticmethod
    def expand(a, shape):
        return np.broadcast_to(a, shape)

    @staticmethod
    def swap_last(a):
        return np.swapaxes(a, -1, -2)

    @staticmethod
    def take(a, key):
        return indexing.index(a, key)

    @staticmethod
    def scatter(g, shape, key):
        """Zeros of ``shape`` with ``g`` added in at ``key`` (repeated indices add up)."""
        return indexing.scatter_add(g, shape, key)

    @staticmethod
    def replay(a, steps):
        return replay(a, steps)

    @staticmethod
    def put(value, shape, key):
        """Zeros of ``shape`` with ``value`` written at ``key`` (``x[key] = value``)."""
        out = np.zeros(shape, dtype=np.asarray(value).dtype)
        indexing.setitem(out, key, value)
        return out

    @staticmethod
    def zeros_like(a):
        return np.zeros_like(a)

    @staticmethod
    def named(a, name):
        return a  # what a backward computed is not recorded here, so there is no node to name

    @staticmethod
    def select(mask, g, source, name=None):
        """``g`` where ``mask``, else 0. A multiply, which is ten times faster than numpy's branchy
        select on a random mask; adding 0.0 turns the -0.0 that ``g * 0`` gives for a negative ``g``
        into the 0.0 that PyTorch's select prints. ``source``, the tensor the mask was read from, and
        ``name``, PyTorch's name for this backward's own node, matter only to ``functions.TensorMath``."""
        return g * mask + 0.0

    @staticmethod
    def cast(a, dtype):
        return np.asarray(a, dtype=dtype)

    @staticmethod
    def copy(a):
        return np.array(a)


# ----------------------------------------------------------------------------- helpers of the rules
def _unreduce(xp, g, dims, keepdim, shape):
    """Put back the dimensions a reduction removed, so ``g`` broadcasts against its input's ``shape``."""
    if dims is None:
        dims = range(len(shape))
    if not keepdim:
        g = xp.reshape(g, tuple(1 if d in dims else n for d, n in enumerate(shape)))
    return xp.expand(g, shape)


def _count(shape, dims):
    n = 1
    for d in range(len(shape)) if dims is None else dims:
        n *= shape[d]
    return n


def _mean_vjp(xp, g, dims, keepdim, a_shape):
    n = _count(a_shape, dims)
    return _unreduce(xp, g, dims, keepdim, a_shape) * (1.0 / n if n else math.nan)


def _mean_jvp(xp, t, dims, keepdim, a_shape):
    n = _count(a_shape, dims)
    return xp.sum(t, dims, keepdim) * (1.0 / n if n else math.nan)


def _mean_forward(a, dims, keepdim):
    if a.size == 0:  # the mean of nothing is nan, silently (numpy would warn)
        return a.sum(axis=dims, keepdims=keepdim) * np.nan
    return a.mean(axis=dims, keepdims=keepdim)


def _picked(reduce, a, dims, keepdim, mask):
    """max/min's values. Along a dim they are the elements at the indices returned (``mask``), as in
    PyTorch: of a tied +0. and -0. the first. Over everything, numpy's choice is already PyTorch's."""
    if not dims:
        return reduce(a, axis=dims, keepdims=keepdim)
    (d,) = dims
    out = np.take_along_axis(a, np.expand_dims(np.argmax(mask, axis=d), d), axis=d)
    return out if keepdim else np.squeeze(out, d)


def _select_vjp(xp, g, dims, keepdim, mask, a_shape):
    """max/min: the gradient goes to the selected element, 0 elsewhere (a select, so never -0.).
    A full reduction shares it among ties, as PyTorch's evenly_distribute_backward."""
    if dims is None:
        return xp.select(mask, g / int(mask.sum()), None)  # an int: float32 / 2 stays float32
    return xp.select(mask, _unreduce(xp, g, dims, keepdim, a_shape), None)


def _select_jvp(xp, t, dims, keepdim, mask):
    """max/min: the tangent of the selected element; a full reduction's ties share it evenly."""
    picked = xp.sum(xp.select(mask, t, None), dims, keepdim)
    return picked / int(mask.sum()) if dims is None else picked


# The elementwise helpers below serve as VJP and as JVP (the Jacobian is diagonal): ``g`` is the
# output's gradient, or the input's tangent.
def _larger_term(xp, g, mine, other):
    """maximum: the larger input takes the gradient, each half of it where they are equal. A NaN is
    neither smaller nor equal, so it takes all of it, as in PyTorch."""
    return xp.select(~(mine < other), xp.where(mine == other, g / 2, g), None)


def _smaller_term(xp, g, mine, other):
    return xp.select(~(mine > other), xp.where(mine == other, g / 2, g), None)


def _norm_forward(x, ord, dims, keepdim):
    if ord == 2:
        return np.sqrt((x * x).sum(axis=dims, keepdims=keepdim))
    size = np.abs(x)
    if ord == 1:
        return size.sum(axis=dims, keepdims=keepdim)
    if math.isinf(ord):  # the largest (or for -inf the smallest) size
        return (size.max if ord > 0 else size.min)(axis=dims, keepdims=keepdim)
    if ord == 0:  # how many are not zero
        return (size != 0).sum(axis=dims, keepdims=keepdim).astype(x.dtype)
    return ((size ** ord).sum(axis=dims, keepdims=keepdim)) ** (1 / ord)


def _norm_vjp(xp, g, x, out, ord, dims, keepdim, x_shape):
    if ord == 0:
        return None  # a count is flat: like PyTorch, no gradient at all is sent (x.grad stays None)
    g = _unreduce(xp, g, dims, keepdim, x_shape)
    if ord == 1:
        return g * xp.sign(x)
    out = _unreduce(xp, out, dims, keepdim, x_shape)
    if ord == 2:
        return g * x / (out + (out == 0))  # x / |x|, taken as 0 at the origin (as PyTorch), never 0 / 0
    size = xp.sign(x) * x
    if math.isinf(ord):  # the gradient goes to the elements of that size, shared among ties (as PyTorch)
        picked = (size == out) * 1.0
        return xp.sign(x) * g * picked / _unreduce(xp, xp.sum(picked, dims, keepdim), dims, keepdim, x_shape)
    # d/dx (Σ|x|^p)^(1/p) = sign(x) |x|^(p-1) / norm^(p-1): 0 where x is 0, and at a norm of 0
    grown = xp.where(size == 0, 0.0, size ** (ord - 1)) if ord < 1 else size ** (ord - 1)
    return xp.sign(x) * grown * g / (out ** (ord - 1) + (out == 0))


def _norm_jvp(xp, t, x, out, ord, dims, keepdim):
    if ord == 1:
        return xp.sum(t * xp.sign(x), dims, keepdim)
    return xp.sum(t * x, dims, keepdim) / (out + (out == 0))  # <x / |x|, t>, taken as 0 at the origin


def _softmax_forward(x, dims):
    if x.size == 0:
        return x.copy()  # numpy's max has nothing to start from; the softmax of nothing is nothing
    e = exp32(x - x.max(axis=dims, keepdims=True))
    return e * (1 / e.sum(axis=dims, keepdims=True))  # as PyTorch's kernel: times the reciprocal of the sum


def _log_softmax_forward(x, dims):
    if x.size == 0:
        return x.copy()
    # as PyTorch's kernel: the shift, the sum and the last subtraction in x's dtype; exp and log rounded once
    shifted = x - x.max(axis=dims, keepdims=True)
    return shifted - log32(exp32(shifted).sum(axis=dims, keepdims=True))


def _pow_base_term(xp, g, base, exponent):
    if isinstance(exponent, (int, float)):
        # an exponent of 0 gives 0 everywhere, even at base 0 (not 0 * 0**-1)
        return g * exponent * base ** (exponent - 1) if exponent != 0 else xp.zeros_like(g)
    # where the exponent is 0, use base**0 so the 0 factor is not multiplied by 0**-1 = inf
    return g * exponent * base ** xp.where(exponent != 0, exponent - 1, exponent)


def _pow_exponent_term(xp, g, base, exponent, out):
    """d/db a**b = a**b log a. At a == 0 PyTorch takes it as 0 for b >= 0 and -inf for b < 0."""
    if isinstance(base, (int, float)):
        if base == 0:
            return xp.where(exponent >= 0, 0.0, g * -math.inf)
        return g * out * (math.log(base) if base > 0 else math.nan)
    at_zero = base == 0
    grad = g * xp.where(at_zero, 0.0, out) * xp.log(base + at_zero)  # log(1) stands in at 0: no warning
    return xp.where(at_zero & (exponent < 0), g * -math.inf, grad)


def _within(x, low, high):
    if low is None:
        return x <= high
    if high is None:
        return x >= low
    return (x >= low) & (x <= high)


def _clamp_low_term(xp, g, x, low, high):
    """Where the lower bound won, strictly below the upper bound, the gradient is the bound's
    (PyTorch's clamp_backward_min_max: with low == high the upper bound takes it)."""
    return xp.select((x < low) & (low < high) if high is not None else x < low, g, None)


def _clamp_high_term(xp, g, x, low, high):
    return xp.select((x > high) | (high < low) if low is not None else x > high, g, None)


def _matmul_a_vjp(xp, g, b, a_shape):
    """Batched matmul: a vector operand is a one-row (a) or one-column (b) matrix, then as mm."""
    if len(b.shape) == 1:
        b, g = xp.reshape(b, tuple(b.shape) + (1,)), xp.reshape(g, tuple(g.shape) + (1,))
    grad = xp.matmul(g if len(a_shape) > 1 else xp.reshape(g, tuple(g.shape[:-1]) + (1, g.shape[-1])),
                     xp.swap_last(b))
    # the batch dimensions are summed away by the walk (sum_to); only a vector's extra axis goes here
    return grad if len(a_shape) > 1 else xp.reshape(grad, tuple(grad.shape[:-2]) + (grad.shape[-1],))


def _matmul_b_vjp(xp, g, a, b_shape):
    if len(a.shape) == 1:
        a, g = xp.reshape(a, (1,) + tuple(a.shape)), xp.reshape(g, tuple(g.shape[:-1]) + (1, g.shape[-1]))
    grad = xp.matmul(xp.swap_last(a), g if len(b_shape) > 1 else xp.reshape(g, tuple(g.shape) + (1,)))
    return grad if len(b_shape) > 1 else xp.reshape(grad, tuple(grad.shape[:-1]))


def _inverse_permutation(dims):
    """The dims that undo ``permute(dims)``: input dim d went to place ``dims.index(d)``."""
    return tuple(dims.index(d) for d in range(len(dims)))


def _cat_vjp(xp, g, i, dim, sizes):
    start = sum(sizes[:i])
    return xp.take(g, (slice(None),) * dim + (slice(start, start + sizes[i]),))


def _cat_jvp(xp, t, i, dim, sizes):
    """Input ``i``'s tangent in its part of the output, zeros in the others' parts."""
    start = sum(sizes[:i])
    shape = tuple(t.shape[:dim]) + (sum(sizes),) + tuple(t.shape[dim + 1:])
    return xp.scatter(t, shape, (slice(None),) * dim + (slice(start, start + sizes[i]),))


def _setitem_forward(a, value, key):
    out = a.copy()
    indexing.setitem(out, key, value)
    return out


def _zero_at(xp, g, key):
    keep = np.ones(g.shape, dtype=bool)
    indexing.setitem(keep, key, False)
    return xp.where(keep, g, 0.0)


# A view's steps (views.py): each view op that made it from its base, as (rule, params, input shape).
def replay(array, steps):
    """The same view taken again, of ``array`` (the base, or a gradient of the base's shape)."""
    for rule, params, _ in steps:
        array = rule.forward(array, **params)
    return array


def unreplay(xp, g, steps):
    """A view's gradient sent back to its base: each step's VJP, the last step first."""
    for rule, params, shape in reversed(steps):
        g = rule.vjp(0)(xp, g, *[shape if kind == "shape" else params[key] for _, kind, key in rule.reads(0)])
        if tuple(g.shape) != shape:
            g = sum_to(xp, g, shape)  # an expand's copies add up
    return g


def _base_and_op_inputs(edges, meta):
    # PyTorch's CopySlices lists the old base, then the in-place op's inputs other than the view
    return edges[:1] + edges[1].edges[1:]


def _copy_slices_value_vjp(xp, g, steps, repeats):
    if repeats:  # the view repeats elements of its base (an expand): its gradient has no one place to go
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the operation.\n"
                           "An in-place op wrote into a view that repeats elements of its base (an expand); "
                           "write into v.clone(), or into the base itself.")
    return xp.replay(g, steps)


def _copy_slices_forward(base, value, steps, mask, repeats):
    new = _copy_slices_value_jvp(NumpyMath, value, steps, repeats)
    return np.where(mask, new, base).astype(base.dtype, copy=False)


def _copy_slices_value_jvp(xp, value, steps, repeats):
    """The view's new region (or its tangent) put where the view sits in a zero base."""
    new = unreplay(xp, value, steps)
    if repeats:  # fill_ wrote one value into every copy of an element: the value, not their sum
        new = new / np.maximum(unreplay(NumpyMath, np.ones(value.shape), steps), 1)
    return new


def _expand_forward(a, new_shape):
    # a view that can be written through (x.expand(2, 3)[0] = 1), as PyTorch's; np.broadcast_to's is read-only
    seen = np.broadcast_to(a, new_shape)
    return np.lib.stride_tricks.as_strided(a, seen.shape, seen.strides)


def _drop_numbers(edges, meta):
    return tuple(e for e, m in zip(edges, meta) if m is not None)


def _copy_forward(a, src):
    return np.broadcast_to(src, a.shape).astype(a.dtype)


def _where_forward(condition, a, b, dtype):
    return np.where(condition, a, b).astype(dtype, copy=False)


def _quietly(forward):
    """``forward`` with numpy's floating-point warnings off: log(0), 1/0, 0**-1 and exp(1000) give
    -inf, inf and nan silently, as in PyTorch. Only the rules that can warn pay for the errstate."""

    def quiet(*arrays, **params):
        token = ignore_float_errors()
        try:
            return forward(*arrays, **params)
        finally:
            restore_float_errors(token)

    quiet.__name__ = getattr(forward, "__name__", "forward")
    return quiet


# PyTorch's pow by these numbers on floats is plain arithmetic (pow_tensor_scalar_optimized_kernel)
_POWER_BY_ARITHMETIC = {3: lambda b: b * b * b, -2: lambda b: 1 / (b * b), -0.5: lambda b: 1 / np.sqrt(b)}


def _pow_forward(base, exponent):
    if type(base) is np.ndarray and base.dtype == np.float32:
        if type(exponent) in (int, float) and exponent in _POWER_BY_ARITHMETIC:
            return _POWER_BY_ARITHMETIC[exponent](base)
        return np.power(base.astype(np.float64), exponent).astype(np.float32)  # rounded once, as rounded_once
    if type(exponent) is np.ndarray and exponent.dtype == np.float32:  # 2.5 ** x
        return np.power(base, exponent.astype(np.float64)).astype(np.float32)
    try:
        return np.power(base, exponent)
    except ValueError as error:  # numpy refuses integers to negative integer powers; PyTorch only a
        if "negative integer powers" not in str(error):  # number (functions.pow), not a tensor exponent
            raise
        dtype = np.result_type(base, exponent)  # a Python int takes the tensor's dtype, as in PyTorch
        return _integer_power(np.asarray(base, dtype), np.asarray(exponent, dtype))


def _integer_power(base, exponent):
    """PyTorch's integer power of a tensor exponent: to a negative power 1 stays 1, -1 gives ±1 and
    every other integer gives 0 (the fraction rounded toward zero)."""
    negative = exponent < 0
    out = np.power(base, np.where(negative, 0, exponent))
    odd = exponent % 2 != 0
    small = np.where(base == 1, 1, np.where(base == -1, np.where(odd, -1, 1), 0))
    return np.where(negative, small, out).astype(out.dtype, copy=False)


def _relu_forward(x):
    return np.maximum(0, x)  # on a tie numpy returns its second operand, so relu(-0.) is -0., as in PyTorch


def _clip(x, low, high):
    """PyTorch's clamp: x itself wherever it is not beyond a bound, so clamp(-0., min=0.) stays -0."""
    x = x if low is None else np.maximum(low, x)
    return x if high is None else np.minimum(high, x)


def _sigmoid_forward(x):
    return 1 / (1 + exp32(-x))  # as PyTorch's kernel: the exp rounded once, the rest in x's dtype


_SUBTRACT_BOOL = ("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
                  "invert a mask, use the `~` or `logical_not()` operator instead.\n"
                  "~mask flips every True and False; mask.long() gives 0 and 1 to compute with.",
                  "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                  "`logical_xor()` operator instead.\na ^ b is True where exactly one of them is.")

R = Rule
# Per input: (VJP, its words, JVP, its words). An elementwise op's Jacobian is diagonal, so it is its
# own transpose: its JVP is its VJP's formula with the input's tangent t where the VJP has the output's
# gradient g (d(a·b) = ȧ·b + a·ḃ). For the other ops (matmul, reductions, shapes) the JVP applies the
# op's linear map to t where the VJP applied that map's transpose to g: sum's VJP spreads g out, its JVP
# sums t; indexing's VJP scatters g, its JVP indexes t.
RULES = {
    # elementwise arithmetic ---------------------------------------------------------------
    "add": R("AddBackward0", np.add, promote=SAME,
             a=(lambda xp, g: g, "{g}", lambda xp, t: t, "{t}"),
             b=(lambda xp, g: g, "{g}", lambda xp, t: t, "{t}")),
    "sub": R("SubBackward0", np.subtract, promote=SAME, refuses_bool=_SUBTRACT_BOOL,
             a=(lambda xp, g: g, "{g}", lambda xp, t: t, "{t}"),
             b=(lambda xp, g: -g, "-{g}", lambda xp, t: -t, "-{t}")),
    "rsub": R("RsubBackward1", lambda a, b: np.subtract(b, a), promote=SAME, shown_edges=_drop_numbers,
              refuses_bool=_SUBTRACT_BOOL,
              a=(lambda xp, g: -g, "-{g}", lambda xp, t: -t, "-{t}"),
              b=(None, None)),
    "mul": R("MulBackward0", np.multiply, promote=SAME,
             a=(lambda xp, g, b: g * b, "{b} · {g}",  # the local derivative first: 2 · grad(y)
                lambda xp, t, b: t * b, "{t} · {b}"),
             b=(lambda xp, g, a: g * a, "{a} · {g}",
                lambda xp, t, a: t * a, "{a} · {t}")),
    "div": R("DivBackward0", _quietly(np.true_divide), promote=FLOAT,
             a=(lambda xp, g, b: g / b, "{g} / {b}",
                lambda xp, t, b: t / b, "{t} / {b}"),
             b=(lambda xp, g, a, b: -g * a / (b * b), "-{g} · {a} / {b}²",
                lambda xp, t, a, b: -t * a / (b * b), "-{t} · {a} / {b}²")),
    "remainder": R("RemainderBackward0", _quietly(np.remainder), promote=SAME,
                   a=(lambda xp, g: g, "{g}", lambda xp, t: t, "{t}"),
                   b=(lambda xp, g, a, b, out: -g * (a - out) / b, "-{g} · floor({a} / {b})",  # a = b·floor(a/b) + out
                      lambda xp, t, a, b, out: -t * (a - out) / b, "-{t} · floor({a} / {b})")),
    "reciprocal": R("ReciprocalBackward0", _quietly(lambda x: np.true_divide(1, x)), promote=FLOAT,
                    x=(lambda xp, g, out: -g * out * out, "-{g} · {out}²",
                       lambda xp, t, out: -t * out * out, "-{t} · {out}²")),
    "pow": R("PowBackward0", _quietly(_pow_forward), promote=SAME, shown_edges=_drop_numbers,
             base=(_pow_base_term, "{g} · {exponent} · {base}^({exponent} - 1)",
                   _pow_base_term, "{t} · {exponent} · {base}^({exponent} - 1)"),
             exponent=(_pow_exponent_term, "{g} · {out} · log({base})",
                       _pow_exponent_term, "{t} · {out} · log({base})")),
    "neg": R("NegBackward0", np.negative,
             x=(lambda xp, g: -g, "-{g}", lambda xp, t: -t, "-{t}")),
    "sign": R("SignBackward0", sign,
              x=(lambda xp, g: xp.zeros_like(g), "0 (sign is flat)", lambda xp, t: xp.zeros_like(t), "0 (sign is flat)")),
    "abs": R("AbsBackward0", np.abs,
             x=(lambda xp, g, x: g * xp.sign(x), "{g} · sign({x})",
                lambda xp, t, x: t * xp.sign(x), "{t} · sign({x})")),
    "exp": R("ExpBackward0", _quietly(exp32), promote=FLOAT,
             x=(lambda xp, g, out: g * out, "{g} · {out}",
                lambda xp, t, out: t * out, "{t} · {out}")),
    "log": R("LogBackward0", _quietly(log32), promote=FLOAT,
             x=(lambda xp, g, x: g / x, "{g} / {x}",
                lambda xp, t, x: t / x, "{t} / {x}")),
    "sqrt": R("SqrtBackward0", _quietly(np.sqrt), promote=FLOAT,
              x=(lambda xp, g, out: g / (2 * out), "{g} / (2 · {out})",
                 lambda xp, t, out: t / (2 * out), "{t} / (2 · {out})")),
    "sin": R("SinBackward0", sin32, promote=FLOAT,
             x=(lambda xp, g, x: g * xp.cos(x), "{g} · cos({x})",
                lambda xp, t, x: t * xp.cos(x), "{t} · cos({x})")),
    "cos": R("CosBackward0", cos32, promote=FLOAT,
             x=(lambda xp, g, x: -g * xp.sin(x), "-{g} · sin({x})",
                lambda xp, t, x: -t * xp.sin(x), "-{t} · sin({x})")),
    "tanh": R("TanhBackward0", tanh32, promote=FLOAT,
              x=(lambda xp, g, out: xp.named(g * (1 - out * out), "TanhBackwardBackward0"), "{g} · (1 - {out}²)",
                 lambda xp, t, out: t * (1 - out * out), "{t} · (1 - {out}²)")),
    "sigmoid": R("SigmoidBackward0", _quietly(_sigmoid_forward), promote=FLOAT,
                 x=(lambda xp, g, out: xp.named(g * out * (1 - out), "SigmoidBackwardBackward0"),
                    "{g} · {out} · (1 - {out})",
                    lambda xp, t, out: t * out * (1 - out), "{t} · {out} · (1 - {out})")),
    "relu": R("ReluBackward0", _relu_forward,
              x=(lambda xp, g, out: xp.select(~(out <= 0), g, out, "ThresholdBackwardBackward0"),  # a NaN passes, as in PyTorch
                 "{g} where {out} > 0, else 0",
                 lambda xp, t, out: xp.select(~(out <= 0), t, None), "{t} where {out} > 0, else 0")),
    "maximum": R("MaximumBackward0", lambda a, b: np.maximum(b, a), promote=SAME,  # a on a tie: see _clip
                 a=(lambda xp, g, a, b: _larger_term(xp, g, a, b), "{g} where {a} > {b} (half where equal)",
                    lambda xp, t, a, b: _larger_term(xp, t, a, b), "{t} where {a} > {b} (half where equal)"),
                 b=(lambda xp, g, a, b: _larger_term(xp, g, b, a), "{g} where {b} > {a} (half where equal)",
                    lambda xp, t, a, b: _larger_term(xp, t, b, a), "{t} where {b} > {a} (half where equal)")),
    "minimum": R("MinimumBackward0", lambda a, b: np.minimum(b, a), promote=SAME,
                 a=(lambda xp, g, a, b: _smaller_term(xp, g, a, b), "{g} where {a} < {b} (half where equal)",
                    lambda xp, t, a, b: _smaller_term(xp, t, a, b), "{t} where {a} < {b} (half where equal)"),
                 b=(lambda xp, g, a, b: _smaller_term(xp, g, b, a), "{g} where {b} < {a} (half where equal)",
                    lambda xp, t, a, b: _smaller_term(xp, t, b, a), "{t} where {b} < {a} (half where equal)")),
    "clamp": R("ClampBackward1", _clip,
               x=(lambda xp, g, x, low, high: xp.select(_within(x, low, high), g, None), "{g} where min ≤ {x} ≤ max, else 0",
                  lambda xp, t, x, low, high: xp.select(_within(x, low, high), t, None), "{t} where min ≤ {x} ≤ max, else 0")),
    "clamp_tensor": R("ClampBackward0", _clip, promote=SAME,  # bounds that are tensors get gradients too
                      x=(lambda xp, g, x, low, high: xp.select(_within(x, low, high), g, None), "{g} where {x} is within bounds",
                         lambda xp, t, x, low, high: xp.select(_within(x, low, high), t, None), "{t} where {x} is within bounds"),
                      low=(_clamp_low_term, "{g} where {low} bounds {x}", _clamp_low_term, "{t} where {low} bounds {x}"),
                      high=(_clamp_high_term, "{g} where {high} bounds {x}", _clamp_high_term, "{t} where {high} bounds {x}")),
    "where": R("WhereBackward0", _where_forward, shown_edges=lambda edges, meta: edges[1:],
               condition=(None, None),
               a=(lambda xp, g, condition: xp.where(condition, g, 0.0), "{g} where {condition}, else 0",
                  lambda xp, t, condition: xp.where(condition, t, 0.0), "{t} where {condition}, else 0"),
               b=(lambda xp, g, condition: xp.where(condition, 0.0, g), "{g} where not {condition}, else 0",
                  lambda xp, t, condition: xp.where(condition, 0.0, t), "{t} where not {condition}, else 0")),
    # linear algebra: the JVP multiplies the tangent in where the input was ------------------
    "dot": R("DotBackward0", np.dot, promote=SAME,
             a=(lambda xp, g, b: g * b, "{g} · {b}", lambda xp, t, b: xp.matmul(t, b), "{t} · {b}"),
             b=(lambda xp, g, a: g * a, "{a} · {g}", lambda xp, t, a: xp.matmul(a, t), "{a} · {t}")),
    "mv": R("MvBackward0", np.matmul, promote=SAME,
            m=(lambda xp, g, v: xp.reshape(g, (-1, 1)) * xp.reshape(v, (1, -1)), "outer({g}, {v})",
               lambda xp, t, v: xp.matmul(t, v), "{t} @ {v}"),
            v=(lambda xp, g, m: xp.matmul(xp.swap_last(m), g), "{m}ᵀ @ {g}",
               lambda xp, t, m: xp.matmul(m, t), "{m} @ {t}")),
    "mm": R("MmBackward0", np.matmul, promote=SAME,
            a=(lambda xp, g, b: xp.matmul(g, xp.swap_last(b)), "{g} @ {b}ᵀ", lambda xp, t, b: xp.matmul(t, b), "{t} @ {b}"),
            b=(lambda xp, g, a: xp.matmul(xp.swap_last(a), g), "{a}ᵀ @ {g}", lambda xp, t, a: xp.matmul(a, t), "{a} @ {t}")),
    "matmul": R("UnsafeViewBackward0", np.matmul, promote=SAME,
                a=(_matmul_a_vjp, "{g} @ {b}ᵀ", lambda xp, t, b: xp.matmul(t, b), "{t} @ {b}"),
                b=(_matmul_b_vjp, "{a}ᵀ @ {g}", lambda xp, t, a: xp.matmul(a, t), "{a} @ {t}")),
    # reductions ---------------------------------------------------------------------------
    "sum": R("SumBackward1", lambda a, dims, keepdim: a.sum(axis=dims, keepdims=keepdim),
             a=(lambda xp, g, dims, keepdim, a_shape: _unreduce(xp, g, dims, keepdim, a_shape),
                "{g} · ones_like({a})",
                lambda xp, t, dims, keepdim: xp.sum(t, dims, keepdim), "sum({t})")),
    "mean": R("MeanBackward1", _mean_forward,
              a=(_mean_vjp, "{g} · ones_like({a}) / n", _mean_jvp, "sum({t}) / n")),
    "max": R("MaxBackward0", lambda a, dims, keepdim, mask: _picked(np.max, a, dims, keepdim, mask),
             a=(_select_vjp, "{g} at the largest entry of {a}", _select_jvp, "{t} at the largest entry of {a}")),
    "min": R("MinBackward0", lambda a, dims, keepdim, mask: _picked(np.min, a, dims, keepdim, mask),
             a=(_select_vjp, "{g} at the smallest entry of {a}", _select_jvp, "{t} at the smallest entry of {a}")),
    "norm": R("LinalgVectorNormBackward0", _quietly(_norm_forward),
              x=(_norm_vjp, "{g} · {x} / {out}", _norm_jvp, "sum({t} · {x}) / {out}")),
    "softmax": R("SoftmaxBackward0", _quietly(_softmax_forward),  # its Jacobian is symmetric: one formula
                 x=(lambda xp, g, out, dims: out * (g - xp.sum(g * out, dims, True)), "{out} · ({g} - sum({g} · {out}))",
                    lambda xp, t, out, dims: out * (t - xp.sum(t * out, dims, True)), "{out} · ({t} - sum({t} · {out}))")),
    "log_softmax": R("LogSoftmaxBackward0", _quietly(_log_softmax_forward),
                     x=(lambda xp, g, out, dims: g - xp.exp(out) * xp.sum(g, dims, True), "{g} - exp({out}) · sum({g})",
                        lambda xp, t, out, dims: t - xp.sum(xp.exp(out) * t, dims, True), "{t} - sum(exp({out}) · {t})")),
    # shapes: the JVP moves the tangent as the op moved the values ----------------------------
    "reshape": R("ViewBackward0", lambda a, new_shape: a.reshape(new_shape),
                 a=(lambda xp, g, a_shape: xp.reshape(g, a_shape), "{g} reshaped like {a}",
                    lambda xp, t, new_shape: xp.reshape(t, new_shape), "{t} reshaped")),
    "permute": R("PermuteBackward0", lambda a, dims: a.transpose(dims),
                 a=(lambda xp, g, dims: xp.permute(g, _inverse_permutation(dims)), "{g} permuted back",
                    lambda xp, t, dims: xp.permute(t, dims), "{t} permuted")),
    "expand": R("ExpandBackward0", _expand_forward,
                a=(lambda xp, g: g, "{g} summed over the expanded dims",
                   lambda xp, t, new_shape: xp.expand(t, new_shape), "{t} expanded")),
    "cat": R("CatBackward0", lambda *tensors, dim, sizes: np.concatenate(tensors, axis=dim), promote=SAME,
             variadic=True, tensors=(_cat_vjp, "{g}[part {i}]", _cat_jvp, "{t} as part {i}, 0 elsewhere")),
    "stack": R("StackBackward0", lambda *tensors, dim: np.stack(tensors, axis=dim), promote=SAME,
               variadic=True, tensors=(lambda xp, g, i, dim: xp.take(g, (slice(None),) * dim + (i,)), "{g}[{i}]",
                                       lambda xp, t, i, dim, out: xp.scatter(t, tuple(out.shape), (slice(None),) * dim + (i,)),
                                       "{t} as entry {i}, 0 elsewhere")),
    # ``key`` as written (drawings show it) and its ``plan`` (indexing.plan: made once, read by all three)
    "index": R("IndexBackward0", lambda a, key, plan: indexing.index(a, plan),
               a=(lambda xp, g, plan, a_shape: xp.scatter(g, a_shape, plan), "{g} put back where {a} was indexed, 0 elsewhere",
                  lambda xp, t, plan: xp.take(t, plan), "{t} indexed")),
    "scatter": R("IndexPutBackward0", lambda grad, shape, key: NumpyMath.scatter(grad, shape, key),
                 grad=(lambda xp, g, key: xp.take(g, key), "{g} at the indexed places",
                       lambda xp, t, shape, key: xp.scatter(t, shape, key), "{t} put at the indexed places")),
    "setitem": R("CopySlices", _setitem_forward,
                 a=(lambda xp, g, key: _zero_at(xp, g, key), "{g}, 0 where {a} was overwritten",
                    lambda xp, t, key: _zero_at(xp, t, key), "{t}, 0 where {a} was overwritten"),
                 value=(lambda xp, g, key: xp.take(g, key), "{g} at the assigned places",
                        lambda xp, t, key, a_shape: xp.put(t, a_shape, key), "{t} at the assigned places, 0 elsewhere")),
    # views changed in place (views.py): a view remade from its base's new history, and an in-place op
    # through a view, which replaces the view's region of its base (the mask) by the op's result (value)
    "as_strided": R("AsStridedBackward0", replay,
                    base=(lambda xp, g, steps: unreplay(xp, g, steps), "{g} put back where the view sits in {base}",
                          lambda xp, t, steps: xp.replay(t, steps), "{t} seen through the view")),
    "copy_slices": R("CopySlices", _copy_slices_forward, shown_edges=_base_and_op_inputs,
                     base=(lambda xp, g, mask: xp.where(mask, 0.0, g), "{g}, 0 where the view of {base} was overwritten",
                           lambda xp, t, mask: xp.where(mask, 0.0, t), "{t}, 0 where the view of {base} is overwritten"),
                     value=(_copy_slices_value_vjp, "{g} at the view's place",
                            _copy_slices_value_jvp, "{t} put where the view sits in {base}")),
    # in-place zero_/fill_/copy_ as recorded ops: the old value gets no gradient, the source all of it
    "fill": R("FillBackward2", lambda a, value: np.full_like(a, value),
              a=(lambda xp, g: xp.zeros_like(g), "0 (fill_ overwrote {a})",
                 lambda xp, t: xp.zeros_like(t), "0 (fill_ overwrote {a})")),
    "copy": R("CopyBackwards", _copy_forward,
              a=(lambda xp, g: xp.zeros_like(g), "0 (copy_ overwrote {a})",
                 lambda xp, t: xp.zeros_like(t), "0 (copy_ overwrote {a})"),
              src=(lambda xp, g: g, "{g}", lambda xp, t: t, "{t}")),
    "clone": R("CloneBackward0", np.copy,
               a=(lambda xp, g: g, "{g}", lambda xp, t: t, "{t}")),
    "contiguous": R("CloneBackward0", np.ascontiguousarray,  # a copy in row order, as PyTorch's contiguous()
                    a=(lambda xp, g: g, "{g}", lambda xp, t: t, "{t}")),
    "to": R("ToCopyBackward0", lambda a, dtype: a.astype(dtype),
            a=(lambda xp, g: g, "{g}", lambda xp, t, dtype: xp.cast(t, dtype), "{t}")),
}


# ----------------------------------------------------------------------------- the course's ops (issue 12)
# Rules for nn, optim and distributions: their helpers first, then their entries, added to RULES in one
# block so that the table above stays as it was.
def _run(xp, name, x, **params):
    """Another rule of this table inside a VJP: recorded under create_graph (so the gradient can be
    differentiated again), plain numpy in an ordinary backward."""
    if xp.records:
        return apply(RULES[name], x, **params)
    return RULES[name].forward(x, **params)


def _scan(forward):
    """A running sum or product along ``dim``; of a 0-d tensor, itself (numpy scans need a dim)."""
    def scan(a, dim):
        return forward(a.reshape(1), 0).reshape(()) if a.ndim == 0 else forward(a, dim)
    scan.__name__ = forward.__name__
    return scan


def _scan_dtype(a):
    return np.int64 if a.dtype.kind in "biu" else a.dtype  # PyTorch adds and multiplies bools and ints as int64


@_scan
def _cumsum_forward(a, dim):
    return np.cumsum(a, axis=dim, dtype=_scan_dtype(a))


@_scan
def _reverse_cumsum_forward(a, dim):
    """Sums from the end: what each element of a cumulative sum sends back to the inputs before it."""
    return np.flip(np.cumsum(np.flip(a, axis=dim), axis=dim), axis=dim)


@_scan
def _cumprod_forward(a, dim):
    return np.cumprod(a, axis=dim, dtype=_scan_dtype(a))


def _prod_forward(a, dims, keepdim):
    return np.prod(a, axis=dims, keepdims=keepdim, dtype=_scan_dtype(a))


def _value(v):
    """The numpy array of a VJP's argument (a Tensor under create_graph)."""
    return v.array if isinstance(v, Tensor) else v


def _positions(shape, dim):
    """Each element's index along ``dim``, shaped to broadcast against ``shape``."""
    return np.arange(shape[dim]).reshape((shape[dim],) + (1,) * (len(shape) - dim - 1))


def _others_product(xp, x, out, dims, keepdim, x_shape):
    """d prod / d x: per element x_j, the product of the other elements it was multiplied with. Without
    zeros it is prod / x_j; where x holds a zero that is 0 / 0, so then each x_j is set to 1 in turn and
    the product taken again (O(n²), only when there is a zero; PyTorch's formula is exact there too)."""
    if not (_value(x) == 0).any():
        return _unreduce(xp, out, dims, keepdim, x_shape) / x
    flat, dim = (xp.reshape(x, (-1,)), 0) if dims is None else (x, dims[0])  # a full product: along the flat x
    pos, product = _positions(tuple(flat.shape), dim), 0.0
    for j in range(flat.shape[dim]):
        at_j = pos == j
        product = product + xp.where(at_j, _run(xp, "prod", xp.where(at_j, 1.0, flat), dims=(dim,), keepdim=True), 0.0)
    return xp.reshape(product, x_shape)


def _prod_vjp(xp, g, x, out, dims, keepdim, x_shape):
    return _unreduce(xp, g, dims, keepdim, x_shape) * _others_product(xp, x, out, dims, keepdim, x_shape)


def _prod_jvp(xp, t, x, out, dims, keepdim, x_shape):
    return xp.sum(t * _others_product(xp, x, out, dims, keepdim, x_shape), dims, keepdim)


def _cumprod_terms(xp, v, x, dim, backward):
    """d out_i / d x_j = the running product up to i with x_j set to 1 (for i >= j), exact where x has
    zeros: one running product per j (O(n²), taken only when x holds a zero, as PyTorch does).
    ``backward``: the VJP, Σ_i v_i d out_i / d x_j; else the JVP, Σ_j v_j d out_i / d x_j."""
    pos, total = _positions(tuple(x.shape), dim), 0.0
    for j in range(x.shape[dim]):
        at_j = pos == j
        partial = xp.where(pos >= j, _run(xp, "cumprod", xp.where(at_j, 1.0, x), dim=dim), 0.0)
        if backward:
            total = total + xp.where(at_j, xp.sum(v * partial, (dim,), True), 0.0)
        else:
            total = total + xp.take(v, (slice(None),) * dim + (slice(j, j + 1),)) * partial
    return total


def _cumprod_vjp(xp, g, x, out, dim):
    if _value(x).size <= 1:
        return g  # one element: its running product is itself
    if (_value(x) == 0).any():
        return _cumprod_terms(xp, g, x, dim, backward=True)
    return _run(xp, "reverse_cumsum", g * out, dim=dim) / x  # Σ_{i>=j} g_i out_i / x_j


def _cumprod_jvp(xp, t, x, out, dim):
    if _value(x).size <= 1:
        return t
    if (_value(x) == 0).any():
        return _cumprod_terms(xp, t, x, dim, backward=False)
    return out * _run(xp, "cumsum", t / x, dim=dim)  # out_i Σ_{j<=i} t_j / x_j


def _var_forward(a, dims, correction, keepdim):
    n = _count(a.shape, dims)
    with np.errstate(all="ignore"):  # too few elements: inf or nan, silently, as PyTorch
        return (((a - a.mean(axis=dims, keepdims=True)) ** 2).sum(axis=dims, keepdims=keepdim)
                / np.asarray(max(n - correction, 0), dtype=a.dtype))


def _centred(xp, x, dims, x_shape):
    """``x`` minus its mean over ``dims``, written with the xp functions so it can be recorded."""
    return x - xp.expand(xp.sum(x, dims, True), x_shape) * (1.0 / _count(x_shape, dims))


def _var_scale(xp, x, dims, correction, x_shape):
    """``2 (x - mean) / (n - correction)``, the factor of var's VJP and JVP, as PyTorch's var_backward
    computes it: with no degrees of freedom left over the whole tensor, inf, or nan where x is the mean
    (inf · 0); over dims, the plain quotient (inf at 0)."""
    dof = _count(x_shape, dims) - correction
    centred = _centred(xp, x, dims, x_shape)
    if dims is None and dof <= 0:
        return abs(centred) * math.inf
    return centred * (2.0 / dof if dof else math.inf)


def _var_vjp(xp, g, x, dims, correction, keepdim, x_shape):
    return _unreduce(xp, g, dims, keepdim, x_shape) * _var_scale(xp, x, dims, correction, x_shape)


def _var_jvp(xp, t, x, dims, correction, keepdim, x_shape):
    return xp.sum(_var_scale(xp, x, dims, correction, x_shape) * t, dims, keepdim)


def _std_vjp(xp, g, x, out, dims, correction, keepdim, x_shape):
    """var's VJP fed g / (2 std), 0 where std is 0 (a spread of nothing), as PyTorch's std_backward."""
    with np.errstate(divide="ignore", invalid="ignore"):  # the 0 / 0 where std is 0 is replaced below
        g_var = xp.where(out != 0, g / (out * 2), 0.0)  # where, not select: select multiplies, and inf · 0 is nan
    return _var_vjp(xp, g_var, x, dims, correction, keepdim, x_shape)


def _logsumexp_forward(a, dims, keepdim):
    top = a.max(axis=dims, keepdims=True, initial=-np.inf)  # an empty dim: log(0) = -inf, as PyTorch
    top = np.where(np.isfinite(top), top, 0)  # all -inf: log(0) = -inf, not nan
    out = np.log(np.exp(a - top).sum(axis=dims, keepdims=True)) + top
    return out if keepdim else np.squeeze(out, axis=dims)


def _repeat_forward(a, repeats):
    return np.tile(a.reshape((1,) * (len(repeats) - a.ndim) + a.shape), repeats)


def _repeat_vjp(xp, g, repeats, a_shape):
    """Each copy sends its gradient back: split every dim into (copies, size) and sum the copies."""
    sizes = (1,) * (len(repeats) - len(a_shape)) + tuple(a_shape)
    split = tuple(n for pair in zip(repeats, sizes) for n in pair)
    summed = xp.sum(xp.reshape(g, split), tuple(range(0, 2 * len(sizes), 2)), False)
    return xp.reshape(summed, tuple(a_shape))


def _nll_forward(logp, target, weight, ignore_index, reduction):
    """``logp`` is (N, C) or (N, C, d1, ...) with classes on dim 1, ``target`` (N,) or (N, d1, ...);
    or one sample, (C,) with a 0-d target."""
    classes, w = _nll_classes(target, weight, ignore_index, logp.dtype)
    losses = -np.asarray(logp[_class_index(classes, logp.shape)]) * w  # each one's log-probability of its class
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    with np.errstate(invalid="ignore", divide="ignore"):  # as PyTorch: nan, quietly, when every target is ignored
        return losses.sum() / w.sum()  # the weighted mean


def _class_index(classes, logp_shape):
    """The index that picks each sample's class out of ``logp``: ``(arange(N), classes)`` for (N, C);
    with more dims, each position's own class on dim 1; for one sample (C,), its class alone."""
    if len(logp_shape) == 1:
        return (classes,)
    positions = np.indices(classes.shape, sparse=True)  # along N, d1, ...: broadcast against classes
    return (positions[0], classes) + tuple(positions[1:])


def _nll_classes(target, weight, ignore_index, dtype):
    """Per sample: its class (0 where ignored, so that it can still index), and its weight (0 where ignored)."""
    kept = target != ignore_index
    classes = np.where(kept, target, 0)
    w = kept if weight is None else weight[classes] * kept
    return classes, w.astype(dtype)


def _constant(xp, array):
    """A numpy constant for a VJP: a tensor under create_graph, so it multiplies recorded gradients."""
    return Tensor._from_array(array) if xp.records else array


def _nll_vjp(xp, g, target, weight, ignore_index, reduction, logp_shape):
    """-weight at each sample's class, 0 elsewhere, times g (divided by the total weight for a mean)."""
    classes, w = _nll_classes(target, weight, ignore_index, np.float64)
    if reduction == "mean":  # as PyTorch: an ignored target gets 0 even when every target is ignored
        with np.errstate(invalid="ignore", divide="ignore"):
            w = np.where(target != ignore_index, w / w.sum(), 0.0)
    onehot = np.zeros(logp_shape, g.array.dtype if xp.records else g.dtype)
    onehot[_class_index(classes, logp_shape)] = -w
    # one gradient per sample ("none": the target's shape (N, d1, ...)) gets a class dim at 1; a total, all ones
    shape = tuple(g.shape)
    per_sample = xp.reshape(g, shape[:1] + (1,) + shape[1:] if shape else (1,) * len(logp_shape))
    return per_sample * _constant(xp, onehot)


def _mse_forward(a, b, reduction):
    squares = (a - b) ** 2
    return squares if reduction == "none" else squares.sum() if reduction == "sum" else squares.mean()


def _mse_vjp(xp, g, a, b, reduction):
    scale = 2.0
    if reduction == "mean":
        scale /= _count(np.broadcast_shapes(tuple(a.shape), tuple(b.shape)), None)
    return g * (a - b) * scale


def _mse_jvp(xp, t, a, b, reduction):
    """The VJP's terms, summed as the loss sums (the output's tangent is one number unless "none")."""
    terms = _mse_vjp(xp, t, a, b, reduction)
    return terms if reduction == "none" else xp.sum(terms, None, False)


RULES.update({
    "cumsum": R("CumsumBackward0", _cumsum_forward,
                x=(lambda xp, g, dim: _run(xp, "reverse_cumsum", g, dim=dim), "{g} summed from the end along dim",
                   lambda xp, t, dim: _run(xp, "cumsum", t, dim=dim), "cumsum({t})")),
    "reverse_cumsum": R("FlipBackward0", _reverse_cumsum_forward,
                        x=(lambda xp, g, dim: _run(xp, "cumsum", g, dim=dim), "cumsum({g})",
                           lambda xp, t, dim: _run(xp, "reverse_cumsum", t, dim=dim), "{t} summed from the end")),
    "cumprod": R("CumprodBackward0", _cumprod_forward,
                 x=(_cumprod_vjp, "Σ later {g} · {out} / {x} (exact at zeros)",
                    _cumprod_jvp, "{out} · cumsum({t} / {x}) (exact at zeros)")),
    "prod": R("ProdBackward0", _prod_forward,
              x=(_prod_vjp, "{g} · product of the other entries of {x}",
                 _prod_jvp, "sum({t} · product of the other entries of {x})")),
    "var": R("VarBackward0", _var_forward,
             x=(_var_vjp, "{g} · 2 ({x} - mean) / (n - correction)",
                _var_jvp, "sum(2 ({x} - mean) · {t}) / (n - correction)")),
    "std": R("StdBackward0", lambda a, dims, correction, keepdim: np.sqrt(_var_forward(a, dims, correction, keepdim)),
             x=(_std_vjp, "{g} · ({x} - mean) / ((n - correction) · {out})",
                lambda xp, t, x, out, dims, correction, keepdim, x_shape:
                    _var_jvp(xp, t, x, dims, correction, keepdim, x_shape) / (2 * out),
                "sum(({x} - mean) · {t}) / ((n - correction) · {out})")),
    "logsumexp": R("LogsumexpBackward0", _quietly(_logsumexp_forward),
                   x=(lambda xp, g, x, out, dims, keepdim, x_shape: _unreduce(xp, g, dims, keepdim, x_shape)
                      * xp.exp(x - _unreduce(xp, out, dims, keepdim, x_shape)), "{g} · exp({x} - {out})",
                      lambda xp, t, x, out, dims, keepdim, x_shape:
                          xp.sum(t * xp.exp(x - _unreduce(xp, out, dims, keepdim, x_shape)), dims, keepdim),
                      "sum({t} · exp({x} - {out}))")),
    "masked_fill": R("MaskedFillBackward0", lambda x, mask, value: np.where(mask, np.asarray(value, x.dtype), x),
                     x=(lambda xp, g, mask: xp.where(mask, 0.0, g), "{g}, 0 where the mask filled",
                        lambda xp, t, mask: xp.where(mask, 0.0, t), "{t}, 0 where the mask filled")),
    "bmm": R("BmmBackward0", np.matmul,
             a=(lambda xp, g, b: xp.matmul(g, xp.swap_last(b)), "{g} @ {b}ᵀ (per batch)",
                lambda xp, t, b: xp.matmul(t, b), "{t} @ {b} (per batch)"),
             b=(lambda xp, g, a: xp.matmul(xp.swap_last(a), g), "{a}ᵀ @ {g} (per batch)",
                lambda xp, t, a: xp.matmul(a, t), "{a} @ {t} (per batch)")),
    "repeat": R("RepeatBackward0", _repeat_forward,
                a=(_repeat_vjp, "{g} summed over the copies",
                   lambda xp, t, repeats: _run(xp, "repeat", t, repeats=repeats), "{t} repeated")),
    "addmm": R("AddmmBackward0", lambda bias, mat1, mat2: bias + mat1 @ mat2, promote=SAME,
               bias=(lambda xp, g: g, "{g}", lambda xp, t: t, "{t}"),
               mat1=(lambda xp, g, mat2: xp.matmul(g, xp.swap_last(mat2)), "{g} @ {mat2}ᵀ",
                     lambda xp, t, mat2: xp.matmul(t, mat2), "{t} @ {mat2}"),
               mat2=(lambda xp, g, mat1: xp.matmul(xp.swap_last(mat1), g), "{mat1}ᵀ @ {g}",
                     lambda xp, t, mat1: xp.matmul(mat1, t), "{mat1} @ {t}")),
    "nll_loss": R("NllLossBackward0", _nll_forward,
                  logp=(_nll_vjp, "-{g} at each sample's class (÷ N for the mean)",
                        lambda xp, t, target, weight, ignore_index, reduction: _run(
                            xp, "nll_loss", t, target=target, weight=weight, ignore_index=ignore_index,
                            reduction=reduction), "-{t} at each sample's class (÷ N for the mean)")),
    "mse_loss": R("MseLossBackward0", _mse_forward, promote=SAME,
                  a=(_mse_vjp, "2 ({a} - {b}) · {g} (÷ N for the mean)",
                     _mse_jvp, "sum(2 ({a} - {b}) · {t}) (÷ N for the mean)"),
                  b=(lambda xp, g, a, b, reduction: -_mse_vjp(xp, g, a, b, reduction), "-2 ({a} - {b}) · {g}",
                     lambda xp, t, a, b, reduction: -_mse_jvp(xp, t, a, b, reduction), "-sum(2 ({a} - {b}) · {t})")),
})
