"""Random draws beyond ``rand`` and ``randn``: ``randperm``, ``multinomial``, ``bernoulli``.

Each draws from the package's ``Generator`` (``generator=``, else the default one that
``manual_seed`` seeds), so a seeded notebook prints the same numbers every run. The values follow
PyTorch's distributions, not its random stream: the same seed gives other numbers than PyTorch.
"""
from __future__ import annotations

import numpy as np

from . import dtypes
from .creation import _finish, rng
from .tensor import Tensor


def randperm(n, *, generator=None, dtype=None, requires_grad=False, device=None):
    """The numbers 0 .. n-1 in random order (int64): ``torch.randperm(4)``."""
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got{n}\nrandperm(n) shuffles 0 .. n-1; n counts them.")
    perm = rng(generator).permutation(int(n))
    return _finish(perm.astype(np.int64 if dtype is None else dtypes.as_dtype(dtype).numpy), None, requires_grad)


def _check_probabilities(p, num_samples, replacement):
    if p.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim\nmultinomial: shape {p.shape}; give one row of "
                           "weights, or a matrix with one row per draw.")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples\nAsk for at least one draw.")
    if not replacement and num_samples > p.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement\n"
                           f"multinomial: {num_samples} draws from {p.shape[-1]} categories need "
                           "replacement=True.")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0\n"
                           "multinomial takes non-negative weights (they need not sum to 1).")
    if np.any(p.sum(axis=-1) <= 0):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)\n"
                           "Every row needs at least one positive weight.")


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn with probability proportional to the weights in ``input`` (one row, or one per row
    of a matrix): ``torch.multinomial(torch.tensor([0.2, 0.8]), 3, replacement=True)``."""
    p = np.asarray(input.array, dtype=np.float64)
    _check_probabilities(p, num_samples, replacement)
    draw = rng(generator)
    rows = p.reshape(-1, p.shape[-1])
    out = np.stack([draw.choice(len(row), size=num_samples, replace=replacement, p=row / row.sum())
                    for row in rows])
    return Tensor._from_array(out.reshape(p.shape[:-1] + (num_samples,)).astype(np.int64))


def bernoulli(input, p=None, *, generator=None):
    """1 with probability ``input`` (elementwise), else 0, in ``input``'s dtype."""
    probs = input.array if p is None else np.full(input.array.shape, p)
    if np.any((probs < 0) | (probs > 1)) or np.any(np.isnan(probs)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message "
                           "be improved?  If so, please report an enhancement request to PyTorch.)\nbernoulli "
                           "takes probabilities: every element must lie in [0, 1].")
    draws = rng(generator).random(probs.shape) < probs
    return Tensor._from_array(draws.astype(input.array.dtype))
