"""``autodiff_nb.autograd``: backward(), grad() and gradcheck(), as in ``torch.autograd``."""
from __future__ import annotations

import numpy as np

from . import errors
from .tape import edge_to, run_backward, no_grad, enable_grad, set_grad_enabled, is_grad_enabled  # noqa: F401
from .tensor import Tensor


def _root_grads(outputs, grad_outputs):
    grads = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out.requires_grad:
            raise errors.no_grad_fn(i)
        if g is None:
            if out.data.size != 1:
                raise errors.not_scalar(out.data.shape)
            # one element: np.array (+ reshape) is a third of np.ones's cost (B's fixed cost per backward)
            one = np.array(1, dtype=out.data.dtype)
            g = Tensor._from_array(one if out.data.ndim == 0 else one.reshape(out.data.shape))
        else:
            g = g if isinstance(g, Tensor) else Tensor._from_array(np.asarray(g, dtype=out.data.dtype))
            if g.data.shape != out.data.shape:
                raise errors.bad_gradient_shape(g.data.shape, out.data.shape)
        grads.append(g)
    return grads


def _as_tuple(x):
    if x is None:
        return ()
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Add d(tensors)/d(leaf) into every leaf's ``.grad`` (only into ``inputs`` when given)."""
    outputs = _as_tuple(tensors)
    grads = _root_grads(outputs, _as_tuple(grad_tensors) or (None,) * len(outputs))
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is None:
        run_backward(outputs, grads, retain_graph=retain_graph, create_graph=create_graph)
        return
    inputs = _as_tuple(inputs)
    captured = _capture(outputs, grads, inputs, retain_graph, create_graph)
    from .tape import _accumulate

    for t, g in zip(inputs, captured):
        if g is None:
            continue
        if t.grad_fn is None:
            _accumulate(t, g, create_graph)
        elif not t._retains_grad:  # a retained grad is already written by its own hook
            g = g if create_graph else Tensor._from_array(g)
            t._grad = g if t._grad is None else t._grad + g


def _capture(outputs, grads, inputs, retain_graph, create_graph):
    nodes = []
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad\n"
                               "Mark it with requires_grad=True before the forward pass.")
        nodes.append(edge_to(t))
    slots = {id(n): n for n in nodes}
    found = run_backward(outputs, grads, retain_graph=retain_graph, create_graph=create_graph,
                         capture=slots, accumulate=False)
    return [found.get(id(n)) for n in nodes]


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False,
         materialize_grads=False):
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple; ``.grad`` is left alone.

    >>> x = tensor(3., requires_grad=True)
    >>> autograd.grad(x ** 2, x)
    (tensor(6.),)
    """
    outputs = _as_tuple(outputs)
    inputs_t = _as_tuple(inputs)
    grads = _root_grads(outputs, _as_tuple(grad_outputs) or (None,) * len(outputs))
    if retain_graph is None:
        retain_graph = create_graph
    found = _capture(outputs, grads, inputs_t, retain_graph, create_graph)
    result = []
    for i, (t, g) in enumerate(zip(inputs_t, found)):
        if g is None:
            if materialize_grads:
                g = np.zeros(t.data.shape, t.data.dtype)
            elif not allow_unused:
                raise RuntimeError(f"The differentiated Tensor at index {i} appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.\n"
                                   f"No path leads from the output to input {i} (shape {tuple(t.shape)}); "
                                   "pass allow_unused=True to get None for it.")
            else:
                result.append(None)
                continue
        result.append(g if isinstance(g, Tensor) else Tensor._from_array(np.asarray(g)))
    return tuple(result)


class GradcheckError(RuntimeError):
    pass


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, report=False):
    """Compare the engine's gradient of ``func`` with central differences, in float64.

    Returns True (or, with ``report=True``, a ``GradcheckReport``). A mismatch raises with the worst
    element named, unless ``raise_exception=False``.
    """
    from .check import check_gradients

    result = check_gradients(func, _as_tuple(inputs), eps=eps, atol=atol, rtol=rtol)
    if not result.passed and raise_exception:
        raise GradcheckError(result.text())
    return result if report else result.passed
