"""Trace requests through vLLM and write one timeline: `vmastery trace` / `tools/trace_request.py`.

Runs a request mix through real vLLM v1 in a child process with the tracing plugin switched on,
then merges what every process wrote into one Chrome-trace/Perfetto file and a text summary.

  CPU mode (default without a GPU): vLLM's EngineCore, Scheduler and KV-cache manager drive a
  SIMULATED executor (no model runs) - the scheduling you see is vLLM's own.
  GPU mode: real vLLM on --model (a local directory or an id), e.g. --load-format dummy.

Outputs under --out: otel/*.jsonl (OTLP JSON lines, one file per process), viz/*.json (VizTracer
windows per process), merged.json.gz (open in ui.perfetto.dev), summary.txt, summary.json
(anchor -> calls/total/p50/p99), steps.json, tokens.json, run.json and vllm.log.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from ..errors import EXIT_OK, VmasteryError
from ..files import write_atomic
from . import merge, process, summary
from .spec import load


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=["auto", "cpu", "gpu"], default="auto",
                        help="auto: gpu when torch sees a CUDA device, else cpu (default)")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: _build/trace)")
    parser.add_argument("--level", choices=["off", "span", "fine"], default="fine",
                        help="span: OTel tracepoint spans; fine: also the VizTracer call timeline")
    parser.add_argument("--model", help="GPU mode: model directory or id")
    parser.add_argument("--load-format", default="auto", help="GPU mode: e.g. dummy (random weights)")
    parser.add_argument("--eager", action="store_true", help="GPU mode: no torch.compile / CUDA graphs")
    parser.add_argument("--workload", default="{}",
                        help='JSON overrides of the request mix, e.g. \'{"requests": 64}\'')
    parser.add_argument("--otlp-endpoint", default=None, help="also send spans to this OTLP/HTTP endpoint")
    parser.add_argument("--site-base", default=os.environ.get(process.ENV_SITE, process.DEFAULT_SITE),
                        help="base URL of the annotated-source site for event links")
    parser.add_argument("--merge-only", action="store_true",
                        help="do not run vLLM; re-merge and summarise what --out already holds")


def run(args: argparse.Namespace) -> int:
    root = Path(getattr(args, "root", Path.cwd())).resolve()
    out = (args.out or root / "_build" / "trace").resolve()
    points, problems = load(root)
    if problems:
        raise VmasteryError("tracepoint declarations have problems:\n" + "\n".join(p.render() for p in problems))
    if not args.merge_only:
        mode = args.mode if args.mode != "auto" else ("gpu" if _has_gpu() else "cpu")
        if mode == "gpu" and not args.model:
            raise VmasteryError("GPU mode needs --model (a model directory or id); "
                                "add --load-format dummy for random weights")
        try:
            workload = json.loads(args.workload)
        except json.JSONDecodeError as error:
            raise VmasteryError(f"--workload is not JSON: {error}; e.g. '{{\"requests\": 64}}'") from None
        options = {"workload": workload, "model": args.model, "load_format": args.load_format,
                   "eager": args.eager}
        rc = drive(out, mode, options, args.level, root, args.site_base, args.otlp_endpoint)
        if rc != 0:
            raise VmasteryError(f"the traced vLLM run failed (exit {rc}); see {out / 'vllm.log'}")
    if args.merge_only or args.level != "off":
        report(out, root, points, args.site_base)
    return EXIT_OK


def _has_gpu() -> bool:
    try:
        import torch
        return torch.cuda.is_available()
    except Exception:
        return False


def drive(out: Path, mode: str, options: dict, level: str, root: Path, site_base: str,
          otlp: str | None) -> int:
    """Run the workload in a child process with tracing env set; its output goes to vllm.log too."""
    for stale in ("otel", "viz", "cost"):
        shutil.rmtree(out / stale, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("VMASTERY_TRACE")}
    # The traced layout is vLLM's default one: EngineCore in a process of its own. A caller's
    # in-process setting (a lab, a notebook) must not silently fold the processes together.
    env["VLLM_ENABLE_V1_MULTIPROCESSING"] = "1"
    if level != "off":
        env.update({process.ENV_DIR: str(out), process.ENV_LEVEL: level, process.ENV_SITE: site_base,
                    "VMASTERY_ROOT": str(root)})
        if otlp:
            env[process.ENV_OTLP] = otlp
    command = [sys.executable, "-m", "vmastery.tracing.drive", str(out), mode, json.dumps(options)]
    (out / "command.txt").write_text(" ".join(command) + "\n", encoding="utf-8")
    with open(out / "vllm.log", "w", encoding="utf-8") as log:
        child = subprocess.Popen(command, env=env, cwd=root, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
        for line in child.stdout:
            log.write(line)
            if line.startswith("[vmastery trace]") or "Error" in line:
                print(line, end="", flush=True)
        return child.wait()


def report(out: Path, root: Path, points, site_base: str) -> dict:
    """Merge the per-process files and write the summaries; returns the per-tracepoint table."""
    from ..symbols import index_for

    index = index_for(root, progress=False)
    trace = merge.read(out)
    if not trace.spans and not trace.viz:
        raise VmasteryError(f"no trace files under {out}: was the run traced (--level span|fine)?")
    fine = {p.anchor: f"{p.file}:{p.line}" for p in points if p.level == "fine"}
    merge.write(out / "merged.json.gz", merge.chrome(trace, site_base, index, fine))
    table = summary.per_tracepoint(trace, points, index)
    steps = summary.per_step(trace)
    run_info = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {}
    header = [f"vLLM Mastery trace - {run_info.get('mode', '?')} mode ({run_info.get('label', '')})",
              f"requests {run_info.get('requests', '?')}, generated tokens {run_info.get('generated_tokens', '?')}, "
              f"front-end steps {run_info.get('frontend_steps', '?')}, spans {len(trace.spans)}, "
              f"VizTracer windows {len(trace.viz)}"]
    header += summary.own_cost([json.loads(f.read_text()) for f in sorted((out / "cost").glob("*.json"))])
    _write(out / "summary.txt", summary.render(table, steps, header))
    _write(out / "summary.json", json.dumps(table, indent=1, sort_keys=True) + "\n")
    _write(out / "steps.json", json.dumps(steps, indent=1) + "\n")
    print(f"[vmastery trace] wrote {out / 'merged.json.gz'} (open in https://ui.perfetto.dev) and "
          f"{out / 'summary.txt'}")
    return table


def _write(path: Path, text: str) -> None:
    write_atomic(path, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trace_request.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except VmasteryError as error:
        print(f"trace: {error}", file=sys.stderr)
        return error.exit_code
