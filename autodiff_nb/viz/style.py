"""Every colour, font and shape of the drawings, in one place.

Roles follow the chapter's vocabulary: a leaf that requires grad collects ``.grad``; a constant
gets none; a detached value is a constant cut from the graph by ``detach()``; the output is where
backward starts; an intermediate's gradient is computed and dropped unless ``retain_grad()`` keeps it.
"""
from __future__ import annotations

from dataclasses import dataclass

FONT = "Helvetica"
MONO = "Courier"


@dataclass(frozen=True)
class Look:
    fill: str
    border: str
    legend: str
    dashed: bool = False


ROLE = {
    "leaf": Look("#dcedc8", "#33691e", "leaf (requires grad): gets .grad"),
    "output": Look("#ffe0b2", "#e65100", "output: backward() starts here"),
    "intermediate": Look("#ffffff", "#546e7a", "intermediate: gradient used, not kept"),
    "retained": Look("#e1f5fe", "#0277bd", "retained: retain_grad() keeps .grad"),
    "constant": Look("#f5f5f5", "#9e9e9e", "constant: no gradient", dashed=True),
    "detached": Look("#f3e5f5", "#7b1fa2", "detached: detach() made a constant", dashed=True),
}
OP = Look("#e8eaf6", "#3949ab", "op; n = its step in the backward pass")
SUMMARY = Look("#fafafa", "#757575", "folded part of a big graph", dashed=True)

BADGE = "#d84315"  # backward-order number on an op (or on a leaf: the step that writes .grad)
BADGE_PENDING = "#bdbdbd"  # the widget: steps not reached yet
GRAD = "#c62828"  # gradients, on nodes and on edges
MUTED = "#757575"  # shapes, "freed", "—"
HIGHLIGHT = "#ff6f00"  # the widget's current step

GRAPH = {"rankdir": "LR", "bgcolor": "white", "nodesep": "0.3", "ranksep": "0.45", "pad": "0.15",
         "fontname": FONT, "fontsize": "11"}
NODE = {"shape": "plain", "fontname": FONT, "fontsize": "11"}
EDGE = {"color": "#78909c", "arrowsize": "0.7", "fontname": FONT, "fontsize": "10"}
OP_NODE = {"shape": "ellipse", "style": "filled", "fillcolor": OP.fill, "color": OP.border,
           "margin": "0.04,0.02"}
SUMMARY_NODE = {"shape": "box", "style": "rounded,dashed,filled", "fillcolor": SUMMARY.fill,
                "color": SUMMARY.border, "fontcolor": "#424242"}
DETACH_EDGE = {"style": "dashed", "color": ROLE["detached"].border, "fontcolor": ROLE["detached"].border,
               "label": "detach", "penwidth": "1.3"}
FOLD_EDGE = {"style": "dotted"}
CHAIN_EDGE = {"weight": "2"}
SIDE_EDGE = {"weight": "1"}
CHAIN_GROUP = "chain"  # nodes the gradient flows through: Graphviz keeps edges within a group straight
MAX_FANOUT = 3  # a tensor used more often is drawn again beside each later use
GRAD_EDGE = {"fontcolor": GRAD, "color": GRAD}
CURRENT_EDGE = {"penwidth": "2.2"}
CURRENT_NODE_PEN = "3"
VALUE_SIZE = "10"
SMALL_SIZE = "9"
EDGE_LABEL = {"fontsize": "9", "fontcolor": "#546e7a"}  # operand names: "a", "b", "exponent", "[0]"
CLUSTER = {"style": "rounded,dashed", "color": "#90a4ae", "fontname": FONT, "fontsize": "10",
           "fontcolor": "#37474f", "labeljust": "l", "margin": "8"}
MODULE = Look("#ede7f6", "#5e35b1", "module (collapse=True): its ops and parameters as one box")
# Heat colours, light to dark, so black text stays readable on every shade (ColorBrewer YlOrRd, PuBu).
HEAT = {"grad": ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#f7774a"],
        "value": ["#f1eef6", "#d0d1e6", "#a6bddb", "#74a9cf", "#3690c0", "#0570b0"]}
HEAT_ZERO = "#ffffff"  # exactly zero: white, and the legend says so
# Layout: how wide a drawing may be before it turns top to bottom, and when a long chain wraps.
# 720 pt is a 960 px notebook column at natural size (1 pt = 4/3 px), where 9 pt text is 12 px.
WIDE = 720
TALL = 1400  # points of a top-to-bottom drawing before its chain wraps into rows
STEPPER_TALL = 600  # the stepper's: its buttons and its whole drawing on one screen (800 px)
ROW = 700  # points of one wrapped row
# Forward mode: tangents ride from the inputs to the output, in their own colour (not the gradients' red).
TANGENT = "#1565c0"
TANGENT_WORD = "tangent"
TANGENT_EDGE = {"fontcolor": TANGENT, "color": TANGENT}
TANGENT_LEGEND = "tangent: derivative along the seed direction"
FORWARD_OP_LEGEND = "op; n = its step in the forward walk"
# The roles whose words speak of the backward pass, said the forward walk's way.
FORWARD_ROLE_LEGEND = {"leaf": "leaf (requires grad): a seed tangent starts here",
                       "output": "output: the tangent arrives here",
                       "intermediate": "intermediate: its tangent is pushed on"}
