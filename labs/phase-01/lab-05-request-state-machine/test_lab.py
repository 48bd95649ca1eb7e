"""Grades lab 05: the two views of a request, checked against vLLM's real RequestStatus."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vllm.v1.request import RequestStatus

S = RequestStatus


def run(impl, *events):
    views = impl.RequestViews()
    for e in events:
        views.apply(e)
    return views


def test_happy_path_length(impl):
    v = run(impl, ("add",), ("schedule",), ("token", None), ("token", "length"))
    assert v.core == S.FINISHED_LENGTH_CAPPED and v.user_finish == "length" and v.tokens_seen_by_user == 2
    assert v.settled()


def test_eos_and_stop_token_both_map_to_stop(impl):
    for why in ("eos", "stop_token"):
        v = run(impl, ("add",), ("schedule",), ("token", why))
        assert v.core == S.FINISHED_STOPPED and v.user_finish == "stop"


def test_stop_string_core_records_abort_user_sees_stop(impl):
    v = run(impl, ("add",), ("schedule",), ("token", None), ("stop_string",))
    assert v.user_finish == "stop" and v.core == S.RUNNING and not v.settled()
    v.apply(("token", None))                      # the core raced ahead one step: dropped for the user
    assert v.tokens_seen_by_user == 1
    v.apply(("deliver_abort",))
    assert v.core == S.FINISHED_ABORTED and v.user_finish == "stop" and v.settled()
    assert str(S.get_finished_reason(v.core)) == "abort"   # two views, two different reasons


def test_preemption_round_trip(impl):
    v = run(impl, ("add",), ("schedule",), ("token", None), ("preempt",), ("schedule",), ("token", "eos"))
    assert v.core == S.FINISHED_STOPPED and v.tokens_seen_by_user == 2


def test_user_abort_while_waiting_and_after_core_finish(impl):
    v = run(impl, ("add",), ("user_abort",), ("deliver_abort",))
    assert v.core == S.FINISHED_ABORTED and v.user_finish == "abort" and v.settled()
    with pytest.raises(impl.IllegalTransition):
        run(impl, ("add",), ("schedule",), ("token", "length"), ("user_abort",))


@pytest.mark.parametrize("events", [
    [("schedule",)],
    [("add",), ("add",)],
    [("add",), ("token", None)],
    [("add",), ("preempt",)],
    [("add",), ("schedule",), ("schedule",)],
    [("add",), ("schedule",), ("token", "length"), ("token", None)],
    [("add",), ("schedule",), ("stop_string",)],
    [("add",), ("deliver_abort",)],
    [("add",), ("schedule",), ("token", "bogus")],
])
def test_illegal_transitions_raise_and_change_nothing(impl, events):
    v = impl.RequestViews()
    with pytest.raises(impl.IllegalTransition):
        for e in events:
            before = (v.core, v.user_finish, v.tokens_seen_by_user, v.abort_in_flight)
            v.apply(e)
    assert (v.core, v.user_finish, v.tokens_seen_by_user, v.abort_in_flight) == before


EVENTS = st.sampled_from([("schedule",), ("preempt",), ("token", None), ("token", "eos"), ("token", "length"),
                          ("stop_string",), ("user_abort",), ("deliver_abort",)])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(EVENTS, max_size=25))
def test_invariants_under_random_event_sequences(impl, events):
    v = impl.RequestViews()
    v.apply(("add",))
    for e in events:
        before_core, before_user = v.core, v.user_finish
        try:
            v.apply(e)
        except impl.IllegalTransition:
            continue
        # a finished status never changes; what the user was told never changes
        if RequestStatus.is_finished(before_core):
            assert v.core == before_core
        if before_user is not None:
            assert v.user_finish == before_user
        # a core-side finish is reported to the user in the same step unless the user already finished
        if RequestStatus.is_finished(v.core) and not v.abort_in_flight:
            assert v.user_finish is not None
    # delivering any pending abort always settles the request
    if v.abort_in_flight:
        v.apply(("deliver_abort",))
        assert v.settled()
