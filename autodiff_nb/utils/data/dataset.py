"""``Dataset`` and ``TensorDataset``: something with a length that gives one example per index."""
from __future__ import annotations


class Dataset:
    """Subclass it with ``__getitem__(index)`` (one example) and ``__len__`` (how many)."""

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.\n"
                                  "Define __getitem__(self, index) returning one example, and __len__.")


class TensorDataset(Dataset):
    """Examples from tensors that share their first dim: ``TensorDataset(X, y)[i]`` is ``(X[i], y[i])``."""

    def __init__(self, *tensors):
        sizes = [t.shape[0] for t in tensors]
        assert all(n == sizes[0] for n in sizes), ("Size mismatch between tensors\nTensorDataset: first dims "
                                                   f"{sizes}; every tensor needs one row per example.")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]
