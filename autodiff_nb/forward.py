"""Forward mode: every value carries a tangent, and every op pushes the tangents of its inputs on.

Reverse mode records the ops and walks back once from one output (``tape.walk``). Forward mode needs
no walk back: inside a dual level (``autograd.forward_ad.dual_level``) an op that has an input with a
tangent computes its output's tangent as it runs, right after its forward (``push``, called by
``ops.apply``). The tangent is the sum, over the inputs that have one, of the rule's Jacobian-vector
product (JVP) of that input, written in ``ops.RULES`` next to the input's VJP: for ``y = a * b``,
``ẏ = ȧ · b + a · ḃ``. One JVP per input, not one per op, for the reason each VJP is per input: an
input without a tangent (a weight when the direction is in the data) costs nothing.

``walk`` runs the same JVPs over an already recorded graph, one node at a time in record order, the
mirror of ``tape.walk``: the widget steps it, and ``func.linearize`` uses it to push new tangents
through a function it ran once.
"""
from __future__ import annotations

import numpy as np

from . import errors
from .grad_mode import dual, mode
from .tape import AccumulateGrad, backward_order, edge_to
from .tensor import Tensor


def tangent_of(t):
    """The tangent ``t`` carries at the open dual level (a Tensor), or None."""
    carried = t._tangent
    if carried is None or carried[0] != dual.level:
        return None
    tangent = carried[1]
    if type(tangent) is np.ndarray:  # push keeps a plain tangent as an array until someone asks for it
        tangent = Tensor._from_array(tangent)
        t._tangent = (carried[0], tangent)
    return tangent


def attach(t, tangent):
    """Give ``t`` the tangent ``tangent`` (a Tensor) at the open dual level."""
    t._tangent = (dual.level, tangent)


def tangent_out(rule, tangents, read, out, xp):
    """The output's tangent from the inputs' ``tangents`` (None: no tangent), and the terms summed.

    ``read(slot)`` gives the values input ``slot``'s JVP reads, by the names of its parameters (as
    for a VJP). Each term has its input's broadcast shape; the total is broadcast to the output's
    shape here, the one place (the mirror of ``tape.sum_to`` in reverse mode).
    """
    total, terms, jvps, variadic = None, [], rule.jvps, rule.variadic
    for slot, t in enumerate(tangents):
        if t is None:
            continue
        jvp = jvps[0 if variadic else slot]
        if jvp is None:
            raise errors.no_jvp(rule.name)
        term = jvp(xp, t, *read(slot))
        if term is None:  # a custom op's JVP that gives this input nothing
            continue
        terms.append((slot, term))
        total = term if total is None else total + term
    return (None if total is None else _fit(xp, total, out, tangents)), terms


def _fit(xp, tangent, out, tangents):
    """A tangent has its output's shape, and its dtype unless the tangent is the wider float: PyTorch
    keeps a float64 tangent of a float32 value as float64 (``_widened_by``)."""
    if not xp.records and type(tangent) is not np.ndarray:
        tangent = np.asarray(tangent)  # numpy gives a scalar for 0-d math
    if tangent.shape != out.shape:
        tangent = xp.expand(tangent, out.shape)
    have = tangent.array.dtype if xp.records else tangent.dtype
    if have == out.dtype:
        return tangent
    want = np.promote_types(have, out.dtype)
    if want != out.dtype and not _widened_by(want, tangents, out):
        want = out.dtype
    return tangent if have == want else xp.cast(tangent, want)


def _widened_by(dtype, tangents, out):
    """Whether PyTorch's promotion, not only numpy's, gives a tangent of ``dtype``: an input tangent of
    that dtype decides it if it has dims, or if the output has none. numpy also lets a 0-d float64
    tangent widen a float32 vector; PyTorch, whose JVPs are its own ops, does not."""
    for t in tangents:
        if t is not None:
            array = t.array if type(t) is Tensor else t
            if array.dtype == dtype and (array.ndim or not out.ndim):
                return True
    return False


def push(rule, inputs, params, result, wants_grad, numpy_math):
    """Give ``result`` (just computed by ``rule`` from ``inputs``) its tangent, when an input has one.

    The tangent's own arithmetic is recorded (``dual.recorded_math``) when grad mode is on and a value
    it reads requires grad, so that a gradient of a tangent works (reverse over forward); else it is
    plain numpy (``numpy_math``), and costs no record.
    """
    level, tangents, found, tangent_grad = dual.level, [], False, False
    for x in inputs:  # one pass: each input's tangent (tangent_of, inlined: this runs for every op)
        carried = x._tangent if type(x) is Tensor else None
        if carried is not None and carried[0] == level:
            t = carried[1]
            found, tangent_grad = True, tangent_grad or (type(t) is Tensor and t.requires_grad)
            tangents.append(t)
        else:
            tangents.append(None)
    if not found or result.array.dtype.kind != "f":
        return
    records = mode.enabled and (wants_grad or tangent_grad)
    xp = dual.recorded_math if records else numpy_math
    if records:
        tangents = [t if t is None or type(t) is Tensor else Tensor._from_array(t) for t in tangents]
    else:
        tangents = [t.array if type(t) is Tensor else t for t in tangents]
    out = result if records else result.array

    def read(slot):
        return read_live(rule.jvp_reads(slot), slot, inputs, params, out, records)

    if records:  # the recorded arithmetic of a tangent runs with the level closed: it carries no tangent
        dual.level = None
    try:
        tangent, _ = tangent_out(rule, tangents, read, result.array, xp)
    finally:
        dual.level = level
    if tangent is not None:
        # a plain tangent stays an array (tangent_of wraps it when asked): a Tensor per op for tangents
        # that are only read by the next op was a tenth of a jvp's time (benchmarks, workload H)
        result._tangent = (level, tangent)
        if result.grad_fn is not None:  # a backward recorded with create_graph reads the output again
            result.grad_fn.out_tangent = result._tangent


def read_live(reads, slot, inputs, params, out, as_tensors):
    """The values named by ``reads`` (see ops.Rule), read from an op that has just run."""
    values = []
    for _, kind, key in reads:
        if kind == "input":
            x = inputs[key]
            values.append(x.array if isinstance(x, Tensor) and not as_tensors else x)
        elif kind == "param":
            values.append(params[key])
        elif kind == "out":
            values.append(out)
        elif kind == "shape":
            x = inputs[key]
            values.append(x.array.shape if isinstance(x, Tensor) else ())
        elif kind == "i":
            values.append(slot)
        else:  # "inputs"
            values.append(tuple(x.array if isinstance(x, Tensor) and not as_tensors else x for x in inputs))
    return values


# ----------------------------------------------------------------------------------- the walk
def walk(roots, seeds, xp):
    """Forward mode over a recorded graph, one node at a time. It writes nothing.

    ``seeds`` maps leaf tensors to their tangents (numpy arrays with ``xp`` = ``ops.NumpyMath``).
    Yields ``(node, tangent, terms)`` in record order for every node behind ``roots`` that a seeded
    leaf reaches: ``tangent`` is the node's output tangent, and ``terms`` lists ``(slot, term,
    words)``, the JVP term of each input that had a tangent and the words ``explain`` prints for it.
    The graph's values must still be there (not freed by a backward without retain_graph).
    """
    tangents = {edge_to(leaf): t for leaf, t in seeds.items()}
    for node in reversed(backward_order(roots)):
        if type(node) is AccumulateGrad:
            continue
        inputs = [tangents.get(edge) if edge is not None else None for edge in node.edges]
        if all(t is None for t in inputs):
            continue
        rule = node.rule
        tangent, terms = tangent_out(rule, inputs, lambda slot: node.read(rule.jvp_reads(slot), slot, xp.records),
                                     node.out, xp)
        tangents[node] = tangent
        yield node, tangent, [(slot, term, rule.jvp_words_for(slot)) for slot, term in terms]
