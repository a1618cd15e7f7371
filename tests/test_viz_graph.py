"""The plain graph description of every worked example of the chapter: nodes, edges, roles, order."""
import math

import numpy as np

import autodiff_nb as torch
from autodiff_nb.viz import describe
from autodiff_nb.viz.examples import control_flow_f


def edges_of(g):
    """Edges as (src label, dst label, kind, slot): what a learner would read off the picture."""
    return [(g.node(e.src).label, g.node(e.dst).label, e.kind, e.slot) for e in g.edges]


def only(g, label, **fields):
    found = g.find(label, **fields)
    assert len(found) == 1, (label, fields, found)
    return found[0]


def test_y_is_2_xT_x_draws_x_dot_mul_y():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    g = describe(y)
    assert [(n.label, n.kind, n.role) for n in g.nodes] == [
        ("x", "tensor", "leaf"), ("2", "tensor", "constant"),
        ("dot", "op", "op"), ("dot", "tensor", "intermediate"),
        ("mul", "op", "op"), ("y", "tensor", "output"),
    ]
    assert edges_of(g) == [
        ("x", "dot", "normal", 0), ("x", "dot", "normal", 1),  # x is used twice
        ("dot", "dot", "normal", None),
        ("dot", "mul", "normal", 0), ("2", "mul", "normal", 1),  # 2 * t runs as mul(t, 2), as PyTorch
        ("mul", "y", "normal", None),
    ]
    # backward visits mul, then dot, then writes x.grad
    assert only(g, "mul", kind="op").backward_order == 1
    assert only(g, "dot", kind="op").backward_order == 2
    assert only(g, "x").backward_order == 3
    x_node = only(g, "x")
    assert (x_node.shape, x_node.value, x_node.grad) == ((4,), "[0, 1, 2, 3]", "—")
    assert only(g, "y").value == "28"
    assert only(g, "dot", kind="op").detail == "DotBackward0"
    assert g.roots == [only(g, "y").id]


def test_gradient_shows_after_backward_and_freed_values_say_so():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    y.backward()
    g = describe(y)
    assert only(g, "x").grad == "[0, 4, 8, 12]"
    assert only(g, "y").grad == "—"  # a non-leaf keeps no .grad: None, not 0
    assert all(op.freed for op in g.ops)
    assert only(g, "dot", kind="tensor").value is None  # released by backward
    assert only(g, "dot", kind="tensor").shape == ()  # the shape survives
    assert only(g, "y").value == "28"  # y itself is still held by the caller
    assert g.find(role="constant")[0].label == "2"  # Python numbers survive the release


def test_sum_example():
    x = torch.arange(4.0, requires_grad=True)
    y = x.sum()
    g = describe(y)
    assert [(n.label, n.role) for n in g.nodes] == [("x", "leaf"), ("sum", "op"), ("y", "output")]
    assert edges_of(g) == [("x", "sum", "normal", 0), ("sum", "y", "normal", None)]
    assert only(g, "sum").detail == "SumBackward0"


def test_non_scalar_output_x_times_x():
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    g = describe(y)
    assert [(n.label, n.role) for n in g.nodes] == [("x", "leaf"), ("mul", "op"), ("y", "output")]
    assert only(g, "y").value == "[0, 1, 4, 9]" and only(g, "y").shape == (4,)


def test_detach_cut_is_a_dashed_edge_from_y_to_u():
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    u = y.detach()
    z = u * x
    g = describe(z.sum())
    assert only(g, "u").role == "detached"
    assert ("y", "u", "detach", None) in edges_of(g)
    assert [e for e in edges_of(g) if e[2] == "detach"] == [("y", "u", "detach", None)]
    # the gradient path: sum (1) -> mul of u and x (2) -> x.grad (3); y's mul is off the path
    ops = {(n.label, n.backward_order) for n in g.ops}
    assert ops == {("mul", None), ("mul", 2), ("sum", 1)}
    assert only(g, "x").backward_order == 3
    assert only(g, "z").role == "intermediate"
    assert only(g, "sum", kind="tensor").role == "output"
    assert ("u", "mul", "normal", 0) in edges_of(g) and ("x", "mul", "normal", 1) in edges_of(g)


def test_y_still_differentiates_after_the_detach():
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    u = y.detach()  # noqa: F841  (the chapter makes it; y's own graph is untouched)
    g = describe(y.sum())
    assert [(n.label, n.role, n.backward_order) for n in g.nodes] == [
        ("x", "leaf", 3), ("mul", "op", 2), ("y", "intermediate", None), ("sum", "op", 1),
        ("sum", "output", None),
    ]
    assert not any(e.kind == "detach" for e in g.edges)


def test_control_flow_records_only_the_executed_ops():
    torch.manual_seed(1)
    a = torch.randn(size=(), requires_grad=True)
    d = control_flow_f(a)
    g = describe(d, repeats="show")  # every op; the default folds the run (test_viz_layout.py)
    # d = a * 2**k: exactly k multiplications ran; the norm() and sum() tests are not on d's graph
    k = round(math.log2(float(d.array / a.array)))
    assert [op.detail for op in g.ops] == ["MulBackward0"] * k
    assert len(g.find("2", role="constant")) == k
    assert [n.backward_order for n in g.ops] == list(range(k, 0, -1))
    assert only(g, "a").role == "leaf" and only(g, "d").role == "output"


def test_control_flow_negative_branch_multiplies_by_100():
    a = torch.tensor(-0.3, requires_grad=True)
    d = control_flow_f(a)
    g = describe(d)
    last = g.ops[-1]
    assert (last.label, last.backward_order) == ("mul", 1)
    assert only(g, "100").role == "constant"
    assert [n.label for n in g.inputs_of(last.id)][1] == "100"
    assert g.output_of(last.id).label == "d"


def test_exercise_log_x2_sin_x_plus_1_over_x():
    x = torch.tensor(2.0, requires_grad=True)
    f = torch.log(x ** 2) * torch.sin(x) + 1 / x
    g = describe(f)
    assert [op.label for op in g.ops] == ["pow", "log", "sin", "mul", "reciprocal", "mul", "add"]
    assert [n.label for n in g.find(kind="tensor", role="intermediate")] == [
        "pow", "log", "sin", "mul_1", "reciprocal", "mul_2"]
    assert sorted(n.backward_order for n in g.ops) == list(range(1, 8))
    assert only(g, "x").backward_order == 8


def test_names_come_from_names_argument_first():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    g = describe(y, names={"weights": x})
    assert g.find("weights") and not g.find("x")
    g = describe(y, names={x: "w"})  # tensor -> name works too
    assert g.find("w")
    g = describe(y * 1, names=["loss"])  # a list names the drawn tensors
    assert g.node(g.roots[0]).label == "loss"


def test_unnamed_results_are_named_after_their_op():
    x = torch.arange(4.0, requires_grad=True)
    g = describe((x * x * x).sum())
    assert [n.label for n in g.find(kind="tensor")] == ["x", "mul_1", "mul_2", "sum"]


def test_retained_and_leaf_roles():
    x = torch.arange(4.0, requires_grad=True)
    h = x * 3
    h.retain_grad()
    c = torch.ones(4)
    y = (h * c).sum()
    g = describe(y)
    assert only(g, "h").role == "retained"
    assert only(g, "c").role == "constant" and only(g, "c").grad is None
    assert only(g, "x").role == "leaf"


def test_same_code_same_description():
    def run():
        x = torch.arange(4.0, requires_grad=True)
        y = 2 * torch.dot(x, x)
        return describe(y, names={"x": x, "y": y})

    first, second = run(), run()
    assert first.nodes == second.nodes and first.edges == second.edges


def test_describing_changes_nothing():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    describe(y)
    assert x.grad is None
    assert not y.grad_fn.released
    y.backward()
    assert np.array_equal(x.grad.array, [0, 4, 8, 12])


def test_folding_keeps_the_newest_ops_and_says_how_many_it_hid():
    x = torch.ones(2, requires_grad=True)
    h = x
    for _ in range(50):
        h = torch.tanh(h)
    g = describe(h, max_nodes=20, repeats="show")
    assert len(g.nodes) <= 20
    summary = g.find(kind="summary")[0]
    assert g.hidden_ops == int(summary.label.split()[0]) > 0
    assert "TanhBackward0" in summary.detail
    assert len(g.ops) + g.hidden_ops == 50
    assert max(op.backward_order for op in g.ops) == len(g.ops)  # the first steps stay visible
    assert any(e.src == summary.id for e in g.edges)
    assert describe(h, max_nodes=None, repeats="show").hidden_ops == 0


def test_since_draws_only_the_ops_recorded_after_it():
    x = torch.arange(4.0, requires_grad=True)
    h = x * 3
    first_seq = h.grad_fn.seq + 1  # what %%autodiff notes before running a cell
    y = (h * x).sum()
    g = describe(y, since=first_seq)
    assert [op.label for op in g.ops] == ["mul", "sum"]
    assert g.hidden_ops == 1
    assert only(g, "h").role == "intermediate"  # made earlier: fed in from the summary node
    summary = g.find(kind="summary")[0]
    assert (summary.id, only(g, "h").id) in {(e.src, e.dst) for e in g.edges}


def test_names_from_the_ipython_user_namespace(monkeypatch):
    from autodiff_nb.viz import names

    x = torch.arange(4.0, requires_grad=True)
    user_ns = {"weights": x, "_": x, "Out": {1: x}}  # underscore names are IPython's, not the learner's
    monkeypatch.setattr(names, "_ipython_user_ns", lambda: user_ns)

    def helper(box):  # a frame where x has no name of its own
        return describe(box[0].sum() * 1)

    g = helper([x])
    assert g.find("weights", role="leaf")


def test_draw_and_describe_say_what_they_need():
    import pytest

    from autodiff_nb.viz import draw

    with pytest.raises(TypeError, match=r"needs at least one tensor"):
        draw()
    with pytest.raises(TypeError, match=r"takes tensors, got ndarray"):
        describe(np.zeros(3))
    with pytest.raises(ValueError, match="show_ops"):
        describe(torch.ones(2), show_ops="long")


def test_a_constant_alone_is_one_node():
    c = torch.ones(2)
    g = describe(c)
    assert [(n.label, n.role) for n in g.nodes] == [("c", "constant")] and g.edges == []
