#!/usr/bin/env bash
# The whole GPU session on the lent H200, in one device call once every bundle part is under
# /tmp/vmb (earlier calls copy them there; see README.md). Writes what comes back under $OUT:
#   reference.tar.xz - the raw per-process trace files of one traced run (merged here afterwards)
#   bench/           - overhead.json and its log
set -u
B=/tmp/vmb
mkdir -p "$B" "$OUT/bench"
cp .whl/bundle/part-* .whl/bundle/manifest.json "$B"/ 2>/dev/null
ls -la "$B"
[ -d "$B/x/site" ] || python3 tools/gpu_bundle.py unpack "$B" "$B/x" || exit 3
# No DeepGEMM in the bundle (FP8-only kernels; a bf16 model does not need them).
export PYTHONPATH="$B/x/site:$PWD" VLLM_USE_FLASHINFER_SAMPLER=0 HF_HUB_OFFLINE=1 VLLM_USE_DEEP_GEMM=0
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/bench/gpu.txt"
python3 -c "import vllm, torch, viztracer; print('vllm', vllm.__version__, 'torch', torch.__version__, 'viztracer', viztracer.__version__)" | tee -a "$OUT/bench/gpu.txt"

# 1. One traced run of the request mix through real vLLM (EngineCore in its own process), OTel + VizTracer.
REF="$B/reference"
CMD="python3 -c 'from pathlib import Path; from vmastery.tracing import cli; raise SystemExit(cli.drive(Path(\"$REF\"), \"gpu\", {\"model\": \"$B/x/model\", \"load_format\": \"dummy\", \"eager\": True}, \"fine\", Path(\".\").resolve(), \"https://vllm-mastery.github.io\", None))'"
echo "$CMD" > "$OUT/bench/reference-command.txt"
VMASTERY_VIZ_MIN_US=5 timeout 240 bash -c "$CMD"; echo "reference rc=$?"
rm -rf "$REF/model"
tar -C "$B" -cJf "$OUT/reference.tar.xz" reference
ls -la "$OUT"

# 2. Overhead, interleaved, one engine, same prompts; also the greedy token-identity check.
timeout 330 python3 benchmarks/tracing/overhead.py "$B/bench" --model "$B/x/model" --rounds 5 --requests 1024 2>&1 | tee "$OUT/bench/overhead.log" | grep -v "^INFO\|^(EngineCore" | tail -40
cp "$B/bench/overhead.json" "$OUT/bench/" 2>/dev/null
echo done
