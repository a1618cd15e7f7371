"""Runs the workloads into one plain result dict that ``report`` prints and the smoke test reads.

Per workload: build the inputs once, make every implementation from them (hand-written numpy,
our engine, PyTorch when installed), run each once and check its value and gradients against
numpy's, then -- unless this is a smoke run -- time them interleaved (``timing.interleaved``).
A workload that fails is recorded with its error and the run goes on to the next.
"""
from __future__ import annotations

import os
import re
import sys
import time
import traceback

import numpy as np

import autodiff_nb
from autodiff_nb.tape import Node, backward_order

from . import environment, timing, workloads as W
from .baselines import NUMPY, load_torch

ORDER = ("A", "B", "C", "C'", "D", "E", "G", "G'", "H", "J", "F", "K")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHAPTER_1 = os.path.join(ROOT, "chapters", "01_automatic_differentiation.ipynb")

# Full-run timing settings: rounds per workload and the length of one timed block (seconds).
REPEATS = {"A": 9, "B": 9, "C": 9, "C'": 9, "D": 7, "E": 7, "G": 9, "G'": 9, "H": 9, "J": 7}
MIN_TIME = {"A": 0.1, "B": 0.1, "C": 0.2, "C'": 0.1, "D": 0.0, "E": 0.0, "G": 0.1, "G'": 0.1, "H": 0.1, "J": 0.05}
# What the engine's outputs and gradients must match numpy's to. BLAS libraries sum in different
# orders, so float32 results agree to about 1e-6 relative, not bit for bit.
RTOL, ATOL = 1e-4, 1e-5


def run(only=None, smoke=False, repeats=None, log=None, *, tiny=False, min_time=None, clock="cpu") -> dict:
    """Run the workloads named in ``only`` (all by default); ``smoke``: tiny sizes, no timing.

    ``tiny`` times the smoke sizes (with ``repeats`` rounds of ``min_time`` seconds): it exercises
    the timing and the table in seconds, for tests; its numbers mean nothing.
    """
    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    torch = load_torch()
    mode = "smoke" if smoke else ("tiny" if tiny else "full")
    result = {"mode": mode, "clock": clock, "meta": environment.describe(), "workloads": []}
    for wid in ORDER:
        if only and wid not in only:
            continue
        spec = W.WORKLOADS[wid]
        size = spec["smoke" if smoke or tiny else "size"]
        log(f"[bench] {wid}: {spec['title']} ...")
        started = time.perf_counter()
        entry = {"id": wid, "title": spec["title"], "unit": spec["unit"], "anchor": spec["anchor"],
                 "size": {k: list(v) if isinstance(v, tuple) else v for k, v in size.items()}}
        try:
            if wid in ("A", "B", "C", "C'", "E", "G", "G'"):
                entry.update(_run_compared(wid, size, torch, smoke, repeats, min_time, clock))
            elif wid == "D":
                entry.update(_run_chain(size, torch, smoke, repeats, min_time, clock))
            elif wid in ("H", "J"):
                entry.update(_run_forward_mode(wid, size, torch, smoke, repeats, min_time, clock))
            elif wid == "F":
                entry.update(_run_drawing(size, smoke))
            else:
                entry.update(_run_notebook(size, smoke))
        except Exception as exc:  # one broken workload must not hide the others' numbers
            entry.update(status="error", note=_short_error(exc), error_type=type(exc).__name__,
                         traceback=_ANSI.sub("", traceback.format_exc()))
        entry["wall_seconds"] = round(time.perf_counter() - started, 2)
        log(f"[bench] {wid}: {entry['status']} ({entry['wall_seconds']} s)")
        result["workloads"].append(entry)
    result["meta"]["load_average_at_end"] = environment.load_average()
    return result


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _short_error(exc):
    """One line: for a failing notebook cell, the error the cell raised (nbclient keeps it apart)."""
    if hasattr(exc, "ename") and hasattr(exc, "evalue"):
        return f"a cell raised {exc.ename}: {_ANSI.sub('', str(exc.evalue))}"
    return _ANSI.sub("", f"{type(exc).__name__}: {exc}").splitlines()[0]


# --------------------------------------------------------------------------- implementations
def _setup(wid, size):
    """(inputs, extra keyword arguments of the make functions) for a workload at a size."""
    rng = np.random.default_rng(6)  # issue 6; every implementation gets these same arrays
    if wid == "A":
        return W.inputs_A(rng), {"n_ops": size["n_ops"]}
    if wid == "B":
        return W.inputs_B(rng), {}
    if wid in ("C", "C'"):
        return W.inputs_mlp(rng, **size), {}
    if wid in ("G", "G'"):
        return W.inputs_textbook(rng, **size), {}
    if wid == "D":
        return W.inputs_D(rng), {}
    return W.inputs_E(rng, size["n"]), {}


MAKE = {"A": W.make_A, "B": W.make_B, "C": W.make_mlp, "C'": W.make_mlp, "D": W.make_D, "E": W.make_E,
        "G": W.make_textbook, "G'": W.make_textbook_nn}


def _implementations(wid, inputs, kwargs, torch):
    """[(name, (step, grads))], numpy first: it is the reference the others are checked against."""
    impls = [("numpy", NUMPY[wid](inputs, **kwargs)), ("engine", MAKE[wid](autodiff_nb, inputs, **kwargs))]
    if torch is not None:
        impls.append(("torch", MAKE[wid](torch, inputs, **kwargs)))
    return impls


def as_array(value):
    """A numpy copy of an engine tensor, a torch tensor, a numpy scalar or array."""
    if hasattr(value, "detach"):
        value = value.detach()
    if hasattr(value, "numpy") and not isinstance(value, (np.ndarray, np.generic)):
        value = value.numpy()
    return np.array(value, dtype=np.float64)


def _check(impls):
    """Run each implementation once; compare output and gradients with numpy's."""
    outcome = {}
    for name, (step, grads) in impls:
        outcome[name] = [as_array(step())] + [as_array(g) for g in grads()]
    return _compare(outcome)


def _compare(outcome):
    """{implementation: agreement with numpy} for {implementation: [arrays]}."""
    reference = outcome["numpy"]
    checks = {}
    for name, arrays in outcome.items():
        if name == "numpy":
            continue
        errs = [float(np.max(np.abs(a - b), initial=0.0)) for a, b in zip(arrays, reference)]
        same = len(arrays) == len(reference) and all(
            a.shape == b.shape and np.allclose(a, b, rtol=RTOL, atol=ATOL * max(1.0, float(np.max(np.abs(b), initial=0))))
            for a, b in zip(arrays, reference))
        checks[name] = {"agrees": bool(same), "max_abs_error": max(errs, default=0.0),
                        "gradients": len(arrays) - 1}
    return checks


# ------------------------------------------------------------ A, B, C, C', E, G, G': compared
def _run_compared(wid, size, torch, smoke, repeats, min_time, clock):
    inputs, kwargs = _setup(wid, size)
    impls = _implementations(wid, inputs, kwargs, torch)
    checks = _check(impls)
    out = {"status": "ok", "checks": checks, "implementations": [name for name, _ in impls]}
    if smoke:
        return out
    per = kwargs.get("n_ops", 1)
    samples = timing.interleaved([(name, step) for name, (step, _) in impls],
                                 repeats=repeats or REPEATS[wid],
                                 min_time=MIN_TIME[wid] if min_time is None else min_time, clock=clock)
    samples = {name: [s / per for s in values] for name, values in samples.items()}
    out["samples"] = samples
    out["rows"] = [_compared_row(wid, wid, samples, W.WORKLOADS[wid]["target"])]
    return out


def _compared_row(wid, label, samples, target):
    row = {"label": label, "times": {name: timing.median(v) for name, v in samples.items()},
           "ratios": {"engine/numpy": timing.median_ratio(samples, "engine", "numpy"),
                      "engine/torch": timing.median_ratio(samples, "engine", "torch")}}
    if target and target[0] in ("numpy", "torch"):
        against, limit = target
        measured = row["ratios"][f"engine/{against}"]
        row["target"] = {"text": f"≤ {limit:.2f}x {'PyTorch' if against == 'torch' else 'numpy'}",
                         "measured": measured, "limit": limit,
                         "met": None if measured is None else measured <= limit}
    return row


# ---------------------------------------------------------------------------------- D: chain
def _run_chain(size, torch, smoke, repeats, min_time, clock):
    inputs, _ = _setup("D", size)
    short, long = size["short"], size["long"]
    by_size = {n: _implementations("D", inputs, {"n_ops": n}, torch) for n in (short, long)}
    checks = {n: _check(impls) for n, impls in by_size.items()}
    memory = {name: timing.memory_of(step) for name, (step, _) in by_size[long] if name != "torch"}
    out = {"status": "ok", "checks": {f"{n} ops": c for n, c in checks.items()}, "memory": memory,
           "implementations": [name for name, _ in by_size[long]]}
    engine_mem = memory["engine"]
    back_to_start = engine_mem["after_output_dropped"] <= max(64 * 1024, 0.01 * engine_mem["peak"])
    memory_row = {"label": f"D memory {_count(long)}", "memory": memory,
                  "target": {"text": "back to start", "met": bool(back_to_start),
                             "measured": engine_mem["after_output_dropped"], "limit": 0}}
    if smoke:
        out["rows"] = [memory_row]
        return out
    entries = [(f"{name}@{n}", step) for n in (short, long) for name, (step, _) in by_size[n]]
    samples = timing.interleaved(entries, repeats=repeats or REPEATS["D"],
                                 min_time=MIN_TIME["D"] if min_time is None else min_time, clock=clock)
    per_op = {label: [s / int(label.split("@")[1]) for s in values] for label, values in samples.items()}
    out["samples"] = per_op
    rows = []
    for n in (short, long):
        mine = {label.split("@")[0]: values for label, values in per_op.items() if label.endswith(f"@{n}")}
        rows.append(_compared_row("D", f"D {_count(n)} per op", mine, None))
    growth = {name: timing.median_ratio(per_op, f"{name}@{long}", f"{name}@{short}")
              for name, _ in by_size[long]}
    limit = W.WORKLOADS["D"]["target"][1]
    rows.append({"label": f"D per-op {_count(long)}/{_count(short)}", "growth": growth,
                 "target": {"text": f"≤ {limit}x (linear)", "measured": growth["engine"], "limit": limit,
                            "met": growth["engine"] <= limit}})
    rows.append(memory_row)
    out["rows"] = rows
    return out


# ------------------------------------------------------------------------ H, J: forward mode
def _run_forward_mode(wid, size, torch, smoke, repeats, min_time, clock):
    """Two ways of the same work per implementation, timed interleaved in one process: H the plain
    forward pass and its jvp (the ratio is the cost of carrying tangents), J jacfwd and jacrev."""
    rng = np.random.default_rng(11)  # issue 11
    inputs = W.inputs_H(rng, **size) if wid == "H" else W.inputs_J(rng, **size)
    make, ways = (W.make_H, ("forward", "jvp")) if wid == "H" else (W.make_J, ("jacfwd", "jacrev"))
    impls = {"numpy": NUMPY[wid](inputs), "engine": make(autodiff_nb, inputs)}
    if torch is not None:
        impls["torch"] = make(torch, inputs)
    checks = _compare({name: [as_array(v) for step in steps for v in step()] for name, steps in impls.items()})
    out = {"status": "ok", "checks": checks, "implementations": list(impls)}
    if smoke:
        return out
    entries = [(f"{name} {way}", step) for name, steps in impls.items() for way, step in zip(ways, steps)]
    samples = timing.interleaved(entries, repeats=repeats or REPEATS[wid],
                                 min_time=MIN_TIME[wid] if min_time is None else min_time, clock=clock)
    out["samples"] = samples
    rows = [_compared_row(wid, f"{wid} {way}", {name: samples[f"{name} {way}"] for name in impls}, None)
            for way in ways]
    _, limit = W.WORKLOADS[wid]["target"]
    if wid == "H":
        measured = timing.median_ratio(samples, "engine jvp", "engine forward")
        rows[1]["target"] = {"text": f"≤ {limit:.1f}x the forward", "measured": measured, "limit": limit,
                             "met": measured <= limit}
    else:
        measured = timing.median_ratio(samples, "engine jacrev", "engine jacfwd")
        rows[0]["target"] = {"text": f"jacrev ≥ {limit:.0f}x jacfwd", "measured": measured, "limit": limit,
                             "met": measured >= limit}
    out["rows"] = rows
    return out


def _count(n):
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


# -------------------------------------------------------------------------------- F: drawing
def _run_drawing(size, smoke):
    try:
        from autodiff_nb import viz

        draw = viz.draw
    except Exception as exc:  # the viz package is being written alongside; say so and go on
        return {"status": "not available", "note": f"viz not available ({type(exc).__name__}: {exc})"}
    _, limit, at_ops = W.WORKLOADS["F"]["target"]
    rows = []
    for n_ops in size["n_ops"]:
        y = W.graph_of(autodiff_nb, n_ops)
        svg = draw(y).to_svg()  # also the warm-up
        if "<svg" not in svg:
            raise AssertionError(f"draw(...).to_svg() gave no <svg> for {n_ops} ops: {svg[:80]!r}")
        seconds = []
        for _ in range(0 if smoke else (5 if n_ops <= 500 else 3)):
            started = time.perf_counter()
            draw(y).to_svg()
            seconds.append(time.perf_counter() - started)
        row = {"label": f"F {n_ops} ops", "times": {"engine": timing.median(seconds)}, "samples": seconds,
               "svg_chars": len(svg)}
        if n_ops == at_ops and not smoke:
            row["target"] = {"text": f"< {limit} s", "measured": row["times"]["engine"], "limit": limit,
                             "met": row["times"]["engine"] < limit}
        rows.append(row)
    rows.append(_clustered_drawing(draw, size["clustered"], smoke))
    return {"status": "ok", "rows": rows}


def _clustered_drawing(draw, n_ops, smoke):
    """A training graph of ``n_ops`` ops drawn with its module clusters (``draw(loss, modules=model)``)."""
    loss, model = W.training_graph_of(autodiff_nb, n_ops)
    recorded = len([n for n in backward_order([loss.grad_fn]) if isinstance(n, Node)])
    svg = draw(loss, modules=model).to_svg()
    if "cluster" not in svg:
        raise AssertionError(f"the {recorded}-op training graph was drawn without module clusters")
    seconds = []
    for _ in range(0 if smoke else 3):
        started = time.perf_counter()
        draw(loss, modules=model).to_svg()
        seconds.append(time.perf_counter() - started)
    row = {"label": f"F {recorded} ops, module clusters", "times": {"engine": timing.median(seconds)},
           "samples": seconds, "svg_chars": len(svg)}
    if not smoke:
        limit = W.WORKLOADS["F"]["clustered_limit"]
        row["target"] = {"text": f"< {limit} s", "measured": row["times"]["engine"], "limit": limit,
                         "met": row["times"]["engine"] < limit}
    return row


# ------------------------------------------------------------------------------ K: chapter 1
def _run_notebook(size, smoke):
    if not os.path.exists(CHAPTER_1):
        return {"status": "not available", "note": f"{os.path.relpath(CHAPTER_1, ROOT)} does not exist yet"}
    try:
        import nbformat
        from nbclient import NotebookClient
    except ImportError as exc:
        return {"status": "not available", "note": f"nbclient not installed ({exc})"}
    seconds = []
    for _ in range(size["repeats"]):
        notebook = nbformat.read(CHAPTER_1, as_version=4)
        client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": os.path.dirname(CHAPTER_1)}})
        started = time.perf_counter()
        client.execute()
        seconds.append(time.perf_counter() - started)
    cells = sum(1 for c in notebook.cells if c.cell_type == "code")
    row = {"label": "K chapter 1", "times": {"engine": timing.median(seconds)}, "samples": seconds,
           "code_cells": cells}
    return {"status": "ok", "rows": [row]}
