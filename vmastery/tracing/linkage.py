"""How spans of one request find each other across the front-end, EngineCore and workers.

vLLM already carries W3C trace headers from the front-end to EngineCore (`trace_headers` on the
request) and back on each output; we reuse that channel instead of inventing one:

- front-end: `add_request` opens a long-lived root span per request and writes its context into
  `trace_headers`; the root ends when the request's last output is processed;
- EngineCore: spans about one request take that context as parent; the scheduler's step span
  *links* to every request it scheduled (a step serves many requests, a span has one parent);
- workers: the step span's context is attached to the SchedulerOutput, which vLLM broadcasts to
  every worker, so `Worker.execute_model` in `VllmWorker-<rank>` parents under the right step
  whatever the number of workers. Request ids are recorded too, as a join key that always works.
"""
from __future__ import annotations

from opentelemetry import trace

from . import process
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

CARRIED = "vmastery_trace"  # attribute set on SchedulerOutput objects
MAX_LINKS = 64
_propagator = TraceContextTextMapPropagator()


def _bound(names, args, kwargs, name):
    if name in kwargs:
        return kwargs[name]
    i = names.index(name) if name in names else -1
    return args[i] if 0 <= i < len(args) else None


def _request_context(state, request):
    """The Context of a request, parsed once from its trace_headers and cached by request id."""
    rid = request.request_id
    ctx = state.contexts.get(rid)
    if ctx is None:
        ctx = _propagator.extract(request.trace_headers or {})
        if len(state.contexts) > 8192:
            state.contexts.clear()
        state.contexts[rid] = ctx
    return ctx


def parent_context(link, state, obj, names, args, kwargs):
    """The parent of a new span, or None for 'whatever span is current in this thread'."""
    if link == "root":
        headers = _bound(names, args, kwargs, "trace_headers")
        outer = _propagator.extract(headers) if headers else None  # a caller's own trace, kept
        root = state.tracer.start_span("request", context=outer)
        state.pending_root = root
        return trace.set_span_in_context(root)
    if link == "request":
        request = _bound(names, args, kwargs, "request")
        if request is not None and getattr(request, "trace_headers", None):
            return _request_context(state, request)
        return None
    if link == "step":
        if trace.get_current_span().is_recording():
            return None  # same process as EngineCore (one GPU): nest under the current step
        out = _bound(names, args, kwargs, "scheduler_output")
        carried = getattr(out, CARRIED, None)
        return _propagator.extract(carried) if carried else None
    return None


def open_root(state, span, names, args, kwargs):
    """Put the root span's context into the `trace_headers` argument that vLLM forwards."""
    root = state.pending_root
    state.pending_root = None
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=trace.set_span_in_context(root))
    state.roots[format(root.get_span_context().span_id, "016x")] = root
    rid = _bound(names, args, kwargs, "request_id")
    if rid is not None:
        root.set_attribute("vllm.request_id", str(rid))
    if "trace_headers" in names and names.index("trace_headers") < len(args):
        args = list(args)
        args[names.index("trace_headers")] = {**(args[names.index("trace_headers")] or {}), **carrier}
        return tuple(args), kwargs
    return args, {**kwargs, "trace_headers": {**(kwargs.get("trace_headers") or {}), **carrier}}


def after_call(link, state, span, obj, get, result) -> None:
    if link == "scheduled" and hasattr(result, "num_scheduled_tokens"):
        # Link the requests this step admitted or resumed: the moments a request joins a batch.
        # Linking every running request on every decode step costs more than the span itself.
        requests = obj.requests
        joined = [r.req_id for r in result.scheduled_new_reqs]
        joined += list(result.scheduled_cached_reqs.resumed_req_ids)
        for rid in joined[:MAX_LINKS]:
            request = requests.get(rid)
            if request is None or not request.trace_headers:
                continue
            linked = trace.get_current_span(_request_context(state, request)).get_span_context()
            if linked.is_valid:
                span.add_link(linked)  # no link attributes: vllm.request_ids already names them
        carrier: dict[str, str] = {}
        _propagator.inject(carrier, context=trace.set_span_in_context(span))
        setattr(result, CARRIED, carrier)  # pickled with the SchedulerOutput to every worker


def _end_finished_roots(state, obj, get, result) -> None:
    for output in get("engine_core_outputs") or ():
        if output.finish_reason is None or not output.trace_headers:
            continue
        parent = trace.get_current_span(_propagator.extract(output.trace_headers)).get_span_context()
        root = state.roots.pop(format(parent.span_id, "016x"), None)
        if root is not None:
            root.set_attribute("vllm.finish_reason", str(output.finish_reason))
            root.end()
    if process.AUTO_FLUSH and not obj.has_unfinished_requests():
        state.flush("front-end idle")


def _flush_when_idle(state, obj, get, result) -> None:
    if process.AUTO_FLUSH and state.steps != state.steps_at_flush and not obj.scheduler.has_requests():
        state.steps_at_flush = state.steps
        state.flush("engine idle")


def _flush_worker(state, obj, get, result) -> None:
    out = get("scheduler_output")
    if state.role.startswith("VllmWorker") and out is not None and out.finished_req_ids:
        state.maybe_flush()


# Hooks run after a tracepoint's span has ended: where each process writes its files.
AFTER = {
    "vllm/v1/engine/output_processor.py::OutputProcessor.process_outputs": _end_finished_roots,
    "vllm/v1/engine/core.py::EngineCore.step": _flush_when_idle,
    "vllm/v1/engine/core.py::EngineCore.step_with_batch_queue": _flush_when_idle,
    "vllm/v1/worker/gpu_model_runner.py::GPUModelRunner.execute_model": _flush_worker,
}
