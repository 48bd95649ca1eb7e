"""Measurements quoted in phase 02 (guide, notes, exercises). Run from the repository root:

    python course/phase-02-paged-attention/measurements/measure_paging.py > course/phase-02-paged-attention/measurements/output.txt

Everything runs on CPU against vLLM 0.22.1's real classes: FullAttentionSpec for page sizes,
FreeKVCacheBlockQueue for the queue timings, KVCacheManager for block counts. Seeds are fixed.
"""
from __future__ import annotations

import collections
import platform
import random
import time

import torch
from vllm.sampling_params import SamplingParams
from vllm.utils.hashing import sha256
from vllm.v1.core import kv_cache_utils
from vllm.v1.core.kv_cache_manager import KVCacheManager
from vllm.v1.core.kv_cache_utils import FreeKVCacheBlockQueue, KVCacheBlock
from vllm.v1.kv_cache_interface import FullAttentionSpec, KVCacheConfig, KVCacheGroupSpec
from vllm.v1.request import Request

BS = 16


def page_sizes() -> None:
    print("## 1. Page size from vllm FullAttentionSpec (Llama-3-8B-like: 32 layers, 8 KV heads, head 128, fp16)")
    layers = 32
    for block_size in (16, 32):
        spec = FullAttentionSpec(block_size=block_size, num_kv_heads=8, head_size=128, dtype=torch.float16)
        per_layer = spec.page_size_bytes
        print(f"block_size={block_size}: page_size_bytes per layer={per_layer} "
              f"per block (all {layers} layers)={per_layer * layers} "
              f"per token={per_layer * layers // block_size}")
    print()


def manager(num_blocks: int, caching: bool = True) -> KVCacheManager:
    spec = FullAttentionSpec(block_size=BS, num_kv_heads=8, head_size=128, dtype=torch.float16)
    config = KVCacheConfig(num_blocks=num_blocks, kv_cache_tensors=[],
                           kv_cache_groups=[KVCacheGroupSpec(["layers.0.attn"], spec)])
    return KVCacheManager(config, max_model_len=1 << 16, hash_block_size=BS, enable_caching=caching)


_hasher = None


def request(rid: str, tokens: list[int]) -> Request:
    return Request(rid, tokens, SamplingParams(max_tokens=1), None, block_hasher=_hasher)


def admit(m: KVCacheManager, r: Request) -> bool:
    hits, n = m.get_computed_blocks(r)
    return m.allocate_slots(r, r.num_tokens - n, n, hits) is not None


def fragmentation() -> None:
    print("## 2. Reserved memory that holds real tokens: contiguous max-length slabs vs 16-token pages")
    rng = random.Random(0)
    max_model_len = 2048
    lengths = [rng.randint(32, max_model_len) for _ in range(200)]  # uniform prompt+output lengths
    used_tokens = sum(lengths)
    contiguous_slots = max_model_len * len(lengths)
    m = manager(num_blocks=1 + sum(-(-n // BS) for n in lengths), caching=False)
    for i, n in enumerate(lengths):
        assert admit(m, request(f"f{i}", [i % 50_000 + 1] * n))
    paged_blocks = m.block_pool.num_gpu_blocks - 1 - m.block_pool.get_num_free_blocks()
    paged_slots = paged_blocks * BS
    print(f"requests=200 lengths~U[32,{max_model_len}] seed=0 total tokens={used_tokens}")
    print(f"contiguous (reserve max_model_len each): slots={contiguous_slots} "
          f"utilisation={used_tokens / contiguous_slots:.4f}")
    print(f"paged (real KVCacheManager, block 16): blocks={paged_blocks} slots={paged_slots} "
          f"utilisation={used_tokens / paged_slots:.4f} "
          f"waste per request={(paged_slots - used_tokens) / len(lengths):.2f} tokens")
    print()


def prefix_sharing() -> None:
    print("## 3. Prefix sharing: 8 concurrent requests, 512-token shared system prompt + 64 own tokens")
    system = list(range(1, 513))
    for caching in (False, True):
        m = manager(num_blocks=1000, caching=caching)
        for i in range(8):
            assert admit(m, request(f"p{caching}{i}", system + [10_000 + i] * 64))
        used = m.block_pool.num_gpu_blocks - 1 - m.block_pool.get_num_free_blocks()
        print(f"enable_caching={caching}: blocks held={used}")
    print()


def queue_timings() -> None:
    print("## 4. Removing 2,000 blocks from the middle of a free queue (seconds, best of 3)")
    for n in (10_000, 100_000):
        victims = range(n // 2 - 1000, n // 2 + 1000)
        best = {}
        for name in ("FreeKVCacheBlockQueue.remove", "list.remove", "deque.remove"):
            times = []
            for _ in range(3):
                blocks = [KVCacheBlock(i) for i in range(n)]
                if name.startswith("Free"):
                    q = FreeKVCacheBlockQueue(blocks)
                    t = time.perf_counter()
                    for i in victims:
                        q.remove(blocks[i])
                elif name == "list.remove":
                    q = list(range(n))
                    t = time.perf_counter()
                    for i in victims:
                        q.remove(i)
                else:
                    q = collections.deque(range(n))
                    t = time.perf_counter()
                    for i in victims:
                        q.remove(i)
                times.append(time.perf_counter() - t)
            best[name] = min(times)
        print(f"queue of {n}: " + "  ".join(f"{k}={v:.5f}" for k, v in best.items()))
    print()


if __name__ == "__main__":
    print(f"# python {platform.python_version()} on {platform.machine()}, {platform.processor() or 'cpu'}")
    kv_cache_utils.init_none_hash(sha256)
    _hasher = kv_cache_utils.get_request_block_hasher(BS, sha256)
    page_sizes()
    fragmentation()
    prefix_sharing()
    queue_timings()
