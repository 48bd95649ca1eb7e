"""A SIMULATED executor for CPU mode: the real vLLM v1 engine, no model.

vLLM lets `distributed_executor_backend` be an `Executor` subclass, so the real
{anchor}`vllm/v1/engine/core.py::EngineCore`, its Scheduler and KV-cache manager run unchanged and
only the model is replaced. This executor answers the executor's RPCs itself: it reports one
full-attention KV-cache layer, "samples" a next token as a deterministic hash of the request's
tokens, and sleeps a small, token-proportional time so the timeline has a plausible shape.
Every number it produces about the GPU is made up; every scheduling decision is vLLM's own.
"""
from __future__ import annotations

import time
import zlib
from concurrent.futures import Future
from typing import Any

import torch

from vllm.v1.executor.abstract import Executor
from vllm.v1.kv_cache_interface import FullAttentionSpec
from vllm.v1.outputs import ModelRunnerOutput
from vllm.v1.worker.worker_base import CompilationTimes

LABEL = "SIMULATED executor: no model runs"

# Cost model of the pretend forward pass (seconds): a fixed launch cost plus a per-token cost.
# Small on purpose: CI must stay fast; the shape (prefill steps longer than decode) is what matters.
STEP_FIXED_S = 0.0004
PER_TOKEN_S = 0.000004


class SimulatedWorker:
    """Stands where `Worker` + `GPUModelRunner` stand: keeps each request's tokens, emits one token."""

    def __init__(self, vllm_config) -> None:
        self.vllm_config = vllm_config
        self.vocab = vllm_config.model_config.get_vocab_size()
        self.tokens: dict[str, list[int]] = {}  # request id -> prompt + generated so far
        self.prompt_len: dict[str, int] = {}
        self.steps = 0

    # --- what EngineCore asks before serving -------------------------------------------------
    def get_kv_cache_spec(self) -> dict[str, FullAttentionSpec]:
        model = self.vllm_config.model_config
        spec = FullAttentionSpec(
            block_size=self.vllm_config.cache_config.block_size or 16,
            num_kv_heads=model.get_num_kv_heads(self.vllm_config.parallel_config),
            head_size=model.get_head_size(), dtype=torch.float16)
        # One layer stands for the whole model: only the block count matters to the scheduler.
        return {"model.layers.0.self_attn.attn": spec}

    def determine_available_memory(self) -> int:
        return 1 << 30  # overridden by num_gpu_blocks_override, which CPU mode always sets

    def initialize_from_config(self, kv_cache_config) -> None:
        pass

    def compile_or_warm_up_model(self) -> CompilationTimes:
        return CompilationTimes(language_model=0.0, encoder=0.0)

    def get_supported_tasks(self) -> tuple[str, ...]:
        return ("generate",)

    # --- one step ------------------------------------------------------------------------------
    def execute_model(self, scheduler_output) -> ModelRunnerOutput:
        """Mirror the batch the scheduler built, then sample for requests whose prompt is done."""
        self.steps += 1
        for req_id in scheduler_output.finished_req_ids:
            self.tokens.pop(req_id, None)
            self.prompt_len.pop(req_id, None)
        for new in scheduler_output.scheduled_new_reqs:
            self.tokens[new.req_id] = list(new.prompt_token_ids or [])
            self.prompt_len[new.req_id] = len(new.prompt_token_ids or [])
        cached = scheduler_output.scheduled_cached_reqs
        for i, req_id in enumerate(cached.req_ids):
            # A resumed (preempted) request comes back with all its tokens: rebuild its state.
            if req_id in cached.resumed_req_ids and cached.all_token_ids:
                self.tokens[req_id] = list(cached.all_token_ids[req_id])
        num_sched = scheduler_output.num_scheduled_tokens
        time.sleep(STEP_FIXED_S + PER_TOKEN_S * scheduler_output.total_num_scheduled_tokens)
        req_ids = list(num_sched)
        sampled: list[list[int]] = []
        for req_id in req_ids:
            computed = self._num_computed(scheduler_output, req_id)
            toks = self.tokens[req_id]
            if computed + num_sched[req_id] >= len(toks):  # prefill (or decode) reached the end
                nxt = zlib.crc32(repr(toks[-64:]).encode()) % self.vocab
                toks.append(nxt)
                sampled.append([nxt])
            else:  # a chunk of a longer prompt: no token yet
                sampled.append([])
        return ModelRunnerOutput(req_ids=req_ids,
                                 req_id_to_index={r: i for i, r in enumerate(req_ids)},
                                 sampled_token_ids=sampled, logprobs=None,
                                 prompt_logprobs_dict={}, pooler_output=[])

    @staticmethod
    def _num_computed(scheduler_output, req_id: str) -> int:
        for new in scheduler_output.scheduled_new_reqs:
            if new.req_id == req_id:
                return new.num_computed_tokens
        cached = scheduler_output.scheduled_cached_reqs
        return cached.num_computed_tokens[cached.req_ids.index(req_id)]

    def sample_tokens(self, grammar_output) -> None:
        return None

    def reset_mm_cache(self) -> None:
        pass

    def reset_encoder_cache(self) -> None:
        pass

    def take_draft_token_ids(self) -> None:
        return None

    def check_health(self) -> None:
        pass

    def shutdown(self) -> None:
        pass


class SimulatedExecutor(Executor):
    """An `Executor` whose one 'worker' is a `SimulatedWorker` in the EngineCore process."""

    uses_ray = False
    supports_pp = False

    def _init_executor(self) -> None:
        self.driver_worker = SimulatedWorker(self.vllm_config)

    def collective_rpc(self, method, timeout=None, args=(), kwargs=None, non_block=False):
        fn = getattr(self.driver_worker, method) if isinstance(method, str) else (
            lambda *a, **k: method(self.driver_worker, *a, **k))
        result = [fn(*args, **(kwargs or {}))]
        if not non_block:
            return result
        future: Future[Any] = Future()
        future.set_result(result)
        return future

    def execute_model(self, scheduler_output, non_block: bool = False):
        # EngineCore.step asks for a Future of the single worker's output, as UniProcExecutor gives.
        output = self.driver_worker.execute_model(scheduler_output)
        if not non_block:
            return output
        future: Future[Any] = Future()
        future.set_result(output)
        return future

    def check_health(self) -> None:
        pass

    def shutdown(self) -> None:
        pass
