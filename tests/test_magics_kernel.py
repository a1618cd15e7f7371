"""The magics in a real Jupyter kernel: ``tests/notebooks/magics.ipynb`` uses every one of them and
is executed here with nbclient, then each cell's outputs are checked (by cell id).

The kernel must be this very Python (the project's .venv, where autodiff_nb is installed). Rather
than trust whatever ``python3`` kernelspec the machine has, the test writes a kernelspec for
``sys.executable`` into a temporary folder (ipykernel's own ``write_kernel_spec``) and starts the
kernel from there: nothing to set up by hand, nothing installed into the user's Jupyter. The kernel
gets this checkout first on its PYTHONPATH, so a second worktree tests its own code, not the one the
venv's editable install points at.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parent / "notebooks" / "magics.ipynb"
CHECKOUT = Path(__file__).resolve().parents[1]
KERNEL_NAME = "autodiff-nb-tests"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook after a run in a fresh kernel of this Python: {cell id: cell}."""
    kernels = tmp_path_factory.mktemp("kernels")
    write_kernel_spec(kernels / KERNEL_NAME)
    specs = KernelSpecManager(kernel_dirs=[str(kernels)])
    assert specs.get_kernel_spec(KERNEL_NAME).argv[0] == sys.executable
    km = KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)

    nb = nbformat.read(NOTEBOOK, as_version=4)
    workdir = tmp_path_factory.mktemp("run")  # anything the notebook writes stays out of the repo
    client = NotebookClient(nb, km=km, timeout=120, startup_timeout=120,
                            resources={"metadata": {"path": str(workdir)}})
    with pytest.MonkeyPatch.context() as env:  # the kernel is started with a copy of this environment
        env.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(CHECKOUT), os.environ.get("PYTHONPATH")])))
        client.execute()  # a cell that errors without the raises-exception tag fails the test here
    return {cell.id: cell for cell in nb.cells}


def outputs(cell, key=None):
    """The cell's output bundles ({mimetype: data}), streams as {"stream": text}, errors as themselves."""
    found = []
    for out in cell.outputs:
        if out.output_type in ("display_data", "execute_result"):
            found.append(dict(out.data))
        elif out.output_type == "stream":
            found.append({"stream": out.text})
        elif out.output_type == "error":
            found.append({"error": out})
    return found if key is None else [o[key] for o in found if key in o]


def text_of(cell) -> str:
    return "\n".join(outputs(cell, "stream") + outputs(cell, "text/plain"))


def test_the_kernel_runs_this_python(executed):
    # the extension was loaded by the notebook's first cell, from this checkout
    assert outputs(executed["load"]) == []


def test_help_prints_usage_lines_with_examples(executed):
    text = text_of(executed["help"])
    assert ("%autodiff graph [--no-values] [--no-grads] [--no-shapes] [--repeats {fold,show}] "
            "[--color-by {grad,value}] EXPR") in text
    assert "e.g. %autodiff grad 2*dot(x, x) wrt x" in text


def test_graph_is_svg_in_a_notebook(executed):
    (bundle,) = outputs(executed["graph"])
    assert bundle["text/plain"] == "Drawing(y: 6 nodes, 2 ops)"
    assert "<svg" in bundle["image/svg+xml"]


def test_tape_is_an_html_table_in_a_notebook(executed):
    (bundle,) = outputs(executed["tape"])
    assert "<table" in bundle["text/html"] and "DotBackward0" in bundle["text/html"]
    assert "MulBackward0" in bundle["text/plain"]


def test_explain_prints_0_4_8_12_and_x_grad_is_unchanged(executed):
    assert "[0, 4, 8, 12]" in text_of(executed["explain"])
    assert outputs(executed["grad_untouched"], "text/plain") == ["True"]


def test_grad_one_liner(executed):
    (bundle,) = outputs(executed["grad"])
    assert "d/dx = tensor([ 0.,  4.,  8., 12.])" in bundle["text/plain"]
    assert "<table>" in bundle["text/html"]


def test_check_fails_for_the_wrong_custom_gradient_and_passes_for_the_engines_rule(executed):
    (fail,) = outputs(executed["check_fail"])
    assert re.search(r"^FAIL: ", fail["text/plain"], re.M) and ">FAIL</b>" in fail["text/html"]
    (ok,) = outputs(executed["check_pass"])
    assert re.search(r"^PASS: ", ok["text/plain"], re.M) and ">PASS</b>" in ok["text/html"]


def test_cell_magic_backward_draws_shows_grads_and_explains(executed):
    drawing, grads, explanation = outputs(executed["cell_backward"])
    assert "<svg" in drawing["image/svg+xml"]
    assert grads["text/plain"] == "x.grad = tensor([ 0.,  4.,  8., 12.])"
    assert "[0, 4, 8, 12]" in explanation["text/plain"]
    assert outputs(executed["grad_after_backward"], "text/plain") == ["tensor([ 0.,  4.,  8., 12.])"]


def test_cell_magic_step_is_a_live_widget(executed):
    (bundle,) = outputs(executed["cell_step"])
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"].startswith("GraphWidget(z: ")
    assert outputs(executed["outs"], "text/plain") == ["('Drawing', 3)"]


def test_a_mistake_is_a_usage_error_without_a_traceback(executed):
    # IPython shows a UsageError as one short message on stderr, and the cell counts as failed
    # (it carries the raises-exception tag so the run goes on).
    (message,) = outputs(executed["usage_error"], "stream")
    assert message.startswith("UsageError: name 'nope' is not defined\nusage: %autodiff graph ")
    assert "\nhint: " in message and "Traceback" not in message


def test_the_kernel_imports_this_checkout(executed):
    assert outputs(executed["where"], "text/plain") == [repr(str(CHECKOUT))]


def test_jvp_one_liner(executed):
    (bundle,) = outputs(executed["jvp"])
    # y = 2 x·x at x = [0, 1, 2, 3] along e0: 4 x·e0 = 0; the value is 2 · 14 = 28
    assert bundle["text/plain"].splitlines() == [
        "2*dot(x, x) = tensor(28.)", "jvp (d/dε at ε = 0, x → x + ε·tensor([1., 0., 0., 0.])) = tensor(0.)"]
    assert "<table>" in bundle["text/html"]


def test_explain_forward_in_a_notebook(executed):
    text = text_of(executed["explain_forward"])
    assert "dot: tangent(dot) = tangent(x) · x + x · tangent(x) = 12" in text  # 2 Σx = 12
    assert "mul: tangent(y) = tangent(dot) · 2 = 24" in text


def test_graph_flags_in_a_notebook(executed):
    (bundle,) = outputs(executed["graph_flags"])
    assert "<svg" in bundle["image/svg+xml"] and "mean |value|" in bundle["image/svg+xml"]


def test_forward_widget_is_a_live_widget_with_tangents(executed):
    (bundle,) = outputs(executed["forward_widget"])
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == "GraphWidget(y: 6 nodes, step 2/2)"
