"""How long re-anchoring the whole repository plus every vllm/v1/ symbol takes.

    python benchmarks/reanchor/speed.py [--new-tree PATH] [--runs 3]

Measures three things, each in a fresh process so no in-memory cache helps: a cold run (the new
tree's symbol index built from scratch), and warm runs (index cache on disk, as on any second run).
Writes speed.json beside this file; the target is 60 s on the 2-core development machine.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent.parent

ONE_RUN = """
import sys, time
from pathlib import Path
from vmastery.reanchor.plan import Tree, index, make_plan, source_tree
root, new_root = Path(sys.argv[1]), Path(sys.argv[2])
t0 = time.perf_counter()
old = source_tree(root)
new = Tree(str(new_root), new_root, None)
old_index, new_index = index(root, old, False), index(root, new, False)
t1 = time.perf_counter()
plan = make_plan(root, old, new, old_index, new_index, coverage_prefix="vllm/v1/")
t2 = time.perf_counter()
print(f"{t1 - t0:.3f} {t2 - t1:.3f} {len(plan.items)} {len(plan.coverage)}")
"""


def run_once(new_tree: Path) -> dict:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", ONE_RUN, str(ROOT), str(new_tree)], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    total = time.perf_counter() - started
    return {"total_s": round(total, 2), "index_s": float(out[0]), "match_s": float(out[1]),
            "annotation_sites": int(out[2]), "coverage_symbols": int(out[3])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--new-tree", type=Path, default=ROOT / ".cache/trees/vllm-0.33.0")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cache = ROOT / ".cache/reanchor" / f"index-{args.new_tree.resolve().name}.json"
    cache.unlink(missing_ok=True)
    cold = run_once(args.new_tree)
    warm = [run_once(args.new_tree) for _ in range(args.runs)]
    result = {"machine": f"{os.cpu_count()} cores", "load_average_after": os.getloadavg(),
              "cold": cold, "warm": warm, "warm_best_total_s": min(w["total_s"] for w in warm),
              "target_s": 60}
    (HERE / "speed.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
