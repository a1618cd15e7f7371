"""viz draws and steps another engine's graph: a micrograd-style Value, replayed onto our tensors."""
import math

import numpy as np
import pytest

from autodiff_nb import viz


class Value:
    """micrograd's Value, as chapter 05 writes it: _prev is a tuple, backward is iterative."""

    def __init__(self, data, _prev=(), _op=""):
        self.data, self.grad = data, 0.0
        self._backward = lambda: None
        self._prev, self._op = _prev, _op

    def __add__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        out = type(self)(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad
        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, Value) else type(self)(other)
        out = type(self)(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
        out._backward = _backward
        return out

    def __pow__(self, k):
        out = type(self)(self.data ** k, (self,), f"**{k}")

        def _backward():
            self.grad += k * self.data ** (k - 1) * out.grad
        out._backward = _backward
        return out

    def tanh(self):
        t = math.tanh(self.data)
        out = type(self)(t, (self,), "tanh")

        def _backward():
            self.grad += (1 - t * t) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = type(self)(math.exp(self.data), (self,), "exp")

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    __radd__, __rmul__ = __add__, __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __truediv__(self, other):
        return self * other ** -1

    def backward(self):
        topo, visited, stack = [], set(), [(self, False)]
        while stack:
            v, children_done = stack.pop()
            if children_done:
                topo.append(v)
            elif v not in visited:
                visited.add(v)
                stack.append((v, True))
                stack.extend((c, False) for c in v._prev)
        self.grad = 1.0
        for v in reversed(topo):
            v._backward()


class AssigningValue(Value):
    """The a + a bug: the second gradient overwrites the first instead of adding to it."""

    def __add__(self, other):
        out = AssigningValue(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad = out.grad
            other.grad = out.grad
        out._backward = _backward
        return out


class SetValue(Value):
    """micrograd's own choice: _prev is a set, so a + a has one child."""

    def __init__(self, data, _prev=(), _op=""):
        super().__init__(data, set(_prev), _op)


@pytest.fixture(autouse=True)
def no_renderer_needed(monkeypatch):
    monkeypatch.setenv("AUTODIFF_NB_DOT", "")


def the_lecture_example():
    a, b, c, f = Value(2.0), Value(-3.0), Value(10.0), Value(-2.0)
    e = a * b
    d = e + c
    L = d * f
    return a, b, c, d, e, f, L


def test_the_graph_of_a_value_is_drawn_with_its_names_values_and_the_engines_leaf_grads():
    a, b, c, d, e, f, L = the_lecture_example()
    L.backward()
    g = viz.describe(L)
    assert [(n.label, n.role, n.value) for n in g.find(kind="tensor")] == [
        ("a", "leaf", "2"), ("b", "leaf", "-3"), ("c", "leaf", "10"), ("f", "leaf", "-2"),
        ("e", "intermediate", "-6"), ("d", "intermediate", "4"), ("L", "output", "-8"),
    ]
    assert [n.detail for n in g.ops] == ["MulBackward0", "AddBackward0", "MulBackward0"]
    assert {n.label: n.grad for n in g.find(role="leaf")} == {"a": "6", "b": "-4", "c": "-2", "f": "4"}
    assert repr(viz.draw(L)) == "Drawing(L: 10 nodes, 3 ops)"


def test_the_stepper_and_explain_take_a_value_and_end_with_the_engines_gradients():
    x1, x2, w1, w2, bias = Value(2.0), Value(0.0), Value(-3.0), Value(1.0), Value(6.8813735870195432)
    n = x1 * w1 + x2 * w2 + bias
    e = (2 * n).exp()
    o = (e - 1) / (e + 1)  # tanh, spelled out: sub, div (pow -1), exp
    o.backward()
    w = viz.GraphWidget(o)
    w.step = w.n_steps
    shown = w.shown_grads
    for name, v in [("x1", x1), ("x2", x2), ("w1", w1), ("w2", w2), ("bias", bias)]:
        assert float(shown[name]) == pytest.approx(v.grad, rel=1e-12), name
    lines = viz.explain(o).lines
    assert any(line.startswith("PowBackward0") for line in lines)
    assert lines[-1].startswith("AccumulateGrad")


def test_drawing_and_stepping_leave_the_values_alone():
    a, b, c, d, e, f, L = the_lecture_example()
    viz.GraphWidget(L).step = 7
    viz.explain(L)
    assert [v.grad for v in (a, b, c, d, e, f, L)] == [0.0] * 7
    assert L.data == -8.0


def test_a_plus_a_sends_two_gradients_along_two_edges():
    a = Value(3.0)
    b = a + a
    g = viz.describe(b)
    assert [(g.node(e.src).label, e.slot) for e in g.edges if e.slot is not None] == [("a", 0), ("a", 1)]
    w = viz.GraphWidget(b)
    w.step = w.n_steps
    assert float(w.shown_grads["a"]) == 2.0


def test_the_assignment_bug_shows_the_engines_1_on_the_leaf_and_our_2_in_the_stepper():
    a = AssigningValue(3.0)
    b = a + a
    b.backward()
    assert a.grad == 1.0  # the bug
    assert viz.describe(b).find("a")[0].grad == "1"
    w = viz.GraphWidget(b)
    w.step = w.n_steps
    assert float(w.shown_grads["a"]) == 2.0


def test_a_set_of_children_still_replays_a_plus_a():
    a = SetValue(3.0)
    b = a + a
    assert len(b._prev) == 1
    assert viz.from_values(b).item() == 6.0
    w = viz.GraphWidget(b)
    w.step = w.n_steps
    assert float(w.shown_grads["a"]) == 2.0


def test_from_values_gives_a_tensor_whose_backward_matches_the_engine():
    from autodiff_nb.viz.values import replay

    a, b, c, d, e, f, L = the_lecture_example()
    L.backward()
    assert viz.from_values(L).grad_fn.name() == "MulBackward0"
    (t,), made = replay([L])
    assert t.item() == -8.0 and all(made[id(v)].grad is None for v in (a, b, c, f))  # not the engine's
    t.backward()
    assert [made[id(v)].grad.item() for v in (a, b, c, f)] == [a.grad, b.grad, c.grad, f.grad]


def test_names_come_from_names_then_label_then_variables_then_the_number():
    a = Value(2.0)
    b = Value(5.0)
    b.label = "bee"
    y = 3 * a * b
    g = viz.describe(y, names={"alpha": a})
    assert {n.label for n in g.find(role="leaf")} == {"alpha", "bee", "3"}
    assert g.node(g.roots[0]).label == "y"


def test_a_long_chain_needs_no_recursion():
    x = Value(0.001)
    h = x
    for _ in range(5000):
        h = h * 1.0001
    assert len(viz.describe(h, max_nodes=50).nodes) <= 50


def test_an_op_viz_does_not_know_is_an_error_that_says_how_to_teach_it(monkeypatch):
    a = Value(0.5)
    s = Value(math.sin(a.data), (a,), "sin")
    with pytest.raises(ValueError, match=r"cannot replay the op 'sin'(.|\n)*VALUE_OPS\['sin'\]"):
        viz.draw(s)
    import autodiff_nb as torch

    monkeypatch.setitem(viz.VALUE_OPS, "sin", torch.sin)
    assert viz.describe(s).ops[0].detail == "SinBackward0"


def test_an_op_that_does_not_compute_the_value_is_an_error_not_a_wrong_picture():
    a, b = Value(2.0), Value(3.0)
    lie = Value(5.0, (a, b), "*")  # says multiply, holds a sum
    with pytest.raises(ValueError, match=r"replaying '\*' on \(2, 3\) gives 6, but the value holds 5"):
        viz.explain(lie)


def test_neither_tensor_nor_value_is_a_type_error_that_names_the_protocol():
    with pytest.raises(TypeError, match=r"\.data, \.grad, \._prev and \._op"):
        viz.draw(3.0)
