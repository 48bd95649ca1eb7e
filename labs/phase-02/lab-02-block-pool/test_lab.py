"""Grader for lab 02.2: pool invariants, lazy eviction, and agreement with vLLM's BlockPool."""
from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def free_ids(pool):
    return [b.block_id for b in pool.free_block_queue.get_all_free_blocks()]


def check_invariants(pool):
    queued = set(free_ids(pool))
    for b in pool.blocks[1:]:
        assert (b.block_id in queued) == (b.ref_cnt == 0), f"block {b.block_id}: ref_cnt {b.ref_cnt}"
        assert b.ref_cnt >= 0
        if b.block_hash is not None:
            assert pool.cached_block_hash_to_block[b.block_hash][b.block_id] is b
    for key, twins in pool.cached_block_hash_to_block.items():
        assert twins, "empty entry left in the map"
        for b in twins.values():
            assert b.block_hash == key
    in_use = sum(1 for b in pool.blocks[1:] if b.ref_cnt > 0)
    assert pool.get_num_free_blocks() + in_use + 1 == pool.num_blocks


def test_null_block_is_reserved(impl):
    pool = impl.BlockPool(5)
    assert pool.null_block.block_id == 0 and pool.null_block.is_null
    assert free_ids(pool) == [1, 2, 3, 4]
    got = pool.get_new_blocks(4)
    assert [b.block_id for b in got] == [1, 2, 3, 4]
    assert all(b.ref_cnt == 1 for b in got)
    with pytest.raises(ValueError):
        pool.get_new_blocks(1)
    check_invariants(pool)


def test_free_keeps_hashes_and_uses_the_given_order(impl):
    pool = impl.BlockPool(6)
    a = pool.get_new_blocks(3)
    pool.cache_full_blocks(a, [b"x0", b"x1"], 0, 2)
    pool.free_blocks(reversed(a))
    assert free_ids(pool) == [4, 5, 3, 2, 1]
    assert a[0].block_hash == b"x0" and a[1].block_hash == b"x1" and a[2].block_hash is None
    assert pool.get_cached_block(b"x1") is a[1]        # lazily kept: still a hit after free
    check_invariants(pool)


def test_touch_revives_a_free_cached_block_from_the_middle(impl):
    pool = impl.BlockPool(6)
    a = pool.get_new_blocks(2)
    pool.cache_full_blocks(a, [b"p0", b"p1"], 0, 2)
    pool.free_blocks(reversed(a))                       # queue: 3 4 5 2 1
    hit = pool.get_cached_block(b"p1")
    pool.touch([hit])
    assert hit.ref_cnt == 1 and free_ids(pool) == [3, 4, 5, 1]
    pool.touch([hit])                                   # a second sharer: no queue change
    assert hit.ref_cnt == 2 and pool.get_num_free_blocks() == 4
    pool.free_blocks([hit])
    assert hit.ref_cnt == 1 and 2 not in free_ids(pool)  # still held by one request
    check_invariants(pool)


def test_eviction_happens_only_when_the_block_is_reused(impl):
    pool = impl.BlockPool(3)                            # usable blocks: 1, 2
    a = pool.get_new_blocks(2)
    pool.cache_full_blocks(a, [b"q0", b"q1"], 0, 2)
    pool.free_blocks(reversed(a))                       # queue: 2 1
    assert pool.get_cached_block(b"q1") is a[1]
    (b,) = pool.get_new_blocks(1)                       # takes block 2 -> its hash must go
    assert b.block_id == 2 and b.block_hash is None
    assert pool.get_cached_block(b"q1") is None
    assert pool.get_cached_block(b"q0") is a[0]         # block 1 is still free and cached
    check_invariants(pool)


def test_duplicate_content_and_per_block_eviction(impl):
    pool = impl.BlockPool(4)
    x = pool.get_new_blocks(1)
    y = pool.get_new_blocks(1)
    pool.cache_full_blocks(x, [b"same"], 0, 1)
    pool.cache_full_blocks(y, [b"same"], 0, 1)          # no de-duplication: both are cached
    assert pool.get_cached_block(b"same") is x[0]
    pool.free_blocks(x)
    pool.free_blocks(y)                                 # queue: 3 1 2
    pool.get_new_blocks(2)                              # reuses 3 and 1: only x is evicted
    assert pool.get_cached_block(b"same") is y[0]
    check_invariants(pool)


def test_cache_full_blocks_is_incremental_and_skips_null_blocks(impl):
    pool = impl.BlockPool(6)
    blocks = [pool.null_block, *pool.get_new_blocks(3)]
    hashes = [b"n0", b"n1", b"n2", b"n3"]
    pool.cache_full_blocks(blocks, hashes, 0, 2)
    assert pool.null_block.block_hash is None and blocks[1].block_hash == b"n1"
    pool.cache_full_blocks(blocks, hashes, 2, 2)        # nothing new
    pool.cache_full_blocks(blocks, hashes, 2, 4)
    assert [b.block_hash for b in blocks[1:]] == [b"n1", b"n2", b"n3"]
    with pytest.raises(AssertionError):
        pool.cache_full_blocks(blocks, hashes, 1, 2)    # publishing twice is a bug
    check_invariants(pool)


OPS = st.lists(st.tuples(st.sampled_from(["alloc", "cache", "free", "hit"]), st.integers(0, 999),
                         st.integers(0, 3)), max_size=40)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_agrees_with_vllm_block_pool(impl, ops):
    """Drive vLLM's BlockPool and yours with the same random requests; state must match step by step."""
    from vllm.v1.core.block_pool import BlockPool as VllmBlockPool
    from vllm.v1.core.kv_cache_utils import get_block_hash

    n = 8
    mine, theirs = impl.BlockPool(n), VllmBlockPool(n, enable_caching=True, hash_block_size=16)
    held: list[tuple[list[int], list[bytes]]] = []      # per live request: block ids, hashes
    for op, arg, k in ops:
        if op == "alloc" and 0 < k + 1 <= mine.get_num_free_blocks():
            ids = [b.block_id for b in mine.get_new_blocks(k + 1)]
            assert ids == [b.block_id for b in theirs.get_new_blocks(k + 1)]
            held.append((ids, [bytes([arg % 3, j]) for j in range(len(ids))]))
        elif op == "cache" and held:
            ids, hashes = held[arg % len(held)]
            todo = [i for i in range(len(ids)) if mine.blocks[ids[i]].block_hash is None]
            if todo:
                j = todo[0]
                mine.cache_full_blocks([mine.blocks[i] for i in ids], hashes, j, j + 1)
                theirs.cache_full_blocks(SimpleNamespace(block_hashes=hashes),
                                         [theirs.blocks[i] for i in ids], j, j + 1, 16, 0)
        elif op == "free" and held:
            ids, _ = held.pop(arg % len(held))
            mine.free_blocks(mine.blocks[i] for i in reversed(ids))
            theirs.free_blocks(theirs.blocks[i] for i in reversed(ids))
        elif op == "hit":
            key = bytes([arg % 3, 0])
            m = mine.get_cached_block(key)
            t = theirs.get_cached_block(key, [0])
            assert (m and m.block_id) == (t and t[0].block_id)
            if m is not None:
                mine.touch([m])
                theirs.touch(t)
                held.append(([m.block_id], [key]))
        check_invariants(mine)
        assert free_ids(mine) == [b.block_id for b in theirs.free_block_queue.get_all_free_blocks()]
        for mb, tb in zip(mine.blocks, theirs.blocks):
            assert mb.ref_cnt == tb.ref_cnt
            assert mb.block_hash == (tb.block_hash and get_block_hash(tb.block_hash))
