"""Continuous batching: each step, decide which requests run and how many tokens each gets.

Upstream: {anchor}`vllm/v1/core/sched/scheduler.py::Scheduler`,
{anchor}`vllm/v1/core/sched/scheduler.py::Scheduler.schedule`,
{anchor}`vllm/v1/core/sched/scheduler.py::Scheduler.update_from_output`,
{anchor}`vllm/v1/core/sched/output.py::SchedulerOutput`, {anchor}`vllm/v1/core/sched/utils.py::check_stop`.

Like vLLM v1 there is no "prefill phase" and "decode phase": every request just has
`num_tokens_with_spec - num_computed_tokens` tokens it still needs to run, and the scheduler hands
out a per-step token budget. A long prompt therefore gets chunked for free, and decodes of running
requests share a step with prefill chunks of new ones.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from mini_vllm.config import EngineConfig
from mini_vllm.kv_cache.manager import KVCacheManager
from mini_vllm.request import Request, RequestStatus


@dataclass
class SchedulerOutput:
    """One step's plan. vLLM splits new and cached requests to send diffs to workers; we need not."""

    scheduled_requests: list[Request] = field(default_factory=list)
    num_scheduled_tokens: dict[str, int] = field(default_factory=dict)
    total_num_scheduled_tokens: int = 0
    # Draft tokens each request verifies this step (a suffix of its scheduled tokens).
    scheduled_spec_decode_tokens: dict[str, list[int]] = field(default_factory=dict)
    preempted_req_ids: set[str] = field(default_factory=set)


class Scheduler:
    """FCFS scheduler with a token budget, chunked prefill, prefix caching and recompute preemption."""

    def __init__(self, config: EngineConfig, max_model_len: int) -> None:
        if not config.enable_chunked_prefill and config.max_num_batched_tokens < max_model_len:
            # A preempted request resumes with prompt + output tokens, up to max_model_len of them.
            raise ValueError(f"without chunked prefill max_num_batched_tokens "
                             f"({config.max_num_batched_tokens}) must be >= max_model_len "
                             f"({max_model_len}); raise it, lower max_model_len or enable chunking")
        self.config = config
        self.max_model_len = max_model_len
        self.kv_cache_manager = KVCacheManager(
            config.num_kv_blocks, config.block_size, config.enable_prefix_caching)
        self.requests: dict[str, Request] = {}
        self.waiting: deque[Request] = deque()
        self.running: list[Request] = []
        self.num_preemptions = 0

    # --- admission and removal ----------------------------------------------------------------
    def add_request(self, request: Request) -> None:
        if request.request_id in self.requests:
            raise ValueError(f"duplicate request id {request.request_id!r}")
        limit = self.max_model_len
        if request.num_prompt_tokens >= limit:
            raise ValueError(f"request {request.request_id}: prompt has {request.num_prompt_tokens} "
                             f"tokens but max_model_len is {limit}; shorten the prompt")
        bs = self.config.block_size
        need = -(-min(request.num_prompt_tokens + (request.max_tokens or limit), limit) // bs)
        if need > self.config.num_kv_blocks:
            raise ValueError(f"request {request.request_id} may need {need} KV blocks but the engine "
                             f"has {self.config.num_kv_blocks}; raise num_kv_blocks or lower max_tokens")
        self.requests[request.request_id] = request
        self.waiting.append(request)

    def finish_requests(self, request_ids: list[str], status: RequestStatus) -> None:
        """End requests from outside the step loop (aborts, stop strings found by detokenizing)."""
        assert RequestStatus.is_finished(status)
        for rid in request_ids:
            request = self.requests.get(rid)
            if request is None or request.is_finished():
                continue
            if request.status == RequestStatus.RUNNING:
                self.running.remove(request)
            else:
                self.waiting.remove(request)
            request.status = status
            self._free_request(request)

    def _free_request(self, request: Request) -> None:
        self.kv_cache_manager.free(request)
        del self.requests[request.request_id]

    def has_unfinished_requests(self) -> bool:
        return bool(self.waiting or self.running)

    def get_num_unfinished_requests(self) -> int:
        return len(self.waiting) + len(self.running)

    # --- the step ------------------------------------------------------------------------------
    def _num_new_tokens(self, request: Request, num_computed: int, budget: int) -> int:
        num_new = request.num_tokens_with_spec - num_computed
        if self.config.long_prefill_token_threshold > 0:
            num_new = min(num_new, self.config.long_prefill_token_threshold)
        # Never run past the model's context window (a draft may otherwise overshoot).
        return min(num_new, budget, self.max_model_len - num_computed)

    def _preempt_request(self, request: Request) -> None:
        """Recompute preemption: drop all KV and requeue at the front; tokens are kept."""
        self.kv_cache_manager.free(request)
        request.status = RequestStatus.PREEMPTED
        request.num_computed_tokens = 0
        request.spec_token_ids = []
        request.num_preemptions += 1
        self.num_preemptions += 1
        self.waiting.appendleft(request)

    def schedule(self) -> SchedulerOutput:
        out = SchedulerOutput()
        budget = self.config.max_num_batched_tokens

        # 1) Running requests first: they already hold KV memory, finishing them frees it.
        i = 0
        while i < len(self.running) and budget > 0:
            request = self.running[i]
            num_new = self._num_new_tokens(request, request.num_computed_tokens, budget)
            if num_new <= 0:
                i += 1
                continue
            while True:
                if self.kv_cache_manager.allocate_slots(request, num_new) is not None:
                    break
                if request.spec_token_ids:
                    # Drafts are optional work: shed them before preempting anybody.
                    request.spec_token_ids = []
                    num_new = self._num_new_tokens(request, request.num_computed_tokens, budget)
                    continue
                # Out of blocks: evict the lowest-priority (latest-arrived) running request.
                victim = self.running.pop()
                self._preempt_request(victim)
                out.preempted_req_ids.add(victim.request_id)
                if victim is request:
                    break
            if request.status == RequestStatus.PREEMPTED:
                break
            self._add_to_output(out, request, num_new)
            budget -= num_new
            i += 1

        # 2) Waiting requests, unless memory was so tight that we just preempted someone.
        while (self.waiting and budget > 0 and not out.preempted_req_ids
               and len(self.running) < self.config.max_num_seqs):
            request = self.waiting[0]
            if request.lora_request is not None:
                # A batch can mix at most max_loras adapters (one resident slot each).
                active = {r.lora_request.lora_name for r in self.running if r.lora_request}
                if request.lora_request.lora_name not in active and len(active) >= self.config.max_loras:
                    break
            computed_blocks, num_hit = self.kv_cache_manager.get_computed_blocks(request)
            num_new = self._num_new_tokens(request, num_hit, budget)
            if not self.config.enable_chunked_prefill and num_new < request.num_tokens - num_hit:
                break  # the whole prompt must fit in this step
            new_blocks = self.kv_cache_manager.allocate_slots(
                request, num_new, num_hit, computed_blocks)
            if new_blocks is None:
                break
            self.waiting.popleft()
            self.running.append(request)
            request.status = RequestStatus.RUNNING
            request.num_computed_tokens = num_hit
            if request.num_cached_tokens < 0:
                request.num_cached_tokens = num_hit
            self._add_to_output(out, request, num_new)
            budget -= num_new
        return out

    def _add_to_output(self, out: SchedulerOutput, request: Request, num_new: int) -> None:
        out.scheduled_requests.append(request)
        out.num_scheduled_tokens[request.request_id] = num_new
        out.total_num_scheduled_tokens += num_new
        # Drafts that did not fit in the budget are simply dropped.
        num_spec = request.num_computed_tokens + num_new - request.num_tokens
        request.spec_token_ids = request.spec_token_ids[:max(num_spec, 0)]
        if request.spec_token_ids:
            out.scheduled_spec_decode_tokens[request.request_id] = list(request.spec_token_ids)

    def update_from_output(self, out: SchedulerOutput,
                           sampled_token_ids: dict[str, list[int]]) -> list[Request]:
        """Advance progress, append sampled tokens, apply stop rules; returns finished requests.

        `sampled_token_ids[rid]` is empty for a prefill chunk that did not reach the prompt's end,
        one token for a plain decode, and 1..k+1 tokens after verifying k drafts.
        """
        finished: list[Request] = []
        for request in out.scheduled_requests:
            if request.is_finished() or request.status != RequestStatus.RUNNING:
                continue
            rid = request.request_id
            new_tokens = sampled_token_ids.get(rid, [])
            drafts = out.scheduled_spec_decode_tokens.get(rid, [])
            # Rejected drafts' KV slots hold garbage; not counting them makes the next step overwrite.
            num_rejected = len(drafts) + 1 - len(new_tokens) if drafts and new_tokens else 0
            request.num_computed_tokens += out.num_scheduled_tokens[rid] - num_rejected
            request.spec_token_ids = []
            for token in new_tokens:
                request.append_output_token_ids(token)
                if request.grammar is not None:
                    request.grammar.accept_token(token)
                if self._check_stop(request):
                    break
            if request.is_finished():
                self.running.remove(request)
                self._free_request(request)
                finished.append(request)
        return finished

    def _check_stop(self, request: Request) -> bool:
        """Token-level stop rules; stop *strings* are checked by the engine after detokenizing."""
        params = request.sampling_params
        if request.num_tokens >= self.max_model_len or (
                request.max_tokens is not None and request.num_output_tokens >= request.max_tokens):
            request.status = RequestStatus.FINISHED_LENGTH_CAPPED
            return True
        if request.num_output_tokens < params.min_tokens:
            return False
        last = request.output_token_ids[-1]
        if not params.ignore_eos and last == request.eos_token_id:
            request.status = RequestStatus.FINISHED_STOPPED
            return True
        if last in params.stop_token_ids:
            request.status = RequestStatus.FINISHED_STOPPED
            request.stop_reason = last
            return True
        if request.grammar is not None and request.grammar.is_terminated():
            request.status = RequestStatus.FINISHED_STOPPED
            return True
        return False
