"""How often two human readers agree on a fate, and how the matcher scores where they do.

    python benchmarks/reanchor/agreement.py                                  # sets 10-13 -> agreement.md
    python benchmarks/reanchor/agreement.py --sets 33 34 35 36 37 38 39 40 --out agreement-33-40
    python benchmarks/reanchor/agreement.py --sets 1 2 --dir from-0.27.0 --blind from-0.27.0/results-round24-blind \
        --out from-0.27.0/agreement

Each blind set `heldoutN.yaml` was read a second time, by another reader who saw neither the first
reader's labels nor the matcher (`second/heldoutN.yaml`). This compares the two readings with the
same measure the matcher is held to (the second reader as the "prediction", the first as the truth),
gives Cohen's kappa over the fate (same / relocated / orphaned), and scores the matcher on the
anchors both readers labelled alike: a consensus oracle, picked without looking at the matcher.
The matcher's decisions are read twice: as each set was scored blind (the results file `blind.py`'s
ledger names for it, and its `-direct` twin comparing the ends only), and as the code in the
repository decides them now (`results-tuned-sets.json`; run evaluate.py over every set first).
A second reading whose `why` starts with CONTAMINATED (its reader caught sight of the first label)
is left out. With `--third FILE ...` (`third/heldout27-46.yaml`, ...: a third reader's deciding
reading of every anchor the two disagreed on, shown both fates unattributed) the two readings become one
adjudicated oracle covering every anchor read twice, unsure ones included: each reader alone and
the matcher are scored against it. Writes OUT.md and OUT.json beside this file.
"""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import yaml

from vmastery.files import write_atomic

from blind import LEDGER  # which results file holds each set's blind scoring
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


def blind_results(n: str) -> str:
    """The results file that scored set `n` blind, as the ledger records it."""
    for _, name, sets in LEDGER:
        first, _, last = sets.removeprefix("heldout").partition("-")
        if int(first) <= int(n) <= int(last or first):
            return name
    raise SystemExit(f"heldout{n}: not in blind.py's LEDGER\n    fix: score the set blind and add its row first")


def decisions(name: str) -> dict[str, tuple]:
    rows = json.loads((HERE / f"{name}.json").read_text())["rows"]
    return {r["anchor"]: outcome(r["predicted"], r["predicted_target"]) for r in rows}


def load(path: Path) -> dict[str, dict]:
    return {label["anchor"]: label for label in yaml.safe_load(path.read_text())["labels"]}


def adjudicated(third: list[str], both: list[str], agree: list[str], sure: list[str],
                truth: dict[str, tuple]) -> tuple[dict[str, tuple], list[str]]:
    """One oracle for every anchor read twice: the shared reading where the two agree, the third
    reading where they do not; and the anchors of it no reader who settled them called unsure."""
    deciding = {a: label for name in third for a, label in load(HERE / name).items()}
    missing = sorted(set(both) - set(agree) - set(deciding))
    if missing:
        raise SystemExit(f"{' '.join(third)}: no deciding reading of {len(missing)} disputed anchor(s), e.g. {missing[0]}\n"
                         "    fix: have a third reader label them, or leave --third out")
    gold = {a: truth[a] if a in agree else outcome(deciding[a]["fate"], deciding[a].get("target")) for a in both}
    trusted = set(sure) | {a for a in both if a not in agree and not str(deciding[a].get("why", "")).startswith("unsure")}
    return gold, [a for a in both if a in trusted]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", nargs="+", default=["10", "11", "12", "13"])
    parser.add_argument("--out", default="agreement", help="OUT.md and OUT.json (default agreement)")
    parser.add_argument("--third", nargs="+", help="deciding readings of the disagreements, relative to this folder")
    parser.add_argument("--dir", default=".", help="where the sets lie, relative to this folder (from-0.27.0)")
    parser.add_argument("--blind", help="the results file that scored them blind (default: blind.py's ledger)")
    args = parser.parse_args()
    first, second = {}, {}
    for n in args.sets:
        first.update(load(HERE / args.dir / f"heldout{n}.yaml"))
        second.update(load(HERE / args.dir / "second" / f"heldout{n}.yaml"))
    # A second reading that caught sight of the first one (its reader says so) is no second opinion.
    seen = sorted(a for a, label in second.items() if str(label.get("why", "")).startswith("CONTAMINATED"))
    both = [a for a in first if a in second and a not in seen]
    truth = {a: outcome(first[a]["fate"], first[a].get("target")) for a in both}
    other = {a: outcome(second[a]["fate"], second[a].get("target")) for a in both}
    agree = [a for a in both if other[a] == truth[a]]
    sure = [a for a in agree if not any(str(r[a].get("why", "")).startswith("unsure") for r in (first, second))]
    result = {
        "anchors_read_twice": len(both), "not_read_twice": len(first) - len(both) - len(seen),
        "left_out_second_reader_saw_first": seen,
        "agree": len(agree), "agreement": round(len(agree) / len(both), 4),
        "kappa_fate": kappa([truth[a][0] for a in both], [other[a][0] for a in both]),
        "second_reader_vs_first": pr([(other[a], truth[a]) for a in both]),
        "first_reader_vs_second": pr([(truth[a], other[a]) for a in both]),
        "agreed_and_sure_for_both": len(sure),
        "disagreements": [{"anchor": a, "first": [first[a]["fate"], first[a].get("target")],
                           "second": [second[a]["fate"], second[a].get("target")]}
                          for a in both if other[a] != truth[a]],
    }
    blind: dict[str, tuple] = {}
    ends: dict[str, tuple] = {}
    for name in [args.blind] if args.blind else dict.fromkeys(blind_results(n) for n in args.sets):
        blind.update(decisions(name))
        ends.update(decisions(f"{name}-direct"))
    # A set outside the ledger has one results file: scored blind, by the code in the repository.
    now = decisions(args.blind) if args.blind else decisions("results-tuned-sets")
    gold, gold_sure = adjudicated(args.third, both, agree, sure, truth) if args.third else ({}, [])
    if gold:
        result["adjudicated"] = len(gold)
        result["adjudicated_sure"] = len(gold_sure)
        result["first_reader_vs_adjudicated"] = pr([(truth[a], gold[a]) for a in both])
        result["second_reader_vs_adjudicated"] = pr([(other[a], gold[a]) for a in both])
    for label, made in (("blind", blind), ("blind_ends_only", ends), ("this_code", now)):
        result[f"matcher_{label}_on_consensus"] = pr([(made[a], truth[a]) for a in agree])
        result[f"matcher_{label}_on_consensus_sure"] = pr([(made[a], truth[a]) for a in sure])
        result[f"matcher_{label}_vs_second_reader"] = pr([(made[a], other[a]) for a in both])
        if gold:
            result[f"matcher_{label}_on_adjudicated"] = pr([(made[a], gold[a]) for a in both])
            result[f"matcher_{label}_on_adjudicated_sure"] = pr([(made[a], gold[a]) for a in gold_sure])
    write_atomic(HERE / f"{args.out}.json", json.dumps(result, indent=1) + "\n")
    summary = {k: v for k, v in result.items() if k != "disagreements"}
    command = f"python benchmarks/reanchor/agreement.py --sets {' '.join(args.sets)}" + \
        (f" --dir {args.dir} --blind {args.blind}" if args.blind else "") + \
        (f" --out {args.out}" if args.out != "agreement" else "") + (f" --third {' '.join(args.third)}" if args.third else "")
    lines = ["# Two readers, and the matcher where they agree", "", f"Command: `{command}`", "",
             "```json", json.dumps(summary, indent=1), "```", "", "## Where the readers disagree", "",
             "| anchor | first reader | second reader |", "|---|---|---|"]
    for d in result["disagreements"]:
        lines.append(f"| `{d['anchor']}` | {d['first'][0]} `{d['first'][1] or ''}` | {d['second'][0]} `{d['second'][1] or ''}` |")
    write_atomic(HERE / f"{args.out}.md", "\n".join(lines) + "\n")
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
