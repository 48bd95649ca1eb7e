"""The text and JSON summary of a trace: per tracepoint timing, per step scheduling.

Per tracepoint: calls, total, p50 and p99 of its duration — from OTel spans for `span` tracepoints,
from VizTracer events for `fine` ones. Per step: what `Scheduler.schedule` decided (scheduled tokens,
batch composition, prefix hits, KV blocks in use, preemptions). `summary.json` is the
anchor -> {calls, total_ms, p50_ms, p99_ms} map the site shows next to each symbol.
"""
from __future__ import annotations

import math
from collections import defaultdict

from .merge import Trace, anchor_of_viz

SCHEDULE = "vllm/v1/core/sched/scheduler.py::Scheduler.schedule"


def _percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile: a value that was actually measured."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def durations(trace: Trace, points, index=None) -> dict[str, list[float]]:
    """Milliseconds per call for every declared tracepoint seen in the trace."""
    levels = {p.anchor: p.level for p in points}
    found: dict[str, list[float]] = defaultdict(list)
    for s in trace.spans:
        anchor = s.attrs.get("vmastery.anchor")
        if levels.get(anchor) == "span" and s.name != "request":  # a root spans the whole request
            found[anchor].append((s.end_ns - s.start_ns) / 1e6)
    for _, _, events, _ in trace.viz:
        for e in events:
            if e.get("ph") != "X":
                continue
            anchor = anchor_of_viz(e.get("name", ""), index)
            if anchor and levels.get(anchor) == "fine":
                found[anchor].append(e.get("dur", 0.0) / 1000.0)
    return dict(found)


def per_tracepoint(trace: Trace, points, index=None) -> dict[str, dict]:
    out = {}
    for anchor, ms in sorted(durations(trace, points, index).items()):
        out[anchor] = {"calls": len(ms), "total_ms": round(sum(ms), 3),
                       "p50_ms": round(_percentile(ms, 50), 4), "p99_ms": round(_percentile(ms, 99), 4)}
    return out


def per_step(trace: Trace) -> list[dict]:
    steps = sorted((s for s in trace.spans if s.attrs.get("vmastery.anchor") == SCHEDULE),
                   key=lambda s: s.start_ns)
    rows = []
    for i, s in enumerate(steps, 1):
        a = s.attrs
        rows.append({"step": i, "pid": s.pid, "scheduled_tokens": a.get("vllm.scheduled_tokens", 0),
                     "requests": a.get("vllm.batch.requests", 0), "new": a.get("vllm.batch.new", 0),
                     "resumed": a.get("vllm.batch.resumed", 0),
                     "prefill_chunks": a.get("vllm.batch.prefill_chunks", 0),
                     "decodes": a.get("vllm.batch.decodes", 0),
                     "prefix_hit_tokens": a.get("vllm.prefix_hit_tokens", 0),
                     "kv_blocks_in_use": a.get("vllm.kv.blocks_in_use", 0),
                     "kv_blocks_total": a.get("vllm.kv.blocks_total", 0),
                     "preempted": a.get("vllm.preempted", 0), "links": len(s.links),
                     "ms": round((s.end_ns - s.start_ns) / 1e6, 4)})
    return rows


def own_cost(records: list[dict]) -> list[str]:
    """One line per process: what the tracing wrappers themselves took, against the time traced.

    The wrappers clock their own work (opening, closing and annotating spans; not the traced call),
    so this is the span level's direct CPU cost. Indirect costs (cache, GC) are not in it; the H200
    overhead benchmark measures throughput for those.
    """
    lines = []
    for r in sorted(records, key=lambda r: (r["process"], r["pid"])):
        wall_ms = max(r["flushed_ns"] - r["started_ns"], 1) / 1e6
        cost_ms = r["cost_ns"] / 1e6
        per_call = r["cost_ns"] / 1e3 / max(r["traced_calls"], 1)
        lines.append(f"tracing's own cost in {r['process']} (pid {r['pid']}): {r['traced_calls']} traced calls, "
                     f"{cost_ms:.1f} ms ({per_call:.1f} us per call) in {wall_ms:.0f} ms traced "
                     f"({100 * cost_ms / wall_ms:.2f} %); {r.get('flushes', 0)} flushes wrote files in "
                     f"{r.get('flush_ns', 0) / 1e6:.1f} ms"
                     + (", VizTracer recording the wrappers included" if r.get("level") == "fine" else ""))
    return lines


def render(points_table: dict[str, dict], steps: list[dict], header: list[str], max_steps: int = 40) -> str:
    """The text summary: plain columns, readable in a terminal and in a diff."""
    lines = list(header)
    lines += ["", "Per tracepoint (span: OTel spans; fine: VizTracer calls)",
              f"{'calls':>7} {'total ms':>10} {'p50 ms':>9} {'p99 ms':>9}  anchor"]
    for anchor, row in sorted(points_table.items(), key=lambda kv: -kv[1]["total_ms"]):
        lines.append(f"{row['calls']:>7} {row['total_ms']:>10.3f} {row['p50_ms']:>9.4f} {row['p99_ms']:>9.4f}  {anchor}")
    active = [r for r in steps if r["scheduled_tokens"]]
    lines += ["", f"Per step ({len(steps)} schedule calls, {len(active)} with work; "
              f"prefill chunks = requests given >1 token)",
              f"{'step':>5} {'tokens':>6} {'reqs':>5} {'new':>4} {'resumed':>7} {'chunks':>6} {'decodes':>7} "
              f"{'prefix hit':>10} {'KV blocks':>11} {'preempt':>7}"]
    # The steps where something changes (admissions, chunks, preemptions, resumptions) say the most.
    notable = [r for r in active if r["new"] or r["resumed"] or r["prefill_chunks"] or r["preempted"]]
    shown = notable[:max_steps]
    if len(active) > len(shown):
        lines.append(f"({len(active) - len(shown)} plain decode steps not shown; every step is in steps.json)")
    for r in shown:
        lines.append(f"{r['step']:>5} {r['scheduled_tokens']:>6} {r['requests']:>5} {r['new']:>4} "
                     f"{r['resumed']:>7} {r['prefill_chunks']:>6} {r['decodes']:>7} {r['prefix_hit_tokens']:>10} "
                     f"{r['kv_blocks_in_use']:>5}/{r['kv_blocks_total']:<5} {r['preempted']:>7}")
    totals = {k: sum(r[k] for r in steps) for k in ("scheduled_tokens", "preempted", "prefix_hit_tokens", "resumed")}
    lines += ["", f"Totals: {totals['scheduled_tokens']} scheduled tokens, {totals['prefix_hit_tokens']} prompt "
              f"tokens from the prefix cache, {totals['preempted']} preemptions, {totals['resumed']} resumptions, "
              f"peak KV blocks {max((r['kv_blocks_in_use'] for r in steps), default=0)}"]
    return "\n".join(lines) + "\n"
