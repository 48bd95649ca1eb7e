"""Grades lab 3.4: your fake model output must drive vLLM's real Scheduler to completion, and your
predictions must match what that real Scheduler does."""


def test_fake_output_drives_the_real_scheduler(impl):
    sched = impl.build_scheduler(**impl.CHUNKED)
    outs = impl.run(sched, impl.CHUNKED_ARRIVALS)
    assert not sched.requests and sched.kv_cache_manager.usage == 0.0, "all finished, all blocks back"
    assert [o.total_num_scheduled_tokens for o in outs][-1] == 3


def test_fake_output_rows(impl):
    sched = impl.build_scheduler(budget=48, num_blocks=64)
    sched.add_request(impl.make_request("long", impl.tokens(3, 70), 2))
    sched.add_request(impl.make_request("short", impl.tokens(4, 5), 2))
    out = sched.schedule()  # long gets 48 of 70 tokens: the budget is gone before short is admitted
    mro = impl.fake_model_output(sched, out)
    assert mro.req_ids == ["long"] and mro.req_id_to_index == {"long": 0} and mro.sampled_token_ids == [[]]
    sched.update_from_output(out, mro)
    out = sched.schedule()  # long finishes its prompt (22), short prefills whole (5): both sample
    mro = impl.fake_model_output(sched, out)
    assert mro.req_ids == ["long", "short"] and mro.sampled_token_ids == [[impl.TOKEN], [impl.TOKEN]]
    assert mro.req_id_to_index == {"long": 0, "short": 1}


def test_prediction_chunked_prefill(impl):
    outs = impl.run(impl.build_scheduler(**impl.CHUNKED), impl.CHUNKED_ARRIVALS)
    assert impl.predict_chunked() == [dict(o.num_scheduled_tokens) for o in outs]


def test_prediction_prefix_cache_hit(impl):
    outs = impl.run(impl.build_scheduler(**impl.PREFIX), impl.PREFIX_ARRIVALS)
    seen = {}
    for o in outs:
        for new in o.scheduled_new_reqs:
            seen.setdefault(new.req_id, (new.num_computed_tokens, o.num_scheduled_tokens[new.req_id]))
    assert impl.predict_prefix() == {rid: seen[rid] for rid in ("r1", "r2")}


def test_prediction_preemption(impl):
    outs = impl.run(impl.build_scheduler(**impl.PREEMPT), impl.PREEMPT_ARRIVALS)
    pre = [(i, rid) for i, o in enumerate(outs) for rid in sorted(o.preempted_req_ids or ())]
    assert len(pre) == 1, pre
    step, victim = pre[0]
    back = next(i for i, o in enumerate(outs) if victim in o.scheduled_cached_reqs.resumed_req_ids)
    assert impl.predict_preemption() == (step, victim, back, outs[back].num_scheduled_tokens[victim])
