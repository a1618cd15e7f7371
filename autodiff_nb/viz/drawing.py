"""``draw()`` and ``describe()``: the static picture of a recorded graph.

>>> x = arange(4.0, requires_grad=True)
>>> y = 2 * dot(x, x)
>>> d = draw(y)          # Jupyter shows the SVG
>>> d                    # doctest: +SKIP
Drawing(y: 6 nodes, 2 ops)
>>> d.save("y.png")      # doctest: +SKIP
"""
from __future__ import annotations

from pathlib import Path

from ..tensor import Tensor
from . import markup
from .dot import to_digraph
from .graph import GraphDescription, build
from .keywords import keywords_checked
from .names import NameBook
from .render import RendererMissing, render
from .values import as_tensors

DEFAULT_MAX_NODES = 200


def roots_and_names(objects, names, who):
    """The tensors to draw (a micrograd-style value is replayed: see ``values``) and their names."""
    if not objects:
        raise TypeError(f"{who}() needs at least one tensor, e.g. {who}(y)")
    tensors, names = as_tensors(objects, names, who)
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"{who}() takes tensors, got {type(t).__name__}; pass the result of a "
                            f"computation, e.g. y = 2 * torch.dot(x, x), then {who}(y)\n"
                            "A scalar engine's values work too when they have .data, .grad, ._prev and ._op "
                            "(see autodiff_nb.viz.values).")
    return tensors, names


@keywords_checked
def describe(*tensors, names=None, values=True, grads=True, shapes=True, max_nodes=DEFAULT_MAX_NODES,
             show_ops="short", since=None) -> GraphDescription:
    """The plain description of what ``tensors`` were computed from (see ``graph.GraphDescription``).

    >>> g = describe(y)
    >>> [n.label for n in g.find(role="leaf")]
    ['x']

    It takes ``draw``'s keywords; the display ones (``values=``, ``grads=``, ``shapes=``) change
    nothing here: the description always has everything, and the drawing chooses what to show. A
    keyword neither knows is a TypeError, not silently ignored.
    """
    roots, names = roots_and_names(tensors, names, "describe")
    return build(roots, NameBook.from_caller(names, roots), max_nodes=max_nodes, show_ops=show_ops, since=since)


@keywords_checked
def draw(*tensors, names=None, values=True, grads=True, shapes=True, max_nodes=DEFAULT_MAX_NODES,
         show_ops="short", since=None) -> "Drawing":
    """Draw the graph behind ``tensors``: Jupyter shows it as SVG.

    ``names`` ({"x": x} or a list of names for ``tensors``) overrides the names found in your
    variables; ``values``/``grads``/``shapes`` choose the rows on each tensor; beyond ``max_nodes``
    the oldest part of the graph is folded into one summary node; ``show_ops`` is "short" (``mul``),
    "full" (``MulBackward0``) or "both"; ``since`` (a ``Node.seq``) folds the ops recorded before
    it, so ``%%autodiff`` can draw only what its cell ran.
    """
    roots, names = roots_and_names(tensors, names, "draw")
    desc = build(roots, NameBook.from_caller(names, roots), max_nodes=max_nodes, show_ops=show_ops, since=since)
    return Drawing(desc, values=values, grads=grads, shapes=shapes)


class Drawing:
    """A drawn graph: ``.source`` (DOT), ``.to_svg()``, ``.save(path)``, ``.graph`` (the description)."""

    def __init__(self, graph: GraphDescription, **show):
        self.graph = graph
        self.digraph = to_digraph(graph, **show)
        self.source = self.digraph.source
        self._svg = None

    def to_svg(self) -> str:
        """The SVG text; raises RendererMissing (with how to install one) when no renderer exists."""
        if self._svg is None:
            self._svg = render(self.source, "svg").decode("utf-8")
        return self._svg

    def save(self, path) -> Path:
        """Write ``.svg``, ``.png``, ``.pdf`` or ``.dot``/``.gv`` (chosen by the extension)."""
        path = Path(path)
        fmt = path.suffix.lower().lstrip(".")
        if fmt in ("dot", "gv"):
            path.write_text(self.source, encoding="utf-8")
        elif fmt == "svg":
            path.write_text(self.to_svg(), encoding="utf-8")
        elif fmt in ("png", "pdf"):
            path.write_bytes(render(self.source, fmt))
        else:
            raise ValueError(f"save() writes .svg, .png, .pdf or .dot files, not {path.name!r}")
        return path

    # ------------------------------------------------------------------ Jupyter
    def _repr_mimebundle_(self, include=None, exclude=None):
        # text/plain stays short and the same on every machine: nbval compares it.
        try:
            return {"image/svg+xml": self.to_svg(), "text/plain": repr(self)}
        except RendererMissing as missing:
            return {"text/html": markup.paragraphs([str(missing)]) + markup.pre(self.source),
                    "text/plain": repr(self)}

    def _repr_svg_(self):
        try:
            return self.to_svg()
        except RendererMissing:
            return None

    def __repr__(self):
        g = self.graph
        roots = ", ".join(g.node(r).label for r in g.roots)
        folded = f", {g.hidden_ops:,} folded" if g.hidden_ops else ""
        return f"Drawing({roots}: {len(g.nodes)} nodes, {len(g.ops)} ops{folded})"

    def __str__(self):
        return self.source
