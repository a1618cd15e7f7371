"""make classroom / classroom-prestart / classroom-stop.

  python classroom/ctl.py start              start the hub in the background on $ADDRESS (default 127.0.0.1:8000)
  python classroom/ctl.py prestart N         create learner01..learnerN and start their servers through the hub's API
  python classroom/ctl.py stop               stop every server through the API, then the hub (pid file)

The state folder is $ADNB_STATE (default .classroom/ in the checkout): the hub's database, cookie secret,
pid file (jupyterhub.pid), log (hub.log) and, when $ADNB_ADMIN_TOKEN is not set, a generated admin token
(admin-token, mode 0600) that prestart and stop read. The class password always comes from
$ADNB_CLASS_PASSWORD.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from client import Hub  # noqa: E402


def state_dir(env=os.environ) -> Path:
    return Path(env.get("ADNB_STATE") or REPO / ".classroom").resolve()


def address(env=os.environ) -> str:
    return env.get("ADDRESS", "127.0.0.1:8000")


def admin_token(state: Path, create=False) -> str | None:
    if os.environ.get("ADNB_ADMIN_TOKEN"):
        return os.environ["ADNB_ADMIN_TOKEN"]
    path = state / "admin-token"
    if path.is_file():
        return path.read_text().strip()
    if not create:
        return None
    token = os.urandom(24).hex()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token)
    return token


def launch(env: dict, state: Path, log_path: Path) -> subprocess.Popen:
    """Start ``jupyterhub -f classroom/jupyterhub_config.py`` in its own session, logging to ``log_path``."""
    state.mkdir(parents=True, exist_ok=True)
    env = dict(env, ADNB_STATE=str(state),
               PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]))
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(HERE / "jupyterhub_config.py")],
            cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
            # A hub started from a background shell inherits an ignored SIGINT; the servers it stops would
            # then each wait out the spawner's interrupt timeout. Give SIGINT its default back.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def start() -> int:
    state = state_dir()
    if not os.environ.get("ADNB_CLASS_PASSWORD"):
        print("classroom: set ADNB_CLASS_PASSWORD (8+ characters): the password your learners log in with.",
              file=sys.stderr)
        return 1
    pid_file = state / "jupyterhub.pid"
    if pid_file.is_file() and _alive(int(pid_file.read_text())):
        print(f"classroom: a hub is already running (pid {pid_file.read_text().strip()}); make classroom-stop first.",
              file=sys.stderr)
        return 1
    state.mkdir(parents=True, exist_ok=True)
    token = admin_token(state, create=True)
    proc = launch(dict(os.environ, ADNB_ADMIN_TOKEN=token), state, state / "hub.log")
    hub = Hub(f"http://{address()}", token)
    try:
        hub.wait_up(timeout=120)
    except TimeoutError as error:
        print(f"classroom: {error}; see {state / 'hub.log'}", file=sys.stderr)
        proc.terminate()
        return 1
    print(f"classroom: JupyterHub (pid {proc.pid}) is up at http://{address()}/ ; learners log in with any name and "
          f"the class password. Log: {state / 'hub.log'}. Stop with: make classroom-stop")
    return 0


def prestart(n: int) -> int:
    state = state_dir()
    token = admin_token(state)
    if not token:
        print("classroom: no admin token (set ADNB_ADMIN_TOKEN, or start the hub with make classroom)", file=sys.stderr)
        return 1
    hub = Hub(f"http://{address()}", token)
    names = [f"learner{i:02d}" for i in range(1, n + 1)]
    hub.create_users(names)
    started = time.monotonic()
    timeout = int(os.environ.get("ADNB_PRESTART_TIMEOUT", str(60 + 4 * n)))

    def wait(name):
        try:
            hub.start(name)  # the hub answers once the spawn is under way (or after 10 s)
            hub.wait_ready(name, timeout)
            return name, time.monotonic() - started, None
        except Exception as error:  # noqa: BLE001 -- reported below
            return name, time.monotonic() - started, error

    with ThreadPoolExecutor(min(32, max(1, n))) as pool:
        results = list(pool.map(wait, names))
    failed = [(name, error) for name, _, error in results if error]
    for name, error in failed:
        print(f"  {name}: {error}", file=sys.stderr)
    print(f"classroom: {len(names) - len(failed)}/{len(names)} servers ready in "
          f"{max(t for _, t, _ in results):.1f} s")
    return 1 if failed else 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def stop() -> int:
    state = state_dir()
    token = admin_token(state)
    if token:
        hub = Hub(f"http://{address()}", token)
        try:
            names = hub.running()
            with ThreadPoolExecutor(8) as pool:
                list(pool.map(hub.stop, names))
            print(f"classroom: stopped {len(names)} learner server(s) through the API")
        except OSError as error:
            print(f"classroom: the hub's API did not answer ({error}); stopping by pid file", file=sys.stderr)
    pid_file = state / "jupyterhub.pid"
    if not pid_file.is_file():
        print("classroom: no hub pid file; nothing to stop")
        return 0
    pid = int(pid_file.read_text())
    if _alive(pid):
        os.kill(pid, signal.SIGTERM)  # the hub stops its proxy, services and servers (cleanup_* = True)
        deadline = time.monotonic() + 120
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.5)
        if _alive(pid):
            print(f"classroom: the hub (pid {pid}) did not stop within 120 s", file=sys.stderr)
            return 1
    print(f"classroom: hub (pid {pid}) stopped")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["start"]:
        return start()
    if argv[:1] == ["prestart"] and len(argv) == 2:
        return prestart(int(argv[1]))
    if argv[:1] == ["stop"]:
        return stop()
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
