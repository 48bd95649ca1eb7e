"""Lab 3.1 — a token-budget scheduler with chunked prefill, in the shape of vLLM's v1 scheduler.

vLLM's {anchor}`Scheduler.schedule <vllm/v1/core/sched/scheduler.py::Scheduler.schedule>` has no
"prefill phase" and no "decode phase". Each request only knows how many of its tokens exist
(`num_tokens` = prompt + outputs) and how many have KV computed (`num_computed_tokens`); every step the
scheduler spreads a token budget over requests so that the second number catches up with the first.
This lab rebuilds that rule without KV memory (lab 2 adds it) so you can see chunked prefill fall out
of it.
"""

from collections import deque
from dataclasses import dataclass


@dataclass
class Req:
    """The three counters vLLM's {anchor}`Request <vllm/v1/request.py::Request>` schedules by."""
    rid: str
    prompt_len: int
    max_tokens: int
    num_computed_tokens: int = 0
    num_output_tokens: int = 0

    @property
    def num_tokens(self) -> int:
        """Prompt plus generated tokens: what must eventually have KV."""
        return self.prompt_len + self.num_output_tokens

    @property
    def finished(self) -> bool:
        return self.num_output_tokens >= self.max_tokens


@dataclass
class Config:
    """The knobs of vLLM's SchedulerConfig that matter without KV memory."""
    budget: int                      # max_num_batched_tokens: tokens per step
    max_num_seqs: int = 256          # rows per step (running requests)
    chunked: bool = True             # enable_chunked_prefill
    long_prefill_threshold: int = 0  # long_prefill_token_threshold; 0 = no per-request cap

    def __post_init__(self) -> None:
        if self.budget < 1 or self.max_num_seqs < 1 or self.long_prefill_threshold < 0:
            raise ValueError(f"bad config {self}: budget and max_num_seqs must be >= 1, threshold >= 0")


def schedule(running: list[Req], waiting: deque[Req], cfg: Config) -> dict[str, int]:
    """Plan one step: return {rid: tokens to compute}, in batch order, and commit the plan.

    Rules (all from Scheduler.schedule):
    1. Running requests first, in list order. Each wants `num_tokens - num_computed_tokens`, capped by
       the threshold (if > 0) and by the remaining budget. A running request that gets 0 is skipped
       (`continue`), it does not stop the pass.
    2. Then waiting requests, from the head, while budget > 0 and fewer than max_num_seqs run.
       Same want/cap, except: with chunking off, a request that does not fit whole stops admission
       (`break`). An admitted request moves from `waiting` to the tail of `running`.
    3. Finally advance every scheduled request's num_computed_tokens by its share (vLLM does this in
       `_update_after_schedule`, before the model has run).
    """
    budget = cfg.budget
    plan: dict[str, int] = {}
    # BEGIN SOLUTION: running pass, then waiting pass, then commit num_computed_tokens
    for req in running:
        if budget == 0:
            break
        want = req.num_tokens - req.num_computed_tokens
        if 0 < cfg.long_prefill_threshold < want:
            want = cfg.long_prefill_threshold
        n = min(want, budget)
        if n == 0:
            continue
        plan[req.rid] = n
        budget -= n
    while waiting and budget > 0 and len(running) < cfg.max_num_seqs:
        req = waiting[0]
        want = req.num_tokens - req.num_computed_tokens
        if 0 < cfg.long_prefill_threshold < want:
            want = cfg.long_prefill_threshold
        if not cfg.chunked and want > budget:
            break
        n = min(want, budget)
        waiting.popleft()
        running.append(req)
        plan[req.rid] = n
        budget -= n
    by_id = {r.rid: r for r in running}
    for rid, n in plan.items():
        by_id[rid].num_computed_tokens += n
    # END SOLUTION
    return plan


def apply_outputs(running: list[Req], plan: dict[str, int]) -> list[str]:
    """Fold one step's "model output" back in; return the ids that finished (and leave `running`).

    A request sampled a token this step iff it was scheduled and all its tokens now have KV
    (num_computed_tokens == num_tokens): a partial prefill chunk produces nothing. This is the job of
    {anchor}`update_from_output <vllm/v1/core/sched/scheduler.py::Scheduler.update_from_output>`.
    """
    finished = []
    # BEGIN SOLUTION: append one output token where due, then drop finished requests from running
    for req in running:
        if req.rid in plan and req.num_computed_tokens == req.num_tokens:
            req.num_output_tokens += 1
            if req.finished:
                finished.append(req.rid)
    running[:] = [r for r in running if r.rid not in finished]
    # END SOLUTION
    return finished


def simulate(requests: list[Req], cfg: Config, max_steps: int = 10_000) -> list[dict[str, int]]:
    """Run to completion; return every step's plan (the per-step `num_scheduled_tokens`)."""
    running: list[Req] = []
    waiting: deque[Req] = deque(requests)
    trace = []
    while running or waiting:
        if len(trace) == max_steps:
            raise RuntimeError(f"not done after {max_steps} steps: running={running} waiting={list(waiting)}")
        plan = schedule(running, waiting, cfg)
        trace.append(plan)
        apply_outputs(running, plan)
    return trace


if __name__ == "__main__":
    for step, plan in enumerate(simulate([Req("r0", 100, 5), Req("r1", 40, 5), Req("r2", 10, 5)], Config(64))):
        print(step, sum(plan.values()), plan)
