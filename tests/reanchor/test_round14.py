"""Round 14: a rename inside its class, seen in the release it happened, stands though the code was rewritten since."""
from __future__ import annotations

from vmastery.reanchor.chain import Chain
from vmastery.reanchor.match import Matcher

BEFORE = '''
class EngineCore:
    def step(self) -> None:
        self.{name}()

    def {name}(self) -> None:
        """Log what the scheduler did in this iteration, at debug level."""
        stats = self.scheduler.make_stats()
        if stats is None or not logger.isEnabledFor(logging.DEBUG):
            return
        running, waiting = stats.num_running_reqs, stats.num_waiting_reqs
        logger.debug("iteration %d: %d running, %d waiting, kv usage %.1f%%",
                     self.iteration, running, waiting, 100 * stats.kv_cache_usage)
'''
AFTER = '''
class EngineCore:
    def step(self) -> None:
        self.sink.flush()  # the caller of old is gone too, so its users say nothing

    def capture_details(self) -> dict[str, float] | None:
        """Iteration details for the metrics sink, or None when nobody listens."""
        if not self.sink.wants_iteration_details:
            return None
        snapshot = self.scheduler.snapshot()
        return {"iteration": float(self.iteration), "batch_tokens": float(snapshot.num_batched_tokens),
                "preempted": float(len(snapshot.preempted)), "spec_accept": snapshot.spec_acceptance_rate}
'''
ANCHOR = "vllm/v1/engine/core.py::EngineCore.log_details"


def trees(tmp_path, staged):
    v0 = staged(tmp_path / "v0", {"vllm/v1/engine/core.py": BEFORE.format(name="log_details")})
    v1 = staged(tmp_path / "v1", {"vllm/v1/engine/core.py": BEFORE.format(name="capture_details")})
    v2 = staged(tmp_path / "v2", {"vllm/v1/engine/core.py": AFTER})
    return v0, v1, v2


def test_a_rename_in_its_class_seen_by_the_walk_stands(tmp_path, staged):
    v0, v1, v2 = trees(tmp_path, staged)
    assert Matcher(v0, v2).decide(ANCHOR).state == "orphaned"  # end to end, too little is left
    d = Chain([v0, v1, v2], ["0.1", "0.2", "0.3"]).decide(ANCHOR)
    assert (d.state, d.new) == ("renamed", "vllm/v1/engine/core.py::EngineCore.capture_details"), d
    assert "renamed inside its class in 0.2" in d.evidence[-1]
    plain = Chain([v0, v1, v2], ["0.1", "0.2", "0.3"])
    plain.in_class = False  # without the rule the two comparisons only disagree
    assert plain.decide(ANCHOR).state == "review"


def test_a_rename_into_another_class_is_still_a_review(tmp_path, staged):
    v0, v1, v2 = trees(tmp_path, staged)
    moved = BEFORE.format(name="capture_details").replace("class EngineCore:", "class EngineCoreProc:")
    v1 = staged(tmp_path / "v1b", {"vllm/v1/engine/core.py": moved})
    v2 = staged(tmp_path / "v2b", {"vllm/v1/engine/core.py": AFTER.replace("class EngineCore:", "class EngineCoreProc:")})
    d = Chain([v0, v1, v2], ["0.1", "0.2", "0.3"]).decide(ANCHOR)
    assert d.state == "review" and d.evidence[0] == "the two comparisons disagree", d
