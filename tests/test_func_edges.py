"""Edge cases of the functional API (autodiff_nb.func): constant outputs and constant gradients,
an enclosing no_grad, tuple argnums through hessian/jacobian, and detached aux values. Expected
values are closed forms, and where simple they are checked against torch.func as well.
"""
import numpy as np
import pytest

import autodiff_nb as ad
from autodiff_nb import func
from conftest import close


# ------------------------------------------------------------------ outputs with no path to the input
@pytest.mark.torch
def test_hessian_of_relu_sum_is_zero_like_torch_func(torch):
    h = func.hessian(lambda x: x.relu().sum())(ad.tensor([1., -2.]))
    ref = torch.func.hessian(lambda x: x.relu().sum())(torch.tensor([1., -2.]))
    assert tuple(h.shape) == tuple(ref.shape) == (2, 2)
    assert h.dtype == ad.float32
    close(h, ref.numpy())
    close(h, np.zeros((2, 2)))


@pytest.mark.torch
def test_second_derivative_of_linear_function_is_zero(torch):
    g2 = func.grad(func.grad(lambda x: 3 * x))(ad.tensor(1.))
    assert tuple(g2.shape) == ()
    close(g2, 0.)
    close(g2, torch.func.grad(torch.func.grad(lambda x: 3 * x))(torch.tensor(1.)).numpy())


@pytest.mark.torch
def test_jacobian_of_constant_output_is_zero(torch):
    j = func.jacobian(lambda x: ad.ones(2))(ad.tensor([1., 2.]))
    ref = torch.func.jacrev(lambda x: torch.ones(2))(torch.tensor([1., 2.]))
    assert tuple(j.shape) == tuple(ref.shape) == (2, 2)
    assert j.dtype == ad.float32
    close(j, np.zeros((2, 2)))


def test_grad_of_constant_scalar_is_zero_and_value_kept():
    value, g = func.value_and_grad(lambda x: ad.tensor(5.))(ad.tensor([1., 2., 3.]))
    close(value, 5.)
    close(g, np.zeros(3))


def test_third_derivative_of_cubic_still_composes():
    # x^3 -> 3x^2 -> 6x -> 6: the zero path must not disturb genuine higher derivatives
    d3 = func.grad(func.grad(func.grad(lambda x: x ** 3)))(ad.tensor(2.))
    close(d3, 6.)
    d4 = func.grad(func.grad(func.grad(func.grad(lambda x: x ** 3))))(ad.tensor(2.))
    close(d4, 0.)


# ------------------------------------------------------------------ an enclosing no_grad
def test_grad_works_inside_no_grad():
    x = ad.tensor([1., 2., 3.])
    with ad.no_grad():
        g = func.grad(lambda x: (x * x).sum())(x)
        v, g2 = func.value_and_grad(lambda x: (x ** 3).sum())(x)
        j = func.jacobian(lambda x: x * x)(x)
        h = func.hessian(lambda x: (x ** 3).sum())(x)
    close(g, [2., 4., 6.])
    close(v, 36.)
    close(g2, [3., 12., 27.])
    close(j, np.diag([2., 4., 6.]))
    close(h, np.diag([6., 12., 18.]))
    assert not g.requires_grad
    assert ad.is_grad_enabled()


def test_grad_inside_no_grad_with_tracked_input_returns_untracked_result():
    x = ad.tensor([1., 2.], requires_grad=True)
    with ad.no_grad():
        g = func.grad(lambda x: (x * x).sum())(x)
    close(g, [2., 4.])
    assert not g.requires_grad


# ------------------------------------------------------------------ tuple argnums
@pytest.mark.torch
def test_hessian_with_tuple_argnums_gives_nested_blocks_like_torch_func(torch):
    f_ad = lambda x, y: (x * x * y).sum()  # noqa: E731
    h = func.hessian(f_ad, argnums=(0, 1))(ad.tensor([1.]), ad.tensor([2.]))
    ref = torch.func.hessian(lambda x, y: (x * x * y).sum(), argnums=(0, 1))(torch.tensor([1.]), torch.tensor([2.]))
    # closed form for f = x^2 y: [[2y, 2x], [2x, 0]] at x=1, y=2
    expected = [[2 * 2., 2 * 1.], [2 * 1., 0.]]
    assert isinstance(h, tuple) and len(h) == 2
    for i in range(2):
        assert isinstance(h[i], tuple) and len(h[i]) == 2
        for j in range(2):
            assert tuple(h[i][j].shape) == tuple(ref[i][j].shape) == (1, 1)
            close(h[i][j], [[expected[i][j]]])
            close(h[i][j], ref[i][j].numpy())


def test_hessian_tuple_argnums_vector_blocks_shapes():
    # f = sum(x) * sum(y^2): H_xx = 0, H_xy = 2 y (broadcast over rows), H_yy = 2 sum(x) I
    x, y = ad.tensor([1., 2., 3.]), ad.tensor([4., 5.])
    h = func.hessian(lambda x, y: x.sum() * (y * y).sum(), argnums=(0, 1))(x, y)
    assert [[tuple(b.shape) for b in row] for row in h] == [[(3, 3), (3, 2)], [(2, 3), (2, 2)]]
    close(h[0][0], np.zeros((3, 3)))
    close(h[0][1], np.tile([8., 10.], (3, 1)))
    close(h[1][0], np.tile([[8.], [10.]], (1, 3)))
    close(h[1][1], 2 * 6. * np.eye(2))


def test_jacobian_of_tuple_output():
    x = ad.tensor([1., 2.])
    j = func.jacobian(lambda x: (x * x, x.sum()))(x)
    assert isinstance(j, tuple) and len(j) == 2
    close(j[0], np.diag([2., 4.]))
    close(j[1], [1., 1.])
    j2 = func.jacobian(lambda x, y: (x * y, y), argnums=(0, 1))(x, ad.tensor([3., 4.]))
    close(j2[0][0], np.diag([3., 4.]))
    close(j2[0][1], np.diag([1., 2.]))
    close(j2[1][0], np.zeros((2, 2)))
    close(j2[1][1], np.eye(2))


def test_single_argnum_hessian_unchanged():
    h = func.hessian(lambda x: (x ** 3).sum())(ad.tensor([1., 2.]))
    close(h, np.diag([6., 12.]))


# ------------------------------------------------------------------ aux values
@pytest.mark.torch
def test_aux_is_detached(torch):
    x = ad.tensor([1., 2.])
    g, aux = func.grad(lambda x: ((x * x).sum(), x * 2), has_aux=True)(x)
    close(g, [2., 4.])
    close(aux, [2., 4.])
    assert not aux.requires_grad and aux.grad_fn is None
    ref_g, ref_aux = torch.func.grad(lambda x: ((x * x).sum(), x * 2), has_aux=True)(torch.tensor([1., 2.]))
    assert ref_aux.requires_grad == aux.requires_grad
    close(aux, ref_aux.numpy())


def test_aux_nested_structure_is_detached():
    (value, aux), g = func.value_and_grad(
        lambda x: ((x ** 2).sum(), {"sq": x * x, "pair": (x + 1, 7)}), has_aux=True)(ad.tensor([3.]))
    close(value, 9.)
    close(g, [6.])
    assert not aux["sq"].requires_grad
    assert not aux["pair"][0].requires_grad
    close(aux["pair"][0], [4.])
    assert aux["pair"][1] == 7
    assert not value.requires_grad
