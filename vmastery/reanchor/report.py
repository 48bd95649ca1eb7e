"""The report of a run: Markdown for the person reviewing a pin bump, JSON for tools and the site.

The Markdown puts what needs a human first (orphaned, changed, moved/renamed with their evidence),
and folds the rest into counts. The JSON carries every item; with code it also carries each note's
old and new code and their diff, which is what the site reads to say "the code changed since this
note was written".
"""
from __future__ import annotations

import json

from .plan import ANCHORED, Item, Plan

ORDER = ["review", "orphaned", "changed", "renamed", "moved", "shifted", "unchanged"]


def invariant(plan: Plan) -> dict[str, int]:
    """No anchor is lost: every site in is anchored somewhere, kept as an orphan, or left in place for review."""
    total = len(plan.items)
    anchored = sum(1 for i in plan.items if i.state in ANCHORED)
    orphaned = sum(1 for i in plan.items if i.state == "orphaned")
    review = sum(1 for i in plan.items if i.state == "review")
    if anchored + orphaned + review != total:
        raise AssertionError(f"lost anchors: {total} in, {anchored} anchored + {orphaned} orphaned + {review} review")
    return {"in": total, "anchored": anchored, "orphaned": orphaned, "review": review}


def _compact(data: dict) -> dict:
    return {k: v for k, v in data.items() if v is not None and v != []}


def _coverage_row(item: Item) -> dict:
    row = {"anchor": item.anchor, "state": item.state, "similarity": item.similarity}
    if item.new_anchor not in (None, item.anchor):
        row["new_anchor"] = item.new_anchor
    if item.state in {"moved", "renamed", "orphaned", "review"}:  # the two nearest candidates; the Markdown shows as many
        row.update(_compact({"confidence": item.confidence, "evidence": item.evidence, "candidates": item.candidates[:2]}))
    return row


def to_json(plan: Plan, with_code: bool = True, seconds: float | None = None) -> str:
    data = {
        "from": plan.old.label, "to": plan.new.label, "via": plan.via,
        "invariant": invariant(plan),
        "counts": plan.counts(),
        "coverage_counts": plan.counts(plan.coverage),
        # Fields that are null or empty are left out (a reader uses .get), to keep the report small.
        "items": [_compact(i.as_json(with_code)) for i in plan.items],
        "edits": [{"path": e.path, "dest": e.dest, "reason": e.reason} for e in plan.edits],
        # Coverage is thousands of symbols: one short row each; `new_anchor` only when it differs from
        # `anchor`, evidence and candidates only for moved, renamed and orphaned symbols.
        "coverage": [_coverage_row(i) for i in plan.coverage],
    }
    if seconds is not None:
        data["seconds"] = round(seconds, 2)
    return json.dumps(data, separators=(",", ":")).replace('{"kind"', '\n{"kind"') + "\n"


def _where(item: Item) -> str:
    return f"{item.file}:{item.line}" if item.file else item.anchor


def _row(item: Item) -> str:
    target = f"`{item.new_anchor}`" if item.new_anchor else "—"
    extra = "; ".join(item.evidence)
    if item.state in {"orphaned", "review"} and item.candidates:
        extra += ("; pick one of: " if item.state == "review" else "; nearest: ") + ", ".join(f"`{a}` ({s:.2f})" for a, s in item.candidates[:2])
    quote = f" quote `{item.quote}`" if item.quote else ""
    return (f"| {item.kind} | {_where(item)} | `{item.anchor}`{quote} | {item.state} | {target} | "
            f"{item.similarity:.2f} | {item.confidence:.2f} | {extra} |")


def to_markdown(plan: Plan, seconds: float | None = None, coverage_detail: bool = True) -> str:
    inv = invariant(plan)
    lines = [f"# Re-anchoring report: vLLM {plan.old.label} → {plan.new.label}", ""]
    if seconds is not None:
        lines.append(f"Run time: {seconds:.1f} s.")
    lines.append(f"Stepped through {len(plan.via)} releases between ({', '.join(plan.via)}), each result checked "
                 "against the direct comparison." if plan.via else "The two trees were compared directly.")
    lines += [
        f"Anchors in: **{inv['in']}** = anchored **{inv['anchored']}** + orphaned **{inv['orphaned']}** "
        f"+ left for review **{inv['review']}** (nothing is dropped; orphans are kept with a snapshot "
        "reference; a review keeps its note in place and lists the candidates a person picks from).", "",
        "| state | annotation sites | " + ("coverage symbols |" if plan.coverage else ""),
        "|---|---|" + ("---|" if plan.coverage else ""),
    ]
    counts, coverage = plan.counts(), plan.counts(plan.coverage)
    for state in ORDER:
        lines.append(f"| {state} | {counts.get(state, 0)} | " + (f"{coverage.get(state, 0)} |" if plan.coverage else ""))
    header = ["", "| kind | where | anchor | state | now | similarity | confidence | evidence |",
              "|---|---|---|---|---|---|---|---|"]
    review = [i for i in plan.items if i.state in {"review", "orphaned", "changed", "renamed", "moved"}]
    lines += ["", "## Annotation sites needing review", ""]
    lines += header + [_row(i) for i in sorted(review, key=lambda i: (ORDER.index(i.state), _where(i)))] \
        if review else ["Nothing: every site is unchanged or only shifted."]
    if plan.edits:
        lines += ["", "## Edits `--apply` makes", ""]
        lines += [f"- `{e.path}`" + (f" → `{e.dest}`" if e.dest != e.path else "") + f": {e.reason}"
                  for e in plan.edits]
    if plan.coverage and coverage_detail:
        moved = [i for i in plan.coverage if i.state in {"review", "orphaned", "renamed", "moved"}]
        lines += ["", f"## Coverage: symbols that moved, were renamed, orphaned or left for review ({len(moved)})", ""]
        lines += header + [_row(i) for i in sorted(moved, key=lambda i: (ORDER.index(i.state), i.anchor))]
    return "\n".join(lines) + "\n"
