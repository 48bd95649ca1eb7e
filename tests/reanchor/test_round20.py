"""Round 20: a module that now imports the name it used to define says where the symbol went."""
from __future__ import annotations

from vmastery.reanchor.match import Matcher

COPY = '''
def draft_layer_of(config, weight_name: str) -> int | None:
    """Which draft (multi-token prediction) layer a checkpoint weight belongs to, if any."""
    extra = getattr(config, "num_draft_layers", 0)
    if extra <= 0:
        return None
    first = config.num_hidden_layers
    for offset in range(extra):
        layer = first + offset
        if weight_name.startswith(f"model.layers.{layer}."):
            return layer
    return None
'''
USER = '''
class OrcaModel:
    def keep(self, config, names: list[str]) -> list[str]:
        return [n for n in names if draft_layer_of(config, n) is None]
'''
SHARED = '''
def draft_layer_of(config, weight_name: str, field: str = "num_draft_layers") -> int | None:
    """The draft layer a weight name points into; the field naming the count differs per family."""
    count = getattr(config, field, None) or 0
    prefixes = tuple(f"model.layers.{config.num_hidden_layers + i}." for i in range(count))
    for i, prefix in enumerate(prefixes):
        if weight_name.startswith(prefix):
            return config.num_hidden_layers + i
    return None
'''
# A model added since keeps a private copy nearer the old one than the shared version: code alone,
# and the users of the name, cannot tell which of the two the old copy became.
NEWCOMER = COPY.replace("num_draft_layers", "num_nextn_layers") + USER.replace("OrcaModel", "NarwhalModel")
ANCHOR = "vllm/models/orca.py::draft_layer_of"
OLD = {"vllm/models/orca.py": COPY + USER, "vllm/models/helpers.py": "def unrelated():\n    return 1\n"}


def _new(importer: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"vllm/models/orca.py": importer + USER, "vllm/models/helpers.py": "def unrelated():\n    return 1\n" + SHARED,
            "vllm/models/narwhal.py": NEWCOMER, **(extra or {})}


def test_an_orphan_follows_the_import_that_replaced_it(tmp_path, staged):
    old, new = staged(tmp_path / "old", OLD), staged(tmp_path / "new", _new("from .helpers import draft_layer_of\n"))
    d = Matcher(old, new).decide(ANCHOR)
    assert (d.state, d.new) == ("moved", "vllm/models/helpers.py::draft_layer_of"), d
    assert "imports draft_layer_of" in d.evidence[0]
    plain = Matcher(old, new)
    plain.imports = False  # by code alone the newcomer's copy is the nearer one
    assert plain.decide(ANCHOR).new != "vllm/models/helpers.py::draft_layer_of"


def test_re_exports_are_followed_to_the_defining_module(tmp_path, staged):
    hub = {"vllm/models/common.py": "from vllm.models.helpers import draft_layer_of as draft_layer_of\n"}
    old = staged(tmp_path / "old", OLD)
    new = staged(tmp_path / "new", _new("from vllm.models.common import draft_layer_of\n", hub))
    assert Matcher(old, new).decide(ANCHOR).new == "vllm/models/helpers.py::draft_layer_of"


def _silent(old, new) -> bool:
    """Whether the rule leaves the decision as code similarity made it."""
    plain = Matcher(old, new)
    plain.imports = False
    return Matcher(old, new).decide(ANCHOR) == plain.decide(ANCHOR)


def test_an_import_of_code_that_already_existed_is_no_evidence(tmp_path, staged):
    # Merged into a function the old tree already had: by the labelling policy the note does not go there.
    old = staged(tmp_path / "old", {**OLD, "vllm/models/helpers.py": "def unrelated():\n    return 1\n" + SHARED})
    new = staged(tmp_path / "new", _new("from .helpers import draft_layer_of\n"))
    assert _silent(old, new)


def test_a_file_that_imports_something_else_is_no_evidence(tmp_path, staged):
    old, new = staged(tmp_path / "old", OLD), staged(tmp_path / "new", _new("from .helpers import unrelated\n"))
    assert _silent(old, new)
