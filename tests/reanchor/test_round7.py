"""Round 7: a split class whose mixin base dropped its lineage, and an alias naming the old variant."""
from __future__ import annotations

from vmastery.reanchor.evidence import lineage_heir
from vmastery.reanchor.match import Matcher

# Experts split into a bare mixin (the shared checks) plus a modular and a monolithic variant; only
# the monolithic one still inherits what the old class did.
EXPERTS_OLD = '''
class FastExperts(FusedExpertsMonolithic):
    def __init__(self, config, quant):
        self.config = config
        self.quant = quant
        self.top_k = config.top_k
        self.num_experts = config.num_experts

    @staticmethod
    def _supports_quant_scheme(quant) -> bool:
        return quant is None or quant.dtype in ("bf16", "fp16")

    @staticmethod
    def _supports_activation(name: str) -> bool:
        return name in ("silu", "gelu")

    def apply(self, hidden, router_logits, weights):
        scores = router_logits.softmax(-1)
        top, idx = scores.topk(self.top_k, dim=-1)
        if self.config.renormalize:
            top = top / top.sum(-1, keepdim=True)
        hidden = hidden.view(-1, self.config.hidden_size).contiguous()
        routing = build_routing(idx, top, self.num_experts, self.config.tile_tokens)
        out = fused_kernel(hidden, weights, routing, self.num_experts, self.config.intermediate_size)
        if self.config.shared_expert is not None:
            out = out + self.config.shared_expert(hidden)
        return out * self.config.scale

    def workspace_shapes(self, tokens: int, hidden_size: int) -> tuple[int, int]:
        padded = (tokens + self.config.tile_tokens - 1) // self.config.tile_tokens
        return padded * self.config.tile_tokens, hidden_size * self.top_k
'''


def experts_new(mixin_bases: str) -> str:
    return f'''
class FastExpertsBase{mixin_bases}:
    def __init__(self, config, quant):
        self.config = config
        self.quant = quant
        self.top_k = config.top_k
        self.num_experts = config.num_experts

    @staticmethod
    def _supports_quant_scheme(quant) -> bool:
        return quant is None or quant.dtype in ("bf16", "fp16")

    @staticmethod
    def _supports_activation(name: str) -> bool:
        return name in ("silu", "gelu")


class FastExpertsModular(FastExpertsBase, FusedExpertsModular):
    def apply(self, output, hidden, weights, topk_ids, workspace):
        modular_kernel(output, hidden, weights, topk_ids, workspace)

    def workspace_shapes(self, tokens: int, hidden_size: int) -> tuple[int, int]:
        padded = (tokens + self.config.tile_tokens - 1) // self.config.tile_tokens
        return padded * self.config.tile_tokens, hidden_size * self.top_k


class FastExpertsMonolithic(FastExpertsBase, FusedExpertsMonolithic):
    def apply(self, hidden, router_logits, weights):
        scores = router_logits.softmax(-1)
        top, idx = scores.topk(self.top_k, dim=-1)
        if self.config.renormalize:
            top = top / top.sum(-1, keepdim=True)
        hidden = hidden.view(-1, self.config.hidden_size).contiguous()
        routing = build_routing(idx, top, self.num_experts, self.config.tile_tokens)
        out = fused_kernel(hidden, weights, routing, self.num_experts, self.config.intermediate_size)
        if self.config.shared_expert is not None:
            out = out + self.config.shared_expert(hidden)
        return out * self.config.scale

'''


def heir(tmp_path, staged, mixin_bases: str) -> str:
    """`lineage_heir` on the staged split: which of the three classes carries the old one."""
    old = staged(tmp_path / "old", {"vllm/moe/fast.py": EXPERTS_OLD})
    new = staged(tmp_path / "new", {"vllm/moe/fast.py": experts_new(mixin_bases)})
    p = "vllm/moe/fast.py::"
    return lineage_heir(Matcher(old, new), old.get(p + "FastExperts"), p + "FastExpertsBase",
                        [p + "FastExpertsModular", p + "FastExpertsMonolithic"])


def test_split_heir_is_the_variant_that_keeps_the_old_bases(tmp_path, staged):
    assert heir(tmp_path, staged, "") == "vllm/moe/fast.py::FastExpertsMonolithic"


def test_split_heir_stays_the_base_when_the_base_keeps_the_lineage(tmp_path, staged):
    assert heir(tmp_path, staged, "(FusedExpertsMonolithic)") == "vllm/moe/fast.py::FastExpertsBase"


# A connector split into a base and pull/push variants; the method is copied into both, the push
# copy only gains a docstring, the pull copy one assert; the old name is kept as an alias of pull.
CONN_OLD = '''
class KVConnector(ConnectorBase):
    def __init__(self, config, role):
        self.config = config
        self.role = role
        self.worker = None
        self.metadata = None

    def start_load_kv(self, forward_context, **kwargs) -> None:
        assert self.worker is not None
        assert isinstance(self.metadata, KVConnectorMetadata)
        self.worker.start_load_kv(self.metadata)
'''


def conn_new(alias: str) -> str:
    return '''
class KVBaseConnector(ConnectorBase):
    def __init__(self, config, role):
        self.config = config
        self.role = role
        self.worker = None
        self.metadata = None


class KVPullConnector(KVBaseConnector):
    def start_load_kv(self, forward_context, **kwargs) -> None:
        assert self.worker is not None
        assert isinstance(self.worker, PullWorker)
        assert isinstance(self.metadata, KVConnectorMetadata)
        self.worker.start_load_kv(self.metadata)


class KVPushConnector(KVBaseConnector):
    def start_load_kv(self, forward_context, **kwargs) -> None:
        """Hand the blocks to the background writer thread."""
        assert self.worker is not None
        assert isinstance(self.metadata, KVConnectorMetadata)
        self.worker.start_load_kv(self.metadata)
''' + alias


def test_alias_of_the_old_class_name_settles_a_near_tie(tmp_path, staged):
    old = staged(tmp_path / "old", {"vllm/kv/conn.py": CONN_OLD})
    new = staged(tmp_path / "new", {"vllm/kv/conn.py": conn_new("\n\nKVConnector = KVPullConnector\n")})
    d = Matcher(old, new).decide("vllm/kv/conn.py::KVConnector.start_load_kv")
    assert (d.state, d.new) == ("moved", "vllm/kv/conn.py::KVPullConnector.start_load_kv"), d
    assert any("KVConnector = KVPullConnector" in e for e in d.evidence)


def test_without_an_alias_the_closest_copy_wins(tmp_path, staged):
    old = staged(tmp_path / "old", {"vllm/kv/conn.py": CONN_OLD})
    new = staged(tmp_path / "new", {"vllm/kv/conn.py": conn_new("")})
    d = Matcher(old, new).decide("vllm/kv/conn.py::KVConnector.start_load_kv")
    assert (d.state, d.new) == ("moved", "vllm/kv/conn.py::KVPushConnector.start_load_kv"), d
