"""Grades lab 04-04 by building vLLM's real CommonAttentionMetadata from your batch and asking its helpers."""
from __future__ import annotations

import torch

BS = 16


def _reqs(impl):
    R = impl.ScheduledRequest
    return [
        R(num_computed=0, num_scheduled=40, block_ids=[3, 9, 4]),     # fresh prefill
        R(num_computed=70, num_scheduled=1, block_ids=[1, 2, 5, 6, 8]),  # decode at position 70
        R(num_computed=32, num_scheduled=20, block_ids=[7, 10, 11, 12]),  # chunk of a long prefill
        R(num_computed=15, num_scheduled=1, block_ids=[0]),           # decode at position 15
    ]


def _common(batch):
    from vllm.v1.attention.backend import CommonAttentionMetadata

    return CommonAttentionMetadata(
        query_start_loc=batch.query_start_loc, query_start_loc_cpu=batch.query_start_loc,
        seq_lens=batch.seq_lens, num_reqs=len(batch.seq_lens), num_actual_tokens=batch.num_actual_tokens,
        max_query_len=batch.max_query_len, max_seq_len=batch.max_seq_len,
        block_table_tensor=batch.block_table, slot_mapping=batch.slot_mapping)


def test_reorder_is_a_stable_partition(impl):
    assert impl.reorder_decodes_first(_reqs(impl)) == [1, 3, 0, 2]
    assert impl.reorder_decodes_first(_reqs(impl), decode_threshold=20) == [1, 2, 3, 0]


def test_varlen_fields(impl):
    b = impl.build_varlen_batch(_reqs(impl), BS)
    assert b.query_start_loc.tolist() == [0, 40, 41, 61, 62]
    assert b.seq_lens.tolist() == [40, 71, 52, 16]
    assert (b.num_actual_tokens, b.max_query_len, b.max_seq_len) == (62, 40, 71)
    assert b.positions[40].item() == 70 and b.positions[41:61].tolist() == list(range(32, 52))
    assert b.slot_mapping[40].item() == 8 * BS + 70 % BS
    assert b.slot_mapping[61].item() == 0 * BS + 15
    assert b.block_table.shape == (4, 5) and b.block_table[3].tolist() == [0, 0, 0, 0, 0]
    assert len(set(b.slot_mapping.tolist())) == 62


def test_real_common_metadata_agrees(impl):
    b = impl.build_varlen_batch(_reqs(impl), BS)
    cm = _common(b)
    computed = [r.num_computed for r in _reqs(impl)]
    assert cm.compute_num_computed_tokens().tolist() == computed
    assert cm.naive_query_lens().tolist() == [40, 1, 20, 1]


def test_split_matches_vllm(impl):
    from vllm.v1.attention.backends.utils import split_decodes_and_prefills

    reqs = _reqs(impl)
    for threshold in (1, 20, 64):
        order = impl.reorder_decodes_first(reqs, threshold)
        b = impl.build_varlen_batch([reqs[i] for i in order], BS)
        want = split_decodes_and_prefills(_common(b), decode_threshold=threshold)
        assert impl.count_decodes(b, threshold) == tuple(int(x) for x in want), threshold
