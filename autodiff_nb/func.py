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
from .tensor import Tensor


def stop_gradient(x):
    """The value of ``x`` treated as a constant by every derivative (``jax.lax.stop_gradient``)."""
    return x.detach() if isinstance(x, Tensor) else x


def _prepare(args, argnums):
    """Replace the differentiated arguments with tracked stand-ins; say whether any was already tracked."""
    args = list(args)
    tracked, nested = [], False
    for i in argnums:
        x = args[i]
        if isinstance(x, Tensor) and x.requires_grad:
            nested = True
            inner = x.view_as(x)  # a fresh node of its own, still connected to the outer record
        else:
            inner = tensor(x.data if isinstance(x, Tensor) else x)
            if not inner.dtype.is_floating_point:
                inner = inner.float()
            inner.requires_grad_(True)
        args[i] = inner
        tracked.append(inner)
    return args, tracked, nested


def _argnums(argnums):
    return (argnums,) if isinstance(argnums, int) else tuple(argnums)


def value_and_grad(f, argnums=0, has_aux=False):
    """``value_and_grad(f)(x)`` -> ``(f(x), df/dx)`` for a scalar-valued ``f``."""
    nums = _argnums(argnums)

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        args, tracked, nested = _prepare(args, nums)
        out = f(*args, **kwargs)
        aux = None
        if has_aux:
            out, aux = out
        if not isinstance(out, Tensor) or out.data.size != 1:
            shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
            raise TypeError(f"Gradient only defined for scalar-output functions. Output had shape: {shape}.\n"
                            "Reduce the output first (e.g. .sum()), or use jacobian(f) for all of it.")
        grads = autograd.grad(out, tracked, create_graph=nested, allow_unused=True)
        grads = tuple(g if g is not None else tensor(np.zeros(t.data.shape, t.data.dtype))
                      for g, t in zip(grads, tracked))
        value = out if nested else out.detach()
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


def jacobian(f, argnums=0):
    """``jacobian(f)(x)`` has shape ``f(x).shape + x.shape``: one reverse walk per output element."""
    nums = _argnums(argnums)

    @functools.wraps(f)
    def wrapper(*args):
        args, tracked, nested = _prepare(args, nums)
        out = f(*args)
        per_input = []
        for t in tracked:
            rows = []
            for o in range(out.data.size):
                seed = np.zeros(out.data.shape, out.data.dtype)
                seed.reshape(-1)[o] = 1
                (g,) = autograd.grad(out, [t], grad_outputs=Tensor._from_array(seed), retain_graph=True,
                                     create_graph=nested, allow_unused=True)
                rows.append(g if g is not None else tensor(np.zeros(t.data.shape, t.data.dtype)))
            from .functions import stack, reshape

            jac = reshape(stack(rows), tuple(out.shape) + tuple(t.shape)) if rows else \
                tensor(np.zeros(tuple(out.shape) + tuple(t.shape), t.data.dtype))
            per_input.append(jac if nested else jac.detach())
        return per_input[0] if isinstance(argnums, int) else tuple(per_input)

    return wrapper


def hessian(f, argnums=0):
    """``hessian(f)(x)``: the Jacobian of the gradient, shape ``x.shape + x.shape``."""
    return jacobian(grad(f, argnums), argnums)


