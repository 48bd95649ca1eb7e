"""Round 26, read from the fresh 0.27.0 -> 0.33.0 sets: tiny code under long comments, twin helpers
renamed together, code folded into a sibling that lives on, and a helper replaced by an import."""
from __future__ import annotations

from vmastery.reanchor.match import Matcher

TOPOLOGY = "vllm/kv/topology.py"
HEAD = """
class Topology:
    def __init__(self, rank, size, hybrid, packed):
        self.rank, self.size, self.hybrid, self.packed = rank, size, hybrid, packed
"""
OLD_TOPOLOGY = HEAD + '''
    @property
    def halves_blocks(self) -> bool:
        # Whether each block is addressed as two halves. Attention blocks travel whole
        # once keys and values share a row, so only the state-space layers still need
        # the split, and never when layers are interleaved inside one block, since a
        # plain halving would then cut through the middle of a layer's state.
        return self.hybrid and not self.packed
'''
NEW_TOPOLOGY = HEAD + '''
    @property
    def group_rank(self) -> int:
        """Where this rank sits inside its group."""
        return self.rank % self.size
'''


def test_a_long_comment_does_not_make_a_one_line_body_distinctive(tmp_path, staged):
    old = staged(tmp_path / "old", {TOPOLOGY: OLD_TOPOLOGY})
    new = staged(tmp_path / "new", {TOPOLOGY: NEW_TOPOLOGY})
    gone = f"{TOPOLOGY}::Topology.halves_blocks"
    assert Matcher(old, new).decide(gone).state == "orphaned"
    plain = Matcher(old, new)
    plain.code_size = False  # sized with its comment, the body clears the in-class bar
    assert (plain.decide(gone).state, plain.decide(gone).new) == ("renamed", f"{TOPOLOGY}::Topology.group_rank")


SCHEME = "vllm/quant/scheme.py"
MOE = "vllm/quant/scheme_moe.py"


def _choose(kind: str, method: str, fallback: str) -> str:
    return f'''
    from vllm.quant.{kind} import {method}, {fallback}
    bits = config.weight_bits
    if config.use_marlin and supports_marlin(bits, config.group_size, layer.has_zero_point):
        log.info("using the marlin path for {kind}")
        return {method}(config.{kind}_settings(), layer.moe_config)
    if not config.{kind}_fallback_allowed:
        raise ValueError("no {kind} kernel for " + str(bits) + " bits")
    return {fallback}(config.{kind}_fallback_settings(), layer.moe_config)
'''


OLD_SCHEME = (f"def _resolve_awq(config, layer):{_choose('awq', 'AwqMarlinMethod', 'AwqSimpleMethod')}\n"
              f"def _resolve_gptq(config, layer):{_choose('gptq', 'GptqMarlinMethod', 'GptqSimpleMethod')}\n"
              "def make_scheme(config, layer):\n    return _resolve_awq(config, layer) if config.awq else _resolve_gptq(config, layer)\n")
NEW_MOE = ("class MoEScheme:\n"
           f"    def _build_awq(self, config, layer):{_choose('awq', 'AwqMarlinMethod', 'AwqSimpleMethod').replace(chr(10) + '    ', chr(10) + '        ')}\n"
           f"    def _build_gptq(self, config, layer):{_choose('gptq', 'GptqMarlinMethod', 'GptqSimpleMethod').replace(chr(10) + '    ', chr(10) + '        ')}\n")
NEW_SCHEME = "def make_scheme(config, layer):\n    return MoEScheme()._build_awq(config, layer) if config.awq else MoEScheme()._build_gptq(config, layer)\n"


def test_twin_helpers_renamed_together_are_no_rivals_of_each_other(tmp_path, staged):
    old = staged(tmp_path / "old", {SCHEME: OLD_SCHEME})
    new = staged(tmp_path / "new", {SCHEME: NEW_SCHEME, MOE: NEW_MOE})
    gone = [f"{SCHEME}::_resolve_awq", f"{SCHEME}::_resolve_gptq"]
    m = Matcher(old, new)
    assert [(d.state, d.new) for d in m.decide_many(gone)] == [
        ("renamed", f"{MOE}::MoEScheme._build_awq"), ("renamed", f"{MOE}::MoEScheme._build_gptq")]
    plain = Matcher(old, new)
    plain.paired = False  # each twin's heir is the other's rival, too close for a rename's margin
    assert [d.state for d in plain.decide_many(gone)] == ["orphaned", "orphaned"]


OPS = "vllm/ops/sparse_table.py"
ROW = '''
    rows = positions.shape[0]
    table = torch.full((rows, width), -1, dtype=torch.int32, device=positions.device)
    grid = (rows, triton.cdiv(width, BLOCK))
    _fill_table_kernel[grid](positions, block_ids, table, width, rows, BLOCK=BLOCK)
    return table
'''
OLD_OPS = f'''
def build_table(positions, block_ids, width):
    assert positions.is_contiguous() and block_ids.is_contiguous()
    width = max(width, 1){ROW}

def build_table_decode(positions, block_ids, width, steps):
    assert steps >= 1, "decode needs at least one step"
    return positions.repeat_interleave(steps), block_ids, width * steps
'''
NEW_OPS = f'''
def _alloc_table(positions, block_ids, width):
    assert positions.is_contiguous() and block_ids.is_contiguous()
    width = max(width, 1)
    rows = positions.shape[0]
    return torch.full((rows, width), -1, dtype=torch.int32, device=positions.device)

def build_table_decode(positions, block_ids, width, steps=1):
    assert positions.is_contiguous() and block_ids.is_contiguous()
    width = max(width * steps, 1)
    positions = positions.repeat_interleave(steps){ROW}
'''


def test_code_folded_into_a_sibling_that_lives_on_is_orphaned(tmp_path, staged):
    old = staged(tmp_path / "old", {OPS: OLD_OPS})
    new = staged(tmp_path / "new", {OPS: NEW_OPS})
    gone = f"{OPS}::build_table"
    d = Matcher(old, new).decide(gone)
    assert d.state == "orphaned" and d.evidence[0].startswith(f"absorbed: {OPS}::build_table_decode"), d
    plain = Matcher(old, new)
    plain.absorbed = False
    assert (plain.decide(gone).state, plain.decide(gone).new) == ("renamed", f"{OPS}::_alloc_table")


LINEAR = "vllm/kernels/linear_bf16.py"
COMMON = "vllm/kernels/_router_common.py"
HELPERS = '''
_CACHE = {}


def _ctx():
    if "cute" not in _CACHE:
        import cutlass.cute as cute
        _CACHE["cute"] = cute
    return _CACHE["cute"]


def _stream():
    return _ctx().runtime.make_stream(torch.cuda.current_stream().cuda_stream)
'''
RUN = '''

def run(a, b):
    return launch(a, b, stream={stream}(), ctx={ctx}())
'''


def _linear_trees(staged, tmp_path, ctx_call: str):
    """Old: `linear_bf16.py` with its two helpers. New: the helpers in a shared module, imported back,
    and `run` calling `current_cuda_stream` and whatever `ctx_call` names."""
    old = staged(tmp_path / "old", {LINEAR: "import torch\n" + HELPERS + RUN.format(stream="_stream", ctx="_ctx")})
    common = HELPERS.replace("_ctx", "cute_context").replace("def _stream", "def current_cuda_stream")
    new = staged(tmp_path / "new", {
        COMMON: "import torch\n" + common,
        LINEAR: "from vllm.kernels._router_common import cute_context, current_cuda_stream\n"
                + RUN.format(stream="current_cuda_stream", ctx=ctx_call)})
    return old, new


def test_a_helper_replaced_by_an_import_goes_to_what_is_imported(tmp_path, staged):
    old, new = _linear_trees(staged, tmp_path, "cute_context")
    gone = [f"{LINEAR}::_ctx", f"{LINEAR}::_stream"]
    assert [(d.state, d.new) for d in Matcher(old, new).decide_many(gone)] == [
        ("renamed", f"{COMMON}::cute_context"), ("renamed", f"{COMMON}::current_cuda_stream")]
    plain = Matcher(old, new)
    plain.imported_heir = False  # tiny bodies, another name, another file: code alone will not move them
    assert [d.state for d in plain.decide_many(gone)] == ["orphaned", "orphaned"]


def test_a_helper_still_used_in_its_module_is_not_replaced_by_an_import(tmp_path, staged):
    old, new = _linear_trees(staged, tmp_path, "_ctx")  # a stale call: the old name is still there
    assert Matcher(old, new).decide(f"{LINEAR}::_ctx").state == "orphaned"


def test_a_sibling_that_was_always_that_close_is_no_sign_of_a_merge(tmp_path, staged):
    decode = NEW_OPS[NEW_OPS.index("def build_table_decode"):]
    before = OLD_OPS[:OLD_OPS.index("def build_table_decode")] + decode  # the sibling as it already was
    old = staged(tmp_path / "old", {OPS: before})
    new = staged(tmp_path / "new", {OPS: NEW_OPS})
    d = Matcher(old, new).decide(f"{OPS}::build_table")
    assert (d.state, d.new) == ("renamed", f"{OPS}::_alloc_table"), d
