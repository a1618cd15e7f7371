"""Views as PyTorch has them (issue 10, views.py): a view shares its base's version counter, an
in-place op through a view is recorded on the base (CopySlices), and a view taken before its base
changed in place sees the change (AsStridedBackward0). Every case runs the same code on PyTorch and on
the engine; gradients are also checked against central differences in float64."""
import numpy as np
import pytest

import autodiff_nb as ad

pytestmark = pytest.mark.torch


def run(lib, code):
    """``code`` on ``lib`` (named ``t``): ("ok", {name: what it is}) or ("error", type, first sentence)."""
    scope = {"t": lib}
    try:
        exec(code, scope)
    except Exception as error:  # noqa: BLE001  (the type and the sentence are what we compare)
        return ("error", type(error).__name__, str(error).splitlines()[0].split(" Hint:")[0])
    return ("ok", {name: _seen(value) for name, value in scope.items() if name.startswith("out_")})


def _name(node):
    return None if node is None else node.name().rsplit("::", 1)[-1]


def _seen(value):
    if isinstance(value, (int, bool, str, type(None))):
        return value
    if isinstance(value, (tuple, list)):
        return tuple(_seen(v) for v in value)
    if hasattr(value, "next_functions"):  # a node
        return (_name(value), tuple(_name(n) for n, _ in value.next_functions))
    return (np.round(value.detach().numpy().astype(np.float64), 5).tolist(), str(value.dtype), _name(value.grad_fn),
            value.requires_grad, value.is_leaf)


def same_as_torch(torch, code):
    ours, theirs = run(ad, code), run(torch, code)
    assert ours == theirs
    return ours


# ----------------------------------------------------------------------------------- 1. one counter
def test_a_change_through_a_view_under_no_grad_is_noticed_by_the_node_that_saved_the_base(torch):
    outcome = same_as_torch(torch, """
x = t.tensor([1., 2., 3.], requires_grad=True)
y = x.exp(); v = y[1:]
with t.no_grad():
    v += 1
y.sum().backward()
""")
    assert outcome[:2] == ("error", "RuntimeError")
    assert "which is output 0 of Exp, is at version 1; expected version 0 instead." in outcome[2]


def test_a_change_through_a_view_of_a_detached_alias_is_noticed(torch):
    outcome = same_as_torch(torch, """
x = t.tensor([1., 2., 3.], requires_grad=True)
y = x.exp(); d = y.detach(); d[1:].add_(1)
y.sum().backward()
""")
    assert outcome[0] == "error" and "modified by an inplace operation" in outcome[2]


def test_views_and_detach_share_the_version_counter_and_data_does_not(torch):
    same_as_torch(torch, """
x = t.tensor([1., 2., 3.], requires_grad=True)
y = x * 1; a = y[:2]; d = y.detach(); w = y.data
a.add_(1)
out_1 = (y._version, a._version, d._version, w._version)
d.add_(1); w.add_(1)
out_2 = (y._version, a._version, d._version, w._version)
out_3 = (a._is_view(), a._base is y, a[1:]._base is y, d._is_view(), w._is_view(), y[[0, 1]]._is_view())
""")


def test_a_value_saved_through_a_view_and_changed_through_its_base_is_noticed(torch):
    outcome = same_as_torch(torch, """
x = t.tensor([[-0.5, 2.0], [2.0, 0.5]], requires_grad=True)
b = x * 2; v = b[1:]; s = v.sin()
b.mul_(x)
(s.sum() + b.sum()).backward()
""")
    assert "which is output 0 of AsStrided, is at version 1" in outcome[2]


def test_a_value_saved_before_an_in_place_op_through_a_view_names_copy_slices(torch):
    outcome = same_as_torch(torch, """
x = t.tensor([[1.0, 2.0]], requires_grad=True)
b = x * 2; s = b * b; b[0].mul_(3)
(s.sum() + b.sum()).backward()
""")
    assert "which is output 0 of torch::autograd::CopySlices" in outcome[2]


# ----------------------------------------------------------------------------------- 2. rebasing
def test_in_place_through_a_slice_rebases_the_history_on_copy_slices(torch):
    outcome = same_as_torch(torch, """
x = t.tensor([1., 2., 3.], requires_grad=True)
y = x * 1; v = y[1:]
out_before = v.grad_fn
v.mul_(2)
out_v, out_y, out_fresh_view = v, y, y[1:]
out_nodes = (v.grad_fn, y.grad_fn)
(y * t.tensor([1., 2., 3.])).sum().backward()
out_grad = x.grad
""")
    seen = outcome[1]
    assert seen["out_nodes"] == (("AsStridedBackward0", ("CopySlices",)), ("CopySlices", ("MulBackward0", None)))
    assert seen["out_grad"][0] == [1.0, 4.0, 6.0]


@pytest.mark.parametrize("view, change", [
    ("y[1]", "v.mul_(x[0])"), ("y[:, 1:]", "v.add_(x[:, :1] * x[:, 1:])"), ("y.T", "v.mul_(t.tensor([1., 10.]))"),
    ("y.view(-1)", "v.div_(x.view(-1) + 3)"), ("y[1][1:]", "v.mul_(x[0, 1:])"), ("y.unsqueeze(0)", "v.sub_(x * x)"),
    ("y.t()[1:]", "v.copy_(x[:, :1].T * 5)"), ("y[0]", "v.zero_()"), ("y[:, 0]", "v.clamp_(min=1.5)"),
    ("y.expand(2, 2, 2)[1]", "v.fill_(0.5)"), ("y[1:]", "v[0, 1] = x[0, 0] * 4"),
])
def test_gradients_through_an_in_place_op_on_a_view_match_pytorch_and_central_differences(torch, view, change):
    code = f"""
x = t.tensor([[1., 2.], [3., 4.]], dtype=t.float64, requires_grad=True)
y = x * x; v = {view}
{change}
out_y, out_v = y, v
(y * t.tensor([[1., 2.], [3., 5.]], dtype=t.float64)).sum().backward()
out_grad = x.grad
"""
    outcome = same_as_torch(torch, code)
    assert outcome[0] == "ok"

    def loss(values):
        scope = {"t": ad}
        exec(code.replace("requires_grad=True", "").replace("[[1., 2.], [3., 4.]]", repr(values.tolist()))
             .split("(y * t")[0] + "out = (y * t.tensor([[1., 2.], [3., 5.]], dtype=t.float64)).sum().item()", scope)
        return scope["out"]

    point, h = np.array([[1., 2.], [3., 4.]]), 1e-6
    numeric = np.zeros_like(point)
    for i in np.ndindex(point.shape):
        step = np.zeros_like(point)
        step[i] = h
        numeric[i] = (loss(point + step) - loss(point - step)) / (2 * h)
    np.testing.assert_allclose(outcome[1]["out_grad"][0], numeric, rtol=1e-6, atol=1e-6)


def test_an_in_place_op_on_a_view_brings_the_history_into_a_base_that_had_none(torch):
    same_as_torch(torch, """
x = t.tensor([1., 2.], requires_grad=True)
b = t.zeros(3); old = b[:1]; v = b[1:]
v.add_(x)
out_b, out_v, out_old = b, v, old
out_nodes = (b.grad_fn, old.grad_fn)
(b * t.tensor([1., 2., 3.])).sum().backward()
out_grad = x.grad
""")


def test_in_place_through_a_view_of_a_leaf_is_refused_with_pytorchs_words(torch):
    outcome = same_as_torch(torch, "x = t.tensor([1., 2.], requires_grad=True)\nx[1:].mul_(2)")
    assert outcome[2] == "a view of a leaf Variable that requires grad is being used in an in-place operation."


def test_writing_into_an_expand_is_refused_and_fill_fails_at_backward(torch):
    assert same_as_torch(torch, "b = t.ones(2); b.expand(2, 2).mul_(3)")[0] == "error"
    outcome = same_as_torch(torch, """
x = t.ones(2, requires_grad=True); b = x * 1; b.expand(2, 2).fill_(3)
out_b = b
b.sum().backward()
""")
    assert outcome[2].startswith("unsupported operation: more than one element of the written-to tensor")


def test_an_in_place_op_on_an_empty_view(torch):
    same_as_torch(torch, """
x = t.tensor([[-2.0, 3.0]], requires_grad=True)
b = x * 2; v = b[1:]; v += x.sum()
out_b, out_v = b, v
b.sum().backward()
out_grad = x.grad
""")


# ----------------------------------------------------------------------------------- 3. regrown views
def test_a_view_taken_before_its_base_was_zeroed_sees_the_zeros(torch):
    outcome = same_as_torch(torch, """
x = t.tensor([1., 2.], requires_grad=True)
y = x * 3; z = y[0]; y.zero_()
out_node = z.grad_fn
z.backward()
out_grad = x.grad
""")
    assert outcome[1]["out_grad"][0] == [0.0, 0.0]
    assert outcome[1]["out_node"] == ("AsStridedBackward0", ("ZeroBackward0",))


@pytest.mark.parametrize("view", ["y[1:]", "y.view(-1)", "y.T", "y.expand(3, 2, 2)", "y[:, 0]", "y.reshape(4)[1:3]"])
def test_a_view_regrown_from_its_base_after_an_in_place_op(torch, view):
    outcome = same_as_torch(torch, f"""
x = t.tensor([[1., 2.], [3., 4.]], dtype=t.float64, requires_grad=True)
y = x * 2; v = {view}
y.mul_(x)
out_v = v
out_node = v.grad_fn
(v * t.arange(1., v.numel() + 1, dtype=t.float64).reshape(v.shape)).sum().backward()
out_grad = x.grad
""")
    assert outcome[1]["out_node"][0] == "AsStridedBackward0"


def test_a_view_of_a_leaf_changed_under_no_grad_is_regrown_onto_the_leaf(torch):
    same_as_torch(torch, """
x = t.tensor([1., 2., 3.], requires_grad=True)
v = x[1:]
with t.no_grad():
    x.add_(1)
out_node = v.grad_fn
v.sum().backward()
out_grad = x.grad
""")


# ----------------------------------------------------------------------------------- item assignment
@pytest.mark.parametrize("key, value", [
    (":", "7.5"), ("...", "t.tensor(0.5)"), (":", "t.tensor([1.5, 2.5])"), ("0", "7.5"), ("-2:", "7.5"),
    ("None", "t.tensor([1.5])"), ("[0]", "7.5"), ("[0], 0", "7.5"), ("0, [0]", "t.tensor([1.5])"),
    (":, [0]", "7.5"), ("0:5", "7.5"),
])
def test_item_assignment_takes_pytorchs_route_and_node(torch, key, value):
    same_as_torch(torch, f"""
x = t.tensor([[1., 2.], [3., 4.]], requires_grad=True)
h = x * 1
h[{key}] = {value}
out_h = h
(h * t.tensor([[1., 2.], [3., 5.]])).sum().backward()
out_grad = x.grad
""")


@pytest.mark.parametrize("key", [":", "...", "0", "1:", "None", "[0]", "[0], 0", ":, [0]", "x > 0", "3, [0]"])
def test_item_assignment_on_a_leaf_is_refused_with_pytorchs_words(torch, key):
    assert same_as_torch(torch, f"x = t.tensor([[1., 2.], [3., 4.]], requires_grad=True)\nx[{key}] = 1.")[0] == "error"


# ----------------------------------------------------------------------------------- .data
def test_a_step_through_data_is_not_recorded_nor_counted(torch):
    same_as_torch(torch, """
w = t.tensor([1., -2.], requires_grad=True)
(w * w).sum().backward()
w.data -= 0.5 * w.grad
out_w, out_version = w, w._version
w.grad = None
(w * w).sum().backward()
out_grad = w.grad
w.data = w.data - 0.5 * w.grad
out_w2 = w
""")


def test_a_saved_value_changed_through_data_is_not_noticed_but_through_detach_it_is(torch):
    same_as_torch(torch, """
w = t.tensor([1., -2.], requires_grad=True)
y = w.exp(); y.data.mul_(2)
y.sum().backward()
out_grad = w.grad
""")
    assert same_as_torch(torch, """
w = t.tensor([1., -2.], requires_grad=True)
y = w.exp(); y.detach().mul_(2)
y.sum().backward()
""")[0] == "error"
