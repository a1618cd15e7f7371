"""GraphWidget: step through a backward pass (or forward mode's tangents), one recorded node at a time.

>>> w = GraphWidget(y)      # y = 2 * torch.dot(x, x)
>>> w
GraphWidget(y: 6 nodes, step 0/3)
>>> w.step_forward(); w.explanation.splitlines()[0]
'Step 1 of 3: MulBackward0: grad(dot) = 2 · grad(y) = 2'

State lives in traits (``step``, ``values``, ``grads``, ``shapes``); the picture, the explanation
and the tape table are a function of that state alone, recomputed when it changes. Every gradient
comes from one ``tape.walk`` on private copies, done once when the widget is made: stepping never
touches the learner's ``.grad`` or frees their graph.

``GraphWidget(y, mode="forward", tangents={x: v})`` steps forward mode instead: ``forward.walk``
over the same record, from the leaves to ``y`` in record order, each step one op's tangent and the
JVP line that made it. ``mode="both"`` has both walks and a switch between them (the ``direction``
trait, "reverse" or "forward"), over one drawing.
"""
from __future__ import annotations

import ipywidgets as widgets
import traitlets

from . import markup, style
from .dot import to_digraph
from .drawing import full_description, roots_and_names, shrink
from .explain import (TapeTable, check_mode, forward_footer, forward_header, forward_texts, seed_header, step_texts,
                      tape_rows)
from .forward_steps import ForwardState, forward_steps
from .keywords import check_keywords
from .render import RendererMissing, render
from .steps import StepState, backward_steps, hooks_note


_OPTIONS = ["tensor", "names", "gradient", "max_nodes", "show_ops", "interval", "repeats", "modules", "collapse",
            "mode", "tangents"]
MODES = ("reverse", "forward", "both")


class _Walk:
    """One walk the widget can step: its steps, their text, and the picture's state after k of them."""

    def __init__(self, run, texts, header, state, note=None, footer=None):
        self.run, self.steps, self.texts, self.header = run, run.steps, texts, header
        self.problem, self.note, self.footer, self._state = run.problem, note, footer, state

    def state(self, desc, k):
        return self._state(self.run, desc, k)


def _reverse_walk(tensor, full, gradient):
    run = backward_steps([tensor], full, None if gradient is None else [gradient])
    return _Walk(run, step_texts(run, full), seed_header(run, full), StepState, note=hooks_note(run))


def _forward_walk(tensor, full, tangents):
    run = forward_steps(tensor, full, tangents)
    return _Walk(run, forward_texts(run, full), forward_header(run, full), ForwardState,
                 footer=forward_footer(run, full))


def _public_traits():
    # children are ours to set; comm, log and keys are the widget machinery's
    return sorted(name for name in GraphWidget.class_trait_names()
                  if not name.startswith("_") and name not in ("children", "comm", "log", "keys"))


class GraphWidget(widgets.VBox):
    """The graph of ``tensor`` with Play / Step back / Step forward, a slider over the backward
    order, toggles for values, gradients and shapes, an explanation of the current step and the tape.

    ``mode``: "reverse" (the default: the backward pass), "forward" (tangents from the leaves to
    ``tensor``) or "both" (a switch between the two; ``direction`` says which is shown).
    ``tangents`` seeds forward mode: ``{x: v}`` or ``{"x": v}``, each ``v`` of its leaf's shape; by
    default every leaf that requires grad gets ones. ``w.tangents = {...}`` changes it later.
    """

    step = traitlets.Int(0)
    values = traitlets.Bool(True)
    grads = traitlets.Bool(True)
    shapes = traitlets.Bool(True)
    direction = traitlets.Unicode("reverse")  # the walk shown: "reverse" or "forward"

    def __init__(self, tensor, names=None, *, gradient=None, max_nodes=200, show_ops="short", interval=1200,
                 repeats="fold", modules=None, collapse=False, mode="reverse", tangents=None, **kwargs):
        # The rest are traits: ours (values=False ...) and the box's (layout=...). Anything else
        # would only be a warning from traitlets, so a misspelled option would silently do nothing.
        check_keywords("GraphWidget", kwargs, _OPTIONS + _public_traits())
        start = kwargs.pop("step", 0)  # a step is only valid once the walk has run
        check_mode(mode, MODES, gradient, tangents, "GraphWidget")
        self.mode = mode
        direction = kwargs.pop("direction", "forward" if mode == "forward" else "reverse")
        (tensor,), names = roots_and_names([tensor], names, "GraphWidget")
        super().__init__(**kwargs)
        # _full: every op (the walk and the words read it); _drawn: what the picture shows (runs of
        # repeats folded, modules collapsed); _listed: the tape table's rows (every op, unless huge).
        self._full, tree = full_description([tensor], names, show_ops=show_ops, modules=modules)
        self._drawn = shrink(self._full, tree, max_nodes=max_nodes, repeats=repeats, collapse=collapse)
        self._listed = shrink(self._full, tree, max_nodes=max_nodes, repeats="show")
        self._tensor, self._walks = tensor, {}
        if mode != "forward":
            self._walks["reverse"] = _reverse_walk(tensor, self._full, gradient)
        if mode != "reverse":
            self._walks["forward"] = _forward_walk(tensor, self._full, tangents)
        self._table = TapeTable(tape_rows(self._listed), self._listed.hidden_ops)
        self._svg_cache = {}
        self.direction = direction
        self._build_view(interval)
        self.step = start
        self.observe(self._refresh, names=["step", "values", "grads", "shapes"])
        self.observe(self._switched, names=["direction"])
        self._refresh()

    @property
    def _walk(self):
        return self._walks[self.direction]

    @property
    def _run(self):  # the walk shown: a steps.BackwardRun or a forward_steps.ForwardRun
        return self._walk.run

    @property
    def tangents(self) -> dict:
        """Leaf name -> the tangent forward mode starts from (numpy arrays, copies)."""
        walk = self._walks.get("forward")
        return {} if walk is None else {self._full.node(nid).label: t.copy() for nid, t in walk.run.seeds.items()}

    @tangents.setter
    def tangents(self, tangents):
        # A bad value raises before anything changes, so the widget goes on showing the old walk.
        if "forward" not in self._walks:
            raise ValueError("GraphWidget: tangents= seeds the forward walk, and this widget's mode is 'reverse'\n"
                             "make it with mode='forward' or mode='both'")
        self._walks["forward"] = _forward_walk(self._tensor, self._full, tangents)
        self._svg_cache = {key: svg for key, svg in self._svg_cache.items() if key[0] != "forward"}
        if self.direction == "forward":
            self._switched()

    @traitlets.validate("direction")
    def _valid_direction(self, proposal):
        if proposal["value"] not in self._walks:
            have = " or ".join(map(repr, self._walks))
            hint = "" if self.mode == "both" else "; make it with mode='both' to have both walks"
            raise traitlets.TraitError(f"direction must be {have} for a GraphWidget made with mode={self.mode!r}, "
                                       f"not {proposal['value']!r}{hint}")
        return proposal["value"]

    def _switched(self, _change=None):
        # Each walk has its own number of steps: start the new one from its beginning.
        n = self.n_steps
        self.step = 0  # first, so the controls' values fit under their new maximum
        for control in (self._play, self._slider):
            control.max = n
            control.disabled = n == 0
        self._back.disabled = self._forward.disabled = n == 0
        self._derivatives.description = self._derivative_word()
        self._derivatives.tooltip = f"show {self._derivative_word()} on the tensors"
        self._refresh()

    def _derivative_word(self):
        return "tangents" if self.direction == "forward" else "grads"

    # ------------------------------------------------------------------ stepping
    @property
    def n_steps(self) -> int:
        return len(self._walk.steps)

    def step_forward(self):
        self.step = min(self.step + 1, self.n_steps)

    def step_back(self):
        self.step = max(self.step - 1, 0)

    @traitlets.validate("step")
    def _valid_step(self, proposal):
        return max(0, min(int(proposal["value"]), self.n_steps))

    @property
    def explanation(self) -> str:
        """What the current step does, with its numbers (the text of the explanation panel)."""
        return "\n".join(self._explanation_lines())

    @property
    def shown_grads(self) -> dict:
        """Tensor name -> the gradient the picture shows at the current step (numpy arrays, copies)."""
        return self._shown("reverse", lambda: StepState(self._run, self._full, self.step).grads)

    @property
    def shown_tangents(self) -> dict:
        """Tensor name -> the tangent the picture shows at the current step, in forward mode (copies)."""
        return self._shown("forward", lambda: ForwardState(self._run, self._full, self.step).tangents)

    def _shown(self, direction, derivatives):
        if self.direction != direction:
            return {}
        return {self._full.node(nid).label: d.copy() for nid, d in derivatives().items()
                if self._full.node(nid).kind == "tensor"}

    def _explanation_lines(self):
        n, k, walk = self.n_steps, self.step, self._walk
        forward = self.direction == "forward"
        note = [walk.note] if walk.note else []
        if walk.problem:
            return [f"No {'forward' if forward else 'backward'} steps: {walk.problem}"]
        if k == 0:
            todo = "push tangents from the leaves to the output" if forward else "walk it backwards"
            return [f"Step 0 of {n}: the forward pass, as recorded on the tape.",
                    f"Step forward to {todo}: {walk.header}."] + note
        if k == n and walk.footer:
            note.append(walk.footer)
        text, step = walk.texts[k - 1], walk.steps[k - 1]
        where = [text.where] if text.where else []
        drawn = self._drawn.walk_ids.get(step.seq)
        group = self._drawn.node(drawn).members if drawn in self._drawn._index() else ()
        if step.node_id in group:  # the picture shows one node for the whole run (or module)
            node = self._drawn.node(drawn)
            where.append(f"{node.op or node.label} {group.index(step.node_id) + 1} of {len(group)} "
                         f"in the node {node.label}")
        return [f"Step {k} of {n}: {text.line}"] + where + note

    # ------------------------------------------------------------------ the view
    def _build_view(self, interval):
        n = self.n_steps
        self._play = widgets.Play(min=0, max=n, step=1, interval=interval, description="Play",
                                  disabled=n == 0)
        self._back = widgets.Button(description="Step back", icon="step-backward", disabled=n == 0)
        self._forward = widgets.Button(description="Step forward", icon="step-forward", disabled=n == 0)
        self._slider = widgets.IntSlider(min=0, max=n, description="step", disabled=n == 0,
                                         continuous_update=True)
        widgets.link((self._play, "value"), (self, "step"))
        widgets.link((self._slider, "value"), (self, "step"))
        self._back.on_click(lambda _button: self.step_back())
        self._forward.on_click(lambda _button: self.step_forward())
        toggles = []
        if self.mode == "both":
            switch = widgets.ToggleButtons(options=[("reverse (backward)", "reverse"), ("forward (tangents)", "forward")],
                                           value=self.direction, tooltips=["gradients from the output back to the leaves",
                                                                           "tangents from the leaves to the output"])
            widgets.link((switch, "value"), (self, "direction"))
            toggles.append(switch)
        for name in ("values", "grads", "shapes"):
            button = widgets.ToggleButton(value=getattr(self, name), description=name,
                                          tooltip=f"show {name} on the tensors")
            widgets.link((button, "value"), (self, name))
            toggles.append(button)
        self._derivatives = toggles[-2]  # "grads" in the backward walk, "tangents" in the forward one
        self._derivatives.description = self._derivative_word()
        # Drawings run left to right and get wide, so the picture has the full width and the
        # explanation and the tape sit under it; each scrolls on its own when it must. No side
        # margins: ipywidgets gives an HTML widget 2 px each side, which made 100% overflow its box.
        self._picture = widgets.HTML(layout=widgets.Layout(overflow="auto", width="100%", margin="0"))
        self._panel = widgets.HTML(layout=widgets.Layout(margin="4px 0"))
        self._tape = widgets.HTML(layout=widgets.Layout(overflow="auto", width="100%", margin="0"))
        self.children = [
            widgets.HBox([self._play, self._back, self._forward, self._slider]),
            widgets.HBox(toggles),
            self._picture,
            self._panel,
            self._tape,
        ]

    def _refresh(self, _change=None):
        self._picture.value = self._svg()
        self._panel.value = markup.paragraphs(self._explanation_lines(), bold_first=True)
        step = self._walk.steps[self.step - 1] if self.step else None
        self._tape.value = self._table.to_html(highlight_node=self._listed.walk_ids.get(step.seq) if step else None)

    def _svg(self):
        key = (self.direction, self.step, self.values, self.grads, self.shapes)
        if key not in self._svg_cache:
            state = self._walk.state(self._drawn, self.step)
            source = to_digraph(self._drawn, values=self.values, grads=self.grads, shapes=self.shapes,
                                state=state, tall=style.STEPPER_TALL).source
            try:
                svg = render(source, "svg").decode("utf-8")
                svg = svg[svg.find("<svg"):]  # the <?xml ...?> prolog cannot sit inside HTML
                # Shrink to the notebook's width instead of scrolling sideways (the viewBox keeps proportions).
                self._svg_cache[key] = svg.replace("<svg", '<svg style="max-width:100%;height:auto"', 1)
            except RendererMissing as missing:
                self._svg_cache[key] = markup.paragraphs([str(missing)]) + markup.pre(source)
        return self._svg_cache[key]

    def __repr__(self):
        roots = ", ".join(self._full.node(r).label for r in self._full.roots)
        return f"GraphWidget({roots}: {len(self._drawn.nodes)} nodes, step {self.step}/{self.n_steps})"
