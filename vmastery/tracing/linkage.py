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

from . import process
from .attributes import finished
from .lean import CURRENT, Ids, parse_traceparent, traceparent

CARRIED = "vmastery_trace"  # attribute set on SchedulerOutput objects
MAX_LINKS = 64


def _bound(names, args, kwargs, name):
    if name in kwargs:
        return kwargs[name]
    i = names.index(name) if name in names else -1
    return args[i] if 0 <= i < len(args) else None


def _request_ids(state, request) -> Ids | None:
    """The root span of a request, parsed once from its trace_headers and cached by request id."""
    rid = request.request_id
    ids = state.contexts.get(rid)
    if ids is None:
        ids = parse_traceparent(request.trace_headers)
        if len(state.contexts) > 8192:
            state.contexts.clear()
        state.contexts[rid] = ids
    return ids


def parent_context(link, state, obj, names, args, kwargs) -> Ids | None:
    """The parent of a new span, or None for 'whatever span is current in this thread'."""
    if link == "root":
        outer = parse_traceparent(_bound(names, args, kwargs, "trace_headers"))  # a caller's own trace, kept
        root = state.tracer.start_span("request", parent=outer)
        state.pending_root = root
        return root.ids
    if link == "request":
        request = _bound(names, args, kwargs, "request")
        if request is not None and getattr(request, "trace_headers", None):
            return _request_ids(state, request)
        return None
    if link == "step":
        if CURRENT.get() is not None:
            return None  # same process as EngineCore (one GPU): nest under the current step
        return parse_traceparent(getattr(_bound(names, args, kwargs, "scheduler_output"), CARRIED, None))
    return None


def open_root(state, span, names, args, kwargs):
    """Put the root span's context into the `trace_headers` argument that vLLM forwards."""
    root = state.pending_root
    state.pending_root = None
    carrier = traceparent(root.ids)
    state.roots[root.span_id] = root
    rid = _bound(names, args, kwargs, "request_id")
    if rid is not None:
        root.set_attribute("vllm.request_id", str(rid))
    if "trace_headers" in names and names.index("trace_headers") < len(args):
        args = list(args)
        args[names.index("trace_headers")] = {**(args[names.index("trace_headers")] or {}), **carrier}
        return tuple(args), kwargs
    return args, {**kwargs, "trace_headers": {**(kwargs.get("trace_headers") or {}), **carrier}}


def link_scheduled(state, span, scheduler, result) -> None:
    """Link a schedule() span to the requests it admitted, and send its context to the workers."""
    if hasattr(result, "num_scheduled_tokens"):
        # Link the requests this step admitted or resumed: the moments a request joins a batch.
        # Linking every running request on every decode step costs more than the span itself.
        requests = scheduler.requests
        joined = [r.req_id for r in result.scheduled_new_reqs]
        joined += list(result.scheduled_cached_reqs.resumed_req_ids)
        for rid in joined[:MAX_LINKS]:
            request = requests.get(rid)
            if request is not None and request.trace_headers:
                linked = _request_ids(state, request)
                if linked is not None:
                    span.add_link(linked)  # no link attributes: vllm.request_ids already names them
        setattr(result, CARRIED, traceparent(span.ids))  # pickled with the SchedulerOutput to every worker


def _end_finished_roots(state, span, obj, get, result) -> None:
    if span.attributes.get("vllm.finished_requests", 1):  # the span has counted them already
        _end_roots(state, get("engine_core_outputs") or ())
    if process.AUTO_FLUSH and not obj.has_unfinished_requests():
        state.flush("front-end idle")


def _end_roots(state, outputs) -> None:
    for output in finished(outputs):
        parent = parse_traceparent(output.trace_headers)
        root = state.roots.pop(parent[1], None) if parent else None
        if root is not None:
            root.set_attribute("vllm.finish_reason", str(output.finish_reason))
            root.end()


def _flush_when_idle(state, span, obj, get, result) -> None:
    if process.AUTO_FLUSH and state.steps != state.steps_at_flush and not obj.scheduler.has_requests():
        state.steps_at_flush = state.steps
        state.flush("engine idle")


def _flush_worker(state, span, obj, get, result) -> None:
    out = get("scheduler_output")
    if state.role.startswith("VllmWorker") and out is not None and out.finished_req_ids:
        state.maybe_flush()


# Hooks run after a tracepoint's span has ended (with its attributes): where roots end and files are written.
AFTER = {
    "vllm/v1/engine/output_processor.py::OutputProcessor.process_outputs": _end_finished_roots,
    "vllm/v1/engine/core.py::EngineCore.step": _flush_when_idle,
    "vllm/v1/engine/core.py::EngineCore.step_with_batch_queue": _flush_when_idle,
    "vllm/v1/worker/gpu_model_runner.py::GPUModelRunner.execute_model": _flush_worker,
}
