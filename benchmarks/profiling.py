"""``python -m benchmarks.profiling A [B C' E ...]``: where our engine's time goes, per workload.

Runs the engine's version of each workload (the full size, as ``make bench`` does) under cProfile
and prints the functions with the most time of their own, per call of the step and per recorded op.
cProfile adds a fixed cost to every Python call (it roughly quadruples A), so read the call counts
and the shares, not the absolute times.

``python -m benchmarks.profiling --loop SECONDS A`` only runs the step in a loop, unprofiled, for a
sampling profiler outside the process: ``py-spy record --format raw -o A.txt -- python -m
benchmarks.profiling --loop 20 A`` (py-spy is not a project dependency: install it apart).
"""
import cProfile
import os
import pstats
import sys

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


def profile(wid, calls=None, top=25):
    import autodiff_nb

    from . import runner, workloads

    size = workloads.WORKLOADS[wid]["size"]
    inputs, kwargs = runner._setup(wid, size)
    step, _ = runner.MAKE[wid](autodiff_nb, inputs, **kwargs)
    step()  # warm-up
    calls = calls or {"A": 2000, "B": 20000, "C": 100, "C'": 1000, "D": 2, "E": 3}[wid]
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        step()
    profiler.disable()
    stats = pstats.Stats(profiler)
    ops = _recorded_ops(wid, size)
    total = stats.total_tt
    print(f"== {wid}: {calls} steps, {ops} recorded ops per step; profiled total {total / calls * 1e6:.1f} µs "
          f"per step, {total / calls / ops * 1e6:.2f} µs per op")
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    print(f"{'own µs/op':>10} {'cum µs/op':>10} {'calls/op':>9}  function")
    for (path, line, name), (cc, nc, tt, ct, _) in rows:
        where = f"{os.path.basename(path)}:{line}" if line else path
        print(f"{tt / calls / ops * 1e6:10.3f} {ct / calls / ops * 1e6:10.3f} {nc / calls / ops:9.2f}  {name} ({where})")
    print()


def _recorded_ops(wid, size):
    if wid in ("A",):
        return size["n_ops"]
    if wid == "D":
        return size["long"]
    if wid == "E":
        return 3 * size["n"] - 1
    if wid == "B":
        return 2
    return 9  # C, C': matmul, add, relu, matmul, add, log_softmax, mul, sum, neg/div


def loop(wid, seconds):
    import time

    import autodiff_nb

    from . import runner, workloads

    inputs, kwargs = runner._setup(wid, workloads.WORKLOADS[wid]["size"])
    step, _ = runner.MAKE[wid](autodiff_nb, inputs, **kwargs)
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        step()


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--loop"]:
        seconds, args = float(args[1]), args[2:]
        for wid in args:
            loop(wid, seconds)
    else:
        for wid in args or ["A", "B", "C'", "E"]:
            profile(wid)
