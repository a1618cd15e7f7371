"""The engine's speed paths (issue 6) give the same answers as the plain ones.

Each fast path skips work only when it cannot change a result: a gradient nobody needs, promotion
with nothing to promote, an in-place op with nothing to record, the first write of ``.grad``, the
garbage collector during the walk. These tests pin that down with gradient checks.
"""
import gc

import numpy as np
import pytest

import autodiff_nb as torch
from autodiff_nb import autograd, ops, tape


def _f64(*shape, seed=0, requires_grad=False):
    rng = np.random.default_rng(seed)
    return torch.tensor(rng.standard_normal(shape), dtype=torch.float64, requires_grad=requires_grad)


# ------------------------------------------------------------------------ the needs mask
BINARY = {
    "mul": (lambda a, b: a * b, (3, 4), (3, 4)),
    "div": (lambda a, b: a / (b * b + 1), (3, 4), (4,)),
    "sub": (lambda a, b: a - b, (3, 4), (1, 4)),
    "dot": (torch.dot, (5,), (5,)),
    "mv": (torch.mv, (3, 5), (5,)),
    "mm": (torch.mm, (3, 5), (5, 2)),
    "matmul batched": (torch.matmul, (2, 3, 5), (5, 4)),
    "matmul vector @ batch": (torch.matmul, (5,), (2, 5, 3)),
    "matmul batch @ vector": (torch.matmul, (2, 3, 5), (5,)),
    "maximum": (torch.maximum, (3, 4), (3, 4)),
    "minimum": (torch.minimum, (3, 4), (4,)),
}


@pytest.mark.parametrize("which", ["first", "second", "both"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_gradient_of_a_rule_with_one_constant_input_matches_central_differences(name, which):
    fn, shape_a, shape_b = BINARY[name]
    a = _f64(*shape_a, seed=1, requires_grad=which in ("first", "both"))
    b = _f64(*shape_b, seed=2, requires_grad=which in ("second", "both"))
    variables = [t for t in (a, b) if t.requires_grad]

    def f(*vs):
        given = iter(vs)
        return fn(*(next(given) if t.requires_grad else t for t in (a, b)))

    assert autograd.gradcheck(f, variables)
    fn(a, b).sum().backward()
    assert (a.grad is not None) == a.requires_grad and (b.grad is not None) == b.requires_grad


def test_mm_with_a_constant_input_computes_only_the_weight_gradient():
    X, W = np.ones((4, 3)), np.full((3, 2), 2.0)
    g = np.ones((4, 2))
    weight_edge = object()
    grads = ops.RULES["mm"].vjp(ops.F_ARRAY, g, (X, W), None, None, (None, weight_edge))
    assert grads[0] is None  # the g @ W.T of the constant X is never computed
    np.testing.assert_array_equal(grads[1], X.T @ g)


def test_second_derivative_through_a_product_with_a_constant():
    x = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    c = torch.tensor([3.0, 5.0], dtype=torch.float64)
    (gx,) = autograd.grad((x * x * c).sum(), x, create_graph=True)  # 2 c x
    (ggx,) = autograd.grad(gx.sum(), x)
    assert gx.tolist() == [6.0, 20.0] and ggx.tolist() == [6.0, 10.0]


def test_next_functions_still_list_the_constant_input_as_none():
    w = torch.ones(2, 2, requires_grad=True)
    y = torch.ones(3, 2) @ w
    assert y.grad_fn.next_functions[0] == (None, 0)
    assert y.grad_fn.next_functions[1][0].name() == "AccumulateGrad"


# ------------------------------------------------------------------------ promotion fast path
@pytest.mark.parametrize("other, dtype", [(2, torch.float32), (2.5, torch.float32), (True, torch.float32)])
def test_float32_tensor_with_a_python_number_stays_float32(other, dtype):
    x = torch.ones(2, requires_grad=True)
    assert (x * other).dtype is dtype and (x + other).dtype is dtype


def test_mixed_dtypes_still_promote():
    a = torch.ones(2, dtype=torch.float32, requires_grad=True)
    b = torch.ones(2, dtype=torch.float64)
    assert (a * b).dtype is torch.float64
    assert (torch.arange(3) * 2.5).dtype is torch.float32
    (a * b).sum().backward()
    assert a.grad.dtype is torch.float32


# ------------------------------------------------------------------------ in place under no_grad
def test_sgd_step_under_no_grad_updates_values_and_version():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    before = w._version
    with torch.no_grad():
        w -= 0.5 * w.grad
    assert w.tolist() == [0.0, 0.0] and w._version == before + 1
    assert w.is_leaf and w.requires_grad and w.grad_fn is None


def test_sgd_step_then_training_again_gives_the_gradient_at_the_new_point():
    w = torch.tensor([3.0], dtype=torch.float64, requires_grad=True)
    for _ in range(3):
        w.grad = None
        loss = (w * w).sum()
        loss.backward()
        with torch.no_grad():
            w -= 0.25 * w.grad  # w <- w - 0.5 w = w / 2
    assert w.tolist() == [0.375]
    assert autograd.gradcheck(lambda v: (v * v).sum(), [w.detach().requires_grad_()])


def test_in_place_update_of_a_saved_input_under_no_grad_is_caught_at_backward():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with torch.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    assert w.grad is None  # atomic: nothing written


def test_in_place_ops_without_grad_on_plain_tensors():
    x = torch.tensor([1.0, 2.0])
    x += 1
    x *= torch.tensor([2.0, 3.0])
    x /= 2
    x -= torch.tensor(1.0)
    assert x.tolist() == [1.0, 3.5] and x._version == 4
    n = torch.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        n += 1.5


def test_in_place_op_with_grad_mode_on_is_still_recorded():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    y = w * 1.0
    y += w  # recorded: y = 2 w
    y.sum().backward()
    assert w.grad.tolist() == [2.0, 2.0] and y.grad_fn.name() == "AddBackward0"


def test_saved_input_modified_before_it_was_saved_is_fine():
    w = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    x = w * 1.0
    x += 1  # version 1 before the multiply saves it
    y = (x * x).sum()
    y.backward()
    assert w.grad.tolist() == [4.0, 6.0]


# ------------------------------------------------------------------------ .grad writes and the collector
def test_first_grad_write_is_a_private_copy():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    seed = torch.tensor([1.0, 1.0])
    y = x * 1.0
    y.backward(seed)
    x.grad += 1
    assert seed.tolist() == [1.0, 1.0]
    z = x + x * 0.0
    z.backward(seed)
    assert x.grad.tolist() == [3.0, 3.0] and seed.tolist() == [1.0, 1.0]


def test_leaf_root_gradient_is_copied():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    seed = torch.tensor([5.0, 6.0])
    x.backward(seed)
    x.grad.zero_()
    assert seed.tolist() == [5.0, 6.0]


def test_backward_restores_the_garbage_collector_even_when_it_raises():
    assert gc.isenabled()
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        y.backward()  # the graph was freed
    assert gc.isenabled()
    gc.disable()
    try:
        (x * x).sum().backward()
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()


def test_hook_that_raises_leaves_no_gradient_and_the_collector_on():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        y.sum().backward()
    assert x.grad is None and gc.isenabled()
    assert tape.is_grad_enabled()


def test_walk_closed_early_restores_grad_mode():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    steps = tape.walk([y], [np.ones(())])
    next(steps)
    assert not tape.is_grad_enabled()
    steps.close()
    assert tape.is_grad_enabled()


def test_one_gradient_array_sent_to_two_leaves_gives_each_its_own_grad():
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    ((a + b) * 2.0).sum().backward()  # add sends the same fresh array to a and b
    a.grad += 1
    assert a.grad.tolist() == [3.0, 3.0] and b.grad.tolist() == [2.0, 2.0]


def test_gradient_taken_without_copy_is_not_shared_with_the_graph():
    X = torch.ones(3, 2)
    W = torch.tensor([[1.0], [2.0]], requires_grad=True)
    y = X @ W
    y.sum().backward(retain_graph=True)
    W.grad.zero_()
    y.sum().backward(retain_graph=True)
    assert W.grad.tolist() == [[3.0], [3.0]] and y.grad_fn.out_data.tolist() == [[3.0]] * 3


def test_custom_rule_returning_a_saved_array_does_not_alias_grad():
    from autodiff_nb.custom import defvjp, primitive

    @primitive
    def passthrough(x):
        return x * 1.0

    defvjp(passthrough, lambda g, ans, x: ans)  # returns the saved output itself
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = passthrough(x)
    y.backward(torch.ones(2), retain_graph=True)
    x.grad.zero_()
    assert y.tolist() == [1.0, 2.0]


def _spy_on_grad_writes(monkeypatch):
    """Record, for each .grad write, whether the walk handed over its own array (no copy needed)."""
    written = []
    accumulate = tape._accumulate

    def spy(leaf, g, create_graph, private=False):
        written.append(private)
        return accumulate(leaf, g, create_graph, private)

    monkeypatch.setattr(tape, "_accumulate", spy)
    return written


def test_a_weight_gradient_made_by_the_walk_becomes_grad_without_a_copy(monkeypatch):
    written = _spy_on_grad_writes(monkeypatch)
    W = torch.ones(2, 4, requires_grad=True)
    (torch.ones(3, 2) @ W).sum().backward()
    assert written == [True] and W.grad.tolist() == [[3.0] * 4] * 2
    seed = torch.ones(2, 4)
    W.grad = None
    W.backward(seed)  # the root gradient is the caller's array: copied
    assert written == [True, False] and W.grad.array is not seed.array


# ------------------------------------------------------------------------ version counters made on first use
def _modified(fn):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        fn()


def test_saved_output_changed_in_place_is_caught():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    _modified(lambda: y.sum().backward())


def test_saved_output_changed_through_a_detached_alias_is_caught():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = y * 2.0
    y.detach().zero_()
    _modified(lambda: z.sum().backward())


def test_saved_output_changed_after_detach_in_place_is_caught():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.tanh()
    z = y * 2.0
    y.detach_()
    y.mul_(3)
    _modified(lambda: z.sum().backward())


def test_version_counter_counts_from_zero_on_first_look():
    x = torch.tensor([1.0, 2.0])
    y = x * 2.0
    assert y._version == 0 and y.detach()._version is y._version
    y += 1
    assert y._version == 1


def test_bias_gradient_summed_over_the_batch_is_right_and_taken_without_a_copy(monkeypatch):
    written = _spy_on_grad_writes(monkeypatch)
    b = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    x = _f64(4, 3, seed=3)
    ((x + b) * x).sum().backward()
    assert written == [True]
    np.testing.assert_allclose(b.grad.numpy(), x.numpy().sum(axis=0))
    assert autograd.gradcheck(lambda v: ((x + v) * x).sum(), [b.detach().requires_grad_()])


@pytest.mark.parametrize("dim", [0, 1, -1, -2])
def test_log_softmax_along_one_int_dim_matches_numpy(dim):
    x = _f64(3, 4, seed=4)
    expected = x.numpy() - np.log(np.exp(x.numpy()).sum(axis=dim, keepdims=True))
    np.testing.assert_allclose(torch.log_softmax(x, dim=dim).numpy(), expected)
