"""A Llama-style decoder that reads Hugging Face config.json + safetensors and attends through paged KV.

Upstream: {anchor}`vllm/model_executor/models/llama.py::LlamaForCausalLM`,
{anchor}`vllm/model_executor/models/llama.py::LlamaAttention`,
{anchor}`vllm/model_executor/models/llama.py::LlamaMLP`,
{anchor}`vllm/model_executor/models/llama.py::LlamaDecoderLayer`.

The forward pass takes a *flat* batch: all scheduled tokens of all requests concatenated, with their
positions. There is no batch dimension and no padding; `AttentionMetadata` says which tokens belong
together. Parameter names match Hugging Face's so weights load by name.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file

from mini_vllm.attention import AttentionMetadata, paged_attention
from mini_vllm.config import ModelConfig
from mini_vllm.lora import LinearWithLoRA, LoRAMapping


class RMSNorm(nn.Module):
    """x / rms(x) * weight, computed in float32 like the reference implementation."""

    def __init__(self, size: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size), requires_grad=False)
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


class RotaryEmbedding(nn.Module):
    """Rotate-half RoPE with a precomputed cos/sin table indexed by absolute position."""

    def __init__(self, head_dim: int, max_position: int, theta: float) -> None:
        super().__init__()
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
        freqs = torch.arange(max_position).float()[:, None] * inv_freq[None, :]
        emb = torch.cat([freqs, freqs], dim=-1)
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)

    @staticmethod
    def _rotate_half(x: torch.Tensor) -> torch.Tensor:
        half = x.shape[-1] // 2
        return torch.cat([-x[..., half:], x[..., :half]], dim=-1)

    def cos_sin(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Table rows for this step's positions, [T, 1, D]: looked up once, shared by all layers."""
        return self.cos[positions][:, None, :], self.sin[positions][:, None, :]

    @staticmethod
    def rotate(cos_sin: tuple[torch.Tensor, torch.Tensor], q: torch.Tensor, k: torch.Tensor):
        # q, k: [T, heads, D]; one position per token, broadcast over heads.
        cos, sin = cos_sin
        rot = RotaryEmbedding._rotate_half
        return q * cos + rot(q) * sin, k * cos + rot(k) * sin

    def forward(self, positions: torch.Tensor, q: torch.Tensor, k: torch.Tensor):
        return self.rotate(self.cos_sin(positions), q, k)


class LlamaAttention(nn.Module):
    def __init__(self, cfg: ModelConfig, max_loras: int, max_rank: int) -> None:
        super().__init__()
        h, d = cfg.hidden_size, cfg.head_dim
        self.num_heads, self.num_kv_heads, self.head_dim = cfg.num_attention_heads, cfg.num_key_value_heads, d
        self.q_proj = LinearWithLoRA(h, self.num_heads * d, max_loras, max_rank)
        self.k_proj = LinearWithLoRA(h, self.num_kv_heads * d, max_loras, max_rank)
        self.v_proj = LinearWithLoRA(h, self.num_kv_heads * d, max_loras, max_rank)
        self.o_proj = LinearWithLoRA(self.num_heads * d, h, max_loras, max_rank)
        self.scale = d ** -0.5

    def forward(self, x, cos_sin, kv_cache, meta: AttentionMetadata, lora: LoRAMapping | None):
        t = x.shape[0]
        q = self.q_proj(x, lora).view(t, self.num_heads, self.head_dim)
        k = self.k_proj(x, lora).view(t, self.num_kv_heads, self.head_dim)
        v = self.v_proj(x, lora).view(t, self.num_kv_heads, self.head_dim)
        q, k = RotaryEmbedding.rotate(cos_sin, q, k)
        o = paged_attention(q, k, v, kv_cache, meta, self.scale)
        return self.o_proj(o.reshape(t, -1), lora)


class LlamaMLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x))."""

    def __init__(self, cfg: ModelConfig, max_loras: int, max_rank: int) -> None:
        super().__init__()
        h, i = cfg.hidden_size, cfg.intermediate_size
        self.gate_proj = LinearWithLoRA(h, i, max_loras, max_rank)
        self.up_proj = LinearWithLoRA(h, i, max_loras, max_rank)
        self.down_proj = LinearWithLoRA(i, h, max_loras, max_rank)

    def forward(self, x, lora: LoRAMapping | None):
        return self.down_proj(F.silu(self.gate_proj(x, lora)) * self.up_proj(x, lora), lora)


class LlamaDecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig, max_loras: int, max_rank: int) -> None:
        super().__init__()
        self.self_attn = LlamaAttention(cfg, max_loras, max_rank)
        self.mlp = LlamaMLP(cfg, max_loras, max_rank)
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)

    def forward(self, x, cos_sin, kv_cache, meta, lora):
        x = x + self.self_attn(self.input_layernorm(x), cos_sin, kv_cache, meta, lora)
        return x + self.mlp(self.post_attention_layernorm(x), lora)


class LlamaModel(nn.Module):
    def __init__(self, cfg: ModelConfig, max_loras: int, max_rank: int) -> None:
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.embed_tokens.weight.requires_grad_(False)
        self.layers = nn.ModuleList(LlamaDecoderLayer(cfg, max_loras, max_rank)
                                    for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.rotary_emb = RotaryEmbedding(cfg.head_dim, cfg.max_position_embeddings, cfg.rope_theta)


class LlamaForCausalLM(nn.Module):
    """Token ids + positions + paged KV in, final hidden states out; `compute_logits` does the head."""

    def __init__(self, cfg: ModelConfig, max_loras: int = 1, max_lora_rank: int = 1) -> None:
        super().__init__()
        self.config = cfg
        self.model = LlamaModel(cfg, max_loras, max_lora_rank)
        self.lm_head = nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)
        self.lm_head.weight.requires_grad_(False)

    @torch.inference_mode()
    def forward(self, input_ids: torch.Tensor, positions: torch.Tensor, kv_caches: list[torch.Tensor],
                meta: AttentionMetadata, lora: LoRAMapping | None = None) -> torch.Tensor:
        x = self.model.embed_tokens(input_ids)
        cos_sin = self.model.rotary_emb.cos_sin(positions)
        for layer, kv_cache in zip(self.model.layers, kv_caches):
            x = layer(x, cos_sin, kv_cache, meta, lora)
        return self.model.norm(x)

    @torch.inference_mode()
    def compute_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.lm_head(hidden)

    def load_weights(self, model_dir: str | Path) -> None:
        """Load every `*.safetensors` file in `model_dir`; missing or unexpected names are errors."""
        files = sorted(Path(model_dir).glob("*.safetensors"))
        if not files:
            raise FileNotFoundError(f"{model_dir}: no *.safetensors weights found")
        state: dict[str, torch.Tensor] = {}
        for f in files:
            state.update(load_file(str(f)))
        if self.config.tie_word_embeddings:
            state.setdefault("lm_head.weight", state["model.embed_tokens.weight"])
        own = {k for k, _ in self.named_parameters()}
        missing, unexpected = own - state.keys(), state.keys() - own
        if missing or unexpected:
            raise ValueError(f"{model_dir}: weights do not match the config: missing "
                             f"{sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}")
        params = dict(self.named_parameters())
        with torch.no_grad():
            for name, tensor in state.items():
                if params[name].shape != tensor.shape:
                    raise ValueError(f"{model_dir}: {name} has shape {tuple(tensor.shape)}, "
                                     f"expected {tuple(params[name].shape)}")
                params[name].copy_(tensor.float())
