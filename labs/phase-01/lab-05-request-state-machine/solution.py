"""Lab 05 — one request, two views: the core's RequestStatus and the front-end's state.

A request lives twice: as a {anchor}`vllm/v1/request.py::Request` in the EngineCore, whose
{anchor}`vllm/v1/request.py::RequestStatus` the scheduler moves (WAITING -> RUNNING <-> PREEMPTED ->
FINISHED_*), and as a RequestState in the front-end's output processor, which knows text and what the
user has been told. The two views are connected only by messages: ADD and ABORT one way,
EngineCoreOutput deltas the other. This lab models both views and the messages between them, using
vLLM's real RequestStatus enum, and checks that they can never disagree in a harmful way.

Events (each a tuple; the first element names it):

* ("add",)                    front-end registers the request and sends ADD; the core makes it WAITING
* ("schedule",)               scheduler picks it: WAITING or PREEMPTED -> RUNNING
* ("preempt",)                scheduler evicts it (KV freed, tokens kept): RUNNING -> PREEMPTED
* ("token", why)              a step produced one token for it (core must be RUNNING); `why` is None
                              or the core's stop rule: "eos", "stop_token", "length"
                              -> FINISHED_STOPPED / FINISHED_STOPPED / FINISHED_LENGTH_CAPPED,
                              see {anchor}`vllm/v1/core/sched/utils.py::check_stop`.
                              The delta reaches the front-end in the same event.
* ("stop_string",)            the front-end's detokenizer matched a stop string in the last token's
                              text: the user sees finish "stop"; an ABORT is now in flight
* ("user_abort",)             the user gives up: the user sees finish "abort"; an ABORT is in flight
* ("deliver_abort",)          the in-flight ABORT reaches the core: any unfinished status ->
                              FINISHED_ABORTED ({anchor}`vllm/v1/engine/core.py::EngineCore.abort_requests`);
                              idempotent if already finished
"""
from dataclasses import dataclass, field

from vllm.v1.request import RequestStatus


class IllegalTransition(ValueError):
    """An event that cannot happen to a request in its current state."""


@dataclass
class RequestViews:
    core: RequestStatus | None = None            # None until the core has the request
    user_finish: str | None = None               # what RequestOutput.finish_reason will say
    tokens_seen_by_user: int = 0
    abort_in_flight: bool = False
    history: list[tuple] = field(default_factory=list)

    def apply(self, event: tuple) -> None:
        """Apply one event; raise IllegalTransition (and change nothing) if it cannot happen.

        Rules beyond the event list above: nothing but "add" may come first, and "add" only once;
        "schedule"/"preempt"/"token" need an unfinished core status that allows them; a token for a
        request the front-end already finished (a stop string or user abort raced the step) is
        *dropped* by the front-end (user counts unchanged) but still advances the core; "stop_string"
        needs a running, not-yet-finished-for-the-user request; "user_abort" on a request the user
        already saw finish is illegal; "deliver_abort" needs an abort in flight.
        """
        # BEGIN SOLUTION: a match on event[0]; validate first, then mutate; record in history
        kind = event[0]
        if kind != "add" and self.core is None:
            raise IllegalTransition(f"{kind} before add")
        finished = self.core is not None and RequestStatus.is_finished(self.core)
        if kind == "add":
            if self.core is not None:
                raise IllegalTransition("add twice")
            self.core = RequestStatus.WAITING
        elif kind == "schedule":
            if self.core not in (RequestStatus.WAITING, RequestStatus.PREEMPTED):
                raise IllegalTransition(f"schedule from {self.core}")
            self.core = RequestStatus.RUNNING
        elif kind == "preempt":
            if self.core != RequestStatus.RUNNING:
                raise IllegalTransition(f"preempt from {self.core}")
            self.core = RequestStatus.PREEMPTED
        elif kind == "token":
            if self.core != RequestStatus.RUNNING:
                raise IllegalTransition(f"token while {self.core}")
            why = event[1]
            new = {None: RequestStatus.RUNNING, "eos": RequestStatus.FINISHED_STOPPED,
                   "stop_token": RequestStatus.FINISHED_STOPPED,
                   "length": RequestStatus.FINISHED_LENGTH_CAPPED}.get(why)
            if new is None:
                raise IllegalTransition(f"unknown stop rule {why!r}")
            self.core = new
            if self.user_finish is None:
                self.tokens_seen_by_user += 1
                if RequestStatus.is_finished(new):
                    self.user_finish = str(RequestStatus.get_finished_reason(new))
        elif kind == "stop_string":
            if finished or self.user_finish is not None or self.tokens_seen_by_user == 0:
                raise IllegalTransition("stop string on a request that is not producing text")
            self.user_finish, self.abort_in_flight = "stop", True
        elif kind == "user_abort":
            if self.user_finish is not None:
                raise IllegalTransition("abort after the user saw the request finish")
            self.user_finish = "abort"
            self.abort_in_flight = not finished
        elif kind == "deliver_abort":
            if not self.abort_in_flight:
                raise IllegalTransition("no abort in flight")
            self.abort_in_flight = False
            if not finished:
                self.core = RequestStatus.FINISHED_ABORTED
        else:
            raise IllegalTransition(f"unknown event {kind!r}")
        self.history.append(event)
        # END SOLUTION

    def settled(self) -> bool:
        """Both sides agree the request is over and nothing is in flight."""
        return (self.core is not None and RequestStatus.is_finished(self.core)
                and self.user_finish is not None and not self.abort_in_flight)
