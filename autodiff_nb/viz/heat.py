"""Gradient heat: each tensor shaded by mean |grad| (or |value|) on a log scale, with its legend.

A vanishing gradient is a ratio of 1e-6 between the first layer and the last: a linear colour
scale would paint everything but the last layer white. So colours step by decades, and the legend
prints the decades it used.

Leaves and retained tensors show their ``.grad``; the other tensors (whose gradient backward()
computes and drops) show what ``tape.walk`` sends them on private copies, seeded with ones like
``y.backward()``. When a backward freed the graph, only leaves and retained tensors are shaded.

>>> scale = Scale([1e-6, 1e-3, 0.5])
>>> scale.low, scale.high, scale.color(1e-6) == style.HEAT["grad"][0]
(-6, 0, True)
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from . import style

COLOR_BY = (None, "grad", "value")


def with_walk_grads(desc, roots):
    """``desc`` with ``grad_mag`` filled in from a private backward walk where ``.grad`` gives none."""
    from .steps import backward_steps

    run = backward_steps(roots, desc)
    if run.problem:
        return desc
    found = {}
    for step in run.steps:
        target = step.node_id
        if step.record is not None:
            out = desc.output_of(step.node_id)
            if out is None:
                continue
            target = out.id
        found[target] = float(np.abs(step.grad_in).mean()) if np.size(step.grad_in) else None
    nodes = [replace(n, grad_mag=found[n.id]) if n.grad_mag is None and n.id in found else n for n in desc.nodes]
    desc.nodes = nodes
    return desc


class Scale:
    """Decades from the smallest to the largest positive magnitude; ``color(m)`` is m's shade."""

    def __init__(self, magnitudes, kind="grad"):
        positive = [m for m in magnitudes if m is not None and m > 0 and math.isfinite(m)]
        self.kind = kind
        self.palette = style.HEAT[kind]
        self.empty = not positive
        self.low = math.floor(math.log10(min(positive))) if positive else 0
        self.high = max(math.ceil(math.log10(max(positive))), self.low + 1) if positive else 1
        self.has_zero = any(m == 0 for m in magnitudes if m is not None)

    @classmethod
    def of(cls, nodes, kind):
        attr = "grad_mag" if kind == "grad" else "value_mag"
        return cls([getattr(n, attr) for n in nodes if n.kind == "tensor"], kind)

    def color(self, magnitude) -> str | None:
        if magnitude is None or not math.isfinite(magnitude):
            return None
        if magnitude <= 0:
            return style.HEAT_ZERO
        where = (math.log10(magnitude) - self.low) / (self.high - self.low)
        return _interpolate(self.palette, min(max(where, 0.0), 1.0))

    def ticks(self, most=6) -> list[tuple[str, str]]:
        """(colour, "1e-06") for evenly spaced decades, lowest first: the legend's bar."""
        decades = list(range(self.low, self.high + 1))
        stride = max(1, math.ceil(len(decades) / most))
        picked = decades[::stride]
        if picked[-1] != decades[-1]:
            picked.append(decades[-1])
        return [(self.color(10.0 ** d), decade_text(d)) for d in picked]

    def title(self) -> str:
        return f"mean |{'grad' if self.kind == 'grad' else 'value'}|, log scale"


def decade_text(d) -> str:
    return {0: "1", 1: "10", 2: "100", -1: "0.1", -2: "0.01"}.get(d, f"1e{d:+d}".replace("+", ""))


def _interpolate(palette, where):
    position = where * (len(palette) - 1)
    i = min(int(position), len(palette) - 2)
    frac = position - i
    a, b = _rgb(palette[i]), _rgb(palette[i + 1])
    return "#" + "".join(f"{round(x + (y - x) * frac):02x}" for x, y in zip(a, b))


def _rgb(color):
    return tuple(int(color[k:k + 2], 16) for k in (1, 3, 5))
