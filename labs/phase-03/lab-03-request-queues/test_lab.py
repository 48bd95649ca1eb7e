"""Grades lab 3.3 by differential testing against vLLM 0.22.1's own request queues."""
import logging
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
logging.disable(logging.WARNING)
from vllm.sampling_params import SamplingParams  # noqa: E402
from vllm.v1.core.sched.request_queue import SchedulingPolicy, create_request_queue  # noqa: E402
from vllm.v1.request import Request  # noqa: E402

OPS = st.lists(st.tuples(st.sampled_from(["add", "pop", "peek", "prepend", "prepend_all", "remove", "iter"]),
                         st.integers(0, 3), st.integers(0, 5)), max_size=40)


def real_request(rid: str, priority: int, arrival: float) -> Request:
    return Request(rid, [1, 2, 3], SamplingParams(max_tokens=1), None, priority=priority, arrival_time=arrival)


def replay(impl, policy: str, ops) -> None:
    mine = impl.FCFSQueue() if policy == "fcfs" else impl.PriorityQueue()
    real = create_request_queue(SchedulingPolicy(policy))
    pairs, popped, counter = [], [], 0   # pairs: (mine, real) twins currently in the queues
    for op, prio, arrival in ops:
        if op in ("add", "prepend"):
            counter += 1
            twin = (impl.Req(f"q{counter}", prio, float(arrival)), real_request(f"q{counter}", prio, float(arrival)))
            getattr(mine, op)(twin[0])
            (real.add_request if op == "add" else real.prepend_request)(twin[1])
            pairs.append(twin)
        elif op == "prepend_all":
            block = [(impl.Req(f"b{counter}{i}", prio, float(arrival + i)),
                      real_request(f"b{counter}{i}", prio, float(arrival + i))) for i in range(3)]
            counter += 1
            other_real = create_request_queue(SchedulingPolicy(policy))
            for _, r in block:
                other_real.add_request(r)
            mine.prepend_all([m for m, _ in block] if policy == "fcfs" else [m for m, _ in block][::-1])
            real.prepend_requests(other_real)
            pairs += block
        elif op in ("pop", "peek") and pairs:
            got_m = getattr(mine, op)()
            got_r = real.pop_request() if op == "pop" else real.peek_request()
            assert got_m.rid == got_r.request_id, f"{op} after {popped}"
            if op == "pop":
                pairs = [p for p in pairs if p[0] is not got_m]
                popped.append(got_m.rid)
        elif op == "remove" and pairs:
            victims = pairs[::2]
            mine.remove_many([m for m, _ in victims])
            real.remove_requests([r for _, r in victims])
            pairs = pairs[1::2]
        elif op == "iter":
            assert [m.rid for m in mine] == [r.request_id for r in real]
        assert len(mine) == len(real)
    assert [m.rid for m in mine] == [r.request_id for r in real]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_fcfs_queue_behaves_like_vllm(impl, ops):
    replay(impl, "fcfs", ops)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_priority_queue_behaves_like_vllm(impl, ops):
    replay(impl, "priority", ops)


def test_prepend_all_reverses(impl):
    q = impl.FCFSQueue()
    q.add(impl.Req("old"))
    q.prepend_all([impl.Req("x"), impl.Req("y")])
    assert [r.rid for r in q] == ["y", "x", "old"], "extendleft semantics: the block lands reversed"


def test_priority_iteration_does_not_consume(impl):
    q = impl.PriorityQueue()
    for rid, p in [("a", 2), ("b", 0), ("c", 1)]:
        q.add(impl.Req(rid, p))
    assert [r.rid for r in q] == ["b", "c", "a"] and len(q) == 3 and q.peek().rid == "b"
    with pytest.raises(IndexError):
        impl.PriorityQueue().peek()


def test_victims(impl):
    run = [impl.Req("a", 1, 0.0), impl.Req("b", 5, 1.0), impl.Req("c", 5, 2.0), impl.Req("d", 0, 3.0)]
    assert impl.preemption_victim(run, "fcfs").rid == "d"
    assert impl.preemption_victim(run, "priority").rid == "c"
    assert impl.Req("x", 0, 9.0) < impl.Req("y", 1, 0.0) and impl.Req("x", 1, 0.0) < impl.Req("y", 1, 0.5)
