"""GPU mode end to end (runs only where a GPU is present): real vLLM, dummy weights, local model."""
import importlib.util
import json
from pathlib import Path

import pytest

from vmastery.tracing import cli, merge

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.gpu
def test_gpu_trace_has_worker_spans_and_same_tokens(tmp_path):
    spec = importlib.util.spec_from_file_location("gpu_bundle", ROOT / "tools" / "gpu_bundle.py")
    bundle = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bundle)
    bundle.make_model(tmp_path / "model")
    options = {"model": str(tmp_path / "model"), "load_format": "dummy", "eager": True,
               "workload": {"requests": 6, "max_tokens": 16}}
    assert cli.drive(tmp_path / "on", "gpu", options, "span", ROOT, "https://s", None) == 0
    assert cli.drive(tmp_path / "off", "gpu", options, "off", ROOT, "https://s", None) == 0
    trace = merge.read(tmp_path / "on")
    anchors = {s.attrs.get("vmastery.anchor") for s in trace.spans}
    for anchor in ["vllm/v1/worker/gpu_model_runner.py::GPUModelRunner.execute_model",
                   "vllm/v1/worker/gpu_model_runner.py::GPUModelRunner.sample_tokens",
                   "vllm/v1/core/sched/scheduler.py::Scheduler.schedule"]:
        assert anchor in anchors
    tokens = [json.loads((tmp_path / d / "tokens.json").read_text()) for d in ("on", "off")]
    assert tokens[0] == tokens[1]
