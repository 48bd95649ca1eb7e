# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.
# Grade it with: LAB_IMPL=starter pytest labs/phase-03/lab-04-real-scheduler
"""Lab 3.4 — drive vLLM's REAL v1 Scheduler on a CPU, and predict what it schedules.

No model runs. We build a genuine {anchor}`Scheduler <vllm/v1/core/sched/scheduler.py::Scheduler>`
over a hand-made KV-cache layout, call `schedule()`, and feed `update_from_output()` a fake
`ModelRunnerOutput`. Everything you observe — chunking, prefix-cache hits, preemption — is vLLM's own
logic. Your jobs: write that fake model output, then predict three scenarios *on paper* before
running them (the README walks through them).
"""
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import cache

os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
logging.disable(logging.WARNING)

import torch  # noqa: E402
from transformers import LlamaConfig  # noqa: E402
from vllm.config import CacheConfig, DeviceConfig, ModelConfig, SchedulerConfig, VllmConfig  # noqa: E402
from vllm.sampling_params import SamplingParams  # noqa: E402
from vllm.utils.hashing import sha256  # noqa: E402
from vllm.v1.core.kv_cache_utils import get_request_block_hasher, init_none_hash  # noqa: E402
from vllm.v1.core.sched.output import SchedulerOutput  # noqa: E402
from vllm.v1.core.sched.scheduler import Scheduler  # noqa: E402
from vllm.v1.kv_cache_interface import FullAttentionSpec, KVCacheConfig, KVCacheGroupSpec  # noqa: E402
from vllm.v1.outputs import ModelRunnerOutput  # noqa: E402
from vllm.v1.request import Request  # noqa: E402
from vllm.v1.structured_output import StructuredOutputManager  # noqa: E402

BLOCK = 16
TOKEN = 7  # what the fake model always "samples"


@cache
def _model_dir() -> str:
    path = tempfile.mkdtemp(prefix="lab34-llama-")
    LlamaConfig(vocab_size=32000, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=4).save_pretrained(path)
    init_none_hash(sha256)
    return path


def build_scheduler(budget: int, num_blocks: int, max_seqs: int = 8) -> Scheduler:
    """A real Scheduler with chunked prefill and prefix caching on, FCFS, a pool of `num_blocks`
    blocks of 16 tokens (block 0 is vLLM's reserved null block, so num_blocks - 1 are usable)."""
    model = ModelConfig(model=_model_dir(), skip_tokenizer_init=True, dtype="float16", max_model_len=1024)
    sched = SchedulerConfig(max_num_seqs=max_seqs, max_num_batched_tokens=budget, max_model_len=1024,
                            enable_chunked_prefill=True, is_encoder_decoder=False)
    cache_cfg = CacheConfig(block_size=BLOCK, enable_prefix_caching=True)
    cfg = VllmConfig(model_config=model, scheduler_config=sched, cache_config=cache_cfg,
                     device_config=DeviceConfig("cpu"))
    group = KVCacheGroupSpec(["layer"], FullAttentionSpec(block_size=BLOCK, num_kv_heads=1, head_size=1,
                                                          dtype=torch.float32))
    cache_cfg.num_gpu_blocks = num_blocks
    return Scheduler(vllm_config=cfg, kv_cache_config=KVCacheConfig(num_blocks, [], [group]), block_size=BLOCK,
                     structured_output_manager=StructuredOutputManager(cfg), log_stats=True)


def tokens(seed: int, n: int) -> list[int]:
    """n token ids; different seeds never share a full block."""
    return [100 + 1000 * seed + i for i in range(n)]


def make_request(rid: str, prompt: list[int], max_tokens: int) -> Request:
    """A Request that never stops early (eos ignored) and carries the block hasher prefix caching needs:
    without one, `BlockPool.cache_full_blocks` fails an assertion on the first full block."""
    params = SamplingParams(max_tokens=max_tokens, ignore_eos=True)
    return Request(rid, prompt, params, None, block_hasher=get_request_block_hasher(BLOCK, sha256))


@dataclass
class Arrival:
    rid: str
    prompt: list[int]
    max_tokens: int
    at: int = 0  # added just before this step's schedule()


def fake_model_output(scheduler: Scheduler, out: SchedulerOutput) -> ModelRunnerOutput:
    """What the model runner would return for `out`: one sampled token (TOKEN) per scheduled request
    whose prompt is now complete, an empty list for a request still mid-prefill.

    Hints: the runner's `req_ids` order can be the order of `out.num_scheduled_tokens`;
    `req_id_to_index` maps each id to its row; a request is mid-prefill iff its `is_prefill_chunk`
    flag (set by `_update_after_schedule` inside `schedule()`) is true. logprobs=None,
    prompt_logprobs_dict={}, pooler_output=[].
    """
    # TODO: build ModelRunnerOutput(req_ids, req_id_to_index, sampled_token_ids, ...)
    raise NotImplementedError('build ModelRunnerOutput(req_ids, req_id_to_index, sampled_token_ids, ...)')


def run(scheduler: Scheduler, arrivals: list[Arrival], max_steps: int = 500) -> list[SchedulerOutput]:
    """Step the scheduler until every request has finished; return each step's SchedulerOutput."""
    outs = []
    for step in range(max_steps):
        for a in arrivals:
            if a.at == step:
                scheduler.add_request(make_request(a.rid, a.prompt, a.max_tokens))
        if not scheduler.requests and all(a.at <= step for a in arrivals):
            return outs
        out = scheduler.schedule()
        outs.append(out)
        if out.num_scheduled_tokens:
            scheduler.update_from_output(out, fake_model_output(scheduler, out))
    raise RuntimeError(f"requests still unfinished after {max_steps} steps")


# ---- Scenario 1: chunked prefill. budget=48, 64 blocks; prompts of 70, 20 and 5 tokens, max_tokens=3 each.
CHUNKED = dict(budget=48, num_blocks=64)
CHUNKED_ARRIVALS = [Arrival("r0", tokens(0, 70), 3), Arrival("r1", tokens(1, 20), 3), Arrival("r2", tokens(2, 5), 3)]


def predict_chunked() -> list[dict[str, int]]:
    """num_scheduled_tokens of every step, in order, until all three finish."""
    # TODO: your step-by-step prediction
    raise NotImplementedError('your step-by-step prediction')


# ---- Scenario 2: prefix caching. budget=256, 64 blocks. r0 (80 tokens, max_tokens=2) arrives at step 0;
# at step 3 arrive r1 (r0's exact prompt) and r2 (r0's first 40 tokens + 10 new ones), max_tokens=2.
PREFIX = dict(budget=256, num_blocks=64)
PREFIX_ARRIVALS = [Arrival("r0", tokens(0, 80), 2), Arrival("r1", tokens(0, 80), 2, at=3),
                   Arrival("r2", tokens(0, 40) + tokens(5, 10), 2, at=3)]


def predict_prefix() -> dict[str, tuple[int, int]]:
    """For r1 and r2 at their first scheduling: (num_computed_tokens found in the prefix cache,
    tokens scheduled in that step)."""
    # TODO: the hit is whole blocks only, and never the very last prompt token
    raise NotImplementedError('the hit is whole blocks only, and never the very last prompt token')


# ---- Scenario 3: preemption. budget=256, 8 blocks (7 usable); r0 and r1, 40-token prompts, max_tokens=20.
PREEMPT = dict(budget=256, num_blocks=8)
PREEMPT_ARRIVALS = [Arrival("r0", tokens(0, 40), 20), Arrival("r1", tokens(1, 40), 20)]


def predict_preemption() -> tuple[int, str, int, int]:
    """(step of the preemption, victim id, step at which the victim is scheduled again, tokens scheduled
    for it in that step)."""
    # TODO: when does a request first need its 4th block, who is evicted, what does the cache keep?
    raise NotImplementedError('when does a request first need its 4th block, who is evicted, what does the cache keep?')


if __name__ == "__main__":
    for out in run(build_scheduler(**CHUNKED), CHUNKED_ARRIVALS):
        print(out.total_num_scheduled_tokens, out.num_scheduled_tokens)
