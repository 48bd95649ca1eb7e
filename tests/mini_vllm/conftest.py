"""Tiny random models shared by the mini_vllm tests (created once per session, nothing downloaded)."""

from __future__ import annotations

import math

import pytest
import torch

from mini_vllm.tiny import create_tiny_lora, create_tiny_model

# One torch thread: on a shared 2-core machine a second thread waiting for a busy core makes the
# tiny matmuls of these tests several times slower (see benchmarks/mini_vllm/RESULTS.md).
torch.set_num_threads(1)

# name -> create_tiny_model overrides. Together they cover GQA, MHA with tied embeddings and MQA.
MODEL_CONFIGS = {
    "gqa": dict(num_attention_heads=4, num_key_value_heads=2, seed=1),
    "mha_tied": dict(num_attention_heads=4, num_key_value_heads=4, tie_word_embeddings=True, seed=2),
    "mqa_3layer": dict(hidden_size=96, num_attention_heads=6, num_key_value_heads=1,
                       num_hidden_layers=3, seed=3),
}


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("tiny_models")
    return {name: str(create_tiny_model(root / name, **cfg)) for name, cfg in MODEL_CONFIGS.items()}


@pytest.fixture(scope="session")
def tiny_model(tiny_models) -> str:
    return tiny_models["gqa"]


@pytest.fixture(scope="session")
def tiny_loras(tiny_model, tmp_path_factory) -> list[str]:
    root = tmp_path_factory.mktemp("tiny_loras")
    return [str(create_tiny_lora(tiny_model, root / f"lora{i}", rank=r, seed=10 + i,
                                 targets=t))
            for i, (r, t) in enumerate([(8, ("q_proj", "v_proj", "down_proj")),
                                        (4, ("k_proj", "o_proj", "gate_proj", "up_proj")),
                                        (2, ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                             "up_proj", "down_proj"))])]


def chi_square_p_value(counts: torch.Tensor, probs: torch.Tensor) -> float:
    """Pearson chi-square goodness of fit (p-value via the Wilson-Hilferty normal approximation)."""
    n = counts.sum()
    keep = probs > 0
    expected = probs[keep] * n
    stat = float(((counts[keep] - expected) ** 2 / expected).sum())
    dof = int(keep.sum()) - 1
    z = ((stat / dof) ** (1 / 3) - (1 - 2 / (9 * dof))) / math.sqrt(2 / (9 * dof))
    return 0.5 * math.erfc(z / math.sqrt(2))


@pytest.fixture(scope="session")
def chi_square():
    """The chi-square goodness-of-fit p-value function, as a fixture (test files don't import each other)."""
    return chi_square_p_value
