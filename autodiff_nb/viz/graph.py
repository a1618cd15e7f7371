"""Recorded nodes -> a plain graph description: what a drawing shows, as data you can test.

Two kinds of node: tensors (the values, with a role) and ops (the recorded ``Node`` objects).
Edges run the way the forward pass ran: input tensor -> op -> output tensor. Where ``u =
y.detach()`` cut the graph, a dashed ``detach`` edge runs from ``y`` to ``u``. Nothing here changes
the record: it is read through ``Node.edges``, ``Node.inputs``, ``AccumulateGrad.variable`` and
``tape.detached_origin`` only.

>>> x = arange(4.0, requires_grad=True)
>>> y = 2 * dot(x, x)
>>> g = build([y], NameBook.from_caller())
>>> [(n.label, n.role) for n in g.nodes]
[('x', 'leaf'), ('2', 'constant'), ('dot', 'op'), ('dot', 'intermediate'), ('mul', 'op'), ('y', 'output')]

Ids are given in record order (``Node.seq``), never from memory addresses, so the same code gives
the same description, and the same picture, every time it runs.
"""
from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from .. import tape
from ..ops import RULES
from ..tensor import Tensor, detached_origin
from .operands import INDEXING, index_text, operand_label
from .preview import dtype_text, preview

ROLES = ("leaf", "constant", "detached", "output", "intermediate", "retained")
SHOW_OPS = ("short", "full", "both")


@dataclass(frozen=True)
class GraphNode:
    """One box or ellipse of the drawing.

    ``kind`` is "tensor", "op" or "summary" (folded part of a big graph). ``role`` is one of ROLES
    for tensors, "op" for ops and "summary" for the fold. ``backward_order`` is the step of the
    backward walk that handles this node (ops, and leaves: the step that writes ``.grad``).
    """

    id: str
    kind: str
    role: str
    label: str
    detail: str = ""  # ops: "MulBackward0"; tensors: dtype when not float32; summary: what it hid
    shape: tuple | None = None
    value: str | None = None  # short preview, or None when not known (freed by backward)
    grad: str | None = None  # preview of .grad ("—" for None); None when a tensor cannot have one
    backward_order: int | None = None
    freed: bool = False  # ops: saved values released by a backward without retain_graph
    saves: str = ""  # ops: what backward reads: "input 1", "output", "input 0, output" ...
    op: str = ""  # ops: the rule's key ("mul", "sub", "index"), whatever show_ops prints
    members: tuple = ()  # a node standing for several ops (a folded run, a collapsed module): their ids
    module: str | None = None  # ops: the path of the module call that made it ("0", "encoder.1")
    index: str = ""  # indexing ops: the index, as written ("[0, 1:]")
    value_mag: float | None = None  # tensors, with color_by: mean |value| (the heat colour's input)
    grad_mag: float | None = None  # tensors, with color_by="grad": mean |gradient|


@dataclass(frozen=True)
class GraphEdge:
    """``src -> dst``; ``kind`` is "normal" or "detach"; ``slot`` is the op input position;
    ``label`` names the operand of a non-commutative op ("a", "exponent", "left"; see operands.py)."""

    src: str
    dst: str
    kind: str = "normal"
    slot: int | None = None
    label: str = ""


@dataclass
class GraphDescription:
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    roots: list[str]  # ids of the drawn tensors
    hidden_ops: int = 0  # folded into the summary node
    show_ops: str = "short"  # op labels: "short" (mul), "full" (MulBackward0), "both"
    # For the backward stepper: Node.seq / AccumulateGrad.seq -> the id of the node that shows it.
    walk_ids: dict = field(default_factory=dict, repr=False, compare=False)
    # With modules=: module path -> its label ("Linear(5→8)"), parents before children.
    modules: dict = field(default_factory=dict, repr=False, compare=False)

    def node(self, node_id: str) -> GraphNode:
        return self._index()[node_id]

    def find(self, label=None, *, role=None, kind=None) -> list[GraphNode]:
        """Nodes matching all the given fields: ``g.find("x")``, ``g.find(role="leaf")``."""
        return [n for n in self.nodes
                if (label is None or n.label == label) and (role is None or n.role == role)
                and (kind is None or n.kind == kind)]

    def inputs_of(self, op_id: str) -> list[GraphNode]:
        """The tensors feeding an op, in argument order."""
        ins = sorted((e for e in self.edges if e.dst == op_id and e.slot is not None), key=lambda e: e.slot)
        return [self.node(e.src) for e in ins]

    def output_of(self, op_id: str) -> GraphNode | None:
        for e in self.edges:
            if e.src == op_id and e.kind == "normal" and self.node(e.dst).kind == "tensor":
                return self.node(e.dst)
        return None

    @property
    def ops(self) -> list[GraphNode]:
        """The op nodes in record order (a collapsed module counts as one op)."""
        return [n for n in self.nodes if n.kind in ("op", "module")]

    def _index(self):
        cache = self.__dict__.get("_by_id")
        if cache is None or len(cache) != len(self.nodes):
            cache = self.__dict__["_by_id"] = {n.id: n for n in self.nodes}
        return cache


# --------------------------------------------------------------------------------- op names
_RULE_KEYS = {id(rule): key for key, rule in RULES.items()}


def short_op_name(node) -> str:
    """The forward op as the chapter writes it: ``mul``, ``dot``, ``norm``."""
    key = _RULE_KEYS.get(id(node.rule))
    if key is not None:
        return key
    base = re.sub(r"Backward\d*$", "", node.name())  # an op this table does not know yet
    return re.sub(r"(?<!^)(?=[A-Z])", "_", base).lower() or node.name()


# --------------------------------------------------------------------------------- building
class _Tensor:
    """A tensor node while the description is being built (keys are internal, ids come later)."""

    __slots__ = ("key", "tensor", "node", "value", "shape", "dtype", "role", "name", "order", "first")

    def __init__(self, key, first):
        self.key, self.first = key, first
        self.tensor = self.node = self.value = self.shape = self.dtype = None
        self.role = self.name = self.order = None


def build(roots, book, *, max_nodes=None, show_ops="short", since=None, tree=None,
          magnitudes=False) -> GraphDescription:
    """The description of everything ``roots`` was computed from (see the module docstring).

    ``tree`` (a modules.ModuleTree) marks each op with its module call; ``magnitudes`` fills in
    mean |value| and mean |grad| for the heat colours.
    """
    if show_ops not in SHOW_OPS:
        raise ValueError(f"show_ops must be one of {SHOW_OPS}, not {show_ops!r}")
    ops, tensors, edges = _collect(roots, book)
    order = _backward_order(roots)
    root_keys = [_key_of(r) for r in roots]
    for key in root_keys:
        if tensors[key].role in ("intermediate", "retained"):
            tensors[key].role = "output"
    _name_unnamed(ops, tensors)
    desc = _describe(ops, tensors, edges, order, root_keys, show_ops,
                     module_of=tree.path_of if tree is not None else (lambda node: None), magnitudes=magnitudes)
    if tree is not None:
        used = {op.module for op in desc.ops if op.module is not None}
        shown = {path[:end] for path in used for end in _prefix_ends(path)}  # "0.1" shows "0" and "0.1"
        desc.modules = {p: label for p, label in tree.labels.items() if p in shown}
    if since is not None or (max_nodes is not None and len(desc.nodes) > max_nodes):
        desc = fold(desc, max_nodes, since)
    return desc


def _prefix_ends(path):
    """Where each enclosing module's path ends in ``path`` ("0.1.2": 1, 3, 5)."""
    return [k for k, ch in enumerate(path) if ch == "."] + [len(path)]


def _key_of(t):
    return ("out", id(t.grad_fn)) if t.grad_fn is not None else ("t", id(t))


def _collect(roots, book):
    """Walk the record from the roots (and from where detached tensors came from)."""
    ops = {}  # id(Node) -> Node
    tensors = {}  # key -> _Tensor
    edges = []  # (src key, dst key, kind, slot); op keys are ("op", id(Node))
    stack = []
    counter = iter(range(10**12))  # discovery order breaks ties between keys deterministically

    def tensor_entry(key):
        if key not in tensors:
            tensors[key] = _Tensor(key, next(counter))
        return tensors[key]

    def see_tensor(t, key=None):
        """A Tensor object met somewhere: give it its node, and follow where it came from."""
        key = key or _key_of(t)
        entry = tensor_entry(key)
        if entry.tensor is None:
            entry.tensor = t
        if t.grad_fn is not None:
            push(t.grad_fn)
        else:
            origin = detached_origin(t)
            if origin is not None:
                entry.role = "detached"
                src = ("out", id(origin)) if isinstance(origin, tape.Node) else ("t", id(origin))
                if isinstance(origin, tape.Node):
                    push(origin)
                else:
                    see_tensor(origin)
                edges.append((src, key, "detach", None))
        return key

    def push(node):
        if id(node) not in ops:
            ops[id(node)] = node
            stack.append(node)

    for r in roots:
        see_tensor(r)
    while stack:
        node = stack.pop()
        op_key = ("op", id(node))
        out = tensor_entry(("out", id(node)))
        out.node = node
        edges.append((op_key, out.key, "normal", None))
        inputs = node.kept_inputs()  # after a release: numbers and tensors that are still alive
        for slot, nxt in enumerate(node.edges):
            given = inputs[slot] if inputs is not None else None
            if isinstance(nxt, tape.Node):
                key = ("out", id(nxt))
                entry = tensor_entry(key)
                if entry.shape is None and node.input_meta[slot] is not None:
                    entry.shape, entry.dtype = node.input_meta[slot]  # survives a backward's release
                if isinstance(given, Tensor) and given.grad_fn is nxt and tensors[key].tensor is None:
                    tensors[key].tensor = given
                push(nxt)
            elif isinstance(nxt, tape.AccumulateGrad):
                leaf = nxt.variable
                key = see_tensor(leaf) if leaf is not None else ("acc", id(nxt))
                tensor_entry(key).node = nxt  # its AccumulateGrad: the walk step that writes .grad
            elif isinstance(given, Tensor):
                key = see_tensor(given)
            else:
                # A Python number (kept as is), or a constant whose reference backward released.
                key = ("slot", id(node), slot)
                entry = tensor_entry(key)
                entry.value = given
                if given is None:
                    meta = node.input_meta[slot]
                    entry.shape = meta[0] if meta is not None else None
            edges.append((key, op_key, "normal", slot))
    for t in book.tensors():  # named tensors: values for intermediates even after a backward
        if t.grad_fn is not None:
            entry = tensors.get(("out", id(t.grad_fn)))
            if entry is not None and entry.tensor is None:
                entry.tensor = t
    for entry in tensors.values():
        _fill_tensor(entry, ops, book)
    return ops, tensors, edges


def _fill_tensor(entry, ops, book):
    t = entry.tensor
    kind = entry.key[0]
    if kind == "out":
        node = ops.get(entry.key[1])
        entry.node = node
        if entry.name is None and node is not None:
            entry.name = book.name_of_output(node)
        if t is None and node is not None and node.out is not None:
            entry.value, entry.shape, entry.dtype = node.out, node.out.shape, node.out.dtype
    if t is not None:
        entry.name = entry.name or book.name_of(t)
        if entry.value is None:
            entry.value, entry.shape, entry.dtype = t.array, t.array.shape, t.array.dtype
    if entry.role is None:
        entry.role = _role(entry)


def _role(entry):
    t, kind = entry.tensor, entry.key[0]
    if kind == "out":
        return "retained" if t is not None and t.retains_grad else "intermediate"
    if kind == "acc" or (t is not None and t.requires_grad):
        return "leaf"
    return "constant"


def _backward_order(roots):
    """Step numbers of the backward walk, by ``seq`` of each Node / AccumulateGrad."""
    starts = [r.grad_fn for r in roots if r.grad_fn is not None]
    return {n.seq: i + 1 for i, n in enumerate(tape.backward_order(starts))}


def _name_unnamed(ops, tensors):
    """Tensors nobody named get the name of the op that made them: ``dot``, then ``mul_1``, ``mul_2``."""
    made = sorted((e for e in tensors.values() if e.key[0] == "out" and e.name is None and e.node is not None),
                  key=lambda e: e.node.seq)
    counts = Counter(short_op_name(e.node) for e in made)
    seen = Counter()
    taken = {e.name for e in tensors.values() if e.name is not None}
    for e in made:
        base = short_op_name(e.node)
        seen[base] += 1
        name = base if counts[base] == 1 and base not in taken else f"{base}_{seen[base]}"
        e.name = name
    for e in tensors.values():
        if e.name is None:
            if e.key[0] == "slot":
                # Released by a backward: input_meta still says whether it was a tensor or a number.
                e.name = preview(e.value) if e.value is not None else ("constant" if e.shape is not None
                                                                       else "number")
            elif e.role == "constant" or e.role == "detached":
                e.name = "constant" if e.role == "constant" else "detached"
            else:
                e.name = "leaf"


def _describe(ops, tensors, edges, order, root_keys, show_ops, module_of=lambda node: None, magnitudes=False):
    """Give ids in record order and turn the working entries into GraphNodes."""
    ranked = sorted(ops.values(), key=lambda n: n.seq)
    op_id = {id(n): f"op{i}" for i, n in enumerate(ranked)}
    ids = {}
    for i, n in enumerate(ranked):
        ids[("op", id(n))] = op_id[id(n)]
        ids[("out", id(n))] = f"t{i}"
    # Leaves and constants: numbered by the first op that uses them (then argument position).
    first_use = {}
    for src, dst, kind, slot in edges:
        if dst[0] == "op" and src not in ids:
            pos = (ops[dst[1]].seq, slot)
            first_use[src] = min(first_use.get(src, pos), pos)
    for j, key in enumerate(sorted((k for k in tensors if k not in ids),
                                   key=lambda k: (first_use.get(k, (-1, 0)), tensors[k].first))):
        ids[key] = f"in{j}"
    nodes, walk_ids = [], {}
    for n in ranked:
        nid = op_id[id(n)]
        short, full = short_op_name(n), n.name()
        label = full if show_ops == "full" else short
        saved = n.saved()
        slots = sorted(n.rule.input_names.index(name) for name in saved if name != "out")
        saves = ", ".join([f"input {k}" for k in slots] + (["output"] if "out" in saved else []))
        key = n.params.get("key") if short in INDEXING and hasattr(n.params, "get") else None
        nodes.append(GraphNode(nid, "op", "op", label, detail=full, backward_order=order.get(n.seq),
                               freed=n.released, saves=saves, op=short, module=module_of(n),
                               index=index_text(key) if key is not None else ""))
        walk_ids[n.seq] = nid
    for key, entry in sorted(tensors.items(), key=lambda kv: _id_sort(ids[kv[0]])):
        nid = ids[key]
        step = None
        if isinstance(entry.node, tape.AccumulateGrad):
            step = order.get(entry.node.seq)
            walk_ids[entry.node.seq] = nid
        mags = _magnitudes(entry) if magnitudes else (None, None)
        nodes.append(GraphNode(nid, "tensor", entry.role, entry.name, detail=_dtype_detail(entry),
                               shape=tuple(entry.shape) if entry.shape is not None else _scalar_shape(entry),
                               value=_value_text(entry), grad=_grad_text(entry), backward_order=step,
                               value_mag=mags[0], grad_mag=mags[1]))
    nodes.sort(key=lambda n: _id_sort(n.id))
    by_id = {n.id: n for n in nodes}
    out_edges = []
    for src, dst, kind, slot in edges:
        label = ""
        if slot is not None:
            op = by_id[ids[dst]]
            label = op.index or operand_label(op.op, slot, len(ops[dst[1]].edges))
        out_edges.append(GraphEdge(ids[src], ids[dst], kind, slot, label))
    out_edges.sort(key=lambda e: (_id_sort(e.dst), -1 if e.slot is None else e.slot, _id_sort(e.src), e.kind))
    return GraphDescription(nodes, _dedupe(out_edges), [ids[k] for k in root_keys], 0, show_ops, walk_ids)


def _dedupe(edges):
    seen, out = set(), []
    for e in edges:
        if e not in seen:
            seen.add(e)
            out.append(e)
    return out


@functools.lru_cache(maxsize=65536)
def _id_sort(nid):
    # "op3" and "t3" sit together in record order; leaves/constants ("in0") come first.
    m = re.match(r"([a-z]+)(\d+)$", nid)
    prefix, num = (m.group(1), int(m.group(2))) if m else (nid, 0)
    return ({"in": 0, "op": 1, "t": 1, "fold": 2}.get(prefix, 3), num, prefix != "op", nid)


def _scalar_shape(entry):
    return () if entry.key[0] == "slot" and entry.value is not None else None


def _dtype_detail(entry):
    return dtype_text(entry.dtype)


def _value_text(entry):
    if entry.value is None:
        return None
    return preview(entry.value)


def _magnitudes(entry):
    """Mean |value| and mean |.grad| (leaves and retained tensors), for the heat colours."""
    t = entry.tensor
    grad = None
    if t is not None and entry.role not in ("constant", "detached") and (t.grad_fn is None or t.retains_grad):
        grad = t.grad
    return _mean_abs(entry.value), _mean_abs(grad)


def _mean_abs(value):
    if value is None:
        return None
    arr = np.asarray(getattr(value, "array", value))
    if arr.size == 0 or arr.dtype.kind not in "fiuc":
        return None
    return float(np.abs(arr).mean())


def _grad_text(entry):
    """The ``.grad`` a learner would see: leaves and retained tensors; others can hold none."""
    t = entry.tensor
    if entry.role in ("constant", "detached"):
        return None
    if t is not None and (t.grad_fn is None or t.retains_grad):
        return preview(t.grad)
    return preview(None)


# --------------------------------------------------------------------------------- folding
def fold(desc: GraphDescription, max_nodes=None, since=None) -> GraphDescription:
    """Keep the newest ops (nearest the output) and fold the older part into one summary node.

    The oldest part goes because the backward walk starts at the output: the ops a learner steps
    through first stay visible. ``since`` (a ``Node.seq``) also folds every op recorded before it,
    so a notebook cell can draw just the ops it ran. The summary says how much it hid.
    """
    budget = max(int(max_nodes), 4) - 1 if max_nodes is not None else float("inf")  # room for the summary
    by_id = {n.id: n for n in desc.nodes}
    seq_of = {nid: seq for seq, nid in desc.walk_ids.items() if by_id.get(nid) is not None
              and by_id[nid].kind in ("op", "module")}
    inputs, output = {}, {}
    for e in desc.edges:
        if e.slot is not None:
            inputs.setdefault(e.dst, []).append(e.src)
        elif e.kind == "normal" and by_id[e.src].kind == "op":
            output[e.src] = e.dst
    keep = set(desc.roots)
    ops_newest_first = desc.ops[::-1]  # nodes are in record order
    for op in ops_newest_first:
        if since is not None and seq_of[op.id] < since:
            break  # record order: every op after this one is older still
        need = {op.id, output.get(op.id)} | set(inputs.get(op.id, ()))
        need.discard(None)
        if len(keep | need) > budget:
            break
        keep |= need
    hidden_nodes = [n for n in desc.ops if n.id not in keep]
    if not hidden_nodes:
        return desc
    hidden_ops = [n for n in hidden_nodes for _ in (n.members or (n,))]  # a folded run hides all its ops
    hidden_tensors = [n for n in desc.nodes if n.kind == "tensor" and n.id not in keep]
    kinds = Counter(n.detail for n in hidden_ops).most_common(3)
    summary = GraphNode(
        "fold0", "summary", "summary", f"{len(hidden_ops):,} earlier ops folded",
        detail=", ".join(f"{name} ×{count:,}" for name, count in kinds)
        + (", …" if len({n.detail for n in hidden_ops}) > 3 else "")
        + f"; {len(hidden_tensors):,} tensors",
    )
    edges, seen = [], set()
    for e in desc.edges:
        src_kept, dst_kept = e.src in keep, e.dst in keep
        if src_kept and dst_kept:
            edges.append(e)
        elif dst_kept and not src_kept:
            # Whatever fed the kept part from the folded part now comes from the summary.
            folded = GraphEdge("fold0", e.dst, e.kind, None)
            if folded not in seen:
                seen.add(folded)
                edges.append(folded)
    walk_ids = {seq: (nid if nid in keep else "fold0") for seq, nid in desc.walk_ids.items()}
    nodes = [summary] + [n for n in desc.nodes if n.id in keep]
    return GraphDescription(nodes, edges, desc.roots, len(hidden_ops), desc.show_ops, walk_ids, desc.modules)

