"""The chapter's worked examples as ready-made graphs, plus long chains for timing big drawings.

>>> ex = chapter_examples()["dot"]
>>> draw(*ex.roots, names=ex.names)     # y = 2 * torch.dot(x, x)

Each example runs the chapter's own lines (forward pass only: no backward has run yet).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Example:
    title: str  # the chapter's code, in one line
    roots: list  # the tensors to draw
    names: dict  # name -> tensor, as the chapter's variables


def chapter_examples() -> dict[str, Example]:
    import autodiff_nb as torch

    examples = {}
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    examples["dot"] = Example("y = 2 * torch.dot(x, x)", [y], {"x": x, "y": y})

    x = torch.arange(4.0, requires_grad=True)
    y = x.sum()
    examples["sum"] = Example("y = x.sum()", [y], {"x": x, "y": y})

    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    examples["square"] = Example("y = x * x; y.backward(gradient=torch.ones(len(y)))", [y], {"x": x, "y": y})

    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    u = y.detach()
    z = u * x
    examples["detach"] = Example("y = x * x; u = y.detach(); z = u * x; z.sum()", [z.sum()],
                                 {"x": x, "y": y, "u": u, "z": z})
    examples["detach_y"] = Example("y.sum() (y = x * x, still differentiable)", [y.sum()], {"x": x, "y": y})

    torch.manual_seed(1)
    a = torch.randn(size=(), requires_grad=True)
    d = control_flow_f(a)
    examples["control_flow"] = Example("a = torch.randn(size=(), requires_grad=True); d = f(a)", [d],
                                       {"a": a, "d": d})

    x = torch.tensor(2.0, requires_grad=True)
    f = torch.log(x ** 2) * torch.sin(x) + 1 / x
    examples["exercise"] = Example("f(x) = log(x²)·sin(x) + 1/x", [f], {"x": x, "f": f})
    return examples


def control_flow_f(a):
    """The chapter's f: how many doublings run depends on ``a``; only those are recorded."""
    b = a * 2
    while b.norm() < 1000:
        b = b * 2
    if b.sum() > 0:
        c = b
    else:
        c = 100 * b
    return c


def chain(n_ops: int):
    """A graph of ``n_ops`` recorded ops: w -> tanh -> mul -> add -> tanh ... (for timing)."""
    import autodiff_nb as torch

    w = torch.ones(3, requires_grad=True)
    h = w
    for i in range(n_ops):
        h = torch.tanh(h) if i % 3 == 0 else (h * 1.01 if i % 3 == 1 else h + w)
    return h.sum() if n_ops else h, w
