"""The chapters in a real JupyterLab, driven through headless Debian Chromium with Playwright.

For each notebook: clear its outputs, run every cell from the Run menu, wait for the kernel to be
idle, and require that no cell printed an error or wrote to stderr and that every widget rendered.
Where the notebook has a backward-pass stepper (``GraphWidget``), its graph SVG must be visible and
pressing "Step forward" must move the highlighted node. Screenshots go to tests/artifacts/browser/.

The notebooks are a temporary copy of chapters/ plus a small harness notebook written here (the
chapter's first example and its stepper), which also checks that the kernel JupyterLab starts is the
test interpreter's (the .venv's) python with this checkout's autodiff_nb.

Run just these:  .venv/bin/python -m pytest tests/test_browser.py -m browser
"""
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest

import browser as lab_browser

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((REPO / "chapters").glob("*.ipynb"))
HARNESS = "browser_harness.ipynb"


def harness_notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Browser harness\nThe chapter's first example and its stepper."),
        nbformat.v4.new_code_cell('import sys\nimport autodiff_nb as torch\n'
                                  'print("KERNEL", sys.prefix, torch.__file__, sep="|")'),
        nbformat.v4.new_code_cell("x = torch.arange(4.0)\nx.requires_grad_(True)\ny = 2 * torch.dot(x, x)\ny"),
        nbformat.v4.new_code_cell("y.backward(retain_graph=True)\nx.grad"),
        nbformat.v4.new_code_cell('from autodiff_nb.viz import GraphWidget\n'
                                  'GraphWidget(y, names={"x": x, "y": y})'),
    ]
    return nb


def has_stepper(path: Path) -> bool:
    return "GraphWidget(" in path.read_text()


# ============================================================================ fixtures
@pytest.fixture(scope="module")
def playwright_start():
    start = lab_browser.sync_playwright()
    lab_browser.require(lab_browser.CHROMIUM.exists(), f"Chromium at {lab_browser.CHROMIUM} (apt install chromium)")
    lab_browser.require(lab_browser.jupyter_executable().exists(), "JupyterLab in the test interpreter's environment")
    return start


@pytest.fixture(scope="module")
def lab(playwright_start, tmp_path_factory):
    home = tmp_path_factory.mktemp("jupyterlab")
    root = home / "notebooks"
    if (REPO / "chapters").is_dir():
        lab_browser.copy_tree(REPO / "chapters", root)
    else:
        root.mkdir()
    nbformat.write(harness_notebook(), root / HARNESS)
    server = lab_browser.JupyterLab(root, home)
    try:
        yield server.start()
    finally:
        server.stop()
        print(f"\n[jupyterlab log tail]\n{lab_browser.log_tail(server.log_path, 15)}")


@pytest.fixture(scope="module")
def chromium(playwright_start, tmp_path_factory):
    browser_process = lab_browser.Chromium(tmp_path_factory.mktemp("chromium"))
    playwright = None
    try:
        browser_process.start()
        playwright = playwright_start().start()
        browser = playwright.chromium.connect_over_cdp(browser_process.cdp_url)
        yield browser
        browser.close()
    finally:
        if playwright is not None:
            playwright.stop()
        browser_process.stop()


@pytest.fixture
def page(chromium, lab):
    """A fresh browser tab; afterwards the tab is closed and the kernels it started are shut down."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
    finally:
        context.close()
        try:
            lab.shut_down_kernels()
        except OSError as error:  # the server is gone: its own teardown reports why
            print(f"could not shut down kernels: {error}")


@pytest.fixture
def page_errors(page):
    """JavaScript errors the page throws (a widget that fails in the browser shows up here)."""
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


# ============================================================================ the tests
def notebook_params():
    params = [pytest.param(HARNESS, id="harness")]
    params += [pytest.param(path.name, id=path.stem) for path in CHAPTERS]
    return params


@pytest.mark.parametrize("notebook", notebook_params())
def test_notebook_runs_clean_in_jupyterlab(page, page_errors, lab, notebook):
    try:
        run_and_check(page, page_errors, lab, notebook)
    except BaseException:
        lab_browser.screenshot(page, lab_browser.artifacts_dir() / f"FAILED-{Path(notebook).stem}.png")
        raise


def run_and_check(page, page_errors, lab, notebook):
    started = time.monotonic()
    lab_browser.open_notebook(page, lab, notebook)
    state = lab_browser.run_all_and_wait(page)
    shots = lab_browser.artifacts_dir()
    stem = Path(notebook).stem
    lab_browser.screenshot(page, shots / f"{stem}-after-run-all.png")

    errors = lab_browser.error_outputs(page)
    if errors:
        lab_browser.show_first_error(page)
        lab_browser.screenshot(page, shots / f"{stem}-first-error.png")
    assert not errors, "cells printed errors or stderr:\n" + "\n\n".join(
        f"cell {e['cell']} ({e['kind']}):\n{e['text']}" for e in errors)
    assert all(p != "[ ]:" and p != "[*]:" for p in state["prompts"]), state["prompts"]
    assert not page_errors, f"JavaScript errors in the page: {page_errors}"
    check_drawings(page, stem)

    if notebook == HARNESS:
        _, prefix, module = lab_browser.cell_output_text(page, "KERNEL|").strip().split("|")
        assert Path(prefix).resolve() == Path(sys.prefix).resolve(), \
            f"the kernel runs {prefix}, not the test interpreter's environment {sys.prefix}"
        assert Path(module).resolve() == (REPO / "autodiff_nb" / "__init__.py").resolve()
        check_stepper(page, stem)
    elif notebook.startswith("01_") or has_stepper(lab.root / notebook):
        check_stepper(page, stem)
    if 'mode=\\"both\\"' in (lab.root / notebook).read_text():
        check_forward_walk(page, stem)
    print(f"\n{notebook}: {len(state['prompts'])} code cells, {time.monotonic() - started:.1f}s in the browser")


def check_drawings(page, stem):
    """Every drawing fits its cell, and its smallest text is at least 9 px as drawn (issue 13)."""
    found = lab_browser.drawings(page)
    too_wide = [d for d in found if d["drawn"] > d["cell"] + 1]
    too_small = [d for d in found if d["smallest"] is not None and d["smallest"] < 9]
    assert not too_wide, f"drawings wider than their cell: {too_wide}"
    assert not too_small, f"drawings whose text is smaller than 9 px: {too_small}"
    print(f"\n{stem}: {len(found)} drawings; smallest text "
          f"{min((d['smallest'] for d in found if d['smallest']), default=0):.1f} px; widest "
          f"{max((d['drawn'] / d['cell'] for d in found), default=0):.0%} of its cell")


def check_stepper(page, stem):
    widget = lab_browser.stepper(page)
    widget.scroll_into_view_if_needed()
    svg = widget.locator("svg").first
    assert svg.is_visible(), "the stepper's graph SVG is not visible"
    box = svg.bounding_box()
    assert box and box["width"] > 50 and box["height"] > 50, f"the graph SVG is too small to see: {box}"
    shots = lab_browser.artifacts_dir()
    lab_browser.screenshot(widget, shots / f"{stem}-stepper-step0.png")
    assert not lab_browser.scrolls_sideways(widget), \
        f"the stepper scrolls sideways: {lab_browser.scrolls_sideways(widget)}"

    step_forward = widget.get_by_role("button", name=re.compile(r"step forward", re.I)).first
    baseline = lab_browser.drawing_snapshot(widget)  # step 0: the forward picture
    before, seen = baseline, [lab_browser.highlighted(baseline, baseline)]
    for press in (1, 2):
        lab_browser.click_settled(step_forward)
        change = wait_for_change(widget, before, baseline)
        assert change["highlighted_after"], (
            f"press {press}: no node is highlighted. The stepper should mark its current node with the "
            f"Graphviz attribute class=\"current\" (or at least a heavier outline): {change}")
        assert change["highlighted_after"] not in seen, f"press {press}: the highlighted node did not change: {change}"
        seen.append(change["highlighted_after"])
        before = lab_browser.drawing_snapshot(widget)
        lab_browser.screenshot(widget, shots / f"{stem}-stepper-step{press}.png")
        assert not lab_browser.scrolls_sideways(widget), f"press {press}: the stepper scrolls sideways"
    print(f"\n{stem}: highlighted node by step: {seen}")


def check_forward_walk(page, stem):
    """A stepper with both walks (``mode="both"``): switched to forward, it draws the tangents and
    steps from the leaves on, one highlighted node per press."""
    widget = lab_browser.widget_outputs(page).filter(
        has=page.get_by_role("button", name=re.compile(r"forward \(tangents\)", re.I))).first
    widget.scroll_into_view_if_needed()
    lab_browser.click_settled(widget.get_by_role("button", name=re.compile(r"forward \(tangents\)", re.I)))
    deadline = time.monotonic() + 15
    while "seed tangent" not in widget.inner_text() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "seed tangent" in widget.inner_text(), f"switched to forward, the widget says: {widget.inner_text()!r}"
    after_switch = lab_browser.drawing_snapshot(widget)
    lab_browser.click_settled(widget.get_by_role("button", name=re.compile(r"step forward", re.I)).first)
    stepped = wait_for_change(widget, after_switch, after_switch)
    assert stepped["highlighted_after"], f"forward walk, first step: no node is highlighted: {stepped}"
    lab_browser.screenshot(widget, lab_browser.artifacts_dir() / f"{stem}-forward-step1.png")
    assert not lab_browser.scrolls_sideways(widget), "the forward walk scrolls sideways"
    print(f"\n{stem}: forward walk, first step highlights {stepped['highlighted_after']}")


def wait_for_change(widget, before, baseline, timeout: float = 15.0):
    """Wait until the drawing differs from ``before`` and has settled (two equal snapshots in a row)."""
    deadline = time.monotonic() + timeout
    change, previous = None, before
    while time.monotonic() < deadline:
        now = lab_browser.drawing_snapshot(widget)
        if now != before and now == previous:
            return lab_browser.describe_change(before, now, baseline)
        change, previous = lab_browser.describe_change(before, now, baseline), now
        time.sleep(0.2)
    raise AssertionError(f"pressing Step forward changed nothing in the drawing within {timeout:.0f}s: {change}")
