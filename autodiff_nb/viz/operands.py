"""Which operand is which: edge labels for non-commutative ops, and small constants as op text.

``a - b`` and ``b - a`` draw the same two arrows into one ``sub``; the labels say which is which.
A commutative op (add, mul, maximum ...) needs none. A small constant (a Python number or a
one-element constant tensor) is written into the op's label, ``× 2``, instead of being a node of
its own: it has no gradient, and a box per constant doubled the width of chapter 1's chain.

>>> operand_label("pow", 1, 2), operand_label("cat", 2, 3), operand_label("mul", 0, 2)
('exponent', '2', '')
>>> inline_text("mul", 1, "2"), inline_text("sub", 0, "1")
('× 2', '1 −')
"""
from __future__ import annotations

import numpy as np

# op key -> one name per input slot, in argument order (the rule's own names are a, b for most)
OPERAND_NAMES = {
    "sub": ("a", "b"), "rsub": ("b", "a"), "div": ("a", "b"), "remainder": ("a", "b"),
    "pow": ("base", "exponent"),
    "matmul": ("left", "right"), "mm": ("left", "right"), "mv": ("left", "right"),
    "where": ("cond", "then", "else"),
    "clamp_tensor": ("x", "low", "high"),
    "setitem": ("a", "value"), "copy": ("a", "src"),
}
FLIPPED = ("rsub",)  # 2 - x records rsub(x, 2): the constant in slot 1 is the first operand
POSITIONAL = ("cat", "stack")  # any number of inputs: each edge says its position
INDEXING = ("index",)  # the edge into the op shows the index (also Select/Slice, same rule key)

# op key -> the symbol a constant is written with in the op's label
SYMBOLS = {"add": "+", "sub": "−", "rsub": "−", "mul": "×", "div": "÷", "pow": "**", "remainder": "%",
           "maximum": "max", "minimum": "min"}
SMALL = 1  # elements: a constant this small is text in the op's label


def operand_label(op, slot, n_inputs) -> str:
    """The label of the edge into input ``slot`` of ``op`` ("" when the order does not matter)."""
    if op in POSITIONAL:
        return str(slot)
    names = OPERAND_NAMES.get(op)
    if names is not None and slot < len(names):
        return names[slot]
    return ""


def inline_text(op, slot, value_text) -> str:
    """``× 2`` (the constant is the second operand) or ``2 −`` (the first): read as the op's text."""
    symbol = SYMBOLS.get(op, op)
    second = (slot > 0) != (op in FLIPPED)
    return f"{symbol} {value_text}" if second else f"{value_text} {symbol}"


def index_text(key) -> str:
    """An indexing key as Python writes it: ``[0]``, ``[:, 1:]``, ``[[1, 0]]``, ``[..., None]``."""
    parts = key if isinstance(key, tuple) else (key,)
    return "[" + ", ".join(_one_index(k) for k in parts) + "]"


def _one_index(k):
    if isinstance(k, slice):
        start = "" if k.start is None else str(k.start)
        stop = "" if k.stop is None else str(k.stop)
        text = f"{start}:{stop}"
        return text + (f":{k.step}" if k.step is not None else "")
    if k is Ellipsis:
        return "..."
    if k is None:
        return "None"
    if isinstance(k, (np.ndarray, list)) or hasattr(k, "array"):
        from .preview import preview

        return preview(getattr(k, "array", k))
    return str(k)
