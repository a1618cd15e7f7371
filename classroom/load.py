"""make classroom-load N=20: how a class of N fares on this machine.

Starts a private hub (its own state folder under /tmp, free loopback ports), creates N learners, starts
all N servers at once through the hub's API, then runs chapter 01 on every learner's own kernel at the same
time (REST + kernel websocket, as a browser would). Prints spawn and run times (p50/p95/max), failures, and
the memory of each learner (PSS of their server and kernel, the largest seen while the chapters ran), then
stops everything.

  python classroom/load.py N [--chapter chapters/03_exercises.ipynb]
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from client import Hub, code_cells, free_ports, run_cells  # noqa: E402
from ctl import REPO, launch  # noqa: E402


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))] if values else float("nan")


def summary(label, values):
    if not values:
        return f"{label}: none"
    return (f"{label}: p50 {pct(values, 50):.1f} s  p95 {pct(values, 95):.1f} s  max {max(values):.1f} s  "
            f"(n={len(values)})")


def pss_by_learner(state):
    """PSS (MiB) and CPU seconds of every process of this hub's learners (server + kernels), summed per learner."""
    import psutil

    totals, cpu = {}, {}
    for proc in psutil.process_iter(["pid"]):
        try:
            env = proc.environ()
            if env.get("ADNB_STATE") != state or not env.get("JUPYTERHUB_USER"):
                continue
            name = env["JUPYTERHUB_USER"]
            totals[name] = totals.get(name, 0) + proc.memory_full_info().pss
            times = proc.cpu_times()
            cpu[name] = cpu.get(name, 0.0) + times.user + times.system
        except (psutil.Error, OSError):
            pass
    return {name: value / 2**20 for name, value in totals.items()}, cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int)
    parser.add_argument("--chapter", type=Path, default=REPO / "chapters" / "01_automatic_differentiation.ipynb")
    args = parser.parse_args(argv)
    n = args.n

    state = tempfile.mkdtemp(prefix="adnbl", dir="/tmp")
    port, api_port, hub_port = free_ports(3)
    token = os.urandom(16).hex()
    env = dict(os.environ, ADNB_CLASS_PASSWORD=os.urandom(8).hex(), ADNB_ADMIN_TOKEN=token,
               ADDRESS=f"127.0.0.1:{port}", ADNB_PROXY_API_PORT=str(api_port), ADNB_HUB_PORT=str(hub_port),
               ADNB_RUNTIME_PREFIX=f"{state}-rt-", ADNB_CLASS_SIZE=str(n))
    env.setdefault("ADNB_CHP", str(REPO / ".classroom" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"))
    proc = launch(env, Path(state), Path(state) / "hub.log")
    hub = Hub(f"http://127.0.0.1:{port}", token)
    names = [f"load{i:03d}" for i in range(1, n + 1)]
    spawn_times, run_times, failures, peak, cpu_used = [], [], [], {}, {}
    try:
        hub.wait_up(120)
        hub.create_users(names)
        t0 = time.monotonic()

        def wait(name):
            try:
                hub.start(name)  # the hub answers once the spawn is under way (or after 10 s)
                hub.wait_ready(name, 60 + 6 * n)
                spawn_times.append(time.monotonic() - t0)
            except Exception as error:  # noqa: BLE001
                failures.append(f"spawn {name}: {error}")

        with ThreadPoolExecutor(max(1, n)) as pool:  # every learner presses Start at once
            list(pool.map(wait, names))
        ready = [name for name in names if hub.ready(name)]
        cells = code_cells(args.chapter)
        stop_sampling = threading.Event()

        def sample():
            while not stop_sampling.is_set():
                memory, cpu = pss_by_learner(state)
                for name, mib in memory.items():
                    peak[name] = max(peak.get(name, 0.0), mib)
                for name, seconds in cpu.items():
                    cpu_used[name] = max(cpu_used.get(name, 0.0), seconds)
                stop_sampling.wait(1.0)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        def run(name):
            start = time.monotonic()
            try:
                errors = run_cells(hub, name, cells, timeout=120 + 10 * n)
                if errors:
                    failures.append(f"run {name}: {errors[:1]}")
                else:
                    run_times.append(time.monotonic() - start)
            except Exception as error:  # noqa: BLE001
                failures.append(f"run {name}: {error!r}")

        with ThreadPoolExecutor(max(1, len(ready))) as pool:
            list(pool.map(run, ready))
        stop_sampling.set()
        sampler.join()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(hub.stop, names))
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(120)
        except Exception:  # noqa: BLE001
            proc.kill()
        for path in Path("/tmp").glob(Path(state).name + "-rt-*"):
            shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)

    pss = list(peak.values())
    print(f"classroom-load: {n} learners, {os.cpu_count()} CPUs, chapter {args.chapter.name}")
    print("  " + summary("spawn (all started at once; time until ready)", spawn_times))
    print("  " + summary("run chapter (all at once, each on its own kernel)", run_times))
    print(f"  failures: {len(failures)}" + "".join(f"\n    {f}" for f in failures[:10]))
    if pss:
        print(f"  PSS per learner (server + kernel, peak): median {statistics.median(pss):.0f} MiB, "
              f"max {max(pss):.0f} MiB, total {sum(pss):.0f} MiB")
    if cpu_used:
        print(f"  CPU per learner (server start + chapter, server + kernel): median "
              f"{statistics.median(cpu_used.values()):.1f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
