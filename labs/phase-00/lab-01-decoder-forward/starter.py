# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.
# Grade it with: LAB_IMPL=starter pytest labs/phase-00/lab-01-decoder-forward
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
    # TODO: compute the mean of squares in float32, scale by its inverse square root, times weight
    raise NotImplementedError('compute the mean of squares in float32, scale by its inverse square root, times weight')


def rope_cos_sin(positions: torch.Tensor, head_dim: int, theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and sin, each [num_tokens, head_dim // 2]: angle = position * theta^(-2i/head_dim)."""
    # TODO: inverse frequencies theta^(-2i/d) for i in [0, d/2); outer product with positions
    raise NotImplementedError('inverse frequencies theta^(-2i/d) for i in [0, d/2); outer product with positions')


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate x [num_tokens, num_heads, head_dim] NeoX-style: feature i pairs with feature i + head_dim/2."""
    # TODO: split the last dim in halves x1, x2; return cat(x1*cos - x2*sin, x2*cos + x1*sin)
    raise NotImplementedError('split the last dim in halves x1, x2; return cat(x1*cos - x2*sin, x2*cos + x1*sin)')


def causal_gqa_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Causal attention of one sequence. q [T, H, D], k/v [T, Hkv, D]; returns [T, H, D].

    Grouped-query attention: query head h reads KV head h // (H // Hkv).
    """
    # TODO: repeat KV heads H//Hkv times, scores = q k^T / sqrt(D), mask j > i with -inf, softmax, times v
    raise NotImplementedError('repeat KV heads H//Hkv times, scores = q k^T / sqrt(D), mask j > i with -inf, softmax, times v')


def silu_and_mul(gate_up: torch.Tensor) -> torch.Tensor:
    """SwiGLU: the first half goes through SiLU and gates the second half."""
    # TODO: d = last dim // 2; silu(x[..., :d]) * x[..., d:]
    raise NotImplementedError('d = last dim // 2; silu(x[..., :d]) * x[..., d:]')


def decoder_layer(cfg: TinyLlamaConfig, w: dict[str, torch.Tensor], i: int,
                  h: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """One pre-norm block: h + attn(norm(h)), then + mlp(norm(.)). `w` uses Hugging Face weight names."""
    p = f"model.layers.{i}."
    # TODO: norm -> q/k/v projections -> RoPE on q,k -> attention -> o_proj -> residual; norm -> gate/up -> SwiGLU -> down -> residual
    raise NotImplementedError('norm -> q/k/v projections -> RoPE on q,k -> attention -> o_proj -> residual; norm -> gate/up -> SwiGLU -> down -> residual')


def llama_forward(cfg: TinyLlamaConfig, w: dict[str, torch.Tensor], input_ids: torch.Tensor) -> torch.Tensor:
    """Logits [num_tokens, vocab] for one prompt: embed, every layer, final norm, LM head."""
    positions = torch.arange(input_ids.shape[0])
    # TODO: embedding lookup, loop over layers, final RMSNorm, multiply by lm_head.weight^T
    raise NotImplementedError('embedding lookup, loop over layers, final RMSNorm, multiply by lm_head.weight^T')
