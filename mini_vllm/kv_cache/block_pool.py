"""All KV blocks of the engine: allocation, reference counts, the prefix-cache map and lazy eviction.

Upstream: {anchor}`vllm/v1/core/block_pool.py::BlockPool`.

*Lazy eviction*: freeing a cached block only returns it to the free queue; its hash stays in the
map, so a later request with the same prefix can revive it for free. The hash is dropped only when
the block is popped for a new allocation (`_maybe_evict_cached_block`).
"""

from __future__ import annotations

from typing import Iterable

from mini_vllm.kv_cache.block import BlockHash, FreeKVCacheBlockQueue, KVCacheBlock, same_prefix


class BlockPool:
    """Owns every `KVCacheBlock`; the only place ref counts and the cache map change."""

    def __init__(self, num_blocks: int, enable_caching: bool = True) -> None:
        self.num_blocks = num_blocks
        self.enable_caching = enable_caching
        self.blocks = [KVCacheBlock(i) for i in range(num_blocks)]
        self.free_block_queue = FreeKVCacheBlockQueue(self.blocks)
        # digest -> block. One block per digest: a duplicate full block is simply not cached.
        self.cached_block_hash_to_block: dict[bytes, KVCacheBlock] = {}
        # Counters for statistics and for the property tests' collision-guard check.
        self.num_hash_collisions = 0

    def get_cached_block(self, block_hash: BlockHash) -> KVCacheBlock | None:
        """The cached block for `block_hash`, or None (also None on a digest collision)."""
        block = self.cached_block_hash_to_block.get(block_hash.digest)
        if block is None:
            return None
        if not same_prefix(block.block_hash, block_hash):
            self.num_hash_collisions += 1
            return None
        return block

    def cache_full_blocks(self, blocks: list[KVCacheBlock], block_hashes: list[BlockHash],
                          num_cached_blocks: int, num_full_blocks: int) -> None:
        """Publish blocks[num_cached_blocks:num_full_blocks] under their (already computed) hashes."""
        if not self.enable_caching:
            return
        for i in range(num_cached_blocks, num_full_blocks):
            block = blocks[i]
            if block.block_hash is not None:  # already published (a prefix hit)
                continue
            block.block_hash = block_hashes[i]
            self.cached_block_hash_to_block.setdefault(block_hashes[i].digest, block)

    def get_new_blocks(self, num_blocks: int) -> list[KVCacheBlock]:
        """Pop `num_blocks` from the head of the free queue, evicting their stale cache entries."""
        if num_blocks > self.get_num_free_blocks():
            raise ValueError(f"cannot allocate {num_blocks} blocks; {self.get_num_free_blocks()} free")
        blocks = self.free_block_queue.popleft_n(num_blocks)
        for block in blocks:
            assert block.ref_cnt == 0, f"{block} in the free queue has ref_cnt {block.ref_cnt}"
            self._maybe_evict_cached_block(block)
            block.ref_cnt = 1
        return blocks

    def _maybe_evict_cached_block(self, block: KVCacheBlock) -> bool:
        """Drop `block` from the cache map: it is about to hold other tokens."""
        if block.block_hash is None:
            return False
        if self.cached_block_hash_to_block.get(block.block_hash.digest) is block:
            del self.cached_block_hash_to_block[block.block_hash.digest]
        block.reset_hash()
        return True

    def touch(self, blocks: Iterable[KVCacheBlock]) -> None:
        """Take a reference on prefix-hit blocks, reviving free ones out of the free queue."""
        for block in blocks:
            if block.ref_cnt == 0:
                self.free_block_queue.remove(block)
            block.ref_cnt += 1

    def free_blocks(self, ordered_blocks: Iterable[KVCacheBlock]) -> None:
        """Drop one reference from each block; blocks reaching zero join the free queue's tail.

        Callers pass blocks in eviction-priority order (a request's *last* block first), so the
        tail of a prompt is evicted before its widely shared head.
        """
        for block in ordered_blocks:
            assert block.ref_cnt > 0, f"double free of {block}"
            block.ref_cnt -= 1
            if block.ref_cnt == 0:
                self.free_block_queue.append(block)

    def reset_prefix_cache(self) -> bool:
        """Forget every cached hash; only allowed when no block is in use."""
        if self.get_num_free_blocks() != self.num_blocks:
            return False
        for block in self.blocks:
            block.reset_hash()
        self.cached_block_hash_to_block.clear()
        return True

    def get_num_free_blocks(self) -> int:
        return self.free_block_queue.num_free_blocks

    def get_usage(self) -> float:
        return 1.0 - self.get_num_free_blocks() / self.num_blocks
