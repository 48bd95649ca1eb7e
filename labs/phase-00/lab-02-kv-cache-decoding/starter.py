# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.
# Grade it with: LAB_IMPL=starter pytest labs/phase-00/lab-02-kv-cache-decoding
"""Lab 00-02: greedy decoding with and without a KV cache, and what the cache saves.

Without a cache every step re-runs the whole sequence; with one, a step runs only the new token and
reads the keys/values of the earlier tokens from memory. vLLM always decodes the second way: its
attention layer writes each token's K/V once ({anchor}`vllm/model_executor/layers/attention/attention.py::unified_kv_cache_update`)
and the logits of only the last position of each request reach the sampler
({anchor}`vllm/v1/sample/sampler.py::Sampler.greedy_sample`).

The model here is a small Llama-shaped decoder whose attention is written with plain matmuls, so
`torch.utils.flop_counter.FlopCounterMode` can count every multiply-add and grade your formula.
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F


class Cfg(NamedTuple):
    vocab_size: int = 128
    hidden_size: int = 64
    num_heads: int = 4
    num_kv_heads: int = 2
    intermediate_size: int = 128
    num_layers: int = 2

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads


class TinyDecoder(torch.nn.Module):
    """Given: a Llama-shaped decoder (no RoPE, to keep it short) that can use a KV cache.

    `forward(ids, start, cache)` runs tokens `ids` that sit at positions start..start+len-1 and returns
    the logits of the LAST position only (as vLLM does: it samples one token per request per step).
    `cache` is a list with one `(k, v)` pair per layer, each [num_tokens_so_far, Hkv, D], or None for
    "no cache: ids is the whole sequence".
    """

    def __init__(self, cfg: Cfg):
        super().__init__()
        self.cfg = cfg
        d, hd = cfg.hidden_size, cfg.head_dim
        self.embed = torch.nn.Embedding(cfg.vocab_size, d)
        self.layers = torch.nn.ModuleList()
        for _ in range(cfg.num_layers):
            self.layers.append(torch.nn.ModuleDict(dict(
                qkv=torch.nn.Linear(d, (cfg.num_heads + 2 * cfg.num_kv_heads) * hd, bias=False),
                o=torch.nn.Linear(cfg.num_heads * hd, d, bias=False),
                gate_up=torch.nn.Linear(d, 2 * cfg.intermediate_size, bias=False),
                down=torch.nn.Linear(cfg.intermediate_size, d, bias=False))))
        self.lm_head = torch.nn.Linear(d, cfg.vocab_size, bias=False)

    def forward(self, ids: torch.Tensor, start: int, cache: list | None) -> torch.Tensor:
        c = self.cfg
        h = self.embed(ids)
        n = ids.shape[0]
        for i, layer in enumerate(self.layers):
            x = F.rms_norm(h, (c.hidden_size,))
            q, k, v = layer["qkv"](x).split([c.num_heads * c.head_dim, c.num_kv_heads * c.head_dim,
                                              c.num_kv_heads * c.head_dim], dim=-1)
            q = q.view(n, c.num_heads, c.head_dim)
            k, v = k.view(n, c.num_kv_heads, c.head_dim), v.view(n, c.num_kv_heads, c.head_dim)
            if cache is not None:
                past_k, past_v = cache[i]
                k, v = torch.cat([past_k, k]), torch.cat([past_v, v])
                cache[i] = (k, v)
            g = c.num_heads // c.num_kv_heads
            kk, vv = k.repeat_interleave(g, 1).transpose(0, 1), v.repeat_interleave(g, 1).transpose(0, 1)
            scores = torch.matmul(q.transpose(0, 1), kk.transpose(1, 2)) / c.head_dim**0.5  # [H, n, ctx]
            ctx = k.shape[0]
            qpos = torch.arange(start, start + n)[:, None]
            scores = scores.masked_fill(torch.arange(ctx)[None, :] > qpos, float("-inf"))
            attn = torch.matmul(scores.softmax(-1), vv).transpose(0, 1).reshape(n, -1)
            h = h + layer["o"](attn)
            gu = layer["gate_up"](F.rms_norm(h, (c.hidden_size,)))
            a, b = gu.chunk(2, dim=-1)
            h = h + layer["down"](F.silu(a) * b)
        return self.lm_head(F.rms_norm(h[-1:], (c.hidden_size,)))[0]


def empty_cache(cfg: Cfg) -> list:
    z = torch.zeros(0, cfg.num_kv_heads, cfg.head_dim)
    return [(z, z) for _ in range(cfg.num_layers)]


@torch.no_grad()
def generate_no_cache(model: TinyDecoder, prompt: list[int], max_new_tokens: int) -> list[int]:
    """Greedy decoding that re-runs the whole sequence (cache=None) every step."""
    # TODO: loop: logits = model(all ids so far, 0, None); append argmax
    raise NotImplementedError('loop: logits = model(all ids so far, 0, None); append argmax')


@torch.no_grad()
def generate_with_cache(model: TinyDecoder, prompt: list[int], max_new_tokens: int) -> list[int]:
    """Greedy decoding: one prefill step over the prompt, then one token per decode step."""
    # TODO: prefill the prompt at start 0 into empty_cache; then feed only the last token at start=len-1
    raise NotImplementedError('prefill the prompt at start 0 into empty_cache; then feed only the last token at start=len-1')


def step_flops(cfg: Cfg, num_new: int, num_ctx: int) -> int:
    """Matmul FLOPs (2 per multiply-add) of one forward over `num_new` tokens attending to `num_ctx` keys.

    Count: the qkv, o, gate_up and down projections for every new token in every layer; the two
    attention matmuls (Q K^T and P V) per layer and per query head; and the LM head for ONE position.
    """
    # TODO: per layer 2*n*(d*(H+2Hkv)*D + H*D*d + d*2f + f*d) + 2 * 2*H*n*ctx*D; plus 2*d*V
    raise NotImplementedError('per layer 2*n*(d*(H+2Hkv)*D + H*D*d + d*2f + f*d) + 2 * 2*H*n*ctx*D; plus 2*d*V')


def generation_flops(cfg: Cfg, prompt_len: int, max_new_tokens: int, use_cache: bool) -> int:
    """Total matmul FLOPs of a whole greedy generation, with or without the cache."""
    # TODO: no cache: step t runs the full length P+t; with cache: one prefill then 1-token steps
    raise NotImplementedError('no cache: step t runs the full length P+t; with cache: one prefill then 1-token steps')
