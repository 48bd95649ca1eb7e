# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.
# Grade it with: LAB_IMPL=starter pytest labs/phase-00/lab-03-arithmetic-intensity
"""Lab 00-03: why prefill is compute-bound and decode is memory-bound.

Arithmetic intensity = FLOPs / bytes moved. A GPU with peak `P` FLOP/s and memory bandwidth `B`
bytes/s runs a kernel at min(P, I * B): below the *ridge point* P / B a kernel waits on memory.
A linear layer on `n` tokens does 2*n*k*m FLOPs but must read its k*m weights whatever n is, so its
intensity grows with n: prefill (n = prompt length) and big decode batches are compute-bound, a single
decode token (n = 1) is memory-bound. This is why vLLM batches many decode requests into one step
({anchor}`vllm/v1/attention/backend.py::CommonAttentionMetadata` carries all of them in one flat batch).

All hardware numbers in this lab are parameters you pass in; none are claimed here.
"""
from __future__ import annotations


def linear_flops(num_tokens: int, in_features: int, out_features: int) -> int:
    """FLOPs of y = x W^T for x [num_tokens, in] (2 per multiply-add)."""
    # TODO: 2 * n * in * out
    raise NotImplementedError('2 * n * in * out')


def linear_bytes(num_tokens: int, in_features: int, out_features: int, dtype_bytes: int) -> int:
    """Bytes that must cross the memory bus at least once: read W and x, write y."""
    # TODO: (in*out + n*in + n*out) * dtype_bytes
    raise NotImplementedError('(in*out + n*in + n*out) * dtype_bytes')


def intensity(flops: int, nbytes: int) -> float:
    return flops / nbytes


def attainable_flops(ai: float, peak_flops: float, peak_bandwidth: float) -> float:
    """The roofline: min(peak compute, intensity * bandwidth)."""
    # TODO: min of the two ceilings
    raise NotImplementedError('min of the two ceilings')


def is_memory_bound(ai: float, peak_flops: float, peak_bandwidth: float) -> bool:
    # TODO: below the ridge point peak_flops / peak_bandwidth
    raise NotImplementedError('below the ridge point peak_flops / peak_bandwidth')


def min_tokens_for_compute_bound(in_features: int, out_features: int, dtype_bytes: int,
                                 peak_flops: float, peak_bandwidth: float) -> int:
    """Smallest num_tokens at which the linear layer reaches the ridge point (is not memory-bound)."""
    # TODO: smallest n with intensity(linear_flops(n), linear_bytes(n)) >= ridge; search upward
    raise NotImplementedError('smallest n with intensity(linear_flops(n), linear_bytes(n)) >= ridge; search upward')


def decode_attention_bytes(batch: int, context_len: int, num_layers: int, num_kv_heads: int,
                           head_dim: int, dtype_bytes: int) -> int:
    """KV-cache bytes one decode step must read: every request reads all of its own cached K and V."""
    # TODO: batch * context * layers * 2 (K and V) * Hkv * D * dtype_bytes
    raise NotImplementedError('batch * context * layers * 2 (K and V) * Hkv * D * dtype_bytes')
