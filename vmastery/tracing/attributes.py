"""What each attribute name of `spec.ATTRIBUTES` records, computed from a traced call.

Each function gets the traced object (`self` of the method), a `get(name)` that returns a bound
argument by parameter name (or None), and the call's result; it returns span attributes. They read
only what the call already produced — no extra work inside vLLM — and are called after the call, so
their cost lands outside the measured span.
"""
from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

Getter = Callable[[str], Any]


def _scheduler_output(get: Getter, result: Any):
    """The step's SchedulerOutput: the result of `schedule()`, or the argument of `execute_model()`."""
    if hasattr(result, "num_scheduled_tokens"):
        return result
    return get("scheduler_output")


def request_id(obj, get: Getter, result) -> dict:
    rid = get("request_id")
    if rid is None:
        rid = getattr(get("request"), "request_id", None)
    return {} if rid is None else {"vllm.request_id": str(rid)}


def prompt_tokens(obj, get: Getter, result) -> dict:
    request = get("request")
    if request is not None:
        return {"vllm.prompt_tokens": int(request.num_prompt_tokens)}
    prompt = get("prompt")
    ids = prompt.get("prompt_token_ids") if isinstance(prompt, dict) else getattr(prompt, "prompt_token_ids", None)
    return {} if ids is None else {"vllm.prompt_tokens": len(ids)}


def max_tokens(obj, get: Getter, result) -> dict:
    value = getattr(get("params"), "max_tokens", None)
    return {} if value is None else {"vllm.max_tokens": int(value)}


def scheduled_tokens(obj, get: Getter, result) -> dict:
    out = _scheduler_output(get, result)
    return {} if out is None else {"vllm.scheduled_tokens": int(out.total_num_scheduled_tokens)}


def batch(obj, get: Getter, result) -> dict:
    out = _scheduler_output(get, result)
    if out is None:
        return {}
    per_request = out.num_scheduled_tokens.values()
    chunks = len(per_request) - list(per_request).count(1)  # prompt chunks (or spec-decode runs)
    return {"vllm.batch.requests": len(out.num_scheduled_tokens),
            "vllm.batch.new": len(out.scheduled_new_reqs),
            "vllm.batch.resumed": len(out.scheduled_cached_reqs.resumed_req_ids),
            "vllm.batch.prefill_chunks": chunks,
            "vllm.batch.decodes": len(out.num_scheduled_tokens) - chunks}


def prefix_hit_tokens(obj, get: Getter, result) -> dict:
    out = _scheduler_output(get, result)
    if out is None:
        return {}
    # A newly admitted request starts with num_computed_tokens = the tokens found in the prefix cache.
    return {"vllm.prefix_hit_tokens": sum(r.num_computed_tokens for r in out.scheduled_new_reqs)}


def kv_blocks(obj, get: Getter, result) -> dict:
    manager = getattr(obj, "kv_cache_manager", None)
    pool = getattr(manager, "block_pool", None)
    if pool is None:
        return {}
    total = pool.num_gpu_blocks - 1  # block 0 is the null block, never handed out
    return {"vllm.kv.blocks_in_use": total - pool.get_num_free_blocks(), "vllm.kv.blocks_total": total}


def preempted(obj, get: Getter, result) -> dict:
    out = _scheduler_output(get, result)
    return {} if out is None else {"vllm.preempted": len(out.preempted_req_ids or ())}


def request_ids(obj, get: Getter, result) -> dict:
    out = _scheduler_output(get, result)
    return {} if out is None else {"vllm.request_ids": list(islice(out.num_scheduled_tokens, 64))}


def finished(outputs) -> list:
    """The outputs that end their request (`finish_reason` is an IntEnum whose STOP is 0)."""
    return [o for o in outputs if o.finish_reason is not None]


def finished_requests(obj, get: Getter, result) -> dict:
    outputs = get("engine_core_outputs")
    if outputs is not None:
        return {"vllm.finished_requests": len(finished(outputs))}
    if isinstance(result, dict):  # Scheduler.update_from_output: {client: EngineCoreOutputs}
        return {"vllm.finished_requests": sum(len(finished(b.outputs)) for b in result.values())}
    return {}


def num_outputs(obj, get: Getter, result) -> dict:
    if hasattr(result, "req_ids"):
        return {"vllm.num_outputs": len(result.req_ids)}
    outputs = get("engine_core_outputs")
    if outputs is None and isinstance(result, list):
        outputs = result
    return {} if outputs is None else {"vllm.num_outputs": len(outputs)}


def sampled_tokens(obj, get: Getter, result) -> dict:
    sampled = getattr(result, "sampled_token_ids", None)
    if sampled is None:
        return {}
    return {"vllm.sampled_tokens": sum(map(len, sampled))}


def rank(obj, get: Getter, result) -> dict:
    value = getattr(obj, "rank", None)
    return {} if value is None else {"vllm.rank": int(value)}


EXTRACTORS: dict[str, Callable[[Any, Getter, Any], dict]] = {
    "request_id": request_id, "prompt_tokens": prompt_tokens, "max_tokens": max_tokens,
    "scheduled_tokens": scheduled_tokens, "batch": batch, "prefix_hit_tokens": prefix_hit_tokens,
    "kv_blocks": kv_blocks, "preempted": preempted, "request_ids": request_ids,
    "finished_requests": finished_requests, "num_outputs": num_outputs, "rank": rank,
    "sampled_tokens": sampled_tokens,
    "step": lambda obj, get, result: {},  # filled in by the wrapper from the per-process counter
}
