"""``Flatten``: merge dims ``start_dim`` .. ``end_dim`` into one (by default all but the batch dim)."""
from __future__ import annotations

from .. import functions as fn
from .module import Module


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return fn.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
