"""Pool the neighbouring-pair costs of several overhead.py runs of the same code and workload.

    python benchmarks/tracing/pool.py results/h200-small-256-v6 results/h200-small-256-v6b

Each run's pairs stay pairs (round r of run A is never compared with run B); the pooled figure is
the median over all pairs, with the same bootstrap interval as overhead.py.
"""
from __future__ import annotations

import json
import random
import statistics
import sys
from pathlib import Path

from overhead import bootstrap_median


def pair_costs(run: Path, level: str) -> list[float]:
    rows = [r for r in json.loads((run / "overhead.json").read_text())["rows"] if r["series"] == level]
    off = {r["round"]: r["tokens_per_s"] for r in rows if r["level"] == "off"}
    return [100 * (1 - r["tokens_per_s"] / off[r["round"]]) for r in rows if r["level"] == level]


def main(paths: list[str]) -> None:
    here = Path(__file__).parent
    for level in ("span", "fine"):
        costs = [c for p in paths for c in pair_costs(here / p, level)]
        low, high = bootstrap_median(costs, random.Random(0))
        print(f"{level}: {len(costs)} pairs from {len(paths)} runs, paired cost median "
              f"{statistics.median(costs):.2f} % (95 % CI {low:.2f} .. {high:.2f})")


if __name__ == "__main__":
    main(sys.argv[1:])
