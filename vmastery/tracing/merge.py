"""One timeline from many files: OTel spans (OTLP JSON lines) and VizTracer windows, one clock.

Every process writes its own files (see `process.py`). OTel spans carry wall-clock nanoseconds;
VizTracer events carry a monotonic clock in microseconds plus, per file, the offset between the two
(`baseTimeNanoseconds`), so adding it puts both on the wall clock — the same recipe VizTracer uses to
merge torch traces. The result is a Chrome-trace JSON that Perfetto (ui.perfetto.dev) and
`vizviewer` open: per process, one track of OTel spans, one "requests" track of the front-end root
spans, the VizTracer threads, and flow arrows where a span's parent lives in another process.
Every event gets its anchor and a link to the symbol's page on the annotated-source site.
"""
from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..files import write_atomic
from .spec import site_link

OTEL_TID = 1  # synthetic thread ids for the tracks we add; VizTracer uses real (large) thread ids
REQUEST_TID0 = 100
_VIZ_NAME = re.compile(r"^(?P<qual>.+?) \((?P<path>.+):(?P<line>\d+)\)$")


@dataclass
class Span:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    start_ns: int
    end_ns: int
    attrs: dict
    links: list
    role: str
    pid: int


@dataclass
class Trace:
    """Everything read back from one output directory."""

    spans: list[Span] = field(default_factory=list)
    viz: list[tuple[str, int, list[dict], int]] = field(default_factory=list)  # role, pid, events, base_ns


def _value(v: dict):
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in v:
            return v[key]
    if "intValue" in v:
        return int(v["intValue"])
    if "arrayValue" in v:
        return [_value(x) for x in v["arrayValue"].get("values", [])]
    return None


def _attrs(items) -> dict:
    return {a["key"]: _value(a["value"]) for a in items or ()}


def read(out: Path) -> Trace:
    trace = Trace()
    for path in sorted((out / "otel").glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as error:  # a process killed mid-write: keep the rest
                print(f"{path}:{number}: skipped a partial line ({error.msg})")
                continue
            for resource_spans in data.get("resourceSpans", ()):
                resource = _attrs(resource_spans.get("resource", {}).get("attributes"))
                for scope in resource_spans.get("scopeSpans", ()):
                    for s in scope.get("spans", ()):
                        trace.spans.append(Span(
                            s["name"], s["traceId"], s["spanId"], s.get("parentSpanId", ""),
                            int(s["startTimeUnixNano"]), int(s["endTimeUnixNano"]), _attrs(s.get("attributes")),
                            [(ln["traceId"], ln["spanId"], _attrs(ln.get("attributes"))) for ln in s.get("links", ())],
                            str(resource.get("vmastery.process", "?")), int(resource.get("process.pid", 0))))
    for path in sorted((out / "viz").glob("*.json")):
        if path.name.endswith(".part.json"):
            continue
        role, pid, _ = path.stem.rsplit("-", 2)
        data = json.loads(path.read_text(encoding="utf-8"))
        base = int(data.get("viztracer_metadata", {}).get("baseTimeNanoseconds", 0))
        trace.viz.append((role, int(pid), data.get("traceEvents", []), base))
    return trace


def anchor_of_viz(name: str, index=None) -> str | None:
    """`Scheduler.schedule (/x/upstream/vllm/v1/core/sched/scheduler.py:329)` -> its anchor."""
    m = _VIZ_NAME.match(name)
    if not m or "/vllm/" not in m["path"]:
        return None
    path = "vllm/" + m["path"].split("/vllm/", 1)[1]
    anchor = f"{path}::{m['qual'].replace('<locals>.', '')}"
    if index is not None and index.get(anchor) is None:
        return None
    return anchor


def chrome(trace: Trace, site_base: str, index=None, fine: dict | None = None) -> dict:
    """The merged Chrome-trace JSON. `fine` maps anchors of fine tracepoints to their declaration."""
    fine = fine or {}
    starts = [s.start_ns for s in trace.spans] + [
        int(e["ts"] * 1000) + base for _, _, events, base in trace.viz for e in events[:50] if e.get("ph") == "X"]
    origin = min(starts) if starts else 0
    us = lambda ns: (ns - origin) / 1000.0  # noqa: E731
    events: list[dict] = []
    names: dict[int, str] = {}
    for s in trace.spans:
        names[s.pid] = f"{s.role} (pid {s.pid})"
    for role, pid, _, _ in trace.viz:
        names.setdefault(pid, f"{role} (pid {pid})")
    for pid, name in names.items():
        events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": 0, "args": {"name": name}})
        events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": OTEL_TID,
                       "args": {"name": "OTel tracepoint spans"}})

    by_id = {s.span_id: s for s in trace.spans}
    root_tid: dict[str, int] = {}
    slots: dict[int, list[int]] = {}  # front-end request roots overlap: pack them onto slot tracks
    for s in sorted(trace.spans, key=lambda s: s.start_ns):
        args = dict(s.attrs)
        args.update(trace_id=s.trace_id, span_id=s.span_id)
        if s.links:
            args["links"] = [f"{rid.get('vllm.request_id', '')} {span}" for _, span, rid in s.links]
        tid = OTEL_TID
        if s.name == "request":
            ends = slots.setdefault(s.pid, [])
            slot = next((i for i, end in enumerate(ends) if end <= s.start_ns), len(ends))
            if slot == len(ends):
                ends.append(0)
                events.append({"ph": "M", "name": "thread_name", "pid": s.pid, "tid": REQUEST_TID0 + slot,
                               "args": {"name": f"requests (slot {slot})"}})
            ends[slot] = s.end_ns
            tid = root_tid[s.span_id] = REQUEST_TID0 + slot
        events.append({"ph": "X", "name": s.name, "cat": "otel", "pid": s.pid, "tid": tid,
                       "ts": us(s.start_ns), "dur": (s.end_ns - s.start_ns) / 1000.0, "args": args})
        parent = by_id.get(s.parent_id)
        if parent is not None and parent.pid != s.pid:  # the request crossed a process boundary
            flow = int(s.span_id[:12], 16)
            parent_tid = root_tid.get(parent.span_id, OTEL_TID)
            events.append({"ph": "s", "id": flow, "name": "request", "cat": "linkage", "pid": parent.pid,
                           "tid": parent_tid, "ts": max(us(parent.start_ns), us(s.start_ns) - 0.001)})
            events.append({"ph": "f", "bp": "e", "id": flow, "name": "request", "cat": "linkage",
                           "pid": s.pid, "tid": OTEL_TID, "ts": us(s.start_ns)})

    for role, pid, viz_events, base in trace.viz:
        for e in viz_events:
            if e.get("ph") == "M":
                if e.get("name") == "thread_name":
                    events.append({**e, "pid": pid})
                continue
            e = {**e, "pid": pid, "ts": us(int(e["ts"] * 1000) + base)}
            anchor = anchor_of_viz(e.get("name", ""), index)
            if anchor:
                e["args"] = {**e.get("args", {}), "anchor": anchor, "link": site_link(site_base, anchor)}
                if anchor in fine:
                    e["cat"] = "fine"
                    e["args"]["tracepoint"] = fine[anchor]
            elif "vmastery/tracing/" in e.get("name", ""):
                e["cat"] = "tracing-overhead"
            events.append(e)
    return {"traceEvents": events, "displayTimeUnit": "ms",
            "otherData": {"clock": "wall clock, microseconds since the first event",
                          "origin_unix_ns": origin}}


def write(path: Path, data: dict) -> Path:
    """Write atomically; gzip when the name ends in .gz (Perfetto opens both)."""
    raw = json.dumps(data, separators=(",", ":")).encode()
    return write_atomic(path, gzip.compress(raw, 9) if path.suffix == ".gz" else raw)
