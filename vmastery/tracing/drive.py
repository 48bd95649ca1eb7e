"""The traced workload: one request mix served through vLLM's `LLMEngine`, on CPU or on a GPU.

Run as `python -m vmastery.tracing.drive OUT MODE [JSON]` by `vmastery trace`, in a child process so
the vLLM plugin sees the tracing environment from vLLM's first import.

- CPU mode: real vLLM v1 (EngineCore in its own process, Scheduler, KV-cache manager) driving the
  SIMULATED executor of `simulated.py`: no model runs.
- GPU mode: real vLLM end to end (UniProcExecutor, GPU worker, model runner, sampler) on a model
  directory or id; `load_format=dummy` gives random weights when none can be downloaded.

The request mix makes the scheduler show its three behaviours: a shared system prompt (prefix-cache
hits), prompts longer than the token budget (chunked prefill), and a KV cache too small for every
running request at once (preemption). Requests arrive over several steps, as on a server. Sampling
is greedy, so a traced and an untraced run must produce the same tokens.
"""
from __future__ import annotations

import json
import os
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..files import write_atomic
from .simulated import LABEL

BLOCK = 16


@dataclass(frozen=True)
class Workload:
    """The CPU-mode request mix and engine limits; small enough to run in seconds."""

    seed: int = 0
    requests: int = 16
    system_prompt: int = 96  # tokens shared by the chat-like requests: 6 full blocks to reuse
    max_tokens: int = 48
    long_prompt: int = 640  # > budget: prefilled in chunks (plus up to 200 more tokens)
    budget: int = 256  # max_num_batched_tokens
    max_num_seqs: int = 8
    kv_blocks: int = 96  # 1536 token slots for 8 running requests: someone gets preempted
    arrive_every: int = 2  # a new request every this many steps


def build_requests(w: Workload) -> list[tuple[int, str, list[int], int]]:
    """(arrival step, request id, prompt token ids, max tokens): deterministic for a seed."""
    rng = random.Random(w.seed)
    system = [rng.randrange(1000, 8000) for _ in range(w.system_prompt)]
    out = []
    for i in range(w.requests):
        if i % 5 == 3:  # a document to summarise: long, unshared
            prompt = [rng.randrange(1000, 8000) for _ in range(w.long_prompt + rng.randrange(0, 200))]
            kind = "long"
        else:  # chat turn: the system prompt, then a short user message
            prompt = system + [rng.randrange(1000, 8000) for _ in range(rng.randrange(8, 120))]
            kind = "chat"
        out.append((i * w.arrive_every, f"{kind}-{i}", prompt, w.max_tokens + rng.randrange(0, 32)))
    return out


def model_dir(path: Path) -> Path:
    """A local Llama-shaped config; only its shape (heads, vocab, length) reaches the scheduler."""
    from transformers import LlamaConfig

    if not (path / "config.json").exists():
        LlamaConfig(hidden_size=256, intermediate_size=512, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, vocab_size=8192, max_position_embeddings=4096,
                    ).save_pretrained(path)
    return path


def cpu_engine_args(out: Path, w: Workload):
    """EngineArgs for CPU mode: the simulated executor, a local config, a deliberately small KV cache."""
    import torch
    from vllm import EngineArgs
    from vllm.platforms import current_platform

    from .simulated import SimulatedExecutor

    # vLLM built without kernels has no device type; the simulated executor needs none, but the
    # config code asks for one, and shutdown empties an accelerator cache that is not there.
    if not current_platform.device_type:
        current_platform.device_type = "cpu"
    if not torch.accelerator.is_available():
        torch.accelerator.empty_cache = lambda: None
    print(f"[vmastery trace] CPU mode - {LABEL}; EngineCore, Scheduler and KV cache are vLLM's own.",
          flush=True)
    return EngineArgs(model=str(model_dir(out / "model")), skip_tokenizer_init=True,
                      distributed_executor_backend=SimulatedExecutor, max_model_len=1024,
                      max_num_seqs=w.max_num_seqs, max_num_batched_tokens=w.budget,
                      enable_prefix_caching=True, block_size=BLOCK, num_gpu_blocks_override=w.kv_blocks,
                      dtype="float16", enforce_eager=True, disable_log_stats=False, seed=w.seed)


def gpu_engine_args(out: Path, w: Workload, model: str, load_format: str, eager: bool):
    """EngineArgs for GPU mode: the real executor and worker; the same scheduler limits as CPU mode."""
    from vllm import EngineArgs

    print(f"[vmastery trace] GPU mode - real vLLM on {model} (load_format={load_format})", flush=True)
    return EngineArgs(model=model, load_format=load_format, max_model_len=1024,
                      max_num_seqs=w.max_num_seqs, max_num_batched_tokens=w.budget,
                      enable_prefix_caching=True, block_size=BLOCK, num_gpu_blocks_override=w.kv_blocks,
                      enforce_eager=eager, disable_log_stats=False, seed=w.seed, dtype="bfloat16",
                      gpu_memory_utilization=0.5)


def run(out: Path, w: Workload, engine_args, mode: str) -> dict:
    """Serve the mix through LLMEngine (EngineCore in its own process); write tokens.json, run.json."""
    from vllm import SamplingParams
    from vllm.v1.engine.llm_engine import LLMEngine

    engine = LLMEngine.from_engine_args(engine_args)
    pending = build_requests(w)
    tokens: dict[str, list[int]] = {}
    steps = 0
    t0 = time.perf_counter()
    while pending or engine.has_unfinished_requests():
        while pending and pending[0][0] <= steps:
            _, rid, prompt, max_tokens = pending.pop(0)
            params = SamplingParams(max_tokens=max_tokens, temperature=0.0, ignore_eos=True)
            engine.add_request(rid, {"prompt_token_ids": prompt}, params)
        for output in engine.step():
            if output.finished:
                tokens[output.request_id] = list(output.outputs[0].token_ids)
        steps += 1
    elapsed = time.perf_counter() - t0
    engine.engine_core.shutdown()
    run_info = {"mode": mode, "label": LABEL if mode == "cpu" else "real model executor", "workload": asdict(w), "frontend_steps": steps,
                "generated_tokens": sum(map(len, tokens.values())), "requests": len(tokens),
                "elapsed_s": round(elapsed, 3), "traced": bool(os.environ.get("VMASTERY_TRACE"))}
    _write_json(out / "tokens.json", tokens)
    _write_json(out / "run.json", run_info)
    return run_info


def _write_json(path: Path, data) -> None:
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True))


def main(argv: list[str]) -> None:
    out, mode = Path(argv[0]), argv[1]
    options = json.loads(argv[2]) if len(argv) > 2 else {}
    w = Workload(**options.pop("workload", {}))
    if mode == "cpu":
        engine_args = cpu_engine_args(out, w)
    else:
        engine_args = gpu_engine_args(out, w, options["model"], options.get("load_format", "auto"),
                                      options.get("eager", False))
    print(json.dumps(run(out, w, engine_args, mode)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
