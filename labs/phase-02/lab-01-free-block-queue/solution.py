"""Lab 02.1 — an O(1) free-block queue, the way vLLM keeps its free KV blocks.

Upstream: {anchor}`vllm/v1/core/kv_cache_utils.py::FreeKVCacheBlockQueue` and the record it links,
{anchor}`vllm/v1/core/kv_cache_utils.py::KVCacheBlock`.

The queue is an *intrusive* doubly linked list: the `prev_free_block` / `next_free_block` links
live inside the blocks, and two sentinel blocks (id -1) sit at both ends so that every real block
in the queue has two neighbours. A block whose links are both `None` is not in the queue.
"""
from __future__ import annotations


class Block:
    """Scheduler-side record of one KV page. Only the queue touches the two links."""

    __slots__ = ("block_id", "ref_cnt", "prev_free_block", "next_free_block")

    def __init__(self, block_id: int) -> None:
        self.block_id = block_id
        self.ref_cnt = 0
        self.prev_free_block: Block | None = None
        self.next_free_block: Block | None = None

    def __repr__(self) -> str:
        return f"Block({self.block_id})"


class FreeBlockQueue:
    """Free blocks in eviction order: head = evicted/allocated first, tail = most recently freed."""

    def __init__(self, blocks: list[Block]) -> None:
        self.num_free_blocks = len(blocks)
        self.head = Block(-1)  # sentinel before the first real block
        self.tail = Block(-1)  # sentinel after the last real block
        chain = [self.head, *blocks, self.tail]
        for left, right in zip(chain, chain[1:]):
            left.next_free_block = right
            right.prev_free_block = left

    def popleft(self) -> Block:
        """Detach and return the head block; ValueError when the queue is empty."""
        # BEGIN SOLUTION: unlink head.next (not the tail sentinel!), clear its links, count down
        first = self.head.next_free_block
        if first is self.tail or first is None:
            raise ValueError("No free blocks available")
        self.head.next_free_block = first.next_free_block
        first.next_free_block.prev_free_block = self.head
        first.prev_free_block = first.next_free_block = None
        self.num_free_blocks -= 1
        return first
        # END SOLUTION

    def popleft_n(self, n: int) -> list[Block]:
        """Detach the first n blocks with one walk and one re-link; ValueError if fewer are free."""
        # BEGIN SOLUTION: walk n blocks from head, clear their links, then link head to the (n+1)-th
        if n > self.num_free_blocks:
            raise ValueError(f"asked for {n} blocks, {self.num_free_blocks} free")
        out: list[Block] = []
        curr = self.head.next_free_block
        for _ in range(n):
            out.append(curr)
            nxt = curr.next_free_block
            curr.prev_free_block = curr.next_free_block = None
            curr = nxt
        self.head.next_free_block = curr
        curr.prev_free_block = self.head
        self.num_free_blocks -= n
        return out
        # END SOLUTION

    def remove(self, block: Block) -> None:
        """Unlink `block` from anywhere in the queue in O(1); RuntimeError if it is not queued."""
        # BEGIN SOLUTION: a queued block has both links; join its neighbours, clear its links
        if block.prev_free_block is None or block.next_free_block is None:
            raise RuntimeError(f"block {block.block_id} is not in the free queue")
        block.prev_free_block.next_free_block = block.next_free_block
        block.next_free_block.prev_free_block = block.prev_free_block
        block.prev_free_block = block.next_free_block = None
        self.num_free_blocks -= 1
        # END SOLUTION

    def append(self, block: Block) -> None:
        """Put `block` at the tail (most recently freed)."""
        # BEGIN SOLUTION: splice between tail.prev and the tail sentinel
        last = self.tail.prev_free_block
        last.next_free_block = block
        block.prev_free_block = last
        block.next_free_block = self.tail
        self.tail.prev_free_block = block
        self.num_free_blocks += 1
        # END SOLUTION

    def append_n(self, blocks: list[Block]) -> None:
        """Append several blocks at the tail, keeping their order."""
        # BEGIN SOLUTION: chain them after tail.prev, then close the chain on the tail sentinel
        if not blocks:
            return
        last = self.tail.prev_free_block
        for block in blocks:
            last.next_free_block = block
            block.prev_free_block = last
            last = block
        last.next_free_block = self.tail
        self.tail.prev_free_block = last
        self.num_free_blocks += len(blocks)
        # END SOLUTION

    def block_ids(self) -> list[int]:
        """The queue from head to tail, as ids (for tests and debugging; O(n))."""
        ids = []
        curr = self.head.next_free_block
        while curr is not None and curr is not self.tail:
            ids.append(curr.block_id)
            curr = curr.next_free_block
        return ids


if __name__ == "__main__":
    blocks = [Block(i) for i in range(6)]
    queue = FreeBlockQueue(blocks)
    taken = queue.popleft_n(3)           # allocate 0, 1, 2
    queue.remove(blocks[4])              # a prefix hit revives free block 4
    queue.append_n(list(reversed(taken)))  # a request frees its blocks, tail first
    print(queue.block_ids())             # [3, 5, 2, 1, 0]
