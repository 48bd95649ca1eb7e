"""Paged attention on the CPU: write new K/V into their slots, then gather each sequence's context
through its block table.

Upstream: {anchor}`vllm/v1/attention/backends/cpu_attn.py::CPUAttentionBackendImpl`,
{anchor}`vllm/v1/attention/backends/cpu_attn.py::CPUAttentionMetadata`.

Cache layout per layer: `kv_cache` is `[2, num_kv_heads, num_blocks, block_size, head_dim]` (index
0 keys, 1 values). A token's *slot* `block_id * block_size + offset` names one row of a block. The
model never sees contiguous per-sequence KV; the block table is the only map from positions to
memory. Heads come first so that gathering a sequence's blocks (`index_select` on the block axis)
yields `[heads, sequences, positions, head_dim]` directly: ready for a batched matmul, no transpose.

How the batch is attended. A step mixes sequences with very different numbers of new tokens: 64
decodes bring one each, a prefill chunk hundreds, a spec-decode verification k + 1. Looping over
sequences in Python costs a few hundred microseconds each, times every layer, which on a small model
is more than the arithmetic. So `AttentionMetadata.build` packs the sequences, once per step, into a
few *padded groups*: within a group every sequence is padded to the group's longest query
(`q_rows`) and longest context (`kv_slots`, one cache slot per context position), and a boolean
`mask` hides padding keys and future positions. Each layer then does, per group, ONE gather of K and
V through `kv_slots` and ONE `scaled_dot_product_attention` call. Sequences are sorted by query
length before packing, so the usual step (all decodes) is a single group with no query padding, and
a group is closed before its padded score matrix grows past `MAX_GROUP_ELEMENTS` (one 2,000-token
prefill chunk must not make 60 decodes pad to 2,000 queries). Grouped-query attention is handled by
folding the query heads that share a KV head into the query axis, so K and V are never repeated.

All K/V of a step are written before any attention is computed, so a request that got a prefix-cache
hit on a block another request fills in this very step reads the right values.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

# Upper bound on sequences x padded queries x padded keys in one group (the mask's element count).
MAX_GROUP_ELEMENTS = 1 << 20


@dataclass
class AttentionGroup:
    """Sequences attended together in one padded call; every tensor is built once per step."""

    # [S, Q]: flat token row of each (padded) query. Padding repeats the sequence's last query.
    q_rows: torch.Tensor
    # [S, Q]: False on padding queries (their outputs are dropped).
    q_valid: torch.Tensor
    # [S * B]: the sequences' block tables, flattened (padding blocks are block 0, masked below).
    block_ids: torch.Tensor
    # [S, 1, Q, L]: True where query q must NOT see key l (a future position or padding).
    masked: torch.Tensor
    # [num real queries]: flat token rows, in the order `q_valid` selects them.
    out_rows: torch.Tensor


@dataclass
class AttentionMetadata:
    """Where this step's tokens go and what each sequence attends to."""

    # [num_tokens]: absolute position of each new token (for RoPE).
    positions: torch.Tensor
    # [num_tokens]: cache slot of each new token.
    slot_mapping: torch.Tensor
    # Per sequence: its tokens are q[query_start_loc[i]:query_start_loc[i+1]].
    query_start_loc: list[int]
    # Per sequence: context length after this step (cached + new tokens).
    seq_lens: list[int]
    # [num_seqs, max_blocks]: block ids, padded with 0 (padding is masked out by seq_lens).
    block_tables: torch.Tensor
    # The padded groups the sequences were packed into (see the module docstring).
    groups: list[AttentionGroup]

    @classmethod
    def build(cls, query_start_loc: list[int], seq_lens: list[int], block_tables: list[list[int]],
              block_size: int, max_group_elements: int = MAX_GROUP_ELEMENTS) -> "AttentionMetadata":
        """Everything the layers need, computed once per step with tensor ops (no per-token loops)."""
        width = max(len(t) for t in block_tables)
        tables = torch.tensor([t + [0] * (width - len(t)) for t in block_tables], dtype=torch.long)
        starts = torch.tensor(query_start_loc, dtype=torch.long)
        q_lens = starts[1:] - starts[:-1]
        s_lens = torch.tensor(seq_lens, dtype=torch.long)
        # New token t of sequence i sits at position seq_len - q_len + t; its slot is found through
        # the block table: block_tables[i, pos // block_size] * block_size + pos % block_size.
        seq_of_token = torch.repeat_interleave(torch.arange(len(seq_lens)), q_lens)
        pos = (s_lens - q_lens)[seq_of_token] + (torch.arange(int(starts[-1])) - starts[:-1][seq_of_token])
        slot_mapping = tables[seq_of_token, pos // block_size] * block_size + pos % block_size
        groups = [_build_group(idx, starts, q_lens, s_lens, tables, block_size)
                  for idx in _pack(q_lens.tolist(), seq_lens, max_group_elements)]
        return cls(pos, slot_mapping, list(query_start_loc), list(seq_lens), tables, groups)


def _pack(q_lens: list[int], seq_lens: list[int], budget: int) -> list[list[int]]:
    """Sort sequences by query length and cut the run into groups.

    A group is closed when the next sequence would push its padded mask past `budget` elements or
    make more than half of the padded scores padding (so decodes are not padded to a prefill's
    length, and a long chunk does not blow up memory).
    """
    groups: list[list[int]] = []
    current: list[int] = []
    max_q = max_l = useful = 0
    for i in sorted(range(len(q_lens)), key=q_lens.__getitem__):
        q, l = max(max_q, q_lens[i]), max(max_l, seq_lens[i])
        padded = (len(current) + 1) * q * l
        if current and (padded > budget or padded > 2 * (useful + q_lens[i] * seq_lens[i])):
            groups.append(current)
            current, q, l, useful = [], q_lens[i], seq_lens[i], 0
        current.append(i)
        max_q, max_l, useful = q, l, useful + q_lens[i] * seq_lens[i]
    groups.append(current)
    return groups


def _build_group(idx: list[int], starts: torch.Tensor, q_lens: torch.Tensor, s_lens: torch.Tensor,
                 tables: torch.Tensor, block_size: int) -> AttentionGroup:
    """Padded index tensors for the sequences `idx`, all of shape [S, ...]."""
    sel = torch.tensor(idx, dtype=torch.long)
    q_len, s_len = q_lens[sel][:, None], s_lens[sel][:, None]  # [S, 1]
    j = torch.arange(int(q_len.max()))[None, :]  # query index within the sequence
    jj = torch.minimum(j, q_len - 1)  # padding queries copy the last real one: no all-masked rows
    q_rows = starts[sel][:, None] + jj
    q_pos = s_len - q_len + jj  # absolute position of each query
    num_blocks = -(-int(s_len.max()) // block_size)
    ctx = torch.arange(num_blocks * block_size)  # context positions, padded to whole blocks
    # Causal: a query sees keys at positions <= its own, which also keeps it inside its sequence.
    masked = ctx[None, None, :] > q_pos[:, :, None]
    q_valid = j < q_len
    return AttentionGroup(q_rows, q_valid, tables[sel, :num_blocks].reshape(-1), masked[:, None],
                          q_rows[q_valid])


def write_to_kv_cache(k: torch.Tensor, v: torch.Tensor, kv_cache: torch.Tensor,
                      slot_mapping: torch.Tensor) -> None:
    """Scatter this step's keys and values ([T, H_kv, D]) into their slots."""
    block_size = kv_cache.shape[3]
    blocks, offsets = slot_mapping // block_size, slot_mapping % block_size
    kv_cache[0][:, blocks, offsets] = k.transpose(0, 1)
    kv_cache[1][:, blocks, offsets] = v.transpose(0, 1)


def paged_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, kv_cache: torch.Tensor,
                    meta: AttentionMetadata, scale: float) -> torch.Tensor:
    """q: [T, H, D], k/v: [T, H_kv, D] for the new tokens -> attention output [T, H, D]."""
    write_to_kv_cache(k, v, kv_cache, meta.slot_mapping)
    out = torch.empty_like(q)
    num_kv_heads, head_dim = kv_cache.shape[1], kv_cache.shape[4]
    group_size = q.shape[1] // num_kv_heads  # query heads per KV head
    for g in meta.groups:
        seqs, q_len = g.q_rows.shape
        # One gather of every block of every sequence, K and V together: [2, H_kv, S, L, D].
        kv = kv_cache.index_select(2, g.block_ids).view(2, num_kv_heads, seqs, -1, head_dim)
        # [S, Q, H, D] -> [H_kv, S, G*Q, D]: the G query heads of one KV head become extra queries.
        qg = q[g.q_rows].view(seqs, q_len, num_kv_heads, group_size, head_dim)
        qg = qg.permute(2, 0, 3, 1, 4).reshape(num_kv_heads, seqs, group_size * q_len, head_dim)
        scores = (qg * scale) @ kv[0].transpose(-1, -2)  # [H_kv, S, G*Q, L]
        scores = scores.view(num_kv_heads, seqs, group_size, q_len, -1).masked_fill_(g.masked, float("-inf"))
        o = scores.softmax(-1).view(num_kv_heads, seqs, group_size * q_len, -1) @ kv[1]
        # Back to [S, Q, H, D] and keep the real queries only.
        o = o.view(num_kv_heads, seqs, group_size, q_len, head_dim).permute(1, 3, 0, 2, 4)
        out[g.out_rows] = o.reshape(seqs, q_len, -1, head_dim)[g.q_valid]
    return out
