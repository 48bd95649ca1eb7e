"""What `LLM.generate` returns: one `RequestOutput` per prompt with n `CompletionOutput`s.

Upstream: {anchor}`vllm/outputs.py::RequestOutput`, {anchor}`vllm/outputs.py::CompletionOutput`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CompletionOutput:
    """One sampled continuation."""

    index: int
    text: str
    token_ids: list[int]
    cumulative_logprob: float | None
    logprobs: list[dict[int, float]] | None
    finish_reason: str | None = None
    stop_reason: int | str | None = None


@dataclass
class RequestOutput:
    """All continuations of one prompt, plus how much of the prompt came from the prefix cache."""

    request_id: str
    prompt: str | None
    prompt_token_ids: list[int]
    outputs: list[CompletionOutput] = field(default_factory=list)
    finished: bool = True
    num_cached_tokens: int = 0
