"""``%autodiff`` / ``%%autodiff`` through a real IPython shell: every subcommand, its output, its errors.

The shell is IPython's own test shell (``IPython.testing.globalipapp``), a terminal shell: displays
come out as plain text, which is what these tests read. Rich output (SVG, HTML, widgets) is checked
in a real kernel by ``test_magics_kernel.py``.
"""
from __future__ import annotations

import doctest
import re
from dataclasses import dataclass

import numpy as np
import pytest
from IPython.core.error import UsageError
from IPython.testing import globalipapp
from IPython.utils.capture import capture_output

import autodiff_nb
from autodiff_nb import custom, magics
from autodiff_nb.viz.preview import preview


# ----------------------------------------------------------------------------- helpers
@dataclass
class Ran:
    result: object  # IPython's ExecutionResult
    stdout: str
    stderr: str
    displayed: list  # the text/plain of each display() in order

    @property
    def text(self) -> str:
        return self.stdout + "\n".join(self.displayed)

    @property
    def error(self):
        return self.result.error_in_exec or self.result.error_before_exec


@pytest.fixture
def ip():
    """A real InteractiveShell with the extension loaded and the chapter's x (requires_grad) defined."""
    shell = globalipapp.get_ipython()
    shell.reset(new_session=False)
    shell.run_line_magic("load_ext", "autodiff_nb")
    shell.run_cell("import autodiff_nb as torch\nx = torch.arange(4.0, requires_grad=True)")
    yield shell
    shell.run_line_magic("unload_ext", "autodiff_nb")
    shell.reset(new_session=False)


def run(shell, source) -> Ran:
    with capture_output() as captured:
        result = shell.run_cell(source)
    shown = [out.data.get("text/plain", "") for out in captured.outputs]
    return Ran(result, captured.stdout, captured.stderr, shown)


def usage_error(shell, source) -> str:
    """Run ``source``, insist it ended in a UsageError with usage line and hint, return the message."""
    ran = run(shell, source)
    assert isinstance(ran.error, UsageError), (source, ran.error, ran.stderr)
    message = str(ran.error)
    assert "\nusage: %" in message and "\nhint: " in message, message
    assert "Traceback" not in ran.stderr and "File " not in ran.stderr, ran.stderr
    return message


def ok(shell, source) -> Ran:
    ran = run(shell, source)
    assert ran.error is None, (source, ran.error, ran.stderr)
    return ran


WRONG_CUBE = """
from autodiff_nb.custom import primitive, defvjp

@primitive
def cube(x):
    return x ** 3

defvjp(cube, lambda g, ans, x: g * 2 * x)   # wrong on purpose: d(x^3)/dx is 3x^2
"""


# ----------------------------------------------------------------------------- parsing (no shell)
def test_help_shows_every_usage_line_from_the_parsers_with_an_example():
    text = magics.overview()
    for name, parser in magics.PARSERS.items():
        assert parser.usage_line() in text
        assert f"e.g. {parser.example}" in text
    assert "%autodiff grad EXPR wrt NAME[, NAME ...]" in text
    assert "%%autodiff [--backward] [--step] [--explain] [--no-values] [--out NAME] [TARGET]" in text


def test_flags_come_first_and_the_expression_stays_verbatim():
    sub, args = magics.parse_line("graph --no-values --no-shapes  (w * x).sum() + b[0, 1]")
    assert sub == "graph" and args.no_values and args.no_shapes and not args.no_grads
    assert args.expr == "(w * x).sum() + b[0, 1]"


def test_a_leading_minus_is_an_expression_unless_it_looks_like_a_flag():
    assert magics.parse_line("graph -2 * x")[1].expr == "-2 * x"
    assert magics.parse_line("graph -- -x")[1].expr == "-x"
    with pytest.raises(UsageError, match="unrecognized flag: -x(.|\n)*put -- before"):
        magics.parse_line("graph -x")


def test_check_splits_arguments_outside_brackets_and_strings():
    _, args = magics.parse_line("check --atol 1e-4 (lambda a, b: (a * b).sum()) x torch.ones(2, 3) 'a b'")
    assert args.atol == 1e-4 and args.rtol == 1e-3
    assert args.func == "(lambda a, b: (a * b).sum())"
    assert args.args == ["x", "torch.ones(2, 3)", "'a b'"]


def test_grad_splits_at_the_last_top_level_wrt():
    _, args = magics.parse_line("grad f(wrt=1) * g('wrt') wrt x, w")
    assert args.expr == "f(wrt=1) * g('wrt')" and args.names == ["x", "w"]
    assert magics.parse_line("grad (x*w).sum() wrt x w")[1].names == ["x", "w"]


@pytest.mark.parametrize("line, problem, hint", [
    ("", "needs a subcommand", "%autodiff help"),
    ("grph y", "unknown subcommand 'grph'", "did you mean %autodiff graph?"),
    ("graph --no-valus y", "unrecognized flag: --no-valus", "did you mean --no-values?"),
    ("graph", "required: EXPR", "%autodiff help graph"),
    ("check --eps small f x", "--eps: invalid float value: 'small'", "parenthesised"),
    ("check f", "required: ARG", "parenthesised"),
    ("grad x.sum()", "missing 'wrt'", "wrt"),
    ("grad wrt x", "missing the expression", "wrt"),
    ("grad x.sum() wrt", "missing the variable names", "wrt"),
    ("grad x.sum() wrt x[0]", "'x[0]' is not a variable name", "plain names"),
    ("check f (x", "cannot read 'f (x' as Python: a bracket or quote is not closed", "parenthesised"),
    ("rule", "required: NAME", "grad_fn name"),
    ("rule mul sum", "unrecognized arguments: sum", "grad_fn name"),
])
def test_mistakes_are_usage_errors_with_usage_and_hint(line, problem, hint):
    with pytest.raises(UsageError) as caught:
        magics.parse_line(line)
    *problem_lines, usage_line, hint_line = str(caught.value).split("\n")
    assert problem in "\n".join(problem_lines)
    assert usage_line.startswith("usage: %autodiff")
    assert hint_line.startswith("hint: ") and hint in hint_line


def test_cell_line_flags_and_target():
    args = magics.parse_cell_line("--backward --out=drawing loss")
    assert args.backward and args.out == "drawing" and args.target == "loss" and not args.step
    with pytest.raises(UsageError, match="--out needs a variable name"):
        magics.parse_cell_line("--out 1x")
    with pytest.raises(UsageError, match="unrecognized flag: --bogus"):
        magics.parse_cell_line("--bogus")


# ----------------------------------------------------------------------------- custom rules
def test_custom_primitive_docstring_examples_run():
    assert doctest.testmod(custom).failed == 0


def test_custom_primitive_records_a_named_node_and_differentiates_twice():
    from autodiff_nb.custom import defvjp, primitive

    @primitive
    def cube(x):
        return x ** 3

    defvjp(cube, lambda g, ans, x: g * 3 * x ** 2)
    x = autodiff_nb.tensor([1.0, 2.0], requires_grad=True)
    y = cube(x)
    assert y.grad_fn.name() == "CubeBackward"
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]
    assert autodiff_nb.func.grad(autodiff_nb.func.grad(lambda t: cube(t)))(autodiff_nb.tensor(2.0)).item() == 12.0


def test_custom_primitive_without_a_vjp_says_how_to_add_one():
    from autodiff_nb.custom import primitive

    @primitive
    def square(x):
        return x * x

    y = square(autodiff_nb.tensor(3.0, requires_grad=True))
    with pytest.raises(RuntimeError, match=r"defvjp\(square"):
        y.backward()


# ----------------------------------------------------------------------------- the extension
def test_load_ext_registers_line_and_cell_magic_and_unload_removes_them(ip):
    magics_table = ip.magics_manager.magics
    assert "autodiff" in magics_table["line"] and "autodiff" in magics_table["cell"]
    ip.run_line_magic("unload_ext", "autodiff_nb")
    assert "autodiff" not in magics_table["line"] and "autodiff" not in magics_table["cell"]
    ip.run_line_magic("load_ext", "autodiff_nb")
    assert "autodiff" in magics_table["line"]


def test_help_subcommand_prints_the_overview(ip):
    text = ok(ip, "%autodiff help").text
    for sub in magics.SUBCOMMANDS:
        assert f"%autodiff {sub}" in text
    assert "e.g. %autodiff grad 2*dot(x, x) wrt x" in text


def test_help_for_one_subcommand_lists_its_flags(ip):
    text = ok(ip, "%autodiff help check").text
    assert text.startswith("usage: %autodiff check [--eps EPS] [--atol ATOL] [--rtol RTOL]")
    assert "--rtol RTOL" in text and "example:\n  %autodiff check cube x" in text
    assert "--out NAME" in ok(ip, "%autodiff help %%autodiff").text
    assert "no subcommand 'nope'" in usage_error(ip, "%autodiff help nope")


def test_question_mark_shows_the_generated_usage(ip):
    text = ok(ip, "%autodiff?").text
    assert ("%autodiff graph [--no-values] [--no-grads] [--no-shapes] [--repeats {fold,show}] "
            "[--color-by {grad,value}] EXPR") in text
    assert "e.g. %autodiff explain y" in text


def test_unknown_subcommand_and_bad_flag_are_usage_errors_not_tracebacks(ip):
    assert "did you mean %autodiff graph?" in usage_error(ip, "%autodiff grph x")
    assert "unrecognized flag: --values" in usage_error(ip, "%autodiff graph --values x")
    assert "needs a subcommand" in usage_error(ip, "%autodiff")
    assert "EXPR 'x +' is not a Python expression" in usage_error(ip, "%autodiff graph x +")


# ----------------------------------------------------------------------------- grad
def test_grad_of_2_xT_x_is_4x_and_x_is_untouched(ip):
    text = ok(ip, "%autodiff grad 2*dot(x, x) wrt x").text
    assert "2*dot(x, x) = tensor(28.)" in text
    assert "d/dx = tensor([ 0.,  4.,  8., 12.])" in text
    assert ip.user_ns["x"].grad is None and ip.user_ns["x"].requires_grad


def test_grad_with_respect_to_two_names_and_functions_that_read_globals(ip):
    ok(ip, "w = torch.tensor([1., -1., 2., 0.])\ndef loss():\n    return (w * x).sum()")
    text = ok(ip, "%autodiff grad loss() wrt x, w").text
    assert "d/dx = tensor([ 1., -1.,  2.,  0.])" in text
    assert "d/dw = tensor([0., 1., 2., 3.])" in text
    assert not ip.user_ns["w"].requires_grad and ip.user_ns["w"].grad is None  # the user's w as it was


def test_library_names_reach_lambdas_and_comprehensions_and_user_names_win(ip):
    text = ok(ip, "%autodiff grad sum([exp(xi) for xi in x]) wrt x").text
    assert "d/dx = tensor([" in text and ip.user_ns["x"].grad is None
    text = ok(ip, "%autodiff check (lambda t: sin(t).sum()) torch.rand(3)").text
    assert re.search(r"^PASS: ", text, re.M), text
    assert "exp" not in ip.user_ns and "sin" not in ip.user_ns  # the user's namespace is left alone
    ok(ip, "def exp(t):\n    return t * 2")  # a user's own name shadows the library's
    text = ok(ip, "%autodiff grad (lambda t: exp(t))(x).sum() wrt x").text
    assert "d/dx = tensor([2., 2., 2., 2.])" in text


def test_grad_errors(ip):
    ok(ip, "n = torch.arange(3)\nlabel = 'x'")
    assert "name 'q' is not defined" in usage_error(ip, "%autodiff grad q.sum() wrt x")
    assert "name 'nope' is not defined" in usage_error(ip, "%autodiff grad x.sum() wrt nope")
    assert "label is a str, not a tensor" in usage_error(ip, "%autodiff grad x.sum() wrt label")
    assert "only floating-point tensors" in usage_error(ip, "%autodiff grad n.sum() wrt n")
    message = usage_error(ip, "%autodiff grad x * 2 wrt x")
    assert "x * 2 has shape (4,); this needs a scalar" in message and "(x * 2).sum()" in message
    assert "does not depend on x" in usage_error(ip, "%autodiff grad torch.ones(2).sum() wrt x")
    assert "raised ZeroDivisionError" in usage_error(ip, "%autodiff grad x.sum() * (1 // 0) wrt x")


# ----------------------------------------------------------------------------- check
def test_check_fails_for_a_deliberately_wrong_custom_gradient(ip):
    ok(ip, WRONG_CUBE)
    text = ok(ip, "%autodiff check cube x").text
    assert "gradcheck cube(x)" in text
    assert re.search(r"^FAIL: max \|analytic - numeric\|", text, re.M), text
    # the worst element: x[3] = 3, analytic 2*3 = 6 against numeric 3*3^2 = 27
    assert re.search(r"0\s+\(3,\)\s+6\s+27\b", text), text


def test_check_passes_for_the_engines_own_rules(ip):
    ok(ip, "torch.manual_seed(0)\nw = torch.randn(4, 3)\nb = torch.randn(3)")
    for call in ["torch.tanh x", "(lambda a: 2 * torch.dot(a, a)) x",
                 "(lambda a, m, c: torch.sigmoid(a @ m + c).sum()) x w b", "torch.exp (x/4)"]:
        text = ok(ip, f"%autodiff check {call}").text
        assert re.search(r"^PASS: ", text, re.M), (call, text)
    assert ip.user_ns["x"].grad is None


def test_check_passes_once_the_custom_gradient_is_fixed(ip):
    ok(ip, WRONG_CUBE + "\ndefvjp(cube, lambda g, ans, x: g * 3 * x ** 2)")
    assert "PASS: " in ok(ip, "%autodiff check cube x").text


def test_check_errors(ip):
    assert "FUNC x is a Tensor, not a function" in usage_error(ip, "%autodiff check x x")
    assert "no ARG is a floating-point tensor" in usage_error(ip, "%autodiff check torch.exp 3")
    assert "name 'f' is not defined" in usage_error(ip, "%autodiff check f x")
    message = usage_error(ip, "%autodiff check (lambda a: a @ torch.ones(3)) x")
    assert "(lambda a: a @ torch.ones(3))(x) raised RuntimeError" in message
    ok(ip, "def broken(a):\n    return undefined_name * a")
    assert "broken(x) raised NameError" in usage_error(ip, "%autodiff check broken x")


# ----------------------------------------------------------------------------- graph, tape, explain
CHAPTER_Y = "y = 2 * torch.dot(x, x)"


def test_graph_draws_the_recorded_graph_behind_an_expression(ip):
    ok(ip, CHAPTER_Y)
    assert ok(ip, "%autodiff graph y").displayed == ["Drawing(y: 6 nodes, 2 ops)"]
    assert ok(ip, "%autodiff graph --no-values --no-grads --no-shapes (y * x).sum()").displayed[0].startswith(
        "Drawing(")


def test_graph_flags_reach_the_drawing(ip, monkeypatch):
    import autodiff_nb.viz as viz

    calls = []
    real_draw = viz.draw

    def spy(*tensors, **options):
        calls.append(options)
        return real_draw(*tensors, **options)

    monkeypatch.setattr(viz, "draw", spy)
    ok(ip, CHAPTER_Y)
    ok(ip, "%autodiff graph y")
    ok(ip, "%autodiff graph --no-values --no-grads y")
    assert (calls[0]["values"], calls[0]["grads"], calls[0]["shapes"]) == (True, True, True)
    assert (calls[1]["values"], calls[1]["grads"], calls[1]["shapes"]) == (False, False, True)
    assert calls[0]["names"]["x"] is ip.user_ns["x"]  # nodes are labelled with the user's names


def test_graph_errors_name_the_problem(ip):
    ok(ip, "n = 3\nc = torch.ones(3)")
    assert "name 'q' is not defined" in usage_error(ip, "%autodiff graph q * 2")
    assert "n is an int, not a tensor" in usage_error(ip, "%autodiff graph n")
    message = usage_error(ip, "%autodiff graph c * 2")
    assert "c * 2 has no recorded history" in message and "requires_grad=True" in message
    assert "required: EXPR" in usage_error(ip, "%autodiff graph")


def test_tape_lists_the_ops_in_record_order(ip):
    ok(ip, CHAPTER_Y)
    lines = ok(ip, "%autodiff tape y").text.splitlines()
    assert lines[0].split()[:3] == ["#", "op", "inputs"]
    assert "DotBackward0" in lines[1] and "x = [0, 1, 2, 3]" in lines[1]
    assert "MulBackward0" in lines[2]
    assert "x is a Tensor" not in usage_error(ip, "%autodiff tape torch.ones(2)")


def test_explain_2_xT_x_gives_0_4_8_12_and_leaves_x_grad_alone(ip):
    ok(ip, CHAPTER_Y)
    text = ok(ip, "%autodiff explain y").text
    assert "[0, 4, 8, 12]" in text
    assert re.search(r"^1\. MulBackward0", text, re.M) and re.search(r"^2\. DotBackward0", text, re.M)
    assert ip.user_ns["x"].grad is None
    # and with a gradient already there, it stays exactly as it was
    ok(ip, "y.backward(retain_graph=True)\nbefore = x.grad.clone()")
    assert "[0, 4, 8, 12]" in ok(ip, "%autodiff explain y").text
    assert ok(ip, "x.grad.equal(before)").result.result is True


def test_explain_needs_a_scalar(ip):
    message = usage_error(ip, "%autodiff explain x * x")
    assert "x * x has shape (4,); this needs a scalar" in message and "(x * x).sum()" in message


# ----------------------------------------------------------------------------- the cell magic
def test_cell_draws_the_value_of_its_last_expression(ip):
    ran = ok(ip, "%%autodiff\nh = x * 3\n(h * x).sum()")
    assert ran.displayed[0].startswith("Drawing(") and "4 ops" not in ran.displayed[0]
    assert "h" in ip.user_ns  # the cell ran in the user's namespace


def test_cell_draws_the_last_tensor_it_assigned(ip):
    ran = ok(ip, "%%autodiff\ny = 2 * torch.dot(x, x)\nn_ops = 2\nprint('done')")
    assert ran.stdout == "done\n" and ran.displayed == ["Drawing(y: 6 nodes, 2 ops)"]
    ran = ok(ip, "%%autodiff\nh = x\nfor i in range(2):\n    h = h * 2\nlabel = 'no tensor'")
    assert ran.displayed[0].startswith("Drawing(h: ") and ran.displayed[0].endswith(" 2 ops)")


@pytest.mark.parametrize("tail", ["x.grad = None", "x.data[0] = 1.", "w[0] = 1.",
                                  "x.grad = None\nn: int = 2"])
def test_cell_attribute_and_subscript_assignments_name_no_variable(ip, tail):
    ok(ip, "w = torch.ones(4)")
    ran = ok(ip, f"%%autodiff\ny = (x * x).sum()\n{tail}")
    assert ran.displayed[0].startswith("Drawing(y: "), ran.displayed


def test_cell_unpacking_and_augmented_assignments_name_their_variables(ip):
    ran = ok(ip, "%%autodiff\ny = (x * x).sum()\na, [b, *c] = x * 2, [x * 3, x]\nx.grad = None")
    assert ran.displayed[0].startswith("Drawing(b: "), ran.displayed
    ran = ok(ip, "%%autodiff\nh = x * 2\ny = x.sum()\nh += 1\nx.grad = None")
    assert ran.displayed[0].startswith("Drawing(h: "), ran.displayed
    ran = ok(ip, "%%autodiff\nh = x * 2\ny: object = x.sum()\nx.grad = None")
    assert ran.displayed[0].startswith("Drawing(y: "), ran.displayed


def test_cell_target_names_the_tensor_to_draw(ip):
    ran = ok(ip, "%%autodiff y\ny = 2 * torch.dot(x, x)\nz = y * 3")
    assert ran.displayed == ["Drawing(y: 6 nodes, 2 ops)"]


def test_cell_backward_fills_grad_and_shows_it(ip):
    ran = ok(ip, "%%autodiff --backward\ny = 2 * torch.dot(x, x)")
    assert ran.displayed[0] == "Drawing(y: 6 nodes, 2 ops)"
    assert ran.displayed[1] == "x.grad = tensor([ 0.,  4.,  8., 12.])"
    assert ip.user_ns["x"].grad.tolist() == [0.0, 4.0, 8.0, 12.0]
    # retain_graph=True: the drawing keeps its values, and the graph can be explained afterwards
    assert "[0, 4, 8, 12]" in ok(ip, "%autodiff explain y").text


def test_cell_explain_and_out(ip):
    ran = ok(ip, "%%autodiff --explain --out picture\ny = 2 * torch.dot(x, x)")
    assert ran.displayed[0] == "Drawing(y: 6 nodes, 2 ops)"
    assert "[0, 4, 8, 12]" in ran.displayed[1]
    assert type(ip.user_ns["picture"]).__name__ == "Drawing"
    assert ip.user_ns["x"].grad is None


def test_cell_step_opens_the_stepper_widget(ip):
    ran = ok(ip, "%%autodiff --step --out stepper\ny = 2 * torch.dot(x, x)")
    assert ran.displayed == ["GraphWidget(y: 6 nodes, step 0/3)"]
    assert ip.user_ns["stepper"].n_steps == 3 and ip.user_ns["stepper"].values
    ok(ip, "%%autodiff --step --no-values --out stepper\ny = 2 * torch.dot(x, x)")
    assert not ip.user_ns["stepper"].values


def test_cell_errors(ip):
    assert "needs a scalar" in usage_error(ip, "%%autodiff --backward\nz = x * 2")
    assert "the cell made no tensor to draw" in usage_error(ip, "%%autodiff\nn = 3")
    assert "name 'zz' is not defined" in usage_error(ip, "%%autodiff zz\nz = x * 2")
    assert "--out needs a variable name" in usage_error(ip, "%%autodiff --out 1x\nz = x * 2")
    assert "unrecognized flag: --bogus" in usage_error(ip, "%%autodiff --bogus\nz = x * 2")
    assert "the cell is not valid Python" in usage_error(ip, "%%autodiff\nz = x * 2 +")


def test_an_error_in_the_cell_shows_the_users_traceback_not_ours(ip):
    ran = run(ip, "%%autodiff\nz = x * 2\nz = z / (1 // 0)")
    assert isinstance(ran.error, ZeroDivisionError)
    assert "z = z / (1 // 0)" in ran.stdout + ran.stderr
    assert "magics.py" not in ran.stdout + ran.stderr


def test_cell_hands_the_drawing_its_cut_when_draw_can_limit_itself(ip, monkeypatch):
    # "limited to the ops the cell ran": the magic notes the record position before the cell and
    # passes it as since= to a draw() that accepts it (see the report on autodiff_nb.viz.draw).
    import autodiff_nb.viz as viz

    seen = {}

    def draw(*tensors, names=None, values=True, since=None):
        seen.update(tensor=tensors[0], since=since)
        return "drawn"

    monkeypatch.setattr(viz, "draw", draw)
    ok(ip, "h = x * 3")
    assert ok(ip, "%%autodiff\ny = (h * x).sum()").displayed == ["'drawn'"]
    y, h = ip.user_ns["y"], ip.user_ns["h"]
    assert seen["tensor"] is y
    mul_in_cell = y.grad_fn.edges[0]
    assert h.grad_fn.seq < seen["since"] < mul_in_cell.seq < y.grad_fn.seq


# ----------------------------------------------------------------------------- %autodiff rule
def test_rule_mul_prints_its_grad_fn_name_forward_and_each_inputs_vjp_and_words(ip):
    text = ok(ip, "%autodiff rule mul").text
    assert text.splitlines() == [
        "mul: MulBackward0",
        "forward: np.multiply",
        "backward, per input (g is the gradient that reached the output):",
        "  a: lambda xp, g, b: g * b",
        "     words: {b} · {g}",
        "  b: lambda xp, g, a: g * a",
        "     words: {a} · {g}",
    ]


def test_rule_source_is_read_live_from_the_table():
    import inspect

    from autodiff_nb import ops
    from autodiff_nb.viz.rules import show_rule

    table = " ".join(inspect.getsource(ops).split())
    for key, rule in ops.RULES.items():
        shown = show_rule(key)
        assert shown.name == rule.name
        for (name, vjp_text, words), vjp in zip(shown.inputs, rule.vjps):
            if vjp is not None and vjp.__name__ == "<lambda>":
                assert vjp_text.startswith("lambda ") and vjp_text in table, (key, name, vjp_text)
            assert words == rule.words[rule.input_names.index(name)]


def test_rule_shows_named_helpers_by_signature_and_lambda_forwards_trimmed(ip):
    matmul = ok(ip, "%autodiff rule matmul").text
    assert "matmul: UnsafeViewBackward0" in matmul and "forward: np.matmul" in matmul
    assert "  a: _matmul_a_vjp(xp, g, b, a_shape)" in matmul
    total = ok(ip, "%autodiff rule sum").text
    assert "forward: lambda a, dims, keepdim: a.sum(axis=dims, keepdims=keepdim)" in total
    assert "  a: lambda xp, g, dims, keepdim, a_shape: _unreduce(xp, g, dims, keepdim, a_shape)" in total
    where = ok(ip, "%autodiff rule where").text
    assert "  condition: no gradient" in where
    assert "tensors (every input; i is its position): _cat_vjp(xp, g, i, dim, sizes)" in ok(ip, "%autodiff rule cat").text


def test_the_rules_module_docstring_is_the_live_mul_rule():
    from autodiff_nb.viz import rules

    assert doctest.testmod(rules).failed == 0


def test_rule_takes_a_grad_fn_name_too(ip):
    assert ok(ip, "%autodiff rule MulBackward0").text == ok(ip, "%autodiff rule mul").text


def test_an_unknown_rule_is_a_usage_error_with_the_close_names(ip):
    message = usage_error(ip, "%autodiff rule mull")
    problem, usage, hint = message.splitlines()
    assert problem == "no rule 'mull' in the table"
    assert usage == "usage: %autodiff rule NAME"
    assert hint.startswith("hint: did you mean mul")
    assert "the rules are: add, sub" in usage_error(ip, "%autodiff rule zzzzzz")


def test_a_lambda_sharing_its_line_with_another_is_cut_out_alone():
    from autodiff_nb.viz.rules import code_text

    pair = (lambda a: a + 1, lambda a: a * 2)
    assert [code_text(f) for f in pair] == ["lambda a: a + 1", "lambda a: a * 2"]
    assert code_text(len) == "len(obj, /)"


# ----------------------------------------------------------------------------- forward mode: jvp, explain --forward
@pytest.fixture
def shown(monkeypatch):
    """The objects the magics display, as Python objects (not their text)."""
    objects = []
    monkeypatch.setattr(magics, "display", objects.append)
    return objects


@pytest.mark.torch
def test_jvp_gives_the_value_and_the_directional_derivative_of_torch_func_jvp(ip, torch, shown):
    ok(ip, "torch.manual_seed(3)\nw = torch.randn(4, dtype=torch.float64)\nv = torch.randn(4, dtype=torch.float64)\n"
           "z = x.double()")
    ok(ip, "%autodiff jvp (tanh(w * z) * z.exp()).sum() wrt z along v")
    ok(ip, "%autodiff jvp tanh(w * z) * z wrt z")  # a vector output, the default direction (ones)
    z, w, v = (torch.tensor(ip.user_ns[name].detach().numpy()) for name in ("z", "w", "v"))
    cases = [(lambda z: (torch.tanh(w * z) * z.exp()).sum(), v), (lambda z: torch.tanh(w * z) * z, torch.ones(4))]
    for result, (f, direction) in zip(shown, cases):
        value, tangent = result.data
        ref_value, ref_tangent = torch.func.jvp(f, (z,), (direction,))
        np.testing.assert_allclose(value.numpy(), ref_value.numpy(), rtol=1e-12)
        np.testing.assert_allclose(tangent.numpy(), ref_tangent.numpy(), rtol=1e-12)
    assert "jvp (d/dε at ε = 0, z → z + ε·v) = tensor(" in repr(shown[0])
    assert "z → z + ε·ones(4)" in repr(shown[1])


def test_jvp_leaves_the_users_tensor_as_it_was(ip, shown):
    before = ip.user_ns["x"]
    ok(ip, "%autodiff jvp (x * x).sum() wrt x along tensor([1., 2., 3., 4.])")
    value, tangent = shown[0].data
    x = before.array
    assert float(tangent) == pytest.approx(float(2 * x @ [1, 2, 3, 4]))  # d/dε |x + εv|² = 2 x·v
    assert ip.user_ns["x"] is before and before.requires_grad and before.grad is None


def test_jvp_mistakes_say_what_and_how_to_fix_it(ip):
    ok(ip, "n = torch.arange(3)")
    assert "missing 'wrt'" in usage_error(ip, "%autodiff jvp x.sin()")
    assert "jvp moves one variable, got 2: x, n" in usage_error(ip, "%autodiff jvp x.sin() wrt x, n")
    assert "missing the direction after 'along'" in usage_error(ip, "%autodiff jvp x.sin() wrt x along")
    assert "a bracket or quote is not closed" in usage_error(ip, "%autodiff jvp (x.sin() wrt x")
    assert "is not a Python expression" in usage_error(ip, "%autodiff jvp x.sin() + wrt x")
    assert "name 'q' is not defined" in usage_error(ip, "%autodiff jvp x.sin() wrt q")
    assert "name 'nope' is not defined" in usage_error(ip, "%autodiff jvp x.sin() wrt x along nope")
    message = usage_error(ip, "%autodiff jvp x.sin() wrt x along torch.ones(3)")
    assert message.startswith("Trying to set a forward gradient that has a different size than that of the "
                              "original Tensor") and "hint: V (torch.ones(3)) must have x's shape (4,)" in message
    message = usage_error(ip, "%autodiff jvp n * 2 wrt n")
    assert "Expected primal to be floating point" in message and "n.float()" in message
    assert "is not a direction" in usage_error(ip, "%autodiff jvp x.sin() wrt x along 'abc'")


def test_explain_forward_pushes_tangents_with_the_numbers(ip):
    ok(ip, CHAPTER_Y)
    text = ok(ip, "%autodiff explain --forward y").text
    x = np.arange(4.0)
    assert "seed tangent(x) = [1, 1, 1, 1]" in text
    assert f"dot: tangent(dot) = tangent(x) · x + x · tangent(x) = {2 * x.sum():g}" in text
    assert f"mul: tangent(y) = tangent(dot) · 2 = {4 * x.sum():g}" in text
    assert ip.user_ns["x"].grad is None
    # a vector output needs no reduction in forward mode
    assert f"= {preview(2 * x)}" in ok(ip, "%autodiff explain --forward x * x").text


def test_graph_repeats_and_color_by_reach_the_drawing(ip, monkeypatch):
    import autodiff_nb.viz as viz

    calls = []
    real_draw = viz.draw
    monkeypatch.setattr(viz, "draw", lambda *t, **options: calls.append(options) or real_draw(*t, **options))
    ok(ip, CHAPTER_Y)
    ok(ip, "%autodiff graph y")
    ok(ip, "%autodiff graph --repeats show --color-by grad y")
    ok(ip, "%autodiff graph --color-by=value y")
    assert [(c["repeats"], c["color_by"]) for c in calls] == [("fold", None), ("show", "grad"), ("fold", "value")]
    assert "invalid choice: 'sideways'" in usage_error(ip, "%autodiff graph --repeats sideways y")
    assert "did you mean --color-by?" in usage_error(ip, "%autodiff graph --colour-by grad y")
