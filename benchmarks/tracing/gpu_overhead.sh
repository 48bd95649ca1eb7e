#!/usr/bin/env bash
# Second overhead run on the lent H200, after the span level was slimmed to one OTel span per stage
# of a step (front-end step and worker shell moved to `fine`; scheduler links only for requests a
# step admits or resumes). Expects the bundle parts under /tmp/vmb (copied by earlier calls, see
# README.md). Writes $OUT/h200-256req-$RUN/ and $OUT/h200-1024req-$RUN/ (RUN defaults to v2).
set -u
B=/tmp/vmb
mkdir -p "$B"
cp .whl/bundle/part-* .whl/bundle/manifest.json "$B"/ 2>/dev/null
[ -d "$B/x/site" ] || python3 tools/gpu_bundle.py unpack "$B" "$B/x" || exit 3
export PYTHONPATH="$B/x/site:$PWD" VLLM_USE_FLASHINFER_SAMPLER=0 HF_HUB_OFFLINE=1 VLLM_USE_DEEP_GEMM=0
for n in 256 1024; do
  d="$OUT/h200-${n}req-${RUN:-v2}"; mkdir -p "$d"
  rounds=$([ "$n" = 256 ] && echo 7 || echo 5)
  echo "python3 benchmarks/tracing/overhead.py $B/x/model $B/bench-$n --rounds $rounds --requests $n" > "$d/command.txt"
  timeout 270 python3 benchmarks/tracing/overhead.py "$B/x/model" "$B/bench-$n" --rounds "$rounds" --requests "$n" \
    > "$d/overhead.log" 2>&1
  echo "requests=$n rc=$?"
  cp "$B/bench-$n/overhead.json" "$d/" 2>/dev/null
  grep -v "^INFO\|^(EngineCore\|^WARNING" "$d/overhead.log" | tail -12
done
