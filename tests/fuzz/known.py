"""Divergences from PyTorch that are known and still open (issue 10), reviewed, in one place.

Each entry names the families it shows up in, a one-line description, the issue-10 bullet it belongs
to, an example program that shows it, and a predicate over a ``compare.Divergence``
(``d.has(field, torch=..., engine=...)``, ``d.only(...)``, ``d.only_grad_fn(...)``, ``d.source``).
A divergence that no entry matches is new and fails the fuzz; an entry that matches nothing in its
family's run (its example always runs) is stale and fails it too: the engine was fixed, so delete the
entry, and its line in the README (``tools/fuzz.py --list-known`` prints them). These are open work,
not deliberate exceptions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Known:
    families: tuple
    description: str
    bullet: str
    predicate: Callable
    # One program ("family:seed") that shows it: always run, so a fix is noticed even in a short run.
    example: str = ""

    def matches(self, divergence) -> bool:
        return self.predicate(divergence)


def refused_by_torch_only(d, text):
    """PyTorch raises ``text`` where the engine carries on."""
    return d.has("raise", torch=text, engine="no raise")


def torch_says(d, text):
    """The engine raises too (same type or not) but PyTorch's first line is ``text``."""
    return d.has("message", torch=text)


def int_then_list_apart(source):
    # x[0, :, [0, 1]]: an int and a list index with a slice, None or ... between them
    return re.search(r"\[[^\]\n]*(?<![\w.])-?\d+, [^\[\n]*(:|None|\.\.\.)[^\[\n]*\[", source) is not None \
        or re.search(r"\[\[[^\]]*\][^\n]*:[^\n]*, -?\d+[,\]]", source) is not None


KNOWN: list[Known] = [
    # ------------------------------------------------------------------ reductions
    Known(("reductions",), "norm with p other than 1 or 2 (0, 3, inf, 'fro') raises NotImplementedError",
          "reductions", lambda d: d.has(engine="norm: p="),
          example="reductions:8"),
    # ------------------------------------------------------------------ ties and NaN
    Known(("ties_nan",), "torch.maximum / minimum of +0. and -0.: PyTorch gives +0. for maximum and -0. "
          "for minimum, the engine the first or second input", "ties and NaN",
          lambda d: re.search(r"torch\.m(ax|in)imum", d.source) and "-0.0" in d.source
          and d.only("values", "grad.values"),
          example="ties_nan:39"),
    Known(("ties_nan",), "max(dim) / min(dim) over a tie of +0. and -0.: a different zero is picked",
          "ties and NaN",
          lambda d: re.search(r"\.m(ax|in)\(dim", d.source) and "-0.0" in d.source and d.only("values"),
          example="ties_nan:104"),
    Known(("ties_nan",), "relu(-0.) is +0. in the engine, -0. in PyTorch (it keeps x where x >= 0)",
          "ties and NaN", lambda d: "relu" in d.source and "-0.0" in d.source and d.only("values"),
          example="ties_nan:90"),
    Known(("ties_nan",), "abs at NaN: PyTorch's gradient is 0 there (sgn(NaN) = 0), the engine's NaN",
          "ties and NaN", lambda d: "abs()" in d.source and d.only("grad.values")
          and d.has("grad.values", engine="nan"),
          example="ties_nan:193"),
    Known(("ties_nan",), "clamp with a -0. bound: the sign of a clamped zero differs", "ties and NaN",
          lambda d: "clamp(" in d.source and "-0.0" in d.source and d.only("values"),
          example="ties_nan:224"),
    # ------------------------------------------------------------------ the matmul family
    Known(("matmul", "numpy"), "mixed dtypes in @ / matmul / mm / mv / dot: PyTorch refuses (\"expected m1 "
          "and m2 to have the same dtype\", \"addmv ...\", \"dot : ...\"), the engine promotes or words it "
          "differently", "the matmul family",
          lambda d: d.has(torch="same dtype") or d.has("message", engine="expected m1 and m2 to have the same dtype")
          or d.has("raise", torch="no raise", engine="expected m1 and m2"),
          example="matmul:162"),
    Known(("matmul",), "(n, k) @ (b, k, m): the result's grad_fn is CloneBackward0, PyTorch's "
          "TransposeBackward0", "the matmul family",
          lambda d: d.only_grad_fn(("TransposeBackward0", "CloneBackward0")),
          example="matmul:40"),
    # ------------------------------------------------------------------ indexing and item assignment
    Known(("indexing",), "assigning a float32 tensor into a float64 tensor through a list index: PyTorch "
          "refuses (Index put requires the source and destination dtypes match)", "indexing and item assignment",
          lambda d: refused_by_torch_only(d, "Index put requires the source and destination dtypes match"),
          example="indexing:193"),
    # ------------------------------------------------------------------ in-place ops
    Known(("inplace",), "an in-place op whose result type cannot be stored (int tensor -= float tensor): "
          "PyTorch refuses: result type Float can't be cast to the desired output type Long", "in-place ops",
          lambda d: refused_by_torch_only(d, "can't be cast to the desired output type"),
          example="inplace:5"),
    # ------------------------------------------------------------------ views and in-place
    Known(("views",), "w.data = a tensor of another dtype after w was used: the gradient takes w's new "
          "dtype; PyTorch's keeps the dtype w had when the op was recorded", "views and in-place",
          lambda d: "w.data = torch.zeros(w.shape)" in d.source and d.only("grad.dtype", "grad.values"),
          example="views:1457"),
    # ------------------------------------------------------------------ dtype promotion
    Known(("promotion", "misuse"), "bool in subtraction: tensor - True is computed, PyTorch refuses "
          "(\"Subtraction, the `-` operator, with a bool tensor is not supported\"); True - bool tensor "
          "gets that message where PyTorch says \"with two bool tensors\"",
          "dtype promotion", lambda d: d.has(torch="Subtraction, the `-` operator"),
          example="promotion:8"),
    Known(("promotion",), "torch.maximum / torch.where with a Python number: PyTorch refuses with a "
          "TypeError, the engine accepts it", "dtype promotion",
          lambda d: d.has("raise", torch="maximum(): argument") or d.has("raise", torch="where() received"),
          example="promotion:37"),
    Known(("promotion",), "numpy scalars as operands give another result dtype (np.int32(3) ** int32 "
          "tensor is int32 in PyTorch, int64 here; int tensor ** np.bool_(True) is float32 in PyTorch)",
          "dtype promotion", lambda d: "np." in d.source,
          example="promotion:21"),
    Known(("promotion",), "a uint8 tensor with a negative Python int: OverflowError from numpy; PyTorch "
          "wraps around", "dtype promotion", lambda d: d.has(engine="out of bounds for uint8"),
          example="promotion:460"),
    Known(("promotion",), "a 0-d int tensor against a uint8 tensor: PyTorch computes in uint8 (wrapping "
          "-1 to 255), the engine in the wider type", "dtype promotion",
          lambda d: "uint8" in d.source and d.only("values", "dtype", "value"),
          example="promotion:590"),
    Known(("promotion",), "** with int or bool operands: another result dtype (Python int ** int32 tensor "
          "is int32, bool ** True is bool) or no refusal (\"pow\" not implemented for 'Bool')",
          "dtype promotion", lambda d: "**" in d.source and (d.only("dtype", "value")
                                                             or d.has(torch='"pow" not implemented')),
          example="promotion:1179"),
    Known(("promotion",), "bool // bool: PyTorch refuses (\"div_floor_cpu\" not implemented for 'Bool'); "
          "the engine computes, or raises ZeroDivisionError",
          "dtype promotion", lambda d: d.has(torch='"div_floor'),
          example="promotion:197"),
    # ------------------------------------------------------------------ numpy interop
    Known(("numpy",), "ndarray op tensor where the tensor requires grad (a / t): PyTorch goes through "
          "numpy and raises \"Can't call numpy() on Tensor that requires grad\"; the engine returns a tensor",
          "numpy interop",
          lambda d: d.has("raise", engine="no raise") and (
              d.has(torch="unsupported operand") or d.has(torch="Concatenation operation")
              or d.has(torch="Can't call numpy()")),
          example="numpy:1"),
    Known(("numpy",), "ndarray on the left of / * + -: PyTorch's result has numpy's dtype (float64) and "
          "rounding; the engine's is float32", "numpy interop", lambda d: d.only("dtype", "values"),
          example="numpy:51"),
    # ------------------------------------------------------------------ misuse
    Known(("misuse",), "torch.matmul(x, 3): AttributeError 'int' object has no attribute 'array'; "
          "PyTorch's TypeError: matmul(): argument 'other' (position 2) must be Tensor, not int", "misuse",
          lambda d: torch_says(d, "matmul(): argument 'other'"),
          example="misuse:6"),
    Known(("misuse",), "x.view(-1, -1): PyTorch says \"only one dimension can be inferred\"", "misuse",
          lambda d: torch_says(d, "only one dimension can be inferred"),
          example="misuse:21"),
    Known(("misuse",), "ragged nested lists in torch.tensor: numpy's message, not \"expected sequence of "
          "length 2 at dim 1 (got 1)\"", "misuse", lambda d: torch_says(d, "expected sequence of length"),
          example="misuse:44"),
    Known(("misuse",), "x.numpy(force=1, extra=2): PyTorch's argument parser checks force's type first",
          "misuse", lambda d: torch_says(d, "numpy(): argument 'force' must be bool"),
          example="misuse:41"),
    Known(("misuse",), "x.max(dim=0, keepdim=1.5) is accepted; PyTorch: max(): argument 'keepdim' must be "
          "bool", "misuse", lambda d: refused_by_torch_only(d, "argument 'keepdim' must be bool"),
          example="misuse:29"),
]


def entries(family: str) -> list[Known]:
    return [k for k in KNOWN if family in k.families]
