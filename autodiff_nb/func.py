"""The functional style (JAX's ``grad(f)(x)``, torch.func's signatures) on the same engine.

Reverse mode: ``grad(f)`` returns a new function that runs ``f`` on fresh inputs, records it, and
walks the record back; ``vjp`` and ``jacrev`` likewise. When an input already carries history
(``grad(grad(f))``), the inner walk is itself recorded, so derivatives of derivatives compose.

Forward mode: ``jvp(f, primals, tangents)`` runs ``f`` once on dual tensors
(``autograd.forward_ad``) and reads the output's tangent, J·v; ``jacfwd`` runs it once per input
element, ``jacrev`` walks back once per output element, so each is the faster where its count is
the smaller. ``hessian`` is ``jacfwd(jacrev(f))``: forward mode over a recorded backward pass.
"""
from __future__ import annotations

import functools

import numpy as np

from . import autograd, forward
from .autograd import forward_ad
from .creation import tensor
from .grad_mode import dual, enable_grad, is_grad_enabled
from .tape import edge_to
from .tensor import Tensor


def stop_gradient(x):
    """The value of ``x`` treated as a constant by every derivative (``jax.lax.stop_gradient``)."""
    return x.detach() if isinstance(x, Tensor) else x


def _prepare(args, argnums):
    """Replace the differentiated arguments with tracked stand-ins; say whether any was already tracked."""
    args = list(args)
    tracked, nested = [], False
    # Under an outer no_grad nothing records the outer level, so an input's history is irrelevant:
    # treat it like a plain value (torch.func likewise ignores an outer no_grad).
    outer_recording = is_grad_enabled()
    for i in argnums:
        x = args[i]
        tangent = forward.tangent_of(x) if isinstance(x, Tensor) else None
        if isinstance(x, Tensor) and x.requires_grad and outer_recording:
            nested = True
            inner = x.view_as(x)  # a fresh node of its own, still connected to the outer record (and tangent)
        else:
            inner = tensor(x.array if isinstance(x, Tensor) else x)
            if not inner.dtype.is_floating_point:
                inner = inner.float()
            inner.requires_grad_(True)
            if tangent is not None:  # under jacfwd: the backward must be recorded, for the tangents to run through it
                forward.attach(inner, tangent)
                nested = True
        args[i] = inner
        tracked.append(inner)
    return args, tracked, nested


def _argnums(argnums):
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def _zeros(shape, dtype):
    return tensor(np.zeros(shape, dtype))


def _grads(out, tracked, seed, nested):
    """d(seed . out)/d(each tracked input); zeros where no recorded path leads back to it.

    An output that does not require grad (a constant, or a derivative that is constant such as
    ``grad(relu)``) has derivative zero, as in torch.func; the tape itself would refuse to walk it.
    """
    if not out.requires_grad:
        return tuple(_zeros(t.array.shape, t.array.dtype) for t in tracked)
    grads = autograd.grad(out, tracked, grad_outputs=seed, retain_graph=True, create_graph=nested,
                          allow_unused=True)
    return tuple(g if g is not None else _zeros(t.array.shape, t.array.dtype) for g, t in zip(grads, tracked))


def _detach_tree(x):
    """Detach every tensor inside nested tuples / lists / dicts (the shape of an aux value)."""
    if isinstance(x, Tensor):
        return x.detach()
    if isinstance(x, (tuple, list)):
        return type(x)(_detach_tree(v) for v in x)
    if isinstance(x, dict):
        return {k: _detach_tree(v) for k, v in x.items()}
    return x


def value_and_grad(f, argnums=0, has_aux=False):
    """``value_and_grad(f)(x)`` -> ``(f(x), df/dx)`` for a scalar-valued ``f``."""
    nums = _argnums(argnums)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        args, tracked, nested = _prepare(args, nums)
        # A function transform, like torch.func: an enclosing no_grad must not stop the inner record.
        with enable_grad():
            out = f(*args, **kwargs)
            aux = None
            if has_aux:
                out, aux = out
            if not isinstance(out, Tensor) or out.array.size != 1:
                shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
                raise TypeError(f"Gradient only defined for scalar-output functions. Output had shape: {shape}.\n"
                                "Reduce the output first (e.g. .sum()), or use jacobian(f) for all of it.")
            grads = _grads(out, tracked, None, nested)
        value = out if nested else out.detach()
        # Without an outer record the aux must not hand back the internal stand-ins' history; when
        # nested, that history is the outer record's (the stand-in is a view of the outer input).
        if has_aux and not nested:
            aux = _detach_tree(aux)
        result = grads[0] if isinstance(argnums, int) else grads
        return ((value, aux), result) if has_aux else (value, result)

    return wrapper


def grad(f, argnums=0, has_aux=False):
    """``grad(f)(x)``: the gradient of a scalar-valued ``f`` at ``x``; compose for higher orders.

    >>> grad(lambda x: (x ** 3).sum())(tensor([2.]))
    tensor([12.])
    """
    vg = value_and_grad(f, argnums, has_aux)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        (value, aux), g = vg(*args, **kwargs) if has_aux else ((None, None), vg(*args, **kwargs)[1])
        return (g, aux) if has_aux else g

    return wrapper


def _jacobian_of(out, tracked, nested):
    """One Jacobian block per tracked input, each of shape ``out.shape + input.shape``."""
    from .functions import reshape, stack

    rows = []  # rows[o][k]: derivative of output element o with respect to input k
    for o in range(out.array.size):
        seed = np.zeros(out.array.shape, out.array.dtype)
        seed.reshape(-1)[o] = 1
        rows.append(_grads(out, tracked, Tensor._from_array(seed), nested))
    blocks = []
    for k, t in enumerate(tracked):
        shape = tuple(out.shape) + tuple(t.shape)
        jac = reshape(stack([r[k] for r in rows]), shape) if rows else _zeros(shape, t.array.dtype)
        blocks.append(jac if nested else jac.detach())
    return blocks


def _split_aux(result, has_aux, name):
    if not has_aux:
        return result, None
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        raise RuntimeError(f"{name}: output of function f should be a tuple: (output, aux) if has_aux is True\n"
                           "Return two things from f: return out, aux.")
    return result


def jacrev(f, argnums=0, has_aux=False):
    """``jacrev(f)(x)`` has shape ``f(x).shape + x.shape``: one reverse walk per output element.

    As in torch.func, a tuple-valued ``f`` gives a tuple (one entry per output), and a tuple
    ``argnums`` gives a tuple per output (one block per input): ``jac[i][j] = d out_i / d x_j``.
    With ``has_aux``, ``f`` returns ``(out, aux)`` and so does the Jacobian function.
    """
    nums = _argnums(argnums)

    @functools.wraps(f)
    def wrapper(*args):
        _check_argnums(nums, args)
        args, tracked, nested = _prepare(args, nums)
        with enable_grad():  # a function transform: an enclosing no_grad must not stop the record
            out, aux = _split_aux(f(*args), has_aux, "jacrev(f, ...)(*args)")
            outs = out if isinstance(out, (tuple, list)) else (out,)
            per_output = []
            for o in outs:
                blocks = _jacobian_of(o, tracked, nested)
                per_output.append(blocks[0] if isinstance(argnums, int) else tuple(blocks))
        jac = tuple(per_output) if isinstance(out, (tuple, list)) else per_output[0]
        return (jac, aux if nested else _detach_tree(aux)) if has_aux else jac

    return wrapper


jacobian = jacrev  # JAX's name


def _check_argnums(nums, args):
    for k in nums:
        if not -len(args) <= k < len(args):
            raise RuntimeError(f"Got argnum={k}, but only {len(args)} positional inputs\n"
                               f"argnums counts f's positional arguments from 0; f got {len(args)}.")


# ----------------------------------------------------------------------------------- forward mode
def _dual_outputs(out, name):
    """``(primals, tangents)`` of a tensor or a tuple of tensors, read inside the dual level; an
    output with no tangent (it does not depend on the inputs) has a tangent of zeros."""
    outs = out if isinstance(out, (tuple, list)) else (out,)
    primals, tangents = [], []
    for o in outs:
        if not isinstance(o, Tensor):
            raise RuntimeError(f"{name}: expected f(*primals) to return only tensors, got unsupported type "
                               f"{type(o)}\nReturn tensors (torch.tensor(...)), or a tuple of them.")
        primal, tangent = forward_ad.unpack_dual(o)
        primals.append(primal)
        tangents.append(tangent if tangent is not None else _zeros(o.array.shape, o.array.dtype))
    return primals, tangents


def _same_shape(out, items):
    return tuple(items) if isinstance(out, (tuple, list)) else items[0]


def _treespec(x):
    """PyTorch's text for the structure of a flat tuple or list (what its pytree error prints)."""
    if not isinstance(x, (tuple, list)):
        return "*"
    leaves = ",\n  ".join("*" * len(x))
    return f"TreeSpec({type(x).__name__}, None, [{leaves}])"


def jvp(f, primals, tangents, *, strict=False, has_aux=False):
    """``jvp(f, (x,), (v,))`` -> ``(f(x), J·v)``: the derivative of ``f`` at ``x`` in the direction
    ``v``, from one forward pass on dual tensors (torch.func.jvp).

    >>> jvp(lambda x: x ** 2, (tensor([3.]),), (tensor([1.]),))
    (tensor([9.]), tensor([6.]))
    """
    name = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{name}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).\n"
                           "Wrap a single input in a tuple: jvp(f, (x,), (v,)).")
    if not isinstance(tangents, tuple) or len(tangents) != len(primals):
        given = f"a {type(tangents).__name__} of {len(tangents)}" if isinstance(tangents, (tuple, list)) else \
            type(tangents).__name__
        spec = _treespec(primals), _treespec(tangents)
        raise RuntimeError(f"{name}: Expected primals and tangents to have the same python structure. For example, "
                           "if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{spec[0]} and tangents with structure {spec[1]}"
                           f"\nprimals is a tuple of {len(primals)}, tangents {given}: give one tangent per primal, "
                           "in a tuple.")
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(p, t) for p, t in zip(primals, tangents)]
        out, aux = _split_aux(f(*duals), has_aux, name)
        values, jvps = _dual_outputs(out, name)
    result = (_same_shape(out, values), _same_shape(out, jvps))
    return result + (aux,) if has_aux else result


def jacfwd(f, argnums=0, has_aux=False):
    """``jacfwd(f)(x)``: the Jacobian, shape ``f(x).shape + x.shape``, one forward pass per input
    element (each pushes one basis direction). Same results and conventions as ``jacrev``; faster
    when the inputs are fewer than the outputs.
    """
    nums = _argnums(argnums)

    @functools.wraps(f)
    def wrapper(*args):
        _check_argnums(nums, args)
        keep = is_grad_enabled() and any(isinstance(args[k], Tensor) and args[k].requires_grad for k in nums)
        columns, out, aux = [], None, None
        for k in nums:
            columns.append([])
            for basis in _basis(args[k]):
                with forward_ad.dual_level():
                    call = list(args)
                    call[k] = forward_ad.make_dual(args[k], basis)
                    out, aux = _split_aux(f(*call), has_aux, "jacfwd(f, ...)(*args)")
                    values, tangents = _dual_outputs(out, "jacfwd(f, ...)(*args)")
                columns[-1].append(tangents)
        if out is None:  # every input is empty: run f once for the outputs' shapes
            out, aux = _split_aux(f(*args), has_aux, "jacfwd(f, ...)(*args)")
            values, _ = _dual_outputs(out, "jacfwd(f, ...)(*args)")
        per_output = []
        for o, value in enumerate(values):
            blocks = [_column_block(value, args[k], [c[o] for c in cols], keep) for k, cols in zip(nums, columns)]
            per_output.append(blocks[0] if isinstance(argnums, int) else tuple(blocks))
        jac = _same_shape(out, per_output)
        return (jac, aux if keep else _detach_tree(aux)) if has_aux else jac

    return wrapper


def _basis(x):
    """The unit directions of ``x``, one per element, in x's shape and dtype."""
    for e in range(x.array.size):
        direction = np.zeros(x.array.shape, x.array.dtype)
        direction.reshape(-1)[e] = 1
        yield Tensor._from_array(direction)


def _column_block(value, x, columns, keep):
    """d value / d x from the tangents of value, one per element of x: shape value.shape + x.shape."""
    from .functions import reshape, stack

    shape = tuple(value.shape) + tuple(x.shape)
    if not columns:
        return _zeros(shape, value.array.dtype)
    block = reshape(stack(columns, -1), shape)
    return block if keep else block.detach()


def vjp(f, *primals, has_aux=False):
    """``vjp(f, x)`` -> ``(f(x), vjp_fn)``; ``vjp_fn(u)`` gives ``(uᵀJ,)``, one gradient per primal,
    and can be called again with other ``u`` (torch.func.vjp)."""
    nums = tuple(range(len(primals)))
    args, tracked, nested = _prepare(primals, nums)
    with enable_grad():
        out, aux = _split_aux(f(*args), has_aux, "vjp(f, *primals)")
    outs = out if isinstance(out, (tuple, list)) else (out,)

    def vjp_fn(cotangents):
        cts = cotangents if isinstance(out, (tuple, list)) else (cotangents,)
        pairs = [(o, c) for o, c in zip(outs, cts) if o.requires_grad]
        if not pairs:
            return tuple(_zeros(t.array.shape, t.array.dtype) for t in tracked)
        with enable_grad():
            grads = autograd.grad([o for o, _ in pairs], tracked, grad_outputs=[c for _, c in pairs],
                                  retain_graph=True, create_graph=nested, allow_unused=True)
        return tuple(_zeros(t.array.shape, t.array.dtype) if g is None else g for g, t in zip(grads, tracked))

    value = out if nested else _detach_tree(out)
    return (value, vjp_fn, aux if nested else _detach_tree(aux)) if has_aux else (value, vjp_fn)


def linearize(f, *primals):
    """``linearize(f, x)`` -> ``(f(x), jvp_fn)``: ``f`` runs and is recorded once; each
    ``jvp_fn(v)`` then pushes ``v`` through that record (``forward.walk``), without running ``f``
    again: the linear map ``v -> J·v`` at ``x`` (torch.func.linearize)."""
    from .ops import NumpyMath

    args, tracked, _ = _prepare(primals, tuple(range(len(primals))))
    with enable_grad():
        out = f(*args)
    outs = out if isinstance(out, (tuple, list)) else (out,)

    def jvp_fn(*tangents):
        for k, (t, x) in enumerate(zip(tangents, tracked)):
            if tuple(t.shape) != tuple(x.shape):
                raise RuntimeError(f"tangent:{k} with shape torch.Size({list(t.shape)}) in flattened pytree doesn't "
                                   f"match the shape torch.Size({list(x.shape)}) of the corresponding primal.\n"
                                   f"Give jvp_fn one tangent per primal, each of its primal's shape.")
        seeds = {x: np.asarray(t.array, x.array.dtype) for x, t in zip(tracked, tangents)}
        found = {edge_to(x): s for x, s in seeds.items()}
        for node, tangent, _ in forward.walk([o.grad_fn for o in outs if o.grad_fn is not None], seeds, NumpyMath):
            found[node] = tangent
        results = [found.get(edge_to(o)) if o.requires_grad else None for o in outs]
        return _same_shape(out, [_zeros(o.array.shape, o.array.dtype) if r is None else Tensor._from_array(np.array(r))
                                 for o, r in zip(outs, results)])

    return _same_shape(out, [o.detach() for o in outs]), jvp_fn


def hessian(f, argnums=0):
    """``hessian(f)(x)``: the Jacobian of the gradient, shape ``x.shape + x.shape``: forward mode
    over a recorded reverse pass, ``jacfwd(jacrev(f))``, as torch.func.hessian.

    With tuple ``argnums`` the gradient is a tuple, so the result is the nested tuple of blocks
    ``H[i][j] = d^2 f / dx_i dx_j``, as torch.func.hessian returns.
    """
    return jacfwd(jacrev(f, argnums), argnums)
