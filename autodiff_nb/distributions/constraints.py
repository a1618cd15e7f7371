"""What a distribution's parameters and values must satisfy, printed as PyTorch prints its constraints."""
from __future__ import annotations

import numpy as np


class Constraint:
    def __init__(self, text, holds):
        self.text, self.holds = text, holds  # holds(array) -> bool array

    def __repr__(self):
        return self.text


real = Constraint("Real()", lambda a: a == a)  # not NaN
positive = Constraint("GreaterThan(lower_bound=0.0)", lambda a: a > 0)
unit_interval = Constraint("Interval(lower_bound=0.0, upper_bound=1.0)", lambda a: (a >= 0) & (a <= 1))
boolean = Constraint("Boolean()", lambda a: (a == 0) | (a == 1))
simplex = Constraint("Simplex()", lambda a: np.all(a >= 0, axis=-1) & (np.abs(a.sum(-1) - 1) < 1e-6))
real_vector = Constraint("IndependentConstraint(Real(), 1)", lambda a: np.all(a == a, axis=-1))


def integer_interval(low, high):
    return Constraint(f"IntegerInterval(lower_bound={low}, upper_bound={high})",
                      lambda a: (a % 1 == 0) & (a >= low) & (a <= high))


def interval(low, high):
    """[low, high]; the bounds may be tensors (printed as PyTorch formats them)."""
    lo, hi = getattr(low, "array", low), getattr(high, "array", high)
    return Constraint(f"Interval(lower_bound={low}, upper_bound={high})", lambda a: (a >= lo) & (a <= hi))


def multinomial(total):
    return Constraint(f"Multinomial(upper_bound={total})",
                      lambda a: np.all((a >= 0) & (a % 1 == 0), axis=-1) & (a.sum(-1) <= total))
