"""What the engine promises where it takes short cuts, checked from the outside.

The engine skips work that cannot change a result (a gradient nobody needs, promotion with nothing to
promote, a copy of a gradient array nobody else holds, the garbage collector during the walk). These
tests pin down the promises behind each short cut through the public surface only: gradients still
match central differences, ``.grad`` never shares memory with an array the user holds, and a backward
that raises leaves grad mode, the collector and every ``.grad`` as they were.
"""
import gc

import numpy as np
import pytest

import autodiff_nb as ad
from autodiff_nb import autograd, ops, tape
from autodiff_nb.custom import defvjp, primitive
from conftest import close, f64, randn64


# ------------------------------------------------------------------------ gradients nobody needs
BINARY = {
    "mul": (lambda a, b: a * b, (3, 4), (3, 4)),
    "div": (lambda a, b: a / (b * b + 1), (3, 4), (4,)),
    "sub": (lambda a, b: a - b, (3, 4), (1, 4)),
    "dot": (ad.dot, (5,), (5,)),
    "mv": (ad.mv, (3, 5), (5,)),
    "mm": (ad.mm, (3, 5), (5, 2)),
    "matmul batched": (ad.matmul, (2, 3, 5), (5, 4)),
    "matmul vector @ batch": (ad.matmul, (5,), (2, 5, 3)),
    "matmul batch @ vector": (ad.matmul, (2, 3, 5), (5,)),
    "maximum": (ad.maximum, (3, 4), (3, 4)),
    "minimum": (ad.minimum, (3, 4), (4,)),
}


@pytest.mark.parametrize("which", ["first", "second", "both"])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_gradient_of_a_rule_with_one_constant_input_matches_central_differences(name, which):
    fn, shape_a, shape_b = BINARY[name]
    a = randn64(*shape_a, seed=1, requires_grad=which in ("first", "both"))
    b = randn64(*shape_b, seed=2, requires_grad=which in ("second", "both"))
    variables = [t for t in (a, b) if t.requires_grad]

    def f(*vs):
        given = iter(vs)
        return fn(*(next(given) if t.requires_grad else t for t in (a, b)))

    assert autograd.gradcheck(f, variables)
    fn(a, b).sum().backward()
    assert (a.grad is not None) == a.requires_grad and (b.grad is not None) == b.requires_grad


def test_the_vjp_of_an_input_that_needs_no_gradient_is_never_run():
    @primitive
    def scale(c, w):
        return c * w

    def never(g, ans, c, w):
        raise AssertionError("the VJP of a constant input ran")

    defvjp(scale, never, lambda g, ans, c, w: g * c)
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    scale(ad.tensor([3.0, 4.0]), w).sum().backward()
    assert w.grad.tolist() == [3.0, 4.0]


def test_mm_with_a_constant_input_gives_the_weight_gradient_and_nothing_for_the_constant():
    X, W = ad.ones(4, 3), ad.full((3, 2), 2.0, requires_grad=True)
    g = ad.tensor(np.arange(8.0).reshape(4, 2), dtype=ad.float32)
    (X @ W).backward(g)
    assert X.grad is None
    close(W.grad, X.numpy().T @ g.numpy())


def test_second_derivative_through_a_product_with_a_constant():
    x = f64([1.0, 2.0])
    c = f64([3.0, 5.0], requires_grad=False)
    (gx,) = autograd.grad((x * x * c).sum(), x, create_graph=True)  # 2 c x
    (ggx,) = autograd.grad(gx.sum(), x)
    assert gx.tolist() == [6.0, 20.0] and ggx.tolist() == [6.0, 10.0]


def test_next_functions_still_list_the_constant_input_as_none():
    w = ad.ones(2, 2, requires_grad=True)
    y = ad.ones(3, 2) @ w
    assert y.grad_fn.next_functions[0] == (None, 0)
    assert y.grad_fn.next_functions[1][0].name() == "AccumulateGrad"


def test_weight_and_bias_gradients_summed_over_the_batch_are_right():
    W = ad.ones(2, 4, requires_grad=True)
    (ad.ones(3, 2) @ W).sum().backward()
    assert W.grad.tolist() == [[3.0] * 4] * 2
    b = ad.zeros(3, dtype=ad.float64, requires_grad=True)
    x = randn64(4, 3, seed=3)
    ((x + b) * x).sum().backward()
    close(b.grad, x.numpy().sum(axis=0))
    assert autograd.gradcheck(lambda v: ((x + v) * x).sum(), [b.detach().requires_grad_()])


# ------------------------------------------------------------------------ promotion with nothing to promote
@pytest.mark.parametrize("other", [2, 2.5, True])
def test_float32_tensor_with_a_python_number_stays_float32(other):
    x = ad.ones(2, requires_grad=True)
    assert (x * other).dtype is ad.float32 and (x + other).dtype is ad.float32


def test_mixed_dtypes_still_promote():
    a = ad.ones(2, dtype=ad.float32, requires_grad=True)
    b = ad.ones(2, dtype=ad.float64)
    assert (a * b).dtype is ad.float64
    assert (ad.arange(3) * 2.5).dtype is ad.float32
    (a * b).sum().backward()
    assert a.grad.dtype is ad.float32


@pytest.mark.parametrize("dim", [0, 1, -1, -2])
def test_log_softmax_along_one_int_dim_matches_numpy(dim):
    x = randn64(3, 4, seed=4)
    expected = x.numpy() - np.log(np.exp(x.numpy()).sum(axis=dim, keepdims=True))
    close(ad.log_softmax(x, dim=dim), expected)


# ------------------------------------------------------------------------ in place with nothing to record
def test_sgd_step_then_training_again_gives_the_gradient_at_the_new_point():
    w = f64([3.0])
    for _ in range(3):
        w.grad = None
        (w * w).sum().backward()
        with ad.no_grad():
            w -= 0.25 * w.grad  # w <- w - 0.5 w = w / 2
    assert w.tolist() == [0.375]
    assert autograd.gradcheck(lambda v: (v * v).sum(), [w.detach().requires_grad_()])


def test_in_place_update_of_a_saved_input_under_no_grad_is_caught_at_backward():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with ad.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.backward()
    assert w.grad is None  # atomic: nothing written


def test_in_place_ops_without_grad_on_plain_tensors():
    x = ad.tensor([1.0, 2.0])
    x += 1
    x *= ad.tensor([2.0, 3.0])
    x /= 2
    x -= ad.tensor(1.0)
    assert x.tolist() == [1.0, 3.5] and x._version == 4
    n = ad.tensor([1, 2])
    with pytest.raises(RuntimeError, match="can't be cast"):
        n += 1.5


def test_in_place_op_with_grad_mode_on_is_still_recorded():
    w = ad.tensor([1.0, 2.0], requires_grad=True)
    y = w * 1.0
    y += w  # recorded: y = 2 w
    y.sum().backward()
    assert w.grad.tolist() == [2.0, 2.0] and y.grad_fn.name() == "AddBackward0"


def test_saved_input_modified_before_it_was_saved_is_fine():
    w = f64([1.0, 2.0])
    x = w * 1.0
    x += 1  # version 1 before the multiply saves it
    (x * x).sum().backward()
    assert w.grad.tolist() == [4.0, 6.0]


# ------------------------------------------------------------------------ .grad owns its memory
# Each case runs a backward in which some array the user still holds could have become x.grad
# without a copy. It returns (x, the gradient x must get, the arrays the user holds).
def _through(f, seed_shape, expected):
    def case():
        x = ad.tensor([1.0, 2.0], requires_grad=True)
        seed = ad.ones(*seed_shape)
        f(x).backward(seed)
        return x, expected, [seed.numpy()]

    return case


def _hook_on_output():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    kept = ad.tensor([7.0, 8.0])
    y = x + 0  # add hands the gradient on unchanged: the hook's tensor would reach x as it is
    y.register_hook(lambda g: kept)
    y.sum().backward()
    return x, [7.0, 8.0], [kept.numpy()]


def _hook_on_leaf():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    kept = ad.tensor([7.0, 8.0])
    x.register_hook(lambda g: kept)
    (x * 2.0).sum().backward()
    return x, [7.0, 8.0], [kept.numpy()]


def _custom_vjp_returning(vjp, expected):
    def case():
        @primitive
        def same(a):
            return a.copy()

        defvjp(same, vjp)
        x = ad.tensor([1.0, 2.0], requires_grad=True)
        seed = ad.tensor([3.0, 4.0])
        y = same(x)
        y.backward(seed)
        return x, expected, [x.detach().numpy(), y.detach().numpy(), seed.numpy()]

    return case


def _sum_of_two_leaves():
    x, other = ad.tensor([1.0, 2.0], requires_grad=True), ad.tensor([3.0, 4.0], requires_grad=True)
    (x + other).sum().backward()  # add sends one array to both leaves
    return x, [1.0, 1.0], [other.grad.numpy()]


def _retained_non_leaf():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    seed = ad.ones(2)
    y = x + 0
    y.retain_grad()
    y.backward(seed)
    return x, [1.0, 1.0], [seed.numpy(), y.grad.numpy()]


def _backward_with_inputs():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    seed = ad.ones(2)
    (x + 0).backward(seed, inputs=[x])
    return x, [1.0, 1.0], [seed.numpy()]


def _second_backward_adds_into_grad():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    first, second = ad.ones(2), ad.full((2,), 2.0)
    (x + 0).backward(first)
    (x + 0).backward(second)
    return x, [3.0, 3.0], [first.numpy(), second.numpy()]


OWNERSHIP = {
    "a seed passed as gradient= through x * 1": _through(lambda x: x * 1.0, (2,), [1.0, 1.0]),
    "a seed through x + 0 (add passes it on)": _through(lambda x: x + 0, (2,), [1.0, 1.0]),
    "a seed given to the leaf itself": _through(lambda x: x, (2,), [1.0, 1.0]),
    "a seed through x.clone()": _through(lambda x: x.clone(), (2,), [1.0, 1.0]),
    "a view of the seed from reshape's backward": _through(lambda x: x.reshape(2, 1), (2, 1), [1.0, 1.0]),
    "a view of the seed from t()'s backward": _through(lambda x: x.reshape(1, 2).t(), (2, 1), [1.0, 1.0]),
    "expand's backward": _through(lambda x: x.expand(3, 2), (3, 2), [3.0, 3.0]),
    "a hook on the output returning a tensor the user keeps": _hook_on_output,
    "a hook on the leaf returning a tensor the user keeps": _hook_on_leaf,
    "a custom VJP returning its input": _custom_vjp_returning(lambda g, ans, a: a, [1.0, 2.0]),
    "a custom VJP returning the output": _custom_vjp_returning(lambda g, ans, a: ans, [1.0, 2.0]),
    "a custom VJP returning the incoming gradient": _custom_vjp_returning(lambda g, ans, a: g, [3.0, 4.0]),
    "one gradient array sent to two leaves (x + other)": _sum_of_two_leaves,
    "retain_grad on the output": _retained_non_leaf,
    "backward(inputs=[x])": _backward_with_inputs,
    "a second backward adding into .grad": _second_backward_adds_into_grad,
}


@pytest.mark.parametrize("case", OWNERSHIP)
def test_grad_never_shares_memory_with_an_array_the_user_holds(case):
    # Stricter than PyTorch, whose .grad may be a view of the seed (x.reshape(2, 1).backward(seed)).
    x, expected, held = OWNERSHIP[case]()
    close(x.grad, expected)
    for array in held:
        assert not np.shares_memory(x.grad.numpy(), array)
    before = [array.copy() for array in held]
    x.grad.add_(100.0)
    for array, value in zip(held, before):
        np.testing.assert_array_equal(array, value)


def _seeded(f, seed_shape=(2,)):
    """A case: f(x) is the output, the seed the user passes is ones, and the user holds the seed."""
    def case(m, x):
        seed = m.ones(*seed_shape)
        return f(x), seed, [seed]

    return case


def _leaf_hook_returning_a_kept_tensor(m, x):
    kept, seed = m.full((2,), 7.0), m.ones(2)
    x.register_hook(lambda g: kept)
    return x * 1.0, seed, [seed, kept]


CREATE_GRAPH = {
    "the seed given to the leaf itself": _seeded(lambda x: x),
    "the seed through x + 0": _seeded(lambda x: x + 0),
    "the seed through x.clone()": _seeded(lambda x: x.clone()),
    "a view of the seed from reshape's backward": _seeded(lambda x: x.reshape(2, 1), (2, 1)),
    "a hook on the leaf returning a tensor the user keeps": _leaf_hook_returning_a_kept_tensor,
}


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.parametrize("case", CREATE_GRAPH)
def test_under_create_graph_grad_shares_no_memory_with_the_users_tensors_like_pytorch(torch, case):
    for m in (ad, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        out, seed, held = CREATE_GRAPH[case](m, x)
        out.backward(seed, create_graph=True)
        before = [t.tolist() for t in held]
        for t in held:
            assert x.grad is not t and not np.shares_memory(x.grad.detach().numpy(), t.numpy()), m.__name__
        x.grad.detach().add_(100.0)
        assert [t.tolist() for t in held] == before, m.__name__
        x.grad = None  # a recorded x.grad would keep x alive through a cycle (PyTorch warns of it)


def test_changing_grad_leaves_the_recorded_values_alone():
    X = ad.ones(3, 2)
    W = ad.tensor([[1.0], [2.0]], requires_grad=True)
    y = X @ W
    y.sum().backward(retain_graph=True)
    W.grad.zero_()
    y.sum().backward(retain_graph=True)
    assert W.grad.tolist() == [[3.0], [3.0]] and y.tolist() == [[3.0]] * 3


@pytest.mark.torch
def test_accumulating_keeps_the_same_grad_tensor_like_pytorch(torch):
    for m in (ad, torch):
        x = m.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        first = x.grad
        (x * 3.0).sum().backward()
        assert x.grad is first and first.tolist() == [5.0, 7.0], m.__name__


# ------------------------------------------------------------------------ a backward leaves things as they were
def test_backward_restores_the_garbage_collector_even_when_it_raises():
    assert gc.isenabled()
    x = ad.tensor([1.0, 2.0], requires_grad=True)
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


def test_hook_that_raises_leaves_no_gradient_the_collector_on_and_grad_mode_on():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    y.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        y.sum().backward()
    assert x.grad is None and gc.isenabled() and ad.is_grad_enabled()


@pytest.mark.torch
def test_grad_mode_inside_hooks_and_after_backward_matches_pytorch(torch):
    seen = {}
    for m in (ad, torch):
        modes = seen[m.__name__] = []
        x = m.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2.0
        y.register_hook(lambda g: modes.append(("hook on y", m.is_grad_enabled())))
        x.register_hook(lambda g: modes.append(("hook on x", m.is_grad_enabled())))
        s = y.sum()
        s.backward(retain_graph=True)
        modes.append(("after", m.is_grad_enabled()))
        with m.no_grad():
            s.backward(retain_graph=True)
            modes.append(("after, under no_grad", m.is_grad_enabled()))
        (g,) = m.autograd.grad(s, x, create_graph=True)
        modes.append(("after create_graph", m.is_grad_enabled()))
        broken = x * 3.0
        broken.register_hook(lambda g: 1 / 0)
        total = broken.sum()
        with m.no_grad():
            with pytest.raises(ZeroDivisionError):
                total.backward(retain_graph=True)
            modes.append(("after a raising hook, under no_grad", m.is_grad_enabled()))
        with pytest.raises(ZeroDivisionError):
            total.backward()
        modes.append(("after a raising hook", m.is_grad_enabled()))
    assert seen["autodiff_nb"] == seen["torch"]


def test_stepping_through_the_walk_and_stopping_early_changes_nothing():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    steps = tape.walk([y], [np.ones(())], ops.NumpyMath)
    node, grad, sent = next(steps)
    assert node is y.grad_fn and grad.tolist() == 1.0 and [slot for slot, _, _ in sent] == [0]
    assert ad.is_grad_enabled() and gc.isenabled()
    steps.close()
    assert ad.is_grad_enabled() and gc.isenabled() and x.grad is None
    y.backward()  # nothing was freed: the real backward still works
    assert x.grad.tolist() == [2.0, 4.0]


# ------------------------------------------------------------------------ version counters
def _modified(fn):
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        fn()


def test_saved_output_changed_in_place_is_caught():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.add_(1)
    _modified(lambda: y.sum().backward())


def test_saved_output_changed_through_a_detached_alias_is_caught():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    z = y * 2.0
    y.detach().zero_()
    _modified(lambda: z.sum().backward())


def test_saved_output_changed_after_detach_in_place_is_caught():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    y = x.tanh()
    z = y * 2.0
    y.detach_()
    y.mul_(3)
    _modified(lambda: z.sum().backward())


def test_version_counter_counts_from_zero_and_is_shared_with_detached_aliases():
    x = ad.tensor([1.0, 2.0])
    y = x * 2.0
    alias = y.detach()
    assert y._version == 0 and alias._version == 0
    y += 1
    assert y._version == 1 and alias._version == 1
