"""The plugin's promises to vLLM: silent when off, never changes a call, reports missing symbols once."""
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from vmastery.tracing import plugin, process
from vmastery.tracing.spec import Tracepoint

ROOT = Path(__file__).resolve().parents[2]


def test_register_is_a_no_op_without_the_environment():
    code = ("import os; os.environ.pop('VMASTERY_TRACE', None)\n"
            "from vmastery.tracing import plugin; plugin.register()\n"
            "import sys; from vllm.v1.core.sched.scheduler import Scheduler\n"
            "print(plugin._installed, hasattr(Scheduler.schedule, plugin.MARK), "
            "any(type(f).__name__ == '_PatchOnImport' for f in sys.meta_path))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "False False False", result.stderr[-2000:]


class Engine:
    def step(self, scheduler_output=None):
        if scheduler_output == "boom":
            raise ValueError("vLLM's own error")
        return ["out"]


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setattr(process, "_CONFIG", dict(out=tmp_path, level="span", site_base="https://s", otlp=None))
    monkeypatch.setattr(process, "_STATE", None)
    monkeypatch.setattr(process, "ENABLED", True)
    return process.current()


def _point(**kw):
    return Tracepoint(anchor="vllm/x.py::Engine.step", level="span", why="test", attributes=("num_outputs",), **kw)


def test_wrapper_returns_and_raises_exactly_what_the_call_does(state):
    traced = plugin._wrap(Engine.step, _point(), simulated=False)
    assert traced(Engine()) == ["out"]
    with pytest.raises(ValueError, match="vLLM's own error"):
        traced(Engine(), "boom")
    spans = state.buffer.take()
    readable = [s.readable(state.provider.resource) for s in spans]  # what the exporters get
    assert [s.status.status_code.name for s in readable] == ["UNSET", "ERROR"]
    assert readable[1].events[0].attributes["exception.type"] == "ValueError"
    assert spans[0].attributes["vllm.num_outputs"] == 1
    assert spans[0].attributes["vmastery.link"] == "https://s/source/vllm/x.py.html#Engine.step"
    state.buffer.spans.extend(spans)
    state.flush()
    line = json.loads((state.out / "otel" / f"{state.role}-{state.pid}.jsonl").read_text())
    span = line["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert len(span["spanId"]) == 16 and int(span["spanId"], 16)  # OTLP/JSON: hex ids


def test_switched_off_wrappers_record_nothing(state, monkeypatch):
    traced = plugin._wrap(Engine.step, _point(), simulated=False)
    traced(Engine())
    monkeypatch.setattr(process, "ENABLED", False)
    assert traced(Engine()) == ["out"]
    monkeypatch.setattr(process, "ENABLED", True)
    traced(Engine())
    assert len(state.buffer.take()) == 2


def test_a_broken_attribute_never_reaches_the_caller(state, monkeypatch):
    def broken(obj, get, result):
        raise RuntimeError("bug in an extractor")
    monkeypatch.setitem(plugin.EXTRACTORS, "num_outputs", broken)
    traced = plugin._wrap(Engine.step, _point(), simulated=False)
    assert traced(Engine()) == ["out"]


def test_missing_symbol_warns_and_the_rest_still_trace(caplog):
    module = type(sys)("fake_vllm_module")
    module.Engine = type("Engine", (), {"step": Engine.step})
    missing = Tracepoint(anchor="vllm/x.py::Engine.gone", level="span", why="t")
    present = Tracepoint(anchor="vllm/x.py::Engine.step", level="span", why="t")
    with caplog.at_level(logging.WARNING, logger="vmastery.tracing"):
        plugin._patch_module(module, [("Engine.gone", missing, False), ("Engine.step", present, False)])
    assert "Engine.gone" in caplog.text and "not found" in caplog.text
    assert getattr(module.Engine.step, plugin.MARK) == present.anchor


def test_traceparent_round_trips_through_the_otel_propagator():
    """Our hand-rolled W3C header must read and write exactly as OpenTelemetry's propagator does."""
    from opentelemetry import trace
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    from vmastery.tracing.lean import parse_traceparent, traceparent

    ids = (0x0AF7651916CD43DD8448EB211C80319C, 0xB7AD6B7169203331)
    ctx = trace.get_current_span(TraceContextTextMapPropagator().extract(traceparent(ids))).get_span_context()
    assert (ctx.trace_id, ctx.span_id, ctx.trace_flags.sampled) == (*ids, True)
    assert parse_traceparent({"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}) == ids
    assert parse_traceparent({"traceparent": "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x"}) == ids
    for bad in ["", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",  # upper case
                "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # forbidden version
                "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # zero trace id
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",  # v00 has 4 fields
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b716920333-01"]:
        assert parse_traceparent({"traceparent": bad}) is None, bad
    assert parse_traceparent(None) is None and parse_traceparent({}) is None


def test_wrappers_clock_their_own_cost(state):
    traced = plugin._wrap(Engine.step, _point(), simulated=False)
    for _ in range(10):
        traced(Engine())
    assert state.traced_calls == 10 and state.cost_ns > 0
    state.flush()
    record = json.loads((state.out / "cost" / f"{state.role}-{state.pid}.json").read_text())
    assert record["traced_calls"] == 10 and record["cost_ns"] == state.cost_ns


def test_control_switches_level_and_reports_cost_in_this_process(state, monkeypatch):
    """With EngineCore in-process there is no utility channel: control() acts here only."""
    traced = plugin._wrap(Engine.step, _point(), simulated=False)
    engine = type("LLMEngine", (), {"engine_core": object()})()
    monkeypatch.setattr(process, "AUTO_FLUSH", process.AUTO_FLUSH)  # restored after the test
    monkeypatch.setattr(process, "set_level", lambda level: setattr(process, "ENABLED", level != "off"))
    plugin.control(engine, level="off")
    traced(Engine())
    assert plugin.control(engine)[0]["traced_calls"] == 0
    plugin.control(engine, level="span", auto_flush=False)
    traced(Engine())
    (report,) = plugin.control(engine, flush=True)
    assert report["traced_calls"] == 1 and report["cost_ns"] > 0 and not process.AUTO_FLUSH
    assert (state.out / "otel").exists()


def test_control_reaches_enginecore_in_its_own_process(tmp_path):
    """vLLM's default layout: the level switch and the cost report cross to EngineCore and back."""
    code = f"""
import os, json
os.environ["VMASTERY_TRACE"] = {str(tmp_path)!r}
from pathlib import Path
from vllm import SamplingParams
from vllm.v1.engine.llm_engine import LLMEngine
from vmastery.tracing.drive import Workload, cpu_engine_args
from vmastery.tracing.plugin import control
engine = LLMEngine.from_engine_args(cpu_engine_args(Path({str(tmp_path)!r}), Workload(requests=2)))
control(engine, level="off", auto_flush=False)
engine.add_request("a", {{"prompt_token_ids": [5] * 20}}, SamplingParams(max_tokens=4, ignore_eos=True))
while engine.has_unfinished_requests():
    engine.step()
quiet = control(engine)
control(engine, level="span")
engine.add_request("b", {{"prompt_token_ids": [6] * 20}}, SamplingParams(max_tokens=4, ignore_eos=True))
while engine.has_unfinished_requests():
    engine.step()
print("RESULT", json.dumps([quiet, control(engine, level="off", flush=True)]))
engine.engine_core.shutdown()
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=240)
    line = [x for x in result.stdout.splitlines() if x.startswith("RESULT ")]
    assert line, result.stderr[-3000:]
    quiet, loud = json.loads(line[0][7:])
    assert [r["process"] for r in loud] == ["frontend", "EngineCore"]
    assert all(r["traced_calls"] == 0 for r in quiet)  # switched off everywhere: nothing recorded
    assert all(r["traced_calls"] > 0 for r in loud)  # switched on everywhere, from the front-end
    assert list((tmp_path / "otel").glob("EngineCore-*.jsonl"))  # flushed on request, in EngineCore
