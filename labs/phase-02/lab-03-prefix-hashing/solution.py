"""Lab 02.3 — parent-chained block hashes and the longest prefix hit.

Upstream: {anchor}`vllm/v1/core/kv_cache_utils.py::hash_block_tokens`,
{anchor}`vllm/v1/core/kv_cache_utils.py::get_request_block_hasher`,
{anchor}`vllm/v1/core/kv_cache_utils.py::generate_block_hash_extra_keys` (the salt part), and the
lookup rule of {anchor}`vllm/v1/core/single_type_kv_cache_manager.py::FullAttentionManager.find_longest_cache_hit`
with the cap from {anchor}`vllm/v1/core/kv_cache_manager.py::KVCacheManager.get_computed_blocks`.

Your hashes must be *bit-identical* to vLLM's for the same hash function and root seed: the
grader compares them with the hashes a real `vllm.v1.request.Request` computes for itself.
"""
from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from typing import Any

HashFn = Callable[[Any], bytes]


def hash_block_tokens(hash_fn: HashFn, none_hash: bytes, parent_hash: bytes | None,
                      token_ids: Sequence[int], extra_keys: tuple[Any, ...] | None = None) -> bytes:
    """Hash of one full block, chained to its parent's hash (`none_hash` stands in for block 0's).

    vLLM hashes the 3-tuple (parent, tokens as a tuple, extra_keys) with `hash_fn`.
    """
    # BEGIN SOLUTION: replace a missing parent by none_hash; hash (parent, tuple(tokens), extra_keys)
    parent = parent_hash if parent_hash else none_hash
    return hash_fn((parent, tuple(token_ids), extra_keys))
    # END SOLUTION


def new_block_hashes(all_token_ids: Sequence[int], known_hashes: Sequence[bytes], block_size: int,
                     hash_fn: HashFn, none_hash: bytes, cache_salt: str | None = None) -> list[bytes]:
    """Hashes of the full blocks not yet in `known_hashes` (which covers the first blocks).

    Only full blocks get a hash. A `cache_salt` is an extra key of block 0 only: since hashes
    chain, it changes every later hash as well.
    """
    # BEGIN SOLUTION: continue the chain from known_hashes[-1]; stop before a partial block
    out: list[bytes] = []
    parent = known_hashes[-1] if known_hashes else None
    start = len(known_hashes) * block_size
    while start + block_size <= len(all_token_ids):
        extra = (cache_salt,) if (start == 0 and cache_salt) else None
        parent = hash_block_tokens(hash_fn, none_hash, parent,
                                   all_token_ids[start:start + block_size], extra)
        out.append(parent)
        start += block_size
    return out
    # END SOLUTION


def longest_prefix_hit(block_hashes: Sequence[bytes], cached: Container[bytes],
                       num_tokens: int, block_size: int) -> int:
    """Number of leading blocks a request of `num_tokens` tokens can take from the cache.

    Stops at the first miss, and never covers the last token (the model must compute it to
    produce the next token's logits), so at most (num_tokens - 1) // block_size blocks.
    """
    # BEGIN SOLUTION: count leading hashes found in `cached`, capped at (num_tokens - 1) // block_size
    limit = max(num_tokens - 1, 0) // block_size
    hits = 0
    for block_hash in block_hashes[:limit]:
        if block_hash not in cached:
            break
        hits += 1
    return hits
    # END SOLUTION


if __name__ == "__main__":
    import hashlib
    import pickle

    def sha(obj: Any) -> bytes:
        return hashlib.sha256(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)).digest()

    root = b"\x00" * 32
    system = list(range(100, 132))                  # a 32-token shared system prompt
    a = new_block_hashes(system + [1, 2, 3, 4] * 5, [], 16, sha, root)
    b = new_block_hashes(system + [9, 9, 9, 9] * 5, [], 16, sha, root)
    print(len(a), [x == y for x, y in zip(a, b)])   # 3 [True, True, False]
    print(longest_prefix_hit(b, set(a), num_tokens=52, block_size=16))  # 2
