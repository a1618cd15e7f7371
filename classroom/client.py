"""A small client for the classroom hub: the hub's REST API with an admin (service) token, and a
notebook run on a learner's own kernel through the single-user server's REST API and kernel websocket.

Used by make classroom-prestart / classroom-stop, the smoke test and the load benchmark. Needs only the
standard library plus ``websocket-client``.
"""
from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
import uuid


class Hub:
    def __init__(self, url, token):
        self.url = url.rstrip("/")
        self.token = token

    def request(self, method, path, body=None, timeout=30):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as reply:
            text = reply.read()
        return json.loads(text) if text else None

    def api(self, method, path, body=None, timeout=30):
        return self.request(method, "/hub/api" + path, body, timeout)

    def wait_up(self, timeout=120):
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.api("GET", "/", timeout=5)
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the hub at {self.url} did not answer within {timeout} s")
                time.sleep(0.5)

    def create_users(self, names):
        existing = {u["name"] for u in self.api("GET", "/users")}
        new = [n for n in names if n not in existing]
        if new:
            self.api("POST", "/users", {"usernames": new})

    def start(self, name):
        try:
            self.api("POST", f"/users/{name}/server")
        except urllib.error.HTTPError as error:
            if error.code != 400:  # 400: already running
                raise

    def ready(self, name):
        server = self.api("GET", f"/users/{name}").get("servers", {}).get("")
        return bool(server and server.get("ready"))

    def wait_ready(self, name, timeout):
        deadline = time.monotonic() + timeout
        while not self.ready(name):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}'s server was not ready within {timeout} s")
            time.sleep(0.5)

    def stop(self, name):
        try:
            self.api("DELETE", f"/users/{name}/server", timeout=120)
        except urllib.error.HTTPError as error:
            if error.code not in (400, 404):
                raise

    def running(self):
        return [u["name"] for u in self.api("GET", "/users") if u.get("servers", {}).get("")]


def free_ports(n):
    """``n`` loopback ports free right now, for a hub started on them (its proxy, API and hub)."""
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def code_cells(path):
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in nb["cells"] if c["cell_type"] == "code"]


def run_cells(hub, user, cells, kernel_path="chapters", timeout=300):
    """Start a kernel in ``user``'s server (REST), run ``cells`` one by one over the kernel websocket,
    shut the kernel down. Returns a list of (cell index, output) for every error output (empty: all ran)."""
    import websocket  # websocket-client

    base = f"/user/{user}/api/kernels"
    kernel = hub.request("POST", base, {"name": "python3", "path": kernel_path})
    ws_url = hub.url.replace("http", "ws", 1) + f"{base}/{kernel['id']}/channels"
    errors = []
    ws = websocket.create_connection(ws_url, header=[f"Authorization: token {hub.token}"], timeout=timeout)
    try:
        session = uuid.uuid4().hex
        for index, code in enumerate(cells):
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps({
                "header": {"msg_id": msg_id, "username": user, "session": session, "msg_type": "execute_request",
                           "version": "5.3", "date": ""},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                            "allow_stdin": False, "stop_on_error": True}}))
            replied = idle = False
            deadline = time.monotonic() + timeout
            while not (replied and idle):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{user}: cell {index} did not finish within {timeout} s")
                msg = json.loads(ws.recv())
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = msg["header"]["msg_type"]
                if kind == "error":
                    errors.append((index, f"{msg['content']['ename']}: {msg['content']['evalue']}"))
                elif kind == "stream" and msg["content"].get("name") == "stderr" and "Traceback" in msg["content"]["text"]:
                    errors.append((index, msg["content"]["text"]))
                elif kind == "execute_reply":
                    replied = True
                    if msg["content"]["status"] != "ok" and not any(i == index for i, _ in errors):
                        errors.append((index, f"execute_reply status {msg['content']['status']}"))
                elif kind == "status" and msg["content"]["execution_state"] == "idle":
                    idle = True
            if errors:
                break
    finally:
        ws.close()
        try:
            hub.request("DELETE", f"{base}/{kernel['id']}")
        except Exception:
            pass
    return errors
