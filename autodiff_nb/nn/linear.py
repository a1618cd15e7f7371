"""``Linear``: y = x Wᵀ + b, with PyTorch's default initialisation."""
from __future__ import annotations

import math

from ..creation import empty
from ..dtypes import as_dtype
from . import functional as F, init
from .module import Module
from .parameter import Parameter


class Linear(Module):
    """``nn.Linear(in_features, out_features)``: ``weight`` is (out_features, in_features), ``bias`` (out_features,).

    Both start uniform: the weight by kaiming_uniform_(a=sqrt(5)), which is U(-1/sqrt(in), 1/sqrt(in)),
    and the bias in the same range, drawn from the package's Generator (seed it with manual_seed)."""

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        kind = None if dtype is None else as_dtype(dtype)
        self.weight = Parameter(empty((out_features, in_features), dtype=kind))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=kind))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input: a placeholder where a layer is optional."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input
