"""Grades lab 00-04 against vLLM's FullAttentionSpec page size and a real ModelConfig built on CPU."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="module")
def model_config(tmp_path_factory):
    from transformers import LlamaConfig
    from vllm.config import ModelConfig

    d = tmp_path_factory.mktemp("llama")
    LlamaConfig(hidden_size=512, intermediate_size=1024, num_hidden_layers=6, num_attention_heads=8,
                num_key_value_heads=4, vocab_size=1000, max_position_embeddings=2048).save_pretrained(d)
    return ModelConfig(model=str(d), skip_tokenizer_init=True, dtype="bfloat16")


@pytest.mark.parametrize("layers,hkv,dh,dtype", [(32, 8, 128, torch.bfloat16), (32, 32, 128, torch.float16),
                                                  (80, 8, 128, torch.bfloat16), (6, 4, 64, torch.float32)])
def test_matches_full_attention_spec(impl, layers, hkv, dh, dtype):
    from vllm.v1.kv_cache_interface import FullAttentionSpec

    block_size = 16
    spec = FullAttentionSpec(block_size=block_size, num_kv_heads=hkv, head_size=dh, dtype=dtype)
    per_token_per_layer = spec.page_size_bytes // block_size
    got = impl.kv_bytes_per_token(layers, hkv, dh, dtype.itemsize)
    assert got == per_token_per_layer * layers


@pytest.mark.parametrize("tp", [1, 2, 4])
def test_reads_a_real_model_config(impl, model_config, tp):
    from vllm.config import ParallelConfig

    # 6 layers, 4 KV heads, head dim 512/8 = 64, bf16: 2*6*4*64*2 bytes per token on one GPU.
    got = impl.kv_bytes_per_token_from_vllm(model_config, ParallelConfig(tensor_parallel_size=tp), 2)
    assert got == 2 * 6 * (4 // tp) * 64 * 2


def test_blocks_and_requests(impl):
    from vllm.v1.kv_cache_interface import FullAttentionSpec

    spec = FullAttentionSpec(block_size=16, num_kv_heads=8, head_size=128, dtype=torch.bfloat16)
    budget = 10 * 2**30
    blocks = impl.num_blocks_that_fit(budget, spec.page_size_bytes, 32)
    assert blocks * spec.page_size_bytes * 32 <= budget < (blocks + 1) * spec.page_size_bytes * 32
    assert impl.max_concurrent_requests(blocks, 16, 4096) == blocks // 256
    assert impl.max_concurrent_requests(100, 16, 17) == 50  # 17 tokens need 2 blocks
    assert impl.max_concurrent_requests(100, 16, 16) == 100
