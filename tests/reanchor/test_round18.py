"""Round 18: a closure keeping another lost closure's whole qualified name is that closure's heir."""
from __future__ import annotations

import textwrap

from vmastery.reanchor.match import Matcher

POWER_OF_2 = '''
        def get_slopes_power_of_2(n: int) -> list[float]:
            start = 2 ** (-(2 ** -(math.log2(n) - 3)))
            ratio = start
            return [start * ratio**i for i in range(n)]
'''
JAIS = '''
def _get_alibi_slopes(n: int) -> list[float]:
    def get_slopes_power_of_2(n: int) -> list[float]:
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        ratio = start
        return [start * ratio**i for i in range(n)]

    if math.log2(n).is_integer():
        return get_slopes_power_of_2(n)
    closest = 2 ** math.floor(math.log2(n))
    return get_slopes_power_of_2(closest) + _get_alibi_slopes(2 * closest)[0::2][: n - closest]
'''
MINIMAX = '''
class LinearAttention:
    @staticmethod
    def _build_slope_tensor(n_heads: int) -> "torch.Tensor":
        def get_slopes(n: int) -> list[float]:
''' + textwrap.indent(POWER_OF_2, "    ") + '''
            if math.log2(n).is_integer():
                return get_slopes_power_of_2(n)
            closest = 2 ** math.floor(math.log2(n))
            return get_slopes_power_of_2(closest) + get_slopes(2 * closest)[0::2][: n - closest]

        return torch.tensor(get_slopes(n_heads), dtype=torch.float32).reshape(n_heads, 1, 1)
'''
OLD = {"vllm/models/jais.py": JAIS, "vllm/layers/mamba/linear_attn.py": MINIMAX}
NEW = {"vllm/layers/mamba/linear/minimax_linear_attn.py": MINIMAX}
JAIS_CLOSURE = "vllm/models/jais.py::_get_alibi_slopes.get_slopes_power_of_2"
HEIR = "vllm/layers/mamba/linear/minimax_linear_attn.py::LinearAttention._build_slope_tensor.get_slopes.get_slopes_power_of_2"


def test_a_copy_of_a_closure_does_not_take_the_moved_closures_place(tmp_path, staged):
    old, new = staged(tmp_path / "old", OLD), staged(tmp_path / "new", NEW)
    assert Matcher(old, new).decide(JAIS_CLOSURE).state == "orphaned"  # asked alone, before its rival
    plain = Matcher(old, new)
    plain.closures = False  # without the rule the copy, decided first, takes the moved closure's place
    assert plain.decide(JAIS_CLOSURE).new == HEIR


def test_the_moved_closure_still_follows_its_file(tmp_path, staged):
    old, new = staged(tmp_path / "old", OLD), staged(tmp_path / "new", NEW)
    m = Matcher(old, new)
    decisions = m.decide_many([JAIS_CLOSURE, "vllm/layers/mamba/linear_attn.py::" + HEIR.partition("::")[2]])
    assert [d.new for d in decisions] == [None, HEIR], decisions
