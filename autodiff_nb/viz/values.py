"""Another engine's graph, drawn and stepped by viz: micrograd's ``Value`` protocol.

viz reads one record, autodiff_nb's. A scalar engine in micrograd's shape is drawn by replaying its
graph onto autodiff_nb tensors, op by op, so ``draw``, ``describe``, ``explain``, ``tape_table`` and
``GraphWidget`` read that record as they read any other. A value follows the protocol when it has

=========  ==============================================================================
``data``   its number
``grad``   the gradient your engine computed (the drawing shows it on the leaves)
``_prev``  the values it was computed from, in argument order (a tuple; a set loses the order)
``_op``    what computed it: ``"+"``, ``"*"``, ``"**2"``, ``"exp"``, ``"tanh"`` ... (``""`` for a leaf)
=========  ==============================================================================

>>> a, b = Value(2.0), Value(-3.0)       # any class with those four attributes
>>> L = (a * b).tanh()
>>> draw(L)                               # the entry points take L itself  # doctest: +SKIP
>>> t = from_values(L)                    # or replay it yourself: an autodiff_nb tensor
>>> t.grad_fn.name(), t.item() == L.data
('TanhBackward0', True)

Every value becomes a float64 tensor; a leaf (no ``_prev``) becomes a leaf that requires grad and
holds your engine's ``.grad``, so the drawing shows your gradients on the leaves, while the stepper
and ``explain`` show the steps autodiff_nb's own rules take. Each replayed value is checked against
``data``: an ``_op`` that does not say how a value was computed is an error, not a wrong picture.
``VALUE_OPS`` says how each ``_op`` replays; teach it a new one with
``VALUE_OPS["sin"] = torch.sin``.
"""
from __future__ import annotations

import math

from .. import functions
from ..creation import tensor
from ..dtypes import float64
from ..tensor import Tensor
from .names import _caller_namespaces, _is_user_name
from .preview import number

# _op -> the autodiff_nb function that replays it on the tensors of _prev (in order)
VALUE_OPS = {
    "+": functions.add,
    "*": functions.mul,
    "-": functions.sub,
    "/": functions.div,
    "neg": functions.neg,
    "exp": functions.exp,
    "log": functions.log,
    "tanh": functions.tanh,
    "sigmoid": functions.sigmoid,
    "relu": functions.relu,
    "ReLU": functions.relu,  # micrograd's spelling
}
POWER = "**"  # "**2", "**-1", "**0.5": the exponent is part of the op, as micrograd writes it


def is_value(obj) -> bool:
    """Whether ``obj`` follows the protocol (and is not an autodiff_nb tensor)."""
    return not isinstance(obj, Tensor) and all(hasattr(obj, a) for a in ("data", "grad", "_prev", "_op"))


def from_values(value) -> Tensor:
    """Replay the graph behind ``value`` on autodiff_nb tensors; returns the tensor standing for it.
    Its leaves have no ``.grad`` yet: ``from_values(L).backward()`` computes ours.

    >>> y = from_values(L)
    >>> y.grad_fn.name()
    'TanhBackward0'
    """
    (root,), _ = replay([value])
    return root


def replay(values, *, with_grads=False):
    """The tensors standing for ``values``, and ``{id(value): tensor}`` for every value behind them.
    ``with_grads``: the leaves hold your engine's ``.grad`` (what a drawing shows)."""
    made = {}
    for v in _children_first(values):
        made[id(v)] = _replay_one(v, [made[id(c)] for c in v._prev], with_grads)
    return [made[id(v)] for v in values], made


def as_tensors(objects, names, who):
    """``objects`` with every value replaced by its replayed tensor, and ``names`` that label the
    replayed tensors the way the caller named the values (else by their ``label``, or their number)."""
    if not any(is_value(o) for o in objects):
        return list(objects), names
    values = [o for o in objects if is_value(o)]
    replayed, made = replay(values, with_grads=True)
    by_value = dict(zip(map(id, values), replayed))
    roots = [by_value[id(o)] if is_value(o) else o for o in objects]
    return roots, _names_for(made, names, roots, _every_value(values))


def _children_first(roots):
    """Every value behind ``roots``, each after the values it was made from: a depth-first walk
    with an explicit stack, so a chain of 100,000 values needs no recursion."""
    order, seen = [], set()
    stack = [(v, False) for v in reversed(roots)]
    while stack:
        v, children_done = stack.pop()
        if children_done:
            order.append(v)
        elif id(v) not in seen:
            seen.add(id(v))
            stack.append((v, True))
            stack.extend((c, False) for c in reversed(tuple(v._prev)))
    return order


def _every_value(roots):
    return {id(v): v for v in _children_first(roots)}


def _replay_one(v, inputs, with_grads):
    op = v._op
    if not inputs:
        t = tensor(float(v.data), dtype=float64, requires_grad=True)
        if with_grads and v.grad is not None:
            t.grad = tensor(float(v.grad), dtype=float64)
        return t
    if op.startswith(POWER) and len(inputs) == 1:
        out = functions.pow(inputs[0], _number(op[len(POWER):], v))
    elif op in VALUE_OPS:
        if len(inputs) == 1 and op in ("+", "*"):  # a + a kept in a set: one child, used twice
            inputs = inputs * 2
        out = VALUE_OPS[op](*inputs)
    else:
        known = ", ".join([*VALUE_OPS, POWER + "k"])
        raise ValueError(f"cannot replay the op {op!r} of a value with data {number(v.data)}: viz knows {known}.\n"
                         f"Teach it: autodiff_nb.viz.VALUE_OPS[{op!r}] = lambda *inputs: ... (autodiff_nb functions)")
    _check(out, v, op)
    return out


def _number(text, v):
    try:
        exponent = float(text)
    except ValueError:
        raise ValueError(f"cannot read the exponent of the op {v._op!r}: write it as micrograd does, "
                         "e.g. f'**{other}' with a number") from None
    return int(exponent) if exponent.is_integer() else exponent


def _check(out, v, op):
    got, want = out.item(), float(v.data)
    if not (got == want or math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)
            or (math.isnan(got) and math.isnan(want))):
        args = ", ".join(number(c.data) for c in v._prev)
        raise ValueError(f"replaying {op!r} on ({args}) gives {number(got)}, but the value holds {number(want)}.\n"
                         "Its _op does not say how it was computed: give it the op's name (see viz.VALUE_OPS).")


def _names_for(made, names, roots, values):
    """{tensor: name}: explicit names first, then ``label`` attributes, the caller's variables, and a
    leaf nobody named is called by its number (micrograd makes ``Value(2)`` for the 2 in ``2 * a``)."""
    pairs = []
    if isinstance(names, dict):
        for key, value in names.items():
            name, obj = (key, value) if isinstance(key, str) else (value, key)
            pairs.append((name, made.get(id(obj), obj)))
    elif names is not None:  # a list of names for the objects drawn, in order
        pairs += list(zip(names, roots))
    for v in values.values():
        label = getattr(v, "label", None)
        if isinstance(label, str) and label:
            pairs.append((label, made[id(v)]))
    for namespace in _caller_namespaces():
        for name, obj in list(namespace.items()):
            if id(obj) in values and values[id(obj)] is obj and _is_user_name(name):
                pairs.append((name, made[id(obj)]))
    out = {}
    for name, t in pairs:  # the first name a tensor gets wins
        out.setdefault(t, name)
    for v in values.values():
        if not v._prev:
            out.setdefault(made[id(v)], number(v.data))
    return out
