"""JupyterHub for a class on ONE machine: ``make classroom`` (or ``jupyterhub -f classroom/jupyterhub_config.py``).

Everything comes from the environment, so nothing secret lives in the repository:

  ADNB_CLASS_PASSWORD      the learners' shared password (8+ characters; required)
  ADNB_TEACHER             teacher's user name (admin), optional; needs ADNB_TEACHER_PASSWORD (32+ characters)
  ADNB_ADMIN_TOKEN         API token of the "classroom-admin" service (make classroom-prestart/-stop, tests), optional
  ADNB_CLASS_SIZE          learners expected to start together (default 30): sizes the spawn timeouts
  ADDRESS                  where learners connect (default 127.0.0.1:8000)
  ADNB_HUB_PORT            the hub's internal API port (default 8081); ADNB_PROXY_API_PORT the proxy's (default port+1)
  ADNB_STATE               the hub's state folder (database, cookie secret, pid file; default <repo>/.classroom)
  ADNB_HOMES               the learners' homes (default $ADNB_STATE/home); each gets HOME/chapters
  ADNB_RUNTIME_PREFIX      per-learner Jupyter runtime folder prefix (default /tmp/adnb-): kernels talk over IPC
                           sockets there, and a socket path must stay under 107 bytes, so keep it short
  ADNB_CHP                 the configurable-http-proxy program (default $ADNB_STATE/node/node_modules/.bin/...)
  ADNB_CULL_TIMEOUT        seconds of inactivity before the idle culler stops a server (default 3600)

Spawner: jupyterhub's SimpleLocalProcessSpawner. Every learner's server runs as the SAME system user as the
hub, in its own home folder. That is fine for one trusted classroom on one machine; it is NOT isolation
(a learner's code can read the others' files). For isolation use LocalProcessSpawner with one system user
per learner, or containers (DockerSpawner / KubeSpawner) -- see README "Teaching a class".
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from sync import sync_chapters  # noqa: E402

c = get_config()  # noqa: F821  (provided by jupyterhub when it loads this file)

env = os.environ
STATE = Path(env.get("ADNB_STATE") or REPO / ".classroom").resolve()
HOMES = Path(env.get("ADNB_HOMES") or STATE / "home").resolve()
RUNTIME_PREFIX = env.get("ADNB_RUNTIME_PREFIX", "/tmp/adnb-")
CLASS_SIZE = max(1, int(env.get("ADNB_CLASS_SIZE", "30")))
ADDRESS = env.get("ADDRESS", "127.0.0.1:8000")
STATE.mkdir(parents=True, exist_ok=True)
HOMES.mkdir(parents=True, exist_ok=True)

# ------------------------------------------------------------------ hub, proxy, state
c.JupyterHub.bind_url = f"http://{ADDRESS}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(env.get("ADNB_HUB_PORT", "8081"))
proxy_api_port = int(env.get("ADNB_PROXY_API_PORT", str(int(ADDRESS.rsplit(":", 1)[1]) + 1)))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [env.get("ADNB_CHP") or str(STATE / "node" / "node_modules" / ".bin" / "configurable-http-proxy")]
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
# Stopping the hub stops the proxy and every learner's server too (the defaults, stated).
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# ------------------------------------------------------------------ who may log in
password = env.get("ADNB_CLASS_PASSWORD")
if not password or len(password) < 8:
    raise SystemExit("classroom: set ADNB_CLASS_PASSWORD (8 characters or more) to the learners' shared password; "
                     "it is read from the environment, never from the repository.")
c.JupyterHub.authenticator_class = "shared-password"  # jupyterhub >= 5.3
c.SharedPasswordAuthenticator.user_password = password
c.Authenticator.allow_all = True  # anyone with the class password, under any name
if env.get("ADNB_TEACHER"):
    c.Authenticator.admin_users = {env["ADNB_TEACHER"]}
    c.SharedPasswordAuthenticator.admin_password = env.get("ADNB_TEACHER_PASSWORD")

services, roles = [], []
if env.get("ADNB_ADMIN_TOKEN"):
    services.append({"name": "classroom-admin", "api_token": env["ADNB_ADMIN_TOKEN"]})
    roles.append({"name": "classroom-admin", "services": ["classroom-admin"],
                  "scopes": ["admin:users", "admin:servers", "access:servers", "list:users", "read:users"]})

# ------------------------------------------------------------------ idle culling (jupyterhub-idle-culler)
services.append({"name": "idle-culler",
                 "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                             f"--timeout={int(env.get('ADNB_CULL_TIMEOUT', '3600'))}", "--cull-every=300"]})
roles.append({"name": "idle-culler", "services": ["idle-culler"],
              "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]})
c.JupyterHub.services = services
c.JupyterHub.load_roles = roles

# ------------------------------------------------------------------ the learners' servers
c.JupyterHub.spawner_class = "jupyterhub.spawner.SimpleLocalProcessSpawner"
c.SimpleLocalProcessSpawner.home_dir_template = str(HOMES / "{username}")
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.notebook_dir = "~"
c.Spawner.default_url = "/lab/tree/chapters/01_automatic_differentiation.ipynb"

# JupyterLab without news or update pop-ups: tools/lab/overrides.json, as make lab uses it.
LAB_SETTINGS = STATE / "lab-settings"
LAB_SETTINGS.mkdir(exist_ok=True)
(LAB_SETTINGS / "overrides.json").write_bytes((REPO / "tools" / "lab" / "overrides.json").read_bytes())

server_args = [
    # Kernels over IPC sockets, not TCP: with TCP, about 1 kernel in 20 died with "Address already in use"
    # when a class started together (ports are picked, then bound later by another process).
    "--KernelManager.transport=ipc",
    f"--LabApp.app_settings_dir={LAB_SETTINGS}",
]
if os.getuid() == 0:  # the shared system user is root (containers, CI): jupyter_server refuses it otherwise
    server_args.append("--ServerApp.allow_root=True")
c.Spawner.args = server_args


def _runtime_dir(spawner):
    return f"{RUNTIME_PREFIX}{spawner.user.name}"


c.Spawner.environment = {
    # A short runtime folder per learner: the IPC sockets live there (path limit 107 bytes).
    "JUPYTER_RUNTIME_DIR": _runtime_dir,
    # One BLAS/OpenMP thread per kernel: 30 kernels each starting one thread per core would thrash.
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "ADNB_STATE": str(STATE),  # lets tools find what this hub started
}

# Spawn timeouts from the class size. Measured here (2 cores): a server needs ~1.5 CPU-s to come up, a
# class starting together queues on the cores, and the defaults (http_timeout=30, start_timeout=60)
# failed when 20 started at once. Allow 3 s per learner on top of the defaults.
c.Spawner.http_timeout = 30 + 3 * CLASS_SIZE
c.Spawner.start_timeout = 60 + 3 * CLASS_SIZE
c.JupyterHub.concurrent_spawn_limit = max(100, CLASS_SIZE)


def pre_spawn_hook(spawner):
    """Copy the chapters into HOME/chapters at the first spawn; later, add new ones and write changed ones
    beside the learner's copy as NAME.new.ipynb (classroom/sync.py): a learner's edits are never overwritten."""
    home = Path(spawner.home_dir)
    sync_chapters(home / "chapters")
    Path(_runtime_dir(spawner)).mkdir(mode=0o700, parents=True, exist_ok=True)


c.Spawner.pre_spawn_hook = pre_spawn_hook


def post_stop_hook(spawner):
    """The runtime folder holds only sockets and connection files of the stopped server: remove it."""
    import shutil

    shutil.rmtree(_runtime_dir(spawner), ignore_errors=True)


c.Spawner.post_stop_hook = post_stop_hook
