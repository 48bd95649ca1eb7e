"""Measure prefill vs decode on this CPU with a random-init Hugging Face Llama (no download).

Run:  python course/phase-00-foundations/measurements/prefill_vs_decode.py > course/phase-00-foundations/measurements/prefill_vs_decode.txt

It times, for one model and several prompt lengths:
  - prefill: one forward over the whole prompt (builds the KV cache);
  - decode with cache: one forward over 1 new token reading the cache;
  - decode without cache: one forward over prompt+1 tokens (what a cache-less loop pays per step).
Each number is the median of repeated runs after a warm-up. torch threads = 2 (this machine's cores).
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import time

import torch
from transformers import DynamicCache, LlamaConfig, LlamaForCausalLM

REPEATS = 5


def median_ms(fn) -> float:
    fn()
    times = []
    for _ in range(REPEATS):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


@torch.no_grad()
def main() -> None:
    load_before = os.getloadavg()  # other work on this 2-core box inflates every number; it is recorded
    torch.manual_seed(0)
    torch.set_num_threads(2)
    cfg = LlamaConfig(hidden_size=512, intermediate_size=1408, num_hidden_layers=4, num_attention_heads=8,
                      num_key_value_heads=4, vocab_size=4096, max_position_embeddings=4096,
                      attn_implementation="sdpa")
    model = LlamaForCausalLM(cfg).eval()
    params = sum(p.numel() for p in model.parameters())
    rows = []
    for prompt_len in (16, 64, 256, 512):
        ids = torch.randint(0, cfg.vocab_size, (1, prompt_len))

        def prefill():
            return model(ids, past_key_values=DynamicCache(config=cfg), use_cache=True)

        cache = prefill().past_key_values
        nxt = torch.randint(0, cfg.vocab_size, (1, 1))

        def decode_cached():
            out = model(nxt, past_key_values=cache, use_cache=True)
            cache.crop(-1)  # drop the appended token so every repeat sees the same context length
            return out

        full = torch.cat([ids, nxt], dim=1)

        def decode_uncached():
            return model(full, use_cache=False)

        p, d, u = median_ms(prefill), median_ms(decode_cached), median_ms(decode_uncached)
        rows.append(dict(prompt_len=prompt_len, prefill_ms=round(p, 3), prefill_us_per_token=round(p * 1e3 / prompt_len, 2),
                         decode_cached_ms=round(d, 3), decode_uncached_ms=round(u, 3),
                         uncached_over_cached=round(u / d, 2)))
    print(json.dumps(dict(loadavg_before=load_before, loadavg_after=os.getloadavg(), machine=platform.processor() or platform.machine(), torch=torch.__version__,
                          threads=torch.get_num_threads(), params=params, repeats=REPEATS,
                          config=dict(hidden=512, layers=4, heads=8, kv_heads=4, ffn=1408, vocab=4096, dtype="float32"),
                          rows=rows), indent=1))


if __name__ == "__main__":
    main()
