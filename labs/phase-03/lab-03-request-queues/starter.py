# Generated from solution.py by `vmastery labs sync`: the marked regions are yours to write.
# Grade it with: LAB_IMPL=starter pytest labs/phase-03/lab-03-request-queues
"""Lab 3.3 — FCFS and priority waiting queues, and the preemption victim each policy picks.

vLLM keeps waiting requests in a {anchor}`RequestQueue <vllm/v1/core/sched/request_queue.py::RequestQueue>`:
a deque for FCFS ({anchor}`FCFSRequestQueue <vllm/v1/core/sched/request_queue.py::FCFSRequestQueue>`),
a binary heap for the priority policy
({anchor}`PriorityRequestQueue <vllm/v1/core/sched/request_queue.py::PriorityRequestQueue>`), ordered by
{anchor}`Request.__lt__ <vllm/v1/request.py::Request.__lt__>`. The tests replay random operation
sequences on your queues and on vLLM's real ones and demand identical results.
"""
import heapq
from collections import deque
from collections.abc import Iterable, Iterator


class Req:
    """A request as the queues see it: an id, a priority (smaller first) and an arrival time."""

    def __init__(self, rid: str, priority: int = 0, arrival: float = 0.0) -> None:
        self.rid, self.priority, self.arrival = rid, priority, arrival

    def __repr__(self) -> str:
        return f"Req({self.rid!r}, priority={self.priority}, arrival={self.arrival})"

    def __lt__(self, other: "Req") -> bool:
        """Heap order: priority, then arrival time, then id (so two requests never compare equal)."""
        # TODO: compare (priority, arrival, rid) lexicographically
        raise NotImplementedError('compare (priority, arrival, rid) lexicographically')


class FCFSQueue:
    """Arrival order. prepend() puts a request at the head (where vLLM puts a preempted request)."""

    def __init__(self) -> None:
        self._q: deque[Req] = deque()

    def add(self, r: Req) -> None:
        # TODO: append at the tail
        raise NotImplementedError('append at the tail')

    def pop(self) -> Req:
        # TODO: take from the head
        raise NotImplementedError('take from the head')

    def peek(self) -> Req:
        # TODO: the head without removing it; IndexError when empty
        raise NotImplementedError('the head without removing it; IndexError when empty')

    def prepend(self, r: Req) -> None:
        # TODO: put at the head
        raise NotImplementedError('put at the head')

    def prepend_all(self, other: Iterable[Req]) -> None:
        # TODO: vLLM uses extendleft, so the block lands at the head in *reversed* order
        raise NotImplementedError('vLLM uses extendleft, so the block lands at the head in *reversed* order')

    def remove_many(self, rs: Iterable[Req]) -> None:
        # TODO: drop these exact objects, keep the order of the rest
        raise NotImplementedError('drop these exact objects, keep the order of the rest')

    def __len__(self) -> int:
        return len(self._q)

    def __iter__(self) -> Iterator[Req]:
        return iter(self._q)


class PriorityQueue:
    """Smallest Req first (see Req.__lt__). prepend() cannot mean "head" in a heap: it is add()."""

    def __init__(self) -> None:
        self._heap: list[Req] = []

    def add(self, r: Req) -> None:
        # TODO: heap push
        raise NotImplementedError('heap push')

    def pop(self) -> Req:
        # TODO: heap pop; IndexError when empty
        raise NotImplementedError('heap pop; IndexError when empty')

    def peek(self) -> Req:
        # TODO: the smallest without removing it; IndexError when empty
        raise NotImplementedError('the smallest without removing it; IndexError when empty')

    def prepend(self, r: Req) -> None:
        # TODO: a heap has no head to prepend to
        raise NotImplementedError('a heap has no head to prepend to')

    def prepend_all(self, other: Iterable[Req]) -> None:
        # TODO: push each one
        raise NotImplementedError('push each one')

    def remove_many(self, rs: Iterable[Req]) -> None:
        # TODO: filter, then restore the heap property
        raise NotImplementedError('filter, then restore the heap property')

    def __iter__(self) -> Iterator[Req]:
        # TODO: yield in priority order from a copy; the queue itself must stay intact
        raise NotImplementedError('yield in priority order from a copy; the queue itself must stay intact')

    def __len__(self) -> int:
        return len(self._heap)


def preemption_victim(running: list[Req], policy: str) -> Req:
    """Whom `Scheduler.schedule` evicts when a running request cannot get a KV block.

    FCFS: the last request in `running` (the most recently admitted). Priority: the largest
    (priority, arrival) — least important, then newest.
    """
    if policy not in ("fcfs", "priority"):
        raise ValueError(f"policy={policy!r}: use 'fcfs' or 'priority'")
    # TODO: tail for fcfs, max by (priority, arrival) for priority
    raise NotImplementedError('tail for fcfs, max by (priority, arrival) for priority')
