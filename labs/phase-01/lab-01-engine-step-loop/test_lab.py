"""Grades lab 01: the toy EngineCore.step, LLMEngine.step and generate loops."""
from __future__ import annotations


def test_idle_core_does_not_run_the_model(impl):
    core = impl.ToyEngineCore(impl.ToyScheduler(), impl.ToyModel())
    assert core.step() == []
    assert core.model.forward_calls == 0


def test_core_step_schedules_executes_and_updates(impl):
    core = impl.ToyEngineCore(impl.ToyScheduler(token_budget=8), impl.ToyModel("xy"))
    core.add_request(impl.CoreRequest("0", impl.toy_encode("abcdefghij"), max_tokens=5))  # 10-token prompt
    assert core.step() == []                      # first chunk: 8 of 10 prompt tokens, no token yet
    assert core.scheduler.requests["0"].num_computed_tokens == 8
    out = core.step()                             # rest of the prompt -> first sampled token
    assert [(o.request_id, o.new_token_ids) for o in out] == [("0", impl.toy_encode("x"))]
    assert core.model.forward_calls == 2


def test_generate_returns_prompt_order_and_script_text(impl):
    outs = impl.generate(impl.make_engine(), ["the capital of france is", "hi"], max_tokens=5)
    assert [o.request_id for o in outs] == ["0", "1"]
    assert [o.text for o in outs] == ["paris", "paris"]
    assert all(o.finish_reason == "length" and len(o.token_ids) == 5 for o in outs)


def test_requests_share_steps(impl):
    """Continuous batching: two short requests take as many steps as one, not twice as many."""
    one = impl.make_engine(token_budget=16)
    impl.generate(one, ["ab"], max_tokens=6)
    two = impl.make_engine(token_budget=16)
    impl.generate(two, ["ab", "cd"], max_tokens=6)
    assert two.core.model.forward_calls == one.core.model.forward_calls == 6


def test_stop_string_cuts_text_and_aborts_core(impl):
    engine = impl.make_engine()
    outs = impl.generate(engine, ["q", "r"], max_tokens=20, stop=[" is", "."])
    for o in outs:
        assert o.text == "paris"           # " is" occurs first in the text, so the cut is there
        assert o.finish_reason == "stop" and o.stop_reason == " is"
    assert sorted(engine.aborts_sent) == ["0", "1"]
    assert not engine.core.scheduler.has_requests()   # the core freed them


def test_eos_finishes_in_core_without_abort(impl):
    engine = impl.make_engine(script="ok")
    (out,) = impl.generate(engine, ["go"], max_tokens=10)
    assert out.text == "ok" and out.finish_reason == "stop" and out.stop_reason is None
    assert out.token_ids[-1] == impl.EOS
    assert engine.aborts_sent == []


def test_final_only_intermediate_steps_return_nothing(impl):
    engine = impl.make_engine()
    engine.add_request("hello", max_tokens=3)
    results = []
    while engine.has_unfinished_requests():
        results.append(engine.step())
    assert all(r == [] for r in results[:-1]) and len(results[-1]) == 1
