"""The offline entry point: `LLM(model_dir).generate(prompts, SamplingParams(...))`.

Upstream: {anchor}`vllm/entrypoints/llm.py::LLM`, {anchor}`vllm/entrypoints/llm.py::LLM.generate`.
"""

from __future__ import annotations

from typing import Sequence

from rich.progress import Progress

from mini_vllm.engine import LLMEngine
from mini_vllm.lora import LoRARequest
from mini_vllm.outputs import RequestOutput
from mini_vllm.sampling_params import SamplingParams


class LLM:
    """Thin wrapper: queue every prompt, step the engine until all finish, return in input order."""

    def __init__(self, model: str, **engine_kwargs) -> None:
        self.llm_engine = LLMEngine.from_engine_args(str(model), **engine_kwargs)

    def get_tokenizer(self):
        return self.llm_engine.tokenizer

    def generate(self, prompts: str | Sequence[str] | Sequence[list[int]],
                 sampling_params: SamplingParams | Sequence[SamplingParams] | None = None,
                 lora_request: LoRARequest | Sequence[LoRARequest | None] | None = None,
                 use_tqdm: bool = False) -> list[RequestOutput]:
        """Generate for each prompt (text or token ids); one params/adapter for all, or one each."""
        if isinstance(prompts, str) or (prompts and isinstance(prompts[0], int)):
            prompts = [prompts]
        n = len(prompts)
        params = sampling_params or SamplingParams()
        params = list(params) if isinstance(params, (list, tuple)) else [params] * n
        loras = list(lora_request) if isinstance(lora_request, (list, tuple)) else [lora_request] * n
        if len(params) != n or len(loras) != n:
            raise ValueError(f"got {n} prompts but {len(params)} sampling params and {len(loras)} "
                             "LoRA requests; pass one for all or exactly one per prompt")
        engine = self.llm_engine
        ids = [engine.add_request(None, p, sp, lr) for p, sp, lr in zip(prompts, params, loras)]
        results: dict[str, RequestOutput] = {}
        with Progress(disable=not use_tqdm, transient=True) as progress:
            task = progress.add_task("generating", total=n)
            while engine.has_unfinished_requests():
                for out in engine.step():
                    results[out.request_id] = out
                    progress.advance(task)
        return [results[i] for i in ids]
