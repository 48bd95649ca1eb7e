# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.
# Grade it with: LAB_IMPL=starter pytest labs/phase-04/lab-04-varlen-metadata
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
    # TODO: stable partition by num_scheduled <= decode_threshold
    raise NotImplementedError('stable partition by num_scheduled <= decode_threshold')


def build_varlen_batch(reqs: list[ScheduledRequest], block_size: int) -> VarlenBatch:
    """The flat metadata for `reqs` in the given order."""
    # TODO: cumsum of num_scheduled; seq_len = computed + scheduled; positions computed..seq_len-1; slots from the block row
    raise NotImplementedError('cumsum of num_scheduled; seq_len = computed + scheduled; positions computed..seq_len-1; slots from the block row')


def count_decodes(batch: VarlenBatch, decode_threshold: int = 1) -> tuple[int, int, int, int]:
    """(num_decodes, num_prefills, num_decode_tokens, num_prefill_tokens) of a decodes-first batch:
    decodes are the leading requests whose query length is <= threshold."""
    # TODO: query lens from query_start_loc; count the leading run <= threshold
    raise NotImplementedError('query lens from query_start_loc; count the leading run <= threshold')
