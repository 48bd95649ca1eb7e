"""Tracing overhead on one engine: throughput with tracing off / OTel spans / OTel + VizTracer.

All levels run in ONE process on ONE engine, on the same prompts, so engine start-up, GPU clocks
and memory layout are shared. Each traced round runs right next to an untraced one (the order
alternates), because the lent machine's CPU speed drifts by up to 2x over tens of seconds (the GC
pause of the same number of collections doubles with it): only neighbouring rounds compare.
By default vLLM runs in-process here (VLLM_ENABLE_V1_MULTIPROCESSING=0): the worst case for
tracing, since front-end, scheduler and worker share one thread and every microsecond the wrappers
take is a microsecond the GPU may wait. `--engine-process` keeps vLLM's default layout (EngineCore
in its own process); `vmastery.tracing.plugin.control` switches levels in both processes.

Three figures per level, from the same rounds:
- paired cost: 1 - level/off for each pair of neighbouring rounds, which cancels slow drift; the
  median over pairs, with a bootstrap 95 % interval (the headline figure);
- cost from medians: 1 - median(level tok/s) / median(off tok/s), for comparison with earlier runs;
- own cost: the time the wrappers clocked themselves (`ProcessState.costs`, all processes
  together) over the round's wall time: the direct CPU cost, free of run-to-run noise (indirect costs such as cache misses are not
  in it; the throughput figures catch those).
Every round also records engine steps and Python GC pauses, the usual suspects when rounds differ.
Sampling is greedy, so every round must produce exactly the same tokens ("tracing changes nothing").

    python benchmarks/tracing/overhead.py OUT --model DIR [--shape 8b] [--series span:24 fine:8] [--requests 256]
    python benchmarks/tracing/overhead.py OUT --cpu        # simulated executor: a CPU-side indicator
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import statistics
import sys
import time
from pathlib import Path

from vmastery.files import write_atomic

LEVELS = ["off", "span", "fine"]
# Llama shapes for --shape: the bundle's small model, and the layer sizes of an 8B model.
SHAPES = {"8b": {"hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
                 "num_attention_heads": 32, "num_key_value_heads": 8}}


def reshaped(model: Path, shape: str, out: Path) -> Path:
    """A copy of a local model directory whose config has another shape (weights are dummy)."""
    if shape not in SHAPES:
        return model
    target = out / f"model-{shape}"
    shutil.copytree(model, target, dirs_exist_ok=True)
    config = json.loads((target / "config.json").read_text())
    config.update(SHAPES[shape])
    (target / "config.json").write_text(json.dumps(config, indent=1))
    return target


def engine_args(args, out: Path):
    from vllm import EngineArgs

    if args.cpu:
        from vmastery.tracing.drive import Workload, cpu_engine_args
        return cpu_engine_args(out, Workload(requests=args.requests, max_num_seqs=256, budget=8192,
                                             kv_blocks=8192, max_tokens=args.max_tokens))
    model = reshaped(Path(args.model), args.shape, out)
    return EngineArgs(model=str(model), load_format="dummy", max_num_seqs=256, max_num_batched_tokens=8192,
                      enable_prefix_caching=False, gpu_memory_utilization=0.6, seed=0, dtype="bfloat16")


def bootstrap_median(values: list[float], rng: random.Random, n: int = 2000) -> tuple[float, float]:
    """95 % percentile-bootstrap interval of the median."""
    medians = sorted(statistics.median(rng.choices(values, k=len(values))) for _ in range(n))
    return medians[int(0.025 * n)], medians[int(0.975 * n) - 1]


class GcClock:
    """Counts Python GC collections and their pause time, through gc.callbacks."""

    def __init__(self) -> None:
        self.pauses, self.count, self._start = 0.0, 0, 0.0
        gc.callbacks.append(self)

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses += time.perf_counter() - self._start
            self.count += 1

    def take(self) -> tuple[int, float]:
        out, self.pauses, self.count = (self.count, self.pauses), 0.0, 0
        return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--model", help="local model directory (config + tokenizer; weights are dummy)")
    parser.add_argument("--shape", choices=["bundle", *SHAPES], default="bundle")
    parser.add_argument("--cpu", action="store_true", help="simulated executor instead of a GPU model")
    parser.add_argument("--series", nargs="+", default=["span:24", "fine:8"],
                        help="LEVEL:ROUNDS; each round runs that level next to an untraced one")
    parser.add_argument("--requests", type=int, default=256)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--engine-process", action="store_true",
                        help="EngineCore in its own process (vLLM's default) instead of in-process")
    args = parser.parse_args()
    if not args.cpu and not args.model:
        parser.error("give --model DIR (GPU) or --cpu")
    series = [(level, int(rounds)) for level, _, rounds in (item.partition(":") for item in args.series)]
    if any(level not in LEVELS[1:] for level, _ in series):
        parser.error(f"--series levels are {LEVELS[1:]}")
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "1" if args.engine_process else "0"
    os.environ["VMASTERY_TRACE"] = str(args.out / "trace")  # the plugin installs at vLLM's first import
    os.environ["VMASTERY_TRACE_LEVEL"] = "fine" if any(level == "fine" for level, _ in series) else "span"
    from vllm import SamplingParams
    from vllm.v1.engine.llm_engine import LLMEngine

    from vmastery.tracing.plugin import control

    engine = LLMEngine.from_engine_args(engine_args(args, args.out))
    control(engine, auto_flush=False)  # export after each round, timed on its own (export_s)

    def own_cost_ns() -> int:
        return sum(c["cost_ns"] for c in control(engine))
    rng = random.Random(0)
    prompts = [[rng.randrange(10, 8000) for _ in range(rng.randrange(64, 512))] for _ in range(args.requests)]
    params = SamplingParams(max_tokens=args.max_tokens, temperature=0.0, ignore_eos=True)
    gc_clock = GcClock()

    def once(level: str, tag: str) -> dict:
        gc.collect()  # every round starts from the same heap, whatever the last one left behind
        control(engine, level=level)
        cost0 = own_cost_ns()
        gc_clock.take()
        start = time.perf_counter()
        for i, prompt in enumerate(prompts):
            engine.add_request(f"{tag}-{i}", {"prompt_token_ids": prompt}, params)
        tokens, steps = {}, 0
        while engine.has_unfinished_requests():
            for output in engine.step():
                if output.finished:
                    tokens[output.request_id] = list(output.outputs[0].token_ids)
            steps += 1
        elapsed = time.perf_counter() - start
        collections, gc_s = gc_clock.take()
        control(engine, level="off")
        own_ms = (own_cost_ns() - cost0) / 1e6
        start = time.perf_counter()
        if level != "off":
            control(engine, flush=True)
        ordered = [tokens[f"{tag}-{i}"] for i in range(len(prompts))]
        return {"level": level, "tokens_per_s": round(sum(map(len, ordered)) / elapsed, 1),
                "elapsed_s": round(elapsed, 4), "steps": steps, "own_cost_ms": round(own_ms, 2),
                "gc_collections": collections, "gc_pause_ms": round(gc_s * 1e3, 2),
                "export_s": round(time.perf_counter() - start, 3), "tokens": ordered}

    reference = once("off", "warmup")["tokens"]  # warm-up: allocator, caches, first-call costs
    for level in {lv for lv, _ in series}:
        once(level, f"warmup-{level}")  # and the tracing paths
    rows = []
    for level, rounds in series:  # each traced round sits right next to an untraced one
        for r in range(rounds):
            for lv in ("off", level) if r % 2 == 0 else (level, "off"):
                row = once(lv, f"{level}{r}{lv}")
                row["same_tokens"] = row.pop("tokens") == reference
                rows.append({"series": level, "round": r, **row})
                print(json.dumps(rows[-1]), flush=True)
    result = {"workload": {"cpu": args.cpu, "shape": args.shape, "requests": args.requests,
                           "max_tokens": args.max_tokens, "greedy": True, "in_process": not args.engine_process,
                           "series": dict(series)},
              "summary": {level: summarise([r for r in rows if r["series"] == level], level)
                          for level, _ in series},
              "rows": rows}
    write_atomic(args.out / "overhead.json", json.dumps(result, indent=1))
    print(json.dumps(result["summary"], indent=1))
    return 0 if all(r["same_tokens"] for r in rows) else 1


def summarise(rows: list[dict], level: str) -> dict:
    """One series: `level` rounds each next to an untraced round, compared pair by pair."""
    off = {r["round"]: r for r in rows if r["level"] == "off"}
    traced = [r for r in rows if r["level"] == level]
    costs = [100 * (1 - r["tokens_per_s"] / off[r["round"]]["tokens_per_s"]) for r in traced]
    low, high = bootstrap_median(costs, random.Random(0))

    def tps(rs):
        values = [r["tokens_per_s"] for r in rs]
        return {"median": statistics.median(values), "min": min(values), "max": max(values)}

    return {"rounds": len(traced), "off_tokens_per_s": tps(off.values()), f"{level}_tokens_per_s": tps(traced),
            "cost_pct_from_medians": round(100 * (1 - tps(traced)["median"] / tps(off.values())["median"]), 2),
            "paired_cost_pct_median": round(statistics.median(costs), 2),
            "paired_cost_pct_ci95": [round(low, 2), round(high, 2)],
            "own_cost_pct_median": round(statistics.median(100 * r["own_cost_ms"] / 1e3 / r["elapsed_s"]
                                                           for r in traced), 3),
            "token_identical_rounds": f"{sum(r['same_tokens'] for r in rows)}/{len(rows)}"}


if __name__ == "__main__":
    sys.exit(main())
