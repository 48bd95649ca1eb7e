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
    # BEGIN SOLUTION: 2 * n * in * out
    return 2 * num_tokens * in_features * out_features
    # END SOLUTION


def linear_bytes(num_tokens: int, in_features: int, out_features: int, dtype_bytes: int) -> int:
    """Bytes that must cross the memory bus at least once: read W and x, write y."""
    # BEGIN SOLUTION: (in*out + n*in + n*out) * dtype_bytes
    return (in_features * out_features + num_tokens * in_features + num_tokens * out_features) * dtype_bytes
    # END SOLUTION


def intensity(flops: int, nbytes: int) -> float:
    return flops / nbytes


def attainable_flops(ai: float, peak_flops: float, peak_bandwidth: float) -> float:
    """The roofline: min(peak compute, intensity * bandwidth)."""
    # BEGIN SOLUTION: min of the two ceilings
    return min(peak_flops, ai * peak_bandwidth)
    # END SOLUTION


def is_memory_bound(ai: float, peak_flops: float, peak_bandwidth: float) -> bool:
    # BEGIN SOLUTION: below the ridge point peak_flops / peak_bandwidth
    return ai < peak_flops / peak_bandwidth
    # END SOLUTION


def min_tokens_for_compute_bound(in_features: int, out_features: int, dtype_bytes: int,
                                 peak_flops: float, peak_bandwidth: float) -> int:
    """Smallest num_tokens at which the linear layer reaches the ridge point (is not memory-bound)."""
    # BEGIN SOLUTION: smallest n with intensity(linear_flops(n), linear_bytes(n)) >= ridge; search upward
    ridge = peak_flops / peak_bandwidth
    n = 1
    while intensity(linear_flops(n, in_features, out_features),
                    linear_bytes(n, in_features, out_features, dtype_bytes)) < ridge:
        n += 1
        if n > 1 << 24:
            raise ValueError("never compute-bound: the ridge is above the layer's asymptotic intensity")
    return n
    # END SOLUTION


def decode_attention_bytes(batch: int, context_len: int, num_layers: int, num_kv_heads: int,
                           head_dim: int, dtype_bytes: int) -> int:
    """KV-cache bytes one decode step must read: every request reads all of its own cached K and V."""
    # BEGIN SOLUTION: batch * context * layers * 2 (K and V) * Hkv * D * dtype_bytes
    return batch * context_len * num_layers * 2 * num_kv_heads * head_dim * dtype_bytes
    # END SOLUTION
