"""The functional style (JAX's ``grad(f)(x)``) on the same tape.

``grad(f)`` returns a new function that runs ``f`` on fresh inputs, records it, and walks the record
back. When an input already carries history (``grad(grad(f))``), the inner walk is itself recorded,
so derivatives of derivatives compose.
"""
from __future__ import annotations

import functools

import numpy as np

from . import autograd
from .creation import tensor
from .grad_mode import enable_grad, is_grad_enabled
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
        if isinstance(x, Tensor) and x.requires_grad and outer_recording:
            nested = True
            inner = x.view_as(x)  # a fresh node of its own, still connected to the outer record
        else:
            inner = tensor(x.array if isinstance(x, Tensor) else x)
            if not inner.dtype.is_floating_point:
                inner = inner.float()
            inner.requires_grad_(True)
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


def jacobian(f, argnums=0):
    """``jacobian(f)(x)`` has shape ``f(x).shape + x.shape``: one reverse walk per output element.

    As in torch.func, a tuple-valued ``f`` gives a tuple (one entry per output), and a tuple
    ``argnums`` gives a tuple per output (one block per input): ``jac[i][j] = d out_i / d x_j``.
    """
    nums = _argnums(argnums)

    @functools.wraps(f)
    def wrapper(*args):
        args, tracked, nested = _prepare(args, nums)
        with enable_grad():  # a function transform: an enclosing no_grad must not stop the record
            out = f(*args)
            outs = out if isinstance(out, (tuple, list)) else (out,)
            per_output = []
            for o in outs:
                blocks = _jacobian_of(o, tracked, nested)
                per_output.append(blocks[0] if isinstance(argnums, int) else tuple(blocks))
        return tuple(per_output) if isinstance(out, (tuple, list)) else per_output[0]

    return wrapper


def hessian(f, argnums=0):
    """``hessian(f)(x)``: the Jacobian of the gradient, shape ``x.shape + x.shape``.

    With tuple ``argnums`` the gradient is a tuple, so the result is the nested tuple of blocks
    ``H[i][j] = d^2 f / dx_i dx_j``, as torch.func.hessian returns.
    """
    return jacobian(grad(f, argnums), argnums)
