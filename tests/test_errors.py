"""Errors that teach: each misuse raises with PyTorch's first sentence (so a learner can search it), then
one line naming the shapes or values involved and the fix. After each, a correct call still works.
"""
import warnings

import numpy as np
import pytest

import autodiff_nb as torch  # the chapter's spelling


def raised(call, kind=RuntimeError):
    with pytest.raises(kind) as info:
        call()
    lines = str(info.value).split("\n")
    assert len(lines) == 2, f"expected PyTorch's sentence and one line of help, got: {lines}"
    return lines


def test_backward_on_a_non_scalar_without_gradient():
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    first, help_line = raised(lambda: y.backward())
    assert first == "grad can be implicitly created only for scalar outputs"
    assert help_line == "y has shape (4,): call y.sum().backward() or pass gradient=torch.ones_like(y)."
    y.backward(gradient=torch.ones_like(y))
    assert x.grad.tolist() == [0., 2., 4., 6.]


def test_backward_with_a_gradient_of_the_wrong_shape():
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    first, help_line = raised(lambda: y.backward(torch.ones(3)))
    assert first == ("Mismatch in shape: grad_output[0] has a shape of torch.Size([3]) and output[0] has a "
                     "shape of torch.Size([4]).")
    assert "(4,)" in help_line and "gradient=torch.ones_like(y)" in help_line
    y.backward(torch.ones(4))
    assert x.grad.tolist() == [0., 2., 4., 6.]


def test_backward_twice():
    x = torch.tensor([1., 2.], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    first, help_line = raised(lambda: y.backward())
    assert first.startswith("Trying to backward through the graph a second time (or directly access saved "
                            "tensors after they have already been freed).")
    assert "MulBackward0" in help_line and "retain_graph=True" in help_line
    assert x.grad.tolist() == [2., 4.]  # the failed call added nothing
    y = (x * x).sum()  # run the forward pass again: works
    y.backward()
    assert x.grad.tolist() == [4., 8.]


def test_backward_on_a_tensor_that_does_not_require_grad():
    x = torch.tensor([1., 2.])
    y = (x * 2).sum()
    first, help_line = raised(lambda: y.backward())
    assert first == "element 0 of tensors does not require grad and does not have a grad_fn"
    assert "requires_grad=True" in help_line and "torch.no_grad()" in help_line
    x.requires_grad_()
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2., 2.]


def test_backward_of_a_value_computed_under_no_grad():
    x = torch.tensor([1., 2.], requires_grad=True)
    with torch.no_grad():
        y = (x * 2).sum()
    first, _ = raised(lambda: y.backward())
    assert first == "element 0 of tensors does not require grad and does not have a grad_fn"
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2., 2.]


@pytest.mark.parametrize("make,first_expected", [
    (lambda: torch.tensor([1, 2], requires_grad=True),
     "Only Tensors of floating point and complex dtype can require gradients"),
    (lambda: torch.arange(4, requires_grad=True),
     "Only Tensors of floating point and complex dtype can require gradients"),
    (lambda: torch.tensor([1, 2]).requires_grad_(), "only Tensors of floating point dtype can require gradients"),
])
def test_requires_grad_on_an_integer_tensor(make, first_expected):
    first, help_line = raised(make)
    assert first == first_expected
    assert "torch.int64" in help_line and "torch.arange(4.0)" in help_line and ".float()" in help_line
    x = torch.tensor([1, 2]).float().requires_grad_()
    (x * x).sum().backward()
    assert x.grad.tolist() == [2., 4.]


@pytest.mark.parametrize("change,view", [
    (lambda w: w.add_(1), False), (lambda w: w.__isub__(1), False), (lambda w: w.zero_(), False),
    (lambda w: w.mul_(2), False), (lambda w: w.__setitem__(0, 5.), True),
])
def test_in_place_on_a_leaf_that_requires_grad(change, view):
    w = torch.tensor([1., 2.], requires_grad=True)
    first, help_line = raised(lambda: change(w))
    assert first == (f"a {'view of a ' if view else ''}leaf Variable that requires grad is being used in an "
                     "in-place operation.")
    assert "torch.no_grad()" in help_line and "w -= lr * w.grad" in help_line and len(help_line) <= 100
    # w = w - ... is no fix: w becomes a non-leaf, and its .grad is never filled again
    assert "w = w" not in help_line and "new tensor" not in help_line
    assert w.tolist() == [1., 2.] and w.is_leaf
    (w * w).sum().backward()
    with torch.no_grad():
        w -= 0.5 * w.grad
    assert w.tolist() == [0., 0.]


def test_in_place_on_a_value_saved_for_backward():
    x = torch.tensor([1., 2.], requires_grad=True)
    z = x * 2
    y = (z * z).sum()
    z.add_(1)
    first, help_line = raised(lambda: y.backward())
    assert first == ("one of the variables needed for gradient computation has been modified by an inplace "
                     "operation: [torch.FloatTensor [2]], which is output 0 of Add, is at version 1; expected "
                     "version 0 instead.")
    assert "MulBackward0 saved that value" in help_line and "clone()" in help_line
    z = x * 2
    (z * z).sum().backward()
    assert x.grad.tolist() == [8., 16.]


def test_numpy_of_a_tensor_that_requires_grad():
    x = torch.tensor([1., 2.], requires_grad=True)
    for call in (x.numpy, lambda: np.asarray(x)):
        first, help_line = raised(call)
        assert first == "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
        assert "detach()" in help_line
    assert x.detach().numpy().tolist() == [1., 2.]
    assert np.asarray(x.detach()).tolist() == [1., 2.]


def test_reading_grad_of_a_non_leaf_warns():
    x = torch.tensor([1., 2.], requires_grad=True)
    y = x * 2
    y.sum().backward()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert y.grad is None
    first, help_line = str(caught[0].message).split("\n")
    assert first.startswith("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed.")
    assert help_line == "This tensor was made by MulBackward0: call .retain_grad() on it before backward()."
    y = x * 2
    y.retain_grad()
    y.sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert y.grad.tolist() == [1., 1.]


@pytest.mark.parametrize("call,first_expected,shapes", [
    (lambda: torch.ones(2, 3) @ torch.ones(2, 3), "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)",
     ["(2, 3) and (2, 3)"]),
    (lambda: torch.mm(torch.ones(2, 3), torch.ones(4, 2)),
     "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x2)", ["(2, 3) and (4, 2)"]),
    (lambda: torch.ones(3) @ torch.ones(2, 3), "mat1 and mat2 shapes cannot be multiplied (1x3 and 2x3)",
     ["(3,) and (2, 3)"]),
    (lambda: torch.mv(torch.ones(2, 3), torch.ones(2)), "size mismatch, got input (2), mat (2x3), vec (2)",
     ["(2, 3) and (2,)"]),
    (lambda: torch.ones(2, 3) @ torch.ones(2), "size mismatch, got input (2), mat (2x3), vec (2)",
     ["(2, 3) and (2,)"]),
    (lambda: torch.dot(torch.ones(3), torch.ones(2)),
     "inconsistent tensor size, expected tensor [3] and src [2] to have the same number of elements, but got 3 "
     "and 2 elements respectively", ["(3,) and (2,)"]),
    (lambda: torch.ones(4, 2, 3) @ torch.ones(4, 2, 3),
     "Expected size for first two dimensions of batch2 tensor to be: [4, 3] but got: [4, 2].",
     ["(4, 2, 3) and (4, 2, 3)"]),
    (lambda: torch.ones(4, 2, 3) @ torch.ones(5, 3, 3),
     "The size of tensor a (4) must match the size of tensor b (5) at non-singleton dimension 0",
     ["(4, 2, 3) and (5, 3, 3)"]),
    (lambda: torch.ones(2, 3) + torch.ones(4),
     "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1",
     ["(2, 3) and (4,)"]),
    (lambda: torch.ones(5, 2, 3) * torch.ones(4, 3),
     "The size of tensor a (2) must match the size of tensor b (4) at non-singleton dimension 1",
     ["(5, 2, 3) and (4, 3)"]),
    (lambda: torch.where(torch.ones(2) > 0, torch.ones(3), torch.ones(2)),
     "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0",
     ["(2,), (3,) and (2,)"]),
])
def test_shape_mismatches_name_both_shapes(call, first_expected, shapes):
    first, help_line = raised(call)
    assert first == first_expected
    for text in shapes:
        assert text in help_line
    assert (torch.ones(2, 3) @ torch.ones(3, 2)).shape == (2, 2)
    assert (torch.ones(2, 3) + torch.ones(3)).shape == (2, 3)


def test_broadcast_mismatch_while_recording_leaves_the_graph_usable():
    x = torch.ones(2, 3, requires_grad=True)
    first, _ = raised(lambda: x * torch.ones(2))
    assert first.startswith("The size of tensor a (3) must match the size of tensor b (2)")
    (x * torch.ones(3)).sum().backward()
    assert x.grad.tolist() == [[1., 1., 1.], [1., 1., 1.]]


@pytest.mark.parametrize("call,kind,first_expected", [
    (lambda: torch.ones(2).item(), RuntimeError, "a Tensor with 2 elements cannot be converted to Scalar"),
    (lambda: float(torch.ones(2)), ValueError, "only one element tensors can be converted to Python scalars"),
    (lambda: bool(torch.ones(2)), RuntimeError, "Boolean value of Tensor with more than one value is ambiguous"),
    (lambda: torch.ones(2, 3).view(4), RuntimeError, "shape '[4]' is invalid for input of size 6"),
    (lambda: torch.ones(2).expand(3, 3), RuntimeError,
     "The expanded size of the tensor (3) must match the existing size (2) at non-singleton dimension 1.  "
     "Target sizes: [3, 3].  Tensor sizes: [2]"),
    (lambda: torch.cat([torch.ones(2, 3), torch.ones(3, 2)]), RuntimeError,
     "Sizes of tensors must match except in dimension 0. Expected size 3 but got size 2 for tensor number 1 "
     "in the list."),
    (lambda: torch.stack([torch.ones(2, 3), torch.ones(3, 2)]), RuntimeError,
     "stack expects each tensor to be equal size, but got [2, 3] at entry 0 and [3, 2] at entry 1"),
    (lambda: torch.ones(2).sum(1), IndexError,
     "Dimension out of range (expected to be in range of [-1, 0], but got 1)"),
    (lambda: torch.ones(2)[5], IndexError, "index 5 is out of bounds for dimension 0 with size 2"),
    (lambda: torch.tensor([1, 2]).mean(), RuntimeError,
     "mean(): could not infer output dtype. Input dtype must be either a floating point or complex dtype. "
     "Got: Long"),
    (lambda: torch.ones(0).max(), RuntimeError,
     "max(): Expected reduction dim to be specified for input.numel() == 0. Specify the reduction dim with the "
     "'dim' argument."),
])
def test_other_misuses_keep_pytorchs_sentence_and_add_help(call, kind, first_expected):
    first, help_line = raised(call, kind)
    assert first == first_expected
    assert help_line.strip()
    assert torch.ones(1).item() == 1.0


def test_grad_assignment_of_the_wrong_shape():
    x = torch.ones(2, requires_grad=True)
    first, help_line = raised(lambda: setattr(x, "grad", torch.ones(3)))
    assert first == ("attempting to assign a gradient of size '[3]' to a tensor of size '[2]'. Please ensure "
                     "that the gradient and the tensor are the same size")
    assert "(2,)" in help_line and "(3,)" in help_line
    x.grad = torch.zeros(2)
    x.sum().backward()
    assert x.grad.tolist() == [1., 1.]


def test_in_place_op_that_would_change_shape_or_dtype():
    x = torch.tensor([1, 2])
    first, help_line = raised(lambda: x.__iadd__(1.5))
    assert first == "result type Float can't be cast to the desired output type Long"
    assert "x.float()" in help_line
    y = torch.ones(2)
    first, help_line = raised(lambda: y.__iadd__(torch.ones(2, 2)))
    assert first == "output with shape [2] doesn't match the broadcast shape [2, 2]"
    assert "x = x + y" in help_line
    x += 1
    y += torch.ones(2)
    assert x.tolist() == [2, 3] and y.tolist() == [2., 2.]


def test_autograd_grad_of_an_unused_input():
    x = torch.ones(2, requires_grad=True)
    w = torch.ones(2, requires_grad=True)
    first, help_line = raised(lambda: torch.autograd.grad((x * 2).sum(), [x, w]))
    assert first == ("The differentiated Tensor at index 1 appears to not have been used in the graph. Set "
                     "allow_unused=True if this is the desired behavior.")
    assert "allow_unused=True" in help_line and "(2,)" in help_line
    assert torch.autograd.grad((x * 2).sum(), [x, w], allow_unused=True)[1] is None


def test_no_misuse_leaves_grad_mode_or_the_record_broken():
    x = torch.tensor([1., 2.], requires_grad=True)
    misuses = [
        lambda: (x * 2).backward(),
        lambda: torch.tensor([1, 2], requires_grad=True),
        lambda: x.add_(1),
        lambda: x.numpy(),
        lambda: x @ torch.ones(3),
        lambda: x + torch.ones(3),
    ]
    for misuse in misuses:
        with pytest.raises(RuntimeError):
            misuse()
        assert torch.is_grad_enabled()
    y = 2 * torch.dot(x, x)
    y.backward()
    assert x.grad.tolist() == [4., 8.]
