# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.
# Grade it with: LAB_IMPL=starter pytest labs/phase-04/lab-02-reshape-and-cache
"""Lab 04-02: the slot mapping, and the scatter that writes new K/V into the paged cache.

Before attention runs, each layer writes the new tokens' keys and values into the cache
({anchor}`vllm/v1/attention/backends/flash_attn.py::FlashAttentionImpl.do_kv_cache_update`, which
launches {anchor}`csrc/cache_kernels.cu::vllm::reshape_and_cache_flash_kernel`). The kernel is told
nothing about requests or blocks tables: it gets one integer per token, the *slot*

    slot = block_table[req, pos // block_size] * block_size + pos % block_size

computed once per step for all layers by the model runner, and -1 for padding tokens (which it skips).

You also write the older layout that {anchor}`csrc/cache_kernels.cu::vllm::reshape_and_cache_kernel`
fills, where the key's head dimension is split into chunks of `x` elements (16 bytes) so one thread
can load a chunk with a single vector instruction.
"""
from __future__ import annotations

import torch

PAD_SLOT_ID = -1


def compute_slot_mapping(query_start_loc: torch.Tensor, positions: torch.Tensor,
                         block_table: torch.Tensor, block_size: int) -> torch.Tensor:
    """Slot of every token in the flat batch. Tokens after query_start_loc[-1] are padding: slot -1."""
    # TODO: request of each token from query_start_loc; block id from the table; pad with -1
    raise NotImplementedError('request of each token from query_start_loc; block id from the table; pad with -1')


def reshape_and_cache_flash(key: torch.Tensor, value: torch.Tensor, key_cache: torch.Tensor,
                            value_cache: torch.Tensor, slot_mapping: torch.Tensor) -> None:
    """Write key/value [num_tokens, Hkv, D] into caches [num_blocks, block_size, Hkv, D], in place.

    Only the first len(slot_mapping) rows of key/value are real (the rest may be CUDA-graph padding);
    rows whose slot is negative are skipped. The caches may be non-contiguous views (the HND layout is
    the same logical shape with different strides), so write through indexing, not through .view().
    """
    # TODO: keep rows with slot >= 0; block = slot // bs, offset = slot % bs; index-assign
    raise NotImplementedError('keep rows with slot >= 0; block = slot // bs, offset = slot % bs; index-assign')


def reshape_and_cache_legacy(key: torch.Tensor, value: torch.Tensor, key_cache: torch.Tensor,
                             value_cache: torch.Tensor, slot_mapping: torch.Tensor) -> None:
    """The old paged-attention layout, in place:

    key_cache [num_blocks, Hkv, D // x, block_size, x] and value_cache [num_blocks, Hkv, D, block_size].
    Element d of head h of the token in `slot` goes to key_cache[b, h, d // x, o, d % x] and
    value_cache[b, h, d, o] with b = slot // block_size, o = slot % block_size.
    """
    # TODO: per kept token, reshape its key to [Hkv, D//x, x] and place it; value goes to [:, :, :, o]
    raise NotImplementedError('per kept token, reshape its key to [Hkv, D//x, x] and place it; value goes to [:, :, :, o]')
