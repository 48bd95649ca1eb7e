"""Grader for lab 02.1: behaviour, O(1) removal, and step-for-step agreement with vLLM's own queue."""
from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def make(impl, n):
    blocks = [impl.Block(i) for i in range(n)]
    return blocks, impl.FreeBlockQueue(blocks)


def test_popleft_takes_head_in_id_order(impl):
    blocks, q = make(impl, 4)
    assert [q.popleft().block_id for _ in range(4)] == [0, 1, 2, 3]
    assert q.num_free_blocks == 0
    with pytest.raises(ValueError):
        q.popleft()


def test_popped_blocks_are_unlinked(impl):
    blocks, q = make(impl, 3)
    b = q.popleft()
    assert b.prev_free_block is None and b.next_free_block is None
    for b in q.popleft_n(2):
        assert b.prev_free_block is None and b.next_free_block is None


def test_popleft_n_and_empty_queue(impl):
    blocks, q = make(impl, 5)
    assert q.popleft_n(0) == []
    assert [b.block_id for b in q.popleft_n(2)] == [0, 1]
    assert q.block_ids() == [2, 3, 4]
    assert [b.block_id for b in q.popleft_n(3)] == [2, 3, 4]
    assert q.block_ids() == [] and q.num_free_blocks == 0
    with pytest.raises(ValueError):
        q.popleft_n(1)
    q.append(blocks[3])  # the empty queue must still be well formed
    assert q.block_ids() == [3]


def test_remove_from_middle_head_and_tail(impl):
    blocks, q = make(impl, 5)
    q.remove(blocks[2])
    q.remove(blocks[0])
    q.remove(blocks[4])
    assert q.block_ids() == [1, 3]
    assert q.num_free_blocks == 2
    assert blocks[2].prev_free_block is None and blocks[2].next_free_block is None


def test_remove_of_a_block_not_in_the_queue_is_refused(impl):
    blocks, q = make(impl, 3)
    taken = q.popleft()
    with pytest.raises(RuntimeError):
        q.remove(taken)
    assert q.block_ids() == [1, 2]


def test_append_and_append_n_go_to_the_tail_in_order(impl):
    blocks, q = make(impl, 6)
    taken = q.popleft_n(4)
    q.append(taken[1])
    q.append_n([taken[3], taken[0]])
    q.append_n([])
    assert q.block_ids() == [4, 5, 1, 3, 0]
    assert q.num_free_blocks == 5


def test_remove_is_constant_time(impl):
    """50k removals from a 100k-block queue: O(1) each takes milliseconds, a list scan takes minutes."""
    blocks, q = make(impl, 100_000)
    victims = blocks[25_000:75_000]
    start = time.perf_counter()
    for b in victims:
        q.remove(b)
    elapsed = time.perf_counter() - start
    assert q.num_free_blocks == 50_000
    assert elapsed < 2.0, f"50k removals took {elapsed:.2f}s: remove() is not O(1)"


OPS = st.lists(st.tuples(st.sampled_from(["popleft", "popleft_n", "remove", "append", "append_n"]),
                         st.integers(0, 10_000)), max_size=60)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 12), ops=OPS)
def test_agrees_with_vllm_free_queue(impl, n, ops):
    """Replay random operations on vLLM's FreeKVCacheBlockQueue and on yours; the queues must match."""
    from vllm.v1.core.kv_cache_utils import FreeKVCacheBlockQueue, KVCacheBlock

    theirs_blocks = [KVCacheBlock(i) for i in range(n)]
    theirs = FreeKVCacheBlockQueue(theirs_blocks)
    mine_blocks, mine = make(impl, n)
    for op, arg in ops:
        queued = [b.block_id for b in theirs.get_all_free_blocks()]
        taken = sorted(set(range(n)) - set(queued))
        if op == "popleft" and queued:
            assert mine.popleft().block_id == theirs.popleft().block_id
        elif op == "popleft_n" and queued:
            k = arg % (len(queued) + 1)
            assert [b.block_id for b in mine.popleft_n(k)] == [b.block_id for b in theirs.popleft_n(k)]
        elif op == "remove" and queued:
            i = queued[arg % len(queued)]
            mine.remove(mine_blocks[i])
            theirs.remove(theirs_blocks[i])
        elif op == "append" and taken:
            i = taken[arg % len(taken)]
            mine.append(mine_blocks[i])
            theirs.append(theirs_blocks[i])
        elif op == "append_n" and taken:
            ids = taken[arg % len(taken):] [::-1]
            mine.append_n([mine_blocks[i] for i in ids])
            theirs.append_n([theirs_blocks[i] for i in ids])
        assert mine.block_ids() == [b.block_id for b in theirs.get_all_free_blocks()]
        assert mine.num_free_blocks == theirs.num_free_blocks
