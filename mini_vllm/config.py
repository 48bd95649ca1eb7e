"""Engine and model configuration: two slots dataclasses, checked once at construction.

Upstream: {anchor}`vllm/config/scheduler.py::SchedulerConfig`, {anchor}`vllm/config/cache.py::CacheConfig`.
vLLM spreads these knobs over a dozen config classes; mini_vllm keeps the handful a CPU engine needs
in one place so a learner can see every lever on one screen.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path


@dataclass(slots=True)
class ModelConfig:
    """The Llama architecture numbers, read from a Hugging Face `config.json`."""

    vocab_size: int
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    head_dim: int
    max_position_embeddings: int
    rms_norm_eps: float = 1e-6
    rope_theta: float = 10000.0
    tie_word_embeddings: bool = False
    eos_token_id: int | None = None
    bos_token_id: int | None = None

    @classmethod
    def from_pretrained(cls, model_dir: str | Path) -> "ModelConfig":
        """Read `model_dir/config.json`; a missing key or a non-Llama model is a clear error."""
        path = Path(model_dir) / "config.json"
        if not path.is_file():
            raise FileNotFoundError(
                f"{path}: no config.json; create a model with mini_vllm.tiny.create_tiny_model(dir)"
            )
        raw = json.loads(path.read_text())
        if raw.get("model_type", "llama") != "llama":
            raise ValueError(f"{path}: model_type {raw.get('model_type')!r} is not 'llama'; "
                             "mini_vllm only implements the Llama architecture")
        # transformers 5 moved rope_theta into rope_parameters; accept both spellings.
        rope = raw.get("rope_parameters") or {}
        rope_theta = rope.get("rope_theta", raw.get("rope_theta", 10000.0))
        if rope.get("rope_type", "default") != "default" or raw.get("rope_scaling"):
            raise ValueError(f"{path}: only plain RoPE is supported (rope_type 'default')")
        heads = raw["num_attention_heads"]
        eos = raw.get("eos_token_id")
        if isinstance(eos, list):  # some checkpoints list several; the first is the canonical one
            eos = eos[0]
        try:
            return cls(
                vocab_size=raw["vocab_size"],
                hidden_size=raw["hidden_size"],
                intermediate_size=raw["intermediate_size"],
                num_hidden_layers=raw["num_hidden_layers"],
                num_attention_heads=heads,
                num_key_value_heads=raw.get("num_key_value_heads", heads),
                head_dim=raw.get("head_dim") or raw["hidden_size"] // heads,
                max_position_embeddings=raw.get("max_position_embeddings", 2048),
                rms_norm_eps=raw.get("rms_norm_eps", 1e-6),
                rope_theta=float(rope_theta),
                tie_word_embeddings=raw.get("tie_word_embeddings", False),
                eos_token_id=eos,
                bos_token_id=raw.get("bos_token_id"),
            )
        except KeyError as e:
            raise ValueError(f"{path}: missing required key {e}; add it to config.json") from None


@dataclass(slots=True)
class EngineConfig:
    """Every scheduling and memory knob of the engine.

    `num_kv_blocks` plays the role of vLLM's profiled GPU block count: on a CPU we simply say how
    many blocks of `block_size` token slots to reserve per layer.
    """

    model: str
    block_size: int = 16
    num_kv_blocks: int = 1024
    max_num_seqs: int = 64
    max_num_batched_tokens: int = 512
    max_model_len: int | None = None
    enable_chunked_prefill: bool = True
    enable_prefix_caching: bool = True
    long_prefill_token_threshold: int = 0
    num_speculative_tokens: int = 0
    prompt_lookup_min: int = 1
    prompt_lookup_max: int = 3
    max_loras: int = 4
    max_lora_rank: int = 16
    seed: int = 0
    num_threads: int | None = None

    def __post_init__(self) -> None:
        assert self.block_size >= 1, "block_size must be positive"
        assert self.num_kv_blocks >= 1, "num_kv_blocks must be positive"
        assert self.max_num_seqs >= 1 and self.max_num_batched_tokens >= 1
        assert self.num_speculative_tokens >= 0
        assert 1 <= self.prompt_lookup_min <= self.prompt_lookup_max
        if not self.enable_chunked_prefill and self.max_model_len is not None:
            # Without chunking a whole prompt must fit in one step's token budget.
            assert self.max_num_batched_tokens >= self.max_model_len, (
                "without chunked prefill, max_num_batched_tokens must be >= max_model_len"
            )

    @classmethod
    def from_kwargs(cls, model: str, **kwargs) -> "EngineConfig":
        """Build from keyword arguments, rejecting unknown ones with the list of valid names."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(kwargs) - names)
        if unknown:
            raise TypeError(f"unknown engine argument(s) {unknown}; valid: {sorted(names - {'model'})}")
        return cls(model=model, **kwargs)
