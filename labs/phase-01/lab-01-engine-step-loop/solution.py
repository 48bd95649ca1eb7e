"""Lab 01 — a toy engine with vLLM's step() structure.

Two loops nest in vLLM's offline path, and this lab rebuilds both with toy parts:

* the **core** loop, {anchor}`vllm/v1/engine/core.py::EngineCore.step`: schedule a batch, run the
  model on it, feed the result back to the scheduler, return per-request deltas;
* the **front-end** loop, {anchor}`vllm/v1/engine/llm_engine.py::LLMEngine.step` driven by
  {anchor}`vllm/entrypoints/offline_utils.py::OfflineInferenceMixin._run_engine`: pull deltas, turn
  them into text, find stop strings, abort what the front-end finished, return finished outputs.

The scheduler and the "model" are given (small, deterministic); you write the three loops.
"""

from collections import deque
from dataclasses import dataclass, field

EOS = 0
VOCAB = "abcdefghijklmnopqrstuvwxyz .,!"


def toy_decode(token_ids: list[int]) -> str:
    """Token id t > 0 is the character VOCAB[t - 1]; EOS decodes to nothing."""
    return "".join(VOCAB[t - 1] for t in token_ids if t != EOS)


def toy_encode(text: str) -> list[int]:
    return [VOCAB.index(c) + 1 for c in text]


# ---------------------------------------------------------------- given: the core's parts
@dataclass
class CoreRequest:
    """What the core knows about a request: token ids only (never text), like vllm.v1.request.Request."""
    request_id: str
    prompt_token_ids: list[int]
    max_tokens: int
    output_token_ids: list[int] = field(default_factory=list)
    num_computed_tokens: int = 0
    finish_reason: str | None = None

    @property
    def all_token_ids(self) -> list[int]:
        return self.prompt_token_ids + self.output_token_ids


@dataclass
class SchedulerOutput:
    """Which requests run this step and how many of their tokens (a prompt chunk, or 1 to decode)."""
    num_scheduled_tokens: dict[str, int]

    @property
    def total_num_scheduled_tokens(self) -> int:
        return sum(self.num_scheduled_tokens.values())


@dataclass
class CoreOutput:
    """One request's delta for one step, like {anchor}`vllm/v1/engine/__init__.py::EngineCoreOutput`."""
    request_id: str
    new_token_ids: list[int]
    finish_reason: str | None = None


class ToyScheduler:
    """FCFS with a per-step token budget and chunked prefill; a much-reduced v1 Scheduler."""

    def __init__(self, token_budget: int = 8, max_num_seqs: int = 4):
        self.token_budget = token_budget
        self.max_num_seqs = max_num_seqs
        self.waiting: deque[CoreRequest] = deque()
        self.running: list[CoreRequest] = []
        self.requests: dict[str, CoreRequest] = {}

    def add_request(self, req: CoreRequest) -> None:
        self.requests[req.request_id] = req
        self.waiting.append(req)

    def has_requests(self) -> bool:
        return bool(self.waiting or self.running)

    def schedule(self) -> SchedulerOutput:
        budget, scheduled = self.token_budget, {}
        for req in self.running:  # running requests first: decodes and unfinished prefills
            n = min(len(req.all_token_ids) - req.num_computed_tokens, budget)
            if n > 0:
                scheduled[req.request_id], budget = n, budget - n
        while self.waiting and budget > 0 and len(self.running) < self.max_num_seqs:
            req = self.waiting.popleft()
            n = min(len(req.prompt_token_ids), budget)
            self.running.append(req)
            scheduled[req.request_id], budget = n, budget - n
        return SchedulerOutput(scheduled)

    def update_from_output(self, sched: SchedulerOutput, sampled: dict[str, int]) -> list[CoreOutput]:
        """Advance computed tokens, append sampled tokens, apply stop checks (EOS, max_tokens)."""
        outputs = []
        for req_id, n in sched.num_scheduled_tokens.items():
            req = self.requests.get(req_id)
            if req is None or req.finish_reason is not None:  # aborted while the model ran
                continue
            req.num_computed_tokens += n
            if req_id not in sampled:  # prompt only partly computed: no token yet
                continue
            tok = sampled[req_id]
            req.output_token_ids.append(tok)
            if tok == EOS:
                req.finish_reason = "stop"
            elif len(req.output_token_ids) >= req.max_tokens:
                req.finish_reason = "length"
            outputs.append(CoreOutput(req_id, [tok], req.finish_reason))
            if req.finish_reason is not None:
                self._free(req)
        return outputs

    def finish_requests(self, request_ids: list[str]) -> None:
        """Abort: idempotent, like Scheduler.finish_requests."""
        for rid in request_ids:
            req = self.requests.get(rid)
            if req is not None and req.finish_reason is None:
                req.finish_reason = "abort"
                self._free(req)

    def _free(self, req: CoreRequest) -> None:
        self.running = [r for r in self.running if r is not req]
        if req in self.waiting:
            self.waiting.remove(req)
        del self.requests[req.request_id]


class ToyModel:
    """A deterministic 'model': it spells out a script, one character per step, after any prompt."""

    def __init__(self, script: str = "paris is lovely. rome too!"):
        self.script = toy_encode(script) + [EOS]
        self.forward_calls = 0

    def execute_model(self, sched: SchedulerOutput, requests: dict[str, CoreRequest]) -> dict[str, int]:
        """Returns a sampled token only for requests whose whole prompt is computed after this step."""
        self.forward_calls += 1
        sampled = {}
        for rid, n in sched.num_scheduled_tokens.items():
            req = requests[rid]
            if req.num_computed_tokens + n >= len(req.all_token_ids):
                sampled[rid] = self.script[min(len(req.output_token_ids), len(self.script) - 1)]
        return sampled


# ---------------------------------------------------------------- you write: the core loop
class ToyEngineCore:
    def __init__(self, scheduler: ToyScheduler, model: ToyModel):
        self.scheduler = scheduler
        self.model = model

    def add_request(self, req: CoreRequest) -> None:
        self.scheduler.add_request(req)

    def abort_requests(self, request_ids: list[str]) -> None:
        self.scheduler.finish_requests(request_ids)

    def step(self) -> list[CoreOutput]:
        """One iteration: schedule -> execute -> update_from_output, like EngineCore.step.

        An idle engine (no requests) must return [] without calling the model.
        """
        # BEGIN SOLUTION: if idle return []; else schedule, run the model on the batch, update the scheduler
        if not self.scheduler.has_requests():
            return []
        sched = self.scheduler.schedule()
        sampled = self.model.execute_model(sched, self.scheduler.requests)
        return self.scheduler.update_from_output(sched, sampled)
        # END SOLUTION


# ---------------------------------------------------------------- you write: the front-end loop
@dataclass
class RequestState:
    """Front-end bookkeeping for one request, like output_processor.RequestState (text lives here)."""
    request_id: str
    prompt: str
    stop: list[str]
    token_ids: list[int] = field(default_factory=list)
    text: str = ""


@dataclass
class RequestOutput:
    request_id: str
    prompt: str
    text: str
    token_ids: list[int]
    finish_reason: str
    stop_reason: str | None = None


class ToyLLMEngine:
    """The front-end: owns text, detokenization and stop strings; the core only sees token ids."""

    def __init__(self, core: ToyEngineCore):
        self.core = core
        self.states: dict[str, RequestState] = {}
        self.aborts_sent: list[str] = []
        self._counter = 0

    def add_request(self, prompt: str, max_tokens: int, stop: list[str] | None = None) -> str:
        request_id = str(self._counter)
        self._counter += 1
        # Register the front-end state before the core can produce anything for it.
        self.states[request_id] = RequestState(request_id, prompt, list(stop or []))
        self.core.add_request(CoreRequest(request_id, toy_encode(prompt), max_tokens))
        return request_id

    def has_unfinished_requests(self) -> bool:
        return bool(self.states)

    def step(self) -> list[RequestOutput]:
        """Pull one step of deltas from the core and return the requests that finished (FINAL_ONLY).

        For each delta (skip ids with no state: already finished/aborted): extend token_ids and text
        (use toy_decode on the new ids). If a stop string now occurs in the text, cut the text just
        before the *earliest* occurrence, finish with reason "stop" and stop_reason = that string,
        and - if the core did not finish the request itself - remember to abort it in the core.
        Finished requests leave `self.states`. After the loop, send all collected aborts with one
        `self.core.abort_requests(...)` call and also record them in `self.aborts_sent`.
        """
        # BEGIN SOLUTION: get core outputs, detokenize, check stop strings, build outputs, abort
        finished: list[RequestOutput] = []
        to_abort: list[str] = []
        for out in self.core.step():
            state = self.states.get(out.request_id)
            if state is None:
                continue
            state.token_ids.extend(out.new_token_ids)
            state.text += toy_decode(out.new_token_ids)
            finish_reason, stop_reason = out.finish_reason, None
            hits = [(state.text.find(s), s) for s in state.stop if s in state.text]
            if hits:
                index, stop_reason = min(hits)
                state.text = state.text[:index]
                if out.finish_reason is None:
                    to_abort.append(out.request_id)
                finish_reason = "stop"
            if finish_reason is not None:
                del self.states[out.request_id]
                finished.append(RequestOutput(state.request_id, state.prompt, state.text,
                                              state.token_ids, finish_reason, stop_reason))
        if to_abort:
            self.core.abort_requests(to_abort)
            self.aborts_sent.extend(to_abort)
        return finished
        # END SOLUTION


def generate(engine: ToyLLMEngine, prompts: list[str], max_tokens: int,
             stop: list[str] | None = None) -> list[RequestOutput]:
    """Like LLM.generate: add *every* prompt first, then step until nothing is unfinished.

    Return the outputs in prompt order (requests can finish in any order).
    """
    # BEGIN SOLUTION: add all requests, loop on step() while unfinished, sort by int(request_id)
    for prompt in prompts:
        engine.add_request(prompt, max_tokens, stop)
    outputs: list[RequestOutput] = []
    while engine.has_unfinished_requests():
        outputs.extend(engine.step())
    return sorted(outputs, key=lambda o: int(o.request_id))
    # END SOLUTION


def make_engine(token_budget: int = 8, max_num_seqs: int = 4,
                script: str = "paris is lovely. rome too!") -> ToyLLMEngine:
    return ToyLLMEngine(ToyEngineCore(ToyScheduler(token_budget, max_num_seqs), ToyModel(script)))


if __name__ == "__main__":
    for o in generate(make_engine(), ["the capital of france is", "hi"], max_tokens=12, stop=["."]):
        print(o)
