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

import numpy as np

from . import heat, layout, markup, operands, style
from .markup import text
from .modules import parents
from .preview import NONE, preview, shape_text


def to_digraph(desc, *, values=True, grads=True, shapes=True, state=None, legend=True, color_by=None,
               tall=style.TALL):
    """Build the Digraph. ``state`` (a steps.StepState, or a forward_steps.ForwardState for the
    forward walk: tangents instead of gradients) turns it into the widget's step picture;
    ``color_by`` ("grad" or "value") shades the tensors on a log scale (see heat.py); a top-to-bottom
    drawing taller than ``tall`` points wraps into rows (layout.plan)."""
    import graphviz

    show = {"values": values, "grads": grads, "shapes": shapes}
    inlined = small_constants(desc)  # constant id -> (op id, "× 2")
    extra = {}
    for op_id, words in inlined.values():
        extra.setdefault(op_id, []).append(words)
    scale = heat.Scale.of(desc.nodes, color_by) if color_by else None
    drawn = [n for n in desc.nodes if n.id not in inlined]
    edges = [e for e in desc.edges if e.src not in inlined]
    labels, sizes = {}, []
    for node in drawn:
        current = state is not None and state.current == node.id
        labels[node.id] = _label(node, show, state, current, extra.get(node.id, []), desc, scale)
        sizes.append((node.id,) + _estimate(node, show, extra.get(node.id, []), state))
    if legend:
        sizes.append(("legend", 230, 40 + 16 * len(style.ROLE)))
    shape = layout.plan(sizes, [(e.src, e.dst) for e in edges], wrap=not desc.modules, tall=tall)
    g = graphviz.Digraph("autodiff", graph_attr=dict(style.GRAPH, rankdir=shape.rankdir), node_attr=style.NODE,
                         edge_attr=style.EDGE)
    clusters = _Clusters(desc, g)
    for node in drawn:
        current = state is not None and state.current == node.id
        where = clusters.of(node)
        if node.kind == "op":
            attrs = dict(style.OP_NODE, tooltip=graphviz.escape(_op_tooltip(node)))
            if current:
                attrs.update(color=style.HIGHLIGHT, penwidth=style.CURRENT_NODE_PEN)
            where.node(node.id, labels[node.id], group=None if shape.rows else style.CHAIN_GROUP,
                       _attributes=_css_class(current), **attrs)
        elif node.kind == "summary":
            where.node(node.id, labels[node.id], _attributes=_css_class(current), **style.SUMMARY_NODE)
        else:
            on_chain = node.role not in ("constant", "detached")
            where.node(node.id, labels[node.id], group=style.CHAIN_GROUP if on_chain and not shape.rows else None,
                       _attributes=_css_class(current))
    row_of = {nid: k for k, row in enumerate(shape.rows) for nid in row}
    for k, row in enumerate(shape.rows):
        # A wrapped chain: each row one rank, read left to right (see layout.py); an invisible,
        # heavy edge between the rows' first nodes lines the rows up on the left, like text.
        with g.subgraph(name=f"row{k}", graph_attr={"rank": "same"}) as same:
            for nid in row:
                same.node(nid)
        if k:
            g.edge(shape.rows[k - 1][0], row[0], style="invis", weight="50", minlen="2")
    uses = Counter(e.src for e in edges if e.slot is not None)
    repeated = Counter()
    for edge in edges:
        src = edge.src
        if uses[src] > style.MAX_FANOUT and edge.slot is not None:
            # A tensor used by many ops (a shared weight) is drawn again beside each later use:
            # one node with dozens of long edges would stretch the picture and hide the chain.
            repeated[src] += 1
            if repeated[src] > 1:
                src = f"{edge.src}_use{repeated[src]}"
                clusters.of(desc.node(edge.dst)).node(
                    src, _repeat_label(desc.node(edge.src)),
                    tooltip=graph_text(f"{desc.node(edge.src).label} again (drawn once per use)"))
        attrs = _edge_attrs(edge, state, desc)
        if edge.src in row_of and edge.dst in row_of and row_of[edge.src] != row_of[edge.dst]:
            attrs.update(minlen="2", weight="0")  # a free rank between rows, for the side inputs
        g.edge(src, edge.dst, **attrs)
    clusters.close()
    if legend:
        # rank=sink puts the legend in the last column (or row), out of the graph's way.
        with g.subgraph(graph_attr={"rank": "sink"}) as side:
            side.node("legend", _legend_label(desc, grads, scale, drawn, _forward(state)))
    return g


def small_constants(desc) -> dict:
    """Constants of one element used by one op: written into the op's label instead of drawn."""
    uses = Counter(e.src for e in desc.edges)
    out = {}
    for e in desc.edges:
        if e.slot is None or uses[e.src] != 1:
            continue
        node, op = desc.node(e.src), desc.node(e.dst)
        if node.kind != "tensor" or node.role != "constant" or node.value is None or op.kind != "op":
            continue
        if node.shape is None or int(np.prod(node.shape)) > operands.SMALL:
            continue
        shown = node.value if node.label in (node.value, "constant") else node.label
        out[node.id] = (op.id, operands.inline_text(op.op, e.slot, shown))
    return out


def _forward(state):
    return state is not None and state.walk == "forward"


def _estimate(node, show, extra, state=None):
    """Width and height in points (see layout.py): from the longest line of the label."""
    if node.kind == "op":
        lines = [len(node.label) + (3 if node.backward_order is not None else 0)] + [len(w) for w in extra]
        lines += [len(node.value)] if node.value else []
        return layout.text_width(max(lines), 11) * 1.3 + 24, 30 + 14 * (len(lines) - 1)
    if node.kind in ("summary", "module"):
        rows = [node.label] + node.detail.split("\n")
        return layout.text_width(max(map(len, rows)), 10) + 24, 20 + 15 * len(rows)
    rows = [len(node.label) + 4]
    if show["shapes"] and node.shape is not None:
        rows.append(len(shape_text(node.shape)) + 6 + len(node.detail))
    if show["values"] and node.value is not None and node.value != node.label:
        rows.append(len(node.value) * 1.1)
    if _forward(state):
        if show["grads"] and node.id in state.tangents:
            rows.append((len(preview(state.tangents[node.id])) + 8) * 1.1)
    elif show["grads"] and node.grad is not None:
        rows.append((len(node.grad) + 5) * 1.1)
    return layout.text_width(max(rows), 10) + 20, 12 + 17 * len(rows)


class _Clusters:
    """Module clusters (``modules=``), nested by path; a node goes in the one of its module call."""

    def __init__(self, desc, g):
        import graphviz

        self.desc, self.g, self.graphs = desc, g, {}
        self._make = lambda name, label: graphviz.Digraph(name=name, graph_attr=dict(style.CLUSTER, label=label))
        self._order = list(desc.modules)
        self._producer = {e.dst: e.src for e in desc.edges if e.slot is None and e.kind == "normal"}

    def path_of(self, node):
        modules = self.desc.modules
        if not modules:
            return None
        if node.kind == "module":
            return node.module.rpartition(".")[0] or None
        if node.kind == "op":
            return node.module
        if node.id in self._producer:
            return self.path_of(self.desc.node(self._producer[node.id]))
        owner = node.label.rpartition(".")[0]  # a parameter, named by path: "0.weight" sits in "0"
        return owner if owner in modules else None

    def of(self, node):
        path = self.path_of(node)
        if path is None or path not in self.desc.modules:
            return self.g
        for p in parents(path):
            if p in self.desc.modules and p not in self.graphs:
                title = markup.text(f"{p}: {self.desc.modules[p]}")
                self.graphs[p] = self._make(f"cluster_{len(self.graphs)}", f"<<b>{title}</b>>")
        return self.graphs[path]

    def close(self):
        # Children into parents, deepest first; then the outermost into the graph.
        for path in sorted(self.graphs, key=lambda p: -p.count(".")):
            parent = path.rpartition(".")[0]
            (self.graphs[parent] if parent in self.graphs else self.g).subgraph(self.graphs[path])


def _label(node, show, state, current, extra, desc, scale):
    if node.kind == "op":
        done = state is None or node.id in state.done_ids
        position = state.position if state is not None and current else None
        number = state.order.get(node.id) if _forward(state) else node.backward_order
        return _op_label(node, done, desc.show_ops == "both", extra, position, number)
    if node.kind == "summary":
        return _summary_label(node)
    if node.kind == "module":
        done = state is None or node.id in state.done_ids
        return _module_label(node, done, current)
    fill = None
    if scale is not None:
        fill = scale.color(node.grad_mag if scale.kind == "grad" else node.value_mag)
    return _tensor_label(node, show, state, current, fill)


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


def _table(rows, look, *, border=1, color=None, dashed=False, fill=None):
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
            f'bgcolor="{fill or look.fill}" color="{color or look.border}">{"".join(body)}</table>>')


def _badge(number, color):
    width = 8 + 6 * len(str(number))  # fixed, so a wide box does not stretch its badge
    return (_font(text(number), color="white", size=style.SMALL_SIZE, bold=True),
            f' bgcolor="{color}" width="{width}" height="14" fixedsize="true"')


def _with_badge(html, number, color):
    """``html`` with a small numbered badge before it, in a table of its own so it stays small."""
    badge, attrs = _badge(number, color)
    return (f'<table border="0" cellborder="0" cellspacing="0" cellpadding="1"><tr>'
            f'<td{attrs}>{badge}</td><td>{html}</td></tr></table>')


def _tensor_label(node, show, state, current, fill=None):
    look = style.ROLE[node.role]
    is_number = node.shape == () and node.value is not None and node.value == node.label
    title = _font(text(node.label), bold=True)
    if node.backward_order is not None and not _forward(state):  # the step that writes a leaf's .grad
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
    if _forward(state):  # the derivatives this walk carries: tangents (show["grads"] shows them too)
        if show["grads"] and node.id in state.tangents:
            words = f"{style.TANGENT_WORD} {preview(state.tangents[node.id])}"
            rows.append([(_font(text(words), color=style.TANGENT, size=style.VALUE_SIZE, face=style.MONO), "")])
    elif show["grads"] and node.grad is not None:
        grad = node.grad if state is None else preview(state.grads.get(node.id))
        color = style.GRAD if grad != NONE else style.MUTED
        rows.append([(_font(text(f"grad {grad}"), color=color, size=style.VALUE_SIZE, face=style.MONO), "")])
    if is_number:  # a bare Python number: a small box with room around the digits
        rows = [[(title, ' width="26"')]]
    if current:
        return _table(rows, look, border=style.CURRENT_NODE_PEN, color=style.HIGHLIGHT, dashed=look.dashed,
                      fill=fill)
    return _table(rows, look, dashed=look.dashed, fill=fill)


def _op_label(node, done, both, extra=(), position=None, number=None):
    """The op's name (``mul``; a folded run ``mul ×10``, or ``mul 4 of 10`` while the stepper is in
    it), its inlined constants (``× 2``) and, for a run, its first and last values. ``number``, its
    badge, is its step in the walk shown (by default the backward walk)."""
    title = f"{node.op or node.label} {position[0]} of {position[1]}" if position else node.label
    name = _font(text(title), bold=True)
    cells = [f"<td>{name}</td>"]
    if number is not None:
        html, attrs = _badge(number, style.BADGE if done else style.BADGE_PENDING)
        cells.insert(0, f"<td{attrs}>{html}</td>")
    rows = [f"<tr>{''.join(cells)}</tr>"]
    lines = []
    if both and node.detail != node.label:
        lines.append(_font(text(node.detail), color=style.MUTED, size=style.SMALL_SIZE))
    lines += [_font(text(words), size=style.VALUE_SIZE) for words in extra]
    if node.members and node.value:
        lines.append(_font(text(node.value), size=style.SMALL_SIZE, face=style.MONO, color=style.MUTED))
    for line in lines:
        rows.append(f'<tr><td colspan="{len(cells)}">{line}</td></tr>')
    return f'<<table border="0" cellborder="0" cellspacing="2" cellpadding="1">{"".join(rows)}</table>>'


def _op_tooltip(node):
    tip = f"{node.detail} (record #{node.id[2:]})"
    return tip + ("; saved values freed by backward()" if node.freed else "")


def _module_label(node, done, current):
    """A collapsed module: ``0: Linear(5→8)`` and a row per parameter, ``0.weight 8×5``."""
    title = _font(text(node.label), bold=True)
    if node.backward_order is not None:
        title = _with_badge(title, node.backward_order, style.BADGE if done else style.BADGE_PENDING)
    rows = [[(title, "")]]
    for line in filter(None, node.detail.split("\n")):
        rows.append([(_font(text(line), size=style.SMALL_SIZE, face=style.MONO), ' align="left"')])
    if current:
        return _table(rows, style.MODULE, border=style.CURRENT_NODE_PEN, color=style.HIGHLIGHT)
    return _table(rows, style.MODULE)


def _summary_label(node):
    return f"<{_font(text(node.label), bold=True)}<br/>{_font(text(node.detail), size=style.SMALL_SIZE)}>"


def _legend_label(desc, grads, scale=None, drawn=None, forward=False):
    roles = [r for r in style.ROLE if any(n.role == r for n in (desc.nodes if drawn is None else drawn))]
    rows = [[(_font(text("legend"), bold=True), ' colspan="2"')]]
    for role in roles:
        look = style.ROLE[role]
        words = style.FORWARD_ROLE_LEGEND.get(role, look.legend) if forward else look.legend
        rows.append([("", f' bgcolor="{look.fill}" border="1" color="{look.border}" width="16"'),
                     (_font(text(words), size=style.SMALL_SIZE), ' align="left"')])
    if desc.ops:
        words = style.FORWARD_OP_LEGEND if forward else style.OP.legend
        rows.append([_badge("n", style.BADGE), (_font(text(words), size=style.SMALL_SIZE), ' align="left"')])
    if any(e.kind == "detach" for e in desc.edges):
        rows.append([(_font(text("- - ›"), color=style.ROLE["detached"].border, bold=True), ""),
                     (_font(text("detach: the gradient stops"), size=style.SMALL_SIZE), ' align="left"')])
    if forward:
        rows.append([(_font(text(style.TANGENT_WORD), color=style.TANGENT), ""),
                     (_font(text(style.TANGENT_LEGEND), size=style.SMALL_SIZE), ' align="left"')])
    elif grads:
        rows.append([(_font(text(NONE), color=style.MUTED), ""),
                     (_font(text("grad is None (not 0)"), size=style.SMALL_SIZE), ' align="left"')])
    if any(n.kind == "module" for n in desc.nodes):
        rows.append([("", f' bgcolor="{style.MODULE.fill}" border="1" color="{style.MODULE.border}" width="16"'),
                     (_font(text(style.MODULE.legend), size=style.SMALL_SIZE), ' align="left"')])
    body = "".join("<tr>" + "".join(f"<td{a}>{h}</td>" for h, a in row) + "</tr>" for row in rows)
    if scale is not None:
        body += _heat_rows(scale)
    return (f'<<table border="1" cellborder="0" cellspacing="2" cellpadding="2" color="{style.MUTED}" '
            f'bgcolor="white">{body}</table>>')


def _heat_rows(scale):
    """The heat scale: its title, then a bar of decades (lowest first) under their labels."""
    if scale.empty:
        words = f"{scale.title()}: nothing to shade" + (" (run backward first)" if scale.kind == "grad" else "")
        return f'<tr><td colspan="2">{_font(text(words), size=style.SMALL_SIZE)}</td></tr>'
    ticks = scale.ticks()
    cells = "".join(f'<td bgcolor="{color}" border="1" color="{style.MUTED}">'
                    f'{_font(text(label), size=style.SMALL_SIZE)}</td>' for color, label in ticks)
    if scale.has_zero:
        cells += (f'<td bgcolor="{style.HEAT_ZERO}" border="1" color="{style.MUTED}">'
                  f'{_font(text("0"), size=style.SMALL_SIZE)}</td>')
    bar = f'<table border="0" cellborder="0" cellspacing="1" cellpadding="2"><tr>{cells}</tr></table>'
    return (f'<tr><td colspan="2" align="left">{_font(text(scale.title()), size=style.SMALL_SIZE, bold=True)}</td></tr>'
            f'<tr><td colspan="2">{bar}</td></tr>')


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
    if edge.label:
        attrs.update(style.EDGE_LABEL, label=graph_text(edge.label))
    if _forward(state) and edge.slot is not None:
        term = state.edge_tangents.get((edge.dst, edge.slot))
        if term is not None:  # the JVP term this input sent on: it flows along the arrow
            words = f"{edge.label}: → {preview(term)}" if edge.label else f"→ {preview(term)}"
            attrs.update(style.TANGENT_EDGE, label=graph_text(words))
            if (edge.dst, edge.slot) in state.current_edges:
                attrs.update(style.CURRENT_EDGE)
    elif state is not None and edge.slot is not None:
        g = state.edge_grads.get((edge.dst, edge.slot))
        if g is not None:
            words = f"{edge.label}: ← {preview(g)}" if edge.label else f"← {preview(g)}"
            attrs.update(style.GRAD_EDGE, label=graph_text(words))
            if (edge.dst, edge.slot) in state.current_edges:
                attrs.update(style.CURRENT_EDGE)
    return attrs


def graph_text(value):
    """A plain (non-HTML) DOT string: backslashes and <...> lose their special meaning."""
    import graphviz

    return graphviz.escape(str(value))
