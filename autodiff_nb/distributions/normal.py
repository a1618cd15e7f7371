"""``Normal(loc, scale)``: the bell curve; its draws are differentiable (``rsample``)."""
from __future__ import annotations

import math

import numpy as np

from .. import functions as fn
from ..creation import randn
from ..tensor import Size
from . import constraints
from .distribution import Distribution, as_parameter


class Normal(Distribution):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = as_parameter(loc), as_parameter(scale)
        shape = np.broadcast_shapes(tuple(self.loc.shape), tuple(self.scale.shape))
        self.loc, self.scale = self.loc.expand(shape), self.scale.expand(shape)
        super().__init__(Size(shape), validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def variance(self):
        return self.scale.pow(2)

    @property
    def stddev(self):
        return self.scale

    def rsample(self, sample_shape=Size()):
        """loc + eps · scale with eps ~ N(0, 1): the reparameterisation trick, differentiable in loc and scale."""
        eps = randn(self._extended_shape(sample_shape), dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        value = as_parameter(value)
        self._check_value(value)
        return -((value - self.loc) ** 2) / (2 * self.variance) - fn.log(self.scale) - math.log(math.sqrt(2 * math.pi))

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + fn.log(self.scale)
