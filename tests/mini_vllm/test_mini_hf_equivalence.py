"""Greedy outputs are token-identical to Hugging Face `transformers` generate on the same weights."""

from __future__ import annotations

import random

import pytest
import torch
import transformers

from mini_vllm import LLM, SamplingParams

transformers.logging.set_verbosity_error()


def hf_greedy(model_dir: str, prompts: list[list[int]], max_new_tokens: int) -> list[list[int]]:
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    out = []
    for ids in prompts:
        gen = model.generate(torch.tensor([ids]), max_new_tokens=max_new_tokens, do_sample=False,
                             eos_token_id=1, pad_token_id=1)
        out.append(gen[0, len(ids):].tolist())
    return out


def random_prompts(n: int, lo: int, hi: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    # Ids >= 2 avoid BOS/EOS in prompts.
    return [[rng.randrange(2, 512) for _ in range(rng.randint(lo, hi))] for _ in range(n)]


CASES = [
    # (model, engine kwargs, prompt lengths): block sizes 1/3/5/16, chunking and preemption.
    ("gqa", dict(block_size=16, num_kv_blocks=256), (3, 40)),
    ("gqa", dict(block_size=5, num_kv_blocks=256, max_num_batched_tokens=32), (60, 150)),
    ("mha_tied", dict(block_size=3, num_kv_blocks=300, enable_prefix_caching=False), (1, 30)),
    ("mqa_3layer", dict(block_size=1, num_kv_blocks=800, max_num_batched_tokens=48), (20, 90)),
]


@pytest.mark.parametrize("model_name,kwargs,lengths", CASES,
                         ids=[f"{c[0]}-bs{c[1]['block_size']}" for c in CASES])
def test_greedy_matches_transformers(tiny_models, model_name, kwargs, lengths):
    model_dir = tiny_models[model_name]
    prompts = random_prompts(6, *lengths, seed=len(model_name) + kwargs["block_size"])
    llm = LLM(model_dir, **kwargs)
    outs = llm.generate(prompts, SamplingParams(temperature=0.0, max_tokens=20))
    expected = hf_greedy(model_dir, prompts, 20)
    for o, e in zip(outs, expected):
        assert o.outputs[0].token_ids == e


def test_long_prompts_chunk_and_preempt_yet_match(tiny_models):
    """A KV pool too small for the batch forces recompute preemption; outputs must not change."""
    model_dir = tiny_models["gqa"]
    prompts = random_prompts(8, 70, 130, seed=7)
    llm = LLM(model_dir, block_size=7, num_kv_blocks=45, max_num_batched_tokens=40, max_num_seqs=8)
    outs = llm.generate(prompts, SamplingParams(temperature=0.0, max_tokens=24, min_tokens=24))
    stats = llm.llm_engine.stats
    assert stats.num_preemptions > 0, "the workload was meant to preempt"
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    for o, p in zip(outs, prompts):
        gen = model.generate(torch.tensor([p]), max_new_tokens=24, min_new_tokens=24, do_sample=False,
                             pad_token_id=1)
        assert o.outputs[0].token_ids == gen[0, len(p):].tolist()
    assert llm.llm_engine.scheduler.kv_cache_manager.block_pool.get_num_free_blocks() == 45
