"""``Bernoulli(probs)`` or ``Bernoulli(logits=...)``: 1 with probability p, else 0."""
from __future__ import annotations

import numpy as np

from .. import functions as fn
from ..sampling import bernoulli
from ..tensor import Size
from . import constraints
from .distribution import Distribution, as_parameter

_EPS32 = float(np.finfo(np.float32).eps)


def _one_of(probs, logits):
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class Bernoulli(Distribution):
    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            self.probs = as_parameter(probs)
            shape = self.probs.shape
        else:
            self.logits = as_parameter(logits)
            shape = self.logits.shape
        super().__init__(Size(shape), validate_args=validate_args)

    def __getattr__(self, name):  # the form not given, computed from the other when first asked for
        if name == "probs":
            return fn.sigmoid(self.__dict__["logits"])
        if name == "logits":
            p = fn.clamp(self.__dict__["probs"], _EPS32, 1 - _EPS32)
            return fn.log(p) - fn.log(1 - p)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def _draw(self, sample_shape):
        return bernoulli(self.probs.expand(self._extended_shape(sample_shape)))

    def log_prob(self, value):
        """value · log p + (1 - value) · log(1 - p), computed from the logits without overflow."""
        value = as_parameter(value)
        self._check_value(value)
        logits = self.logits
        return -(fn.relu(logits) - logits * value + fn.log(1 + fn.exp(-fn.abs(logits))))
