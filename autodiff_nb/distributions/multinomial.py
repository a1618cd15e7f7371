"""``Multinomial(total_count, probs)``: how many of ``total_count`` draws land in each of K classes.

The textbook's line ``multinomial.Multinomial(1, fair_probs).sample()`` rolls a die once.
"""
from __future__ import annotations

import math

import numpy as np

from .. import functions as fn
from ..creation import rng, tensor
from ..tensor import Size, Tensor
from . import constraints
from .categorical import Categorical
from .distribution import Distribution

_lgamma = np.vectorize(math.lgamma, otypes=[np.float64])


class Multinomial(Distribution):
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported\nGive one whole number of draws, "
                                      "e.g. Multinomial(10, probs).")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits, validate_args=validate_args)
        super().__init__(self._categorical.batch_shape, Size(self._categorical.probs.shape[-1:]),
                         validate_args=validate_args)

    @property
    def probs(self):
        return self._categorical.probs

    @property
    def logits(self):
        return self._categorical.logits

    @property
    def support(self):
        return constraints.multinomial(self.total_count)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def _draw(self, sample_shape):
        probs = np.asarray(self.probs.array, dtype=np.float64)
        rows = probs.reshape(-1, probs.shape[-1])
        n = int(np.prod(tuple(sample_shape)))
        draw = rng(None)
        counts = np.stack([draw.multinomial(self.total_count, row / row.sum(), size=n) for row in rows], axis=1)
        out = counts.reshape(self._extended_shape(sample_shape)).astype(self.probs.array.dtype)
        return Tensor._from_array(out)

    def log_prob(self, value):
        """log(n! / (x_1! ... x_K!)) + sum_k x_k log p_k: the count terms are constants, the last sum is
        made of engine ops, so the result has a gradient in the probabilities."""
        self._check_value(value)
        counts = np.asarray(value.array, dtype=np.float64)
        constant = _lgamma(counts.sum(-1) + 1) - _lgamma(counts + 1).sum(-1)
        logits = self.logits
        # 0 · log 0 counts as 0, as in PyTorch: a class that cannot occur and did not
        logits = fn.where(tensor((counts == 0) & np.isneginf(logits.array)), 0.0, logits)
        return fn.sum(logits * value, -1) + tensor(constant.astype(logits.array.dtype))
