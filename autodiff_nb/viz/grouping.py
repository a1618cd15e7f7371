"""Several ops drawn as one node: a run of repeats (``mul ×10``), or a module call (``0: Linear(5→8)``).

Both are the same operation on a description, ``merge``: the member ops become one node, the
tensors that only pass between members disappear, and the edges into and out of the group attach to
the new node. The new node keeps its members' ids (``GraphNode.members``, in record order) and every
backward step of a member maps to it (``walk_ids``), so the stepper walks a folded run one op at a
time ("mul 4 of 10").

A run is 3 or more consecutive ops of the same rule, each taking the previous one's output (and
nothing else uses it), with the same other operands: ``b = b * 2`` in a loop folds, ``h * w1``
then ``h * w2`` (two different leaves) does not.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import replace

from .graph import GraphDescription, GraphEdge, GraphNode

MIN_RUN = 3  # ops; two in a row read fine as they are
REPEATS = ("fold", "show")


def fold_repeats(desc: GraphDescription) -> GraphDescription:
    """``desc`` with every run of repeated ops merged into one ``op ×n`` node."""
    wiring = _Wiring(desc)
    groups = []
    for k, run in enumerate(r for r in _runs(desc, wiring) if len(r.ops) >= MIN_RUN):
        first = desc.node(run.ops[0])
        values = [desc.node(wiring.output[op]).value for op in (run.ops[0], run.ops[-1]) if op in wiring.output]
        node = replace(
            first, id=f"run{k}", label=f"{first.label} ×{len(run.ops)}", members=tuple(run.ops),
            backward_order=_first_step(desc, run.ops), freed=any(desc.node(o).freed for o in run.ops),
            value=" … ".join(v for v in values if v is not None) or None)
        # Every member takes the same other operands; the first member's edges stand for all of them.
        absorbed = {src for op in run.ops[1:] for slot, src in wiring.inputs[op].items()
                    if slot != run.slot and src not in set(wiring.inputs[run.ops[0]].values())
                    and wiring.uses[src] == 1}
        groups.append((node, run.ops, absorbed))
    return merge(desc, groups) if groups else desc


def merge(desc: GraphDescription, groups) -> GraphDescription:
    """Replace each group ``(new node, member op ids, absorbed tensor ids)`` by its new node."""
    wiring = _Wiring(desc)
    owner, absorbed_by = {}, {}
    for node, members, absorbed in groups:
        for op in members:
            owner[op] = node.id
        for tensor in absorbed:
            absorbed_by[tensor] = node.id
    roots = set(desc.roots)
    for node, members, absorbed in groups:
        inside = set(members)
        for op in members:
            t = wiring.output.get(op)
            if t is not None and t not in roots and wiring.consumers[t] and wiring.consumers[t] <= inside:
                absorbed_by[t] = node.id  # passes only between members
    first_of = {members[0]: node for node, members, _ in groups}
    nodes = []
    for n in desc.nodes:
        if n.id in first_of:
            nodes.append(first_of[n.id])
        elif n.id not in owner and n.id not in absorbed_by:
            nodes.append(n)
    edges, seen = [], set()
    for e in desc.edges:
        if e.src in absorbed_by or e.dst in absorbed_by:
            continue
        src, dst = owner.get(e.src, e.src), owner.get(e.dst, e.dst)
        if src == dst:
            continue
        key = (src, dst, e.kind)
        if key in seen and (src in owner.values() or dst in owner.values()):
            continue  # a merged node's inputs: once each
        seen.add(key)
        edges.append(GraphEdge(src, dst, e.kind, e.slot, e.label) if (src, dst) != (e.src, e.dst) else e)
    walk_ids = {seq: owner.get(nid, absorbed_by.get(nid, nid)) for seq, nid in desc.walk_ids.items()}
    return GraphDescription(nodes, edges, desc.roots, desc.hidden_ops, desc.show_ops, walk_ids, desc.modules)


def collapse_modules(desc: GraphDescription, tree) -> GraphDescription:
    """One node per module call: its ops, the tensors inside it and its own parameters become one
    box that lists the parameters' names and shapes (``0.weight 8×5``)."""
    wiring = _Wiring(desc)
    by_path = {}
    for op in desc.ops:
        if op.module is not None:
            by_path.setdefault(op.module, []).append(op.id)
    groups = []
    for k, (path, ops) in enumerate(by_path.items()):
        own = {name for name, _ in tree.parameters.get(path, [])}
        inside = set(ops)
        absorbed = {n.id for n in desc.nodes if n.kind == "tensor" and n.role == "leaf" and n.label in own
                    and wiring.consumers.get(n.id, set()) <= inside and n.id not in desc.roots}
        node = GraphNode(f"mod{k}", "module", "module", tree.title(path), detail="\n".join(tree.parameter_rows(path)),
                         backward_order=_first_step(desc, ops), members=tuple(ops), module=path)
        groups.append((node, ops, absorbed))
    return merge(desc, groups) if groups else desc


# ------------------------------------------------------------------------------ finding runs
class _Wiring:
    """Who feeds whom, read once from the edges."""

    def __init__(self, desc):
        self.inputs = {}  # op id -> {slot: tensor id}
        self.output = {}  # op id -> its output tensor id
        self.consumers = {}  # tensor id -> set of op ids (and detach targets) it feeds
        self.uses = Counter()
        kinds = {n.id: n.kind for n in desc.nodes}
        for e in desc.edges:
            if e.slot is not None:
                self.inputs.setdefault(e.dst, {})[e.slot] = e.src
            elif e.kind == "normal" and kinds.get(e.src) == "op":
                self.output[e.src] = e.dst
                continue
            self.consumers.setdefault(e.src, set()).add(e.dst)
            self.uses[e.src] += 1


class _Run:
    __slots__ = ("ops", "slot")

    def __init__(self, op):
        self.ops, self.slot = [op], None  # slot: where each member takes the previous one's output


def _runs(desc, wiring):
    roots = set(desc.roots)
    open_runs, runs = {}, []  # open_runs: output tensor id of a run's last op -> the run
    for op in desc.ops:  # nodes are in record order
        if op.members:
            continue  # already stands for several ops
        inputs = wiring.inputs.get(op.id, {})
        run = None
        for slot, src in sorted(inputs.items()):
            candidate = open_runs.pop(src, None)
            if candidate is not None and _continues(desc, wiring, candidate, op, slot):
                run = candidate
                run.slot = slot
                run.ops.append(op.id)
                break
        if run is None:
            run = _Run(op.id)
            runs.append(run)
        out = wiring.output.get(op.id)
        if out is not None and out not in roots and wiring.uses[out] == 1 and desc.node(out).role == "intermediate":
            open_runs[out] = run
    return runs


def _continues(desc, wiring, run, op, slot):
    last = desc.node(run.ops[-1])
    if (last.op, last.detail, last.module) != (op.op, op.detail, op.module) or run.slot not in (None, slot):
        return False
    mine, theirs = wiring.inputs.get(op.id, {}), wiring.inputs.get(last.id, {})
    if set(mine) != set(theirs):
        return False
    return all(_same_operand(desc, mine[k], theirs[k]) for k in mine if k != slot)


def _same_operand(desc, a, b):
    if a == b:
        return True
    na, nb = desc.node(a), desc.node(b)
    return (na.role == nb.role == "constant" and (na.label, na.shape, na.value) == (nb.label, nb.shape, nb.value)
            and na.value is not None)


def _first_step(desc, ops):
    steps = [desc.node(o).backward_order for o in ops if desc.node(o).backward_order is not None]
    return min(steps) if steps else None


def run_position(node: GraphNode, member_id) -> tuple[int, int] | None:
    """(k, n) when ``member_id`` is the k-th of the n ops ``node`` stands for (record order)."""
    if member_id in node.members:
        return node.members.index(member_id) + 1, len(node.members)
    return None
