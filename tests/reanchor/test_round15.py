"""Round 15: a body found word for word once in each tree, and a walk that carried a symbol intact."""
from __future__ import annotations

from vmastery.reanchor.chain import Chain
from vmastery.reanchor.match import Matcher

WARMUP = '''
    def warmup(self) -> None:
        self.renderer.warmup(TemplateParams(template=self.template, kwargs=self.template_kwargs))
'''
# Other classes define `warmup` with their own bodies, so the name alone vouches for nothing.
NAMESAKES = "".join(f'''
class Cache{i}:
    def warmup(self) -> None:
        for key in self.keys_{i}:
            self.store.touch(key, level={i})
''' for i in range(4))
OLD = {"vllm/serving/chat.py": "class ServingChat:\n    def create(self, request):\n        return self.handle(request)\n" + WARMUP,
       "vllm/cache/kinds.py": NAMESAKES}
NEW = {"vllm/serving/chat.py": "class ServingChat:\n    def create(self, request):\n        return self.handle(request)\n",
       "vllm/renderers/online.py": "class OnlineRenderer:\n    def render(self, request):\n        return request\n" + WARMUP,
       "vllm/cache/kinds.py": NAMESAKES}
ANCHOR = "vllm/serving/chat.py::ServingChat.warmup"


def test_the_one_copy_of_a_body_is_the_symbol_whatever_its_name(tmp_path, staged):
    old, new = staged(tmp_path / "old", OLD), staged(tmp_path / "new", NEW)
    d = Matcher(old, new).decide(ANCHOR)
    assert (d.state, d.new) == ("moved", "vllm/renderers/online.py::OnlineRenderer.warmup"), d
    plain = Matcher(old, new)
    plain.identical = False  # a short body under a common name, leaving its class: too weak without the rule
    assert plain.decide(ANCHOR).state == "orphaned"


def test_a_body_held_twice_proves_nothing(tmp_path, staged):
    twice = {**OLD, "vllm/serving/completion.py": "class ServingCompletion:\n" + WARMUP}
    kept = {**NEW, "vllm/serving/completion.py": "class ServingCompletion:\n" + WARMUP}
    old, new = staged(tmp_path / "old", twice), staged(tmp_path / "new", kept)
    assert Matcher(old, new).decide(ANCHOR).state == "orphaned"


PLAN = '''
def plan_blocks(total_bytes: int, block_bytes: int, layers: int, reserve: float = 0.1) -> int:
    """How many KV blocks fit in the budget once a reserve is kept back."""
    if block_bytes <= 0 or layers <= 0:
        raise ValueError("block size and layer count must be positive")
    usable = int(total_bytes * (1.0 - reserve))
    blocks = usable // (block_bytes * layers)
    return max(blocks, 0)
'''
REWRITTEN = '''
def plan_blocks(spec: "CacheSpec", budget: "MemoryBudget") -> "BlockPlan":
    """Lay out the cache for one spec: a plan object now, not a bare count."""
    per_block = spec.page_size_bytes * spec.num_layers
    plan = BlockPlan(spec=spec, per_block=per_block)
    plan.extend(budget.available() // per_block)
    return plan.freeze()
'''
OLD_PATH, NEW_PATH = "vllm/v1/core/kv_cache_utils.py", "vllm/v1/core/kv_cache_planning.py"


def chain(tmp_path, staged, moved_code: str) -> Chain:
    v0 = staged(tmp_path / "v0", {OLD_PATH: PLAN + "\nX = 1\n"})
    v1 = staged(tmp_path / "v1", {OLD_PATH: "\nX = 1\n", NEW_PATH: moved_code})
    v2 = staged(tmp_path / "v2", {OLD_PATH: "\nX = 1\n", NEW_PATH: REWRITTEN})
    return Chain([v0, v1, v2], ["0.1", "0.2", "0.3"])


def test_a_walk_that_carried_the_symbol_intact_stands(tmp_path, staged):
    anchor = f"{OLD_PATH}::plan_blocks"
    c = chain(tmp_path, staged, PLAN)
    assert c.direct.decide(anchor).state == "orphaned"  # end to end, too little is left
    d = c.decide(anchor)
    assert (d.state, d.new) == ("moved", f"{NEW_PATH}::plan_blocks"), d
    assert "carried under its own name" in d.evidence[-1]
    plain = chain(tmp_path / "plain", staged, PLAN)
    plain.carried = False  # without the rule the two comparisons only disagree
    assert plain.decide(anchor).state == "review"


def test_a_walk_whose_move_was_itself_an_edit_is_still_a_review(tmp_path, staged):
    edited = PLAN.replace("usable = int(total_bytes * (1.0 - reserve))",
                          "usable = int(total_bytes * (1.0 - reserve)) - HEADROOM_BYTES") \
        .replace("blocks = usable // (block_bytes * layers)", "blocks = usable // (block_bytes * layers * GROUPS)") \
        .replace("return max(blocks, 0)", "log_plan(blocks)\n    return max(blocks, MIN_BLOCKS)") \
        .replace("if block_bytes <= 0 or layers <= 0:", "if min(block_bytes, layers, GROUPS) <= 0 or reserve >= 1.0:") \
        .replace('raise ValueError("block size and layer count must be positive")',
                 'raise PlanError(f"cannot plan {layers} layers of {block_bytes} bytes with reserve {reserve}")')
    c = chain(tmp_path, staged, edited)
    d = c.decide(f"{OLD_PATH}::plan_blocks")
    assert c.walks[d.old].moves[0].confidence < 0.97, c.walks[d.old]
    assert d.state == "review" and d.evidence[0] == "the two comparisons disagree", d
