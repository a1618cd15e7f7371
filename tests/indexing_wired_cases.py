"""End-to-end checks of indexing on autodiff_nb tensors against PyTorch (functions.index,
inplace.setitem and the index/scatter/setitem rules all call ``autodiff_nb.indexing``); collected by
``test_indexing_wired.py``.

Each check gets the two modules and a case ``(seed, shape, parts, single)`` of the random keys of
``test_indexing.py``, builds the same tensors and key in both, and compares: the same values, shapes,
gradients and grad_fn names, or the same exception type and first sentence.
"""
import warnings

import numpy as np

from test_indexing import arange, assert_same_outcome, cases, has_repeats, key_for, outcome, random_value

CASES = list(cases())


def _values(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def check_index(ad, torch, seed, shape, parts, single):
    """x[key]: values and shape, or the error."""
    x = arange(shape)
    ours = outcome(lambda: _values(ad.tensor(x)[key_for(parts, single, ad)]))
    theirs = outcome(lambda: _values(torch.tensor(x)[key_for(parts, single, torch)]))
    assert_same_outcome(ours, theirs, f"x{shape}[{parts}]")
    if ours[0] == "ok":
        assert ours[1].shape == theirs[1].shape and np.array_equal(ours[1], theirs[1]), f"x{shape}[{parts}]"


def check_index_gradient(ad, torch, seed, shape, parts, single):
    """x[key].backward(g): x.grad (repeated indices add up) and y.grad_fn's name."""
    x = arange(shape)
    grads, names = [], []
    g = None
    for m in (torch, ad):
        t = m.tensor(x, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                y = t[key_for(parts, single, m)]
            except (IndexError, ValueError, RuntimeError, TypeError):
                return  # check_index compares the errors
        g = np.random.default_rng(seed).standard_normal(tuple(y.shape)) if g is None else g
        y.backward(m.tensor(g))
        grads.append(_values(t.grad))
        names.append(y.grad_fn.name())
    context = f"x{shape}[{parts}]"
    assert np.allclose(grads[1], grads[0], atol=1e-12), context
    assert names[1] == names[0], context


def check_setitem(ad, torch, seed, shape, parts, single):
    """x[key] = value: the elements written, or the error (value shapes right and wrong)."""
    rng = np.random.default_rng(10_000 + seed)
    x = arange(shape)
    key = key_for(parts, single)
    target = outcome(lambda: _values(torch.tensor(x)[key_for(parts, single, torch)]))
    if target[0] != "ok" or has_repeats(key):
        return
    value = random_value(rng, target[1].shape, bad=rng.random() < 0.3)

    def run(m):
        t = m.tensor(x)
        t[key_for(parts, single, m)] = value if isinstance(value, float) else m.tensor(value)
        return _values(t)

    ours, theirs = outcome(lambda: run(ad)), outcome(lambda: run(torch))
    context = f"x{shape}[{parts}] = value of shape {np.shape(value)}"
    assert_same_outcome(ours, theirs, context)
    if ours[0] == "ok":
        assert np.array_equal(ours[1], theirs[1]), context


def check_setitem_gradient(ad, torch, seed, shape, parts, single):
    """a = x * 1; a[key] = v; (a * w).sum().backward(): x.grad is w with 0 where a was overwritten,
    v.grad is w at the written places (summed over broadcast dims)."""
    rng = np.random.default_rng(20_000 + seed)
    x = arange(shape)
    key = key_for(parts, single)
    target = outcome(lambda: _values(torch.tensor(x)[key_for(parts, single, torch)]))
    if target[0] != "ok" or has_repeats(key):
        return
    value = random_value(rng, target[1].shape, bad=False)
    if isinstance(value, float):
        value = np.asarray(value)
    w = rng.standard_normal(shape)
    results = []
    for m in (torch, ad):
        t, v = m.tensor(x, requires_grad=True), m.tensor(value, requires_grad=True)
        a = t * 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            a[key_for(parts, single, m)] = v
        (a * m.tensor(w)).sum().backward()
        results.append((t.grad, v.grad))
    context = f"a{shape}[{parts}] = v of shape {value.shape}"
    for ours, theirs in zip(results[1], results[0]):
        assert (ours is None) == (theirs is None), context  # x[False] = v leaves v out of the graph
        if ours is not None:
            assert np.allclose(_values(ours), _values(theirs), atol=1e-12), context


def check_the_issue(ad, torch, *case):
    """The issue's own examples (the case is ignored)."""
    for m in (ad, torch):
        x = m.arange(24.0).reshape(2, 3, 4)
        assert tuple(x[0, :, [0, 1]].shape) == (3, 2)
    x, t = ad.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    x[0, :, [0, 1]] = ad.tensor([1.0, 2.0])
    t[0, :, [0, 1]] = torch.tensor([1.0, 2.0])
    assert np.array_equal(_values(x), _values(t))


CHECKS = [check_index, check_index_gradient, check_setitem, check_setitem_gradient, check_the_issue]
