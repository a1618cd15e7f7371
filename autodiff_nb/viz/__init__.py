"""See the recorded graph: drawings, a backward-pass stepper, the chain rule in numbers.

>>> from autodiff_nb.viz import draw, explain, GraphWidget
>>> x = torch.arange(4.0, requires_grad=True)
>>> y = 2 * torch.dot(x, x)
>>> draw(y)              # SVG in Jupyter: x -> dot -> mul -> y, with values and backward order
>>> print(explain(y))    # 1. MulBackward0: grad(dot) = 2 · grad(y) = 2 ...
>>> GraphWidget(y)       # Play / step through the backward pass
>>> GraphWidget(y, mode="both")            # ... or forward mode's tangents, with a switch
>>> print(explain(y, mode="forward"))      # 1. dot: tangent(dot) = tangent(x) · x + x · tangent(x) = 12 ...

Data flows one way: recorded nodes -> ``describe`` (a plain description) -> DOT -> SVG -> widget.
Nothing here writes ``.grad`` or frees a graph.

Other engines: every entry point also takes a value of a scalar engine in micrograd's shape, an
object with ``.data`` (its number), ``.grad``, ``._prev`` (the values it was made from, in argument
order) and ``._op`` (``"+"``, ``"*"``, ``"**2"``, ``"tanh"`` ...). Its graph is replayed onto
autodiff_nb tensors, op by op (``from_values``; ``VALUE_OPS`` says how each ``_op`` replays), so the
drawings and the stepper still read one kind of record::

    >>> L = (a * b + c) * f            # a, b, c, f: your engine's Values
    >>> draw(L); GraphWidget(L)        # your values, your leaves' .grad; the steps of our rules

``show_rule("mul")`` prints one rule of the engine's table, read live (``%autodiff rule mul``).
"""
from .drawing import Drawing, describe, draw  # noqa: F401
from .explain import Explanation, TapeTable, explain, tape_table  # noqa: F401
from .graph import GraphDescription, GraphEdge, GraphNode  # noqa: F401
from .render import RendererMissing, find_renderers  # noqa: F401
from .rules import RuleText, show_rule  # noqa: F401
from .values import VALUE_OPS, from_values  # noqa: F401


def __getattr__(name):
    # ipywidgets is imported only when the widget is asked for: drawings work without it.
    if name == "GraphWidget":
        from .widget import GraphWidget

        return GraphWidget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["draw", "describe", "explain", "tape_table", "GraphWidget", "show_rule", "from_values", "VALUE_OPS", "Drawing", "GraphDescription",
           "GraphNode", "GraphEdge", "Explanation", "TapeTable", "RuleText", "RendererMissing", "find_renderers"]
