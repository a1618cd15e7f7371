"""Which module call recorded which nodes, for drawings that group a graph by layer.

Calling a module (``model(x)``) takes a number from the tape's record order when it starts and
another when it ends; every node recorded in between has a ``seq`` between the two. So nothing is
stored per node: ``module_of(node)`` finds the innermost call whose range holds the node's ``seq``.
Only the most recent calls are kept: older ones describe graphs that are long gone.
"""
from __future__ import annotations

from collections import deque

from .. import tape

_running = []  # the calls in progress, outermost first
finished = deque(maxlen=4096)  # ModuleCall records, in the order the calls ended


class ModuleCall:
    """One call of a module: its ``path`` ("0", "encoder.fc"; "" for the outermost), its class name
    ``kind``, and the record-order numbers ``first`` < node.seq < ``last`` of the nodes it recorded."""

    __slots__ = ("path", "kind", "first", "last", "module")

    def __init__(self, path, kind, first, module):
        self.path, self.kind, self.first, self.last, self.module = path, kind, first, None, module

    def label(self) -> str:
        return f"{self.path} ({self.kind})" if self.path else self.kind

    def __repr__(self) -> str:
        return f"ModuleCall({self.label()}, nodes {self.first + 1}..{self.last - 1})"


def _path(module):
    """The module's name inside the module calling it (the running call above), joined by dots."""
    if not _running:
        return ""
    parent = _running[-1]
    for name, child in parent.module._modules.items():
        if child is module:
            return f"{parent.path}.{name}" if parent.path else name
    return f"{parent.path}.{type(module).__name__}" if parent.path else type(module).__name__


def enter(module):
    call = ModuleCall(_path(module), type(module).__name__, next(tape._next_seq), module)
    _running.append(call)
    return call


def leave(call):
    _running.pop()
    call.last = next(tape._next_seq)
    call.module = None  # the record holds no module alive
    finished.append(call)


def module_of(node):
    """The innermost finished module call that recorded ``node`` (a ``tape.Node``), or None."""
    best = None
    for call in finished:
        if call.first < node.seq < call.last and (best is None or call.first > best.first):
            best = call
    return best
