"""``Dropout``: in training, zero each element with probability ``p`` and scale the rest by 1/(1-p);
in ``eval()`` mode, pass the input through."""
from __future__ import annotations

from . import functional as F
from .module import Module


class Dropout(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}\n"
                             "p is the chance that an element is zeroed, e.g. nn.Dropout(0.2).")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"
