"""One request's state as it moves through the engine.

Upstream: {anchor}`vllm/v1/request.py::Request`, {anchor}`vllm/v1/request.py::RequestStatus`.
The lifecycle is vLLM's: WAITING -> RUNNING -> (PREEMPTED -> WAITING -> RUNNING)* -> FINISHED_*.
A request carries its own block hashes, extended as tokens arrive, so prefix-cache lookups never
rehash a prompt.
"""

from __future__ import annotations

import enum
from typing import Callable

import torch

from mini_vllm.sampling_params import SamplingParams


class RequestStatus(enum.IntEnum):
    """Where a request is; every status after PREEMPTED is terminal."""

    WAITING = enum.auto()
    RUNNING = enum.auto()
    PREEMPTED = enum.auto()
    FINISHED_STOPPED = enum.auto()
    FINISHED_LENGTH_CAPPED = enum.auto()
    FINISHED_ABORTED = enum.auto()

    @staticmethod
    def is_finished(status: "RequestStatus") -> bool:
        return status > RequestStatus.PREEMPTED

    @staticmethod
    def get_finished_reason(status: "RequestStatus") -> str | None:
        return {RequestStatus.FINISHED_STOPPED: "stop",
                RequestStatus.FINISHED_LENGTH_CAPPED: "length",
                RequestStatus.FINISHED_ABORTED: "abort"}.get(status)


class Request:
    """Token ids, progress counters and per-request helpers (generator, grammar, LoRA)."""

    def __init__(
        self,
        request_id: str,
        prompt_token_ids: list[int],
        sampling_params: SamplingParams,
        eos_token_id: int | None,
        arrival_time: float = 0.0,
        lora_request=None,
        block_hasher: Callable[["Request"], list] | None = None,
    ) -> None:
        if not prompt_token_ids:
            raise ValueError(f"request {request_id}: the prompt is empty; give at least one token")
        self.request_id = request_id
        self.sampling_params = sampling_params
        self.eos_token_id = eos_token_id
        self.arrival_time = arrival_time
        self.lora_request = lora_request
        self.status = RequestStatus.WAITING
        self.stop_reason: int | str | None = None
        self.prompt_token_ids = list(prompt_token_ids)
        self.num_prompt_tokens = len(prompt_token_ids)
        self._output_token_ids: list[int] = []
        self._all_token_ids: list[int] = list(prompt_token_ids)
        # Draft tokens proposed by speculative decoding, verified in the next step.
        self.spec_token_ids: list[int] = []
        # Tokens whose KV is in the cache. The scheduler may count a prefix-cache hit here.
        self.num_computed_tokens = 0
        # Of those, how many came from the prefix cache at (re)admission: for statistics.
        self.num_cached_tokens = -1
        self.num_preemptions = 0
        self.max_tokens = sampling_params.max_tokens
        # Per-token sample log-probabilities (when SamplingParams.logprobs is set).
        self.logprobs: list[dict[int, float]] = []
        # Seeded requests own a torch.Generator so their samples do not depend on batch neighbours.
        self.generator: torch.Generator | None = None
        if sampling_params.seed is not None:
            self.generator = torch.Generator().manual_seed(sampling_params.seed)
        # Set by the engine when SamplingParams.structured_outputs is given.
        self.grammar = None
        self._block_hasher = block_hasher
        self.block_hashes: list = []
        self.update_block_hashes()

    # --- token bookkeeping -------------------------------------------------------------------
    @property
    def output_token_ids(self) -> list[int]:
        return self._output_token_ids

    @property
    def all_token_ids(self) -> list[int]:
        return self._all_token_ids

    @property
    def num_tokens(self) -> int:
        return len(self._all_token_ids)

    @property
    def num_output_tokens(self) -> int:
        return len(self._output_token_ids)

    @property
    def num_tokens_with_spec(self) -> int:
        return len(self._all_token_ids) + len(self.spec_token_ids)

    def append_output_token_ids(self, token_ids: int | list[int]) -> None:
        """Record newly generated token(s); a block that just filled up gets its hash."""
        new = [token_ids] if isinstance(token_ids, int) else list(token_ids)
        self._all_token_ids += new
        self._output_token_ids += new
        self.update_block_hashes()

    def update_block_hashes(self) -> None:
        """Prefix caching looks blocks up by hash, so hash each block as soon as it is full."""
        if self._block_hasher is None:
            return
        self.block_hashes += self._block_hasher(self)

    def is_finished(self) -> bool:
        return RequestStatus.is_finished(self.status)

    def get_finished_reason(self) -> str | None:
        return RequestStatus.get_finished_reason(self.status)

    def __repr__(self) -> str:
        return (f"Request({self.request_id!r}, {self.status.name}, tokens={self.num_tokens}, "
                f"computed={self.num_computed_tokens})")
