"""The classroom (issue 15): JupyterHub with classroom/jupyterhub_config.py.

``test_sync_*``: the first-spawn hook's chapter copy, which must never overwrite a learner's edits.
``test_classroom_smoke``: a real hub on loopback (free ports, its own state folder), two learners whose
servers are spawned through the hub's REST API, chapter 01 run on each learner's own kernel through the
single-user server's kernel REST API and websocket, one learner logging in through the hub in Debian's
Chromium (Playwright) and running chapter 01 with Run All, then stepping its widget (a screenshot goes to
tests/artifacts/browser/), then everything stopped by ``classroom/ctl.py stop``
(make classroom-stop: the API, then the pid file), with no process left behind.
It needs jupyterhub, jupyterhub-idle-culler, websocket-client (the ``classroom`` extra) and
configurable-http-proxy from npm (``make test`` installs all of them); without them it skips, except under
CI=true where that is a failure.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import skip_unless_ci

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "classroom"))
from sync import RECORD, sync_chapters  # noqa: E402

CHAPTER = REPO / "chapters" / "01_automatic_differentiation.ipynb"


# ----------------------------------------------------------------------------------- the chapter sync hook
def _chapter(folder, name, text):
    path = Path(folder) / name
    path.write_text(json.dumps({"cells": [], "text": text}))
    return path


def test_sync_copies_then_never_overwrites(tmp_path):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    a = _chapter(shipped, "01_a.ipynb", "v1")
    home = tmp_path / "home" / "chapters"

    done = sync_chapters(home, [a])
    assert done["copied"] == ["01_a.ipynb"] and (home / "01_a.ipynb").read_text() == a.read_text()

    # The learner edits; the next spawn keeps the edit and writes nothing beside it.
    (home / "01_a.ipynb").write_text("my edits")
    done = sync_chapters(home, [a])
    assert done["kept"] == ["01_a.ipynb"] and (home / "01_a.ipynb").read_text() == "my edits"
    assert not (home / "01_a.new.ipynb").exists()

    # A new version ships, and a new chapter: the edit survives, the new version lies beside it.
    _chapter(shipped, "01_a.ipynb", "v2")
    b = _chapter(shipped, "02_b.ipynb", "b1")
    done = sync_chapters(home, [a, b])
    assert done == {"copied": ["02_b.ipynb"], "new": ["01_a.ipynb"], "kept": []}
    assert (home / "01_a.ipynb").read_text() == "my edits"
    assert (home / "01_a.new.ipynb").read_text() == a.read_text()
    assert (home / "02_b.ipynb").read_text() == b.read_text()

    # A chapter the learner deleted stays deleted; a spawn with nothing new changes nothing.
    (home / "02_b.ipynb").unlink()
    done = sync_chapters(home, [a, b])
    assert done["kept"] == ["01_a.ipynb", "02_b.ipynb"] and not (home / "02_b.ipynb").exists()
    assert set(json.loads((home / RECORD).read_text())) == {"01_a.ipynb", "02_b.ipynb"}


def test_sync_keeps_a_hand_copied_chapter(tmp_path):
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    a = _chapter(shipped, "01_a.ipynb", "v1")
    home = tmp_path / "chapters"
    home.mkdir()
    (home / "01_a.ipynb").write_text("already here, edited")
    assert sync_chapters(home, [a])["new"] == ["01_a.ipynb"]
    assert (home / "01_a.ipynb").read_text() == "already here, edited"


def test_sync_defaults_to_the_shipped_chapters(tmp_path):
    done = sync_chapters(tmp_path / "chapters")
    assert "01_automatic_differentiation.ipynb" in done["copied"]


# ----------------------------------------------------------------------------------- the smoke test
def chp_program():
    return os.environ.get("ADNB_CHP") or str(REPO / ".classroom" / "node" / "node_modules" / ".bin" / "configurable-http-proxy")


def require_classroom():
    missing = []
    for module in ("jupyterhub", "jupyterhub_idle_culler", "websocket", "psutil"):
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    if missing:
        skip_unless_ci(f"the classroom needs {', '.join(missing)} (pip install -e '.[classroom]'; make test installs it)")
    if not os.access(chp_program(), os.X_OK):
        skip_unless_ci(f"configurable-http-proxy is not at {chp_program()} (tools/proxy-deps.sh installs it; make test runs it)")
    if shutil.which("node") is None:
        skip_unless_ci("configurable-http-proxy needs node")


def state_dir(state):
    """A folder for the browser's profile inside the hub's state folder (removed with it)."""
    path = Path(state) / "chromium"
    path.mkdir(exist_ok=True)
    return path


def _ours(state):
    """Every live process carrying this hub's state folder in its environment (servers, kernels)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if proc.environ().get("ADNB_STATE") == state and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.Error, OSError):
            pass
    return found


def _login(port, name, password):
    """Log in through the hub's login form (a browser's way); returns (status, final URL)."""
    import http.cookiejar
    import re
    import urllib.error
    import urllib.parse
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    login = f"http://127.0.0.1:{port}/hub/login"
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', opener.open(login, timeout=60).read().decode()).group(1)
    form = urllib.parse.urlencode({"username": name, "password": password, "_xsrf": xsrf}).encode()
    try:
        with opener.open(login, form, timeout=120) as reply:
            return reply.status, reply.url
    except urllib.error.HTTPError as error:
        return error.code, error.url


def _learner_in_the_browser(port, name, password, folder):
    """A learner's way in, in Debian's Chromium: the hub's login form, chapter 01 opened by default_url,
    Run All, then the stepper stepped once. Returns the Run All state and what the step changed."""
    import re

    import browser as lab_browser
    lab_browser.require(lab_browser.CHROMIUM.exists(), f"Chromium at {lab_browser.CHROMIUM} (apt install chromium)")
    start = lab_browser.sync_playwright()
    chromium = lab_browser.Chromium(Path(folder))
    playwright = None
    try:
        chromium.start()
        playwright = start().start()
        page = playwright.chromium.connect_over_cdp(chromium.cdp_url).new_context(
            viewport={"width": 1400, "height": 1000}).new_page()
        page.set_default_timeout(120_000)
        page.goto(f"http://127.0.0.1:{port}/hub/login", wait_until="domcontentloaded")
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", password)
        page.locator("input[type=submit], button[type=submit]").first.click()
        page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel",
                     has_text=CHAPTER.name).wait_for(state="visible", timeout=180_000)
        page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator[data-status="idle"]'
                     ).wait_for(state="attached", timeout=180_000)
        state = lab_browser.run_all_and_wait(page, timeout=300)
        errors = page.evaluate(lab_browser.ERRORS_JS)
        widget = lab_browser.stepper(page)
        widget.scroll_into_view_if_needed()
        before = lab_browser.drawing_snapshot(widget)
        widget.get_by_role("button", name=re.compile(r"step forward", re.I)).first.click()
        deadline, after = time.monotonic() + 15, before
        while after == before and time.monotonic() < deadline:
            time.sleep(0.2)
            after = lab_browser.drawing_snapshot(widget)
        lab_browser.screenshot(page, lab_browser.artifacts_dir() / "classroom-chapter01-stepped.png")
        return state, errors, lab_browser.describe_change(before, after, before)
    finally:
        if playwright is not None:
            playwright.stop()
        chromium.stop()


@pytest.mark.classroom
def test_classroom_smoke():
    require_classroom()
    import psutil
    from client import Hub, code_cells, free_ports, run_cells

    state = tempfile.mkdtemp(prefix="adnbt", dir="/tmp")
    runtime_prefix = f"{state}-rt-"  # short: /tmp/adnbtXXXXXXXX-rt-ann
    port, api_port, hub_port = free_ports(3)
    token = os.urandom(16).hex()
    env = dict(os.environ,
               ADNB_STATE=state, ADNB_CLASS_PASSWORD=os.urandom(8).hex(), ADNB_ADMIN_TOKEN=token,
               ADDRESS=f"127.0.0.1:{port}", ADNB_PROXY_API_PORT=str(api_port), ADNB_HUB_PORT=str(hub_port),
               ADNB_RUNTIME_PREFIX=runtime_prefix, ADNB_CHP=chp_program(), ADNB_CLASS_SIZE="2",
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    log = open(Path(state) / "hub.log", "wb")
    hub_proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(REPO / "classroom" / "jupyterhub_config.py")],
        cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        # a hub started from a background shell inherits an ignored SIGINT, and then every server it stops
        # waits out the interrupt timeout: give it the default back
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    hub = Hub(f"http://127.0.0.1:{port}", token)
    learners = ["ann", "bob"]
    seen = set()
    try:
        try:
            hub.wait_up(timeout=120)
            hub.create_users(learners)
            for name in learners:
                hub.start(name)
            for name in learners:
                hub.wait_ready(name, timeout=240)
        except Exception:
            raise AssertionError("the hub or a server did not come up; hub log:\n"
                                 + (Path(state) / "hub.log").read_text(errors="replace")[-6000:])
        # The class password logs a learner in (any other is refused) and lands on chapter 01 in JupyterLab.
        assert _login(port, "ann", "not the password")[0] == 403
        status, url = _login(port, "ann", env["ADNB_CLASS_PASSWORD"])
        assert status == 200 and url.endswith("/user/ann/lab/tree/chapters/01_automatic_differentiation.ipynb"), url
        # ... and in a real browser: chapter 01 opens, runs clean through Run All, and its stepper steps
        ran, errors, step = _learner_in_the_browser(port, "bob", env["ADNB_CLASS_PASSWORD"], state_dir(state))
        assert errors == [] and ran["errors"] == 0, f"chapter 01 in the browser printed errors: {errors}"
        assert all(re.fullmatch(r"\[\d+\]:", p) for p in ran["prompts"]), f"not every cell ran: {ran}"
        assert step["restyled"] or step["added"] or step["removed"], f"Step forward changed nothing: {step}"
        cells = code_cells(CHAPTER)
        for name in learners:
            home = Path(state) / "home" / name
            assert (home / "chapters" / CHAPTER.name).is_file(), f"{name}'s chapters were not copied"
            errors = run_cells(hub, name, cells, timeout=240)
            assert errors == [], f"{name}: chapter 01 failed on the learner's kernel: {errors}"
        # JupyterLab's settings come from tools/lab/overrides.json (no news, no update check).
        schema = hub.request("GET", "/user/ann/lab/api/settings/@jupyterlab/apputils-extension:notification")["schema"]
        assert schema["properties"]["checkForUpdates"]["default"] is False
        # Every learner's server runs in its own process, with the one-thread BLAS environment.
        servers = [p for p in _ours(state) if "jupyterhub.singleuser" in " ".join(p.cmdline())]
        assert len(servers) == 2
        assert all(p.environ().get("OPENBLAS_NUM_THREADS") == "1" for p in servers)
        seen = {p.pid for p in psutil.Process(hub_proc.pid).children(recursive=True)} | {p.pid for p in _ours(state)}
        for name in learners:
            assert Path(runtime_prefix + name).is_dir()  # the short per-learner runtime folder, in use
        # make classroom-stop: every server through the API, then the hub by its pid file
        stop = subprocess.run([sys.executable, str(REPO / "classroom" / "ctl.py"), "stop"], env=env,
                              capture_output=True, text=True, timeout=300)
        assert stop.returncode == 0, stop.stdout + stop.stderr
        assert "stopped 2 learner server(s) through the API" in stop.stdout, stop.stdout
        assert hub_proc.wait(timeout=30) == 0
        # the post-stop hook removed the runtime folders
        assert not any(Path(runtime_prefix + name).exists() for name in learners)
    finally:
        seen |= {p.pid for p in _ours(state)}
        if hub_proc.poll() is None:
            try:
                seen |= {p.pid for p in psutil.Process(hub_proc.pid).children(recursive=True)}
            except psutil.Error:
                pass
            hub_proc.send_signal(signal.SIGTERM)
        try:
            hub_proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            hub_proc.kill()
        deadline = time.monotonic() + 20
        left = []
        while time.monotonic() < deadline:
            left = [pid for pid in seen if psutil.pid_exists(pid)
                    and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE] + [p.pid for p in _ours(state)]
            if not left:
                break
            time.sleep(0.5)
        for pid in set(left):  # only the processes this test started
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        log.close()
        for path in Path("/tmp").glob(Path(runtime_prefix).name + "*"):
            shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
    assert hub_proc.returncode == 0, f"the hub exited with {hub_proc.returncode}"
    assert not left, f"processes left behind after the hub stopped: {sorted(set(left))}"
