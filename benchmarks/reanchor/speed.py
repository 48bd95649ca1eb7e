"""How long re-anchoring the whole repository plus every vllm/v1/ symbol takes.

    python benchmarks/reanchor/speed.py [--to 0.33.0] [--via releases|none] [--runs 3]

Runs what `vmastery reanchor --to 0.33.0 --coverage` runs (by default stepping through every release
between), each time in a fresh process so no in-memory cache helps: a cold run (the symbol indexes
of every tree but the pin's built from scratch; the sdists already downloaded), then warm runs (index
caches on disk, as on any second run). Writes speed[-direct].json beside this file; the target is
60 s on the 2-core development machine.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from vmastery.files import write_atomic

HERE = Path(__file__).parent
ROOT = HERE.parent.parent

ONE_RUN = """
import sys, time
from pathlib import Path
from vmastery.reanchor.fetch import tree_for_version
from vmastery.reanchor.plan import Tree, indexes, make_plan, source_tree, trees_between
root, version, via = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
old = source_tree(root)
new = Tree(version, tree_for_version(root, version), version)
between = trees_between(root, old, new, via)
old_index, new_index, *indexed = indexes(root, [old, new, *between], False)
steps = list(zip(between, indexed))
t1 = time.perf_counter()
plan = make_plan(root, old, new, old_index, new_index, coverage_prefix="vllm/v1/", via=steps)
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {len(plan.items)} {len(plan.coverage)}", flush=True)
import os; os._exit(0)  # as the vmastery command does (vmastery.cli.entry): no teardown of the indexes
"""


def run_once(version: str, via: str) -> dict:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", ONE_RUN, str(ROOT), version, via], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    total = time.perf_counter() - started
    return {"total_s": round(total, 2), "index_s": float(out[0]), "match_s": float(out[1]),
            "annotation_sites": int(out[2]), "coverage_symbols": int(out[3])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--to", default="0.33.0")
    parser.add_argument("--via", default="releases")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    for cache in (ROOT / ".cache/reanchor").glob("index-vllm-*.json"):
        cache.unlink()
    cold = run_once(args.to, args.via)
    warm = [run_once(args.to, args.via) for _ in range(args.runs)]
    result = {"machine": f"{os.cpu_count()} cores", "load_average_after": os.getloadavg(),
              "command": f"python benchmarks/reanchor/speed.py --to {args.to} --via {args.via}",
              "cold": cold, "warm": warm, "warm_best_total_s": min(w["total_s"] for w in warm),
              "target_s": 60}
    write_atomic(HERE / f"speed{'-direct' if args.via == 'none' else ''}.json", json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
