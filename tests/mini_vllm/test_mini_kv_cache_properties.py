"""Property tests of the block pool and KV-cache manager: no leaks, no double frees, honest hits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from mini_vllm.kv_cache.block import BlockHash, FreeKVCacheBlockQueue, KVCacheBlock, get_request_block_hasher, hash_block_tokens
from mini_vllm.kv_cache.manager import KVCacheManager
from mini_vllm.request import Request
from mini_vllm.sampling_params import SamplingParams


def check_invariants(mgr: KVCacheManager, live: dict[str, Request]) -> None:
    pool = mgr.block_pool
    holders: dict[int, int] = {}
    for rid, blocks in mgr.req_to_blocks.items():
        assert rid in live
        ids = [b.block_id for b in blocks]
        assert len(ids) == len(set(ids)), "a request holds one block twice"
        for i in ids:
            holders[i] = holders.get(i, 0) + 1
    free_ids = {b.block_id for b in pool.free_block_queue.get_all_free_blocks()}
    assert len(free_ids) == pool.get_num_free_blocks()
    for block in pool.blocks:
        assert block.ref_cnt >= 0
        assert block.ref_cnt == holders.get(block.block_id, 0), "ref count != number of holders"
        assert (block.ref_cnt == 0) == (block.block_id in free_ids)
    for digest, block in pool.cached_block_hash_to_block.items():
        assert block.block_hash is not None and block.block_hash.digest == digest


ops = st.lists(st.tuples(st.sampled_from(["add", "grow", "free"]), st.integers(0, 10**6),
                         st.lists(st.integers(2, 4), min_size=1, max_size=40)),
               min_size=1, max_size=60)


@settings(max_examples=150, deadline=None)
@given(ops=ops, block_size=st.integers(1, 6), num_blocks=st.integers(4, 40),
       weak_hash=st.booleans())
def test_allocator_invariants_and_prefix_hits(ops, block_size, num_blocks, weak_hash):
    """Random allocate/grow/free sequences over a tiny alphabet (so prefixes collide often).

    `content[block_id]` simulates the KV the block holds: the token prefix that ends in it. A prefix
    hit must always return blocks whose content equals the new request's own prefix. With
    `weak_hash` every digest is one of 3 values, so only the token-equality guard keeps hits honest.
    """
    hash_fn = hash_block_tokens
    if weak_hash:
        def hash_fn(parent, tokens, extra=()):  # noqa: E306 - a deliberately colliding hash
            return BlockHash(bytes([sum(tokens) % 3]), tokens, parent)
    mgr = KVCacheManager(num_blocks, block_size, enable_caching=True)
    hasher = get_request_block_hasher(block_size, hash_fn)
    live: dict[str, Request] = {}
    content: dict[int, tuple[int, ...]] = {}
    for n, (op, pick, tokens) in enumerate(ops):
        if op == "add" or not live:
            req = Request(f"r{n}", tokens, SamplingParams(), None, block_hasher=hasher)
            hit_blocks, num_hit = mgr.get_computed_blocks(req)
            for i, b in enumerate(hit_blocks):
                assert content[b.block_id] == tuple(tokens[:(i + 1) * block_size])
            if mgr.allocate_slots(req, req.num_tokens - num_hit, num_hit, hit_blocks) is None:
                check_invariants(mgr, live)
                continue
            req.num_computed_tokens = req.num_tokens
            live[req.request_id] = req
            for i, b in enumerate(mgr.req_to_blocks[req.request_id]):
                if (i + 1) * block_size <= req.num_tokens:
                    content[b.block_id] = tuple(tokens[:(i + 1) * block_size])
        elif op == "grow":
            req = list(live.values())[pick % len(live)]
            req.append_output_token_ids(tokens[:3])
            if mgr.allocate_slots(req, req.num_tokens - req.num_computed_tokens) is not None:
                req.num_computed_tokens = req.num_tokens
                for i, b in enumerate(mgr.req_to_blocks[req.request_id]):
                    if (i + 1) * block_size <= req.num_tokens:
                        content[b.block_id] = tuple(req.all_token_ids[:(i + 1) * block_size])
        else:
            req = live.pop(list(live)[pick % len(live)])
            mgr.free(req)
        check_invariants(mgr, live)
        # With a weak hash the guard must have caught every false hit: re-check the hits directly.
        if weak_hash:
            for req in live.values():
                for i, b in enumerate(mgr.req_to_blocks[req.request_id]):
                    if (i + 1) * block_size <= req.num_computed_tokens:
                        assert content[b.block_id] == tuple(req.all_token_ids[:(i + 1) * block_size])
    for req in list(live.values()):
        mgr.free(req)
    assert mgr.block_pool.get_num_free_blocks() == num_blocks, "blocks leaked"
    check_invariants(mgr, {})


def test_free_queue_is_o1_and_ordered():
    blocks = [KVCacheBlock(i) for i in range(5)]
    q = FreeKVCacheBlockQueue(blocks)
    q.remove(blocks[2])
    assert [b.block_id for b in q.get_all_free_blocks()] == [0, 1, 3, 4]
    assert q.popleft().block_id == 0
    q.append(blocks[2])
    assert [b.block_id for b in q.get_all_free_blocks()] == [1, 3, 4, 2]
    assert q.num_free_blocks == 4


def test_lazy_eviction_revives_freed_prefix():
    """A freed request's full blocks stay cached until their block is reused."""
    bs = 4
    mgr = KVCacheManager(8, bs)
    hasher = get_request_block_hasher(bs)
    a = Request("a", list(range(2, 14)), SamplingParams(), None, block_hasher=hasher)
    mgr.allocate_slots(a, a.num_tokens)
    first_ids = mgr.get_block_ids("a")
    mgr.free(a)
    b = Request("b", list(range(2, 14)) + [40], SamplingParams(), None, block_hasher=hasher)
    hit, num_hit = mgr.get_computed_blocks(b)
    assert num_hit == 12 and [x.block_id for x in hit] == first_ids
    # The same prompt exactly: the last token must still be computed, so only 2 of 3 blocks hit.
    c = Request("c", list(range(2, 14)), SamplingParams(), None, block_hasher=hasher)
    assert mgr.get_computed_blocks(c)[1] == 8
