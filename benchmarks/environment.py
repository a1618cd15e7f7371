"""What the numbers were measured on: machine, Python, numpy and its BLAS, threads, PyTorch.

numpy's BLAS is described by threadpoolctl when it is installed (it names the kernel the library
picked at run time); otherwise by asking the loaded OpenBLAS itself through ctypes, plus
``numpy.show_config``'s build record.
"""
from __future__ import annotations

import ctypes
import datetime
import os
import platform
import subprocess
import sys

import numpy as np

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def describe() -> dict:
    """A plain dict of everything the table's header shows."""
    torch_info = _torch()
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "memory_gib": _memory_gib(),
        },
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": _blas(),
        "threads": {name: os.environ.get(name) for name in THREAD_VARIABLES},
        "torch": torch_info,
        "engine": _engine_revision(),
        "load_average_at_start": load_average(),
    }


def load_average():
    """The 1-minute load average: above the core count, other work shared the machine with the run."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib():
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        return None


def _blas() -> dict:
    """numpy's BLAS: library, version, the kernel chosen at run time, and its thread count."""
    info = {"source": None}
    try:
        build = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        info.update(name=build.get("name"), version=build.get("version"),
                    build_config=build.get("openblas configuration"))
    except Exception:  # show_config's layout is not a stable API
        pass
    try:
        import threadpoolctl

        for pool in threadpoolctl.threadpool_info():
            if pool.get("user_api") == "blas" and "numpy" in pool.get("filepath", ""):
                info.update(source="threadpoolctl", library=pool.get("internal_api"),
                            version=pool.get("version"), kernel=pool.get("architecture"),
                            num_threads=pool.get("num_threads"))
                return info
    except ImportError:
        pass
    probed = _probe_openblas()
    if probed:
        info.update(probed, source="ctypes (threadpoolctl not installed)")
    else:
        info["source"] = "numpy.show_config (threadpoolctl not installed)"
    return info


def _probe_openblas():
    """Ask the OpenBLAS that numpy loaded for its run-time kernel and thread count, as threadpoolctl does."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line and ".so" in line}
    except OSError:
        return None
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas_", "64_"), ("scipy_openblas_", ""), ("openblas_", "64_"),
                               ("openblas_", "")):
            corename = getattr(lib, f"{prefix}get_corename{suffix}", None)
            threads = getattr(lib, f"{prefix}get_num_threads{suffix}", None)
            if corename is None or threads is None:
                continue
            corename.restype = ctypes.c_char_p
            threads.restype = ctypes.c_int
            return {"library": "openblas", "kernel": corename().decode(), "num_threads": threads(),
                    "path": path}
    return None


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return {"version": torch.__version__, "num_threads": torch.get_num_threads(),
            "num_interop_threads": torch.get_num_interop_threads()}


def _engine_revision():
    """The commit the engine was measured at, and whether the work tree had changes on top."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True,
                              text=True, timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "autodiff_nb"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": head or None, "engine_modified": bool(dirty)}
