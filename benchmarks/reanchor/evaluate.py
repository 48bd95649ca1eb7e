"""Precision and recall of the matcher's moved / renamed / orphaned decisions on the labelled set.

    python benchmarks/reanchor/evaluate.py [--labels heldout.yaml ...] [--out NAME] [--via releases|none|V1,V2]

Reads labels.yaml (fates read by hand from vLLM 0.22.1 and 0.33.0), runs the matcher exactly as
`vmastery reanchor` does, and writes results.md and results.json beside this file. A relocation
(moved or renamed) counts as correct only when it names the labelled target; moved and renamed are
scored together, since the two differ only in whether the last name part changed. A `review`
(the matcher abstains: a person picks among the candidates it lists) is never correct for recall
and is not a prediction for precision; their number is reported as `abstained`.
With `--via releases` (the default, as `vmastery reanchor --to 0.33.0` runs) anchors are carried
through every release between and checked against the direct comparison; `--via none` compares the
two ends only. Results of a `--via none` run are written with a `-direct` suffix.
`--off RULE` switches one of the later rules off to show what it changes (`boilerplate`, round 8;
`shells`, round 10; `modules`, round 11; `namesakes` and `born_after`, round 12; `twins`, round 13;
`in_class`, round 14; `identical` and `carried`, round 15;
`clear_heirs` and `over_rename`, round 16; `far_rename`, round 17; `closures`, round 18;
`standing`, round 19; `imports`, round 20; `importers`, round 21; `interfaces`, round 22); results get a `-without-RULE` suffix.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import yaml

from vmastery.files import write_atomic
from vmastery.reanchor.chain import Chain
from vmastery.reanchor.fetch import tree_for_version
from vmastery.reanchor.plan import Tree, indexes, matcher_for, source_tree, trees_between

RULES = ("boilerplate", "shells", "modules", "namesakes", "born_after", "twins", "in_class", "identical", "carried",
         "clear_heirs", "over_rename", "far_rename", "closures",
         "standing", "imports", "importers", "interfaces", "platforms", "shared", "kept_shells", "kept_identical",
         "code_size", "paired", "absorbed", "imported_heir", "vendors", "twin_methods")  # switches, each True by default
HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def score(rows: list[dict]) -> dict:
    """Precision and recall over `rows`; marks each row `correct` on the way."""
    counts = dict.fromkeys(("reloc_pred", "reloc_true", "reloc_ok", "orph_pred", "orph_true", "orph_ok",
                            "changed_pred", "major_true", "changed_ok", "same_ok", "same_true", "review"), 0)
    for r in rows:
        fate, predicted = r["label"], r["predicted"]
        relocated_true, relocated_pred = fate in {"moved", "renamed"}, predicted in {"moved", "renamed"}
        reloc_ok = relocated_true and relocated_pred and r["predicted_target"] == r["target"]
        r["correct"] = bool((fate == "orphaned" and predicted == "orphaned") or reloc_ok or
                            (fate == "same" and predicted in {"unchanged", "shifted", "changed"}))
        counts["reloc_pred"] += relocated_pred
        counts["reloc_true"] += relocated_true
        counts["reloc_ok"] += reloc_ok
        counts["orph_pred"] += predicted == "orphaned"
        counts["orph_true"] += fate == "orphaned"
        counts["orph_ok"] += fate == "orphaned" and predicted == "orphaned"
        counts["review"] += predicted == "review"
        if fate == "same":
            counts["same_true"] += 1
            counts["same_ok"] += r["correct"]
            counts["changed_pred"] += predicted == "changed"
            counts["major_true"] += r["edit"] == "major"
            counts["changed_ok"] += predicted == "changed" and r["edit"] == "major"
    decided_pred = counts["reloc_pred"] + counts["orph_pred"]
    decided_true = counts["reloc_true"] + counts["orph_true"]
    decided_ok = counts["reloc_ok"] + counts["orph_ok"]
    return {
        "moved_renamed_orphaned": {"precision": ratio(decided_ok, decided_pred), "recall": ratio(decided_ok, decided_true),
                                   "correct": decided_ok, "predicted": decided_pred, "labelled": decided_true,
                                   "abstained": counts["review"]},
        "relocations": {"precision": ratio(counts["reloc_ok"], counts["reloc_pred"]),
                        "recall": ratio(counts["reloc_ok"], counts["reloc_true"]),
                        "correct": counts["reloc_ok"], "predicted": counts["reloc_pred"], "labelled": counts["reloc_true"]},
        "orphans": {"precision": ratio(counts["orph_ok"], counts["orph_pred"]),
                    "recall": ratio(counts["orph_ok"], counts["orph_true"]),
                    "correct": counts["orph_ok"], "predicted": counts["orph_pred"], "labelled": counts["orph_true"]},
        "same_anchor_kept": {"correct": counts["same_ok"], "labelled": counts["same_true"]},
        "changed_vs_major_edit": {"precision": ratio(counts["changed_ok"], counts["changed_pred"]),
                                  "recall": ratio(counts["changed_ok"], counts["major_true"])},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--from", dest="start", help="the release the labels' anchors come from (default: the pin)")
    parser.add_argument("--to", default="0.33.0", help="the release the labels were read against")
    parser.add_argument("--via", default="releases", help="as `vmastery reanchor --via`")
    parser.add_argument("--labels", nargs="+", default=["labels.yaml"],
                        help="files beside this script (heldout.yaml); several are scored as one pool")
    parser.add_argument("--out", help="results file name without suffix (default: from the one labels file)")
    parser.add_argument("--off", nargs="*", default=[], choices=RULES, help="switch these rules off")
    args = parser.parse_args()
    if len(args.labels) > 1 and not args.out:
        parser.error("several --labels files need --out NAME")
    labels = [label for name in args.labels for label in yaml.safe_load((HERE / name).read_text())["labels"]]
    out = (args.out or ("results" if args.labels == ["labels.yaml"] else "results-" + Path(args.labels[0]).stem)) + \
        ("-direct" if args.via == "none" else "") + "".join(f"-without-{rule}" for rule in args.off)
    old_tree = Tree(args.start, tree_for_version(ROOT, args.start), args.start) if args.start else source_tree(ROOT)
    new_tree = Tree(args.to, tree_for_version(ROOT, args.to), args.to)
    between = trees_between(ROOT, old_tree, new_tree, args.via)
    old, new, *indexed = indexes(ROOT, [old_tree, new_tree, *between], False)
    steps = list(zip(between, indexed))
    for label in labels:  # a label that names nothing real is a broken label, not a miss
        assert old.get(label["anchor"]), f"not in {old_tree.label}: {label['anchor']}"
        assert label["fate"] in {"same", "moved", "renamed", "orphaned"}, label
        assert label["fate"] in {"same", "orphaned"} or new.get(label["target"]), f"not in new: {label['target']}"
    started = time.perf_counter()
    matcher = matcher_for(old_tree, new_tree, old, new, steps)
    for m in [matcher, matcher.direct, *matcher.steps] if isinstance(matcher, Chain) else [matcher]:
        for rule in args.off:
            if hasattr(m, rule):  # born_after is the chain's; the others each matcher's
                setattr(m, rule, False)
    decisions = {d.old: d for d in matcher.decide_many([label["anchor"] for label in labels])}
    seconds = time.perf_counter() - started

    rows = []
    for label in labels:
        d = decisions[label["anchor"]]
        rows.append({"anchor": label["anchor"], "label": label["fate"], "target": label.get("target"),
                     "edit": label.get("edit"), "unsure": "unsure" in label.get("why", ""),
                     "predicted": d.state, "predicted_target": d.new, "similarity": d.similarity,
                     "evidence": d.evidence})
    metrics = {"labels": len(labels), "via": [t.label for t, _ in steps], "rules_off": args.off, "seconds": round(seconds, 2),
               **score(rows)}
    # Labels whose reader wrote "unsure:" are judgement calls (a split where the old name survives as
    # a thin wrapper, which platform twin to pick); the figure without them is reported beside, never instead.
    sure = [r for r in rows if not r["unsure"]]
    metrics["labels_marked_unsure"] = len(rows) - len(sure)
    metrics["without_unsure_labels"] = score(sure)["moved_renamed_orphaned"]
    write_atomic(HERE / f"{out}.json", json.dumps({"metrics": metrics, "rows": rows}, indent=1) + "\n")
    lines = [f"# Matcher accuracy on the labelled set (vLLM {old_tree.label} -> {new_tree.label})", "",
             f"Command: `python benchmarks/reanchor/evaluate.py{' --from ' + args.start if args.start else ''}{' --to ' + args.to if args.to != '0.33.0' else ''} --labels {' '.join(args.labels)}{' --out ' + args.out if args.out else ''} --via {args.via}{' --off ' + ' '.join(args.off) if args.off else ''}`", "", "```json", json.dumps(metrics, indent=1), "```", "",
             "## Disagreements", "", "| anchor | label | labelled target | predicted | predicted target | similarity |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        if not r["correct"]:
            lines.append(f"| `{r['anchor']}` | {r['label']}{' (unsure)' if r['unsure'] else ''} | `{r['target'] or '—'}` | {r['predicted']} | "
                         f"`{r['predicted_target'] or '—'}` | {r['similarity']:.2f} |")
    write_atomic(HERE / f"{out}.md", "\n".join(lines) + "\n")
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
