"""Gradient checking: the engine's analytic gradient against central differences in float64."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .tensor import Tensor


@dataclass
class Mismatch:
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
        lines = [f"{'input':>5}  {'element':<12} {'analytic':>14} {'numeric':>14} {'|diff|':>10}"]
        for m in self.worst:
            lines.append(f"{m.input_index:>5}  {str(m.element):<12} {m.analytic:>14.6g} {m.numeric:>14.6g} "
                         f"{m.error:>10.2e}")
        verdict = "PASS" if self.passed else "FAIL"
        lines.append(f"{verdict}: max |analytic - numeric| = {self.max_error:.2e} "
                     f"(tolerance atol={self.atol:g} + rtol={self.rtol:g}*|numeric|)")
        if not self.passed:
            lines.insert(0, "Jacobian mismatch for output 0 with respect to input "
                            f"{self.worst[0].input_index}, at element {self.worst[0].element}:")
        return "\n".join(lines)

    __str__ = text

    def __bool__(self) -> bool:
        return self.passed


def _as_float64(x):
    if isinstance(x, Tensor):
        t = Tensor._from_array(x.data.astype(np.float64))
        if x.dtype.is_floating_point:
            t.requires_grad_(True)
        return t
    return x


def check_gradients(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, show=5) -> GradcheckReport:
    """Jacobian-vector comparison for every output element against every input element."""
    xs = [_as_float64(x) for x in inputs]
    out = func(*xs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    mismatches, max_error, passed = [], 0.0, True
    for out_t in outs:
        flat_out = out_t.data.reshape(-1)
        for o in range(flat_out.size):
            seed = np.zeros(out_t.data.shape)
            seed.reshape(-1)[o] = 1.0
            for x in xs:
                x._grad = None
            from .autograd import grad

            wrt = [x for x in xs if isinstance(x, Tensor) and x.requires_grad]
            analytic = grad(out_t, wrt, grad_outputs=Tensor._from_array(seed), retain_graph=True,
                            allow_unused=True)
            for i, (x, g) in enumerate(zip(wrt, analytic)):
                g_arr = np.zeros(x.data.shape) if g is None else g.data
                for idx in np.ndindex(x.data.shape):
                    orig = x.data[idx]
                    x.data[idx] = orig + eps
                    plus = _output_element(func, xs, outs.index(out_t), o)
                    x.data[idx] = orig - eps
                    minus = _output_element(func, xs, outs.index(out_t), o)
                    x.data[idx] = orig
                    numeric = (plus - minus) / (2 * eps)
                    a = float(g_arr[idx])
                    err = abs(a - numeric)
                    max_error = max(max_error, err)
                    m = Mismatch(i, idx, a, numeric)
                    if err > atol + rtol * abs(numeric):
                        passed = False
                    mismatches.append(m)
    mismatches.sort(key=lambda m: m.error, reverse=True)
    return GradcheckReport(passed, max_error, mismatches[:show], atol, rtol)


def _output_element(func, xs, which, o):
    from .tape import no_grad

    with no_grad():
        out = func(*xs)
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return float(outs[which].data.reshape(-1)[o])
