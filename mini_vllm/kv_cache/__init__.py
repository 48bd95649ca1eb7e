"""Paged KV-cache bookkeeping: blocks, the free queue, the block pool and the per-request manager.

Upstream: {anchor}`vllm/v1/core/kv_cache_utils.py::KVCacheBlock`, {anchor}`vllm/v1/core/block_pool.py::BlockPool`,
{anchor}`vllm/v1/core/kv_cache_manager.py::KVCacheManager`. Nothing here touches tensors: these classes only decide
which block ids a request owns; `mini_vllm.attention` reads and writes the KV data through them.
"""

from mini_vllm.kv_cache.block import FreeKVCacheBlockQueue, KVCacheBlock, hash_block_tokens
from mini_vllm.kv_cache.block_pool import BlockPool
from mini_vllm.kv_cache.manager import KVCacheManager

__all__ = ["BlockPool", "FreeKVCacheBlockQueue", "KVCacheBlock", "KVCacheManager",
           "hash_block_tokens"]
