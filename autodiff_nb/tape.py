"""The record of operations, and the backward pass over it.

Every differentiable op that runs while grad mode is on appends a ``Node`` to the record: which rule
ran, on which inputs, and, per input, the edge to the node that made that input (PyTorch's
``next_functions``). ``walk`` visits the nodes reachable from the output in reverse record order,
which is a valid reverse topological order because a node's inputs are always recorded before it.
At each node the rule's vector-Jacobian products turn the gradient of the output into gradients of
the inputs: the chain rule. The walk is a plain loop, so a chain of 100,000 ops needs no recursion.

``run_backward`` is what ``y.backward()`` runs: it walks, and only once the whole walk has
succeeded writes the leaves' ``.grad`` and frees the saved values, so an error leaves nothing half done.
"""
from __future__ import annotations

import functools
import gc
import itertools
import operator
import weakref

import numpy as np

from . import errors
from .grad_mode import mode
from .tensor import Tensor

try:  # numpy 2 keeps its floating-point error state in a context variable: setting it directly
    # costs a tenth of entering np.errstate, which rebuilds the state object on every entry
    from numpy._core._ufunc_config import _extobj_contextvar, _make_extobj

    # ignore_float_errors() turns numpy's divide/overflow/invalid warnings off and returns the token
    # that restore_float_errors(token) takes to turn them back to what they were
    ignore_float_errors = functools.partial(_extobj_contextvar.set, _make_extobj(all="ignore"))
    restore_float_errors = _extobj_contextvar.reset
except ImportError:  # another numpy: the public, slower way
    def ignore_float_errors():
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def restore_float_errors(token):
        token.__exit__(None, None, None)

_next_seq = itertools.count()  # record order: every node and leaf sink takes the next number
NO_PARAMS = {}  # shared by the ops without parameters: one object fewer per op


class Node:
    """One recorded op: PyTorch's ``grad_fn``. ``name()`` gives e.g. ``MulBackward0``."""

    __slots__ = ("rule", "params", "inputs", "out", "edges", "out_form", "versions", "out_counter",
                 "out_version", "seq", "pre_hooks", "released", "_name", "out_tangent", "__weakref__")

    def __init__(self, rule, inputs, params, output, name):
        self.rule = rule
        self.params = params or NO_PARAMS  # the op's named parameters (dims, keepdim ...), read by its VJPs
        self._name = name
        edges, versions = [], []
        for x in inputs:
            if isinstance(x, Tensor):
                # where its gradient goes: the node that made it, a leaf's sink, or None for a constant
                # (the slot, unless x is a view: a view whose base changed in place regrows its own)
                made_by = x._grad_fn if x._view is None else x.grad_fn
                edges.append(made_by if made_by is not None else edge_to(x))
                versions.append(0 if x._counter is None else x._counter[0])  # checked at backward
            else:  # a Python number
                edges.append(None)
                versions.append(0)
        self.edges = tuple(edges)
        # None in the usual case, every input at version 0: one object fewer per op for the garbage
        # collector (workload E, benchmarks/PROFILE.md)
        self.versions = tuple(versions) if any(versions) else None
        self.seq = next(_next_seq)  # after edge_to above: a leaf's AccumulateGrad is numbered before this node
        # References, not copies: backward reads them and drawings show them. A backward without
        # retain_graph frees them (release), as PyTorch frees saved tensors.
        self.inputs = inputs
        self.out = output.array
        # backward checks that the output (which some rules read) was not changed in place since;
        # a fresh output has no counter yet (Tensor._version_counter links it here when made)
        self.out_counter, self.out_version = output._counter, output._version
        self.pre_hooks = ()  # hooks of the output tensor (register_hook, retain_grad)
        self.released = False
        self.out_form = None  # the output's shape and dtype, kept by release()
        self.out_tangent = None  # forward mode: the output's (level, tangent), given by forward.push

    def name(self) -> str:
        return self._name

    def read(self, reads, slot, as_tensors):
        """The values ``reads`` names for input ``slot``: what its VJP (``rule.reads(slot)``) or its
        JVP (``rule.jvp_reads(slot)``) reads, by the names of its parameters (see ops.Rule)."""
        values = []
        for _, kind, key in reads:
            if kind == "input":
                values.append(self._saved_input(key, as_tensors))
            elif kind == "param":
                values.append(self.params[key])
            elif kind == "out":
                values.append(self._saved_output(as_tensors))
            elif kind == "shape":  # an input's shape, kept even when its values are not
                values.append(self.input_form(key)[0])
            elif kind == "i":  # the input's position, for ops with any number of inputs
                values.append(slot)
            else:  # "inputs": every input, for ops of unknown arity (custom.primitive)
                values.append(tuple(self._saved_input(k, as_tensors) for k in range(len(self.edges))))
        return values

    def _saved_input(self, k, as_tensors):
        x = self.inputs[k]
        if self.released:
            if x is None or type(x) is weakref.ref:
                raise errors.backward_twice(self._name)
            return x  # a Python number survives the release
        if not isinstance(x, Tensor):
            return x
        saved_at = 0 if self.versions is None else self.versions[k]
        if x._counter is not None and x._counter[0] != saved_at:  # no counter: never changed
            raise errors.modified_inplace(x, self._name, x._version, saved_at)
        return x if as_tensors else x.array

    def input_form(self, k):
        """Input ``k``'s ``(shape, numpy dtype)``, which its gradient must match; None for a Python
        number. Read from the input while the node holds it; after a release, from the node or leaf
        it came from. Not stored per op: that cost workload E a third of its time in garbage
        collection (benchmarks/PROFILE.md)."""
        if not self.released:
            x = self.inputs[k]
            return (x.array.shape, x.array.dtype) if isinstance(x, Tensor) else None
        edge = self.edges[k]
        if type(edge) is AccumulateGrad:
            source = edge.variable
        elif edge is not None:
            return edge.out_form if edge.released else (edge.out.shape, edge.out.dtype)
        else:  # a constant: a weak reference, or a Python number
            source = self.inputs[k]() if type(self.inputs[k]) is weakref.ref else None
        return None if source is None else (source.array.shape, source.array.dtype)

    @property
    def input_meta(self):
        """Every input's ``(shape, numpy dtype)``, or None for a Python number (or unknown)."""
        return tuple([self.input_form(k) for k in range(len(self.edges))])

    def _saved_output(self, as_tensors):
        if self.released:
            raise errors.backward_twice(self._name)
        if self.out_counter is not None and self.out_counter[0] != self.out_version:
            raise errors.modified_inplace(None, self._name, self.out_counter[0], self.out_version,
                                          shape=self.out.shape, dtype=self.out.dtype)
        if not as_tensors:
            return self.out
        out = Tensor._from_array(self.out, self.out_counter)  # the output again, made by this node
        out.grad_fn, out.requires_grad = self, True
        out._tangent = self.out_tangent  # and with its tangent, so a forward-over-reverse sees it move
        return out

    def release(self):
        """Free the saved values. What a drawing or a later walk needs stays: the output's form,
        Python numbers, and weak references to constant tensors (a tensor with an edge is found
        through its edge)."""
        if self.released:
            return
        kept = []
        for x, edge in zip(self.inputs, self.edges):
            if isinstance(x, Tensor):
                kept.append(weakref.ref(x) if edge is None else None)
            else:
                kept.append(x)
        self.out_form = (self.out.shape, self.out.dtype)
        self.inputs, self.out, self.released = tuple(kept), None, True
        self.out_tangent = None

    def saved(self):
        """What backward will read of this op's values: ``"out"`` and input names (its saved tensors)."""
        names = []
        for slot, edge in enumerate(self.edges):
            for name, kind, _ in self.rule.reads(slot) if edge is not None else ():
                if kind in ("input", "out") and name not in names:
                    names.append(name)
        return names

    def kept_inputs(self):
        """The inputs; after a release, the numbers and the constant tensors still alive (else None)."""
        if not self.released:
            return self.inputs
        return tuple(x() if type(x) is weakref.ref else x for x in self.inputs)

    @property
    def next_functions(self):
        """PyTorch's form: ((node, 0), ...) with None for inputs that need no gradient."""
        shown = self.rule.shown_edges
        edges = self.edges if shown is None else shown(self.edges, self.input_meta)
        return tuple((e, 0) for e in edges)

    def register_hook(self, hook):
        raise NotImplementedError("register hooks on tensors: tensor.register_hook(fn)")

    def __repr__(self) -> str:
        return f"<{self._name} object at {id(self):#x}>"


class AccumulateGrad:
    """The sink for a leaf tensor: the gradient that reaches it is added into ``leaf.grad``."""

    __slots__ = ("_variable", "seq", "__weakref__")
    edges = ()
    next_functions = ()

    def __init__(self, leaf):
        self._variable = weakref.ref(leaf)
        self.seq = next(_next_seq)

    @property
    def variable(self):
        return self._variable()

    @property
    def pre_hooks(self):
        leaf = self._variable()
        return (leaf._hooks or ()) if leaf is not None else ()

    def name(self) -> str:
        return "AccumulateGrad"

    def release(self):
        pass  # it saved nothing

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def edge_to(tensor):
    """The node a gradient for ``tensor`` flows into, or None for a constant."""
    if tensor._view is not None:
        tensor._view.refresh(tensor)  # a view whose base changed in place regrows its grad_fn
    if tensor._grad_fn is not None:
        return tensor._grad_fn
    if not tensor._requires_grad:
        return None
    sink = tensor._accumulator
    if sink is None or sink.variable is not tensor:
        sink = tensor._accumulator = AccumulateGrad(tensor)
    return sink


def backward_order(roots):
    """Every node reachable from ``roots`` through their edges, in reverse record order."""
    order, seen = [], set()
    for root in roots:
        if root is not None and root not in seen:
            seen.add(root)
            order.append(root)
    for node in order:  # breadth first: the loop also visits what it appends
        for edge in node.edges:
            if edge is not None and edge not in seen:
                seen.add(edge)
                order.append(edge)
    order.sort(key=_record_order, reverse=True)
    return order


_record_order = operator.attrgetter("seq")


def sum_to(xp, grad, shape):
    """Sum a broadcast gradient back down to ``shape``: the one place broadcasting is undone."""
    lead = len(grad.shape) - len(shape)
    if lead < 0:  # x[0] = v with v of shape (1, 3): the value's extra leading 1s are dropped, as PyTorch does
        return xp.reshape(sum_to(xp, grad, tuple(shape)[-lead:]), shape)
    dims = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    return xp.reshape(xp.sum(grad, dims, True), shape)


# ----------------------------------------------------------------------------------- the walk
def walk(roots, root_grads, xp, *, run_hooks=True):
    """The backward pass, one node at a time. It writes nothing; its callers decide what to keep.

    Yields ``(node, grad, sent)`` in reverse record order: ``grad`` is the total gradient that
    reached ``node``, and ``sent`` lists ``(slot, edge, gradient)`` for every input the rule sent a
    gradient to, already in that input's shape and dtype. ``xp`` is the array namespace the rules
    compute with: numpy, or under create_graph the engine's own ops, so that the backward pass is
    itself recorded and can be differentiated again.
    """
    grads = {}  # node -> the gradient summed so far
    for root, g in zip(roots, root_grads):
        node = edge_to(root)
        grads[node] = g if node not in grads else grads[node] + g
    for node in backward_order(grads):
        g = grads.pop(node, None)
        if g is None:  # every path to it carried no gradient (a custom op without a VJP for it)
            continue
        if run_hooks:
            for hook in node.pre_hooks:
                g = _run_hook(hook, g, xp)
        if type(node) is AccumulateGrad:
            yield node, g, ()
            continue
        sent, rule = [], node.rule
        for slot, edge in enumerate(node.edges):
            if edge is None:  # a constant: no gradient needed, so its VJP is never run
                continue
            grad = rule.vjp(slot)(xp, g, *node.read(rule.reads(slot), slot, xp.records))
            if grad is None:
                continue
            grad = _fit(xp, grad, node.input_form(slot))
            total = grads.get(edge)
            grads[edge] = grad if total is None else total + grad
            sent.append((slot, edge, grad))
        yield node, g, sent


def _fit(xp, grad, form):
    """An input's gradient has that input's shape and dtype (``form``, see Node.input_form)."""
    shape, dtype = form
    if grad.shape != shape:
        grad = sum_to(xp, grad, shape)
    if type(grad) is np.ndarray and grad.dtype == dtype:
        return grad
    return xp.cast(grad, dtype)  # numpy gives a scalar for 0-d math; a float32 leaf wants float32


def _run_hook(hook, g, xp):
    """A user's hook sees the gradient as a Tensor; a tensor it returns replaces the gradient."""
    result = hook(g if xp.records else Tensor._from_array(g))
    if result is None:
        return g
    # copied: the user may still hold the tensor returned, and .grad must not share its memory
    return xp.copy(result if xp.records else result.array)


class backward_mode:  # noqa: N801  (used like a function: with backward_mode(create_graph):)
    """What a backward pass runs under: grad mode on only to record it (create_graph), and Python's
    cyclic garbage collector paused. The walk allocates an array or two per node but makes no
    reference cycles, so a collection it triggered would free nothing and only rescan the whole
    recorded graph (benchmarks/PROFILE.md, workload E). numpy's floating-point warnings are off, set
    once for the whole pass: a gradient of inf or nan (sqrt at 0) comes out silently, as in PyTorch."""

    __slots__ = ("records", "grad_mode", "collecting", "float_errors")

    def __init__(self, records):
        self.records = records

    def __enter__(self):
        self.grad_mode, mode.enabled = mode.enabled, self.records
        self.collecting = gc.isenabled()
        gc.disable()
        self.float_errors = ignore_float_errors()

    def __exit__(self, *exc):
        mode.enabled = self.grad_mode
        restore_float_errors(self.float_errors)
        if self.collecting:
            gc.enable()


def run_backward(roots, root_grads, xp, *, retain_graph, accumulate=True, capture=()):
    """Walk back from ``roots``; once the whole walk has succeeded, add into the leaves' ``.grad``
    (unless ``accumulate`` is False) and free the saved values (unless ``retain_graph``).

    Returns {node: gradient} for the nodes in ``capture`` (what ``autograd.grad`` asks for).
    """
    captured, leaf_grads, visited = {}, [], []
    with backward_mode(xp.records):
        for node, g, _ in walk(roots, root_grads, xp):
            visited.append(node)
            if node in capture:
                captured[node] = g
            if accumulate and type(node) is AccumulateGrad:
                leaf = node.variable
                if leaf is not None:  # a leaf that died since still has its sink in the graph
                    leaf_grads.append((leaf, g))
        # Who owns each gradient array: the seeds belong to the caller, and a view or an array
        # already given to one leaf must not become a second tensor's .grad.
        given = set(map(id, root_grads))
        for leaf, g in leaf_grads:
            owned = (g.array if xp.records else g).base is None and id(g) not in given
            given.add(id(g))
            accumulate_grad(leaf, g, xp, owned)
        if not retain_graph:
            for node in visited:
                node.release()
    return captured


def accumulate_grad(leaf, g, xp, owned=False):
    """Add ``g`` into ``leaf.grad``. A first ``.grad`` takes ``g`` itself only when the walk owns it."""
    if leaf._grad is None:
        g = g if owned else xp.copy(g)
        leaf._grad = g if xp.records else Tensor._from_array(g)
    elif xp.records or leaf._grad.requires_grad:  # under create_graph, .grad keeps its history
        leaf._grad = leaf._grad + (g if xp.records else Tensor._from_array(g))
    else:  # in place, as PyTorch: x.grad stays the same tensor
        leaf._grad.array += g
        leaf._grad._version_counter[0] += 1
