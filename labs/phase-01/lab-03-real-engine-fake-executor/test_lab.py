"""Grades lab 03: a fake worker that keeps the GPUModelRunner contract, under the real vLLM engine.

One engine is built per implementation and shared by the tests (building it costs seconds); every
test uses its own prompts and resets the worker's step log.
"""
import os

import pytest

_ENGINES = {}


@pytest.fixture(scope="module", autouse=True)
def in_process_engine():
    """EngineCore in this process, for these tests only: the setting must not leak into other suites."""
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "VLLM_ENABLE_V1_MULTIPROCESSING")}
    os.environ.update({"HF_HUB_OFFLINE": "1", "VLLM_ENABLE_V1_MULTIPROCESSING": "0"})
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    _ENGINES.clear()


@pytest.fixture
def engine(impl):
    if impl.__name__ not in _ENGINES:
        _ENGINES[impl.__name__] = impl.build_engine()
    eng = _ENGINES[impl.__name__]
    eng.model_executor.worker.step_log.clear()
    return eng


def _script_text(impl, engine, n):
    worker = engine.model_executor.worker
    return engine.get_tokenizer().decode(worker.script[:n])


def test_script_tokens_and_length_finish(impl, engine):
    outs = impl.run_generate(engine, ["The capital of France is", "Rome"], impl.SamplingParams(max_tokens=5))
    assert [o.request_id for o in outs] == ["0", "1"]
    for o in outs:
        (c,) = o.outputs
        assert len(c.token_ids) == 5 and c.finish_reason == "length"
        assert c.text == _script_text(impl, engine, 5)


def test_stop_string_found_in_frontend_and_aborted_in_core(impl, engine):
    (o,) = impl.run_generate(engine, ["Tell me the capital of Italy"], impl.SamplingParams(max_tokens=30, stop=["."]))
    c = o.outputs[0]
    assert c.text == " Paris is the capital"
    assert c.finish_reason == "stop" and c.stop_reason == "."
    # The core never saw text: the front-end had to abort the request there.
    assert engine.engine_core.engine_core.scheduler.get_num_unfinished_requests() == 0


def test_eos_finishes_in_the_core(impl, engine):
    (o,) = impl.run_generate(engine, ["What is next?"], impl.SamplingParams(max_tokens=100))
    c = o.outputs[0]
    worker = engine.model_executor.worker
    assert c.finish_reason == "stop" and c.stop_reason is None
    assert c.text == impl.SCRIPT_TEXT
    assert list(c.token_ids) == worker.script


def test_chunked_prefill_emits_no_token_before_the_prompt_is_done(impl, engine):
    prompt = " ".join(["the quick brown fox jumps over the lazy dog"] * 15)
    n_prompt = len(engine.get_tokenizer().encode(prompt, add_special_tokens=False))
    assert n_prompt > 64
    (o,) = impl.run_generate(engine, [prompt], impl.SamplingParams(max_tokens=4))
    per_step = [sum(s.values()) for s in engine.model_executor.worker.step_log]
    assert per_step[0] == 64                                  # the token budget cut the prompt
    assert sum(per_step) == n_prompt + 3                      # prompt once, then one token per decode
    assert o.outputs[0].text == _script_text(impl, engine, 4)


def test_parallel_sampling_fans_out_in_the_frontend(impl, engine):
    (o,) = impl.run_generate(engine, ["Is Rome next"], impl.SamplingParams(n=3, temperature=1.0, max_tokens=3))
    assert len(o.outputs) == 3 and o.request_id == "0"
    assert {c.text for c in o.outputs} == {_script_text(impl, engine, 3)}
    # Three independent requests reached the worker, each with its own internal id.
    assert len(engine.model_executor.worker.step_log[0]) == 3


def test_worker_sees_internal_ids(impl, engine):
    (o,) = impl.run_generate(engine, ["quick fox"], impl.SamplingParams(max_tokens=2))
    (internal_id,) = engine.model_executor.worker.step_log[0]
    assert internal_id != o.request_id and internal_id.startswith(o.request_id + "-")
