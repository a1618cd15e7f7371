"""Regression tests for bugs the engine had, each failing on the code before the fix (2523eb9).

- gradcheck with several outputs found each output by value (``outs.index``): two outputs that
  compared elementwise crashed it ("Boolean value of Tensor ... is ambiguous"), two with equal values
  made it check the wrong one, and a mismatch was always reported as output 0;
- ``generator=`` was accepted and ignored, and there was no ``Generator().manual_seed``;
- the backward walk reported what a node sent as ``(edge, gradient)``, so for ``f(x, x)`` a reader (the
  stepper) could not tell which input a gradient went through.
"""
import numpy as np
import pytest

import autodiff_nb as ad
from autodiff_nb import ops, tape
from autodiff_nb.autograd import GradcheckError, gradcheck
from autodiff_nb.custom import defvjp, primitive
from conftest import f64


# ----------------------------------------------------------------------------------- gradcheck, by position
def test_gradcheck_of_two_outputs_that_compare_elementwise():
    assert gradcheck(lambda t: (t * 2, t * t), (f64([1.0, 2.0, 3.0]),))


def test_gradcheck_of_two_outputs_with_equal_values_checks_each_one():
    # at t = 2, t * t and 2 * t are both 4: finding the output by value checked 2 * t's numbers
    # against t * t's gradient and failed
    assert gradcheck(lambda t: (t * t, 2 * t), (f64(2.0),))


def _cube_with_a_wrong_vjp():
    @primitive
    def cube(x):
        return x ** 3

    defvjp(cube, lambda g, ans, x: g * x ** 2)  # forgets the factor 3 of 3x^2
    return cube


def test_a_wrong_gradient_in_output_1_is_reported_as_output_1():
    cube = _cube_with_a_wrong_vjp()
    x = f64([1.0, 2.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: (t * 3, cube(t)), (x,))
    assert str(info.value).splitlines()[0] == ("Jacobian mismatch for output 1 with respect to input 0, "
                                               "at element (1,):")
    report = gradcheck(lambda t: (t * 3, cube(t)), (x,), raise_exception=False, report=True)
    assert {m.output_index for m in report.worst if m.error > 1e-6} == {1}
    assert report.worst[0].analytic == pytest.approx(4.0) and report.worst[0].numeric == pytest.approx(12.0)


# ----------------------------------------------------------------------------------- Generator
CREATORS = {
    "rand": lambda m, g: m.rand(3, generator=g),
    "randn": lambda m, g: m.randn(2, 3, generator=g),
    "randint": lambda m, g: m.randint(0, 1000, (4,), generator=g),
    "normal": lambda m, g: m.normal(0.0, 1.0, (3,), generator=g),
    "rand_like": lambda m, g: m.rand_like(m.zeros(3), generator=g),
    "randn_like": lambda m, g: m.randn_like(m.zeros(3), generator=g),
    "Tensor.normal_": lambda m, g: m.zeros(3).normal_(0.0, 1.0, generator=g),
    "Tensor.uniform_": lambda m, g: m.zeros(3).uniform_(-1.0, 1.0, generator=g),
}


@pytest.mark.parametrize("name", CREATORS)
def test_a_generator_seeded_alike_gives_the_same_numbers(name):
    draw = CREATORS[name]
    g = ad.Generator().manual_seed(7)
    first, second = draw(ad, g), draw(ad, g)
    assert not first.equal(second)  # the generator moves on
    again = ad.Generator().manual_seed(7)
    assert draw(ad, again).equal(first) and draw(ad, again).equal(second)
    assert not draw(ad, ad.Generator().manual_seed(8)).equal(first)


@pytest.mark.parametrize("name", CREATORS)
def test_generator_is_honoured_and_leaves_the_default_generator_alone(name):
    draw = CREATORS[name]
    ad.manual_seed(0)
    expected_default = draw(ad, None)
    expected_own = draw(ad, ad.Generator().manual_seed(1))
    ad.manual_seed(0)
    own = draw(ad, ad.Generator().manual_seed(1))
    assert own.equal(expected_own)
    assert draw(ad, None).equal(expected_default)  # the default generator did not move


@pytest.mark.torch
@pytest.mark.parametrize("name", CREATORS)
def test_generator_keyword_is_accepted_where_pytorch_accepts_it(torch, name):
    draw = CREATORS[name]
    for m in (ad, torch):
        a, b = draw(m, m.Generator().manual_seed(3)), draw(m, m.Generator().manual_seed(3))
        assert a.equal(b) and tuple(a.shape) == tuple(draw(ad, None).shape), m.__name__


@pytest.mark.torch
@pytest.mark.parametrize("wrong", [0, "seed", np.random.default_rng(0)])
def test_a_generator_of_the_wrong_type_is_a_type_error_like_pytorchs(torch, wrong):
    for m in (ad, torch):
        with pytest.raises(TypeError):
            m.randn(2, generator=wrong)
    with pytest.raises(TypeError, match=r"Make one with autodiff_nb\.Generator\(\)\.manual_seed"):
        ad.rand(2, generator=torch.Generator())


@pytest.mark.torch
def test_generator_api_has_pytorchs_shape(torch):
    for m in (ad, torch):
        g = m.Generator()
        assert g.manual_seed(5) is g and g.initial_seed() == 5
        assert m.manual_seed(0) is m.default_generator and isinstance(m.default_generator, m.Generator)
        assert m.initial_seed() == 0 == m.default_generator.initial_seed()
        new = g.seed()
        assert isinstance(new, int) and g.initial_seed() == new


def test_manual_seed_repeats_the_default_sequence():
    ad.manual_seed(42)
    a = ad.randn(4)
    ad.manual_seed(42)
    assert ad.randn(4).equal(a)


# ----------------------------------------------------------------------------------- f(x, x)
def _times_with_a_vjp_for_input_1_only():
    @primitive
    def times(a, b):
        return a * b

    defvjp(times, None, lambda g, ans, a, b: g * a)  # no VJP for input 0: only input 1 gets a gradient
    return times


def test_a_custom_op_of_x_and_x_with_a_vjp_for_its_second_input_only():
    times = _times_with_a_vjp_for_input_1_only()
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    times(x, x).sum().backward()
    assert x.grad.tolist() == [1.0, 2.0, 3.0]  # g * a through input 1 alone
    (g,) = ad.autograd.grad(times(x, x).sum(), x)
    assert g.tolist() == [1.0, 2.0, 3.0]


def test_the_walk_says_the_gradient_of_f_x_x_went_through_input_1():
    times = _times_with_a_vjp_for_input_1_only()
    x = ad.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = times(x, x)
    steps = {node.name(): sent for node, _, sent in tape.walk([y], [np.ones(3, np.float32)], ops.NumpyMath)}
    ((slot, edge, grad),) = steps["TimesBackward"]
    assert slot == 1 and edge is y.grad_fn.next_functions[1][0]
    assert grad.tolist() == [1.0, 2.0, 3.0]
