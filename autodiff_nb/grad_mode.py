"""Grad mode: whether ops that run now are recorded (``no_grad``, ``enable_grad``, ``set_grad_enabled``),
and the dual level: whether they carry tangents forward (``autograd.forward_ad.dual_level``).

>>> x = tensor(1., requires_grad=True)
>>> with no_grad():
...     y = x * 2          # not recorded: y.requires_grad is False
"""
from __future__ import annotations

import functools
import threading


class _GradMode(threading.local):
    enabled = True


mode = _GradMode()  # read by ops.apply on every op: mode.enabled


class _DualLevel(threading.local):
    level = None  # the dual level open now (an int, new for every level), or None: no tangents anywhere
    # The array namespace a tangent is computed with when it must itself be recorded (functions.TensorMath,
    # handed over by whoever opens the level: the layers below functions cannot import it).
    recorded_math = None


dual = _DualLevel()  # read by ops.apply on every op: dual.level; opened by autograd.forward_ad.dual_level


def is_grad_enabled() -> bool:
    return mode.enabled


class _GradModeContext:
    """Base of no_grad / enable_grad / set_grad_enabled: a context manager and a decorator."""

    _target = True

    def __enter__(self):
        self._previous = mode.enabled
        mode.enabled = self._target

    def __exit__(self, *exc):
        mode.enabled = self._previous
        return False

    def __call__(self, func):
        target = self._target

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(target):
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):
    """Ops inside run without recording: ``with no_grad(): w -= lr * w.grad``."""

    _target = False


class enable_grad(_GradModeContext):
    """Turn recording back on inside a ``no_grad`` block."""

    _target = True


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(False)`` acts as ``no_grad()``; it also applies at once when called bare."""

    def __init__(self, enabled: bool):
        self._target = bool(enabled)
        self._previous = mode.enabled
        mode.enabled = self._target  # PyTorch applies it immediately too

    def __enter__(self):
        pass  # already applied in __init__

    def __call__(self, func):
        mode.enabled = self._previous  # used as a decorator: undo the immediate switch
        return super().__call__(func)
