"""``default_collate``: a list of examples -> one batch, as PyTorch's DataLoader builds it.

Tensors are stacked on a new first dim; Python ints become an int64 tensor and floats a float64 one;
a tuple of fields becomes a list of batched fields (PyTorch's choice), a dict a dict.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ...creation import as_tensor, tensor
from ...dtypes import float64
from ...functions import stack
from ...tensor import Tensor


def default_collate(batch):
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch, 0)
    if isinstance(first, np.ndarray):
        return stack([as_tensor(b) for b in batch], 0)
    if isinstance(first, (bool, np.bool_)) or isinstance(first, (int, np.integer)):
        return tensor(batch)
    if isinstance(first, (float, np.floating)):
        return tensor(batch, dtype=float64)
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, Mapping):
        return {key: default_collate([b[key] for b in batch]) for key in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):  # a namedtuple keeps its type
        return type(first)(*(default_collate(list(field)) for field in zip(*batch)))
    if isinstance(first, Sequence):
        if any(len(b) != len(first) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(field)) for field in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                    f"found {type(first)}")
