"""Grader for lab 02.4: your predictions against vLLM's real KVCacheManager, scenario by scenario."""
from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BS = 16
FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def test_blocks_for(impl):
    assert [impl.blocks_for(n) for n in (1, 15, 16, 17, 32, 33)] == [1, 1, 1, 2, 2, 3]


@FAST
@given(la=st.integers(1, 160), lb=st.integers(1, 160), share=st.floats(0, 1), a_finished=st.booleans())
def test_prefix_hit_and_blocks_taken(impl, la, lb, share, a_finished):
    """Request B shares a prefix with earlier request A; predict B's hit and what it costs the pool."""
    m = impl.build_manager(num_blocks=40)
    s = int(share * min(la, lb))
    shared = list(range(100, 100 + s))
    a = impl.new_request(shared + [1] * (la - s))
    before = m.block_pool.get_num_free_blocks()
    hit_tokens, blocks = impl.admit(m, a)
    assert hit_tokens == 0 and blocks is not None
    assert before - m.block_pool.get_num_free_blocks() == impl.predict_blocks_taken(la, 0, 0)
    if a_finished:
        m.free(a)

    b = impl.new_request(shared + [2] * (lb - s))
    hit_blocks = impl.predict_hit_blocks(lb, s)
    before = m.block_pool.get_num_free_blocks()
    hit_tokens, blocks = impl.admit(m, b)
    assert blocks is not None
    assert hit_tokens == hit_blocks * BS, f"A={la} B={lb} shared={s}: real hit {hit_tokens} tokens"
    taken = before - m.block_pool.get_num_free_blocks()
    assert taken == impl.predict_blocks_taken(lb, hit_blocks, hit_blocks if a_finished else 0)


@FAST
@given(num_blocks=st.integers(3, 14), la=st.integers(1, 120), lb=st.integers(1, 200), share=st.floats(0, 1))
def test_admission_decision(impl, num_blocks, la, lb, share):
    """With a small pool, predict whether allocate_slots returns blocks or None."""
    m = impl.build_manager(num_blocks=num_blocks)
    s = int(share * min(la, lb))
    shared = list(range(500, 500 + s))
    a = impl.new_request(shared + [3] * (la - s))
    free = m.block_pool.get_num_free_blocks()
    _, blocks = impl.admit(m, a)
    assert (blocks is not None) == impl.predict_admitted(free, la, 0, 0)
    if blocks is None:
        assert m.block_pool.get_num_free_blocks() == free, "a failed allocate_slots must not allocate"
        return
    b = impl.new_request(shared + [4] * (lb - s))
    hit_blocks = impl.predict_hit_blocks(lb, s)
    free = m.block_pool.get_num_free_blocks()
    _, blocks = impl.admit(m, b)
    assert (blocks is not None) == impl.predict_admitted(free, lb, hit_blocks, 0)


@FAST
@given(prompt_len=st.integers(1, 100), steps=st.integers(0, 70))
def test_decode_allocations(impl, prompt_len, steps):
    m = impl.build_manager(num_blocks=30)
    r = impl.new_request(list(range(prompt_len)))
    impl.admit(m, r)
    new = 0
    for _ in range(steps):
        blocks = impl.decode_step(m, r)
        new += len(blocks.get_block_ids()[0])
    assert new == impl.predict_decode_new_blocks(prompt_len, steps)
    assert len(m.get_block_ids(r.request_id)[0]) == impl.blocks_for(prompt_len + steps)


@FAST
@given(lens=st.lists(st.integers(1, 70), min_size=1, max_size=4), share=st.integers(0, 48),
       order=st.randoms(use_true_random=False))
def test_free_queue_order(impl, lens, share, order):
    """Several requests share a prefix; free them in a random order; predict the whole free queue."""
    m = impl.build_manager(num_blocks=40)
    shared = list(range(900, 900 + share))
    requests = []
    for i, n in enumerate(lens):
        r = impl.new_request(shared + [10 + i] * n)
        if impl.admit(m, r)[1] is not None:
            requests.append(r)
    order.shuffle(requests)
    tables = [m.get_block_ids(r.request_id)[0] for r in requests]
    counts = {b: m.block_pool.blocks[b].ref_cnt for t in tables for b in t}
    predicted = impl.predict_free_queue(impl.free_queue_ids(m), counts, tables)
    for r in requests:
        m.free(r)
    assert impl.free_queue_ids(m) == predicted
