"""make fuzz: the differential fuzz at scale, PyTorch against autodiff_nb (tests/fuzz).

    python tools/fuzz.py                      # 2,000 programs per family, 2 processes
    python tools/fuzz.py --programs 500 --family views --show-known
    python tools/fuzz.py --list-known          # known.py's open entries as the README's list
    python tools/fuzz.py --list-deliberate     # and its deliberate exceptions

Prints new divergences in full (the first 20 per family), known ones (tests/fuzz/known.py) counted
per entry, and "N programs, M divergences". Exits 1 when a divergence is new, or when a known entry
no longer matches anything (the engine was fixed: delete the entry).
"""
import argparse
import multiprocessing
import os
import sys
import time

# The engine of this checkout (not whichever one is installed), and the fuzz package in its tests/.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "tests")]

from fuzz import known as known_module          # noqa: E402
from fuzz.programs import FAMILIES               # noqa: E402
from fuzz.runner import FamilyResult, report, run_family   # noqa: E402

CHUNK = 250


def run_chunk(job):
    """One slice of one family, in a worker. Known entries go back by index: their predicates are
    lambdas, which do not pickle."""
    import torch
    import autodiff_nb
    family, start, count = job
    result = run_family(family, count, torch, autodiff_nb, start=start, examples=start == 0)
    by_index = {known_module.KNOWN.index(k): v for k, v in result.known.items()}
    return family, result.programs, result.new, by_index


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=2000, help="programs per family (default 2000)")
    parser.add_argument("--family", action="append", choices=list(FAMILIES), help="only these families")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--show-known", action="store_true", help="print one program per known entry")
    parser.add_argument("--list-known", action="store_true", help="print known.py's open entries as the README's list and stop")
    parser.add_argument("--list-deliberate", action="store_true",
                        help="print known.py's deliberate exceptions as the README's list and stop")
    args = parser.parse_args(argv)
    if args.list_known or args.list_deliberate:
        for entry in known_module.KNOWN:
            if bool(entry.deliberate) == args.list_deliberate:
                reason = f". Why: {entry.deliberate}." if entry.deliberate else ""
                print(f"- *{entry.bullet}* ({entry.example}): {entry.description}{reason}")
        return 0

    families = args.family or list(FAMILIES)
    jobs = [(family, start, min(CHUNK, args.programs - start))
            for family in families for start in range(0, args.programs, CHUNK)]
    began = time.perf_counter()
    with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
        parts = pool.map(run_chunk, jobs, chunksize=1)
    results = {f: FamilyResult(f) for f in families}
    for family, programs, new, by_index in parts:
        result = results[family]
        result.programs += programs
        result.new += new
        for index, divergences in by_index.items():
            result.known.setdefault(known_module.KNOWN[index], []).extend(divergences)
    print(report(list(results.values()), show_known=args.show_known))
    print(f"({time.perf_counter() - began:.0f} s, {args.jobs} processes)")
    new = sum(len(r.new) for r in results.values())
    stale = sum(len(r.stale()) for r in results.values())
    return 1 if new or stale else 0


if __name__ == "__main__":
    sys.exit(main())
