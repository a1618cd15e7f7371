"""Gradient checking: the engine's analytic gradient against central differences in float64."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .grad_mode import enable_grad, no_grad
from .tensor import Tensor


@dataclass
class Mismatch:
    output_index: int
    input_index: int
    element: tuple
    analytic: float
    numeric: float

    @property
    def error(self) -> float:
        return abs(self.analytic - self.numeric)


@dataclass
class GradcheckReport:
    passed: bool
    max_error: float
    worst: list = field(default_factory=list)  # the largest Mismatches, worst first
    atol: float = 0.0
    rtol: float = 0.0

    def text(self) -> str:
        lines = [f"{'output':>6} {'input':>5}  {'element':<12} {'analytic':>14} {'numeric':>14} {'|diff|':>10}"]
        for m in self.worst:
            lines.append(f"{m.output_index:>6} {m.input_index:>5}  {str(m.element):<12} {m.analytic:>14.6g} "
                         f"{m.numeric:>14.6g} {m.error:>10.2e}")
        verdict = "PASS" if self.passed else "FAIL"
        lines.append(f"{verdict}: max |analytic - numeric| = {self.max_error:.2e} "
                     f"(tolerance atol={self.atol:g} + rtol={self.rtol:g}*|numeric|)")
        if not self.passed:
            worst = self.worst[0]
            lines.insert(0, f"Jacobian mismatch for output {worst.output_index} with respect to input "
                            f"{worst.input_index}, at element {worst.element}:")
        return "\n".join(lines)

    __str__ = text

    def __bool__(self) -> bool:
        return self.passed


def _float64_leaf(x):
    """A private float64 copy of an input: the check never touches the caller's tensors."""
    if not isinstance(x, Tensor):
        return x
    leaf = Tensor._from_array(x.array.astype(np.float64))
    if x.dtype.is_floating_point:
        leaf.requires_grad_(True)
    return leaf


def _outputs(func, xs):
    out = func(*xs)
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def check_gradients(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, show=5) -> GradcheckReport:
    """Every output element's gradient with respect to every input element, against central differences."""
    xs = [_float64_leaf(x) for x in inputs]
    wrt = [(i, x) for i, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    with enable_grad():
        outs = _outputs(func, xs)
    mismatches, passed = [], True
    for which, out in enumerate(outs):  # by position: two outputs may hold equal values
        for o in range(out.array.size):
            analytic = _analytic_row(out, o, [x for _, x in wrt])
            for (i, x), row in zip(wrt, analytic):
                for idx in np.ndindex(x.array.shape):
                    numeric = _central_difference(func, xs, x, idx, which, o, eps)
                    m = Mismatch(which, i, idx, float(row[idx]), numeric)
                    passed &= m.error <= atol + rtol * abs(numeric)
                    mismatches.append(m)
    mismatches.sort(key=lambda m: m.error, reverse=True)
    max_error = mismatches[0].error if mismatches else 0.0
    return GradcheckReport(passed, max_error, mismatches[:show], atol, rtol)


def _analytic_row(out, o, leaves):
    """d out.flat[o] / d leaf, for each leaf, by one backward pass seeded with a one-hot gradient."""
    if not out.requires_grad:  # a constant output: its derivative is zero
        return [np.zeros(x.array.shape) for x in leaves]
    seed = np.zeros(out.array.shape)
    seed.reshape(-1)[o] = 1.0
    for x in leaves:
        x.grad = None
    out.backward(gradient=Tensor._from_array(seed), retain_graph=True)
    return [np.zeros(x.array.shape) if x.grad is None else x.grad.array for x in leaves]


def _central_difference(func, xs, x, idx, which, o, eps):
    original = x.array[idx]
    x.array[idx] = original + eps
    plus = _output_element(func, xs, which, o)
    x.array[idx] = original - eps
    minus = _output_element(func, xs, which, o)
    x.array[idx] = original
    return (plus - minus) / (2 * eps)


def _output_element(func, xs, which, o):
    with no_grad():
        return float(_outputs(func, xs)[which].array.reshape(-1)[o])
