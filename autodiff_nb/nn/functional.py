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
    """The negative log-probability of each sample's class, ``-input[n, target[n]]``, averaged (weighted
    by ``weight[target[n]]``, skipping targets equal to ``ignore_index``). The classes are on dim 1:
    input (N, C) with target (N,), or (N, C, d1, d2, ...) with target (N, d1, d2, ...) (one class per
    position, as for images), or one sample (C,) with a 0-d target.

    >>> F.nll_loss(torch.log_softmax(scores, 1), torch.tensor([2, 0]))
    """
    _check_reduction(reduction)
    _check_targets(input, target, ignore_index)
    labels = target.array.astype(np.int64)

    def run(logp, labels, name=None):
        return apply(RULES["nll_loss"], logp, target=labels, ignore_index=ignore_index, reduction=reduction,
                     weight=None if weight is None else weight.array, name=name)

    if input.ndim == 1:  # one sample (C,) with a 0-d target
        return run(input, labels.reshape(()))
    if input.ndim == 2:
        return run(input, labels)
    if input.ndim == 4:
        return run(input, labels, "NllLoss2DBackward0")
    # as PyTorch: (N, C, everything else in one dim) as an image of one row
    n, classes = input.shape[:2]
    rest = int(np.prod(input.shape[2:]))
    out = run(fn.reshape(input, (n, classes, 1, rest)), labels.reshape(n, 1, rest), "NllLoss2DBackward0")
    return fn.reshape(out, tuple(labels.shape)) if reduction == "none" else out


def _shape_text(shape):
    return "[" + ", ".join(str(n) for n in shape) + "]"


def _check_targets(input, target, ignore_index):
    """PyTorch's checks of class-index targets against the input, in its words, then the fix."""
    shape, wanted = tuple(input.shape), tuple(input.shape[:1]) + tuple(input.shape[2:])
    got = tuple(target.shape)
    if target.dtype not in (dtypes.int64, dtypes.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {dtypes.type_word(target.dtype)}\n"
                           "Class-index targets are integers: target.long(). (Probabilities as targets need "
                           "the input's shape.)")
    if input.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {input.ndim})\nThe input holds one score per class: "
                         "shape (C,), (N, C) or (N, C, d1, ...).")
    if input.ndim == 1:
        if got not in ((), (1,)):
            raise RuntimeError(f"0D or 1D target tensor expected, multi-target not supported\nOne sample of "
                               f"shape {shape} takes one class index: a 0-d target like torch.tensor(2).")
    elif got[:1] != shape[:1]:
        raise ValueError(f"Expected input batch_size ({shape[0]}) to match target batch_size "
                         f"({got[0] if got else 1}).\nThe input has shape {shape} and the target {got}: one class "
                         f"index per sample, a target of shape {wanted}.")
    elif input.ndim == 2 and got != wanted:
        raise RuntimeError(f"0D or 1D target tensor expected, multi-target not supported\nThe input has shape "
                           f"{shape}: one class index per row, a target of shape {wanted}.")
    elif input.ndim == 4 and len(got) != 3:
        raise RuntimeError("only batches of spatial targets supported (3D tensors) but got targets of dimension: "
                           f"{len(got)}\nThe input has shape {shape} (classes on dim 1): give a target of shape "
                           f"{wanted}, one class index per position.")
    elif input.ndim == 4 and got != wanted:
        raise RuntimeError(f"size mismatch (got input: {_shape_text(shape)} , target: {_shape_text(got)}\nThe "
                           f"input has shape {shape} (classes on dim 1): the target needs shape {wanted}.")
    elif got != wanted:
        raise RuntimeError(f"Expected target size {_shape_text(wanted)}, got {_shape_text(got)}\nThe input has "
                           f"shape {shape} (classes on dim 1): one class index per position, a target of shape "
                           f"{wanted}.")
    labels, classes = target.array, shape[0] if input.ndim == 1 else shape[1]
    bad = (labels != ignore_index) & ((labels < 0) | (labels >= classes))
    if bad.any():
        raise IndexError(f"Target {labels[bad].flat[0]} is out of bounds.\nWith {classes} classes the targets "
                         f"must be 0..{classes - 1}.")


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """``nll_loss(log_softmax(input, 1), target)``: targets are class indices (int64), or class
    probabilities of the input's shape. Classes are on dim 1 (dim 0 for one sample of shape (C,)).
    With ``label_smoothing=ε`` each target is (1 - ε) its class plus ε spread evenly over all C
    classes: PyTorch's ``(1 - ε) · nll + ε / C · Σ_c -logp_c`` (weighted by ``weight[c]``).

    >>> F.cross_entropy(scores, torch.tensor([2, 0]), label_smoothing=0.1)
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}\nε is the share "
                           "of each target spread over all classes, e.g. label_smoothing=0.1.")
    class_dim = 0 if input.ndim == 1 else 1
    logp = fn.log_softmax(input, class_dim)
    if target.dtype.is_floating_point and tuple(target.shape) == tuple(input.shape):
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target\nWith probabilities as "
                               "targets, give a row of zeros to leave a sample out.")
        if label_smoothing > 0.0:
            target = target * (1 - label_smoothing) + label_smoothing / input.shape[class_dim]
        return _soft_cross_entropy(logp, target, _along(weight, class_dim, logp.ndim), reduction)
    loss = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return loss
    return (1 - label_smoothing) * loss + _smoothing_term(logp, target, weight, ignore_index, reduction,
                                                        class_dim) * (label_smoothing / input.shape[class_dim])


def _along(weight, class_dim, ndim):
    """A per-class weight shaped to multiply along the class dim: (C, 1, 1) for (N, C, d1, d2)."""
    return None if weight is None else fn.reshape(weight, (-1,) + (1,) * (ndim - 1 - class_dim))


def _smoothing_term(logp, target, weight, ignore_index, reduction, class_dim):
    """Σ_c -weight[c] · logp_c per sample, 0 where the target is ignored, reduced as PyTorch: the mean
    divides by the total weight of the kept targets (nll_loss's denominator)."""
    if weight is not None:
        logp = logp * _along(weight, class_dim, logp.ndim)
    ignored = target.array == ignore_index
    smooth = pieces.masked_fill(-fn.sum(logp, class_dim), Tensor._from_array(ignored), 0.0)
    if reduction == "none":
        return smooth
    if reduction == "sum":
        return fn.sum(smooth)
    labels = target.array[~ignored]
    if weight is None:
        return fn.sum(smooth) / labels.size
    return fn.sum(smooth) / Tensor._from_array(np.asarray(weight.array[labels].sum(), weight.array.dtype))


def _soft_cross_entropy(logp, target, weight, reduction):
    terms = logp * target if weight is None else logp * target * weight
    losses = -fn.sum(terms, 0 if logp.ndim == 1 else 1)
    if reduction == "none":
        return losses
    return fn.sum(losses) if reduction == "sum" or logp.ndim == 1 else fn.mean(losses)
