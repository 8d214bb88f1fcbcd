"""How fast the sandbox generator makes a world, and how much memory it needs doing it.

    python bench/generate_rate.py                       # 100,000 and 1,000,000 people, records only
    python bench/generate_rate.py 20000 200000 --write  # also write gzip JSON Lines to a temporary file
    python bench/generate_rate.py 20000 200000 --tracemalloc --companies 1000  # heap peak, companies fixed (slow)

Each size runs in its own child process so its peak RSS (ru_maxrss) is its own. Records/second counts
every seed record (owners, companies, deals, contacts, leads, meetings ...); people/second counts people;
both are per wall-clock second. CPU seconds are printed too: on a busy machine they are the fairer figure.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _child(people: int, seed: int, companies: int | None, write: bool, traced: bool) -> None:
    import tracemalloc

    from adapters.sandbox.generate import iter_seed, write_seed

    if traced:
        sum(1 for _ in iter_seed(contacts=100, seed=seed))  # load the vocabulary first: it is not per-person memory
        tracemalloc.start()

    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    began = time.perf_counter()
    if write:
        with tempfile.TemporaryDirectory() as tmp:
            target = Path(tmp) / "world.jsonl.gz"
            records = sum(write_seed(target, contacts=people, seed=seed, companies=companies).values())
            size = target.stat().st_size
    else:
        records = sum(1 for _ in iter_seed(contacts=people, seed=seed, companies=companies))
        size = 0
    seconds = time.perf_counter() - began
    usage = resource.getrusage(resource.RUSAGE_SELF)  # ru_maxrss is KiB on Linux
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    report = {"people": people, "records": records, "seconds": seconds, "cpu": cpu, "peak_kib": usage.ru_maxrss}
    heap = tracemalloc.get_traced_memory()[1] if traced else 0
    print(json.dumps({**report, "bytes": size, "heap_peak": heap}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000], help="people per world")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--write", action="store_true", help="write .jsonl.gz too (measures serialisation)")
    parser.add_argument("--companies", type=int, help="companies per world (default people / 20)")
    parser.add_argument("--tracemalloc", action="store_true", help="also report the traced Python heap peak")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _child(args.child, args.seed, args.companies, args.write, args.tracemalloc)
        return
    header = (
        ("people", 10),
        ("records", 10),
        ("wall s", 7),
        ("cpu s", 7),
        ("records/s", 10),
        ("people/s", 9),
        ("peak RSS", 9),
    )
    print(" ".join(f"{name:>{width}}" for name, width in header), f"{'gz size':>9}", f"{'heap peak':>10}")
    for people in args.sizes:
        command = [sys.executable, __file__, "--child", str(people), "--seed", str(args.seed)]
        command += ["--write"] * args.write + ["--tracemalloc"] * args.tracemalloc
        command += ["--companies", str(args.companies)] if args.companies is not None else []
        result = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        gz = f"{result['bytes'] / 1e6:.1f} MB" if result["bytes"] else "-"
        heap = f"{result['heap_peak'] / 1e6:.1f} MB" if result["heap_peak"] else "-"
        print(
            f"{people:>10,} {result['records']:>10,} {result['seconds']:>7.1f} {result['cpu']:>7.1f} "
            f"{result['records'] / result['seconds']:>10,.0f} {people / result['seconds']:>9,.0f} "
            f"{result['peak_kib'] / 1024:>6.0f} MB {gz:>9} {heap:>10}"
        )


if __name__ == "__main__":
    main()
