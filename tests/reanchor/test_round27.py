"""Round 27, read from the fresh 0.29.0 and 0.30.0 sets: a port in another vendor's folder is no rival,
and the same class's method copied into two vendor folders follows its twin into a shared mixin."""
from __future__ import annotations

from vmastery.reanchor.match import Matcher
from vmastery.reanchor.similarity import other_vendor, same_vendor

KERNEL = '''
def {name}(q, k, positions, block_table, out, scale):
    rows = q.shape[0]
    heads = q.shape[1]
    grid = (rows, heads)
    for row in range(rows):
        start = positions[row] - positions[row] % 64
        for head in range(heads):
            block = block_table[row, start // 64]
            acc = (q[row, head] * k[block, head]).sum() * scale
            out[row, head] = acc if acc > 0 else 0.0{tail}
    return out
'''
OLD_PATH = "vllm/models/qwen/nvidia/ops/pre_indexer.py"
NVIDIA = "vllm/models/qwen/nvidia/ops/prepare.py"
AMD = "vllm/models/qwen/amd/ops/prepare.py"


def test_vendor_folders():
    assert other_vendor("vllm/models/x/nvidia/a.py", "vllm/models/x/amd/a.py")
    assert not other_vendor("vllm/models/x/nvidia/a.py", "vllm/models/x/common/a.py")  # out of every vendor folder
    assert same_vendor("vllm/models/x/nvidia/a.py", "vllm/models/x/nvidia/ops/b.py")
    assert not same_vendor("vllm/x/a.py", "vllm/x/b.py")


def test_a_port_in_another_vendors_folder_is_no_rival(tmp_path, staged):
    old = staged(tmp_path / "old", {OLD_PATH: KERNEL.format(name="pre_index", tail="")})
    grown = "\n        out[row] = out[row] * 2.0"
    ported = "\n        out[row] = out[row].to(torch.float16)\n        torch.cuda.synchronize()"
    new = staged(tmp_path / "new", {NVIDIA: KERNEL.format(name="prepare", tail=grown),
                                    AMD: KERNEL.format(name="prepare", tail=ported)})
    gone = f"{OLD_PATH}::pre_index"
    d = Matcher(old, new).decide(gone)
    assert (d.state, d.new) == ("renamed", f"{NVIDIA}::prepare"), d
    plain = Matcher(old, new)
    plain.vendors = False  # the two copies are too close for a rename's margin
    assert plain.decide(gone).state == "orphaned"


MIXIN = "vllm/models/dsv/common/vision.py"
ENCODE = '''
    def _encode_image(self, pixel_values, grid):
        patches = self.vision_tower(pixel_values.to(self.dtype), grid)
        tokens = self.projector(patches.flatten(0, 1))
        spans = [int(h * w) // self.merge for h, w in grid.tolist()]
        return tokens.split(spans)
'''


def _model(vendor: str) -> str:
    return f"class DsvForCausalLM:\n    def forward(self, x):\n        return self.{vendor}_forward(x)\n{ENCODE}"


def test_a_class_method_copied_per_vendor_follows_its_twin_into_the_shared_mixin(tmp_path, staged):
    old = staged(tmp_path / "old", {f"vllm/models/dsv/{v}/model.py": _model(v) for v in ("amd", "nvidia")})
    shell = "from vllm.models.dsv.common.vision import VisionMixin\n\nclass DsvForCausalLM(VisionMixin):\n" \
            "    def forward(self, x):\n        return self.{v}_forward(x)\n"
    new = staged(tmp_path / "new", {MIXIN: f"class VisionMixin:\n{ENCODE}",
                                    **{f"vllm/models/dsv/{v}/model.py": shell.format(v=v) for v in ("amd", "nvidia")}})
    gone = [f"vllm/models/dsv/{v}/model.py::DsvForCausalLM._encode_image" for v in ("amd", "nvidia")]
    target = f"{MIXIN}::VisionMixin._encode_image"
    assert [(d.state, d.new) for d in Matcher(old, new).decide_many(gone)] == [("moved", target)] * 2
    plain = Matcher(old, new)
    plain.twin_methods = False  # one to one: the first copy takes the mixin's method, the other is orphaned
    assert sorted(d.state for d in plain.decide_many(gone)) == ["moved", "orphaned"]
