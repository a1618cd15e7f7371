"""The chain rule in words and numbers, one backward (or forward) step per line; and the tape as a table.

>>> x = arange(4.0, requires_grad=True)
>>> y = 2 * dot(x, x)
>>> print(explain(y))
backward from y, seed grad(y) = 1
1. MulBackward0: grad(dot) = 2 · grad(y) = 2
   with grad(y) = 1
2. DotBackward0: grad(x) += grad(dot) · x + x · grad(dot) = [0, 4, 8, 12]
   with grad(dot) = 2, x = [0, 1, 2, 3]
3. AccumulateGrad: x.grad += [0, 4, 8, 12]

``explain(y, mode="forward")`` pushes tangents the other way, from the leaves (seeded with ones
unless ``tangents=`` says otherwise) to ``y``, one JVP per line::

    forward to y, seed tangent(x) = [1, 1, 1, 1]
    1. dot: tangent(dot) = tangent(x) · x + x · tangent(x) = 12
       with tangent(x) = [1, 1, 1, 1], x = [0, 1, 2, 3]
    2. mul: tangent(y) = tangent(dot) · 2 = 24
       with tangent(dot) = 12
    tangent(y) = 24: the derivative of y along the seed, d/dε y(x + ε·tangent(x)) at ε = 0

Nothing here touches ``.grad``: the numbers come from ``tape.walk`` on private copies, and user
hooks (``register_hook``, ``retain_grad``) are not run; the text says so when the graph has any.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import markup
from .keywords import keywords_checked
from .preview import preview, shape_text

@dataclass
class StepText:
    line: str  # "MulBackward0: grad(dot) = 2 · grad(y) = 2"
    where: str  # "with grad(y) = 1": the numbers the formula used


def step_texts(run, desc) -> list[StepText]:
    """One StepText per step of ``run`` (a steps.BackwardRun), names taken from ``desc`` (unfolded)."""
    received, out = set(desc.roots), []
    for step in run.steps:
        out.append(_step_text(step, desc, received))
    return out


def _step_text(step, desc, received):
    if step.record is None:  # AccumulateGrad: the gradient lands in the leaf's .grad
        label = desc.node(step.node_id).label
        return StepText(f"AccumulateGrad: {label}.grad += {preview(step.grad_in)}", "")
    out = desc.output_of(step.node_id)
    inputs = desc.inputs_of(step.node_id)
    rule = step.record.rule
    names = {"g": f"grad({out.label})", "out": out.label}
    op = desc.node(step.node_id)
    module = [f"in {op.module}: {desc.modules.get(op.module, '?')}"] if op.module else []
    if not rule.variadic:
        names.update({v: n.label for v, n in zip(rule.input_names, inputs)})
    used = {"g"}
    targets = {}  # target id -> [node, terms, total]; in argument order
    for slot, g in step.sent.items():
        template = rule.words_for(slot) or f"vjp of {step.name} for input {slot}"
        used |= {k for k in names if "{" + k + "}" in template}
        target = inputs[slot]
        entry = targets.setdefault(target.id, [target, [], None])
        entry[1].append(template.format(i=slot, **names))
        entry[2] = g if entry[2] is None else entry[2] + g
    parts = []
    for target, terms, total in targets.values():
        sign = "+=" if target.role == "leaf" or target.id in received else "="
        parts.append(f"grad({target.label}) {sign} {' + '.join(terms)} = {preview(total)}")
        received.add(target.id)
    known = [f"grad({out.label}) = {preview(step.grad_in)}"]
    for var, node in [("out", out)] + list(zip(() if rule.variadic else rule.input_names, inputs)):
        if var in used and node.value is not None and node.value != node.label:
            item = f"{node.label} = {node.value}"
            if item not in known:
                known.append(item)
    return StepText(f"{step.name}: " + "; ".join(parts), "; ".join(module + ["with " + ", ".join(known)]))


class _Unfilled(dict):
    def __missing__(self, key):  # a word the rule names that we have no value for stays as written
        return "{" + key + "}"


def forward_texts(run, desc) -> list[StepText]:
    """One StepText per step of ``run`` (a forward_steps.ForwardRun): the rule's JVP words with the
    inputs' names and tangents filled in. ``desc`` is the unfolded description."""
    reached = dict(run.seeds)  # tensor node id -> its tangent, as the walk reaches it
    out = []
    for step in run.steps:
        out.append(_forward_text(step, desc, reached))
        reached[desc.output_of(step.node_id).id] = step.tangent
    return out


def _forward_text(step, desc, reached):
    out, inputs, rule = desc.output_of(step.node_id), desc.inputs_of(step.node_id), step.record.rule
    op = desc.node(step.node_id)
    names = {"out": out.label}
    if not rule.variadic:
        names.update({v: n.label for v, n in zip(rule.input_names, inputs)})
    terms, known, used = [], [], set()
    for slot, words in step.words.items():
        source = inputs[slot]
        template = words or f"jvp of {step.name} for input {slot}"
        terms.append(template.format_map(_Unfilled(names, t=f"tangent({source.label})", i=slot)))
        used |= {k for k in names if "{" + k + "}" in template}
        item = f"tangent({source.label}) = {preview(reached.get(source.id))}"
        if item not in known:
            known.append(item)
    for var, node in [("out", out)] + list(zip(() if rule.variadic else rule.input_names, inputs)):
        item = f"{node.label} = {node.value}"
        if var in used and node.value is not None and node.value != node.label and item not in known:
            known.append(item)
    module = [f"in {op.module}: {desc.modules.get(op.module, '?')}"] if op.module else []
    line = f"{op.op or op.label}: tangent({out.label}) = {' + '.join(terms)} = {preview(step.tangent)}"
    return StepText(line, "; ".join(module + ["with " + ", ".join(known)]))


def forward_header(run, desc) -> str:
    seeds = ", ".join(f"tangent({desc.node(nid).label}) = {preview(t)}" for nid, t in run.seeds.items())
    roots = ", ".join(desc.node(r).label for r in desc.roots)
    return f"forward to {roots}, seed {seeds}" if seeds else f"forward to {roots}"


def forward_footer(run, desc) -> str | None:
    """The last line: what the output's tangent means (None when the walk did not reach it)."""
    if not run.steps or desc.output_of(run.steps[-1].node_id).id not in desc.roots:
        return None
    root = desc.node(desc.roots[0]).label
    seeds = [desc.node(nid).label for nid in run.seeds]
    moved = ", ".join(f"{s} + ε·tangent({s})" for s in seeds)
    return (f"tangent({root}) = {preview(run.steps[-1].tangent)}: the derivative of {root} along the seed, "
            f"d/dε {root}({moved}) at ε = 0")


class Explanation:
    """The steps of a walk (backward, or forward) as text: ``.lines`` (one per step), ``.where``, ``str()``.

    ``.note`` says when the graph has hooks, which these steps do not run (else None); ``.footer``
    closes a forward walk with what the output's tangent means.
    """

    def __init__(self, header, texts, problem=None, note=None, footer=None):
        self.header = header
        self.lines = [t.line for t in texts]
        self.where = [t.where for t in texts]
        self.problem = problem
        self.note = note
        self.footer = footer

    def __repr__(self):
        out = [self.header] + ([self.note] if self.note else [])
        for i, (line, where) in enumerate(zip(self.lines, self.where), start=1):
            out.append(f"{i}. {line}")
            if where:
                out.append(f"   {where}")
        if self.problem:
            out.append(self.problem)
        if self.footer:
            out.append(self.footer)
        return "\n".join(out)

    __str__ = __repr__


def seed_header(run, desc) -> str:
    seeds = ", ".join(f"grad({desc.node(rid).label}) = {preview(g)}" for rid, g in run.seeds.items())
    roots = ", ".join(desc.node(r).label for r in desc.roots)
    return f"backward from {roots}, seed {seeds}" if seeds else f"backward from {roots}"


# ------------------------------------------------------------------------------------ the tape
@dataclass(frozen=True)
class TapeRow:
    index: int  # place in record order among the ops drawn
    op: str  # "MulBackward0"
    short: str  # "mul"
    input_shapes: tuple  # "4", "scalar", "number" (a Python number)
    output_shape: str
    saved: str  # what backward will read: "x = [0, 1, 2, 3]"; "freed"; "—"
    backward_step: int | None
    node_id: str
    module: str = ""  # with modules=: "0: Linear(5→8)"


def tape_rows(desc) -> list[TapeRow]:
    rows = []
    for op in desc.ops:
        module = f"{op.module}: {desc.modules.get(op.module, '?')}" if op.module else ""
        inputs = desc.inputs_of(op.id)
        out = desc.output_of(op.id)
        rows.append(TapeRow(
            int(op.id[2:]), op.detail, op.label, tuple(_shape(n) for n in inputs),
            _shape(out) if out is not None else "", _saved(op, inputs, out), op.backward_order, op.id, module,
        ))
    return rows


def _shape(node):
    if node.shape is None:
        return "?"
    if node.shape == () and node.value is not None and node.value == node.label:
        return "number"
    return shape_text(node.shape)


def _saved(op, inputs, out):
    if not op.saves:
        return "—"
    if op.freed:
        return "freed by backward()"
    parts = op.saves.split(", ")
    items = [f"{n.label} = {n.value}" if n.value != n.label else n.label
             for k, n in enumerate(inputs) if f"input {k}" in parts]
    if "output" in parts and out is not None:
        items.append(f"{out.label} = {out.value}")
    seen = []
    for item in items:  # x * x saves x twice; say it once
        if item not in seen:
            seen.append(item)
    return ", ".join(seen)


HEADERS = ("#", "op", "inputs", "output", "saved for backward", "backward step")


class TapeTable:
    """The record, in the order it was written: ``.rows``; HTML in Jupyter, aligned text elsewhere."""

    def __init__(self, rows, hidden_ops=0):
        self.rows = rows
        self.hidden_ops = hidden_ops

    @property
    def headers(self):
        return HEADERS + (("module",) if any(r.module for r in self.rows) else ())

    def cells(self):
        modules = any(r.module for r in self.rows)
        return [(r.index, r.op, ", ".join(r.input_shapes), r.output_shape, r.saved,
                 "" if r.backward_step is None else r.backward_step) + ((r.module,) if modules else ())
                for r in self.rows]

    def to_html(self, highlight_node=None) -> str:
        highlight = next((i for i, r in enumerate(self.rows) if r.node_id == highlight_node), None)
        note = f"{self.hidden_ops:,} earlier ops folded" if self.hidden_ops else None
        html = markup.table(self.headers, self.cells(), highlight=highlight, caption="tape")
        return html + (markup.paragraphs([note]) if note else "")

    def _repr_html_(self):
        return self.to_html()

    def __repr__(self):
        cells = [tuple(map(str, self.headers))] + [tuple(map(str, row)) for row in self.cells()]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.headers))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
        if self.hidden_ops:
            lines.append(f"({self.hidden_ops:,} earlier ops folded)")
        return "\n".join(lines)

    __str__ = __repr__


# ------------------------------------------------------------------------------ public entry points
MODES = ("reverse", "forward")


def check_mode(mode, modes, gradient=None, tangents=None, who="explain"):
    """``mode`` is one of ``modes``; ``gradient=`` seeds only a reverse walk, ``tangents=`` only a forward one."""
    if mode not in modes:
        raise ValueError(f"{who}(): mode must be one of {', '.join(map(repr, modes))}, not {mode!r}")
    if tangents is not None and mode == "reverse":
        raise ValueError(f"{who}(): tangents= seeds the forward walk, and mode is 'reverse'\n"
                         f"pass mode='forward' too, e.g. {who}(y, mode='forward', tangents={{x: v}})")
    if gradient is not None and mode == "forward":
        raise ValueError(f"{who}(): gradient= seeds the reverse walk, and mode is 'forward'\n"
                         "the forward walk is seeded at the leaves: pass tangents={x: v} instead")


@keywords_checked
def explain(tensor, names=None, gradient=None, modules=None, mode="reverse", tangents=None) -> Explanation:
    """The backward pass from ``tensor``, step by step, with the numbers (``.grad`` untouched).

    ``gradient`` seeds a non-scalar output (default: ones, like ``y.sum().backward()``);
    ``modules=net`` names parameters by path (``0.weight``) and says which module call made each op.
    ``mode="forward"`` shows forward mode instead: tangents pushed from the leaves to ``tensor`` in
    record order, one JVP per op. ``tangents`` ({x: v} or {"x": v}, each of its leaf's shape) seeds
    it; by default every leaf that requires grad gets ones.

    >>> print(explain(y, mode="forward", tangents={x: [1, 0, 0, 0]}))   # doctest: +SKIP
    """
    from .drawing import full_description, roots_and_names
    from .forward_steps import forward_steps
    from .steps import backward_steps, hooks_note

    check_mode(mode, MODES, gradient, tangents)
    (tensor,), names = roots_and_names([tensor], names, "explain")
    desc, _ = full_description([tensor], names, modules=modules)
    if mode == "forward":
        run = forward_steps(tensor, desc, tangents)
        return Explanation(forward_header(run, desc), forward_texts(run, desc), run.problem,
                           footer=forward_footer(run, desc))
    run = backward_steps([tensor], desc, None if gradient is None else [gradient])
    return Explanation(seed_header(run, desc), step_texts(run, desc), run.problem, hooks_note(run))


@keywords_checked
def tape_table(tensor, names=None, modules=None) -> TapeTable:
    """The recorded ops behind ``tensor`` in record order: inputs, output, what backward will read;
    with ``modules=net``, parameters named by path and a column for the module call of each op."""
    from .drawing import full_description, roots_and_names

    (tensor,), names = roots_and_names([tensor], names, "tape_table")
    desc, _ = full_description([tensor], names, modules=modules)
    return TapeTable(tape_rows(desc))
