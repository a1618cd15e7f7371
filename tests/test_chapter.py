"""The chapter's cells, run verbatim with ``import autodiff_nb as torch``, print the chapter's text.

Each cell runs as Jupyter runs it: every statement in turn, and the value of a final bare expression
is what the notebook shows (its ``repr``; nothing at all for ``None``). A test runs the chapter from
its first cell up to the one it checks, so each test also works alone (``pytest -k``).
"""
import ast

import pytest

# (test name, cell source exactly as the chapter has it, the output the chapter shows; None = nothing)
CELLS = [
    ("x_is_arange_4", "import autodiff_nb as torch\n\nx = torch.arange(4.0)\nx",
     "tensor([0., 1., 2., 3.])"),
    ("grad_is_none_before_backward",
     "# Can also create x = torch.arange(4.0, requires_grad=True)\nx.requires_grad_(True)\nx.grad",
     None),
    ("y_is_2_xT_x", "y = 2 * torch.dot(x, x)\ny", "tensor(28., grad_fn=<MulBackward0>)"),
    ("gradient_of_2_xT_x_is_4x", "y.backward()\nx.grad", "tensor([ 0.,  4.,  8., 12.])"),
    ("gradient_equals_4x", "x.grad == 4 * x", "tensor([True, True, True, True])"),
    ("gradient_of_sum_is_ones",
     "x.grad.zero_()  # Reset the gradient\ny = x.sum()\ny.backward()\nx.grad",
     "tensor([1., 1., 1., 1.])"),
    ("backward_of_non_scalar_with_gradient_ones",
     "x.grad.zero_()\ny = x * x\ny.backward(gradient=torch.ones(len(y)))  # Faster: y.sum().backward()\nx.grad",
     "tensor([0., 2., 4., 6.])"),
    ("detach_treats_u_as_constant",
     "x.grad.zero_()\ny = x * x\nu = y.detach()\nz = u * x\n\nz.sum().backward()\nx.grad == u",
     "tensor([True, True, True, True])"),
    ("y_still_differentiates_to_2x", "x.grad.zero_()\ny.sum().backward()\nx.grad == 2 * x",
     "tensor([True, True, True, True])"),
    ("control_flow_function_defines",
     "def f(a):\n    b = a * 2\n    while b.norm() < 1000:\n        b = b * 2\n    if b.sum() > 0:\n"
     "        c = b\n    else:\n        c = 100 * b\n    return c",
     None),
    ("gradient_through_control_flow",
     "a = torch.randn(size=(), requires_grad=True)\nd = f(a)\nd.backward()", None),
    ("gradient_through_control_flow_is_d_over_a", "a.grad == d / a", "tensor(True)"),
]


def run_cell(source, namespace):
    """Run one cell like Jupyter and return what it displays (repr of a final expression, or None)."""
    tree = ast.parse(source)
    last = tree.body[-1] if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    if last is not None:
        tree.body.pop()
    exec(compile(tree, "<cell>", "exec"), namespace)
    if last is None:
        return None
    value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), namespace)
    return None if value is None else repr(value)


def run_chapter(upto, seed=0):
    """Outputs of cells 0..upto. The seed only picks which random ``a`` the last cells see."""
    import autodiff_nb

    autodiff_nb.manual_seed(seed)
    namespace = {}
    return [run_cell(source, namespace) for _, source, _ in CELLS[:upto + 1]]


@pytest.mark.parametrize("index", range(len(CELLS)), ids=[name for name, _, _ in CELLS])
def test_cell_prints_the_chapters_output(index):
    assert run_chapter(index)[-1] == CELLS[index][2]


def test_whole_chapter_prints_every_output_in_order():
    assert run_chapter(len(CELLS) - 1) == [expected for _, _, expected in CELLS]


def test_gradient_of_2_xT_x_is_4x():
    assert run_chapter(3)[3] == "tensor([ 0.,  4.,  8., 12.])"


def test_gradient_of_x_times_x_with_detached_u_is_u():
    assert run_chapter(7)[7] == "tensor([True, True, True, True])"


@pytest.mark.parametrize("seed", [0, 3, 4, 8])  # a > 0 (c = b) and a < 0 (c = 100 * b)
def test_gradient_through_control_flow_is_d_over_a_for_either_branch(seed):
    # For a < 0, d / a can differ from 100 * 2**k in the last float32 bit for some draws (PyTorch's
    # float32 rounds the same way); these seeds take both branches where the chapter's check holds.
    assert run_chapter(len(CELLS) - 1, seed=seed)[-1] == "tensor(True)"
