"""Grades lab 02: READY handshake, message framing, the input/busy-loop/output flow, aborts, idling."""
import time

import msgspec
import pytest
import zmq


@pytest.fixture
def addrs(tmp_path):
    return f"ipc://{tmp_path}/in.sock", f"ipc://{tmp_path}/out.sock"


@pytest.fixture
def pair(impl, addrs):
    client = impl.ToyClient(*addrs)
    engine = impl.ToyEngineProc(*addrs).start()
    try:
        client.wait_ready()
        yield client, engine
    finally:
        engine.close()
        client.close()


def test_ready_handshake_gives_engine_identity(impl, addrs):
    client = impl.ToyClient(*addrs)
    engine = impl.ToyEngineProc(*addrs).start()
    try:
        assert client.wait_ready() == impl.ENGINE_IDENTITY == b"\x00\x00"
    finally:
        engine.close()
        client.close()


def test_wait_ready_times_out_without_engine(impl, addrs):
    client = impl.ToyClient(*addrs)
    try:
        with pytest.raises(TimeoutError):
            client.wait_ready(timeout_s=0.2)
    finally:
        client.close()


def test_add_request_framing_seen_by_a_dealer(impl, addrs):
    client = impl.ToyClient(*addrs)
    ctx = zmq.Context()
    dealer = ctx.socket(zmq.DEALER)
    dealer.setsockopt(zmq.IDENTITY, b"\x07\x00")
    dealer.connect(addrs[0])
    try:
        dealer.send(impl.READY)
        assert client.wait_ready() == b"\x07\x00"
        client.add_request(impl.Req("r1", [5, 6, 7], 3))
        assert dealer.poll(2000)
        frames = dealer.recv_multipart()
        assert frames[0] == impl.ADD and len(frames) == 2       # the identity frame was consumed by ROUTER
        assert msgspec.msgpack.decode(frames[1], type=impl.Req) == impl.Req("r1", [5, 6, 7], 3)
        kind, req = impl.ToyEngineProc.decode_message(frames)
        assert kind == "ADD" and req.request_id == "r1"
        assert impl.ToyEngineProc.decode_message([impl.ABORT, msgspec.msgpack.encode(["a", "b"])]) == ("ABORT", ["a", "b"])
    finally:
        ctx.destroy(linger=0)
        client.close()


def _collect(client, n_finished):
    tokens, finished, steps = {}, set(), []
    while len(finished) < n_finished:
        outs = client.get_output()
        steps.append(outs.step)
        for o in outs.outputs:
            tokens.setdefault(o.request_id, []).extend(o.new_token_ids)
            if o.finished:
                finished.add(o.request_id)
    return tokens, steps


def test_requests_flow_through_and_share_steps(impl, pair):
    client, engine = pair
    for i, n in enumerate([2, 3, 4]):
        client.add_request(impl.Req(str(i), [1, 2, 3], n))
    tokens, _ = _collect(client, 3)
    assert tokens == {"0": [1, 2], "1": [1, 2, 3], "2": [1, 2, 3, 4]}
    assert engine.steps < 2 + 3 + 4    # batched: the requests share steps instead of running in turn


def test_abort_stops_a_running_request(impl, pair):
    client, engine = pair
    client.add_request(impl.Req("long", [1], 10_000))
    client.get_output()
    client.abort_requests(["long"])
    deadline = time.time() + 5
    while engine.running and time.time() < deadline:
        time.sleep(0.01)
    assert "long" not in engine.running


def test_idle_engine_blocks_instead_of_spinning(impl, pair):
    client, engine = pair
    client.add_request(impl.Req("x", [1], 2))
    _collect(client, 1)
    settled = engine.steps
    time.sleep(0.3)
    assert engine.steps == settled == 2
