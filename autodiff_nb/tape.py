"""The record of operations and the backward walk over it.

Every differentiable op that runs while grad mode is on appends a ``Node`` to the record: which
rule ran, the edges to the nodes that produced its inputs (``next_functions``), the values the rule
saved for backward, and ``seq``, its place in record order. ``backward`` gathers the nodes reachable
from the output and visits them in reverse record order, which is a valid reverse topological order
because a node's inputs are always recorded before it. The walk is a plain loop, so a chain of
100,000 ops needs no recursion.

A backward is atomic: gradients are summed in a private table and only written to ``.grad`` (and
saved values only freed) once the whole walk has succeeded, so an error leaves nothing half done.
"""
from __future__ import annotations

import gc
import itertools
import operator
import sys
import threading
import warnings
import weakref

import numpy as np

from . import dtypes, errors

_seq = itertools.count()
_refcount = sys.getrefcount  # a module global: one lookup instead of sys + attribute per input

# Bound by ops.py when it loads (``bind_late``): ops and tensor import this module, so it cannot import
# them at its top, and an import inside walk() cost 0.7 µs per backward.
Tensor = F_ARRAY = F_TENSOR = None


def bind_late(tensor_class, f_array, f_tensor):
    global Tensor, F_ARRAY, F_TENSOR
    Tensor, F_ARRAY, F_TENSOR = tensor_class, f_array, f_tensor


# ----------------------------------------------------------------------------------- grad mode
class _GradMode(threading.local):
    enabled = True


_mode = _GradMode()


def is_grad_enabled() -> bool:
    return _mode.enabled


class _GradModeContext:
    """Base of no_grad / enable_grad / set_grad_enabled: a context manager and a decorator."""

    _target = True

    def __enter__(self):
        self._previous = _mode.enabled
        _mode.enabled = self._target

    def __exit__(self, *exc):
        _mode.enabled = self._previous
        return False

    def __call__(self, func):
        import functools

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

    def __init__(self, mode: bool):
        self._target = bool(mode)
        self._previous = _mode.enabled
        _mode.enabled = self._target  # PyTorch applies it immediately too

    def __enter__(self):
        pass  # already applied in __init__

    def __call__(self, func):
        _mode.enabled = self._previous  # used as a decorator: undo the immediate switch
        return super().__call__(func)


# ----------------------------------------------------------------------------------- nodes
class Node:
    """One recorded op: PyTorch's ``grad_fn``. ``name()`` gives e.g. ``MulBackward0``."""

    __slots__ = (
        "rule", "params", "seq", "edges", "inputs", "saved_versions", "out_data",
        "input_meta", "pre_hooks", "out_counter", "out_expected", "input_refs", "__weakref__",
    )

    def __init__(self, rule, params, inputs, out_data):
        self.rule = rule
        self.params = params
        # One pass over the inputs gathers the edges, their (shape, dtype) and whether any was already
        # changed in place (the caller, ops.apply, has just made a pass for the forward).
        changed = False
        if len(inputs) == 2 and not isinstance(inputs[1], Tensor):
            # tensor-with-Python-number ops (y * 1.01): the loop below unrolled for this common case,
            # no lists and no tuple() copies (~0.15 µs an op)
            x, number = inputs
            if isinstance(x, Tensor):
                node = x.grad_fn
                data = x.data
                edges = (node if node is not None else edge_to(x), None)
                meta = ((data.shape, data.dtype), None)
                counter = x._counter
                changed = counter is not None and counter[0] != 0
            else:
                edges, meta = (None, None), (None, None)
        else:
            edges, meta = [], []
            for x in inputs:
                if isinstance(x, Tensor):
                    node = x.grad_fn  # edge_to's common case inline: an op's output flows back to its node
                    edges.append(node if node is not None else edge_to(x))
                    data = x.data
                    meta.append((data.shape, data.dtype))
                    counter = x._counter  # read once: one slot lookup fewer per input
                    if counter is not None and counter[0]:  # no counter yet: never changed
                        changed = True
                else:
                    edges.append(None)
                    meta.append(None)
            edges, meta = tuple(edges), tuple(meta)
        self.edges = edges  # per input: the Node/AccumulateGrad its gradient flows to, or None
        self.seq = next(_seq)  # after edge_to above: a leaf's AccumulateGrad must come before this node
        # (shape, dtype) of each input, for the central broadcasting reduction in the walk
        self.input_meta = _INPUT_META.get(meta) or _remember_meta(meta)
        # Inputs and output are kept (references, not copies) so drawings can show every value;
        # a backward without retain_graph frees them, as PyTorch frees saved tensors.
        self.inputs = inputs
        self.out_data = out_data
        # each input's version when saved; None when all were at 0 (the usual case: no tuple per op)
        self.saved_versions = None
        if rule.save_inputs and changed:
            self.saved_versions = tuple(x._counter[0] if isinstance(x, Tensor) and x._counter is not None
                                        else 0 for x in inputs)
        # the output's version counter and its value now, checked when the rule saved the output; the
        # output has no counter yet: Tensor._version links it here when it is made
        self.out_counter = None
        self.out_expected = 0
        self.input_refs = None  # set by release(); also what `released` reads (one slot store fewer)
        self.pre_hooks = None

    def name(self) -> str:
        return self.rule.backward_name(self.params)

    @property
    def released(self):
        """True after a backward without retain_graph freed what this node kept."""
        return self.input_refs is not None

    def release(self):
        """Free what backward needed; keep Python numbers and weak references so drawings still
        show constants and detach cuts without keeping any tensor alive."""
        inputs = self.inputs
        if inputs is not None:
            # A tensor that only this inputs tuple holds dies with it: its weak reference would be
            # dead at once, so store None (what kept_inputs gives for it either way) and skip making
            # one. Counted: the tuple, the loop variable, getrefcount's argument; the tuple itself by
            # self.inputs, `inputs` and getrefcount's argument (if anything else holds it, weak refs).
            private = _refcount(inputs) <= 3
            refs = []
            for x in inputs:
                if isinstance(x, Tensor):
                    refs.append(None if private and _refcount(x) <= 3 else weakref.ref(x))
                else:
                    refs.append(x)
            self.input_refs = tuple(refs)
            self.inputs = None
            self.out_data = None
        elif self.input_refs is None:
            self.input_refs = ()  # released with no inputs kept: still reads as released

    def kept_inputs(self):
        """The inputs while they are held; after a release, the numbers and still-living tensors."""
        if self.inputs is not None or self.input_refs is None:
            return self.inputs
        return tuple(r() if type(r) is weakref.ref else r for r in self.input_refs)

    @property
    def next_functions(self):
        """PyTorch's form: ((node, 0), ...) with None for inputs that need no gradient."""
        shown = self.rule.shown_edges
        return tuple((e, 0) for e in (self.edges if shown is None else shown(self.edges, self.input_meta,
                                                                              self.params)))

    def register_hook(self, hook):
        raise NotImplementedError("register hooks on tensors: tensor.register_hook(fn)")

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


_INPUT_META = {}  # one shared input_meta tuple per pattern: fewer objects per op for the collector


def _remember_meta(meta):
    if len(_INPUT_META) > 4096:
        _INPUT_META.clear()  # shapes that keep changing must not grow it without bound
    _INPUT_META[meta] = meta
    return meta


class AccumulateGrad:
    """The sink for a leaf tensor: adds the gradient that reaches it into ``leaf.grad``."""

    __slots__ = ("_variable", "seq", "__weakref__")
    edges = ()
    next_functions = ()

    def __init__(self, leaf):
        self._variable = weakref.ref(leaf)
        self.seq = next(_seq)

    @property
    def variable(self):
        return self._variable()

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def edge_to(tensor):
    """The node a gradient for ``tensor`` flows into, or None for a constant."""
    if tensor.grad_fn is not None:
        return tensor.grad_fn
    if not tensor.requires_grad:
        return None
    acc = tensor._accumulator
    if acc is None or acc.variable is not tensor:
        acc = tensor._accumulator = AccumulateGrad(tensor)
    return acc


# ----------------------------------------------------------------------------------- detach
# Where each detached tensor came from, so a drawing can show the cut that detach() makes.
# Keyed by id with weak references both ways: the record must never keep tensors alive.
_detached = {}


def note_detach(alias, source):
    key = id(alias)
    origin = source.grad_fn if source.grad_fn is not None else source
    _detached[key] = (weakref.ref(alias, lambda _ref: _detached.pop(key, None)), weakref.ref(origin))


def detached_origin(tensor):
    """The node (or leaf tensor) ``tensor`` was detached from, or None."""
    entry = _detached.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return None
    return entry[1]()


# ----------------------------------------------------------------------------------- the walk
def reachable_nodes(roots):
    """Every node reachable from ``roots`` through their edges, in reverse record order."""
    order, seen = [], set()  # the nodes themselves: hashing by identity, cheaper than a dict keyed by id()
    for root in roots:
        if root is not None and root not in seen:
            seen.add(root)
            order.append(root)
    for node in order:  # breadth first: the loop also visits what it appends
        for nxt in node.edges:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                order.append(nxt)
    order.sort(key=_by_seq, reverse=True)
    return order


_by_seq = operator.attrgetter("seq")  # a C-level sort key: no Python call per node


def sum_to(grad, shape):
    """Sum a broadcast gradient back down to ``shape``: the one place broadcasting is undone.

    Works on numpy arrays and on Tensors (when the backward itself is being recorded).
    """
    if grad.shape == shape:
        return grad
    lead = len(grad.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1
    )
    if axes:
        # Only leading axes (a bias's gradient): summing them away leaves exactly ``shape`` as a fresh
        # array, with no reshape view (so a leaf's .grad can take it without a copy).
        keep = len(axes) > lead
        grad = grad.sum(axes, keepdims=keep) if isinstance(grad, np.ndarray) else grad.sum(axes, keepdim=keep)
    return grad if grad.shape == shape else grad.reshape(shape)


def walk(roots, root_grads, *, create_graph=False, run_hooks=True, visited=None):
    """The backward walk, one step at a time; it writes nothing.

    Yields ``(node, grad_in, sent)`` in reverse record order: the total gradient that reached
    ``node`` and, for a recorded op, ``sent`` = ``[(edge, grad), ...]``, what its rule passed to each
    input (already summed back to the input's shape). ``root_grads`` are arrays, or Tensors under
    ``create_graph``. ``run_backward`` and the step-by-step widget both use this one loop.

    With ``visited`` (a list), the recorded ops' steps are appended there instead of yielded, and
    only the ``AccumulateGrad`` steps are yielded (``run_backward``'s lean mode).
    """
    F = F_TENSOR if create_graph else F_ARRAY
    grads = {}  # node -> the gradient summed so far; keyed by the node itself (cheaper than id())
    for root, g in zip(roots, root_grads):
        node = edge_to(root)
        grads[node] = _add(grads.get(node), g)
    previous = _mode.enabled
    _mode.enabled = create_graph  # set directly: set_grad_enabled() as a context cost 0.4 µs a call
    try:
        for node in reachable_nodes(list(grads)):
            g = grads.pop(node, None)
            if g is None:
                continue
            if type(node) is AccumulateGrad:
                yield node, g, ()
                continue
            if node.pre_hooks and run_hooks:
                for hook in node.pre_hooks:
                    g = _run_hook(hook, g, create_graph)
            rule = node.rule
            saved = out = None
            if rule.save_inputs or rule.save_output:
                saved, out = _unpack_saved(node, create_graph)
            edges = node.edges
            if rule.takes_needs:
                # the edges double as the mask: a None edge (a constant input) needs no gradient
                input_grads = rule.vjp(F, g, saved, out, node.params, edges)
            else:
                input_grads = rule.vjp(F, g, saved, out, node.params)
            # lean mode builds no per-step report: no list and no tuple per edge (and no yield below)
            sent = [] if visited is None else None
            for nxt, ig, meta in zip(edges, input_grads, node.input_meta):
                if nxt is None or ig is None:
                    continue
                shape, dt = meta
                if ig.shape != shape:
                    ig = sum_to(ig, shape)
                if create_graph:
                    if ig.data.dtype != dt:
                        ig = ig.to(dtypes.from_numpy(dt))  # recorded, so a float32 leaf gets float32
                elif ig.dtype is not dt and ig.dtype != dt:  # `is` first: equal dtypes are usually one object
                    ig = ig.astype(dt)
                acc = grads.get(nxt)
                grads[nxt] = ig if acc is None else acc + ig
                if sent is not None:
                    sent.append((nxt, ig))
            if sent is None:
                visited.append(node)  # a list append instead of a generator resume per node
                continue
            yield node, g, sent
    finally:
        _mode.enabled = previous


def run_backward(roots, root_grads, *, retain_graph, create_graph, capture=None, accumulate=True):
    """Walk the record backwards from ``roots``, then write leaf ``.grad``s and free saved values.

    ``capture`` holds ids of nodes whose total incoming gradient ``autograd.grad`` wants back;
    they are returned as {id(node): grad}.
    """
    if not create_graph:
        root_grads = [g.data for g in root_grads]
    captured, leaf_updates, visited = {}, [], []
    # Pause the cyclic garbage collector for the walk: it allocates an array or two per node but makes
    # no reference cycles, so a collection it triggers frees nothing and only rescans the whole recorded
    # graph (E's backward: 431 -> 274 ms). Restored on every exit, errors included; a backward inside a
    # hook finds it paused and leaves it so.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if capture is None:
            # lean walk: recorded ops go straight into `visited`; only the leaves' steps come back here
            for node, g, _ in walk(roots, root_grads, create_graph=create_graph, visited=visited):
                if accumulate:
                    leaf = node.variable
                    if leaf is not None:
                        leaf_updates.append((leaf, g))
        else:
            for node, g, _ in walk(roots, root_grads, create_graph=create_graph):
                visited.append(node)
                if id(node) in capture:
                    captured[id(node)] = g
                if accumulate and type(node) is AccumulateGrad:
                    leaf = node.variable
                    if leaf is not None:
                        leaf_updates.append((leaf, g))
        # The whole walk succeeded: only now touch .grad and free what the nodes kept.
        for leaf, g in leaf_updates:
            private = _held_only_here(g)  # its own statement: a pending call would hold g once more
            _accumulate(leaf, g, create_graph, private)
        if not retain_graph:
            for node in visited:
                if type(node) is Node:
                    node.release()
    finally:
        if collecting:
            gc.enable()
    return captured


def _held_only_here(g):
    """True when nothing but run_backward's leaf list holds ``g``, an array owning its memory: a new
    ``.grad`` can then take it without a copy (PyTorch's AccumulateGrad checks use_count the same way).
    Saves copying a weight-sized gradient per step (C: W1's 800 kB). The references counted: the
    tuple in ``leaf_updates``, run_backward's loop variable, this parameter and getrefcount's own."""
    return type(g) is np.ndarray and g.base is None and sys.getrefcount(g) <= 4


def _add(acc, g):
    if acc is None:
        return g
    return acc + g


def _unpack_saved(node, create_graph):
    """(saved inputs, saved output) of ``node``, after checking neither was freed or changed in place."""
    rule = node.rule
    if node.input_refs is not None:  # `released`, without the property call
        raise errors.backward_twice(node.name())
    out = None
    if rule.save_output:
        counter, expected = node.out_counter, node.out_expected
        if counter is not None and counter[0] != expected:
            raise errors.modified_inplace(None, node.name(), counter[0], expected, shape=node.out_data.shape,
                                          dtype=node.out_data.dtype)
        out = Tensor._wrap_output(node) if create_graph else node.out_data
    if not rule.save_inputs:
        return None, out
    inputs, versions = node.inputs, node.saved_versions
    arrays = []
    if versions is None:
        # the usual case, every input saved at version 0: no zip and no pair unpacking per input
        for t in inputs:
            if isinstance(t, Tensor):
                counter = t._counter  # None: never changed in place, so still at version 0
                if counter is not None and counter[0] and _value_is_read(node, t):
                    raise errors.modified_inplace(t, node.name(), counter[0], 0)
                arrays.append(t.data)
            else:
                arrays.append(t)
        return (inputs if create_graph else arrays), out
    for t, saved_at in zip(inputs, versions):
        if isinstance(t, Tensor):
            counter = t._counter  # None: never changed in place, so still at version 0
            if counter is not None and counter[0] != saved_at and _value_is_read(node, t):
                raise errors.modified_inplace(t, node.name(), counter[0], saved_at)
            arrays.append(t.data)
        else:
            arrays.append(t)
    return (inputs if create_graph else arrays), out


def _value_is_read(node, t):
    """Whether backward reads the saved value of ``t`` (asked only once it was changed in place):
    ``y * c`` with a constant ``c`` needs c for y's gradient but never y itself."""
    read_by = node.rule.read_by
    if read_by is None:
        return True
    edges = node.edges
    return any(edges[j] is not None
               for i, x in enumerate(node.inputs) if x is t
               for j in read_by[i])


def _run_hook(hook, g, create_graph):
    arg = g if create_graph else Tensor._from_array(g)
    result = hook(arg)
    if result is None:
        return g
    return result if create_graph else result.data


def _accumulate(leaf, g, create_graph, private=False):
    if not create_graph and leaf._grad is None and not leaf._hooks:
        # The usual first write: one fresh Tensor, no second wrap, no validating setter (2.7 -> 0.8 µs);
        # the copy keeps later in-place changes to .grad out of arrays others hold.
        leaf._grad = Tensor._from_array(g if private else np.array(g, copy=True))
        return
    if not create_graph:
        g = Tensor._from_array(g)
    for hook in leaf._hooks or ():
        result = hook(g)
        if result is not None:
            g = result
    if leaf.grad is None:
        # A fresh tensor: later in-place changes to .grad must not reach into the graph.
        leaf.grad = g if create_graph else Tensor._from_array(np.array(g.data, copy=True))
    elif create_graph or leaf.grad.requires_grad:
        leaf.grad = leaf.grad + g
    else:
        leaf.grad.data += g.data
        leaf.grad._version[0] += 1
