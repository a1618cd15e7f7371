"""Graph description -> ``graphviz.Digraph`` (DOT text). Styling comes from ``style.py`` only.

Labels are Graphviz HTML-like labels built from escaped text (``markup.text``), so a tensor named
``<script>`` or ``a"b`` is printed, never interpreted; attributes that are plain strings go through
``graphviz.escape``. Node ids are the description's ids (record order), so the DOT text is the same
every time the same code runs.

>>> to_digraph(describe(y)).source.splitlines()[0]
'digraph autodiff {'
"""
from __future__ import annotations

from collections import Counter

from .markup import text
from .preview import NONE, preview, shape_text
from . import style


def to_digraph(desc, *, values=True, grads=True, shapes=True, state=None, legend=True):
    """Build the Digraph. ``state`` (a steps.StepState) turns it into the widget's step picture."""
    import graphviz

    g = graphviz.Digraph("autodiff", graph_attr=style.GRAPH, node_attr=style.NODE, edge_attr=style.EDGE)
    show = {"values": values, "grads": grads, "shapes": shapes}
    for node in desc.nodes:
        current = state is not None and state.current == node.id
        if node.kind == "op":
            done = state is None or any(s.node_id == node.id for s in state.done)
            attrs = dict(style.OP_NODE, tooltip=graphviz.escape(_op_tooltip(node)))
            if current:
                attrs.update(color=style.HIGHLIGHT, penwidth=style.CURRENT_NODE_PEN)
            g.node(node.id, _op_label(node, done, desc.show_ops == "both"), group=style.CHAIN_GROUP,
                   _attributes=_css_class(current), **attrs)
        elif node.kind == "summary":
            g.node(node.id, _summary_label(node), _attributes=_css_class(current), **style.SUMMARY_NODE)
        else:
            on_chain = node.role not in ("constant", "detached")
            g.node(node.id, _tensor_label(node, show, state, current), group=style.CHAIN_GROUP if on_chain else None,
                   _attributes=_css_class(current))
    uses = Counter(e.src for e in desc.edges if e.slot is not None)
    repeated = Counter()
    for edge in desc.edges:
        src = edge.src
        if uses[src] > style.MAX_FANOUT and edge.slot is not None:
            # A tensor used by many ops (a shared weight) is drawn again beside each later use:
            # one node with dozens of long edges would stretch the picture and hide the chain.
            repeated[src] += 1
            if repeated[src] > 1:
                src = f"{edge.src}_use{repeated[src]}"
                g.node(src, _repeat_label(desc.node(edge.src)),
                       tooltip=graph_text(f"{desc.node(edge.src).label} again (drawn once per use)"))
        g.edge(src, edge.dst, **_edge_attrs(edge, state, desc))
    if legend:
        # rank=sink puts the legend in the last column, beside the output, out of the graph's way.
        with g.subgraph(graph_attr={"rank": "sink"}) as side:
            side.node("legend", _legend_label(desc, grads))
    return g


def _css_class(current):
    # Graphviz copies class= into the SVG (<g class="node current">): a page or a browser test can
    # find the widget's current node without knowing our colours.
    return {"class": "current"} if current else None


# ---------------------------------------------------------------------------- labels
def _font(body, *, color=None, size=None, face=None, bold=False):
    """Wrap already-escaped ``body`` in <font>/<b>; every caller escapes with ``text`` first."""
    if bold:
        body = f"<b>{body}</b>"
    attrs = "".join(f' {k}="{v}"' for k, v in (("color", color), ("point-size", size), ("face", face)) if v)
    return f"<font{attrs}>{body}</font>" if attrs else body


def _table(rows, look, *, border=1, color=None, dashed=False):
    """A rounded box of rows; each row is a list of (escaped html, cell attributes)."""
    width = max(len(r) for r in rows)
    body = []
    for row in rows:
        cells = []
        for i, (html, attrs) in enumerate(row):
            span = f' colspan="{width - len(row) + 1}"' if i == len(row) - 1 and len(row) < width else ""
            cells.append(f"<td{span}{attrs}>{html}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    table_style = "rounded,dashed" if dashed else "rounded"
    return (f'<<table border="{border}" cellborder="0" cellspacing="0" cellpadding="4" style="{table_style}" '
            f'bgcolor="{look.fill}" color="{color or look.border}">{"".join(body)}</table>>')


def _badge(number, color):
    width = 8 + 6 * len(str(number))  # fixed, so a wide box does not stretch its badge
    return (_font(text(number), color="white", size=style.SMALL_SIZE, bold=True),
            f' bgcolor="{color}" width="{width}" height="14" fixedsize="true"')


def _with_badge(html, number, color):
    """``html`` with a small numbered badge before it, in a table of its own so it stays small."""
    badge, attrs = _badge(number, color)
    return (f'<table border="0" cellborder="0" cellspacing="0" cellpadding="1"><tr>'
            f'<td{attrs}>{badge}</td><td>{html}</td></tr></table>')


def _tensor_label(node, show, state, current):
    look = style.ROLE[node.role]
    is_number = node.shape == () and node.value is not None and node.value == node.label
    title = _font(text(node.label), bold=True)
    if node.backward_order is not None:
        done = state is None or node.id in state.grads
        title = _with_badge(title, node.backward_order, style.BADGE if done else style.BADGE_PENDING)
    rows = [[(title, "")]]
    if show["shapes"] and not is_number and (node.shape is not None or node.detail):
        shape = shape_text(node.shape)
        words = " · ".join(w for w in (shape if shape in ("", "scalar") else f"shape {shape}", node.detail) if w)
        rows.append([(_font(text(words), color=style.MUTED, size=style.SMALL_SIZE), "")])
    if show["values"] and not is_number:
        value = node.value if node.value is not None else "freed"
        color = None if node.value is not None else style.MUTED
        rows.append([(_font(text(value), color=color, size=style.VALUE_SIZE, face=style.MONO), "")])
    if show["grads"] and node.grad is not None:
        grad = node.grad if state is None else preview(state.grads.get(node.id))
        color = style.GRAD if grad != NONE else style.MUTED
        rows.append([(_font(text(f"grad {grad}"), color=color, size=style.VALUE_SIZE, face=style.MONO), "")])
    if is_number:  # a bare Python number: a small box with room around the digits
        rows = [[(title, ' width="26"')]]
    if current:
        return _table(rows, look, border=style.CURRENT_NODE_PEN, color=style.HIGHLIGHT, dashed=look.dashed)
    return _table(rows, look, dashed=look.dashed)


def _op_label(node, done, both):
    name = _font(text(node.label), bold=True)
    cells = [f"<td>{name}</td>"]
    if node.backward_order is not None:
        html, attrs = _badge(node.backward_order, style.BADGE if done else style.BADGE_PENDING)
        cells.insert(0, f"<td{attrs}>{html}</td>")
    rows = [f"<tr>{''.join(cells)}</tr>"]
    if both and node.detail != node.label:
        detail = _font(text(node.detail), color=style.MUTED, size=style.SMALL_SIZE)
        rows.append(f'<tr><td colspan="{len(cells)}">{detail}</td></tr>')
    return f'<<table border="0" cellborder="0" cellspacing="2" cellpadding="1">{"".join(rows)}</table>>'


def _op_tooltip(node):
    tip = f"{node.detail} (record #{node.id[2:]})"
    return tip + ("; saved values freed by backward()" if node.freed else "")


def _summary_label(node):
    return f"<{_font(text(node.label), bold=True)}<br/>{_font(text(node.detail), size=style.SMALL_SIZE)}>"


def _legend_label(desc, grads):
    roles = [r for r in style.ROLE if any(n.role == r for n in desc.nodes)]
    rows = [[(_font(text("legend"), bold=True), ' colspan="2"')]]
    for role in roles:
        look = style.ROLE[role]
        rows.append([("", f' bgcolor="{look.fill}" border="1" color="{look.border}" width="16"'),
                     (_font(text(look.legend), size=style.SMALL_SIZE), ' align="left"')])
    if desc.ops:
        rows.append([_badge("n", style.BADGE), (_font(text(style.OP.legend), size=style.SMALL_SIZE), ' align="left"')])
    if any(e.kind == "detach" for e in desc.edges):
        rows.append([(_font(text("- - ›"), color=style.ROLE["detached"].border, bold=True), ""),
                     (_font(text("detach: the gradient stops"), size=style.SMALL_SIZE), ' align="left"')])
    if grads:
        rows.append([(_font(text(NONE), color=style.MUTED), ""),
                     (_font(text("grad is None (not 0)"), size=style.SMALL_SIZE), ' align="left"')])
    body = "".join("<tr>" + "".join(f"<td{a}>{h}</td>" for h, a in row) + "</tr>" for row in rows)
    return (f'<<table border="1" cellborder="0" cellspacing="2" cellpadding="2" color="{style.MUTED}" '
            f'bgcolor="white">{body}</table>>')


def _repeat_label(node):
    title = _font(text(node.label), bold=True) + " " + _font(text("again"), color=style.MUTED,
                                                            size=style.SMALL_SIZE)
    look = style.ROLE[node.role]
    return _table([[(title, "")]], look, dashed=look.dashed)


def _edge_attrs(edge, state, desc):
    if edge.kind == "detach":
        return dict(style.DETACH_EDGE)
    if edge.src.startswith("fold"):
        return dict(style.FOLD_EDGE)
    # Edges along the gradient path pull harder, so the chain runs straight and constants hang off it.
    side = desc.node(edge.src).role in ("constant", "detached")
    attrs = dict(style.SIDE_EDGE if side else style.CHAIN_EDGE)
    if state is not None and edge.slot is not None:
        g = state.edge_grads.get((edge.dst, edge.slot))
        if g is not None:
            attrs.update(style.GRAD_EDGE, label=graph_text(f"← {preview(g)}"))
            if (edge.dst, edge.slot) in state.current_edges:
                attrs.update(style.CURRENT_EDGE)
    return attrs


def graph_text(value):
    """A plain (non-HTML) DOT string: backslashes and <...> lose their special meaning."""
    import graphviz

    return graphviz.escape(str(value))
