"""Round 23: a method written for one platform is never renamed into another platform's method."""
from __future__ import annotations

from vmastery.reanchor.match import Matcher
from vmastery.reanchor.similarity import platform_siblings

PATH = "vllm/layers/act.py"

OLD = '''
class ClampedGate(CustomOp):
    def forward_native(self, x):
        gate, up = x.chunk(2, dim=-1)
        gate = gate.clamp(max=self.limit)
        return self.act(gate) * up.clamp(-self.limit, self.limit)

    def forward_cuda(self, x):
        out = torch.empty_like(x[..., : x.shape[-1] // 2])
        ops.clamped_gate(out, x, self.limit)
        return out

    def forward_PLATFORM(self, x):
        out = torch.empty_like(x[..., : x.shape[-1] // 2])
        ops.clamped_gate_xpu(out, x, self.limit)
        return out
'''

NEW = OLD.replace("forward_PLATFORM", "forward_hip").replace("clamped_gate_xpu", "clamped_gate_rocm")


def _trees(staged, tmp_path):
    old = staged(tmp_path / "old", {PATH: OLD.replace("forward_PLATFORM", "forward_xpu")})
    return old, staged(tmp_path / "new", {PATH: NEW})


def test_another_platforms_method_is_no_heir(tmp_path, staged):
    old, new = _trees(staged, tmp_path)
    assert Matcher(old, new).decide(f"{PATH}::ClampedGate.forward_xpu").state == "orphaned"
    plain = Matcher(old, new)
    plain.platforms = False  # without the rule the near-identical body wins
    d = plain.decide(f"{PATH}::ClampedGate.forward_xpu")
    assert (d.state, d.new) == ("renamed", f"{PATH}::ClampedGate.forward_hip"), d


def test_a_rename_into_a_platform_method_still_stands(tmp_path, staged):
    # `forward` -> `forward_native`: only one side names a platform, so this is a real rename.
    before = OLD.replace("forward_native", "forward").replace("forward_PLATFORM", "forward_xpu")
    old = staged(tmp_path / "old", {PATH: before})
    new = staged(tmp_path / "new", {PATH: OLD.replace("forward_PLATFORM", "forward_xpu")})
    d = Matcher(old, new).decide(f"{PATH}::ClampedGate.forward")
    assert (d.state, d.new) == ("renamed", f"{PATH}::ClampedGate.forward_native"), d


def test_platform_siblings():
    assert platform_siblings("forward_xpu", "forward_hip")
    assert platform_siblings("_rocm_aiter_fused_moe", "_cuda_aiter_fused_moe")
    assert not platform_siblings("forward", "forward_native")
    assert not platform_siblings("forward_cuda", "forward_native")  # the generic path is no platform
    assert not platform_siblings("forward_xpu", "backward_hip")
    assert not platform_siblings("forward_xpu", "forward_xpu")
