"""How often two human readers agree on a fate, and how the matcher scores where they do.

    python benchmarks/reanchor/agreement.py [--sets 10 11 12 13]

Each blind set `heldoutN.yaml` was read a second time, by another reader who saw neither the first
reader's labels nor the matcher (`second/heldoutN.yaml`). This compares the two readings with the
same measure the matcher is held to (the second reader as the "prediction", the first as the truth),
gives Cohen's kappa over the fate (same / relocated / orphaned), and scores the matcher on the
anchors both readers labelled alike: a consensus oracle, picked without looking at the matcher.
The matcher's decisions are read from `results-round9-blind[-direct].json` (run evaluate.py first).
Writes agreement.md and agreement.json beside this file.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import yaml

from evaluate import score  # the same counting as every results file

HERE = Path(__file__).parent
RELOCATED = {"moved", "renamed"}


def outcome(fate: str, target: str | None) -> tuple[str, str | None]:
    """A label or decision as what it claims: kept, relocated to a target, orphaned, or left to a person."""
    if fate in RELOCATED:
        return "relocated", target
    if fate in {"same", "unchanged", "shifted", "changed"}:
        return "same", None
    return fate, None  # orphaned, review


def pr(pairs: list[tuple[tuple, tuple]]) -> dict:
    """Precision and recall of moved/renamed/orphaned calls, counted by evaluate.py's `score`."""
    rows = [{"label": "moved" if t[0] == "relocated" else t[0], "target": t[1], "edit": None,
             "predicted": "moved" if p[0] == "relocated" else p[0], "predicted_target": p[1]} for p, t in pairs]
    return score(rows)["moved_renamed_orphaned"]


def kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa: agreement beyond what two readers with these fate frequencies reach by chance."""
    n = len(a)
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    chance = sum(ca[k] * cb[k] for k in ca) / (n * n)
    return round((observed - chance) / (1 - chance), 4) if chance < 1 else 1.0


def load(path: Path) -> dict[str, dict]:
    return {label["anchor"]: label for label in yaml.safe_load(path.read_text())["labels"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", nargs="+", default=["10", "11", "12", "13"])
    args = parser.parse_args()
    first, second = {}, {}
    for n in args.sets:
        first.update(load(HERE / f"heldout{n}.yaml"))
        second.update(load(HERE / "second" / f"heldout{n}.yaml"))
    both = [a for a in first if a in second]
    readers = [(outcome(second[a]["fate"], second[a].get("target")), outcome(first[a]["fate"], first[a].get("target")))
               for a in both]
    agree = [a for a, (x, y) in zip(both, readers) if x == y]
    result = {
        "anchors_read_twice": len(both), "not_read_twice": len(first) - len(both),
        "agree": len(agree), "agreement": round(len(agree) / len(both), 4),
        "kappa_fate": kappa([y[0] for _, y in readers], [x[0] for x, _ in readers]),
        "second_reader_vs_first": pr(readers),
        "first_reader_vs_second": pr([(y, x) for x, y in readers]),
        "disagreements": [{"anchor": a, "first": [first[a]["fate"], first[a].get("target")],
                           "second": [second[a]["fate"], second[a].get("target")]}
                          for a, (x, y) in zip(both, readers) if x != y],
    }
    for name in ("results-round9-blind", "results-round9-blind-direct"):
        rows = {r["anchor"]: r for r in json.loads((HERE / f"{name}.json").read_text())["rows"]}
        decided = [(outcome(rows[a]["predicted"], rows[a]["predicted_target"]), outcome(first[a]["fate"], first[a].get("target")))
                   for a in agree]
        result[name.replace("results-", "matcher_on_consensus_")] = pr(decided)
        vs_second = [(outcome(rows[a]["predicted"], rows[a]["predicted_target"]),
                      outcome(second[a]["fate"], second[a].get("target"))) for a in both]
        result[name.replace("results-", "matcher_vs_second_reader_")] = pr(vs_second)
    (HERE / "agreement.json").write_text(json.dumps(result, indent=1) + "\n")
    summary = {k: v for k, v in result.items() if k != "disagreements"}
    lines = ["# Two readers, and the matcher where they agree", "",
             f"Command: `python benchmarks/reanchor/agreement.py --sets {' '.join(args.sets)}`", "",
             "```json", json.dumps(summary, indent=1), "```", "", "## Where the readers disagree", "",
             "| anchor | first reader | second reader |", "|---|---|---|"]
    for d in result["disagreements"]:
        lines.append(f"| `{d['anchor']}` | {d['first'][0]} `{d['first'][1] or ''}` | {d['second'][0]} `{d['second'][1] or ''}` |")
    (HERE / "agreement.md").write_text("\n".join(lines) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
