"""Per-request view of the block pool: which blocks a request owns and how many it still needs.

Upstream: {anchor}`vllm/v1/core/kv_cache_manager.py::KVCacheManager`
(with the single-group logic of {anchor}`vllm/v1/core/single_type_kv_cache_manager.py::SingleTypeKVCacheManager`).
"""

from __future__ import annotations

from collections import defaultdict

from mini_vllm.kv_cache.block import KVCacheBlock
from mini_vllm.kv_cache.block_pool import BlockPool
from mini_vllm.request import Request


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


class KVCacheManager:
    """Hands out blocks to requests; the scheduler's only window onto KV memory."""

    def __init__(self, num_blocks: int, block_size: int, enable_caching: bool = True) -> None:
        self.block_size = block_size
        self.enable_caching = enable_caching
        self.block_pool = BlockPool(num_blocks, enable_caching)
        self.req_to_blocks: defaultdict[str, list[KVCacheBlock]] = defaultdict(list)
        # How many of a request's leading blocks are already published in the prefix cache.
        self.num_cached_block: dict[str, int] = {}
        # Prefix-cache statistics, in tokens: how many were looked up and how many hit.
        self.prefix_cache_queries = 0
        self.prefix_cache_hits = 0

    def get_computed_blocks(self, request: Request) -> tuple[list[KVCacheBlock], int]:
        """Longest run of cached blocks matching the request's leading full blocks.

        The last prompt token is never taken from the cache, even on a full hit: the engine must
        run it through the model to get the logits for the first output token.
        """
        if not self.enable_caching:
            return [], 0
        max_hit_blocks = (request.num_tokens - 1) // self.block_size
        blocks: list[KVCacheBlock] = []
        for block_hash in request.block_hashes[:max_hit_blocks]:
            block = self.block_pool.get_cached_block(block_hash)
            if block is None:
                break
            blocks.append(block)
        self.prefix_cache_queries += request.num_tokens
        self.prefix_cache_hits += len(blocks) * self.block_size
        return blocks, len(blocks) * self.block_size

    def allocate_slots(self, request: Request, num_new_tokens: int,
                       num_new_computed_tokens: int = 0,
                       new_computed_blocks: list[KVCacheBlock] | None = None,
                       num_lookahead_tokens: int = 0) -> list[KVCacheBlock] | None:
        """Make room for `num_new_tokens` more tokens; None when the pool is too empty (preempt!).

        On success the blocks that these tokens complete are published in the prefix cache right
        away: they will be filled by this step's forward pass before anybody can read them.
        """
        new_computed_blocks = new_computed_blocks or []
        rid = request.request_id
        num_computed = request.num_computed_tokens + num_new_computed_tokens
        num_required = cdiv(num_computed + num_new_tokens + num_lookahead_tokens, self.block_size)
        req_blocks = self.req_to_blocks.get(rid, [])
        num_new_blocks = max(num_required - len(req_blocks) - len(new_computed_blocks), 0)
        # Reviving a free cached block also takes it out of the free queue.
        num_revived = sum(1 for b in new_computed_blocks if b.ref_cnt == 0)
        if num_new_blocks + num_revived > self.block_pool.get_num_free_blocks():
            return None
        # Only now, on success, does the request get an entry (a failed try must leave no trace).
        req_blocks = self.req_to_blocks[rid]
        self.block_pool.touch(new_computed_blocks)
        req_blocks.extend(new_computed_blocks)
        new_blocks = self.block_pool.get_new_blocks(num_new_blocks)
        req_blocks.extend(new_blocks)
        if self.enable_caching:
            # Speculative tokens are not part of all_token_ids, so they never get cached.
            num_full = min(num_computed + num_new_tokens, request.num_tokens) // self.block_size
            cached = self.num_cached_block.get(rid, 0)
            if num_full > cached:
                self.block_pool.cache_full_blocks(req_blocks, request.block_hashes, cached, num_full)
                self.num_cached_block[rid] = num_full
        return new_blocks

    def free(self, request: Request) -> None:
        """Release all of a request's blocks, last block first (see BlockPool.free_blocks)."""
        blocks = self.req_to_blocks.pop(request.request_id, [])
        self.num_cached_block.pop(request.request_id, None)
        self.block_pool.free_blocks(reversed(blocks))

    def get_block_ids(self, request_id: str) -> list[int]:
        return [b.block_id for b in self.req_to_blocks.get(request_id, [])]

    @property
    def usage(self) -> float:
        return self.block_pool.get_usage()

    def reset_prefix_cache(self) -> bool:
        return self.block_pool.reset_prefix_cache()
