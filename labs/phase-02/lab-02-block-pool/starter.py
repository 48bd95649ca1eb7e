# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.
# Grade it with: LAB_IMPL=starter pytest labs/phase-02/lab-02-block-pool
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
        # TODO: look the hash up; return one of its blocks (the first inserted) or None
        raise NotImplementedError('look the hash up; return one of its blocks (the first inserted) or None')

    def cache_full_blocks(self, blocks: Sequence[KVCacheBlock], block_hashes: Sequence[bytes],
                          num_cached_blocks: int, num_full_blocks: int) -> None:
        """Publish blocks[num_cached_blocks:num_full_blocks] under the matching block_hashes.

        Null blocks are skipped. Publishing a block that already has a hash is a bug: the
        `KVCacheBlock.block_hash` setter raises AssertionError for you.
        """
        # TODO: for each new full, non-null block: set block.block_hash, add it to the map
        raise NotImplementedError('for each new full, non-null block: set block.block_hash, add it to the map')

    def get_new_blocks(self, num_blocks: int) -> list[KVCacheBlock]:
        """Take num_blocks from the head of the free queue, evict their old hashes, ref_cnt = 1.

        Raises ValueError when fewer blocks are free.
        """
        # TODO: check capacity, popleft_n, then evict (if caching) and set ref_cnt on each
        raise NotImplementedError('check capacity, popleft_n, then evict (if caching) and set ref_cnt on each')

    def _maybe_evict_cached_block(self, block: KVCacheBlock) -> bool:
        """Drop `block` (this very block, not its twins) from the map and clear its hash."""
        # TODO: no hash -> False; else remove block_id under its hash (drop empty entries), reset_hash
        raise NotImplementedError('no hash -> False; else remove block_id under its hash (drop empty entries), reset_hash')

    def touch(self, blocks: Sequence[KVCacheBlock]) -> None:
        """Claim prefix-hit blocks for one more request: revive free ones, then ref_cnt += 1."""
        # TODO: a block with ref_cnt 0 (and not null) sits in the free queue: remove it first
        raise NotImplementedError('a block with ref_cnt 0 (and not null) sits in the free queue: remove it first')

    def free_blocks(self, ordered_blocks: Iterable[KVCacheBlock]) -> None:
        """Drop one reference per block; blocks reaching 0 go to the tail in the given order, hash kept."""
        # TODO: decrement every block, then append_n the ones now at 0 (never the null block)
        raise NotImplementedError('decrement every block, then append_n the ones now at 0 (never the null block)')


if __name__ == "__main__":
    pool = BlockPool(num_blocks=6)
    a = pool.get_new_blocks(3)                      # blocks 1, 2, 3 for request A
    pool.cache_full_blocks(a, [b"h0", b"h1"], 0, 2)  # its first two blocks are full
    pool.free_blocks(reversed(a))                   # A finishes: tail first, hashes kept
    print([b.block_id for b in pool.free_block_queue.get_all_free_blocks()])  # [4, 5, 3, 2, 1]
    hit = pool.get_cached_block(b"h0")
    pool.touch([hit])                               # request B revives block 1 from the tail
    print(hit.block_id, hit.ref_cnt, pool.get_num_free_blocks())  # 1 1 4
