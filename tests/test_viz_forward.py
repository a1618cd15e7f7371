"""Forward mode seen: the stepper's forward walk (GraphWidget(mode="forward" / "both")), the tangents
it draws, and explain(mode="forward"). Every tangent is checked against central differences of the
same program in float64 (independent of the rules), or against func.jvp / torch.func.jvp."""
import re

import numpy as np
import pytest

import autodiff_nb as torch
from autodiff_nb import func, viz
from autodiff_nb.viz import GraphWidget
from autodiff_nb.viz.dot import to_digraph
from autodiff_nb.viz.drawing import full_description
from autodiff_nb.viz.examples import control_flow_f
from autodiff_nb.viz.forward_steps import ForwardState, forward_steps
from autodiff_nb.viz.preview import preview
from conftest import randn64


@pytest.fixture(autouse=True)
def any_renderer_is_fine(monkeypatch):
    # The picture's DOT source stands in for the SVG: the state is what is tested here.
    monkeypatch.setenv("AUTODIFF_NB_DOT", "")


def program(x, w):
    """Four named intermediates, a branch (x used twice) and a reduction."""
    a = x * w
    b = a.sin()
    c = b + x.exp()
    y = (c * c).sum()
    return a, b, c, y


NAMES = ("a", "b", "c", "y")


def central_differences(x, w, vx, vw, h=1e-6):
    """d/dε of every intermediate of ``program`` at (x + ε vx, w + ε vw), by central differences."""
    def at(eps):
        with torch.no_grad():
            return program(torch.tensor(x.array + eps * vx), torch.tensor(w.array + eps * vw))
    plus, minus = at(h), at(-h)
    return {name: (p.array - m.array) / (2 * h) for name, p, m in zip(NAMES, plus, minus)}


def recorded():
    x, w = randn64(3, seed=1, requires_grad=True), randn64(3, seed=2, requires_grad=True)
    vx, vw = np.random.default_rng(3).standard_normal((2, 3))
    a, b, c, y = program(x, w)
    return x, w, vx, vw, (a, b, c, y)


def dot_nodes(source):
    """DOT node id -> its attribute text (label and the rest), from the digraph's source."""
    return dict(re.findall(r"^\t(\w+) \[(.*)\]$", source, re.M))


# ----------------------------------------------------------------------------- the stepper's state
def test_forward_steps_come_in_record_order_from_inputs_to_output():
    x, w, vx, vw, (a, b, c, y) = recorded()
    widget = GraphWidget(y, mode="forward", tangents={x: vx, w: vw})
    steps = widget._run.steps
    assert [s.seq for s in steps] == sorted(s.seq for s in steps)
    ops_in_record_order = [n.detail for n in sorted(widget._full.ops, key=lambda n: int(n.id[2:]))]
    assert [s.name for s in steps] == ops_in_record_order
    assert steps[-1].record is y.grad_fn  # the last step makes the output's tangent


def test_each_steps_tangent_is_the_derivative_along_the_seed():
    x, w, vx, vw, (a, b, c, y) = recorded()
    widget = GraphWidget(y, mode="forward", tangents={"x": vx, "w": vw})
    expected = central_differences(x, w, vx, vw)
    seen = {"x", "w"}
    assert set(widget.shown_tangents) == seen  # step 0: only the seeds
    for k in range(1, widget.n_steps + 1):
        widget.step = k
        shown = widget.shown_tangents
        new = set(shown) - seen
        assert len(new) == 1  # each step reaches exactly one more tensor
        seen |= new
        for name in new & set(NAMES):
            np.testing.assert_allclose(shown[name], expected[name], rtol=1e-6, atol=1e-8)
    assert set(NAMES) <= seen
    # the same numbers as forward mode on dual numbers (func.jvp), to rounding
    _, jvps = func.jvp(program, (x.detach(), w.detach()), (torch.tensor(vx), torch.tensor(vw)))
    for name, tangent in zip(NAMES, jvps):
        np.testing.assert_allclose(widget.shown_tangents[name], tangent.array, rtol=1e-12)


def test_the_jvp_line_has_the_rules_words_and_the_numbers():
    x, w, vx, vw, (a, b, c, y) = recorded()
    widget = GraphWidget(y, mode="forward", tangents={x: vx, w: vw})
    widget.step = 1  # a = x * w
    terms = vx * w.array, x.array * vw
    line, where = widget.explanation.splitlines()[:2]
    assert line == (f"Step 1 of {widget.n_steps}: mul: tangent(a) = tangent(x) · w + x · tangent(w) = "
                    f"{preview(terms[0] + terms[1])}")
    assert where == (f"with tangent(x) = {preview(vx)}, tangent(w) = {preview(vw)}, "
                     f"x = {preview(x.array)}, w = {preview(w.array)}")
    state = ForwardState(widget._run, widget._drawn, 1)
    op = state.current
    np.testing.assert_allclose(state.edge_tangents[(op, 0)], terms[0])
    np.testing.assert_allclose(state.edge_tangents[(op, 1)], terms[1])
    widget.step = widget.n_steps
    last = widget.explanation.splitlines()[-1]
    assert last.startswith(f"tangent(y) = {preview(central_differences(x, w, vx, vw)['y'])}: the derivative of y")


def test_default_tangent_is_ones_on_every_leaf_that_requires_grad():
    x, w = randn64(3, seed=1, requires_grad=True), randn64(3, seed=2)  # w: a constant
    a, b, c, y = program(x, w)
    widget = GraphWidget(y, mode="forward")
    assert list(widget.tangents) == ["x"]
    np.testing.assert_array_equal(widget.tangents["x"], np.ones(3))
    widget.step = widget.n_steps
    expected = central_differences(x, w, np.ones(3), np.zeros(3))["y"]
    np.testing.assert_allclose(widget.shown_tangents["y"], expected, rtol=1e-6)


def test_both_switches_walks_on_one_drawing():
    x, w, vx, vw, (a, b, c, y) = recorded()
    widget = GraphWidget(y, mode="both", tangents={x: vx, w: vw})
    drawn, reverse_steps = widget._drawn, widget.n_steps
    nodes_reverse = set(dot_nodes(widget._picture.value.replace("&quot;", '"')))
    widget.step = 3
    widget.direction = "forward"
    assert widget._drawn is drawn and widget.step == 0
    assert widget.n_steps == len(drawn.ops) and widget._slider.max == widget.n_steps
    assert set(dot_nodes(widget._picture.value.replace("&quot;", '"'))) == nodes_reverse
    widget.step = widget.n_steps
    forward_y = widget.shown_tangents["y"]
    widget.direction = "reverse"
    assert widget.n_steps == reverse_steps == widget._slider.max and widget.step == 0
    widget.step = widget.n_steps
    shown = widget.shown_grads
    y.backward()
    np.testing.assert_allclose(shown["x"], x.grad.array)
    # the two walks agree: the gradient along the seed is the tangent (grad · v = J v)
    np.testing.assert_allclose(forward_y, x.grad.array @ vx + w.grad.array @ vw, rtol=1e-12)
    assert [type(c).__name__ for c in widget.children[1].children][0] == "ToggleButtons"


def test_reverse_stays_the_default_and_has_no_switch():
    x, w, vx, vw, (a, b, c, y) = recorded()
    widget = GraphWidget(y)
    assert widget.mode == "reverse" and widget.direction == "reverse"
    assert all(type(c).__name__ == "ToggleButton" for c in widget.children[1].children)
    with pytest.raises(Exception, match="direction must be 'reverse'"):
        widget.direction = "forward"
    assert widget.direction == "reverse" and widget.tangents == {}


@pytest.mark.parametrize("mode, tangents, error, words", [
    ("sideways", None, ValueError, "mode must be one of 'reverse', 'forward', 'both', not 'sideways'"),
    ("reverse", {"x": np.ones(3)}, ValueError, "tangents= seeds the forward walk"),
    ("forward", {"x": np.ones(2)}, RuntimeError,
     r"different size than that of the original Tensor.*size \[3\] while the given forward gradient is of size \[2\]"
     r".*\nThe tangent of x .* give it x's shape \(3,\)"),
    ("forward", {"b": np.ones(3)}, ValueError, "'b' is not a leaf that requires grad\n.*give tangents to x, w"),
    ("forward", {"xx": np.ones(3)}, ValueError, "no leaf named 'xx' in this graph\ndid you mean 'x'"),
    ("both", [np.ones(3)], TypeError, "tangents must be a dict"),
])
def test_bad_mode_or_tangents_say_what_and_how_to_fix_it(mode, tangents, error, words):
    x, w, vx, vw, (a, b, c, y) = recorded()
    with pytest.raises(error, match=words):
        GraphWidget(y, mode=mode, tangents=tangents)


def test_a_tangent_for_a_computed_tensor_or_a_stranger_is_refused():
    x, w, vx, vw, (a, b, c, y) = recorded()
    with pytest.raises(ValueError, match="computed by MulBackward0, not a leaf"):
        GraphWidget(y, mode="forward", tangents={a: np.ones(3)})
    with pytest.raises(ValueError, match="not a leaf of this graph"):
        GraphWidget(y, mode="forward", tangents={torch.ones(3, requires_grad=True): np.ones(3)})


def test_a_bad_new_tangent_leaves_the_widget_working():
    x, w, vx, vw, (a, b, c, y) = recorded()
    widget = GraphWidget(y, mode="both", tangents={x: vx, w: vw})
    widget.direction = "forward"
    widget.step = 2
    before = widget.explanation
    for bad in ({x: np.ones(5)}, {"nope": 1.0}, {a: np.ones(3)}):
        with pytest.raises((ValueError, RuntimeError)):
            widget.tangents = bad
        assert widget.step == 2 and widget.explanation == before
    with pytest.raises(Exception, match="direction must be"):
        widget.direction = "sideways"
    assert widget.direction == "forward"
    widget.tangents = {x: vx}  # w's tangent now 0: the derivative along x alone
    widget.step = widget.n_steps
    expected = central_differences(x, w, vx, np.zeros(3))["y"]
    np.testing.assert_allclose(widget.shown_tangents["y"], expected, rtol=1e-6)


def test_forward_through_a_folded_run_steps_one_op_at_a_time():
    torch.manual_seed(1)
    a = torch.randn(size=(), dtype=torch.float64, requires_grad=True)
    d = control_flow_f(a)
    widget = GraphWidget(d, mode="forward")
    folded = [n for n in widget._drawn.nodes if n.members]
    assert folded and widget.n_steps == len(widget._full.ops)
    widget.step = 4
    assert re.search(r"mul \d+ of \d+ in the node mul ×\d+", widget.explanation)
    widget.step = widget.n_steps
    h = 1e-6
    with torch.no_grad():
        numeric = (control_flow_f(a + h).item() - control_flow_f(a - h).item()) / (2 * h)
    assert float(widget.shown_tangents["d"]) == pytest.approx(numeric, rel=1e-6)


def test_a_freed_graph_has_no_forward_steps_and_says_why():
    x, w, vx, vw, (a, b, c, y) = recorded()
    y.backward()
    widget = GraphWidget(y, mode="forward")
    assert widget.n_steps == 0 and "retain_graph=True" in widget.explanation


# ----------------------------------------------------------------------------- the picture (DOT)
def test_forward_picture_marks_reached_nodes_and_shows_their_tangents():
    x, w, vx, vw, (a, b, c, y) = recorded()
    desc, _ = full_description([y], None)
    run = forward_steps(y, desc, {x: vx, w: vw})
    label = {n.label: n.id for n in desc.nodes if n.kind == "tensor"}
    expected = central_differences(x, w, vx, vw)

    start = dot_nodes(to_digraph(desc, state=ForwardState(run, desc, 0)).source)
    assert f"tangent {preview(vx)}" in start[label["x"]] and f"tangent {preview(vw)}" in start[label["w"]]
    assert not any("tangent" in start[label[name]] for name in NAMES)
    forward_source = to_digraph(desc, state=ForwardState(run, desc, 0)).source
    assert "op; n = its step in the forward walk" in forward_source
    assert "output: the tangent arrives here" in forward_source and "backward" not in forward_source
    assert "output: backward() starts here" in to_digraph(desc).source  # the reverse picture keeps its words

    source = to_digraph(desc, state=ForwardState(run, desc, 2)).source
    after_two = dot_nodes(source)
    current = [nid for nid, attrs in after_two.items() if "class=current" in attrs]
    assert current == [run.steps[1].node_id]  # the second op in record order: sin
    assert f"tangent {preview(expected['b'])}" in after_two[label["b"]]
    assert "tangent" not in after_two[label["c"]]  # not reached yet
    # the current op's input edge carries the JVP term it sent, in the tangents' colour
    term = preview(np.cos(x.array * w.array) * (vx * w.array + x.array * vw))
    assert re.search(rf'{label["a"]} -> {run.steps[1].node_id} \[label="→ {re.escape(term)}" color="#1565c0"', source)
    assert "grad " not in source  # no gradients in a forward picture


def test_forward_badges_number_the_ops_in_forward_order():
    x, w, vx, vw, (a, b, c, y) = recorded()
    desc, _ = full_description([y], None)
    run = forward_steps(y, desc, {x: vx, w: vw})
    nodes = dot_nodes(to_digraph(desc, state=ForwardState(run, desc, 1)).source)
    for number, step in enumerate(run.steps, start=1):
        assert f"<b>{number}</b>" in nodes[step.node_id]
    first = nodes[run.steps[0].node_id]
    assert "#d84315" in first and "#bdbdbd" in nodes[run.steps[1].node_id]  # done / not reached yet


# ----------------------------------------------------------------------------- explain(mode="forward")
def test_explain_forward_prints_each_jvp_with_the_numbers():
    x = randn64(4, seed=5, requires_grad=True)
    v = np.random.default_rng(6).standard_normal(4)
    y = 2 * torch.dot(x, x)
    text = str(viz.explain(y, mode="forward", tangents={x: v}))
    dot_tangent = 2 * x.array @ v  # d/dε (x + εv)·(x + εv) at 0
    assert text.splitlines() == [
        f"forward to y, seed tangent(x) = {preview(v)}",
        f"1. dot: tangent(dot) = tangent(x) · x + x · tangent(x) = {preview(dot_tangent)}",
        f"   with tangent(x) = {preview(v)}, x = {preview(x.array)}",
        f"2. mul: tangent(y) = tangent(dot) · 2 = {preview(2 * dot_tangent)}",
        f"   with tangent(dot) = {preview(dot_tangent)}",
        f"tangent(y) = {preview(2 * dot_tangent)}: the derivative of y along the seed, "
        "d/dε y(x + ε·tangent(x)) at ε = 0",
    ]
    assert x.grad is None


def test_explain_forward_agrees_with_central_differences_on_a_longer_program():
    x, w, vx, vw, (a, b, c, y) = recorded()
    explanation = viz.explain(y, mode="forward", tangents={"x": vx, "w": vw})
    _, jvps = func.jvp(program, (x.detach(), w.detach()), (torch.tensor(vx), torch.tensor(vw)))
    expected = central_differences(x, w, vx, vw)
    lines = {line.split(": ", 1)[1].split(" = ")[0]: line for line in explanation.lines}
    assert list(lines) == ["tangent(a)", "tangent(b)", "tangent(exp)", "tangent(c)", "tangent(mul)", "tangent(y)"]
    for name, tangent in zip(NAMES, jvps):
        np.testing.assert_allclose(tangent.array, expected[name], rtol=1e-6, atol=1e-8)
        assert lines[f"tangent({name})"].endswith(" = " + preview(tangent.array))
    assert len(explanation.where) == 6


def test_explain_forward_mode_errors():
    x, w, vx, vw, (a, b, c, y) = recorded()
    with pytest.raises(ValueError, match="mode must be one of 'reverse', 'forward', not 'both'"):
        viz.explain(y, mode="both")
    with pytest.raises(ValueError, match="gradient= seeds the reverse walk"):
        viz.explain(y, mode="forward", gradient=torch.ones(()))


@pytest.mark.torch
def test_forward_widget_matches_torch_func_jvp(torch):
    x, w, vx, vw, (a, b, c, y) = recorded()
    widget = GraphWidget(y, mode="forward", tangents={x: vx, w: vw})
    widget.step = widget.n_steps

    def reference(x, w):
        return program(x, w)
    _, ref = torch.func.jvp(reference, (torch.tensor(x.array), torch.tensor(w.array)),
                            (torch.tensor(vx), torch.tensor(vw)))
    for name, tangent in zip(NAMES, ref):
        np.testing.assert_allclose(widget.shown_tangents[name], tangent.numpy(), rtol=1e-12)


def test_the_grads_toggle_becomes_tangents_in_the_forward_walk_and_hides_them():
    x, w, vx, vw, (a, b, c, y) = recorded()
    widget = GraphWidget(y, names={"x": x, "w": w}, mode="both", tangents={x: vx, w: vw})
    assert widget._derivatives.description == "grads"
    widget.direction = "forward"
    assert widget._derivatives.description == "tangents"
    widget.direction = "reverse"
    assert widget._derivatives.description == "grads"

    desc, _ = full_description([y], None)
    run = forward_steps(y, desc, {x: vx, w: vw})
    end = ForwardState(run, desc, len(run.steps))
    shown = dot_nodes(to_digraph(desc, state=end).source)
    hidden = dot_nodes(to_digraph(desc, state=end, grads=False).source)
    assert any(f"tangent {preview(vx)}" in label for label in shown.values())
    assert not any("tangent " in label for label in hidden.values())
