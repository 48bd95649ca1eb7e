"""Round-3 evidence: users and inheritance choose among candidates; what they cannot confirm is a review."""
from __future__ import annotations

from pathlib import Path

from vmastery.reanchor.match import Matcher
from vmastery.reanchor.plan import Item, Plan, Tree
from vmastery.reanchor.report import invariant, to_markdown

CAPTURE = '''
    def capture(self, forward_fn, buffers, tables, groups, progress: str = "capturing") -> None:
        def make_step(desc):
            num_tokens = desc.num_tokens
            num_reqs = desc.num_reqs or min(num_tokens, self.max_num_reqs)
            state = build_capture_inputs(num_reqs, num_tokens, buffers, tables, groups)
            metadata, slots = state
            step = lambda mode: forward_fn(num_reqs, num_tokens, metadata, slots, mode)
            return step, state

        super().capture(make_step, progress)
'''

BUILDER_OLD = '''
class DraftProposer:
    def build_graph_runners(self) -> None:
        self.graph_runner = DecodeGraphRunner(self.config, self.device)
        self.graph_runner.capture(self.forward, self.buffers, self.tables, self.groups)
'''

BUILDER_NEW = BUILDER_OLD.replace("DecodeGraphRunner", "SharedGraphRunner")

# The heir the builder uses: the old body, widened with options and a docstring-free rewrite.
SHARED = '''
class SharedGraphRunner(GraphRunner):
    def prepare_for_size(self, desc, num_steps: int):
        if desc.mode != FULL or desc in self.graphs:
            return desc
        return replace(desc, num_steps=num_steps)

    def capture(self, forward_fn, buffers, tables, groups, progress: str = "capturing",
                per_size: bool = False) -> None:
        if per_size:
            self.sizes = sorted(set(self.config.sizes) - {0, 1}, reverse=True)
        def make_step(desc, warmup: bool):
            num_tokens = desc.num_tokens
            num_reqs = desc.num_reqs or min(num_tokens, self.max_num_reqs)
            metadata, slots = build_capture_inputs(num_reqs, num_tokens, buffers, tables, groups,
                                                   full=desc.mode == FULL)
            extra = {"num_steps": desc.num_steps} if per_size else {}
            return lambda mode: forward_fn(num_reqs, num_tokens, metadata, slots, mode, **extra)

        super().capture(make_step, progress)
'''


def test_users_choose_the_heir_over_a_closer_sibling_copy(tmp_path, staged):
    old = staged(tmp_path / "old", {
        "vllm/draft/graphs.py": "class DecodeGraphRunner(GraphRunner):\n" + CAPTURE,
        "vllm/draft/proposer.py": BUILDER_OLD,
    })
    new = staged(tmp_path / "new", {
        "vllm/draft/shared_graphs.py": SHARED,
        # A new feature copied the old runner almost line for line: closer code, but a new job.
        "vllm/fancy/graphs.py": "class FancyGraphRunner(GraphRunner):\n" + CAPTURE.replace(
            '        super().capture(make_step, progress)', '        self.fancy = True\n        super().capture(make_step, progress)'),
        "vllm/fancy/proposer.py": "class FancyProposer:\n    def build(self):\n        self.runner = FancyGraphRunner(self.config)\n",
        "vllm/draft/proposer.py": BUILDER_NEW,
    })
    m = Matcher(old, new)
    cls = m.decide("vllm/draft/graphs.py::DecodeGraphRunner")
    assert cls.new == "vllm/draft/shared_graphs.py::SharedGraphRunner", cls
    assert any(e.startswith("users follow") for e in cls.evidence)
    member = m.decide("vllm/draft/graphs.py::DecodeGraphRunner.capture")
    assert member.new == "vllm/draft/shared_graphs.py::SharedGraphRunner.capture", member
    # Without the builder's heir there is no structural evidence, and code similarity decides.
    plain = Matcher(old, new)
    plain.users = None
    assert plain.decide("vllm/draft/graphs.py::DecodeGraphRunner").new == "vllm/fancy/graphs.py::FancyGraphRunner"


LOAD_OLD = '''
class EagleDrafter:
    def load_model(self, target) -> None:
        before = layers_of(self.config, AttentionLayer).keys()
        self.model = load_eagle(target, self.config)
        after = layers_of(self.config, AttentionLayer).keys()
        self.draft_layer_names = set(after) - set(before)

    def propose(self, batch):
        return self.model(batch)
'''

LOAD_BASE = '''
class DrafterBase:
    def load_model(self, target) -> None:
        before = set(layers_of(self.config, AttentionLayer).keys())
        self.model = self.load_draft(target, before)
        self.check_reduction()
        after = layers_of(self.config, AttentionLayer)
        self.draft_layer_names = set(after) - before
        for name in self.draft_layer_names:
            after[name].is_draft = True
        self.mm = self.config.multimodal and accepts_embeddings(self.model)
        if self.config.multimodal and not self.mm:
            warn("draft model takes text only")
'''

LOAD_MIDDLE = '''
class AutoregressiveDrafter(DrafterBase):
    def load_model(self, target) -> None:
        super().load_model(target)
        if not self.mm:
            return
        self.embeds = zeros(self.max_tokens, self.hidden)
'''

LOAD_EAGLE = '''
class EagleDrafter(AutoregressiveDrafter):
    def load_draft(self, target, names):
        return load_eagle(target, self.config)

    def propose(self, batch):
        return self.model(batch)
'''


def test_a_method_hoisted_into_an_ancestor_goes_to_the_one_holding_its_body(tmp_path, staged):
    old = staged(tmp_path / "old", {"vllm/spec/eagle.py": LOAD_OLD})
    new = staged(tmp_path / "new", {"vllm/spec/base.py": LOAD_BASE, "vllm/spec/middle.py": LOAD_MIDDLE,
                                   "vllm/spec/eagle.py": LOAD_EAGLE})
    m = Matcher(old, new)
    d = m.decide("vllm/spec/eagle.py::EagleDrafter.load_model")
    assert d.new == "vllm/spec/base.py::DrafterBase.load_model", d
    assert any(e.startswith("hoisted") for e in d.evidence)


def _plan(states: list[str]) -> Plan:
    items = [Item("note", f"annotations/n{i}.md", 1, f"vllm/a.py::f{i}", s, None if s in {"orphaned", "review"} else f"vllm/a.py::f{i}",
                  0.3, 0.0, ["users follow: ..."], [("vllm/b.py::g", 0.3)]) for i, s in enumerate(states)]
    tree = Tree("x", Path("."))
    return Plan(tree, tree, items, [], [])


def test_review_is_counted_and_listed_not_lost():
    plan = _plan(["review", "orphaned", "moved", "shifted"])
    assert invariant(plan) == {"in": 4, "anchored": 2, "orphaned": 1, "review": 1}
    text = to_markdown(plan)
    assert "left for review **1**" in text and "pick one of: `vllm/b.py::g`" in text
