# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.
# Grade it with: LAB_IMPL=starter pytest labs/phase-03/lab-02-recompute-preemption
"""Lab 3.2 — KV-block accounting and recompute preemption, the way vLLM's v1 scheduler does it.

Lab 1 spread a token budget over requests. Here every computed token also needs a slot in a
fixed-size KV pool of `num_free` blocks of `block_size` tokens. When a running request needs a block
and none is free, vLLM *preempts*: it takes a victim out of `running`, frees all its blocks, sets its
`num_computed_tokens` back to 0 and puts it at the front of `waiting`
({anchor}`Scheduler._preempt_request <vllm/v1/core/sched/scheduler.py::Scheduler._preempt_request>`).
The victim will later be prefilled again — prompt *and* the tokens it already generated.
No prefix caching here, so recomputation is full (compare scenarios E and H of the phase-3
measurements to see what the prefix cache saves).
"""
from dataclasses import dataclass, field


def cdiv(a: int, b: int) -> int:
    return -(-a // b)


@dataclass
class Req:
    rid: str
    prompt_len: int
    max_tokens: int
    priority: int = 0       # smaller is more important (priority policy only)
    arrival: float = 0.0    # tie-break: earlier is more important
    num_computed_tokens: int = 0
    num_output_tokens: int = 0
    blocks: int = 0         # KV blocks held
    num_preemptions: int = 0

    @property
    def num_tokens(self) -> int:
        return self.prompt_len + self.num_output_tokens

    @property
    def finished(self) -> bool:
        return self.num_output_tokens >= self.max_tokens


@dataclass
class State:
    """The scheduler's world: the KV pool and the two queues."""
    num_free: int                       # free KV blocks
    block_size: int = 16
    budget: int = 256                   # max_num_batched_tokens
    policy: str = "fcfs"                # or "priority"
    running: list[Req] = field(default_factory=list)
    waiting: list[Req] = field(default_factory=list)   # head = index 0 (FCFS order)

    def __post_init__(self) -> None:
        if self.policy not in ("fcfs", "priority"):
            raise ValueError(f"policy={self.policy!r}: use 'fcfs' or 'priority'")

    def key(self, r: Req) -> tuple:
        return (r.priority, r.arrival, r.rid)


def try_allocate(st: State, req: Req, num_new_tokens: int) -> bool:
    """Give `req` the blocks it needs to hold num_computed_tokens + num_new_tokens tokens, if free."""
    need = cdiv(req.num_computed_tokens + num_new_tokens, st.block_size) - req.blocks
    if need > st.num_free:
        return False
    st.num_free -= max(need, 0)
    req.blocks += max(need, 0)
    return True


def preempt(st: State, req: Req) -> None:
    """Recompute preemption of a request already removed from `running`."""
    # TODO: free every block, forget progress (keep the tokens), count it, requeue at the head
    raise NotImplementedError('free every block, forget progress (keep the tokens), count it, requeue at the head')


def schedule(st: State) -> tuple[dict[str, int], list[str]]:
    """One step: return ({rid: tokens}, [preempted rids]) and commit num_computed_tokens.

    Running pass (in order): want = num_tokens - num_computed_tokens, capped by the budget; then
    allocate. While allocation fails, pick a victim — FCFS: the tail of `running`; priority: the
    running request with the largest key (undo its plan and budget if it was already scheduled this
    step) — remove it from `running` and preempt it. If the victim was the request itself, stop the
    running pass.
    Waiting pass, only if nobody was preempted: head first (for "priority", the smallest key). Admit
    only if blocks for its *whole* current sequence are free (vLLM's `scheduler_reserve_full_isl`);
    otherwise stop admitting. Admitted requests go to the tail of `running`.
    """
    budget = st.budget
    plan: dict[str, int] = {}
    preempted: list[str] = []
    # TODO: running pass with the preemption loop, then the waiting pass, then commit
    raise NotImplementedError('running pass with the preemption loop, then the waiting pass, then commit')
    return plan, preempted


def apply_outputs(st: State, plan: dict[str, int]) -> list[str]:
    """One sampled token per request whose tokens all have KV now; finished requests free their blocks."""
    done = []
    for req in list(st.running):
        if req.rid in plan and req.num_computed_tokens == req.num_tokens:
            req.num_output_tokens += 1
            if req.finished:
                done.append(req.rid)
                st.running.remove(req)
                st.num_free += req.blocks
                req.blocks = 0
    return done


def simulate(st: State, arrivals: list[tuple[int, Req]], max_steps: int = 10_000) -> list[tuple[dict, list]]:
    """arrivals: (step, request) pairs; a request joins `waiting` just before that step's schedule()."""
    trace = []
    pending = sorted(arrivals, key=lambda a: a[0])
    step = 0
    while pending or st.running or st.waiting:
        if step == max_steps:
            raise RuntimeError(f"no progress after {max_steps} steps")
        while pending and pending[0][0] <= step:
            st.waiting.append(pending.pop(0)[1])
        plan, preempted = schedule(st)
        trace.append((plan, preempted))
        apply_outputs(st, plan)
        step += 1
    return trace


if __name__ == "__main__":
    st = State(num_free=11)
    for step, (plan, pre) in enumerate(simulate(st, [(0, Req(f"r{i}", 48, 40)) for i in range(3)])):
        if pre or sum(plan.values()) > 2 or step < 2:
            print(step, sum(plan.values()), plan, "preempted", pre)
