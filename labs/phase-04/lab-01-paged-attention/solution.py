"""Lab 04-01: attention that reads its keys and values through a block table.

This is the contract every vLLM attention backend implements, written slowly in torch. The inputs
have the shapes {anchor}`vllm/v1/attention/backends/flash_attn.py::FlashAttentionImpl.forward` passes
to `flash_attn_varlen_func`:

- `query` [num_tokens, H, D]: the new tokens of every request in the batch, back to back;
- `key_cache`, `value_cache` [num_blocks, block_size, Hkv, D]: the paged cache (FlashAttention's NHD
  layout, {anchor}`vllm/v1/attention/backends/flash_attn.py::FlashAttentionBackend.get_kv_cache_shape`
  after `kv_cache.unbind(0)`), already holding the new tokens' K/V;
- `query_start_loc` [num_reqs + 1] (`cu_seqlens_q`): request r owns query rows
  query_start_loc[r] : query_start_loc[r + 1];
- `seq_lens` [num_reqs] (`seqused_k`): tokens of request r in the cache, including the new ones;
- `block_table` [num_reqs, max_blocks]: logical block j of request r lives in physical block
  block_table[r, j].

The new tokens are the *last* query_len tokens of the sequence, so query row i of request r sits at
position seq_len - query_len + i and may see keys at positions <= that (causal).
"""
from __future__ import annotations

import torch


def gather_kv(cache: torch.Tensor, block_table_row: torch.Tensor, seq_len: int) -> torch.Tensor:
    """The first `seq_len` tokens of one request, contiguous: [seq_len, Hkv, D]."""
    # BEGIN SOLUTION: positions p -> physical block block_table_row[p // bs], offset p % bs
    block_size = cache.shape[1]
    pos = torch.arange(seq_len)
    return cache[block_table_row[pos // block_size], pos % block_size]
    # END SOLUTION


def paged_attention(query: torch.Tensor, key_cache: torch.Tensor, value_cache: torch.Tensor,
                    query_start_loc: torch.Tensor, seq_lens: torch.Tensor, block_table: torch.Tensor,
                    scale: float) -> torch.Tensor:
    """Causal grouped-query attention for a varlen batch over a paged KV cache. Returns [num_tokens, H, D]."""
    out = torch.empty_like(query)
    num_heads, num_kv_heads = query.shape[1], key_cache.shape[2]
    for r in range(len(seq_lens)):
        start, end = int(query_start_loc[r]), int(query_start_loc[r + 1])
        seq_len = int(seq_lens[r])
        # BEGIN SOLUTION: gather K,V; repeat KV heads; scores [H, q, s] * scale; mask keys after each query's position; softmax; @ V
        k = gather_kv(key_cache, block_table[r], seq_len).repeat_interleave(num_heads // num_kv_heads, dim=1)
        v = gather_kv(value_cache, block_table[r], seq_len).repeat_interleave(num_heads // num_kv_heads, dim=1)
        q = query[start:end]
        scores = torch.einsum("qhd,khd->hqk", q.float(), k.float()) * scale
        q_pos = seq_len - (end - start) + torch.arange(end - start)
        scores = scores.masked_fill(torch.arange(seq_len)[None, :] > q_pos[:, None], float("-inf"))
        out[start:end] = torch.einsum("hqk,khd->qhd", scores.softmax(-1), v.float()).to(query.dtype)
        # END SOLUTION
    return out
