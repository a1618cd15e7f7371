"""The chain rule in words and numbers, one backward step per line; and the tape as a table.

>>> x = arange(4.0, requires_grad=True)
>>> y = 2 * dot(x, x)
>>> print(explain(y))
backward from y, seed grad(y) = 1
1. MulBackward0: grad(dot) = 2 · grad(y) = 2
   with grad(y) = 1
2. DotBackward0: grad(x) += grad(dot) · x + x · grad(dot) = [0, 4, 8, 12]
   with grad(dot) = 2, x = [0, 1, 2, 3]
3. AccumulateGrad: x.grad += [0, 4, 8, 12]

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


class Explanation:
    """The steps of a backward pass as text: ``.lines`` (one per step), ``.where``, ``str()``.

    ``.note`` says when the graph has hooks, which these steps do not run (else None).
    """

    def __init__(self, header, texts, problem=None, note=None):
        self.header = header
        self.lines = [t.line for t in texts]
        self.where = [t.where for t in texts]
        self.problem = problem
        self.note = note

    def __repr__(self):
        out = [self.header] + ([self.note] if self.note else [])
        for i, (line, where) in enumerate(zip(self.lines, self.where), start=1):
            out.append(f"{i}. {line}")
            if where:
                out.append(f"   {where}")
        if self.problem:
            out.append(self.problem)
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
@keywords_checked
def explain(tensor, names=None, gradient=None, modules=None) -> Explanation:
    """The backward pass from ``tensor``, step by step, with the numbers (``.grad`` untouched).

    ``gradient`` seeds a non-scalar output (default: ones, like ``y.sum().backward()``);
    ``modules=net`` names parameters by path (``0.weight``) and says which module call made each op.
    """
    from .drawing import full_description, roots_and_names
    from .steps import backward_steps, hooks_note

    (tensor,), names = roots_and_names([tensor], names, "explain")
    desc, _ = full_description([tensor], names, modules=modules)
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
