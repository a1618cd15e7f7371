"""Forward mode over the recorded graph, one node at a time, from the inputs to the output.

``forward.walk`` is the engine's own forward walk over a record; it yields each node's tangent and
the JVP terms that made it, and writes nothing. The stepper and ``explain(mode="forward")`` read
these steps, the mirror of ``steps.backward_steps`` for the reverse walk.

>>> x = arange(4.0, requires_grad=True)
>>> y = 2 * dot(x, x)
>>> desc = build([y], NameBook.from_caller())
>>> run = forward_steps(y, desc)                  # tangent(x) = ones: the default seed
>>> [(s.name, float(s.tangent)) for s in run.steps]
[('DotBackward0', 12.0), ('MulBackward0', 24.0)]
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np

from .. import errors, forward, tape
from ..ops import NumpyMath
from ..tensor import Tensor
from .steps import Progress


@dataclass
class ForwardStep:
    """Step ``number`` (1-based): the op ``node_id`` got the tangent ``tangent``, the sum of
    ``terms[slot]``, the JVP of each input that had a tangent (``words[slot]`` its rule's words)."""

    number: int
    node_id: str
    name: str  # "MulBackward0"
    tangent: np.ndarray
    terms: dict = field(default_factory=dict)  # input slot -> JVP term (array)
    words: dict = field(default_factory=dict)  # input slot -> the rule's jvp words, "{t} · {b}"
    record: object = None  # the tape.Node
    seq: int | None = None


@dataclass
class ForwardRun:
    steps: list
    seeds: dict  # leaf node id -> the tangent the walk started from
    problem: str | None = None  # why there are no steps (nothing requires grad, graph freed ...)


def leaves_of(root, desc) -> list:
    """``(node id, label, tensor)`` of each leaf behind ``root`` that requires grad, in record order."""
    if root.grad_fn is None:
        return []
    found = []
    for node in reversed(tape.backward_order([root.grad_fn])):
        if isinstance(node, tape.AccumulateGrad) and node.variable is not None:
            nid = desc.walk_ids.get(node.seq)
            label = desc.node(nid).label if nid in desc._index() else f"leaf {tuple(node.variable.shape)}"
            found.append((nid, label, node.variable))
    return found


def seeds_for(root, desc, tangents=None) -> dict:
    """The leaves' tangents, ``{leaf tensor: array}``, from ``tangents`` (keys: leaf tensors or
    their names; values: tensors, arrays or numbers of the leaf's shape); ones for every leaf that
    requires grad when ``tangents`` is None."""
    leaves = leaves_of(root, desc)
    if tangents is None:
        return {t: np.ones_like(t.array) for _, _, t in leaves}
    if not isinstance(tangents, dict):
        raise TypeError(f"tangents must be a dict from leaves to their tangents, not {type(tangents).__name__}\n"
                        "e.g. tangents={x: torch.ones(4)} or tangents={'x': [1, 0, 0, 0]}")
    seeds = {}
    for key, value in tangents.items():
        label, leaf = _leaf_for(key, leaves, desc)
        array = np.asarray(getattr(value, "array", value))
        if array.dtype.kind not in "biuf":
            raise TypeError(f"the tangent of {label} must be numbers (a tensor, array or list), "
                            f"not {type(value).__name__}")
        if array.shape != leaf.array.shape:
            first = str(errors.tangent_size(leaf.array.shape, array.shape)).partition("\n")[0]
            raise RuntimeError(f"{first}\nThe tangent of {label} is a direction for every element of {label}: "
                               f"give it {label}'s shape {tuple(leaf.array.shape)}.")
        seeds[leaf] = array.astype(leaf.array.dtype)
    return seeds


def _leaf_for(key, leaves, desc):
    """The leaf that ``key`` (a tensor or a name) stands for, or a ValueError that says why none."""
    names = ", ".join(label for _, label, _ in leaves) or "none"
    if isinstance(key, Tensor):
        for _, label, leaf in leaves:
            if leaf is key:
                return label, leaf
        if key.grad_fn is not None:
            raise ValueError(f"tangents: a tangent was given for a tensor computed by {key.grad_fn.name()}, "
                             f"not a leaf\nForward mode starts from leaves; give tangents to {names}.")
        raise ValueError("tangents: a tangent was given for a tensor that is not a leaf of this graph that "
                         f"requires grad\nThe leaves that can carry a tangent here are: {names}.")
    if not isinstance(key, str):
        raise TypeError(f"tangents: keys are leaf tensors or their names, not {type(key).__name__}")
    for _, label, leaf in leaves:
        if label == key:
            return label, leaf
    if any(n.label == key and n.kind == "tensor" for n in desc.nodes):
        raise ValueError(f"tangents: {key!r} is not a leaf that requires grad\n"
                         f"Forward mode starts from leaves; give tangents to {names}.")
    close = difflib.get_close_matches(key, [label for _, label, _ in leaves], n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ValueError(f"tangents: no leaf named {key!r} in this graph\n{hint}The leaves are: {names}.")


def forward_steps(root, desc, tangents=None) -> ForwardRun:
    """Run ``forward.walk`` over the record behind ``root``, seeded by ``seeds_for(tangents)``.

    A bad ``tangents`` raises (TypeError, ValueError or RuntimeError with the fix); a graph that
    cannot be walked (nothing requires grad, values freed) gives a run with a ``problem`` instead.
    """
    seeds = seeds_for(root, desc, tangents)
    by_leaf = {id(leaf): nid for nid, _, leaf in leaves_of(root, desc)}
    seed_ids = {by_leaf[id(leaf)]: t.copy() for leaf, t in seeds.items()}
    if root.grad_fn is None:
        why = "it is a leaf" if root.requires_grad else "nothing here requires grad"
        return ForwardRun([], seed_ids, f"{why}, so there are no recorded ops to push tangents through")
    steps = []
    try:
        for number, (node, tangent, terms) in enumerate(forward.walk([root.grad_fn], seeds, NumpyMath), start=1):
            node_id = desc.walk_ids.get(node.seq, "fold0")
            steps.append(ForwardStep(number, node_id, node.name(), np.array(tangent, copy=True),
                                     {slot: np.array(term, copy=True) for slot, term, _ in terms},
                                     {slot: words for slot, _, words in terms}, node, node.seq))
    except RuntimeError as err:  # values freed by a backward without retain_graph: the engine's fix line
        return ForwardRun([], seed_ids, str(err).strip().splitlines()[-1])
    return ForwardRun(steps, seed_ids)


class ForwardState(Progress):
    """What the picture shows after the first ``k`` forward steps: the seeded leaves' tangents from
    the start, each op's output tangent from its step on, and on each input edge the JVP term it
    sent (``edge_tangents``). ``order`` numbers the ops in the forward walk, for their badges."""

    walk = "forward"

    def __init__(self, run: ForwardRun, desc, k: int):
        super().__init__(run.steps, desc, k)
        self.grads, self.edge_grads = {}, {}  # a forward walk computes no gradient
        self.tangents = {nid: t for nid, t in run.seeds.items() if nid in self.by_id}
        self.edge_tangents, self.current_edges, self.order = {}, set(), {}
        outputs = {e.src: e.dst for e in desc.edges if e.slot is None and e.kind == "normal"}
        sources = {(e.dst, e.slot) for e in desc.edges if e.slot is not None}
        for step in run.steps:
            self.order.setdefault(self.drawn(step, desc), len(self.order) + 1)
        for step in self.done:
            nid = self.drawn(step, desc)
            group = self.group(nid)
            # A group's output gets its last op's tangent; its input edges carry its first op's terms.
            if not group or step.node_id == group[-1]:
                self.tangents[outputs.get(nid, nid)] = step.tangent
            if group and step.node_id != group[0]:
                continue
            for slot, term in step.terms.items():
                if (nid, slot) in sources:
                    self.edge_tangents[(nid, slot)] = term
                    if step is self.done[-1]:
                        self.current_edges.add((nid, slot))
