"""Paged attention on the CPU: write new K/V into their slots, then gather each sequence's context
through its block table.

Upstream: {anchor}`vllm/v1/attention/backends/cpu_attn.py::CPUAttentionBackendImpl`,
{anchor}`vllm/v1/attention/backends/cpu_attn.py::CPUAttentionMetadata`.

Cache layout per layer: `kv_cache[0|1]` is `[num_blocks, block_size, num_kv_heads, head_dim]`, so a
token's *slot* `block_id * block_size + offset` addresses one row of the flattened cache. The model
never sees contiguous per-sequence KV; the block table is the only map from positions to memory.

All K/V of a step are written before any attention is computed, so a request that got a prefix-cache
hit on a block another request fills in this very step reads the right values.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass
class AttentionMetadata:
    """Where this step's tokens go and what each sequence attends to."""

    # [num_tokens]: cache slot of each new token.
    slot_mapping: torch.Tensor
    # Per sequence: its tokens are q[query_start_loc[i]:query_start_loc[i+1]].
    query_start_loc: list[int]
    # Per sequence: context length after this step (cached + new tokens).
    seq_lens: list[int]
    # [num_seqs, max_blocks]: block ids, padded with 0 (padding is masked out by seq_lens).
    block_tables: torch.Tensor
    # Sequences that bring exactly one new token: attended in one batched call.
    decode_indices: list[int]
    # The rest (prefill chunks, spec-decode verification): attended one by one with a causal mask.
    prefill_indices: list[int]


def write_to_kv_cache(k: torch.Tensor, v: torch.Tensor, kv_cache: torch.Tensor,
                      slot_mapping: torch.Tensor) -> None:
    """Scatter this step's keys and values ([T, H_kv, D]) into their slots."""
    num_kv_heads, head_dim = k.shape[1], k.shape[2]
    kv_cache[0].view(-1, num_kv_heads, head_dim)[slot_mapping] = k
    kv_cache[1].view(-1, num_kv_heads, head_dim)[slot_mapping] = v


def _gather(cache: torch.Tensor, block_table: torch.Tensor) -> torch.Tensor:
    """[..., max_blocks] block ids -> [..., max_blocks * block_size, H_kv, D] contiguous context."""
    g = cache[block_table]
    return g.reshape(*block_table.shape[:-1], -1, *cache.shape[-2:])


def paged_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, kv_cache: torch.Tensor,
                    meta: AttentionMetadata, scale: float) -> torch.Tensor:
    """q: [T, H, D], k/v: [T, H_kv, D] for the new tokens -> attention output [T, H, D]."""
    write_to_kv_cache(k, v, kv_cache, meta.slot_mapping)
    out = torch.empty_like(q)
    k_cache, v_cache = kv_cache[0], kv_cache[1]

    if meta.decode_indices:
        idx = meta.decode_indices
        starts = torch.tensor([meta.query_start_loc[i] for i in idx])
        lens = torch.tensor([meta.seq_lens[i] for i in idx])
        tables = meta.block_tables[idx]
        keys = _gather(k_cache, tables).transpose(1, 2)  # [B, H_kv, L, D]
        values = _gather(v_cache, tables).transpose(1, 2)
        # Padding slots beyond a sequence's length (other requests' data, or garbage) are masked.
        mask = torch.arange(keys.shape[2])[None, :] < lens[:, None]  # [B, L]
        qd = q[starts].unsqueeze(2)  # [B, H, 1, D]
        o = F.scaled_dot_product_attention(qd, keys, values, attn_mask=mask[:, None, None, :],
                                           scale=scale, enable_gqa=True)
        out[starts] = o.squeeze(2)

    for i in meta.prefill_indices:
        s, e = meta.query_start_loc[i], meta.query_start_loc[i + 1]
        seq_len = meta.seq_lens[i]
        num_blocks = -(-seq_len // k_cache.shape[1])
        table = meta.block_tables[i, :num_blocks]
        keys = _gather(k_cache, table)[:seq_len].transpose(0, 1)  # [H_kv, L, D]
        values = _gather(v_cache, table)[:seq_len].transpose(0, 1)
        # Query j sits at position seq_len - (e - s) + j and sees every key up to that position.
        q_pos = torch.arange(seq_len - (e - s), seq_len)
        mask = torch.arange(seq_len)[None, :] <= q_pos[:, None]
        o = F.scaled_dot_product_attention(q[s:e].transpose(0, 1), keys, values, attn_mask=mask,
                                           scale=scale, enable_gqa=True)
        out[s:e] = o.transpose(0, 1)
    return out
