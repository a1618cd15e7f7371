"""Your own primitive: a numpy forward and the vector-Jacobian product you write for it.

The engine's rules live in one table (``ops.RULES``); this module lets a learner add one more from a
notebook, in the style of HIPS/autograd's ``defvjp``::

    >>> import autodiff_nb as torch
    >>> from autodiff_nb.custom import primitive, defvjp
    >>> @primitive
    ... def cube(x):                      # numpy array in, numpy array out
    ...     return x ** 3
    >>> defvjp(cube, lambda g, ans, x: g * 3 * x ** 2)   # d(x^3)/dx = 3x^2, times the incoming g
    >>> x = torch.tensor([1., 2.], requires_grad=True)
    >>> y = cube(x).sum()
    >>> y.backward(); x.grad
    tensor([ 3., 12.])

Each VJP receives the incoming gradient ``g``, the forward's output ``ans`` and the forward's inputs,
and returns the gradient for its own input. Forward mode (``func.jvp``, ``jacfwd``, dual tensors)
needs a JVP too, given as JAX gives one: ``defjvp(cube, lambda primals, tangents: (cube(x), 3 * x ** 2
* t))`` with ``(x,), (t,) = primals, tangents``. Register a *wrong* one on purpose and
``autograd.gradcheck`` (or ``%autodiff check``) will catch it -- that is what gradient checking is for.
"""
from __future__ import annotations

import functools

import numpy as np

from . import errors, ops
from .tensor import Tensor

__all__ = ["primitive", "defvjp", "defjvp"]


def _backward_name(fn) -> str:
    """``my_cube`` -> ``MyCubeBackward``: PyTorch names custom functions' nodes this way."""
    return "".join(part[:1].upper() + part[1:] for part in fn.__name__.split("_") if part) + "Backward"


def primitive(forward):
    """Make ``forward`` (numpy in, numpy out) an op the tape records; give it gradients with ``defvjp``.

    >>> @primitive
    ... def double(x):
    ...     return 2 * x
    >>> defvjp(double, lambda g, ans, x: 2 * g)
    """
    vjps = {}  # input position -> the user's vjp(g, ans, *inputs)

    def vjp(xp, g, out, i, inputs):
        if not vjps:
            raise RuntimeError(f"{forward.__name__} has no gradient registered.\n"
                               f"Give it one with defvjp({forward.__name__}, lambda g, ans, x: ...).")
        user_vjp = vjps.get(i)
        if user_vjp is None:
            return None
        grad = user_vjp(g, out, *inputs)
        # copied: a user's VJP may hand back an array it keeps (an input, say), and .grad must not share it
        return grad if isinstance(grad, Tensor) else np.array(grad)

    jvps = []  # the user's jvp(primals, tangents) -> (primal_out, tangent_out), once given

    def jvp(xp, t, i, inputs):
        """Input ``i``'s term: the user's JVP with this input's tangent and zeros for the others (the
        JVP is linear in the tangents, so the terms add up to the JVP of them all)."""
        if not jvps:
            raise errors.no_jvp(forward.__name__)
        tangents = tuple(t if k == i else xp.zeros_like(x) if not isinstance(x, (int, float)) else 0.0
                         for k, x in enumerate(inputs))
        _, tangent = jvps[0](inputs, tangents)
        return tangent if isinstance(tangent, Tensor) else np.array(tangent)

    rule = ops.Rule(_backward_name(forward), forward, variadic=True,
                    args=(vjp, f"{{g}} through your vjp for {forward.__name__}'s input {{i}}",
                          jvp, f"your jvp for {forward.__name__} with the tangent {{t}} of input {{i}}"))

    @functools.wraps(forward)
    def op(*args):
        inputs = tuple(a if isinstance(a, (Tensor, int, float)) else Tensor._from_array(np.asarray(a))
                       for a in args)
        return ops.apply(rule, *inputs)

    op.rule = rule
    op.vjps = vjps
    op.jvps = jvps
    return op


def defvjp(op, *vjps):
    """Register one VJP per positional input of ``op`` (None for an input that gets no gradient).

    ``vjp(g, ans, *inputs)`` returns the gradient for its input: ``g`` times the derivative.

    >>> @primitive
    ... def sin(x):
    ...     return np.sin(x)
    >>> defvjp(sin, lambda g, ans, x: g * np.cos(x))
    """
    if not hasattr(op, "vjps"):
        raise TypeError(f"defvjp() expects a function made with @primitive, got {op!r}.\n"
                        "Decorate the numpy forward with @autodiff_nb.custom.primitive first.")
    op.vjps.clear()
    for i, v in enumerate(vjps):
        if v is not None:
            op.vjps[i] = v


def defjvp(op, jvp):
    """Give ``op`` its forward-mode rule, in JAX's form: ``jvp(primals, tangents)`` returns
    ``(primal_out, tangent_out)``, with one tangent per input (zeros for an input that has none).

    >>> @primitive
    ... def sin(x):
    ...     return np.sin(x)
    >>> defjvp(sin, lambda primals, tangents: (np.sin(primals[0]), np.cos(primals[0]) * tangents[0]))
    """
    if not hasattr(op, "jvps"):
        raise TypeError(f"defjvp() expects a function made with @primitive, got {op!r}.\n"
                        "Decorate the numpy forward with @autodiff_nb.custom.primitive first.")
    op.jvps[:] = [jvp]
