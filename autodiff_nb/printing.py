"""Render a tensor's numpy data exactly as PyTorch 2.x's ``repr(tensor)`` does.

Learners compare our output with PyTorch's side by side, so every space counts.
The rules follow ``torch/_tensor_str.py``:

* One width is shared by every element of a tensor. For floats it is measured on
  the nonzero finite values only, so zeros, nan and inf never widen a column.
* Floats print as ``3.`` when all nonzero finite values are whole numbers, in
  scientific notation when their magnitudes span more than 1000x, exceed 1e8 or
  dip below 1e-4, and with ``precision`` decimals otherwise.
* Past ``threshold`` elements only ``edgeitems`` rows/columns at each edge are
  shown, and the width is measured on those alone.
* Rows wrap to ``linewidth``; suffixes such as ``grad_fn=<...>`` move to a line of
  their own when they would not fit.
"""
from __future__ import annotations

import dataclasses
import math

import numpy as np

_PREFIX = "tensor("


@dataclasses.dataclass
class _Options:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTS = _Options()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, sci_mode=None):
    """Change how tensors print; arguments left as None keep their value, like ``torch.set_printoptions``.

    ``sci_mode`` is the exception, as in PyTorch: omitting it goes back to choosing
    scientific notation automatically.
    """
    for name, value in (("precision", precision), ("threshold", threshold),
                        ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            setattr(_OPTS, name, value)
    _OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current options, in a form ``set_printoptions(**options)`` accepts back."""
    return dataclasses.asdict(_OPTS)


class _ElementFormat:
    """Turns one Python scalar into text padded to the tensor's shared width."""

    def __init__(self, sample: np.ndarray):
        self.is_float = sample.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not self.is_float:
            self.width = max([1] + [len(str(v)) for v in sample.ravel().tolist()])
            return
        flat = sample.ravel()
        informative = flat[np.isfinite(flat) & (flat != 0)]
        if informative.size == 0:
            return  # nothing to measure: zeros, nan and inf print unpadded as "0.", "nan", "inf"
        self.int_mode = bool(np.all(informative == np.ceil(informative)))
        # Compare in float64 as PyTorch does: float16 would overflow at 1e8.
        magnitudes = np.abs(informative).astype(np.float64)
        low, high = magnitudes.min(), magnitudes.max()
        if _OPTS.sci_mode is None:
            with np.errstate(over="ignore"):  # max float over a subnormal is inf: a wide span, as intended
                self.sci_mode = bool(high / low > 1000.0 or high > 1.0e8 or low < 1.0e-4)
        else:
            self.sci_mode = _OPTS.sci_mode
        self.width = max(len(self._text(v)) for v in informative.tolist())

    def _text(self, value) -> str:
        if not self.is_float:
            return str(value)
        if self.sci_mode:
            return f"{value:.{_OPTS.precision}e}"
        if self.int_mode:
            # The trailing dot is what tells a reader that 3. is a float tensor.
            return f"{value:.0f}" + ("." if math.isfinite(value) else "")
        return f"{value:.{_OPTS.precision}f}"

    def __call__(self, value) -> str:
        return self._text(value).rjust(self.width)


def _edges(data: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows: the first and last edgeitems along every axis."""
    e = _OPTS.edgeitems
    for axis, n in enumerate(data.shape):
        if n > 2 * e:
            keep = np.r_[0:e, n - e:n]
            data = np.take(data, keep, axis=axis)
    return data


def _body(data: np.ndarray, indent: int, summarize: bool, fmt: _ElementFormat) -> str:
    if data.ndim == 0:
        return fmt(data.item())
    e = _OPTS.edgeitems
    if summarize and e == 0:
        return "[...]"
    n = data.shape[0]
    elide = summarize and n > 2 * e
    if data.ndim == 1:
        if elide:
            items = [fmt(v) for v in data[:e].tolist()] + [" ..."] + [fmt(v) for v in data[n - e:].tolist()]
        else:
            items = [fmt(v) for v in data.tolist()]
        # Every element is budgeted its width plus ", "; the " ..." marker counts as one element too.
        per_line = max(1, (_OPTS.linewidth - indent) // (fmt.width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(n) if not elide else [*range(e), None, *range(n - e, n)]
    parts = ["..." if i is None else _body(data[i], indent + 1, summarize, fmt) for i in rows]
    # Deeper tensors separate their blocks with more blank lines (one per extra dimension).
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _with_suffixes(text: str, suffixes: list[str]) -> str:
    indent = len(_PREFIX)
    # PyTorch measures the data's last line two characters longer than it is (but not a line
    # it started for a suffix); copying that keeps our wrap points identical to its.
    used = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if used + len(suffix) + 2 > _OPTS.linewidth:
            text += ",\n" + " " * indent + suffix
            used = indent + len(suffix)
        else:
            text += ", " + suffix
            used += len(suffix) + 2
    return text + ")"


def tensor_repr(data: "np.ndarray", *, dtype_suffix: str | None = None, grad_fn: str | None = None,
                requires_grad: bool = False, tangent: str | None = None) -> str:
    """``repr`` of a tensor holding ``data``, character for character as PyTorch prints it.

    ``dtype_suffix`` (e.g. ``"torch.float64"``) is printed as ``dtype=...`` when given.
    An empty tensor shows its dtype unless it is float32, as PyTorch does, so for empty
    data the dtype is named from ``data.dtype`` when the caller gave none.
    """
    data = np.asarray(data)
    suffixes = []
    if data.size == 0:
        body = "[]"
        if data.ndim != 1:
            suffixes.append(f"size={tuple(data.shape)}")
        if dtype_suffix is None and data.dtype != np.float32:
            dtype_suffix = f"torch.{data.dtype.name}"
    else:
        summarize = data.size > _OPTS.threshold
        fmt = _ElementFormat(_edges(data) if summarize else data)
        body = _body(data, len(_PREFIX), summarize, fmt)
        if not _OPTS.edgeitems:
            suffixes.append(f"size={tuple(data.shape)}")  # nothing shown, so the shape is all there is
    if dtype_suffix is not None:
        suffixes.append(f"dtype={dtype_suffix}")
    if grad_fn is not None:
        suffixes.append(f"grad_fn=<{grad_fn}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    if tangent is not None:  # a dual tensor's tangent (forward mode), printed last as PyTorch does
        suffixes.append(f"tangent={tangent}")
    return _with_suffixes(_PREFIX + body, suffixes)
