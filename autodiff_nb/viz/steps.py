"""The backward pass, one recorded step at a time, computed on private copies.

``tape.walk`` is the engine's own backward loop; it yields each step and writes nothing, so the
stepper sees exactly what ``backward()`` would do without touching any ``.grad`` or freeing the
graph. Hooks are not run: a ``retain_grad`` hook would write the learner's ``.grad``. The run says
which tensors have hooks (``BackwardRun.hooked``), so the stepper and ``explain`` can say so.

>>> x = arange(4.0, requires_grad=True)
>>> y = 2 * dot(x, x)
>>> run = backward_steps([y], build([y], NameBook.from_caller()))
>>> [(s.name, s.node_id) for s in run.steps]
[('MulBackward0', 'op1'), ('DotBackward0', 'op0'), ('AccumulateGrad', 'in0')]
>>> x.grad is None
True
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import tape
from ..ops import NumpyMath


@dataclass
class Step:
    """Step ``number`` (1-based): the walk reached ``node_id`` with the total gradient ``grad_in``
    and sent ``sent[slot]`` to each input of the op (nothing for AccumulateGrad)."""

    number: int
    node_id: str
    name: str  # "MulBackward0", "AccumulateGrad"
    grad_in: np.ndarray
    sent: dict = field(default_factory=dict)  # input slot -> gradient array
    record: object = None  # the tape.Node (None for AccumulateGrad): its rule and saved inputs
    seq: int | None = None  # the Node's / AccumulateGrad's seq: a drawing's walk_ids finds its node


@dataclass
class BackwardRun:
    steps: list
    seeds: dict  # root node id -> the gradient the walk started from
    problem: str | None = None  # why there are no steps (graph freed, nothing requires grad ...)
    hooked: list = field(default_factory=list)  # labels of the tensors whose hooks the walk skipped


def hooks_note(run) -> str | None:
    """The line that says the stepper skipped the user's hooks, or None when there were none."""
    if not run.hooked:
        return None
    names = ", ".join(run.hooked)
    one = len(run.hooked) == 1
    return (f"hooks are not run here: {names} {'has a hook' if one else 'have hooks'} (register_hook or "
            f"retain_grad). backward() runs {'it' if one else 'them'}; these steps work on copies and never "
            "write .grad, so a hook that changes a gradient changes backward()'s numbers, not these.")


def backward_steps(roots, desc, gradients=None) -> BackwardRun:
    """Run ``tape.walk`` from ``roots`` (seeded with ones unless ``gradients`` are given)."""
    live = [(r, g) for r, g in zip(roots, gradients or [None] * len(roots)) if r.requires_grad]
    if not live:
        return BackwardRun([], {}, "nothing here requires grad, so backward() has no steps")
    seeds, root_arrays = {}, []
    for (root, g), root_id in zip(live, [rid for r, rid in zip(roots, desc.roots) if r.requires_grad]):
        arr = np.ones_like(root.array) if g is None else np.array(getattr(g, "array", g), dtype=root.array.dtype)
        root_arrays.append(arr)
        seeds[root_id] = arr.copy()
    steps, hooked = [], []
    walk = tape.walk([r for r, _ in live], root_arrays, NumpyMath, run_hooks=False)
    try:
        for number, (node, grad_in, sent) in enumerate(walk, start=1):
            steps.append(_step(number, node, grad_in, sent, desc, live))
            if node.pre_hooks:
                hooked.append(_hooked_label(steps[-1], desc))
    except RuntimeError as err:
        # A graph freed by an earlier backward, or a value changed in place: say so, no traceback.
        # The engine's messages end with a line that names the fix; that is the one worth showing.
        return BackwardRun([], seeds, str(err).strip().splitlines()[-1])
    finally:
        walk.close()  # the walk switches grad mode off while it runs; closing restores it
    return BackwardRun(steps, seeds, hooked=hooked)


def _step(number, node, grad_in, sent, desc, live):
    node_id = desc.walk_ids.get(node.seq)
    if node_id is None and isinstance(node, tape.AccumulateGrad):
        # A drawn leaf that is itself the root: its AccumulateGrad is made by the walk.
        for (root, _), rid in zip(live, desc.roots):
            if root is node.variable:
                node_id = rid
    record = node if isinstance(node, tape.Node) else None
    sent = {slot: _copy(g) for slot, _, g in sent}
    return Step(number, node_id or "fold0", node.name(), _copy(grad_in), sent, record, node.seq)


def _hooked_label(step, desc):
    """The tensor a hook belongs to: an op's output (its hooks sit on its Node), or the leaf."""
    try:
        node = desc.node(step.node_id)
    except KeyError:  # the folded part of a big graph
        return "a tensor"
    if node.kind == "op":
        node = desc.output_of(node.id) or node
    return node.label


def _copy(g):
    return np.array(g, copy=True)


class Progress:
    """Where a walk stands after its first ``k`` steps, in the drawing ``desc``: ``done`` (the steps),
    ``done_ids`` (the drawn nodes they reached) and ``current``. A node that stands for several ops
    (a folded run, a collapsed module) is current for each of their steps; ``position`` then says
    which one: (4, 10) for "mul 4 of 10". The reverse and the forward states both start here.
    """

    walk = "backward"

    def __init__(self, steps, desc, k: int):
        self.k = k
        self.done = steps[:k]
        self.by_id = {n.id: n for n in desc.nodes}
        self.done_ids = {self.drawn(s, desc) for s in self.done}
        self.current = self.drawn(self.done[-1], desc) if self.done else None
        members = self.by_id[self.current].members if self.current in self.by_id else ()
        last = self.done[-1].node_id if self.done else None
        self.position = (members.index(last) + 1, len(members)) if last in members else None

    def drawn(self, step, desc):
        # A step inside the folded part of a big graph lights up the summary node.
        nid = desc.walk_ids.get(step.seq, step.node_id)
        return nid if nid in self.by_id else "fold0"

    def group(self, nid):
        """The ops a drawn node stands for (empty for a node of one op)."""
        return self.by_id[nid].members if nid in self.by_id else ()


class StepState(Progress):
    """What the picture shows after the first ``k`` steps of the backward walk: the view is a
    function of this alone.

    An intermediate tensor shows the gradient that has reached it so far (it is complete once its
    own op's step is done); a leaf shows its ``.grad`` only from the step that writes it.
    """

    def __init__(self, run: BackwardRun, desc, k: int):
        super().__init__(run.steps, desc, k)
        self.grads = {}  # tensor node id -> gradient array
        self.edge_grads = {}  # (op id, slot) -> gradient sent along that edge
        outputs = {e.src: e.dst for e in desc.edges if e.slot is None and e.kind == "normal"}
        sources = {(e.dst, e.slot): e.src for e in desc.edges if e.slot is not None}
        leaves = {n.id for n in desc.nodes if n.role == "leaf"}
        current_edges = set()
        for step in self.done:
            nid = self.drawn(step, desc)
            group = self.group(nid)
            # A group's output gets the gradient of its last op; its input edges are its first op's.
            if not group or step.node_id == group[-1]:
                self.grads[outputs.get(nid, nid)] = step.grad_in  # an op shows on its output tensor
            if group and step.node_id != group[0]:
                continue
            for slot, g in step.sent.items():
                if (nid, slot) not in sources:
                    continue
                self.edge_grads[(nid, slot)] = g
                src = sources[(nid, slot)]
                if src not in leaves:
                    self.grads[src] = g if src not in self.grads else self.grads[src] + g
                if step is self.done[-1]:
                    current_edges.add((nid, slot))
        self.current_edges = current_edges
