"""`make bench`: run every bench/bench_*.py, print one table, write bench/results/latest.json.

    python -m bench.run            # the full run (under 10 minutes on 2 cores)
    python -m bench.run --quick    # every benchmark in its seconds-long mode
    python -m bench.run gap pages  # only some benchmarks
"""

import argparse
import importlib
import sys
import time
from pathlib import Path

from bench.report import print_table, write_json

HERE = Path(__file__).resolve().parent


def benchmark_names():
    return sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(benchmark_names())})")
    parser.add_argument("--quick", action="store_true", help="seconds per benchmark, to prove they run")
    parser.add_argument("--out", type=Path, help="JSON file (default: bench/results/latest.json)")
    arguments = parser.parse_args(argv)
    names = arguments.names or benchmark_names()
    unknown = sorted(set(names) - set(benchmark_names()))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    rows, started = [], time.monotonic()
    for name in names:
        begun = time.monotonic()
        print(f"== bench {name}{' (quick)' if arguments.quick else ''}", file=sys.stderr, flush=True)
        module = importlib.import_module(f"bench.bench_{name}")
        rows.extend(module.main(quick=arguments.quick))
        print(f"   {name} took {time.monotonic() - begun:.0f} s", file=sys.stderr, flush=True)
    print_table(rows)
    path = write_json(rows, arguments.out) if arguments.out else write_json(rows)
    print(f"\n{len(rows)} results in {time.monotonic() - started:.0f} s, written to {path}")
    return rows


if __name__ == "__main__":
    main()
