"""Grades lab 04-02: slots, the NHD/HND scatter, padding, and the legacy x-split key layout."""
from __future__ import annotations

import torch

BS, HKV, D = 16, 2, 32


def test_slot_mapping_small_example(impl):
    # Request 0: 3 new tokens at positions 14..16 (crossing from logical block 0 to 1).
    # Request 1: 1 decode token at position 5. Two padding tokens at the end.
    qsl = torch.tensor([0, 3, 4])
    positions = torch.tensor([14, 15, 16, 5, 0, 0])
    block_table = torch.tensor([[7, 2, 0], [4, 0, 0]], dtype=torch.int32)
    got = impl.compute_slot_mapping(qsl, positions, block_table, BS)
    assert got.tolist() == [7 * 16 + 14, 7 * 16 + 15, 2 * 16 + 0, 4 * 16 + 5, -1, -1]


def test_slots_are_unique_for_distinct_tokens(impl):
    g = torch.Generator().manual_seed(0)
    table = torch.randperm(40, generator=g)[:30].view(3, 10).to(torch.int32)
    lens = [37, 1, 90]
    qsl = torch.tensor([0, 37, 38, 128])
    positions = torch.cat([torch.arange(37), torch.tensor([60]), torch.arange(60, 150)])
    slots = impl.compute_slot_mapping(qsl, positions, table, BS)
    assert len(set(slots.tolist())) == sum(lens)


def _cache_nhd(num_blocks):
    return torch.zeros(num_blocks, BS, HKV, D), torch.zeros(num_blocks, BS, HKV, D)


def test_flash_write_reads_back(impl):
    kc, vc = _cache_nhd(8)
    key, value = torch.randn(5, HKV, D), torch.randn(5, HKV, D)
    slots = torch.tensor([3, 17, 18, 127, 64])
    impl.reshape_and_cache_flash(key, value, kc, vc, slots)
    flat_k, flat_v = kc.view(-1, HKV, D), vc.view(-1, HKV, D)
    torch.testing.assert_close(flat_k[slots], key)
    torch.testing.assert_close(flat_v[slots], value)
    untouched = torch.ones(8 * BS, dtype=torch.bool)
    untouched[slots] = False
    assert flat_k[untouched].abs().sum() == 0 and flat_v[untouched].abs().sum() == 0


def test_flash_write_skips_padding_and_extra_rows(impl):
    kc, vc = _cache_nhd(4)
    key, value = torch.randn(6, HKV, D), torch.randn(6, HKV, D)  # 6 rows, only 4 have slots
    slots = torch.tensor([0, -1, 5, 63])
    impl.reshape_and_cache_flash(key, value, kc, vc, slots)
    flat = kc.view(-1, HKV, D)
    torch.testing.assert_close(flat[[0, 5, 63]], key[[0, 2, 3]])
    assert torch.count_nonzero(flat.abs().sum((1, 2))) == 3


def test_flash_write_into_hnd_strided_view(impl):
    # HND: memory is [num_blocks, Hkv, block_size, D]; the backend sees it permuted to the NHD shape.
    storage_k = torch.zeros(4, HKV, BS, D)
    storage_v = torch.zeros(4, HKV, BS, D)
    kc, vc = storage_k.permute(0, 2, 1, 3), storage_v.permute(0, 2, 1, 3)
    key, value = torch.randn(3, HKV, D), torch.randn(3, HKV, D)
    impl.reshape_and_cache_flash(key, value, kc, vc, torch.tensor([1, 20, 50]))
    torch.testing.assert_close(storage_k[1, :, 4], key[1])  # slot 20 = block 1, offset 4
    torch.testing.assert_close(storage_v[3, :, 2], value[2])  # slot 50 = block 3, offset 2


def test_legacy_layout(impl):
    x = 8  # 16 bytes of fp16
    kc = torch.zeros(3, HKV, D // x, BS, x, dtype=torch.float16)
    vc = torch.zeros(3, HKV, D, BS, dtype=torch.float16)
    key = torch.randn(2, HKV, D).half()
    value = torch.randn(2, HKV, D).half()
    impl.reshape_and_cache_legacy(key, value, kc, vc, torch.tensor([19, -1]))
    b, o = 1, 3
    for h in range(HKV):
        for d in range(D):
            assert kc[b, h, d // x, o, d % x] == key[0, h, d]
            assert vc[b, h, d, o] == value[0, h, d]
    assert torch.count_nonzero(kc) == torch.count_nonzero(key[0])
