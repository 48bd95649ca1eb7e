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
    # BEGIN SOLUTION: request of each token from query_start_loc; block id from the table; pad with -1
    slots = torch.full((positions.shape[0],), PAD_SLOT_ID, dtype=torch.int64)
    for r in range(len(query_start_loc) - 1):
        start, end = int(query_start_loc[r]), int(query_start_loc[r + 1])
        pos = positions[start:end].long()
        slots[start:end] = block_table[r, pos // block_size].long() * block_size + pos % block_size
    return slots
    # END SOLUTION


def reshape_and_cache_flash(key: torch.Tensor, value: torch.Tensor, key_cache: torch.Tensor,
                            value_cache: torch.Tensor, slot_mapping: torch.Tensor) -> None:
    """Write key/value [num_tokens, Hkv, D] into caches [num_blocks, block_size, Hkv, D], in place.

    Only the first len(slot_mapping) rows of key/value are real (the rest may be CUDA-graph padding);
    rows whose slot is negative are skipped. The caches may be non-contiguous views (the HND layout is
    the same logical shape with different strides), so write through indexing, not through .view().
    """
    # BEGIN SOLUTION: keep rows with slot >= 0; block = slot // bs, offset = slot % bs; index-assign
    n = slot_mapping.shape[0]
    keep = slot_mapping >= 0
    slots = slot_mapping[keep]
    block_size = key_cache.shape[1]
    blocks, offsets = slots // block_size, slots % block_size
    key_cache[blocks, offsets] = key[:n][keep].to(key_cache.dtype)
    value_cache[blocks, offsets] = value[:n][keep].to(value_cache.dtype)
    # END SOLUTION


def reshape_and_cache_legacy(key: torch.Tensor, value: torch.Tensor, key_cache: torch.Tensor,
                             value_cache: torch.Tensor, slot_mapping: torch.Tensor) -> None:
    """The old paged-attention layout, in place:

    key_cache [num_blocks, Hkv, D // x, block_size, x] and value_cache [num_blocks, Hkv, D, block_size].
    Element d of head h of the token in `slot` goes to key_cache[b, h, d // x, o, d % x] and
    value_cache[b, h, d, o] with b = slot // block_size, o = slot % block_size.
    """
    # BEGIN SOLUTION: per kept token, reshape its key to [Hkv, D//x, x] and place it; value goes to [:, :, :, o]
    num_kv_heads, head_dim = key.shape[1], key.shape[2]
    x, block_size = key_cache.shape[4], key_cache.shape[3]
    for i, slot in enumerate(slot_mapping.tolist()):
        if slot < 0:
            continue
        b, o = slot // block_size, slot % block_size
        key_cache[b, :, :, o, :] = key[i].reshape(num_kv_heads, head_dim // x, x)
        value_cache[b, :, :, o] = value[i]
    # END SOLUTION
