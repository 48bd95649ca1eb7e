"""Property tests of the scheduler alone (the model is replaced by random tokens)."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from mini_vllm.config import EngineConfig
from mini_vllm.kv_cache.block import get_request_block_hasher
from mini_vllm.request import Request, RequestStatus
from mini_vllm.sampling_params import SamplingParams
from mini_vllm.scheduler import Scheduler

workload = st.lists(st.tuples(st.integers(1, 60), st.integers(1, 20), st.integers(0, 3)),
                    min_size=1, max_size=12)


@settings(max_examples=120, deadline=None)
@given(reqs=workload, block_size=st.integers(1, 8), extra_blocks=st.integers(0, 30),
       budget=st.integers(1, 64), max_seqs=st.integers(1, 6), chunked=st.booleans(),
       caching=st.booleans(), spec=st.integers(0, 3), seed=st.integers(0, 1000))
def test_every_request_finishes_without_leaks(reqs, block_size, extra_blocks, budget, max_seqs,
                                              chunked, caching, spec, seed):
    rng = random.Random(seed)
    max_model_len = 80
    # Enough blocks for the largest single request, so progress is always possible.
    largest = max(-(-(p + m) // block_size) for p, m, _ in reqs)
    if not chunked:
        budget = max_model_len  # required: a resumed request re-prefills prompt + output
    cfg = EngineConfig(model="unused", block_size=block_size, num_kv_blocks=largest + extra_blocks,
                       max_num_batched_tokens=budget, max_num_seqs=max_seqs,
                       enable_chunked_prefill=chunked, enable_prefix_caching=caching)
    sched = Scheduler(cfg, max_model_len)
    hasher = get_request_block_hasher(block_size)
    requests = []
    for i, (plen, max_tokens, family) in enumerate(reqs):
        # Prompts in one "family" share a prefix, so prefix caching gets exercised.
        prompt = [2 + family] * (plen // 2) + [rng.randrange(2, 50) for _ in range(plen - plen // 2)]
        r = Request(f"r{i}", prompt, SamplingParams(max_tokens=max_tokens, ignore_eos=True), 1,
                    block_hasher=hasher)
        sched.add_request(r)
        requests.append(r)
    pool = sched.kv_cache_manager.block_pool
    for _ in range(5000):
        if not sched.has_unfinished_requests():
            break
        out = sched.schedule()
        assert out.total_num_scheduled_tokens > 0, "no progress"
        assert out.total_num_scheduled_tokens <= budget
        assert len(sched.running) <= max_seqs
        sampled = {}
        for r in out.scheduled_requests:
            n = out.num_scheduled_tokens[r.request_id]
            assert 0 < n <= r.num_tokens_with_spec - r.num_computed_tokens
            held = len(sched.kv_cache_manager.req_to_blocks[r.request_id])
            assert held * block_size >= r.num_computed_tokens + n, "tokens without KV slots"
            if r.num_computed_tokens + n >= r.num_tokens:
                drafts = out.scheduled_spec_decode_tokens.get(r.request_id, [])
                accepted = rng.randint(0, len(drafts))
                sampled[r.request_id] = drafts[:accepted] + [rng.randrange(2, 50)]
        assert all(b.ref_cnt >= 0 for b in pool.blocks)
        sched.update_from_output(out, sampled)
        for r in sched.running:  # the engine's proposer would do this
            if spec and r.num_computed_tokens == r.num_tokens - 1:
                r.spec_token_ids = [rng.randrange(2, 50) for _ in range(spec)]
    else:
        raise AssertionError("requests did not finish in 5000 steps")
    for r in requests:
        assert r.status == RequestStatus.FINISHED_LENGTH_CAPPED
        assert r.num_output_tokens == min(r.max_tokens, max_model_len - r.num_prompt_tokens)
    assert pool.get_num_free_blocks() == cfg.num_kv_blocks, "blocks leaked"
    assert all(b.ref_cnt == 0 for b in pool.blocks)
