"""``.data``: PyTorch's detached alias, in the idioms textbooks use, run on the engine and on PyTorch.

``w.data`` is a tensor outside the graph sharing ``w``'s memory, with its own version counter: a change
made through it is invisible to autograd (not even the check for saved values changed in place sees
it). Each test runs one idiom as ``m = autodiff_nb`` and as ``m = torch`` and compares what a reader
can see: values, ``requires_grad``, ``grad_fn``, ``is_leaf``, and how far the version counters moved.
"""
import numpy as np
import pytest

import autodiff_nb as ad

pytestmark = pytest.mark.torch


def seen(t):
    """What a reader can see of a tensor: values, requires_grad, grad_fn's name, is_leaf."""
    grad_fn = None if t.grad_fn is None else t.grad_fn.name()
    return t.detach().numpy().tolist(), t.requires_grad, grad_fn, t.is_leaf


def same_on_both(torch, idiom):
    """Run ``idiom(m)`` on the engine and on PyTorch; what it returns must be equal."""
    ours, theirs = idiom(ad), idiom(torch)
    assert ours == theirs
    return ours


def trained(m):
    """A leaf after one backward: w = [1, 2], loss = sum(w * w), so w.grad = [2, 4]."""
    w = m.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    return w


# ----------------------------------------------------------------------------------- the four idioms
def test_sgd_step_through_data(torch):
    def idiom(m):
        w = trained(m)
        version = w._version
        w.data -= 0.25 * w.grad
        after_step = seen(w), w._version - version
        w.grad = None
        (w * w).sum().backward()  # the next backward reads the new values
        return after_step, w.grad.tolist()

    (w_seen, bumped), grad = same_on_both(torch, idiom)
    assert w_seen == ([0.5, 1.0], True, None, True) and bumped == 0 and grad == [1.0, 2.0]


def test_zeroing_the_gradient_through_its_data(torch):
    def idiom(m):
        w = trained(m)
        grad, version = w.grad, w.grad._version
        w.grad.data.zero_()
        zeroed = w.grad.tolist(), w.grad is grad, w.grad._version - version
        (w * 3.0).sum().backward()  # accumulates into the zeroed gradient
        return zeroed, w.grad.tolist(), seen(w)

    zeroed, grad, w_seen = same_on_both(torch, idiom)
    assert zeroed == ([0.0, 0.0], True, 0) and grad == [3.0, 3.0] and w_seen[1:] == (True, None, True)


def test_initialising_a_weight_through_data_normal_(torch):
    def idiom(m):
        m.manual_seed(0)
        w = m.zeros(100, 50, requires_grad=True)
        out = w.data.normal_(0, 0.01)
        values = w.detach().numpy()
        return (tuple(w.shape), w.requires_grad, w.grad_fn, w.is_leaf, w._version, type(out).__name__,
                abs(values.mean()) < 0.001, abs(values.std() - 0.01) < 0.001)

    assert same_on_both(torch, idiom) == ((100, 50), True, None, True, 0, "Tensor", True, True)


def test_filling_a_weight_through_data_fill_(torch):
    def idiom(m):
        w = trained(m)
        w.data.fill_(0)
        return seen(w), w._version, w.grad.tolist()

    assert same_on_both(torch, idiom) == (([0.0, 0.0], True, None, True), 0, [2.0, 4.0])


def test_assigning_data_shares_the_other_tensors_memory(torch):
    def idiom(m):
        w = trained(m)
        other = m.tensor([5.0, 6.0, 7.0], dtype=m.float64)
        w.data = other
        shares = np.shares_memory(w.detach().numpy(), other.numpy())
        other[0] = 9.0  # seen through w
        return seen(w), str(w.dtype), shares, w._version

    w_seen, dtype, shares, version = same_on_both(torch, idiom)
    assert w_seen == ([9.0, 6.0, 7.0], True, None, True) and dtype == "torch.float64" and shares and version == 0


def test_assigning_something_else_than_a_tensor_to_data_is_a_type_error(torch):
    def idiom(m):
        w = m.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(TypeError) as info:
            w.data = [3.0, 4.0]
        return str(info.value).splitlines()[0], w.tolist()

    assert same_on_both(torch, idiom) == ("Variable data has to be a tensor, but got list", [1.0, 2.0])


# ----------------------------------------------------------------------------------- what .data is
def test_data_is_a_leaf_outside_the_graph_sharing_memory(torch):
    def idiom(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        return [seen(t.data) + (np.shares_memory(t.data.numpy(), t.detach().numpy()),) for t in (x, y)]

    assert same_on_both(torch, idiom) == [([1.0, 2.0], False, None, True, True), ([2.0, 4.0], False, None, True, True)]


def test_data_has_its_own_version_counter(torch):
    def idiom(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        alias = x.data
        alias.add_(1)
        through_data = x._version, alias._version
        with m.no_grad():
            x.add_(1)
        return through_data, (x._version, alias._version, x.data._version), x.tolist()

    assert same_on_both(torch, idiom) == ((0, 1), (1, 1, 0), [3.0, 4.0])


def test_a_saved_input_changed_through_data_is_not_caught(torch):
    def idiom(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()  # saves x
        x.data.mul_(3)
        y.backward()  # no error: the change is invisible to autograd, and backward reads the new x
        return x.grad.tolist(), x._version

    assert same_on_both(torch, idiom) == ([6.0, 12.0], 0)


def test_a_saved_output_changed_through_data_is_not_caught(torch):
    def idiom(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()  # saves its output
        y.data.zero_()
        y.sum().backward()
        return x.grad.tolist(), y._version

    assert same_on_both(torch, idiom) == ([0.0, 0.0], 0)


def test_the_same_change_through_detach_is_caught(torch):
    def idiom(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x.exp()
        y.detach().zero_()  # detach shares the version counter: autograd sees this change
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()
        return y._version

    assert same_on_both(torch, idiom) == 1


def test_a_value_saved_before_data_was_assigned_is_read_anew(torch):
    def idiom(m):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        x.data = m.tensor([10.0, 20.0])
        y.backward()
        return x.grad.tolist(), x._version

    assert same_on_both(torch, idiom) == ([20.0, 40.0], 0)
