"""The rule table: every primitive's forward (numpy) beside its vector-Jacobian product.

A rule's ``vjp(F, g, x, out, p)`` receives the incoming gradient ``g``, the saved inputs ``x`` (a
sequence, or None when the rule saves none), the saved output ``out`` and the op's parameters ``p``.
It returns one gradient per input (None for inputs that get none). A rule made with
``takes_needs=True`` gets one more argument, ``needs``: ``needs[i]`` is falsy when input ``i`` is a
constant, so the rule can skip that gradient (the constant ``X`` of ``X @ W``). ``F`` is a small
namespace of array functions: numpy's for an ordinary backward, the Tensor ops themselves under
``create_graph=True`` -- so the very same line of math is recorded and can be differentiated again.
Broadcasting is undone centrally by the walk (``tape.sum_to``), so no rule repeats it.
"""
from __future__ import annotations

import math

import numpy as np

from . import dtypes, errors
from . import tape
from .tape import Node, _mode


class Rule:
    __slots__ = ("name", "forward", "vjp", "save_inputs", "save_output", "promote", "shown_edges",
                 "takes_needs", "plain_forward", "read_by")

    def __init__(self, name, forward, vjp, *, save_inputs=False, save_output=False, promote=None,
                 shown_edges=None, takes_needs=False, read_by=None):
        self.name = name  # a string, or a function of params for ops with several PyTorch names
        self.forward = forward
        self.plain_forward = getattr(forward, "plain", None)  # a numpy function without params (_fwd)
        self.vjp = vjp
        self.save_inputs = save_inputs
        self.save_output = save_output
        self.promote = promote  # None, "same" (PyTorch promotion) or "float" (ints become float32)
        # Where PyTorch's next_functions lists other slots than our inputs (a Python-scalar exponent is
        # no input of PowBackward0; where's condition never is): f(edges, input_meta, params) -> edges.
        self.shown_edges = shown_edges
        self.takes_needs = takes_needs  # vjp(F, g, x, out, p, needs): computes only the gradients needed
        # read_by[i]: the inputs whose gradient reads saved input i (None: every gradient reads all).
        # x * c with a constant c never reads x, so changing x in place afterwards is no error (as PyTorch).
        self.read_by = read_by

    def backward_name(self, params) -> str:
        return self.name if isinstance(self.name, str) else self.name(params)


def _promoted(rule, inputs, arrays):
    """Cast operand arrays to PyTorch's result dtype, skipping the work when dtypes already agree."""
    target = None
    a = inputs[0]
    if len(inputs) == 2:
        b = inputs[1]
        a_t, b_t = isinstance(a, Tensor), isinstance(b, Tensor)
        if a_t and b_t and a.dtype is b.dtype:
            target = a.dtype
        elif a_t and not b_t and (a.dtype.is_floating_point or type(b) is int):
            target = a.dtype
        elif b_t and not a_t and (b.dtype.is_floating_point or type(a) is int):
            target = b.dtype
    elif len(inputs) == 1:
        target = a.dtype
    if target is None:
        target = dtypes.result_type(inputs)
    if rule.promote == "float" and not target.is_floating_point:
        target = dtypes.float32
    want = target.numpy
    return [x.astype(want) if isinstance(x, np.ndarray) and x.dtype != want else x for x in arrays]


def apply(rule, inputs, params=None):
    """Run a primitive on Tensors (and Python scalars), recording a Node when a gradient is wanted."""
    # One pass over the inputs: their arrays, whether any carries a gradient, and whether promotion
    # has nothing to do (every tensor of one dtype, the rest Python numbers: a check instead of
    # _promoted's 1 µs).
    arrays = []
    wants_grad = False
    dtype, one_dtype = None, True
    for x in inputs:
        if isinstance(x, Tensor):
            data = x.data
            arrays.append(data)
            if x.requires_grad:
                wants_grad = True
            if dtype is None:
                dtype = data.dtype
            elif data.dtype is not dtype:
                one_dtype = False
        else:
            arrays.append(x)
            if type(x) is not float and type(x) is not int:
                one_dtype = False
    if rule.promote is not None and not (one_dtype and dtype is not None and dtype.kind == "f"):
        arrays = _promoted(rule, inputs, arrays)
    plain = rule.plain_forward
    try:
        out = plain(*arrays) if plain is not None else rule.forward(params, *arrays)
    except ValueError:
        if rule.promote is None or len(arrays) != 2:
            raise
        raise errors.broadcast_mismatch(errors.forward_name(rule.backward_name(params)).lower(),
                                        np.shape(arrays[0]), np.shape(arrays[1])) from None
    if type(out) is not np.ndarray:
        out = np.asarray(out)  # numpy ufuncs return scalars for 0-d input
    result = Tensor._from_array(out)
    # integer/bool results (argmax, comparisons) carry no gradient; numpy's dtype.kind says so cheaply
    if wants_grad and _mode.enabled and out.dtype.kind == "f":
        result.grad_fn = Node(rule, params, inputs, out)
        result.requires_grad = True
    return result


# ----------------------------------------------------------------------------- the F namespaces
class F_ARRAY:
    """numpy under the names the rules use: the fast path for an ordinary backward."""

    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    sin = staticmethod(np.sin)
    cos = staticmethod(np.cos)
    sign = staticmethod(np.sign)
    matmul = staticmethod(np.matmul)
    reshape = staticmethod(np.reshape)
    permute = staticmethod(np.transpose)
    expand = staticmethod(np.broadcast_to)

    where = staticmethod(np.where)
    zeros_like = staticmethod(np.zeros_like)

    @staticmethod
    def swap_last(x):
        return np.swapaxes(x, -1, -2)

    @staticmethod
    def sum(x, dims, keepdim):
        return x.sum(axis=dims, keepdims=keepdim)  # the method: np.sum's Python wrapper costs 1 µs more

    @staticmethod
    def take(x, key):
        return x[key]

    @staticmethod
    def scatter(g, shape, key, dtype):
        z = np.zeros(shape, dtype=dtype)
        np.add.at(z, key, g)  # add.at: repeated indices add up instead of overwriting
        return z


class _TensorNamespace:
    """The same names as F_ARRAY, answered by the Tensor ops, so a backward run under
    create_graph=True is itself recorded. Names whose Tensor function has the same signature as
    numpy's are passed straight through; the rest are spelled out below."""

    _SAME = frozenset({"exp", "log", "sin", "cos", "matmul", "reshape", "permute", "expand", "where"})

    def __getattr__(self, name):
        if name in self._SAME:
            return getattr(_fn, name)
        raise AttributeError(name)

    @staticmethod
    def sign(x):
        return x.sign()

    @staticmethod
    def zeros_like(x):
        return _fn.mul(x, 0)  # recorded, so a gradient of this gradient is zero too

    @staticmethod
    def swap_last(x):
        return _fn.transpose(x, -1, -2)

    @staticmethod
    def sum(x, dims, keepdim):
        return _fn.sum(x, dims, keepdim=keepdim)

    @staticmethod
    def take(x, key):
        return x[key]

    @staticmethod
    def scatter(g, shape, key, dtype):
        return apply(RULES["scatter"], (g,), (shape, key))


F_TENSOR = _TensorNamespace()


def _drop_scalars(edges, meta, p):
    return tuple(e for e, m in zip(edges, meta) if m is not None)


def _fwd(fn):
    """Adapt a numpy function that takes no params to the forward(params, *arrays) signature."""
    adapted = lambda p, *a: fn(*a)  # noqa: E731
    adapted.plain = fn  # apply calls fn itself: one Python frame less per op (~0.1 µs)
    return adapted


def _grad_of_reduction(F, g, p):
    """Put back the reduced dimensions of g so it broadcasts against the input (shape p[2])."""
    dims, keepdim, in_shape = p
    if dims is None and not keepdim:
        return F.expand(g, in_shape)  # a 0-d g broadcasts as it is: no reshape first (0.8 µs)
    if dims is None:
        dims = range(len(in_shape))
    if not keepdim:
        shape = list(in_shape)
        for d in dims:
            shape[d] = 1
        g = F.reshape(g, tuple(shape))
    return F.expand(g, in_shape)


def _tie_split(F, g, mine, other):
    # PyTorch splits the gradient equally where the two inputs are equal.
    return g * ((mine > other) + (mine == other) * 0.5)


def _max_name(kind):
    return lambda p: f"{kind}Backward1" if p[0] is None else f"{kind}Backward0"


def _select_grad(F, g, x, out, p):
    """max/min: the whole gradient goes to the selected element (shared among ties for full reductions)."""
    dims, keepdim, in_shape, mask = p
    if dims is None:
        return (g * mask / mask.sum(),)
    return (_grad_of_reduction(F, g, (dims, keepdim, in_shape)) * mask,)


def _index_name(p):
    """PyTorch's name for ``x[key]``: the last view op its indexing ran, or IndexBackward0."""
    key, shape = p[0], p[1]
    if not isinstance(key, tuple):
        # a lone slice is always applied, even a full one
        if isinstance(key, slice):
            return "SliceBackward0"
        key = (key,)
    name, dim = "AliasBackward0", 0
    for k in key:
        if k is None:
            name = "UnsqueezeBackward0"
        elif k is Ellipsis:
            dim = len(shape) - sum(1 for j in key if j is not None and j is not Ellipsis)
            continue
        elif isinstance(k, slice):
            if k.indices(shape[dim]) != (0, shape[dim], 1):  # a full slice is skipped
                name = "SliceBackward0"
        elif isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)):
            name = "SelectBackward0"
            dim += 1
            continue
        else:
            return "IndexBackward0"  # lists, arrays, masks, Python bools: advanced indexing comes last
        if k is not None:
            dim += 1
    return name


def setitem_name(key, value):
    parts = key if isinstance(key, tuple) else (key,)
    if any(not (k is None or k is Ellipsis or isinstance(k, slice)
                or (isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)))) for k in parts):
        return "IndexPutBackward0"
    if all(k is Ellipsis for k in parts):
        return "CopyBackwards" if isinstance(value, Tensor) else "FillBackward3"
    return "CopySlices"


def _norm_grad(F, g, x, out, p):
    ord_, dims, keepdim, in_shape = p
    g = _grad_of_reduction(F, g, (dims, keepdim, in_shape))
    o = _grad_of_reduction(F, out, (dims, keepdim, in_shape))
    if ord_ == 1:
        return (g * F.sign(x[0]),)
    # x / |x|, defined as 0 at the origin (as PyTorch does), without dividing by zero.
    return (g * x[0] / (o + (o == 0)),)


def _norm_forward(p, x):
    ord_, dims, keepdim, _ = p
    if ord_ == 1:
        return np.sum(np.abs(x), axis=dims, keepdims=keepdim)
    return np.sqrt(np.sum(x * x, axis=dims, keepdims=keepdim))


def _softmax_forward(p, x):
    if x.size == 0:
        return x.copy()  # numpy's max has nothing to start from; the softmax of nothing is nothing
    # reductions as methods throughout: np.max/np.sum add a Python wrapper of ~1 µs each
    shifted = x - x.max(axis=p, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=p, keepdims=True)


def _log_softmax_forward(p, x):
    if x.size == 0:
        return x.copy()
    shifted = x - x.max(axis=p, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=p, keepdims=True))


def _cat_grad(F, g, x, out, p):
    dim, sizes = p
    grads, start = [], 0
    for n in sizes:
        key = (slice(None),) * dim + (slice(start, start + n),)
        grads.append(F.take(g, key))
        start += n
    return tuple(grads)


def _stack_grad(F, g, x, out, p):
    dim, count = p
    return tuple(F.take(g, (slice(None),) * dim + (i,)) for i in range(count))


def _index_forward(a, key):
    """a[key], where picking one element still gives a 0-d view (as PyTorch's y[0] is a view of y)
    instead of numpy's detached scalar, so y[0].zero_() reaches y like in PyTorch."""
    out = a[key]
    if type(out) is np.ndarray:
        return out
    parts = key if isinstance(key, tuple) else (key,)
    if Ellipsis in parts:
        return np.asarray(out)
    return a[parts + (Ellipsis,)]


def _is_scalar(v):
    return isinstance(v, (int, float))


def _pow_grad(F, g, x, out, p):
    base, exponent = x
    g_base = g_exp = None
    if not _is_scalar(base):
        if _is_scalar(exponent):
            # an exponent of 0 gives 0 everywhere, even at base 0 (not 0 * 0**-1)
            g_base = g * exponent * base ** (exponent - 1) if exponent != 0 else F.zeros_like(g)
        else:
            # where the exponent is 0, use base**0 so the 0 factor is not multiplied by 0**-1 = inf
            g_base = g * exponent * base ** (exponent - (exponent != 0))
    if not _is_scalar(exponent):
        # d/db a**b = a**b log a. At a == 0 PyTorch takes it as 0 for b >= 0, and -inf for b < 0
        # (where a**b itself is inf); safe stand-ins keep numpy from warning on 0 * log 0.
        if _is_scalar(base):
            if base == 0:
                g_exp = F.where(exponent >= 0, 0.0, g * -math.inf)
            else:
                g_exp = g * out * (math.log(base) if base > 0 else math.nan)
        else:
            at_zero = base == 0
            g_exp = g * F.where(at_zero, 0.0, out) * F.log(base + at_zero)
            g_exp = F.where(at_zero & (exponent < 0), g * -math.inf, g_exp)
    return (g_base, g_exp)


def _clamp_tensor_grad(F, g, x, out, p):
    """clamp with tensor bounds: each element's gradient goes to whichever of x, min, max it equals."""
    if p == "both":
        a, lo, hi = x
        return (g * ((a >= lo) & (a <= hi)), g * ((a < lo) & (lo <= hi)), g * ((a > hi) | (lo > hi)))
    a, bound = x
    if p == "min":
        return (g * (a >= bound), g * (a < bound))
    return (g * (a <= bound), g * (a > bound))


def _clamp_tensor_forward(p, a, *bounds):
    if p == "both":
        return np.minimum(np.maximum(a, bounds[0]), bounds[1])
    return np.maximum(a, bounds[0]) if p == "min" else np.minimum(a, bounds[0])


def _matmul_grad(F, g, x, out, p, needs):
    """Batched matmul: treat a vector operand as a one-row (or one-column) matrix, then as mm."""
    a, b = x
    a_vec, b_vec = len(a.shape) == 1, len(b.shape) == 1
    if a_vec:
        a = F.reshape(a, (1,) + tuple(a.shape))
        g = F.reshape(g, tuple(g.shape[:-1]) + (1, g.shape[-1]))
    if b_vec:
        b = F.reshape(b, tuple(b.shape) + (1,))
        g = F.reshape(g, tuple(g.shape) + (1,))
    ga = F.matmul(g, F.swap_last(b)) if needs[0] else None
    gb = F.matmul(F.swap_last(a), g) if needs[1] else None
    # the batch dimensions are summed away by the walk (sum_to); only the vector's extra axis goes here
    if a_vec and ga is not None:
        ga = F.reshape(ga, tuple(ga.shape[:-2]) + (ga.shape[-1],))
    if b_vec and gb is not None:
        gb = F.reshape(gb, tuple(gb.shape[:-1]))
    return (ga, gb)


def _mean_forward(p, a):
    if a.size == 0 or 0 in a.shape:
        # the mean of nothing is nan; numpy would also warn about it, PyTorch does not
        return np.sum(a, axis=p[0], keepdims=p[1]) * np.nan
    return a.mean(axis=p[0], keepdims=p[1])


R = Rule
RULES = {
    # elementwise arithmetic ---------------------------------------------------------------
    "add": R("AddBackward0", _fwd(np.add), lambda F, g, x, out, p: (g, g), promote="same"),
    "sub": R("SubBackward0", _fwd(np.subtract), lambda F, g, x, out, p, needs: (g, -g if needs[1] else None),
             promote="same", takes_needs=True),
    "rsub": R("RsubBackward1", lambda p, a, b: np.subtract(b, a), lambda F, g, x, out, p: (-g, None),
              promote="same", shown_edges=_drop_scalars),
    "mul": R("MulBackward0", _fwd(np.multiply),
             lambda F, g, x, out, p, needs: (g * x[1] if needs[0] else None, g * x[0] if needs[1] else None),
             save_inputs=True, promote="same", takes_needs=True, read_by=((1,), (0,))),
    "div": R("DivBackward0", _fwd(np.true_divide),
             lambda F, g, x, out, p, needs: (g / x[1] if needs[0] else None,
                                             -g * x[0] / (x[1] * x[1]) if needs[1] else None),
             save_inputs=True, promote="float", takes_needs=True, read_by=((1,), (0, 1))),
    "reciprocal": R("ReciprocalBackward0", lambda p, a: np.true_divide(1, a),
                    lambda F, g, x, out, p: (-g * out * out,), save_output=True, promote="float"),
    "pow": R(lambda p: p, _fwd(np.power), _pow_grad, save_inputs=True, save_output=True, promote="same",
             shown_edges=_drop_scalars),
    "neg": R("NegBackward0", _fwd(np.negative), lambda F, g, x, out, p: (-g,)),
    "abs": R("AbsBackward0", _fwd(np.abs), lambda F, g, x, out, p: (g * F.sign(x[0]),), save_inputs=True),
    "exp": R("ExpBackward0", _fwd(np.exp), lambda F, g, x, out, p: (g * out,), save_output=True,
             promote="float"),
    "log": R("LogBackward0", _fwd(np.log), lambda F, g, x, out, p: (g / x[0],), save_inputs=True,
             promote="float"),
    "sqrt": R("SqrtBackward0", _fwd(np.sqrt), lambda F, g, x, out, p: (g / (2 * out),), save_output=True,
              promote="float"),
    "sin": R("SinBackward0", _fwd(np.sin), lambda F, g, x, out, p: (g * F.cos(x[0]),), save_inputs=True,
             promote="float"),
    "cos": R("CosBackward0", _fwd(np.cos), lambda F, g, x, out, p: (-g * F.sin(x[0]),), save_inputs=True,
             promote="float"),
    "tanh": R("TanhBackward0", _fwd(np.tanh), lambda F, g, x, out, p: (g * (1 - out * out),),
              save_output=True, promote="float"),
    "sigmoid": R("SigmoidBackward0", lambda p, a: 1 / (1 + np.exp(-a)),
                 lambda F, g, x, out, p: (g * out * (1 - out),), save_output=True, promote="float"),
    "relu": R("ReluBackward0", lambda p, a: np.maximum(a, 0), lambda F, g, x, out, p: (g * (out > 0),),
              save_output=True),
    "maximum": R("MaximumBackward0", _fwd(np.maximum),
                 lambda F, g, x, out, p, needs: (_tie_split(F, g, x[0], x[1]) if needs[0] else None,
                                                 _tie_split(F, g, x[1], x[0]) if needs[1] else None),
                 save_inputs=True, promote="same", takes_needs=True),
    "minimum": R("MinimumBackward0", _fwd(np.minimum),
                 lambda F, g, x, out, p, needs: (_tie_split(F, g, x[1], x[0]) if needs[0] else None,
                                                 _tie_split(F, g, x[0], x[1]) if needs[1] else None),
                 save_inputs=True, promote="same", takes_needs=True),
    "clamp_tensor": R("ClampBackward0", _clamp_tensor_forward, _clamp_tensor_grad, save_inputs=True,
                      promote="same", shown_edges=lambda e, m, p: e + (None,) if p == "min" else
                      (e[0], None, e[1]) if p == "max" else e),
    "clamp": R("ClampBackward1", lambda p, a: np.clip(a, p[0], p[1]),
               lambda F, g, x, out, p: (g * (((x[0] >= p[0]) if p[0] is not None else True)
                                             & ((x[0] <= p[1]) if p[1] is not None else True)),),
               save_inputs=True),
    "where": R("WhereBackward0", lambda p, c, a, b: np.where(c, a, b).astype(p, copy=False),
               lambda F, g, x, out, p: (None, g * x[0], g * ~x[0]), save_inputs=True,
               shown_edges=lambda e, m, p: e[1:]),
    # linear algebra -----------------------------------------------------------------------
    "dot": R("DotBackward0", _fwd(np.dot),
             lambda F, g, x, out, p, needs: (g * x[1] if needs[0] else None, g * x[0] if needs[1] else None),
             save_inputs=True, promote="same", takes_needs=True, read_by=((1,), (0,))),
    "mv": R("MvBackward0", _fwd(np.matmul),
            lambda F, g, x, out, p, needs: (
                F.reshape(g, (-1, 1)) * F.reshape(x[1], (1, -1)) if needs[0] else None,
                F.matmul(F.swap_last(x[0]), g) if needs[1] else None),
            save_inputs=True, promote="same", takes_needs=True, read_by=((1,), (0,))),
    "mm": R("MmBackward0", _fwd(np.matmul),
            lambda F, g, x, out, p, needs: (F.matmul(g, F.swap_last(x[1])) if needs[0] else None,
                                            F.matmul(F.swap_last(x[0]), g) if needs[1] else None),
            save_inputs=True, promote="same", takes_needs=True, read_by=((1,), (0,))),
    "matmul": R(lambda p: p, _fwd(np.matmul), _matmul_grad, save_inputs=True, promote="same",
                takes_needs=True, read_by=((1,), (0,))),
    # reductions ---------------------------------------------------------------------------
    "sum": R(lambda p: "SumBackward0" if p[0] is None else "SumBackward1",
             lambda p, a: a.sum(axis=p[0], keepdims=p[1]),
             lambda F, g, x, out, p: (_grad_of_reduction(F, g, p),)),
    "mean": R(lambda p: "MeanBackward0" if p[0] is None else "MeanBackward1",
              _mean_forward,
              lambda F, g, x, out, p: (_grad_of_reduction(F, g, p) * _mean_scale(p),)),
    "max": R(_max_name("Max"), lambda p, a: _reduce_select(np.max, p, a), _select_grad),
    "min": R(_max_name("Min"), lambda p, a: _reduce_select(np.min, p, a), _select_grad),
    "norm": R("LinalgVectorNormBackward0", _norm_forward, _norm_grad, save_inputs=True, save_output=True),
    "softmax": R("SoftmaxBackward0", _softmax_forward,
                 lambda F, g, x, out, p: (out * (g - F.sum(g * out, p, True)),), save_output=True),
    "log_softmax": R("LogSoftmaxBackward0", _log_softmax_forward,
                     lambda F, g, x, out, p: (g - F.exp(out) * F.sum(g, p, True),), save_output=True),
    # shapes -------------------------------------------------------------------------------
    "reshape": R(lambda p: p[1], lambda p, a: np.reshape(a, p[0]),
                 lambda F, g, x, out, p: (F.reshape(g, p[2]),)),
    "permute": R(lambda p: p[1], lambda p, a: np.transpose(a, p[0]),
                 lambda F, g, x, out, p: (F.permute(g, tuple(np.argsort(p[0]))),)),
    "expand": R("ExpandBackward0", lambda p, a: np.broadcast_to(a, p), lambda F, g, x, out, p: (g,)),
    "cat": R("CatBackward0", lambda p, *a: np.concatenate(a, axis=p[0]), _cat_grad, promote="same"),
    "stack": R("StackBackward0", lambda p, *a: np.stack(a, axis=p[0]), _stack_grad, promote="same"),
    "index": R(_index_name, lambda p, a: _index_forward(a, p[0]),
               lambda F, g, x, out, p: (F.scatter(g, p[1], p[0], p[2]),)),
    "scatter": R("IndexPutBackward0", lambda p, g: F_ARRAY.scatter(g, p[0], p[1], g.dtype),
                 lambda F, g, x, out, p: (F.take(g, p[1]),)),
    "setitem": R(lambda p: p[1], lambda p, a, v: _setitem(a, p[0], v),
                 lambda F, g, x, out, p: (_zero_at(F, g, p[0]), F.take(g, p[0])), promote=None),
    # in-place zero_/fill_/copy_ as recorded ops: the old value gets no gradient, the source all of it
    "fill": R(lambda p: p[0], lambda p, a: np.full_like(a, p[1]), lambda F, g, x, out, p: (F.zeros_like(g),)),
    "copy": R("CopyBackwards", lambda p, a, src: np.broadcast_to(src, a.shape).astype(a.dtype),
              lambda F, g, x, out, p: (F.zeros_like(g), g)),
    "clone": R("CloneBackward0", lambda p, a: a.copy(), lambda F, g, x, out, p: (g,)),
    "to": R("ToCopyBackward0", lambda p, a: a.astype(p), lambda F, g, x, out, p: (g,)),
}


def _mean_scale(p):
    dims, _, in_shape = p
    if dims is None:
        n = int(np.prod(in_shape))
    else:
        n = int(np.prod([in_shape[d] for d in dims]))
    return 1.0 / n if n else float("nan")


def _reduce_select(fn, p, a):
    dims, keepdim, _, mask = p
    return fn(a, axis=dims, keepdims=keepdim)


def _setitem(a, key, v):
    out = a.copy()
    out[key] = v
    return out


def _zero_at(F, g, key):
    keep = np.ones(g.shape, dtype=bool)
    keep[key] = False
    return g * keep


from .tensor import Tensor  # noqa: E402  (tensor.py imports this module at its end)
from . import functions as _fn  # noqa: E402  (late: functions imports this module)

tape.bind_late(Tensor, F_ARRAY, F_TENSOR)
