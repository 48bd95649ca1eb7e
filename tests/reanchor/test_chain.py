"""Re-anchoring through the releases between: the walk, and how it is combined with the direct comparison."""
from __future__ import annotations

from pathlib import Path

from vmastery.reanchor.chain import Chain, Step, Walk, combine
from vmastery.reanchor.decision import Decision
from vmastery.reanchor.plan import Tree, index, make_plan, source_tree, trees_between
from vmastery.reanchor.report import to_json, to_markdown

DEVICES = '''
def {name}(env_var: str, local_rank: int, world_size: int, local_world_size: int | None = None):
    """Comma-separated device numbers owned by one data-parallel rank."""
    if local_world_size is None:
        local_world_size = world_size
    first = local_rank * world_size
    try:
        value = ",".join(str(physical_id(i)) for i in range(first, first + local_world_size))
    except IndexError as error:
        raise RuntimeError(f"cannot set {{env_var}}: rank {{local_rank}} has too few devices") from error
    return value
'''
# The next release rewrites it: a list, a user-given list, no string joining. Compared with the
# first release's code, too little is left to call it the same function.
REWRITTEN = '''
def get_physical_ids(env_var: str, local_rank: int, world_size: int, local_world_size: int | None = None,
                     assigned: list[int] | None = None) -> list[int]:
    """Physical device ids of one data-parallel rank, from the user's list when one was given."""
    count = world_size if local_world_size is None else local_world_size
    start = local_rank * world_size
    if assigned is not None:
        if start + count > len(assigned):
            raise ValueError(f"--device-ids lists {len(assigned)} devices; rank {local_rank} needs {start + count}")
        return assigned[start:start + count]
    return [physical_id(i) for i in range(start, start + count)]
'''
HELPER = '''
def shard_sizes(total: int, parts: int) -> list[int]:
    """Split `total` items into `parts` shards whose sizes differ by at most one."""
    base, extra = divmod(total, parts)
    sizes = [base + 1 if i < extra else base for i in range(parts)]
    assert sum(sizes) == total
    return sizes
'''
STABLE = '''
def stable_name(x: int) -> int:
    """Kept at both ends; deleted in the middle release and brought back."""
    return x * 2 + 1
'''
OLD = "vllm/engine/utils.py::get_device_indices"


def three_trees(tmp_path: Path, staged):
    v0 = staged(tmp_path / "v0", {"vllm/engine/utils.py": DEVICES.format(name="get_device_indices") + HELPER + STABLE})
    v1 = staged(tmp_path / "v1", {"vllm/engine/utils.py": DEVICES.format(name="get_physical_ids"),
                                  "vllm/engine/sharding.py": HELPER})
    v2 = staged(tmp_path / "v2", {"vllm/engine/utils.py": REWRITTEN + STABLE, "vllm/engine/sharding.py": HELPER})
    return Chain([v0, v1, v2], ["0.1", "0.2", "0.3"])


def test_walk_follows_a_rename_that_direct_comparison_cannot_see(tmp_path, staged):
    chain = three_trees(tmp_path, staged)
    assert chain.direct.decide(OLD).state == "orphaned"  # the premise: end to end, too much was rewritten
    decision = chain.decide(OLD)
    assert chain.walks[OLD].moves[0].new == "vllm/engine/utils.py::get_physical_ids"
    assert chain.walks[OLD].moves[0].into == "0.2"
    # The two comparisons disagree: nothing moves silently, a person picks, the walk's find listed first.
    assert decision.state == "review"
    assert decision.candidates[0][0] == "vllm/engine/utils.py::get_physical_ids"
    assert "the two comparisons disagree" in decision.evidence


def test_agreement_is_a_move_with_both_lines_of_evidence(tmp_path, staged):
    decision = three_trees(tmp_path, staged).decide("vllm/engine/utils.py::shard_sizes")
    assert (decision.state, decision.new) == ("moved", "vllm/engine/sharding.py::shard_sizes")
    assert any(e.startswith("release by release: moved to") and "in 0.2" in e for e in decision.evidence)
    assert "the direct comparison agrees" in decision.evidence


def test_an_anchor_the_last_tree_has_is_decided_directly(tmp_path, staged):
    chain = three_trees(tmp_path, staged)
    decision = chain.decide("vllm/engine/utils.py::stable_name")
    assert decision.state == "shifted" and decision.new == "vllm/engine/utils.py::stable_name"
    assert "vllm/engine/utils.py::stable_name" not in chain.walks  # never walked: gone in 0.2 says nothing


def test_combine_rule(tmp_path, staged):
    chain = three_trees(tmp_path, staged)
    a, b = "vllm/engine/utils.py::get_physical_ids", "vllm/engine/sharding.py::shard_sizes"
    walked = Walk("anchored", a, [Step("0.2", "renamed", a, 0.9)])
    review = Decision(OLD, "review", None, 0.0, 0.0, ["two candidates"], [(a, 0.5), (b, 0.4)])
    # the direct comparison abstains: the walk decides
    assert (combine(review, walked, chain).state, combine(review, walked, chain).new) == ("renamed", a)
    # the walk abstains: the direct comparison decides
    moved = Decision(OLD, "moved", b, 0.8, 0.8, ["direct"])
    stopped = Walk("review", None, [], "0.2", review)
    assert combine(moved, stopped, chain).new == b
    # both orphan: orphaned, with the direct comparison's candidates (names of the last tree)
    orphan = Decision(OLD, "orphaned", None, 0.0, 0.0, ["none"], [(b, 0.2)])
    gone = Walk("orphaned", None, [], "0.3", Decision(a, "orphaned", None, 0.0, 0.0, ["gone"]))
    both = combine(orphan, gone, chain)
    assert both.state == "orphaned" and both.candidates == [(b, 0.2)]
    assert any(e.endswith("release by release: gone in 0.3") for e in both.evidence)
    # a move against an orphan: review, the move listed
    disputed = combine(orphan, walked, chain)
    assert disputed.state == "review" and disputed.candidates[0][0] == a


def test_between_picks_no_steps_for_local_trees_or_none(tmp_path):
    old, new = Tree("0.1", tmp_path / "a", "0.1"), Tree(str(tmp_path / "b"), tmp_path / "b", None)
    assert trees_between(tmp_path, old, new, "releases") == []
    assert trees_between(tmp_path, old, Tree("0.3", tmp_path / "c", "0.3"), "none") == []


def test_plan_and_report_name_the_releases_stepped_through(repo, tmp_path):
    old = source_tree(repo)
    new = Tree(str(repo.parent / "new"), repo.parent / "new", None)
    middle = Tree("middle", repo / "upstream", None)  # a middle tree equal to the first: every step is a no-op
    plan = make_plan(repo, old, new, index(repo, old, False), index(repo, new, False), coverage_prefix="vllm/",
                     via=[(middle, index(repo, middle, False))])
    direct = make_plan(repo, old, new, index(repo, old, False), index(repo, new, False), coverage_prefix="vllm/")
    assert plan.via == ["middle"] and "Stepped through 1 releases between (middle)" in to_markdown(plan)
    assert '"via":["middle"]' in to_json(plan)
    # With nothing happening in between, stepping decides exactly as comparing directly does.
    assert [(i.anchor, i.state, i.new_anchor) for i in plan.items] == \
        [(i.anchor, i.state, i.new_anchor) for i in direct.items]
