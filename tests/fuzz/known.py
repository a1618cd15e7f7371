"""Divergences from PyTorch that are known and still open (issue 10), reviewed, in one place.

Each entry names the families it shows up in, a one-line description, the issue-10 bullet it belongs
to, an example program that shows it, and a predicate over a ``compare.Divergence``
(``d.has(field, torch=..., engine=...)``, ``d.only(...)``, ``d.only_grad_fn(...)``, ``d.source``).
A divergence that no entry matches is new and fails the fuzz; an entry that matches nothing in its
family's run (its example always runs) is stale and fails it too: the engine was fixed, so delete the
entry, and its line in the README (``tools/fuzz.py --list-known`` prints them). These are open work,
except the entries with a ``deliberate`` reason: where PyTorch has no single answer to match, listed
in the README as deliberate exceptions (``tools/fuzz.py --list-deliberate``).
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
    # Why this is not a bug to fix, when it is not (PyTorch itself answers in more than one way).
    deliberate: str = ""

    def matches(self, divergence) -> bool:
        return self.predicate(divergence)


def refused_by_torch_only(d, text):
    """PyTorch raises ``text`` where the engine carries on."""
    return d.has("raise", torch=text, engine="no raise")


def torch_says(d, text):
    """The engine raises too (same type or not) but PyTorch's first line is ``text``."""
    return d.has("message", torch=text)


def assignment_raises_out_of_bounds(source):
    """The program's item assignment raises the engine's index-out-of-bounds error (run line by line)."""
    import numpy as np

    import autodiff_nb
    scope = {"torch": autodiff_nb, "np": np}
    for line in source.splitlines():
        try:
            exec(line, scope)  # noqa: S102  (the fuzz's own generated programs)
        except IndexError as error:
            return "] = " in line and "out of bounds" in str(error)
        except Exception:  # noqa: BLE001
            return False
    return False


def int_then_list_apart(source):
    # x[0, :, [0, 1]]: an int and a list index with a slice, None or ... between them
    return re.search(r"\[[^\]\n]*(?<![\w.])-?\d+, [^\[\n]*(:|None|\.\.\.)[^\[\n]*\[", source) is not None \
        or re.search(r"\[\[[^\]]*\][^\n]*:[^\n]*, -?\d+[,\]]", source) is not None


KNOWN: list[Known] = [
    # ------------------------------------------------------------------ ties and NaN
    Known(("ties_nan",), "torch.maximum / minimum of +0. and -0., and max() / min() of everything over a "
          "tie of +0. and -0.: the engine returns the first operand, numpy's reduction the last tied value",
          "ties and NaN",
          lambda d: re.search(r"torch\.m(ax|in)imum|\.m(ax|in)\(\)", d.source) and "-0.0" in d.source
          and d.only("values", "grad.values"),
          example="ties_nan:359",
          deliberate="PyTorch's own answer depends on its kernel's path: maximum's scalar loop returns the "
          "first operand (as the engine does), its vectorised loop (16 or more float32 elements) and its "
          "mixed-dtype loop the second; a full reduction's sign of zero follows its vectorised summation order"),
    # ------------------------------------------------------------------ indexing and item assignment
    Known(("indexing",), "item assignment with an out-of-range index: the engine raises before writing "
          "anything", "indexing and item assignment",
          lambda d: d.only("values") and assignment_raises_out_of_bounds(d.source),
          example="indexing:1866",
          deliberate="PyTorch writes the in-range elements before it raises, leaving the tensor half "
          "changed; the engine checks every index first, so a bad index loses nothing"),
    # ------------------------------------------------------------------ views and in-place
    Known(("views",), "w.data = a tensor of another dtype after w was used: the gradient takes w's new "
          "dtype; PyTorch's keeps the dtype w had when the op was recorded", "views and in-place",
          lambda d: "w.data = torch.zeros(w.shape)" in d.source and d.only("grad.dtype", "grad.values"),
          example="views:1457",
          deliberate="PyTorch then gives a .grad of another dtype than its tensor (float64 on float32); matching "
          "it means storing every input's dtype on every recorded op, a cost on the hottest path for a line no "
          "course writes, and the engine's .grad always has its tensor's dtype"),
    # ------------------------------------------------------------------ forward mode
    Known(("forward",), "the tangent of logsumexp over an empty dim: PyTorch's is nan, the engine's 0",
          "forward mode",
          lambda d: ".logsumexp(" in d.source and d.only("values") and d.has("values", torch="nan"),
          example="forward:2742",
          deliberate="over an empty dim the value is -inf whatever x is, so its derivative along any "
          "direction is 0; PyTorch's nan is its formula's 0/0 (the tangent-weighted sum of exps over their sum)"),
]


def entries(family: str) -> list[Known]:
    return [k for k in KNOWN if family in k.families]
