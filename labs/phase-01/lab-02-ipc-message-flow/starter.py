# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.
# Grade it with: LAB_IMPL=starter pytest labs/phase-01/lab-02-ipc-message-flow
"""Lab 02 — the front-end <-> EngineCore message flow, over real ZMQ sockets and msgpack.

vLLM's offline `LLM` runs the EngineCore in a child process. The two sides talk over two ZMQ
channels, set up in {anchor}`vllm/v1/engine/core_client.py::MPClient.__init__`:

* requests: the front-end's ROUTER (bound) -> the engine's DEALER (connected, with an identity);
  every message is `(identity, type byte, payload)` on the ROUTER side
  ({anchor}`vllm/v1/engine/core_client.py::SyncMPClient._send_input`), `(type byte, payload)` on the
  DEALER side; the DEALER first sends a READY message, or the ROUTER could not address it;
* outputs: the engine's PUSH -> the front-end's PULL, one message per engine step.

Inside the engine, sockets belong to two I/O threads and the busy loop only sees queues
({anchor}`vllm/v1/engine/core.py::EngineCoreProc.process_input_sockets`,
{anchor}`vllm/v1/engine/core.py::EngineCoreProc.run_busy_loop`,
{anchor}`vllm/v1/engine/core.py::EngineCoreProc._process_input_queue`). Here the "engine" runs in
threads of the test process (so tests stay fast), but the sockets, framing and queues are the same.
"""
import queue
import threading
import time

import msgspec
import zmq

ADD, ABORT = b"\x00", b"\x01"          # EngineCoreRequestType values
READY = b"READY"
ENGINE_IDENTITY = (0).to_bytes(2, "little")   # engine rank 0, as vLLM encodes it


class Req(msgspec.Struct, array_like=True):
    request_id: str
    prompt_token_ids: list[int]
    max_tokens: int


class Out(msgspec.Struct, array_like=True):
    request_id: str
    new_token_ids: list[int]
    finished: bool


class Outs(msgspec.Struct, array_like=True):
    step: int
    outputs: list[Out]


class ToyEngineProc:
    """The EngineCore side: input thread, busy loop, output thread."""

    def __init__(self, input_addr: str, output_addr: str):
        self.input_addr, self.output_addr = input_addr, output_addr
        self.ctx = zmq.Context()
        self.input_queue: queue.Queue = queue.Queue()
        self.output_queue: queue.Queue = queue.Queue()
        self.running: dict[str, tuple[Req, int]] = {}   # request_id -> (request, tokens produced)
        self.steps = 0
        self.stopped = threading.Event()

    def start(self) -> "ToyEngineProc":
        self.threads = [threading.Thread(target=t, daemon=True)
                        for t in (self._input_thread, self._busy_loop, self._output_thread)]
        for thread in self.threads:
            thread.start()
        return self

    def close(self) -> None:
        """Each thread closes its own socket (ZMQ sockets are not thread-safe), then the context ends."""
        self.stopped.set()
        self.input_queue.put(("WAKEUP", None))
        self.output_queue.put(None)
        for thread in self.threads:
            thread.join(timeout=2)
        self.ctx.term()

    # ---- input thread (given): socket -> decode -> input_queue
    def _input_thread(self) -> None:
        sock = self.ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.IDENTITY, ENGINE_IDENTITY)
        sock.connect(self.input_addr)
        sock.send(READY)
        try:
            while not self.stopped.is_set():
                if sock.poll(timeout=50):   # short polls so the thread notices shutdown
                    self.input_queue.put(self.decode_message(sock.recv_multipart()))
        finally:
            sock.close(linger=0)

    @staticmethod
    def decode_message(frames: list[bytes]) -> tuple[str, object]:
        """DEALER-side frames `[type, payload]` -> ("ADD", Req) or ("ABORT", list[str])."""
        # TODO: switch on the type byte; decode the payload with the matching msgspec type
        raise NotImplementedError('switch on the type byte; decode the payload with the matching msgspec type')

    # ---- busy loop (you write the input half)
    def _busy_loop(self) -> None:
        while not self.stopped.is_set():
            self.process_input_queue()
            if self.running:
                self.step()

    def process_input_queue(self) -> None:
        """Like EngineCoreProc._process_input_queue.

        While there is no work (`self.running` empty) and not stopped: *block* on the input queue and
        handle one message. Then handle every message already queued without blocking. Handling:
        ("ADD", req) -> running[req.request_id] = (req, 0); ("ABORT", ids) -> drop those ids
        (idempotent); ("WAKEUP", None) -> nothing.
        """
        # TODO: block while idle, then drain without blocking
        raise NotImplementedError('block while idle, then drain without blocking')

    STEP_SECONDS = 0.01   # stands for the forward pass: requests that arrive meanwhile join the next step

    def step(self) -> None:
        """(given) Every running request produces one token; the 'token' is its output position."""
        time.sleep(self.STEP_SECONDS)
        self.steps += 1
        outs = []
        for request_id, (req, produced) in list(self.running.items()):
            produced += 1
            finished = produced >= req.max_tokens
            outs.append(Out(request_id, [produced], finished))
            if finished:
                del self.running[request_id]
            else:
                self.running[request_id] = (req, produced)
        self.output_queue.put(Outs(self.steps, outs))

    # ---- output thread (given): output_queue -> encode -> socket
    def _output_thread(self) -> None:
        sock = self.ctx.socket(zmq.PUSH)
        sock.connect(self.output_addr)
        sock.setsockopt(zmq.SNDTIMEO, 100)   # never block forever on a slow reader: check for shutdown
        try:
            while not self.stopped.is_set() and (outs := self.output_queue.get()) is not None:
                data = msgspec.msgpack.encode(outs)
                while not self.stopped.is_set():
                    try:
                        sock.send(data)
                        break
                    except zmq.Again:
                        continue
        finally:
            sock.close(linger=0)


class ToyClient:
    """The front-end side, like SyncMPClient: ROUTER for requests, PULL for outputs (both bound)."""

    def __init__(self, input_addr: str, output_addr: str):
        self.ctx = zmq.Context()
        self.input_socket = self.ctx.socket(zmq.ROUTER)
        self.input_socket.bind(input_addr)
        self.output_socket = self.ctx.socket(zmq.PULL)
        self.output_socket.bind(output_addr)
        self.engine_identity: bytes | None = None

    def wait_ready(self, timeout_s: float = 5.0) -> bytes:
        """Block until an engine says READY on the input socket; remember and return its identity.

        A ROUTER receives `[identity, payload]`. Raise TimeoutError if nothing arrives in time
        (use `poll`, which takes milliseconds), ValueError if the payload is not READY.
        """
        # TODO: poll, recv_multipart -> [identity, READY], store identity
        raise NotImplementedError('poll, recv_multipart -> [identity, READY], store identity')

    def _send(self, req_type: bytes, obj) -> None:
        """Send `[engine identity, type byte, msgpack payload]` through the ROUTER."""
        # TODO: a three-frame multipart message addressed by the engine's identity
        raise NotImplementedError("a three-frame multipart message addressed by the engine's identity")

    def add_request(self, req: Req) -> None:
        self._send(ADD, req)

    def abort_requests(self, request_ids: list[str]) -> None:
        self._send(ABORT, request_ids)

    def get_output(self, timeout_s: float = 5.0) -> Outs:
        if not self.output_socket.poll(timeout=int(timeout_s * 1000)):
            raise TimeoutError("no output from the engine")
        return msgspec.msgpack.decode(self.output_socket.recv(), type=Outs)

    def close(self) -> None:
        self.ctx.destroy(linger=0)
