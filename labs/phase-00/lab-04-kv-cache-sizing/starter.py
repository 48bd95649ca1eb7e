# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.
# Grade it with: LAB_IMPL=starter pytest labs/phase-00/lab-04-kv-cache-sizing
"""Lab 00-04: how many bytes one token costs in the KV cache, checked against vLLM's own numbers.

Every layer keeps a K and a V vector per KV head for every token it has seen, so

    bytes per token = 2 * num_layers * num_kv_heads * head_dim * dtype_bytes

vLLM computes the same quantity per *block* of `block_size` tokens and per layer in
{anchor}`vllm/v1/kv_cache_interface.py::FullAttentionSpec.real_page_size_bytes`, and reads the shape
numbers from the model config ({anchor}`vllm/model_executor/models/llama.py::LlamaAttention.__init__`
shows where a layer's KV heads come from under tensor parallelism).
"""
from __future__ import annotations


def kv_bytes_per_token(num_layers: int, num_kv_heads: int, head_dim: int, dtype_bytes: int) -> int:
    # TODO: 2 (K and V) * layers * kv heads * head dim * bytes per element
    raise NotImplementedError('2 (K and V) * layers * kv heads * head dim * bytes per element')


def kv_bytes_per_token_from_vllm(model_config, parallel_config, dtype_bytes: int) -> int:
    """The same, reading the shape from a real `vllm.config.ModelConfig` for one tensor-parallel rank.

    Use `model_config.get_num_layers(parallel_config)`, `get_num_kv_heads(parallel_config)` and
    `get_head_size()`: under tensor parallelism each rank stores only its share of the KV heads.
    """
    # TODO: call the three ModelConfig getters and reuse kv_bytes_per_token
    raise NotImplementedError('call the three ModelConfig getters and reuse kv_bytes_per_token')


def num_blocks_that_fit(budget_bytes: int, page_size_bytes: int, num_layers: int) -> int:
    """Blocks a KV budget holds when every layer needs one page of `page_size_bytes` per block."""
    # TODO: floor(budget / (page size * layers))
    raise NotImplementedError('floor(budget / (page size * layers))')


def max_concurrent_requests(num_blocks: int, block_size: int, tokens_per_request: int) -> int:
    """Requests of `tokens_per_request` tokens each (prompt + output) that fit at once.

    A request holds whole blocks: a partly filled last block still belongs to it.
    """
    # TODO: blocks per request = ceil(tokens / block_size); floor(num_blocks / that)
    raise NotImplementedError('blocks per request = ceil(tokens / block_size); floor(num_blocks / that)')
