"""Round 17: a namesake at home beats a word-for-word copy elsewhere; a deletion beats a far rename."""
from __future__ import annotations

from vmastery.reanchor.chain import Chain, Walk, combine
from vmastery.reanchor.decision import Decision
from vmastery.reanchor.match import Matcher

INIT = '''
    def __init__(self, config: "MoEConfig", num_experts: int, hidden: int, quant: "QuantConfig | None" = None):
        super().__init__(config)
        self.num_experts = num_experts
        self.hidden = hidden
        self.quant = quant
        self.gemm1_weights = None
        self.gemm2_weights = None
        self.routing_scale = config.routed_scaling_factor or 1.0
        self.tile_tokens = next_power_of_2(max(8, config.max_tokens // num_experts))
'''
APPLY = '''
    def apply(self, hidden_states, topk_ids, topk_weights):
        """Run both GEMMs of every selected expert, then combine them by routing weight."""
        out = trtllm_moe(hidden_states, self.gemm1_weights, self.gemm2_weights, topk_ids, topk_weights,
                         tile_tokens=self.tile_tokens, scale=self.routing_scale)
        return out.view(hidden_states.shape)

    def supports_expert_map(self) -> bool:
        return self.quant is None or self.quant.supports_expert_map(layout="trtllm", backend=self.backend)

    def workspace_shapes(self, tokens: int, topk: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Scratch for the fused kernel: one row per routed token, padded to the tile."""
        padded = (tokens * topk + self.tile_tokens - 1) // self.tile_tokens * self.tile_tokens
        return (padded, 2 * self.hidden), (padded, self.hidden)
'''
OTHERS = "".join(f'''
class Layer{i}:
    def __init__(self, size_{i}: int):
        self.size_{i} = size_{i}
''' for i in range(4))  # `__init__` is a name every class defines: it vouches for nothing
PATH = "vllm/moe/experts/trtllm_bf16.py"
OLD = {PATH: "class TrtLlmExperts(Experts):" + INIT + APPLY, "vllm/moe/layers.py": OTHERS}
EDITED = INIT.replace("self.quant = quant\n", "self.quant = quant or default_quant()\n") \
    .replace("self.gemm1_weights = None", "self.gemm1_weights: torch.Tensor | None = None") \
    .replace("self.gemm2_weights = None", "self.gemm2_weights: torch.Tensor | None = None") \
    .replace("config.max_tokens // num_experts", "config.max_num_batched_tokens // max(num_experts, 1)")
NEW = {PATH: "class TrtLlmExpertsBase(Experts):" + EDITED
       + "\n\nclass TrtLlmExpertsMonolithic(TrtLlmExpertsBase):" + APPLY,
       "vllm/moe/experts/trtllm_lora.py": "class TrtLlmLoRAExperts(LoRAExperts):" + INIT,
       "vllm/moe/layers.py": OTHERS}
ANCHOR = f"{PATH}::TrtLlmExperts.__init__"


def test_a_namesake_at_home_beats_a_word_for_word_copy_elsewhere(tmp_path, staged):
    old, new = staged(tmp_path / "old", OLD), staged(tmp_path / "new", NEW)
    m = Matcher(old, new)
    assert m.decide(f"{PATH}::TrtLlmExperts").new == f"{PATH}::TrtLlmExpertsMonolithic"  # the class went to the variant
    d = m.decide(ANCHOR)
    assert (d.state, d.new) == ("moved", f"{PATH}::TrtLlmExpertsBase.__init__"), d


def test_with_no_namesake_at_home_the_copy_is_the_symbol(tmp_path, staged):
    away = {**NEW, PATH: "class TrtLlmExpertsMonolithic(Experts):" + APPLY}
    old, new = staged(tmp_path / "old", OLD), staged(tmp_path / "new", away)
    d = Matcher(old, new).decide(ANCHOR)
    assert (d.state, d.new) == ("moved", "vllm/moe/experts/trtllm_lora.py::TrtLlmLoRAExperts.__init__"), d


def test_a_deletion_seen_when_it_happened_beats_a_rename_into_another_file(tmp_path, staged):
    """The rule itself, on decisions made by hand: which comparison found what is all it reads."""
    v = [staged(tmp_path / f"v{i}", {"vllm/tok/encoding.py": "X = 1\n"}) for i in range(3)]
    anchor = "vllm/tok/encoding.py::tool_calls_to_openai_format"
    walk = Walk("orphaned", None, stopped_in="0.2")
    far = Decision(anchor, "renamed", "vllm/tok/encoding_v41.py::tool_calls_from_openai_format", similarity=0.78)
    d = combine(far, walk, Chain(v, ["0.1", "0.2", "0.3"]))
    assert d.state == "orphaned" and "another name in another file" in d.evidence[-1], d
    plain = Chain(v, ["0.1", "0.2", "0.3"])
    plain.far_rename = False  # without the rule the two comparisons only disagree
    assert combine(far, walk, plain).state == "review"
    near = Decision(anchor, "renamed", "vllm/tok/encoding.py::tool_calls_as_openai", similarity=0.78)
    assert combine(near, walk, Chain(v, ["0.1", "0.2", "0.3"])).state == "review"  # same file: a person picks
