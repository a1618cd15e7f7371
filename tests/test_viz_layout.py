"""Issue 13: drawings that stay readable as graphs grow.

Folded repeats, operand labels, small constants in op labels, gradient heat, module clusters (with
a test double for the module protocol of viz/modules.py), and real ``dot`` renders of the
chapter-sized graphs, measured: at most ~1,500 pt wide, text never below 9 pt.
"""
import contextlib
import re
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import autodiff_nb as torch
from autodiff_nb import tape
from autodiff_nb.viz import GraphWidget, describe, draw, explain, tape_table
from autodiff_nb.viz.examples import control_flow_f

SVG = "{http://www.w3.org/2000/svg}"


def edges_into(source, node_id):
    return [line.strip() for line in source.splitlines() if re.search(rf"-> {node_id}\b", line)]


def edge_label(line):
    m = re.search(r'\blabel=("(?:[^"\\]|\\.)*"|[^\s\]]+)', line)
    return m.group(1).strip('"') if m else None


def op_id(g, label):
    return next(n.id for n in g.ops if n.label == label)


# --------------------------------------------------------------------------- folded repeats
def test_chapter_1_loop_folds_into_one_mul_node_with_its_first_and_last_values():
    a = torch.tensor(0.5, requires_grad=True)
    d = control_flow_f(a)  # b = a * 2, then b = b * 2 while |b| < 1000: 11 multiplications
    g = describe(d, names={"a": a, "d": d})
    (run,) = g.ops
    assert run.label == "mul ×11" and len(run.members) == 11
    assert run.value == "1 … 1024"  # a * 2 = 1 after the first op, 1024 after the last
    # the 10 in-between values are folded; one constant 2 stands for all eleven
    assert [(n.label, n.role) for n in g.find(kind="tensor")] == [("a", "leaf"), ("2", "constant"), ("d", "output")]
    shown = describe(d, names={"a": a, "d": d}, repeats="show")
    assert len(shown.ops) == 11


def test_a_run_needs_the_same_constant_and_three_ops():
    x = torch.tensor(1.0, requires_grad=True)
    g = describe((x * 2) * 2 * 3 * 3 * 3)  # mul 2, mul 2, then a run of three mul 3
    labels = [op.label for op in g.ops]
    assert labels == ["mul", "mul", "mul ×3"]
    g = describe(torch.tanh(torch.tanh(x)))
    assert [op.label for op in g.ops] == ["tanh", "tanh"]  # two do not fold


def test_a_run_does_not_swallow_an_intermediate_used_elsewhere():
    x = torch.tensor(1.0, requires_grad=True)
    h1 = torch.tanh(x)
    h2 = torch.tanh(h1)
    h3 = torch.tanh(h2)
    h4 = torch.tanh(h3)
    y = h4 + h2  # h2 is used twice: the chain is cut there
    g = describe(y, repeats="fold")
    assert "tanh ×4" not in [op.label for op in g.ops]
    assert g.find("h2")


def test_different_leaves_do_not_fold():
    x = torch.ones(2, requires_grad=True)
    ws = [torch.ones(2, requires_grad=True) for _ in range(4)]
    h = x
    for w in ws:
        h = h * w
    assert [op.label for op in describe(h.sum()).ops] == ["mul"] * 4 + ["sum"]


def test_the_folded_run_is_one_node_in_the_dot_and_every_op_in_the_show_dot():
    a = torch.tensor(0.5, requires_grad=True)
    d = control_flow_f(a)
    folded = draw(d).source
    assert folded.count("MulBackward0 (record") == 1 and "mul ×11" in folded
    shown = draw(d, repeats="show").source
    assert shown.count("MulBackward0 (record") == 11


def test_the_stepper_walks_a_folded_run_one_op_at_a_time():
    from autodiff_nb.viz.dot import to_digraph
    from autodiff_nb.viz.steps import StepState

    a = torch.tensor(0.5, requires_grad=True)
    d = control_flow_f(a)
    w = GraphWidget(d, names={"a": a, "d": d})
    assert w.n_steps == 12 and len(w._drawn.ops) == 1
    run = w._drawn.ops[0].id
    for k, expected in [(1, "mul 11 of 11"), (4, "mul 8 of 11"), (11, "mul 1 of 11")]:
        w.step = k
        state = StepState(w._run, w._drawn, k)
        assert state.current == run
        assert expected in to_digraph(w._drawn, state=state).source
        assert expected in w.explanation
    w.step = 12  # AccumulateGrad: a.grad = 2**11
    np.testing.assert_allclose(w.shown_grads["a"], 2048.0)
    assert StepState(w._run, w._drawn, 12).current == w._drawn.find("a")[0].id


# --------------------------------------------------------------------------- operand labels
@pytest.mark.parametrize("make, op, labels", [
    (lambda a, b: a - b, "sub", ["a", "b"]),
    (lambda a, b: a / b, "div", ["a", "b"]),
    (lambda a, b: a ** b, "pow", ["base", "exponent"]),
    (lambda a, b: torch.where(a > 0, a, b), "where", ["then", "else"]),
    (lambda a, b: torch.cat([a, b, a]), "cat", ["0", "1", "2"]),
    (lambda a, b: torch.stack([b, a]), "stack", ["0", "1"]),
])
def test_every_input_edge_of_a_non_commutative_op_is_labelled(make, op, labels):
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    y = make(a, b)
    g = describe(y, names={"a": a, "b": b})
    oid = next(n.id for n in g.ops if n.op == op)
    source = draw(y, names={"a": a, "b": b}).source
    found = sorted(edge_label(line) for line in edges_into(source, oid) if edge_label(line) not in (None, "cond"))
    assert found == sorted(labels)


def test_where_labels_its_condition_and_matmul_its_sides():
    a = torch.ones(2, 2, requires_grad=True)
    b = torch.ones(2, 2, requires_grad=True)
    g = describe(a @ b, names={"a": a, "b": b})
    lab = {(g.node(e.src).label, e.label) for e in g.edges if e.slot is not None}
    assert lab == {("a", "left"), ("b", "right")}
    c = torch.tensor([True, False])
    x = torch.ones(2, requires_grad=True)
    g = describe(torch.where(c, x, x * 0), names={"c": c, "x": x})
    assert ("c", "cond") in {(g.node(e.src).label, e.label) for e in g.edges if e.slot is not None}


def test_commutative_ops_have_no_operand_labels():
    a = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    g = describe(a * b + a, names={"a": a, "b": b})
    assert all(e.label == "" for e in g.edges)


@pytest.mark.parametrize("index, text", [(0, "[0]"), ((slice(None), slice(1, None)), "[:, 1:]")])
def test_the_edge_into_an_indexing_op_shows_the_index(index, text):
    x = torch.arange(6.0, requires_grad=True).reshape(2, 3)
    y = x[index]
    source = draw(y.sum()).source
    g = describe(y.sum())
    oid = next(n.id for n in g.ops if n.op == "index")
    assert [edge_label(line) for line in edges_into(source, oid)] == [text]


def test_rsub_names_the_constant_the_first_operand():
    x = torch.ones(2, requires_grad=True)
    source = draw((2 - x).sum()).source
    assert "2 −" in source  # written as the code reads: 2 - x
    source = draw((x - 2).sum()).source
    assert "− 2" in source


# --------------------------------------------------------------------------- constants inline
def test_small_constants_are_written_into_the_op_not_drawn():
    x = torch.arange(3.0, requires_grad=True)
    y = (x * 2).sum()
    d = draw(y)
    assert "× 2" in d.source
    constant = d.graph.find("2", role="constant")[0]
    assert not re.search(rf"^\s*{constant.id} \[", d.source, re.M)  # no node of its own
    big = torch.ones(3)
    d = draw((x * big).sum(), names={"big": big})
    assert re.search(rf"^\s*{d.graph.find('big')[0].id} \[", d.source, re.M)  # a vector stays a node


# --------------------------------------------------------------------------- heat
def deep_chain(act, depth=12):
    torch.manual_seed(0)
    ws = [torch.tensor(1.5, requires_grad=True) for _ in range(depth)]
    h = torch.tensor(0.5)
    for w in ws:
        h = act(h * w)
    return h, ws


def fills(source):
    return dict(re.findall(r'^\s*(\w+) \[label=<<table[^>]*bgcolor="(#[0-9a-f]{6})"', source, re.M))


def test_gradient_heat_shades_a_vanishing_chain_from_dark_to_light():
    y, ws = deep_chain(torch.sigmoid)
    y.backward()
    grads = [abs(float(w.grad.array)) for w in ws]
    assert grads[0] < grads[-1] * 1e-4  # the sigmoid chain vanishes: it is worth a picture
    d = draw(y, names={f"w{i}": w for i, w in enumerate(ws)}, color_by="grad")
    colours = fills(d.source)
    first, last = d.graph.find("w0")[0].id, d.graph.find("w11")[0].id
    lightness = {k: sum(int(c[i:i + 2], 16) for i in (1, 3, 5)) for k, c in colours.items()}
    assert lightness[first] > lightness[last]  # a small gradient is light, a large one dark
    low = int(np.floor(np.log10(min(grads))))
    assert f"1e{low}" in d.source and "log scale" in d.source  # the legend carries the scale


def test_heat_shades_intermediates_from_a_private_walk_and_leaves_grad_alone():
    y, ws = deep_chain(torch.relu, depth=4)
    g = describe(y, color_by="grad", repeats="show")
    inter = [n for n in g.nodes if n.role == "intermediate"]
    assert inter and all(n.grad_mag is not None for n in inter)
    assert all(w.grad is None for w in ws)
    with pytest.raises(ValueError, match="color_by"):
        draw(y, color_by="grads")


def test_value_heat_follows_magnitudes():
    x = torch.tensor([1e-3, 1e-3], requires_grad=True)
    y = (x * 1000.0).sum()
    d = draw(y, names={"x": x, "y": y}, color_by="value")
    colours = fills(d.source)
    x_id, y_id = d.graph.find("x")[0].id, d.graph.find("y")[0].id
    assert colours[x_id] != colours[y_id]
    assert "mean |value|, log scale" in d.source


# --------------------------------------------------------------------------- modules (test double)
class FakeModule:
    """The module protocol of viz/modules.py, as autodiff_nb.nn is to provide it."""

    stack = []

    def __init__(self, **children):
        self._children = children
        self._params = {}

    def named_modules(self, prefix=""):
        yield prefix, self
        for name, child in self._children.items():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def named_parameters(self, prefix=""):
        for name, p in self._params.items():
            yield (f"{prefix}.{name}" if prefix else name), p
        for name, child in self._children.items():
            yield from child.named_parameters(f"{prefix}.{name}" if prefix else name)

    def __call__(self, x):
        FakeModule.stack.append(self)
        try:
            return self.forward(x)
        finally:
            FakeModule.stack.pop()


class Linear(FakeModule):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.in_features, self.out_features = n_in, n_out
        self._params = {"weight": torch.randn(n_out, n_in, requires_grad=True),
                        "bias": torch.zeros(n_out, requires_grad=True)}

    def forward(self, x):
        return x @ self._params["weight"].T + self._params["bias"]


class ReLU(FakeModule):
    def forward(self, x):
        return torch.relu(x)


class Sequential(FakeModule):
    def __init__(self, *layers):
        super().__init__(**{str(i): m for i, m in enumerate(layers)})

    def forward(self, x):
        for m in self._children.values():
            x = m(x)
        return x


@contextlib.contextmanager
def engine_marks_module_calls(monkeypatch):
    """The one-line engine hook the protocol needs, done here from outside: Node.module."""
    made = []
    original = tape.Node.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        made.append((self, FakeModule.stack[-1] if FakeModule.stack else None))

    monkeypatch.setattr(tape.Node, "__init__", init)
    marks = {}
    monkeypatch.setattr(tape.Node, "module", property(lambda node: marks.get(id(node))), raising=False)
    yield made
    for node, module in made:
        marks[id(node)] = module


@pytest.fixture
def net_and_loss(monkeypatch):
    torch.manual_seed(0)
    inner = Sequential(Linear(4, 3), ReLU())
    net = Sequential(Linear(5, 4), ReLU(), inner, Linear(3, 1))
    x = torch.randn(2, 5)
    with engine_marks_module_calls(monkeypatch):
        loss = (net(x) ** 2).mean()
    return net, loss


def clusters(source):
    return re.findall(r"subgraph (cluster_\d+) \{\s*graph \[.*? label=<(.*?)> labeljust", source)


def test_modules_group_ops_into_nested_labelled_clusters(net_and_loss):
    net, loss = net_and_loss
    d = draw(loss, modules=net)
    titles = [re.sub("<[^>]+>", "", label) for _, label in clusters(d.source)]
    assert sorted(titles) == sorted(["0: Linear(5→4)", "1: ReLU", "2: Sequential", "2.0: Linear(4→3)",
                                     "2.1: ReLU", "3: Linear(3→1)"])
    # nesting: the cluster of 2.0 sits inside the cluster of 2
    body = d.source[d.source.index("2: Sequential"):]
    assert "2.0: Linear(4→3)" in body[:body.index("}")] or "2.0: Linear" in body
    assert {n.label for n in d.graph.find(role="leaf")} >= {"0.weight", "0.bias", "2.0.weight", "3.bias"}
    svg = _svg_or_skip(d)
    assert "2.0: Linear(4→3)" in "".join(svg.itertext())


def test_collapse_draws_one_node_per_module_with_its_parameters(net_and_loss):
    net, loss = net_and_loss
    g = describe(loss, modules=net, collapse=True)
    modules = {n.label: n for n in g.nodes if n.kind == "module"}
    assert set(modules) == {"0: Linear(5→4)", "1: ReLU", "2.0: Linear(4→3)", "2.1: ReLU", "3: Linear(3→1)"}
    assert modules["0: Linear(5→4)"].detail.split("\n") == ["0.weight 4×5", "0.bias 4"]
    assert not g.find("0.weight")  # absorbed into its module's box
    d = draw(loss, modules=net, collapse=True)
    assert "0.weight 4×5" in d.source
    with pytest.raises(ValueError, match="modules"):
        draw(loss, collapse=True)


def test_widget_tape_table_and_explain_take_modules(net_and_loss):
    net, loss = net_and_loss
    table = tape_table(loss, modules=net)
    assert "module" in table.headers and any(r.module == "0: Linear(5→4)" for r in table.rows)
    text = str(explain(loss, modules=net))
    assert "grad(0.weight)" in text and "in 3: Linear(3→1)" in text
    w = GraphWidget(loss, modules=net, collapse=True)
    w.step = 3  # inside the last Linear: its box is current, and the text says which of its ops
    state_node = [n for n in w._drawn.nodes if n.kind == "module" and n.label == "3: Linear(3→1)"][0]
    assert f"of {len(state_node.members)} in the node 3: Linear(3→1)" in w.explanation
    with pytest.raises(TypeError, match="named_modules"):
        draw(loss, modules=object())


def test_hostile_module_and_parameter_names_stay_escaped(monkeypatch):
    class Hostile(Linear):
        pass

    Hostile.__name__ = 'Evil"<b>&\nstrict'
    torch.manual_seed(0)
    net = Sequential(Hostile(2, 2))
    net._children = {'<x>"&\ngraph': net._children["0"]}
    with engine_marks_module_calls(monkeypatch):
        loss = net(torch.ones(1, 2)).sum()
    source = draw(loss, modules=net, color_by="grad").source
    assert "<x>" not in source and 'Evil"' not in source and "<b>&\n" not in source
    assert "&lt;x&gt;&quot;&amp;" in source and "Evil&quot;&lt;b&gt;&amp;" in source
    _svg_or_skip(draw(loss, modules=net, color_by="grad"))  # still valid DOT and SVG


# --------------------------------------------------------------------------- real sizes
def _svg_or_skip(drawing):
    if not shutil.which("dot"):
        pytest.skip("Graphviz dot is not installed")
    return ET.fromstring(drawing.to_svg())


def mlp_train_step():
    torch.manual_seed(0)
    x = torch.linspace(-2, 2, 200).reshape(-1, 1)
    target = torch.sin(3 * x)
    W1 = torch.normal(0, 1, (1, 32), requires_grad=True)
    b1 = torch.normal(0, 1, (32,), requires_grad=True)
    W2 = torch.normal(0, 0.1, (32, 1), requires_grad=True)
    b2 = torch.zeros(1, requires_grad=True)
    loss = ((torch.relu(x @ W1 + b1) @ W2 + b2 - target) ** 2).mean()
    return loss, dict(x=x, target=target, W1=W1, b1=b1, W2=W2, b2=b2, loss=loss)


def control_flow():
    a = torch.tensor(0.5, requires_grad=True)
    d = control_flow_f(a)
    return d, {"a": a, "d": d}


def long_chain(n):
    x = torch.tensor([0.5, 1.0], requires_grad=True)
    h = x
    for i in range(n):
        h = torch.tanh(h) if i % 2 else h * 1.5
    return h.sum(), {"x": x}


@pytest.mark.parametrize("case, repeats", [
    (control_flow, "fold"), (control_flow, "show"), (mlp_train_step, "fold"),
    (lambda: long_chain(39), "fold"), (lambda: long_chain(39), "show"),
])
def test_chapter_sized_graphs_fit_a_notebook_column(case, repeats):
    y, names = case()
    d = draw(y, names=names, repeats=repeats)
    root = _svg_or_skip(d)
    width = float(root.get("width").removesuffix("pt"))
    assert width <= 1500, f"{width} pt wide"
    viewbox_width = float(root.get("viewBox").split()[2])
    scale = 960 / max(width * 4 / 3, 960)  # a 960 px column shrinks a wider drawing to fit
    sizes = [float(t.get("font-size")) * width / viewbox_width for t in root.iter(f"{SVG}text")]
    assert min(sizes) * 4 / 3 * scale >= 9, f"smallest text {min(sizes) * 4 / 3 * scale:.1f} px"


def test_clusters_come_from_real_nn_module_calls():
    """With autodiff_nb.nn, no Node.module is needed: the module calls recorded by nn say which op is whose."""
    from autodiff_nb import nn
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 3), nn.Tanh()))
    loss = nn.CrossEntropyLoss()(net(torch.randn(4, 5)), torch.tensor([0, 1, 2, 1]))
    source = draw(loss, modules=net).source
    titles = re.findall(r"<b>([^<]+)</b>", source)
    assert {"0: Linear(5→8)", "1: ReLU", "2: Sequential", "2.0: Linear(8→3)", "2.1: Tanh"} <= set(titles)
    # the addmm of the first layer sits inside the first cluster, and the loss outside every cluster
    first = source[source.index("0: Linear(5→8)"):]
    assert "addmm" in first[:first.index("}")].lower()


def test_the_stepper_wraps_a_drawing_taller_than_one_screen_that_draw_leaves_tall():
    """The exercise-7 graph (f = log(x²)·sin(x) + 1/x) runs top to bottom, about 1,100 pt tall: fine
    for a picture, but a stepper that tall has its buttons a screen away from its lower nodes. The
    stepper wraps it into rows instead, keeping the buttons and the whole graph on one screen."""
    import re

    import autodiff_nb as ad
    from autodiff_nb import viz
    from autodiff_nb.viz import style

    x = ad.tensor(2.0, requires_grad=True)
    u = x ** 2
    f = ad.log(u) * ad.sin(x) + 1 / x
    drawn_height = float(re.search(r'height="([\d.]+)pt"', viz.draw(f).to_svg()).group(1))
    assert drawn_height > style.STEPPER_TALL * 1.5
    widget = viz.GraphWidget(f)
    stepper_svg = widget._svg()
    stepper_height = float(re.search(r'viewBox="[\d.\s-]+ ([\d.]+)"', stepper_svg).group(1))
    assert stepper_height < style.STEPPER_TALL * 1.1, stepper_height
