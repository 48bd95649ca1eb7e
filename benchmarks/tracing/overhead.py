"""Tracing overhead on one engine: throughput with tracing off / OTel spans / OTel + VizTracer.

All three levels run in ONE process on ONE engine, interleaved (the order rotates every round), on
the same prompts, so engine start-up, GPU clocks and memory layout are shared and drift spreads
over all levels. vLLM runs in-process (VLLM_ENABLE_V1_MULTIPROCESSING=0) so that a single switch
(`vmastery.tracing.process.set_level`) reaches the front-end, EngineCore and the worker at once;
"off" leaves the wrappers installed but inert (one global read per traced call). Sampling is
greedy, so every round must also produce exactly the same tokens: that is the "tracing changes
nothing" check. Usage (on the GPU box, see gpu_session.sh):

    python benchmarks/tracing/overhead.py MODEL_DIR OUT_DIR [--rounds 3] [--requests 256]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

LEVELS = ["off", "span", "fine"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("out", type=Path)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=256)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--eager", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
    os.environ["VMASTERY_TRACE"] = str(args.out / "trace")  # the plugin installs at vLLM's first import
    os.environ["VMASTERY_TRACE_LEVEL"] = "fine"
    from vllm import LLM, SamplingParams
    from vllm.inputs import TokensPrompt

    from vmastery.tracing import process

    # Spans are exported when a process goes idle, which inside generate() would land in the timed
    # region; here export is done after each round and timed on its own (export_s).
    process.AUTO_FLUSH = False

    rng = random.Random(0)
    prompts = [TokensPrompt(prompt_token_ids=[rng.randrange(10, 8000) for _ in range(rng.randrange(64, 512))])
               for _ in range(args.requests)]
    params = SamplingParams(max_tokens=args.max_tokens, temperature=0.0, ignore_eos=True)
    llm = LLM(model=args.model, load_format="dummy", max_num_seqs=256, max_num_batched_tokens=8192,
              enable_prefix_caching=False, gpu_memory_utilization=0.6, seed=0, enforce_eager=args.eager)

    def once(level: str) -> tuple[float, float, list[list[int]]]:
        process.set_level(level)
        start = time.perf_counter()
        outputs = llm.generate(prompts, params, use_tqdm=False)
        elapsed = time.perf_counter() - start
        process.set_level("off")
        start = time.perf_counter()
        if level != "off":
            process.current().flush("benchmark round")
        export = time.perf_counter() - start
        tokens = [list(o.outputs[0].token_ids) for o in outputs]
        return sum(map(len, tokens)) / elapsed, export, tokens

    once("off")  # warm-up: allocator, caches, first-call costs
    results: dict[str, list[float]] = {level: [] for level in LEVELS}
    reference = None
    identical = {level: 0 for level in LEVELS}
    rows = []
    for r in range(args.rounds):
        order = LEVELS[r % 3:] + LEVELS[:r % 3]
        for level in order:
            tps, export, tokens = once(level)
            reference = reference or tokens
            identical[level] += tokens == reference
            results[level].append(tps)
            rows.append({"round": r, "level": level, "tokens_per_s": round(tps, 1), "export_s": round(export, 3), "same_tokens": tokens == reference})
            print(json.dumps(rows[-1]), flush=True)
    base = statistics.median(results["off"])
    summary = {level: {"median_tokens_per_s": round(statistics.median(v), 1),
                       "cost_pct": round(100 * (1 - statistics.median(v) / base), 2),
                       "rounds": [round(x, 1) for x in v], "token_identical_rounds": identical[level]}
               for level, v in results.items()}
    result = {"workload": {"requests": args.requests, "max_tokens": args.max_tokens, "greedy": True,
                           "eager": args.eager, "in_process": True, "rounds": args.rounds},
              "summary": summary, "rows": rows}
    (args.out / "overhead.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(summary, indent=1))
    return 0 if all(v == args.rounds for v in identical.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
