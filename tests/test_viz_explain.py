"""The chain rule in numbers (explain) and the tape table, for the chapter's examples."""
import numpy as np

import autodiff_nb as torch
from autodiff_nb.ops import RULES
from autodiff_nb.viz import explain, tape_table


def test_explanation_of_2_xT_x_has_the_chapters_numbers():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    e = explain(y)
    assert e.lines == [
        "MulBackward0: grad(dot) = 2 · grad(y) = 2",
        "DotBackward0: grad(x) += grad(dot) · x + x · grad(dot) = [0, 4, 8, 12]",
        "AccumulateGrad: x.grad += [0, 4, 8, 12]",
    ]
    assert e.where[1] == "with grad(dot) = 2, x = [0, 1, 2, 3]"
    text = repr(e)
    assert text.splitlines()[0] == "backward from y, seed grad(y) = 1"
    assert "1. MulBackward0: grad(dot) = 2 · grad(y) = 2" in text
    assert "2. DotBackward0: grad(x) += grad(dot) · x + x · grad(dot) = [0, 4, 8, 12]" in text


def test_explaining_touches_no_grad_and_frees_nothing():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    explain(y)
    assert x.grad is None and not y.grad_fn.released
    y.backward()
    assert np.array_equal(x.grad.array, [0, 4, 8, 12])


def test_gradient_of_sum_is_ones_explained():
    x = torch.arange(4.0, requires_grad=True)
    y = x.sum()
    assert explain(y).lines[0] == "SumBackward0: grad(x) += grad(y) · ones_like(x) = [1, 1, 1, 1]"


def test_non_scalar_output_is_seeded_with_ones_or_the_given_gradient():
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    assert explain(y).lines[0] == "MulBackward0: grad(x) += x · grad(y) + x · grad(y) = [0, 2, 4, 6]"
    halves = explain(y, gradient=torch.full((4,), 0.5))
    assert halves.lines[-1] == "AccumulateGrad: x.grad += [0, 1, 2, 3]"
    assert "seed grad(y) = [0.5, 0.5, 0.5, 0.5]" in repr(halves)


def test_detach_explained_u_is_a_constant():
    x = torch.arange(4.0, requires_grad=True)
    y = x * x
    u = y.detach()
    z = u * x
    e = explain(z.sum())
    assert e.lines[1] == "MulBackward0: grad(x) += u · grad(z) = [0, 1, 4, 9]"
    assert "grad(u)" not in repr(e)


def test_intermediate_that_gets_two_contributions_says_plus_equals_the_second_time():
    x = torch.tensor(3.0, requires_grad=True)
    h = x * 2
    y = h * h + h
    lines = explain(y).lines
    assert lines[0] == "AddBackward0: grad(mul) = grad(y) = 1; grad(h) = grad(y) = 1"
    assert lines[1] == "MulBackward0: grad(h) += h · grad(mul) + h · grad(mul) = 12"


def test_a_freed_graph_is_explained_in_one_line_not_a_traceback():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    y.backward()
    e = explain(y)
    assert e.lines == []
    assert "retain_graph=True" in e.problem


def test_every_rule_says_its_chain_rule_in_words():
    # explain() reads the words from the rule itself: each input with a VJP has a template that
    # names only what the step knows (the gradient, the output, the inputs, the input's position)
    for name, rule in RULES.items():
        for vjp, words in zip(rule.vjps, rule.words):
            assert (vjp is None) == (words is None), name
            if words is not None:
                words.format(g="g", out="out", i=0, **{n: n for n in rule.input_names})


def test_tape_table_lists_the_record_in_order():
    x = torch.arange(4.0, requires_grad=True)
    y = 2 * torch.dot(x, x)
    table = tape_table(y)
    rows = [(r.index, r.op, r.input_shapes, r.output_shape, r.saved, r.backward_step) for r in table.rows]
    assert rows == [
        (0, "DotBackward0", ("4", "4"), "scalar", "x = [0, 1, 2, 3]", 2),
        (1, "MulBackward0", ("scalar", "number"), "scalar", "2", 1),  # dot's gradient needs only the 2
    ]
    assert repr(table).splitlines()[0].split() == ["#", "op", "inputs", "output", "saved", "for", "backward",
                                                   "backward", "step"]
    html = table._repr_html_()
    assert html.count("<tr") == 3 and "DotBackward0" in html
    y.backward()
    assert tape_table(y).rows[0].saved == "freed by backward()"


def test_explaining_a_constant_says_there_is_nothing_to_step_through():
    e = explain(torch.ones(3))
    assert e.lines == [] and "requires grad" in e.problem


def test_explain_says_it_does_not_run_hooks_and_names_the_tensors_that_have_them():
    x = torch.arange(4.0, requires_grad=True)
    h = x * 3
    h.retain_grad()
    y = h.sum()
    text = repr(explain(y)).splitlines()
    assert text[1].startswith("hooks are not run here: h has a hook (register_hook or retain_grad)")
    assert h.grad is None


def test_explain_without_hooks_has_no_note():
    x = torch.arange(4.0, requires_grad=True)
    e = explain((x * x).sum())
    assert e.note is None and "hook" not in repr(e)
