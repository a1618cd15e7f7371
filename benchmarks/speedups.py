"""``python -m benchmarks.speedups``: what each speed-up kept in the engine core pays, measured.

Each one is switched off in turn (monkeypatched, in this process only) and the workload it serves is
timed against the engine as it is, interleaved, process CPU time, median of per-round ratios. The
numbers go into benchmarks/PROFILE.md; a speed-up that stops paying should leave the core.
"""
import gc
import os
import statistics
import time

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import autodiff_nb  # noqa: E402
from autodiff_nb import tape  # noqa: E402

from . import runner  # noqa: E402


def _step(wid):
    inputs, kwargs = runner._setup(wid, runner.W.WORKLOADS[wid]["size"])
    step, _ = runner.MAKE[wid](autodiff_nb, inputs, **kwargs)
    return step


def _time(step, n):
    start = time.process_time()
    for _ in range(n):
        step()
    return time.process_time() - start


class _collector_running(tape.backward_mode):
    def __enter__(self):
        self.grad_mode, tape.mode.enabled = tape.mode.enabled, self.records
        self.collecting = False


SWITCHES = {
    "collector pause (E)": ("E", 1, lambda: setattr(tape, "backward_mode", _collector_running)),
}


def main(rounds=7):
    for title, (wid, n, switch_off) in SWITCHES.items():
        saved = {"backward_mode": tape.backward_mode}
        step = _step(wid)
        step()
        ratios = []
        for _ in range(rounds):
            with_it = _time(step, n)
            switch_off()
            without = _time(step, n)
            tape.backward_mode = saved["backward_mode"]
            gc.collect()
            ratios.append(without / with_it)
        print(f"{title}: without it the workload takes {statistics.median(ratios):.2f}x as long "
              f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})")


if __name__ == "__main__":
    main()
