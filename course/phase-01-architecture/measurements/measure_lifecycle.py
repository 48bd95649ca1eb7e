"""Measures three things about one request's trip, on this machine's CPU, with vLLM 0.22.1's own code.

1. Wire size and encode+decode time of an EngineCoreRequest (front-end -> EngineCore) and of one
   step's EngineCoreOutputs (EngineCore -> front-end), with vLLM's MsgpackEncoder/MsgpackDecoder.
2. Front-end cost of one OutputProcessor.process_outputs call (detokenize + stop-string check +
   build outputs) for a decode step of B requests.
3. The real scheduler's per-step plan for 4 prompts under a 64-token budget, driven through the real
   LLMEngine with lab 03's fake executor.

Run: python course/phase-01-architecture/measurements/measure_lifecycle.py > course/phase-01-architecture/measurements/lifecycle.txt
"""
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "labs/phase-01/lab-03-real-engine-fake-executor"))

import solution as lab03  # noqa: E402  (the lab's reference fake executor and tokenizer builder)

from vllm import SamplingParams  # noqa: E402
from vllm.sampling_params import RequestOutputKind  # noqa: E402
from vllm.v1.engine import EngineCoreOutput, EngineCoreOutputs, EngineCoreRequest  # noqa: E402
from vllm.v1.engine.output_processor import OutputProcessor  # noqa: E402
from vllm.v1.serial_utils import MsgpackDecoder, MsgpackEncoder  # noqa: E402


def timed(fn, repeat: int) -> float:
    """Median seconds of `repeat` calls."""
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def request(i: int, prompt_len: int, kind=RequestOutputKind.FINAL_ONLY) -> EngineCoreRequest:
    params = SamplingParams(max_tokens=128, stop=["\n\n"])
    params.output_kind = kind
    return EngineCoreRequest(request_id=f"{i}-abcdefgh", external_req_id=str(i),
                             prompt_token_ids=list(range(100, 100 + prompt_len)), mm_features=None,
                             sampling_params=params, pooling_params=None, arrival_time=time.time(),
                             lora_request=None, cache_salt=None, data_parallel_rank=None)


def wire() -> None:
    print("## 1. wire format (msgspec/msgpack, vllm.v1.serial_utils)")
    enc = MsgpackEncoder()
    dec_req, dec_out = MsgpackDecoder(EngineCoreRequest), MsgpackDecoder(EngineCoreOutputs)
    for prompt_len in (16, 1024):
        req = request(0, prompt_len)
        frames = enc.encode(req)
        size = sum(len(f) for f in frames)
        t = timed(lambda: dec_req.decode(enc.encode(req)), 200)
        print(f"EngineCoreRequest prompt_len={prompt_len}: {size} bytes in {len(frames)} frame(s); "
              f"encode+decode median {t * 1e6:.1f} us")
    for batch in (1, 64, 256):
        outs = EngineCoreOutputs(outputs=[EngineCoreOutput(request_id=f"{i}-abcdefgh", new_token_ids=[1234])
                                          for i in range(batch)])
        frames = enc.encode(outs)
        size = sum(len(f) for f in frames)
        t = timed(lambda: dec_out.decode(enc.encode(outs)), 200)
        print(f"EngineCoreOutputs decode step, {batch} requests: {size} bytes; encode+decode median {t * 1e6:.1f} us")


def frontend() -> None:
    print("\n## 2. front-end cost of one decode step (OutputProcessor.process_outputs, fast detokenizer)")
    tokenizer = lab03.PreTrainedTokenizerFast.from_pretrained(lab03.make_model_dir(Path(tempfile.mkdtemp())))
    ids = tokenizer.encode(" Paris is the capital. Rome is next!", add_special_tokens=False)
    for batch in (1, 64, 256):
        for kind in (RequestOutputKind.FINAL_ONLY, RequestOutputKind.DELTA):
            processor = OutputProcessor(tokenizer, log_stats=False)
            for i in range(batch):
                processor.add_request(request(i, 32, kind), None)
            steps = []
            for step in range(len(ids)):
                outs = [EngineCoreOutput(request_id=f"{i}-abcdefgh", new_token_ids=[ids[step]]) for i in range(batch)]
                t0 = time.perf_counter()
                processor.process_outputs(outs)
                steps.append(time.perf_counter() - t0)
            print(f"batch={batch:4d} output_kind={kind.name:10s}: median {statistics.median(steps) * 1e3:.3f} ms "
                  f"per step ({len(steps)} steps), {statistics.median(steps) / batch * 1e6:.1f} us per request")


def scheduler_trace() -> None:
    print("\n## 3. real LLMEngine + fake executor: per-step scheduled tokens (budget 64 tokens/step)")
    engine = lab03.build_engine(max_num_batched_tokens=64)
    tok = engine.get_tokenizer()
    prompts = ["The capital of France is", " ".join(["the quick brown fox jumps over the lazy dog"] * 8),
               "Rome is the capital of Italy!", "What is next?"]
    for p in prompts:
        print(f"prompt tokens: {len(tok.encode(p, add_special_tokens=False))}")
    t0 = time.perf_counter()
    outs = lab03.run_generate(engine, prompts, SamplingParams(max_tokens=6))
    elapsed = time.perf_counter() - t0
    for i, step in enumerate(engine.model_executor.worker.step_log):
        plan = ", ".join(f"{rid.split('-')[0]}:{n}" for rid, n in step.items())
        print(f"step {i + 1:2d}: total={sum(step.values()):3d}  [{plan}]")
    for o in outs:
        print(f"request {o.request_id}: {len(o.outputs[0].token_ids)} tokens, finish={o.outputs[0].finish_reason}, "
              f"text={o.outputs[0].text!r}")
    print(f"wall time of run_generate (no model, CPU): {elapsed * 1e3:.1f} ms for "
          f"{len(engine.model_executor.worker.step_log)} steps")


if __name__ == "__main__":
    print(f"# measure_lifecycle.py — {platform.platform()}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs; vLLM 0.22.1 (upstream/), one run")
    wire()
    frontend()
    scheduler_trace()
