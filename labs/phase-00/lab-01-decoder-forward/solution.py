"""Lab 00-01: one Llama forward pass, by hand, from a state dict.

vLLM's Llama is {anchor}`vllm/model_executor/models/llama.py::LlamaForCausalLM.forward`; each piece
below mirrors one of its parts: {anchor}`vllm/model_executor/layers/layernorm.py::RMSNorm.forward_native`,
{anchor}`vllm/model_executor/layers/rotary_embedding/base.py::RotaryEmbedding.forward_static`,
{anchor}`vllm/model_executor/models/llama.py::LlamaAttention.forward`,
{anchor}`vllm/model_executor/layers/activation.py::SiluAndMul.forward_native` and
{anchor}`vllm/model_executor/models/llama.py::LlamaDecoderLayer.forward`.

Shapes follow vLLM, not Hugging Face: there is no batch dimension. A forward pass sees a flat run
of `num_tokens` tokens, each with its own position. (Batching many requests into that one run is
what phases 03 and 04 are about.)
"""
from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F


class TinyLlamaConfig(NamedTuple):
    """The few numbers that fix every tensor shape of a Llama decoder.

    (A NamedTuple, not a dataclass: the lab grader loads this file without registering it as a module.)
    """

    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    rope_theta: float = 10000.0
    rms_norm_eps: float = 1e-6

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_heads


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """x / sqrt(mean(x^2) + eps) * weight over the last dim. No mean is subtracted (unlike LayerNorm)."""
    # BEGIN SOLUTION: compute the mean of squares in float32, scale by its inverse square root, times weight
    variance = x.float().pow(2).mean(dim=-1, keepdim=True)
    return (x.float() * torch.rsqrt(variance + eps)).to(x.dtype) * weight
    # END SOLUTION


def rope_cos_sin(positions: torch.Tensor, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin, each [num_tokens, head_dim // 2]: angle = position * theta^(-2i/head_dim)."""
    # BEGIN SOLUTION: inverse frequencies theta^(-2i/d) for i in [0, d/2); outer product with positions
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    angles = positions.to(torch.float32)[:, None] * inv_freq[None, :]
    return angles.cos(), angles.sin()
    # END SOLUTION


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate x [num_tokens, num_heads, head_dim] NeoX-style: feature i pairs with feature i + head_dim/2."""
    # BEGIN SOLUTION: split the last dim in halves x1, x2; return cat(x1*cos - x2*sin, x2*cos + x1*sin)
    x1, x2 = x.chunk(2, dim=-1)
    cos, sin = cos[:, None, :], sin[:, None, :]
    return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1)
    # END SOLUTION


def causal_gqa_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Causal attention of one sequence. q [T, H, D], k/v [T, Hkv, D]; returns [T, H, D].

    Grouped-query attention: query head h reads KV head h // (H // Hkv).
    """
    # BEGIN SOLUTION: repeat KV heads H//Hkv times, scores = q k^T / sqrt(D), mask j > i with -inf, softmax, times v
    num_tokens, num_heads, head_dim = q.shape
    group = num_heads // k.shape[1]
    k = k.repeat_interleave(group, dim=1)
    v = v.repeat_interleave(group, dim=1)
    scores = torch.einsum("thd,shd->hts", q, k) / head_dim**0.5
    mask = torch.ones(num_tokens, num_tokens, dtype=torch.bool).triu(1)
    scores = scores.masked_fill(mask, float("-inf"))
    return torch.einsum("hts,shd->thd", scores.softmax(dim=-1), v)
    # END SOLUTION


def silu_and_mul(gate_up: torch.Tensor) -> torch.Tensor:
    """SwiGLU: the first half goes through SiLU and gates the second half."""
    # BEGIN SOLUTION: d = last dim // 2; silu(x[..., :d]) * x[..., d:]
    d = gate_up.shape[-1] // 2
    return F.silu(gate_up[..., :d]) * gate_up[..., d:]
    # END SOLUTION


def decoder_layer(cfg: TinyLlamaConfig, w: dict[str, torch.Tensor], i: int,
                  h: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """One pre-norm block: h + attn(norm(h)), then + mlp(norm(.)). `w` uses Hugging Face weight names."""
    p = f"model.layers.{i}."
    # BEGIN SOLUTION: norm -> q/k/v projections -> RoPE on q,k -> attention -> o_proj -> residual; norm -> gate/up -> SwiGLU -> down -> residual
    x = rms_norm(h, w[p + "input_layernorm.weight"], cfg.rms_norm_eps)
    n = x.shape[0]
    q = (x @ w[p + "self_attn.q_proj.weight"].T).view(n, cfg.num_heads, cfg.head_dim)
    k = (x @ w[p + "self_attn.k_proj.weight"].T).view(n, cfg.num_kv_heads, cfg.head_dim)
    v = (x @ w[p + "self_attn.v_proj.weight"].T).view(n, cfg.num_kv_heads, cfg.head_dim)
    cos, sin = rope_cos_sin(positions, cfg.head_dim, cfg.rope_theta)
    q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
    attn = causal_gqa_attention(q, k, v).reshape(n, -1)
    h = h + attn @ w[p + "self_attn.o_proj.weight"].T
    x = rms_norm(h, w[p + "post_attention_layernorm.weight"], cfg.rms_norm_eps)
    gate_up = torch.cat((x @ w[p + "mlp.gate_proj.weight"].T, x @ w[p + "mlp.up_proj.weight"].T), dim=-1)
    return h + silu_and_mul(gate_up) @ w[p + "mlp.down_proj.weight"].T
    # END SOLUTION


def llama_forward(cfg: TinyLlamaConfig, w: dict[str, torch.Tensor], input_ids: torch.Tensor) -> torch.Tensor:
    """Logits [num_tokens, vocab] for one prompt: embed, every layer, final norm, LM head."""
    positions = torch.arange(input_ids.shape[0])
    # BEGIN SOLUTION: embedding lookup, loop over layers, final RMSNorm, multiply by lm_head.weight^T
    h = w["model.embed_tokens.weight"][input_ids]
    for i in range(cfg.num_layers):
        h = decoder_layer(cfg, w, i, h, positions)
    h = rms_norm(h, w["model.norm.weight"], cfg.rms_norm_eps)
    return h @ w["lm_head.weight"].T
    # END SOLUTION
