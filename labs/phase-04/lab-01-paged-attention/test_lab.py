"""Grades lab 04-01: paged attention must equal dense causal attention on the unpaged sequences."""
from __future__ import annotations

import torch
import torch.nn.functional as F

H, HKV, D, BS, NUM_BLOCKS = 4, 2, 16, 16, 64


def _batch(seq_lens, query_lens, seed=0):
    """Dense per-request K/V/Q plus the same K/V scattered into randomly chosen physical blocks."""
    g = torch.Generator().manual_seed(seed)
    # Unused cache cells hold huge values: reading one by mistake ruins the result.
    key_cache = torch.full((NUM_BLOCKS, BS, HKV, D), 1e4)
    value_cache = torch.full((NUM_BLOCKS, BS, HKV, D), -1e4)
    free = torch.randperm(NUM_BLOCKS, generator=g).tolist()
    max_blocks = max(-(-s // BS) for s in seq_lens)
    block_table = torch.zeros(len(seq_lens), max_blocks, dtype=torch.int32)
    dense, queries = [], []
    for r, (s, q) in enumerate(zip(seq_lens, query_lens)):
        k, v = torch.randn(s, HKV, D, generator=g), torch.randn(s, HKV, D, generator=g)
        for j in range(-(-s // BS)):
            block_table[r, j] = free.pop()
        for p in range(s):
            key_cache[block_table[r, p // BS], p % BS] = k[p]
            value_cache[block_table[r, p // BS], p % BS] = v[p]
        dense.append((k, v))
        queries.append(torch.randn(q, H, D, generator=g))
    qsl = torch.tensor([0] + torch.tensor(query_lens).cumsum(0).tolist(), dtype=torch.int32)
    return torch.cat(queries), key_cache, value_cache, qsl, torch.tensor(seq_lens, dtype=torch.int32), block_table, dense


def _dense_reference(query, qsl, seq_lens, dense):
    out = []
    for r, (k, v) in enumerate(dense):
        q = query[qsl[r]:qsl[r + 1]]
        s, n = int(seq_lens[r]), q.shape[0]
        mask = torch.arange(s)[None, :] <= (s - n + torch.arange(n))[:, None]
        o = F.scaled_dot_product_attention(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1),
                                           attn_mask=mask, scale=D**-0.5, enable_gqa=True)
        out.append(o.transpose(0, 1))
    return torch.cat(out)


def test_gather_kv_reassembles_the_sequence(impl):
    query, kc, vc, qsl, seq_lens, bt, dense = _batch([37], [37])
    torch.testing.assert_close(impl.gather_kv(kc, bt[0], 37), dense[0][0])
    torch.testing.assert_close(impl.gather_kv(vc, bt[0], 37), dense[0][1])


def test_prefill_only_batch(impl):
    query, kc, vc, qsl, seq_lens, bt, dense = _batch([5, 16, 40], [5, 16, 40], seed=1)
    got = impl.paged_attention(query, kc, vc, qsl, seq_lens, bt, D**-0.5)
    torch.testing.assert_close(got, _dense_reference(query, qsl, seq_lens, dense), rtol=1e-4, atol=1e-4)


def test_mixed_decode_chunked_prefill_batch(impl):
    # Two decodes (1 new token each), one chunk of a prefill (20 new on top of 30), one fresh prefill.
    seq_lens, query_lens = [33, 17, 50, 9], [1, 1, 20, 9]
    query, kc, vc, qsl, sl, bt, dense = _batch(seq_lens, query_lens, seed=2)
    got = impl.paged_attention(query, kc, vc, qsl, sl, bt, D**-0.5)
    torch.testing.assert_close(got, _dense_reference(query, qsl, sl, dense), rtol=1e-4, atol=1e-4)


def test_decode_row_sees_whole_context(impl):
    query, kc, vc, qsl, sl, bt, dense = _batch([48], [1], seed=3)
    got = impl.paged_attention(query, kc, vc, qsl, sl, bt, D**-0.5)
    k, v = dense[0]
    kk = k.repeat_interleave(H // HKV, 1)
    p = torch.einsum("hd,khd->hk", query[0], kk).mul(D**-0.5).softmax(-1)
    want = torch.einsum("hk,khd->hd", p, v.repeat_interleave(H // HKV, 1))
    torch.testing.assert_close(got[0], want, rtol=1e-4, atol=1e-4)
