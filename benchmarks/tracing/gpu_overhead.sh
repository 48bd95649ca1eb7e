#!/usr/bin/env bash
# Overhead runs on the lent H200 (see README.md for the history). Expects the bundle parts under
# /tmp/vmb (copied there by earlier device calls) or beside this checkout in .whl/bundle.
#   RUN=v6 WORKLOADS="small-256 small-256-mp" bash benchmarks/tracing/gpu_overhead.sh
# A workload is SHAPE-REQUESTS[-mp]: SHAPE "small" is the bundle's model, "8b" the same config with
# the layer sizes of an 8B Llama; "-mp" keeps EngineCore in its own process (vLLM's default). Writes $OUT/h200-<workload>-$RUN/{command.txt,overhead.log,overhead.json}.
set -u
B=/tmp/vmb
mkdir -p "$B"
cp .whl/bundle/part-* .whl/bundle/manifest.json "$B"/ 2>/dev/null
[ -d "$B/x/site" ] || python3 tools/gpu_bundle.py unpack "$B" "$B/x" || exit 3
export PYTHONPATH="$B/x/site:$PWD" VLLM_USE_FLASHINFER_SAMPLER=0 HF_HUB_OFFLINE=1 VLLM_USE_DEEP_GEMM=0
for w in ${WORKLOADS:-small-256}; do
  base=${w%-mp}; shape=${base%-*}; n=${base#*-}
  mp=$([ "$base" != "$w" ] && echo --engine-process)
  case "$base" in small-256) series="span:24 fine:${FINE:-6}" ;; 8b-*) series="span:10 fine:4" ;; *) series="span:8 fine:3" ;; esac
  [ "$shape" = small ] && shape=bundle
  d="$OUT/h200-$w-${RUN:-v6}"; mkdir -p "$d"
  cmd="python3 benchmarks/tracing/overhead.py $B/bench-$w --model $B/x/model --shape $shape --series $series --requests $n $mp"
  echo "$cmd" > "$d/command.txt"
  timeout "${LIMIT:-250}" $cmd > "$d/overhead.log" 2>&1
  echo "$w rc=$?"
  cp "$B/bench-$w/overhead.json" "$d/" 2>/dev/null
  grep -v "^INFO\|^(EngineCore\|^WARNING\|^DEBUG" "$d/overhead.log" | grep -v '^{"round"' | tail -60
done
