"""Drive a real JupyterLab in headless Debian Chromium: the helpers behind ``test_browser.py``.

Both processes are started here with ``subprocess.Popen`` in sessions of their own, so the tests know
their process ids and stop exactly them: JupyterLab on loopback with no token, Chromium with a fresh
profile and a DevTools port that Playwright attaches to (``connect_over_cdp``). Playwright never
downloads a browser here; it drives ``/usr/bin/chromium``.

Everything JupyterLab reads or writes about the user (settings, workspaces, kernels, runtime files)
points into a temporary folder, so a developer's own Jupyter setup cannot change what the test sees.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("AUTODIFF_NB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
STDERR_MIME = "application/vnd.jupyter.stderr"


# ============================================================================ what the test needs
def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def require(condition: bool, what: str):
    """Skip when something the browser test needs is missing; in CI (CI=true) fail instead."""
    if condition:
        return
    message = f"browser test needs {what}; `make test` installs it"
    if in_ci():
        pytest.fail(f"{message} (CI=true: a missing browser is a failure, not a skip)", pytrace=False)
    pytest.skip(message)


def jupyter_executable() -> Path:
    """The ``jupyter`` of the interpreter running the tests (the .venv's under ``make test``)."""
    for candidate in (Path(sys.executable).parent / "jupyter", REPO / ".venv" / "bin" / "jupyter"):
        if candidate.exists():
            return candidate
    return Path(sys.executable).parent / "jupyter"


def sync_playwright():
    try:
        from playwright.sync_api import sync_playwright as start
    except ImportError:
        start = None
    require(start is not None, "the Python package playwright (pip install playwright)")
    return start


# ============================================================================ processes
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen, name: str, grace: float = 10.0):
    """SIGTERM the process we started, wait, then SIGKILL its own process group if anything is left."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the group is this process's own (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{name} (pid {proc.pid}) did not stop")


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _get(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.status, response.read()


LAB_SETTINGS = {
    # every cell in the DOM, so error outputs below the fold are found too
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # no news or update pop-ups over the notebook
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}


class JupyterLab:
    """``jupyter lab`` on 127.0.0.1, a free port, no token or password, rooted at ``root``."""

    def __init__(self, root: Path, home: Path):
        self.root = root
        self.home = home
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = home / "jupyterlab.log"
        self.proc: subprocess.Popen | None = None

    def environment(self) -> dict:
        env = dict(os.environ)
        for variable, folder in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"),
                                 ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                                 ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"), ("IPYTHONDIR", "ipython")]:
            path = self.home / folder
            path.mkdir(parents=True, exist_ok=True)
            env[variable] = str(path)
        env.pop("JUPYTER_PATH", None)
        for name, settings in LAB_SETTINGS.items():
            target = self.home / "settings" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(settings))
        return env

    def start(self, timeout: float = 90.0):
        command = [
            str(jupyter_executable()), "lab",
            "--no-browser", f"--ServerApp.root_dir={self.root}",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            "--IdentityProvider.token=", "--ServerApp.password=",
            "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False",
            # loopback only, no auth: let the test end kernels through the REST API without an XSRF cookie
            "--ServerApp.disable_check_xsrf=True",
        ]
        if os.geteuid() == 0:  # CI and these machines run as root; JupyterLab refuses that without this
            command.append("--allow-root")
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(command, cwd=self.root, env=self.environment(), stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{log_tail(self.log_path)}")
            try:
                status, _ = _get(f"{self.base_url}/api/status")
                if status == 200:
                    return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"jupyter lab did not answer within {timeout:.0f}s:\n{log_tail(self.log_path)}")

    def api(self, path: str, method: str = "GET"):
        request = urllib.request.Request(f"{self.base_url}{path}", method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self):
        """End every session's kernel through the server's own API (the server started them)."""
        for session in self.api("/api/sessions") or []:
            self.api(f"/api/sessions/{session['id']}", method="DELETE")
        for kernel in self.api("/api/kernels") or []:
            self.api(f"/api/kernels/{kernel['id']}", method="DELETE")

    def kernel_pids(self) -> list[int]:
        """Kernels whose connection file lies in this server's runtime folder (so ours, not others')."""
        runtime = str(self.home / "runtime")
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if any(part.decode(errors="replace").startswith(runtime) for part in cmdline):
                pids.append(int(entry.name))
        return pids

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.shut_down_kernels()
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
        stop_process(self.proc, "jupyter lab")
        for pid in self.kernel_pids():  # a kernel the server failed to end: ours, ended by its id
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc = None


class Chromium:
    """Debian's Chromium, headless, with a fresh profile and a DevTools port for Playwright."""

    def __init__(self, home: Path):
        self.profile = home / "chromium-profile"
        self.log_path = home / "chromium.log"
        self.proc: subprocess.Popen | None = None
        self.cdp_url: str | None = None

    def start(self, timeout: float = 30.0):
        self.profile.mkdir(parents=True, exist_ok=True)
        command = [str(CHROMIUM), *CHROMIUM_ARGS, f"--user-data-dir={self.profile}",
                   "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
                   "--window-size=1400,1000", "about:blank"]
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log.close()
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}:\n{log_tail(self.log_path)}")
            if port_file.exists():
                lines = port_file.read_text().splitlines()
                if lines and lines[0].strip().isdigit():
                    self.cdp_url = f"http://127.0.0.1:{lines[0].strip()}"
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"chromium opened no DevTools port within {timeout:.0f}s:\n{log_tail(self.log_path)}")

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, "chromium")
            self.proc = None


# ============================================================================ the JupyterLab page
def open_notebook(page, lab: JupyterLab, name: str, timeout: float = 120_000):
    # ?reset starts from an empty workspace, so the notebook of an earlier test is not reopened beside it
    page.goto(f"{lab.base_url}/lab/tree/{name}?reset", wait_until="domcontentloaded")
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel", has_text=name)
    tab.wait_for(state="visible", timeout=timeout)
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell").first.wait_for(state="visible", timeout=timeout)
    # The kernel starts; a notebook naming no known kernel asks which one instead: accept the proposal.
    idle = page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status="idle"]')
    dialog = page.locator(".jp-Dialog")
    idle.or_(dialog).first.wait_for(state="attached", timeout=timeout)
    # The indicator can read "idle" a moment before the kernel dialog opens (seen on a fresh
    # machine, where the kernel list loads late): give the dialog a short chance to show up.
    try:
        dialog.wait_for(state="visible", timeout=3_000)
    except Exception:  # playwright's TimeoutError: no dialog, the kernel started by itself
        pass
    if dialog.count():
        dialog.locator("button.jp-mod-accept").click()
        dialog.wait_for(state="detached", timeout=timeout)
        idle.wait_for(state="attached", timeout=timeout)


def menu_command(page, menu: str, item: str):
    """Click a top menu (``Run``) and then one of its entries (``Run All Cells``), as a user would."""
    page.locator(".lm-MenuBar-item", has=page.locator(".lm-MenuBar-itemLabel",
                                                      has_text=re.compile(f"^{re.escape(menu)}$"))).click()
    # An entry is disabled (and a click on it does nothing) until its command applies, e.g. until the
    # notebook is the current widget: wait for the enabled entry.
    entry = page.locator(".lm-Menu:not(.lm-MenuBar) .lm-Menu-item:not(.lm-mod-disabled)",
                         has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}$")))
    entry.first.click()
    page.locator(".lm-Menu:not(.lm-MenuBar)").first.wait_for(state="detached")


CELL_STATE_JS = """
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim());
  const status = panel.querySelector('.jp-Notebook-ExecutionIndicator')?.getAttribute('data-status');
  const errors = panel.querySelectorAll('.jp-OutputArea-output[data-mime-type="%s"]').length;
  return {prompts, status, errors};
}
""" % STDERR_MIME


def run_all_and_wait(page, timeout: float = 300.0) -> dict:
    """Clear every output, run every cell, and wait until the kernel is idle with all cells done.

    Returns the final cell state. Stops waiting early when a cell printed an error (Run All stops
    there, so later cells never get a number).
    """
    menu_command(page, "Edit", "Clear Outputs of All Cells")
    # cleared: no output left and no execution number, so every number seen later is from this run
    page.wait_for_function("""() => {
      const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
      return panel.querySelectorAll('.jp-OutputArea-output').length === 0 &&
             [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].every(p => !/\\d/.test(p.textContent));
    }""")
    for attempt in range(3):
        menu_command(page, "Run", "Run All Cells")
        try:  # started: a cell is queued or running ([*]) or already numbered
            page.wait_for_function("""() => [...document.querySelectorAll(
                '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputArea-prompt')]
                .some(p => /\\*|\\d/.test(p.textContent))""", timeout=10_000)
            break
        except Exception:
            if attempt == 2:
                raise AssertionError("Run > Run All Cells did not start any cell (tried three times)")
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = page.evaluate(CELL_STATE_JS)
        done = all(re.fullmatch(r"\[\d+\]:", p) for p in state["prompts"])
        if state["status"] == "idle" and (done or state["errors"]):
            # idle can flash between cells: confirm a moment later
            page.wait_for_timeout(500)
            again = page.evaluate(CELL_STATE_JS)
            if again == state:
                return state
        page.wait_for_timeout(250)
    raise AssertionError(f"the notebook did not finish within {timeout:.0f}s; last state: {state}")


ERRORS_JS = """
() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const found = [];
  panel.querySelectorAll('.jp-Cell').forEach((cell, index) => {
    cell.querySelectorAll('.jp-OutputArea-output').forEach(out => {
      const mime = out.getAttribute('data-mime-type');
      const text = out.innerText || '';
      if (mime === '%s' || out.classList.contains('jp-mod-error')) {
        found.push({cell: index, kind: 'stderr/error', text: text.slice(0, 2000)});
      } else if (/Error displaying widget|Failed to load model class|Could not render content/.test(text)) {
        found.push({cell: index, kind: 'widget', text: text.slice(0, 2000)});
      }
    });
  });
  return found;
}
""" % STDERR_MIME


def error_outputs(page) -> list[dict]:
    """Every error or stderr output in the open notebook, and every widget that failed to render."""
    return page.evaluate(ERRORS_JS)


def show_first_error(page):
    """Scroll the first error or stderr output into view (for the screenshot of a failure)."""
    first = page.locator(f'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output[data-mime-type="{STDERR_MIME}"]')
    if first.count():
        first.first.scroll_into_view_if_needed()


def cell_output_text(page, marker: str) -> str:
    """The text of the first output that contains ``marker``."""
    output = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output", has_text=marker)
    return output.first.inner_text()


def widget_outputs(page):
    # A rendered widget view carries no data-mime-type attribute; its root element has .jupyter-widgets.
    return page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output").filter(
        has=page.locator(".jupyter-widgets"))


def click_settled(target, timeout: float = 10.0):
    """Scroll ``target`` into view, wait until it stops moving, then click it. Playwright's own
    scroll-then-click can land while JupyterLab's notebook is still scrolling (a stepper far down a
    long chapter), and the click then reaches nothing."""
    target.scroll_into_view_if_needed()
    deadline, box = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = target.bounding_box()
        if now is not None and now == box:
            break
        box = now
    target.click()


def stepper(page):
    """The first widget output that draws a graph and has a Step forward button."""
    return widget_outputs(page).filter(has=page.locator("svg")).filter(
        has=page.get_by_role("button", name=re.compile(r"step forward", re.I))).first


# The highlighted node of a stepper drawing. Preferred: the drawing gives the current node the
# Graphviz attribute class="current", which Graphviz writes into the SVG as <g class="node current">.
# Otherwise the current node is the one drawn with a heavier outline than any node of the step-0
# (forward) picture, which is how a highlighted node is drawn in practice (penwidth -> stroke-width).
SNAPSHOT_JS = """
(root) => [...root.querySelectorAll('svg g.node')].map(g => {
  const shapes = [...g.querySelectorAll('polygon, ellipse, path, text, rect, polyline')];
  return {
    title: (g.querySelector('title')?.textContent || g.id || '').trim(),
    classes: [...g.classList].filter(c => c !== 'node').sort(),
    pen: Math.max(0, ...shapes.filter(s => (s.getAttribute('stroke') || 'none') !== 'none'
                                          && s.getAttribute('stroke') !== 'transparent')
                               .map(s => parseFloat(s.getAttribute('stroke-width') || '1'))),
    style: shapes.map(s => ['fill', 'stroke', 'stroke-width', 'font-weight']
                               .map(a => s.getAttribute(a) || '').join('/')).join(';'),
  };
})
"""
CURRENT_CLASSES = {"current", "highlight", "highlighted", "active"}


def drawing_snapshot(widget) -> list[dict]:
    return widget.evaluate(SNAPSHOT_JS)


def highlighted(snapshot, baseline=None) -> list[str]:
    """Titles of the highlighted nodes: by class when the drawing marks them, else by heavier outline."""
    marked = sorted(n["title"] for n in snapshot if CURRENT_CLASSES & set(n["classes"]))
    if marked or baseline is None:
        return marked
    usual_pen = max((n["pen"] for n in baseline), default=1.0)
    return sorted(n["title"] for n in snapshot if n["pen"] > usual_pen)


def describe_change(before, after, baseline=None) -> dict:
    """What changed between two snapshots of the same drawing (``baseline``: the step-0 picture)."""
    old = {n["title"]: n for n in before}
    new = {n["title"]: n for n in after}
    restyled = sorted(t for t in new if t in old and (old[t]["style"], old[t]["classes"]) !=
                      (new[t]["style"], new[t]["classes"]))
    return {"highlighted_before": highlighted(before, baseline), "highlighted_after": highlighted(after, baseline),
            "restyled": restyled, "added": sorted(set(new) - set(old)), "removed": sorted(set(old) - set(new))}


def screenshot(target, path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    target.screenshot(path=str(path))
    return path


def artifacts_dir() -> Path:
    path = REPO / "tests" / "artifacts" / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


def copy_tree(source: Path, target: Path):
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


# Every drawing in the visible notebook: how wide it is drawn against the width of its cell, and the
# smallest text in it, in CSS px as drawn. Graphviz writes font sizes in viewBox units, so a text's
# size on screen is its font-size times (drawn width / viewBox width). A drawing in a plain output
# is an <img> of the SVG (its text read from the data URL) or an inline <svg>; the stepper's is inline.
DRAWINGS_JS = """
async (root) => {
  const out = [];
  const measure = (svgText, element, cell, kind) => {
    const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
    const svg = doc.querySelector('svg');
    if (!svg || !svg.getAttribute('viewBox')) return;
    const viewWidth = parseFloat(svg.getAttribute('viewBox').split(/[ ,]+/)[2]);
    const drawn = element.getBoundingClientRect().width;
    const sizes = [...svg.querySelectorAll('text')].map(t => parseFloat(t.getAttribute('font-size') || '14'));
    out.push({kind, drawn, cell: cell.getBoundingClientRect().width, viewWidth,
              smallest: sizes.length ? Math.min(...sizes) * drawn / viewWidth : null,
              title: (svg.querySelector('title')?.textContent || '').trim()});
  };
  for (const cell of root.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')) {
    for (const img of cell.querySelectorAll('img')) {
      if (!img.src.startsWith('data:image/svg+xml')) continue;
      const text = await (await fetch(img.src)).text();
      measure(text, img, cell, 'img');
    }
    for (const svg of cell.querySelectorAll('svg')) {
      if (!svg.querySelector('g.node')) continue;  // icons, not drawings
      measure(new XMLSerializer().serializeToString(svg), svg, cell, 'inline');
    }
  }
  return out;
}
"""


def drawings(page) -> list[dict]:
    return page.evaluate("(" + DRAWINGS_JS.strip() + ")(document)")


def scrolls_sideways(widget) -> list[dict]:
    """Elements of a widget whose content is wider than they are (each would show a scrollbar)."""
    return widget.evaluate("""(root) => [root, ...root.querySelectorAll('*')]
        .filter(e => e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX !== 'visible'
                     && getComputedStyle(e).overflowX !== 'hidden')
        .map(e => ({tag: e.tagName, cls: e.className && e.className.baseVal === undefined ? e.className : '',
                    scroll: e.scrollWidth, client: e.clientWidth}))""")
