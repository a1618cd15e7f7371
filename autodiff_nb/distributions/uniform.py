"""``Uniform(low, high)``: every value in [low, high) equally likely; draws are differentiable."""
from __future__ import annotations

import numpy as np

from .. import functions as fn
from ..creation import rand
from ..tensor import Size
from . import constraints
from .distribution import Distribution, as_parameter


class Uniform(Distribution):
    arg_constraints = {"low": constraints.Constraint("Dependent()", lambda a: a == a),
                       "high": constraints.Constraint("Dependent()", lambda a: a == a)}
    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = as_parameter(low), as_parameter(high)
        shape = np.broadcast_shapes(tuple(self.low.shape), tuple(self.high.shape))
        self.low, self.high = self.low.expand(shape), self.high.expand(shape)
        super().__init__(Size(shape), validate_args=validate_args)

    def _parameter_constraints(self):
        return {"low": constraints.Constraint(f"LessThan(upper_bound={self.high})", lambda a: a < self.high.array),
                "high": constraints.Constraint(f"GreaterThan(lower_bound={self.low})", lambda a: a > self.low.array)}

    @property
    def support(self):
        return constraints.interval(self.low, self.high)

    @property
    def mean(self):
        return (self.high + self.low) / 2

    @property
    def variance(self):
        return (self.high - self.low).pow(2) / 12

    def rsample(self, sample_shape=Size()):
        u = rand(self._extended_shape(sample_shape), dtype=self.low.dtype)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value):
        """log(1 / (high - low)) inside [low, high), -inf outside."""
        value = as_parameter(value)
        self._check_value(value)
        inside = ((self.low <= value) & (self.high > value)).to(self.low.dtype)
        return fn.log(inside) - fn.log(self.high - self.low)

    def entropy(self):
        return fn.log(self.high - self.low)
