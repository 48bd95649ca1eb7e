"""The step loop: schedule -> build the flat batch -> forward -> sample/verify -> update -> detokenize.

Upstream: {anchor}`vllm/v1/engine/llm_engine.py::LLMEngine`,
{anchor}`vllm/v1/engine/llm_engine.py::LLMEngine.step`,
{anchor}`vllm/v1/engine/parallel_sampling.py::ParentRequest`,
{anchor}`vllm/v1/engine/detokenizer.py::check_stop_strings`.

vLLM runs the scheduler, the model runner and the detokenizer in different processes; here they
are three phases of one method so a learner can step through a whole iteration in a debugger.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mini_vllm.attention import AttentionMetadata
from mini_vllm.config import EngineConfig, ModelConfig
from mini_vllm.kv_cache.block import get_request_block_hasher
from mini_vllm.lora import LoRAManager, LoRAMapping, LoRARequest
from mini_vllm.model.llama import LlamaForCausalLM
from mini_vllm.outputs import CompletionOutput, RequestOutput
from mini_vllm.request import Request, RequestStatus
from mini_vllm.sampler import Sampler, SamplingRow, random_sample
from mini_vllm.sampling_params import SamplingParams
from mini_vllm.scheduler import Scheduler, SchedulerOutput
from mini_vllm.spec_decode import NgramProposer, rejection_sample


@dataclass
class _Parent:
    """A user request fanned out into n child requests (SamplingParams.n)."""

    prompt: str | None
    prompt_token_ids: list[int]
    children: list[str]
    done: dict[str, CompletionOutput] = field(default_factory=dict)
    num_cached_tokens: int = 0


@dataclass
class EngineStats:
    num_steps: int = 0
    num_generated_tokens: int = 0
    num_draft_tokens: int = 0
    num_accepted_tokens: int = 0
    num_spec_verify_steps: int = 0
    num_preemptions: int = 0


class LLMEngine:
    """Owns the model, the KV tensors, the scheduler and the sampler."""

    def __init__(self, config: EngineConfig) -> None:
        from tokenizers import Tokenizer

        if config.num_threads:
            torch.set_num_threads(config.num_threads)
        self.config = config
        self.model_config = mc = ModelConfig.from_pretrained(config.model)
        tok_file = Path(config.model) / "tokenizer.json"
        if not tok_file.is_file():
            raise FileNotFoundError(f"{tok_file}: missing; mini_vllm needs a tokenizers-format tokenizer")
        self.tokenizer = Tokenizer.from_file(str(tok_file))
        self.max_model_len = min(config.max_model_len or mc.max_position_embeddings,
                                 mc.max_position_embeddings)
        self.model = LlamaForCausalLM(mc, config.max_loras, config.max_lora_rank).eval()
        self.model.load_weights(config.model)
        # One [2, kv_heads, blocks, block_size, head_dim] tensor per layer: index 0 keys, 1 values.
        self.kv_caches = [torch.zeros(2, mc.num_key_value_heads, config.num_kv_blocks,
                                      config.block_size, mc.head_dim)
                          for _ in range(mc.num_hidden_layers)]
        self.scheduler = Scheduler(config, self.max_model_len)
        self.sampler = Sampler(config.seed)
        self.proposer = (NgramProposer(config.num_speculative_tokens, config.prompt_lookup_min,
                                       config.prompt_lookup_max, self.max_model_len)
                         if config.num_speculative_tokens > 0 else None)
        self.lora_manager = LoRAManager(self.model, config.max_loras, config.max_lora_rank)
        self._structured = None
        self._block_hasher = get_request_block_hasher(config.block_size)
        self._parents: dict[str, _Parent] = {}
        self._child_parent: dict[str, str] = {}
        self._ids = itertools.count()
        self.stats = EngineStats()

    @classmethod
    def from_engine_args(cls, model: str, **kwargs) -> "LLMEngine":
        return cls(EngineConfig.from_kwargs(model, **kwargs))

    # --- requests ------------------------------------------------------------------------------
    def add_request(self, request_id: str | None, prompt: str | list[int], params: SamplingParams,
                    lora_request: LoRARequest | None = None) -> str:
        """Queue a prompt (text or token ids); with n > 1 it becomes n child requests."""
        request_id = request_id if request_id is not None else str(next(self._ids))
        text = prompt if isinstance(prompt, str) else None
        ids = self.tokenizer.encode(prompt).ids if isinstance(prompt, str) else list(prompt)
        if any(not 0 <= t < self.model_config.vocab_size for t in ids):
            raise ValueError(f"request {request_id}: token id out of range [0, {self.model_config.vocab_size})")
        children = [request_id] if params.n == 1 else [f"{i}_{request_id}" for i in range(params.n)]
        self._parents[request_id] = _Parent(text, ids, children)
        for i, child_id in enumerate(children):
            child_params = params
            if params.n > 1:
                # Each child is one sample; distinct seeds keep seeded children from being clones.
                child_params = SamplingParams(**{**params.__dict__, "n": 1,
                                                 "seed": None if params.seed is None else params.seed + i})
            req = Request(child_id, ids, child_params, self.model_config.eos_token_id,
                          lora_request=lora_request, block_hasher=self._block_hasher)
            if child_params.structured_outputs is not None:
                req.grammar = self._structured_manager().grammar_for(child_params.structured_outputs)
            self.scheduler.add_request(req)
            self._child_parent[child_id] = request_id
        return request_id

    def abort_request(self, request_id: str) -> None:
        parent = self._parents.pop(request_id, None)
        if parent is not None:
            self.scheduler.finish_requests(parent.children, RequestStatus.FINISHED_ABORTED)

    def has_unfinished_requests(self) -> bool:
        return self.scheduler.has_unfinished_requests()

    def _structured_manager(self):
        if self._structured is None:
            from mini_vllm.structured_output import StructuredOutputManager

            self._structured = StructuredOutputManager(self.config.model, self.model_config.vocab_size)
        return self._structured

    # --- one iteration -------------------------------------------------------------------------
    @torch.inference_mode()
    def step(self) -> list[RequestOutput]:
        """Run one scheduling step; returns the user requests that finished during it."""
        sched = self.scheduler.schedule()
        if sched.total_num_scheduled_tokens == 0:
            if self.scheduler.has_unfinished_requests():
                raise RuntimeError("scheduler made no progress: no KV blocks for even one request")
            return []
        self.stats.num_steps += 1
        self.stats.num_preemptions += len(sched.preempted_req_ids)
        hidden, logit_rows = self._execute_model(sched)
        sampled = self._sample(sched, hidden, logit_rows)
        finished = self.scheduler.update_from_output(sched, sampled)
        finished += self._check_stop_strings(sched)
        self._propose_drafts(sched)
        return self._make_outputs(finished)

    def _execute_model(self, sched: SchedulerOutput) -> tuple[torch.Tensor, dict[str, list[int]]]:
        """Flatten the scheduled tokens of all requests into one forward pass.

        Only the per-request token lists are assembled here; positions, slots and the padded
        attention groups are derived with tensor ops in `AttentionMetadata.build`.
        """
        input_ids: list[int] = []
        query_start_loc, seq_lens, tables, segments = [0], [], [], []
        logit_rows: dict[str, list[int]] = {}
        lora_slots = self.lora_manager.activate(
            [r.lora_request for r in sched.scheduled_requests if r.lora_request is not None])
        get_block_ids = self.scheduler.kv_cache_manager.get_block_ids
        for req in sched.scheduled_requests:
            n = sched.num_scheduled_tokens[req.request_id]
            start = req.num_computed_tokens
            tokens = req.all_token_ids[start:start + n]
            if len(tokens) < n:  # the tail of the scheduled tokens is this step's drafts
                tokens = tokens + req.spec_token_ids[:n - len(tokens)]
            input_ids += tokens
            offset = query_start_loc[-1]
            query_start_loc.append(offset + n)
            seq_lens.append(start + n)
            tables.append(get_block_ids(req.request_id))
            if req.lora_request is not None:
                segments.append((offset, offset + n, lora_slots[req.lora_request.lora_name]))
            # Only a chunk that reaches the last known token produces logits; with k drafts the
            # last k+1 positions each predict one token.
            if start + n >= req.num_tokens:
                num_spec = len(sched.scheduled_spec_decode_tokens.get(req.request_id, []))
                logit_rows[req.request_id] = list(range(offset + n - 1 - num_spec, offset + n))
        meta = AttentionMetadata.build(query_start_loc, seq_lens, tables, self.config.block_size)
        hidden = self.model(torch.tensor(input_ids), meta.positions, self.kv_caches, meta,
                            LoRAMapping(segments) if segments else None)
        return hidden, logit_rows

    def _sample(self, sched: SchedulerOutput, hidden: torch.Tensor,
                logit_rows: dict[str, list[int]]) -> dict[str, list[int]]:
        """Plain sampling for ordinary requests, rejection sampling for draft verifications."""
        reqs = [r for r in sched.scheduled_requests if r.request_id in logit_rows]
        if not reqs:
            return {}
        flat = [row for r in reqs for row in logit_rows[r.request_id]]
        raw_logits = self.model.compute_logits(hidden[flat])
        rows: list[SamplingRow] = []
        for r in reqs:
            drafts = sched.scheduled_spec_decode_tokens.get(r.request_id, [])
            for j in range(len(drafts) + 1):
                blocked = None
                if r.num_output_tokens + j < r.sampling_params.min_tokens:
                    blocked = list(r.sampling_params.stop_token_ids)
                    if r.eos_token_id is not None:
                        blocked.append(r.eos_token_id)
                rows.append(SamplingRow(r.sampling_params, r.prompt_token_ids,
                                        r.output_token_ids + drafts[:j] if j else r.output_token_ids, r.generator,
                                        r.grammar.allowed_mask() if r.grammar is not None else None,
                                        blocked))
        processed = self.sampler.process_logits(raw_logits, rows)
        greedy = torch.tensor([row.params.temperature < 1e-5 for row in rows])
        tokens = processed.argmax(-1)
        if not greedy.all():
            tokens = torch.where(greedy, tokens, random_sample(processed.softmax(-1), rows,
                                                               self.sampler.generator))
        token_list = tokens.tolist()  # one conversion, not one tensor read per request
        out: dict[str, list[int]] = {}
        pos = 0
        for r in reqs:
            drafts = sched.scheduled_spec_decode_tokens.get(r.request_id, [])
            k = len(drafts)
            if k:
                new = rejection_sample(processed[pos:pos + k + 1].softmax(-1), drafts,
                                       bool(greedy[pos]), r.generator or self.sampler.generator)
                self.stats.num_spec_verify_steps += 1
                self.stats.num_draft_tokens += k
                self.stats.num_accepted_tokens += len(new) - 1
            else:
                new = [token_list[pos]]
            if r.sampling_params.logprobs is not None:
                r.logprobs += self.sampler.compute_logprobs(
                    raw_logits[pos:pos + len(new)], torch.tensor(new), rows[pos:pos + len(new)])
            self.stats.num_generated_tokens += len(new)
            out[r.request_id] = new
            pos += k + 1
        return out

    def _check_stop_strings(self, sched: SchedulerOutput) -> list[Request]:
        """Detokenize requests with stop strings and end those whose text now contains one."""
        finished = []
        for req in sched.scheduled_requests:
            stops = req.sampling_params.stop
            if not stops or req.is_finished() or not req.output_token_ids:
                continue
            text = self.tokenizer.decode(req.output_token_ids, skip_special_tokens=True)
            for s in stops:
                if s in text:
                    req.stop_reason = s
                    self.scheduler.finish_requests([req.request_id], RequestStatus.FINISHED_STOPPED)
                    finished.append(req)
                    break
        return finished

    def _propose_drafts(self, sched: SchedulerOutput) -> None:
        """Give every decoding request k n-gram drafts to verify next step."""
        if self.proposer is None:
            return
        for req in sched.scheduled_requests:
            if (req.status != RequestStatus.RUNNING or req.grammar is not None
                    or req.num_computed_tokens != req.num_tokens - 1):
                continue
            drafts = self.proposer.propose(req.all_token_ids)
            if req.max_tokens is not None:  # no point verifying tokens past max_tokens
                drafts = drafts[:max(req.max_tokens - req.num_output_tokens - 1, 0)]
            req.spec_token_ids = drafts

    # --- outputs -------------------------------------------------------------------------------
    def _completion(self, req: Request, index: int) -> CompletionOutput:
        text = self.tokenizer.decode(req.output_token_ids, skip_special_tokens=True)
        if isinstance(req.stop_reason, str):
            cut = text.find(req.stop_reason)
            text = text[:cut + len(req.stop_reason)] if req.sampling_params.include_stop_str_in_output \
                else text[:cut]
        logprobs = req.logprobs if req.sampling_params.logprobs is not None else None
        cum = (sum(lp[t] for lp, t in zip(req.logprobs, req.output_token_ids))
               if logprobs is not None else None)
        return CompletionOutput(index, text, list(req.output_token_ids), cum, logprobs,
                                req.get_finished_reason(), req.stop_reason)

    def _make_outputs(self, finished: list[Request]) -> list[RequestOutput]:
        outputs = []
        for req in finished:
            parent_id = self._child_parent.pop(req.request_id)
            parent = self._parents.get(parent_id)
            if parent is None:
                continue
            parent.done[req.request_id] = self._completion(req, parent.children.index(req.request_id))
            parent.num_cached_tokens = max(parent.num_cached_tokens, req.num_cached_tokens)
            if len(parent.done) == len(parent.children):
                del self._parents[parent_id]
                outputs.append(RequestOutput(parent_id, parent.prompt, parent.prompt_token_ids,
                                             [parent.done[c] for c in parent.children], True,
                                             parent.num_cached_tokens))
        return outputs
