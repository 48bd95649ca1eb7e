"""The unit of KV memory, the O(1) free queue that orders blocks for reuse, and block hashing.

Upstream: {anchor}`vllm/v1/core/kv_cache_utils.py::KVCacheBlock`,
{anchor}`vllm/v1/core/kv_cache_utils.py::FreeKVCacheBlockQueue`,
{anchor}`vllm/v1/core/kv_cache_utils.py::hash_block_tokens`,
{anchor}`vllm/v1/core/kv_cache_utils.py::get_request_block_hasher`.

Why a hand-written doubly linked list rather than a deque: a cached-but-free block can be revived
by a prefix hit from the *middle* of the queue, and that removal must be O(1).
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from typing import Callable, NamedTuple


class BlockHash(NamedTuple):
    """A full block's identity: a digest chained to its parent's, plus what is needed to verify it.

    `token_ids` and `parent` let `BlockPool` confirm a hit token by token along the whole prefix and
    refuse a digest collision (vLLM relies on SHA-256 alone). The cost is block_size ints and one
    reference per cached block.
    """

    digest: bytes
    token_ids: tuple[int, ...]
    parent: "BlockHash | None" = None


def same_prefix(a: BlockHash | None, b: BlockHash | None) -> bool:
    """True when two block hashes stand for the same token prefix (walks the chains, no recursion)."""
    while a is not b:
        if a is None or b is None or a.digest != b.digest or a.token_ids != b.token_ids:
            return False
        a, b = a.parent, b.parent
    return True


def hash_block_tokens(parent: BlockHash | None, token_ids: tuple[int, ...],
                      extra_keys: tuple = ()) -> BlockHash:
    """Chain a block's tokens (and extras such as the LoRA name) onto its parent's digest.

    Chaining makes a block's hash stand for the *whole prefix* up to it, so equal hashes mean
    equal prefixes, not merely equal blocks.
    """
    parent_digest = parent.digest if parent is not None else b"mini_vllm-root"
    payload = pickle.dumps((parent_digest, token_ids, extra_keys), protocol=5)
    return BlockHash(hashlib.sha256(payload).digest(), token_ids, parent)


def get_request_block_hasher(block_size: int,
                             hash_fn: Callable = hash_block_tokens) -> Callable[[object], list]:
    """Return a function that hashes the request's not-yet-hashed *full* blocks.

    Only full blocks are hashed: a partly filled block will still change, so it cannot be shared.
    """

    def request_block_hasher(request) -> list[BlockHash]:
        start = len(request.block_hashes) * block_size
        parent = request.block_hashes[-1] if request.block_hashes else None
        lora = request.lora_request.lora_name if request.lora_request is not None else None
        extra = (lora,) if lora is not None else ()
        new: list[BlockHash] = []
        tokens = request.all_token_ids
        while start + block_size <= len(tokens):
            parent = hash_fn(parent, tuple(tokens[start:start + block_size]), extra)
            new.append(parent)
            start += block_size
        return new

    return request_block_hasher


@dataclass(eq=False)
class KVCacheBlock:
    """Metadata of one block of `block_size` KV slots; its data lives in the attention tensors."""

    block_id: int
    # How many running requests hold this block; 0 means it sits in the free queue.
    ref_cnt: int = 0
    # Set once the block is full and cached; cleared only when the block is evicted for reuse.
    block_hash: BlockHash | None = None
    prev_free_block: "KVCacheBlock | None" = None
    next_free_block: "KVCacheBlock | None" = None

    def reset_hash(self) -> None:
        self.block_hash = None

    def __repr__(self) -> str:
        h = self.block_hash.digest.hex()[:8] if self.block_hash else None
        return f"KVCacheBlock(id={self.block_id}, ref_cnt={self.ref_cnt}, hash={h})"


class FreeKVCacheBlockQueue:
    """Free blocks in eviction order: the head is evicted first.

    Freed blocks go to the tail, so the least recently freed cached block is reused first (LRU).
    Two sentinel blocks remove every `is None` special case from the pointer updates.
    """

    def __init__(self, blocks: list[KVCacheBlock]) -> None:
        self.num_free_blocks = len(blocks)
        self.fake_head = KVCacheBlock(-1)
        self.fake_tail = KVCacheBlock(-1)
        chain = [self.fake_head, *blocks, self.fake_tail]
        for left, right in zip(chain, chain[1:]):
            left.next_free_block, right.prev_free_block = right, left

    def popleft(self) -> KVCacheBlock:
        block = self.fake_head.next_free_block
        if block is self.fake_tail:
            raise ValueError("no free blocks left")
        self.remove(block)
        return block

    def popleft_n(self, n: int) -> list[KVCacheBlock]:
        return [self.popleft() for _ in range(n)]

    def remove(self, block: KVCacheBlock) -> None:
        """Unlink `block` from anywhere in the queue in O(1)."""
        if block.prev_free_block is None or block.next_free_block is None:
            raise RuntimeError(f"remove() of {block} which is not in the free queue")
        block.prev_free_block.next_free_block = block.next_free_block
        block.next_free_block.prev_free_block = block.prev_free_block
        block.prev_free_block = block.next_free_block = None
        self.num_free_blocks -= 1

    def append(self, block: KVCacheBlock) -> None:
        if block.prev_free_block is not None or block.next_free_block is not None:
            raise RuntimeError(f"append() of {block} which is already in the free queue")
        last = self.fake_tail.prev_free_block
        last.next_free_block, block.prev_free_block = block, last
        block.next_free_block, self.fake_tail.prev_free_block = self.fake_tail, block
        self.num_free_blocks += 1

    def append_n(self, blocks: list[KVCacheBlock]) -> None:
        for block in blocks:
            self.append(block)

    def get_all_free_blocks(self) -> list[KVCacheBlock]:
        out, block = [], self.fake_head.next_free_block
        while block is not self.fake_tail:
            out.append(block)
            block = block.next_free_block
        return out
