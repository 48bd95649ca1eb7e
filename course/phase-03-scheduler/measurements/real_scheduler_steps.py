"""Drive vLLM 0.22.1's real v1 Scheduler on a CPU and record what it schedules, step by step.

No model runs: after each `Scheduler.schedule()` we hand `Scheduler.update_from_output()` a
`ModelRunnerOutput` that "samples" one fixed token for every request whose prefill is complete
(an empty list for a request still mid-prefill, exactly as the real model runner does). Everything
else — token budget, chunked prefill, prefix-cache hits, KV-block allocation, preemption — is
vLLM's own code, {anchor}`vllm/v1/core/sched/scheduler.py::Scheduler.schedule`.

Run from the repository root:

    python course/phase-03-scheduler/measurements/real_scheduler_steps.py

It rewrites `real_scheduler_steps.txt` (human-readable) and `real_scheduler_steps.json` (raw data)
beside this file, atomically.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
logging.disable(logging.WARNING)

import torch  # noqa: E402
from transformers import LlamaConfig  # noqa: E402
from vllm.config import CacheConfig, DeviceConfig, ModelConfig, SchedulerConfig, VllmConfig  # noqa: E402
from vllm.sampling_params import SamplingParams  # noqa: E402
from vllm.utils.hashing import sha256  # noqa: E402
from vllm.v1.core.kv_cache_utils import get_request_block_hasher, init_none_hash  # noqa: E402
from vllm.v1.core.sched.scheduler import Scheduler  # noqa: E402
from vllm.v1.kv_cache_interface import FullAttentionSpec, KVCacheConfig, KVCacheGroupSpec  # noqa: E402
from vllm.v1.outputs import ModelRunnerOutput  # noqa: E402
from vllm.v1.request import Request  # noqa: E402
from vllm.v1.structured_output import StructuredOutputManager  # noqa: E402

BLOCK = 16
SAMPLED = 7  # the token our fake model "samples"; eos is ignored, so only max_tokens stops a request
HERE = Path(__file__).resolve().parent


@dataclass
class Arrival:
    """One request of a scenario: it is added just before the scheduler step `at`."""
    rid: str
    prompt: list[int]
    max_tokens: int
    at: int = 0
    priority: int = 0


def model_dir() -> str:
    """A local Llama config (no weights, no hub): ModelConfig only needs to read its shape."""
    path = Path(tempfile.mkdtemp(prefix="p03-llama-"))
    LlamaConfig(vocab_size=32000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=4096).save_pretrained(path)
    return str(path)


def build(budget: int, num_blocks: int, *, chunked: bool = True, max_seqs: int = 8, policy: str = "fcfs",
          prefix_caching: bool = True, max_len: int = 1024, threshold: int = 0) -> Scheduler:
    """A real `Scheduler` whose KV pool holds `num_blocks` blocks of BLOCK tokens (one is the null block)."""
    model = ModelConfig(model=MODEL, skip_tokenizer_init=True, dtype="float16", max_model_len=max_len)
    sched = SchedulerConfig(max_num_seqs=max_seqs, max_num_batched_tokens=budget, max_model_len=max_len,
                            enable_chunked_prefill=chunked, is_encoder_decoder=False, policy=policy,
                            long_prefill_token_threshold=threshold)
    cache = CacheConfig(block_size=BLOCK, enable_prefix_caching=prefix_caching)
    config = VllmConfig(model_config=model, scheduler_config=sched, cache_config=cache,
                        device_config=DeviceConfig("cpu"))
    spec = FullAttentionSpec(block_size=BLOCK, num_kv_heads=1, head_size=1, dtype=torch.float32)
    kv = KVCacheConfig(num_blocks=num_blocks, kv_cache_tensors=[],
                       kv_cache_groups=[KVCacheGroupSpec(["layer"], spec)])
    cache.num_gpu_blocks = num_blocks
    return Scheduler(vllm_config=config, kv_cache_config=kv, block_size=BLOCK, log_stats=True,
                     structured_output_manager=StructuredOutputManager(config))


def fake_model_output(scheduler: Scheduler, output) -> ModelRunnerOutput:
    """One sampled token per request that finished its prompt this step; none for a partial prefill."""
    ids = list(output.num_scheduled_tokens)
    sampled = [[] if scheduler.requests[r].is_prefill_chunk else [SAMPLED] for r in ids]
    return ModelRunnerOutput(req_ids=ids, req_id_to_index={r: i for i, r in enumerate(ids)},
                             sampled_token_ids=sampled, logprobs=None, prompt_logprobs_dict={}, pooler_output=[])


def run(name: str, arrivals: list[Arrival], max_steps: int = 200, **config) -> dict:
    """Run one scenario to completion and return every step's schedule as plain data."""
    scheduler = build(**config)
    hasher = get_request_block_hasher(BLOCK, sha256)
    steps, finished = [], {}
    for step in range(max_steps):
        for a in arrivals:
            if a.at == step:
                params = SamplingParams(max_tokens=a.max_tokens, ignore_eos=True)
                scheduler.add_request(Request(a.rid, a.prompt, params, None, priority=a.priority,
                                              arrival_time=float(step) + int(a.rid[1:]) * 1e-3,
                                              block_hasher=hasher))
        if not scheduler.requests and all(a.at <= step for a in arrivals):
            break
        out = scheduler.schedule()
        new = {r.req_id: r.num_computed_tokens for r in out.scheduled_new_reqs}
        resumed = sorted(out.scheduled_cached_reqs.resumed_req_ids)
        steps.append({
            "step": step,
            "scheduled": dict(out.num_scheduled_tokens),
            "total": out.total_num_scheduled_tokens,
            "new_with_cached_tokens": new,
            "resumed": resumed,
            "preempted": sorted(out.preempted_req_ids or ()),
            "kv_usage": round(scheduler.kv_cache_manager.usage, 4),
            "running": [r.request_id for r in scheduler.running],
            "waiting": [r.request_id for r in scheduler.waiting],
        })
        if out.num_scheduled_tokens:
            scheduler.update_from_output(out, fake_model_output(scheduler, out))
        for a in arrivals:  # record completion by watching the request leave the scheduler
            if a.rid not in scheduler.requests and a.at <= step and a.rid not in finished:
                finished[a.rid] = step
    return {"name": name, "config": config, "steps": steps, "finished_at_step": finished,
            "arrivals": [{"rid": a.rid, "prompt_len": len(a.prompt), "max_tokens": a.max_tokens, "at": a.at,
                          "priority": a.priority} for a in arrivals]}


def prompt(seed: int, n: int) -> list[int]:
    """n token ids that share no full block with another seed's prompt."""
    return [100 + seed * 1000 + i for i in range(n)]


def scenarios() -> list[dict]:
    shared = prompt(9, 48)
    return [
        run("A chunked prefill, budget 64",
            [Arrival("r0", prompt(0, 100), 5), Arrival("r1", prompt(1, 40), 5), Arrival("r2", prompt(2, 10), 5)],
            budget=64, num_blocks=64),
        run("B same requests, budget 128, chunked prefill ON",
            [Arrival("r0", prompt(0, 100), 3), Arrival("r1", prompt(1, 40), 3), Arrival("r2", prompt(2, 10), 3)],
            budget=128, num_blocks=64, max_len=128),
        run("C same requests, budget 128, chunked prefill OFF",
            [Arrival("r0", prompt(0, 100), 3), Arrival("r1", prompt(1, 40), 3), Arrival("r2", prompt(2, 10), 3)],
            budget=128, num_blocks=64, max_len=128, chunked=False),
        run("D prefix caching: r1 shares r0's 48-token prefix, r2 repeats r0 exactly",
            [Arrival("r0", shared + prompt(3, 16), 3), Arrival("r1", shared + prompt(4, 20), 3, at=2),
             Arrival("r2", shared + prompt(3, 16), 3, at=2)],
            budget=256, num_blocks=64),
        run("E recompute preemption: 11 usable blocks, three requests growing to 6 blocks each",
            [Arrival("r0", prompt(0, 48), 40), Arrival("r1", prompt(1, 48), 40), Arrival("r2", prompt(2, 48), 40)],
            budget=256, num_blocks=12),
        run("F priority policy: r3 (priority 0) arrives while low-priority r0..r2 hold the pool",
            [Arrival("r0", prompt(0, 48), 30, priority=5), Arrival("r1", prompt(1, 48), 30, priority=5),
             Arrival("r2", prompt(2, 48), 30, priority=5), Arrival("r3", prompt(3, 48), 4, at=3, priority=0)],
            budget=256, num_blocks=12, policy="priority"),
        run("H = E with prefix caching OFF (every resumption recomputes everything)",
            [Arrival("r0", prompt(0, 48), 40), Arrival("r1", prompt(1, 48), 40), Arrival("r2", prompt(2, 48), 40)],
            budget=256, num_blocks=12, prefix_caching=False),
        run("I = F with prefix caching OFF",
            [Arrival("r0", prompt(0, 48), 30, priority=5), Arrival("r1", prompt(1, 48), 30, priority=5),
             Arrival("r2", prompt(2, 48), 30, priority=5), Arrival("r3", prompt(3, 48), 4, at=3, priority=0)],
            budget=256, num_blocks=12, policy="priority", prefix_caching=False),
        run("G long_prefill_token_threshold=32, budget 128",
            [Arrival("r0", prompt(0, 100), 3), Arrival("r1", prompt(1, 40), 3), Arrival("r2", prompt(2, 10), 3)],
            budget=128, num_blocks=64, threshold=32),
    ]


def render(results: list[dict]) -> str:
    lines = [f"# vLLM {__import__('vllm').__version__} real v1 Scheduler on CPU; block_size={BLOCK}",
             "# command: python course/phase-03-scheduler/measurements/real_scheduler_steps.py", ""]
    for res in results:
        lines.append(f"== {res['name']}")
        lines.append(f"   config: {res['config']}")
        lines.append("   requests: " + ", ".join(f"{a['rid']}(prompt={a['prompt_len']}, max_tokens={a['max_tokens']}, "
                                                f"arrives@{a['at']}, prio={a['priority']})" for a in res["arrivals"]))
        for s in res["steps"]:
            extra = []
            if s["new_with_cached_tokens"]:
                extra.append("new(cached)=" + str(s["new_with_cached_tokens"]))
            if s["resumed"]:
                extra.append(f"resumed={s['resumed']}")
            if s["preempted"]:
                extra.append(f"PREEMPTED={s['preempted']}")
            lines.append(f"   step {s['step']:>3}: total={s['total']:>3} {s['scheduled']} kv={s['kv_usage']:.3f} "
                         f"waiting={s['waiting']} " + " ".join(extra))
        lines.append(f"   finished (step whose output ended it): {res['finished_at_step']}")
        lines.append("")
    return "\n".join(lines)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


if __name__ == "__main__":
    MODEL = model_dir()
    init_none_hash(sha256)
    results = scenarios()
    write_atomic(HERE / "real_scheduler_steps.json", json.dumps(results, indent=1) + "\n")
    text = render(results)
    write_atomic(HERE / "real_scheduler_steps.txt", text + "\n")
    sys.stdout.write(text + "\n")
