"""Lab 02.4 — predict what vLLM's real KVCacheManager will do, then let the grader run it.

Upstream: {anchor}`vllm/v1/core/kv_cache_manager.py::KVCacheManager.get_computed_blocks`,
{anchor}`vllm/v1/core/kv_cache_manager.py::KVCacheManager.allocate_slots`,
{anchor}`vllm/v1/core/kv_cache_manager.py::KVCacheManager.free`, and underneath them
{anchor}`vllm/v1/core/single_type_kv_cache_manager.py::SingleTypeKVCacheManager.get_num_blocks_to_allocate`.

The top half (given) builds a real manager on CPU — one full-attention KV-cache group, no GPU,
no model — and plays the scheduler's part. The bottom half is yours: small pure functions that
predict block counts, prefix hits, admission and the free-queue order. The grader runs random
scenarios through the real manager and compares.
"""
from __future__ import annotations

import itertools

import torch
from vllm.sampling_params import SamplingParams
from vllm.utils.hashing import sha256
from vllm.v1.core import kv_cache_utils
from vllm.v1.core.kv_cache_manager import KVCacheBlocks, KVCacheManager
from vllm.v1.kv_cache_interface import FullAttentionSpec, KVCacheConfig, KVCacheGroupSpec
from vllm.v1.request import Request

BLOCK_SIZE = 16
_ids = itertools.count()


# ----------------------------------------------------------------------------------------------
# Given: a real KVCacheManager on CPU, and the scheduler's calls into it.
# ----------------------------------------------------------------------------------------------

def build_manager(num_blocks: int, block_size: int = BLOCK_SIZE, max_model_len: int = 4096) -> KVCacheManager:
    """A real KVCacheManager over `num_blocks` blocks (block 0 becomes the null block)."""
    spec = FullAttentionSpec(block_size=block_size, num_kv_heads=8, head_size=128, dtype=torch.float16)
    config = KVCacheConfig(num_blocks=num_blocks, kv_cache_tensors=[],
                           kv_cache_groups=[KVCacheGroupSpec(["layers.0.attn"], spec)])
    kv_cache_utils.init_none_hash(sha256)
    return KVCacheManager(config, max_model_len=max_model_len, hash_block_size=block_size,
                          enable_caching=True)


def new_request(prompt: list[int], block_size: int = BLOCK_SIZE) -> Request:
    """A real Request that hashes its own full blocks (prefix caching needs that)."""
    hasher = kv_cache_utils.get_request_block_hasher(block_size, sha256)
    return Request(f"req-{next(_ids)}", list(prompt), SamplingParams(max_tokens=1 << 20), None,
                   block_hasher=hasher)


def admit(manager: KVCacheManager, request: Request) -> tuple[int, KVCacheBlocks | None]:
    """What the scheduler does for a waiting request: look up hits, then allocate the whole prompt.

    Returns (hit tokens, new blocks or None). On success the prefill 'runs': the prompt counts as
    computed and one sampled token is appended, like `update_from_output` would.
    """
    hits, num_hit_tokens = manager.get_computed_blocks(request)
    new_blocks = manager.allocate_slots(request, request.num_tokens - num_hit_tokens,
                                        num_hit_tokens, hits)
    if new_blocks is not None:
        request.num_computed_tokens = request.num_tokens
        request.append_output_token_ids(7)
    return num_hit_tokens, new_blocks


def decode_step(manager: KVCacheManager, request: Request, token: int = 7) -> KVCacheBlocks | None:
    """One decode step: a slot for the last sampled token, then 'run' and append the next one."""
    new_blocks = manager.allocate_slots(request, 1)
    if new_blocks is not None:
        request.num_computed_tokens += 1
        request.append_output_token_ids(token)
    return new_blocks


def free_queue_ids(manager: KVCacheManager) -> list[int]:
    return [b.block_id for b in manager.block_pool.free_block_queue.get_all_free_blocks()]


# ----------------------------------------------------------------------------------------------
# Yours: predictions. Pure arithmetic on ints and lists — no vLLM calls.
# ----------------------------------------------------------------------------------------------

def blocks_for(num_tokens: int, block_size: int = BLOCK_SIZE) -> int:
    """Blocks needed to hold `num_tokens` token slots."""
    # BEGIN SOLUTION: ceiling division
    return -(-num_tokens // block_size)
    # END SOLUTION


def predict_hit_blocks(prompt_len: int, shared_prefix_len: int, block_size: int = BLOCK_SIZE) -> int:
    """Prefix-cache hit, in blocks, for a new prompt whose first `shared_prefix_len` tokens equal
    the prompt of an earlier, fully prefilled request whose blocks are all still cached."""
    # BEGIN SOLUTION: only full shared blocks, and never the block holding the last prompt token
    return min(shared_prefix_len // block_size, (prompt_len - 1) // block_size)
    # END SOLUTION


def predict_blocks_taken(prompt_len: int, hit_blocks: int, free_hit_blocks: int,
                         block_size: int = BLOCK_SIZE) -> int:
    """How far the free-block count drops when a prompt is admitted with `hit_blocks` hits, of
    which `free_hit_blocks` were free (ref_cnt 0, their owner already finished)."""
    # BEGIN SOLUTION: new blocks for the non-hit part, plus the free hits that leave the free queue
    return blocks_for(prompt_len, block_size) - hit_blocks + free_hit_blocks
    # END SOLUTION


def predict_admitted(num_free_blocks: int, prompt_len: int, hit_blocks: int, free_hit_blocks: int,
                     block_size: int = BLOCK_SIZE) -> bool:
    """Will allocate_slots succeed (rather than return None) for this admission?"""
    # BEGIN SOLUTION: admitted iff the exact number of blocks taken fits in the free count
    return predict_blocks_taken(prompt_len, hit_blocks, free_hit_blocks, block_size) <= num_free_blocks
    # END SOLUTION


def predict_decode_new_blocks(prompt_len: int, num_steps: int, block_size: int = BLOCK_SIZE) -> int:
    """Blocks allocated over `num_steps` decode steps after a prefill of `prompt_len` tokens.
    (Decode step k needs a slot for token prompt_len + k, counting from 1.)"""
    # BEGIN SOLUTION: blocks for prompt_len + num_steps slots minus blocks already held after prefill
    return blocks_for(prompt_len + num_steps, block_size) - blocks_for(prompt_len, block_size)
    # END SOLUTION


def predict_free_queue(free_queue: list[int], ref_cnt: dict[int, int],
                       freed_tables: list[list[int]]) -> list[int]:
    """The free queue (ids, head first) after freeing whole requests in the given order.

    `ref_cnt` maps every block id that appears in the tables to its count before the frees;
    `freed_tables` are the requests' block tables (first block first).
    """
    # BEGIN SOLUTION: per request, walk its table tail-first; a block whose count reaches 0 is appended
    queue = list(free_queue)
    counts = dict(ref_cnt)
    for table in freed_tables:
        for block_id in reversed(table):
            counts[block_id] -= 1
            if counts[block_id] == 0:
                queue.append(block_id)
    return queue
    # END SOLUTION


if __name__ == "__main__":
    manager = build_manager(num_blocks=12)
    system = list(range(1000, 1040))                        # 40 shared tokens
    a = new_request(system + [1] * 10)                      # 50 tokens
    print("A hit tokens, blocks:", admit(manager, a)[0], manager.get_block_ids(a.request_id))
    b = new_request(system + [2] * 30)                      # 70 tokens, shares 40
    print("B hit tokens:", admit(manager, b)[0], "predicted blocks:", predict_hit_blocks(70, 40))
    print("free:", manager.block_pool.get_num_free_blocks())
    manager.free(a)
    manager.free(b)
    print("free queue:", free_queue_ids(manager))
