"""The result dict of ``runner.run`` -> a text table (Markdown, so it can go into the README) or JSON."""
from __future__ import annotations

import json

from .workloads import WORKLOADS

COLUMNS = ("work", "unit", "numpy (hand)", "engine", "PyTorch", "engine/numpy", "engine/PyTorch",
           "target", "measured", "result")


def to_json(result) -> str:
    return json.dumps(result, indent=1, default=str)


def to_text(result) -> str:
    lines = _header(result)
    if result["mode"] == "smoke":
        lines += _smoke_table(result)
    else:
        lines += _table(result)
    lines += _notes(result)
    return "\n".join(lines)


# ------------------------------------------------------------------------------------- header
def _header(result):
    meta = result["meta"]
    machine, blas, threads, torch = meta["machine"], meta["blas"], meta["threads"], meta["torch"]
    kernel = blas.get("kernel") or "kernel unknown"
    blas_threads = blas.get("num_threads")
    pinned = " ".join(f"{k}={v}" for k, v in threads.items() if v is not None) or "no thread variables set"
    lines = [
        f"# autodiff_nb benchmarks ({result['mode']} run), {meta['date']}",
        "",
        f"- machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB, "
        f"{machine['platform']}",
        f"- python {meta['python']}, numpy {meta['numpy']}; BLAS: {blas.get('name')} {blas.get('version')}, "
        f"run-time kernel {kernel}, {blas_threads if blas_threads is not None else '?'} thread(s) "
        f"[{blas.get('source')}]",
        f"- threads: {pinned}; PyTorch: " + (f"{torch['version']}, {torch['num_threads']} thread(s)"
                                              if torch else "not installed"),
    ]
    engine = meta.get("engine")
    if engine:
        lines.append(f"- engine: commit {engine['commit']}"
                     + (" + uncommitted changes in autodiff_nb/" if engine["engine_modified"] else ""))
    cores = machine["cores"] or 1
    load = (meta.get("load_average_at_start"), meta.get("load_average_at_end"))
    busy = any(v is not None and v > cores - 0.5 for v in load)
    lines.append(f"- load average at start / end: {load[0]} / {load[1]} on {cores} cores"
                 + (" -- other work shared the machine: expect noise" if busy else ""))
    unpinned = [k for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS") if threads.get(k) != "1"]
    if unpinned or (blas_threads not in (None, 1)):
        lines.append(f"- WARNING: threads not pinned to 1 ({', '.join(unpinned) or 'BLAS'}): "
                     "run `make bench` for comparable numbers")
    if result["mode"] != "smoke":
        clock = "process CPU time" if result.get("clock") == "cpu" else "wall-clock time"
        lines.append(f"- A-E, G, H, J: {clock}; F, K: wall-clock time (they run renderer / kernel processes)")
    if result["mode"] == "full":
        lines.append("- times are medians over interleaved rounds; ratios are medians of the per-round ratios")
    elif result["mode"] == "tiny":
        lines.append("- tiny timed run (smoke sizes, few rounds): exercises the timing code; the numbers mean nothing")
    else:
        lines.append("- smoke run: tiny sizes, each workload once, checked against hand-written numpy; "
                     "no timing claims")
    lines.append("")
    return lines


# -------------------------------------------------------------------------------------- table
def _table(result):
    rows = []
    for entry in result["workloads"]:
        if entry["status"] != "ok":
            target = WORKLOADS[entry["id"]]["anchor"]
            rows.append([entry["id"], entry["unit"], "", entry["status"], "", "", "", target, "",
                         entry.get("note", "")[:60]])
            continue
        for row in entry["rows"]:
            rows.append(_cells(entry, row))
    return _markdown(COLUMNS, rows)


def _cells(entry, row):
    times, ratios, target = row.get("times", {}), row.get("ratios", {}), row.get("target")
    if "growth" in row:  # D: per-op time at the long chain over per-op time at the short one
        g = row["growth"]
        impl = [_ratio(g.get("numpy")), _ratio(g.get("engine")), _ratio(g.get("torch"))]
        unit = "ratio"
    elif "memory" in row:
        m = row["memory"]
        impl = [f"peak {_bytes(m['numpy']['peak'])}", f"peak {_bytes(m['engine']['peak'])}", "n/a (C++)"]
        unit = "bytes"
    else:
        impl = [_time(times.get("numpy")), _time(times.get("engine")), _time(times.get("torch"))]
        unit = entry["unit"]
    cells = [row["label"], unit] + impl + [_ratio(ratios.get("engine/numpy")), _ratio(ratios.get("engine/torch"))]
    if target is None:
        return cells + [entry["anchor"] if row is entry["rows"][0] else "", "", ""]
    if "memory" in row:
        m = row["memory"]["engine"]
        measured = (f"after: {_bytes(m['after_output_dropped'])} "
                    f"(held with output: {_bytes(m['held_with_output'])})")
        verdict = "met" if target["met"] else f"MISSED (+{_bytes(m['after_output_dropped'])})"
    elif target["text"].startswith("<"):
        measured = _time(target["measured"])
        verdict = _verdict(target)
    else:
        measured = _ratio(target["measured"])
        verdict = _verdict(target)
    return cells + [target["text"], measured, verdict]


def _verdict(target):
    if target["met"] is None:
        return "n/a"
    if target["met"]:
        return "met"
    return f"MISSED ({target['measured'] / target['limit']:.2f}x over)"


# -------------------------------------------------------------------------------------- smoke
def _smoke_table(result):
    rows = []
    for entry in result["workloads"]:
        checks = entry.get("checks", {})
        if checks and all(isinstance(v, dict) and "agrees" not in v for v in checks.values()):
            flat = {f"{impl} ({size})": c for size, per in checks.items() for impl, c in per.items()}
        else:
            flat = checks
        agree = ", ".join(f"{name}: {'ok' if c['agrees'] else 'DIFFERS'} ({c['max_abs_error']:.1e})"
                          for name, c in flat.items())
        drawn = ", ".join(f"{r['label']}: {r.get('svg_chars', '')} chars" for r in entry.get("rows", [])
                          if "svg_chars" in r)
        rows.append([entry["id"], entry["title"], entry["status"], agree or drawn or entry.get("note", "")])
    return _markdown(("work", "what", "status", "agrees with hand-written numpy (max abs error)"), rows)


# -------------------------------------------------------------------------------------- notes
def _notes(result):
    lines = []
    for entry in result["workloads"]:
        if entry["status"] != "ok":
            lines.append(f"- {entry['id']}: {entry['status']}: {entry.get('note', '')}")
        for size, per in _flat_checks(entry.get("checks", {})):
            for name, check in per.items():
                if not check["agrees"]:
                    lines.append(f"- {entry['id']}{size}: {name} DIFFERS from hand-written numpy "
                                 f"(max abs error {check['max_abs_error']:.3g})")
    return ([""] + lines) if lines else []


def _flat_checks(checks):
    if checks and all("agrees" not in v for v in checks.values()):
        return [(f" at {size}", per) for size, per in checks.items()]
    return [("", checks)] if checks else []


# ------------------------------------------------------------------------------------ helpers
def _markdown(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    fmt = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |"  # noqa: E731
    return [fmt(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"] + [fmt(r) for r in rows]


def _time(seconds):
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def _ratio(value):
    return "—" if value is None else f"{value:.2f}x"


def _bytes(n):
    sign = "-" if n < 0 else ""
    n = abs(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{sign}{n:.0f} {unit}" if unit == "B" else f"{sign}{n:.1f} {unit}"
        n /= 1024
