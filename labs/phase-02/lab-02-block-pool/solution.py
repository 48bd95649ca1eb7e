"""Lab 02.2 — a block pool with reference counts and lazy eviction, on vLLM's real primitives.

Upstream: {anchor}`vllm/v1/core/block_pool.py::BlockPool`. You write the policy; the records and
the free queue are vLLM's own {anchor}`vllm/v1/core/kv_cache_utils.py::KVCacheBlock` and
{anchor}`vllm/v1/core/kv_cache_utils.py::FreeKVCacheBlockQueue`.

Keys here are plain `bytes` block hashes (vLLM appends a 4-byte KV-cache-group id; one group
needs no id). The map is `hash -> {block_id: block}` because two blocks can hold the same content.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from vllm.v1.core.kv_cache_utils import FreeKVCacheBlockQueue, KVCacheBlock


class BlockPool:
    """Owns every block: allocation, sharing (ref counts), release, and the prefix-cache map.

    Invariants (the tests check them after every operation):
      1. a non-null block is in the free queue  <=>  its ref_cnt == 0;
      2. a block has a hash  <=>  it is listed in `cached_block_hash_to_block` under that hash;
      3. free blocks + blocks in use + 1 (the null block) == num_blocks.
    """

    def __init__(self, num_blocks: int, enable_caching: bool = True) -> None:
        if num_blocks < 2:
            raise ValueError(f"num_blocks={num_blocks}: need the null block plus at least one more")
        self.num_blocks = num_blocks
        self.enable_caching = enable_caching
        self.blocks = [KVCacheBlock(i) for i in range(num_blocks)]
        self.free_block_queue = FreeKVCacheBlockQueue(self.blocks)
        self.cached_block_hash_to_block: dict[bytes, dict[int, KVCacheBlock]] = {}
        # Block 0 becomes the shared placeholder; it is never allocated, freed or cached.
        self.null_block = self.free_block_queue.popleft()
        self.null_block.is_null = True

    def get_num_free_blocks(self) -> int:
        return self.free_block_queue.num_free_blocks

    def get_usage(self) -> float:
        """Fraction of usable blocks held by requests (free-but-cached blocks count as free)."""
        return 1.0 - self.get_num_free_blocks() / (self.num_blocks - 1)

    def get_cached_block(self, block_hash: bytes) -> KVCacheBlock | None:
        """Any block cached under `block_hash`, or None. Does not claim it."""
        # BEGIN SOLUTION: look the hash up; return one of its blocks (the first inserted) or None
        blocks = self.cached_block_hash_to_block.get(block_hash)
        if not blocks:
            return None
        return next(iter(blocks.values()))
        # END SOLUTION

    def cache_full_blocks(self, blocks: Sequence[KVCacheBlock], block_hashes: Sequence[bytes],
                          num_cached_blocks: int, num_full_blocks: int) -> None:
        """Publish blocks[num_cached_blocks:num_full_blocks] under the matching block_hashes.

        Null blocks are skipped. Publishing a block that already has a hash is a bug: the
        `KVCacheBlock.block_hash` setter raises AssertionError for you.
        """
        # BEGIN SOLUTION: for each new full, non-null block: set block.block_hash, add it to the map
        if num_cached_blocks >= num_full_blocks:
            return
        if len(block_hashes) < num_full_blocks:
            raise ValueError(f"{len(block_hashes)} hashes for {num_full_blocks} full blocks")
        for i in range(num_cached_blocks, num_full_blocks):
            block = blocks[i]
            if block.is_null:
                continue
            block.block_hash = block_hashes[i]
            self.cached_block_hash_to_block.setdefault(block_hashes[i], {})[block.block_id] = block
        # END SOLUTION

    def get_new_blocks(self, num_blocks: int) -> list[KVCacheBlock]:
        """Take num_blocks from the head of the free queue, evict their old hashes, ref_cnt = 1.

        Raises ValueError when fewer blocks are free.
        """
        # BEGIN SOLUTION: check capacity, popleft_n, then evict (if caching) and set ref_cnt on each
        if num_blocks > self.get_num_free_blocks():
            raise ValueError(f"cannot get {num_blocks} free blocks, {self.get_num_free_blocks()} free")
        blocks = self.free_block_queue.popleft_n(num_blocks)
        for block in blocks:
            if self.enable_caching:
                self._maybe_evict_cached_block(block)
            assert block.ref_cnt == 0
            block.ref_cnt = 1
        return blocks
        # END SOLUTION

    def _maybe_evict_cached_block(self, block: KVCacheBlock) -> bool:
        """Drop `block` (this very block, not its twins) from the map and clear its hash."""
        # BEGIN SOLUTION: no hash -> False; else remove block_id under its hash (drop empty entries), reset_hash
        key = block.block_hash
        if key is None:
            return False
        twins = self.cached_block_hash_to_block.get(key)
        if twins is None or twins.pop(block.block_id, None) is None:
            return False
        if not twins:
            del self.cached_block_hash_to_block[key]
        block.reset_hash()
        return True
        # END SOLUTION

    def touch(self, blocks: Sequence[KVCacheBlock]) -> None:
        """Claim prefix-hit blocks for one more request: revive free ones, then ref_cnt += 1."""
        # BEGIN SOLUTION: a block with ref_cnt 0 (and not null) sits in the free queue: remove it first
        for block in blocks:
            if block.ref_cnt == 0 and not block.is_null:
                self.free_block_queue.remove(block)
            block.ref_cnt += 1
        # END SOLUTION

    def free_blocks(self, ordered_blocks: Iterable[KVCacheBlock]) -> None:
        """Drop one reference per block; blocks reaching 0 go to the tail in the given order, hash kept."""
        # BEGIN SOLUTION: decrement every block, then append_n the ones now at 0 (never the null block)
        blocks = list(ordered_blocks)
        for block in blocks:
            block.ref_cnt -= 1
        self.free_block_queue.append_n([b for b in blocks if b.ref_cnt == 0 and not b.is_null])
        # END SOLUTION


if __name__ == "__main__":
    pool = BlockPool(num_blocks=6)
    a = pool.get_new_blocks(3)                      # blocks 1, 2, 3 for request A
    pool.cache_full_blocks(a, [b"h0", b"h1"], 0, 2)  # its first two blocks are full
    pool.free_blocks(reversed(a))                   # A finishes: tail first, hashes kept
    print([b.block_id for b in pool.free_block_queue.get_all_free_blocks()])  # [4, 5, 3, 2, 1]
    hit = pool.get_cached_block(b"h0")
    pool.touch([hit])                               # request B revives block 1 from the tail
    print(hit.block_id, hit.ref_cnt, pool.get_num_free_blocks())  # 1 1 4
