"""See the recorded graph: drawings, a backward-pass stepper, the chain rule in numbers.

>>> from autodiff_nb.viz import draw, explain, GraphWidget
>>> x = torch.arange(4.0, requires_grad=True)
>>> y = 2 * torch.dot(x, x)
>>> draw(y)              # SVG in Jupyter: x -> dot -> mul -> y, with values and backward order
>>> print(explain(y))    # 1. MulBackward0: grad(dot) = 2 · grad(y) = 2 ...
>>> GraphWidget(y)       # Play / step through the backward pass

Data flows one way: recorded nodes -> ``describe`` (a plain description) -> DOT -> SVG -> widget.
Nothing here writes ``.grad`` or frees a graph.
"""
from .drawing import Drawing, describe, draw  # noqa: F401
from .explain import Explanation, TapeTable, explain, tape_table  # noqa: F401
from .graph import GraphDescription, GraphEdge, GraphNode  # noqa: F401
from .render import RendererMissing, find_renderers  # noqa: F401
from .rules import RuleText, show_rule  # noqa: F401


def __getattr__(name):
    # ipywidgets is imported only when the widget is asked for: drawings work without it.
    if name == "GraphWidget":
        from .widget import GraphWidget

        return GraphWidget
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["draw", "describe", "explain", "tape_table", "GraphWidget", "show_rule", "Drawing", "GraphDescription",
           "GraphNode", "GraphEdge", "Explanation", "TapeTable", "RuleText", "RendererMissing", "find_renderers"]
