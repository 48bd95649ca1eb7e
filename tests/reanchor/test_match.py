"""The matcher on staged fates: each kind of change must get its own state and target."""
from __future__ import annotations

from vmastery.reanchor.diff import symbol_diff
from vmastery.reanchor.match import Matcher
from vmastery.reanchor.similarity import name_likeness, similarity, tokens
from vmastery.symbols import SymbolIndex


def matcher(trees) -> Matcher:
    old, new = trees
    return Matcher(SymbolIndex.build(old, None, progress=False), SymbolIndex.build(new, None, progress=False))


def test_each_fate(trees):
    m = matcher(trees)
    fate = {a: m.decide(a) for a in m.old.by_anchor}
    assert fate["vllm/core/pool.py::PagePool.take"].state == "shifted"  # an import pushed it down
    assert fate["vllm/core/pool.py::PagePool.drop_everything"].state == "changed"
    assert (fate["vllm/core/pool.py::plan_pages"].state, fate["vllm/core/pool.py::plan_pages"].new) == \
        ("moved", "vllm/core/planning.py::plan_pages")
    assert (fate["vllm/core/pool.py::PagePool.give_back"].state, fate["vllm/core/pool.py::PagePool.give_back"].new) == \
        ("renamed", "vllm/core/pool.py::PagePool.release")
    assert fate["vllm/core/status.py::SlotState"].new == "vllm/core/status.py::ChunkState"
    assert fate["vllm/core/status.py::SlotState.ready"].new == "vllm/core/status.py::ChunkState.ready"
    assert "follows its parent" in fate["vllm/core/status.py::SlotState.ready"].evidence
    gone = fate["vllm/core/gone.py::obsolete_helper"]
    assert gone.state == "orphaned" and gone.new is None


def test_one_new_symbol_is_claimed_once(trees):
    m = matcher(trees)
    targets = [d.new for d in m.decide_many(list(m.old.by_anchor)) if d.state in {"moved", "renamed"}]
    assert len(targets) == len(set(targets))


def test_files_follow_their_symbols(trees):
    m = matcher(trees)
    assert m.decide("vllm/core/gone.py").state == "orphaned"
    assert m.decide("vllm/core/pool.py").state == "unchanged"


def test_similarity_ignores_the_symbols_own_name():
    a = tokens("def give_back(x):\n    return give_back(x - 1)", "give_back")
    b = tokens("def release(x):\n    return release(x - 1)", "release")
    assert similarity(a, b) == 1.0
    assert similarity(a, tokens("def other(y): pass", "other")) < 0.6


def test_name_likeness():
    assert name_likeness("_get_kv_cache_shape", "get_kv_cache_shape") == 1.0
    assert name_likeness("BlockStatus", "ChunkStatus") == 1 / 3


def test_symbol_diff():
    assert symbol_diff("a\nb\n", "a\nb\n") == ""
    diff = symbol_diff("x = 1\ny = 2", "x = 1\ny = 3", "old", "new")
    assert "-y = 2" in diff and "+y = 3" in diff and diff.startswith("--- old")
