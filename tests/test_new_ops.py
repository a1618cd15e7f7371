"""The ops added for the course (cumsum, cumprod, prod, var, std, logsumexp, masked_fill, chunk, split, repeat, tile,
bmm, addmm, randperm, multinomial, bernoulli, new_*) against PyTorch: values, dtypes, grad_fn names,
printing, gradients (against PyTorch and against float64 central differences), second derivatives
under create_graph, and PyTorch's errors with our line after them."""
import numpy as np
import pytest

import autodiff_nb as ad
from test_engine_grad import check_gradients

pytestmark = pytest.mark.torch

A = np.random.default_rng(0).standard_normal((3, 4))
B3 = np.random.default_rng(1).standard_normal((2, 3, 4))
C3 = np.random.default_rng(2).standard_normal((2, 4, 5))
ONE_ZERO = np.where(np.arange(12).reshape(3, 4) == 5, 0.0, A)  # a zero in row 1, column 1
ZEROS = np.where(np.isin(np.arange(12).reshape(3, 4), [1, 2, 5, 8, 11]), 0.0, A)  # one, two and several per row

DIFFERENTIABLE = {
    "cumsum": (lambda lib, x: lib.cumsum(x, 1), [A]),
    "cumsum_axis0_method": (lambda lib, x: x.cumsum(axis=0) if lib is ad else x.cumsum(0), [A]),
    "cumprod": (lambda lib, x: lib.cumprod(x, 1), [A]),
    "cumprod_dim0_method": (lambda lib, x: x.cumprod(0), [A]),
    "cumprod_one_zero": (lambda lib, x: lib.cumprod(x, 1), [ONE_ZERO]),
    "cumprod_zeros": (lambda lib, x: x.cumprod(-1), [ZEROS]),
    "cumprod_zeros_dim0": (lambda lib, x: x.cumprod(0), [ZEROS]),
    "prod": (lambda lib, x: lib.prod(x), [A]),
    "prod_dim": (lambda lib, x: x.prod(1), [A]),
    "prod_keepdim": (lambda lib, x: lib.prod(x, 0, keepdim=True), [A]),
    "prod_one_zero": (lambda lib, x: x.prod(), [ONE_ZERO]),
    "prod_zeros": (lambda lib, x: x.prod(), [ZEROS]),
    "prod_one_zero_dim": (lambda lib, x: x.prod(1), [ONE_ZERO]),
    "prod_zeros_dim": (lambda lib, x: x.prod(1), [ZEROS]),
    "prod_zeros_dim0": (lambda lib, x: x.prod(0, keepdim=True), [ZEROS]),
    "var": (lambda lib, x: x.var(), [A]),
    "var_dim": (lambda lib, x: lib.var(x, 1, keepdim=True), [A]),
    "var_correction0": (lambda lib, x: x.var(0, correction=0), [A]),
    "std_unbiased_false": (lambda lib, x: x.std(1, unbiased=False), [A]),
    "std": (lambda lib, x: lib.std(x), [A]),
    "logsumexp": (lambda lib, x: lib.logsumexp(x, 1), [A]),
    "logsumexp_keep": (lambda lib, x: x.logsumexp((0, 1), keepdim=True), [A]),
    "masked_fill": (lambda lib, x: x.masked_fill(lib.tensor(A > 0), -1.5), [A]),
    "masked_fill_broadcast": (lambda lib, x: x.masked_fill(lib.tensor([True, False, True, False]), 0.0), [A]),
    "chunk": (lambda lib, x: x.chunk(3, 1)[1], [A]),
    "split": (lambda lib, x: x.split(2, 1)[1], [A]),
    "split_sizes": (lambda lib, x: lib.split(x, [1, 3], 1)[1], [A]),
    "repeat": (lambda lib, x: x.repeat(2, 1, 3), [A]),
    "tile": (lambda lib, x: x.tile((2,)), [A]),
    "bmm": (lambda lib, a, b: lib.bmm(a, b), [B3, C3]),
    "addmm": (lambda lib, bias, a, b: lib.addmm(bias, a, b), [A[0, :3], A[:, :2], C3[0, :2, :3]]),
}


@pytest.mark.parametrize("name", list(DIFFERENTIABLE))
def test_values_grad_fn_and_gradients_match_pytorch(torch, name):
    f, arrays = DIFFERENTIABLE[name]
    ours = [ad.tensor(a, dtype=ad.float32, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, dtype=torch.float32, requires_grad=True) for a in arrays]
    out_a, out_t = f(ad, *ours), f(torch, *theirs)
    assert out_a.grad_fn.name() == type(out_t.grad_fn).__name__
    assert str(out_a.dtype) == str(out_t.dtype) and tuple(out_a.shape) == tuple(out_t.shape)
    np.testing.assert_allclose(out_a.detach().numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    upstream = np.random.default_rng(5).standard_normal(tuple(out_t.shape)).astype(np.float32)
    out_a.backward(ad.tensor(upstream)), out_t.backward(torch.tensor(upstream))
    for a, t in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", list(DIFFERENTIABLE))
def test_gradients_against_central_differences(name):
    f, arrays = DIFFERENTIABLE[name]
    check_gradients(lambda *xs: f(ad, *xs), *arrays)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cumprod_one_zero", "cumprod_zeros", "prod", "prod_dim",
                                  "prod_one_zero", "prod_zeros", "prod_one_zero_dim", "prod_zeros_dim", "var_dim", "std", "logsumexp", "repeat", "bmm"])
def test_second_derivatives_match_pytorch(torch, name):
    f, arrays = DIFFERENTIABLE[name]
    results = []
    for lib in (ad, torch):
        xs = [lib.tensor(a, dtype=lib.float64, requires_grad=True) for a in arrays]
        out = f(lib, *xs)
        (g,) = lib.autograd.grad((out * out).sum(), xs[0], create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), xs[0])
        results.append(gg.detach().numpy())
    np.testing.assert_allclose(*results, rtol=1e-8, atol=1e-10)


def test_printing_and_integer_dtypes_match_pytorch(torch):
    for f in [lambda lib: lib.arange(5).cumsum(0), lambda lib: lib.tensor([True, False, True]).cumsum(0),
              lambda lib: lib.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True).var(1),
              lambda lib: lib.logsumexp(lib.arange(3), 0),
              lambda lib: lib.arange(1, 6).cumprod(0), lambda lib: lib.tensor([True, True, False]).cumprod(0),
              lambda lib: lib.tensor([1, 2, 3], dtype=lib.int8).cumprod(0), lambda lib: lib.arange(1, 5).prod(),
              lambda lib: lib.tensor([[True, False], [True, True]]).prod(1),
              lambda lib: lib.tensor([[1.0, 0.0], [3.0, 5.0]], requires_grad=True).prod(1, keepdim=True),
              lambda lib: lib.tensor([1.0, 2.0], requires_grad=True).cumprod(0),
              lambda lib: lib.tensor(3.0, requires_grad=True).prod(0),
              lambda lib: lib.tensor(3.0, requires_grad=True).cumprod(0),
              lambda lib: lib.tensor(3.0, requires_grad=True).cumsum(-1),
              lambda lib: lib.tensor([1, 2], dtype=lib.int32).prod(dtype=lib.float64), lambda lib: lib.tensor([1, 2]).repeat(2, 2),
              lambda lib: lib.arange(6.0, requires_grad=True).chunk(4),
              lambda lib: lib.ones(2, dtype=lib.float64).new_zeros(3), lambda lib: lib.ones(2).new_ones((2, 1)),
              lambda lib: lib.ones(2, dtype=lib.float64).new_tensor([1, 2]), lambda lib: lib.ones(2).new_full((2,), 7)]:
        assert repr(f(ad)) == repr(f(torch))


def test_random_ops_have_the_right_values_and_are_seeded():
    ad.manual_seed(0)
    perm = ad.randperm(10)
    assert perm.dtype is ad.int64 and sorted(perm.tolist()) == list(range(10))
    ad.manual_seed(0)
    assert ad.randperm(10).equal(perm)
    draws = ad.multinomial(ad.tensor([0.1, 0.0, 0.9]), 20000, replacement=True)
    assert draws.dtype is ad.int64 and 1 not in draws.tolist()
    assert abs((draws == 2).float().mean().item() - 0.9) < 0.01
    unique = ad.multinomial(ad.tensor([[1.0, 1.0, 1.0, 1.0]] * 3), 4)
    assert unique.shape == (3, 4) and all(sorted(row) == [0, 1, 2, 3] for row in unique.tolist())
    coins = ad.bernoulli(ad.full((20000,), 0.3))
    assert coins.dtype is ad.float32 and set(coins.tolist()) == {0.0, 1.0}
    assert abs(coins.mean().item() - 0.3) < 0.015


ERRORS = [
    (lambda lib: lib.bmm(lib.ones(2, 3), lib.ones(2, 3, 4)), "(batch, rows, cols)"),
    (lambda lib: lib.bmm(lib.ones(2, 3, 4), lib.ones(2, 5, 4)), "(2, 5, 4)"),
    (lambda lib: lib.bmm(lib.ones(2, 3, 4), lib.ones(2, 4, 4, dtype=lib.float64)), "b.to(a.dtype)"),
    (lambda lib: lib.ones(2, 3).repeat(2), "tile()"),
    (lambda lib: lib.ones(2, 3).masked_fill(lib.ones(2, 3), 0.0), "mask.bool()"),
    (lambda lib: lib.ones(2, 3).masked_fill(lib.ones(3, 2, dtype=lib.bool), 0.0), "(3, 2)"),
    (lambda lib: lib.ones(2, 3).chunk(0), "x.chunk(2)"),
    (lambda lib: lib.ones(2, 3).split(0), "positive"),
    (lambda lib: lib.ones(2, 3).split([1, 2]), "add up"),
    (lambda lib: lib.arange(4).var(), "x.float()"),
    (lambda lib: lib.cumsum(lib.ones(2, 3), dim=2), "(2, 3)"),
    (lambda lib: lib.cumprod(lib.ones(2, 3), dim=2), "(2, 3)"),
    (lambda lib: lib.cumprod(lib.ones(2, 3)), "x.cumprod(0)"),
    (lambda lib: lib.ones(2, 3).prod(-3), "(2, 3)"),
    (lambda lib: lib.ones(2, 3).prod((0, 1)), "once per dim"),
    (lambda lib: lib.multinomial(lib.tensor([0.5, 0.5]), 3), "replacement=True"),
    (lambda lib: lib.multinomial(lib.tensor([0.5, 0.5]), 0), "at least one"),
    (lambda lib: lib.multinomial(lib.tensor([-0.5, 0.5]), 1), "non-negative"),
    (lambda lib: lib.multinomial(lib.tensor([0.0, 0.0]), 1), "positive weight"),
    (lambda lib: lib.bernoulli(lib.tensor([1.5])), "[0, 1]"),
    (lambda lib: lib.addmm(lib.ones(3), lib.ones(2, 4), lib.ones(3, 3)), "inner sizes"),
]


@pytest.mark.parametrize("case, hint", ERRORS)
def test_errors_are_pytorchs_first_sentence_then_the_fix(torch, case, hint):
    with pytest.raises(Exception) as theirs:
        case(torch)
    with pytest.raises(Exception) as ours:
        case(ad)
    assert type(ours.value) is type(theirs.value)
    first, _, ours_rest = str(ours.value).partition("\n")
    assert first == str(theirs.value).split("\n")[0]
    assert hint in ours_rest


EDGES = {  # found by the course family of the fuzz: each once raised, or gave nan where PyTorch gives 0
    "var of one element": lambda lib: lib.tensor([2.0], requires_grad=True).var(0),
    "var, no dof left over all": lambda lib: lib.tensor([2.0, 3.0], requires_grad=True).var(correction=2),
    "var, fewer elements than the correction": lambda lib: lib.tensor([[1.0], [2.0]], requires_grad=True).var(1, correction=2),
    "std where a row does not spread": lambda lib: lib.tensor([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]],
                                                              requires_grad=True).std(1, unbiased=False),
    "std of one element, unbiased": lambda lib: lib.tensor([0.5], dtype=lib.float64, requires_grad=True).std(),
}


@pytest.mark.parametrize("name", list(EDGES))
def test_var_and_std_gradients_where_the_formula_divides_by_zero_match_pytorch(torch, name):
    seen = {}
    for lib in (ad, torch):
        y = EDGES[name](lib)
        leaf = y.grad_fn.next_functions[0][0].variable
        y.backward(lib.ones(y.shape, dtype=y.dtype))
        seen[lib.__name__] = (y.detach().numpy(), leaf.grad.numpy())
    for ours, theirs in zip(seen["autodiff_nb"], seen["torch"]):  # nan, inf and 0 where PyTorch has them
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("dtypes", [("float64", "float32", "float32"), ("float32", "float64", "float32"),
                                    ("float32", "float32", "float64")])
def test_addmm_refuses_mixed_dtypes_in_pytorchs_words(torch, dtypes):
    messages = []
    for lib in (ad, torch):
        args = [lib.ones(shape, dtype=getattr(lib, d)) for shape, d in zip([(2,), (2, 1), (1, 2)], dtypes)]
        with pytest.raises(RuntimeError) as caught:
            lib.addmm(*args)
        messages.append(str(caught.value).splitlines()[0])
    assert messages[0] == messages[1]
