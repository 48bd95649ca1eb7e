"""Round 25: a tiny closure renamed by a suffix, its body unchanged, among near-twins code alone cannot rule out."""
from __future__ import annotations

from vmastery.reanchor.match import Matcher

PATH = "vllm/passes/fusion.py"


def _closure(name: str, call: str) -> str:
    return (f"        def {name}(qkv, positions, q_weight, k_weight, cos_sin_cache):\n"
            f"            return self.{call}(qkv, positions, q_weight, k_weight, cos_sin_cache)\n\n")


OLD = "class Pattern:\n    def register(self, pm):\n" + _closure("pattern_noq", "match_query") + \
    _closure("replacement_noq", "replace_query") + "        pm.register(pattern_noq, replacement_noq)\n"
NEW = ("class Pattern:\n    def register(self, pm):\n        if self.use_layer:\n"
       + _closure("pattern_noq_with_layer", "match_query_layer").replace("\n        ", "\n            ")
       + _closure("replacement_noq_with_layer", "replace_query_layer").replace("\n        ", "\n            ")
       + "            pm.register(pattern_noq_with_layer, replacement_noq_with_layer)\n        else:\n"
       + _closure("pattern_noq_without_layer", "match_query").replace("\n        ", "\n            ")
       + _closure("replacement_noq_without_layer", "replace_query").replace("\n        ", "\n            ")
       + "            pm.register(pattern_noq_without_layer, replacement_noq_without_layer)\n")
GONE = f"{PATH}::Pattern.register.replacement_noq"


def test_the_one_unchanged_body_keeping_the_name_is_the_closure(tmp_path, staged):
    old, new = staged(tmp_path / "old", {PATH: OLD}), staged(tmp_path / "new", {PATH: NEW})
    d = Matcher(old, new).decide(GONE)
    assert (d.state, d.new) == ("renamed", f"{PATH}::Pattern.register.replacement_noq_without_layer"), d
    plain = Matcher(old, new)
    plain.kept_identical = False  # without the rule the near-twins make it a coin toss
    assert plain.decide(GONE).state == "orphaned"


def test_two_unchanged_bodies_leave_it_alone(tmp_path, staged):
    twin = NEW.replace("replace_query_layer", "replace_query")  # the with-layer copy is now identical too
    old, new = staged(tmp_path / "old", {PATH: OLD}), staged(tmp_path / "new", {PATH: twin})
    assert Matcher(old, new).decide(GONE).state == "orphaned"
