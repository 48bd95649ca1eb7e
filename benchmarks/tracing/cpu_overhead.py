"""Span-level tracing cost per engine step on the CPU: real vLLM scheduler, simulated executor.

One in-process engine (EngineCore, Scheduler, KV-cache manager are vLLM's own; the executor is the
SIMULATED one of CPU mode), 256 requests of 64 prompt + 64 output tokens per round, rounds
alternating off / span. A CPU-side indicator only: the H200 figures are in README.md.

    python benchmarks/tracing/cpu_overhead.py [--rounds 7]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
os.environ["VMASTERY_TRACE"] = tempfile.mkdtemp()
os.environ["VMASTERY_TRACE_LEVEL"] = "span"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    from vllm import SamplingParams
    from vllm.v1.engine.llm_engine import LLMEngine

    from vmastery.tracing import process
    from vmastery.tracing.drive import Workload, cpu_engine_args

    process.AUTO_FLUSH = False
    workload = Workload(requests=256, max_num_seqs=256, budget=8192, kv_blocks=4096, max_tokens=64)
    engine = LLMEngine.from_engine_args(cpu_engine_args(Path(os.environ["VMASTERY_TRACE"]), workload))
    rng = random.Random(0)
    params = SamplingParams(max_tokens=64, temperature=0.0, ignore_eos=True)

    def one_round(level: str, tag: int) -> float:
        process.set_level(level)
        for i in range(256):
            prompt = [rng.randrange(10, 8000) for _ in range(64)]
            engine.add_request(f"{level}-{tag}-{i}", {"prompt_token_ids": prompt}, params)
        steps, start = 0, time.perf_counter()
        while engine.has_unfinished_requests():
            engine.step()
            steps += 1
        per_step = (time.perf_counter() - start) / steps
        process.set_level("off")
        if level != "off":
            process.current().flush("round")  # export outside the timed loop
        return per_step

    one_round("off", -1)  # warm-up
    per_step: dict[str, list[float]] = {"off": [], "span": []}
    for r in range(args.rounds):
        for level in (("off", "span") if r % 2 == 0 else ("span", "off")):
            per_step[level].append(one_round(level, r))
    off, span = statistics.median(per_step["off"]), statistics.median(per_step["span"])
    for level, values in per_step.items():
        print(f"{level}: per-step ms {[round(v * 1e3, 2) for v in values]}")
    print(f"median per step: off {off * 1e3:.2f} ms, span {span * 1e3:.2f} ms, "
          f"cost {100 * (span - off) / off:+.1f} % (load average {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
