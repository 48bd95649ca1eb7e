"""The blind ledger: every set scored once, before it was studied, with the matcher of its round, pooled.

    python benchmarks/reanchor/blind.py        # writes blind.md and blind.json beside this file

Each row reads a results file that evaluate.py wrote when the set was scored (those files are kept as
scored; a later study writes the pooled `results-tuned-sets*` instead). Only the rounds that step
through the releases between are listed: rounds 9 to 24, fifty-three sets labelled by readers who never
ran the matcher, each committed before it was scored.

The second ledger, `FRESH`, is the same for the populations no rule was read from before they were
scored (symbols born after the pin, `from-0.27.0/` ... `from-0.31.0/`), every set read by two readers
at once: its figures are on the anchors both readers label alike and neither calls unsure (from
`agreement.py`), with every first-reading label beside them.
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
FRESH: list[tuple[int | str, str, str, str]] = [  # (round, agreement file, results file, sets), suffixes off
    (24, "from-0.27.0/agreement", "from-0.27.0/results-round24-blind", "from-0.27.0 1-2"),
    ("24, again", "from-0.27.0/agreement-3-4", "from-0.27.0/results-round24-confirm", "from-0.27.0 3-4"),
    ("24, third draw", "from-0.27.0/agreement-5-6", "from-0.27.0/results-round24-confirm2", "from-0.27.0 5-6"),
    (25, "from-0.27.0/agreement-7-8", "from-0.27.0/results-round25-blind", "from-0.27.0 7-8"),
    (26, "from-0.27.0/agreement-9-10", "from-0.27.0/results-round26-blind", "from-0.27.0 9-10"),
    (26, "from-0.29.0/agreement", "from-0.29.0/results-round26-blind", "from-0.29.0 1-2"),
    ("26, again", "from-0.29.0/agreement-3-4", "from-0.29.0/results-round26-confirm", "from-0.29.0 3-4"),
    ("26, again", "from-0.30.0/agreement", "from-0.30.0/results-round26-blind", "from-0.30.0 1-2"),
    (27, "from-0.30.0/agreement-3-4", "from-0.30.0/results-round27-blind", "from-0.30.0 3-4"),
    (27, "from-0.31.0/agreement", "from-0.31.0/results-round27-blind", "from-0.31.0 1"),
    ("27, again", "from-0.29.0/agreement-5-6", "from-0.29.0/results-round27-confirm", "from-0.29.0 5-6"),
    ("27, again", "from-0.30.0/agreement-5", "from-0.30.0/results-round27-confirm", "from-0.30.0 5"),
]
COUNTS = ("correct", "predicted", "labelled", "abstained")


def ratio(a: int, b: int) -> float:
    return round(a / b, 4)


def pr(counts: dict, top: str, bottom: str) -> str:
    return f"{ratio(counts[top], counts[bottom])} ({counts[top]}/{counts[bottom]})"


def fresh_rows() -> tuple[list[dict], dict]:
    """The FRESH ledger's rows and their sum."""
    rows = []
    for round_, agreement, results, sets in FRESH:
        a = json.loads((HERE / f"{agreement}.json").read_text())
        every = json.loads((HERE / f"{results}.json").read_text())["metrics"]["moved_renamed_orphaned"]
        rows.append({"round": round_, "sets": sets, "anchors": a["anchors_read_twice"], "agree": a["agree"],
                     "consensus": {k: a["matcher_blind_on_consensus_sure"][k] for k in COUNTS},
                     "ends_only": {k: a["matcher_blind_ends_only_on_consensus_sure"][k] for k in COUNTS},
                     "every_label": {k: every[k] for k in COUNTS}})
    pooled = {"anchors": sum(r["anchors"] for r in rows), "agree": sum(r["agree"] for r in rows),
              **{part: {k: sum(r[part][k] for r in rows) for k in COUNTS} for part in ("consensus", "ends_only", "every_label")}}
    return rows, pooled


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
    fresh, fresh_pooled = fresh_rows()
    write_atomic(HERE / "blind.json", json.dumps({"rounds": rows, "pooled": pooled, "fresh": fresh,
                                                  "fresh_pooled": fresh_pooled}, indent=1) + "\n")
    lines = ["# Blind scores, pooled", "", "Command: `python benchmarks/reanchor/blind.py`", "",
             "| round | sets | labels | precision | recall | reviews | results |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['round']} | {r['sets']} | {r['labels']} | {pr(r, 'correct', 'predicted')} | "
                     f"{pr(r, 'correct', 'labelled')} | {r['abstained']} | `{r['file']}` |")
    lines.append(f"| **all** | {rows[0]['sets'].split('-')[0]}-{rows[-1]['sets'].split('-')[-1]} | {pooled['labels']} | **{pooled['precision']}** "
                 f"({pooled['correct']}/{pooled['predicted']}) | **{pooled['recall']}** "
                 f"({pooled['correct']}/{pooled['labelled']}) | {pooled['abstained']} | |")
    lines += ["", "## Fresh populations (two readers, each set scored once)", "",
              "On the anchors both readers label alike and neither calls unsure; `every label`: every "
              "first-reading label, unsure ones included.", "",
              "| round | sets | anchors | readers agree | precision | recall | ends only: P / R | every label: P / R |",
              "|---|---|---|---|---|---|---|---|"]
    for r in [*fresh, {**fresh_pooled, "round": "**all**", "sets": ""}]:
        c, e, f = r["consensus"], r["ends_only"], r["every_label"]
        lines.append(f"| {r['round']} | {r['sets']} | {r['anchors']} | {r['agree']} | {pr(c, 'correct', 'predicted')} | "
                     f"{pr(c, 'correct', 'labelled')} | {ratio(e['correct'], e['predicted'])} / "
                     f"{ratio(e['correct'], e['labelled'])} | {ratio(f['correct'], f['predicted'])} / "
                     f"{ratio(f['correct'], f['labelled'])} |")
    write_atomic(HERE / "blind.md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
