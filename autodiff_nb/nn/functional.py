"""``torch.nn.functional``: the layers and losses as plain functions (``import autodiff_nb.nn.functional as F``).

Each is made of engine ops (``ops.RULES``), so its backward is recorded like any other and a drawing
shows it: ``cross_entropy`` is ``log_softmax`` then ``nll_loss`` (``NllLossBackward0``), ``linear`` on a
batch is one ``addmm`` (``AddmmBackward0``), as in PyTorch.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import dtypes, errors, functions as fn, pieces
from ..creation import rng
from ..ops import RULES, apply
from ..tensor import Tensor

_REDUCTIONS = ("none", "mean", "sum")


# ----------------------------------------------------------------------- activations
def relu(input, inplace=False):
    return fn.relu(input)


def sigmoid(input):
    return fn.sigmoid(input)


def tanh(input):
    return fn.tanh(input)


def _implicit_dim(name, ndim):
    """PyTorch's old rule for softmax without dim (dim 0 for 0-, 1- and 3-d input, else 1), with its warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include dim=X "
                  "as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    return fn.softmax(input, _implicit_dim("softmax", input.ndim) if dim is None else dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    return fn.log_softmax(input, _implicit_dim("log_softmax", input.ndim) if dim is None else dim, dtype=dtype)


# ----------------------------------------------------------------------- layers
def linear(input, weight, bias=None):
    """``input @ weight.T + bias``; a batch (2-d input) with a bias runs as one ``addmm``, as PyTorch."""
    out_features, in_features = weight.shape
    if input.shape[-1:] != (in_features,):
        rows = int(np.prod(input.shape[:-1])) if input.ndim > 1 else 1
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input.shape[-1] if input.ndim else 1} and "
            f"{in_features}x{out_features})\nLinear(in_features={in_features}, out_features={out_features}) "
            f"takes inputs whose last dim is {in_features}, but the input has shape {tuple(input.shape)}: "
            f"flatten or reshape it to (batch, {in_features}), or make the layer "
            f"nn.Linear({input.shape[-1] if input.ndim else 1}, {out_features}).")
    if input.ndim == 2 and bias is not None:
        return pieces.addmm(bias, input, fn.t(weight))
    out = fn.matmul(input, fn.t(weight))
    return out if bias is None else out + bias


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by 1/(1-p), in training only."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}\n"
                         "p is the chance that an element is zeroed, e.g. nn.Dropout(0.2).")
    if not training or p == 0.0:
        return input
    keep = rng(None).random(input.array.shape) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = Tensor._from_array((keep * scale).astype(input.array.dtype))  # a constant: MulBackward0, as PyTorch
    return input * mask


# ----------------------------------------------------------------------- losses
def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction\nUse one of 'mean', 'sum' or 'none'.")


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """The mean (or sum) of the squared differences ``(input - target) ** 2`` (``MseLossBackward0``)."""
    _check_reduction(reduction)
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have the "
                      "same size.", UserWarning, stacklevel=2)
    try:
        np.broadcast_shapes(tuple(input.shape), tuple(target.shape))
    except ValueError:
        a, b = tuple(input.shape), tuple(target.shape)
        first = str(errors.broadcast_mismatch("mse_loss", a, b)).split("\n")[0]
        raise RuntimeError(f"{first}\nmse_loss: input {a} and target {b} do not broadcast; give the target "
                           "the input's shape (target.reshape(input.shape) or target.unsqueeze(1)).") from None
    return apply(RULES["mse_loss"], input, target, reduction=reduction)


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """The negative log-probability of each sample's class, ``-input[n, target[n]]``, averaged."""
    _check_reduction(reduction)
    unbatched = input.ndim == 1
    logp = fn.unsqueeze(input, 0) if unbatched else input
    labels = target.array.reshape(1) if unbatched else target.array
    _check_targets(logp, target, labels, ignore_index)
    out = apply(RULES["nll_loss"], logp, target=labels.astype(np.int64), ignore_index=ignore_index,
                weight=None if weight is None else weight.array, reduction=reduction)
    return fn.reshape(out, ()) if unbatched and reduction == "none" else out


def _check_targets(logp, target, labels, ignore_index):
    if target.dtype not in (dtypes.int64, dtypes.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {dtypes.type_word(target.dtype)}\n"
                           "Class-index targets are integers: target.long(). (Probabilities as targets need "
                           "the input's shape.)")
    if logp.ndim != 2:
        raise NotImplementedError(f"cross_entropy / nll_loss here take (batch, classes) input, got shape "
                                  f"{tuple(logp.shape)}\nMove the classes to dim 1 and flatten the rest.")
    if labels.shape != logp.shape[:1]:
        raise ValueError(f"Expected input batch_size ({logp.shape[0]}) to match target batch_size "
                         f"({labels.shape[0] if labels.ndim else 1}).\nThe input has shape {tuple(logp.shape)} "
                         f"and the target {tuple(target.shape)}: one class index per row of the input.")
    bad = (labels != ignore_index) & ((labels < 0) | (labels >= logp.shape[1]))
    if bad.any():
        raise IndexError(f"Target {labels[bad][0]} is out of bounds.\nWith {logp.shape[1]} classes the targets "
                         f"must be 0..{logp.shape[1] - 1}.")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """``nll_loss(log_softmax(input, 1), target)``: targets are class indices (int64), or class
    probabilities of the input's shape."""
    _check_reduction(reduction)
    if label_smoothing != 0.0:
        raise NotImplementedError("label_smoothing is not supported here\nSmooth the targets yourself and pass "
                                  "them as probabilities.")
    logp = fn.log_softmax(input, 0 if input.ndim == 1 else 1)
    if target.dtype.is_floating_point and tuple(target.shape) == tuple(input.shape):
        return _soft_cross_entropy(logp, target, weight, reduction)
    return nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)


def _soft_cross_entropy(logp, target, weight, reduction):
    terms = logp * target if weight is None else logp * target * weight
    losses = -fn.sum(terms, 0 if logp.ndim == 1 else 1)
    if reduction == "none":
        return losses
    return fn.sum(losses) if reduction == "sum" or logp.ndim == 1 else fn.mean(losses)
