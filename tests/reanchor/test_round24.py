"""Round 24: shared code renamed into another file is a copy; an anchor living on as a shell stays put."""
from __future__ import annotations

from vmastery.reanchor.chain import Chain
from vmastery.reanchor.match import Matcher

BODY = '''
        qkv, _ = self.qkv_proj(hidden_states)
        q, k, v = qkv.split([self.q_size, self.kv_size, self.kv_size], dim=-1)
        q, k = self.rotary_emb(positions, q, k)
        attn_output = self.attn(q, k, v)
        output, _ = self.o_proj(attn_output)
        return output
'''


def _layer(cls: str, method: str) -> str:
    return f"class {cls}:\n    def {method}(self, positions, hidden_states):{BODY}"


GONE = "vllm/models/bamba.py::BambaAttention.self_attention"


def _trees(staged, tmp_path, living: bool):
    old = {"vllm/models/bamba.py": _layer("BambaAttention", "self_attention")}
    new = {"vllm/models/cosmos.py": _layer("CosmosAttention", "forward_with_positions")}
    if living:  # a twin that keeps its anchor in both trees
        old["vllm/models/falcon.py"] = new["vllm/models/falcon.py"] = _layer("FalconAttention", "self_attention")
    return staged(tmp_path / "old", old), staged(tmp_path / "new", new)


def test_a_rename_into_another_file_is_a_copy_when_a_namesake_lives_on(tmp_path, staged):
    old, new = _trees(staged, tmp_path, living=True)
    d = Matcher(old, new).decide(GONE)
    assert d.state == "orphaned", d
    assert d.evidence[0].startswith("shared code: vllm/models/falcon.py::FalconAttention.self_attention"), d
    plain = Matcher(old, new)
    plain.shared = False
    d = plain.decide(GONE)
    assert (d.state, d.new) == ("renamed", "vllm/models/cosmos.py::CosmosAttention.forward_with_positions"), d


def test_without_a_living_namesake_the_rename_stands(tmp_path, staged):
    old, new = _trees(staged, tmp_path, living=False)
    d = Matcher(old, new).decide(GONE)
    assert (d.state, d.new) == ("renamed", "vllm/models/cosmos.py::CosmosAttention.forward_with_positions"), d


TUNE = '''
    base = os.environ.get("VLLM_TUNE_DIR") or os.path.join(cache_root(), "autotune")
    device = current_device_name().replace(" ", "_").lower()
    folder = os.path.join(base, f"{device}-v{kernel_library_version()}")
    if create and not os.path.isdir(folder):
        os.makedirs(folder, exist_ok=True)
    name = f"{model_tag}-tp{tp_size}.json" if tp_size > 1 else f"{model_tag}.json"
    return os.path.join(folder, name)
'''
PATH = "vllm/warmup/kernels.py"
FULL = "def resolve(model_tag, tp_size, create=False):" + TUNE
SHELL = "def resolve(model_tag, tp_size, create=False):\n    return tune_root(model_tag, tp_size, create)\n\n"
CALLEE = "def tune_root(model_tag, tp_size, create=False):" + TUNE


def test_only_the_last_tree_says_whether_a_shell_keeps_the_note(tmp_path, staged):
    # The shell appears in a release between, then goes: the note follows the code into the callee.
    trees = [staged(tmp_path / "a", {PATH: FULL}), staged(tmp_path / "b", {PATH: SHELL + CALLEE}),
             staged(tmp_path / "c", {PATH: CALLEE})]
    d = Chain(trees, ["a", "b", "c"]).decide(f"{PATH}::resolve")
    assert (d.state, d.new) == ("renamed", f"{PATH}::tune_root"), d
    # The shell lives on in the last tree: the note stays on it, flagged as changed.
    trees[2] = staged(tmp_path / "c2", {PATH: SHELL + CALLEE})
    d = Chain(trees, ["a", "b", "c"]).decide(f"{PATH}::resolve")
    assert (d.state, d.new) == ("changed", f"{PATH}::resolve"), d


def test_a_line_note_of_a_kept_shell_says_where_its_line_went(tmp_path, staged):
    from vmastery.reanchor.plan import quote_elsewhere

    new = staged(tmp_path / "new", {PATH: SHELL + CALLEE})
    shell = new.get(f"{PATH}::resolve")
    assert quote_elsewhere(new, shell, 'os.makedirs(folder, exist_ok=True)') == f"{PATH}::tune_root"
    assert quote_elsewhere(new, shell, "return tune_root(") is None  # still in the shell itself
    assert quote_elsewhere(new, shell, "no such line") is None
