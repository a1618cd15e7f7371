"""``python -m benchmarks [--smoke] [--json [PATH]] [--only A,B] [--repeats N] [--clock cpu|wall]``.

``make bench`` pins BLAS and OpenMP to one thread in the environment. Run directly, this module
pins them the same way when they are unset -- before numpy is imported, which is when OpenBLAS
reads them.
"""
import argparse
import os
import sys

for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, each workload once, no timing")
    parser.add_argument("--json", nargs="?", const="-", metavar="PATH",
                        help="write the results as JSON to PATH (or to stdout instead of the table)")
    parser.add_argument("--only", help="comma-separated workloads, e.g. A,B,C'")
    parser.add_argument("--repeats", type=int, help="interleaved rounds per workload (default 7-9)")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="what times A-E: the process's CPU time (default; robust on a shared "
                             "machine) or the wall clock")
    args = parser.parse_args(argv)

    from . import report, runner  # after the thread variables are set

    only = [w.strip() for w in args.only.split(",")] if args.only else None
    unknown = [w for w in only or () if w not in runner.ORDER]
    if unknown:
        parser.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(runner.ORDER)}")
    result = runner.run(only=only, smoke=args.smoke, repeats=args.repeats, clock=args.clock)
    if args.json == "-":
        print(report.to_json(result))
    else:
        print(report.to_text(result))
        if args.json:
            with open(args.json, "w") as f:
                f.write(report.to_json(result) + "\n")
    return 1 if any(w["status"] == "error" for w in result["workloads"]) else 0


if __name__ == "__main__":
    sys.exit(main())
