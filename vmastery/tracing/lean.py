"""Spans cheap enough for vLLM's step loop: the OpenTelemetry API, without the SDK's per-span work.

Opening and closing an SDK span costs ~11 µs on the development machine (sampler, span limits,
attribute validation under a lock, processor fan-out), and a traced call ~17 µs; at ~130 engine
steps a second with several spans each, that alone broke the span level's overhead budget
(`benchmarks/tracing/README.md`). A `LeanSpan` is an OpenTelemetry API `Span` — so contexts,
W3C propagation and `trace.get_current_span()` work unchanged — that only records what an exporter
needs. At flush time each one becomes an SDK `ReadableSpan`, so the file and OTLP exporters see
exactly what they saw before; the work moved out of the hot loop, not away.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

SAMPLED = TraceFlags(TraceFlags.SAMPLED)


class LeanSpan(trace.Span):
    __slots__ = ("name", "_context", "parent", "attributes", "links", "events", "status", "start_time",
                 "end_time", "_on_end")

    def __init__(self, name: str, context: SpanContext, parent: SpanContext | None, attributes: dict,
                 on_end: Callable[["LeanSpan"], None]):
        self.name, self._context, self.parent = name, context, parent
        self.attributes = attributes
        self.links: list[Link] = []
        self.events: list[Event] = []
        self.status = Status(StatusCode.UNSET)
        self.start_time, self.end_time = time.time_ns(), None
        self._on_end = on_end

    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return self.end_time is None

    def set_attribute(self, key: str, value) -> None:
        self.attributes[key] = value

    def set_attributes(self, attributes) -> None:
        self.attributes.update(attributes)

    def add_link(self, context: SpanContext, attributes=None) -> None:
        self.links.append(Link(context, attributes))

    def add_event(self, name: str, attributes=None, timestamp: int | None = None) -> None:
        self.events.append(Event(name, attributes, timestamp or time.time_ns()))

    def update_name(self, name: str) -> None:
        self.name = name

    def set_status(self, status, description: str | None = None) -> None:
        self.status = status if isinstance(status, Status) else Status(status, description)

    def record_exception(self, exception: BaseException, attributes=None, timestamp=None, escaped=False) -> None:
        self.add_event("exception", {"exception.type": type(exception).__name__,
                                     "exception.message": str(exception), **(attributes or {})}, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self.end_time is None:
            self.end_time = end_time or time.time_ns()
            self._on_end(self)

    def readable(self, resource: Resource) -> ReadableSpan:
        """The SDK's view of this span, for the exporters."""
        return ReadableSpan(name=self.name, context=self._context, parent=self.parent, resource=resource,
                            attributes=self.attributes, events=self.events, links=self.links,
                            kind=SpanKind.INTERNAL, status=self.status, start_time=self.start_time,
                            end_time=self.end_time)


class LeanTracer:
    """`start_span` as the plugin calls it; ids from `random`, which CPython reseeds after a fork."""

    def __init__(self, on_end: Callable[[LeanSpan], None]):
        self.on_end = on_end

    def start_span(self, name: str, context=None, attributes=None, **_) -> LeanSpan:
        parent = trace.get_current_span(context).get_span_context()
        valid = parent.is_valid
        ids = SpanContext(parent.trace_id if valid else random.getrandbits(128), random.getrandbits(64),
                          is_remote=False, trace_flags=SAMPLED)
        return LeanSpan(name, ids, parent if valid else None, dict(attributes or ()), self.on_end)
