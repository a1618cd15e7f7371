"""``autodiff_nb.autograd``: ``backward()``, ``grad()`` and ``gradcheck()``, as in ``torch.autograd``.

They check their arguments, make the seed gradients, choose the array namespace the rules compute
with (numpy, or the recorded ops for ``create_graph``) and hand over to ``tape.run_backward``.
"""
from __future__ import annotations

import numpy as np

from .. import errors
from ..check import check_gradients
from ..functions import TensorMath
from ..grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from ..ops import NumpyMath
from ..tape import accumulate_grad, edge_to, run_backward
from ..tensor import Tensor


def _as_tuple(x):
    if x is None:
        return ()
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _seeds(outputs, grad_outputs, create_graph):
    """The gradient each output starts from: ones for a one-element output, else the one given."""
    seeds = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise errors.no_grad_fn(i)
        if g is None:
            if out.array.size != 1:
                raise errors.not_scalar(out.array.shape)
            g = np.array(1, dtype=out.array.dtype)  # np.ones is Python around two calls
            g = g if out.array.ndim == 0 else g.reshape(out.array.shape)
        elif not isinstance(g, Tensor):
            g = np.asarray(g, dtype=out.array.dtype)
        if g.shape != out.array.shape:
            raise errors.bad_gradient_shape(g.shape, out.array.shape)
        if create_graph:  # the seed itself, so that a backward recorded through it reaches it
            seeds.append(g if isinstance(g, Tensor) else Tensor._from_array(g))
        else:
            seeds.append(g.array if isinstance(g, Tensor) else g)
    return seeds


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Add d(tensors)/d(leaf) into every leaf's ``.grad`` (only into ``inputs`` when given)."""
    outputs = _as_tuple(tensors)
    seeds = _seeds(outputs, _as_tuple(grad_tensors) or (None,) * len(outputs), create_graph)
    xp = TensorMath if create_graph else NumpyMath
    retain_graph = create_graph if retain_graph is None else retain_graph
    if inputs is None:
        run_backward(outputs, seeds, xp, retain_graph=retain_graph)
        return
    inputs = _as_tuple(inputs)
    for t, g in zip(inputs, _capture(outputs, seeds, inputs, xp, retain_graph)):
        if g is None:
            continue
        if t.grad_fn is None:
            accumulate_grad(t, g, xp)
        elif not t._retains_grad:  # a retained grad is already written by its own hook
            g = xp.copy(g) if create_graph else Tensor._from_array(g.copy())
            t._grad = g if t._grad is None else t._grad + g


def _capture(outputs, seeds, inputs, xp, retain_graph):
    """The gradient that reaches each of ``inputs``, without writing any ``.grad``."""
    nodes = []
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad\n"
                               "Mark it with requires_grad=True before the forward pass.")
        nodes.append(edge_to(t))
    found = run_backward(outputs, seeds, xp, retain_graph=retain_graph, accumulate=False, capture=set(nodes))
    return [found.get(node) for node in nodes]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False,
         materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple; ``.grad`` is left alone.

    >>> x = tensor(3., requires_grad=True)
    >>> autograd.grad(x ** 2, x)
    (tensor(6.),)
    """
    outputs, inputs = _as_tuple(outputs), _as_tuple(inputs)
    seeds = _seeds(outputs, _as_tuple(grad_outputs) or (None,) * len(outputs), create_graph)
    xp = TensorMath if create_graph else NumpyMath
    retain_graph = create_graph if retain_graph is None else retain_graph
    result = []
    for i, (t, g) in enumerate(zip(inputs, _capture(outputs, seeds, inputs, xp, retain_graph))):
        if g is None and materialize_grads:
            g = np.zeros(t.array.shape, t.array.dtype)
        elif g is None:
            if not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.\n"
                                   f"No path leads from the output to input {i} (shape {tuple(t.shape)}); "
                                   "pass allow_unused=True to get None for it.")
            result.append(None)
            continue
        result.append(g if isinstance(g, Tensor) else Tensor._from_array(np.array(g)))
    return tuple(result)


class GradcheckError(RuntimeError):
    pass


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, report=False):
    """Compare the engine's gradient of ``func`` with central differences, in float64.

    Returns True (or, with ``report=True``, a ``GradcheckReport``). A mismatch raises with the worst
    element named, unless ``raise_exception=False``.
    """
    result = check_gradients(func, _as_tuple(inputs), eps=eps, atol=atol, rtol=rtol)
    if not result.passed and raise_exception:
        raise GradcheckError(result.text())
    return result if report else result.passed

from . import forward_ad  # noqa: E402,F401  (autodiff_nb.autograd.forward_ad, as torch.autograd.forward_ad)
