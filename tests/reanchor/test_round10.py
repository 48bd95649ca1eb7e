"""Round 10: a name kept by a thin shell does not keep the note; the callee holding the code does."""
from __future__ import annotations

from vmastery.reanchor.match import Matcher

BODY = '''
    """Where tuned kernel configs for this device and version are kept."""
    base = os.environ.get("VLLM_TUNE_DIR") or os.path.join(cache_root(), "autotune")
    device = current_device_name().replace(" ", "_").lower()
    version = kernel_library_version()
    folder = os.path.join(base, f"{device}-v{version}")
    if create and not os.path.isdir(folder):
        os.makedirs(folder, exist_ok=True)
    name = f"{model_tag}-tp{tp_size}.json" if tp_size > 1 else f"{model_tag}.json"
    return os.path.join(folder, name)
'''
OLD = {"vllm/warmup/kernels.py": "def resolve_tune_file(model_tag, tp_size, create=False):" + BODY}
SHELL = '''
def resolve_tune_file(model_tag, tp_size, create=False):
    return tune_root(model_tag, tp_size, create)
'''
CALLEE = "def tune_root(model_tag, tp_size, create=False):" + BODY
ANCHOR = "vllm/warmup/kernels.py::resolve_tune_file"


def test_a_moved_shell_does_not_pull_the_note_away_from_its_callee(tmp_path, staged):
    new = {"vllm/warmup/tune_cache.py": SHELL + CALLEE}
    d = Matcher(staged(tmp_path / "old", OLD), staged(tmp_path / "new", new)).decide(ANCHOR)
    assert (d.state, d.new) == ("renamed", "vllm/warmup/tune_cache.py::tune_root"), d


def test_a_shell_left_in_place_keeps_the_note_but_is_flagged(tmp_path, staged):
    # Round 24: the anchor lives on in the tree the note goes to, so it stays, as `changed`: a person
    # reads the diff and decides. Round 10 had sent it to the callee; both readers of heldout53 keep it.
    new = {"vllm/warmup/kernels.py": SHELL + CALLEE}
    d = Matcher(staged(tmp_path / "old", OLD), staged(tmp_path / "new", new)).decide(ANCHOR)
    assert (d.state, d.new) == ("changed", ANCHOR), d
    round10 = Matcher(staged(tmp_path / "old2", OLD), staged(tmp_path / "new2", new))
    round10.kept_shells = False
    d = round10.decide(ANCHOR)
    assert (d.state, d.new) == ("renamed", "vllm/warmup/kernels.py::tune_root"), d
    assert "keeps the name as a shell" in d.evidence[0]


def test_a_wrapper_around_code_that_already_existed_keeps_the_note(tmp_path, staged):
    # The callee is not fresh: the code was merged into a function the old tree had. The name stays.
    old = {"vllm/warmup/kernels.py": OLD["vllm/warmup/kernels.py"] + "\n" + CALLEE}
    new = {"vllm/warmup/kernels.py": SHELL + CALLEE}
    d = Matcher(staged(tmp_path / "old", old), staged(tmp_path / "new", new)).decide(ANCHOR)
    assert d.new == ANCHOR and d.state == "changed", d
