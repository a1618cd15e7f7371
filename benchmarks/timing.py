"""Interleaved timing with medians, and peak memory.

Every implementation of a workload is timed in the same process, in rounds: each round runs each
implementation once (``number`` calls in a loop, as ``timeit`` does), starting the round with a
different implementation each time, so slow drifts of the machine (frequency, a neighbour's load)
fall on all of them alike. A ratio is taken inside each round and the median of those is reported.

The garbage collector stays on while timing (it is part of what a user pays for an engine that
makes many Python objects); ``gc.collect()`` runs before each timed block so one implementation's
garbage is not collected on another's clock. Everything alive when timing starts (PyTorch's ~150,000
module objects, the inputs) is moved out of the collector's sight with ``gc.freeze()``: otherwise
every full collection the engine triggers would also walk PyTorch's objects, a cost a user of the
engine alone never pays.

The clock is the process's CPU time by default, not the wall clock: this machine is shared (other
work runs beside the benchmark on its two cores), and time spent descheduled is nobody's cost. Every
implementation here runs on one thread in this process, so on an idle machine the two agree.
``CLOCKS["wall"]`` is there for comparison (``--clock wall``).
"""
from __future__ import annotations

import gc
import math
import statistics
import time
import tracemalloc

CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def calibrate(step, min_time: float, clock=time.perf_counter) -> int:
    """How many calls make one timed block last about ``min_time`` seconds (at least one call)."""
    step()  # warm-up: first calls fill caches and allocate
    number = 1
    while True:
        elapsed = _time_block(step, number, clock)
        if elapsed >= min_time / 5 or number >= 1_000_000:
            break
        number *= 10
    return max(1, math.ceil(number * min_time / max(elapsed, 1e-9)))


def interleaved(entries, *, repeats: int, min_time: float, clock="cpu") -> dict:
    """Time each ``(label, step)`` ``repeats`` times, interleaved; returns {label: [seconds per call]}."""
    clock = CLOCKS[clock]
    numbers = {label: calibrate(step, min_time, clock) for label, step in entries}
    samples = {label: [] for label, _ in entries}
    gc.collect()
    gc.freeze()
    try:
        for r in range(repeats):
            shift = r % len(entries)
            for label, step in entries[shift:] + entries[:shift]:
                gc.collect()
                samples[label].append(_time_block(step, numbers[label], clock) / numbers[label])
    finally:
        gc.unfreeze()
    return samples


def _time_block(step, number: int, clock) -> float:
    start = clock()
    for _ in range(number):
        step()
    return clock() - start


def median(values):
    return statistics.median(values) if values else None


def median_ratio(samples: dict, top: str, bottom: str):
    """The median over rounds of ``top``'s time / ``bottom``'s time in the same round."""
    if top not in samples or bottom not in samples:
        return None
    return statistics.median(a / b for a, b in zip(samples[top], samples[bottom]))


def memory_of(step) -> dict:
    """Bytes traced by tracemalloc (Python objects and numpy buffers) around one call of ``step``.

    ``peak``: the most held at once during the call; ``held_with_output``: still held when the call
    returned, while its result (e.g. the output tensor and so its graph) is alive;
    ``after_output_dropped``: still held once the result is dropped and garbage collected.
    All relative to the start. C++ allocations (PyTorch's) are invisible to tracemalloc.
    """
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        result = step()
        held, peak = tracemalloc.get_traced_memory()
        del result
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return {"peak": peak - start, "held_with_output": held - start, "after_output_dropped": after - start}
