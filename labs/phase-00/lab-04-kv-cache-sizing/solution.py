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
    # BEGIN SOLUTION: 2 (K and V) * layers * kv heads * head dim * bytes per element
    return 2 * num_layers * num_kv_heads * head_dim * dtype_bytes
    # END SOLUTION


def kv_bytes_per_token_from_vllm(model_config, parallel_config, dtype_bytes: int) -> int:
    """The same, reading the shape from a real `vllm.config.ModelConfig` for one tensor-parallel rank.

    Use `model_config.get_num_layers(parallel_config)`, `get_num_kv_heads(parallel_config)` and
    `get_head_size()`: under tensor parallelism each rank stores only its share of the KV heads.
    """
    # BEGIN SOLUTION: call the three ModelConfig getters and reuse kv_bytes_per_token
    return kv_bytes_per_token(model_config.get_num_layers(parallel_config),
                              model_config.get_num_kv_heads(parallel_config),
                              model_config.get_head_size(), dtype_bytes)
    # END SOLUTION


def num_blocks_that_fit(budget_bytes: int, page_size_bytes: int, num_layers: int) -> int:
    """Blocks a KV budget holds when every layer needs one page of `page_size_bytes` per block."""
    # BEGIN SOLUTION: floor(budget / (page size * layers))
    return budget_bytes // (page_size_bytes * num_layers)
    # END SOLUTION


def max_concurrent_requests(num_blocks: int, block_size: int, tokens_per_request: int) -> int:
    """Requests of `tokens_per_request` tokens each (prompt + output) that fit at once.

    A request holds whole blocks: a partly filled last block still belongs to it.
    """
    # BEGIN SOLUTION: blocks per request = ceil(tokens / block_size); floor(num_blocks / that)
    blocks_per_request = -(-tokens_per_request // block_size)
    return num_blocks // blocks_per_request
    # END SOLUTION
