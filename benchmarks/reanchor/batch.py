"""How much a decision depends on the other anchors asked with it.

    python benchmarks/reanchor/batch.py        # writes batch.md and batch.json beside this file

Competing claims on one new symbol are settled one to one among the anchors of a batch and their
file-mates, so the same anchor asked in another company could be decided otherwise. This decides
every labelled anchor three ways and counts the differences against the reference, a batch holding
every lost symbol of every pair of trees compared (which no run asks for: it costs more than a run):

- `labels`: one batch of all labels, as `evaluate.py` scores `results-tuned-sets`;
- `per_set_direct`: each set in its own batch, comparing the two ends only (the walk through the
  releases between is left out here: it is what makes the full batch expensive).

Precision and recall of each way are given too, so a difference in company can be told apart from a
difference in accuracy.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import yaml
from rich.progress import track

from vmastery.files import write_atomic
from vmastery.reanchor.chain import Chain
from vmastery.reanchor.fetch import tree_for_version
from vmastery.reanchor.match import Matcher
from vmastery.reanchor.plan import Tree, indexes, matcher_for, source_tree, trees_between

from evaluate import score

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def every_lost(m: Matcher) -> None:
    m.decide_many([a for a in m.old.by_anchor if a not in m.new.by_anchor])


def outcome(d) -> list:
    return [d.state, d.new]


def accuracy(labels: list[dict], decided: dict) -> dict:
    rows = [{"label": l["fate"], "target": l.get("target"), "edit": l.get("edit"),
             "predicted": decided[l["anchor"]][0], "predicted_target": decided[l["anchor"]][1]} for l in labels]
    return score(rows)["moved_renamed_orphaned"]


def main() -> None:
    sets = {p.stem: yaml.safe_load(p.read_text())["labels"]
            for p in [HERE / "labels.yaml", *sorted(HERE.glob("heldout*.yaml"))]}
    labels = [label for group in sets.values() for label in group]
    anchors = list(dict.fromkeys(label["anchor"] for label in labels))
    old, new = source_tree(ROOT), Tree("0.33.0", tree_for_version(ROOT, "0.33.0"), "0.33.0")
    via = trees_between(ROOT, old, new, "releases")
    idx = indexes(ROOT, [old, *via, new], True)

    def make() -> Chain:
        return matcher_for(old, new, idx[0], idx[-1], list(zip(via, idx[1:-1])))

    start = time.perf_counter()
    full = make()
    for m in track([full.direct, *full.steps], description="every lost symbol, every pair"):
        every_lost(m)
    seconds_full = time.perf_counter() - start
    reference = {a: outcome(d) for a, d in zip(anchors, full.decide_many(anchors))}
    direct_reference = {a: outcome(full.direct.decide(a)) for a in anchors}

    together = {a: outcome(d) for a, d in zip(anchors, make().decide_many(anchors))}
    per_set: dict[str, list] = {}
    for name, group in track(sets.items(), description="each set alone, ends only"):
        asked = [label["anchor"] for label in group]
        per_set.update({a: outcome(d) for a, d in zip(asked, Matcher(idx[0], idx[-1]).decide_many(asked))})

    def differences(decided: dict, against: dict) -> list[dict]:
        return [{"anchor": a, "reference": against[a], "here": decided[a]} for a in anchors if decided[a] != against[a]]

    result = {
        "labels": len(anchors), "seconds_every_lost_symbol": round(seconds_full, 1),
        "full_batch": accuracy(labels, reference),
        "labels_in_one_batch": {**accuracy(labels, together), "differ": differences(together, reference)},
        "full_batch_direct": accuracy(labels, direct_reference),
        "per_set_direct": {**accuracy(labels, per_set), "differ": differences(per_set, direct_reference)},
    }
    write_atomic(HERE / "batch.json", json.dumps(result, indent=1) + "\n")
    lines = ["# How much a decision depends on its batch", "", "Command: `python benchmarks/reanchor/batch.py`", "",
             f"{len(anchors)} labelled anchors; deciding every lost symbol of every pair of trees took"
             + f" {seconds_full:.0f} s.", "",
             "| way | differs from the full batch | precision | recall |", "|---|---|---|---|"]
    for key, against in (("labels_in_one_batch", "full_batch"), ("per_set_direct", "full_batch_direct")):
        r, ref = result[key], result[against]
        lines.append(f"| `{key}` | {len(r['differ'])} | {r['precision']} (full batch {ref['precision']}) | "
                     + f"{r['recall']} (full batch {ref['recall']}) |")
    for key in ("labels_in_one_batch", "per_set_direct"):
        lines += ["", f"## `{key}`: where it differs", "", "| anchor | full batch | here |", "|---|---|---|"]
        lines += [f"| `{d['anchor']}` | {d['reference'][0]} `{d['reference'][1] or ''}` | {d['here'][0]} `{d['here'][1] or ''}` |"
                  for d in result[key]["differ"]]
    write_atomic(HERE / "batch.md", "\n".join(lines) + "\n")
    print("\n".join(lines[:10]))


if __name__ == "__main__":
    main()
