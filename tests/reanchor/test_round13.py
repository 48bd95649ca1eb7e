"""Round 13: copies of a helper merged into one shared function all follow it."""
from __future__ import annotations

from vmastery.reanchor.match import Matcher

HELPER = '''
def {name}(value: str, target: str) -> bool:
    """True when `target` names `value` exactly, or as a `re:` pattern matching all of it."""
    if target.startswith("re:"):
        pattern = target[3:]
        if re.fullmatch(pattern, value) is not None:
            return True
        return False
    return value == target
'''
OTHER = '''
def load_scheme(config: dict) -> str:
    return config.get("scheme", "default").lower()
'''
OLD = {"vllm/quant/alpha/utils.py": HELPER.format(name="_is_match") + OTHER,
       "vllm/quant/beta/utils.py": HELPER.format(name="_is_match")}
NEW = {"vllm/quant/alpha/utils.py": OTHER, "vllm/quant/shared/config_utils.py": HELPER.format(name="is_match")}
TARGET = "vllm/quant/shared/config_utils.py::is_match"


def test_every_copy_follows_the_merged_helper(tmp_path, staged):
    old, new = staged(tmp_path / "old", OLD), staged(tmp_path / "new", NEW)
    m = Matcher(old, new)
    decisions = m.decide_many(["vllm/quant/alpha/utils.py::_is_match", "vllm/quant/beta/utils.py::_is_match"])
    assert [d.new for d in decisions] == [TARGET, TARGET], decisions
    assert any("the copies were merged" in d.evidence[0] for d in decisions)
    plain = Matcher(old, new)
    plain.twins = False  # without the rule one copy takes the helper and the other is orphaned
    states = sorted(d.state for d in plain.decide_many([d.old for d in decisions]))
    assert states == ["moved", "orphaned"]


def test_a_function_that_only_resembles_the_moved_one_stays_orphaned(tmp_path, staged):
    different = HELPER.format(name="_is_match").replace('target.startswith("re:")', 'target.endswith("*")') \
        .replace("pattern = target[3:]", "pattern = fnmatch.translate(target)").replace("re.fullmatch", "re.match")
    old = staged(tmp_path / "old", {**OLD, "vllm/quant/beta/utils.py": different.replace('"""True', '"""Loose: true')})
    new = staged(tmp_path / "new", NEW)
    decisions = Matcher(old, new).decide_many(["vllm/quant/alpha/utils.py::_is_match",
                                               "vllm/quant/beta/utils.py::_is_match"])
    assert sorted(d.state for d in decisions) == ["moved", "orphaned"], decisions  # one heir only
