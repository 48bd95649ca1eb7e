"""Batched multi-LoRA equals one-adapter-at-a-time runs and equals transformers with merged weights."""

from __future__ import annotations

import copy

import torch
import transformers

from mini_vllm import LLM, LoRARequest, SamplingParams
from mini_vllm.lora import load_peft_adapter

PROMPTS = ["The engine runs fast", "a block of the cache", "json schema with number", "short"]


def test_batch_equals_per_request_loop(tiny_model, tiny_loras):
    loras = [LoRARequest(f"l{i}", i + 1, p) for i, p in enumerate(tiny_loras)]
    per_req = [loras[0], None, loras[1], loras[2]]
    sp = SamplingParams(temperature=0.0, max_tokens=16, min_tokens=16)
    llm = LLM(tiny_model, num_kv_blocks=256, max_loras=3, max_lora_rank=8)
    batched = llm.generate(PROMPTS, sp, lora_request=per_req)
    for prompt, lora, out in zip(PROMPTS, per_req, batched):
        single = LLM(tiny_model, num_kv_blocks=256, max_loras=1, max_lora_rank=8)
        alone = single.generate([prompt], sp, lora_request=lora)[0]
        assert out.outputs[0].token_ids == alone.outputs[0].token_ids
    # The adapters must actually change something, or the test proves nothing.
    base = llm.generate(PROMPTS, sp)
    # max_loras=1 with 3 adapters queued: the scheduler must serialise them through the one slot.
    one_slot = LLM(tiny_model, num_kv_blocks=256, max_loras=1, max_lora_rank=8)
    assert [o.outputs[0].token_ids for o in one_slot.generate(PROMPTS, sp, lora_request=per_req)] == \
        [o.outputs[0].token_ids for o in batched]
    assert any(a.outputs[0].token_ids != b.outputs[0].token_ids for a, b in zip(base, batched))


def test_matches_transformers_with_merged_adapter(tiny_model, tiny_loras):
    hf = transformers.AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    llm = LLM(tiny_model, num_kv_blocks=256, max_loras=2, max_lora_rank=8)
    sp = SamplingParams(temperature=0.0, max_tokens=16, min_tokens=16)
    tok = llm.get_tokenizer()
    for i, path in enumerate(tiny_loras[1:], start=1):  # rank 4 (4 modules) and rank 2 (all 7)
        merged = copy.deepcopy(hf)
        pairs, scaling, _ = load_peft_adapter(path)
        with torch.no_grad():
            for module, (a, b) in pairs.items():
                merged.get_submodule(module).weight += scaling * (b @ a)
        outs = llm.generate(PROMPTS, sp, lora_request=LoRARequest(f"m{i}", i + 1, path))
        for prompt, out in list(zip(PROMPTS, outs))[:2]:
            ids = tok.encode(prompt).ids
            gen = merged.generate(torch.tensor([ids]), max_new_tokens=16, min_new_tokens=16,
                                  do_sample=False, pad_token_id=1)
            assert out.outputs[0].token_ids == gen[0, len(ids):].tolist()


def test_prefix_cache_keeps_adapters_apart(tiny_model, tiny_loras):
    """Same prompt, different adapters: blocks must not be shared (the LoRA name is in the hash)."""
    llm = LLM(tiny_model, num_kv_blocks=256, block_size=4, max_loras=2, max_lora_rank=8)
    prompt = "the cache the block the request the batch the model"
    sp = SamplingParams(temperature=0.0, max_tokens=8, ignore_eos=True)
    llm.generate([prompt], sp, lora_request=LoRARequest("a", 1, tiny_loras[0]))
    out = llm.generate([prompt], sp, lora_request=LoRARequest("b", 2, tiny_loras[1]))[0]
    assert out.num_cached_tokens == 0
    again = llm.generate([prompt], sp, lora_request=LoRARequest("b", 2, tiny_loras[1]))[0]
    assert again.num_cached_tokens > 0 and again.outputs[0].token_ids == out.outputs[0].token_ids
