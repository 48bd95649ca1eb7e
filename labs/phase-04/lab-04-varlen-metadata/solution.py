"""Lab 04-04: turn one scheduler step into the flat (varlen) metadata every attention backend reads.

The scheduler says, per request, how many tokens are already in the cache (`num_computed`) and how
many it runs this step (`num_scheduled`). The model runner flattens the batch into one token run and
describes it with {anchor}`vllm/v1/attention/backend.py::CommonAttentionMetadata`: `query_start_loc`
(the cumulative query lengths FlashAttention calls `cu_seqlens_q`), `seq_lens` (context + new
tokens), the block table and the slot mapping. Backends that treat decodes specially first put
decodes at the front of the batch and then find the boundary with
{anchor}`vllm/v1/attention/backends/utils.py::split_decodes_and_prefills`.
"""
from __future__ import annotations

from typing import NamedTuple

import torch


class ScheduledRequest(NamedTuple):
    num_computed: int  # tokens of this request already in the KV cache
    num_scheduled: int  # tokens it runs in this step (1 for a plain decode)
    block_ids: list[int]  # its block table row (physical block ids, logical order)


class VarlenBatch(NamedTuple):
    query_start_loc: torch.Tensor  # int32 [num_reqs + 1]
    seq_lens: torch.Tensor  # int32 [num_reqs]
    positions: torch.Tensor  # int64 [num_tokens]
    block_table: torch.Tensor  # int32 [num_reqs, max_blocks], padded with 0
    slot_mapping: torch.Tensor  # int64 [num_tokens]
    num_actual_tokens: int
    max_query_len: int
    max_seq_len: int


def reorder_decodes_first(reqs: list[ScheduledRequest], decode_threshold: int = 1) -> list[int]:
    """Indices of `reqs` with every request of num_scheduled <= threshold (a "decode") first.

    The order inside each group is kept (a stable partition).
    """
    # BEGIN SOLUTION: stable partition by num_scheduled <= decode_threshold
    decodes = [i for i, r in enumerate(reqs) if r.num_scheduled <= decode_threshold]
    others = [i for i, r in enumerate(reqs) if r.num_scheduled > decode_threshold]
    return decodes + others
    # END SOLUTION


def build_varlen_batch(reqs: list[ScheduledRequest], block_size: int) -> VarlenBatch:
    """The flat metadata for `reqs` in the given order."""
    # BEGIN SOLUTION: cumsum of num_scheduled; seq_len = computed + scheduled; positions computed..seq_len-1; slots from the block row
    qsl = [0]
    positions, slots = [], []
    for r in reqs:
        qsl.append(qsl[-1] + r.num_scheduled)
        for p in range(r.num_computed, r.num_computed + r.num_scheduled):
            positions.append(p)
            slots.append(r.block_ids[p // block_size] * block_size + p % block_size)
    seq_lens = [r.num_computed + r.num_scheduled for r in reqs]
    max_blocks = max(len(r.block_ids) for r in reqs)
    table = torch.zeros(len(reqs), max_blocks, dtype=torch.int32)
    for i, r in enumerate(reqs):
        table[i, :len(r.block_ids)] = torch.tensor(r.block_ids, dtype=torch.int32)
    return VarlenBatch(
        query_start_loc=torch.tensor(qsl, dtype=torch.int32),
        seq_lens=torch.tensor(seq_lens, dtype=torch.int32),
        positions=torch.tensor(positions, dtype=torch.int64),
        block_table=table,
        slot_mapping=torch.tensor(slots, dtype=torch.int64),
        num_actual_tokens=qsl[-1],
        max_query_len=max(r.num_scheduled for r in reqs),
        max_seq_len=max(seq_lens),
    )
    # END SOLUTION


def count_decodes(batch: VarlenBatch, decode_threshold: int = 1) -> tuple[int, int, int, int]:
    """(num_decodes, num_prefills, num_decode_tokens, num_prefill_tokens) of a decodes-first batch:
    decodes are the leading requests whose query length is <= threshold."""
    # BEGIN SOLUTION: query lens from query_start_loc; count the leading run <= threshold
    qlens = (batch.query_start_loc[1:] - batch.query_start_loc[:-1]).tolist()
    n = 0
    while n < len(qlens) and qlens[n] <= decode_threshold:
        n += 1
    dec_tokens = int(batch.query_start_loc[n])
    return n, len(qlens) - n, dec_tokens, batch.num_actual_tokens - dec_tokens
    # END SOLUTION
