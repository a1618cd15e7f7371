"""``Categorical(probs)`` or ``Categorical(logits=...)``: one of K classes, class k with probability p_k."""
from __future__ import annotations

import numpy as np

from .. import functions as fn
from ..creation import tensor
from ..reductions import logsumexp
from ..sampling import multinomial
from ..tensor import Size
from . import constraints
from .bernoulli import _EPS32, _one_of
from .distribution import Distribution


class Categorical(Distribution):
    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, probs=None, logits=None, validate_args=None):
        _one_of(probs, logits)
        if probs is not None:
            if probs.ndim < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            given = self.probs
        else:
            if logits.ndim < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logsumexp(logits, -1, keepdim=True)
            given = self.logits
        self._num_events = given.shape[-1]
        super().__init__(Size(given.shape[:-1]), validate_args=validate_args)

    def __getattr__(self, name):
        if name == "probs":
            return fn.softmax(self.__dict__["logits"], -1)
        if name == "logits":
            return fn.log(fn.clamp(self.__dict__["probs"], _EPS32, 1 - _EPS32))
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    @property
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self):
        return tensor(np.full(tuple(self.batch_shape), np.nan, np.float32))

    variance = mean

    def _draw(self, sample_shape):
        n = int(np.prod(tuple(sample_shape)))
        rows = self.probs.reshape(-1, self._num_events)
        draws = multinomial(rows, n, True)  # (batch, n)
        return draws.T.reshape(tuple(sample_shape) + tuple(self.batch_shape))

    def log_prob(self, value):
        """The normalised log-probability of each value's class (an index into the logits)."""
        self._check_value(value)
        value = value.long()
        shape = np.broadcast_shapes(tuple(value.shape), tuple(self.batch_shape))
        logits = self.logits.expand(shape + (self._num_events,))
        grid = np.indices(shape, sparse=True)
        key = tuple(tensor(g) for g in grid) + (tensor(np.broadcast_to(value.array, shape).copy()),)
        return logits[key]

    def entropy(self):
        logits = fn.clamp(self.logits, min=float(np.finfo(np.float32).min))
        return -(logits * self.probs).sum(-1)
