"""Per-process tracing state: who this process is, its OTel tracer, its VizTracer, and flushing.

vLLM runs the front-end, EngineCore and (with several GPUs) one process per worker. EngineCore is
usually *forked* from the front-end, and a forked child never calls `load_general_plugins()` again
(its "already loaded" flag is inherited), so the patched methods arrive through the fork while the
state must not: `current()` notices a new pid and builds fresh state, and an at-fork hook restarts
VizTracer on an empty buffer. Spans are buffered in memory and written as OTLP JSON lines only on
`flush()` — at request ends, when the engine goes idle, and at exit — because vLLM kills workers a
few seconds after shutdown and a background exporter thread may never get to run.
"""
from __future__ import annotations

import atexit
from collections import defaultdict, deque
import json
import multiprocessing
import multiprocessing.util
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from ..files import write_atomic
from .lean import LeanSpan, LeanTracer

ENV_DIR = "VMASTERY_TRACE"  # output directory; tracing is off unless it is set
ENV_LEVEL = "VMASTERY_TRACE_LEVEL"  # "span" (OTel only) or "fine" (OTel + VizTracer)
ENV_OTLP = "VMASTERY_TRACE_OTLP"  # optional OTLP/HTTP endpoint, in addition to the file
ENV_SITE = "VMASTERY_SITE_BASE"  # base URL of the annotated-source site
ENV_VIZ_MIN_US = "VMASTERY_VIZ_MIN_US"  # VizTracer min_duration in microseconds
DEFAULT_SITE = "https://vllm-mastery.github.io"


def role_of_process() -> str:
    """A stable name for this vLLM process: frontend, EngineCore, VllmWorker-<rank>, ..."""
    name = multiprocessing.current_process().name
    return "frontend" if name == "MainProcess" else name.replace(" ", "_")


class _Buffer(SpanProcessor):
    """Keeps ended spans until `flush()`; no thread, nothing to lose across a fork.

    A deque, because its append and popleft are atomic: spans ended by another thread while a
    flush drains the buffer are either taken now or left for the next flush, never dropped.
    """

    def __init__(self) -> None:
        self.spans: deque = deque()

    def on_end(self, span) -> None:
        self.spans.append(span)

    def take(self) -> list:
        taken = []
        try:
            for _ in range(len(self.spans)):
                taken.append(self.spans.popleft())
        except IndexError:
            pass
        return taken


@dataclass
class ProcessState:
    out: Path
    level: str
    site_base: str
    otlp: str | None
    pid: int = field(default_factory=os.getpid)
    role: str = field(default_factory=role_of_process)
    steps: int = 0
    flushes: int = 0
    last_flush: float = 0.0
    closed: bool = False
    steps_at_flush: int = 0
    pending_root: object = None
    roots: dict = field(default_factory=dict)  # root span id -> open root span (front-end)
    contexts: dict = field(default_factory=dict)  # request id -> (trace id, root span id) from trace_headers
    costs: defaultdict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))  # anchor -> [ns, calls]
    flush_ns: int = 0  # time spent writing files, kept apart from the per-call cost above
    started_ns: int = field(default_factory=time.time_ns)

    def __post_init__(self) -> None:
        self.buffer = _Buffer()
        resource = Resource.create({"service.name": "vllm", "vmastery.process": self.role,
                                    "process.pid": self.pid})
        self.provider = TracerProvider(resource=resource, sampler=ALWAYS_ON)
        self.provider.add_span_processor(self.buffer)
        self.tracer = LeanTracer(self.buffer.on_end)  # SDK-compatible spans, made cheaply (lean.py)
        self.remote = None
        if self.otlp:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            self.remote = OTLPSpanExporter(endpoint=self.otlp)
        self.lock = threading.Lock()

    def flush(self, reason: str = "") -> None:
        """Write buffered spans (and the VizTracer window, if any) to disk; safe to call often."""
        started = time.perf_counter_ns()
        with self.lock:
            self.flushes += 1
            self.last_flush = time.monotonic()
            tracer = _pause_viztracer() if self.level == "fine" else None  # don't trace the flush
            try:
                spans = [s.readable(self.provider.resource) if isinstance(s, LeanSpan) else s
                         for s in self.buffer.take()]
                if spans:
                    _append_otlp_json(self.out / "otel" / f"{self.role}-{self.pid}.jsonl", spans)
                    if self.remote is not None:
                        try:
                            self.remote.export(spans)
                        except Exception:  # a dead collector must not stop the file output
                            pass
                if tracer is not None:
                    _save_viztracer(tracer, self.out / "viz" / f"{self.role}-{self.pid}-{self.flushes:04d}.json")
            finally:
                if tracer is not None:
                    tracer.start()
                self.flush_ns += time.perf_counter_ns() - started
                self._write_cost()

    @property
    def cost_ns(self) -> int:
        """Time spent inside the tracing wrappers themselves, all tracepoints together."""
        return sum(ns for ns, _ in self.costs.values())

    @property
    def traced_calls(self) -> int:
        return sum(n for _, n in self.costs.values())

    def _write_cost(self) -> None:
        """What tracing has cost this process so far (cumulative), for the summary."""
        path = self.out / "cost" / f"{self.role}-{self.pid}.json"
        write_atomic(path, json.dumps({"process": self.role, "pid": self.pid, "level": self.level,
                                   "traced_calls": self.traced_calls, "cost_ns": self.cost_ns,
                                   "flushes": self.flushes, "flush_ns": self.flush_ns,
                                   "by_tracepoint": {a: {"ns": ns, "calls": n} for a, (ns, n) in self.costs.items()},
                                   "started_ns": self.started_ns,
                                   "flushed_ns": time.time_ns()}), durable=False)

    def maybe_flush(self, min_interval_s: float = 1.0) -> None:
        """Flush unless one happened very recently (per-request flushes in busy workers)."""
        if AUTO_FLUSH and time.monotonic() - self.last_flush >= min_interval_s:
            self.flush()


def _append_otlp_json(path: Path, spans: list[ReadableSpan]) -> None:
    """One OTLP `TracesData` JSON object per line (the OTel file-exporter format).

    Built directly from the spans: going through protobuf's JSON printer cost ~0.5 ms per span.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    resource = spans[0].resource.attributes
    data = {"resourceSpans": [{
        "resource": {"attributes": _kv(resource)},
        "scopeSpans": [{"scope": {"name": "vmastery.tracing"}, "spans": [_span_json(s) for s in spans]}]}]}
    line = json.dumps(data, separators=(",", ":"))
    with open(path, "a", encoding="utf-8") as f:  # appends of whole lines: readers see whole batches
        f.write(line + "\n")


def _value(v) -> dict:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}  # OTLP/JSON writes 64-bit integers as strings
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, (list, tuple)):
        return {"arrayValue": {"values": [_value(x) for x in v]}}
    return {"stringValue": str(v)}


def _kv(attributes) -> list[dict]:
    return [{"key": k, "value": _value(v)} for k, v in (attributes or {}).items()]


def _span_json(span: ReadableSpan) -> dict:
    ctx = span.get_span_context()
    out = {"traceId": format(ctx.trace_id, "032x"), "spanId": format(ctx.span_id, "016x"),
           "name": span.name, "kind": span.kind.value + 1,  # OTLP counts from UNSPECIFIED=0
           "startTimeUnixNano": str(span.start_time), "endTimeUnixNano": str(span.end_time),
           "attributes": _kv(span.attributes)}
    if span.parent is not None:
        out["parentSpanId"] = format(span.parent.span_id, "016x")
    if span.links:
        out["links"] = [{"traceId": format(link.context.trace_id, "032x"),
                         "spanId": format(link.context.span_id, "016x"),
                         "attributes": _kv(link.attributes)} for link in span.links]
    if span.events:
        out["events"] = [{"name": e.name, "timeUnixNano": str(e.timestamp), "attributes": _kv(e.attributes)}
                         for e in span.events]
    code = span.status.status_code.value  # UNSET 0, OK 1, ERROR 2: the same numbers as OTLP
    if code:
        out["status"] = {"code": code, **({"message": span.status.description} if span.status.description else {})}
    return out


_STATE: ProcessState | None = None
_CONFIG: dict | None = None
ENABLED = False  # read first by every wrapper: False passes calls straight through
AUTO_FLUSH = True  # flush when a process goes idle; benchmarks turn it off and flush outside timing


def set_level(level: str) -> None:
    """Switch tracing in *this* process at run time: "off", "span" or "fine" (benchmarks use it).

    "off" leaves the wrappers installed but inert (one global read per traced call); VizTracer is
    stopped unless the level is "fine". Only meaningful once the plugin has been configured.
    """
    global ENABLED
    ENABLED = level != "off"
    from viztracer import get_tracer
    tracer = get_tracer()
    if level == "fine":
        _start_viztracer()
    elif tracer is not None and tracer.enable:
        tracer.stop()


def configure(out: Path, level: str, site_base: str, otlp: str | None) -> None:
    """Remember the settings; state is built lazily per process by `current()`."""
    global _CONFIG, ENABLED
    _CONFIG = dict(out=out, level=level, site_base=site_base, otlp=otlp)
    ENABLED = True
    if level == "fine":
        _start_viztracer()
    os.register_at_fork(after_in_child=_after_fork_in_child)
    atexit.register(_flush_at_exit)
    _chain_sigterm()


def current() -> ProcessState:
    """This process's state; a forked child starts with none (`_after_fork_in_child`)."""
    state = _STATE
    return state if state is not None else _new_state()


def _new_state() -> ProcessState:
    global _STATE
    state = _STATE = ProcessState(**_CONFIG)
    # multiprocessing children leave through os._exit(): atexit never runs there, but the
    # finalizers below do (multiprocessing's own exit function calls them).
    multiprocessing.util.Finalize(None, _flush_at_exit, exitpriority=100)
    if state.level == "fine":
        _start_viztracer()  # (re)started from the thread that runs vLLM's loop
    return state


def _after_fork_in_child() -> None:
    global _STATE
    _STATE = None
    if _CONFIG and _CONFIG["level"] == "fine":
        from viztracer import get_tracer
        tracer = get_tracer()
        if tracer is not None:
            # The parent's events are the parent's to save. Restarting here (inside os.fork) does
            # not re-arm the child's main thread, so `current()` starts it again on first use.
            tracer.stop()
            tracer.clear()


def _flush_at_exit() -> None:
    state = _STATE
    if state is not None and state.pid == os.getpid() and not state.closed:
        state.closed = True
        for span in list(state.roots.values()):
            span.end()  # requests still open at exit (aborted): close them so they are kept
        state.roots.clear()
        state.flush("exit")


def _chain_sigterm() -> None:
    """Flush on SIGTERM (how vLLM stops workers), then let the previous handler do its job."""
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum, frame):
        try:
            _flush_at_exit()
        finally:
            if callable(previous):
                previous(signum, frame)
            else:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, handler)


def _start_viztracer() -> None:
    import torch.nn.modules.module
    import torch.utils._contextlib
    import vllm
    from viztracer import VizTracer, get_tracer

    tracer = get_tracer()
    if tracer is not None:
        if not tracer.enable:
            tracer.start()
        return
    tracer = VizTracer(
        tracer_entries=2_000_000, verbose=0, ignore_c_function=True, ignore_frozen=True,
        # A frame outside these files hides its whole subtree from VizTracer, so our own wrappers
        # and torch's Module.__call__ and inference_mode decorator (between vLLM's methods) must be in.
        include_files=[os.path.dirname(vllm.__file__), os.path.dirname(os.path.dirname(__file__)),
                       torch.nn.modules.module.__file__, torch.utils._contextlib.__file__],
        min_duration=float(os.environ.get(ENV_VIZ_MIN_US, "2")))
    tracer.start()


def _pause_viztracer():
    from viztracer import get_tracer
    tracer = get_tracer()
    if tracer is None or not tracer.enable:
        return None
    tracer.stop()
    return tracer


def _save_viztracer(tracer, path: Path) -> None:
    """Save the events since the last save, then drop them: each file is one window."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp = path.with_suffix(".part.json")
        tracer.save(str(tmp), file_info=False)
        os.replace(tmp, path)
    finally:
        tracer.clear()
