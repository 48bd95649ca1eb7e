"""Round 8: a deleted class whose code is boilerplate shared by several other models is not moved."""
from __future__ import annotations

from vmastery.reanchor.match import Matcher


def model(name: str, extra: str = "") -> str:
    """A causal-LM class as many model files write it: same body, another name."""
    return f'''
class {name}ForCausalLM(nn.Module):
    def __init__(self, *, vllm_config, prefix: str = ""):
        super().__init__()
        config = vllm_config.model_config.hf_config
        self.config = config
        self.model = {name}Model(vllm_config=vllm_config, prefix=maybe_prefix(prefix, "model"))
        self.lm_head = ParallelLMHead(config.vocab_size, config.hidden_size, prefix=maybe_prefix(prefix, "lm_head"))
        self.logits_processor = LogitsProcessor(config.vocab_size)

    def compute_logits(self, hidden_states):
        logits = self.logits_processor(self.lm_head, hidden_states)
        return logits

    def forward(self, input_ids, positions, intermediate_tensors=None, inputs_embeds=None):
        hidden_states = self.model(input_ids, positions, intermediate_tensors, inputs_embeds)
        return hidden_states
{extra}'''


OTHERS = ("Beta", "Gamma", "Delta")
OLD = {f"vllm/models/{n.lower()}.py": model(n) for n in ("Alpha", "Beta", "Gamma")}
NEW = {f"vllm/models/{n.lower()}.py": model(n) for n in OTHERS}
ANCHOR = "vllm/models/alpha.py::AlphaForCausalLM"


def decide(tmp_path, staged, new_files, boilerplate: bool):
    m = Matcher(staged(tmp_path / "old", OLD), staged(tmp_path / "new", new_files))
    m.boilerplate = boilerplate
    return m.decide(ANCHOR), m.decide(ANCHOR + ".compute_logits")


def test_deleted_boilerplate_model_goes_to_review(tmp_path, staged):
    # Alpha is deleted; Delta is new and identical to it up to names, as are Beta and Gamma (kept).
    cls, member = decide(tmp_path, staged, NEW, boilerplate=True)
    assert (cls.state, cls.new) == ("review", None), cls
    assert (member.state, member.new) == ("review", None), member
    assert any(e.startswith("boilerplate:") for e in member.evidence)
    assert any("beta.py" in anchor for anchor, _ in member.candidates)  # the rivals are listed


def test_without_the_rule_the_twin_is_taken(tmp_path, staged):
    cls, member = decide(tmp_path, staged, NEW, boilerplate=False)
    assert (cls.state, cls.new) == ("renamed", "vllm/models/delta.py::DeltaForCausalLM"), cls
    assert member.new == "vllm/models/delta.py::DeltaForCausalLM.compute_logits"


def test_a_class_with_its_own_code_still_moves(tmp_path, staged):
    # The same class, but its members carry code no other model has: not boilerplate.
    own = '''
    def load_weights(self, weights):
        loader = AutoWeightsLoader(self, skip_prefixes=["alpha_rotary.inv_freq", "alpha_extra"])
        remapped = {alpha_rename(name): tensor for name, tensor in weights if not name.endswith(".bias_alpha")}
        return loader.load_weights(remapped.items(), mapper=ALPHA_MAPPER)

    def alpha_specific_scaling(self, hidden_states, alpha_scale: float):
        scaled = hidden_states * alpha_scale + self.config.alpha_offset
        return scaled.clamp(min=self.config.alpha_min, max=self.config.alpha_max)

    def alpha_router(self, hidden_states, alpha_gate):
        weights = alpha_gate(hidden_states).softmax(-1)
        return torch.topk(weights, self.config.alpha_top_k, dim=-1)
'''
    old = dict(OLD, **{"vllm/models/alpha.py": model("Alpha", own)})
    new = dict(NEW, **{"vllm/models/alpha_next.py": model("Alpha", own)})  # moved to another file
    for rule in (True, False):
        m = Matcher(staged(tmp_path / f"old{rule}", old), staged(tmp_path / f"new{rule}", new))
        m.boilerplate = rule
        d = m.decide(ANCHOR)
        assert (d.state, d.new) == ("moved", "vllm/models/alpha_next.py::AlphaForCausalLM"), (rule, d)
        assert m.decide(ANCHOR + ".compute_logits").state == "moved"
