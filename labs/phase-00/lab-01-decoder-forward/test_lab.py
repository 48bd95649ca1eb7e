"""Grades lab 00-01 against Hugging Face's Llama and vLLM's own RoPE and SwiGLU code."""
from __future__ import annotations

import pytest
import torch

CFG = dict(vocab_size=97, hidden_size=64, intermediate_size=160, num_layers=2, num_heads=4, num_kv_heads=2)


@pytest.fixture(scope="module")
def hf_model():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=CFG["vocab_size"], hidden_size=CFG["hidden_size"],
                         intermediate_size=CFG["intermediate_size"], num_hidden_layers=CFG["num_layers"],
                         num_attention_heads=CFG["num_heads"], num_key_value_heads=CFG["num_kv_heads"],
                         max_position_embeddings=128, tie_word_embeddings=False, attn_implementation="eager")
    model = LlamaForCausalLM(config).eval()
    # Random-init norms are all ones; perturb them so a missing weight multiply is caught.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(0.1 * torch.randn_like(p))
    return model


def test_rms_norm_matches_definition(impl):
    x, w = torch.randn(5, 64), torch.randn(64)
    want = x / torch.sqrt((x * x).mean(-1, keepdim=True) + 1e-6) * w
    torch.testing.assert_close(impl.rms_norm(x, w, 1e-6), want, rtol=1e-5, atol=1e-5)


def test_rope_matches_vllm_rotary_embedding(impl):
    """Our cos/sin + rotation equals vLLM's own RotaryEmbedding.forward_static (NeoX style)."""
    from vllm.config import DeviceConfig, VllmConfig, set_current_vllm_config
    from vllm.model_executor.layers.rotary_embedding.base import RotaryEmbedding

    head_dim, heads, positions = 16, 3, torch.tensor([0, 1, 2, 7, 31, 63])
    with set_current_vllm_config(VllmConfig(device_config=DeviceConfig("cpu"))):
        rope = RotaryEmbedding(head_dim, head_dim, 64, 10000.0, True, torch.float32)
    q, k = torch.randn(len(positions), heads * head_dim), torch.randn(len(positions), heads * head_dim)
    want_q, want_k = RotaryEmbedding.forward_static(positions, q, k, head_dim, head_dim, rope.cos_sin_cache, True)
    cos, sin = impl.rope_cos_sin(positions, head_dim, 10000.0)
    got_q = impl.apply_rope(q.view(-1, heads, head_dim), cos, sin).reshape(q.shape)
    got_k = impl.apply_rope(k.view(-1, heads, head_dim), cos, sin).reshape(k.shape)
    torch.testing.assert_close(got_q, want_q, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got_k, want_k, rtol=1e-5, atol=1e-5)


def test_silu_and_mul_matches_vllm(impl):
    from vllm.model_executor.layers.activation import SiluAndMul

    x = torch.randn(7, 2 * 40)
    torch.testing.assert_close(impl.silu_and_mul(x), SiluAndMul.forward_native(x))


def test_attention_is_causal_and_grouped(impl):
    torch.manual_seed(1)
    q, k, v = torch.randn(6, 4, 8), torch.randn(6, 2, 8), torch.randn(6, 2, 8)
    out = impl.causal_gqa_attention(q, k, v)
    assert out.shape == (6, 4, 8)
    # Token 0 can only see itself: its output is exactly its own value vector, per KV group.
    torch.testing.assert_close(out[0, 0], v[0, 0])
    torch.testing.assert_close(out[0, 3], v[0, 1])
    # Changing a future token must not change earlier outputs.
    k2, v2 = k.clone(), v.clone()
    k2[5], v2[5] = 10.0, -10.0
    torch.testing.assert_close(impl.causal_gqa_attention(q, k2, v2)[:5], out[:5])


def test_full_forward_matches_hugging_face(impl, hf_model):
    cfg = impl.TinyLlamaConfig(**CFG)
    weights = {k: v.detach() for k, v in hf_model.state_dict().items()}
    ids = torch.tensor([3, 14, 15, 92, 65, 35, 89, 79, 32, 38])
    with torch.no_grad():
        want = hf_model(ids[None]).logits[0]
        got = impl.llama_forward(cfg, weights, ids)
    torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)
