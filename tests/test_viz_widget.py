"""GraphWidget driven from Python, as a notebook would drive it (no browser needed)."""
import numpy as np
import pytest

import autodiff_nb as torch
from autodiff_nb.viz import GraphWidget
from autodiff_nb.viz.examples import control_flow_f


@pytest.fixture(autouse=True)
def any_renderer_is_fine(monkeypatch):
    # The widget's picture is tested in test_viz_render; here only its state matters, and a
    # missing renderer must not change it.
    monkeypatch.setenv("AUTODIFF_NB_DOT", "")


def chapter_y():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    return x, y


def test_text_form_is_short_and_stable():
    x, y = chapter_y()
    w = GraphWidget(y)
    assert repr(w) == "GraphWidget(y: 6 nodes, step 0/3)"
    w.step_forward()
    assert repr(w) == "GraphWidget(y: 6 nodes, step 1/3)"
    assert w._repr_mimebundle_()["text/plain"] == repr(w)


def test_last_step_shows_the_gradient_a_real_backward_computes():
    x, y = chapter_y()
    w = GraphWidget(y)
    while w.step < w.n_steps:
        w.step_forward()
    shown = w.shown_grads["x"]
    y.backward()
    np.testing.assert_array_equal(shown, x.grad.array)
    assert w.shown_grads["dot"] == 2 and w.shown_grads["y"] == 1


def test_stepping_leaves_the_users_tensors_alone():
    x, y = chapter_y()
    x.grad = torch.tensor([10.0, 20.0, 30.0, 40.0])  # a gradient from earlier work
    before = x.grad.array.copy()
    w = GraphWidget(y)
    for _ in range(w.n_steps):
        w.step_forward()
    w.step_back()
    w.step = w.n_steps
    np.testing.assert_array_equal(x.grad.array, before)
    np.testing.assert_array_equal(x.array, [0, 1, 2, 3])
    assert not y.grad_fn.released  # the graph is not freed: a real backward still works
    y.backward()
    np.testing.assert_array_equal(x.grad.array, before + [0, 4, 8, 12])


def test_retain_grad_hooks_do_not_run_while_stepping():
    x = torch.arange(4.0, requires_grad=True)
    h = x * 3
    h.retain_grad()
    y = h.sum()
    w = GraphWidget(y)
    w.step = w.n_steps
    assert h.grad is None and x.grad is None
    np.testing.assert_array_equal(w.shown_grads["h"], [1, 1, 1, 1])


def test_explanation_follows_the_step_with_the_chapters_numbers():
    x, y = chapter_y()
    w = GraphWidget(y)
    assert w.explanation.startswith("Step 0 of 3: the forward pass")
    w.step_forward()
    assert "MulBackward0: grad(dot) = 2 · grad(y) = 2" in w.explanation
    w.step_forward()
    assert "DotBackward0: grad(x) += grad(dot) · x + x · grad(dot) = [0, 4, 8, 12]" in w.explanation
    assert set(w.shown_grads) == {"y", "dot"}  # x.grad is written at step 3
    w.step_forward()
    assert "AccumulateGrad: x.grad += [0, 4, 8, 12]" in w.explanation
    w.step_back()
    assert "DotBackward0" in w.explanation


def test_step_stays_between_0_and_the_last_step_and_the_controls_follow():
    x, y = chapter_y()
    w = GraphWidget(y)
    w.step_back()
    assert w.step == 0
    w.step = 99
    assert w.step == 3 and w._slider.value == 3 and w._play.value == 3
    w._slider.value = 1  # the slider (or Play) moves: the widget follows
    assert w.step == 1
    w._forward.click()
    assert w.step == 2
    w._back.click()
    assert w.step == 1


def test_picture_panel_and_tape_change_with_the_step_and_toggles():
    x, y = chapter_y()
    w = GraphWidget(y)
    first = w._picture.value
    w.step = 1
    assert w._picture.value != first
    assert "#ffe0b2" in w._tape.value  # the row of the current step is highlighted
    with_values = w._picture.value
    w.values = False
    assert w._picture.value != with_values and "[0, 1, 2, 3]" not in w._picture.value
    assert "Step 1 of 3" in w._panel.value


def test_a_non_scalar_output_is_seeded_with_ones():
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    w = GraphWidget(y)
    w.step = w.n_steps
    np.testing.assert_array_equal(w.shown_grads["x"], 2 * x.array)


def test_detach_example_last_step_equals_u():
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    u = y.detach()
    z = u * x
    w = GraphWidget(z.sum())
    w.step = w.n_steps
    np.testing.assert_array_equal(w.shown_grads["x"], u.array)
    assert "y" not in w.shown_grads and "u" not in w.shown_grads  # the cut: no gradient goes there


def test_control_flow_steps_one_mul_at_a_time():
    torch.manual_seed(1)
    a = torch.randn(size=(), requires_grad=True)
    d = control_flow_f(a)
    w = GraphWidget(d)
    w.step = w.n_steps
    shown = float(w.shown_grads["a"])
    d.backward()
    assert shown == pytest.approx(float(a.grad.array))
    assert w.n_steps == len([s for s in w._run.steps if s.name == "MulBackward0"]) + 1


def test_a_graph_freed_by_backward_is_shown_without_a_traceback():
    x, y = chapter_y()
    y.backward()
    w = GraphWidget(y)
    assert w.n_steps == 0 and repr(w) == "GraphWidget(y: 6 nodes, step 0/0)"
    assert "retain_graph=True" in w.explanation
    w.step_forward()
    assert w.step == 0


def test_big_graph_steps_light_up_the_folded_part():
    x = torch.ones(2, requires_grad=True)
    h = x
    for _ in range(300):
        h = torch.tanh(h)
    w = GraphWidget(h.sum(), max_nodes=40, repeats="show")
    assert len(w._drawn.nodes) <= 40 and w.n_steps == 302
    w.step = w.n_steps  # the last step writes x.grad; x lives in the folded part
    assert "fold0" in w._picture.value or "folded" in w._picture.value


def test_the_panel_says_hooks_are_not_run_when_the_graph_has_some():
    x = torch.arange(4.0, requires_grad=True)
    h = x * 3
    h.retain_grad()
    x.register_hook(lambda g: g * 10)  # backward() would give x.grad = 30 · ones; the stepper shows 3
    w = GraphWidget(h.sum())
    assert "hooks are not run here: h, x have hooks" in w.explanation
    w.step = w.n_steps
    assert w.explanation.splitlines()[-1].startswith("hooks are not run here")
    assert "hooks are not run here" in w._panel.value
    np.testing.assert_array_equal(w.shown_grads["x"], [3, 3, 3, 3])
    assert h.grad is None and x.grad is None


def test_no_hooks_no_note():
    x, y = chapter_y()
    w = GraphWidget(y)
    assert "hook" not in w.explanation
    w.step = w.n_steps
    assert "hook" not in w.explanation


def test_a_custom_op_whose_gradient_goes_only_to_its_second_input_shows_it_on_the_second_edge():
    from autodiff_nb.custom import defvjp, primitive
    from autodiff_nb.viz.steps import StepState

    @primitive
    def f(a, b):
        return a * b

    defvjp(f, None, lambda g, ans, a, b: g * a)  # no VJP for input 0: only slot 1 gets a gradient
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = f(x, x).sum()
    w = GraphWidget(y)
    op = w._full.find("f", kind="op")[0]
    step = next(s for s in w._run.steps if s.node_id == op.id)
    assert list(step.sent) == [1]
    w.step = step.number
    state = StepState(w._run, w._full, w.step)
    assert (op.id, 1) in state.edge_grads and (op.id, 0) not in state.edge_grads
    np.testing.assert_array_equal(state.edge_grads[(op.id, 1)], [1, 2, 3])
    assert "grad(x) += grad(f) through your vjp for f's input 1 = [1, 2, 3]" in w.explanation
    w.step = w.n_steps
    np.testing.assert_array_equal(w.shown_grads["x"], [1, 2, 3])
    y.backward()
    np.testing.assert_array_equal(x.grad.array, w.shown_grads["x"])


def test_the_custom_ops_second_edge_carries_the_label_in_the_picture():
    from autodiff_nb.custom import defvjp, primitive
    from autodiff_nb.viz.dot import to_digraph
    from autodiff_nb.viz.steps import StepState

    @primitive
    def f(a, b):
        return a * b

    defvjp(f, None, lambda g, ans, a, b: g * a)
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = GraphWidget(f(x, x).sum())
    w.step = 2
    source = to_digraph(w._drawn, state=StepState(w._run, w._drawn, 2)).source
    into_f = [line for line in source.splitlines() if "-> op0" in line]
    assert len(into_f) == 2
    assert sum("← [1, 2, 3]" in line for line in into_f) == 1
