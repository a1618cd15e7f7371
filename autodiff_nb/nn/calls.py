"""Which module call recorded which nodes, for drawings that group a graph by layer.

Calling a module (``model(x)``) takes a number from the tape's record order when it starts and
another when it ends; every node recorded in between has a ``seq`` between the two. So nothing is
stored per node: ``module_of(node)`` finds the innermost call whose range holds the node's ``seq``.
Only the most recent calls are kept: older ones describe graphs that are long gone.
"""
from __future__ import annotations

import bisect
from collections import deque

from .. import tape

_running = []  # the calls in progress, outermost first
finished = deque(maxlen=4096)  # ModuleCall records, in the order the calls ended


class ModuleCall:
    """One call of a module: its ``path`` ("0", "encoder.fc"; "" for the outermost), its class name
    ``kind``, and the record-order numbers ``first`` < node.seq < ``last`` of the nodes it recorded."""

    __slots__ = ("path", "kind", "first", "last", "module", "parent")

    def __init__(self, path, kind, first, module, parent=None):
        self.path, self.kind, self.first, self.last, self.module = path, kind, first, None, module
        self.parent = parent  # the call that made this one (calls nest: a call ends before its parent)

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
    call = ModuleCall(_path(module), type(module).__name__, next(tape._next_seq), module,
                      _running[-1] if _running else None)
    _running.append(call)
    return call


def leave(call):
    _running.pop()
    call.last = next(tape._next_seq)
    call.module = None  # the record holds no module alive
    finished.append(call)


def module_of(node):
    """The innermost finished module call that recorded ``node`` (a ``tape.Node``), or None."""
    return finder()(node)


def finder():
    """``module_of`` for many nodes (a drawing asks for every node): the finished calls sorted once by
    where they start. A node's innermost call is then the last call to start before it, or, if that
    one ended before the node, the first of its parents that had not ended yet (calls nest)."""
    calls = sorted(finished, key=lambda call: call.first)
    starts = [call.first for call in calls]

    def find(node):
        k = bisect.bisect_left(starts, node.seq) - 1
        call = calls[k] if k >= 0 else None
        while call is not None and (call.last is None or call.last <= node.seq):
            call = call.parent
        return call

    return find
