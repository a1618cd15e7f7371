"""``Distribution``: what every distribution has (shapes, sample, log_prob, mean, variance), and the
checks of its parameters and values, with PyTorch's messages."""
from __future__ import annotations

import numpy as np

from ..creation import tensor
from ..dtypes import float32
from ..grad_mode import no_grad
from ..tensor import Size, Tensor


def as_parameter(value):
    """Numbers become float32 tensors; tensors stay as they are (and keep their gradient)."""
    return value if isinstance(value, Tensor) else tensor(float(value), dtype=float32)


class Distribution:
    arg_constraints = {}
    has_rsample = False

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape, self._event_shape = Size(batch_shape), Size(event_shape)
        self._validate_args = True if validate_args is None else validate_args
        if self._validate_args:
            for name, constraint in self._parameter_constraints().items():
                value = self.__dict__.get(name)
                if value is None:
                    continue
                with np.errstate(all="ignore"):  # inf - inf in a check is a failed check, not a warning
                    holds = np.all(constraint.holds(value.array))
                if not holds:
                    raise ValueError(f"Expected parameter {name} ({type(value).__name__} of shape "
                                     f"{tuple(value.shape)}) of distribution {self!r} to satisfy the constraint "
                                     f"{constraint!r}, but found invalid values:\n{value}")

    def _parameter_constraints(self):
        return self.arg_constraints

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=Size()):
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=Size()):
        """Draws (no gradient) of shape sample_shape + batch_shape + event_shape."""
        with no_grad():
            return self.rsample(sample_shape) if self.has_rsample else self._draw(Size(sample_shape))

    def rsample(self, sample_shape=Size()):
        raise NotImplementedError(f"{type(self).__name__} has no rsample: its draws are not differentiable.\n"
                                  "Use sample(), and log_prob for a score-function gradient.")

    def _check_value(self, value):
        if self._validate_args and not np.all(self.support.holds(value.array)):
            raise ValueError(f"Expected value argument ({type(value).__name__} of shape {tuple(value.shape)}) to "
                             f"be within the support ({self.support!r}) of the distribution {self!r}, but found "
                             f"invalid values:\n{value}")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def __repr__(self):
        shown = [k for k in self.arg_constraints if k in self.__dict__]
        parts = [f"{k}: {self.__dict__[k] if self.__dict__[k].numel() == 1 else self.__dict__[k].size()}"
                 for k in shown]
        return type(self).__name__ + "(" + ", ".join(parts) + ")"
