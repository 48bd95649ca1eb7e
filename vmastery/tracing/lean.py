"""Spans cheap enough for vLLM's step loop: record in the loop, build OpenTelemetry objects at flush.

Opening and closing an SDK span costs ~11 µs on the development machine (sampler, span limits,
attribute validation under a lock, processor fan-out, a copied `Context` per attach). At ~130 engine
steps a second with several spans each, plus two spans and a W3C round trip per request, that alone
broke the span level's overhead budget (`benchmarks/tracing/README.md`). So in the hot loop a span
is a slotted record of plain ints and a dict; the "current span" is one `ContextVar` of our own
(per thread and per asyncio task, like OTel's); W3C `traceparent` headers are formatted and parsed
directly. At flush each record becomes an SDK `ReadableSpan`, so the file and OTLP exporters see
exactly the spans the SDK would have produced: the work moved out of the hot loop, not away.
"""
from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from contextvars import ContextVar

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

SAMPLED = TraceFlags(TraceFlags.SAMPLED)
Ids = tuple[int, int]  # (trace_id, span_id): all a parent or a link needs to be


class LeanSpan:
    """One span being recorded: the subset of OTel's `Span` API that the tracing plugin uses."""

    __slots__ = ("name", "trace_id", "span_id", "parent", "attributes", "links", "events", "status",
                 "start_time", "end_time", "_on_end")

    def __init__(self, name: str, trace_id: int, parent: Ids | None, attributes: dict,
                 on_end: Callable[["LeanSpan"], None]):
        self.name, self.trace_id, self.parent = name, trace_id, parent
        self.span_id = random.getrandbits(64) or 1
        self.attributes = attributes
        self.links: list[Ids] | None = None
        self.events: list[Event] | None = None
        self.status: Status | None = None
        self.start_time, self.end_time = time.time_ns(), None
        self._on_end = on_end

    @property
    def ids(self) -> Ids:
        return self.trace_id, self.span_id

    def is_recording(self) -> bool:
        return self.end_time is None

    def set_attribute(self, key: str, value) -> None:
        self.attributes[key] = value

    def set_attributes(self, attributes) -> None:
        self.attributes.update(attributes)

    def add_link(self, ids: Ids) -> None:
        if self.links is None:
            self.links = []
        self.links.append(ids)

    def add_event(self, name: str, attributes=None, timestamp: int | None = None) -> None:
        if self.events is None:
            self.events = []
        self.events.append(Event(name, attributes, timestamp or time.time_ns()))

    def record_exception(self, error: BaseException) -> None:
        self.add_event("exception", {"exception.type": type(error).__name__, "exception.message": str(error)})
        self.status = Status(StatusCode.ERROR, type(error).__name__)

    def end(self) -> None:
        if self.end_time is None:
            self.end_time = time.time_ns()
            self._on_end(self)

    def readable(self, resource: Resource) -> ReadableSpan:
        """The SDK's view of this span, for the exporters."""
        parent = None if self.parent is None else SpanContext(*self.parent, is_remote=False, trace_flags=SAMPLED)
        links = [Link(SpanContext(t, s, is_remote=False, trace_flags=SAMPLED)) for t, s in self.links or ()]
        return ReadableSpan(name=self.name, context=SpanContext(self.trace_id, self.span_id, is_remote=False,
                                                                trace_flags=SAMPLED),
                            parent=parent, resource=resource, attributes=self.attributes,
                            events=self.events or (), links=links, kind=SpanKind.INTERNAL,
                            status=self.status or Status(StatusCode.UNSET),
                            start_time=self.start_time, end_time=self.end_time)


_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?")
CURRENT: ContextVar[LeanSpan | None] = ContextVar("vmastery_current_span", default=None)


class LeanTracer:
    """Starts spans under an explicit parent, else under the current one, else as a new trace.

    Ids come from `random`, which CPython reseeds in a forked child.
    """

    def __init__(self, on_end: Callable[[LeanSpan], None]):
        self.on_end = on_end

    def start_span(self, name: str, parent: Ids | None = None, attributes: dict | None = None) -> LeanSpan:
        if parent is None:
            current = CURRENT.get()
            parent = None if current is None else current.ids
        trace_id = parent[0] if parent is not None else (random.getrandbits(128) or 1)
        return LeanSpan(name, trace_id, parent, dict(attributes or ()), self.on_end)


def traceparent(ids: Ids) -> dict[str, str]:
    """The W3C trace-context header naming this span as the parent (sampled)."""
    return {"traceparent": f"00-{ids[0]:032x}-{ids[1]:016x}-01"}


def parse_traceparent(headers) -> Ids | None:
    """The (trace_id, span_id) of a W3C `traceparent` header; None when absent or malformed."""
    value = headers.get("traceparent") if headers else None
    match = _TRACEPARENT.fullmatch(value) if isinstance(value, str) else None
    if match is None or match[1] == "ff" or (match[1] == "00" and match[5]):
        return None
    trace_id, span_id = int(match[2], 16), int(match[3], 16)
    return (trace_id, span_id) if trace_id and span_id else None
