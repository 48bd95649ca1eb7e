"""Grades lab 3.1. The expected traces were produced by vLLM 0.22.1's real Scheduler on CPU:
course/phase-03-scheduler/measurements/real_scheduler_steps.txt, scenarios A, B, C and G."""
from collections import deque

from hypothesis import HealthCheck, given, settings, strategies as st


def reqs(impl, max_tokens):
    return [impl.Req("r0", 100, max_tokens), impl.Req("r1", 40, max_tokens), impl.Req("r2", 10, max_tokens)]


def test_matches_real_vllm_chunked_budget_64(impl):  # scenario A
    trace = impl.simulate(reqs(impl, 5), impl.Config(budget=64))
    assert trace == [{"r0": 64}, {"r0": 36, "r1": 28}, {"r0": 1, "r1": 12, "r2": 10},
                     {"r0": 1, "r1": 1, "r2": 1}, {"r0": 1, "r1": 1, "r2": 1}, {"r0": 1, "r1": 1, "r2": 1},
                     {"r1": 1, "r2": 1}]


def test_matches_real_vllm_chunked_budget_128(impl):  # scenario B
    trace = impl.simulate(reqs(impl, 3), impl.Config(budget=128))
    assert trace == [{"r0": 100, "r1": 28}, {"r0": 1, "r1": 12, "r2": 10}, {"r0": 1, "r1": 1, "r2": 1},
                     {"r1": 1, "r2": 1}]


def test_matches_real_vllm_without_chunking(impl):  # scenario C: r1 does not fit whole, so admission stops
    trace = impl.simulate(reqs(impl, 3), impl.Config(budget=128, chunked=False))
    assert trace == [{"r0": 100}, {"r0": 1, "r1": 40, "r2": 10}, {"r0": 1, "r1": 1, "r2": 1}, {"r1": 1, "r2": 1}]


def test_matches_real_vllm_long_prefill_threshold(impl):  # scenario G
    trace = impl.simulate(reqs(impl, 3), impl.Config(budget=128, long_prefill_threshold=32))
    assert trace == [{"r0": 32, "r1": 32, "r2": 10}, {"r0": 32, "r1": 8, "r2": 1}, {"r0": 32, "r1": 1, "r2": 1},
                     {"r0": 4, "r1": 1}, {"r0": 1}, {"r0": 1}]


def test_running_before_waiting_and_max_num_seqs(impl):
    running = [impl.Req("a", 5, 10, num_computed_tokens=5, num_output_tokens=1)]  # decoding: wants 1
    waiting = deque([impl.Req("b", 50, 2), impl.Req("c", 50, 2)])
    plan = impl.schedule(running, waiting, impl.Config(budget=30, max_num_seqs=2))
    assert list(plan) == ["a", "b"], "running first, then one admission (max_num_seqs=2)"
    assert plan == {"a": 1, "b": 29}
    assert [r.rid for r in running] == ["a", "b"] and [r.rid for r in waiting] == ["c"]
    assert running[1].num_computed_tokens == 29, "the plan is committed before the model runs"


def test_partial_prefill_produces_no_token(impl):
    running, waiting = [], deque([impl.Req("a", 50, 2)])
    plan = impl.schedule(running, waiting, impl.Config(budget=20))
    assert impl.apply_outputs(running, plan) == [] and running[0].num_output_tokens == 0
    plan = impl.schedule(running, waiting, impl.Config(budget=40))
    assert plan == {"a": 30}
    impl.apply_outputs(running, plan)
    assert running[0].num_output_tokens == 1, "the step that completes the prompt samples the first token"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prompts=st.lists(st.integers(1, 200), min_size=1, max_size=8), max_tokens=st.integers(1, 6),
       budget=st.integers(8, 256), seqs=st.integers(1, 8), chunked=st.booleans(), thr=st.integers(0, 64))
def test_invariants(impl, prompts, max_tokens, budget, seqs, chunked, thr):
    if not chunked:
        budget = max(budget, max(prompts))  # vLLM refuses a budget below max_model_len without chunking
    rs = [impl.Req(f"r{i}", p, max_tokens) for i, p in enumerate(prompts)]
    trace = impl.simulate(rs, impl.Config(budget=budget, max_num_seqs=seqs, chunked=chunked,
                                          long_prefill_threshold=thr))
    for plan in trace:
        assert 0 < sum(plan.values()) <= budget and len(plan) <= seqs
        assert all(n > 0 for n in plan.values())
        if thr:
            assert all(n <= thr for n in plan.values())
    for r in rs:
        # every prompt token once, then one token per decode step (the last sampled token never needs KV)
        assert sum(p.get(r.rid, 0) for p in trace) == r.prompt_len + max_tokens - 1
        assert r.num_output_tokens == max_tokens
