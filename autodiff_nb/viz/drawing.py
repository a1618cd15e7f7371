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
from .graph import GraphDescription, build, fold
from .grouping import REPEATS, collapse_modules, fold_repeats
from .heat import COLOR_BY, with_walk_grads
from .keywords import keywords_checked
from .modules import ModuleTree
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


def full_description(roots, names, *, show_ops="short", modules=None, color_by=None) -> GraphDescription:
    """Every recorded op, nothing folded: what the stepper, ``explain`` and ``tape_table`` read.

    ``modules`` (see modules.py) names parameters by path and marks each op with its module call.
    """
    if color_by not in COLOR_BY:
        raise ValueError(f"color_by must be one of {COLOR_BY}, not {color_by!r}")
    tree = ModuleTree.of(modules) if modules is not None else None
    if tree is not None:
        names = _with_parameter_names(names, tree)
    desc = build(roots, NameBook.from_caller(names, roots), show_ops=show_ops, tree=tree,
                 magnitudes=color_by is not None)
    if color_by == "grad":
        desc = with_walk_grads(desc, roots)
    return desc, tree


def shrink(desc, tree=None, *, max_nodes=DEFAULT_MAX_NODES, since=None, repeats="fold", collapse=False):
    """What a drawing shows of ``desc``: modules collapsed, repeats folded, then the oldest ops
    folded when still more than ``max_nodes`` (or recorded before ``since``)."""
    if repeats not in REPEATS:
        raise ValueError(f"repeats must be one of {REPEATS}, not {repeats!r}")
    if collapse:
        if tree is None:
            raise ValueError("collapse=True draws one node per module: pass the modules too, "
                             "e.g. draw(loss, modules=net, collapse=True)")
        desc = collapse_modules(desc, tree)
    if repeats == "fold":
        desc = fold_repeats(desc)
    if since is not None or (max_nodes is not None and len(desc.nodes) > max_nodes):
        desc = fold(desc, max_nodes, since)
    return desc


def _with_parameter_names(names, tree):
    # Parameters are named by path ("0.weight") unless names= says otherwise.
    given = dict(names) if isinstance(names, dict) else {}
    taken = {id(v) if isinstance(k, str) else id(k) for k, v in given.items()}
    if names is not None and not isinstance(names, dict):
        return names  # a list names the drawn tensors; the parameters are named by the book below
    merged = dict(given)
    for path, tensor in tree.parameter_names:
        if id(tensor) not in taken:
            merged[path] = tensor
    return merged


@keywords_checked
def describe(*tensors, names=None, values=True, grads=True, shapes=True, max_nodes=DEFAULT_MAX_NODES,
             show_ops="short", since=None, repeats="fold", color_by=None, modules=None,
             collapse=False) -> GraphDescription:
    """The plain description of what ``tensors`` were computed from (see ``graph.GraphDescription``).

    >>> g = describe(y)
    >>> [n.label for n in g.find(role="leaf")]
    ['x']

    It takes ``draw``'s keywords; the display ones (``values=``, ``grads=``, ``shapes=``) change
    nothing here: the description always has everything, and the drawing chooses what to show. A
    keyword neither knows is a TypeError, not silently ignored.
    """
    roots, names = roots_and_names(tensors, names, "describe")
    desc, tree = full_description(roots, names, show_ops=show_ops, modules=modules, color_by=color_by)
    return shrink(desc, tree, max_nodes=max_nodes, since=since, repeats=repeats, collapse=collapse)


@keywords_checked
def draw(*tensors, names=None, values=True, grads=True, shapes=True, max_nodes=DEFAULT_MAX_NODES,
         show_ops="short", since=None, repeats="fold", color_by=None, modules=None, collapse=False) -> "Drawing":
    """Draw the graph behind ``tensors``: Jupyter shows it as SVG.

    ``names`` ({"x": x} or a list of names for ``tensors``) overrides the names found in your
    variables; ``values``/``grads``/``shapes`` choose the rows on each tensor; ``repeats="fold"``
    (the default) draws a run of 3 or more identical ops as one node, ``mul ×10``, and
    ``repeats="show"`` draws every op; beyond ``max_nodes`` the oldest part of the graph is folded
    into one summary node; ``show_ops`` is "short" (``mul``), "full" (``MulBackward0``) or "both";
    ``since`` (a ``Node.seq``) folds the ops recorded before it, so ``%%autodiff`` can draw only
    what its cell ran.

    ``color_by="grad"`` shades each tensor by its mean |grad| on a log scale (after a backward, or
    what one would send), ``"value"`` by its mean |value|; the legend prints the scale.
    ``modules=net`` groups the ops into one labelled cluster per module call (``0: Linear(5→8)``,
    nested as the modules are) and names parameters by path (``0.weight``); with ``collapse=True``
    each module is one box listing its parameters. See ``viz.modules`` for what ``net`` must have.

    >>> draw(d)                      # chapter 1's loop: a → mul ×11 (× 2) → d
    >>> draw(d, repeats="show")      # every multiplication
    """
    roots, names = roots_and_names(tensors, names, "draw")
    desc, tree = full_description(roots, names, show_ops=show_ops, modules=modules, color_by=color_by)
    desc = shrink(desc, tree, max_nodes=max_nodes, since=since, repeats=repeats, collapse=collapse)
    return Drawing(desc, values=values, grads=grads, shapes=shapes, color_by=color_by)


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
