"""Recording and the backward walk: backward's options, hooks, grad mode, autograd.grad, second
derivatives, the functional API, gradcheck, in-place ops and the version counter, long chains, and the
release of saved values. Expected values are closed forms (derivatives worked out by hand).
"""
import gc
import math
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest

import autodiff_nb as ad
from autodiff_nb import func, lax, ops
from conftest import chapter_control_flow, close, f64


# ----------------------------------------------------------------------------------- backward's options
def test_grad_is_none_until_the_first_backward_then_accumulates():
    x = ad.tensor([1., 2., 3.], requires_grad=True)
    assert x.grad is None
    (x * x).sum().backward()
    assert x.grad.tolist() == [2., 4., 6.]
    (3 * x).sum().backward()
    assert x.grad.tolist() == [5., 7., 9.]
    x.grad = None  # assignable, as when an optimizer clears it
    x.sum().backward()
    assert x.grad.tolist() == [1., 1., 1.]
    x.grad.zero_()
    assert x.grad.tolist() == [0., 0., 0.]


def test_backward_with_a_gradient_weights_each_output():
    x = ad.tensor([1., 2., 3.], requires_grad=True)
    y = x * x
    y.backward(gradient=ad.tensor([1., 0.5, 0.]))
    assert x.grad.tolist() == [2., 2., 0.]
    x2 = ad.tensor([1., 2.], requires_grad=True)
    (x2 * 3).sum().backward(ad.tensor(2.))  # a 0-d gradient for a 0-d output scales everything
    assert x2.grad.tolist() == [6., 6.]


def test_autograd_backward_takes_several_outputs_with_their_gradients():
    x = ad.tensor([1., 2.], requires_grad=True)
    ad.autograd.backward([(x * x).sum(), x * 3], [None, ad.tensor([1., 10.])])
    assert x.grad.tolist() == [2. + 3., 4. + 30.]


def test_second_backward_fails_where_values_were_saved_and_works_with_retain_graph():
    x = ad.tensor([1., 2.], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()  # the graph was kept once: this one works and adds up
    assert x.grad.tolist() == [4., 8.]
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward()
    assert x.grad.tolist() == [4., 8.]  # a failed backward writes nothing


def test_second_backward_through_nodes_that_saved_nothing_succeeds_and_accumulates():
    x = ad.tensor([1., 2.], requires_grad=True)
    y = (x + 1).sum()  # AddBackward0 and SumBackward0 save no values, as in PyTorch
    y.backward()
    y.backward()
    assert x.grad.tolist() == [2., 2.]
    z = (-x).reshape(2, 1).T.sum()
    z.backward()
    z.backward()
    assert x.grad.tolist() == [0., 0.]


def test_create_graph_records_the_backward_so_the_gradient_has_a_grad_fn():
    x = f64(2.)
    y = x ** 3
    y.backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    close(x.grad, 12.)  # 3 x^2
    g = x.grad
    x.grad = None
    g.backward()
    close(x.grad, 12.)  # 6 x


def test_backward_inputs_fills_only_the_listed_tensors():
    x = ad.tensor([1., 2.], requires_grad=True)
    w = ad.tensor([3., 4.], requires_grad=True)
    (x * w).sum().backward(inputs=[x])
    assert x.grad.tolist() == [3., 4.] and w.grad is None
    (x * w).sum().backward(inputs=w)
    assert w.grad.tolist() == [1., 2.] and x.grad.tolist() == [3., 4.]


def test_backward_inputs_can_name_a_non_leaf():
    x = ad.tensor([1., 2.], requires_grad=True)
    z = x * 3
    (z * z).sum().backward(inputs=[z])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert z.grad.tolist() == [6., 12.]
    assert x.grad is None
    x2 = ad.tensor([1., 2.], requires_grad=True)
    z2 = x2 * 3
    z2.retain_grad()  # retained and listed: still written once
    (z2 * z2).sum().backward(inputs=[z2])
    assert z2.grad.tolist() == [6., 12.]


# ----------------------------------------------------------------------------------- retain_grad and hooks
def test_retain_grad_keeps_a_non_leaf_gradient():
    x = ad.tensor([1., 2.], requires_grad=True)
    z = x * 2
    z.retain_grad()
    assert z.retains_grad
    (z * z).sum().backward()
    assert z.grad.tolist() == [4., 8.]  # 2 z
    assert x.grad.tolist() == [8., 16.]


def test_reading_grad_of_a_non_leaf_warns_and_gives_none():
    x = ad.tensor([1., 2.], requires_grad=True)
    z = x * 2
    z.sum().backward()
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert z.grad is None


def test_register_hook_on_a_leaf_can_replace_its_gradient():
    x = ad.tensor([1., 2.], requires_grad=True)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g.tolist()) or g * 10)
    (x * x).sum().backward()
    assert seen == [[2., 4.]] and x.grad.tolist() == [20., 40.]
    handle.remove()
    x.grad = None
    (x * x).sum().backward()
    assert seen == [[2., 4.]] and x.grad.tolist() == [2., 4.]


def test_register_hook_on_a_non_leaf_changes_what_flows_on():
    x = ad.tensor([1., 2.], requires_grad=True)
    z = x * 3
    seen = []
    z.register_hook(lambda g: seen.append(g.tolist()))  # returns None: observe only
    z.register_hook(lambda g: g * 0.5)
    (z * z).sum().backward()
    assert seen == [[6., 12.]]
    assert x.grad.tolist() == [9., 18.]  # 3 * 0.5 * 2 z


def test_hooks_and_retain_grad_need_a_tensor_that_requires_grad():
    c = ad.tensor([1., 2.])
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        c.register_hook(lambda g: g)
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        c.retain_grad()


# ----------------------------------------------------------------------------------- grad mode
def test_no_grad_enable_grad_and_set_grad_enabled_as_context_managers():
    x = ad.tensor([1., 2.], requires_grad=True)
    with ad.no_grad():
        assert not ad.is_grad_enabled()
        y = x * 2
        with ad.enable_grad():
            z = x * 2
        with ad.set_grad_enabled(True):
            w = x * 2
    assert ad.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and w.requires_grad
    with ad.set_grad_enabled(False):
        v = x * 2
    assert not v.requires_grad and ad.is_grad_enabled()


def test_set_grad_enabled_called_bare_switches_at_once():
    x = ad.tensor([1., 2.], requires_grad=True)
    ad.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        ad.set_grad_enabled(True)
    assert (x * 2).requires_grad


def test_grad_mode_objects_work_as_decorators():
    x = ad.tensor([1., 2.], requires_grad=True)

    @ad.no_grad()
    def frozen(t):
        return t * 2

    @ad.enable_grad()
    def recorded(t):
        return t * 2

    @ad.set_grad_enabled(False)
    def also_frozen(t):
        return t * 2

    assert ad.is_grad_enabled()  # decorating with set_grad_enabled(False) left the mode alone
    assert not frozen(x).requires_grad and not also_frozen(x).requires_grad
    with ad.no_grad():
        assert recorded(x).requires_grad
    assert frozen.__name__ == "frozen"


def test_grad_mode_is_restored_after_an_exception():
    with pytest.raises(ValueError):
        with ad.no_grad():
            raise ValueError("boom")
    assert ad.is_grad_enabled()


# ----------------------------------------------------------------------------------- detach and friends
def test_detach_shares_values_but_cuts_the_gradient():
    x = ad.tensor([1., 2.], requires_grad=True)
    y = x * x
    u = y.detach()
    assert not u.requires_grad and u.grad_fn is None and u.is_leaf
    (u * x).sum().backward()
    assert x.grad.tolist() == u.tolist() == [1., 4.]


def test_detach_in_place_and_requires_grad_in_place():
    x = ad.tensor([1., 2.], requires_grad=True)
    y = x * 2
    assert y.detach_() is y
    assert y.is_leaf and not y.requires_grad and y.grad_fn is None
    c = ad.tensor([1., 2.])
    assert c.requires_grad_() is c and c.requires_grad and c.is_leaf
    c.requires_grad_(False)
    assert not c.requires_grad
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        (x * 2).requires_grad_(False)


# ----------------------------------------------------------------------------------- autograd.grad
def test_autograd_grad_returns_a_tuple_and_leaves_grad_alone():
    x = f64([1., 2.])
    w = f64([3., 4.])
    gx, gw = ad.autograd.grad((x * w).sum(), [x, w])
    close(gx, [3., 4.])
    close(gw, [1., 2.])
    assert x.grad is None and w.grad is None
    (g,) = ad.autograd.grad((x ** 2).sum(), x)
    close(g, [2., 4.])


def test_autograd_grad_with_grad_outputs_and_several_outputs():
    x = f64([1., 2.])
    (g,) = ad.autograd.grad(x * 3, x, grad_outputs=ad.tensor([1., 2.], dtype=ad.float64))
    close(g, [3., 6.])
    (g,) = ad.autograd.grad([(x * 2).sum(), (x * x).sum()], x)
    close(g, [2. + 2., 2. + 4.])


def test_autograd_grad_allow_unused():
    x, y = f64([1., 2.]), f64([3.])
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        ad.autograd.grad((x * 2).sum(), [x, y])
    gx, gy = ad.autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
    close(gx, [2., 2.])
    assert gy is None


def test_autograd_grad_of_an_intermediate():
    x = f64([1., 2.])
    y = x * 2
    (g,) = ad.autograd.grad((y * y).sum(), y)
    close(g, [4., 8.])  # 2 y


# ----------------------------------------------------------------------------------- higher derivatives
def test_second_and_third_derivative_of_sin():
    xs = np.linspace(-3, 3, 7)
    x = f64(xs)
    (d1,) = ad.autograd.grad(ad.sin(x).sum(), x, create_graph=True)
    (d2,) = ad.autograd.grad(d1.sum(), x, create_graph=True)
    (d3,) = ad.autograd.grad(d2.sum(), x)
    close(d1, np.cos(xs))
    close(d2, -np.sin(xs))
    close(d3, -np.cos(xs))


def test_derivatives_of_a_cubic():
    x = f64(2.)
    (d1,) = ad.autograd.grad(x ** 3, x, create_graph=True)
    (d2,) = ad.autograd.grad(d1, x, create_graph=True)
    (d3,) = ad.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (12., 12., 6.)  # 3x^2, 6x, 6 at x = 2


def test_hessian_vector_product_of_a_quadratic_form():
    a = np.array([[2., 1., 0.], [0., 3., 1.], [1., 0., 4.]])
    A = ad.tensor(a, dtype=ad.float64)
    x = f64([1., -1., 2.])
    v = ad.tensor([0.5, 1., -2.], dtype=ad.float64)
    f = x @ (A @ x)  # x^T A x: gradient (A + A^T) x, Hessian A + A^T
    (g,) = ad.autograd.grad(f, x, create_graph=True)
    close(g, (a + a.T) @ x.detach().numpy())
    (hv,) = ad.autograd.grad((g * v).sum(), x)
    close(hv, (a + a.T) @ v.numpy())


def test_hessian_vector_product_of_a_nonlinear_function():
    xs = np.array([0.3, -0.7, 1.1])
    x = f64(xs)
    v = ad.tensor([1., 2., 3.], dtype=ad.float64)
    f = (ad.exp(x) * ad.sin(x)).sum() + (x[0] * x[1] * x[2])
    (g,) = ad.autograd.grad(f, x, create_graph=True)
    (hv,) = ad.autograd.grad(g @ v, x)
    diag = 2 * np.exp(xs) * np.cos(xs)  # (e^x sin x)'' = 2 e^x cos x
    hessian = np.diag(diag) + np.array([[0, xs[2], xs[1]], [xs[2], 0, xs[0]], [xs[1], xs[0], 0]])
    close(hv, hessian @ v.numpy())


def test_second_derivative_through_many_ops():
    # f(x) = tanh(x)^2 + sigmoid(x) + sqrt(x) + log(x) / x, f'' in closed form
    xs = np.array([0.5, 1.5, 2.5])
    x = f64(xs)
    f = ad.tanh(x) ** 2 + ad.sigmoid(x) + ad.sqrt(x) + ad.log(x) / x
    (d1,) = ad.autograd.grad(f.sum(), x, create_graph=True)
    (d2,) = ad.autograd.grad(d1.sum(), x)
    t, s = np.tanh(xs), 1 / (1 + np.exp(-xs))
    expected = (2 * (1 - t ** 2) ** 2 - 4 * t ** 2 * (1 - t ** 2) + s * (1 - s) * (1 - 2 * s)
                - 0.25 * xs ** -1.5 + (2 * np.log(xs) - 3) / xs ** 3)
    close(d2, expected, tol=1e-9)


# ----------------------------------------------------------------------------------- the functional API
def test_func_grad_of_a_scalar_function():
    xs = np.array([0.5, 1., 2.])
    g = func.grad(lambda x: (x ** 3).sum())(ad.tensor(xs, dtype=ad.float64))
    close(g, 3 * xs ** 2)
    assert not g.requires_grad
    close(func.grad(lambda x: x * x)(3.0), 6.)


def test_func_grad_composes_for_higher_derivatives():
    d2 = func.grad(func.grad(ad.sin))
    d3 = func.grad(d2)
    for v in (0.3, 1.2, -2.):
        close(d2(ad.tensor(v, dtype=ad.float64)), -math.sin(v))
        close(d3(ad.tensor(v, dtype=ad.float64)), -math.cos(v))


def test_func_value_and_grad_argnums_and_aux():
    def f(x, y):
        return (x * y).sum() + (y ** 2).sum()

    x = ad.tensor([1., 2.], dtype=ad.float64)
    y = ad.tensor([3., 4.], dtype=ad.float64)
    value, g = func.value_and_grad(f)(x, y)
    close(value, 1 * 3 + 2 * 4 + 9 + 16)
    close(g, [3., 4.])
    gx, gy = func.grad(f, argnums=(0, 1))(x, y)
    close(gx, [3., 4.])
    close(gy, [1. + 6., 2. + 8.])
    (value, aux), g = func.value_and_grad(lambda t: ((t ** 2).sum(), "aux"), has_aux=True)(x)
    assert aux == "aux"
    close(value, 5.)
    close(g, [2., 4.])
    assert x.grad is None and not x.requires_grad  # the caller's tensors are not touched


def test_func_grad_insists_on_a_scalar_output():
    with pytest.raises(TypeError, match="Gradient only defined for scalar-output functions"):
        func.grad(lambda x: x * 2)(ad.tensor([1., 2.]))


def test_func_jacobian_and_hessian():
    a = np.array([[1., 2., 3.], [0., -1., 4.]])
    A = ad.tensor(a, dtype=ad.float64)
    x = ad.tensor([0.5, -1., 2.], dtype=ad.float64)
    close(func.jacobian(lambda t: A @ t)(x), a)
    close(func.jacobian(lambda t: t ** 2)(x), np.diag(2 * x.numpy()))
    assert tuple(func.jacobian(lambda t: A @ t)(x).shape) == (2, 3)
    close(func.hessian(lambda t: (t ** 3).sum())(x), np.diag(6 * x.numpy()))
    sym = a.T @ a
    S = ad.tensor(sym, dtype=ad.float64)
    close(func.hessian(lambda t: t @ (S @ t))(x), 2 * sym)


def test_stop_gradient_treats_a_value_as_a_constant():
    assert lax.stop_gradient is func.stop_gradient
    g = func.grad(lambda x: (x * func.stop_gradient(x)).sum())(ad.tensor([3., 4.], dtype=ad.float64))
    close(g, [3., 4.])  # d/dx (x * c) = c, not 2x
    g = func.grad(lambda x: (lax.stop_gradient(x ** 2) + x).sum())(ad.tensor([3.], dtype=ad.float64))
    close(g, [1.])
    assert func.stop_gradient(2.5) == 2.5


# ----------------------------------------------------------------------------------- gradcheck
def test_gradcheck_passes_on_correct_gradients():
    x = f64([0.5, -1.2, 2.0])
    w = f64([[1., 2., 0.5], [0., -1., 3.]])
    assert ad.autograd.gradcheck(lambda x, w: (w @ x.tanh()).softmax(0), (x, w))
    report = ad.autograd.gradcheck(lambda x: x.exp().sum(), (x,), report=True)
    assert report.passed and "PASS" in report.text()


def _wrong_square(x):
    # a rule whose vector-Jacobian product forgets the factor 2: d(x^2)/dx written as x
    rule = ops.Rule("WrongSquareBackward0", lambda a: a * a, a=(lambda xp, g, a: g * a, "{g} · {a}"))
    return ops.apply(rule, x)


def test_gradcheck_fails_with_a_report_of_the_worst_element():
    x = f64([1., 3., 2.])
    with pytest.raises(ad.autograd.GradcheckError) as info:
        ad.autograd.gradcheck(_wrong_square, (x,))
    text = str(info.value)
    assert text.splitlines()[0] == "Jacobian mismatch for output 0 with respect to input 0, at element (1,):"
    assert "FAIL" in text
    assert ad.autograd.gradcheck(_wrong_square, (x,), raise_exception=False) is False
    report = ad.autograd.gradcheck(_wrong_square, (x,), raise_exception=False, report=True)
    worst = report.worst[0]
    assert worst.element == (1,) and worst.analytic == pytest.approx(3.) and worst.numeric == pytest.approx(6.)
    assert report.max_error == pytest.approx(3.)
    assert x.grad is None  # the caller's inputs are left as they were


# ----------------------------------------------------------------------------------- control flow
@pytest.mark.parametrize("shape", [(), (3,), (2, 2)])
@pytest.mark.parametrize("sign", [1., -1.])
def test_gradient_through_python_control_flow_is_piecewise_linear(shape, sign):
    """f is linear in a on each branch, so a.grad (for a summed output) is d.sum() / a.sum() per element."""
    rng = np.random.default_rng(7)
    values = sign * rng.uniform(0.1, 1.0, size=shape)
    a = f64(values)
    d = chapter_control_flow(a)
    d.sum().backward()
    k = d.detach().numpy() / values  # f(a) = k * a with k = 2^n (times 100 on the negative branch)
    assert np.allclose(k, k.reshape(-1)[0])
    close(a.grad, np.full(shape, k.reshape(-1)[0]))


# ----------------------------------------------------------------------------------- in-place ops
def test_sgd_step_under_no_grad_updates_the_leaf_in_place():
    w = ad.tensor([1., 2.], requires_grad=True)
    (w * w).sum().backward()
    before = w._version
    with ad.no_grad():
        w -= 0.1 * w.grad
    assert w.tolist() == pytest.approx([0.8, 1.6])
    assert w.is_leaf and w.requires_grad and w.grad_fn is None
    assert w._version == before + 1


def test_every_in_place_op_under_no_grad():
    w = ad.tensor([1., 2., 3.], requires_grad=True)
    with ad.no_grad():
        w.add_(1)
        assert w.tolist() == [2., 3., 4.]
        w.sub_(ad.tensor([1., 1., 1.]))
        w.mul_(2)
        w.div_(4)
        assert w.tolist() == [0.5, 1., 1.5]
        w += 1
        w -= 0.5
        w *= 4
        w /= 2
        assert w.tolist() == [2., 3., 4.]
        w[0] = 10.
        w[1:] = ad.tensor([20., 30.])
        assert w.tolist() == [10., 20., 30.]
        w.copy_(ad.tensor([1., 1., 1.]))
        w.fill_(7.)
        assert w.tolist() == [7., 7., 7.]
        w.zero_()
    assert w.tolist() == [0., 0., 0.] and w.is_leaf and w.requires_grad
    (w * 3).sum().backward()
    assert w.grad.tolist() == [3., 3., 3.]


def test_in_place_ops_on_a_leaf_that_requires_grad_are_refused_outside_no_grad():
    w = ad.tensor([1., 2.], requires_grad=True)
    for change in (lambda: w.add_(1), lambda: w.zero_(), lambda: w.mul_(2), lambda: w.fill_(1.),
                   lambda: w.copy_(ad.tensor([0., 0.]))):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
            change()
    assert w.tolist() == [1., 2.] and w._version == 0


def test_in_place_ops_on_non_leaves_are_recorded():
    x = f64([1., 2.])
    y = x * 2  # dy/dx = 2
    y.add_(1)  # y = 2x + 1
    y.mul_(x)  # y = 2x^2 + x
    y.sub_(x)  # y = 2x^2
    y.div_(2)  # y = x^2
    y += x  # y = x^2 + x
    y *= 3  # y = 3x^2 + 3x
    y -= 1
    y /= 3  # y = x^2 + x - 1/3
    assert y.grad_fn.name() == "DivBackward0" and not y.is_leaf
    close(y, [1 + 1 - 1 / 3, 4 + 2 - 1 / 3])
    y.sum().backward()
    close(x.grad, [2 * 1 + 1, 2 * 2 + 1])


def test_item_assignment_on_a_non_leaf_routes_gradients():
    x = f64([1., 2., 3.])
    v = f64(5.)
    y = x * 1
    y[1] = v * v  # y = [x0, v^2, x2]
    (y * ad.tensor([1., 2., 3.], dtype=ad.float64)).sum().backward()
    close(x.grad, [1., 0., 3.])
    close(v.grad, 2 * 2 * 5.)


def test_item_assignment_of_a_tensor_into_a_constant_starts_a_graph():
    v = f64([4., 5.])
    y = ad.zeros(3, dtype=ad.float64)
    y[1:] = v * 2
    assert y.requires_grad and y.grad_fn.name() == "CopySlices"
    y.sum().backward()
    close(v.grad, [2., 2.])


def test_changing_a_saved_value_in_place_makes_backward_fail_with_the_version_error():
    x = ad.tensor([1., 2.], requires_grad=True)
    z = x * 2
    y = (z * z).sum()  # MulBackward0 saved z (version 0)
    z.add_(1)  # version 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*is at version 1; expected "
                                           "version 0 instead"):
        y.backward()
    assert x.grad is None
    # the engine is not left broken: a fresh forward pass works
    z = x * 2
    (z * z).sum().backward()
    assert x.grad.tolist() == [8., 16.]


def test_changing_a_saved_output_or_leaf_in_place_is_caught_too():
    x = ad.tensor([1., 2.], requires_grad=True)
    e = x.exp()  # ExpBackward0 saves its output
    e.mul_(2)
    with pytest.raises(RuntimeError, match="which is output 0 of Exp, is at version 1"):
        e.sum().backward()
    y = (x * x).sum()
    with ad.no_grad():
        x.add_(1)
    with pytest.raises(RuntimeError, match=r"\[torch.FloatTensor \[2\]\] is at version 1; expected version 0"):
        y.backward()


def test_a_detached_alias_shares_the_version_counter():
    x = ad.tensor([1., 2.], requires_grad=True)
    y = x * 1
    z = (y * y).sum()
    y.detach().zero_()  # same storage: the saved y has changed
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.backward()


def test_in_place_change_of_an_unsaved_value_is_fine():
    x = ad.tensor([1., 2.], requires_grad=True)
    y = x + 1  # AddBackward0 saves nothing
    z = y.sum()
    y.mul_(10)
    z.backward()
    assert x.grad.tolist() == [1., 1.]


# ----------------------------------------------------------------------------------- scale and memory
def test_a_chain_of_100000_ops_backpropagates_without_recursion_error():
    x = f64(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.00001
    y.backward()
    close(x.grad, 1.00001 ** 100_000, tol=1e-8)
    del y
    gc.collect()  # tearing the long chain down must not recurse either


def test_deep_create_graph_backward():
    x = f64(0.5)
    y = x
    for _ in range(2_000):
        y = ad.sin(y) * 0.5 + y * 0.5
    (g,) = ad.autograd.grad(y, x, create_graph=True)
    (h,) = ad.autograd.grad(g, x)
    assert math.isfinite(g.item()) and math.isfinite(h.item())


def test_saved_values_are_released_after_backward():
    x = ad.randn(1000, requires_grad=True)
    y = x.exp()
    z = y * y  # MulBackward0 holds y for its backward
    node = z.grad_fn
    saved = weakref.ref(y)
    del y
    gc.collect()
    assert saved() is not None and not node.released
    z.sum().backward()
    gc.collect()
    assert saved() is None
    assert node.released and node.out is None


def test_retain_graph_keeps_saved_values_alive():
    x = ad.randn(10, requires_grad=True)
    y = x.exp()
    z = y * y
    saved = weakref.ref(y)
    del y
    z.sum().backward(retain_graph=True)
    gc.collect()
    assert saved() is not None and not z.grad_fn.released
    z.sum().backward()
    gc.collect()
    assert saved() is None


def test_memory_of_intermediates_is_returned_after_backward():
    x = ad.randn(250_000, requires_grad=True)  # 1 MB of float32
    gc.collect()
    tracemalloc.start()
    try:
        h = x
        for _ in range(20):
            h = ad.tanh(h * 1.01)
        loss = h.sum()
        del h
        gc.collect()
        held, _ = tracemalloc.get_traced_memory()
        loss.backward()
        del loss
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held > 20e6  # forty intermediates of 1 MB were kept for backward
    assert after < 3e6  # only x.grad (1 MB) and small change remain


@pytest.mark.parametrize("make", [lambda y, c: y * 3, lambda y, c: y / 3, lambda y, c: y * c,
                                  lambda y, c: ad.dot(y, c), lambda y, c: c @ y])
def test_changing_a_value_no_gradient_reads_is_no_error(make):
    # y * c with constant c saves y but never reads it; PyTorch accepts y.add_(1) afterwards too
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    c = ad.tensor([3.0, 4.0])
    y = x * 2
    z = make(y, c)
    expected = ad.autograd.grad(make(x * 2, c).sum(), x)[0]
    y.add_(1)
    z.sum().backward()
    assert ad.allclose(x.grad, expected)


def test_changing_a_value_another_gradient_reads_is_still_an_error():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    w = ad.tensor([3.0, 4.0], requires_grad=True)
    y = x * 2
    z = y * w          # w's gradient reads y
    y.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


@pytest.mark.parametrize("change, out_of_place", [
    ("y[:2].mul_(3)", "y = y * ad.tensor([3., 3., 1.])"), ("y[0].zero_()", "y = y * ad.tensor([0., 1., 1.])"),
    ("y.T[0] = 0", "y = y * ad.tensor([0., 1., 1.])"), ("y.view(3).add_(1)", "y = y + 1"),
])
def test_in_place_change_through_a_view_of_a_recorded_tensor_is_recorded_on_the_base(change, out_of_place):
    grads = []
    for code in (change, out_of_place):
        x = ad.tensor([1., 2., 3.], requires_grad=True)
        scope = {"ad": ad, "y": x * x}
        exec(code, scope)
        (scope["y"] * ad.tensor([1., 10., 100.])).sum().backward()
        grads.append((scope["y"].tolist(), x.grad.tolist()))
    assert grads[0] == grads[1]
    assert scope["y"].grad_fn is not None


def test_in_place_change_through_a_view_of_a_leaf_is_refused_with_pytorchs_words():
    x = ad.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[:2].mul_(3)


def test_in_place_change_through_a_view_under_no_grad_reaches_the_base():
    x = ad.ones(3, requires_grad=True)
    with ad.no_grad():
        x[1].mul_(5)
        x[2:].zero_()
    assert x.tolist() == [1.0, 5.0, 0.0]
