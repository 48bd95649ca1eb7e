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
        # BEGIN SOLUTION: compare (priority, arrival, rid) lexicographically
        return (self.priority, self.arrival, self.rid) < (other.priority, other.arrival, other.rid)
        # END SOLUTION


class FCFSQueue:
    """Arrival order. prepend() puts a request at the head (where vLLM puts a preempted request)."""

    def __init__(self) -> None:
        self._q: deque[Req] = deque()

    def add(self, r: Req) -> None:
        # BEGIN SOLUTION: append at the tail
        self._q.append(r)
        # END SOLUTION

    def pop(self) -> Req:
        # BEGIN SOLUTION: take from the head
        return self._q.popleft()
        # END SOLUTION

    def peek(self) -> Req:
        # BEGIN SOLUTION: the head without removing it; IndexError when empty
        if not self._q:
            raise IndexError("peek from an empty queue")
        return self._q[0]
        # END SOLUTION

    def prepend(self, r: Req) -> None:
        # BEGIN SOLUTION: put at the head
        self._q.appendleft(r)
        # END SOLUTION

    def prepend_all(self, other: Iterable[Req]) -> None:
        # BEGIN SOLUTION: vLLM uses extendleft, so the block lands at the head in *reversed* order
        self._q.extendleft(other)
        # END SOLUTION

    def remove_many(self, rs: Iterable[Req]) -> None:
        # BEGIN SOLUTION: drop these exact objects, keep the order of the rest
        gone = set(map(id, rs))
        self._q = deque(r for r in self._q if id(r) not in gone)
        # END SOLUTION

    def __len__(self) -> int:
        return len(self._q)

    def __iter__(self) -> Iterator[Req]:
        return iter(self._q)


class PriorityQueue:
    """Smallest Req first (see Req.__lt__). prepend() cannot mean "head" in a heap: it is add()."""

    def __init__(self) -> None:
        self._heap: list[Req] = []

    def add(self, r: Req) -> None:
        # BEGIN SOLUTION: heap push
        heapq.heappush(self._heap, r)
        # END SOLUTION

    def pop(self) -> Req:
        # BEGIN SOLUTION: heap pop; IndexError when empty
        if not self._heap:
            raise IndexError("pop from an empty heap")
        return heapq.heappop(self._heap)
        # END SOLUTION

    def peek(self) -> Req:
        # BEGIN SOLUTION: the smallest without removing it; IndexError when empty
        if not self._heap:
            raise IndexError("peek from an empty heap")
        return self._heap[0]
        # END SOLUTION

    def prepend(self, r: Req) -> None:
        # BEGIN SOLUTION: a heap has no head to prepend to
        self.add(r)
        # END SOLUTION

    def prepend_all(self, other: Iterable[Req]) -> None:
        # BEGIN SOLUTION: push each one
        for r in list(other):
            self.add(r)
        # END SOLUTION

    def remove_many(self, rs: Iterable[Req]) -> None:
        # BEGIN SOLUTION: filter, then restore the heap property
        gone = set(map(id, rs))
        self._heap = [r for r in self._heap if id(r) not in gone]
        heapq.heapify(self._heap)
        # END SOLUTION

    def __iter__(self) -> Iterator[Req]:
        # BEGIN SOLUTION: yield in priority order from a copy; the queue itself must stay intact
        copy = self._heap[:]
        while copy:
            yield heapq.heappop(copy)
        # END SOLUTION

    def __len__(self) -> int:
        return len(self._heap)


def preemption_victim(running: list[Req], policy: str) -> Req:
    """Whom `Scheduler.schedule` evicts when a running request cannot get a KV block.

    FCFS: the last request in `running` (the most recently admitted). Priority: the largest
    (priority, arrival) — least important, then newest.
    """
    if policy not in ("fcfs", "priority"):
        raise ValueError(f"policy={policy!r}: use 'fcfs' or 'priority'")
    # BEGIN SOLUTION: tail for fcfs, max by (priority, arrival) for priority
    if policy == "fcfs":
        return running[-1]
    return max(running, key=lambda r: (r.priority, r.arrival))
    # END SOLUTION
