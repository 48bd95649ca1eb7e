"""Round 16: a clear heir under a name a few backends share, and a carried walk over a direct rename."""
from __future__ import annotations

from vmastery.reanchor.chain import Chain, Walk, Step, combine
from vmastery.reanchor.decision import Decision
from vmastery.reanchor.match import Matcher

TOPK = '''
def {name}(hidden: torch.Tensor, logits: torch.Tensor, topk: int, groups: int, topk_group: int,
           renormalize: bool, scoring: str = "softmax") -> tuple[torch.Tensor, torch.Tensor]:
    """Pick experts in two stages: the best groups first, then the best experts inside them."""
    scores = torch.softmax(logits, dim=-1) if scoring == "softmax" else logits.sigmoid()
    tokens = scores.shape[0]
    group_scores = scores.view(tokens, groups, -1).max(dim=-1).values
    group_idx = torch.topk(group_scores, k=topk_group, dim=-1, sorted=False)[1]
    group_mask = torch.zeros_like(group_scores).scatter_(1, group_idx, 1)
    score_mask = group_mask.unsqueeze(-1).expand(tokens, groups, scores.shape[-1] // groups).reshape(tokens, -1)
    masked = scores.masked_fill(~score_mask.bool(), float("-inf"))
    weights, ids = torch.topk(masked, k=topk, dim=-1, sorted=False)
    if renormalize:
        weights = weights / weights.sum(-1).unsqueeze(-1)
    return weights.to(torch.float32), ids.to(torch.int32)
'''


def backend(i: int) -> str:
    """Another backend's `grouped_topk`: same name, its own body."""
    return f'''
def grouped_topk(x, router, k):
    plan = router.plan_{i}(x, k)
    return plan.dispatch(x, backend="{i}"), plan.ids
'''


def trees(tmp_path, staged, copies: int):
    others = {f"vllm/moe/backend_{i}.py": backend(i) for i in range(copies)}
    old = staged(tmp_path / "old", {"vllm/moe/cpu_moe.py": TOPK.format(name="grouped_topk"), **others})
    new = staged(tmp_path / "new", {"vllm/moe/router/cpu_router.py": TOPK.format(name="_grouped_topk")
                                    .replace('scoring: str = "softmax"', "scoring: str"), **others})
    return old, new


ANCHOR = "vllm/moe/cpu_moe.py::grouped_topk"


def test_a_clear_heir_under_a_shared_name_is_the_symbol(tmp_path, staged):
    old, new = trees(tmp_path, staged, copies=4)
    d = Matcher(old, new).decide(ANCHOR)
    assert (d.state, d.new) == ("moved", "vllm/moe/router/cpu_router.py::_grouped_topk"), d
    plain = Matcher(old, new)
    plain.clear_heirs = False  # five definitions of the name: without the rule it vouches for nothing
    assert plain.decide(ANCHOR).state == "orphaned"


def test_a_hook_name_every_model_defines_keeps_the_old_bar(tmp_path, staged):
    old, new = trees(tmp_path, staged, copies=20)
    assert Matcher(old, new).decide(ANCHOR).state == "orphaned"


def test_a_carried_walk_outweighs_a_direct_rename(tmp_path, staged):
    """The rule itself, on decisions made by hand: which comparison found what is all it reads."""
    v = [staged(tmp_path / f"v{i}", {"vllm/kv/worker.py": "X = 1\n"}) for i in range(3)]
    c = Chain(v, ["0.1", "0.2", "0.3"])
    anchor = "vllm/kv/worker.py::Worker._read_blocks"
    walked, renamed = "vllm/kv/pull.py::PullWorker._read_blocks", "vllm/kv/push.py::PushWorker._xfer_blocks"
    walk = Walk("anchored", walked, [Step("0.2", "moved", walked, 0.99)])
    direct = Decision(anchor, "renamed", renamed, similarity=0.65, confidence=0.75)
    d = combine(direct, walk, c)
    assert (d.state, d.new) == ("moved", walked), d
    assert f"where the direct comparison renames it to {renamed}" in d.evidence[-1]
    c.over_rename = False  # without the rule the two comparisons only disagree
    assert combine(direct, walk, c).state == "review"
    same_name_elsewhere = Decision(anchor, "moved", "vllm/kv/other.py::OtherWorker._read_blocks", similarity=0.8)
    assert combine(same_name_elsewhere, walk, Chain(v, ["0.1", "0.2", "0.3"])).state == "review"  # twins: a person picks
