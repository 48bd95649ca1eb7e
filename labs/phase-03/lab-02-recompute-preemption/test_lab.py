"""Grades lab 3.2 against vLLM 0.22.1's real Scheduler (prefix caching off, 12-block pool = 11 usable):
course/phase-03-scheduler/measurements/real_scheduler_steps.txt, scenarios H (FCFS) and I (priority)."""
from hypothesis import HealthCheck, given, settings, strategies as st

# Per-step total scheduled tokens, read off the real runs.
H_TOTALS = [144] + [2] * 32 + [1] * 7 + [130] + [2] * 6 + [1] * 32
I_TOTALS = [144, 2, 2, 50, 2, 2, 2, 53] + [2] * 22 + [50, 2, 2] + [1] * 26


def run_h(impl):
    st_ = impl.State(num_free=11)
    return st_, impl.simulate(st_, [(0, impl.Req(f"r{i}", 48, 40)) for i in range(3)])


def run_i(impl):
    st_ = impl.State(num_free=11, policy="priority")
    arrivals = [(0, impl.Req(f"r{i}", 48, 30, priority=5, arrival=i * 1e-3)) for i in range(3)]
    arrivals.append((3, impl.Req("r3", 48, 4, priority=0, arrival=3.003)))
    return st_, impl.simulate(st_, arrivals)


def test_preempt_releases_everything(impl):
    st_ = impl.State(num_free=2)
    r = impl.Req("a", 40, 5, num_computed_tokens=40, num_output_tokens=2, blocks=3)
    st_.waiting.append(impl.Req("b", 10, 1))
    impl.preempt(st_, r)
    assert st_.num_free == 5 and r.blocks == 0 and r.num_computed_tokens == 0
    assert r.num_output_tokens == 2, "generated tokens are kept: they will be recomputed, not regenerated"
    assert r.num_preemptions == 1 and st_.waiting[0] is r, "the victim goes to the head of waiting"


def test_fcfs_matches_real_vllm(impl):  # scenario H
    st_, trace = run_h(impl)
    assert [sum(p.values()) for p, _ in trace] == H_TOTALS
    assert {i: pre for i, (_, pre) in enumerate(trace) if pre} == {1: ["r2"], 33: ["r1"]}
    assert trace[40][0] == {"r1": 81, "r2": 49}, "resumed requests recompute prompt + outputs"
    assert st_.num_free == 11, "every block is back in the pool at the end"


def test_priority_matches_real_vllm(impl):  # scenario I
    st_, trace = run_i(impl)
    assert [sum(p.values()) for p, _ in trace] == I_TOTALS
    assert {i: pre for i, (_, pre) in enumerate(trace) if pre} == {1: ["r2"], 4: ["r1"]}
    assert trace[3][0] == {"r0": 1, "r1": 1, "r3": 48}
    assert trace[4][0] == {"r0": 1, "r3": 1}, "r1 was scheduled, then evicted for r3: its budget is handed back"
    assert trace[7][0] == {"r0": 1, "r1": 52}


def test_no_admission_in_a_step_that_preempted(impl):
    st_ = impl.State(num_free=2, block_size=4)
    a = impl.Req("a", 4, 3, num_computed_tokens=4, num_output_tokens=1, blocks=1)
    st_.running.append(a)
    st_.waiting.append(impl.Req("b", 1, 1))
    plan, pre = impl.schedule(st_)
    assert plan == {"a": 1, "b": 1} and pre == [] and [r.rid for r in st_.running] == ["a", "b"]
    assert st_.num_free == 0 and a.blocks == 2, "a's 5th token opened its second block"
    st_ = impl.State(num_free=0, block_size=4)
    a = impl.Req("a", 4, 3, num_computed_tokens=4, num_output_tokens=1, blocks=1)
    b = impl.Req("b", 4, 3, num_computed_tokens=4, num_output_tokens=1, blocks=1)
    st_.running += [a, b]
    st_.waiting.append(impl.Req("c", 1, 1))
    plan, pre = impl.schedule(st_)
    assert pre == ["b"] and plan == {"a": 1}, "FCFS evicts the tail (here: b itself) and then stops"
    assert [r.rid for r in st_.waiting] == ["b", "c"], "and admits nobody in that step"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prompts=st.lists(st.integers(1, 60), min_size=1, max_size=6), max_tokens=st.integers(1, 40),
       pool=st.integers(4, 12), policy=st.sampled_from(["fcfs", "priority"]), prios=st.lists(st.integers(0, 3)))
def test_invariants(impl, prompts, max_tokens, pool, policy, prios):
    bs = 8
    longest = max(prompts) + max_tokens
    pool = max(pool, -(-longest // bs))  # one request alone must always fit, or nothing can finish
    st_ = impl.State(num_free=pool, block_size=bs, budget=64, policy=policy)
    reqs = [impl.Req(f"r{i}", p, max_tokens, priority=(prios[i] if i < len(prios) else 0), arrival=i)
            for i, p in enumerate(prompts)]
    trace = impl.simulate(st_, [(0, r) for r in reqs])
    for plan, _ in trace:
        assert 0 < sum(plan.values()) <= 64
    assert st_.num_free == pool, "no leaked blocks"
    assert all(r.num_output_tokens == max_tokens and r.blocks == 0 for r in reqs)
