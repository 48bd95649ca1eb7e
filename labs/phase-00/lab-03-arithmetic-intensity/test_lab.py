"""Grades lab 00-03 against torch's FLOP counter and the tensors' real byte sizes."""
from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

# A made-up accelerator for the roofline tests: 100 TFLOP/s, 2 TB/s -> ridge at 50 FLOP/byte.
PEAK, BW = 100e12, 2e12


def test_linear_flops_match_counter(impl):
    for n in (1, 7, 128):
        layer, x = torch.nn.Linear(96, 160, bias=False), torch.randn(n, 96)
        counter = FlopCounterMode(display=False)
        with counter, torch.no_grad():
            layer(x)
        assert impl.linear_flops(n, 96, 160) == counter.get_total_flops()


def test_linear_bytes_are_the_tensors_bytes(impl):
    layer = torch.nn.Linear(96, 160, bias=False).to(torch.bfloat16)
    x = torch.randn(5, 96, dtype=torch.bfloat16)
    y = layer(x)
    want = layer.weight.nbytes + x.nbytes + y.nbytes
    assert impl.linear_bytes(5, 96, 160, 2) == want


def test_decode_is_memory_bound_and_prefill_is_not(impl):
    d = 4096
    decode = impl.intensity(impl.linear_flops(1, d, d), impl.linear_bytes(1, d, d, 2))
    prefill = impl.intensity(impl.linear_flops(2048, d, d), impl.linear_bytes(2048, d, d, 2))
    assert decode < 1.01  # ~1 FLOP per byte at batch 1 in 16-bit
    assert impl.is_memory_bound(decode, PEAK, BW)
    assert not impl.is_memory_bound(prefill, PEAK, BW)
    assert impl.attainable_flops(decode, PEAK, BW) == decode * BW
    assert impl.attainable_flops(prefill, PEAK, BW) == PEAK


def test_min_tokens_for_compute_bound(impl):
    n = impl.min_tokens_for_compute_bound(4096, 4096, 2, PEAK, BW)
    ridge = PEAK / BW
    at = lambda k: impl.intensity(impl.linear_flops(k, 4096, 4096), impl.linear_bytes(k, 4096, 4096, 2))
    assert at(n) >= ridge > at(n - 1)
    assert 40 < n < 80  # ~ridge tokens for a square 16-bit layer, a bit more for activation traffic


def test_decode_attention_bytes_match_a_real_cache(impl):
    layers, hkv, dh, ctx, batch = 3, 2, 16, 37, 4
    cache = [torch.zeros(2, batch, ctx, hkv, dh, dtype=torch.float16) for _ in range(layers)]
    assert impl.decode_attention_bytes(batch, ctx, layers, hkv, dh, 2) == sum(c.nbytes for c in cache)
