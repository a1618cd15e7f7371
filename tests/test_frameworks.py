"""The TensorFlow-style and MXNet-style front ends, checked against closed-form gradients.

Chapter 2 says the four styles are one idea on one tape; these tests pin the few places where they
differ on purpose: where the gradient lands (returned / written over / added into ``.grad``), when
recording happens, and how often a tape may be asked.
"""
import math
import warnings

import numpy as np
import pytest

import autodiff_nb as ad
from autodiff_nb.frameworks import GradientTape, attach_grad, backward, is_recording, mx, pause, record
from conftest import chapter_control_flow, close, values_of


# ============================================================================ TensorFlow style
def test_tape_gradient_of_2_xT_x_is_4x():
    x = ad.arange(4.0)
    with GradientTape() as tape:
        tape.watch(x)
        y = 2 * ad.dot(x, x)
    assert close(tape.gradient(y, x), [0.0, 4.0, 8.0, 12.0])


def test_tape_gradient_returns_and_leaves_grad_alone():
    x = ad.tensor([1.0, 2.0], requires_grad=True)
    with GradientTape() as tape:
        y = (x * x).sum()
    g = tape.gradient(y, x)
    assert close(g, [2.0, 4.0])
    assert x.grad is None
    assert g.grad_fn is None and not g.requires_grad


def test_a_second_gradient_from_a_non_persistent_tape_is_refused_with_tensorflows_words():
    x = ad.tensor(3.0)
    with GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError) as info:
        tape.gradient(y, x)
    first_line, hint = str(info.value).split("\n", 1)
    assert first_line == ("A non-persistent GradientTape can only be used to compute one set of gradients "
                          "(or jacobians)")
    assert "persistent=True" in hint


def test_a_persistent_tape_answers_several_times():
    # y = x^2, z = y^2 = x^4: dz/dx = 4x^3 = 108 and dy/dx = 2x = 6 at x = 3
    x = ad.tensor(3.0)
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert close(tape.gradient(z, x), 108.0)
    assert close(tape.gradient(y, x), 6.0)
    assert close(tape.gradient(z, x), 108.0)


def test_a_watched_constant_is_tracked_only_while_the_tape_is_open():
    x = ad.tensor([1.0, 2.0])
    with GradientTape() as tape:
        tape.watch(x)
        assert x.requires_grad
        inside = x * 3
    outside = x * 3
    assert not x.requires_grad
    assert inside.grad_fn is not None and outside.grad_fn is None
    assert repr(x) == "tensor([1., 2.])"
    assert close(tape.gradient(inside.sum(), x), [3.0, 3.0])


def test_a_tensor_that_requires_grad_is_watched_without_asking():
    w = ad.tensor([0.5, -1.0], requires_grad=True)
    with GradientTape() as tape:
        loss = (w * w * w).sum()
    assert close(tape.gradient(loss, w), 3 * np.array([0.5, -1.0]) ** 2)


def test_a_vector_target_is_summed_first():
    x = ad.tensor([1.0, 2.0, 3.0])
    with GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert close(tape.gradient(y, x), [2.0, 4.0, 6.0])


def test_output_gradients_weight_the_target():
    x = ad.tensor([1.0, 2.0])
    with GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert close(tape.gradient(y, x, output_gradients=ad.tensor([10.0, 1.0])), [20.0, 4.0])


def test_sources_keep_their_shape_list_tuple_and_dict():
    a, b = ad.tensor(2.0), ad.tensor(5.0)
    with GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        f = a * a * b  # df/da = 2ab = 20, df/db = a^2 = 4
    as_list = tape.gradient(f, [a, b])
    as_tuple = tape.gradient(f, (a, b))
    as_dict = tape.gradient(f, {"a": a, "b": b})
    assert isinstance(as_list, list) and isinstance(as_tuple, tuple) and isinstance(as_dict, dict)
    for grads in (as_list, as_tuple, list(as_dict.values())):
        assert close(grads[0], 20.0) and close(grads[1], 4.0)
    assert list(as_dict) == ["a", "b"]


def test_a_list_of_targets_adds_their_gradients():
    x = ad.tensor(2.0)
    with GradientTape() as tape:
        tape.watch(x)
        y1 = x * x      # 2x = 4
        y2 = 3 * x      # 3
    assert close(tape.gradient([y1, y2], x), 7.0)


def test_an_unconnected_source_gets_none_or_zeros():
    x, unused = ad.tensor(1.0), ad.tensor([1.0, 2.0])
    with GradientTape(persistent=True) as tape:
        tape.watch([x, unused])
        y = x * 2
    gx, gu = tape.gradient(y, [x, unused])
    assert close(gx, 2.0) and gu is None
    _, zeros = tape.gradient(y, [x, unused], unconnected_gradients="zero")
    assert close(zeros, [0.0, 0.0]) and tuple(zeros.shape) == (2,)


def test_an_unwatched_constant_gets_none_and_a_hint():
    c = ad.tensor(2.0)
    with GradientTape() as tape:
        y = c * c
    with pytest.warns(UserWarning, match=r"tape\.watch\(x\)"):
        assert tape.gradient(y, c) is None


def test_nested_tapes_give_the_second_derivative_of_x_cubed():
    # y = x^3: dy/dx = 3x^2 = 27, d2y/dx2 = 6x = 18 at x = 3
    x = ad.tensor(3.0)
    with GradientTape() as outer:
        outer.watch(x)
        with GradientTape() as inner:
            inner.watch(x)
            y = x ** 3
        dy_dx = inner.gradient(y, x)
    d2y_dx2 = outer.gradient(dy_dx, x)
    assert close(dy_dx, 27.0) and close(d2y_dx2, 18.0)


def test_stop_recording_cuts_the_gradient_like_detach():
    x = ad.tensor(3.0)
    with GradientTape() as tape:
        tape.watch(x)
        with tape.stop_recording():
            u = x * x        # a constant as far as the tape knows
        z = u * x
    assert close(tape.gradient(z, x), 9.0)  # u, not 3x^2


def test_sin_through_the_tape_has_derivative_cos():
    xs = np.linspace(-3.0, 3.0, 7)
    x = ad.tensor(xs)
    with GradientTape() as tape:
        tape.watch(x)
        y = ad.sin(x)
    assert close(tape.gradient(y, x), np.cos(xs))


def test_the_tape_and_pytorch_style_agree_on_the_chapters_control_flow_example():
    ad.manual_seed(0)
    a = ad.randn(size=())
    with GradientTape() as tape:
        tape.watch(a)
        d = chapter_control_flow(a)
    g = tape.gradient(d, a)
    assert close(g, values_of(d) / values_of(a))
    a2 = a.detach().clone().requires_grad_(True)
    chapter_control_flow(a2).backward()
    assert close(g, a2.grad)


def test_watch_refuses_a_plain_number_and_says_how_to_wrap_it():
    with GradientTape() as tape:
        with pytest.raises(TypeError, match=r"autodiff_nb\.tensor\(3\.0\)"):
            tape.watch(3.0)


def test_the_tape_prints_without_a_memory_address():
    tape = GradientTape(persistent=True)
    assert repr(tape) == "<GradientTape persistent=True, ready, watching 0 tensors>"


# ============================================================================ MXNet style
def test_attach_grad_gives_a_zero_gradient_and_keeps_printing_plain():
    x = attach_grad(ad.arange(4.0))
    assert close(x.grad, [0.0, 0.0, 0.0, 0.0])
    assert repr(x) == "tensor([0., 1., 2., 3.])"


def test_backward_overwrites_instead_of_adding_unlike_pytorch():
    # MXNet style: two backward passes leave 4x, not 8x
    x = attach_grad(ad.arange(4.0))
    for _ in range(2):
        with record():
            y = 2 * ad.dot(x, x)
        y.backward()
    assert close(x.grad, [0.0, 4.0, 8.0, 12.0])

    # PyTorch style, the same two passes: the gradients add up
    xt = ad.arange(4.0, requires_grad=True)
    for _ in range(2):
        (2 * ad.dot(xt, xt)).backward()
    assert close(xt.grad, [0.0, 8.0, 16.0, 24.0])


def test_overwriting_keeps_the_buffer_attach_grad_made():
    x = attach_grad(ad.tensor([1.0, 2.0]))
    buffer = x.grad
    with record():
        y = (x * x).sum()
    y.backward()
    assert x.grad is buffer and close(buffer, [2.0, 4.0])


def test_grad_req_add_accumulates_as_pytorch_does():
    x = attach_grad(ad.tensor([1.0, 2.0]), grad_req="add")
    for _ in range(3):
        with record():
            y = (x * x).sum()
        y.backward()
    assert close(x.grad, [6.0, 12.0])


def test_recording_happens_only_inside_record():
    x = attach_grad(ad.tensor(2.0))
    assert not is_recording()
    with record():
        assert is_recording()
        inside = x ** 3
    outside = x ** 3
    assert inside.grad_fn is not None and outside.grad_fn is None
    assert not x.requires_grad


def test_backward_of_an_unrecorded_value_names_record():
    x = attach_grad(ad.tensor(2.0))
    y = x * x
    with pytest.raises(RuntimeError) as info:
        backward(y)
    assert str(info.value).startswith("Cannot differentiate node because it is not in a computational graph.")
    assert "with record():" in str(info.value)


def test_mx_backward_sums_a_vector_head():
    x = attach_grad(ad.tensor([1.0, 2.0, 3.0]))
    with record():
        y = x * x
    mx.backward(y)
    assert close(x.grad, [2.0, 4.0, 6.0])


def test_pause_inside_record_is_not_recorded():
    x = attach_grad(ad.tensor(3.0))
    with record():
        with pause():
            u = x * x
        z = u * x
    z.backward()
    assert u.grad_fn is None
    assert close(x.grad, 9.0)


def test_attach_grad_inside_record_tracks_at_once():
    with record():
        x = attach_grad(ad.tensor(1.5))
        y = x * x * x
    y.backward()
    assert close(x.grad, 3 * 1.5 ** 2)
    assert not x.requires_grad


def test_the_chapters_control_flow_example_in_mxnet_style():
    ad.manual_seed(1)
    a = attach_grad(ad.randn(size=()))
    with record():
        d = chapter_control_flow(a)
    d.backward()
    assert close(a.grad, values_of(d) / values_of(a))


def test_attach_grad_refuses_what_it_cannot_attach():
    with pytest.raises(ValueError, match="'write' or 'add'"):
        attach_grad(ad.tensor(1.0), grad_req="null-ish")
    with pytest.raises(TypeError, match="autodiff_nb.tensor"):
        attach_grad(1.0)
    leaf = ad.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="MulBackward0"):
        attach_grad(leaf * 2)


def test_reattaching_resets_the_gradient_and_the_rule():
    x = attach_grad(ad.tensor(2.0), grad_req="add")
    for _ in range(2):
        with record():
            y = x * x
        y.backward()
    assert close(x.grad, 8.0)
    attach_grad(x)  # back to "write", gradient zeroed
    assert close(x.grad, 0.0)
    for _ in range(2):
        with record():
            y = x * x
        y.backward()
    assert close(x.grad, 4.0)


# ============================================================================ one tape underneath
def test_all_three_styles_agree_on_log_x_squared_sin_x_plus_1_over_x():
    # f(x) = log(x^2) sin(x) + 1/x, f'(x) = 2 sin(x)/x + log(x^2) cos(x) - 1/x^2
    xs = np.array([0.5, 1.0, 2.0, 4.0])
    expected = 2 * np.sin(xs) / xs + np.log(xs ** 2) * np.cos(xs) - 1 / xs ** 2

    def f(x):
        return ad.log(x * x) * ad.sin(x) + 1 / x

    x_torch = ad.tensor(xs, requires_grad=True)
    f(x_torch).sum().backward()

    x_tf = ad.tensor(xs)
    with GradientTape() as tape:
        tape.watch(x_tf)
        y = f(x_tf)
    g_tf = tape.gradient(y, x_tf)

    x_mx = attach_grad(ad.tensor(xs))
    with record():
        y = f(x_mx)
    mx.backward(y)

    for g in (x_torch.grad, g_tf, x_mx.grad):
        assert close(g, expected)
    assert math.isclose(float(values_of(g_tf)[0]), float(expected[0]), rel_tol=1e-9)


def test_the_mx_namespace_prints_its_contents():
    assert "attach_grad" in repr(mx) and "0x" not in repr(mx)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with mx.record():
            pass
