"""Time the symbol index of the whole pinned tree: cold (no cache) and warm (cache hit).

Each run is a fresh process, timed from outside (wall clock, so interpreter start-up and imports
count), repeated; the medians go to RESULTS.md and every raw figure to raw.json.
Targets from the spine issue: cold <= 10 s, warm <= 1 s on the project's 2-core machine.

    python benchmarks/index/bench_index.py [--runs 5]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from vmastery.files import write_atomic

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PROGRAM = """
import sys, time
from pathlib import Path
from vmastery.symbols import SymbolIndex
started = time.perf_counter()
index = SymbolIndex.build(Path(sys.argv[1]), Path(sys.argv[2]), progress=False)
print(len(index), len(index.by_file), round(time.perf_counter() - started, 3))
"""


def one_run(cache: Path) -> dict:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PROGRAM, str(ROOT / "upstream"), str(cache)],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    return {"wall_s": round(time.perf_counter() - started, 3), "symbols": int(out[0]),
            "files": int(out[1]), "in_process_s": float(out[2])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    raw: dict[str, list[dict]] = {"cold": [], "warm": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            cache = Path(tmp) / f"cache-{i}.json"
            raw["cold"].append(one_run(cache))  # no cache file yet: parse everything
            raw["warm"].append(one_run(cache))  # same cache: every file's stamp matches
    medians = {kind: statistics.median(r["wall_s"] for r in runs) for kind, runs in raw.items()}
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    write_atomic(HERE / "raw.json", json.dumps({"machine": machine, "runs": raw}, indent=1))
    first = raw["cold"][0]
    table = "\n".join(
        f"| {kind} | {medians[kind]:.2f} s | {min(r['wall_s'] for r in raw[kind]):.2f}–"
        f"{max(r['wall_s'] for r in raw[kind]):.2f} s | {statistics.median(r['in_process_s'] for r in raw[kind]):.2f} s | {target} |"
        for kind, target in (("cold", "≤ 10 s"), ("warm", "≤ 1 s")))
    write_atomic(
        HERE / "RESULTS.md",
        f"# Symbol index timing\n\nMeasured by `python benchmarks/index/bench_index.py --runs {args.runs}` "
        f"on {machine}.\nWhole pinned tree: {first['files']} files, {first['symbols']} symbols. "
        "Wall time of a fresh process (start-up and imports included); raw figures in `raw.json`.\n\n"
        "| run | median wall | range | median in-process | target |\n|---|---|---|---|---|\n"
        f"{table}\n")
    print((HERE / "RESULTS.md").read_text())


if __name__ == "__main__":
    main()
