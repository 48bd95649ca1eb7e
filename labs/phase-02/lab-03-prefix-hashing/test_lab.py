"""Grader for lab 02.3: your block hashes must equal the ones a real vLLM Request computes."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

BS = 16


@pytest.fixture(scope="module")
def vllm_hashing():
    """vLLM's default hash function, its (seeded) root hash, and a factory for real Requests."""
    from vllm.sampling_params import SamplingParams
    from vllm.utils.hashing import sha256
    from vllm.v1.core import kv_cache_utils
    from vllm.v1.request import Request

    kv_cache_utils.init_none_hash(sha256)
    hasher = kv_cache_utils.get_request_block_hasher(BS, sha256)

    def make_request(tokens, salt=None):
        return Request("r", list(tokens), SamplingParams(max_tokens=64), None,
                       cache_salt=salt, block_hasher=hasher)

    return sha256, kv_cache_utils.NONE_HASH, make_request


def test_one_block_matches_vllm(impl, vllm_hashing):
    from vllm.v1.core.kv_cache_utils import hash_block_tokens

    sha, root, _ = vllm_hashing
    tokens = list(range(BS))
    first = impl.hash_block_tokens(sha, root, None, tokens)
    assert first == hash_block_tokens(sha, None, tokens)
    second = impl.hash_block_tokens(sha, root, first, tokens, ("lora-a",))
    assert second == hash_block_tokens(sha, first, tokens, ("lora-a",))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tokens=st.lists(st.integers(0, 50_000), max_size=5 * BS + 7),
       salt=st.one_of(st.none(), st.text(min_size=1, max_size=8)))
def test_prompt_hashes_match_a_real_request(impl, vllm_hashing, tokens, salt):
    sha, root, make_request = vllm_hashing
    request = make_request(tokens, salt)
    assert impl.new_block_hashes(tokens, [], BS, sha, root, salt) == request.block_hashes
    assert len(request.block_hashes) == len(tokens) // BS      # full blocks only


def test_decode_extends_the_chain_like_vllm(impl, vllm_hashing):
    sha, root, make_request = vllm_hashing
    prompt = list(range(7, 7 + 2 * BS + 5))
    request = make_request(prompt)
    mine = impl.new_block_hashes(prompt, [], BS, sha, root)
    for step in range(3 * BS):
        request.append_output_token_ids(1000 + step)
        mine = mine + impl.new_block_hashes(request.all_token_ids, mine, BS, sha, root)
        assert mine == request.block_hashes, f"after decode step {step}"


def test_changing_one_token_changes_that_block_and_all_later_ones(impl, vllm_hashing):
    sha, root, _ = vllm_hashing
    tokens = list(range(4 * BS))
    base = impl.new_block_hashes(tokens, [], BS, sha, root)
    edited = list(tokens)
    edited[BS + 3] += 1                                   # a token of block 1
    changed = impl.new_block_hashes(edited, [], BS, sha, root)
    assert [a == b for a, b in zip(base, changed)] == [True, False, False, False]


def test_same_block_after_different_prefixes_hashes_differently(impl, vllm_hashing):
    sha, root, _ = vllm_hashing
    shared_block = list(range(BS))
    x = impl.new_block_hashes([1] * BS + shared_block, [], BS, sha, root)
    y = impl.new_block_hashes([2] * BS + shared_block, [], BS, sha, root)
    assert x[1] != y[1]


def test_salt_isolates_every_block(impl, vllm_hashing):
    sha, root, _ = vllm_hashing
    tokens = list(range(3 * BS))
    plain = impl.new_block_hashes(tokens, [], BS, sha, root)
    salted = impl.new_block_hashes(tokens, [], BS, sha, root, "tenant-42")
    assert all(a != b for a, b in zip(plain, salted))


@pytest.mark.parametrize("num_tokens, cached_blocks, expected", [
    (48, 3, 2),     # fully cached, exact multiple: the last block is recomputed
    (49, 3, 3),     # one extra token: all three full blocks hit
    (49, 1, 1),     # only the first block is cached
    (15, 0, 0),     # shorter than a block
    (16, 1, 0),     # one full block, but it holds the last token
    (100, 6, 6),
])
def test_longest_prefix_hit_caps_at_the_last_token(impl, num_tokens, cached_blocks, expected):
    hashes = [bytes([i]) for i in range(num_tokens // BS)]
    assert impl.longest_prefix_hit(hashes, set(hashes[:cached_blocks]), num_tokens, BS) == expected


def test_longest_prefix_hit_stops_at_the_first_miss(impl):
    hashes = [b"a", b"b", b"c", b"d"]
    assert impl.longest_prefix_hit(hashes, {b"a", b"c", b"d"}, 80, BS) == 1
    assert impl.longest_prefix_hit(hashes, {b"b", b"c", b"d"}, 80, BS) == 0
