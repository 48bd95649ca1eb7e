"""What a user asks the sampler to do for one prompt.

Upstream: {anchor}`vllm/sampling_params.py::SamplingParams`,
{anchor}`vllm/sampling_params.py::StructuredOutputsParams`.
Same field names and defaults as vLLM for the subset mini_vllm implements, so lab code written
against mini_vllm reads like vLLM code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class SamplingType(Enum):
    GREEDY = 0
    RANDOM = 1
    RANDOM_SEED = 2


@dataclass
class StructuredOutputsParams:
    """Exactly one constraint: a JSON schema (dict or JSON text) or a regular expression."""

    json: dict | str | None = None
    regex: str | None = None

    def __post_init__(self) -> None:
        if (self.json is None) == (self.regex is None):
            raise ValueError("StructuredOutputsParams: give exactly one of json= or regex=")


@dataclass
class SamplingParams:
    """Sampling controls for one prompt (see vLLM's docs for each field's meaning)."""

    n: int = 1
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    repetition_penalty: float = 1.0
    temperature: float = 1.0
    top_p: float = 1.0
    top_k: int = 0
    min_p: float = 0.0
    seed: int | None = None
    stop: list[str] | str | None = None
    stop_token_ids: list[int] = field(default_factory=list)
    ignore_eos: bool = False
    max_tokens: int | None = 16
    min_tokens: int = 0
    logprobs: int | None = None
    include_stop_str_in_output: bool = False
    structured_outputs: StructuredOutputsParams | None = None

    def __post_init__(self) -> None:
        if isinstance(self.stop, str):
            self.stop = [self.stop]
        self.stop = list(self.stop or [])
        if self.n < 1:
            raise ValueError(f"n must be at least 1, got {self.n}")
        if self.temperature < 0.0:
            raise ValueError(f"temperature must be non-negative, got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be 0 (disabled) or positive, got {self.top_k}")
        if not 0.0 <= self.min_p <= 1.0:
            raise ValueError(f"min_p must be in [0, 1], got {self.min_p}")
        if not -2.0 <= self.presence_penalty <= 2.0 or not -2.0 <= self.frequency_penalty <= 2.0:
            raise ValueError("presence_penalty and frequency_penalty must be in [-2, 2]")
        if self.repetition_penalty <= 0.0:
            raise ValueError(f"repetition_penalty must be positive, got {self.repetition_penalty}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"max_tokens must be at least 1, got {self.max_tokens}")
        if self.logprobs is not None and self.logprobs < 0:
            raise ValueError(f"logprobs must be non-negative, got {self.logprobs}")
        if self.temperature < 1e-5:
            # Greedy: vLLM resets the random-only knobs so that they cannot change the argmax.
            self.top_p, self.top_k, self.min_p = 1.0, 0, 0.0

    @property
    def sampling_type(self) -> SamplingType:
        if self.temperature < 1e-5:
            return SamplingType.GREEDY
        return SamplingType.RANDOM_SEED if self.seed is not None else SamplingType.RANDOM
