"""mini_vllm benchmarks on the local CPU: throughput vs transformers, KV waste, prefix cache, spec decode.

Run:  python benchmarks/mini_vllm/bench.py            (under 5 minutes on 2 cores)
Writes benchmarks/mini_vllm/results.json (raw numbers) and RESULTS.md (the table), atomically.

Every figure is measured here, in one run, on one random-weight model created by
`mini_vllm.tiny.create_tiny_model` (sizes in MODEL below; nothing is downloaded), except the
spec-decode section: it needs a model that continues repetitions, so it uses the toy induction model
trained by `mini_vllm.tiny.create_induction_model` (about a minute, once; cached in `.cache/`).

Every system runs with the same torch thread count (`--threads`, default 1). On a shared 2-core
machine one thread is also the fastest choice for all of them: a second OpenMP thread that has to
wait for a busy core makes every op slower (measured: transformers' sequential decode 7x slower).

"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
import transformers
from rich.console import Console

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from mini_vllm import LLM, SamplingParams  # noqa: E402
from mini_vllm.tiny import SPECIAL_TOKENS, create_induction_model, create_tiny_model  # noqa: E402
from vmastery.files import write_atomic  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent
MODEL = dict(vocab_size=512, hidden_size=256, intermediate_size=688, num_hidden_layers=4,
             num_attention_heads=8, num_key_value_heads=4, max_position_embeddings=1024, seed=0)
console = Console()
transformers.logging.set_verbosity_error()


def workload(n: int, lo: int, hi: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randrange(2, 512) for _ in range(rng.randint(lo, hi))] for _ in range(n)]


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


def bench_throughput(model_dir: str, n: int, out_len: int) -> dict:
    prompts = workload(n, 32, 128, seed=1)
    hf = transformers.AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    res: dict = {"num_requests": n, "prompt_len": "32-128", "output_len": out_len}

    console.log(f"transformers sequential: {n} requests one at a time")
    t, c = time.perf_counter(), time.process_time()
    hf_seq = []
    for ids in prompts:
        g = hf.generate(torch.tensor([ids]), max_new_tokens=out_len, min_new_tokens=out_len,
                        do_sample=False, pad_token_id=1)
        hf_seq.append(g[0, len(ids):].tolist())
    res["hf_sequential_s"] = time.perf_counter() - t
    res["hf_sequential_cpu_s"] = time.process_time() - c

    console.log("transformers padded static batch")
    width = max(len(p) for p in prompts)
    ids = torch.tensor([[1] * (width - len(p)) + p for p in prompts])  # left padding
    mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts])
    t, c = time.perf_counter(), time.process_time()
    g = hf.generate(ids, attention_mask=mask, max_new_tokens=out_len, min_new_tokens=out_len,
                    do_sample=False, pad_token_id=1)
    res["hf_static_batch_s"] = time.perf_counter() - t
    res["hf_static_batch_cpu_s"] = time.process_time() - c
    hf_batch = g[:, width:].tolist()

    console.log("mini_vllm continuous batching")
    llm = LLM(model_dir, block_size=16, num_kv_blocks=2048, max_num_seqs=n,
              max_num_batched_tokens=2048)
    t, c = time.perf_counter(), time.process_time()
    outs = llm.generate(prompts, SamplingParams(temperature=0.0, max_tokens=out_len, min_tokens=out_len))
    res["mini_vllm_s"] = time.perf_counter() - t
    res["mini_vllm_cpu_s"] = time.process_time() - c
    ours = [o.outputs[0].token_ids for o in outs]
    total = n * out_len
    for k in ("hf_sequential", "hf_static_batch", "mini_vllm"):
        res[f"{k}_tok_s"] = total / res[f"{k}_s"]
    res["speedup_vs_sequential"] = res["mini_vllm_tok_s"] / res["hf_sequential_tok_s"]
    res["speedup_vs_static_batch"] = res["mini_vllm_tok_s"] / res["hf_static_batch_tok_s"]
    # CPU-time ratios: what the speedups would be if the machine were not shared.
    res["cpu_speedup_vs_sequential"] = res["hf_sequential_cpu_s"] / res["mini_vllm_cpu_s"]
    res["cpu_speedup_vs_static_batch"] = res["hf_static_batch_cpu_s"] / res["mini_vllm_cpu_s"]
    res["identical_to_hf_sequential"] = sum(a == b for a, b in zip(ours, hf_seq))
    res["identical_hf_batch_vs_sequential"] = sum(a == b for a, b in zip(hf_batch, hf_seq))
    res["mini_vllm_steps"] = llm.llm_engine.stats.num_steps
    return res


def bench_kv_waste(model_dir: str, n: int, out_len: int, max_model_len: int = 1024) -> dict:
    """Slots reserved vs slots holding a real token, sampled at every engine step."""
    prompts = workload(n, 32, 128, seed=1)
    llm = LLM(model_dir, block_size=16, num_kv_blocks=2048, max_num_seqs=n,
              max_num_batched_tokens=2048)
    engine = llm.llm_engine
    for i, p in enumerate(prompts):
        engine.add_request(str(i), p, SamplingParams(temperature=0.0, max_tokens=out_len,
                                                     min_tokens=out_len))
    used = paged = contiguous = 0
    peak_blocks = 0
    bs = engine.config.block_size
    while engine.has_unfinished_requests():
        engine.step()
        running = engine.scheduler.running
        tokens = sum(r.num_computed_tokens for r in running)
        blocks = sum(len(engine.scheduler.kv_cache_manager.req_to_blocks[r.request_id])
                     for r in running)
        peak_blocks = max(peak_blocks, blocks)
        used += tokens
        paged += blocks * bs
        contiguous += len(running) * max_model_len
    width = max(len(p) for p in prompts) + out_len
    static_used = sum(len(p) + out_len for p in prompts)
    return {"block_size": bs, "max_model_len": max_model_len,
            "paged_waste_pct": 100 * (1 - used / paged),
            "contiguous_max_len_waste_pct": 100 * (1 - used / contiguous),
            "static_batch_padded_waste_pct": 100 * (1 - static_used / (n * width)),
            "peak_blocks": peak_blocks}


def bench_prefix_cache(model_dir: str, n: int = 32, prefix_len: int = 480) -> dict:
    rng = random.Random(3)
    prefix = [rng.randrange(2, 512) for _ in range(prefix_len)]
    prompts = [prefix + [rng.randrange(2, 512) for _ in range(16)] for _ in range(n)]
    sp = SamplingParams(temperature=0.0, max_tokens=16, min_tokens=16)
    res: dict = {"num_requests": n, "shared_prefix_tokens": prefix_len, "unique_tokens": 16,
                 "output_len": 16}
    outs = {}
    for on in (False, True):
        llm = LLM(model_dir, block_size=16, num_kv_blocks=2048, max_num_seqs=n,
                  max_num_batched_tokens=1024, enable_prefix_caching=on)
        llm.generate(prompts[:1], sp)  # warm-up; with caching on, it also fills the prefix
        t = time.perf_counter()
        outs[on] = llm.generate(prompts[1:], sp)
        res[f"{'cached' if on else 'uncached'}_s"] = time.perf_counter() - t
        if on:
            mgr = llm.llm_engine.scheduler.kv_cache_manager
            res["hit_rate_pct"] = 100 * mgr.prefix_cache_hits / mgr.prefix_cache_queries
    res["speedup"] = res["uncached_s"] / res["cached_s"]
    res["outputs_identical"] = all(a.outputs[0].token_ids == b.outputs[0].token_ids
                                   for a, b in zip(outs[False], outs[True]))
    return res


def bench_spec_decode(n: int = 16, prompt_len: int = 48, out_len: int = 48, k: int = 4) -> dict:
    """Tokens per step with n-gram drafts on the trained toy induction model (see its docstring).

    A random-weight model never continues a repetition, so it would show 1.00 everywhere. The
    induction model has learned to copy, so drafts that continue a repeat are really accepted.
    """
    t = time.perf_counter()
    model_dir = create_induction_model()  # trained once, then reused from .cache/
    res: dict = {"model_dir": Path(model_dir).name, "model_load_or_train_s": time.perf_counter() - t,
                 "training": json.loads((Path(model_dir) / "training.json").read_text()),
                 "num_requests": n, "prompt_len": prompt_len, "output_len": out_len,
                 "num_speculative_tokens": k}
    rng = random.Random(5)
    vocab = json.loads((Path(model_dir) / "config.json").read_text())["vocab_size"]
    first = len(SPECIAL_TOKENS)  # ordinary word ids start after BOS/EOS/UNK
    spans = [[rng.randrange(first, vocab) for _ in range(rng.randint(8, 16))] for _ in range(n)]
    texts = {"repetitive": [(sp * prompt_len)[:prompt_len] for sp in spans],
             "random": [[rng.randrange(first, vocab) for _ in range(prompt_len)] for _ in range(n)]}
    for mode, temperature in (("greedy", 0.0), ("sampled", 1.0)):
        for name, prompts in texts.items():
            key = f"{mode}_{name}"
            params = [SamplingParams(temperature=temperature, seed=None if temperature == 0 else i,
                                     max_tokens=out_len, ignore_eos=True) for i in range(n)]
            times, outs = {}, {}
            for spec in (0, k):
                llm = LLM(model_dir, block_size=16, num_kv_blocks=1024, max_num_seqs=n,
                          max_num_batched_tokens=1024, num_speculative_tokens=spec,
                          enable_prefix_caching=False)
                t = time.perf_counter()
                outs[spec] = [o.outputs[0].token_ids for o in llm.generate(prompts, params)]
                times[spec] = time.perf_counter() - t
                st = llm.llm_engine.stats
                if spec:
                    res[f"{key}_acceptance_pct"] = 100 * st.num_accepted_tokens / max(st.num_draft_tokens, 1)
                    # Tokens a request gains per forward position it takes part in while decoding.
                    res[f"{key}_tokens_per_step"] = st.num_generated_tokens / max(
                        st.num_generated_tokens - st.num_accepted_tokens, 1)
                    res[f"{key}_steps"] = st.num_steps
                else:
                    res[f"{key}_steps_no_spec"] = st.num_steps
            res[f"{key}_speedup"] = times[0] / times[k]
            # Sampled runs draw their random numbers in a different order with drafts, so only
            # greedy outputs can be compared token for token (the sampled distribution is checked
            # statistically in tests/mini_vllm/test_mini_spec_decode.py).
            res[f"{key}_outputs_identical"] = outs[0] == outs[k] if mode == "greedy" else None
            # How often the output continues the prompt's period (repetitive) or repeats the
            # token that followed the previous occurrence of its predecessor (both).
            res[f"{key}_copy_pct"] = 100 * _copy_rate(prompts, outs[0])
    return res


def _copy_rate(prompts: list[list[int]], outputs: list[list[int]]) -> float:
    """Fraction of output tokens equal to what followed the latest earlier occurrence of the previous token."""
    hits = total = 0
    for p, o in zip(prompts, outputs):
        seq = p + o
        for i in range(len(p), len(seq)):
            prev = seq[i - 1]
            j = max((j for j in range(i - 1) if seq[j] == prev), default=None)
            hits += j is not None and seq[j + 1] == seq[i]
            total += 1
    return hits / max(total, 1)


def line_count() -> dict:
    files = sorted((REPO / "mini_vllm").rglob("*.py"))
    lines = [f.read_text().splitlines() for f in files]
    return {"files": len(files), "lines": sum(map(len, lines)),
            "non_blank": sum(1 for ls in lines for line in ls if line.strip()),
            "largest": max((len(ls), f.relative_to(REPO).as_posix()) for ls, f in zip(lines, files))}


def render(r: dict) -> str:
    t, kv, pc, sd, lc = r["throughput"], r["kv_waste"], r["prefix_cache"], r["spec_decode"], r["lines"]
    m = r["model"]
    tr = sd["training"]
    curve = ", ".join(f"step {s} {c:.2f}" for s, _, c in tr["loss_curve (step, loss, copy loss)"][::4])
    rows = "\n".join(
        f"| {mode} | {name} | {sd[f'{mode}_{name}_tokens_per_step']:.2f} | "
        f"{sd[f'{mode}_{name}_acceptance_pct']:.0f}% | {sd[f'{mode}_{name}_steps_no_spec']} -> "
        f"{sd[f'{mode}_{name}_steps']} | {sd[f'{mode}_{name}_speedup']:.2f}x | "
        f"{sd[f'{mode}_{name}_copy_pct']:.0f}% | "
        f"{'n/a' if sd[f'{mode}_{name}_outputs_identical'] is None else sd[f'{mode}_{name}_outputs_identical']} |"
        for mode in ("greedy", "sampled") for name in ("repetitive", "random"))
    return f"""# mini_vllm benchmark results

Generated by `python benchmarks/mini_vllm/bench.py` on {r['machine']} ({r['date']}); raw numbers in
`results.json`, console log in `bench_output.txt`. Do not edit by hand: rerun the script.

Model: random-weight Llama from `mini_vllm.tiny` (hidden {m['hidden_size']}, {m['num_hidden_layers']}
layers, {m['num_attention_heads']} heads / {m['num_key_value_heads']} KV heads, intermediate
{m['intermediate_size']}, vocab {m['vocab_size']}; {r['model_params_m']:.1f} M parameters), float32,
torch {r['torch']} with {r['threads']} thread(s) for every system, transformers {r['transformers']}.
Load average (1/5/15 min) at start {r['loadavg_start']}, at end {r['loadavg_end']}: the machine is
shared, so wall times are inflated; the ratios compare systems measured in the same run, and the
CPU-time column shows the same comparison without the waiting. Whole run: {r['total_s']:.0f} s.

## Throughput: {t['num_requests']} requests, prompts {t['prompt_len']} tokens, {t['output_len']} output tokens each (greedy)

| system | wall (s) | output tok/s | vs sequential | CPU (s) | CPU vs sequential |
|---|---:|---:|---:|---:|---:|
| transformers `generate`, one request at a time | {t['hf_sequential_s']:.1f} | {t['hf_sequential_tok_s']:.0f} | 1.0x | {t['hf_sequential_cpu_s']:.1f} | 1.0x |
| transformers `generate`, one padded static batch | {t['hf_static_batch_s']:.1f} | {t['hf_static_batch_tok_s']:.0f} | {t['hf_static_batch_tok_s'] / t['hf_sequential_tok_s']:.1f}x | {t['hf_static_batch_cpu_s']:.1f} | {t['hf_sequential_cpu_s'] / t['hf_static_batch_cpu_s']:.1f}x |
| mini_vllm `LLM.generate` (continuous batching, paged KV) | {t['mini_vllm_s']:.1f} | {t['mini_vllm_tok_s']:.0f} | {t['speedup_vs_sequential']:.1f}x | {t['mini_vllm_cpu_s']:.1f} | {t['cpu_speedup_vs_sequential']:.1f}x |

mini_vllm outputs token-identical to sequential transformers: {t['identical_to_hf_sequential']}/{t['num_requests']}
(the padded transformers batch matches its own sequential run on {t['identical_hf_batch_vs_sequential']}/{t['num_requests']}).
Goal ≥ 5x the sequential baseline: {'met' if t['speedup_vs_sequential'] >= 5 else 'NOT met'}.
mini_vllm vs the padded static batch: {t['speedup_vs_static_batch']:.2f}x.

## KV memory wasted (same workload, averaged over every engine step)

| reservation scheme | slots not holding a token |
|---|---:|
| paged, block size {kv['block_size']} (mini_vllm) | {kv['paged_waste_pct']:.1f}% |
| contiguous, max_model_len = {kv['max_model_len']} per request | {kv['contiguous_max_len_waste_pct']:.1f}% |
| static batch padded to longest prompt + output | {kv['static_batch_padded_waste_pct']:.1f}% |

## Prefix cache: {pc['num_requests'] - 1} requests sharing a {pc['shared_prefix_tokens']}-token prefix (+{pc['unique_tokens']} unique, {pc['output_len']} output)

| prefix caching | time (s) |
|---|---:|
| off | {pc['uncached_s']:.2f} |
| on (after one warm-up request) | {pc['cached_s']:.2f} |

Speedup {pc['speedup']:.1f}x; prompt-token hit rate {pc['hit_rate_pct']:.0f}%; outputs identical: {pc['outputs_identical']}.

## N-gram speculative decoding (k = {sd['num_speculative_tokens']}, {sd['num_requests']} requests, {sd['prompt_len']}-token prompts, {sd['output_len']} output tokens)

Model: NOT the model above. A random-weight model never continues a repetition, so drafts are
never accepted and tokens/step is 1.00 whatever the text. This section uses a trained toy
**induction model** from `mini_vllm.tiny.create_induction_model` (Llama, hidden
{tr['hyper_parameters']['hidden_size']}, {tr['hyper_parameters']['num_hidden_layers']} layers,
{tr['hyper_parameters']['num_attention_heads']} heads, word-level vocab of 95), trained here on CPU
for {tr['hyper_parameters']['steps']} steps ({tr['train_seconds']:.0f} s, cached in `.cache/`) to do one thing:
copy what followed the previous occurrence of the current token. It is not a language model.
Copy loss (repeat rows, uniform = {tr['uniform_loss']:.2f}): {curve}.

Repetitive prompts: a random span of 8-16 words repeated; random prompts: random words.

| decoding | prompt text | tokens per step | draft acceptance | engine steps (no spec -> spec) | wall-time speedup | output copies context | outputs identical |
|---|---|---:|---:|---:|---:|---:|---|
{rows}

"Tokens per step" = output tokens / verification-or-decode positions that produced them (1.0 = no
gain). "Output copies context" = share of output tokens equal to what followed the latest earlier
occurrence of the previous token, measured without drafts. Sampled (temperature 1.0) outputs are
not compared token for token (drafts change the order random numbers are drawn in); their
distribution is checked by `tests/mini_vllm/test_mini_spec_decode.py`.

Reading it honestly: with greedy decoding the random prompts do *not* stay near 1.0. Greedy argmax
of an induction model picks, from an almost flat distribution, a token that continues an earlier
occurrence, and from then on the output copies the prompt, which is exactly what prompt lookup
predicts. Sampling
follows the model's actual, nearly flat distribution on random text, so the output mostly does not
copy and most drafts are rejected; that row is the "random text" baseline, the sampled repetitive
row its counterpart. Wall-time speedups of these tiny runs (well under a second) are noisy.

## Size

mini_vllm: {lc['files']} Python files, {lc['lines']} lines ({lc['non_blank']} non-blank); largest file
`{lc['largest'][1]}` ({lc['largest'][0]} lines).
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--output-len", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="torch threads, the same for every system")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_start = loadavg()
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = str(create_tiny_model(Path(tmp) / "bench-model", **MODEL))
        params = sum(v.numel() for v in __import__("safetensors.torch", fromlist=["load_file"])
                     .load_file(f"{model_dir}/model.safetensors").values())
        r = {"machine": f"{platform.machine()} {os.cpu_count()} CPUs, {platform.python_implementation()} "
                        f"{platform.python_version()}",
             "date": time.strftime("%Y-%m-%d"), "torch": torch.__version__,
             "transformers": transformers.__version__, "threads": args.threads,
             "model": MODEL, "model_params_m": params / 1e6,
             "git_commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                                          capture_output=True, text=True).stdout.strip()}
        t0 = time.perf_counter()
        r["throughput"] = bench_throughput(model_dir, args.requests, args.output_len)
        console.log(r["throughput"])
        r["kv_waste"] = bench_kv_waste(model_dir, args.requests, args.output_len)
        console.log(r["kv_waste"])
        r["prefix_cache"] = bench_prefix_cache(model_dir)
        console.log(r["prefix_cache"])
        r["spec_decode"] = bench_spec_decode()
        console.log(r["spec_decode"])
        r["lines"] = line_count()
        r["total_s"] = time.perf_counter() - t0
        r["loadavg_start"], r["loadavg_end"] = load_start, loadavg()
    write_atomic(OUT_DIR / "results.json", json.dumps(r, indent=2) + "\n")
    write_atomic(OUT_DIR / "RESULTS.md", render(r))
    console.log(f"wrote {OUT_DIR / 'RESULTS.md'} in {r['total_s']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
