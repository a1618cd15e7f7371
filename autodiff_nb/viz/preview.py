"""Short text for numbers, arrays and shapes: what fits on a node of the drawing.

>>> preview(np.array([0., 4., 8., 12.]))
'[0, 4, 8, 12]'
>>> preview(np.float32(0.5)), preview(None), shape_text((2, 3))
('0.5', '—', '2×3')
"""
from __future__ import annotations

import numpy as np

NONE = "—"  # a gradient that is None: drawn differently from 0 on purpose
MAX_ITEMS = 6  # arrays longer than this show their first and last two items


def number(v) -> str:
    """One number, as short as it can be without lying: 2, 0.5, -6.519e-09, nan."""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    v = float(v)
    if v != v or v in (float("inf"), float("-inf")):
        return str(v)
    # Whole numbers print without a trailing ".0" (the chapter writes grad(dot) = 2, not 2.0).
    if v == int(v) and abs(v) < 1e6:
        return str(int(v)) if v != 0 else "0"
    return format(v, ".4g")


def preview(value, max_items: int = MAX_ITEMS) -> str:
    """A value (array, scalar, Tensor, None) as one short line."""
    if value is None:
        return NONE
    data = getattr(value, "array", value)  # a Tensor's numpy array
    arr = np.asarray(data)
    if arr.ndim == 0:
        return number(arr.item())
    if arr.ndim > 1 and arr.size > max_items:
        # A matrix's rows would not fit on a node or in a table cell: its shape and a few entries do.
        flat = arr.reshape(-1)
        return f"{shape_text(arr.shape)} [{number(flat[0])}, {number(flat[1])}, …, {number(flat[-1])}]"
    if arr.ndim == 1:
        # The same text as array2string below, without its cost: drawings preview hundreds of vectors.
        items = arr.tolist()
        if len(items) > max_items:
            items = items[:2] + [None] + items[-2:]
        return "[" + ", ".join("…" if v is None else number(v) for v in items) + "]"
    text = np.array2string(arr, separator=", ", threshold=max_items, edgeitems=2,
                           formatter={"all": number}, max_line_width=10**9)
    return " ".join(text.replace("...", "…").split())


def shape_text(shape) -> str:
    """``(2, 3)`` -> ``2×3``; ``()`` -> ``scalar``: how a teacher writes shapes on the board."""
    if shape is None:
        return ""
    if len(shape) == 0:
        return "scalar"
    return "×".join(str(n) for n in shape)


def dtype_text(dtype) -> str:
    """Only the unusual dtypes are worth a word on the node: float32 is the default."""
    if dtype is None:
        return ""
    name = np.dtype(dtype).name
    return "" if name == "float32" else name
