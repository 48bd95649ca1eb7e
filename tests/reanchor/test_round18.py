"""Round 18: a closure keeping another lost closure's whole qualified name is that closure's heir."""
from __future__ import annotations

import textwrap

from vmastery.reanchor.match import Matcher

# A head-bias schedule written for this test: what matters is that both closures hold the same code.
POWER_OF_2 = '''
        def get_slopes_power_of_2(n: int) -> list[float]:
            first = 0.5 ** (8.0 / n)
            return list(itertools.accumulate([first] * n, operator.mul))
'''
JAIS = '''
def _get_alibi_slopes(n: int) -> list[float]:
    def get_slopes_power_of_2(n: int) -> list[float]:
        first = 0.5 ** (8.0 / n)
        return list(itertools.accumulate([first] * n, operator.mul))

    whole = 1 << (n.bit_length() - 1)
    extra = _get_alibi_slopes(2 * whole)[1::2] if whole < n else []
    return get_slopes_power_of_2(whole) + extra[: n - whole]
'''
MINIMAX = '''
class LinearAttention:
    @staticmethod
    def _build_slope_tensor(n_heads: int) -> "torch.Tensor":
        def get_slopes(n: int) -> list[float]:
''' + textwrap.indent(POWER_OF_2, "    ") + '''
            whole = 1 << (n.bit_length() - 1)
            extra = get_slopes(2 * whole)[1::2] if whole < n else []
            return get_slopes_power_of_2(whole) + extra[: n - whole]

        return torch.as_tensor(get_slopes(n_heads)).view(-1, 1, 1).float()
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
