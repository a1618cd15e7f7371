"""Losses as modules: ``MSELoss`` and ``CrossEntropyLoss`` (their functional forms, with ``reduction=``)."""
from __future__ import annotations

from . import functional as F
from .module import Module


class _Loss(Module):
    def __init__(self, size_average=None, reduce=None, reduction="mean"):
        super().__init__()
        self.reduction = reduction


class MSELoss(_Loss):
    """mean((input - target)²); ``reduction="sum"`` adds them up, ``"none"`` keeps one per element."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """``log_softmax`` of the scores, then minus the log-probability of each sample's class, averaged.

    Takes raw scores (logits) of shape (batch, classes) and class indices (int64) of shape (batch,);
    or (batch, classes, d1, ...) with targets (batch, d1, ...); or class probabilities of the scores'
    shape. ``weight`` weighs each class, ``ignore_index`` skips targets, ``label_smoothing=ε`` spreads
    ε of each target evenly over the classes: ``nn.CrossEntropyLoss(label_smoothing=0.1)``."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(size_average, reduce, reduction)
        self.register_buffer("weight", weight)
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)
