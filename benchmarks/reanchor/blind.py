"""The blind ledger: every set scored once, before it was studied, with the matcher of its round, pooled.

    python benchmarks/reanchor/blind.py        # writes blind.md and blind.json beside this file

Each row reads a results file that evaluate.py wrote when the set was scored (those files are kept as
scored; a later study writes the pooled `results-tuned-sets*` instead). Only the rounds that step
through the releases between are listed: rounds 9 to 24, fifty-three sets labelled by readers who never
ran the matcher, each committed before it was scored.
"""
from __future__ import annotations

import json
from pathlib import Path

from vmastery.files import write_atomic

HERE = Path(__file__).parent
LEDGER: list[tuple[int | str, str, str]] = [  # (round, results file without suffix, sets)
    (9, "results-round9-blind", "heldout10-13"),
    (10, "results-heldout14", "heldout14"),
    (11, "results-round11-blind", "heldout15-16"),
    (12, "results-round12-blind", "heldout17-18"),
    (13, "results-round13-blind", "heldout19-20"),
    (14, "results-round14-blind", "heldout21-22"),
    ("14, again", "results-round14-confirm", "heldout23-24"),  # the same code, no new rules: a second draw
    (15, "results-round15-blind", "heldout25-26"),
    (16, "results-round16-blind", "heldout27-28"),
    (17, "results-round17-blind", "heldout29-30"),
    (18, "results-round18-blind", "heldout31-32"),
    (19, "results-round19-blind", "heldout33-34"),
    ("19, again", "results-round19-confirm", "heldout35-36"),  # the same code, no new rules: a second draw
    ("19, third draw", "results-round19-confirm2", "heldout37-38"),
    (20, "results-round20-blind", "heldout39-40"),
    (21, "results-round21-blind", "heldout41-42"),
    ("21, again", "results-round21-confirm", "heldout43-44"),  # the same code, no new rules: a second draw
    ("21, third draw", "results-round21-confirm2", "heldout45-46"),
    (22, "results-round22-blind", "heldout47-48"),
    ("22, again", "results-round22-confirm", "heldout49-50"),  # the same code, no new rules: a second draw
    ("22, third draw", "results-round22-confirm2", "heldout51-52"),
    ("22, fourth draw", "results-round22-confirm3", "heldout53-54"),
    ("22, fifth draw", "results-round22-confirm4", "heldout55-56"),
    (23, "results-round23-blind", "heldout57-58"),
    (24, "results-round24-blind", "heldout59-60"),
    ("24, again", "results-round24-confirm", "heldout61-62"),
]


def ratio(a: int, b: int) -> float:
    return round(a / b, 4)


def main() -> None:
    rows, total = [], {"labels": 0, "correct": 0, "predicted": 0, "labelled": 0, "abstained": 0}
    for round_, name, sets in LEDGER:
        metrics = json.loads((HERE / f"{name}.json").read_text())["metrics"]
        m = metrics["moved_renamed_orphaned"]
        row = {"round": round_, "sets": sets, "file": f"{name}.md", "labels": metrics["labels"],
               **{k: m[k] for k in ("correct", "predicted", "labelled", "abstained")}}
        rows.append(row)
        for key in total:
            total[key] += row[key]
    pooled = {**total, "precision": ratio(total["correct"], total["predicted"]),
              "recall": ratio(total["correct"], total["labelled"])}
    write_atomic(HERE / "blind.json", json.dumps({"rounds": rows, "pooled": pooled}, indent=1) + "\n")
    lines = ["# Blind scores, pooled", "", "Command: `python benchmarks/reanchor/blind.py`", "",
             "| round | sets | labels | precision | recall | reviews | results |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['round']} | {r['sets']} | {r['labels']} | {ratio(r['correct'], r['predicted'])} "
                     f"({r['correct']}/{r['predicted']}) | {ratio(r['correct'], r['labelled'])} "
                     f"({r['correct']}/{r['labelled']}) | {r['abstained']} | `{r['file']}` |")
    lines.append(f"| **all** | {rows[0]['sets'].split('-')[0]}-{rows[-1]['sets'].split('-')[-1]} | {pooled['labels']} | **{pooled['precision']}** "
                 f"({pooled['correct']}/{pooled['predicted']}) | **{pooled['recall']}** "
                 f"({pooled['correct']}/{pooled['labelled']}) | {pooled['abstained']} | |")
    write_atomic(HERE / "blind.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
