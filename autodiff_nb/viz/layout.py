"""Which way a drawing runs, so it fits a notebook column at a size its text can be read.

Left to right reads like the code, and small graphs stay that way. When the longest path would make
the picture wider than ``style.WIDE``, it runs top to bottom instead (a notebook scrolls down, not
sideways). A long chain that would still be very tall wraps into rows, like text: each row is one
Graphviz rank (``rank=same``) read left to right, with a free rank between rows where the leaves
and constants feeding that row sit.

Sizes are estimated from the label text, before Graphviz runs: rendering twice to measure would
double the time of every drawing.

>>> plan([("x", 60, 40), ("op0", 50, 30), ("y", 60, 40)], [("x", "op0"), ("op0", "y")]).rankdir
'LR'
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import style

RANKSEP = 32  # points: style.GRAPH's ranksep (0.45 in)
NODESEP = 22


@dataclass
class Plan:
    rankdir: str  # "LR" or "TB"
    rows: list = field(default_factory=list)  # wrapped: lists of node ids, one per row; else empty
    width: float = 0.0  # the estimate that decided it, in points
    height: float = 0.0


def plan(sizes, edges, *, wrap=True, tall=style.TALL) -> Plan:
    """``sizes``: (node id, width pt, height pt) in drawing order; ``edges``: (src, dst) pairs; a
    top-to-bottom drawing taller than ``tall`` points wraps."""
    size = {nid: (w, h) for nid, w, h in sizes}
    level = _levels([nid for nid, _, _ in sizes], [(s, d) for s, d in edges if s in size and d in size])
    by_level = {}
    for nid, lv in level.items():
        by_level.setdefault(lv, []).append(nid)
    levels = [by_level[k] for k in sorted(by_level)]
    lr_width = sum(max(size[n][0] for n in ns) for ns in levels) + RANKSEP * (len(levels) - 1)
    lr_height = max(sum(size[n][1] for n in ns) + NODESEP * (len(ns) - 1) for ns in levels) if levels else 0
    if lr_width <= style.WIDE:
        return Plan("LR", width=lr_width, height=lr_height)
    tb_width = max(sum(size[n][0] for n in ns) + NODESEP * (len(ns) - 1) for ns in levels)
    tb_height = sum(max(size[n][1] for n in ns) for ns in levels) + RANKSEP * (len(levels) - 1)
    if not wrap or tb_height <= tall:
        return Plan("TB", width=tb_width, height=tb_height)
    return Plan("TB", rows=_rows(levels, size, edges), width=tb_width, height=tb_height)


def _levels(ids, edges):
    """Longest path from a source, in edges (Graphviz's ranks, near enough). Edges are acyclic."""
    incoming = {nid: [] for nid in ids}
    outgoing = {nid: [] for nid in ids}
    for s, d in edges:
        incoming[d].append(s)
        outgoing[s].append(d)
    pending = {nid: len(incoming[nid]) for nid in ids}
    ready = [nid for nid in ids if pending[nid] == 0]
    level = {nid: 0 for nid in ids}
    while ready:
        nid = ready.pop()
        for d in outgoing[nid]:
            level[d] = max(level[d], level[nid] + 1)
            pending[d] -= 1
            if pending[d] == 0:
                ready.append(d)
    return level


def _rows(levels, size, edges):
    """Consecutive levels into rows of at most ``style.ROW`` points; sources stay free."""
    has_input = {d for _, d in edges}
    rows, row, width = [], [], 0.0
    for ids in levels:
        spine = [n for n in ids if n in has_input]
        if not spine:
            continue
        extra = sum(size[n][0] for n in spine) + RANKSEP * len(spine)
        if row and width + extra > style.ROW:
            rows.append(row)
            row, width = [], 0.0
        row += spine
        width += extra
    if row:
        rows.append(row)
    return rows if len(rows) > 1 else []


def text_width(chars, points, mono=False) -> float:
    """Rough width of ``chars`` characters of text at ``points`` (Helvetica or Courier)."""
    return chars * points * (0.6 if mono else 0.56)
